/* tw-writer - the pipeline's sink (docs/pipeline.md, docs/writer-store.md): a
 * tw_deliver receiver on ipc://RUNTIME/writer.sock taking chat.tokenized
 * (from the tokenizer), chat.batch (untokenized, accepted too) and
 * stats.sample (from stats). Rows go through writer_store (dedup, torn-line
 * repair); a round of frames is made durable with one writer_store_sync and
 * only then acked (cumulative per sender). When the disk is full (or any
 * write fails) the frame being stored is held, nothing more is read and
 * nothing more is acked; the write is retried every second until it works.
 * Exit codes: 0 stopped, 100 bad config, 111 temporary failure (a failed
 * fsync, an unbindable socket). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_deliver.h"
#include "tw_loop.h"
#include "tw_log.h"
#include "tw_proto.h"
#include "tw_time.h"
#include "tw_worker.h"
#include "writer_store.h"

/* Frames read before one sync (group commit). */
#define S_ROUND_MAX 4096
/* Delay between retries of a held frame (disk full, I/O error). */
#define S_RETRY_MS 1000
/* Longest fsync_interval honoured: below the senders' ack timeout. */
#define S_FSYNC_INTERVAL_MAX_MS (TW_DELIVER_ACK_TIMEOUT_MS * 4 / 5)
/* While full, a log line at most this often. */
#define S_FULL_LOG_MS 30000

/* The worker. */
typedef struct {
    tw_worker_t *w;             /* supervisor link */
    tw_deliver_t *rx;           /* receiver on writer.sock */
    writer_store_t *st;         /* the files */
    uint64_t fsync_interval_ms; /* 0 = sync every round */
    bool dirty;                 /* something stored since the last sync */
    int64_t dirty_since_ms;     /* when it became dirty (mono) */
    tw_msg_t held;              /* frame waiting for space */
    bool have_held;             /* held is valid */
    bool held_bad;              /* held only has an envelope (PROTO) */
    int64_t retry_ms;           /* next retry of held (mono) */
    int64_t full_since_ms;      /* first failure of held (mono) */
    int64_t full_log_ms;        /* last "still full" log line (mono) */
    uint64_t n_invalid;         /* items refused by the store */
    uint64_t rows;              /* rows written (not dups) */
    uint64_t dups;              /* duplicate rows dropped */
    tw_loop_t *loop;            /* the event loop */
    int retry_timer;            /* retries the held frame */
    int commit_timer;           /* syncs after fsync_interval */
} s_writer_t;

/* Logs an item the store refused (rate-limited). */
static void s_invalid(s_writer_t *self, const tw_msg_t *m, const char *what,
                      const tw_err_t *err)
{
    self->n_invalid++;
    tw_worker_count(self->w, 0, 0, 1);
    if (self->n_invalid <= 20 || self->n_invalid % 1000 == 0)
        tw_log_warn("dropped invalid %s from %s seq %" PRIu64 ": %s (%" PRIu64
                    " so far)",
                    what, m->src, m->seq, err->msg, self->n_invalid);
}

/* Folds the result of one store call: TW_OK also for refused input. */
static tw_rc_t s_result(s_writer_t *self, const tw_msg_t *m, const char *what,
                        tw_rc_t rc, bool dup, const tw_err_t *err)
{
    if (rc == TW_ERR_INVALID) {
        s_invalid(self, m, what, err);
        return TW_OK;
    }
    if (rc == TW_OK) {
        if (dup) {
            self->dups++;
        } else {
            self->rows++;
            tw_worker_count(self->w, 0, 1, 0);
        }
    }
    return rc;
}

/* An int64 time field: 0 and negatives mean unknown. */
static int64_t s_time(int64_t us)
{
    return us > 0 ? us : WRITER_STORE_ABSENT;
}

/* An optional count. */
static int64_t s_opt(tw_ou64_t v)
{
    if (!v.set)
        return WRITER_STORE_ABSENT;
    return v.v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v.v;
}

/* Stores one chat item (fields of tw_chat_item_t / tw_tok_item_t). */
static tw_rc_t s_store_item(s_writer_t *self, const tw_msg_t *m,
                            const char *video, const char *channel,
                            const tw_chat_item_t *it, const tw_strs_t *tokens,
                            tw_err_t *err)
{
    bool dup = false;
    tw_rc_t rc;
    if (it->kind == TW_CHAT_KIND_DELETED) {
        const char *ref = it->ref_id && *it->ref_id ? it->ref_id : it->id;
        rc = writer_store_add_deleted(self->st, channel, video, ref,
                                      s_time(it->received_usec), &dup, err);
        return s_result(self, m, "deletion", rc, dup, err);
    }
    writer_store_comment_t c = {
        .received_at_us = s_time(it->received_usec),
        .published_at_us = s_time(it->published_usec),
        .channel_id = channel,
        .video_id = video,
        .message_id = it->id,
        .kind = tw_proto_chat_kind_str(it->kind),
        .author_channel_id = it->author_channel_id,
        .author_name = it->author_name,
        .amount = it->amount && *it->amount ? it->amount : NULL,
        .text = it->text,
        .tokens = tokens ? (const char *const *)tokens->v : NULL,
        .n_tokens = tokens ? tokens->n : 0,
        .replaces = it->replaces,
    };
    rc = writer_store_add_comment(self->st, &c, &dup, err);
    if (rc == TW_OK && !dup && it->received_usec > 0)
        tw_worker_gauge(self->w, "writer_lag_seconds",
                        (tw_time_now_us() - it->received_usec) / 1000);
    return s_result(self, m, "chat item", rc, dup, err);
}

/* Stores a stats.sample: a viewers row when it has concurrent viewers, a
 * stats row when it has any of views/likes/favorites/comments. */
static tw_rc_t s_store_sample(s_writer_t *self, const tw_msg_t *m,
                              tw_err_t *err)
{
    const tw_msg_stats_sample_t *s = &m->u.stats_sample;
    bool dup = false;
    tw_rc_t rc = TW_OK;
    if (s->concurrent_viewers.set) {
        writer_store_viewers_t v = {
            .sampled_at_us = s->sampled_at_us,
            .channel_id = s->channel_id,
            .video_id = s->video_id,
            .concurrent_viewers = s_opt(s->concurrent_viewers),
            .views = s_opt(s->views),
            .likes = s_opt(s->likes),
            .comments = s_opt(s->comments),
        };
        rc = writer_store_add_viewers(self->st, &v, &dup, err);
        rc = s_result(self, m, "viewers sample", rc, dup, err);
        if (rc != TW_OK)
            return rc;
    }
    if (s->views.set || s->likes.set || s->favorites.set || s->comments.set) {
        writer_store_stats_t t = {
            .sampled_at_us = s->sampled_at_us,
            .channel_id = s->channel_id,
            .video_id = s->video_id,
            .title = s->title,
            .views = s_opt(s->views),
            .likes = s_opt(s->likes),
            .favorites = s_opt(s->favorites),
            .comments = s_opt(s->comments),
        };
        rc = writer_store_add_stats(self->st, &t, &dup, err);
        rc = s_result(self, m, "stats sample", rc, dup, err);
    }
    return rc;
}

/* Stores every row of one frame. TW_OK when done (rows refused as invalid
 * included); TW_ERR_NOSPACE / TW_ERR_IO: hold and retry the whole frame
 * (rows already written are then duplicates); TW_ERR_STATE: fatal. */
static tw_rc_t s_store_msg(s_writer_t *self, const tw_msg_t *m, tw_err_t *err)
{
    tw_rc_t rc = TW_OK;
    switch (m->id) {
    case TW_MSG_CHAT_TOKENIZED: {
        const tw_msg_chat_tokenized_t *b = &m->u.chat_tokenized;
        for (size_t i = 0; i < b->items.n && rc == TW_OK; i++) {
            const tw_tok_item_t *t = &b->items.v[i];
            tw_chat_item_t it = tw_proto_chat_item(t);
            rc = s_store_item(self, m, b->video_id, b->channel_id, &it,
                              &t->tokens, err);
        }
        break;
    }
    case TW_MSG_CHAT_BATCH: {
        const tw_msg_chat_batch_t *b = &m->u.chat_batch;
        for (size_t i = 0; i < b->items.n && rc == TW_OK; i++)
            rc = s_store_item(self, m, b->video_id, b->channel_id,
                              &b->items.v[i], NULL, err);
        break;
    }
    case TW_MSG_STATS_SAMPLE:
        rc = s_store_sample(self, m, err);
        break;
    default: {
        tw_err_t e2 = {0};
        snprintf(e2.msg, sizeof e2.msg, "unexpected message %s",
                 tw_proto_name(m->id) ? tw_proto_name(m->id) : "?");
        s_invalid(self, m, "frame", &e2);
        break;
    }
    }
    return rc;
}

/* Syncs the files and sends the pending acks. Exits 111 when fsync
 * failed (the store refuses further work; a restart rebuilds it). */
static void s_commit(s_writer_t *self)
{
    if (self->dirty) {
        tw_err_t err = {0};
        tw_rc_t rc = writer_store_sync(self->st, &err);
        if (rc != TW_OK) {
            tw_log_error("sync failed, restarting: %s", err.msg);
            exit(TW_EXIT_TEMP);
        }
        self->dirty = false;
    }
    tw_err_t err = {0};
    if (tw_deliver_ack_owed(self->rx, &err) != TW_OK)
        tw_log_warn("ack: %s", err.msg); /* the sender resends; dups dropped */
}

/* Handles one received frame; false when it was held (no space). */
static bool s_handle(s_writer_t *self, tw_msg_t *m, bool bad)
{
    int64_t now = tw_time_mono_ms();
    tw_err_t err = {0};
    tw_rc_t rc = TW_OK;
    if (bad) {
        tw_err_t e2 = {0};
        snprintf(e2.msg, sizeof e2.msg, "undecodable body");
        s_invalid(self, m, "frame", &e2);
    } else {
        rc = s_store_msg(self, m, &err);
    }
    if (rc == TW_ERR_NOSPACE || rc == TW_ERR_IO) {
        tw_worker_count(self->w, 0, 0, 1);
        if (!self->have_held) {
            self->held = *m;
            self->have_held = true;
            self->held_bad = bad;
            self->full_since_ms = now;
            self->full_log_ms = now;
            tw_log_error("%s: holding frame %s:%" PRIu64
                         " and pausing input, retry every %d ms",
                         err.msg, m->src, m->seq, S_RETRY_MS);
        } else if (now - self->full_log_ms >= S_FULL_LOG_MS) {
            self->full_log_ms = now;
            tw_log_error("still failing for %" PRId64 " s: %s",
                         (now - self->full_since_ms) / 1000, err.msg);
        }
        self->retry_ms = now + S_RETRY_MS;
        return false;
    }
    if (rc != TW_OK) {
        tw_log_error("store refuses work, restarting: %s", err.msg);
        exit(TW_EXIT_TEMP);
    }
    if (!self->dirty) {
        self->dirty = true;
        self->dirty_since_ms = now;
    }
    tw_deliver_ack_later(self->rx, m->src, m->epoch, m->seq); /* after sync */
    if (self->have_held) {
        tw_log_info("writing again after %" PRId64 " ms",
                    now - self->full_since_ms);
        self->have_held = false;
    }
    tw_proto_clear(m);
    return true;
}

/* One received frame: stores it; false (stop reading) when it was held. */
static bool s_on_frame(tw_msg_t *m, tw_rc_t rc, const char *why, void *arg)
{
    (void)why;
    s_writer_t *self = arg;
    tw_worker_count(self->w, 1, 0, 0);
    if (m->seq == 0) { /* unsequenced control frame: nothing to store */
        tw_proto_clear(m);
        return true;
    }
    return s_handle(self, m, rc == TW_ERR_PROTO);
}

/* Reads and stores up to S_ROUND_MAX frames. */
static void s_read_round(s_writer_t *self)
{
    tw_err_t err = {0};
    tw_rc_t rc =
        tw_deliver_recv_each(self->rx, S_ROUND_MAX, s_on_frame, self, &err);
    if (rc != TW_OK)
        tw_log_warn("receive: %s", err.msg);
}

/* True when the pending rows should be synced and acked now. */
static bool s_commit_due(const s_writer_t *self, int64_t now)
{
    if (!self->dirty)
        return tw_deliver_acks_owed(self->rx);
    if (self->fsync_interval_ms == 0)
        return true;
    return now - self->dirty_since_ms >= (int64_t)self->fsync_interval_ms;
}

/* After any work: syncs and acks when due, else keeps the commit timer
 * due at fsync_interval after the first unsynced row; reads only while no
 * frame is held, and retries a held one every S_RETRY_MS. */
static void s_settle(s_writer_t *self)
{
    int64_t now = tw_time_mono_ms();
    if (s_commit_due(self, now))
        s_commit(self);
    int64_t d = -1;
    if (self->dirty && self->fsync_interval_ms) {
        d = self->dirty_since_ms + (int64_t)self->fsync_interval_ms - now;
        d = d < 0 ? 0 : d;
    }
    tw_loop_rearm_timer(self->loop, self->commit_timer, d);
    tw_deliver_pause(self->rx, self->have_held);
    tw_loop_rearm_timer(self->loop, self->retry_timer,
                        self->have_held ? self->retry_ms - now : -1);
}

static tw_rc_t s_on_rx(tw_deliver_t *rx, void *arg)
{
    (void)rx;
    s_writer_t *self = arg;
    if (!self->have_held)
        s_read_round(self);
    s_settle(self);
    return TW_OK;
}

/* The held frame's retry: stored, the reading goes on. */
static tw_rc_t s_on_retry(tw_loop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    s_writer_t *self = arg;
    if (self->have_held) {
        tw_msg_t m = self->held;
        if (s_handle(self, &m, self->held_bad))
            s_read_round(self);
    }
    s_settle(self);
    return TW_OK;
}

static tw_rc_t s_on_commit(tw_loop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    s_settle(arg);
    return TW_OK;
}

/* Builds "ipc://DIR/writer.sock". */
static void s_endpoint(const tw_cfg_t *cfg, char *out, size_t cap)
{
    const char *dir = getenv(TW_ENV_RUNTIME_DIR);
    if (!dir || !*dir)
        dir = cfg->supervisor.runtime_dir;
    snprintf(out, cap, "ipc://%s/writer.sock", dir);
}

/* True when list holds s. */
static bool s_has(const tw_cfg_strv_t *list, const char *s)
{
    for (size_t i = 0; i < list->len; i++)
        if (strcmp(list->v[i], s) == 0)
            return true;
    return false;
}

int main(void)
{
    tw_log_init("tw-writer");
    /* A write over RLIMIT_FSIZE must fail with EFBIG, not kill us. */
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    tw_err_t err = {0};
    s_writer_t self = {0};
    tw_rc_t rc = tw_worker_new(&self.w, "writer", &err);
    if (rc != TW_OK) {
        tw_log_error("%s", err.msg);
        return tw_rc_exit(rc);
    }
    const tw_cfg_t *cfg = tw_worker_cfg(self.w);
    self.fsync_interval_ms = cfg->writer.fsync_interval_ms;
    if (self.fsync_interval_ms > S_FSYNC_INTERVAL_MAX_MS) {
        /* acks later than the senders' ack timeout only cause resends */
        tw_log_warn("fsync_interval %" PRIu64 " ms is above %d ms: using %d",
                    self.fsync_interval_ms, S_FSYNC_INTERVAL_MAX_MS,
                    S_FSYNC_INTERVAL_MAX_MS);
        self.fsync_interval_ms = S_FSYNC_INTERVAL_MAX_MS;
    }
    writer_store_opts_t o = {0};
    const char *data = getenv(TW_ENV_DATA_DIR);
    o.data_dir = data && *data ? data : cfg->supervisor.data_dir;
    o.timezone = cfg->supervisor.timezone;
    o.jsonl = s_has(&cfg->writer.formats, "jsonl");
    self.st = writer_store_open(&o, &err);
    if (!self.st) {
        tw_log_error("cannot open the store in %s: %s", o.data_dir, err.msg);
        tw_worker_destroy(&self.w);
        return TW_EXIT_TEMP;
    }
    char ep[4200];
    s_endpoint(cfg, ep, sizeof ep);
    rc = tw_deliver_receiver_new(&self.rx, tw_worker_zctx(self.w), ep, "writer",
                                 tw_worker_epoch(self.w), &err);
    if (rc != TW_OK) {
        tw_log_error("cannot bind %s: %s", ep, err.msg);
        writer_store_destroy(&self.st);
        tw_worker_destroy(&self.w);
        return tw_rc_exit(rc);
    }
    tw_log_info("writing to %s (%zu keys indexed), listening on %s%s",
                o.data_dir, writer_store_index_size(self.st), ep,
                o.jsonl ? ", with jsonl" : "");
    self.loop = tw_loop_new();
    if (!self.loop)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    self.retry_timer = tw_loop_add_timer(self.loop, 0, 0, s_on_retry, &self);
    self.commit_timer = tw_loop_add_timer(self.loop, 0, 0, s_on_commit, &self);
    if (self.retry_timer < 0 || self.commit_timer < 0)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    tw_loop_rearm_timer(self.loop, self.retry_timer, -1);
    tw_loop_rearm_timer(self.loop, self.commit_timer, -1);
    rc = tw_worker_attach(self.w, self.loop);
    if (rc == TW_OK)
        rc = tw_deliver_attach(self.rx, self.loop, s_on_rx, &self);
    if (rc != TW_OK)
        tw_log_fatal(tw_rc_exit(rc), "unable to start the loop: %s",
                     tw_rc_str(rc));
    tw_worker_ready(self.w);
    rc = tw_loop_run(self.loop);
    if (rc != TW_OK)
        tw_log_error("event loop: %s", tw_rc_str(rc));
    /* Stop: make durable and ack what was stored; a held frame stays
     * unacked (its sender resends it to the next incarnation). */
    s_commit(&self);
    if (self.have_held)
        tw_proto_clear(&self.held);
    tw_log_info("stopping: %" PRIu64 " rows written, %" PRIu64
                " duplicates, %" PRIu64 " invalid",
                self.rows, self.dups, self.n_invalid);
    tw_deliver_destroy(&self.rx);
    writer_store_destroy(&self.st);
    tw_worker_destroy(&self.w);
    tw_loop_destroy(&self.loop);
    return TW_EXIT_OK;
}
