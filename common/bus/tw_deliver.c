/* tw_deliver - acked, credited, deduplicated delivery over DEALER/ROUTER.
 *
 * Protocol (docs/protocol.md): the sender starts every (re)transmission of
 * its window with SYNC{first}, first = its lowest unacked seq: the receiver
 * learns where the sender's stream of (src, epoch) stands and accepts frames
 * only in order from there. The receiver answers ACK{src, epoch, seq,
 * resync} with its own epoch in the envelope; a changed receiver epoch or
 * resync = true makes the sender send SYNC and its whole window again. */
#include "tw_deliver.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "tw_journal.h"
#include "tw_log.h"
#include "tw_time.h"

/* Least time between two resends triggered by resync requests, and between
 * two resync requests of a receiver to one sender. */
#define RESYNC_MIN_MS 100
/* Tick period while frames wait for room in the socket. */
#define RETRY_MS 10

enum { ROLE_SENDER = 1, ROLE_RECEIVER = 2 };

/* One unacked frame of a sender. */
typedef struct {
    uint64_t seq; /* its seq */
    uint64_t jid; /* its journal id, 0 when not journaled */
    char *buf;    /* encoded frame */
    size_t len;   /* frame length */
} s_entry_t;

/* What a receiver knows about one sender. */
typedef struct {
    char src[TW_PROTO_SRC_MAX + 1]; /* sender's name */
    unsigned char rid[256];         /* its ZMQ routing id */
    size_t rid_len;                 /* routing id length */
    uint64_t epoch;                 /* sender's current epoch */
    bool synced;                    /* got SYNC for this epoch */
    uint64_t last;                  /* last seq delivered to the caller */
    uint64_t acked;                 /* last seq acked by the caller */
    uint64_t owed;                  /* done, ack not sent yet (0 = none) */
    int64_t resync_ms;              /* when we last asked for a resync */
    int64_t seen_ms;                /* when its last frame came */
} s_peer_t;

struct tw_deliver {
    int role;                        /* ROLE_SENDER or ROLE_RECEIVER */
    void *ctx;                       /* ZMQ context */
    bool own_ctx;                    /* ctx was created here */
    void *sock;                      /* DEALER or ROUTER */
    char name[TW_PROTO_SRC_MAX + 1]; /* src of our frames */
    uint64_t epoch;                  /* our incarnation */
    tw_deliver_stats_t stats;        /* counters */
    /* sender */
    s_entry_t *q;            /* unacked frames q[head..n), seq order */
    size_t head;             /* first unacked */
    size_t n;                /* end of the queue */
    size_t cap;              /* allocated entries */
    size_t unsent;           /* index of the first frame not yet written */
    bool sync_pending;       /* a SYNC must precede the next frame */
    uint64_t next_seq;       /* seq of the next new frame */
    uint64_t acked_seq;      /* highest seq acked by the receiver */
    uint64_t peer_epoch;     /* receiver's epoch, 0 = not known yet */
    uint32_t window;         /* credit */
    uint32_t ack_timeout_ms; /* resend after this without progress */
    uint32_t probe_ms;       /* probe after this without progress */
    int64_t progress_ms;     /* last ack progress (or first send) */
    int64_t probe_at_ms;     /* last probe */
    int64_t resend_ms;       /* last resend of the window, 0 = never */
    tw_journal_t *journal;   /* on-disk copy of unacked frames, or NULL */
    /* receiver */
    s_peer_t *peers;      /* known senders */
    size_t npeers;        /* used entries */
    size_t pcap;          /* allocated entries */
    size_t max_peers;     /* forget idle peers beyond this many */
    int64_t peer_idle_ms; /* a peer is idle after this long */
    /* on a loop (tw_deliver_attach) */
    tw_loop_t *loop;   /* the loop, NULL when not attached */
    tw_deliver_fn *fn; /* the caller's callback */
    void *fn_arg;      /* its argument */
    int timer;         /* resend/probe/retry timer on loop */
    bool paused;       /* receiver: not reading (tw_deliver_pause) */
};

static void s_rearm(tw_deliver_t *self);

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t s_wall_us(void)
{
    return (uint64_t)tw_time_now_us();
}

static tw_rc_t s_zerr(tw_err_t *err, const char *what, const char *arg)
{
    tw_err_set(err, "unable to %s %s: %s", what, arg, zmq_strerror(errno));
    return TW_ERR_NET;
}

/* Creates the socket (and context when zctx is NULL). */
static tw_rc_t s_init(tw_deliver_t *self, void *zctx, int type, tw_err_t *err)
{
    self->ctx = zctx;
    if (!self->ctx) {
        self->ctx = zmq_ctx_new();
        if (!self->ctx)
            return s_zerr(err, "create", "a ZMQ context");
        self->own_ctx = true;
    }
    self->sock = zmq_socket(self->ctx, type);
    if (!self->sock)
        return s_zerr(err, "create", "a ZMQ socket");
    int zero = 0;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero);
    return TW_OK;
}

void tw_deliver_destroy(tw_deliver_t **self_p)
{
    assert(self_p);
    tw_deliver_t *self = *self_p;
    if (!self)
        return;
    if (self->loop) {
        tw_loop_remove_socket(self->loop, self->sock);
        tw_loop_cancel_timer(self->loop, self->timer);
    }
    if (self->sock)
        zmq_close(self->sock);
    if (self->own_ctx)
        zmq_ctx_term(self->ctx);
    for (size_t i = self->head; i < self->n; i++)
        free(self->q[i].buf);
    free(self->q);
    free(self->peers);
    tw_journal_destroy(&self->journal);
    free(self);
    *self_p = NULL;
}

void *tw_deliver_socket(tw_deliver_t *self)
{
    assert(self);
    return self->sock;
}

void tw_deliver_stats(const tw_deliver_t *self, tw_deliver_stats_t *stats)
{
    assert(self);
    assert(stats);
    *stats = self->stats;
}

/* Sends one frame (with a routing id frame first when rid is set); returns
 * TW_OK, TW_ERR_AGAIN when the socket is full, TW_ERR_NET otherwise. */
static tw_rc_t s_send_frame(tw_deliver_t *self, const void *rid, size_t rid_len,
                            const void *buf, size_t len)
{
    if (rid &&
        zmq_send(self->sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return errno == EAGAIN ? TW_ERR_AGAIN : TW_ERR_NET;
    if (zmq_send(self->sock, buf, len, ZMQ_DONTWAIT) < 0)
        return errno == EAGAIN ? TW_ERR_AGAIN : TW_ERR_NET;
    return TW_OK;
}

/* ---- sender ---- */

static size_t s_qlen(const tw_deliver_t *self)
{
    return self->n - self->head;
}

static bool s_qpush(tw_deliver_t *self, s_entry_t e)
{
    if (self->n == self->cap) {
        if (self->head > 0) {
            memmove(self->q, self->q + self->head,
                    s_qlen(self) * sizeof *self->q);
            self->unsent -= self->head;
            self->n -= self->head;
            self->head = 0;
        }
        if (self->n == self->cap) {
            size_t cap = self->cap ? self->cap * 2 : 64;
            s_entry_t *q = realloc(self->q, cap * sizeof *q);
            if (!q)
                return false;
            self->q = q;
            self->cap = cap;
        }
    }
    self->q[self->n++] = e;
    return true;
}

/* Queues SYNC and every unacked frame for sending again. */
static void s_resend_all(tw_deliver_t *self, int64_t now)
{
    self->stats.resent += self->unsent - self->head;
    self->unsent = self->head;
    self->sync_pending = true;
    self->resend_ms = now;
    self->probe_at_ms = now;
}

/* Writes the pending SYNC and unsent frames until the socket is full. */
static tw_rc_t s_flush(tw_deliver_t *self, tw_err_t *err)
{
    if (self->sync_pending) {
        tw_msg_t m = {.id = TW_MSG_SYNC, .epoch = self->epoch};
        memcpy(m.src, self->name, sizeof m.src);
        m.u.sync.first =
            s_qlen(self) > 0 ? self->q[self->head].seq : self->next_seq;
        /* Frames written before this SYNC reach the receiver before it. */
        m.u.sync.last = self->unsent > self->head
                            ? self->q[self->unsent - 1].seq
                            : m.u.sync.first - 1;
        char *buf = NULL;
        size_t len = 0;
        tw_rc_t rc = tw_proto_encode(&m, &buf, &len, err);
        if (rc != TW_OK)
            return rc;
        rc = s_send_frame(self, NULL, 0, buf, len);
        free(buf);
        if (rc == TW_ERR_AGAIN)
            return TW_OK;
        if (rc != TW_OK)
            return s_zerr(err, "send to", "receiver");
        self->sync_pending = false;
    }
    while (self->unsent < self->n) {
        s_entry_t *e = &self->q[self->unsent];
        tw_rc_t rc = s_send_frame(self, NULL, 0, e->buf, e->len);
        if (rc == TW_ERR_AGAIN)
            return TW_OK;
        if (rc != TW_OK)
            return s_zerr(err, "send to", "receiver");
        self->unsent++;
    }
    return TW_OK;
}

/* Appends a frame (owned buf) to the window. */
static tw_rc_t s_enqueue(tw_deliver_t *self, char *buf, size_t len,
                         uint64_t jid, tw_err_t *err)
{
    s_entry_t e = {.seq = self->next_seq, .jid = jid, .buf = buf, .len = len};
    if (!s_qpush(self, e)) {
        free(buf);
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    if (s_qlen(self) == 1)
        self->progress_ms = s_now_ms();
    self->next_seq++;
    return TW_OK;
}

/* Journal replay: queues one frame left by an earlier run. */
static tw_rc_t s_replay_one(void *arg, uint64_t id, const void *data,
                            size_t len)
{
    tw_deliver_t *self = arg;
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return TW_ERR_NOMEM;
    memcpy(buf, data, len);
    if (tw_proto_restamp(buf, len, self->epoch, self->next_seq) != TW_OK) {
        /* Not a frame of ours: skip it; the next trim drops it. */
        free(buf);
        return TW_OK;
    }
    tw_rc_t rc = s_enqueue(self, buf, len, id, NULL);
    if (rc == TW_OK)
        self->stats.replayed++;
    return rc;
}

tw_rc_t tw_deliver_sender_new(tw_deliver_t **self_p, void *zctx,
                              const tw_deliver_opts_t *opts, tw_err_t *err)
{
    assert(self_p);
    assert(opts);
    *self_p = NULL;
    if (!opts->endpoint || !opts->src || !opts->src[0] ||
        strlen(opts->src) > TW_PROTO_SRC_MAX) {
        tw_err_set(err, "sender needs an endpoint and a src of 1-%d bytes",
                   TW_PROTO_SRC_MAX);
        return TW_ERR_INVALID;
    }
    tw_deliver_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    self->role = ROLE_SENDER;
    snprintf(self->name, sizeof self->name, "%s", opts->src);
    self->epoch = opts->epoch ? opts->epoch : s_wall_us();
    self->window = opts->window ? opts->window : TW_DELIVER_WINDOW;
    self->ack_timeout_ms =
        opts->ack_timeout_ms ? opts->ack_timeout_ms : TW_DELIVER_ACK_TIMEOUT_MS;
    self->probe_ms = opts->probe_ms ? opts->probe_ms : TW_DELIVER_PROBE_MS;
    self->next_seq = 1;
    self->sync_pending = true;
    int64_t now = s_now_ms();
    self->progress_ms = now;
    self->probe_at_ms = now;
    tw_rc_t rc = TW_OK;
    if (opts->journal) {
        rc = tw_journal_open(&self->journal, opts->journal, err);
        if (rc != TW_OK)
            goto fail;
        rc = tw_journal_foreach(self->journal, s_replay_one, self, err);
        if (rc != TW_OK) {
            tw_err_set(err, "unable to replay journal %s: %s", opts->journal,
                       tw_rc_str(rc));
            goto fail;
        }
    }
    rc = s_init(self, zctx, ZMQ_DEALER, err);
    if (rc != TW_OK)
        goto fail;
    int hwm = (int)(self->window * 2 + 64);
    int ivl_max = 1000;
    if (zmq_setsockopt(self->sock, ZMQ_ROUTING_ID, self->name,
                       strlen(self->name)) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max,
                       sizeof ivl_max) != 0) {
        rc = s_zerr(err, "configure sender", self->name);
        goto fail;
    }
    if (zmq_connect(self->sock, opts->endpoint) != 0) {
        rc = s_zerr(err, "connect to", opts->endpoint);
        goto fail;
    }
    rc = s_flush(self, err);
    if (rc != TW_OK)
        goto fail;
    *self_p = self;
    return TW_OK;
fail:
    tw_deliver_destroy(&self);
    return rc;
}

bool tw_deliver_can_send(const tw_deliver_t *self)
{
    assert(self);
    assert(self->role == ROLE_SENDER);
    return s_qlen(self) < self->window;
}

uint64_t tw_deliver_acked(const tw_deliver_t *self)
{
    assert(self);
    assert(self->role == ROLE_SENDER);
    return self->acked_seq;
}

size_t tw_deliver_unacked(const tw_deliver_t *self)
{
    assert(self);
    assert(self->role == ROLE_SENDER);
    return s_qlen(self);
}

tw_rc_t tw_deliver_send(tw_deliver_t *self, tw_msg_t *msg, tw_err_t *err)
{
    assert(self);
    assert(msg);
    assert(self->role == ROLE_SENDER);
    if (!tw_deliver_can_send(self)) {
        tw_err_set(err, "no credit: %zu frames unacked", s_qlen(self));
        return TW_ERR_AGAIN;
    }
    memcpy(msg->src, self->name, sizeof msg->src);
    msg->epoch = self->epoch;
    msg->seq = self->next_seq;
    char *buf = NULL;
    size_t len = 0;
    tw_rc_t rc = tw_proto_encode(msg, &buf, &len, err);
    if (rc != TW_OK)
        return rc;
    if (len > TW_DELIVER_MAX_FRAME) {
        /* The receiver would drop the connection: never send it. */
        tw_err_set(err, "frame of %zu bytes exceeds %u; split it", len,
                   (unsigned)TW_DELIVER_MAX_FRAME);
        free(buf);
        return TW_ERR_TOOBIG;
    }
    uint64_t jid = 0;
    if (self->journal) {
        rc = tw_journal_append(self->journal, buf, len, &jid, err);
        if (rc != TW_OK) {
            free(buf);
            return rc;
        }
    }
    rc = s_enqueue(self, buf, len, jid, err);
    if (rc != TW_OK)
        return rc;
    self->stats.sent++;
    rc = s_flush(self, err);
    s_rearm(self);
    return rc;
}

/* Applies one ack to the window. */
static tw_rc_t s_on_ack(tw_deliver_t *self, const tw_msg_t *m, tw_err_t *err)
{
    const tw_msg_ack_t *a = &m->u.ack;
    if (strcmp(a->src, self->name) != 0 || a->epoch != self->epoch)
        return TW_OK; /* for an earlier incarnation of ours */
    int64_t now = s_now_ms();
    bool resend = false;
    if (m->epoch != self->peer_epoch) {
        /* The receiver restarted: what it had delivered but not acked is
         * gone with it. On first contact there is nothing to redo: a
         * receiver that missed frames says so with resync. */
        resend = self->peer_epoch != 0;
        self->peer_epoch = m->epoch;
    }
    if (a->seq < self->next_seq) {
        uint64_t jid = 0;
        if (a->seq > self->acked_seq)
            self->acked_seq = a->seq;
        while (s_qlen(self) > 0 && self->q[self->head].seq <= a->seq) {
            s_entry_t *e = &self->q[self->head];
            if (e->jid)
                jid = e->jid;
            free(e->buf);
            e->buf = NULL;
            self->head++;
            if (self->unsent < self->head)
                self->unsent = self->head;
            self->stats.acked++;
            self->progress_ms = now;
        }
        if (self->head == self->n) {
            self->head = self->n = self->unsent = 0;
        }
        if (jid && self->journal) {
            tw_rc_t rc = tw_journal_trim(self->journal, jid, err);
            if (rc != TW_OK)
                return rc;
        }
    }
    if (a->resync && now - self->resend_ms >= RESYNC_MIN_MS)
        resend = true;
    if (resend && s_qlen(self) > 0)
        s_resend_all(self, now);
    else if (resend)
        self->sync_pending = true;
    return TW_OK;
}

tw_rc_t tw_deliver_handle(tw_deliver_t *self, tw_err_t *err)
{
    assert(self);
    assert(self->role == ROLE_SENDER);
    tw_rc_t rc = TW_OK;
    for (;;) {
        zmq_msg_t zm;
        zmq_msg_init(&zm);
        if (zmq_msg_recv(&zm, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&zm);
            if (errno == EAGAIN || errno == EINTR)
                break;
            return s_zerr(err, "receive on", self->name);
        }
        bool more = zmq_msg_more(&zm);
        tw_msg_t m;
        tw_rc_t drc =
            tw_proto_decode(zmq_msg_data(&zm), zmq_msg_size(&zm), &m, NULL);
        zmq_msg_close(&zm);
        while (more) {
            zmq_msg_init(&zm);
            if (zmq_msg_recv(&zm, self->sock, ZMQ_DONTWAIT) < 0)
                more = false;
            else
                more = zmq_msg_more(&zm);
            zmq_msg_close(&zm);
        }
        if (drc != TW_OK || m.id != TW_MSG_ACK) {
            self->stats.bad++;
            tw_proto_clear(&m);
            continue;
        }
        rc = s_on_ack(self, &m, err);
        tw_proto_clear(&m);
        if (rc != TW_OK)
            break;
    }
    if (rc == TW_OK)
        rc = s_flush(self, err);
    s_rearm(self);
    return rc;
}

tw_rc_t tw_deliver_drain(tw_deliver_t *self, int timeout_ms, tw_err_t *err)
{
    assert(self);
    assert(self->role == ROLE_SENDER);
    int64_t deadline = s_now_ms() + timeout_ms;
    for (;;) {
        if (s_qlen(self) == 0)
            return TW_OK;
        int64_t now = s_now_ms();
        if (now >= deadline)
            break;
        long wait = (long)(deadline - now);
        int t = tw_deliver_timeout_ms(self, now);
        if (t >= 0 && t < wait)
            wait = t;
        tw_rc_t rc = tw_loop_wait_one(self->sock, -1, ZMQ_POLLIN, (int)wait);
        if (rc == TW_ERR_NET)
            return s_zerr(err, "poll", self->name);
        rc = tw_deliver_handle(self, err);
        if (rc == TW_OK)
            rc = tw_deliver_tick(self, s_now_ms(), err);
        if (rc != TW_OK)
            return rc;
    }
    tw_err_set(err, "%zu frames of %s still unacked", s_qlen(self), self->name);
    return TW_ERR_TIMEOUT;
}

/* ---- receiver ---- */

tw_rc_t tw_deliver_receiver_new(tw_deliver_t **self_p, void *zctx,
                                const char *endpoint, const char *name,
                                uint64_t epoch, tw_err_t *err)
{
    assert(self_p);
    assert(endpoint);
    assert(name);
    *self_p = NULL;
    if (strlen(name) > TW_PROTO_SRC_MAX) {
        tw_err_set(err, "receiver name longer than %d bytes", TW_PROTO_SRC_MAX);
        return TW_ERR_INVALID;
    }
    tw_deliver_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    self->role = ROLE_RECEIVER;
    self->max_peers = TW_DELIVER_MAX_PEERS;
    self->peer_idle_ms = TW_DELIVER_PEER_IDLE_MS;
    snprintf(self->name, sizeof self->name, "%s", name);
    self->epoch = epoch ? epoch : s_wall_us();
    tw_rc_t rc = s_init(self, zctx, ZMQ_ROUTER, err);
    if (rc != TW_OK)
        goto fail;
    int one = 1;
    int64_t maxmsg = (int64_t)TW_DELIVER_MAX_FRAME + 1024;
    /* A restarted sender reuses its routing id: let it take over. */
    if (zmq_setsockopt(self->sock, ZMQ_ROUTER_HANDOVER, &one, sizeof one) !=
            0 ||
        zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) !=
            0) {
        rc = s_zerr(err, "configure receiver", name);
        goto fail;
    }
    if (zmq_bind(self->sock, endpoint) != 0) {
        rc = s_zerr(err, "bind", endpoint);
        goto fail;
    }
    *self_p = self;
    return TW_OK;
fail:
    tw_deliver_destroy(&self);
    return rc;
}

void tw_deliver_set_peer_limit(tw_deliver_t *self, size_t max_peers,
                               int idle_ms)
{
    assert(self);
    assert(self->role == ROLE_RECEIVER);
    assert(idle_ms >= 0);
    self->max_peers = max_peers;
    self->peer_idle_ms = idle_ms;
}

static s_peer_t *s_peer_find(tw_deliver_t *self, const char *src)
{
    for (size_t i = 0; i < self->npeers; i++) {
        if (strcmp(self->peers[i].src, src) == 0)
            return &self->peers[i];
    }
    return NULL;
}

/* Returns a peer that may be forgotten to make room: idle for
 * peer_idle_ms with nothing delivered and unacked. A forgotten sender that
 * comes back is asked to SYNC and goes on where it was. */
static s_peer_t *s_peer_reusable(tw_deliver_t *self, int64_t now)
{
    s_peer_t *best = NULL;
    for (size_t i = 0; i < self->npeers; i++) {
        s_peer_t *p = &self->peers[i];
        if (p->acked == p->last && now - p->seen_ms >= self->peer_idle_ms &&
            (!best || p->seen_ms < best->seen_ms))
            best = p;
    }
    return best;
}

static s_peer_t *s_peer_get(tw_deliver_t *self, const char *src, int64_t now)
{
    s_peer_t *p = s_peer_find(self, src);
    if (p)
        return p;
    if (self->npeers >= self->max_peers)
        p = s_peer_reusable(self, now);
    if (p) {
        memset(p, 0, sizeof *p);
        snprintf(p->src, sizeof p->src, "%s", src);
        return p;
    }
    if (self->npeers == self->pcap) {
        size_t cap = self->pcap ? self->pcap * 2 : 16;
        s_peer_t *np = realloc(self->peers, cap * sizeof *np);
        if (!np)
            return NULL;
        self->peers = np;
        self->pcap = cap;
    }
    p = &self->peers[self->npeers++];
    memset(p, 0, sizeof *p);
    snprintf(p->src, sizeof p->src, "%s", src);
    return p;
}

/* Sends ACK{src, epoch, seq, resync} to a peer. */
static void s_ack_peer(tw_deliver_t *self, const s_peer_t *p, uint64_t seq,
                       bool resync)
{
    tw_msg_t m = {.id = TW_MSG_ACK, .epoch = self->epoch};
    memcpy(m.src, self->name, sizeof m.src);
    m.u.ack.src = (char *)p->src;
    m.u.ack.epoch = p->epoch;
    m.u.ack.seq = seq;
    m.u.ack.resync = resync;
    char *buf = NULL;
    size_t len = 0;
    if (tw_proto_encode(&m, &buf, &len, NULL) != TW_OK)
        return;
    /* A full or vanished peer loses the ack; its probe asks again. */
    (void)s_send_frame(self, p->rid, p->rid_len, buf, len);
    free(buf);
}

/* Asks a peer to SYNC and resend, at most every RESYNC_MIN_MS. */
static void s_ask_resync(tw_deliver_t *self, s_peer_t *p, int64_t now)
{
    if (p->resync_ms != 0 && now - p->resync_ms < RESYNC_MIN_MS)
        return;
    p->resync_ms = now;
    s_ack_peer(self, p, p->acked, true);
}

/* Reads one [routing id, frame] message; TW_ERR_AGAIN when none. */
static tw_rc_t s_recv_raw(tw_deliver_t *self, zmq_msg_t *rid, zmq_msg_t *body,
                          tw_err_t *err)
{
    for (;;) {
        if (zmq_msg_recv(rid, self->sock, ZMQ_DONTWAIT) < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return TW_ERR_AGAIN;
            return s_zerr(err, "receive on", self->name);
        }
        if (!zmq_msg_more(rid))
            continue; /* ROUTER always prefixes a routing id */
        if (zmq_msg_recv(body, self->sock, ZMQ_DONTWAIT) < 0)
            return s_zerr(err, "receive on", self->name);
        bool extra = zmq_msg_more(body);
        while (extra) {
            /* We send single frames: a multi-frame message is not ours. */
            zmq_msg_t junk;
            zmq_msg_init(&junk);
            extra = zmq_msg_recv(&junk, self->sock, ZMQ_DONTWAIT) >= 0 &&
                    zmq_msg_more(&junk);
            zmq_msg_close(&junk);
            self->stats.bad++;
        }
        return TW_OK;
    }
}

/* Handles one frame; TW_OK with *deliver set when msg must be returned. */
static tw_rc_t s_on_frame(tw_deliver_t *self, zmq_msg_t *rid, zmq_msg_t *body,
                          tw_msg_t *msg, bool *deliver, tw_err_t *err)
{
    *deliver = false;
    const void *data = zmq_msg_data(body);
    size_t len = zmq_msg_size(body);
    tw_proto_hdr_t h;
    if (tw_proto_peek(data, len, &h, NULL) != TW_OK) {
        self->stats.bad++;
        return TW_OK;
    }
    if (h.seq == 0 && h.id != TW_MSG_SYNC) {
        /* Not sequenced: hand it over as it is. */
        tw_rc_t rc = tw_proto_decode(data, len, msg, err);
        if (rc != TW_OK) {
            self->stats.bad++;
            return TW_OK;
        }
        *deliver = true;
        return TW_OK;
    }
    int64_t now = s_now_ms();
    s_peer_t *p = s_peer_get(self, h.src, now);
    if (!p) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    p->seen_ms = now;
    size_t rl = zmq_msg_size(rid);
    if (rl > sizeof p->rid)
        rl = sizeof p->rid;
    memcpy(p->rid, zmq_msg_data(rid), rl);
    p->rid_len = rl;
    if (p->epoch != 0 && h.epoch < p->epoch) {
        self->stats.dropped++; /* an earlier incarnation of the sender */
        return TW_OK;
    }
    if (h.epoch != p->epoch) {
        p->epoch = h.epoch;
        p->synced = false;
        p->last = p->acked = p->owed = 0;
        p->resync_ms = 0;
    }
    if (h.id == TW_MSG_SYNC) {
        tw_msg_t m;
        if (tw_proto_decode(data, len, &m, NULL) != TW_OK) {
            self->stats.bad++;
            return TW_OK;
        }
        uint64_t first = m.u.sync.first;
        uint64_t sent = m.u.sync.last;
        tw_proto_clear(&m);
        /* Below `first` the sender holds nothing: acked by someone. */
        if (first > 0 && first - 1 > p->last)
            p->last = first - 1;
        if (first > 0 && first - 1 > p->acked)
            p->acked = first - 1;
        p->synced = true;
        /* Frames sent before the SYNC that never arrived were lost. */
        bool lost = sent > p->last;
        if (lost)
            p->resync_ms = now;
        s_ack_peer(self, p, p->acked, lost);
        return TW_OK;
    }
    if (!p->synced) {
        self->stats.dropped++;
        s_ask_resync(self, p, now);
        return TW_OK;
    }
    if (h.seq <= p->last) {
        self->stats.dups++;
        if (h.seq <= p->acked)
            s_ack_peer(self, p, p->acked, false);
        return TW_OK;
    }
    if (h.seq != p->last + 1) {
        self->stats.dropped++; /* a gap: something before it was lost */
        s_ask_resync(self, p, now);
        return TW_OK;
    }
    p->last = h.seq;
    *deliver = true;
    tw_rc_t rc = tw_proto_decode(data, len, msg, err);
    if (rc != TW_OK) {
        self->stats.bad++;
        memset(msg, 0, sizeof *msg);
        msg->id = (tw_msg_id_t)h.id;
        memcpy(msg->src, h.src, sizeof msg->src);
        msg->epoch = h.epoch;
        msg->seq = h.seq;
        return rc;
    }
    self->stats.delivered++;
    return TW_OK;
}

tw_rc_t tw_deliver_recv(tw_deliver_t *self, tw_msg_t *msg, tw_err_t *err)
{
    assert(self);
    assert(msg);
    assert(self->role == ROLE_RECEIVER);
    memset(msg, 0, sizeof *msg);
    for (;;) {
        zmq_msg_t rid, body;
        zmq_msg_init(&rid);
        zmq_msg_init(&body);
        tw_rc_t rc = s_recv_raw(self, &rid, &body, err);
        bool deliver = false;
        if (rc == TW_OK)
            rc = s_on_frame(self, &rid, &body, msg, &deliver, err);
        zmq_msg_close(&rid);
        zmq_msg_close(&body);
        if (rc != TW_OK || deliver)
            return rc;
    }
}

tw_rc_t tw_deliver_ack(tw_deliver_t *self, const char *src, uint64_t epoch,
                       uint64_t seq, tw_err_t *err)
{
    assert(self);
    assert(src);
    assert(self->role == ROLE_RECEIVER);
    s_peer_t *p = s_peer_find(self, src);
    if (!p || p->epoch != epoch)
        return TW_OK; /* the sender restarted since: it resends anyway */
    if (seq > p->last) {
        tw_err_set(err, "ack of %s seq %llu beyond delivered %llu", src,
                   (unsigned long long)seq, (unsigned long long)p->last);
        return TW_ERR_INVALID;
    }
    if (seq <= p->acked)
        return TW_OK;
    p->acked = seq;
    s_ack_peer(self, p, seq, false);
    return TW_OK;
}

void tw_deliver_ack_later(tw_deliver_t *self, const char *src, uint64_t epoch,
                          uint64_t seq)
{
    assert(self);
    assert(src);
    assert(self->role == ROLE_RECEIVER);
    s_peer_t *p = s_peer_find(self, src);
    if (!p || p->epoch != epoch || seq == 0)
        return; /* the sender restarted since: it resends anyway */
    if (seq > p->last)
        seq = p->last; /* never beyond what was delivered */
    if (seq > p->owed)
        p->owed = seq;
}

bool tw_deliver_acks_owed(const tw_deliver_t *self)
{
    assert(self);
    for (size_t i = 0; i < self->npeers; i++)
        if (self->peers[i].owed > 0)
            return true;
    return false;
}

tw_rc_t tw_deliver_ack_owed(tw_deliver_t *self, tw_err_t *err)
{
    assert(self);
    assert(self->role == ROLE_RECEIVER);
    tw_rc_t first = TW_OK;
    for (size_t i = 0; i < self->npeers; i++) {
        s_peer_t *p = &self->peers[i];
        if (p->owed == 0)
            continue;
        uint64_t seq = p->owed;
        p->owed = 0;
        tw_rc_t rc = tw_deliver_ack(self, p->src, p->epoch, seq,
                                    first == TW_OK ? err : NULL);
        if (rc != TW_OK && first == TW_OK)
            first = rc;
    }
    return first;
}

/* ---- timers ---- */

int tw_deliver_timeout_ms(tw_deliver_t *self, int64_t now_ms)
{
    assert(self);
    if (self->role != ROLE_SENDER)
        return -1;
    if (self->sync_pending || self->unsent < self->n)
        return RETRY_MS;
    if (s_qlen(self) == 0)
        return -1;
    int64_t last = self->progress_ms > self->probe_at_ms ? self->progress_ms
                                                         : self->probe_at_ms;
    int64_t probe = last + self->probe_ms - now_ms;
    int64_t resend = self->progress_ms > self->resend_ms
                         ? self->progress_ms + self->ack_timeout_ms - now_ms
                         : self->resend_ms + self->ack_timeout_ms - now_ms;
    int64_t t = probe < resend ? probe : resend;
    if (t < 0)
        t = 0;
    return t > 60000 ? 60000 : (int)t;
}

tw_rc_t tw_deliver_tick(tw_deliver_t *self, int64_t now_ms, tw_err_t *err)
{
    assert(self);
    if (self->role != ROLE_SENDER)
        return TW_OK;
    if (s_qlen(self) > 0) {
        int64_t since = self->progress_ms > self->resend_ms ? self->progress_ms
                                                            : self->resend_ms;
        int64_t last = self->progress_ms > self->probe_at_ms
                           ? self->progress_ms
                           : self->probe_at_ms;
        if (now_ms - since >= self->ack_timeout_ms) {
            s_resend_all(self, now_ms);
        } else if (now_ms - last >= self->probe_ms) {
            /* Ask the receiver where it stands; a new epoch in its answer
             * triggers the resend. */
            self->sync_pending = true;
            self->probe_at_ms = now_ms;
        }
    }
    tw_rc_t rc = s_flush(self, err);
    s_rearm(self);
    return rc;
}

/* ---- on a loop ---- */

/* Keeps the loop timer no later than the next tw_deliver_tick is due. A
 * timer due earlier than needed is left alone: tick then finds nothing to
 * do and re-arms; pushing it back on every send could starve it. */
static void s_rearm(tw_deliver_t *self)
{
    if (!self->loop)
        return;
    int t = tw_deliver_timeout_ms(self, s_now_ms());
    int64_t left = tw_loop_timer_left(self->loop, self->timer);
    if (t < 0) {
        if (left >= 0)
            tw_loop_rearm_timer(self->loop, self->timer, -1);
        return;
    }
    if (left < 0 || t < left)
        tw_loop_rearm_timer(self->loop, self->timer, t);
}

static tw_rc_t s_on_socket(tw_loop_t *loop, void *sock, int fd, short revents,
                           void *arg)
{
    (void)loop;
    (void)sock;
    (void)fd;
    (void)revents;
    tw_deliver_t *self = arg;
    if (self->role == ROLE_SENDER) {
        tw_err_t err = {0};
        if (tw_deliver_handle(self, &err) != TW_OK)
            tw_log_warn("delivery from %s: %s", self->name, err.msg);
    }
    return self->fn ? self->fn(self, self->fn_arg) : TW_OK;
}

static tw_rc_t s_on_timer(tw_loop_t *loop, int id, void *arg)
{
    (void)id;
    tw_deliver_t *self = arg;
    tw_err_t err = {0};
    if (tw_deliver_tick(self, tw_loop_now(loop), &err) != TW_OK)
        tw_log_warn("delivery from %s: %s", self->name, err.msg);
    /* Due again when tw_deliver_timeout_ms says, not one period later. */
    int t = tw_deliver_timeout_ms(self, s_now_ms());
    tw_loop_rearm_timer(loop, self->timer, t);
    return TW_OK;
}

tw_rc_t tw_deliver_attach(tw_deliver_t *self, tw_loop_t *loop,
                          tw_deliver_fn *fn, void *arg)
{
    assert(self);
    assert(loop);
    assert(self->role == ROLE_SENDER || fn);
    if (self->loop)
        return TW_ERR_STATE;
    self->timer = tw_loop_add_timer(loop, 0, 0, s_on_timer, self);
    if (self->timer < 0)
        return TW_ERR_NOMEM;
    tw_loop_rearm_timer(loop, self->timer, -1);
    tw_rc_t rc = tw_loop_add_socket(
        loop, self->sock, self->paused ? 0 : ZMQ_POLLIN, s_on_socket, self);
    if (rc != TW_OK) {
        tw_loop_cancel_timer(loop, self->timer);
        return rc;
    }
    self->loop = loop;
    self->fn = fn;
    self->fn_arg = arg;
    s_rearm(self);
    return TW_OK;
}

void tw_deliver_pause(tw_deliver_t *self, bool paused)
{
    assert(self);
    assert(self->role == ROLE_RECEIVER);
    if (paused == self->paused)
        return;
    self->paused = paused;
    if (self->loop)
        tw_loop_socket_events(self->loop, self->sock, paused ? 0 : ZMQ_POLLIN);
}

tw_rc_t tw_deliver_recv_each(tw_deliver_t *self, size_t max,
                             tw_deliver_recv_fn *fn, void *arg, tw_err_t *err)
{
    assert(self);
    assert(fn);
    assert(self->role == ROLE_RECEIVER);
    for (size_t i = 0; max == 0 || i < max; i++) {
        tw_msg_t m;
        tw_err_t e = {0};
        tw_rc_t rc = tw_deliver_recv(self, &m, &e);
        if (rc == TW_ERR_AGAIN)
            return TW_OK;
        if (rc != TW_OK && rc != TW_ERR_PROTO) {
            if (err)
                *err = e;
            return rc;
        }
        if (!fn(&m, rc, e.msg, arg))
            return TW_OK;
    }
    return TW_OK;
}
