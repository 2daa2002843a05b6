/* tw_ytchat - YouTube live chat parser: innertube get_live_chat(_replay)
 * responses, initial live_chat payloads (also inside the live_chat HTML
 * page), bare actions, and Data API liveChatMessages.list responses, into
 * flat chat items. */
#ifndef TW_YTCHAT_H
#define TW_YTCHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tw_rc.h"

/* A reusable chat parser; the results of a parse live until the next one. */
typedef struct tw_ytchat tw_ytchat_t;

/* What a chat item is. TEXT..OTHER are the chat rows of
 * fixtures/innertube/expected_chat.jq (2026 edition); the rest are
 * moderation events. */
typedef enum {
    TW_YTCHAT_TEXT = 0,       /* plain text message */
    TW_YTCHAT_SUPERCHAT,      /* paid message */
    TW_YTCHAT_STICKER,        /* paid sticker */
    TW_YTCHAT_MEMBERSHIP,     /* new member / milestone */
    TW_YTCHAT_GIFT,           /* gifted memberships (purchase/redemption) */
    TW_YTCHAT_JEWELS,         /* Jewels gift (giftMessageViewModel, 2025+) */
    TW_YTCHAT_OTHER,          /* any other renderer (placeholder, ...) */
    TW_YTCHAT_DELETED,        /* markChatItemAsDeletedAction or
                                 removeChatItemAction: ref_id */
    TW_YTCHAT_AUTHOR_DELETED, /* markChatItemsByAuthorAsDeletedAction or
                                 removeChatItemByAuthorAction:
                                 author_channel_id */
} tw_ytchat_kind_t;

/* One chat item or event. Every string is NUL-terminated, never NULL ("" when
 * absent) and borrowed from the parser until its next parse. Strings come
 * from decoded JSON: an embedded U+0000 truncates them. */
typedef struct {
    tw_ytchat_kind_t kind;         /* what it is */
    const char *id;                /* item id; "" for events */
    const char *ref_id;            /* DELETED: the targetItemId */
    const char *author_channel_id; /* authorExternalChannelId (UC...) */
    const char *author_name;       /* display name */
    const char *timestamp;         /* timestamp text as the jq prints it
                                      (innertube: raw timestampUsec) */
    int64_t timestamp_usec;        /* parsed timestamp, 0 when absent/bad */
    const char *amount;            /* purchase amount text ("¥200") or "" */
    char currency[4];              /* ISO 4217 code from amount, or "" */
    int64_t amount_micros;         /* amount in micro-units, -1 unknown */
    const char *message;           /* message text, emoji as shortcuts */
    const char *renderer;          /* renderer / API event type name */
    bool replaces;                 /* replaceChatItemAction.replacementItem:
                                      supersedes the item stored under the
                                      same id (a placeholder); ref_id holds
                                      the action's targetItemId */
} tw_ytchat_item_t;

/* Which continuation a response carries. */
typedef enum {
    TW_YTCHAT_CONT_NONE = 0,     /* none: the chat is over or unknown */
    TW_YTCHAT_CONT_INVALIDATION, /* invalidationContinuationData (live) */
    TW_YTCHAT_CONT_TIMED,        /* timedContinuationData (live) */
    TW_YTCHAT_CONT_RELOAD,       /* reloadContinuationData */
    TW_YTCHAT_CONT_REPLAY,       /* liveChatReplayContinuationData */
    TW_YTCHAT_CONT_SEEK,         /* only playerSeekContinuationData: replay
                                    end */
    TW_YTCHAT_CONT_API,          /* Data API nextPageToken */
} tw_ytchat_cont_kind_t;

/* The continuation of a response. */
typedef struct {
    tw_ytchat_cont_kind_t kind; /* which one */
    const char *token;          /* continuation / page token, "" if none */
    int64_t timeout_ms;         /* timeoutMs, timeUntilLastMessageMsec or
                                   pollingIntervalMillis; -1 when absent */
    const char *seek_token;     /* playerSeekContinuationData token or "" */
    int64_t offline_at_usec;    /* Data API offlineAt, 0 when absent */
} tw_ytchat_cont_t;

/* An unknown renderer or action, counted (never fatal). */
typedef struct {
    const char *name; /* renderer or action key */
    const char *path; /* JSON path of its first occurrence */
    uint32_t count;   /* occurrences in the last parse */
} tw_ytchat_unknown_t;

/* Returns a new parser, or NULL when out of memory. */
tw_ytchat_t *tw_ytchat_new(void);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_ytchat_destroy(tw_ytchat_t **self_p);
/* Parses one document (any input kind listed at the top; an HTML page is
 * read through its ytInitialData); buf must stay valid until the next parse.
 * The whole document is validated: malformed JSON -> TW_ERR_PARSE (byte
 * offset in err); TW_ERR_NOMEM, TW_ERR_TOOBIG. */
tw_rc_t tw_ytchat_parse(tw_ytchat_t *self, const char *buf, size_t len,
                        tw_err_t *err);
/* Number of items (chat rows and events) of the last parse. */
size_t tw_ytchat_count(const tw_ytchat_t *self);
/* Item i (< count), in document order; borrowed. */
const tw_ytchat_item_t *tw_ytchat_item(const tw_ytchat_t *self, size_t i);
/* The continuation of the last parse; borrowed. */
const tw_ytchat_cont_t *tw_ytchat_continuation(const tw_ytchat_t *self);
/* True when the last document was a Data API liveChatMessageListResponse. */
bool tw_ytchat_is_api(const tw_ytchat_t *self);
/* Number of distinct unknown renderers/actions of the last parse. */
size_t tw_ytchat_unknown_count(const tw_ytchat_t *self);
/* Unknown entry i; borrowed. */
const tw_ytchat_unknown_t *tw_ytchat_unknown(const tw_ytchat_t *self, size_t i);
/* Writes the chat rows (kinds TEXT..OTHER) of the last parse to out as TSV
 * exactly like expected_chat.jq. Returns TW_ERR_IO on write failure. */
tw_rc_t tw_ytchat_write_tsv(const tw_ytchat_t *self, FILE *out);
/* Parses buf and writes its chat rows as TSV (the `parse-chat` command). */
tw_rc_t tw_ytchat_print_tsv(FILE *out, const char *buf, size_t len,
                            tw_err_t *err);

/* Static name of a kind: "text", ..., "jewels", "other", "deleted",
 * "author_deleted". */
const char *tw_ytchat_kind_str(tw_ytchat_kind_t kind);
/* Static name of a continuation kind: "none", "invalidation", ... */
const char *tw_ytchat_cont_str(tw_ytchat_cont_kind_t kind);
/* Writes s[0..len) to out with jq @tsv escaping (\t \n \r \\). */
void tw_ytchat_tsv_escape(FILE *out, const char *s, size_t len);
/* Parses an RFC 3339 time ("2021-07-07T14:00:00.123Z", offsets allowed) into
 * Unix microseconds (tw_time_parse_n). Returns false when malformed. */
bool tw_ytchat_parse_time(const char *s, size_t len, int64_t *usec);
/* Derives an ISO 4217 code (into code[4], "" when unknown) and micro-units
 * (-1 when unparsable) from an amount text such as "$9.99", "￥846",
 * "CA$5.00", "PHP 100.00" or "5,00 €". */
void tw_ytchat_parse_amount(const char *text, char code[4], int64_t *micros);

#endif
