/* sup_child - one supervised worker and its lifecycle: a state machine
 * driven by the transition table sup_fsm[state][event]. Side effects
 * (fork, signals, logging) go through sup_ops_t, so the policy is testable
 * without processes. */
#ifndef SUP_CHILD_H
#define SUP_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tw_cfg.h"
#include "tw_metric.h"
#include "tw_rc.h"

/* Restart times remembered for max_restarts (larger values are capped). */
#define SUP_CHILD_HISTORY 64

/* Lifecycle states. */
typedef enum {
    SUP_ST_STOPPED = 0,   /* not running, not wanted */
    SUP_ST_SCHEDULED = 1, /* template instance waiting for not_before */
    SUP_ST_WAITING = 2,   /* wanted; a dependency is not ready yet */
    SUP_ST_STARTING = 3,  /* running, not ready yet (no HELLO) */
    SUP_ST_RUNNING = 4,   /* running and ready */
    SUP_ST_STOPPING = 5,  /* stop signal sent, waiting for the exit */
    SUP_ST_BACKOFF = 6,   /* died young; restarts when the delay is over */
    SUP_ST_FAILED = 7,    /* gave up for now; retried every failed_retry */
    SUP_ST_EXITED = 8,    /* exited and is not to be restarted */
    SUP_ST__COUNT
} sup_state_t;

/* Events. */
typedef enum {
    SUP_EV_START = 0,    /* operator or config wants it running */
    SUP_EV_STOP = 1,     /* operator, reload or shutdown wants it stopped */
    SUP_EV_RESTART = 2,  /* stop (if running) and start again at once */
    SUP_EV_READY = 3,    /* HELLO received */
    SUP_EV_EXIT = 4,     /* the process was reaped (status in the child) */
    SUP_EV_TIMEOUT = 5,  /* the child's deadline passed */
    SUP_EV_DEPS = 6,     /* dependencies may have become ready */
    SUP_EV_SCHEDULE = 7, /* start at not_before (sup_child_schedule) */
    SUP_EV__COUNT
} sup_event_t;

/* Why a process ended, for the exit counters. */
typedef enum {
    SUP_EXIT_CLEAN = 0,      /* exit 0 */
    SUP_EXIT_USAGE = 1,      /* exit 100: config or usage error */
    SUP_EXIT_BUG = 2,        /* exit 101: internal bug */
    SUP_EXIT_TEMPORARY = 3,  /* exit 111: temporary failure */
    SUP_EXIT_OTHER = 4,      /* any other exit code */
    SUP_EXIT_KILLED = 5,     /* SIGKILL */
    SUP_EXIT_TERMINATED = 6, /* SIGTERM, SIGINT, SIGHUP, SIGQUIT */
    SUP_EXIT_CRASHED = 7,    /* SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL */
    SUP_EXIT_SIGNAL = 8,     /* any other signal */
    SUP_EXIT__COUNT
} sup_exit_cause_t;

/* Drift sources counted per worker (further sources share the last slot). */
#define SUP_CHILD_DRIFT_SOURCES 4

/* Drift reports received from one source. */
typedef struct {
    char source[32];  /* "youtubei", "rss", ... ("other" when the table is full)
                       */
    uint64_t reports; /* DRIFT messages received */
} sup_drift_count_t;

typedef struct sup_child sup_child_t;

/* Side effects the state machine needs from the supervisor. */
typedef struct {
    void *ctx; /* passed to every callback */
    /* Forks and execs the child (sets pid, epoch); rc != TW_OK on failure. */
    tw_rc_t (*spawn)(void *ctx, sup_child_t *c);
    /* Sends sig to the child's process group (and STOP when it speaks the
     * protocol, if sig is its stop signal). */
    void (*kill)(void *ctx, sup_child_t *c, int sig);
    /* True when every worker in c's "after" list is ready. */
    bool (*deps_ready)(void *ctx, const sup_child_t *c);
    /* Reports a lifecycle event: what is "started", "ready", "exited",
     * "failed", "recovered", "watchdog", "stopping", "killed". */
    void (*report)(void *ctx, sup_child_t *c, const char *what,
                   const char *text);
    /* Monotonic milliseconds. */
    int64_t (*now)(void *ctx);
    /* Wall clock, Unix microseconds (timed spawns). */
    int64_t (*wall_us)(void *ctx);
} sup_ops_t;

/* Transition function: returns the new state. */
typedef sup_state_t (*sup_fsm_fn)(const sup_ops_t *ops, sup_child_t *c);
/* The transition table; NULL entries ignore the event. */
extern const sup_fsm_fn sup_fsm[SUP_ST__COUNT][SUP_EV__COUNT];

/* Returns a new child for the worker section cfg (borrowed; it must
 * outlive the child or be replaced with sup_child_set_cfg), state STOPPED.
 * instance may be NULL. NULL when out of memory. */
sup_child_t *sup_child_new(const tw_cfg_worker_t *cfg, const char *instance);
/* Frees *self_p (not its log) and sets it to NULL; safe on NULL. */
void sup_child_destroy(sup_child_t **self_p);

/* Feeds one event to the state machine: the only way a state changes. */
void sup_child_dispatch(const sup_ops_t *ops, sup_child_t *c, sup_event_t ev);
/* Records the exit of the process (wait status) and dispatches EXIT. */
void sup_child_exited(const sup_ops_t *ops, sup_child_t *c, int status);
/* Sets the wall-clock start time (Unix usec) and dispatches SCHEDULE: a
 * stopped child starts at once when the time has come, else it waits in
 * SCHEDULED; a scheduled one moves to the new time. */
void sup_child_schedule(const sup_ops_t *ops, sup_child_t *c,
                        int64_t not_before_us);
/* Dispatches TIMEOUT when c's deadline has passed at now (monotonic ms);
 * returns true if it had. */
bool sup_child_due(const sup_ops_t *ops, sup_child_t *c, int64_t now);
/* The process said HELLO at now: it speaks the protocol; dispatches
 * READY. */
void sup_child_hello(const sup_ops_t *ops, sup_child_t *c, int64_t now);
/* A heartbeat arrived at now with the process's counters and named
 * values: updates the rate and the totals and re-arms the watchdog.
 * Returns how many named values were skipped (invalid, unknown, excess). */
uint32_t sup_child_beat(sup_child_t *c, int64_t now, uint64_t msgs_in,
                        uint64_t msgs_out, uint64_t errors,
                        const tw_gauge_list_t *gauges);
/* Records that spawn started pid as incarnation epoch (for sup_ops_t's
 * spawn callback). */
void sup_child_spawned(sup_child_t *c, pid_t pid, uint64_t epoch);

/* Name of a state ("running") or event ("exit"). */
const char *sup_child_state_name(sup_state_t st);
const char *sup_child_event_name(sup_event_t ev);
/* Classifies a wait status. */
sup_exit_cause_t sup_child_exit_cause(int status);
/* Label of a cause ("exit_0", "killed", ...). */
const char *sup_child_exit_cause_name(sup_exit_cause_t cause);

/* True while a process exists for c. */
bool sup_child_alive(const sup_child_t *c);
/* True while c wants to run or holds a process, a schedule, a backoff or a
 * FAILED retry: what a shutdown has to stop. */
bool sup_child_active(const sup_child_t *c);
/* True when c is a template instance that exited 0 (its job is done). */
bool sup_child_done(const sup_child_t *c);
/* True when no process exists and none is coming (STOPPED, EXITED or
 * FAILED). */
bool sup_child_settled(const sup_child_t *c);

/* "scanner" or "chat@VIDEO". */
const char *sup_child_name(const sup_child_t *c);
/* The instance id of a template instance, "" otherwise. */
const char *sup_child_instance(const sup_child_t *c);
/* Its worker section (borrowed). */
const tw_cfg_worker_t *sup_child_cfg(const sup_child_t *c);
/* Points c at the section of a new config (reload). */
void sup_child_set_cfg(sup_child_t *c, const tw_cfg_worker_t *cfg);
sup_state_t sup_child_state(const sup_child_t *c);
/* 0 when not running. */
pid_t sup_child_pid(const sup_child_t *c);
/* Incarnation of the running (or last) process. */
uint64_t sup_child_epoch(const sup_child_t *c);
/* True once the process sent HELLO or a heartbeat. */
bool sup_child_speaks(const sup_child_t *c);
/* Monotonic ms of the next TIMEOUT; 0 = none. */
int64_t sup_child_deadline(const sup_child_t *c);
/* Restarts so far. */
uint32_t sup_child_restarts(const sup_child_t *c);
/* Its log (a sup_log_t, owned by the supervisor), or NULL. */
void *sup_child_log(const sup_child_t *c);
void sup_child_set_log(sup_child_t *c, void *log);
/* Marks c to be dropped from the table once stopped (remove), and whether
 * its section belongs to a config replaced by a reload (retired_cfg). */
void sup_child_set_remove(sup_child_t *c, bool remove, bool retired_cfg);
bool sup_child_removing(const sup_child_t *c);
bool sup_child_retired_cfg(const sup_child_t *c);
/* Remembers the last lifecycle report, for status. */
void sup_child_set_note(sup_child_t *c, const char *what, const char *text);

/* Everything status and /metrics show about a child, read at one time
 * (pointers borrowed from the child, valid until it changes). */
typedef struct {
    const char *name;                /* "scanner" or "chat@VIDEO" */
    const char *instance;            /* instance id or "" */
    const tw_cfg_worker_t *cfg;      /* its section */
    sup_state_t state;               /* current state */
    bool want;                       /* should be running */
    pid_t pid;                       /* 0 when not running */
    uint64_t epoch;                  /* incarnation */
    int64_t started_ms;              /* monotonic start of the process */
    int64_t deadline_ms;             /* next TIMEOUT; 0 = none */
    int64_t last_hb_ms;              /* last HELLO/heartbeat */
    int64_t not_before_us;           /* SCHEDULED: Unix usec to start at */
    uint32_t restarts;               /* restarts so far */
    double msgs_per_s;               /* rate between the last two beats */
    const char *note;                /* last lifecycle report */
    const char *drift;               /* last drift report, "" = none */
    int64_t drift_at_us;             /* wall time of that report */
    const uint64_t *exits;           /* SUP_EXIT__COUNT counters */
    uint64_t total_in;               /* msgs_in over every incarnation */
    uint64_t total_out;              /* msgs_out over every incarnation */
    uint64_t total_errors;           /* errors over every incarnation */
    const sup_drift_count_t *drifts; /* drift reports by source */
    uint32_t ndrifts;                /* entries in drifts */
    const tw_metric_set_t *metrics;  /* named values of the last beat */
    void *log;                       /* its sup_log_t, or NULL */
} sup_child_view_t;
/* Fills v from c. */
void sup_child_view(const sup_child_t *c, sup_child_view_t *v);

/* Adds one heartbeat's counters (msgs_in, msgs_out, errors as sent by the
 * incarnation epoch, which restart from 0) to c's running totals. */
void sup_child_heartbeat(sup_child_t *c, uint64_t epoch, uint64_t msgs_in,
                         uint64_t msgs_out, uint64_t errors);
/* Replaces c's named values with those of a heartbeat (invalid, unknown
 * and excess names skipped); returns how many were skipped. */
uint32_t sup_child_metrics(sup_child_t *c, const tw_gauge_list_t *gauges);
/* Counts one drift report from source. */
void sup_child_drift(sup_child_t *c, const char *source);
/* Records a drift report (text shown by status) received at now_us about
 * source, whose window is window_ms; returns true when it should be
 * published: one alert per source and window, across restarts. */
bool sup_child_drift_report(sup_child_t *c, const char *source,
                            const char *text, uint64_t window_ms,
                            int64_t now_us);
/* Formats the last exit ("exit 1", "signal 9", "" if none) into buf. */
const char *sup_child_exit_str(const sup_child_t *c, char *buf, size_t cap);

#endif
