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
    SUP_EV_START = 0,   /* operator or config wants it running */
    SUP_EV_STOP = 1,    /* operator, reload or shutdown wants it stopped */
    SUP_EV_RESTART = 2, /* stop (if running) and start again at once */
    SUP_EV_READY = 3,   /* HELLO received */
    SUP_EV_EXIT = 4,    /* the process was reaped (status in the child) */
    SUP_EV_TIMEOUT = 5, /* the child's deadline passed */
    SUP_EV_DEPS = 6,    /* dependencies may have become ready */
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
} sup_ops_t;

/* One supervised worker (owned by the supervisor). */
struct sup_child {
    char name[96];              /* "scanner" or "chat@VIDEO" */
    char instance[64];          /* instance id or "" */
    const tw_cfg_worker_t *cfg; /* its section (borrowed from the cfg) */
    sup_state_t state;          /* current state */
    bool want;                  /* should be running */
    bool speaks;                /* sent HELLO or a heartbeat */
    bool failed_reported;       /* a "failed" event was sent */
    bool watchdog_fired;        /* killed for missing heartbeats */
    pid_t pid;                  /* 0 when not running */
    uint64_t epoch;             /* incarnation of the running process */
    int64_t started_ms;         /* monotonic start of the process */
    int64_t ready_ms;           /* when it became ready */
    int64_t deadline_ms;        /* next SUP_EV_TIMEOUT; 0 = none */
    int64_t last_hb_ms;         /* last HELLO/heartbeat */
    int64_t not_before_us;      /* SCHEDULED: Unix usec to start at */
    int64_t exited_ms;          /* monotonic time of the last exit */
    int last_status;            /* wait status of the last exit */
    bool has_exited;            /* last_status is valid */
    uint32_t restarts;          /* restarts so far (status) */
    uint64_t backoff_ms;        /* next young-death delay */
    int64_t history[SUP_CHILD_HISTORY]; /* monotonic restart times (ring) */
    uint32_t nhistory;                  /* entries used in history */
    uint32_t hhead;                     /* next slot of the ring */
    uint64_t msgs;         /* msgs_in + msgs_out of the last beat */
    double msgs_per_s;     /* rate between the last two beats */
    void *log;             /* its sup_log_t (owned by supervisor) */
    bool remove;           /* drop from the table once stopped */
    bool retired_cfg;      /* cfg belongs to a replaced config */
    char note[160];        /* last lifecycle report, for status */
    char drift[240];       /* last drift report ("" = none), for status */
    int64_t drift_at_us;   /* wall time of that report */
    char drift_source[48]; /* source last published */
    int64_t drift_pub_us;  /* when: a source alerts at most once a window,
                              across restarts of the worker */
    uint64_t exits[SUP_EXIT__COUNT]; /* exits so far, by cause */
    uint64_t hb_epoch;     /* incarnation of the last heartbeat counters */
    uint64_t hb_in;        /* msgs_in of that incarnation's last beat */
    uint64_t hb_out;       /* msgs_out of that incarnation's last beat */
    uint64_t hb_errors;    /* errors of that incarnation's last beat */
    uint64_t total_in;     /* msgs_in summed over every incarnation */
    uint64_t total_out;    /* msgs_out summed over every incarnation */
    uint64_t total_errors; /* errors summed over every incarnation */
    sup_drift_count_t drifts[SUP_CHILD_DRIFT_SOURCES]; /* by source */
    uint32_t ndrifts;                                  /* slots used */
    tw_metric_set_t metrics; /* named values of the running process's last
                                heartbeat (empty once it exited) */
};

/* Transition function: returns the new state. */
typedef sup_state_t (*sup_fsm_fn)(const sup_ops_t *ops, sup_child_t *c);
/* The transition table; NULL entries ignore the event. */
extern const sup_fsm_fn sup_fsm[SUP_ST__COUNT][SUP_EV__COUNT];

/* Initialises c for the worker section cfg (state STOPPED). instance may be
 * NULL. */
void sup_child_init(sup_child_t *c, const tw_cfg_worker_t *cfg,
                    const char *instance);
/* Feeds one event to the state machine. */
void sup_child_dispatch(const sup_ops_t *ops, sup_child_t *c, sup_event_t ev);
/* Records the exit of the process (wait status) and dispatches EXIT. */
void sup_child_exited(const sup_ops_t *ops, sup_child_t *c, int status);
/* Name of a state ("running") or event ("exit"). */
const char *sup_child_state_name(sup_state_t st);
const char *sup_child_event_name(sup_event_t ev);
/* True while a process exists for c. */
bool sup_child_alive(const sup_child_t *c);
/* Classifies a wait status. */
sup_exit_cause_t sup_child_exit_cause(int status);
/* Label of a cause ("exit_0", "killed", ...). */
const char *sup_child_exit_cause_name(sup_exit_cause_t cause);
/* Adds one heartbeat's counters (msgs_in, msgs_out, errors as sent by the
 * incarnation epoch, which restart from 0) to c's running totals. */
void sup_child_heartbeat(sup_child_t *c, uint64_t epoch, uint64_t msgs_in,
                         uint64_t msgs_out, uint64_t errors);
/* Replaces c's named values with those of a heartbeat (invalid, unknown
 * and excess names skipped); returns how many were skipped. */
uint32_t sup_child_metrics(sup_child_t *c, const tw_gauge_list_t *gauges);
/* Counts one drift report from source. */
void sup_child_drift(sup_child_t *c, const char *source);
/* Formats the last exit ("exit 1", "signal 9", "" if none) into buf. */
const char *sup_child_exit_str(const sup_child_t *c, char *buf, size_t cap);

#endif
