/* tw_worker - what every worker main uses to talk to tubewatchd: its
 * identity from the environment, the config, HELLO, heartbeats, stop
 * signals, and the spawn.request / stream.event helpers. */
#ifndef TW_WORKER_H
#define TW_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_cfg.h"
#include "tw_rc.h"

/* Environment set by tubewatchd for every child. */
#define TW_ENV_WORKER       "TUBEWATCH_WORKER"       /* "chat@VIDEO" */
#define TW_ENV_INSTANCE     "TUBEWATCH_INSTANCE"     /* "VIDEO" or "" */
#define TW_ENV_EPOCH        "TUBEWATCH_EPOCH"        /* incarnation number */
#define TW_ENV_CONFIG       "TUBEWATCH_CONFIG"       /* absolute config path */
#define TW_ENV_RUNTIME_DIR  "TUBEWATCH_RUNTIME_DIR"  /* 0700 runtime dir */
#define TW_ENV_SUP_ENDPOINT "TUBEWATCH_SUP_ENDPOINT" /* ipc://RUNTIME/sup.sock */
#define TW_ENV_STATE_DIR    "TUBEWATCH_STATE_DIR"    /* STATE */
#define TW_ENV_DATA_DIR     "TUBEWATCH_DATA_DIR"     /* DATA */

/* Longest worker name ("chat@" + instance) and instance id. */
#define TW_WORKER_NAME_MAX     96
#define TW_WORKER_INSTANCE_MAX 64

/* Messages between workers and tubewatchd (sup.sock) and on events.sock. */
typedef enum {
    TW_WMSG_HELLO = 1,         /* worker is ready */
    TW_WMSG_HEARTBEAT = 2,     /* worker alive, with counters */
    TW_WMSG_STOP = 3,          /* supervisor asks the worker to stop */
    TW_WMSG_SPAWN_REQUEST = 4, /* start TEMPLATE@INSTANCE at not_before */
    TW_WMSG_STREAM_EVENT = 5,  /* a stream changed state */
    TW_WMSG_WORKER_EVENT = 6,  /* supervisor: a worker failed/recovered */
} tw_wmsg_type_t;

/* One stream.event. Times are Unix microseconds, 0 when unknown. */
typedef struct {
    char video_id[TW_WORKER_INSTANCE_MAX]; /* YouTube video id */
    char channel_id[64];                   /* YouTube channel id */
    char title[256];                       /* stream title (UTF-8) */
    char state[16];                        /* scheduled, live, ended */
    int64_t scheduled_start;               /* planned start */
    int64_t actual_start;                  /* real start */
    int64_t actual_end;                    /* end */
} tw_worker_stream_event_t;

/* A decoded message of any of the types above. */
typedef struct {
    tw_wmsg_type_t type;           /* which message */
    char src[TW_WORKER_NAME_MAX];  /* sender name */
    uint64_t epoch;                /* sender incarnation */
    uint64_t seq;                  /* per-sender counter */
    uint32_t pid;                  /* HELLO, HEARTBEAT: sender pid */
    char kind[32];                 /* HELLO: worker kind */
    uint64_t msgs_in;              /* HEARTBEAT: messages received so far */
    uint64_t msgs_out;             /* HEARTBEAT: messages sent so far */
    uint64_t errors;               /* HEARTBEAT: errors so far */
    uint32_t grace_ms;             /* STOP: time before SIGKILL */
    char tmpl[32];                 /* SPAWN_REQUEST: template name */
    char instance[TW_WORKER_INSTANCE_MAX]; /* SPAWN_REQUEST: instance id */
    int64_t not_before;            /* SPAWN_REQUEST: Unix usec, 0 = now */
    tw_worker_stream_event_t stream; /* STREAM_EVENT */
    char worker[TW_WORKER_NAME_MAX]; /* WORKER_EVENT: worker concerned */
    char state[16];                /* WORKER_EVENT: failed, recovered */
    char text[256];                /* WORKER_EVENT: human summary */
} tw_wmsg_t;

/* Encodes msg into buf (capacity cap). Returns the size, or 0 when it does
 * not fit. */
size_t tw_wmsg_encode(const tw_wmsg_t *msg, void *buf, size_t cap);
/* Decodes one frame into msg. TW_ERR_PROTO on a malformed frame or an
 * unknown type (detail in err). */
tw_rc_t tw_wmsg_decode(const void *data, size_t len, tw_wmsg_t *msg,
                       tw_err_t *err);
/* Returns the wire name of a type ("hello", "stream.event", ...). */
const char *tw_wmsg_name(tw_wmsg_type_t type);

/* True when id is a valid instance id: 1..TW_WORKER_INSTANCE_MAX-1 bytes of
 * [A-Za-z0-9_-]. */
bool tw_worker_valid_instance(const char *id);

/* A worker's connection to its supervisor. */
typedef struct tw_worker tw_worker_t;

/* Reads the environment, loads the config, blocks SIGTERM/SIGINT (handled
 * through tw_worker_signal_fd) and connects to tubewatchd. kind is the
 * worker kind ("scanner", ...). Returns NULL with err set on failure; the
 * caller should then exit 100 (bad config) or 111 (anything else) as *exit
 * says when exit_code is not NULL. */
tw_worker_t *tw_worker_new(const char *kind, int *exit_code, tw_err_t *err);
/* Closes the connection and frees *self_p; safe on NULL. */
void tw_worker_destroy(tw_worker_t **self_p);

/* The loaded configuration (borrowed). */
const tw_cfg_t *tw_worker_cfg(const tw_worker_t *self);
/* This worker's [worker.NAME] section (borrowed), NULL if absent. */
const tw_cfg_worker_t *tw_worker_section(const tw_worker_t *self);
/* Worker name, e.g. "chat@VIDEO" (borrowed). */
const char *tw_worker_name(const tw_worker_t *self);
/* Instance id ("" for a non-template worker) (borrowed). */
const char *tw_worker_instance(const tw_worker_t *self);
/* Incarnation number given by the supervisor. */
uint64_t tw_worker_epoch(const tw_worker_t *self);
/* The ZeroMQ context, for the worker's own sockets (borrowed). */
void *tw_worker_zctx(tw_worker_t *self);

/* Fills items[0] (signal fd) and items[1] (supervisor socket) for the
 * worker's zmq_poll; returns 2. items must hold 2 entries. */
int tw_worker_pollitems(tw_worker_t *self, void *items);
/* Handles whatever is pending on the two items (signals, STOP) and sends a
 * heartbeat when due. Call after every poll. */
void tw_worker_handle(tw_worker_t *self);
/* Milliseconds until the next heartbeat is due: the largest timeout the
 * worker's poll may use. */
int tw_worker_timeout_ms(const tw_worker_t *self);
/* True once SIGTERM/SIGINT or STOP arrived: the worker should finish. */
bool tw_worker_stopping(const tw_worker_t *self);
/* Raw signal fd (readable when SIGTERM/SIGINT is pending). */
int tw_worker_signal_fd(const tw_worker_t *self);

/* Tells the supervisor the worker is ready (HELLO). */
tw_rc_t tw_worker_ready(tw_worker_t *self);
/* Adds to the counters carried by heartbeats. */
void tw_worker_count(tw_worker_t *self, uint64_t in, uint64_t out,
                     uint64_t errors);
/* Sends a heartbeat now (normally tw_worker_handle does it). */
tw_rc_t tw_worker_heartbeat(tw_worker_t *self);
/* Asks tubewatchd to start tmpl@instance at not_before (Unix usec, 0 now). */
tw_rc_t tw_worker_spawn_request(tw_worker_t *self, const char *tmpl,
                                const char *instance, int64_t not_before);
/* Sends a stream.event to tubewatchd (which republishes it). */
tw_rc_t tw_worker_stream_event(tw_worker_t *self,
                               const tw_worker_stream_event_t *ev);

#endif
