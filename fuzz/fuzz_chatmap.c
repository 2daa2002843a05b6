/* Fuzz target: what `tubewatch import` does with a file before sending it:
 * tw_ytchat parse, tw_chatmap of every item, the chat.batch encoded and
 * decoded back (any bytes: no crash, no leak; every mapped item has a
 * storable id, clipped texts, and survives the wire unchanged). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tw_chatmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tw_ytchat_t *chat;
    if (!chat)
        chat = tw_ytchat_new();
    if (tw_ytchat_parse(chat, (const char *)data, size, NULL) != TW_OK)
        return 0;
    size_t total = tw_ytchat_count(chat);
    tw_chat_item_t *items = calloc(total ? total : 1, sizeof *items);
    assert(items);
    tw_strpool_t pool = {0};
    size_t n = 0;
    for (size_t i = 0; i < total; i++) {
        tw_chat_item_t *o = &items[n];
        if (tw_chatmap_item(tw_ytchat_item(chat, i), 1, &pool, o) !=
            TW_CHATMAP_OK)
            continue;
        assert(tw_chatmap_id_ok(o->id));
        assert(strlen(o->text) <= TW_CHATMAP_TEXT_MAX);
        assert(strlen(o->author_name) <= TW_CHATMAP_TEXT_MAX);
        assert(!(o->replaces && o->kind == TW_CHAT_KIND_DELETED));
        n++;
    }
    tw_msg_t msg = {.id = TW_MSG_CHAT_BATCH, .seq = 1};
    memcpy(msg.src, "import@fuzz", sizeof "import@fuzz");
    msg.u.chat_batch.video_id = "fuzzVideo01";
    msg.u.chat_batch.channel_id = "UCfuzzfuzzfuzzfuzzfuzz00";
    msg.u.chat_batch.items.v = items;
    msg.u.chat_batch.items.n = n;
    char *buf = NULL;
    size_t len = 0;
    if (tw_proto_encode(&msg, &buf, &len, NULL) == TW_OK) {
        tw_msg_t back;
        assert(tw_proto_decode(buf, len, &back, NULL) == TW_OK);
        assert(tw_proto_equal(&msg, &back));
        tw_proto_clear(&back);
    }
    free(buf);
    tw_strpool_fini(&pool);
    free(items);
    return 0;
}
