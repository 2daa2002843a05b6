/* sup_daemon - tubewatchd's wiring: the side effects of the child state
 * machine (fork/exec, signals, events on events.sock), signals, periodic
 * duties and the one event loop. The runtime dir and its sockets
 * (sup_runtime), the worker socket (sup_wsock), the child table, reload,
 * status and control commands are modules of their own (docs/supervisor.md,
 * "Sources"). */
#define _GNU_SOURCE
#include "sup_daemon.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <zmq.h>

#include "sup_child.h"
#include "sup_control.h"
#include "sup_env.h"
#include "sup_log.h"
#include "sup_metrics.h"
#include "sup_proc.h"
#include "sup_reload.h"
#include "sup_runtime.h"
#include "sup_state.h"
#include "sup_status.h"
#include "sup_table.h"
#include "sup_wsock.h"
#include "tw_cfg.h"
#include "tw_log.h"
#include "tw_loop.h"
#include "tw_time.h"

extern char **environ;

/* Bytes read from one log pipe per loop turn (fairness). */
#define LOG_DRAIN_BYTES (256 * 1024)
/* Messages handled per socket per loop turn. */
#define MSGS_PER_TURN 256

typedef struct {
    tw_cfg_t *boot_cfg;          /* config until the table takes it */
    sup_table_t *table;          /* children and their config */
    sup_control_t *control;      /* control.sock commands */
    char cfg_path[PATH_MAX];     /* absolute config path */
    tw_loop_t *loop;             /* the event loop */
    int *logfds;                 /* log pipes registered on the loop */
    size_t nlogfds;              /* how many */
    uint64_t logs_gen;           /* table generation they match */
    sup_runtime_t *rt;           /* runtime dir, lock, fds, sockets */
    sup_wsock_t *wsock;          /* sup.sock messages */
    sup_logger_t *logger;        /* log writer */
    sup_epoch_t *epoch;          /* incarnation counter */
    sup_ops_t ops;               /* state machine callbacks */
    char status_path[PATH_MAX];  /* RUNTIME/status.json */
    bool shutting_down;          /* stopping everything */
    bool spawns_failing;         /* the last save of spawns.tsv failed */
    bool status_failing;         /* the last write of status.json failed */
    int64_t started_ms;          /* monotonic start of tubewatchd */
    int64_t started_us;          /* wall time tubewatchd started */
    int64_t next_status_ms;      /* next status.json */
    int64_t next_wd_ms;          /* next WATCHDOG=1 */
    uint64_t wd_interval_ms;     /* systemd watchdog period / 3; 0 off */
    uint64_t reloads;            /* config reloads accepted */
    sup_metrics_http_t *metrics; /* GET /metrics, or NULL when off */
} sup_t;

static sup_status_info_t s_info(const sup_t *s)
{
    return (sup_status_info_t){.config_path = s->cfg_path,
                               .started_ms = s->started_ms,
                               .started_us = s->started_us,
                               .shutting_down = s->shutting_down,
                               .bad_msgs =
                                   s->wsock ? sup_wsock_bad_msgs(s->wsock) : 0,
                               .reloads = s->reloads};
}

static tw_rc_t s_reload(sup_t *s, tw_err_t *err)
{
    if (s->shutting_down) {
        tw_err_set(err, "tubewatchd is shutting down");
        return TW_ERR_STATE;
    }
    tw_rc_t rc =
        sup_reload_apply(s->table, &s->ops, s->logger, s->cfg_path, err);
    if (rc == TW_OK)
        s->reloads++;
    return rc;
}

/* ---- state machine callbacks ---- */

static int64_t s_ops_now(void *ctx)
{
    (void)ctx;
    return tw_time_mono_ms();
}

static int64_t s_ops_wall_us(void *ctx)
{
    (void)ctx;
    return tw_time_now_us();
}

static void s_ops_report(void *ctx, sup_child_t *c, const char *what,
                         const char *text)
{
    sup_t *s = ctx;
    const char *name = sup_child_name(c);
    bool loud = strcmp(what, "failed") == 0 || strcmp(what, "watchdog") == 0 ||
                strcmp(what, "killed") == 0;
    if (loud)
        tw_log_warn("%s: %s: %s", name, what, text);
    else
        tw_log_info("%s: %s: %s", name, what, text);
    if (sup_child_log(c))
        sup_log_note(sup_child_log(c), "%s: %s", what, text);
    sup_child_set_note(c, what, text);
    tw_msg_t ev = {.id = TW_MSG_WORKER_EVENT, .epoch = sup_child_epoch(c)};
    snprintf(ev.src, sizeof ev.src, "tubewatchd");
    ev.u.worker_event.worker = (char *)name;
    ev.u.worker_event.state = (char *)what;
    ev.u.worker_event.text = (char *)text;
    ev.u.worker_event.restarts = sup_child_restarts(c);
    char *buf = NULL;
    size_t len = 0;
    if (tw_proto_encode(&ev, &buf, &len, NULL) == TW_OK) {
        char topic[32];
        snprintf(topic, sizeof topic, "worker.%s", what);
        sup_runtime_publish(s->rt, topic, buf, len);
    }
    free(buf);
}

static bool s_ops_deps_ready(void *ctx, const sup_child_t *c)
{
    sup_t *s = ctx;
    return sup_table_deps_ready(s->table, c);
}

static void s_ops_kill(void *ctx, sup_child_t *c, int sig)
{
    sup_t *s = ctx;
    pid_t pid = sup_child_pid(c);
    if (pid <= 0)
        return;
    const tw_cfg_worker_t *w = sup_child_cfg(c);
    if (sig == w->stop_signal && sup_child_speaks(c))
        sup_wsock_stop(s->wsock, c, (uint32_t)w->stop_timeout_ms);
    sup_proc_kill_group(pid, sig);
}

static tw_rc_t s_ops_spawn(void *ctx, sup_child_t *c)
{
    sup_t *s = ctx;
    const tw_cfg_worker_t *w = sup_child_cfg(c);
    const tw_cfg_supervisor_t *sv = &sup_table_cfg(s->table)->supervisor;
    const char *name = sup_child_name(c);
    sup_log_t *log = sup_child_log(c);
    uint64_t epoch = sup_epoch_next(s->epoch);
    sup_env_ids_t ids = {.name = name,
                         .instance = sup_child_instance(c),
                         .epoch = epoch,
                         .config_path = s->cfg_path,
                         .runtime_dir = sup_runtime_dir(s->rt),
                         .sup_endpoint = sup_runtime_sup_endpoint(s->rt),
                         .state_dir = sv->state_dir,
                         .data_dir = sv->data_dir,
                         .libexec_dir = sv->libexec_dir};
    sup_env_t *env = sup_env_new(w, environ, &ids);
    if (!env)
        return TW_ERR_NOMEM;
    char *const *argv = sup_env_argv(env);
    if (access(argv[0], X_OK) != 0) {
        /* The child's exec will fail with exit 100 (FAILED); say why here
         * too, where the operator looks first. */
        tw_log_error("%s: unable to execute %s: %s", name, argv[0],
                     strerror(errno));
    }
    sup_proc_spec_t spec = {.argv = argv,
                            .envp = sup_env_envp(env),
                            .null_fd = sup_runtime_null_fd(s->rt),
                            .out_fd = -1,
                            .memory_limit = w->memory_limit,
                            .open_files = w->open_files};
    pid_t pid = 0;
    tw_err_t err;
    tw_rc_t rc = sup_log_pipe(log, &err); /* opened when a process runs */
    spec.out_fd = sup_log_child_fd(log);
    if (rc == TW_OK)
        rc = sup_proc_spawn(&spec, &pid, &err);
    sup_env_destroy(&env);
    if (rc != TW_OK) {
        tw_log_error("%s: %s", name, err.msg);
        sup_log_note(log, "%s", err.msg);
        return rc;
    }
    sup_child_spawned(c, pid, epoch);
    sup_log_note(log, "started pid %ld epoch %" PRIu64, (long)pid, epoch);
    tw_log_debug("%s: started pid %ld epoch %" PRIu64, name, (long)pid, epoch);
    return TW_OK;
}

/* ---- control hooks ---- */

static json_t *s_hook_status(void *ctx, bool all)
{
    sup_t *s = ctx;
    sup_status_info_t info = s_info(s);
    return sup_status_json(&info, s->table, all);
}

static tw_rc_t s_hook_reload(void *ctx, tw_err_t *err)
{
    return s_reload(ctx, err);
}

/* Stops everything; spawns not saved yet (a batch) are saved first, while
 * every instance is still wanted. */
static void s_shutdown(sup_t *s)
{
    tw_err_t err;
    if (!s->shutting_down && sup_table_spawns_dirty(s->table) &&
        sup_table_save_spawns(s->table, &err) != TW_OK)
        tw_log_error("unable to save spawns: %s", err.msg);
    s->shutting_down = true;
}

static void s_hook_shutdown(void *ctx)
{
    s_shutdown(ctx);
}

static bool s_hook_shutting_down(void *ctx)
{
    const sup_t *s = ctx;
    return s->shutting_down;
}

/* Renders GET /metrics from the child table (called inside the loop). */
static tw_rc_t s_metrics_page(void *ctx, tw_buf_t *out)
{
    sup_t *s = ctx;
    sup_status_info_t info = s_info(s);
    return sup_status_metrics(&info, s->table, out);
}

static void s_reap(sup_t *s)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (size_t i = 0; i < sup_table_count(s->table); i++) {
            sup_child_t *c = sup_table_at(s->table, i);
            if (sup_child_pid(c) != pid)
                continue;
            /* No grandchild outlives its worker. */
            sup_proc_kill_group(pid, SIGKILL);
            sup_log_drain(sup_child_log(c), LOG_DRAIN_BYTES);
            sup_child_exited(&s->ops, c, status);
            break;
        }
    }
}

static void s_on_signals(sup_t *s)
{
    struct signalfd_siginfo si;
    int fd = sup_runtime_signal_fd(s->rt);
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGCHLD:
            s_reap(s);
            break;
        case SIGTERM:
        case SIGINT:
            if (!s->shutting_down)
                tw_log_info("signal %u: stopping all workers", si.ssi_signo);
            s_shutdown(s);
            break;
        case SIGHUP: {
            tw_err_t err = {{0}, 0, 0};
            s_reload(s, &err);
            break;
        }
        default:
            break;
        }
    }
}

/* One pass of everything that depends on time or on other children. */
static void s_tick(sup_t *s)
{
    int64_t now = tw_time_mono_ms();
    size_t n = sup_table_count(s->table);
    for (size_t i = 0; i < n; i++)
        sup_child_due(&s->ops, sup_table_at(s->table, i), now);
    if (s->shutting_down) {
        /* Dependents first: a worker stops once nothing live needs it. */
        for (size_t i = 0; i < n; i++) {
            sup_child_t *c = sup_table_at(s->table, i);
            if (sup_child_active(c) && sup_child_state(c) != SUP_ST_STOPPING &&
                !sup_table_has_live_dependents(s->table, c))
                sup_child_dispatch(&s->ops, c, SUP_EV_STOP);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sup_child_t *c = sup_table_at(s->table, i);
        if (sup_child_state(c) == SUP_ST_WAITING)
            sup_child_dispatch(&s->ops, c, SUP_EV_DEPS);
    }
}

static bool s_all_down(const sup_t *s)
{
    for (size_t i = 0; i < sup_table_count(s->table); i++) {
        if (sup_child_alive(sup_table_at(s->table, i)))
            return false;
    }
    return true;
}

static int s_poll_timeout(sup_t *s)
{
    int64_t now = tw_time_mono_ms();
    int64_t t = 1000;
    if (s->next_status_ms - now < t)
        t = s->next_status_ms - now;
    if (s->wd_interval_ms && s->next_wd_ms - now < t)
        t = s->next_wd_ms - now;
    if (sup_table_spawns_dirty(s->table) && t > SUP_TABLE_SPAWNS_BATCH_MS)
        t = SUP_TABLE_SPAWNS_BATCH_MS;
    for (size_t i = 0; i < sup_table_count(s->table); i++) {
        int64_t d = sup_child_deadline(sup_table_at(s->table, i));
        if (d > 0 && d - now < t)
            t = d - now;
    }
    if (s->metrics) {
        int64_t m = sup_metrics_http_timeout_ms(s->metrics);
        if (m >= 0 && m < t)
            t = m;
    }
    return t < 0 ? 0 : (int)t;
}

/* ---- loop callbacks ---- */

static tw_rc_t s_io_signals(tw_loop_t *loop, void *sock, int fd, short revents,
                            void *arg)
{
    (void)loop, (void)sock, (void)fd, (void)revents;
    s_on_signals(arg);
    return TW_OK;
}

static tw_rc_t s_io_workers(tw_loop_t *loop, void *sock, int fd, short revents,
                            void *arg)
{
    (void)loop, (void)sock, (void)fd, (void)revents;
    sup_t *s = arg;
    sup_wsock_run(s->wsock, MSGS_PER_TURN);
    return TW_OK;
}

static tw_rc_t s_io_control(tw_loop_t *loop, void *sock, int fd, short revents,
                            void *arg)
{
    (void)loop, (void)sock, (void)fd, (void)revents;
    sup_t *s = arg;
    sup_control_run(s->control, MSGS_PER_TURN);
    return TW_OK;
}

static tw_rc_t s_io_metrics(tw_loop_t *loop, void *sock, int fd, short revents,
                            void *arg)
{
    (void)loop, (void)sock, (void)fd, (void)revents, (void)arg;
    /* sup_metrics_http_run runs after every pass anyway */
    return TW_OK;
}

/* A child's log pipe is readable: the child is found by its fd, since a
 * pipe closed and a new one opened may share the number. */
static tw_rc_t s_io_log(tw_loop_t *loop, void *sock, int fd, short revents,
                        void *arg)
{
    (void)loop, (void)sock, (void)revents;
    sup_t *s = arg;
    for (size_t i = 0; i < sup_table_count(s->table); i++) {
        sup_log_t *log = sup_child_log(sup_table_at(s->table, i));
        if (sup_log_fd(log) == fd) {
            sup_log_drain(log, LOG_DRAIN_BYTES);
            break;
        }
    }
    return TW_OK;
}

/* Registers the log pipes of the children in the table on the loop, and
 * only those; a no-op while no child was added or dropped. */
static tw_rc_t s_sync_logs(sup_t *s)
{
    if (s->logfds && s->logs_gen == sup_table_generation(s->table))
        return TW_OK;
    for (size_t i = 0; i < s->nlogfds; i++)
        tw_loop_remove_fd(s->loop, s->logfds[i]);
    s->nlogfds = 0;
    size_t n = sup_table_count(s->table);
    int *fds = realloc(s->logfds, (n ? n : 1) * sizeof *fds);
    if (!fds)
        return TW_ERR_NOMEM;
    s->logfds = fds;
    for (size_t i = 0; i < n; i++) {
        int fd = sup_log_fd(sup_child_log(sup_table_at(s->table, i)));
        if (fd < 0)
            continue; /* no process: no pipe */
        tw_rc_t rc = tw_loop_add_fd(s->loop, fd, ZMQ_POLLIN, s_io_log, s);
        if (rc != TW_OK)
            return rc;
        s->logfds[s->nlogfds++] = fd;
    }
    s->logs_gen = sup_table_generation(s->table);
    return TW_OK;
}

/* ---- set-up ---- */

static tw_rc_t s_setup(sup_t *s, const char *config_path)
{
    tw_err_t err = {{0}, 0, 0};
    if (!realpath(config_path, s->cfg_path)) {
        tw_log_error("unable to find %s: %s", config_path, strerror(errno));
        return TW_ERR_CONFIG;
    }
    tw_rc_t rc = sup_reload_load(&s->boot_cfg, s->cfg_path, &err);
    if (rc != TW_OK) {
        tw_log_error("%s config: %s",
                     rc == TW_ERR_IO ? "unable to read the" : "invalid",
                     err.msg);
        return rc;
    }
    const tw_cfg_supervisor_t *sv = &s->boot_cfg->supervisor;
    rc = sup_runtime_new(&s->rt, sv, &err);
    if (rc != TW_OK) {
        tw_log_error("%s", err.msg);
        return rc;
    }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/epoch", sv->state_dir);
    s->epoch = sup_epoch_open(path, &err);
    if (!s->epoch) {
        tw_log_error("%s", err.msg);
        return TW_ERR_IO;
    }
    s->logger =
        sup_logger_new(sv->log_dir, sv->log_max_size, sv->log_keep, &err);
    if (!s->logger) {
        tw_log_error("%s", err.msg);
        return TW_ERR_IO;
    }
    snprintf(s->status_path, sizeof s->status_path, "%s/status.json",
             sup_runtime_dir(s->rt));
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        s->wd_interval_ms = usec / 3000 > 0 ? usec / 3000 : 1;
    s->started_ms = tw_time_mono_ms();
    s->started_us = tw_time_now_us();
    double speed = 1;
    if (tw_time_test_clock(&speed))
        tw_log_warn("TW_TEST_CLOCK is set: the wall clock is simulated and "
                    "runs %g times faster (a test-only setting)",
                    speed);
    char spawns[PATH_MAX + 16];
    snprintf(spawns, sizeof spawns, "%s/spawns.tsv", sv->state_dir);
    s->table = sup_table_new(&s->boot_cfg, s->logger, spawns);
    if (!s->table)
        return TW_ERR_NOMEM;
    sv = &sup_table_cfg(s->table)->supervisor;
    s->ops = (sup_ops_t){.ctx = s,
                         .spawn = s_ops_spawn,
                         .kill = s_ops_kill,
                         .deps_ready = s_ops_deps_ready,
                         .report = s_ops_report,
                         .now = s_ops_now,
                         .wall_us = s_ops_wall_us};
    sup_control_hooks_t hooks = {.ctx = s,
                                 .status = s_hook_status,
                                 .reload = s_hook_reload,
                                 .shutdown = s_hook_shutdown,
                                 .shutting_down = s_hook_shutting_down};
    s->control = sup_control_new(sup_runtime_control_sock(s->rt), s->table,
                                 &s->ops, &hooks);
    sup_wsock_hooks_t whooks = {.ctx = s,
                                .shutting_down = s_hook_shutting_down};
    s->wsock = sup_wsock_new(s->rt, s->table, &s->ops, &whooks);
    s->loop = tw_loop_new();
    if (!s->control || !s->wsock || !s->loop)
        return TW_ERR_NOMEM;
    /* Registration order is callback order: signals (exits) before the
     * workers' messages, control requests last. */
    tw_rc_t lrc = tw_loop_add_fd(s->loop, sup_runtime_signal_fd(s->rt),
                                 ZMQ_POLLIN, s_io_signals, s);
    if (lrc == TW_OK)
        lrc = tw_loop_add_socket(s->loop, sup_runtime_worker_sock(s->rt),
                                 ZMQ_POLLIN, s_io_workers, s);
    if (lrc == TW_OK)
        lrc = tw_loop_add_socket(s->loop, sup_runtime_control_sock(s->rt),
                                 ZMQ_POLLIN, s_io_control, s);
    if (lrc != TW_OK)
        return lrc;
    if (*sv->metrics_listen) {
        s->metrics =
            sup_metrics_http_new(sv->metrics_listen, s_metrics_page, s, &err);
        if (!s->metrics) {
            tw_log_error("%s", err.msg);
            return TW_ERR_IO;
        }
        tw_log_info("serving GET /metrics on %s (port %u)", sv->metrics_listen,
                    (unsigned)sup_metrics_http_port(s->metrics));
        rc = tw_loop_add_fd(s->loop, sup_metrics_http_fd(s->metrics),
                            ZMQ_POLLIN, s_io_metrics, s);
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

static void s_teardown(sup_t *s)
{
    for (size_t i = 0; s->table && i < sup_table_count(s->table); i++) {
        pid_t pid = sup_child_pid(sup_table_at(s->table, i));
        if (pid > 0)
            sup_proc_kill_group(pid, SIGKILL);
    }
    tw_loop_destroy(&s->loop);
    free(s->logfds);
    sup_control_destroy(&s->control);
    sup_table_destroy(&s->table);
    tw_cfg_destroy(&s->boot_cfg);
    sup_metrics_http_destroy(&s->metrics);
    sup_logger_destroy(&s->logger, 5000);
    sup_wsock_destroy(&s->wsock);
    sup_runtime_destroy(&s->rt);
    sup_epoch_destroy(&s->epoch);
}

/* Adds and starts the workers of the config, then the saved instances. */
static tw_rc_t s_start_all(sup_t *s)
{
    const tw_cfg_t *cfg = sup_table_cfg(s->table);
    tw_err_t err;
    for (size_t i = 0; i < cfg->nworkers; i++) {
        const tw_cfg_worker_t *w = &cfg->workers[i];
        if (w->is_template)
            continue;
        if (!sup_table_add(s->table, w, NULL, &err)) {
            tw_log_error("unable to set up %s: %s", w->name, err.msg);
            return TW_ERR_AGAIN;
        }
    }
    for (size_t i = 0; i < sup_table_count(s->table); i++) {
        sup_child_t *c = sup_table_at(s->table, i);
        if (sup_child_cfg(c)->enabled)
            sup_child_dispatch(&s->ops, c, SUP_EV_START);
    }
    sup_table_restore_spawns(s->table, &s->ops);
    return TW_OK;
}

/* A duty retried at every due time: said once when it starts failing
 * (what, err) and once when it works again (a full disk must not flood the
 * log). */
static void s_duty(bool *failing, tw_rc_t rc, const char *what,
                   const tw_err_t *err, const char *again)
{
    if (rc != TW_OK) {
        if (!*failing)
            tw_log_error("%s (retrying): %s", what, err->msg);
        *failing = true;
    } else if (*failing) {
        tw_log_info("%s", again);
        *failing = false;
    }
}

/* The periodic duties: spawns.tsv, status.json, systemd's STATUS and
 * WATCHDOG. */
static void s_housekeeping(sup_t *s)
{
    int64_t now = tw_time_mono_ms();
    if (sup_table_spawns_due(s->table, now) && !s->shutting_down) {
        tw_err_t err = {{0}, 0, 0};
        tw_rc_t rc = sup_table_save_spawns(s->table, &err);
        s_duty(&s->spawns_failing, rc, "unable to save spawns", &err,
               "spawns saved again");
    }
    if (now >= s->next_status_ms) {
        sup_status_info_t info = s_info(s);
        tw_err_t err = {{0}, 0, 0};
        tw_rc_t rc = sup_status_write(s->status_path, &info, s->table, &err);
        s_duty(&s->status_failing, rc, "status file not updated", &err,
               "status file updated again");
        sup_status_notify(&info, s->table);
        uint64_t iv = sup_table_cfg(s->table)->supervisor.status_interval_ms;
        s->next_status_ms = now + (int64_t)(iv > 0 ? iv : 5000);
    }
    if (s->wd_interval_ms && now >= s->next_wd_ms) {
        sd_notify(0, "WATCHDOG=1");
        s->next_wd_ms = now + (int64_t)s->wd_interval_ms;
    }
}

/* Runs until every worker is down after a shutdown. The children's
 * deadlines are many and move at every event, so each pass computes the
 * wait from them instead of keeping one loop timer per child. */
static tw_rc_t s_loop(sup_t *s)
{
    for (;;) {
        s_tick(s);
        if (s->shutting_down && s_all_down(s))
            return TW_OK;
        sup_table_sweep(s->table);
        s_housekeeping(s);
        tw_rc_t rc = s_sync_logs(s);
        if (rc != TW_OK)
            return rc;
        rc = tw_loop_step(s->loop, s_poll_timeout(s));
        if (rc != TW_OK) {
            tw_log_error("unable to poll: %s", tw_rc_str(rc));
            return rc;
        }
        /* Cheap when idle; also handles connection time-outs. */
        if (s->metrics)
            sup_metrics_http_run(s->metrics);
    }
}

tw_rc_t sup_daemon_run(const char *config_path)
{
    assert(config_path);
    sup_t s;
    memset(&s, 0, sizeof s);
    tw_rc_t rc = s_setup(&s, config_path);
    if (rc != TW_OK) {
        s_teardown(&s);
        return rc;
    }
    tw_log_info("started (config %s, runtime %s)", s.cfg_path,
                sup_runtime_dir(s.rt));
    rc = s_start_all(&s);
    if (rc != TW_OK) {
        s_teardown(&s);
        return rc;
    }
    sd_notify(0, "READY=1");
    sup_status_info_t info = s_info(&s);
    sup_status_notify(&info, s.table);
    rc = s_loop(&s);
    info = s_info(&s);
    sup_status_write(s.status_path, &info, s.table, NULL);
    sd_notify(0, "STOPPING=1");
    if (rc == TW_OK)
        tw_log_info("all workers stopped");
    s_teardown(&s);
    return rc;
}
