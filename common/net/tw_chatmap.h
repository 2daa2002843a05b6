/* tw_chatmap - the mapping from parsed YouTube chat items (tw_ytchat) to the
 * pipeline's chat.batch items (tw_chat_item_t), shared by the chat@VIDEO
 * worker and `tubewatch import` so that both store the same rows. */
#ifndef TW_CHATMAP_H
#define TW_CHATMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "tw_proto.h"
#include "tw_strpool.h"
#include "tw_ytchat.h"

/* Longest author name or text sent (TW_PROTO_MAX_STR is the hard decode
 * limit); longer ones are clipped at a UTF-8 boundary. */
#define TW_CHATMAP_TEXT_MAX 60000

/* What tw_chatmap_item made of a parser item. */
typedef enum {
    TW_CHATMAP_OK = 0, /* *out holds a chat.batch item */
    TW_CHATMAP_EVENT,  /* an event that is not forwarded (author deletion) */
    TW_CHATMAP_BAD_ID, /* its id (a deletion: ref_id) cannot be stored */
} tw_chatmap_result_t;

/* Fills *out from the parser item it, received at received_usec: kind,
 * times, author, amount, text; a deletion (TW_CHAT_KIND_DELETED) carries the
 * deleted message's id as id and ref_id; `replaces` only on a non-deletion.
 * Strings of *out are borrowed from it (valid until the parser's next parse)
 * or, for an author name or text over TW_CHATMAP_TEXT_MAX bytes, a clipped
 * copy kept in pool (valid until tw_strpool_clear). *out is set only when
 * TW_CHATMAP_OK is returned. */
tw_chatmap_result_t tw_chatmap_item(const tw_ytchat_item_t *it,
                                    int64_t received_usec, tw_strpool_t *pool,
                                    tw_chat_item_t *out);
/* Returns true when id can be a message id downstream: 1-256 printable
 * ASCII bytes without a backslash (the writer's rule). */
bool tw_chatmap_id_ok(const char *id);

#endif
