/* ytsim - internal API shared by the files of the YouTube/Telegram/Google
 * simulator (tools/ytsim). Not a library: every symbol is ytsim_-prefixed
 * because the binary links libtwint.a. */
#ifndef YTSIM_H
#define YTSIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tw_rc.h"
#include "tw_time.h"

/* ---- growable byte buffer ------------------------------------------- */

/* A growable byte buffer; always NUL-terminated once anything was put. */
typedef struct {
    char *p;    /* bytes (owned) */
    size_t len; /* used bytes */
    size_t cap; /* allocated bytes */
} ytsim_buf_t;

/* Makes room for n more bytes (aborts on OOM). */
void ytsim_buf_reserve(ytsim_buf_t *b, size_t n);
/* Appends n bytes. */
void ytsim_buf_put(ytsim_buf_t *b, const char *s, size_t n);
/* Appends a NUL-terminated string. */
void ytsim_buf_puts(ytsim_buf_t *b, const char *s);
/* Appends formatted text. */
void ytsim_buf_printf(ytsim_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends an unsigned / signed decimal number. */
void ytsim_buf_u64(ytsim_buf_t *b, uint64_t v);
void ytsim_buf_i64(ytsim_buf_t *b, int64_t v);
/* Appends s as a quoted JSON string. */
void ytsim_buf_jstr(ytsim_buf_t *b, const char *s);
/* Appends s JSON-escaped without quotes. */
void ytsim_buf_jesc(ytsim_buf_t *b, const char *s);
/* Appends s with &<>"' escaped for XML/HTML. */
void ytsim_buf_xesc(ytsim_buf_t *b, const char *s);
/* Appends s escaped like jq's @tsv (\t \n \r \\). */
void ytsim_buf_tsv(ytsim_buf_t *b, const char *s);
/* Appends base64 of n bytes (url: -_ alphabet; pad: '=' padding). */
void ytsim_buf_b64(ytsim_buf_t *b, const void *d, size_t n, bool url, bool pad);
/* Frees the bytes and zeroes the buffer. */
void ytsim_buf_free(ytsim_buf_t *b);
/* Appends a literal. */
#define YB(b, lit) ytsim_buf_put((b), "" lit, sizeof(lit) - 1)

/* Decodes base64 (either alphabet, padding optional) into out; returns the
 * byte count or -1 on bad input or overflow. */
long ytsim_b64_decode(const char *s, size_t n, unsigned char *out, size_t cap);

/* ---- deterministic randomness --------------------------------------- */

/* splitmix64 state. */
typedef struct {
    uint64_t s; /* state */
} ytsim_rng_t;

/* splitmix64 finaliser. */
uint64_t ytsim_mix(uint64_t x);
/* Hash of three words. */
uint64_t ytsim_hash3(uint64_t a, uint64_t b, uint64_t c);
/* FNV-1a of a string, mixed. */
uint64_t ytsim_strhash(const char *s);
/* Next 64 random bits. */
uint64_t ytsim_rng_next(ytsim_rng_t *r);
/* Uniform in [0, n). */
uint32_t ytsim_rng_below(ytsim_rng_t *r, uint32_t n);
/* Uniform in [0, 1). */
double ytsim_rng_unit(ytsim_rng_t *r);
/* Writes n random id chars [A-Za-z0-9_-] and a NUL into out. */
void ytsim_rng_id(ytsim_rng_t *r, char *out, size_t n);
/* Unit double from a hash value. */
double ytsim_unit(uint64_t h);

/* ---- time ----------------------------------------------------------- */

/* Formats usec since the epoch as RFC 3339 UTC; frac = 0, 3 or 6 digits;
 * offset true writes "+00:00" instead of "Z". */
void ytsim_fmt_time(char *out, size_t cap, int64_t usec, int frac, bool offset);
/* Formats an HTTP date (IMF-fixdate). */
void ytsim_fmt_http_date(char *out, size_t cap, int64_t usec);
/* Parses an HTTP date; returns seconds since the epoch or -1. */
int64_t ytsim_parse_http_date(const char *s);
/* Monotonic seconds. */
double ytsim_mono(void);

/* ---- scenario ------------------------------------------------------- */

/* Shares of chat item kinds (normalised at load). */
typedef struct {
    double text;       /* plain text messages */
    double superchat;  /* Super Chats */
    double sticker;    /* Super Stickers */
    double membership; /* new members / milestones */
    double gift;       /* gifted memberships */
    double jewels;     /* Jewels gifts (giftMessageViewModel; era 2026) */
    double other;      /* placeholders, engagement messages, pinned
                          banners, replaced items */
    double deletion;   /* a moderator deletes one earlier message */
    double ban;        /* a moderator removes an author's messages */
} ytsim_mix_t;

/* A channel. */
typedef struct {
    char id[25];      /* UC + 22 chars */
    char handle[64];  /* without the @ */
    char *title;      /* display name (owned) */
    uint64_t subs;    /* subscriber count */
    char hl[4];       /* page language: "en" or "de" (localized titles) */
    int streams_form; /* /streams tab: 0 = by hash (era 2026), 1 =
                         lockupViewModel, 2 = videoRenderer */
} ytsim_channel_t;

/* One stream (or video) of a channel. All times are simulated seconds
 * relative to the simulator's start. */
typedef struct {
    char id[12];            /* video id, 11 chars */
    int chan;               /* index into the channel table */
    char *title;            /* title (owned) */
    double announce;        /* appears in RSS / uploads from this time */
    bool has_sched;         /* has a scheduled start */
    double sched;           /* scheduled start */
    bool has_resched;       /* rescheduled */
    double resched_at;      /* when the schedule changes */
    double resched_to;      /* the new scheduled start */
    bool has_start;         /* ever goes live */
    double start;           /* actual start */
    double duration;        /* seconds live */
    bool members_only;      /* members-only stream */
    bool is_private;        /* private video */
    bool has_deleted;       /* deleted at deleted_at */
    double deleted_at;      /* deletion time */
    bool chat_disabled;     /* no live chat */
    double rate;            /* chat messages per second while live */
    ytsim_mix_t mix;        /* chat mix */
    double replay_miss;     /* share of items missing from the replay */
    uint32_t n_authors;     /* distinct chat authors */
    uint32_t backlog;       /* items in the first (watch page) response */
    uint32_t max_actions;   /* most chat items in one response */
    int timeout_ms;         /* timeoutMs at speed 1 */
    uint64_t views0;        /* views at the start */
    double views_per_s;     /* view growth while live */
    double like_ratio;      /* likes per view */
    bool likes_hidden;      /* likeCount absent */
    double comment_ratio;   /* comments per view */
    bool comments_disabled; /* commentCount absent */
    uint64_t viewers_peak;  /* peak concurrent viewers */
    bool load;              /* load-mode stream: no truth files */
    int era;                /* 2022 or 2026 (copied from the scenario) */
    double *curve;          /* viewers curve: pairs (s after start, n) */
    size_t n_curve;         /* pair count; 0 = the default shape */
    /* runtime */
    uint64_t vh;             /* hash of the id */
    char chat_id[128];       /* activeLiveChatId */
    pthread_mutex_t mu;      /* guards the truth fields below */
    uint8_t *served;         /* bitmap of items already in the truth */
    size_t served_bytes;     /* bitmap size */
    FILE *truth;             /* truth/chat/ID.tsv */
    FILE *truth_del;         /* truth/chat/ID.deleted.tsv */
    FILE *truth_api;         /* truth/chat_api/ID.tsv */
    uint8_t *served_api;     /* bitmap for the Data API path */
    size_t served_api_bytes; /* its size */
    uint64_t polls;          /* live chat requests (get_live_chat) */
    uint64_t early_polls;    /* of those, sooner than half the timeoutMs */
    double last_poll;        /* real time of the last one */
    double last_timeout;     /* timeoutMs given then, in seconds */
} ytsim_stream_t;

/* Fault kinds. */
typedef enum {
    YTSIM_F_5XX,       /* 500/503 with an error body */
    YTSIM_F_429,       /* 429 + Retry-After */
    YTSIM_F_SLOW,      /* delay before answering */
    YTSIM_F_TRUNCATE,  /* close the connection halfway through the body */
    YTSIM_F_RESET,     /* close the connection without an answer */
    YTSIM_F_MALFORMED, /* 200 with a cut-off (invalid) JSON body */
    YTSIM_F_OUTAGE,    /* everything refused (connection closed) */
    YTSIM_F_QUOTA,     /* the service's quota error (403 / 429) */
    YTSIM_F_NOCONT,    /* get_live_chat: no continuationContents (live) */
    YTSIM_F_RELOAD,    /* get_live_chat: only a reloadContinuationData */
    YTSIM_F_FEED,      /* rss: the feed's HTML error page (404 or 500) */
    YTSIM_F_HUGE,      /* 200 with a valid JSON body of size_mb MB */
} ytsim_fault_kind_t;

/* One fault rule. */
typedef struct {
    char endpoint[40];       /* endpoint name or "*" */
    double from;             /* window start (sim s) */
    double to;               /* window end (sim s) */
    ytsim_fault_kind_t kind; /* what happens */
    double share;            /* share of matching requests hit (0..1] */
    int status;              /* status for 5xx (default 503) */
    int retry_after;         /* seconds for 429 */
    int delay_ms;            /* delay for slow */
    int size_mb;             /* body size for huge (MB, default 100) */
    char channel[64];        /* feed: only this channel (id or handle) */
} ytsim_fault_t;

/* The whole scenario. */
typedef struct {
    uint64_t seed;           /* PRNG seed */
    bool epoch_now;          /* epoch = wall clock at start */
    int64_t epoch_usec;      /* wall time of sim time 0 */
    ytsim_channel_t *chans;  /* channels */
    size_t n_chans;          /* count */
    ytsim_stream_t *streams; /* streams */
    size_t n_streams;        /* count */
    ytsim_fault_t *faults;   /* fault rules */
    size_t n_faults;         /* count */
    char *api_key;           /* Data API key ("" = any key accepted) */
    int64_t quota_per_day;   /* Data API daily units */
    char *tg_token;          /* Telegram bot token */
    int64_t *tg_chats;       /* known chat ids */
    size_t n_tg_chats;       /* count */
    char *tg_username;       /* bot username */
    double tg_chat_per_s;    /* per-chat rate limit */
    double tg_global_per_s;  /* global rate limit */
    int64_t *tg_blocked;     /* chats that blocked the bot (403) */
    size_t n_tg_blocked;     /* count */
    int64_t *tg_migrated;    /* pairs: group id, supergroup id (400) */
    size_t n_tg_migrated;    /* pair count */
    char *client_id;         /* OAuth client id */
    char *client_secret;     /* OAuth client secret */
    char **refresh_tokens;   /* valid refresh tokens */
    size_t n_refresh_tokens; /* count */
    int token_ttl;           /* access token lifetime (real s) */
    char *sa_email;          /* service account email ("" = any) */
    char *sa_pubkey;         /* PEM file to verify JWT signatures */
    int device_polls;        /* pending polls before device approval */
    char *drive_root;        /* id of the root folder */
    int session_ttl;         /* resumable session lifetime (real s) */
    bool truth_chat;         /* write truth/chat */
    uint32_t load_streams;   /* load mode: extra live streams */
    double load_rate;        /* load mode: msgs/s each */
    int era;                 /* 2026 (default) or 2022: shapes served */
    bool consent;            /* pages need the SOCS cookie */
    char *reg_user;          /* Schema Registry basic-auth user ("" = none) */
    char *reg_password;      /* Schema Registry basic-auth password */
    bool reg_ksql;           /* preload ksqlDB's schema of the seed stream */
    char *reg_ksql_subject;  /* its subject (default yt_videos-value) */
    int64_t reg_first_id;    /* id of the first schema registered */
} ytsim_scn_t;

/* Fills a built-in demo scenario (the same as tests/fixtures/ytsim/demo.toml
 * when the TOML parser is unavailable). */
void ytsim_scn_default(ytsim_scn_t *scn);
/* Loads a TOML scenario; TW_ERR_CONFIG/TW_ERR_PARSE with err set. */
tw_rc_t ytsim_scn_load(ytsim_scn_t *scn, const char *path, tw_err_t *err);
/* Adds load-mode streams and derives runtime fields (ids, hashes). */
tw_rc_t ytsim_scn_finish(ytsim_scn_t *scn, tw_err_t *err);
/* Frees everything in scn. */
void ytsim_scn_free(ytsim_scn_t *scn);

/* Stream states. */
typedef enum {
    YTSIM_ST_HIDDEN,   /* not announced yet */
    YTSIM_ST_UPCOMING, /* scheduled, not started */
    YTSIM_ST_LIVE,     /* live */
    YTSIM_ST_ENDED,    /* ended (VOD) */
    YTSIM_ST_DELETED,  /* deleted */
} ytsim_state_t;

/* State of s at sim time t. */
ytsim_state_t ytsim_stream_state(const ytsim_stream_t *s, double t);
/* Scheduled start shown at time t (has_sched must be true). */
double ytsim_stream_sched(const ytsim_stream_t *s, double t);
/* Stats at time t. */
typedef struct {
    uint64_t views;    /* viewCount */
    uint64_t likes;    /* likeCount */
    uint64_t comments; /* commentCount */
    uint64_t viewers;  /* concurrent viewers (live only) */
} ytsim_stats_t;
void ytsim_stream_stats(const ytsim_scn_t *scn, const ytsim_stream_t *s,
                        double t, ytsim_stats_t *out);

/* ---- server ---------------------------------------------------------- */

/* The running simulator. */
typedef struct ytsim_srv ytsim_srv_t;

/* An HTTP request being handled. */
typedef struct {
    void *conn;          /* struct MHD_Connection */
    const char *method;  /* GET, POST, PUT, ... */
    const char *path;    /* URL path, no query */
    ytsim_buf_t body;    /* request body */
    char ep[40];         /* endpoint name (for faults and quota) */
    void *json;          /* parsed JSON body (json_t), lazily */
    bool json_tried;     /* tried to parse */
    char **form;         /* parsed form pairs k0,v0,k1,v1,..., NULL end */
    bool form_tried;     /* tried to parse */
    ytsim_buf_t scratch; /* storage for returned strings */
    char *strs[64];      /* owned strings returned by ytsim_param */
    int n_strs;          /* count */
} ytsim_req_t;

/* The response to send. */
typedef struct {
    int status;        /* HTTP status */
    const char *ctype; /* Content-Type */
    ytsim_buf_t body;  /* body */
    char hname[6][32]; /* extra header names */
    char hval[6][512]; /* extra header values */
    int nh;            /* extra header count */
    bool close;        /* reset: close without answering */
    bool truncate;     /* send half the body, then close */
} ytsim_resp_t;

/* Adds a response header. */
void ytsim_resp_header(ytsim_resp_t *rs, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets status + JSON content type and returns the body buffer. */
ytsim_buf_t *ytsim_resp_json(ytsim_resp_t *rs, int status);
/* A request header (borrowed) or NULL. */
const char *ytsim_header(ytsim_req_t *rq, const char *name);
/* A query argument (borrowed) or NULL. */
const char *ytsim_query(ytsim_req_t *rq, const char *name);
/* A parameter from the query, a form body or a JSON body (borrowed until
 * the request ends) or NULL. */
const char *ytsim_param(ytsim_req_t *rq, const char *name);
/* The parsed JSON body (json_t *, borrowed) or NULL. */
void *ytsim_body_json(ytsim_req_t *rq);

/* Simulated now (seconds since start). */
double ytsim_now(ytsim_srv_t *srv);
/* Wall time in usec of sim time t. */
int64_t ytsim_wall_usec(ytsim_srv_t *srv, double t);
/* The scenario. */
ytsim_scn_t *ytsim_scn(ytsim_srv_t *srv);
/* The output directory. */
const char *ytsim_out(ytsim_srv_t *srv);
/* The clock of token and session lifetimes: real seconds, or simulated
 * ones under TW_TEST_CLOCK (so a simulated week expires tokens). */
double ytsim_lifetime_clock(ytsim_srv_t *srv);
/* The speed factor (0 = frozen clock). */
double ytsim_speed(ytsim_srv_t *srv);
/* The global lock for mutable simulator state. */
void ytsim_lock(ytsim_srv_t *srv);
void ytsim_unlock(ytsim_srv_t *srv);
/* Real seconds since start (for rate limits and token lifetimes). */
double ytsim_real(ytsim_srv_t *srv);
/* Finds a stream by video id or NULL. */
ytsim_stream_t *ytsim_find_stream(ytsim_srv_t *srv, const char *id);
/* Finds a channel index by id, handle (with or without @) or -1. */
int ytsim_find_channel(ytsim_srv_t *srv, const char *key);
/* Appends a line to truth/stats.tsv (what stats were served). */
void ytsim_truth_stats(ytsim_srv_t *srv, const char *source,
                       const ytsim_stream_t *s, double t,
                       const ytsim_stats_t *st, bool live);

/* ---- handlers (one per service) ------------------------------------- */

/* Each returns true when it handled the path. */
bool ytsim_youtube_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs);
bool ytsim_dataapi_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs);
bool ytsim_telegram_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs);
bool ytsim_google_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs);
/* Confluent Schema Registry (ytsim_registry.c). */
bool ytsim_registry_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs);
/* Names the endpoint of a request for faults (without handling it). */
void ytsim_endpoint_name(const char *method, const char *path, char *out,
                         size_t cap);

/* ---- chat ----------------------------------------------------------- */

/* Number of chat items of s that happened up to t. */
uint32_t ytsim_chat_count(const ytsim_scn_t *scn, const ytsim_stream_t *s,
                          double t);
/* Total chat items of s. */
uint32_t ytsim_chat_total(const ytsim_stream_t *s);
/* A decoded continuation token. */
typedef struct {
    char vid[12]; /* video id */
    char mode;    /* 'L' live, 'T' top chat, 'R' replay */
    uint32_t pos; /* position; UINT32_MAX = where a new client starts */
    bool first;   /* issued by a page or a header (not a follow-up) */
} ytsim_tok_t;

/* Writes a continuation token: mode 'L' live, 'T' top chat, 'R' replay,
 * 'r' replay top chat; era 2026 writes the real full-token layout (first:
 * issued by a page or a chat-view header rather than as a follow-up). */
void ytsim_chat_token(ytsim_buf_t *b, const ytsim_scn_t *scn,
                      const ytsim_stream_t *s, char mode, uint32_t pos,
                      bool first);
/* Writes the relative (video-agnostic) chat-view token of era 2026. */
void ytsim_chat_token_relative(ytsim_buf_t *b, bool replay, bool top);
/* Parses a token of either era; false when it is not one of ours (a
 * relative token names no video and is not). */
bool ytsim_chat_token_parse(const char *tok, ytsim_tok_t *out);
/* Writes the JSON of a get_live_chat / get_live_chat_replay answer (or,
 * initial true, the ytInitialData of a live_chat page; header true, era
 * 2026: the answer carries the chat-view header). Returns the HTTP
 * status. */
int ytsim_chat_response(ytsim_srv_t *srv, ytsim_stream_t *s, char mode,
                        uint32_t pos, bool initial, bool header,
                        ytsim_buf_t *b);
/* First replay position at or after the video offset off_ms. */
uint32_t ytsim_chat_replay_seek(const ytsim_stream_t *s, int64_t off_ms);
/* Writes a Data API liveChatMessages.list answer for s from pos. */
int ytsim_chat_api_response(ytsim_srv_t *srv, ytsim_stream_t *s, uint32_t pos,
                            uint32_t max, ytsim_buf_t *b);
/* The first position served by a new watch page / next call at t. */
uint32_t ytsim_chat_initial_pos(ytsim_srv_t *srv, ytsim_stream_t *s, double t);
/* Opens truth files (out/truth/chat/...). */
void ytsim_chat_truth_open(ytsim_srv_t *srv);
/* Flushes and closes truth files. */
void ytsim_chat_truth_close(ytsim_srv_t *srv);
/* Writes "header":{liveChatHeaderRenderer with the Top chat / Live chat
 * sub-menu items}, both continuations at pos (era 2026: full tokens,
 * titles in the channel's language). */
void ytsim_chat_header(ytsim_buf_t *b, const ytsim_scn_t *scn,
                       const ytsim_stream_t *s, bool replay, uint32_t pos,
                       bool top_selected);
/* Parses a Data API chat page token; false when malformed. */
bool ytsim_chat_api_token(const char *tok, uint32_t *pos);
/* Writes the common responseContext object (key and value). */
void ytsim_response_context(ytsim_buf_t *b, uint64_t h);
/* Answers a get_live_chat request of a live stream with the chat fault kind
 * (NOCONT, RELOAD); false when it does not apply (ytsim_chatfault.c). */
bool ytsim_chatfault_apply(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs,
                           ytsim_fault_kind_t kind);

#endif
