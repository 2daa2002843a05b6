/* chat - internals of the chat@VIDEO worker (tw-chat): one live stream's
 * chat from the web client (or the Data API) to the tokenizer, with a
 * journal, a checkpoint and replay reconciliation (docs/chat.md). */
#ifndef CHAT_H
#define CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_deliver.h"
#include "tw_http.h"
#include "tw_proto.h"
#include "tw_quota.h"
#include "tw_rc.h"
#include "tw_worker.h"
#include "tw_ytchat.h"
#include "tw_ytpage.h"
#include "tw_ytweb.h"

/* Items per chat.batch frame (far below TW_PROTO_MAX_ARRAY). */
#define CHAT_BATCH_MAX 1000
/* Default grace after the scheduled start for a stream that never starts. */
#define CHAT_START_GRACE_MS (6LL * 3600 * 1000)
/* Environment override of that grace (a duration, "6h", "2s"). */
#define CHAT_ENV_START_GRACE "TUBEWATCH_CHAT_START_GRACE"
/* Consecutive parse failures of the web client before the Data API
 * fallback (when an API key is configured). */
#define CHAT_FALLBACK_ERRORS 8

/* ---- checkpoint (chat_ckpt.c) ---- */

/* Phase a checkpoint was written in. */
typedef enum {
    CHAT_PHASE_LIVE = 0, /* live chat polling */
    CHAT_PHASE_REPLAY,   /* walking the replay after the end */
} chat_phase_t;

/* What survives a restart (STATE/chat@VIDEO/checkpoint). */
typedef struct {
    chat_phase_t phase;    /* live or replay */
    char video_id[16];     /* the stream */
    char channel_id[64];   /* its channel ("" when unknown) */
    char *continuation;    /* token to resume with (owned), NULL = none */
    int64_t last_usec;     /* newest item timestamp seen */
    uint64_t items;        /* items sent so far (all incarnations) */
    uint64_t deleted;      /* deletion events sent so far */
    uint64_t replay_items; /* items sent from the replay */
    int64_t saved_usec;    /* wall time of the save */
} chat_ckpt_t;

/* Reads path into *ck (zeroed first). TW_ERR_NOTFOUND when absent,
 * TW_ERR_PARSE when unreadable (the caller starts over). */
tw_rc_t chat_ckpt_load(const char *path, chat_ckpt_t *ck, tw_err_t *err);
/* Parses checkpoint text (len bytes, any content) into *ck (zeroed
 * first). TW_ERR_PARSE when it is not a valid checkpoint. */
tw_rc_t chat_ckpt_parse(const char *data, size_t len, chat_ckpt_t *ck,
                        tw_err_t *err);
/* Writes *ck to path atomically and durably (0600). */
tw_rc_t chat_ckpt_save(const char *path, const chat_ckpt_t *ck, tw_err_t *err);
/* Frees what *ck owns and zeroes it. */
void chat_ckpt_clear(chat_ckpt_t *ck);
/* Replaces ck->continuation with a copy of token (NULL clears). */
tw_rc_t chat_ckpt_set_cont(chat_ckpt_t *ck, const char *token);

/* ---- recently sent ids (chat_seen.c) ---- */

/* A bounded set of 64-bit id hashes: remembers at least the last
 * CHAT_SEEN_MIN ids added, at most twice that. */
typedef struct chat_seen chat_seen_t;
#define CHAT_SEEN_MIN 8192

/* Returns a new set or NULL when out of memory. */
chat_seen_t *chat_seen_new(void);
/* Frees *self_p and sets it to NULL; safe on NULL. */
void chat_seen_destroy(chat_seen_t **self_p);
/* Adds id; returns true when it was not in the set. */
bool chat_seen_add(chat_seen_t *self, const char *id);
/* True when id is in the set. */
bool chat_seen_has(const chat_seen_t *self, const char *id);

/* ---- classification of a watch page (chat_page.c) ---- */

/* What the startup probe concluded. */
typedef enum {
    CHAT_PAGE_RETRY = 0, /* nothing usable (transient or format break) */
    CHAT_PAGE_CHAT,      /* a chat continuation is there: capture */
    CHAT_PAGE_WAIT,      /* upcoming, chat not open yet: re-check */
    CHAT_PAGE_ENDED,     /* ended (no live continuation left) */
    CHAT_PAGE_REPORT,    /* members-only, private, ...: report, exit 0 */
} chat_page_verdict_t;

/* The verdict and, for REPORT, the stream state and reason to send. */
typedef struct {
    chat_page_verdict_t verdict; /* what to do */
    tw_stream_state_t state;     /* REPORT: state for stream.event */
    char reason[160];            /* REPORT: human reason */
} chat_page_result_t;

/* Classifies a parsed watch page / next response. */
void chat_page_classify(const tw_ytpage_info_t *info, chat_page_result_t *out);

/* ---- chat continuation tokens (chat_token.c) ---- */

/* How a continuation token relates to the stream being captured. */
typedef enum {
    CHAT_TOKEN_OURS = 0, /* names this video */
    CHAT_TOKEN_NONE,     /* names no video (a relative chat-view token) */
    CHAT_TOKEN_OTHER,    /* names another video */
    CHAT_TOKEN_BAD,      /* not a continuation token at all */
} chat_token_match_t;

/* Decodes token and tells whether it names video_id; *type (may be NULL)
 * gets its chat type: 1 all messages, 4 Top chat, 0 unknown. */
chat_token_match_t chat_token_match(const char *token, const char *video_id,
                                    int *type);
/* Static text of a match ("names no video", ...). */
const char *chat_token_match_str(chat_token_match_t m);
/* Copies error.status of a Google error body ("INVALID_ARGUMENT") into out
 * (cap bytes); "" when body is no such error. */
void chat_token_error_status(const char *body, size_t len, char *out,
                             size_t cap);

/* ---- the worker (chat_run.c, chat_api.c) ---- */

/* How a capture phase ended. */
typedef enum {
    CHAT_END_ENDED = 0, /* the stream ended (confirmed) */
    CHAT_END_REPORT,    /* not capturable: report c->report_* and exit 0 */
    CHAT_END_STOP,      /* SIGTERM / STOP: drain and exit 0 */
    CHAT_END_FAIL,      /* local failure (disk, memory): exit 111 */
    CHAT_END_FALLBACK,  /* web client format broken: try the Data API */
} chat_end_t;

/* One chat@VIDEO process. */
typedef struct {
    tw_worker_t *w;                 /* supervisor link (borrowed) */
    tw_loop_t *loop;                /* the event loop (borrowed) */
    const tw_cfg_t *cfg;            /* config (borrowed from w) */
    char video_id[16];              /* the stream */
    char dir[4096];                 /* STATE/chat@VIDEO */
    char ckpt_path[4200];           /* DIR/checkpoint */
    char journal_path[4200];        /* DIR/journal */
    char quota_path[4200];          /* STATE/quota.tsv (shared governor) */
    tw_quota_t *quota;              /* Data API governor while in use */
    tw_http_t *http;                /* web client and Data API connection */
    tw_deliver_t *tx;               /* chat.batch sender to the tokenizer */
    tw_ytpage_t *page;              /* watch page parser */
    tw_ytpage_t *aux;               /* /live_chat page and answer headers */
    tw_ytchat_t *chat;              /* chat response parser */
    chat_seen_t *seen;              /* ids sent by this process (recent) */
    chat_ckpt_t ck;                 /* checkpoint (continuation, counters) */
    char title[256];                /* stream title ("" unknown) */
    int64_t sched_usec;             /* scheduled start, 0 unknown */
    int64_t start_usec;             /* actual start, 0 unknown */
    int64_t end_usec;               /* actual end, 0 unknown */
    char client_version[48];        /* innertube clientVersion */
    int64_t grace_ms;               /* never-starting grace after sched */
    int64_t ckpt_ms;                /* monotonic time of the last save */
    uint64_t polls;                 /* chat requests made */
    uint64_t errors;                /* failed requests and parses */
    uint64_t malformed;             /* unparsable chat answers */
    uint64_t bans;                  /* author bans seen (not forwarded) */
    uint64_t skipped;               /* items without a usable id */
    uint64_t quota_units;           /* Data API units spent by this process */
    uint32_t page_fails;            /* watch page probes failed in a row */
    bool seen_live;                 /* the page said live or ended once */
    bool cont_top;                  /* the chain started from a Top chat
                                       token: look for the all-messages
                                       one in the first answer's header */
    bool top_warned;                /* Top-chat-only warning logged */
    char unknown[64][48];           /* unknown renderer names already logged */
    size_t nunknown;                /* entries used */
    tw_stream_state_t report_state; /* CHAT_END_REPORT: state */
    char report_reason[200];        /* CHAT_END_REPORT: reason */
} chat_t;

/* Runs the worker to its end on loop (worker attached to it); returns the
 * exit code. */
int chat_run(tw_worker_t *worker, tw_loop_t *loop);
/* Waits up to ms milliseconds running the loop (supervisor link, the
 * sender's acks and resends, heartbeats); returns early when stopping. */
void chat_wait(chat_t *c, int64_t ms);
/* True once SIGTERM/STOP arrived. */
bool chat_stopping(chat_t *c);
/* Sends the items of the last parse of c->chat (skipping ids this process
 * sent recently), waiting for credit; updates the counters (replay: also
 * replay_items) and last_usec. TW_ERR_CLOSED when stopping meanwhile. */
tw_rc_t chat_send_items(chat_t *c, bool replay, size_t *nsent);
/* Saves the checkpoint now (force) or when items were sent / a minute
 * passed. Failures are logged; returns the rc. */
tw_rc_t chat_save(chat_t *c, bool force);
/* Logs each unknown renderer/action name of the last parse once. */
void chat_log_unknown(chat_t *c);
/* Captures the chat with the Data API liveChatMessages.list until the
 * stream ends (chat_api.c). */
chat_end_t chat_api_capture(chat_t *c);
/* Reports that source (an endpoint or page) gave an answer the worker
 * could not use (what: one line, no secrets). Logged. */
void chat_drift(chat_t *c, const char *source, const char *what);
/* The token to start the live chat (replay false) or the replay walk with,
 * from the watch page parsed in c->page: a token naming this video, the
 * all-messages one when it can be had (from the page itself or from the
 * /live_chat or /live_chat_replay page its full token opens). A Top chat
 * token is returned when nothing better names the video (c->cont_top set:
 * see chat_token_upgrade). NULL when the page holds no token naming this
 * video (logged). Caller frees. */
char *chat_token_start(chat_t *c, bool replay);
/* After the first answer to a chain started from a Top chat token: when
 * the answer's header holds the all-messages token naming this video, it
 * replaces c->ck.continuation and true is returned; else the Top chat
 * token stays (warned once). Clears c->cont_top. */
bool chat_token_upgrade(chat_t *c, const char *body, size_t len);

#endif
