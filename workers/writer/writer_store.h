/* writer_store - the writer's durable, deduplicating TSV files
 * (docs/writer-store.md): DATA/comments/DAY/CHANNEL/VIDEO.tsv,
 * DATA/viewers/DAY/CHANNEL/VIDEO.tsv and DATA/stats/DAY/CHANNEL.tsv, optionally
 * with .jsonl twins. DAY is the write date in the configured time zone. */
#ifndef WRITER_STORE_H
#define WRITER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* An absent number or time: written as an empty field (never as 0). */
#define WRITER_STORE_ABSENT INT64_MIN
/* Longest channel or video id accepted (they become path components). */
#define WRITER_STORE_ID_MAX 64
/* Longest message id accepted. */
#define WRITER_STORE_MSGID_MAX 256

/* The open store: file cache, dedup indexes of today and yesterday. */
typedef struct writer_store writer_store_t;

/* Returns "now" in microseconds since the epoch (tests inject a clock). */
typedef int64_t (*writer_store_clock_t)(void *arg);

/* Options of writer_store_open; zero-initialise then set. */
typedef struct {
    const char *data_dir;       /* DATA: comments/, viewers/, stats/ */
    const char *timezone;       /* IANA zone of the day partition; NULL,
                                   "" = UTC */
    bool jsonl;                 /* also write .jsonl beside every .tsv */
    size_t max_open_files;      /* open descriptors kept (LRU); 0 = 64 */
    writer_store_clock_t clock; /* NULL = the wall clock */
    void *clock_arg;            /* argument of clock */
} writer_store_opts_t;

/* One chat item of chat.tokenized (kind "deleted" has its own call). */
typedef struct {
    int64_t received_at_us;  /* when tubewatch got it; ABSENT = now */
    int64_t published_at_us; /* YouTube's time, or WRITER_STORE_ABSENT */
    const char *channel_id;  /* stream's channel id (validated) */
    const char *video_id;    /* stream's video id (validated) */
    const char *message_id;  /* YouTube message id: the dedup key */
    const char *kind;        /* text, superchat, sticker, membership, gift,
                                jewels, other */
    const char *author_channel_id; /* or NULL */
    const char *author_name;       /* or NULL */
    const char *amount;            /* display amount ("$5.00") or NULL */
    const char *text;              /* message text or NULL */
    const char *const *tokens;     /* tokens, joined by ' ' in the file */
    size_t n_tokens;               /* entries in tokens */
    bool replaces;                 /* the real message replacing the item
                                      stored under the same id: stored
                                      once per content (docs/writer-store.md) */
} writer_store_comment_t;

/* One viewers row. */
typedef struct {
    int64_t sampled_at_us;      /* sample time: with video_id the dedup key */
    const char *channel_id;     /* channel id (validated) */
    const char *video_id;       /* video id (validated) */
    int64_t concurrent_viewers; /* or WRITER_STORE_ABSENT */
    int64_t views;              /* or WRITER_STORE_ABSENT */
    int64_t likes;              /* or WRITER_STORE_ABSENT */
    int64_t comments;           /* or WRITER_STORE_ABSENT */
} writer_store_viewers_t;

/* One stats row. */
typedef struct {
    int64_t sampled_at_us;  /* sample time: with video_id the dedup key */
    const char *channel_id; /* channel id (validated) */
    const char *video_id;   /* video id (validated) */
    const char *title;      /* video title or NULL */
    int64_t views;          /* or WRITER_STORE_ABSENT */
    int64_t likes;          /* or WRITER_STORE_ABSENT */
    int64_t favorites;      /* or WRITER_STORE_ABSENT */
    int64_t comments;       /* or WRITER_STORE_ABSENT */
} writer_store_stats_t;

/* Opens the store: checks the zone, creates data_dir if needed, repairs torn
 * last lines and rebuilds the dedup index of today and yesterday from their
 * files. Returns NULL with err set (bad zone, unreadable dir, ...). Caller
 * owns the result. */
writer_store_t *writer_store_open(const writer_store_opts_t *opts,
                                  tw_err_t *err);
/* Syncs (best effort), closes every file and frees *self_p; sets it to
 * NULL; safe to call twice. */
void writer_store_destroy(writer_store_t **self_p);

/* Appends one comment row unless its message id is already stored for the
 * video today or yesterday (then *dup = true, TW_OK); a replacement
 * (c->replaces) unless a row with the same id and the same content (kind,
 * author, amount, text) is stored. Returns
 * TW_ERR_INVALID for a hostile or missing id/kind, TW_ERR_NOSPACE when the
 * disk (or file size limit) is full, TW_ERR_IO on other failures: nothing of
 * the row stays in the file then, so a retry is safe. dup may be NULL. */
tw_rc_t writer_store_add_comment(writer_store_t *self,
                                 const writer_store_comment_t *c, bool *dup,
                                 tw_err_t *err);
/* Appends a "deleted" row (kind deleted, message_id = the deleted message's
 * id, empty text; dedup key "del:" + id). Errors as add_comment. */
tw_rc_t writer_store_add_deleted(writer_store_t *self, const char *channel_id,
                                 const char *video_id, const char *message_id,
                                 int64_t received_at_us, bool *dup,
                                 tw_err_t *err);
/* Appends a viewers row unless video_id + sampled_at is stored. Errors as
 * add_comment. */
tw_rc_t writer_store_add_viewers(writer_store_t *self,
                                 const writer_store_viewers_t *v, bool *dup,
                                 tw_err_t *err);
/* Appends a stats row unless video_id + sampled_at is stored. Errors as
 * add_comment. */
tw_rc_t writer_store_add_stats(writer_store_t *self,
                               const writer_store_stats_t *s, bool *dup,
                               tw_err_t *err);
/* Makes everything added so far durable: fsync of every file written since
 * the last sync, then of the directories that got new entries. Acks may be
 * sent only after TW_OK. On TW_ERR_IO the unsynced rows are truncated away
 * and the store refuses further work (TW_ERR_STATE): reopen it. */
tw_rc_t writer_store_sync(writer_store_t *self, tw_err_t *err);

/* True when id is a safe path component: 1..WRITER_STORE_ID_MAX bytes of
 * [A-Za-z0-9_-]. */
bool writer_store_id_ok(const char *id);
/* Number of files currently open (for tests and heartbeats). */
size_t writer_store_open_files(const writer_store_t *self);
/* Number of dedup keys held for all loaded days. */
size_t writer_store_index_size(const writer_store_t *self);

#endif
