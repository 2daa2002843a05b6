/* notifier_outbox - the notifier's on-disk outbox: one tw_journal per chat
 * under DIR/, each message appended (fdatasync) before the caller acks its
 * cause, sent in order per chat under per-chat and global token buckets,
 * trimmed after Telegram's ok, replayed after a restart. 429 pauses the
 * chat (or everything), permanent errors disable the chat instead of
 * looping (docs/notifier.md). A crash between Telegram's ok and the trim
 * (or the commit, with defer_trim) resends those messages after the
 * restart: the worker sends at most one message before each commit.
 * The keys of the last sent_keep parts sent to each chat outlive the trim
 * in DIR/sent.tsv (written atomically before a part's first send), so a
 * cause redelivered after its message was sent and trimmed (maybe by a
 * later incarnation replaying the journal) is still recognised. */
#ifndef NOTIFIER_OUTBOX_H
#define NOTIFIER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"
#include "tw_telegram.h"

/* Sends one message (tw_telegram_send or a test double); fills *res.
 * A return other than TW_OK counts as a temporary failure. */
typedef tw_rc_t(notifier_send_fn)(void *arg, const char *chat_id,
                                  const char *text, bool html,
                                  tw_telegram_result_t *res);

/* Outbox settings; zero fields take the defaults shown. */
typedef struct {
    double chat_rate;        /* messages/s per chat, default 1 */
    double global_rate;      /* messages/s in all, default 30 */
    uint32_t chat_margin_ms; /* added to each per-chat interval (arrival
                                jitter at the server), default 25 */
    uint32_t backoff_min_ms; /* first delay after 5xx/no reply, 1000 */
    uint32_t backoff_max_ms; /* delay cap, default 60000 */
    uint32_t bad_token_ms;   /* pause after 401, default 600000 */
    int64_t gone_ms;         /* a chat that is gone stays disabled this
                                long (then one message probes it),
                                default 6 h */
    size_t max_text;         /* split limit, default TW_TELEGRAM_MAX_TEXT */
    size_t max_queue;        /* parts queued per chat, default
                                NOTIFIER_OUTBOX_MAX_QUEUE: a part added
                                beyond it drops the chat's oldest */
    bool defer_trim;         /* true: parts sent stay in the journal (and
                                their keys count as queued) until
                                notifier_outbox_commit */
    size_t sent_keep;        /* keys of sent parts remembered per chat
                                (sent.tsv, also after their trim),
                                default 512 */
} notifier_outbox_opts_t;

/* Default of max_queue ([worker.notifier] outbox_max): an hour of a chat's
 * sends at Telegram's pace for groups (20 a minute) ten times over. */
#define NOTIFIER_OUTBOX_MAX_QUEUE 10000

/* Counters. */
typedef struct {
    uint64_t queued;     /* messages (parts) journaled */
    uint64_t sent;       /* accepted by Telegram */
    uint64_t retried;    /* 429, 5xx, no reply */
    uint64_t limited;    /* of which 429 */
    uint64_t dropped;    /* rejected, for a disabled chat, or overflowed */
    uint64_t overflowed; /* of which the oldest of a full queue */
    uint64_t migrated;   /* chat id updates */
    uint64_t dups;       /* adds skipped because their key was queued */
    uint64_t replayed;   /* parts found in journals at open */
} notifier_outbox_stats_t;

/* The outbox. */
typedef struct notifier_outbox notifier_outbox_t;

/* Opens (creating) the outbox in dir, replaying every journal found there;
 * send(arg, ...) performs the sends. opts may be NULL. TW_ERR_IO,
 * TW_ERR_STATE (another process holds a journal), TW_ERR_NOMEM. */
tw_rc_t notifier_outbox_open(notifier_outbox_t **self_p, const char *dir,
                             const notifier_outbox_opts_t *opts,
                             notifier_send_fn *send, void *arg, tw_err_t *err);
/* Closes and frees *self_p (pending messages stay on disk); safe on NULL. */
void notifier_outbox_destroy(notifier_outbox_t **self_p);

/* Queues text (plain, escaped when sent) for chat_id: split into parts of
 * at most max_text characters, each journaled with fdatasync before this
 * returns. A non-empty key already queued for the chat, or among its last
 * sent_keep sent, is skipped (a redelivered cause). For a disabled chat the
 * text is dropped (counted, TW_OK). When the chat then holds more than
 * max_queue parts its oldest are dropped (counted, logged), the rest keep
 * their order. TW_ERR_IO/TW_ERR_NOSPACE: nothing of it is queued... except
 * parts already written, which are then sent. */
tw_rc_t notifier_outbox_add(notifier_outbox_t *self, const char *chat_id,
                            const char *text, const char *key, tw_err_t *err);
/* Sends up to max due parts (rate limits and pauses permitting) at
 * monotonic time now_ms; sets *sent (may be NULL) to how many were tried.
 * TW_ERR_IO when a journal cannot be trimmed. */
tw_rc_t notifier_outbox_run(notifier_outbox_t *self, int64_t now_ms, int max,
                            int *sent, tw_err_t *err);
/* Trims from the journals every part sent or dropped so far (with
 * defer_trim: call it once the causes of those parts are durable, so that
 * a crash before it resends them rather than losing their dedup keys). */
tw_rc_t notifier_outbox_commit(notifier_outbox_t *self, tw_err_t *err);
/* Milliseconds from now_ms until a part is due, 0 when one is due now, -1
 * when nothing is pending. */
int64_t notifier_outbox_timeout_ms(const notifier_outbox_t *self,
                                   int64_t now_ms);
/* Parts waiting to be sent. */
size_t notifier_outbox_pending(const notifier_outbox_t *self);
/* Copies the counters. */
void notifier_outbox_stats(const notifier_outbox_t *self,
                           notifier_outbox_stats_t *stats);
/* True when chat_id (as configured) is disabled. */
bool notifier_outbox_chat_disabled(const notifier_outbox_t *self,
                                   const char *chat_id);

#endif
