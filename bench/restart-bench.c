/* restart-bench - measures tubewatchd: restart latency of a worker that ran
 * longer than min_uptime (exit -> fork/exec of the next incarnation, and
 * exit -> main() of the next), the backoff series of a crash loop, RSS
 * with 200 chat@ instances and idle CPU. Prints "name|value|target" rows
 * for bench/run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "tw_rc.h"
#include "tw_time.h"

#define MAXN 512

static char s_dir[256];
static char s_worker[PATH_MAX];
static char s_daemon[PATH_MAX];
static pid_t s_pid;

static void s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void s_config(const char *workers)
{
    char path[512];
    snprintf(path, sizeof path, "%s/sup.toml", s_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        exit(111);
    fprintf(f,
            "[supervisor]\nruntime_dir = \"%s/run\"\nstate_dir = "
            "\"%s/state\"\ndata_dir = \"%s/data\"\nlog_dir = \"%s/logs\"\n"
            "libexec_dir = \"%s\"\n\n[defaults]\nenv = "
            "[\"TW_TEST_DIR=%s\"]\nwatchdog_timeout = \"0s\"\n\n%s",
            s_dir, s_dir, s_dir, s_dir, s_dir, s_dir, workers);
    fclose(f);
}

static int s_request(const char *json, char *out, size_t cap)
{
    char ep[400];
    snprintf(ep, sizeof ep, "ipc://%s/run/control.sock", s_dir);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REQ);
    int linger = 0, rc = -1;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, ep) == 0 && zmq_send(s, json, strlen(json), 0) >= 0) {
        zmq_pollitem_t it = {s, -1, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 3000) == 1) {
            int n = zmq_recv(s, out, cap - 1, 0);
            if (n >= 0 && (size_t)n < cap) {
                out[n] = '\0';
                rc = 0;
            }
        }
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}

static void s_start(void)
{
    char cfg[512], err[512];
    snprintf(cfg, sizeof cfg, "%s/sup.toml", s_dir);
    snprintf(err, sizeof err, "%s/daemon.err", s_dir);
    s_pid = fork();
    if (s_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 2);
        execl(s_daemon, s_daemon, "-c", cfg, (char *)NULL);
        _exit(127);
    }
    char buf[256];
    char sock[400];
    snprintf(sock, sizeof sock, "%s/run/control.sock", s_dir);
    for (int i = 0; i < 500; i++) {
        if (access(sock, F_OK) == 0 &&
            s_request("{\"cmd\":\"version\"}", buf, sizeof buf) == 0)
            return;
        s_sleep_ms(10);
    }
    fprintf(stderr, "restart-bench: tubewatchd did not start\n");
    exit(111);
}

static void s_stop(void)
{
    kill(s_pid, SIGTERM);
    waitpid(s_pid, NULL, 0);
}

/* Reads "exit"/"start" events of name: real-time usec stamps. */
static int s_events(const char *name, const char *word, int64_t *v, int cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.events", s_dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    int n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        long pid;
        long long real, mono, epoch;
        if (strcmp(word, "start") == 0 &&
            sscanf(line, "start %ld %lld %lld %lld", &pid, &epoch, &real,
                   &mono) == 4)
            v[n++] = real;
        else if (strcmp(word, "exit") == 0 &&
                 sscanf(line, "exit %ld %lld %lld", &pid, &real, &mono) == 3)
            v[n++] = real;
    }
    fclose(f);
    return n;
}

/* Reads the "started pid" notes tubewatchd wrote in NAME.log. */
static int s_spawn_notes(const char *name, int64_t *v, int cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/logs/%s.log", s_dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512];
    int n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        if (!strstr(line, "tubewatchd: started pid"))
            continue;
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        int64_t us;
        if (tw_time_when_parse(line, 0, &us, NULL) == TW_OK)
            v[n++] = us;
    }
    fclose(f);
    return n;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double s_pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, s_cmp);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

static void s_restart_latency(void)
{
    s_config("[worker.lat]\ncommand = [\"@\", \"crash\", \"20\", \"1\"]\n"
             "min_uptime = \"5ms\"\nrestart_window = \"1ms\"\n"
             "max_restarts = 100000\n");
    /* The worker path goes in after the fact: keep s_config generic. */
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/sup.toml", s_dir);
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "sed -i 's|\"@\"|\"%s\"|' %s", s_worker, cfg);
    if (system(cmd) != 0)
        exit(111);
    s_start();
    int64_t ex[MAXN];
    for (int i = 0; i < 600 && s_events("lat", "exit", ex, MAXN) < 61; i++)
        s_sleep_ms(10);
    s_stop();
    int64_t st[MAXN], notes[MAXN];
    int ne = s_events("lat", "exit", ex, MAXN);
    int ns = s_events("lat", "start", st, MAXN);
    int nn = s_spawn_notes("lat", notes, MAXN);
    double fork_gap[MAXN], main_gap[MAXN];
    int n = 0;
    for (int i = 0; i + 1 < ns && i + 1 < nn && i < ne; i++) {
        fork_gap[n] = (double)(notes[i + 1] - ex[i]) / 1000.0;
        main_gap[n] = (double)(st[i + 1] - ex[i]) / 1000.0;
        n++;
    }
    if (n < 50) {
        printf("restart latency|only %d restarts measured|>= 50\n", n);
        return;
    }
    printf("restart latency, exit -> fork/exec, median (n=%d)|%.3f ms|<= 2 "
           "ms\n",
           n, s_pct(fork_gap, n, 0.5));
    printf("restart latency, exit -> fork/exec, p99|%.3f ms|\n",
           s_pct(fork_gap, n, 0.99));
    printf("restart latency, exit -> next main(), median|%.3f ms|(incl. "
           "exec + ld.so)\n",
           s_pct(main_gap, n, 0.5));
    printf("restart latency, exit -> next main(), p99|%.3f ms|\n",
           s_pct(main_gap, n, 0.99));
}

static void s_backoff_series(void)
{
    s_config("[worker.loop]\ncommand = [\"@\", \"crash\", \"0\", \"1\"]\n"
             "restart_delay = \"10ms\"\nrestart_delay_max = \"160ms\"\n"
             "max_restarts = 7\n");
    char cfg[512], cmd[PATH_MAX * 2];
    snprintf(cfg, sizeof cfg, "%s/sup.toml", s_dir);
    snprintf(cmd, sizeof cmd, "sed -i 's|\"@\"|\"%s\"|' %s", s_worker, cfg);
    if (system(cmd) != 0)
        exit(111);
    s_start();
    int64_t ex[MAXN], st[MAXN];
    for (int i = 0; i < 300 && s_events("loop", "start", st, MAXN) < 8; i++)
        s_sleep_ms(10);
    s_sleep_ms(50);
    s_stop();
    int ne = s_events("loop", "exit", ex, MAXN);
    int64_t notes[MAXN];
    int nn = s_spawn_notes("loop", notes, MAXN);
    char series[512] = "";
    size_t off = 0;
    for (int i = 0; i + 1 < nn && i < ne && off < sizeof series - 16; i++)
        off += (size_t)snprintf(series + off, sizeof series - off, "%s%.0f",
                                i ? " " : "",
                                (double)(notes[i + 1] - ex[i]) / 1000.0);
    printf("crash-loop backoff gaps, ms (10ms doubling to 160ms, then "
           "FAILED)|%s|10 20 40 80 160 160 160\n",
           series);
}

static long s_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    }
    if (f)
        fclose(f);
    return kib;
}

static double s_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, stt = 0;
    /* Fields after the name: state is 3rd; utime 14th, stime 15th. */
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &stt);
    return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

static void s_rss_and_idle(void)
{
    s_config("[worker.chat]\ncommand = [\"@\", \"silent\"]\ntemplate = true\n"
             "max_instances = 200\nready_timeout = \"0s\"\n");
    char cfg[512], cmd[PATH_MAX * 2];
    snprintf(cfg, sizeof cfg, "%s/sup.toml", s_dir);
    snprintf(cmd, sizeof cmd, "sed -i 's|\"@\"|\"%s\"|' %s", s_worker, cfg);
    if (system(cmd) != 0)
        exit(111);
    s_start();
    long before = s_rss_kib(s_pid);
    char buf[1 << 16];
    for (int i = 0; i < 200; i++) {
        char req[160];
        snprintf(req, sizeof req,
                 "{\"cmd\":\"spawn\",\"template\":\"chat\",\"instance\":"
                 "\"video%03d\"}",
                 i);
        s_request(req, buf, sizeof buf);
    }
    int running = 0;
    for (int i = 0; i < 500; i++) {
        s_request("{\"cmd\":\"status\"}", buf, sizeof buf);
        running = 0;
        for (char *p = buf; (p = strstr(p, "\"running\"")) != NULL; p++)
            running++;
        if (running >= 200)
            break;
        s_sleep_ms(10);
    }
    s_sleep_ms(300);
    long rss = s_rss_kib(s_pid);
    double c0 = s_cpu_s(s_pid);
    int64_t t0 = tw_time_mono_ms();
    s_sleep_ms(3000);
    double c1 = s_cpu_s(s_pid);
    double secs = (double)(tw_time_mono_ms() - t0) / 1000.0;
    s_stop();
    printf("tubewatchd RSS, no workers|%.1f MiB|\n", (double)before / 1024);
    printf("tubewatchd RSS, %d chat@ instances running|%.1f MiB|<= 16 MiB\n",
           running, (double)rss / 1024);
    printf("tubewatchd idle CPU with %d instances|%.2f %%|~0\n", running,
           100.0 * (c1 - c0) / secs);
}

int main(void)
{
    const char *build = getenv("BUILD");
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/tests/tw-test-worker",
             build && *build ? build : "build");
    if (!realpath(p, s_worker)) {
        fprintf(stderr, "restart-bench: %s missing\n", p);
        return 111;
    }
    snprintf(p, sizeof p, "%s/bin/tubewatchd",
             build && *build ? build : "build");
    if (!realpath(p, s_daemon)) {
        fprintf(stderr, "restart-bench: %s missing\n", p);
        return 111;
    }
    const char *steps[] = {"latency", "backoff", "rss"};
    for (int i = 0; i < 3; i++) {
        snprintf(s_dir, sizeof s_dir, "/tmp/tw-bench-sup-XXXXXX");
        if (!mkdtemp(s_dir))
            return 111;
        if (i == 0)
            s_restart_latency();
        else if (i == 1)
            s_backoff_series();
        else
            s_rss_and_idle();
        fflush(stdout);
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "restart-bench: unable to clean %s (%s)\n", s_dir,
                    steps[i]);
    }
    return 0;
}
