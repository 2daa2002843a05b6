/* e2e_sup - harness of the supervisor end-to-end tests. */
#define _GNU_SOURCE
#include "e2e_sup.h"

#include <check.h>
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

static void s_path(char *out, size_t cap, const char *rel)
{
    const char *build = getenv("BUILD");
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", build && *build ? build : "build", rel);
    if (!realpath(p, out))
        snprintf(out, cap, "%s", p);
}

/* Replaces @W and @D in text. */
static void s_subst(FILE *f, e2e_sup_t *t, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (p[0] == '@' && p[1] == 'W') {
            fputs(t->worker, f);
            p++;
        } else if (p[0] == '@' && p[1] == 'D') {
            fputs(t->dir, f);
            p++;
        } else {
            fputc(*p, f);
        }
    }
}

void e2e_sup_write_config(e2e_sup_t *t, const char *workers)
{
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", t->cfg);
    FILE *f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "[supervisor]\n"
            "runtime_dir = \"%s/run\"\n"
            "state_dir = \"%s/state\"\n"
            "data_dir = \"%s/data\"\n"
            "log_dir = \"%s/logs\"\n"
            "libexec_dir = \"%s\"\n"
            "status_interval = \"100ms\"\n"
            "log_max_size = \"64KiB\"\n"
            "log_keep = 2\n"
            "\n[defaults]\n"
            "restart_delay = \"20ms\"\n"
            "restart_delay_max = \"200ms\"\n"
            "min_uptime = \"500ms\"\n"
            "stop_timeout = \"2s\"\n"
            "ready_timeout = \"3s\"\n"
            "watchdog_timeout = \"0s\"\n"
            "failed_retry = \"10m\"\n"
            "env = [\"TW_TEST_DIR=%s\"]\n\n",
            t->dir, t->dir, t->dir, t->dir, t->dir, t->dir);
    s_subst(f, t, workers);
    fclose(f);
    ck_assert_int_eq(rename(tmp, t->cfg), 0);
}

void e2e_sup_preload(e2e_sup_t *t, const char *rel)
{
    s_path(t->preload, sizeof t->preload, rel);
    ck_assert_int_eq(access(t->preload, R_OK), 0);
}

void e2e_sup_init(e2e_sup_t *t, const char *workers)
{
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/tw-e2e-sup-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->dir));
    snprintf(t->cfg, sizeof t->cfg, "%s/sup.toml", t->dir);
    s_path(t->worker, sizeof t->worker, "tests/tw-test-worker");
    s_path(t->daemon, sizeof t->daemon, "bin/tubewatchd");
    s_path(t->cli, sizeof t->cli, "bin/tubewatch");
    e2e_sup_write_config(t, workers);
}

static pid_t s_spawn_daemon(e2e_sup_t *t, const char *errname)
{
    char err[512];
    snprintf(err, sizeof err, "%s/%s", t->dir, errname);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* A test that dies never leaves a daemon behind. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (t->preload[0]) {
            setenv("LD_PRELOAD", t->preload, 1);
            /* a sanitizer build wants its runtime first; the helper
             * libraries intercept nothing it needs */
            char asan[1024];
            const char *old = getenv("ASAN_OPTIONS");
            snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0",
                     old ? old : "", old && *old ? ":" : "");
            setenv("ASAN_OPTIONS", asan, 1);
        }
        execl(t->daemon, t->daemon, "-c", t->cfg, (char *)NULL);
        _exit(127);
    }
    return pid;
}

typedef struct {
    e2e_sup_t *t;      /* harness */
    const char *name;  /* worker */
    const char *state; /* wanted state or NULL */
} s_wait_t;

static bool s_answers(void *arg)
{
    json_t *r = e2e_sup_request(arg, "{\"cmd\":\"version\"}");
    bool ok = r != NULL;
    json_decref(r);
    return ok;
}

bool e2e_sup_start(e2e_sup_t *t)
{
    t->pid = s_spawn_daemon(t, "daemon.err");
    return tw_test_wait_until(s_answers, t, 5000);
}

int e2e_sup_run_second(e2e_sup_t *t)
{
    pid_t pid = s_spawn_daemon(t, "second.err");
    for (int i = 0; i < 2500; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

json_t *e2e_sup_request(e2e_sup_t *t, const char *json)
{
    char endpoint[400];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/run/control.sock", t->dir);
    char path[400];
    snprintf(path, sizeof path, "%s/run/control.sock", t->dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REQ);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    json_t *reply = NULL;
    if (zmq_connect(s, endpoint) == 0 &&
        zmq_send(s, json, strlen(json), 0) >= 0) {
        zmq_pollitem_t it = {s, -1, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 2000) == 1) {
            char buf[1 << 16];
            int n = zmq_recv(s, buf, sizeof buf - 1, 0);
            if (n > 0 && n < (int)sizeof buf)
                reply = json_loadb(buf, (size_t)n, 0, NULL);
        }
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return reply;
}

json_t *e2e_sup_worker(e2e_sup_t *t, const char *name)
{
    json_t *r = e2e_sup_request(t, "{\"cmd\":\"status\"}");
    if (!r)
        return NULL;
    json_t *found = NULL, *w;
    size_t i;
    json_array_foreach(json_object_get(r, "workers"), i, w)
    {
        const char *n = json_string_value(json_object_get(w, "name"));
        if (n && strcmp(n, name) == 0) {
            found = json_incref(w);
            break;
        }
    }
    json_decref(r);
    return found;
}

static bool s_in_state(void *arg)
{
    s_wait_t *w = arg;
    json_t *o = e2e_sup_worker(w->t, w->name);
    bool ok;
    if (!w->state) {
        json_t *r = o ? NULL : e2e_sup_request(w->t, "{\"cmd\":\"version\"}");
        ok = r != NULL;
        json_decref(r);
    } else
        ok = o && strcmp(json_string_value(json_object_get(o, "state")),
                         w->state) == 0;
    json_decref(o);
    return ok;
}

bool e2e_sup_wait_state(e2e_sup_t *t, const char *name, const char *state,
                        int timeout_ms)
{
    s_wait_t w = {t, name, state};
    return tw_test_wait_until(s_in_state, &w, timeout_ms);
}

pid_t e2e_sup_pid(e2e_sup_t *t, const char *name)
{
    json_t *o = e2e_sup_worker(t, name);
    pid_t pid = o ? (pid_t)json_integer_value(json_object_get(o, "pid")) : 0;
    json_decref(o);
    return pid;
}

int e2e_sup_events(e2e_sup_t *t, const char *name, const char *word,
                   long long *us, int cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.events", t->dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    int n = 0;
    size_t wl = strlen(word);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, word, wl) != 0 || line[wl] != ' ')
            continue;
        if (us && n < cap) {
            /* The stamp is the last field. */
            char *last = strrchr(line, ' ');
            us[n] = last ? atoll(last + 1) : 0;
        }
        n++;
    }
    fclose(f);
    return n;
}

int e2e_sup_grandchildren(e2e_sup_t *t, const char *name, pid_t *pids, int cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.grandchildren", t->dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0;
    long p;
    while (n < cap && fscanf(f, "%ld", &p) == 1)
        pids[n++] = (pid_t)p;
    fclose(f);
    return n;
}

int e2e_sup_stop(e2e_sup_t *t, int timeout_ms)
{
    if (t->pid <= 0)
        return -1;
    kill(t->pid, SIGTERM);
    int st = -1;
    for (int waited = 0; waited < timeout_ms; waited += 2) {
        if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
            t->pid = 0;
            return st;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    kill(t->pid, SIGKILL);
    waitpid(t->pid, &st, 0);
    t->pid = 0;
    return st;
}

void e2e_sup_cleanup(e2e_sup_t *t)
{
    if (t->pid > 0)
        e2e_sup_stop(t, 5000);
    if (t->dir[0] && strncmp(t->dir, "/tmp/tw-e2e-sup-", 16) == 0) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
        int rc = system(cmd);
        (void)rc;
    }
}

int e2e_sup_cli(e2e_sup_t *t, const char *const *args)
{
    char out[512];
    snprintf(out, sizeof out, "%s/cli.out", t->dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        const char *argv[32];
        int n = 0;
        argv[n++] = t->cli;
        argv[n++] = "-c";
        argv[n++] = t->cfg;
        for (int i = 0; args[i] && n < 31; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(t->cli, (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool e2e_pid_alive(pid_t pid)
{
    if (pid <= 0 || kill(pid, 0) != 0)
        return false;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    return !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

typedef struct {
    pid_t pid; /* process to watch */
} s_dead_t;

static bool s_is_dead(void *arg)
{
    return !e2e_pid_alive(((s_dead_t *)arg)->pid);
}

bool e2e_wait_dead(pid_t pid, int timeout_ms)
{
    s_dead_t d = {pid};
    return tw_test_wait_until(s_is_dead, &d, timeout_ms);
}

void e2e_sup_stop_checked(e2e_sup_t *t)
{
    ck_assert_int_eq(WEXITSTATUS(e2e_sup_stop(t, 8000)), 0);
    char pat[600];
    snprintf(pat, sizeof pat, "%s/logs/*.log*", t->dir);
    glob_t g;
    if (glob(pat, 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        FILE *f = fopen(g.gl_pathv[i], "r");
        if (!f)
            continue;
        char buf[4096];
        while (fgets(buf, sizeof buf, f))
            ck_assert_msg(!strstr(buf, "Sanitizer") &&
                              !strstr(buf, "runtime error"),
                          "%s: %s", g.gl_pathv[i], buf);
        fclose(f);
    }
    globfree(&g);
}
