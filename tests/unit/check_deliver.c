/* Unit tests of tw_deliver: sender and receiver in one process (and one
 * forked receiver) over ipc:// in a mkdtemp dir: ordering, credits,
 * receiver restart, dedup, journal replay, drain. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "tw_deliver.h"
#include "tw_journal.h"

#define MAXGOT 4096

static char s_dir[256];
static char s_ep[320];
static char s_journal[320];

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tw-deliver-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    snprintf(s_ep, sizeof s_ep, "ipc://%s/rx", s_dir);
    snprintf(s_journal, sizeof s_journal, "%s/tx.journal", s_dir);
}

static void s_teardown(void)
{
    char p[400];
    snprintf(p, sizeof p, "%s/rx", s_dir);
    unlink(p);
    unlink(s_journal);
    snprintf(p, sizeof p, "%s.tmp", s_journal);
    unlink(p);
    rmdir(s_dir);
}

/* A sender, a receiver and what the receiver's caller got. */
typedef struct {
    void *ctx;            /* shared ZMQ context */
    tw_deliver_t *tx;     /* sender */
    tw_deliver_t *rx;     /* receiver */
    bool autoack;         /* ack every frame as soon as received */
    uint64_t got[MAXGOT]; /* payload numbers received, in order */
    size_t ngot;          /* entries in got */
    char last_src[256];   /* envelope of the last frame received */
    uint64_t last_epoch;  /* its epoch */
    uint64_t last_seq;    /* its seq */
} s_link_t;

static s_link_t *s_link_new(uint32_t window, const char *journal)
{
    s_link_t *l = calloc(1, sizeof *l);
    ck_assert_ptr_nonnull(l);
    l->ctx = zmq_ctx_new();
    ck_assert_ptr_nonnull(l->ctx);
    tw_err_t err;
    tw_rc_t rc =
        tw_deliver_receiver_new(&l->rx, l->ctx, s_ep, "writer", 1000, &err);
    ck_assert_msg(rc == TW_OK, "%s", err.msg);
    tw_deliver_opts_t o = {.endpoint = s_ep,
                           .src = "chat@abc",
                           .epoch = 500,
                           .window = window,
                           .probe_ms = 100,
                           .ack_timeout_ms = 3000,
                           .journal = journal};
    rc = tw_deliver_sender_new(&l->tx, l->ctx, &o, &err);
    ck_assert_msg(rc == TW_OK, "%s", err.msg);
    l->autoack = true;
    return l;
}

static void s_link_destroy(s_link_t **lp)
{
    s_link_t *l = *lp;
    tw_deliver_destroy(&l->tx);
    tw_deliver_destroy(&l->rx);
    zmq_ctx_term(l->ctx);
    free(l);
    *lp = NULL;
}

static tw_rc_t s_send(s_link_t *l, uint64_t n)
{
    tw_msg_t m = {.id = TW_MSG_HEARTBEAT};
    m.u.heartbeat.worker = "w";
    m.u.heartbeat.pid = 1;
    m.u.heartbeat.msgs_in = n;
    return tw_deliver_send(l->tx, &m, NULL);
}

/* One round of the poll loop of both ends, waiting up to ms. */
static void s_step(s_link_t *l, int ms)
{
    zmq_pollitem_t it[2];
    int n = 0;
    if (l->tx)
        it[n++] = (zmq_pollitem_t){.socket = tw_deliver_socket(l->tx),
                                   .events = ZMQ_POLLIN};
    if (l->rx)
        it[n++] = (zmq_pollitem_t){.socket = tw_deliver_socket(l->rx),
                                   .events = ZMQ_POLLIN};
    int64_t now = tw_test_now_ms();
    if (l->tx) {
        int t = tw_deliver_timeout_ms(l->tx, now);
        if (t >= 0 && t < ms)
            ms = t;
    }
    zmq_poll(it, n, ms);
    if (l->tx)
        ck_assert_int_eq(tw_deliver_handle(l->tx, NULL), TW_OK);
    while (l->rx) {
        tw_msg_t m;
        tw_rc_t rc = tw_deliver_recv(l->rx, &m, NULL);
        if (rc == TW_ERR_AGAIN)
            break;
        ck_assert_int_eq(rc, TW_OK);
        ck_assert_int_eq(m.id, TW_MSG_HEARTBEAT);
        ck_assert_uint_lt(l->ngot, MAXGOT);
        l->got[l->ngot++] = m.u.heartbeat.msgs_in;
        snprintf(l->last_src, sizeof l->last_src, "%s", m.src);
        l->last_epoch = m.epoch;
        l->last_seq = m.seq;
        if (l->autoack)
            ck_assert_int_eq(tw_deliver_ack(l->rx, m.src, m.epoch, m.seq, NULL),
                             TW_OK);
        tw_proto_clear(&m);
    }
    if (l->tx)
        ck_assert_int_eq(tw_deliver_tick(l->tx, tw_test_now_ms(), NULL), TW_OK);
}

/* Steps until cond(l) or timeout_ms; returns cond(l). */
static bool s_pump(s_link_t *l, bool (*cond)(s_link_t *), int timeout_ms)
{
    int64_t deadline = tw_test_now_ms() + timeout_ms;
    while (!cond(l)) {
        if (tw_test_now_ms() >= deadline)
            return cond(l);
        s_step(l, 5);
    }
    return true;
}

static size_t s_want;

static bool s_got_want_all_acked(s_link_t *l)
{
    return l->ngot >= s_want && tw_deliver_unacked(l->tx) == 0;
}

static bool s_got_want(s_link_t *l)
{
    return l->ngot >= s_want;
}

static bool s_can_send(s_link_t *l)
{
    return tw_deliver_can_send(l->tx);
}

START_TEST(test_in_order_delivery)
{
    s_link_t *l = s_link_new(0, NULL);
    uint64_t next = 1;
    int64_t deadline = tw_test_now_ms() + 10000;
    while (next <= 2000 && tw_test_now_ms() < deadline) {
        while (next <= 2000 && tw_deliver_can_send(l->tx))
            ck_assert_int_eq(s_send(l, next++), TW_OK);
        s_step(l, 5);
    }
    s_want = 2000;
    ck_assert(s_pump(l, s_got_want_all_acked, 10000));
    ck_assert_uint_eq(l->ngot, 2000);
    for (size_t i = 0; i < l->ngot; i++)
        ck_assert_uint_eq(l->got[i], i + 1);
    ck_assert_str_eq(l->last_src, "chat@abc");
    ck_assert_uint_eq(l->last_epoch, 500);
    ck_assert_uint_eq(l->last_seq, 2000);
    tw_deliver_stats_t st;
    tw_deliver_stats(l->tx, &st);
    ck_assert_uint_eq(st.sent, 2000);
    ck_assert_uint_eq(st.acked, 2000);
    ck_assert_uint_eq(st.resent, 0); /* a healthy link sends each once */
    tw_deliver_stats(l->rx, &st);
    ck_assert_uint_eq(st.delivered, 2000);
    ck_assert_uint_eq(st.bad, 0);
    ck_assert_int_eq(tw_deliver_drain(l->tx, 100, NULL), TW_OK);
    s_link_destroy(&l);
}
END_TEST

START_TEST(test_credit_exhaustion_blocks)
{
    s_link_t *l = s_link_new(8, NULL);
    l->autoack = false;
    int sent = 0;
    while (tw_deliver_can_send(l->tx))
        ck_assert_int_eq(s_send(l, (uint64_t)++sent), TW_OK);
    ck_assert_int_eq(sent, 8);
    tw_err_t err;
    tw_msg_t m = {.id = TW_MSG_STOP};
    ck_assert_int_eq(tw_deliver_send(l->tx, &m, &err), TW_ERR_AGAIN);
    ck_assert_uint_eq(tw_deliver_unacked(l->tx), 8);
    s_want = 8;
    ck_assert(s_pump(l, s_got_want, 5000));
    /* Received but not durable: still no credit. */
    s_step(l, 20);
    ck_assert(!tw_deliver_can_send(l->tx));
    /* The caller made 1..4 durable. */
    ck_assert_int_eq(tw_deliver_ack(l->rx, "chat@abc", 500, 4, NULL), TW_OK);
    ck_assert(s_pump(l, s_can_send, 5000));
    ck_assert_uint_eq(tw_deliver_unacked(l->tx), 4);
    ck_assert_uint_eq(tw_deliver_acked(l->tx), 4);
    /* Acking beyond what was delivered is refused; an old epoch ignored. */
    ck_assert_int_eq(tw_deliver_ack(l->rx, "chat@abc", 500, 9, &err),
                     TW_ERR_INVALID);
    ck_assert_int_eq(tw_deliver_ack(l->rx, "chat@abc", 499, 8, NULL), TW_OK);
    ck_assert_int_eq(tw_deliver_ack(l->rx, "nobody", 1, 1, NULL), TW_OK);
    s_step(l, 20);
    ck_assert_uint_eq(tw_deliver_unacked(l->tx), 4);
    ck_assert_uint_eq(l->ngot, 8);
    s_link_destroy(&l);
}
END_TEST

/* Acks noted for later (after an fsync, after delivery reports) go out
 * together: the highest per sender, none for a left epoch, none twice. */
START_TEST(test_acks_noted_then_sent)
{
    s_link_t *l = s_link_new(8, NULL);
    l->autoack = false;
    for (int i = 1; i <= 8; i++)
        ck_assert_int_eq(s_send(l, (uint64_t)i), TW_OK);
    s_want = 8;
    ck_assert(s_pump(l, s_got_want, 5000));
    ck_assert(!tw_deliver_acks_owed(l->rx));
    tw_deliver_ack_later(l->rx, "chat@abc", 500, 3);
    tw_deliver_ack_later(l->rx, "chat@abc", 500, 6);
    tw_deliver_ack_later(l->rx, "chat@abc", 500, 5); /* lower: kept at 6 */
    tw_deliver_ack_later(l->rx, "chat@abc", 499, 8); /* a left epoch */
    tw_deliver_ack_later(l->rx, "nobody", 1, 1);     /* an unknown sender */
    ck_assert(tw_deliver_acks_owed(l->rx));
    s_step(l, 20);
    ck_assert_uint_eq(tw_deliver_unacked(l->tx), 8); /* nothing sent yet */
    tw_err_t err;
    ck_assert_int_eq(tw_deliver_ack_owed(l->rx, &err), TW_OK);
    ck_assert(!tw_deliver_acks_owed(l->rx));
    ck_assert(s_pump(l, s_can_send, 5000));
    ck_assert_uint_eq(tw_deliver_acked(l->tx), 6);
    ck_assert_uint_eq(tw_deliver_unacked(l->tx), 2);
    /* sent once: a second call sends nothing */
    ck_assert_int_eq(tw_deliver_ack_owed(l->rx, &err), TW_OK);
    s_step(l, 20);
    ck_assert_uint_eq(tw_deliver_acked(l->tx), 6);
    s_link_destroy(&l);
}
END_TEST

/* The receiver dies with 21..50 delivered but not durable; the sender then
 * sends `extra` more frames (0: it is idle and only its probe notices). */
static void s_restart_case(uint64_t extra)
{
    s_link_t *l = s_link_new(64, NULL);
    l->autoack = false;
    for (uint64_t i = 1; i <= 50; i++)
        ck_assert_int_eq(s_send(l, i), TW_OK);
    s_want = 50;
    ck_assert(s_pump(l, s_got_want, 5000));
    ck_assert_int_eq(tw_deliver_ack(l->rx, "chat@abc", 500, 20, NULL), TW_OK);
    while (tw_deliver_unacked(l->tx) != 30)
        s_step(l, 5);

    tw_deliver_destroy(&l->rx);
    for (uint64_t i = 51; i <= 50 + extra; i++)
        ck_assert_int_eq(s_send(l, i), TW_OK);
    s_step(l, 20);
    tw_err_t err;
    tw_rc_t rc =
        tw_deliver_receiver_new(&l->rx, l->ctx, s_ep, "writer", 2000, &err);
    ck_assert_msg(rc == TW_OK, "%s", err.msg);
    l->ngot = 0;
    l->autoack = true;
    s_want = 30 + extra;
    ck_assert(s_pump(l, s_got_want_all_acked, 10000));
    /* The new receiver got 21..50+extra exactly once, in order. */
    ck_assert_uint_eq(l->ngot, 30 + extra);
    for (size_t i = 0; i < l->ngot; i++)
        ck_assert_uint_eq(l->got[i], 21 + i);
    tw_deliver_stats_t st;
    tw_deliver_stats(l->tx, &st);
    ck_assert_uint_gt(st.resent, 0);
    s_link_destroy(&l);
}

START_TEST(test_receiver_restart_resends)
{
    s_restart_case(5);
}
END_TEST

START_TEST(test_receiver_restart_idle_sender)
{
    s_restart_case(0);
}
END_TEST

START_TEST(test_duplicates_deduped_and_acked)
{
    s_link_t *l = s_link_new(0, NULL);
    l->autoack = false;
    for (uint64_t i = 1; i <= 5; i++)
        ck_assert_int_eq(s_send(l, i), TW_OK);
    s_want = 5;
    ck_assert(s_pump(l, s_got_want, 5000));
    ck_assert_int_eq(tw_deliver_ack(l->rx, "chat@abc", 500, 3, NULL), TW_OK);
    /* Force a resend of the window as after an ack timeout. */
    ck_assert_int_eq(tw_deliver_tick(l->tx, tw_test_now_ms() + 60 * 1000, NULL),
                     TW_OK);
    tw_deliver_stats_t st;
    int64_t deadline = tw_test_now_ms() + 5000;
    do {
        s_step(l, 5);
        tw_deliver_stats(l->rx, &st);
    } while (st.dups < 2 && tw_test_now_ms() < deadline);
    ck_assert_uint_ge(st.dups, 2);
    ck_assert_uint_eq(l->ngot, 5); /* nothing delivered twice */
    ck_assert_int_eq(tw_deliver_ack(l->rx, "chat@abc", 500, 5, NULL), TW_OK);
    s_want = 5;
    ck_assert(s_pump(l, s_got_want_all_acked, 5000));
    s_link_destroy(&l);
}
END_TEST

/* ---- a hand-driven sender against the receiver ---- */

typedef struct {
    void *ctx;        /* context */
    void *dealer;     /* raw DEALER */
    tw_deliver_t *rx; /* receiver under test */
} s_raw_t;

static void s_raw_send(s_raw_t *r, tw_msg_id_t id, uint64_t epoch, uint64_t seq,
                       uint64_t first, uint64_t last)
{
    tw_msg_t m = {.id = id, .src = "raw", .epoch = epoch, .seq = seq};
    if (id == TW_MSG_SYNC) {
        m.u.sync.first = first;
        m.u.sync.last = last;
    } else {
        m.u.heartbeat.worker = "w";
        m.u.heartbeat.msgs_in = seq;
    }
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_proto_encode(&m, &buf, &len, NULL), TW_OK);
    ck_assert_int_eq(zmq_send(r->dealer, buf, len, 0), (int)len);
    free(buf);
}

/* Receives what the receiver delivers within ms; returns the count. */
static int s_raw_drain_rx(s_raw_t *r, int ms, uint64_t *seqs)
{
    int n = 0;
    int64_t deadline = tw_test_now_ms() + ms;
    while (tw_test_now_ms() < deadline) {
        zmq_pollitem_t it = {.socket = tw_deliver_socket(r->rx),
                             .events = ZMQ_POLLIN};
        zmq_poll(&it, 1, 5);
        tw_msg_t m;
        while (tw_deliver_recv(r->rx, &m, NULL) == TW_OK) {
            seqs[n++] = m.seq;
            tw_proto_clear(&m);
        }
    }
    return n;
}

/* Reads one ack sent to the raw dealer within ms. */
static bool s_raw_ack(s_raw_t *r, int ms, tw_msg_t *ack)
{
    zmq_pollitem_t it = {.socket = r->dealer, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, ms) <= 0)
        return false;
    char buf[1024];
    int n = zmq_recv(r->dealer, buf, sizeof buf, 0);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(tw_proto_decode(buf, (size_t)n, ack, NULL), TW_OK);
    ck_assert_int_eq(ack->id, TW_MSG_ACK);
    return true;
}

START_TEST(test_receiver_rules)
{
    s_raw_t r = {0};
    r.ctx = zmq_ctx_new();
    ck_assert_int_eq(
        tw_deliver_receiver_new(&r.rx, r.ctx, s_ep, "writer", 77, NULL), TW_OK);
    r.dealer = zmq_socket(r.ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(r.dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(r.dealer, ZMQ_ROUTING_ID, "raw", 3);
    ck_assert_int_eq(zmq_connect(r.dealer, s_ep), 0);
    uint64_t seqs[64];
    tw_msg_t ack;

    /* A frame before any SYNC is dropped and a resync is asked for. */
    s_raw_send(&r, TW_MSG_HEARTBEAT, 9, 1, 0, 0);
    ck_assert_int_eq(s_raw_drain_rx(&r, 50, seqs), 0);
    ck_assert(s_raw_ack(&r, 1000, &ack));
    ck_assert(ack.u.ack.resync);
    ck_assert_uint_eq(ack.epoch, 77);
    ck_assert_str_eq(ack.u.ack.src, "raw");
    tw_proto_clear(&ack);

    /* SYNC{first=1}, then 1, 2, 2, 1, 3: delivered 1, 2, 3. */
    s_raw_send(&r, TW_MSG_SYNC, 9, 0, 1, 0);
    s_raw_send(&r, TW_MSG_HEARTBEAT, 9, 1, 0, 0);
    s_raw_send(&r, TW_MSG_HEARTBEAT, 9, 2, 0, 0);
    s_raw_send(&r, TW_MSG_HEARTBEAT, 9, 2, 0, 0);
    s_raw_send(&r, TW_MSG_HEARTBEAT, 9, 1, 0, 0);
    s_raw_send(&r, TW_MSG_HEARTBEAT, 9, 3, 0, 0);
    ck_assert_int_eq(s_raw_drain_rx(&r, 100, seqs), 3);
    ck_assert_uint_eq(seqs[0], 1);
    ck_assert_uint_eq(seqs[2], 3);
    ck_assert(s_raw_ack(&r, 1000, &ack)); /* the answer to SYNC */
    ck_assert(!ack.u.ack.resync);
    ck_assert_uint_eq(ack.u.ack.seq, 0);
    tw_proto_clear(&ack);
    ck_assert(!s_raw_ack(&r, 20, &ack)); /* dups above acked: no ack */

    /* Durable up to 3; a duplicate of an acked frame is acked again. */
    ck_assert_int_eq(tw_deliver_ack(r.rx, "raw", 9, 3, NULL), TW_OK);
    ck_assert(s_raw_ack(&r, 1000, &ack));
    ck_assert_uint_eq(ack.u.ack.seq, 3);
    ck_assert_uint_eq(ack.u.ack.epoch, 9);
    tw_proto_clear(&ack);
    s_raw_send(&r, TW_MSG_HEARTBEAT, 9, 2, 0, 0);
    ck_assert_int_eq(s_raw_drain_rx(&r, 30, seqs), 0);
    ck_assert(s_raw_ack(&r, 1000, &ack));
    ck_assert_uint_eq(ack.u.ack.seq, 3);
    tw_proto_clear(&ack);

    /* A gap is dropped with a resync request. */
    s_raw_send(&r, TW_MSG_HEARTBEAT, 9, 5, 0, 0);
    ck_assert_int_eq(s_raw_drain_rx(&r, 30, seqs), 0);
    ck_assert(s_raw_ack(&r, 1000, &ack));
    ck_assert(ack.u.ack.resync);
    tw_proto_clear(&ack);

    /* A new epoch of the sender starts over; the old one is stale. */
    s_raw_send(&r, TW_MSG_SYNC, 10, 0, 1, 0);
    s_raw_send(&r, TW_MSG_HEARTBEAT, 10, 1, 0, 0);
    s_raw_send(&r, TW_MSG_HEARTBEAT, 9, 4, 0, 0);
    ck_assert_int_eq(s_raw_drain_rx(&r, 50, seqs), 1);
    ck_assert_uint_eq(seqs[0], 1);
    /* A probe SYNC saying 1..3 were sent, when only 1 arrived. */
    while (s_raw_ack(&r, 20, &ack))
        tw_proto_clear(&ack);
    s_raw_send(&r, TW_MSG_SYNC, 10, 0, 2, 3);
    ck_assert_int_eq(s_raw_drain_rx(&r, 30, seqs), 0);
    ck_assert(s_raw_ack(&r, 1000, &ack));
    ck_assert(ack.u.ack.resync);
    ck_assert_uint_eq(ack.u.ack.epoch, 10);
    tw_proto_clear(&ack);
    s_raw_send(&r, TW_MSG_SYNC, 10, 0, 2, 1);
    ck_assert_int_eq(s_raw_drain_rx(&r, 30, seqs), 0);
    ck_assert(s_raw_ack(&r, 1000, &ack));
    ck_assert(!ack.u.ack.resync);
    ck_assert_uint_eq(ack.u.ack.seq, 1); /* first - 1 is acked by someone */
    tw_proto_clear(&ack);
    tw_deliver_stats_t st;
    tw_deliver_stats(r.rx, &st);
    ck_assert_uint_eq(st.delivered, 4);
    ck_assert_uint_ge(st.dups, 3);
    ck_assert_uint_ge(st.dropped, 3);

    /* Garbage is counted, not delivered; an undecodable body comes back as
     * TW_ERR_PROTO with its envelope so that it can be acked. */
    ck_assert_int_eq(zmq_send(r.dealer, "\xc1garbage", 8, 0), 8);
    tw_msg_t bad = {.id = TW_MSG_HELLO, .src = "raw", .epoch = 10, .seq = 2};
    bad.u.hello.kind = "k";
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_proto_encode(&bad, &buf, &len, NULL), TW_OK);
    ck_assert_int_eq(zmq_send(r.dealer, buf, len - 1, 0), (int)len - 1);
    free(buf);
    /* A frame cut short fails the structure scan: garbage as well. */
    tw_msg_t m;
    tw_rc_t rc = TW_ERR_AGAIN;
    int64_t deadline = tw_test_now_ms() + 200;
    while (rc == TW_ERR_AGAIN && tw_test_now_ms() < deadline) {
        zmq_pollitem_t it = {.socket = tw_deliver_socket(r.rx),
                             .events = ZMQ_POLLIN};
        zmq_poll(&it, 1, 5);
        rc = tw_deliver_recv(r.rx, &m, NULL);
    }
    tw_deliver_stats(r.rx, &st);
    ck_assert_uint_eq(st.bad, 2);
    ck_assert_int_eq(rc, TW_ERR_AGAIN);

    zmq_close(r.dealer);
    tw_deliver_destroy(&r.rx);
    zmq_ctx_term(r.ctx);
}
END_TEST

START_TEST(test_body_error_returned_with_envelope)
{
    s_raw_t r = {0};
    r.ctx = zmq_ctx_new();
    ck_assert_int_eq(
        tw_deliver_receiver_new(&r.rx, r.ctx, s_ep, "writer", 77, NULL), TW_OK);
    r.dealer = zmq_socket(r.ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(r.dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(r.dealer, ZMQ_ROUTING_ID, "raw", 3);
    ck_assert_int_eq(zmq_connect(r.dealer, s_ep), 0);
    s_raw_send(&r, TW_MSG_SYNC, 9, 0, 1, 0);
    /* hello with only its envelope: the body lacks kind and pid. */
    static const unsigned char frame[] = {0x95,
                                          TW_PROTO_VERSION,
                                          TW_MSG_HELLO,
                                          0xa3,
                                          'r',
                                          'a',
                                          'w',
                                          0xcf,
                                          0,
                                          0,
                                          0,
                                          0,
                                          0,
                                          0,
                                          0,
                                          9,
                                          0xcf,
                                          0,
                                          0,
                                          0,
                                          0,
                                          0,
                                          0,
                                          0,
                                          1};
    ck_assert_int_eq(zmq_send(r.dealer, frame, sizeof frame, 0),
                     (int)sizeof frame);
    tw_msg_t m;
    tw_rc_t rc = TW_ERR_AGAIN;
    int64_t deadline = tw_test_now_ms() + 2000;
    while (rc == TW_ERR_AGAIN && tw_test_now_ms() < deadline) {
        zmq_pollitem_t it = {.socket = tw_deliver_socket(r.rx),
                             .events = ZMQ_POLLIN};
        zmq_poll(&it, 1, 5);
        rc = tw_deliver_recv(r.rx, &m, NULL);
    }
    ck_assert_int_eq(rc, TW_ERR_PROTO);
    ck_assert_int_eq(m.id, TW_MSG_HELLO);
    ck_assert_str_eq(m.src, "raw");
    ck_assert_uint_eq(m.epoch, 9);
    ck_assert_uint_eq(m.seq, 1);
    ck_assert_int_eq(tw_deliver_ack(r.rx, m.src, m.epoch, m.seq, NULL), TW_OK);
    zmq_close(r.dealer);
    tw_deliver_destroy(&r.rx);
    zmq_ctx_term(r.ctx);
}
END_TEST

START_TEST(test_journal_replay_after_sender_restart)
{
    s_link_t *l = s_link_new(16, s_journal);
    l->autoack = false;
    for (uint64_t i = 1; i <= 10; i++)
        ck_assert_int_eq(s_send(l, i), TW_OK);
    s_want = 10;
    ck_assert(s_pump(l, s_got_want, 5000));
    ck_assert_int_eq(tw_deliver_ack(l->rx, "chat@abc", 500, 5, NULL), TW_OK);
    while (tw_deliver_unacked(l->tx) != 5)
        s_step(l, 5);

    /* The sender crashes; a new incarnation replays its journal. */
    tw_deliver_destroy(&l->tx);
    tw_deliver_opts_t o = {.endpoint = s_ep,
                           .src = "chat@abc",
                           .epoch = 501,
                           .window = 4,
                           .probe_ms = 100,
                           .journal = s_journal};
    tw_err_t err;
    tw_rc_t rc = tw_deliver_sender_new(&l->tx, l->ctx, &o, &err);
    ck_assert_msg(rc == TW_OK, "%s", err.msg);
    ck_assert_uint_eq(tw_deliver_unacked(l->tx), 5);
    ck_assert(!tw_deliver_can_send(l->tx)); /* replay exceeds the window */
    tw_deliver_stats_t st;
    tw_deliver_stats(l->tx, &st);
    ck_assert_uint_eq(st.replayed, 5);

    l->ngot = 0;
    l->autoack = true;
    s_want = 5;
    ck_assert(s_pump(l, s_got_want_all_acked, 10000));
    ck_assert_uint_eq(l->ngot, 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(l->got[i], 6 + i);
    ck_assert_uint_eq(l->last_epoch, 501);
    ck_assert_uint_eq(l->last_seq, 5);
    ck_assert_int_eq(s_send(l, 11), TW_OK);
    s_want = 6;
    ck_assert(s_pump(l, s_got_want_all_acked, 10000));
    tw_deliver_destroy(&l->tx);

    tw_journal_t *j = NULL;
    ck_assert_int_eq(tw_journal_open(&j, s_journal, NULL), TW_OK);
    ck_assert_uint_eq(tw_journal_count(j), 0);
    tw_journal_destroy(&j);
    s_link_destroy(&l);
}
END_TEST

/* Receives on rx until want frames came or ms passed, acking each;
 * collects their payloads. */
static int s_recv_ack(tw_deliver_t **tx, int ntx, tw_deliver_t *rx, int want,
                      uint64_t *got, int ms)
{
    int n = 0;
    int64_t deadline = tw_test_now_ms() + ms;
    while (n < want && tw_test_now_ms() < deadline) {
        zmq_pollitem_t it = {.socket = tw_deliver_socket(rx),
                             .events = ZMQ_POLLIN};
        zmq_poll(&it, 1, 5);
        tw_msg_t m;
        while (tw_deliver_recv(rx, &m, NULL) == TW_OK) {
            got[n++] = m.u.stop.grace_ms;
            ck_assert_int_eq(tw_deliver_ack(rx, m.src, m.epoch, m.seq, NULL),
                             TW_OK);
            tw_proto_clear(&m);
        }
        for (int i = 0; i < ntx; i++) {
            ck_assert_int_eq(tw_deliver_handle(tx[i], NULL), TW_OK);
            ck_assert_int_eq(tw_deliver_tick(tx[i], tw_test_now_ms(), NULL),
                             TW_OK);
        }
    }
    return n;
}

static void s_send_stop(tw_deliver_t *tx, uint32_t v)
{
    tw_msg_t m = {.id = TW_MSG_STOP};
    m.u.stop.grace_ms = v;
    ck_assert_int_eq(tw_deliver_send(tx, &m, NULL), TW_OK);
}

START_TEST(test_receiver_forgets_idle_senders)
{
    void *ctx = zmq_ctx_new();
    tw_deliver_t *rx = NULL, *tx[2] = {NULL, NULL};
    ck_assert_int_eq(tw_deliver_receiver_new(&rx, ctx, s_ep, "w", 1, NULL),
                     TW_OK);
    tw_deliver_set_peer_limit(rx, 1, 0);
    const char *names[2] = {"chat@a", "chat@b"};
    for (int i = 0; i < 2; i++) {
        tw_deliver_opts_t o = {
            .endpoint = s_ep, .src = names[i], .epoch = 7, .probe_ms = 20};
        ck_assert_int_eq(tw_deliver_sender_new(&tx[i], ctx, &o, NULL), TW_OK);
    }
    uint64_t got[16];
    for (uint32_t v = 1; v <= 3; v++)
        s_send_stop(tx[0], v);
    ck_assert_int_eq(s_recv_ack(tx, 2, rx, 3, got, 5000), 3);
    /* b takes a's place; a comes back, resyncs, and goes on at 4. */
    for (uint32_t v = 11; v <= 13; v++)
        s_send_stop(tx[1], v);
    ck_assert_int_eq(s_recv_ack(tx, 2, rx, 3, got, 5000), 3);
    ck_assert_uint_eq(got[0], 11);
    for (uint32_t v = 4; v <= 5; v++)
        s_send_stop(tx[0], v);
    ck_assert_int_eq(s_recv_ack(tx, 2, rx, 2, got, 5000), 2);
    ck_assert_uint_eq(got[0], 4);
    ck_assert_uint_eq(got[1], 5);
    int64_t deadline = tw_test_now_ms() + 5000;
    while ((tw_deliver_unacked(tx[0]) || tw_deliver_unacked(tx[1])) &&
           tw_test_now_ms() < deadline)
        s_recv_ack(tx, 2, rx, 1, got, 20);
    ck_assert_uint_eq(tw_deliver_unacked(tx[0]), 0);
    ck_assert_uint_eq(tw_deliver_unacked(tx[1]), 0);
    ck_assert_int_eq(s_recv_ack(tx, 2, rx, 1, got, 200), 0); /* no dups */
    for (int i = 0; i < 2; i++)
        tw_deliver_destroy(&tx[i]);
    tw_deliver_destroy(&rx);
    zmq_ctx_term(ctx);
}
END_TEST

/* Random receiver and sender crashes: every payload ends up durable. */
START_TEST(test_chaos_no_loss)
{
    enum { N = 1200 };
    unsigned rnd = 12345;
    void *ctx = zmq_ctx_new();
    tw_deliver_t *tx = NULL, *rx = NULL;
    uint64_t rx_epoch = 1, tx_epoch = 100;
    tw_deliver_opts_t o = {.endpoint = s_ep,
                           .src = "chat@chaos",
                           .window = 32,
                           .probe_ms = 20,
                           .ack_timeout_ms = 500,
                           .journal = s_journal};
    o.epoch = tx_epoch;
    ck_assert_int_eq(
        tw_deliver_receiver_new(&rx, ctx, s_ep, "w", rx_epoch, NULL), TW_OK);
    ck_assert_int_eq(tw_deliver_sender_new(&tx, ctx, &o, NULL), TW_OK);
    static bool durable[N + 1];
    static uint64_t pending[N * 4];
    size_t npending = 0;
    memset(durable, 0, sizeof durable);
    uint64_t next = 1, crash_at = 200;
    int rx_restarts = 0, tx_restarts = 0;
    int64_t deadline = tw_test_now_ms() + 20000;
    size_t ndurable = 0;
    char psrc[TW_PROTO_SRC_MAX + 1] = "";
    uint64_t pepoch = 0, pseq = 0;
    while (ndurable < N && tw_test_now_ms() < deadline) {
        while (next <= N && tw_deliver_can_send(tx) && rand_r(&rnd) % 4) {
            tw_msg_t m = {.id = TW_MSG_HEARTBEAT};
            m.u.heartbeat.worker = "w";
            m.u.heartbeat.msgs_in = next;
            ck_assert_int_eq(tw_deliver_send(tx, &m, NULL), TW_OK);
            next++;
        }
        zmq_pollitem_t it[2] = {
            {.socket = tw_deliver_socket(tx), .events = ZMQ_POLLIN},
            {.socket = tw_deliver_socket(rx), .events = ZMQ_POLLIN}};
        zmq_poll(it, 2, 2);
        ck_assert_int_eq(tw_deliver_handle(tx, NULL), TW_OK);
        tw_msg_t m;
        while (tw_deliver_recv(rx, &m, NULL) == TW_OK) {
            ck_assert_uint_lt(npending, N * 4);
            pending[npending++] = m.u.heartbeat.msgs_in;
            snprintf(psrc, sizeof psrc, "%s", m.src);
            pepoch = m.epoch;
            pseq = m.seq;
            tw_proto_clear(&m);
        }
        /* The writer makes its batch durable now and then. */
        if (npending > 0 && rand_r(&rnd) % 3 == 0) {
            for (size_t i = 0; i < npending; i++) {
                ck_assert_uint_le(pending[i], N);
                if (!durable[pending[i]])
                    ndurable++;
                durable[pending[i]] = true;
            }
            npending = 0;
            ck_assert_int_eq(tw_deliver_ack(rx, psrc, pepoch, pseq, NULL),
                             TW_OK);
        }
        ck_assert_int_eq(tw_deliver_tick(tx, tw_test_now_ms(), NULL), TW_OK);
        /* Random crashes, plus one of each kind every 200 payloads. */
        unsigned r = rand_r(&rnd) % 500;
        if (next >= crash_at) {
            r = (crash_at / 200) % 2 ? 0 : 4;
            crash_at += 200;
        }
        if (r < 4) {
            /* The receiver dies: what it did not ack is lost with it. */
            tw_deliver_destroy(&rx);
            npending = 0;
            ck_assert_int_eq(
                tw_deliver_receiver_new(&rx, ctx, s_ep, "w", ++rx_epoch, NULL),
                TW_OK);
            rx_restarts++;

        } else if (r < 8) {
            /* The sender dies; its journal holds what was not acked. */
            tw_deliver_destroy(&tx);
            o.epoch = ++tx_epoch;
            ck_assert_int_eq(tw_deliver_sender_new(&tx, ctx, &o, NULL), TW_OK);
            tx_restarts++;
        }
    }
    for (uint64_t i = 1; i <= N; i++)
        ck_assert_msg(durable[i], "payload %llu lost (%d rx, %d tx restarts)",
                      (unsigned long long)i, rx_restarts, tx_restarts);
    ck_assert_int_gt(rx_restarts, 0);
    ck_assert_int_gt(tx_restarts, 0);
    if (getenv("TW_DELIVER_CHAOS_VERBOSE"))
        fprintf(stderr, "chaos: %d rx, %d tx restarts\n", rx_restarts,
                tx_restarts);
    tw_deliver_destroy(&tx);
    tw_deliver_destroy(&rx);
    zmq_ctx_term(ctx);
}
END_TEST

/* Child process: a receiver that acks everything for up to 10 s. */
static void s_child_receiver(void)
{
    void *ctx = zmq_ctx_new();
    tw_deliver_t *rx = NULL;
    if (tw_deliver_receiver_new(&rx, ctx, s_ep, "writer", 3, NULL) != TW_OK)
        _exit(2);
    int64_t deadline = tw_test_now_ms() + 10000;
    while (tw_test_now_ms() < deadline) {
        zmq_pollitem_t it = {.socket = tw_deliver_socket(rx),
                             .events = ZMQ_POLLIN};
        zmq_poll(&it, 1, 50);
        tw_msg_t m;
        while (tw_deliver_recv(rx, &m, NULL) == TW_OK) {
            tw_deliver_ack(rx, m.src, m.epoch, m.seq, NULL);
            tw_proto_clear(&m);
        }
    }
    tw_deliver_destroy(&rx);
    zmq_ctx_term(ctx);
    _exit(0);
}

START_TEST(test_drain_across_processes)
{
    /* Fork before any ZMQ context exists in this process. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        s_child_receiver();
    tw_deliver_t *tx = NULL;
    tw_deliver_opts_t o = {
        .endpoint = s_ep, .src = "stats", .epoch = 1, .probe_ms = 50};
    ck_assert_int_eq(tw_deliver_sender_new(&tx, NULL, &o, NULL), TW_OK);
    for (uint64_t i = 1; i <= 100; i++) {
        tw_msg_t m = {.id = TW_MSG_STOP};
        m.u.stop.grace_ms = (uint32_t)i;
        ck_assert_int_eq(tw_deliver_send(tx, &m, NULL), TW_OK);
    }
    tw_err_t err;
    tw_rc_t rc = tw_deliver_drain(tx, 8000, &err);
    ck_assert_msg(rc == TW_OK, "%s", err.msg);
    ck_assert_uint_eq(tw_deliver_unacked(tx), 0);
    tw_deliver_destroy(&tx);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(test_drain_times_out_without_receiver)
{
    tw_deliver_t *tx = NULL;
    tw_deliver_opts_t o = {.endpoint = s_ep, .src = "stats"};
    ck_assert_int_eq(tw_deliver_sender_new(&tx, NULL, &o, NULL), TW_OK);
    tw_msg_t m = {.id = TW_MSG_STOP};
    ck_assert_uint_eq(tw_deliver_acked(tx), 0);
    ck_assert_int_eq(tw_deliver_send(tx, &m, NULL), TW_OK);
    ck_assert_str_eq(m.src, "stats"); /* stamped by send */
    ck_assert_uint_eq(m.seq, 1);
    ck_assert_uint_gt(m.epoch, 0);
    int64_t t0 = tw_test_now_ms();
    tw_err_t err;
    ck_assert_int_eq(tw_deliver_drain(tx, 100, &err), TW_ERR_TIMEOUT);
    ck_assert_int_ge(tw_test_now_ms() - t0, 100);
    ck_assert_ptr_nonnull(strstr(err.msg, "unacked"));
    tw_deliver_destroy(&tx);

    tw_deliver_opts_t bad = {.endpoint = s_ep, .src = ""};
    ck_assert_int_eq(tw_deliver_sender_new(&tx, NULL, &bad, NULL),
                     TW_ERR_INVALID);
    ck_assert_int_eq(
        tw_deliver_receiver_new(&tx, NULL, "bogus://x", "w", 1, NULL),
        TW_ERR_NET);
}
END_TEST

/* ---- on a tw_loop ---- */

/* Both ends on one loop: what the callbacks share. */
typedef struct {
    s_link_t *l;      /* the link */
    tw_loop_t *loop;  /* the loop */
    uint64_t next;    /* payload of the next frame to send */
    uint64_t total;   /* frames to send in all */
    size_t per_call;  /* frames the receiver callback reads at most */
    size_t calls;     /* receiver callbacks so far */
    size_t stop_each; /* stop recv_each after this many frames, 0 never */
    size_t seen_each; /* frames of the current recv_each call */
} s_lp_t;

static void s_lp_fill(s_lp_t *p)
{
    while (p->next <= p->total && tw_deliver_can_send(p->l->tx))
        ck_assert_int_eq(s_send(p->l, p->next++), TW_OK);
}

static bool s_lp_frame(tw_msg_t *m, tw_rc_t rc, const char *why, void *arg)
{
    ck_assert_str_eq(why, "");
    s_lp_t *p = arg;
    ck_assert_int_eq(rc, TW_OK);
    ck_assert_uint_lt(p->l->ngot, MAXGOT);
    p->l->got[p->l->ngot++] = m->u.heartbeat.msgs_in;
    if (p->l->autoack)
        ck_assert_int_eq(
            tw_deliver_ack(p->l->rx, m->src, m->epoch, m->seq, NULL), TW_OK);
    tw_proto_clear(m);
    p->seen_each++;
    return p->stop_each == 0 || p->seen_each < p->stop_each;
}

static tw_rc_t s_lp_on_rx(tw_deliver_t *rx, void *arg)
{
    s_lp_t *p = arg;
    p->calls++;
    p->seen_each = 0;
    tw_err_t err;
    ck_assert_int_eq(tw_deliver_recv_each(rx, p->per_call, s_lp_frame, p, &err),
                     TW_OK);
    ck_assert_uint_le(p->seen_each, p->per_call);
    if (p->stop_each)
        ck_assert_uint_le(p->seen_each, p->stop_each);
    return TW_OK;
}

static tw_rc_t s_lp_on_tx(tw_deliver_t *tx, void *arg)
{
    s_lp_t *p = arg;
    s_lp_fill(p);
    if (p->next > p->total && tw_deliver_unacked(tx) == 0)
        tw_loop_stop(p->loop);
    return TW_OK;
}

static tw_rc_t s_lp_deadline(tw_loop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    return TW_ERR_TIMEOUT;
}

START_TEST(test_on_a_loop)
{
    s_link_t *l = s_link_new(64, NULL);
    tw_loop_t *loop = tw_loop_new();
    s_lp_t p = {.l = l,
                .loop = loop,
                .next = 1,
                .total = 1500,
                .per_call = 50,
                .stop_each = 7};
    ck_assert_int_eq(tw_deliver_attach(l->rx, loop, s_lp_on_rx, &p), TW_OK);
    ck_assert_int_eq(tw_deliver_attach(l->rx, loop, s_lp_on_rx, &p),
                     TW_ERR_STATE);
    ck_assert_int_eq(tw_deliver_attach(l->tx, loop, s_lp_on_tx, &p), TW_OK);
    s_lp_fill(&p);
    int dl = tw_loop_add_timer(loop, 10000, 1, s_lp_deadline, NULL);
    /* Nothing but the loop's callbacks: acks refill, timers resend. */
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    ck_assert_uint_eq(l->ngot, 1500);
    for (size_t i = 0; i < l->ngot; i++)
        ck_assert_uint_eq(l->got[i], i + 1);
    ck_assert_uint_gt(p.calls, 1500 / 7 - 1); /* stop_each was honoured */

    /* Paused: frames wait in the socket; resumed: they come. */
    tw_deliver_pause(l->rx, true);
    p.total = 1600;
    p.stop_each = 0;
    s_lp_fill(&p);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(tw_loop_step(loop, 5), TW_OK);
    ck_assert_uint_eq(l->ngot, 1500);
    tw_deliver_pause(l->rx, false);
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    ck_assert_uint_eq(l->ngot, 1600);

    /* The receiver restarts with frames unacked: the sender's timers
     * (probe, then resend on the new epoch) bring them over, no tick. */
    l->autoack = false;
    p.total = 1650;
    s_lp_fill(&p);
    while (l->ngot < 1650)
        ck_assert_int_eq(tw_loop_step(loop, 100), TW_OK);
    ck_assert_uint_eq(tw_deliver_unacked(l->tx), 50);
    tw_deliver_destroy(&l->rx); /* detaches */
    tw_err_t err;
    ck_assert_int_eq(
        tw_deliver_receiver_new(&l->rx, l->ctx, s_ep, "writer", 2000, &err),
        TW_OK);
    ck_assert_int_eq(tw_deliver_attach(l->rx, loop, s_lp_on_rx, &p), TW_OK);
    l->autoack = true;
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    ck_assert_uint_eq(tw_deliver_unacked(l->tx), 0);
    ck_assert_uint_eq(l->ngot, 1700); /* the 50 again, after the restart */
    for (size_t i = 0; i < 50; i++)
        ck_assert_uint_eq(l->got[1650 + i], 1601 + i);
    tw_deliver_stats_t st;
    tw_deliver_stats(l->tx, &st);
    ck_assert_uint_ge(st.resent, 50);
    ck_assert_int_eq(tw_loop_cancel_timer(loop, dl), TW_OK);
    s_link_destroy(&l);
    tw_loop_destroy(&loop);
}
END_TEST

Suite *deliver_suite(void)
{
    Suite *s = suite_create("deliver");
    TCase *tc = tcase_create("deliver");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_in_order_delivery);
    tcase_add_test(tc, test_credit_exhaustion_blocks);
    tcase_add_test(tc, test_acks_noted_then_sent);
    tcase_add_test(tc, test_receiver_restart_resends);
    tcase_add_test(tc, test_receiver_restart_idle_sender);
    tcase_add_test(tc, test_duplicates_deduped_and_acked);
    tcase_add_test(tc, test_receiver_rules);
    tcase_add_test(tc, test_body_error_returned_with_envelope);
    tcase_add_test(tc, test_journal_replay_after_sender_restart);
    tcase_add_test(tc, test_receiver_forgets_idle_senders);
    tcase_add_test(tc, test_chaos_no_loss);
    tcase_add_test(tc, test_drain_across_processes);
    tcase_add_test(tc, test_drain_times_out_without_receiver);
    tcase_add_test(tc, test_on_a_loop);
    suite_add_tcase(s, tc);
    return s;
}
