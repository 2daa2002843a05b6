/* sup_child - the per-worker state machine (restart policy, backoff,
 * FAILED, stop escalation, watchdog). */
#include "sup_child.h"

#include <assert.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tw_time.h"

/* One supervised worker. */
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

/* Re-send SIGKILL this often while a killed group lingers. */
#define KILL_REPEAT_MS 1000

static const char *const s_state_names[SUP_ST__COUNT] = {
    "stopped",  "scheduled", "waiting", "starting", "running",
    "stopping", "backoff",   "failed",  "exited"};
static const char *const s_event_names[SUP_EV__COUNT] = {
    "start", "stop", "restart", "ready", "exit", "timeout", "deps", "schedule"};

const char *sup_child_state_name(sup_state_t st)
{
    return (size_t)st < SUP_ST__COUNT ? s_state_names[st] : "?";
}

const char *sup_child_event_name(sup_event_t ev)
{
    return (size_t)ev < SUP_EV__COUNT ? s_event_names[ev] : "?";
}

sup_child_t *sup_child_new(const tw_cfg_worker_t *cfg, const char *instance)
{
    assert(cfg);
    sup_child_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = cfg;
    if (instance && *instance) {
        snprintf(c->name, sizeof c->name, "%s@%s", cfg->name, instance);
        snprintf(c->instance, sizeof c->instance, "%s", instance);
    } else {
        snprintf(c->name, sizeof c->name, "%s", cfg->name);
    }
    c->state = SUP_ST_STOPPED;
    c->backoff_ms = cfg->restart_delay_ms;
    return c;
}

void sup_child_destroy(sup_child_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

bool sup_child_alive(const sup_child_t *c)
{
    assert(c);
    return c->pid > 0;
}

bool sup_child_active(const sup_child_t *c)
{
    assert(c);
    switch (c->state) {
    case SUP_ST_STARTING:
    case SUP_ST_RUNNING:
    case SUP_ST_WAITING:
    case SUP_ST_BACKOFF:
    case SUP_ST_SCHEDULED:
    case SUP_ST_FAILED:
        return true;
    default:
        return c->want;
    }
}

bool sup_child_done(const sup_child_t *c)
{
    assert(c);
    return c->instance[0] && c->state == SUP_ST_EXITED && c->has_exited &&
           WIFEXITED(c->last_status) && WEXITSTATUS(c->last_status) == 0;
}

bool sup_child_settled(const sup_child_t *c)
{
    assert(c);
    return !sup_child_alive(c) &&
           (c->state == SUP_ST_STOPPED || c->state == SUP_ST_EXITED ||
            c->state == SUP_ST_FAILED);
}

const char *sup_child_name(const sup_child_t *c)
{
    assert(c);
    return c->name;
}

const char *sup_child_instance(const sup_child_t *c)
{
    assert(c);
    return c->instance;
}

const tw_cfg_worker_t *sup_child_cfg(const sup_child_t *c)
{
    assert(c);
    return c->cfg;
}

void sup_child_set_cfg(sup_child_t *c, const tw_cfg_worker_t *cfg)
{
    assert(c);
    assert(cfg);
    c->cfg = cfg;
}

sup_state_t sup_child_state(const sup_child_t *c)
{
    assert(c);
    return c->state;
}

pid_t sup_child_pid(const sup_child_t *c)
{
    assert(c);
    return c->pid;
}

uint64_t sup_child_epoch(const sup_child_t *c)
{
    assert(c);
    return c->epoch;
}

bool sup_child_speaks(const sup_child_t *c)
{
    assert(c);
    return c->speaks;
}

int64_t sup_child_deadline(const sup_child_t *c)
{
    assert(c);
    return c->deadline_ms;
}

uint32_t sup_child_restarts(const sup_child_t *c)
{
    assert(c);
    return c->restarts;
}

void *sup_child_log(const sup_child_t *c)
{
    assert(c);
    return c->log;
}

void sup_child_set_log(sup_child_t *c, void *log)
{
    assert(c);
    c->log = log;
}

void sup_child_set_remove(sup_child_t *c, bool remove, bool retired_cfg)
{
    assert(c);
    c->remove = remove;
    c->retired_cfg = retired_cfg;
}

bool sup_child_removing(const sup_child_t *c)
{
    assert(c);
    return c->remove;
}

bool sup_child_retired_cfg(const sup_child_t *c)
{
    assert(c);
    return c->retired_cfg;
}

void sup_child_set_note(sup_child_t *c, const char *what, const char *text)
{
    assert(c);
    assert(what);
    assert(text);
    snprintf(c->note, sizeof c->note, "%s: %s", what, text);
}

void sup_child_view(const sup_child_t *c, sup_child_view_t *v)
{
    assert(c);
    assert(v);
    *v = (sup_child_view_t){.name = c->name,
                            .instance = c->instance,
                            .cfg = c->cfg,
                            .state = c->state,
                            .want = c->want,
                            .pid = c->pid,
                            .epoch = c->epoch,
                            .started_ms = c->started_ms,
                            .deadline_ms = c->deadline_ms,
                            .last_hb_ms = c->last_hb_ms,
                            .not_before_us = c->not_before_us,
                            .restarts = c->restarts,
                            .msgs_per_s = c->msgs_per_s,
                            .note = c->note,
                            .drift = c->drift,
                            .drift_at_us = c->drift_at_us,
                            .exits = c->exits,
                            .total_in = c->total_in,
                            .total_out = c->total_out,
                            .total_errors = c->total_errors,
                            .drifts = c->drifts,
                            .ndrifts = c->ndrifts,
                            .metrics = &c->metrics,
                            .log = c->log};
}

void sup_child_spawned(sup_child_t *c, pid_t pid, uint64_t epoch)
{
    assert(c);
    c->pid = pid;
    c->epoch = epoch;
    c->msgs = 0;
    c->msgs_per_s = 0;
}

void sup_child_hello(const sup_ops_t *ops, sup_child_t *c, int64_t now)
{
    assert(ops);
    assert(c);
    c->speaks = true;
    c->last_hb_ms = now;
    sup_child_dispatch(ops, c, SUP_EV_READY);
}

uint32_t sup_child_beat(sup_child_t *c, int64_t now, uint64_t msgs_in,
                        uint64_t msgs_out, uint64_t errors,
                        const tw_gauge_list_t *gauges)
{
    assert(c);
    assert(gauges);
    uint64_t msgs = msgs_in + msgs_out;
    if (c->speaks && now > c->last_hb_ms && msgs >= c->msgs)
        c->msgs_per_s =
            (double)(msgs - c->msgs) * 1000.0 / (double)(now - c->last_hb_ms);
    c->msgs = msgs;
    sup_child_heartbeat(c, c->epoch, msgs_in, msgs_out, errors);
    uint32_t skipped = sup_child_metrics(c, gauges);
    c->speaks = true;
    c->last_hb_ms = now;
    if (c->state == SUP_ST_RUNNING && !c->watchdog_fired &&
        c->cfg->watchdog_timeout_ms > 0)
        c->deadline_ms = now + (int64_t)c->cfg->watchdog_timeout_ms;
    return skipped;
}

bool sup_child_drift_report(sup_child_t *c, const char *source,
                            const char *text, uint64_t window_ms,
                            int64_t now_us)
{
    assert(c);
    assert(source);
    assert(text);
    /* a worker restarted for the same reason reports it again: one alert
     * per source and window */
    bool publish = !(strcmp(c->drift_source, source) == 0 &&
                     now_us - c->drift_pub_us < (int64_t)window_ms * 1000);
    snprintf(c->drift, sizeof c->drift, "%s", text);
    c->drift_at_us = now_us;
    sup_child_drift(c, source);
    if (publish) {
        snprintf(c->drift_source, sizeof c->drift_source, "%s", source);
        c->drift_pub_us = now_us;
    }
    return publish;
}

const char *sup_child_exit_str(const sup_child_t *c, char *buf, size_t cap)
{
    if (!c->has_exited)
        snprintf(buf, cap, "%s", "");
    else if (WIFEXITED(c->last_status))
        snprintf(buf, cap, "exit %d", WEXITSTATUS(c->last_status));
    else if (WIFSIGNALED(c->last_status))
        snprintf(buf, cap, "signal %d", WTERMSIG(c->last_status));
    else
        snprintf(buf, cap, "status %d", c->last_status);
    return buf;
}

sup_exit_cause_t sup_child_exit_cause(int status)
{
    if (WIFEXITED(status)) {
        switch (WEXITSTATUS(status)) {
        case 0:
            return SUP_EXIT_CLEAN;
        case 100:
            return SUP_EXIT_USAGE;
        case 101:
            return SUP_EXIT_BUG;
        case 111:
            return SUP_EXIT_TEMPORARY;
        default:
            return SUP_EXIT_OTHER;
        }
    }
    if (!WIFSIGNALED(status))
        return SUP_EXIT_OTHER;
    switch (WTERMSIG(status)) {
    case SIGKILL:
        return SUP_EXIT_KILLED;
    case SIGTERM:
    case SIGINT:
    case SIGHUP:
    case SIGQUIT:
        return SUP_EXIT_TERMINATED;
    case SIGSEGV:
    case SIGABRT:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
        return SUP_EXIT_CRASHED;
    default:
        return SUP_EXIT_SIGNAL;
    }
}

const char *sup_child_exit_cause_name(sup_exit_cause_t cause)
{
    static const char *const names[SUP_EXIT__COUNT] = {
        "exit_0", "exit_100",   "exit_101", "exit_111", "exit_other",
        "killed", "terminated", "crashed",  "signal"};
    return (size_t)cause < SUP_EXIT__COUNT ? names[cause] : "?";
}

/* A counter of one incarnation: a value below the last one means the
 * process restarted its count, so all of it is new. */
static uint64_t s_delta(uint64_t now, uint64_t last)
{
    return now >= last ? now - last : now;
}

void sup_child_heartbeat(sup_child_t *c, uint64_t epoch, uint64_t msgs_in,
                         uint64_t msgs_out, uint64_t errors)
{
    assert(c);
    if (epoch != c->hb_epoch) {
        c->hb_epoch = epoch;
        c->hb_in = c->hb_out = c->hb_errors = 0;
    }
    c->total_in += s_delta(msgs_in, c->hb_in);
    c->total_out += s_delta(msgs_out, c->hb_out);
    c->total_errors += s_delta(errors, c->hb_errors);
    c->hb_in = msgs_in;
    c->hb_out = msgs_out;
    c->hb_errors = errors;
}

uint32_t sup_child_metrics(sup_child_t *c, const tw_gauge_list_t *gauges)
{
    assert(c);
    assert(gauges);
    return tw_metric_set_from_list(&c->metrics, gauges);
}

void sup_child_drift(sup_child_t *c, const char *source)
{
    assert(c);
    assert(source);
    for (uint32_t i = 0; i < c->ndrifts; i++) {
        if (strcmp(c->drifts[i].source, source) == 0) {
            c->drifts[i].reports++;
            return;
        }
    }
    if (c->ndrifts == SUP_CHILD_DRIFT_SOURCES) {
        sup_drift_count_t *last = &c->drifts[SUP_CHILD_DRIFT_SOURCES - 1];
        snprintf(last->source, sizeof last->source, "%s", "other");
        last->reports++;
        return;
    }
    sup_drift_count_t *d = &c->drifts[c->ndrifts++];
    snprintf(d->source, sizeof d->source, "%s", source);
    d->reports = 1;
}

static void s_history_clear(sup_child_t *c)
{
    c->nhistory = 0;
    c->hhead = 0;
}

/* Records a restart now; returns how many fell inside restart_window. */
static uint32_t s_history_add(sup_child_t *c, int64_t now)
{
    c->history[c->hhead] = now;
    c->hhead = (c->hhead + 1) % SUP_CHILD_HISTORY;
    if (c->nhistory < SUP_CHILD_HISTORY)
        c->nhistory++;
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->nhistory; i++) {
        if (now - c->history[i] <= (int64_t)c->cfg->restart_window_ms)
            n++;
    }
    return n;
}

static sup_state_t s_to_failed(const sup_ops_t *ops, sup_child_t *c,
                               const char *why)
{
    c->deadline_ms = c->cfg->failed_retry_ms > 0
                         ? ops->now(ops->ctx) + (int64_t)c->cfg->failed_retry_ms
                         : 0;
    c->failed_reported = true;
    ops->report(ops->ctx, c, "failed", why);
    return SUP_ST_FAILED;
}

/* Starts the process (or waits for dependencies). */
static sup_state_t s_launch(const sup_ops_t *ops, sup_child_t *c)
{
    c->want = true;
    if (!ops->deps_ready(ops->ctx, c)) {
        c->deadline_ms = 0;
        return SUP_ST_WAITING;
    }
    c->speaks = false;
    c->watchdog_fired = false;
    tw_rc_t rc = ops->spawn(ops->ctx, c);
    int64_t now = ops->now(ops->ctx);
    if (rc != TW_OK) {
        /* Like a young death: back off, count towards max_restarts. */
        uint32_t n = s_history_add(c, now);
        if (n > c->cfg->max_restarts)
            return s_to_failed(ops, c, "unable to start the process");
        c->deadline_ms = now + (int64_t)c->backoff_ms;
        return SUP_ST_BACKOFF;
    }
    c->started_ms = now;
    c->last_hb_ms = now;
    if (c->cfg->ready_timeout_ms == 0) {
        c->ready_ms = now;
        c->deadline_ms = 0;
        ops->report(ops->ctx, c, "ready", "ready at start (no ready_timeout)");
        return SUP_ST_RUNNING;
    }
    c->deadline_ms = now + (int64_t)c->cfg->ready_timeout_ms;
    return SUP_ST_STARTING;
}

static sup_state_t s_start(const sup_ops_t *ops, sup_child_t *c)
{
    s_history_clear(c);
    c->backoff_ms = c->cfg->restart_delay_ms;
    c->failed_reported = false;
    return s_launch(ops, c);
}

static sup_state_t s_deps(const sup_ops_t *ops, sup_child_t *c)
{
    return s_launch(ops, c);
}

static sup_state_t s_idle_stop(const sup_ops_t *ops, sup_child_t *c)
{
    (void)ops;
    c->want = false;
    c->deadline_ms = 0;
    return SUP_ST_STOPPED;
}

/* Watchdog armed while the worker speaks the protocol, and from its start
 * for a built-in kind, which always does: one that never says a word (hung
 * before its first heartbeat, e.g. between fork and exec) is killed too. A
 * command that does not speak the protocol is never watched. */
static void s_arm_watchdog(sup_child_t *c)
{
    bool builtin = c->cfg->kind && c->cfg->kind[0];
    if ((c->speaks || builtin) && c->cfg->watchdog_timeout_ms > 0)
        c->deadline_ms = c->last_hb_ms + (int64_t)c->cfg->watchdog_timeout_ms;
    else
        c->deadline_ms = 0;
}

static sup_state_t s_ready(const sup_ops_t *ops, sup_child_t *c)
{
    c->ready_ms = ops->now(ops->ctx);
    s_arm_watchdog(c);
    if (c->failed_reported) {
        c->failed_reported = false;
        ops->report(ops->ctx, c, "recovered", "ready again after FAILED");
    } else {
        ops->report(ops->ctx, c, "ready", "ready");
    }
    return SUP_ST_RUNNING;
}

static sup_state_t s_ready_by_timeout(const sup_ops_t *ops, sup_child_t *c)
{
    sup_state_t st = s_ready(ops, c);
    return st;
}

static sup_state_t s_watchdog(const sup_ops_t *ops, sup_child_t *c)
{
    if (c->watchdog_fired) {
        ops->kill(ops->ctx, c, SIGKILL);
        c->deadline_ms = ops->now(ops->ctx) + KILL_REPEAT_MS;
        return SUP_ST_RUNNING;
    }
    char why[96];
    snprintf(why, sizeof why, "no heartbeat for %" PRIu64 " ms, killing",
             c->cfg->watchdog_timeout_ms);
    ops->report(ops->ctx, c, "watchdog", why);
    c->watchdog_fired = true;
    ops->kill(ops->ctx, c, SIGKILL);
    c->deadline_ms = ops->now(ops->ctx) + KILL_REPEAT_MS;
    return SUP_ST_RUNNING;
}

static sup_state_t s_stop_running(const sup_ops_t *ops, sup_child_t *c)
{
    c->want = false;
    ops->report(ops->ctx, c, "stopping", "stop signal sent");
    ops->kill(ops->ctx, c, c->cfg->stop_signal);
    c->deadline_ms = ops->now(ops->ctx) + (int64_t)c->cfg->stop_timeout_ms;
    return SUP_ST_STOPPING;
}

static sup_state_t s_restart_running(const sup_ops_t *ops, sup_child_t *c)
{
    sup_state_t st = s_stop_running(ops, c);
    c->want = true;
    return st;
}

static sup_state_t s_restart_idle(const sup_ops_t *ops, sup_child_t *c)
{
    return s_start(ops, c);
}

static sup_state_t s_stop_timeout(const sup_ops_t *ops, sup_child_t *c)
{
    ops->report(ops->ctx, c, "killed", "stop_timeout passed, SIGKILL");
    ops->kill(ops->ctx, c, SIGKILL);
    c->deadline_ms = ops->now(ops->ctx) + KILL_REPEAT_MS;
    return SUP_ST_STOPPING;
}

static sup_state_t s_stopping_want(const sup_ops_t *ops, sup_child_t *c)
{
    (void)ops;
    c->want = true;
    return SUP_ST_STOPPING;
}

static sup_state_t s_stopping_unwant(const sup_ops_t *ops, sup_child_t *c)
{
    (void)ops;
    c->want = false;
    return SUP_ST_STOPPING;
}

static sup_state_t s_stopping_exit(const sup_ops_t *ops, sup_child_t *c)
{
    char ex[32];
    ops->report(ops->ctx, c, "exited", sup_child_exit_str(c, ex, sizeof ex));
    c->deadline_ms = 0;
    if (c->want)
        return s_start(ops, c);
    return SUP_ST_STOPPED;
}

/* The restart policy, after an exit nobody asked for. */
static sup_state_t s_exit(const sup_ops_t *ops, sup_child_t *c)
{
    const tw_cfg_worker_t *w = c->cfg;
    int64_t now = ops->now(ops->ctx);
    int64_t uptime = now - c->started_ms;
    int st = c->last_status;
    bool exited = WIFEXITED(st);
    int code = exited ? WEXITSTATUS(st) : -1;
    char ex[32], why[160];
    sup_child_exit_str(c, ex, sizeof ex);
    if (c->watchdog_fired)
        snprintf(ex, sizeof ex, "killed by watchdog");
    c->deadline_ms = 0;
    if (exited && code == 100) {
        snprintf(why, sizeof why,
                 "exit 100 (permanent error) after %" PRId64 " ms", uptime);
        return s_to_failed(ops, c, why);
    }
    bool normal = exited && code == 0;
    if (w->restart == TW_RESTART_TEMPORARY ||
        (w->restart == TW_RESTART_TRANSIENT && normal)) {
        snprintf(why, sizeof why, "%s after %" PRId64 " ms, not restarted", ex,
                 uptime);
        ops->report(ops->ctx, c, "exited", why);
        c->want = false;
        return SUP_ST_EXITED;
    }
    c->restarts++;
    uint32_t n = s_history_add(c, now);
    uint32_t max = w->max_restarts;
    if (max >= SUP_CHILD_HISTORY)
        max = SUP_CHILD_HISTORY - 1;
    if (n > max) {
        snprintf(why, sizeof why,
                 "%s; %" PRIu32 " restarts within %" PRIu64
                 " ms (max_restarts %" PRIu32 ")",
                 ex, n, w->restart_window_ms, w->max_restarts);
        return s_to_failed(ops, c, why);
    }
    bool temp = exited && code == 111;
    if (uptime >= (int64_t)w->min_uptime_ms)
        c->backoff_ms = w->restart_delay_ms;
    if (uptime >= (int64_t)w->min_uptime_ms && !temp) {
        snprintf(why, sizeof why, "%s after %" PRId64 " ms, restarting", ex,
                 uptime);
        ops->report(ops->ctx, c, "exited", why);
        return s_launch(ops, c);
    }
    uint64_t delay = c->backoff_ms;
    c->backoff_ms = delay * 2 > w->restart_delay_max_ms
                        ? w->restart_delay_max_ms
                        : delay * 2;
    if (c->backoff_ms == 0)
        c->backoff_ms = w->restart_delay_ms;
    snprintf(why, sizeof why,
             "%s after %" PRId64 " ms, restarting in %" PRIu64 " ms", ex,
             uptime, delay);
    ops->report(ops->ctx, c, "exited", why);
    c->deadline_ms = now + (int64_t)delay;
    return SUP_ST_BACKOFF;
}

static sup_state_t s_backoff_over(const sup_ops_t *ops, sup_child_t *c)
{
    return s_launch(ops, c);
}

static sup_state_t s_failed_retry(const sup_ops_t *ops, sup_child_t *c)
{
    ops->report(ops->ctx, c, "retry", "retrying a FAILED worker");
    return s_launch(ops, c);
}

/* Arms the deadline of a scheduled child from its wall-clock not_before
 * (one extra ms so that it never fires a little early). */
static sup_state_t s_arm_schedule(const sup_ops_t *ops, sup_child_t *c)
{
    /* a span of wall time: the test clock may run it faster */
    int64_t wait_ms =
        tw_time_real_ms((c->not_before_us - ops->wall_us(ops->ctx)) / 1000);
    if (wait_ms < 0)
        wait_ms = 0;
    c->deadline_ms = ops->now(ops->ctx) + wait_ms + (wait_ms > 0 ? 1 : 0);
    return SUP_ST_SCHEDULED;
}

static sup_state_t s_schedule(const sup_ops_t *ops, sup_child_t *c)
{
    c->want = true;
    if (c->not_before_us <= ops->wall_us(ops->ctx))
        return s_start(ops, c);
    return s_arm_schedule(ops, c);
}

static sup_state_t s_scheduled_due(const sup_ops_t *ops, sup_child_t *c)
{
    if (ops->wall_us(ops->ctx) < c->not_before_us)
        return s_arm_schedule(ops, c); /* the wall clock moved */
    return s_start(ops, c);
}

static sup_state_t s_scheduled_stop(const sup_ops_t *ops, sup_child_t *c)
{
    return s_idle_stop(ops, c);
}

/* clang-format off */
const sup_fsm_fn sup_fsm[SUP_ST__COUNT][SUP_EV__COUNT] = {
    /*                 START           STOP               RESTART            READY    EXIT              TIMEOUT             DEPS    SCHEDULE */
    [SUP_ST_STOPPED]   = {s_start,       NULL,              s_restart_idle,    NULL,    NULL,             NULL,               NULL,   s_schedule},
    [SUP_ST_SCHEDULED] = {s_start,       s_scheduled_stop,  s_restart_idle,    NULL,    NULL,             s_scheduled_due,    NULL,   s_arm_schedule},
    [SUP_ST_WAITING]   = {NULL,          s_idle_stop,       NULL,              NULL,    NULL,             NULL,               s_deps, NULL},
    [SUP_ST_STARTING]  = {NULL,          s_stop_running,    s_restart_running, s_ready, s_exit,           s_ready_by_timeout, NULL,   NULL},
    [SUP_ST_RUNNING]   = {NULL,          s_stop_running,    s_restart_running, NULL,    s_exit,           s_watchdog,         NULL,   NULL},
    [SUP_ST_STOPPING]  = {s_stopping_want, s_stopping_unwant, s_stopping_want, NULL,    s_stopping_exit,  s_stop_timeout,     NULL,   NULL},
    [SUP_ST_BACKOFF]   = {s_start,       s_idle_stop,       s_restart_idle,    NULL,    NULL,             s_backoff_over,     NULL,   NULL},
    [SUP_ST_FAILED]    = {s_start,       s_idle_stop,       s_restart_idle,    NULL,    NULL,             s_failed_retry,     NULL,   NULL},
    [SUP_ST_EXITED]    = {s_start,       s_idle_stop,       s_restart_idle,    NULL,    NULL,             NULL,               NULL,   NULL},
};
/* clang-format on */

void sup_child_dispatch(const sup_ops_t *ops, sup_child_t *c, sup_event_t ev)
{
    assert(ops);
    assert(c);
    assert((size_t)ev < SUP_EV__COUNT);
    sup_fsm_fn fn = sup_fsm[c->state][ev];
    if (fn)
        c->state = fn(ops, c);
}

void sup_child_schedule(const sup_ops_t *ops, sup_child_t *c,
                        int64_t not_before_us)
{
    assert(ops);
    assert(c);
    c->not_before_us = not_before_us;
    sup_child_dispatch(ops, c, SUP_EV_SCHEDULE);
}

bool sup_child_due(const sup_ops_t *ops, sup_child_t *c, int64_t now)
{
    assert(ops);
    assert(c);
    if (c->deadline_ms == 0 || now < c->deadline_ms)
        return false;
    c->deadline_ms = 0;
    sup_child_dispatch(ops, c, SUP_EV_TIMEOUT);
    return true;
}

void sup_child_exited(const sup_ops_t *ops, sup_child_t *c, int status)
{
    assert(ops);
    assert(c);
    c->pid = 0;
    c->last_status = status;
    c->has_exited = true;
    c->exits[sup_child_exit_cause(status)]++;
    c->metrics.n = 0; /* they described the process that just ended */
    c->exited_ms = ops->now(ops->ctx);
    sup_child_dispatch(ops, c, SUP_EV_EXIT);
}
