/* tw_loop - sockets, fds and timers with callbacks around one zmq_poll. */
#include "tw_loop.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

/* One socket or fd registration. */
typedef struct {
    void *sock;        /* what the caller registered, NULL for an fd */
    void *handle;      /* the libzmq socket polled, NULL for an fd */
    int fd;            /* the fd, -1 for a socket */
    short events;      /* events polled for */
    tw_loop_io_fn *fn; /* callback */
    void *arg;         /* its argument */
    bool dead;         /* removed; dropped at the end of the pass */
} s_reg_t;

/* One timer. */
typedef struct {
    int id;               /* > 0, never reused */
    int64_t delay_ms;     /* period */
    unsigned times;       /* firings in all, 0 = forever */
    unsigned fired;       /* firings since armed */
    int64_t due_ms;       /* next firing; meaningless when disarmed */
    uint64_t order;       /* arming order: ties fire in it */
    uint64_t pass;        /* pass in which it last fired */
    uint64_t gen;         /* bumped by every rearm */
    bool armed;           /* false: waits for a rearm */
    bool dead;            /* cancelled; dropped at the end of the pass */
    tw_loop_timer_fn *fn; /* callback */
    void *arg;            /* its argument */
} s_timer_t;

struct tw_loop {
    s_reg_t *regs;           /* registrations, in registration order */
    size_t nregs;            /* used entries of regs */
    size_t capregs;          /* allocated entries of regs */
    zmq_pollitem_t *items;   /* poll set: items[i] polls regs[i] */
    size_t capitems;         /* allocated entries of items */
    bool rebuild;            /* regs changed since items was built */
    s_timer_t *timers;       /* timers, unordered */
    size_t ntimers;          /* used entries of timers */
    size_t captimers;        /* allocated entries of timers */
    int next_id;             /* id of the next timer */
    uint64_t next_order;     /* arming order of the next (re)arm */
    uint64_t pass;           /* passes run so far */
    bool stop;               /* tw_loop_stop was called */
    tw_loop_clock_fn *clock; /* fake clock, NULL = CLOCK_MONOTONIC */
    void *clock_arg;         /* its argument */
};

static int64_t s_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

tw_loop_t *tw_loop_new(void)
{
    tw_loop_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->next_id = 1;
    return self;
}

void tw_loop_destroy(tw_loop_t **self_p)
{
    assert(self_p);
    tw_loop_t *self = *self_p;
    if (!self)
        return;
    free(self->regs);
    free(self->items);
    free(self->timers);
    free(self);
    *self_p = NULL;
}

void tw_loop_set_clock(tw_loop_t *self, tw_loop_clock_fn *fn, void *arg)
{
    assert(self);
    self->clock = fn;
    self->clock_arg = arg;
}

int64_t tw_loop_now(tw_loop_t *self)
{
    assert(self);
    return self->clock ? self->clock(self->clock_arg) : s_monotonic_ms();
}

/* ---- sockets and fds ---- */

/* Returns the live registration of sock (fd < 0) or fd, or NULL. */
static s_reg_t *s_find(tw_loop_t *self, void *sock, int fd)
{
    for (size_t i = 0; i < self->nregs; i++) {
        s_reg_t *r = &self->regs[i];
        if (r->dead)
            continue;
        if (sock ? r->sock == sock : (!r->sock && r->fd == fd))
            return r;
    }
    return NULL;
}

static tw_rc_t s_add(tw_loop_t *self, void *sock, void *handle, int fd,
                     short events, tw_loop_io_fn *fn, void *arg)
{
    if (s_find(self, sock, fd))
        return TW_ERR_EXISTS;
    if (self->nregs == self->capregs) {
        size_t cap = self->capregs ? self->capregs * 2 : 8;
        s_reg_t *r = realloc(self->regs, cap * sizeof *r);
        if (!r)
            return TW_ERR_NOMEM;
        self->regs = r;
        self->capregs = cap;
    }
    self->regs[self->nregs++] = (s_reg_t){.sock = sock,
                                          .handle = handle,
                                          .fd = fd,
                                          .events = events,
                                          .fn = fn,
                                          .arg = arg};
    self->rebuild = true;
    return TW_OK;
}

tw_rc_t tw_loop_add_socket(tw_loop_t *self, void *sock, short events,
                           tw_loop_io_fn *fn, void *arg)
{
    assert(self);
    assert(sock);
    assert(fn);
    /* A zsock_t resolves to its libzmq socket, a libzmq socket to itself. */
    void *handle = zsock_resolve(sock);
    int type = 0;
    size_t len = sizeof type;
    if (!handle || zmq_getsockopt(handle, ZMQ_TYPE, &type, &len) != 0)
        return TW_ERR_INVALID;
    return s_add(self, sock, handle, -1, events, fn, arg);
}

tw_rc_t tw_loop_add_fd(tw_loop_t *self, int fd, short events, tw_loop_io_fn *fn,
                       void *arg)
{
    assert(self);
    assert(fn);
    if (fd < 0)
        return TW_ERR_INVALID;
    return s_add(self, NULL, NULL, fd, events, fn, arg);
}

static tw_rc_t s_events(tw_loop_t *self, void *sock, int fd, short events)
{
    s_reg_t *r = s_find(self, sock, fd);
    if (!r)
        return TW_ERR_NOTFOUND;
    r->events = events;
    if (!self->rebuild)
        self->items[r - self->regs].events = events;
    return TW_OK;
}

tw_rc_t tw_loop_socket_events(tw_loop_t *self, void *sock, short events)
{
    assert(self);
    assert(sock);
    return s_events(self, sock, -1, events);
}

tw_rc_t tw_loop_fd_events(tw_loop_t *self, int fd, short events)
{
    assert(self);
    return s_events(self, NULL, fd, events);
}

static tw_rc_t s_remove(tw_loop_t *self, void *sock, int fd)
{
    s_reg_t *r = s_find(self, sock, fd);
    if (!r)
        return TW_ERR_NOTFOUND;
    r->dead = true;
    self->rebuild = true;
    return TW_OK;
}

tw_rc_t tw_loop_remove_socket(tw_loop_t *self, void *sock)
{
    assert(self);
    assert(sock);
    return s_remove(self, sock, -1);
}

tw_rc_t tw_loop_remove_fd(tw_loop_t *self, int fd)
{
    assert(self);
    return s_remove(self, NULL, fd);
}

/* ---- timers ---- */

static s_timer_t *s_timer(tw_loop_t *self, int id)
{
    for (size_t i = 0; i < self->ntimers; i++)
        if (self->timers[i].id == id && !self->timers[i].dead)
            return &self->timers[i];
    return NULL;
}

int tw_loop_add_timer(tw_loop_t *self, int64_t delay_ms, unsigned times,
                      tw_loop_timer_fn *fn, void *arg)
{
    assert(self);
    assert(fn);
    if (self->ntimers == self->captimers) {
        size_t cap = self->captimers ? self->captimers * 2 : 8;
        s_timer_t *t = realloc(self->timers, cap * sizeof *t);
        if (!t)
            return -1;
        self->timers = t;
        self->captimers = cap;
    }
    if (delay_ms < 0)
        delay_ms = 0;
    int id = self->next_id++;
    self->timers[self->ntimers++] =
        (s_timer_t){.id = id,
                    .delay_ms = delay_ms,
                    .times = times,
                    .due_ms = tw_loop_now(self) + delay_ms,
                    .order = self->next_order++,
                    .armed = true,
                    .fn = fn,
                    .arg = arg};
    return id;
}

tw_rc_t tw_loop_rearm_timer(tw_loop_t *self, int id, int64_t delay_ms)
{
    assert(self);
    s_timer_t *t = s_timer(self, id);
    if (!t)
        return TW_ERR_NOTFOUND;
    t->fired = 0;
    t->gen++;
    if (delay_ms < 0) {
        t->armed = false;
        return TW_OK;
    }
    t->armed = true;
    t->delay_ms = delay_ms;
    t->due_ms = tw_loop_now(self) + delay_ms;
    t->order = self->next_order++;
    return TW_OK;
}

tw_rc_t tw_loop_cancel_timer(tw_loop_t *self, int id)
{
    assert(self);
    s_timer_t *t = s_timer(self, id);
    if (!t)
        return TW_ERR_NOTFOUND;
    t->dead = true;
    return TW_OK;
}

int64_t tw_loop_timer_left(tw_loop_t *self, int id)
{
    assert(self);
    s_timer_t *t = s_timer(self, id);
    if (!t || !t->armed)
        return -1;
    int64_t left = t->due_ms - tw_loop_now(self);
    return left < 0 ? 0 : left;
}

/* Returns the armed timer due first (ties: armed first) that has not fired
 * in this pass and is due at or before limit, or NULL. */
static s_timer_t *s_next_timer(tw_loop_t *self, int64_t limit)
{
    s_timer_t *best = NULL;
    for (size_t i = 0; i < self->ntimers; i++) {
        s_timer_t *t = &self->timers[i];
        if (t->dead || !t->armed || t->pass == self->pass || t->due_ms > limit)
            continue;
        if (!best || t->due_ms < best->due_ms ||
            (t->due_ms == best->due_ms && t->order < best->order))
            best = t;
    }
    return best;
}

/* ---- the loop ---- */

/* Drops removed registrations and timers and rebuilds the poll set if
 * registrations changed. Only between passes: callbacks hold indexes. */
static tw_rc_t s_settle(tw_loop_t *self)
{
    size_t k = 0;
    for (size_t i = 0; i < self->ntimers; i++)
        if (!self->timers[i].dead)
            self->timers[k++] = self->timers[i];
    self->ntimers = k;
    if (!self->rebuild)
        return TW_OK;
    k = 0;
    for (size_t i = 0; i < self->nregs; i++)
        if (!self->regs[i].dead)
            self->regs[k++] = self->regs[i];
    self->nregs = k;
    if (self->nregs > self->capitems) {
        zmq_pollitem_t *it =
            realloc(self->items, self->capregs * sizeof *self->items);
        if (!it)
            return TW_ERR_NOMEM;
        self->items = it;
        self->capitems = self->capregs;
    }
    for (size_t i = 0; i < self->nregs; i++) {
        s_reg_t *r = &self->regs[i];
        self->items[i] = (zmq_pollitem_t){.socket = r->handle,
                                          .fd = r->sock ? -1 : r->fd,
                                          .events = r->events};
    }
    self->rebuild = false;
    return TW_OK;
}

/* Runs the due timers of this pass in due order. */
static tw_rc_t s_fire_timers(tw_loop_t *self)
{
    int64_t now = tw_loop_now(self);
    for (;;) {
        s_timer_t *t = s_next_timer(self, now);
        if (!t)
            return TW_OK;
        t->pass = self->pass;
        t->fired++;
        bool last = t->times != 0 && t->fired >= t->times;
        if (last) {
            t->armed = false;
        } else {
            /* Next period counted from when it was due, so a repeating
             * timer keeps its rhythm; from now when it fell far behind. */
            t->due_ms += t->delay_ms;
            if (t->due_ms <= now)
                t->due_ms = now + t->delay_ms;
            t->order = self->next_order++;
        }
        int id = t->id;
        uint64_t gen = t->gen;
        /* t may move during the callback (tw_loop_add_timer reallocates):
         * look it up again by id afterwards. */
        tw_rc_t rc = t->fn(self, id, t->arg);
        if (last) {
            /* Removed after its last firing unless the callback re-armed
             * (or disarmed) it. */
            t = s_timer(self, id);
            if (t && t->gen == gen)
                t->dead = true;
        }
        if (rc != TW_OK)
            return rc;
        if (self->stop)
            return TW_OK;
    }
}

tw_rc_t tw_loop_step(tw_loop_t *self, int timeout_ms)
{
    assert(self);
    /* a stop belongs to the pass that asked for it (or to a run checking
     * it before its first pass): a caller stepping on its own afterwards
     * still gets its timers */
    self->stop = false;
    tw_rc_t rc = s_settle(self);
    if (rc != TW_OK)
        return rc;
    self->pass++;
    /* Wait no longer than the first armed timer. */
    int64_t now = tw_loop_now(self);
    long wait = timeout_ms;
    for (size_t i = 0; i < self->ntimers; i++) {
        s_timer_t *t = &self->timers[i];
        if (!t->armed)
            continue;
        int64_t left = t->due_ms - now;
        if (left < 0)
            left = 0;
        if (wait < 0 || left < wait)
            wait = (long)left;
    }
    size_t n = self->nregs;
    int ready = zmq_poll(self->items, (int)n, wait);
    if (ready < 0) {
        if (zmq_errno() != EINTR)
            return TW_ERR_NET;
        ready = 0;
    }
    for (size_t i = 0; ready > 0 && i < n; i++) {
        short rev = self->items[i].revents;
        if (!rev)
            continue;
        ready--;
        s_reg_t *r = &self->regs[i];
        /* Removed by an earlier callback of this pass, or paused. */
        if (r->dead || !(rev & (r->events | ZMQ_POLLERR)))
            continue;
        rc = r->fn(self, r->sock, r->sock ? -1 : r->fd, rev, r->arg);
        if (rc != TW_OK || self->stop)
            break;
    }
    if (rc == TW_OK && !self->stop)
        rc = s_fire_timers(self);
    return rc;
}

/* True when some registration is polled (not paused) or some timer armed. */
static bool s_waiting(const tw_loop_t *self)
{
    for (size_t i = 0; i < self->nregs; i++)
        if (!self->regs[i].dead && self->regs[i].events != 0)
            return true;
    for (size_t i = 0; i < self->ntimers; i++)
        if (!self->timers[i].dead && self->timers[i].armed)
            return true;
    return false;
}

tw_rc_t tw_loop_run(tw_loop_t *self)
{
    assert(self);
    tw_rc_t rc = TW_OK;
    while (rc == TW_OK && !self->stop && s_waiting(self))
        rc = tw_loop_step(self, -1);
    self->stop = false;
    return rc;
}

tw_rc_t tw_loop_run_for(tw_loop_t *self, int64_t ms)
{
    assert(self);
    int64_t deadline = tw_loop_now(self) + (ms > 0 ? ms : 0);
    tw_rc_t rc = TW_OK;
    while (rc == TW_OK && !self->stop) {
        int64_t left = deadline - tw_loop_now(self);
        if (left < 0)
            left = 0;
        rc = tw_loop_step(self, left > INT_MAX ? INT_MAX : (int)left);
        if (tw_loop_now(self) >= deadline)
            break;
    }
    self->stop = false;
    return rc;
}

void tw_loop_stop(tw_loop_t *self)
{
    assert(self);
    self->stop = true;
}

bool tw_loop_stopping(const tw_loop_t *self)
{
    assert(self);
    return self->stop;
}

tw_rc_t tw_loop_wait_one(void *sock, int fd, short events, int timeout_ms)
{
    zmq_pollitem_t it = {.events = events, .fd = -1};
    if (sock)
        it.socket = zsock_resolve(sock);
    else
        it.fd = fd;
    for (;;) {
        int n = zmq_poll(&it, 1, timeout_ms);
        if (n > 0)
            return TW_OK;
        if (n == 0)
            return TW_ERR_TIMEOUT;
        if (zmq_errno() != EINTR)
            return TW_ERR_NET;
    }
}
