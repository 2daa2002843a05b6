/* Unit tests of tw_loop: timers on a fake clock (order, repeat, re-arm,
 * cancel inside a callback), fds and ZeroMQ sockets with callbacks,
 * removal inside a callback, stop and error returns. */
#include <check.h>
#include <czmq.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "tw_loop.h"

/* The fake clock: tests move it by hand. */
static int64_t s_fake_now;
static int64_t s_fake_clock(void *arg)
{
    (void)arg;
    return s_fake_now;
}

/* What the callbacks saw, in order. */
typedef struct {
    int log[64]; /* timer ids or fds, in call order */
    int n;       /* entries of log */
    int cancel;  /* timer to cancel from a callback, 0 none */
    int rearm;   /* delay to re-arm the firing timer with, 0 none */
    int stop_at; /* stop the loop on this call number, 0 never */
} s_seen_t;

static tw_rc_t s_on_timer(tw_loop_t *loop, int id, void *arg)
{
    s_seen_t *s = arg;
    ck_assert_int_lt(s->n, 64);
    s->log[s->n++] = id;
    if (s->cancel) {
        ck_assert_int_eq(tw_loop_cancel_timer(loop, s->cancel), TW_OK);
        s->cancel = 0;
    }
    if (s->rearm) {
        ck_assert_int_eq(tw_loop_rearm_timer(loop, id, s->rearm), TW_OK);
        s->rearm = 0;
    }
    if (s->stop_at && s->n == s->stop_at)
        tw_loop_stop(loop);
    return TW_OK;
}

static tw_loop_t *s_fake_loop(void)
{
    tw_loop_t *loop = tw_loop_new();
    ck_assert_ptr_nonnull(loop);
    s_fake_now = 1000;
    tw_loop_set_clock(loop, s_fake_clock, NULL);
    ck_assert_int_eq(tw_loop_now(loop), 1000);
    return loop;
}

START_TEST(test_new_destroy)
{
    tw_loop_t *loop = tw_loop_new();
    ck_assert_ptr_nonnull(loop);
    tw_loop_destroy(&loop);
    ck_assert_ptr_null(loop);
    tw_loop_destroy(&loop);
}
END_TEST

START_TEST(test_timers_fire_in_due_order)
{
    tw_loop_t *loop = s_fake_loop();
    s_seen_t s = {0};
    int a = tw_loop_add_timer(loop, 30, 1, s_on_timer, &s);
    int b = tw_loop_add_timer(loop, 10, 1, s_on_timer, &s);
    int c = tw_loop_add_timer(loop, 20, 1, s_on_timer, &s);
    int d = tw_loop_add_timer(loop, 10, 1, s_on_timer, &s);
    ck_assert_int_gt(a, 0);
    ck_assert_int_ne(a, b);
    ck_assert_int_eq(tw_loop_timer_left(loop, a), 30);
    /* Nothing due yet. */
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 0);
    /* All due at once: due order, ties in arming order. */
    s_fake_now += 30;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 4);
    ck_assert_int_eq(s.log[0], b);
    ck_assert_int_eq(s.log[1], d);
    ck_assert_int_eq(s.log[2], c);
    ck_assert_int_eq(s.log[3], a);
    /* One-shot timers are gone after firing. */
    ck_assert_int_eq(tw_loop_timer_left(loop, a), -1);
    ck_assert_int_eq(tw_loop_cancel_timer(loop, b), TW_ERR_NOTFOUND);
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 4);
    /* Nothing left: run returns at once. */
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    tw_loop_destroy(&loop);
}
END_TEST

START_TEST(test_repeating_timer_counts_and_rhythm)
{
    tw_loop_t *loop = s_fake_loop();
    s_seen_t s = {0};
    int t = tw_loop_add_timer(loop, 100, 3, s_on_timer, &s);
    for (int i = 1; i <= 5; i++) {
        s_fake_now += 100;
        ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
        ck_assert_int_eq(s.n, i < 3 ? i : 3);
    }
    ck_assert_int_eq(tw_loop_timer_left(loop, t), -1);
    /* Forever: a late pass fires it once and keeps the period from now. */
    int f = tw_loop_add_timer(loop, 100, 0, s_on_timer, &s);
    s_fake_now += 350;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 4);
    ck_assert_int_eq(tw_loop_timer_left(loop, f), 100);
    /* On time: the next due time is counted from the last due time. */
    s_fake_now += 130;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 5);
    ck_assert_int_eq(tw_loop_timer_left(loop, f), 70);
    tw_loop_destroy(&loop);
}
END_TEST

START_TEST(test_rearm_and_disarm)
{
    tw_loop_t *loop = s_fake_loop();
    s_seen_t s = {0};
    int t = tw_loop_add_timer(loop, 50, 1, s_on_timer, &s);
    /* Re-armed before it fires: the countdown starts again. */
    s_fake_now += 40;
    ck_assert_int_eq(tw_loop_rearm_timer(loop, t, 50), TW_OK);
    s_fake_now += 40;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 0);
    /* Disarmed: never fires, keeps its id. */
    ck_assert_int_eq(tw_loop_rearm_timer(loop, t, -1), TW_OK);
    ck_assert_int_eq(tw_loop_timer_left(loop, t), -1);
    s_fake_now += 1000;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 0);
    ck_assert_int_eq(tw_loop_run(loop), TW_OK); /* nothing armed */
    /* Re-armed inside its own callback: a one-shot stays. */
    ck_assert_int_eq(tw_loop_rearm_timer(loop, t, 10), TW_OK);
    s.rearm = 25;
    s_fake_now += 10;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(tw_loop_timer_left(loop, t), 25);
    s_fake_now += 25;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(tw_loop_timer_left(loop, t), -1);
    ck_assert_int_eq(tw_loop_rearm_timer(loop, t, 10), TW_ERR_NOTFOUND);
    tw_loop_destroy(&loop);
}
END_TEST

START_TEST(test_cancel_inside_callback)
{
    tw_loop_t *loop = s_fake_loop();
    s_seen_t s = {0};
    int a = tw_loop_add_timer(loop, 10, 0, s_on_timer, &s);
    int b = tw_loop_add_timer(loop, 10, 0, s_on_timer, &s);
    int c = tw_loop_add_timer(loop, 10, 0, s_on_timer, &s);
    /* a cancels b, due in the same pass: b is not called. */
    s.cancel = b;
    s_fake_now += 10;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.log[0], a);
    ck_assert_int_eq(s.log[1], c);
    /* a cancels itself. */
    s.cancel = a;
    s_fake_now += 10;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 4);
    ck_assert_int_eq(s.log[2], a);
    ck_assert_int_eq(s.log[3], c);
    s_fake_now += 10;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 5);
    ck_assert_int_eq(s.log[4], c);
    ck_assert_int_eq(tw_loop_cancel_timer(loop, a), TW_ERR_NOTFOUND);
    ck_assert_int_eq(tw_loop_cancel_timer(loop, c), TW_OK);
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    tw_loop_destroy(&loop);
}
END_TEST

/* Adds many timers from a callback: the timer table grows under it. */
static tw_rc_t s_on_timer_adds(tw_loop_t *loop, int id, void *arg)
{
    s_seen_t *s = arg;
    s->log[s->n++] = id;
    for (int i = 0; i < 20; i++)
        ck_assert_int_gt(tw_loop_add_timer(loop, 5, 1, s_on_timer, s), 0);
    return TW_OK;
}

START_TEST(test_add_inside_callback)
{
    tw_loop_t *loop = s_fake_loop();
    s_seen_t s = {0};
    int t = tw_loop_add_timer(loop, 5, 1, s_on_timer_adds, &s);
    s_fake_now += 5;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.log[0], t);
    s_fake_now += 5;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 21);
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    tw_loop_destroy(&loop);
}
END_TEST

START_TEST(test_stop_and_error_end_run)
{
    tw_loop_t *loop = tw_loop_new();
    s_seen_t s = {.stop_at = 3};
    /* Real clock: a 1 ms timer, stopped on its third call. */
    int t = tw_loop_add_timer(loop, 1, 0, s_on_timer, &s);
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    ck_assert_int_eq(s.n, 3);
    ck_assert(!tw_loop_stopping(loop));
    /* Stopped before the run: returns at once. */
    tw_loop_stop(loop);
    ck_assert(tw_loop_stopping(loop));
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    ck_assert_int_eq(s.n, 3);
    /* Runs again after a stop. */
    s.stop_at = 4;
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    ck_assert_int_eq(s.n, 4);
    ck_assert_int_eq(tw_loop_cancel_timer(loop, t), TW_OK);
    tw_loop_destroy(&loop);
}
END_TEST

START_TEST(test_run_for)
{
    tw_loop_t *loop = tw_loop_new();
    s_seen_t s = {0};
    /* Nothing happens: returns once the time is up, not before. */
    int64_t t0 = tw_loop_now(loop);
    ck_assert_int_eq(tw_loop_run_for(loop, 30), TW_OK);
    ck_assert_int_ge(tw_loop_now(loop) - t0, 30);
    /* Timers run meanwhile. */
    int t = tw_loop_add_timer(loop, 5, 0, s_on_timer, &s);
    ck_assert_int_eq(tw_loop_run_for(loop, 60), TW_OK);
    ck_assert_int_ge(s.n, 2);
    /* A stop ends it early, and only that run. */
    s.n = 0;
    s.stop_at = 1;
    t0 = tw_loop_now(loop);
    ck_assert_int_eq(tw_loop_run_for(loop, 5000), TW_OK);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_lt(tw_loop_now(loop) - t0, 1000);
    ck_assert(!tw_loop_stopping(loop));
    /* 0 ms: one pass that does not wait. */
    ck_assert_int_eq(tw_loop_cancel_timer(loop, t), TW_OK);
    t0 = tw_loop_now(loop);
    ck_assert_int_eq(tw_loop_run_for(loop, 0), TW_OK);
    ck_assert_int_lt(tw_loop_now(loop) - t0, 1000);
    tw_loop_destroy(&loop);
}
END_TEST

/* A pipe's read end: reads one byte per call; optionally removes itself,
 * another fd, or fails. */
typedef struct {
    int calls;     /* calls so far */
    int remove_fd; /* fd to remove on the first call, -1 none */
    tw_rc_t rc;    /* what to return */
} s_fdcb_t;

static tw_rc_t s_on_fd(tw_loop_t *loop, void *sock, int fd, short revents,
                       void *arg)
{
    s_fdcb_t *c = arg;
    ck_assert_ptr_null(sock);
    ck_assert(revents & ZMQ_POLLIN);
    char b;
    ck_assert_int_eq(read(fd, &b, 1), 1);
    c->calls++;
    if (c->remove_fd >= 0) {
        ck_assert_int_eq(tw_loop_remove_fd(loop, c->remove_fd), TW_OK);
        c->remove_fd = -1;
    }
    return c->rc;
}

START_TEST(test_fd_callbacks_and_removal)
{
    tw_loop_t *loop = tw_loop_new();
    int p1[2], p2[2];
    ck_assert_int_eq(pipe(p1), 0);
    ck_assert_int_eq(pipe(p2), 0);
    s_fdcb_t c1 = {.remove_fd = -1}, c2 = {.remove_fd = -1};
    ck_assert_int_eq(tw_loop_add_fd(loop, p1[0], ZMQ_POLLIN, s_on_fd, &c1),
                     TW_OK);
    ck_assert_int_eq(tw_loop_add_fd(loop, p1[0], ZMQ_POLLIN, s_on_fd, &c1),
                     TW_ERR_EXISTS);
    ck_assert_int_eq(tw_loop_add_fd(loop, -1, ZMQ_POLLIN, s_on_fd, &c1),
                     TW_ERR_INVALID);
    ck_assert_int_eq(tw_loop_add_fd(loop, p2[0], ZMQ_POLLIN, s_on_fd, &c2),
                     TW_OK);
    /* Nothing readable: a bounded step calls nothing. */
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(c1.calls + c2.calls, 0);
    /* Both readable: both called once, in registration order. */
    ck_assert_int_eq(write(p1[1], "ab", 2), 2);
    ck_assert_int_eq(write(p2[1], "a", 1), 1);
    ck_assert_int_eq(tw_loop_step(loop, 1000), TW_OK);
    ck_assert_int_eq(c1.calls, 1);
    ck_assert_int_eq(c2.calls, 1);
    /* Paused: not called although readable; resumed: called. */
    ck_assert_int_eq(tw_loop_fd_events(loop, p1[0], 0), TW_OK);
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(c1.calls, 1);
    ck_assert_int_eq(tw_loop_fd_events(loop, p1[0], ZMQ_POLLIN), TW_OK);
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(c1.calls, 2);
    /* p1's callback removes p2, readable in the same pass: p2 is not
     * called, then or later. */
    ck_assert_int_eq(write(p1[1], "a", 1), 1);
    ck_assert_int_eq(write(p2[1], "a", 1), 1);
    c1.remove_fd = p2[0];
    ck_assert_int_eq(tw_loop_step(loop, 1000), TW_OK);
    ck_assert_int_eq(c1.calls, 3);
    ck_assert_int_eq(c2.calls, 1);
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(c2.calls, 1);
    ck_assert_int_eq(tw_loop_remove_fd(loop, p2[0]), TW_ERR_NOTFOUND);
    /* p1 removes itself inside its own callback, then is never called. */
    ck_assert_int_eq(write(p1[1], "ab", 2), 2);
    c1.remove_fd = p1[0];
    ck_assert_int_eq(tw_loop_step(loop, 1000), TW_OK);
    ck_assert_int_eq(c1.calls, 4);
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(c1.calls, 4);
    /* Nothing registered: run returns. Re-added: called again. */
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    ck_assert_int_eq(tw_loop_add_fd(loop, p1[0], ZMQ_POLLIN, s_on_fd, &c1),
                     TW_OK);
    /* A callback's error ends the run with that rc. */
    c1.rc = TW_ERR_IO;
    ck_assert_int_eq(tw_loop_run(loop), TW_ERR_IO);
    ck_assert_int_eq(c1.calls, 5);
    for (int i = 0; i < 2; i++) {
        close(p1[i]);
        close(p2[i]);
    }
    tw_loop_destroy(&loop);
}
END_TEST

/* A ZeroMQ socket's callback: receives one frame, stops after `want`. */
typedef struct {
    int frames;   /* frames received */
    int want;     /* stop after this many */
    void *expect; /* the pointer the callback must be given */
    bool remove;  /* remove the socket inside the callback */
} s_zcb_t;

/* A stop left by an earlier pass does not starve a caller stepping on its
 * own (chat@'s waits while it stops): the next pass fires its timers; and
 * a run with only paused registrations and no timer returns instead of
 * waiting forever. */
START_TEST(test_step_after_stop_and_paused_only)
{
    tw_loop_t *loop = s_fake_loop();
    s_seen_t s = {.stop_at = 1};
    int t = tw_loop_add_timer(loop, 10, 0, s_on_timer, &s);
    s_fake_now += 10;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 1);
    ck_assert(tw_loop_stopping(loop)); /* asked by that pass */
    s_fake_now += 10;
    ck_assert_int_eq(tw_loop_step(loop, 0), TW_OK);
    ck_assert_int_eq(s.n, 2); /* the next pass still fires */
    ck_assert_int_eq(tw_loop_cancel_timer(loop, t), TW_OK);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(tw_loop_add_fd(loop, p[0], 0, s_on_fd, &s), TW_OK);
    ck_assert_int_eq(tw_loop_run(loop), TW_OK); /* paused only: returns */
    ck_assert_int_eq(tw_loop_remove_fd(loop, p[0]), TW_OK);
    close(p[0]);
    close(p[1]);
    tw_loop_destroy(&loop);
}
END_TEST

static tw_rc_t s_on_sock(tw_loop_t *loop, void *sock, int fd, short revents,
                         void *arg)
{
    s_zcb_t *c = arg;
    ck_assert_ptr_eq(sock, c->expect);
    ck_assert_int_eq(fd, -1);
    ck_assert(revents & ZMQ_POLLIN);
    char buf[16];
    while (zmq_recv(zsock_resolve(sock), buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
        c->frames++;
    if (c->remove)
        ck_assert_int_eq(tw_loop_remove_socket(loop, sock), TW_OK);
    if (c->frames >= c->want)
        tw_loop_stop(loop);
    return TW_OK;
}

/* Sends one frame on its timer: the loop drives both ends. */
static tw_rc_t s_send_tick(tw_loop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    ck_assert_int_eq(zmq_send(arg, "x", 1, 0), 1);
    return TW_OK;
}

START_TEST(test_zmq_sockets)
{
    void *ctx = zmq_ctx_new();
    void *rx = zmq_socket(ctx, ZMQ_PAIR);
    void *tx = zmq_socket(ctx, ZMQ_PAIR);
    ck_assert_int_eq(zmq_bind(rx, "inproc://loop-test"), 0);
    ck_assert_int_eq(zmq_connect(tx, "inproc://loop-test"), 0);
    tw_loop_t *loop = tw_loop_new();
    s_zcb_t c = {.want = 3, .expect = rx};
    ck_assert_int_eq(tw_loop_add_socket(loop, rx, ZMQ_POLLIN, s_on_sock, &c),
                     TW_OK);
    ck_assert_int_eq(tw_loop_add_socket(loop, rx, ZMQ_POLLIN, s_on_sock, &c),
                     TW_ERR_EXISTS);
    int t = tw_loop_add_timer(loop, 1, 0, s_send_tick, tx);
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    ck_assert_int_ge(c.frames, 3);
    /* Removed inside its own callback: never called again. */
    c.remove = true;
    c.want = 1000;
    int before = c.frames;
    ck_assert_int_eq(zmq_send(tx, "x", 1, 0), 1);
    ck_assert_int_eq(tw_loop_cancel_timer(loop, t), TW_OK);
    ck_assert_int_eq(tw_loop_step(loop, 1000), TW_OK);
    ck_assert_int_eq(c.frames, before + 1);
    ck_assert_int_eq(zmq_send(tx, "x", 1, 0), 1);
    ck_assert_int_eq(tw_loop_step(loop, 50), TW_OK);
    ck_assert_int_eq(c.frames, before + 1);
    ck_assert_int_eq(tw_loop_remove_socket(loop, rx), TW_ERR_NOTFOUND);
    /* The one-shot wait sees the frame left waiting. */
    ck_assert_int_eq(tw_loop_wait_one(rx, -1, ZMQ_POLLIN, 1000), TW_OK);
    char buf[4];
    ck_assert_int_eq(zmq_recv(rx, buf, sizeof buf, 0), 1);
    ck_assert_int_eq(tw_loop_wait_one(rx, -1, ZMQ_POLLIN, 10), TW_ERR_TIMEOUT);
    tw_loop_destroy(&loop);
    zmq_close(rx);
    zmq_close(tx);
    zmq_ctx_term(ctx);
}
END_TEST

START_TEST(test_zsock)
{
    zsock_t *rx = zsock_new_pair("@inproc://loop-zsock");
    zsock_t *tx = zsock_new_pair(">inproc://loop-zsock");
    ck_assert_ptr_nonnull(rx);
    tw_loop_t *loop = tw_loop_new();
    s_zcb_t c = {.want = 1, .expect = rx};
    ck_assert_int_eq(tw_loop_add_socket(loop, rx, ZMQ_POLLIN, s_on_sock, &c),
                     TW_OK);
    ck_assert_int_eq(zstr_send(tx, "x"), 0);
    ck_assert_int_eq(tw_loop_run(loop), TW_OK);
    ck_assert_int_eq(c.frames, 1);
    tw_loop_destroy(&loop);
    zsock_destroy(&rx);
    zsock_destroy(&tx);
}
END_TEST

Suite *loop_suite(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_new_destroy);
    tcase_add_test(tc, test_timers_fire_in_due_order);
    tcase_add_test(tc, test_repeating_timer_counts_and_rhythm);
    tcase_add_test(tc, test_rearm_and_disarm);
    tcase_add_test(tc, test_cancel_inside_callback);
    tcase_add_test(tc, test_add_inside_callback);
    tcase_add_test(tc, test_stop_and_error_end_run);
    tcase_add_test(tc, test_run_for);
    tcase_add_test(tc, test_step_after_stop_and_paused_only);
    tcase_add_test(tc, test_fd_callbacks_and_removal);
    tcase_add_test(tc, test_zmq_sockets);
    tcase_add_test(tc, test_zsock);
    suite_add_tcase(s, tc);
    return s;
}
