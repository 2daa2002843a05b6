/* tw-notifier - turns stats.sample, stream.event, notice and supervisor
 * worker events into Telegram messages (docs/notifier.md).
 *
 * Exit codes: 0 stopped (SIGTERM/STOP), 100 bad config (bot token
 * refused), 111 temporary failure (state dir, sockets). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "notifier_outbox.h"
#include "notifier_rules.h"
#include "tw_deliver.h"
#include "tw_file.h"
#include "tw_log.h"
#include "tw_loop.h"
#include "tw_proto.h"
#include "tw_telegram.h"
#include "tw_time.h"
#include "tw_worker.h"

/* Most received frames handled before the values are saved and acked. */
#define S_BATCH 64

/* A receiver frame waiting for its ack. */
typedef struct {
    char src[TW_PROTO_SRC_MAX + 1]; /* sender */
    uint64_t epoch;                 /* its incarnation */
    uint64_t seq;                   /* highest seq to ack */
} s_ack_t;

/* The worker. */
typedef struct {
    tw_worker_t *w;            /* supervisor link */
    const tw_cfg_t *cfg;       /* config (borrowed from w) */
    notifier_rules_t *rules;   /* rule engine */
    notifier_outbox_t *outbox; /* journals and sending; NULL = no token */
    tw_telegram_t *tg;         /* Bot API client; NULL = no token */
    tw_deliver_t *rx;          /* notifier.sock receiver */
    void *sub;                 /* events.sock subscriber */
    char values_path[4096];    /* STATE/notifier/values.tsv */
    s_ack_t acks[S_BATCH];     /* acks due after the next save */
    size_t nacks;              /* how many */
    uint64_t in;               /* messages received */
    uint64_t out;              /* notes queued */
    uint64_t errors;           /* errors */
    uint64_t failed_seen;      /* outbox retried + dropped counted so far */
    tw_loop_t *loop;           /* the event loop */
    int outbox_timer;          /* due when the outbox has something due */
    bool unsaved;              /* the last save of the values failed */
    bool untrimmed;            /* the last trim of the outbox failed */
} s_notifier_t;

static tw_rc_t s_send(void *arg, const char *chat_id, const char *text,
                      bool html, tw_telegram_result_t *res)
{
    s_notifier_t *n = arg;
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = tw_telegram_send(n->tg, chat_id, text, html, res, &err);
    if (rc == TW_OK && res->status == TW_TELEGRAM_OK)
        tw_log_debug("sent message %" PRId64 " to %s", res->message_id,
                     chat_id);
    return rc;
}

static double s_env_rate(const char *name, double def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    double d = strtod(v, NULL);
    return d > 0 ? d : def;
}

/* Queues every note (journaled) unless notifications are off. */
static void s_queue(s_notifier_t *n, notifier_notes_t *notes)
{
    for (size_t i = 0; i < notes->n; i++) {
        const notifier_note_t *nt = &notes->v[i];
        if (!n->outbox) {
            tw_log_info("(telegram off) would send to %s: %s", nt->chat_id,
                        nt->text);
            continue;
        }
        tw_err_t err = {{0}, 0, 0};
        /* a failed append is cut off again: try again before giving up
         * (an exit would resend what was sent but not yet trimmed) */
        tw_rc_t rc = TW_ERR_IO;
        for (int attempt = 0; attempt < 3 && rc != TW_OK; attempt++) {
            if (attempt > 0)
                tw_log_warn("unable to queue a message for %s (retrying): %s",
                            nt->chat_id, err.msg);
            rc = notifier_outbox_add(n->outbox, nt->chat_id, nt->text, nt->key,
                                     &err);
        }
        if (rc != TW_OK) {
            /* the cause is not acked: it comes again after the restart */
            tw_log_fatal(TW_EXIT_TEMP, "unable to queue a message for %s: %s",
                         nt->chat_id, err.msg[0] ? err.msg : tw_rc_str(rc));
        }
        n->out++;
    }
    notifier_notes_clear(notes);
}

/* Saves the values when they changed; false when that failed (logged):
 * nothing is acked or trimmed until a later save succeeds, and the process
 * keeps what it sent in memory, so nothing is announced twice. */
static bool s_save_values(s_notifier_t *n)
{
    /* saving clears the dirty mark, even when the write then fails */
    if (!notifier_rules_dirty(n->rules) && !n->unsaved)
        return true;
    /* videos silent for 90 days (no samples, no events) are forgotten */
    size_t gone = notifier_rules_prune(n->rules, 90LL * 86400 * 1000000);
    if (gone)
        tw_log_info("forgot %zu video(s) silent for 90 days", gone);
    size_t len = 0;
    char *text = notifier_rules_save(n->rules, &len);
    if (!text)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory saving values");
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = tw_file_write_atomic_at("notifier/values", n->values_path,
                                         text, len, 0600, &err);
    free(text);
    if (rc != TW_OK) {
        if (!n->unsaved)
            tw_log_error("unable to save the values (retrying; nothing is "
                         "acked meanwhile): %s",
                         err.msg);
        n->unsaved = true;
        n->errors++;
        return false;
    }
    if (n->unsaved)
        tw_log_info("values saved again");
    n->unsaved = false;
    return true;
}

/* Trims what was sent: its causes are durable (values saved). A failed
 * trim is said once and tried again (every 500 ms at most): what was sent
 * is out of the queue in memory, so it is not sent again while this process
 * runs; exiting instead would replay and resend it. */
static void s_commit(s_notifier_t *n)
{
    if (n->unsaved || !n->outbox)
        return;
    tw_err_t err = {{0}, 0, 0};
    if (notifier_outbox_commit(n->outbox, &err) != TW_OK) {
        if (!n->untrimmed)
            tw_log_error("unable to trim the outbox (retrying; nothing sent "
                         "is sent again meanwhile): %s",
                         err.msg);
        n->untrimmed = true;
        n->errors++;
        return;
    }
    if (n->untrimmed)
        tw_log_info("outbox trimmed again");
    n->untrimmed = false;
}

/* Sends what is due (at most max parts). */
static void s_send_due(s_notifier_t *n, int max)
{
    if (!n->outbox)
        return;
    tw_err_t err = {{0}, 0, 0};
    if (notifier_outbox_run(n->outbox, tw_time_mono_ms(), max, NULL, &err) !=
        TW_OK)
        tw_log_fatal(TW_EXIT_TEMP, "outbox: %s", err.msg);
}

/* Saves the values, then acks what was received (durable on our side) and
 * trims what was sent. */
static void s_flush(s_notifier_t *n)
{
    if (n->nacks == 0 && !n->unsaved)
        return;
    if (!s_save_values(n))
        return;
    s_commit(n);
    for (size_t i = 0; i < n->nacks; i++) {
        tw_err_t err = {{0}, 0, 0};
        if (tw_deliver_ack(n->rx, n->acks[i].src, n->acks[i].epoch,
                           n->acks[i].seq, &err) != TW_OK)
            tw_log_warn("unable to ack %s: %s", n->acks[i].src, err.msg);
    }
    n->nacks = 0;
}

static void s_note_ack(s_notifier_t *n, const tw_msg_t *m)
{
    for (size_t i = 0; i < n->nacks; i++) {
        s_ack_t *a = &n->acks[i];
        if (strcmp(a->src, m->src) == 0 && a->epoch == m->epoch) {
            a->seq = m->seq;
            return;
        }
    }
    if (n->nacks == S_BATCH)
        s_flush(n);
    if (n->nacks == S_BATCH)
        tw_log_fatal(TW_EXIT_TEMP,
                     "unable to save the values: %zu senders "
                     "wait for their acks",
                     n->nacks);
    s_ack_t *a = &n->acks[n->nacks++];
    snprintf(a->src, sizeof a->src, "%s", m->src);
    a->epoch = m->epoch;
    a->seq = m->seq;
}

static void s_handle(s_notifier_t *n, const tw_msg_t *m)
{
    notifier_notes_t notes = {0};
    tw_rc_t rc = TW_OK;
    switch (m->id) {
    case TW_MSG_STATS_SAMPLE:
        rc = notifier_rules_sample(n->rules, &m->u.stats_sample, &notes);
        break;
    case TW_MSG_STREAM_EVENT:
        rc = notifier_rules_stream(n->rules, &m->u.stream_event, &notes);
        break;
    case TW_MSG_NOTICE:
        rc = notifier_rules_notice(n->rules,
                                   m->u.notice.kind ? m->u.notice.kind : "",
                                   m->u.notice.text, &notes);
        break;
    default:
        tw_log_debug("ignoring %s from %s", tw_proto_name(m->id), m->src);
        break;
    }
    if (rc == TW_ERR_NOMEM)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    if (rc != TW_OK) {
        n->errors++;
        tw_log_warn("%s from %s refused: %s", tw_proto_name(m->id), m->src,
                    tw_rc_str(rc));
    }
    s_queue(n, &notes);
}

/* One frame of notifier.sock. */
static bool s_on_frame(tw_msg_t *m, tw_rc_t rc, const char *why, void *arg)
{
    s_notifier_t *n = arg;
    if (rc == TW_ERR_PROTO) {
        n->errors++;
        tw_log_warn("undecodable frame from %s: %s", m->src, why);
    } else {
        n->in++;
        s_handle(n, m);
    }
    if (m->seq > 0)
        s_note_ack(n, m);
    tw_proto_clear(m);
    return true;
}

static void s_receive(s_notifier_t *n)
{
    tw_err_t err = {{0}, 0, 0};
    if (tw_deliver_recv_each(n->rx, S_BATCH * 4, s_on_frame, n, &err) !=
        TW_OK) {
        n->errors++;
        tw_log_warn("unable to receive: %s", err.msg);
    }
    /* the new messages are journaled; they are sent once the values are
     * saved (the main loop): a crash before the save replays the journal
     * and the redelivered causes find their messages' keys queued, a crash
     * after it sends them once. Sending first would send them twice. */
    s_flush(n);
}

/* events.sock: topic frame, then a proto frame. */
static void s_on_event(s_notifier_t *n)
{
    for (int k = 0; k < 64; k++) {
        char topic[64];
        int tn = zmq_recv(n->sub, topic, sizeof topic - 1, ZMQ_DONTWAIT);
        if (tn < 0)
            return;
        topic[tn < (int)sizeof topic - 1 ? tn : (int)sizeof topic - 1] = '\0';
        int more = 0;
        size_t ml = sizeof more;
        zmq_getsockopt(n->sub, ZMQ_RCVMORE, &more, &ml);
        if (!more)
            continue;
        zmq_msg_t body;
        zmq_msg_init(&body);
        if (zmq_msg_recv(&body, n->sub, 0) < 0) {
            zmq_msg_close(&body);
            return;
        }
        notifier_notes_t notes = {0};
        tw_msg_t m;
        tw_err_t err = {{0}, 0, 0};
        if (tw_proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &m,
                            &err) == TW_OK) {
            if (m.id == TW_MSG_STREAM_EVENT) {
                notifier_rules_stream(n->rules, &m.u.stream_event, &notes);
            } else if (m.id == TW_MSG_DRIFT) {
                notifier_rules_drift(n->rules, &m.u.drift, &notes);
            } else if (m.id == TW_MSG_WORKER_EVENT) {
                const tw_msg_worker_event_t *we = &m.u.worker_event;
                notifier_rules_worker(n->rules, we->worker ? we->worker : "?",
                                      we->state ? we->state : "", we->text,
                                      &notes);
            }
            tw_proto_clear(&m);
        } else {
            tw_log_debug("events.sock: %s frame not understood: %s", topic,
                         err.msg);
        }
        zmq_msg_close(&body);
        n->in += notes.n > 0;
        s_queue(n, &notes);
        if (s_save_values(n))
            s_commit(n);
    }
}

static void s_open_telegram(s_notifier_t *n, const char *state_dir)
{
    const tw_cfg_telegram_t *t = &n->cfg->telegram;
    if (!t->bot_token || !*t->bot_token) {
        tw_log_warn("[telegram] bot_token is empty: notifications are off");
        return;
    }
    n->tg = tw_telegram_new(t->base_url, t->bot_token, 5000);
    if (!n->tg)
        tw_log_fatal(TW_EXIT_TEMP, "unable to create the Telegram client");
    tw_telegram_result_t res;
    tw_err_t err = {{0}, 0, 0};
    tw_telegram_get_me(n->tg, &res, &err);
    if (res.status == TW_TELEGRAM_BAD_TOKEN)
        tw_log_fatal(TW_EXIT_USAGE,
                     "telegram: getMe: %d %s: the bot token is refused",
                     res.error_code, res.description);
    if (res.status == TW_TELEGRAM_OK)
        tw_log_info("telegram: bot @%s ready", res.username);
    else
        tw_log_warn("telegram: getMe: %s (continuing; messages wait)",
                    res.description);
    notifier_outbox_opts_t o = {
        .chat_rate = s_env_rate("TUBEWATCH_NOTIFIER_CHAT_RATE", 1),
        .global_rate = s_env_rate("TUBEWATCH_NOTIFIER_GLOBAL_RATE", 30),
        .defer_trim = true,
        .max_queue = n->cfg->notifier.outbox_max,
    };
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/outbox", state_dir) >= (int)sizeof dir)
        tw_log_fatal(TW_EXIT_USAGE, "state_dir path too long");
    tw_rc_t rc = notifier_outbox_open(&n->outbox, dir, &o, s_send, n, &err);
    if (rc != TW_OK)
        tw_log_fatal(TW_EXIT_TEMP, "unable to open the outbox %s: %s", dir,
                     err.msg);
    size_t p = notifier_outbox_pending(n->outbox);
    if (p > 0)
        tw_log_info("outbox: %zu message(s) from before the restart", p);
}

/* After any input or timer: sends what is due, trims what was sent,
 * reports counters, and keeps the outbox timer due when it says. */
static void s_after(s_notifier_t *n)
{
    s_flush(n); /* a failed save of the values is retried */
    if (!n->unsaved)
        s_send_due(n, 2);
    s_commit(n); /* everything received is saved by now */
    if (n->outbox) {
        /* failed sends and dropped messages show as heartbeat errors */
        notifier_outbox_stats_t st;
        notifier_outbox_stats(n->outbox, &st);
        n->errors += st.retried + st.dropped - n->failed_seen;
        n->failed_seen = st.retried + st.dropped;
        tw_worker_gauge(n->w, "notifications_sent_total", (int64_t)st.sent);
        tw_worker_gauge(n->w, "notifications_failed_total",
                        (int64_t)st.dropped);
    }
    int64_t due = n->outbox
                      ? notifier_outbox_timeout_ms(n->outbox, tw_time_mono_ms())
                      : -1;
    if ((n->unsaved || n->untrimmed) && (due < 0 || due > 500))
        due = 500; /* retry the save or the trim */
    tw_loop_rearm_timer(n->loop, n->outbox_timer, due);
    tw_worker_count(n->w, n->in, n->out, n->errors);
    n->in = n->out = n->errors = 0;
}

static tw_rc_t s_on_rx(tw_deliver_t *rx, void *arg)
{
    (void)rx;
    s_receive(arg);
    s_after(arg);
    return TW_OK;
}

static tw_rc_t s_on_sub(tw_loop_t *loop, void *sock, int fd, short revents,
                        void *arg)
{
    (void)loop;
    (void)sock;
    (void)fd;
    (void)revents;
    s_on_event(arg);
    s_after(arg);
    return TW_OK;
}

static tw_rc_t s_on_outbox(tw_loop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    s_after(arg);
    return TW_OK;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    tw_log_init("tw-notifier");
    s_notifier_t n;
    memset(&n, 0, sizeof n);
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = tw_worker_new(&n.w, "notifier", &err);
    if (rc != TW_OK) {
        tw_log_error("unable to start: %s", err.msg);
        return tw_rc_exit(rc);
    }
    n.cfg = tw_worker_cfg(n.w);
    const char *state = getenv(TW_ENV_STATE_DIR);
    if (!state || !*state)
        state = n.cfg->supervisor.state_dir;
    const char *runtime = getenv(TW_ENV_RUNTIME_DIR);
    if (!runtime || !*runtime)
        runtime = n.cfg->supervisor.runtime_dir;
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/%s", state, tw_worker_name(n.w)) >=
        (int)sizeof dir)
        tw_log_fatal(TW_EXIT_USAGE, "state_dir path too long");
    if (tw_file_mkdirs(dir, 0700, &err) != TW_OK)
        tw_log_fatal(TW_EXIT_TEMP, "unable to create %s: %s", dir, err.msg);
    if (snprintf(n.values_path, sizeof n.values_path, "%s/values.tsv", dir) >=
        (int)sizeof n.values_path)
        tw_log_fatal(TW_EXIT_USAGE, "state_dir path too long");

    n.rules = notifier_rules_new(n.cfg);
    if (!n.rules)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    char *text = NULL;
    size_t len = 0;
    rc = tw_file_read_all(n.values_path, 256u << 20, &text, &len, &err);
    if (rc == TW_OK) {
        size_t skipped = 0;
        notifier_rules_load(n.rules, text, len, &skipped, NULL);
        if (skipped)
            tw_log_warn("%s: %zu malformed line(s) skipped", n.values_path,
                        skipped);
        tw_log_info("%zu video(s) remembered", notifier_rules_videos(n.rules));
        free(text);
    } else if (rc != TW_ERR_NOTFOUND) {
        tw_log_fatal(TW_EXIT_TEMP, "unable to read %s: %s", n.values_path,
                     err.msg);
    }
    s_open_telegram(&n, dir);

    char ep[4200];
    if (snprintf(ep, sizeof ep, "ipc://%s/notifier.sock", runtime) >=
        (int)sizeof ep)
        tw_log_fatal(TW_EXIT_USAGE, "runtime_dir path too long");
    rc = tw_deliver_receiver_new(&n.rx, tw_worker_zctx(n.w), ep,
                                 tw_worker_name(n.w), tw_worker_epoch(n.w),
                                 &err);
    if (rc != TW_OK)
        tw_log_fatal(tw_rc_exit(rc), "unable to bind %s: %s", ep, err.msg);
    n.sub = zmq_socket(tw_worker_zctx(n.w), ZMQ_SUB);
    if (snprintf(ep, sizeof ep, "ipc://%s/events.sock", runtime) >=
        (int)sizeof ep)
        tw_log_fatal(TW_EXIT_USAGE, "runtime_dir path too long");
    if (!n.sub || zmq_connect(n.sub, ep) != 0)
        tw_log_fatal(TW_EXIT_TEMP, "unable to connect %s", ep);
    int linger = 0;
    zmq_setsockopt(n.sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(n.sub, ZMQ_SUBSCRIBE, "worker.failed", 13);
    zmq_setsockopt(n.sub, ZMQ_SUBSCRIBE, "stream.event", 12);
    zmq_setsockopt(n.sub, ZMQ_SUBSCRIBE, "drift", 5);
    tw_worker_ready(n.w);

    n.loop = tw_loop_new();
    if (!n.loop)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    n.outbox_timer = tw_loop_add_timer(n.loop, 0, 0, s_on_outbox, &n);
    if (n.outbox_timer < 0)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    rc = tw_worker_attach(n.w, n.loop);
    if (rc == TW_OK)
        rc = tw_deliver_attach(n.rx, n.loop, s_on_rx, &n);
    if (rc == TW_OK)
        rc = tw_loop_add_socket(n.loop, n.sub, ZMQ_POLLIN, s_on_sub, &n);
    if (rc != TW_OK)
        tw_log_fatal(tw_rc_exit(rc), "unable to start the loop: %s",
                     tw_rc_str(rc));
    rc = tw_loop_run(n.loop);
    if (rc != TW_OK)
        tw_log_error("event loop: %s", tw_rc_str(rc));
    /* a failed save at the end would resend what was sent since the last
     * one: try a few times (within the stop grace) */
    for (int attempt = 0; attempt < 10; attempt++) {
        if (attempt > 0)
            nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
        s_flush(&n);
        if (s_save_values(&n)) {
            s_commit(&n);
            if (!n.untrimmed)
                break;
        }
    }
    if (n.unsaved)
        tw_log_error("stopping with unsaved values: what was sent since the "
                     "last save is sent again at the next start");
    else if (n.untrimmed)
        tw_log_error("stopping with an untrimmed outbox: what was sent since "
                     "the last trim is sent again at the next start");
    if (n.outbox && notifier_outbox_pending(n.outbox) > 0)
        tw_log_info("stopping with %zu message(s) in the outbox",
                    notifier_outbox_pending(n.outbox));
    zmq_close(n.sub);
    tw_deliver_destroy(&n.rx);
    notifier_outbox_destroy(&n.outbox);
    tw_telegram_destroy(&n.tg);
    notifier_rules_destroy(&n.rules);
    tw_worker_destroy(&n.w);
    tw_loop_destroy(&n.loop);
    return TW_EXIT_OK;
}
