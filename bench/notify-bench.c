/* notify-bench - latency of tw-notifier from a stats.sample that shows a
 * change (sent over notifier.sock) to the sendMessage request arriving at
 * a local HTTP stub of the Bot API, over -n samples (default 300). The
 * notifier's rate limits are raised (TUBEWATCH_NOTIFIER_*_RATE=1000) so
 * that the pipeline, not the 1 msg/s per-chat limit, is measured, and
 * samples are paced 40 ms apart (more than the 1 ms + 25 ms margin of the
 * per-chat bucket, so no sample waits for its chat's bucket); every
 * sample is journaled (fdatasync), values.tsv is rewritten (fsync) and the
 * sample acked before the send, as in production; the state lives under
 * $TMPDIR (default /tmp), so the disk's sync latency is part of it. Prints
 * "name|value|target" rows for bench/run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "tw_deliver.h"
#include "tw_proto.h"

#define S_MAX 10000

static int64_t s_arrival_us[S_MAX]; /* when each sendMessage arrived */
static atomic_int s_arrivals;       /* how many arrived */
static atomic_int s_stop;           /* stub thread: finish */
static int s_listen_fd = -1;        /* stub listening socket */

static int64_t s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Serves one keep-alive connection until it closes or the bench stops. */
static void s_serve(int fd)
{
    char buf[65536];
    size_t have = 0;
    while (!atomic_load(&s_stop)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            return;
        have += (size_t)n;
        buf[have] = '\0';
        for (;;) {
            char *end = strstr(buf, "\r\n\r\n");
            if (!end)
                break;
            size_t hlen = (size_t)(end - buf) + 4;
            size_t clen = 0;
            char *cl = strcasestr(buf, "\ncontent-length:");
            if (cl && cl < end)
                clen = strtoul(cl + 16, NULL, 10);
            if (have < hlen + clen)
                break;
            bool send_msg = strstr(buf, "/sendMessage") != NULL;
            if (send_msg) {
                int i = atomic_load(&s_arrivals);
                if (i < S_MAX)
                    s_arrival_us[i] = s_mono_us();
                atomic_store(&s_arrivals, i + 1);
            }
            const char *body =
                send_msg ? "{\"ok\":true,\"result\":{\"message_id\":1}}"
                         : "{\"ok\":true,\"result\":{\"id\":1,\"is_bot\":true,"
                           "\"username\":\"bench_bot\"}}";
            char resp[512];
            int rl = snprintf(resp, sizeof resp,
                              "HTTP/1.1 200 OK\r\nContent-Type: "
                              "application/json\r\nContent-Length: %zu\r\n"
                              "\r\n%s",
                              strlen(body), body);
            if (write(fd, resp, (size_t)rl) != rl)
                return;
            memmove(buf, buf + hlen + clen, have - hlen - clen);
            have -= hlen + clen;
            buf[have] = '\0';
        }
    }
}

static void *s_stub(void *arg)
{
    (void)arg;
    while (!atomic_load(&s_stop)) {
        struct pollfd p = {.fd = s_listen_fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept(s_listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        s_serve(fd);
        close(fd);
    }
    return NULL;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = 300;
    if (argc == 3 && strcmp(argv[1], "-n") == 0)
        n = atoi(argv[2]);
    if (n < 2 || n >= S_MAX) {
        fprintf(stderr, "usage: notify-bench [-n SAMPLES]\n");
        return 100;
    }
    /* the stub */
    s_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s_listen_fd < 0 || bind(s_listen_fd, (struct sockaddr *)&a, al) != 0 ||
        listen(s_listen_fd, 8) != 0 ||
        getsockname(s_listen_fd, (struct sockaddr *)&a, &al) != 0) {
        perror("notify-bench: stub");
        return 111;
    }
    pthread_t th;
    pthread_create(&th, NULL, s_stub, NULL);

    /* the notifier */
    const char *tmp = getenv("TMPDIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tw-notify-bench-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return 111;
    char p[PATH_MAX], cfg[PATH_MAX];
    snprintf(p, sizeof p, "%s/run", dir);
    mkdir(p, 0700);
    snprintf(cfg, sizeof cfg, "%s/sup.toml", dir);
    FILE *f = fopen(cfg, "w");
    if (!f)
        return 111;
    fprintf(f,
            "[supervisor]\nruntime_dir = \"%s/run\"\nstate_dir = "
            "\"%s/state\"\ndata_dir = \"%s/data\"\nlog_dir = \"%s/logs\"\n"
            "[telegram]\nbot_token = \"42:benchtoken\"\nbase_url = "
            "\"http://127.0.0.1:%d\"\nchat_ids = [1]\n[worker.notifier]\n"
            "[notify]\nevents = []\n[[notify.rule]]\nmetrics = "
            "[\"likes\"]\n",
            dir, dir, dir, dir, ntohs(a.sin_port));
    fclose(f);
    const char *build = getenv("BUILD");
    char bin[PATH_MAX];
    snprintf(bin, sizeof bin, "%s/libexec/tubewatch/tw-notifier",
             build && *build ? build : "build");
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char rt[PATH_MAX], st[PATH_MAX];
        snprintf(rt, sizeof rt, "%s/run", dir);
        snprintf(st, sizeof st, "%s/state", dir);
        setenv("TUBEWATCH_WORKER", "notifier", 1);
        setenv("TUBEWATCH_CONFIG", cfg, 1);
        setenv("TUBEWATCH_RUNTIME_DIR", rt, 1);
        setenv("TUBEWATCH_STATE_DIR", st, 1);
        setenv("TUBEWATCH_NOTIFIER_CHAT_RATE", "1000", 1);
        setenv("TUBEWATCH_NOTIFIER_GLOBAL_RATE", "1000", 1);
        setenv("TUBEWATCH_LOG_LEVEL", "warn", 1);
        unsetenv("TUBEWATCH_SUP_ENDPOINT");
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    snprintf(p, sizeof p, "%s/run/notifier.sock", dir);
    struct stat sb;
    int64_t deadline = s_mono_us() + 5000000;
    while (stat(p, &sb) != 0 && s_mono_us() < deadline)
        usleep(2000);

    void *zctx = zmq_ctx_new();
    char ep[PATH_MAX + 8];
    snprintf(ep, sizeof ep, "ipc://%s", p);
    tw_deliver_t *tx = NULL;
    tw_deliver_opts_t o = {.endpoint = ep, .src = "stats"};
    tw_err_t err = {{0}, 0, 0};
    int rc = 0;
    int64_t *lat = calloc((size_t)n, sizeof *lat);
    int got = 0;
    if (!lat || tw_deliver_sender_new(&tx, zctx, &o, &err) != TW_OK) {
        fprintf(stderr, "notify-bench: sender: %s\n", err.msg);
        rc = 111;
        goto out;
    }
    for (int i = 0; i <= n; i++) {
        tw_msg_t m;
        memset(&m, 0, sizeof m);
        m.id = TW_MSG_STATS_SAMPLE;
        m.u.stats_sample.video_id = "benchbench0";
        m.u.stats_sample.channel_id = "UCbench";
        m.u.stats_sample.title = "Bench <stream> & more";
        m.u.stats_sample.sampled_at_us = 1795000000LL * 1000000 + i;
        m.u.stats_sample.likes = (tw_ou64_t){true, (uint64_t)(1000 + i)};
        int64_t t0 = s_mono_us();
        if (tw_deliver_send(tx, &m, &err) != TW_OK) {
            fprintf(stderr, "notify-bench: send: %s\n", err.msg);
            rc = 111;
            goto out;
        }
        /* the first sample only records; then one request per sample */
        deadline = t0 + 5000000;
        while (atomic_load(&s_arrivals) < i && s_mono_us() < deadline) {
            zmq_pollitem_t it = {.socket = tw_deliver_socket(tx),
                                 .events = ZMQ_POLLIN};
            zmq_poll(&it, 1, 0);
            tw_deliver_handle(tx, NULL);
            tw_deliver_tick(tx, s_mono_us() / 1000, NULL);
        }
        if (i == 0)
            continue;
        if (atomic_load(&s_arrivals) < i) {
            fprintf(stderr, "notify-bench: sample %d never reached the stub\n",
                    i);
            rc = 1;
            break;
        }
        lat[got++] = s_arrival_us[i - 1] - t0;
        usleep(40000);
    }
    tw_deliver_drain(tx, 2000, NULL);
out:
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    atomic_store(&s_stop, 1);
    pthread_join(th, NULL);
    tw_deliver_destroy(&tx);
    zmq_ctx_term(zctx);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "notify-bench: unable to remove %s\n", dir);
    if (got > 0) {
        qsort(lat, (size_t)got, sizeof *lat, s_cmp);
        double p50 = (double)lat[got / 2] / 1000.0;
        double p99 = (double)lat[(got * 99) / 100] / 1000.0;
        double mx = (double)lat[got - 1] / 1000.0;
        printf("notify: stats.sample -> sendMessage at stub, p50|%.2f "
               "ms|\n",
               p50);
        printf("notify: stats.sample -> sendMessage at stub, p99 (%d)|%.2f "
               "ms (max %.2f)|<= 100 ms %s\n",
               got, p99, mx, p99 <= 100.0 ? "ok" : "MISSED");
    }
    free(lat);
    return rc;
}
