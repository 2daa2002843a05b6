/* tw_worker - a worker's side of the supervisor protocol (env, HELLO,
 * heartbeats, STOP, spawn.request, stream.event). */
#define _GNU_SOURCE
#include "tw_worker.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "tw_drift.h"
#include "tw_log.h"
#include "tw_metric.h"
#include "tw_signal.h"

struct tw_worker {
    tw_cfg_t *cfg;                         /* loaded config (owned) */
    const tw_cfg_worker_t *section;        /* [worker.NAME] or NULL */
    char name[TW_WORKER_NAME_MAX];         /* TUBEWATCH_WORKER */
    char instance[TW_WORKER_INSTANCE_MAX]; /* TUBEWATCH_INSTANCE */
    uint64_t epoch;                        /* TUBEWATCH_EPOCH */
    char kind[32];                         /* worker kind */
    void *zctx;                            /* ZeroMQ context (owned) */
    void *sup;                             /* DEALER to tubewatchd (owned) */
    int sigfd;                             /* signalfd for TERM/INT */
    bool stopping;                         /* stop requested */
    uint64_t seq;                          /* next message seq */
    uint64_t msgs_in;                      /* counters for heartbeats */
    uint64_t msgs_out;                     /* counters for heartbeats */
    uint64_t errors;                       /* counters for heartbeats */
    int64_t hb_interval_ms;                /* heartbeat period */
    int64_t next_hb_ms;                    /* monotonic time of next one */
    tw_drift_t *drift;                     /* drift counters (lazy) */
    tw_metric_set_t metrics;               /* named values for heartbeats */
    tw_loop_t *loop;                       /* attached loop, or NULL */
    int hb_timer;                          /* heartbeat timer on loop */
    tw_worker_beat_fn *beat_fn;            /* called before a heartbeat */
    void *beat_arg;                        /* its argument */
};

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool tw_worker_valid_instance(const char *id)
{
    if (!id)
        return false;
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok || n + 1 >= TW_WORKER_INSTANCE_MAX)
            return false;
    }
    return n > 0;
}

/* ---- the worker object ---- */

static void s_copy_env(const char *name, char *out, size_t cap)
{
    const char *v = getenv(name);
    snprintf(out, cap, "%s", v ? v : "");
}

tw_rc_t tw_worker_new(tw_worker_t **self_p, const char *kind, tw_err_t *err)
{
    assert(self_p);
    assert(kind);
    *self_p = NULL;
    tw_worker_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    tw_rc_t rc = TW_ERR_IO;
    self->sigfd = -1;
    snprintf(self->kind, sizeof self->kind, "%s", kind);
    s_copy_env(TW_ENV_WORKER, self->name, sizeof self->name);
    if (!self->name[0])
        snprintf(self->name, sizeof self->name, "%s", kind);
    s_copy_env(TW_ENV_INSTANCE, self->instance, sizeof self->instance);
    const char *ep = getenv(TW_ENV_EPOCH);
    self->epoch = ep ? strtoull(ep, NULL, 10) : 0;
    const char *cfgpath = getenv(TW_ENV_CONFIG);
    if (!cfgpath || !*cfgpath) {
        tw_err_set(err, "%s is not set (run me under tubewatchd)",
                   TW_ENV_CONFIG);
        rc = TW_ERR_CONFIG;
        goto fail;
    }
    tw_cfg_problem_t *problems = NULL;
    size_t nproblems = 0;
    self->cfg = tw_cfg_load(cfgpath, &problems, &nproblems);
    if (!self->cfg) {
        tw_err_set(err, "unable to load %s: %s", cfgpath,
                   nproblems ? problems[0].msg : "invalid");
        /* a file that could not be read now (EMFILE, EIO) is retried */
        rc = tw_cfg_problems_temporary(problems, nproblems) ? TW_ERR_IO
                                                            : TW_ERR_CONFIG;
        free(problems);
        goto fail;
    }
    free(problems);
    char section[TW_WORKER_NAME_MAX];
    snprintf(section, sizeof section, "%s", self->name);
    char *at = strchr(section, '@');
    if (at)
        *at = '\0';
    self->section = tw_cfg_worker(self->cfg, section);
    uint64_t wd = self->section ? self->section->watchdog_timeout_ms : 0;
    self->hb_interval_ms = wd ? (int64_t)(wd / 4) : 5000;
    if (self->hb_interval_ms < 50)
        self->hb_interval_ms = 50;
    if (self->hb_interval_ms > 5000)
        self->hb_interval_ms = 5000;

    /* Blocked before the ZeroMQ threads start, so they inherit the mask;
     * a foreign thread's catch is forwarded (tw_signal.h). */
    static const int sigs[] = {SIGTERM, SIGINT};
    rc = tw_signal_fd(sigs, sizeof sigs / sizeof sigs[0], &self->sigfd, err);
    if (rc != TW_OK)
        goto fail;
    self->zctx = zmq_ctx_new();
    if (!self->zctx) {
        tw_err_set(err, "unable to create ZeroMQ context");
        rc = TW_ERR_AGAIN;
        goto fail;
    }
    const char *endpoint = getenv(TW_ENV_SUP_ENDPOINT);
    if (endpoint && *endpoint) {
        self->sup = zmq_socket(self->zctx, ZMQ_DEALER);
        int linger = 1000;
        zmq_setsockopt(self->sup, ZMQ_LINGER, &linger, sizeof linger);
        int hwm = 1000;
        zmq_setsockopt(self->sup, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(self->sup, ZMQ_ROUTING_ID, self->name,
                       strlen(self->name));
        if (zmq_connect(self->sup, endpoint) != 0) {
            tw_err_set(err, "unable to connect to %s: %s", endpoint,
                       zmq_strerror(zmq_errno()));
            rc = TW_ERR_NET;
            goto fail;
        }
    }
    self->next_hb_ms = s_now_ms() + self->hb_interval_ms;
    *self_p = self;
    return TW_OK;
fail:
    tw_worker_destroy(&self);
    return rc;
}

void tw_worker_destroy(tw_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tw_worker_t *self = *self_p;
    if (self->loop) {
        tw_loop_remove_fd(self->loop, self->sigfd);
        if (self->sup)
            tw_loop_remove_socket(self->loop, self->sup);
        tw_loop_cancel_timer(self->loop, self->hb_timer);
    }
    if (self->sup)
        zmq_close(self->sup);
    if (self->zctx)
        zmq_ctx_term(self->zctx);
    if (self->sigfd >= 0)
        close(self->sigfd);
    tw_cfg_destroy(&self->cfg);
    tw_drift_destroy(&self->drift);
    free(self);
    *self_p = NULL;
}

const tw_cfg_t *tw_worker_cfg(const tw_worker_t *self)
{
    assert(self);
    return self->cfg;
}

const tw_cfg_worker_t *tw_worker_section(const tw_worker_t *self)
{
    assert(self);
    return self->section;
}

uint32_t tw_worker_http_timeout_ms(const tw_worker_t *self, uint64_t cfg_ms)
{
    const tw_cfg_worker_t *sec = tw_worker_section(self);
    uint64_t ms = cfg_ms ? cfg_ms : 30000;
    if (sec && sec->watchdog_timeout_ms && ms > sec->watchdog_timeout_ms / 4)
        ms = sec->watchdog_timeout_ms / 4;
    if (ms < 1000)
        ms = 1000;
    return (uint32_t)ms;
}

const char *tw_worker_name(const tw_worker_t *self)
{
    assert(self);
    return self->name;
}

const char *tw_worker_instance(const tw_worker_t *self)
{
    assert(self);
    return self->instance;
}

uint64_t tw_worker_epoch(const tw_worker_t *self)
{
    assert(self);
    return self->epoch;
}

void *tw_worker_zctx(tw_worker_t *self)
{
    assert(self);
    return self->zctx;
}

int tw_worker_signal_fd(const tw_worker_t *self)
{
    assert(self);
    return self->sigfd;
}

bool tw_worker_stopping(const tw_worker_t *self)
{
    assert(self);
    return self->stopping;
}

/* Sends one message to the supervisor without blocking. */
static tw_rc_t s_send(tw_worker_t *self, tw_msg_t *msg)
{
    if (!self->sup)
        return TW_OK;
    snprintf(msg->src, sizeof msg->src, "%s", self->name);
    msg->epoch = self->epoch;
    msg->seq = 0; /* control messages are not sequenced */
    char *buf = NULL;
    size_t n = 0;
    tw_rc_t rc = tw_proto_encode(msg, &buf, &n, NULL);
    if (rc != TW_OK)
        return rc;
    if (zmq_send(self->sup, buf, n, ZMQ_DONTWAIT) < 0)
        rc = TW_ERR_AGAIN;
    free(buf);
    return rc;
}

tw_rc_t tw_worker_send(tw_worker_t *self, tw_msg_t *msg)
{
    assert(self);
    assert(msg);
    return s_send(self, msg);
}

void tw_worker_on_beat(tw_worker_t *self, tw_worker_beat_fn *fn, void *arg)
{
    assert(self);
    self->beat_fn = fn;
    self->beat_arg = arg;
}

void tw_worker_service(tw_worker_t *self)
{
    assert(self);
    struct signalfd_siginfo si;
    while (read(self->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
        self->stopping = true;
    while (self->sup) {
        unsigned char buf[2048];
        int n = zmq_recv(self->sup, buf, sizeof buf, ZMQ_DONTWAIT);
        if (n < 0)
            break;
        tw_msg_t msg;
        if ((size_t)n <= sizeof buf &&
            tw_proto_decode(buf, (size_t)n, &msg, NULL) == TW_OK) {
            if (msg.id == TW_MSG_STOP)
                self->stopping = true;
            tw_proto_clear(&msg);
        }
    }
    if (s_now_ms() >= self->next_hb_ms)
        tw_worker_heartbeat(self);
}

tw_rc_t tw_worker_ready(tw_worker_t *self)
{
    assert(self);
    tw_msg_t msg = {.id = TW_MSG_HELLO};
    msg.u.hello.kind = self->kind;
    msg.u.hello.pid = (uint32_t)getpid();
    return s_send(self, &msg);
}

void tw_worker_count(tw_worker_t *self, uint64_t in, uint64_t out,
                     uint64_t errors)
{
    assert(self);
    self->msgs_in += in;
    self->msgs_out += out;
    self->errors += errors;
}

tw_rc_t tw_worker_heartbeat(tw_worker_t *self)
{
    assert(self);
    if (self->beat_fn)
        self->beat_fn(self, self->beat_arg);
    self->next_hb_ms = s_now_ms() + self->hb_interval_ms;
    tw_msg_t msg = {.id = TW_MSG_HEARTBEAT};
    msg.u.heartbeat.worker = self->name;
    msg.u.heartbeat.pid = (uint32_t)getpid();
    msg.u.heartbeat.msgs_in = self->msgs_in;
    msg.u.heartbeat.msgs_out = self->msgs_out;
    msg.u.heartbeat.errors = self->errors;
    tw_gauge_t gauges[TW_METRIC_MAX];
    tw_metric_set_to_list(&self->metrics, gauges, &msg.u.heartbeat.gauges);
    return s_send(self, &msg);
}

tw_rc_t tw_worker_gauge(tw_worker_t *self, const char *name, int64_t value)
{
    assert(self);
    assert(name);
    return tw_metric_set_put(&self->metrics, name, value);
}

tw_rc_t tw_worker_spawn_request(tw_worker_t *self, const char *tmpl,
                                const char *instance, int64_t not_before)
{
    assert(self);
    assert(tmpl);
    assert(instance);
    if (!tw_worker_valid_instance(instance) || strlen(tmpl) >= 32 ||
        strchr(tmpl, '@'))
        return TW_ERR_INVALID;
    tw_msg_t msg = {.id = TW_MSG_SPAWN_REQUEST};
    msg.u.spawn_request.template = (char *)tmpl;
    msg.u.spawn_request.instance = (char *)instance;
    msg.u.spawn_request.not_before_us = not_before;
    return s_send(self, &msg);
}

tw_rc_t tw_worker_stream_event(tw_worker_t *self,
                               const tw_msg_stream_event_t *ev)
{
    assert(self);
    assert(ev);
    tw_msg_t msg = {.id = TW_MSG_STREAM_EVENT};
    msg.u.stream_event = *ev;
    return s_send(self, &msg);
}

static void s_drift_send(tw_worker_t *self, const tw_drift_alarm_t *alarm);

bool tw_worker_drift(tw_worker_t *self, const char *source, const char *what,
                     uint32_t n)
{
    assert(self);
    assert(source);
    if (n == 0)
        return false;
    if (!self->drift) {
        const tw_cfg_youtube_t *yt = &self->cfg->youtube;
        uint32_t thr = yt->drift_threshold ? yt->drift_threshold : 1;
        uint64_t win = yt->drift_window_ms ? yt->drift_window_ms : 1;
        self->drift = tw_drift_new(thr, win);
        if (!self->drift)
            return false;
    }
    tw_drift_alarm_t a;
    if (!tw_drift_note(self->drift, source, what, n, s_now_ms(), &a))
        return false;
    s_drift_send(self, &a);
    return true;
}

void tw_worker_drift_alarm(tw_worker_t *self, const char *source,
                           const char *what, uint32_t n)
{
    assert(self);
    assert(source);
    tw_drift_alarm_t a = {0};
    snprintf(a.source, sizeof a.source, "%s", source);
    snprintf(a.what, sizeof a.what, "%s", what ? what : "");
    a.count = n;
    a.window_ms = self->cfg->youtube.drift_window_ms;
    s_drift_send(self, &a);
}

static void s_drift_send(tw_worker_t *self, const tw_drift_alarm_t *a)
{
    tw_log_warn("drift: %s: %" PRIu32 " answers not understood within %" PRIu64
                " s; latest: %s",
                a->source, a->count, a->window_ms / 1000, a->what);
    tw_msg_t msg = {.id = TW_MSG_DRIFT};
    msg.u.drift.worker = self->name;
    msg.u.drift.source = (char *)a->source;
    msg.u.drift.what = (char *)a->what;
    msg.u.drift.count = a->count;
    msg.u.drift.window_ms = a->window_ms;
    tw_rc_t rc = s_send(self, &msg);
    if (rc != TW_OK)
        tw_log_warn("unable to report drift to tubewatchd: %s", tw_rc_str(rc));
}

/* ---- on a loop ---- */

static tw_rc_t s_on_ready(tw_loop_t *loop, void *sock, int fd, short revents,
                          void *arg)
{
    (void)sock;
    (void)fd;
    (void)revents;
    tw_worker_t *self = arg;
    tw_worker_service(self);
    if (self->stopping)
        tw_loop_stop(loop);
    return TW_OK;
}

static tw_rc_t s_on_heartbeat(tw_loop_t *loop, int id, void *arg)
{
    tw_worker_t *self = arg;
    int64_t now = s_now_ms();
    if (now >= self->next_hb_ms)
        tw_worker_heartbeat(self);
    /* A heartbeat sent in between (tw_worker_heartbeat) moved the next. */
    tw_loop_rearm_timer(loop, id, self->next_hb_ms - now);
    return TW_OK;
}

tw_rc_t tw_worker_attach(tw_worker_t *self, tw_loop_t *loop)
{
    assert(self);
    assert(loop);
    if (self->loop)
        return TW_ERR_STATE;
    tw_rc_t rc =
        tw_loop_add_fd(loop, self->sigfd, ZMQ_POLLIN, s_on_ready, self);
    if (rc == TW_OK && self->sup) {
        rc = tw_loop_add_socket(loop, self->sup, ZMQ_POLLIN, s_on_ready, self);
        if (rc != TW_OK)
            tw_loop_remove_fd(loop, self->sigfd);
    }
    if (rc != TW_OK)
        return rc;
    int64_t left = self->next_hb_ms - s_now_ms();
    self->hb_timer =
        tw_loop_add_timer(loop, left < 0 ? 0 : left, 0, s_on_heartbeat, self);
    if (self->hb_timer < 0) {
        tw_loop_remove_fd(loop, self->sigfd);
        if (self->sup)
            tw_loop_remove_socket(loop, self->sup);
        return TW_ERR_NOMEM;
    }
    self->loop = loop;
    if (self->stopping)
        tw_loop_stop(loop);
    return TW_OK;
}
