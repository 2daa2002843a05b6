/* tw_loop - the one event loop of every process: ZeroMQ sockets, plain fds
 * and timers, each with a callback (the shape of czmq's zloop and Redis's
 * ae). zmq_poll is called here and nowhere else in the product.
 *
 * A process creates one loop, registers what it waits for (workers through
 * tw_worker_attach and tw_deliver_attach, plus their own sockets, fds and
 * timers) and calls tw_loop_run, which returns when a callback calls
 * tw_loop_stop or returns an rc other than TW_OK. Callbacks may add, remove
 * and re-arm registrations (their own included) at any time; a registration
 * removed during a pass is not called again. The poll set is rebuilt only
 * when registrations are added or removed, never on every pass.
 *
 * Times are milliseconds of the loop's clock (CLOCK_MONOTONIC unless a test
 * sets its own with tw_loop_set_clock). */
#ifndef TW_LOOP_H
#define TW_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "tw_rc.h"

/* One event loop. */
typedef struct tw_loop tw_loop_t;

/* Called when sock (a socket registration; fd is -1) or fd (an fd
 * registration; sock is NULL) is ready: revents holds the ready events among
 * those registered (ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLERR). sock is the
 * pointer given to tw_loop_add_socket. Return TW_OK to go on; any other rc
 * ends tw_loop_run, which returns it. */
typedef tw_rc_t(tw_loop_io_fn)(tw_loop_t *loop, void *sock, int fd,
                               short revents, void *arg);
/* Called when timer id is due. Return values as for tw_loop_io_fn. */
typedef tw_rc_t(tw_loop_timer_fn)(tw_loop_t *loop, int id, void *arg);
/* Returns the current time in milliseconds (a test's fake clock). */
typedef int64_t(tw_loop_clock_fn)(void *arg);

/* Returns a new, empty loop, or NULL when out of memory. */
tw_loop_t *tw_loop_new(void);
/* Frees *self_p (the registered sockets and fds stay open: they belong to
 * whoever registered them) and sets it to NULL; safe on NULL. */
void tw_loop_destroy(tw_loop_t **self_p);

/* Replaces the loop's clock with fn(arg) (tests; NULL restores
 * CLOCK_MONOTONIC). Timers already armed keep their due times. */
void tw_loop_set_clock(tw_loop_t *self, tw_loop_clock_fn *fn, void *arg);
/* Returns the loop clock's current time in milliseconds. */
int64_t tw_loop_now(tw_loop_t *self);

/* Registers a ZeroMQ socket (a libzmq socket or a czmq zsock_t) for events
 * (ZMQ_POLLIN and/or ZMQ_POLLOUT; 0 = registered but not polled for now).
 * Returns TW_ERR_EXISTS when sock is registered already, TW_ERR_INVALID when
 * it is not a socket, TW_ERR_NOMEM. */
tw_rc_t tw_loop_add_socket(tw_loop_t *self, void *sock, short events,
                           tw_loop_io_fn *fn, void *arg);
/* Registers a plain file descriptor (pipe, signalfd, timerfd, TCP) for
 * events (ZMQ_POLLIN and/or ZMQ_POLLOUT). Errors as tw_loop_add_socket. */
tw_rc_t tw_loop_add_fd(tw_loop_t *self, int fd, short events, tw_loop_io_fn *fn,
                       void *arg);
/* Changes the events sock is polled for (0 pauses it: a sender out of
 * credit stops reading upstream) without rebuilding the poll set.
 * TW_ERR_NOTFOUND when sock is not registered. */
tw_rc_t tw_loop_socket_events(tw_loop_t *self, void *sock, short events);
/* The same for a registered fd. */
tw_rc_t tw_loop_fd_events(tw_loop_t *self, int fd, short events);
/* Unregisters sock; its callback is not called again, even later in the
 * current pass. Safe inside that callback. TW_ERR_NOTFOUND when absent. */
tw_rc_t tw_loop_remove_socket(tw_loop_t *self, void *sock);
/* Unregisters fd, as tw_loop_remove_socket. */
tw_rc_t tw_loop_remove_fd(tw_loop_t *self, int fd);

/* Adds a timer calling fn after delay_ms, then every delay_ms, times times
 * in all (0 = until cancelled). Timers due at the same time fire in the
 * order they were armed. Returns the timer's id (> 0, never reused), or -1
 * when out of memory. A timer that fired its last time is removed. */
int tw_loop_add_timer(tw_loop_t *self, int64_t delay_ms, unsigned times,
                      tw_loop_timer_fn *fn, void *arg);
/* Re-arms timer id to fire delay_ms from now and every delay_ms after (its
 * remaining count starts again); delay_ms < 0 disarms it: it keeps its id
 * and fires again only once re-armed. Re-arming a one-shot timer inside its
 * own callback keeps it. TW_ERR_NOTFOUND for an unknown or removed id. */
tw_rc_t tw_loop_rearm_timer(tw_loop_t *self, int id, int64_t delay_ms);
/* Removes timer id; safe inside any callback, its own included.
 * TW_ERR_NOTFOUND for an unknown or removed id. */
tw_rc_t tw_loop_cancel_timer(tw_loop_t *self, int id);
/* Returns the milliseconds until timer id is due (0 when overdue), or -1
 * when it is disarmed or unknown. */
int64_t tw_loop_timer_left(tw_loop_t *self, int id);

/* Runs passes (tw_loop_step without a limit) until a callback calls
 * tw_loop_stop (TW_OK) or returns another rc (that rc), or nothing is left
 * to wait for (TW_OK). TW_ERR_NET when zmq_poll fails (EINTR is retried). */
tw_rc_t tw_loop_run(tw_loop_t *self);
/* Runs one pass: waits until a registration is ready, the next timer is due
 * or timeout_ms passed (-1: no limit but the timers; 0: do not wait), then
 * calls the ready sockets' and fds' callbacks in registration order, then
 * the due timers' in due order. Returns as tw_loop_run. A tw_loop_stop of an
 * earlier pass is forgotten when a pass starts. */
tw_rc_t tw_loop_step(tw_loop_t *self, int timeout_ms);
/* Runs passes for about ms milliseconds (at least one pass, which waits no
 * longer than ms), or until a callback calls tw_loop_stop or returns
 * another rc. For a worker whose work is a sequence of requests with waits
 * in between (chat@VIDEO): each wait is a run of the loop. Returns as
 * tw_loop_run. */
tw_rc_t tw_loop_run_for(tw_loop_t *self, int64_t ms);
/* Makes tw_loop_run return TW_OK after the running callback (or at once
 * when called outside one); the remaining callbacks of the pass wait for
 * the next run. */
void tw_loop_stop(tw_loop_t *self);
/* True when tw_loop_stop was called and the run has not returned yet. */
bool tw_loop_stopping(const tw_loop_t *self);

/* For a one-shot wait outside any loop (the CLI waiting for one reply):
 * waits up to timeout_ms (-1: forever) for sock (or fd when sock is NULL)
 * to have one of events. TW_OK when ready, TW_ERR_TIMEOUT, TW_ERR_NET when
 * the poll failed. */
tw_rc_t tw_loop_wait_one(void *sock, int fd, short events, int timeout_ms);

#endif
