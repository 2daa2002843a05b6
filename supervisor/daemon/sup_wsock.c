/* sup_wsock - the workers' socket (sup.sock) of tubewatchd. */
#include "sup_wsock.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sup_log.h"
#include "tw_log.h"
#include "tw_proto.h"
#include "tw_time.h"
#include "tw_worker.h"

struct sup_wsock {
    sup_runtime_t *rt;       /* sockets (borrowed) */
    void *router;            /* ROUTER sup.sock (borrowed from rt) */
    sup_table_t *table;      /* children (borrowed) */
    const sup_ops_t *ops;    /* state machine callbacks (borrowed) */
    sup_wsock_hooks_t hooks; /* the daemon's answers */
    uint64_t bad_msgs;       /* malformed frames dropped */
};

sup_wsock_t *sup_wsock_new(sup_runtime_t *rt, sup_table_t *table,
                           const sup_ops_t *ops, const sup_wsock_hooks_t *hooks)
{
    assert(rt);
    assert(table);
    assert(ops);
    assert(hooks);
    sup_wsock_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->rt = rt;
    self->router = sup_runtime_worker_sock(rt);
    self->table = table;
    self->ops = ops;
    self->hooks = *hooks;
    return self;
}

void sup_wsock_destroy(sup_wsock_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

uint64_t sup_wsock_bad_msgs(const sup_wsock_t *self)
{
    assert(self);
    return self->bad_msgs;
}

void sup_wsock_stop(sup_wsock_t *self, const sup_child_t *c, uint32_t grace_ms)
{
    assert(self);
    assert(c);
    const char *name = sup_child_name(c);
    tw_msg_t m = {.id = TW_MSG_STOP, .epoch = sup_child_epoch(c)};
    snprintf(m.src, sizeof m.src, "tubewatchd");
    m.u.stop.grace_ms = grace_ms;
    char *buf = NULL;
    size_t n = 0;
    if (tw_proto_encode(&m, &buf, &n, NULL) == TW_OK &&
        zmq_send(self->router, name, strlen(name),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(self->router, buf, n, ZMQ_DONTWAIT);
    free(buf);
}

static void s_on_drift(sup_wsock_t *self, const char *ident, const tw_msg_t *m,
                       const void *raw, size_t rawlen)
{
    const tw_msg_drift_t *d = &m->u.drift;
    sup_child_t *dc = sup_table_find(self->table, ident);
    tw_log_warn("drift from %s: %s: %" PRIu32 " in %" PRIu64 " s: %s", ident,
                d->source, d->count, d->window_ms / 1000, d->what);
    bool publish = true;
    if (dc) {
        char text[240];
        snprintf(text, sizeof text,
                 "%s: %" PRIu32 " answers not understood in %" PRIu64
                 " s; latest: %s",
                 d->source, d->count, d->window_ms / 1000, d->what);
        publish = sup_child_drift_report(dc, d->source, text, d->window_ms,
                                         tw_time_now_us());
        if (sup_child_log(dc))
            sup_log_note(sup_child_log(dc), "drift: %s", text);
    }
    if (publish)
        sup_runtime_publish(self->rt, "drift", raw, rawlen);
}

static void s_on_spawn_request(sup_wsock_t *self, const char *ident,
                               const tw_msg_spawn_request_t *r)
{
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = TW_ERR_STATE;
    if (self->hooks.shutting_down(self->hooks.ctx))
        tw_err_set(&err, "tubewatchd is shutting down");
    else
        rc = sup_table_spawn(self->table, self->ops, r->template, r->instance,
                             r->not_before_us, &err);
    if (rc != TW_OK)
        tw_log_warn("spawn.request from %s for %.32s@%.64s refused: %s", ident,
                    r->template, r->instance, err.msg);
}

static void s_on_msg(sup_wsock_t *self, const char *ident, const tw_msg_t *m,
                     const void *raw, size_t rawlen)
{
    if (m->id == TW_MSG_STREAM_EVENT) {
        const tw_msg_stream_event_t *e = &m->u.stream_event;
        tw_log_info("stream.event from %s: %s %s", ident, e->video_id,
                    tw_proto_stream_state_str(e->state));
        sup_runtime_publish(self->rt, "stream.event", raw, rawlen);
        return;
    }
    if (m->id == TW_MSG_DRIFT) {
        s_on_drift(self, ident, m, raw, rawlen);
        return;
    }
    if (m->id == TW_MSG_SPAWN_REQUEST) {
        s_on_spawn_request(self, ident, &m->u.spawn_request);
        return;
    }
    sup_child_t *c = sup_table_find(self->table, ident);
    if (!c || !sup_child_alive(c) || m->epoch != sup_child_epoch(c)) {
        tw_log_debug("ignoring %s from %s (not a current incarnation)",
                     tw_proto_name(m->id), ident);
        return;
    }
    int64_t now = tw_time_mono_ms();
    if (m->id == TW_MSG_HELLO) {
        sup_child_hello(self->ops, c, now);
    } else if (m->id == TW_MSG_HEARTBEAT) {
        const tw_msg_heartbeat_t *h = &m->u.heartbeat;
        uint32_t skipped = sup_child_beat(c, now, h->msgs_in, h->msgs_out,
                                          h->errors, &h->gauges);
        if (skipped > 0)
            tw_log_debug("%s: %" PRIu32 " unknown heartbeat value(s) ignored",
                         ident, skipped);
    }
}

/* Reads the frames after an envelope's last one: true when the message
 * was [identity, body] exactly; extra frames are drained. */
static bool s_recv_body(void *router, zmq_msg_t *id, zmq_msg_t *body)
{
    bool ok = zmq_msg_more(id) && zmq_msg_recv(body, router, ZMQ_DONTWAIT) >= 0;
    while (zmq_msg_more(ok ? body : id)) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        int r = zmq_msg_recv(&extra, router, ZMQ_DONTWAIT);
        bool more = r >= 0 && zmq_msg_more(&extra);
        zmq_msg_close(&extra);
        ok = false;
        if (!more)
            break;
    }
    return ok;
}

void sup_wsock_run(sup_wsock_t *self, int max_msgs)
{
    assert(self);
    for (int turn = 0; turn < max_msgs; turn++) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, self->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return;
        }
        zmq_msg_init(&body);
        bool ok = s_recv_body(self->router, &id, &body);
        char ident[TW_WORKER_NAME_MAX];
        size_t il = zmq_msg_size(&id);
        tw_err_t err = {{0}, 0, 0};
        if (ok && il > 0 && il < sizeof ident) {
            memcpy(ident, zmq_msg_data(&id), il);
            ident[il] = '\0';
            tw_msg_t m;
            if (tw_proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &m,
                                &err) == TW_OK) {
                s_on_msg(self, ident, &m, zmq_msg_data(&body),
                         zmq_msg_size(&body));
                tw_proto_clear(&m);
            } else {
                ok = false;
            }
        } else {
            ok = false;
        }
        if (!ok) {
            self->bad_msgs++;
            /* Powers of two keep a spamming peer from flooding the log. */
            if ((self->bad_msgs & (self->bad_msgs - 1)) == 0)
                tw_log_warn("dropped %" PRIu64 " malformed worker frames "
                            "(last: %s)",
                            self->bad_msgs, err.msg[0] ? err.msg : "framing");
        }
        zmq_msg_close(&id);
        zmq_msg_close(&body);
    }
}
