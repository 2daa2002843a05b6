/* tw_worker - what every worker main uses to talk to tubewatchd: its
 * identity from the environment, the config, HELLO, heartbeats, stop
 * signals, and the spawn.request / stream.event helpers. */
#ifndef TW_WORKER_H
#define TW_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_cfg.h"
#include "tw_loop.h"
#include "tw_proto.h"
#include "tw_rc.h"

/* Environment set by tubewatchd for every child. */
#define TW_ENV_WORKER      "TUBEWATCH_WORKER"      /* "chat@VIDEO" */
#define TW_ENV_INSTANCE    "TUBEWATCH_INSTANCE"    /* "VIDEO" or "" */
#define TW_ENV_EPOCH       "TUBEWATCH_EPOCH"       /* incarnation number */
#define TW_ENV_CONFIG      "TUBEWATCH_CONFIG"      /* absolute config path */
#define TW_ENV_RUNTIME_DIR "TUBEWATCH_RUNTIME_DIR" /* 0700 runtime dir */
#define TW_ENV_SUP_ENDPOINT                                                    \
    "TUBEWATCH_SUP_ENDPOINT"                   /* ipc://RUNTIME/sup.sock */
#define TW_ENV_STATE_DIR "TUBEWATCH_STATE_DIR" /* STATE */
#define TW_ENV_DATA_DIR  "TUBEWATCH_DATA_DIR"  /* DATA */

/* Longest worker name ("chat@" + instance) and instance id. */
#define TW_WORKER_NAME_MAX     96
#define TW_WORKER_INSTANCE_MAX 64

/* True when id is a valid instance id: 1..TW_WORKER_INSTANCE_MAX-1 bytes of
 * [A-Za-z0-9_-]. */
bool tw_worker_valid_instance(const char *id);

/* A worker's connection to its supervisor. */
typedef struct tw_worker tw_worker_t;

/* Reads the environment, loads the config, blocks SIGTERM/SIGINT (handled
 * through tw_worker_signal_fd) and connects to tubewatchd; *self_p is the
 * caller's then. kind is the worker kind ("scanner", ...). On failure
 * *self_p is NULL, err says why and the rc is TW_ERR_CONFIG (no or a bad
 * config: tw_rc_exit gives 100, do not restart), TW_ERR_NOMEM, TW_ERR_IO,
 * TW_ERR_AGAIN or TW_ERR_NET (111, restart). */
tw_rc_t tw_worker_new(tw_worker_t **self_p, const char *kind, tw_err_t *err);
/* Closes the connection and frees *self_p; safe on NULL. */
void tw_worker_destroy(tw_worker_t **self_p);

/* The loaded configuration (borrowed). */
const tw_cfg_t *tw_worker_cfg(const tw_worker_t *self);
/* This worker's [worker.NAME] section (borrowed), NULL if absent. */
const tw_cfg_worker_t *tw_worker_section(const tw_worker_t *self);
/* HTTP timeout for this worker: cfg_ms (30 s when 0), at most a quarter of
 * its watchdog timeout so a hung request cannot starve heartbeats, at least
 * 1 s. */
uint32_t tw_worker_http_timeout_ms(const tw_worker_t *self, uint64_t cfg_ms);
/* Worker name, e.g. "chat@VIDEO" (borrowed). */
const char *tw_worker_name(const tw_worker_t *self);
/* Instance id ("" for a non-template worker) (borrowed). */
const char *tw_worker_instance(const tw_worker_t *self);
/* Incarnation number given by the supervisor. */
uint64_t tw_worker_epoch(const tw_worker_t *self);
/* The ZeroMQ context, for the worker's own sockets (borrowed). */
void *tw_worker_zctx(tw_worker_t *self);

/* Registers the worker on the process's loop: the signal fd and the
 * supervisor socket (SIGTERM, SIGINT or STOP set tw_worker_stopping and
 * stop the loop: tw_loop_run returns TW_OK) and the heartbeat timer. One
 * loop per worker; tw_worker_destroy detaches: destroy it before the loop.
 * TW_ERR_STATE when attached already; errors of tw_loop_add_*. */
tw_rc_t tw_worker_attach(tw_worker_t *self, tw_loop_t *loop);

/* Reads a pending stop (SIGTERM, SIGINT, STOP: tw_worker_stopping becomes
 * true) and sends a heartbeat when one is due, without waiting. The loop
 * does this by itself; a callback that blocks for a while (a request, a
 * day's zip and upload) calls it between its steps so that heartbeats go
 * on and a stop is seen. */
void tw_worker_service(tw_worker_t *self);
/* Called with the worker just before each heartbeat is built. */
typedef void(tw_worker_beat_fn)(tw_worker_t *self, void *arg);
/* Sets fn(self, arg) to run before every heartbeat (NULL: none), so that
 * values it carries (tw_worker_gauge, tw_worker_count) are fresh. */
void tw_worker_on_beat(tw_worker_t *self, tw_worker_beat_fn *fn, void *arg);
/* True once SIGTERM/SIGINT or STOP arrived: the worker should finish. */
bool tw_worker_stopping(const tw_worker_t *self);
/* Raw signal fd (readable when SIGTERM/SIGINT is pending). */
int tw_worker_signal_fd(const tw_worker_t *self);

/* Tells the supervisor the worker is ready (HELLO). */
tw_rc_t tw_worker_ready(tw_worker_t *self);
/* Adds to the counters carried by heartbeats. */
void tw_worker_count(tw_worker_t *self, uint64_t in, uint64_t out,
                     uint64_t errors);
/* Sets the named value name (a name known to tw_metric.h, e.g.
 * "chat_items_total") to value; every later heartbeat carries it and
 * tubewatchd serves it as tubewatch_<name> on /metrics. TW_ERR_INVALID for
 * an unknown or malformed name, TW_ERR_TOOBIG past TW_METRIC_MAX names. */
tw_rc_t tw_worker_gauge(tw_worker_t *self, const char *name, int64_t value);
/* Sends a heartbeat now (normally the loop or tw_worker_service does it). */
tw_rc_t tw_worker_heartbeat(tw_worker_t *self);
/* Asks tubewatchd to start tmpl@instance at not_before (Unix usec, 0 now). */
tw_rc_t tw_worker_spawn_request(tw_worker_t *self, const char *tmpl,
                                const char *instance, int64_t not_before);
/* Sends a stream.event to tubewatchd, which republishes it on
 * events.sock (topic "stream.event") for the notifier. */
tw_rc_t tw_worker_stream_event(tw_worker_t *self,
                               const tw_msg_stream_event_t *ev);
/* Sends any message to tubewatchd; src, epoch and seq are filled in. */
tw_rc_t tw_worker_send(tw_worker_t *self, tw_msg_t *msg);
/* Counts n answers of source that could not be understood (what = the
 * latest, one line) in the worker's drift counters ([youtube]
 * drift_threshold within drift_window); past the threshold, logs a warning
 * and sends a drift message to the supervisor (tubewatch status, the
 * Telegram "drift" alert). Returns true when it raised the alarm. */
bool tw_worker_drift(tw_worker_t *self, const char *source, const char *what,
                     uint32_t n);
/* Reports a drift of source at once, whatever the counters say (a worker
 * that must stop because of it): logs and sends the drift message with
 * count n. */
void tw_worker_drift_alarm(tw_worker_t *self, const char *source,
                           const char *what, uint32_t n);

#endif
