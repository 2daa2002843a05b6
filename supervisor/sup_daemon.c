/* sup_daemon - tubewatchd: runtime dir, lock, sockets, child table, event
 * loop, reload, shutdown, status. */
#define _GNU_SOURCE
#include "sup_daemon.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <zmq.h>

#include "sup_child.h"
#include "sup_ctl.h"
#include "sup_log.h"
#include "sup_metrics.h"
#include "sup_proc.h"
#include "sup_state.h"
#include "sup_time.h"
#include "tw_time.h"
#include "tw_cfg.h"
#include "tw_log.h"
#include "tw_version.h"
#include "tw_worker.h"

extern char **environ;

/* Configs replaced by reloads whose children are still stopping. */
#define MAX_RETIRED 8
/* Bytes read from one log pipe per loop turn (fairness). */
#define LOG_DRAIN_BYTES (256 * 1024)
/* Messages handled per socket per loop turn. */
#define MSGS_PER_TURN 256

typedef struct {
    tw_cfg_t *cfg;                    /* current config (owned) */
    char cfg_path[PATH_MAX];          /* absolute config path */
    tw_cfg_t *retired[MAX_RETIRED];   /* configs still referenced */
    size_t nretired;                  /* how many */
    sup_child_t **kids;               /* the child table */
    size_t nkids;                     /* children in use */
    size_t capkids;                   /* allocated slots */
    zmq_pollitem_t *items;            /* poll set */
    size_t capitems;                  /* allocated poll items */
    void *zctx;                       /* ZeroMQ context */
    void *ctl;                        /* ROUTER control.sock */
    void *wsock;                      /* ROUTER sup.sock */
    void *pub;                        /* PUB events.sock */
    int sigfd;                        /* signalfd */
    int lockfd;                       /* RUNTIME/lock, flocked */
    int nullfd;                       /* /dev/null for children's stdin */
    sup_logger_t *logger;             /* log writer */
    sup_epoch_t *epoch;               /* incarnation counter */
    sup_ops_t ops;                    /* state machine callbacks */
    char runtime[PATH_MAX - 64];      /* runtime dir */
    char sup_endpoint[PATH_MAX + 32]; /* ipc://RUNTIME/sup.sock */
    char spawns_path[PATH_MAX];       /* STATE/spawns.tsv */
    bool shutting_down;               /* stopping everything */
    bool spawns_dirty;                /* spawns.tsv must be rewritten */
    bool ready_sent;                  /* READY=1 told to systemd */
    int64_t started_ms;               /* monotonic start of tubewatchd */
    int64_t next_status_ms;           /* next status.json */
    int64_t next_wd_ms;               /* next WATCHDOG=1 */
    uint64_t wd_interval_ms;          /* systemd watchdog period / 3; 0 off */
    uint64_t bad_msgs;                /* undecodable worker frames */
    uint64_t reloads;                 /* config reloads accepted */
    int64_t started_us;               /* wall time tubewatchd started */
    sup_metrics_http_t *metrics;      /* GET /metrics, or NULL when off */
} sup_t;

/* ---- small helpers ---- */

static sup_child_t *s_find(sup_t *s, const char *name)
{
    for (size_t i = 0; i < s->nkids; i++) {
        if (strcmp(s->kids[i]->name, name) == 0)
            return s->kids[i];
    }
    return NULL;
}

static int s_mkdirs(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Checks the "after" graph: unknown names and cycles are config errors. */
static tw_rc_t s_check_graph(const tw_cfg_t *cfg, tw_err_t *err)
{
    for (size_t i = 0; i < cfg->nworkers; i++) {
        const tw_cfg_worker_t *w = &cfg->workers[i];
        if (w->is_template && strlen(w->name) > 31) {
            tw_err_set(err,
                       "worker.%s: a template name may have at most 31 "
                       "bytes",
                       w->name);
            return TW_ERR_CONFIG;
        }
        for (size_t j = 0; j < w->after.len; j++) {
            const tw_cfg_worker_t *d = tw_cfg_worker(cfg, w->after.v[j]);
            if (!d) {
                tw_err_set(err, "worker.%s: after names unknown worker '%s'",
                           w->name, w->after.v[j]);
                return TW_ERR_CONFIG;
            }
            if (d->is_template) {
                tw_err_set(err, "worker.%s: after names template '%s'", w->name,
                           w->after.v[j]);
                return TW_ERR_CONFIG;
            }
        }
    }
    /* Longest path is at most nworkers: follow every chain that far. */
    for (size_t i = 0; i < cfg->nworkers; i++) {
        const tw_cfg_worker_t *w = &cfg->workers[i];
        const tw_cfg_worker_t *stack[64];
        size_t idx[64];
        size_t depth = 0;
        stack[0] = w;
        idx[0] = 0;
        depth = 1;
        while (depth > 0) {
            const tw_cfg_worker_t *top = stack[depth - 1];
            if (idx[depth - 1] >= top->after.len) {
                depth--;
                continue;
            }
            const tw_cfg_worker_t *d =
                tw_cfg_worker(cfg, top->after.v[idx[depth - 1]++]);
            if (d == w) {
                tw_err_set(err, "worker.%s: dependency cycle through 'after'",
                           w->name);
                return TW_ERR_CONFIG;
            }
            if (depth >= 64 || depth > cfg->nworkers) {
                tw_err_set(err, "worker.%s: dependency chain too deep",
                           w->name);
                return TW_ERR_CONFIG;
            }
            stack[depth] = d;
            idx[depth] = 0;
            depth++;
        }
    }
    return TW_OK;
}

/* Loads and checks a config; on failure err holds every problem. */
static tw_cfg_t *s_load_cfg(const char *path, tw_err_t *err)
{
    tw_cfg_problem_t *problems = NULL;
    size_t n = 0;
    tw_cfg_t *cfg = tw_cfg_load(path, &problems, &n);
    if (!cfg) {
        size_t off = 0;
        err->msg[0] = '\0';
        for (size_t i = 0; i < n && off < sizeof err->msg - 1; i++) {
            int w =
                snprintf(err->msg + off, sizeof err->msg - off,
                         "%s%s:%d:%d: %s", i ? "; " : "", path,
                         problems[i].line, problems[i].col, problems[i].msg);
            if (w < 0)
                break;
            off += (size_t)w;
        }
        if (n == 0)
            tw_err_set(err, "%s: unable to load the config", path);
        free(problems);
        return NULL;
    }
    free(problems);
    if (s_check_graph(cfg, err) != TW_OK) {
        tw_cfg_destroy(&cfg);
        return NULL;
    }
    return cfg;
}

/* ---- events published on events.sock ---- */

/* Publishes one frame under topic (two ZMQ frames: topic, message). */
static void s_publish_raw(sup_t *s, const char *topic, const void *buf,
                          size_t len)
{
    zmq_send(s->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(s->pub, buf, len, ZMQ_DONTWAIT);
}

/* ---- state machine callbacks ---- */

static int64_t s_ops_now(void *ctx)
{
    (void)ctx;
    return sup_time_mono_ms();
}

static void s_ops_report(void *ctx, sup_child_t *c, const char *what,
                         const char *text)
{
    sup_t *s = ctx;
    bool loud = strcmp(what, "failed") == 0 || strcmp(what, "watchdog") == 0 ||
                strcmp(what, "killed") == 0;
    if (loud)
        tw_log_warn("%s: %s: %s", c->name, what, text);
    else
        tw_log_info("%s: %s: %s", c->name, what, text);
    if (c->log)
        sup_log_note(c->log, "%s: %s", what, text);
    snprintf(c->note, sizeof c->note, "%s: %s", what, text);
    tw_msg_t ev = {.id = TW_MSG_WORKER_EVENT, .epoch = c->epoch};
    snprintf(ev.src, sizeof ev.src, "tubewatchd");
    ev.u.worker_event.worker = c->name;
    ev.u.worker_event.state = (char *)what;
    ev.u.worker_event.text = (char *)text;
    ev.u.worker_event.restarts = c->restarts;
    char *buf = NULL;
    size_t len = 0;
    if (tw_proto_encode(&ev, &buf, &len, NULL) == TW_OK) {
        char topic[32];
        snprintf(topic, sizeof topic, "worker.%s", what);
        s_publish_raw(s, topic, buf, len);
    }
    free(buf);
}

static bool s_ops_deps_ready(void *ctx, const sup_child_t *c)
{
    sup_t *s = ctx;
    for (size_t i = 0; i < c->cfg->after.len; i++) {
        const tw_cfg_worker_t *dw = tw_cfg_worker(s->cfg, c->cfg->after.v[i]);
        if (!dw || !dw->enabled)
            continue; /* a disabled dependency never holds anyone back */
        sup_child_t *d = s_find(s, c->cfg->after.v[i]);
        if (!d || d->state != SUP_ST_RUNNING)
            return false;
    }
    return true;
}

static void s_ops_kill(void *ctx, sup_child_t *c, int sig)
{
    sup_t *s = ctx;
    if (c->pid <= 0)
        return;
    if (sig == c->cfg->stop_signal && c->speaks) {
        tw_msg_t m = {.id = TW_MSG_STOP, .epoch = c->epoch};
        snprintf(m.src, sizeof m.src, "tubewatchd");
        m.u.stop.grace_ms = (uint32_t)c->cfg->stop_timeout_ms;
        char *buf = NULL;
        size_t n = 0;
        if (tw_proto_encode(&m, &buf, &n, NULL) == TW_OK &&
            zmq_send(s->wsock, c->name, strlen(c->name),
                     ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
            zmq_send(s->wsock, buf, n, ZMQ_DONTWAIT);
        free(buf);
    }
    sup_proc_kill_group(c->pid, sig);
}

/* Appends "KEY=VALUE" to the environment being built. */
static void s_env_add(char **envp, size_t *n, size_t cap, char *arena,
                      size_t *off, size_t acap, const char *key,
                      const char *value)
{
    if (*n + 1 >= cap)
        return;
    int w = snprintf(arena + *off, acap - *off, "%s=%s", key, value);
    if (w < 0 || (size_t)w >= acap - *off)
        return;
    envp[(*n)++] = arena + *off;
    *off += (size_t)w + 1;
}

static bool s_env_skip(const char *entry)
{
    static const char *const drop[] = {"TUBEWATCH_WORKER=",
                                       "TUBEWATCH_INSTANCE=",
                                       "TUBEWATCH_EPOCH=",
                                       "TUBEWATCH_CONFIG=",
                                       "TUBEWATCH_RUNTIME_DIR=",
                                       "TUBEWATCH_SUP_ENDPOINT=",
                                       "TUBEWATCH_STATE_DIR=",
                                       "TUBEWATCH_DATA_DIR=",
                                       "NOTIFY_SOCKET=",
                                       "WATCHDOG_PID=",
                                       "WATCHDOG_USEC=",
                                       "LISTEN_FDS=",
                                       "LISTEN_PID=",
                                       "LISTEN_FDNAMES="};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
        if (strncmp(entry, drop[i], strlen(drop[i])) == 0)
            return true;
    }
    return false;
}

/* True when list sets the variable of entry ("KEY=..."). */
static bool s_env_in(const tw_cfg_strv_t *list, const char *entry)
{
    size_t klen = strcspn(entry, "=");
    for (size_t i = 0; i < list->len; i++) {
        if (strncmp(list->v[i], entry, klen) == 0 && list->v[i][klen] == '=')
            return true;
    }
    return false;
}

static tw_rc_t s_ops_spawn(void *ctx, sup_child_t *c)
{
    sup_t *s = ctx;
    const tw_cfg_worker_t *w = c->cfg;
    const tw_cfg_supervisor_t *sv = &s->cfg->supervisor;
    char path[PATH_MAX];
    char *argv_kind[2];
    char **argv;
    char **argv_alloc = NULL;
    if (w->command.len > 0) {
        argv_alloc = calloc(w->command.len + 1, sizeof *argv_alloc);
        if (!argv_alloc)
            return TW_ERR_NOMEM;
        for (size_t i = 0; i < w->command.len; i++)
            argv_alloc[i] = w->command.v[i];
        argv = argv_alloc;
    } else {
        snprintf(path, sizeof path, "%s/tw-%s", sv->libexec_dir, w->kind);
        argv_kind[0] = path;
        argv_kind[1] = NULL;
        argv = argv_kind;
    }
    if (access(argv[0], X_OK) != 0) {
        /* The child's exec will fail with exit 100 (FAILED); say why here
         * too, where the operator looks first. */
        tw_log_error("%s: unable to execute %s: %s", c->name, argv[0],
                     strerror(errno));
    }
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    size_t cap = nenv + w->env.len + 16;
    size_t acap = 8 * PATH_MAX + 1024;
    char **envp = calloc(cap, sizeof *envp);
    char *arena = malloc(acap);
    if (!envp || !arena) {
        free(envp);
        free(arena);
        free(argv_alloc);
        return TW_ERR_NOMEM;
    }
    size_t n = 0, off = 0;
    /* The section's env overrides the inherited one; neither may forge
     * the TUBEWATCH_* identity. */
    for (size_t i = 0; i < nenv; i++) {
        if (!s_env_skip(environ[i]) && !s_env_in(&w->env, environ[i]))
            envp[n++] = environ[i];
    }
    for (size_t i = 0; i < w->env.len && n + 1 < cap; i++) {
        if (!s_env_skip(w->env.v[i]))
            envp[n++] = w->env.v[i];
    }
    uint64_t epoch = sup_epoch_next(s->epoch);
    char epoch_s[24];
    snprintf(epoch_s, sizeof epoch_s, "%" PRIu64, epoch);
    s_env_add(envp, &n, cap, arena, &off, acap, TW_ENV_WORKER, c->name);
    s_env_add(envp, &n, cap, arena, &off, acap, TW_ENV_INSTANCE, c->instance);
    s_env_add(envp, &n, cap, arena, &off, acap, TW_ENV_EPOCH, epoch_s);
    s_env_add(envp, &n, cap, arena, &off, acap, TW_ENV_CONFIG, s->cfg_path);
    s_env_add(envp, &n, cap, arena, &off, acap, TW_ENV_RUNTIME_DIR, s->runtime);
    s_env_add(envp, &n, cap, arena, &off, acap, TW_ENV_SUP_ENDPOINT,
              s->sup_endpoint);
    s_env_add(envp, &n, cap, arena, &off, acap, TW_ENV_STATE_DIR,
              sv->state_dir);
    s_env_add(envp, &n, cap, arena, &off, acap, TW_ENV_DATA_DIR, sv->data_dir);
    envp[n] = NULL;
    sup_proc_spec_t spec = {.argv = argv,
                            .envp = envp,
                            .null_fd = s->nullfd,
                            .out_fd = sup_log_child_fd(c->log),
                            .memory_limit = w->memory_limit,
                            .open_files = w->open_files};
    pid_t pid = 0;
    tw_err_t err;
    tw_rc_t rc = sup_proc_spawn(&spec, &pid, &err);
    free(envp);
    free(arena);
    free(argv_alloc);
    if (rc != TW_OK) {
        tw_log_error("%s: %s", c->name, err.msg);
        sup_log_note(c->log, "%s", err.msg);
        return rc;
    }
    c->pid = pid;
    c->epoch = epoch;
    c->msgs = 0;
    c->msgs_per_s = 0;
    sup_log_note(c->log, "started pid %ld epoch %" PRIu64, (long)pid, epoch);
    tw_log_debug("%s: started pid %ld epoch %" PRIu64, c->name, (long)pid,
                 epoch);
    return TW_OK;
}

/* ---- the child table ---- */

static tw_rc_t s_reserve(sup_t *s, size_t want)
{
    if (want <= s->capkids)
        return TW_OK;
    size_t cap = s->capkids ? s->capkids * 2 : 16;
    while (cap < want)
        cap *= 2;
    sup_child_t **k = realloc(s->kids, cap * sizeof *k);
    if (!k)
        return TW_ERR_NOMEM;
    s->kids = k;
    s->capkids = cap;
    zmq_pollitem_t *it = realloc(s->items, (cap + 4) * sizeof *it);
    if (!it)
        return TW_ERR_NOMEM;
    s->items = it;
    s->capitems = cap + 4;
    return TW_OK;
}

static sup_child_t *s_add_child(sup_t *s, const tw_cfg_worker_t *w,
                                const char *instance, tw_err_t *err)
{
    if (s_reserve(s, s->nkids + 1) != TW_OK) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    sup_child_t *c = malloc(sizeof *c);
    if (!c) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    sup_child_init(c, w, instance);
    c->log = sup_log_open(s->logger, c->name, err);
    if (!c->log) {
        free(c);
        return NULL;
    }
    s->kids[s->nkids++] = c;
    return c;
}

static void s_free_retired(sup_t *s)
{
    for (size_t i = 0; i < s->nkids; i++) {
        if (s->kids[i]->retired_cfg)
            return;
    }
    for (size_t i = 0; i < s->nretired; i++)
        tw_cfg_destroy(&s->retired[i]);
    s->nretired = 0;
}

/* Drops stopped children marked for removal and normally-exited
 * instances. */
static void s_sweep(sup_t *s)
{
    bool removed = false;
    for (size_t i = 0; i < s->nkids;) {
        sup_child_t *c = s->kids[i];
        bool done_instance = c->instance[0] && c->state == SUP_ST_EXITED &&
                             WIFEXITED(c->last_status) &&
                             WEXITSTATUS(c->last_status) == 0;
        bool stopped = !sup_child_alive(c) &&
                       (c->state == SUP_ST_STOPPED ||
                        c->state == SUP_ST_EXITED || c->state == SUP_ST_FAILED);
        if ((c->remove && stopped) || done_instance) {
            sup_log_t *log = c->log;
            sup_log_close(&log);
            if (c->instance[0])
                s->spawns_dirty = true;
            free(c);
            s->kids[i] = s->kids[--s->nkids];
            removed = true;
            continue;
        }
        i++;
    }
    if (removed && s->nretired > 0)
        s_free_retired(s);
}

static size_t s_count_instances(sup_t *s, const char *tmpl)
{
    size_t n = 0, tl = strlen(tmpl);
    for (size_t i = 0; i < s->nkids; i++) {
        const char *nm = s->kids[i]->name;
        if (s->kids[i]->instance[0] && strncmp(nm, tmpl, tl) == 0 &&
            nm[tl] == '@')
            n++;
    }
    return n;
}

/* Arms a SCHEDULED child's deadline from its wall-clock not_before. */
static void s_arm_schedule(sup_child_t *c)
{
    int64_t wait_ms =
        tw_time_real_ms((c->not_before_us - sup_time_real_us()) / 1000);
    if (wait_ms < 0)
        wait_ms = 0;
    c->deadline_ms = sup_time_mono_ms() + wait_ms + (wait_ms > 0 ? 1 : 0);
}

/* Schedules TMPL@INSTANCE at not_before (Unix usec). */
static tw_rc_t s_spawn_instance(sup_t *s, const char *tmpl,
                                const char *instance, int64_t not_before,
                                tw_err_t *err)
{
    if (s->shutting_down) {
        tw_err_set(err, "tubewatchd is shutting down");
        return TW_ERR_STATE;
    }
    const tw_cfg_worker_t *w = tw_cfg_worker(s->cfg, tmpl);
    if (!w || !w->is_template) {
        tw_err_set(err, "no template worker '%s'", tmpl);
        return TW_ERR_NOTFOUND;
    }
    if (!w->enabled) {
        tw_err_set(err, "template '%s' is disabled", tmpl);
        return TW_ERR_STATE;
    }
    if (!tw_worker_valid_instance(instance)) {
        tw_err_set(err, "bad instance id");
        return TW_ERR_INVALID;
    }
    char name[TW_WORKER_NAME_MAX];
    snprintf(name, sizeof name, "%s@%s", tmpl, instance);
    sup_child_t *c = s_find(s, name);
    if (c) {
        if (c->state == SUP_ST_SCHEDULED) {
            c->not_before_us = not_before;
            s_arm_schedule(c);
            s->spawns_dirty = true;
            tw_log_info("%s: rescheduled", name);
        } else if (!sup_child_alive(c) && c->state != SUP_ST_BACKOFF &&
                   c->state != SUP_ST_WAITING) {
            c->remove = false;
            sup_child_dispatch(&s->ops, c, SUP_EV_START);
        }
        return TW_OK;
    }
    if (s_count_instances(s, tmpl) >= w->max_instances) {
        tw_err_set(err,
                   "template '%s' already has max_instances (%" PRIu32
                   ") instances",
                   tmpl, w->max_instances);
        return TW_ERR_TOOBIG;
    }
    c = s_add_child(s, w, instance, err);
    if (!c)
        return TW_ERR_NOMEM;
    c->not_before_us = not_before;
    c->want = true;
    s->spawns_dirty = true;
    if (not_before <= sup_time_real_us()) {
        sup_child_dispatch(&s->ops, c, SUP_EV_START);
    } else {
        char ts[40];
        c->state = SUP_ST_SCHEDULED;
        s_arm_schedule(c);
        sup_log_note(c->log, "scheduled for %s",
                     sup_time_format(not_before, ts, sizeof ts));
        tw_log_info("%s: scheduled for %s", name, ts);
    }
    return TW_OK;
}

static void s_save_spawns(sup_t *s)
{
    sup_spawn_t *v = calloc(s->nkids + 1, sizeof *v);
    if (!v)
        return;
    size_t n = 0;
    for (size_t i = 0; i < s->nkids; i++) {
        sup_child_t *c = s->kids[i];
        if (!c->instance[0] || c->remove || c->state == SUP_ST_EXITED ||
            c->state == SUP_ST_STOPPED)
            continue;
        snprintf(v[n].tmpl, sizeof v[n].tmpl, "%s", c->cfg->name);
        snprintf(v[n].instance, sizeof v[n].instance, "%s", c->instance);
        v[n].not_before = c->not_before_us;
        n++;
    }
    tw_err_t err;
    if (sup_spawns_save(s->spawns_path, v, n, &err) != TW_OK)
        tw_log_error("unable to save spawns: %s", err.msg);
    else
        s->spawns_dirty = false;
    free(v);
}

static void s_restore_spawns(sup_t *s)
{
    /* every instance the templates allow (each at most 10000): a file
     * written before a config change may hold fewer or more */
    size_t cap = 1;
    for (size_t i = 0; i < s->cfg->nworkers; i++)
        if (s->cfg->workers[i].is_template)
            cap += s->cfg->workers[i].max_instances;
    sup_spawn_t *v = calloc(cap, sizeof *v);
    if (!v)
        return;
    size_t n = 0, bad = 0;
    tw_err_t err;
    if (sup_spawns_load(s->spawns_path, v, cap, &n, &bad, &err) != TW_OK)
        tw_log_error("unable to read spawns: %s", err.msg);
    if (bad > 0)
        tw_log_warn("%s: skipped %zu malformed lines", s->spawns_path, bad);
    for (size_t i = 0; i < n; i++) {
        if (s_spawn_instance(s, v[i].tmpl, v[i].instance, v[i].not_before,
                             &err) != TW_OK)
            tw_log_warn("unable to restore %s@%s: %s", v[i].tmpl, v[i].instance,
                        err.msg);
        else
            tw_log_info("restored %s@%s", v[i].tmpl, v[i].instance);
    }
    free(v);
}

/* ---- reload ---- */

static tw_rc_t s_reload(sup_t *s, tw_err_t *err)
{
    if (s->shutting_down) {
        tw_err_set(err, "tubewatchd is shutting down");
        return TW_ERR_STATE;
    }
    tw_cfg_t *nc = s_load_cfg(s->cfg_path, err);
    if (!nc) {
        tw_log_error("reload rejected, running config kept: %s", err->msg);
        return TW_ERR_CONFIG;
    }
    if (s->nretired == MAX_RETIRED) {
        tw_cfg_destroy(&nc);
        tw_err_set(err, "too many reloads in flight; try again when the "
                        "removed workers have stopped");
        return TW_ERR_AGAIN;
    }
    const tw_cfg_supervisor_t *a = &s->cfg->supervisor, *b = &nc->supervisor;
    if (strcmp(a->runtime_dir, b->runtime_dir) != 0 ||
        strcmp(a->log_dir, b->log_dir) != 0 ||
        strcmp(a->state_dir, b->state_dir) != 0)
        tw_log_warn("reload: runtime_dir, log_dir and state_dir changes "
                    "take effect at the next start of tubewatchd");
    if (strcmp(a->metrics_listen, b->metrics_listen) != 0)
        tw_log_warn("reload: metrics_listen changes take effect at the next "
                    "start of tubewatchd");
    sup_logger_set_limits(s->logger, b->log_max_size, b->log_keep);
    size_t added = 0, removed = 0, changed = 0;
    size_t nold = s->nkids;
    bool any_retired = false;
    for (size_t i = 0; i < nold; i++) {
        sup_child_t *c = s->kids[i];
        if (c->remove)
            continue;
        const tw_cfg_worker_t *nw = tw_cfg_worker(nc, c->cfg->name);
        bool was_tmpl = c->instance[0] != '\0';
        if (!nw || nw->is_template != was_tmpl) {
            c->remove = true;
            c->retired_cfg = true;
            any_retired = true;
            sup_child_dispatch(&s->ops, c, SUP_EV_STOP);
            removed++;
            continue;
        }
        bool same = tw_cfg_worker_equal(c->cfg, nw);
        c->cfg = nw;
        if (same)
            continue;
        changed++;
        sup_log_note(c->log, "config changed");
        if (!nw->enabled) {
            sup_child_dispatch(&s->ops, c, SUP_EV_STOP);
        } else if (sup_child_alive(c)) {
            sup_child_dispatch(&s->ops, c, SUP_EV_RESTART);
        } else if (c->state != SUP_ST_SCHEDULED) {
            sup_child_dispatch(&s->ops, c, SUP_EV_START);
        }
    }
    for (size_t i = 0; i < nc->nworkers; i++) {
        const tw_cfg_worker_t *nw = &nc->workers[i];
        if (nw->is_template)
            continue;
        sup_child_t *old = s_find(s, nw->name);
        if (old && old->remove) {
            /* Removed by an earlier reload and still stopping: keep it. */
            old->remove = false;
            old->retired_cfg = false;
            old->cfg = nw;
            added++;
            if (nw->enabled)
                sup_child_dispatch(&s->ops, old, SUP_EV_START);
            continue;
        }
        if (old)
            continue;
        sup_child_t *c = s_add_child(s, nw, NULL, err);
        if (!c) {
            tw_log_error("reload: unable to add %s: %s", nw->name, err->msg);
            continue;
        }
        added++;
        if (nw->enabled)
            sup_child_dispatch(&s->ops, c, SUP_EV_START);
    }
    if (any_retired)
        s->retired[s->nretired++] = s->cfg;
    else
        tw_cfg_destroy(&s->cfg);
    s->cfg = nc;
    s->reloads++;
    tw_log_info("reloaded %s: %zu added, %zu removed, %zu changed", s->cfg_path,
                added, removed, changed);
    tw_err_set(err, "%zu added, %zu removed, %zu changed", added, removed,
               changed);
    return TW_OK;
}

/* ---- status ---- */

/* Renders GET /metrics from the child table (called inside the loop). */
static tw_rc_t s_metrics_page(void *ctx, tw_buf_t *out)
{
    sup_t *s = ctx;
    sup_metrics_worker_t *w = calloc(s->nkids ? s->nkids : 1, sizeof *w);
    if (!w)
        return TW_ERR_NOMEM;
    int64_t now = sup_time_mono_ms();
    for (size_t i = 0; i < s->nkids; i++) {
        const sup_child_t *c = s->kids[i];
        w[i] = (sup_metrics_worker_t){
            .name = c->name,
            .kind = c->cfg->kind,
            .state = c->state,
            .up = c->state == SUP_ST_RUNNING,
            .restarts = c->restarts,
            .exits = c->exits,
            .msgs_in = c->total_in,
            .msgs_out = c->total_out,
            .errors = c->total_errors,
            .heartbeat_age_s = sup_child_alive(c) && c->last_hb_ms > 0
                                   ? (double)(now - c->last_hb_ms) / 1000.0
                                   : -1.0,
            .log_dropped = c->log ? sup_log_dropped(c->log) : 0,
            .drifts = c->drifts,
            .ndrifts = c->ndrifts,
            .instance = c->instance,
            .metrics = &c->metrics};
    }
    sup_metrics_global_t g = {.version = TW_VERSION,
                              .start_time_s = (double)s->started_us / 1e6,
                              .bad_msgs = s->bad_msgs,
                              .reloads = s->reloads};
    tw_rc_t rc = sup_metrics_render(out, &g, w, s->nkids);
    free(w);
    return rc;
}

static json_t *s_child_json(sup_t *s, const sup_child_t *c, int64_t now)
{
    char ex[32];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "state",
                        json_string(sup_child_state_name(c->state)));
    json_object_set_new(o, "pid", json_integer(c->pid));
    json_object_set_new(o, "epoch", json_integer((json_int_t)c->epoch));
    json_object_set_new(
        o, "uptime_ms",
        json_integer(sup_child_alive(c) ? now - c->started_ms : 0));
    json_object_set_new(o, "restarts", json_integer(c->restarts));
    json_object_set_new(o, "last_exit",
                        json_string(sup_child_exit_str(c, ex, sizeof ex)));
    json_object_set_new(o, "msgs_per_s", json_real(c->msgs_per_s));
    json_object_set_new(o, "wanted", json_boolean(c->want));
    json_object_set_new(o, "note", json_string(c->note));
    if (c->drift[0]) {
        char ts[40];
        json_object_set_new(o, "drift", json_string(c->drift));
        json_object_set_new(
            o, "drift_at",
            json_string(sup_time_format(c->drift_at_us, ts, sizeof ts)));
    }
    if (c->deadline_ms > 0 &&
        (c->state == SUP_ST_BACKOFF || c->state == SUP_ST_FAILED ||
         c->state == SUP_ST_SCHEDULED))
        json_object_set_new(
            o, "next_start_ms",
            json_integer(c->deadline_ms > now ? c->deadline_ms - now : 0));
    if (c->state == SUP_ST_SCHEDULED) {
        char ts[40];
        json_object_set_new(
            o, "not_before",
            json_string(sup_time_format(c->not_before_us, ts, sizeof ts)));
    }
    json_object_set_new(o, "log_dropped",
                        json_integer((json_int_t)sup_log_dropped(c->log)));
    if (c->state == SUP_ST_WAITING) {
        for (size_t i = 0; i < c->cfg->after.len; i++) {
            sup_child_t *d = s_find(s, c->cfg->after.v[i]);
            if (d && d->state != SUP_ST_RUNNING) {
                json_object_set_new(o, "waiting_for", json_string(d->name));
                break;
            }
        }
    }
    return o;
}

static json_t *s_status_json(sup_t *s)
{
    int64_t now = sup_time_mono_ms();
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_true());
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "version", json_string(TW_VERSION));
    json_object_set_new(o, "config", json_string(s->cfg_path));
    json_object_set_new(o, "uptime_ms", json_integer(now - s->started_ms));
    json_object_set_new(o, "shutting_down", json_boolean(s->shutting_down));
    json_t *arr = json_array();
    for (size_t i = 0; i < s->nkids; i++)
        json_array_append_new(arr, s_child_json(s, s->kids[i], now));
    json_object_set_new(o, "workers", arr);
    return o;
}

static void s_write_status_file(sup_t *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "time", json_integer(sup_time_real_us() / 1000000));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "shutting_down", json_boolean(s->shutting_down));
    json_t *ws = json_object();
    for (size_t i = 0; i < s->nkids; i++) {
        sup_child_t *c = s->kids[i];
        json_t *w = json_object();
        json_object_set_new(w, "state",
                            json_string(sup_child_state_name(c->state)));
        json_object_set_new(w, "pid", json_integer(c->pid));
        json_object_set_new(w, "restarts", json_integer(c->restarts));
        json_object_set_new(ws, c->name, w);
    }
    json_object_set_new(o, "workers", ws);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/status.json", s->runtime);
    size_t len = strlen(text);
    text[len] = '\n';
    /* No fsync: the runtime dir is volatile by nature. */
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ssize_t w = write(fd, text, len + 1);
        close(fd);
        if (w == (ssize_t)(len + 1))
            rename(tmp, path);
        else
            unlink(tmp);
    }
    free(text);
}

static void s_notify_status(sup_t *s)
{
    size_t run = 0, failed = 0, other = 0;
    for (size_t i = 0; i < s->nkids; i++) {
        sup_state_t st = s->kids[i]->state;
        if (st == SUP_ST_RUNNING)
            run++;
        else if (st == SUP_ST_FAILED)
            failed++;
        else
            other++;
    }
    sd_notifyf(0, "STATUS=%s%zu running, %zu failed, %zu other",
               s->shutting_down ? "stopping: " : "", run, failed, other);
}

/* ---- control socket ---- */

static void s_reply(sup_t *s, zmq_msg_t *env, size_t nenv, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    for (size_t i = 0; i < nenv; i++)
        zmq_msg_send(&env[i], s->ctl, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(s->ctl, text ? text : "{}", text ? strlen(text) : 2, ZMQ_DONTWAIT);
    free(text);
}

static json_t *s_error_json(tw_rc_t rc, const char *msg)
{
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_false());
    json_object_set_new(o, "rc", json_integer(rc));
    json_object_set_new(o, "error", json_string(msg));
    return o;
}

static json_t *s_ok_json(const char *msg)
{
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_true());
    if (msg && *msg)
        json_object_set_new(o, "message", json_string(msg));
    return o;
}

static json_t *s_named(sup_t *s, const sup_ctl_req_t *req)
{
    if (s->shutting_down && req->cmd != SUP_CMD_STOP)
        return s_error_json(TW_ERR_STATE, "tubewatchd is shutting down");
    sup_child_t *c = s_find(s, req->name);
    if (!c) {
        const tw_cfg_worker_t *w = tw_cfg_worker(s->cfg, req->name);
        char msg[320];
        if (w && w->is_template)
            snprintf(msg, sizeof msg,
                     "'%s' is a template: use spawn %s INSTANCE", req->name,
                     req->name);
        else
            snprintf(msg, sizeof msg, "no worker '%s'", req->name);
        return s_error_json(TW_ERR_NOTFOUND, msg);
    }
    sup_event_t ev = req->cmd == SUP_CMD_START  ? SUP_EV_START
                     : req->cmd == SUP_CMD_STOP ? SUP_EV_STOP
                                                : SUP_EV_RESTART;
    if (ev == SUP_EV_STOP && c->instance[0]) {
        c->remove = true;
        s->spawns_dirty = true;
    }
    if (ev != SUP_EV_STOP)
        c->remove = false;
    sup_child_dispatch(&s->ops, c, ev);
    char msg[320];
    snprintf(msg, sizeof msg, "%s: %s", c->name,
             sup_child_state_name(c->state));
    json_t *o = s_ok_json(msg);
    json_object_set_new(o, "state",
                        json_string(sup_child_state_name(c->state)));
    return o;
}

static json_t *s_handle_request(sup_t *s, const void *data, size_t len)
{
    sup_ctl_req_t req;
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = sup_ctl_parse(data, len, &req, &err);
    if (rc != TW_OK)
        return s_error_json(rc, err.msg);
    switch (req.cmd) {
    case SUP_CMD_STATUS:
        return s_status_json(s);
    case SUP_CMD_START:
    case SUP_CMD_STOP:
    case SUP_CMD_RESTART:
        return s_named(s, &req);
    case SUP_CMD_SPAWN:
        rc = s_spawn_instance(s, req.tmpl, req.instance, req.not_before, &err);
        if (rc != TW_OK)
            return s_error_json(rc, err.msg);
        return s_ok_json("scheduled");
    case SUP_CMD_RELOAD:
        rc = s_reload(s, &err);
        if (rc != TW_OK)
            return s_error_json(rc, err.msg);
        return s_ok_json(err.msg);
    case SUP_CMD_SHUTDOWN:
        tw_log_info("shutdown requested over the control socket");
        s->shutting_down = true;
        return s_ok_json("shutting down");
    case SUP_CMD_VERSION: {
        json_t *o = s_ok_json(NULL);
        json_object_set_new(o, "version", json_string(TW_VERSION));
        return o;
    }
    }
    return s_error_json(TW_ERR_INTERNAL, "unhandled command");
}

static void s_on_control(sup_t *s)
{
    for (int turn = 0; turn < MSGS_PER_TURN; turn++) {
        zmq_msg_t parts[8];
        size_t n = 0;
        bool more = true;
        bool overflow = false;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s->ctl, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                if (n == 0)
                    return;
                break;
            }
            more = zmq_msg_more(&m);
            if (n < 8)
                parts[n++] = m;
            else {
                overflow = true;
                zmq_msg_close(&m);
            }
        }
        if (n < 2 || overflow) {
            for (size_t i = 0; i < n; i++)
                zmq_msg_close(&parts[i]);
            continue;
        }
        json_t *reply = s_handle_request(s, zmq_msg_data(&parts[n - 1]),
                                         zmq_msg_size(&parts[n - 1]));
        s_reply(s, parts, n - 1, reply);
        for (size_t i = 0; i < n; i++)
            zmq_msg_close(&parts[i]);
    }
}

/* ---- worker socket ---- */

static void s_on_worker_msg(sup_t *s, const char *ident, const tw_msg_t *m,
                            const void *raw, size_t rawlen)
{
    if (m->id == TW_MSG_STREAM_EVENT) {
        const tw_msg_stream_event_t *e = &m->u.stream_event;
        tw_log_info("stream.event from %s: %s %s", ident, e->video_id,
                    tw_proto_stream_state_str(e->state));
        s_publish_raw(s, "stream.event", raw, rawlen);
        return;
    }
    if (m->id == TW_MSG_DRIFT) {
        const tw_msg_drift_t *d = &m->u.drift;
        sup_child_t *dc = s_find(s, ident);
        tw_log_warn("drift from %s: %s: %" PRIu32 " in %" PRIu64 " s: %s",
                    ident, d->source, d->count, d->window_ms / 1000, d->what);
        bool publish = true;
        if (dc) {
            int64_t now_us = sup_time_real_us();
            /* a worker restarted for the same reason reports it again:
             * one alert per source and window */
            if (strcmp(dc->drift_source, d->source) == 0 &&
                now_us - dc->drift_pub_us < (int64_t)d->window_ms * 1000)
                publish = false;
            snprintf(dc->drift, sizeof dc->drift,
                     "%s: %" PRIu32 " answers not understood in %" PRIu64
                     " s; latest: %s",
                     d->source, d->count, d->window_ms / 1000, d->what);
            dc->drift_at_us = now_us;
            sup_child_drift(dc, d->source);
            if (publish) {
                snprintf(dc->drift_source, sizeof dc->drift_source, "%s",
                         d->source);
                dc->drift_pub_us = now_us;
            }
            if (dc->log)
                sup_log_note(dc->log, "drift: %s", dc->drift);
        }
        if (publish)
            s_publish_raw(s, "drift", raw, rawlen);
        return;
    }
    if (m->id == TW_MSG_SPAWN_REQUEST) {
        const tw_msg_spawn_request_t *r = &m->u.spawn_request;
        tw_err_t err = {{0}, 0, 0};
        if (s_spawn_instance(s, r->template, r->instance, r->not_before_us,
                             &err) != TW_OK)
            tw_log_warn("spawn.request from %s for %.32s@%.64s refused: %s",
                        ident, r->template, r->instance, err.msg);
        return;
    }
    sup_child_t *c = s_find(s, ident);
    if (!c || !sup_child_alive(c) || m->epoch != c->epoch) {
        tw_log_debug("ignoring %s from %s (not a current incarnation)",
                     tw_proto_name(m->id), ident);
        return;
    }
    int64_t now = sup_time_mono_ms();
    if (m->id == TW_MSG_HELLO) {
        c->speaks = true;
        c->last_hb_ms = now;
        sup_child_dispatch(&s->ops, c, SUP_EV_READY);
    } else if (m->id == TW_MSG_HEARTBEAT) {
        const tw_msg_heartbeat_t *h = &m->u.heartbeat;
        uint64_t msgs = h->msgs_in + h->msgs_out;
        if (c->speaks && now > c->last_hb_ms && msgs >= c->msgs)
            c->msgs_per_s = (double)(msgs - c->msgs) * 1000.0 /
                            (double)(now - c->last_hb_ms);
        c->msgs = msgs;
        sup_child_heartbeat(c, c->epoch, h->msgs_in, h->msgs_out, h->errors);
        uint32_t skipped = sup_child_metrics(c, &h->gauges);
        if (skipped > 0)
            tw_log_debug("%s: %" PRIu32 " unknown heartbeat value(s) ignored",
                         c->name, skipped);
        c->speaks = true;
        c->last_hb_ms = now;
        if (c->state == SUP_ST_RUNNING && !c->watchdog_fired &&
            c->cfg->watchdog_timeout_ms > 0)
            c->deadline_ms = now + (int64_t)c->cfg->watchdog_timeout_ms;
    }
}

static void s_on_workers(sup_t *s)
{
    for (int turn = 0; turn < MSGS_PER_TURN; turn++) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, s->wsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return;
        }
        zmq_msg_init(&body);
        bool ok = zmq_msg_more(&id) &&
                  zmq_msg_recv(&body, s->wsock, ZMQ_DONTWAIT) >= 0;
        while (zmq_msg_more(ok ? &body : &id)) {
            /* Extra frames: drain and count as malformed. */
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            int r = zmq_msg_recv(&extra, s->wsock, ZMQ_DONTWAIT);
            bool more = r >= 0 && zmq_msg_more(&extra);
            zmq_msg_close(&extra);
            ok = false;
            if (!more)
                break;
        }
        char ident[TW_WORKER_NAME_MAX];
        size_t il = zmq_msg_size(&id);
        tw_err_t err = {{0}, 0, 0};
        if (ok && il > 0 && il < sizeof ident) {
            memcpy(ident, zmq_msg_data(&id), il);
            ident[il] = '\0';
            tw_msg_t m;
            if (tw_proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &m,
                                &err) == TW_OK) {
                s_on_worker_msg(s, ident, &m, zmq_msg_data(&body),
                                zmq_msg_size(&body));
                tw_proto_clear(&m);
            } else {
                ok = false;
            }
        } else {
            ok = false;
        }
        if (!ok) {
            s->bad_msgs++;
            /* Powers of two keep a spamming peer from flooding the log. */
            if ((s->bad_msgs & (s->bad_msgs - 1)) == 0)
                tw_log_warn("dropped %" PRIu64 " malformed worker frames "
                            "(last: %s)",
                            s->bad_msgs, err.msg[0] ? err.msg : "framing");
        }
        zmq_msg_close(&id);
        zmq_msg_close(&body);
    }
}

/* ---- signals and children ---- */

static void s_reap(sup_t *s)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (size_t i = 0; i < s->nkids; i++) {
            sup_child_t *c = s->kids[i];
            if (c->pid != pid)
                continue;
            /* No grandchild outlives its worker. */
            sup_proc_kill_group(pid, SIGKILL);
            sup_log_drain(c->log, LOG_DRAIN_BYTES);
            sup_child_exited(&s->ops, c, status);
            break;
        }
    }
}

static void s_on_signals(sup_t *s)
{
    struct signalfd_siginfo si;
    while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGCHLD:
            s_reap(s);
            break;
        case SIGTERM:
        case SIGINT:
            if (!s->shutting_down)
                tw_log_info("signal %u: stopping all workers", si.ssi_signo);
            s->shutting_down = true;
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

/* True while some live worker lists c in its "after". */
static bool s_has_live_dependents(sup_t *s, const sup_child_t *c)
{
    if (c->instance[0])
        return false;
    for (size_t i = 0; i < s->nkids; i++) {
        sup_child_t *d = s->kids[i];
        if (!sup_child_alive(d))
            continue;
        for (size_t j = 0; j < d->cfg->after.len; j++) {
            if (strcmp(d->cfg->after.v[j], c->name) == 0)
                return true;
        }
    }
    return false;
}

/* One pass of everything that depends on time or on other children. */
static void s_tick(sup_t *s)
{
    int64_t now = sup_time_mono_ms();
    for (size_t i = 0; i < s->nkids; i++) {
        sup_child_t *c = s->kids[i];
        if (c->deadline_ms == 0 || now < c->deadline_ms)
            continue;
        c->deadline_ms = 0;
        if (c->state == SUP_ST_SCHEDULED &&
            sup_time_real_us() < c->not_before_us) {
            s_arm_schedule(c); /* the wall clock moved */
            continue;
        }
        sup_child_dispatch(&s->ops, c, SUP_EV_TIMEOUT);
    }
    if (s->shutting_down) {
        for (size_t i = 0; i < s->nkids; i++) {
            sup_child_t *c = s->kids[i];
            bool active =
                c->want || c->state == SUP_ST_STARTING ||
                c->state == SUP_ST_RUNNING || c->state == SUP_ST_WAITING ||
                c->state == SUP_ST_BACKOFF || c->state == SUP_ST_SCHEDULED ||
                c->state == SUP_ST_FAILED;
            if (active && c->state != SUP_ST_STOPPING &&
                !s_has_live_dependents(s, c))
                sup_child_dispatch(&s->ops, c, SUP_EV_STOP);
        }
        return;
    }
    for (size_t i = 0; i < s->nkids; i++) {
        if (s->kids[i]->state == SUP_ST_WAITING)
            sup_child_dispatch(&s->ops, s->kids[i], SUP_EV_DEPS);
    }
}

static bool s_all_down(sup_t *s)
{
    for (size_t i = 0; i < s->nkids; i++) {
        if (sup_child_alive(s->kids[i]))
            return false;
    }
    return true;
}

static int s_poll_timeout(sup_t *s)
{
    int64_t now = sup_time_mono_ms();
    int64_t t = 1000;
    if (s->next_status_ms - now < t)
        t = s->next_status_ms - now;
    if (s->wd_interval_ms && s->next_wd_ms - now < t)
        t = s->next_wd_ms - now;
    for (size_t i = 0; i < s->nkids; i++) {
        int64_t d = s->kids[i]->deadline_ms;
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

/* ---- set-up ---- */

/* Kills what a previous tubewatchd left behind in this runtime dir
 * (grandchildren of workers killed by PDEATHSIG): any process whose
 * environment names our runtime dir. We hold the lock, so none is ours. */
static void s_kill_leftovers(sup_t *s)
{
    char needle[PATH_MAX + 32];
    int nl = snprintf(needle, sizeof needle, "%s=%s", TW_ENV_RUNTIME_DIR,
                      s->runtime);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    pid_t self = getpid();
    uid_t uid = getuid();
    size_t killed = 0;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == self)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/environ", pid);
        struct stat st;
        if (stat(path, &st) != 0 || st.st_uid != uid)
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        for (ssize_t off = 0; off < n;) {
            const char *entry = buf + off;
            size_t len = strnlen(entry, (size_t)(n - off));
            if (len == (size_t)nl && memcmp(entry, needle, (size_t)nl) == 0) {
                kill((pid_t)pid, SIGKILL);
                killed++;
                break;
            }
            off += (ssize_t)len + 1;
        }
    }
    closedir(d);
    if (killed > 0)
        tw_log_warn("killed %zu processes left over by a previous "
                    "tubewatchd",
                    killed);
}

static int s_lock(sup_t *s)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/lock", s->runtime);
    s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0) {
        tw_log_error("unable to open %s: %s", path, strerror(errno));
        return TW_EXIT_TEMP;
    }
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(s->lockfd, pid, sizeof pid - 1, 0);
        if (n > 0) {
            pid[n] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
        }
        tw_log_error("unable to lock %s: another tubewatchd (pid %s) is "
                     "running with this runtime_dir",
                     path, pid[0] ? pid : "?");
        return TW_EXIT_TEMP;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(s->lockfd, 0) != 0 ||
        pwrite(s->lockfd, pid, (size_t)n, 0) != n)
        tw_log_warn("unable to write the pid to %s", path);
    return 0;
}

static void *s_bind(sup_t *s, int type, const char *file)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", s->runtime, file);
    unlink(path); /* stale: we hold the lock */
    char endpoint[PATH_MAX + 48];
    snprintf(endpoint, sizeof endpoint, "ipc://%s", path);
    void *sock = zmq_socket(s->zctx, type);
    if (!sock)
        return NULL;
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (type == ZMQ_ROUTER) {
        int one = 1;
        /* A restarted worker reconnects under the same routing id. */
        zmq_setsockopt(sock, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    }
    mode_t old = umask(077);
    int rc = zmq_bind(sock, endpoint);
    umask(old);
    if (rc != 0) {
        tw_log_error("unable to bind %s: %s", endpoint,
                     zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    chmod(path, 0600);
    return sock;
}

static int s_setup(sup_t *s, const char *config_path)
{
    tw_err_t err = {{0}, 0, 0};
    if (!realpath(config_path, s->cfg_path)) {
        tw_log_error("unable to find %s: %s", config_path, strerror(errno));
        return TW_EXIT_USAGE;
    }
    s->cfg = s_load_cfg(s->cfg_path, &err);
    if (!s->cfg) {
        tw_log_error("invalid config: %s", err.msg);
        return TW_EXIT_USAGE;
    }
    const tw_cfg_supervisor_t *sv = &s->cfg->supervisor;
    snprintf(s->runtime, sizeof s->runtime, "%s", sv->runtime_dir);
    /* sockaddr_un holds 108 bytes: "RUNTIME/control.sock" must fit. */
    if (strlen(sv->runtime_dir) + sizeof "/control.sock" > 108) {
        tw_log_error("runtime_dir %s is too long for Unix sockets (at most "
                     "94 bytes)",
                     sv->runtime_dir);
        return TW_EXIT_USAGE;
    }
    if (s_mkdirs(s->runtime, 0700) != 0) {
        tw_log_error("unable to create %s: %s", s->runtime, strerror(errno));
        return TW_EXIT_TEMP;
    }
    struct stat st;
    if (stat(s->runtime, &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid()) {
        tw_log_error("unable to use %s: not a directory owned by us",
                     s->runtime);
        return TW_EXIT_USAGE;
    }
    if ((st.st_mode & 0777) != 0700 && chmod(s->runtime, 0700) != 0) {
        tw_log_error("unable to chmod 0700 %s: %s", s->runtime,
                     strerror(errno));
        return TW_EXIT_TEMP;
    }
    int rc = s_lock(s);
    if (rc != 0)
        return rc;
    if (s_mkdirs(sv->state_dir, 0700) != 0 ||
        s_mkdirs(sv->data_dir, 0750) != 0) {
        tw_log_error("unable to create the state/data dirs: %s",
                     strerror(errno));
        return TW_EXIT_TEMP;
    }
    s_kill_leftovers(s);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Blocked before any thread exists, so every thread inherits it. */
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sigfd < 0) {
        tw_log_error("unable to create signalfd: %s", strerror(errno));
        return TW_EXIT_TEMP;
    }
    /* Orphaned grandchildren come to us, not to init. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    s->nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (s->nullfd < 0) {
        tw_log_error("unable to open /dev/null: %s", strerror(errno));
        return TW_EXIT_TEMP;
    }

    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/epoch", sv->state_dir);
    s->epoch = sup_epoch_open(path, &err);
    if (!s->epoch) {
        tw_log_error("%s", err.msg);
        return TW_EXIT_TEMP;
    }
    snprintf(s->spawns_path, sizeof s->spawns_path, "%s/spawns.tsv",
             sv->state_dir);
    s->logger =
        sup_logger_new(sv->log_dir, sv->log_max_size, sv->log_keep, &err);
    if (!s->logger) {
        tw_log_error("%s", err.msg);
        return TW_EXIT_TEMP;
    }
    s->zctx = zmq_ctx_new();
    if (!s->zctx)
        return TW_EXIT_TEMP;
    s->ctl = s_bind(s, ZMQ_ROUTER, "control.sock");
    s->wsock = s_bind(s, ZMQ_ROUTER, "sup.sock");
    s->pub = s_bind(s, ZMQ_PUB, "events.sock");
    if (!s->ctl || !s->wsock || !s->pub)
        return TW_EXIT_TEMP;
    snprintf(s->sup_endpoint, sizeof s->sup_endpoint, "ipc://%s/sup.sock",
             s->runtime);

    s->ops = (sup_ops_t){.ctx = s,
                         .spawn = s_ops_spawn,
                         .kill = s_ops_kill,
                         .deps_ready = s_ops_deps_ready,
                         .report = s_ops_report,
                         .now = s_ops_now};
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        s->wd_interval_ms = usec / 3000 > 0 ? usec / 3000 : 1;
    s->started_ms = sup_time_mono_ms();
    s->started_us = sup_time_real_us();
    double speed = 1;
    if (tw_time_test_clock(&speed))
        tw_log_warn("TW_TEST_CLOCK is set: the wall clock is simulated and "
                    "runs %g times faster (a test-only setting)",
                    speed);
    if (s_reserve(s, 16) != TW_OK)
        return TW_EXIT_TEMP;
    if (*sv->metrics_listen) {
        s->metrics =
            sup_metrics_http_new(sv->metrics_listen, s_metrics_page, s, &err);
        if (!s->metrics) {
            tw_log_error("%s", err.msg);
            return TW_EXIT_TEMP;
        }
        tw_log_info("serving GET /metrics on %s (port %u)", sv->metrics_listen,
                    (unsigned)sup_metrics_http_port(s->metrics));
    }
    return 0;
}

static void s_teardown(sup_t *s)
{
    for (size_t i = 0; i < s->nkids; i++) {
        sup_child_t *c = s->kids[i];
        if (c->pid > 0)
            sup_proc_kill_group(c->pid, SIGKILL);
        sup_log_t *log = c->log;
        sup_log_close(&log);
        free(c);
    }
    s->nkids = 0;
    sup_metrics_http_destroy(&s->metrics);
    sup_logger_destroy(&s->logger, 5000);
    if (s->ctl)
        zmq_close(s->ctl);
    if (s->wsock)
        zmq_close(s->wsock);
    if (s->pub)
        zmq_close(s->pub);
    if (s->zctx)
        zmq_ctx_term(s->zctx);
    if (s->runtime[0] && s->lockfd >= 0) {
        /* Only the lock holder removes the sockets. */
        const char *files[] = {"control.sock", "sup.sock", "events.sock"};
        for (size_t i = 0; i < 3; i++) {
            char path[PATH_MAX + 32];
            snprintf(path, sizeof path, "%s/%s", s->runtime, files[i]);
            unlink(path);
        }
    }
    sup_epoch_destroy(&s->epoch);
    for (size_t i = 0; i < s->nretired; i++)
        tw_cfg_destroy(&s->retired[i]);
    tw_cfg_destroy(&s->cfg);
    free(s->kids);
    free(s->items);
    if (s->sigfd >= 0)
        close(s->sigfd);
    if (s->nullfd >= 0)
        close(s->nullfd);
    if (s->lockfd >= 0)
        close(s->lockfd);
}

int sup_daemon_run(const char *config_path)
{
    assert(config_path);
    sup_t s;
    memset(&s, 0, sizeof s);
    s.sigfd = -1;
    s.lockfd = -1;
    s.nullfd = -1;
    int code = s_setup(&s, config_path);
    if (code != 0) {
        if (code != TW_EXIT_TEMP || s.lockfd < 0 ||
            flock(s.lockfd, LOCK_EX | LOCK_NB) != 0) {
            /* Not the lock holder: leave the other daemon's files alone. */
            if (s.lockfd >= 0)
                close(s.lockfd);
            s.lockfd = -1;
        }
        s_teardown(&s);
        return code;
    }
    tw_log_info("started (config %s, runtime %s)", s.cfg_path, s.runtime);
    tw_err_t err;
    for (size_t i = 0; i < s.cfg->nworkers; i++) {
        const tw_cfg_worker_t *w = &s.cfg->workers[i];
        if (w->is_template)
            continue;
        if (!s_add_child(&s, w, NULL, &err)) {
            tw_log_error("unable to set up %s: %s", w->name, err.msg);
            s_teardown(&s);
            return TW_EXIT_TEMP;
        }
    }
    for (size_t i = 0; i < s.nkids; i++) {
        if (s.kids[i]->cfg->enabled)
            sup_child_dispatch(&s.ops, s.kids[i], SUP_EV_START);
    }
    s_restore_spawns(&s);
    s.spawns_dirty = false;
    sd_notify(0, "READY=1");
    s.ready_sent = true;
    s_notify_status(&s);

    int exit_code = TW_EXIT_OK;
    for (;;) {
        s_tick(&s);
        if (s.shutting_down && s_all_down(&s))
            break;
        s_sweep(&s);
        if (s.spawns_dirty && !s.shutting_down)
            s_save_spawns(&s);
        int64_t now = sup_time_mono_ms();
        if (now >= s.next_status_ms) {
            s_write_status_file(&s);
            s_notify_status(&s);
            uint64_t iv = s.cfg->supervisor.status_interval_ms;
            s.next_status_ms = now + (int64_t)(iv > 0 ? iv : 5000);
        }
        if (s.wd_interval_ms && now >= s.next_wd_ms) {
            sd_notify(0, "WATCHDOG=1");
            s.next_wd_ms = now + (int64_t)s.wd_interval_ms;
        }
        size_t ni = 0;
        s.items[ni++] = (zmq_pollitem_t){NULL, s.sigfd, ZMQ_POLLIN, 0};
        s.items[ni++] = (zmq_pollitem_t){s.ctl, -1, ZMQ_POLLIN, 0};
        s.items[ni++] = (zmq_pollitem_t){s.wsock, -1, ZMQ_POLLIN, 0};
        for (size_t i = 0; i < s.nkids; i++)
            s.items[ni++] = (zmq_pollitem_t){NULL, sup_log_fd(s.kids[i]->log),
                                             ZMQ_POLLIN, 0};
        if (s.metrics)
            s.items[ni++] = (zmq_pollitem_t){
                NULL, sup_metrics_http_fd(s.metrics), ZMQ_POLLIN, 0};
        int n = zmq_poll(s.items, (int)ni, s_poll_timeout(&s));
        if (n < 0) {
            if (zmq_errno() == EINTR)
                continue;
            tw_log_error("unable to poll: %s", zmq_strerror(zmq_errno()));
            exit_code = TW_EXIT_TEMP;
            break;
        }
        /* Logs first, so a worker's last words precede its exit note. */
        size_t nlogs = ni - 3 - (s.metrics ? 1 : 0);
        for (size_t i = 0; i < nlogs && i < s.nkids; i++) {
            if (s.items[3 + i].revents & ZMQ_POLLIN)
                sup_log_drain(s.kids[i]->log, LOG_DRAIN_BYTES);
        }
        if (s.items[0].revents & ZMQ_POLLIN)
            s_on_signals(&s);
        if (s.items[2].revents & ZMQ_POLLIN)
            s_on_workers(&s);
        if (s.items[1].revents & ZMQ_POLLIN)
            s_on_control(&s);
        /* Cheap when idle; also handles connection time-outs. */
        if (s.metrics)
            sup_metrics_http_run(s.metrics);
    }
    s_write_status_file(&s);
    sd_notify(0, "STOPPING=1");
    if (exit_code == TW_EXIT_OK)
        tw_log_info("all workers stopped");
    s_teardown(&s);
    return exit_code;
}
