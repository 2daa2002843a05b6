/* chat-rss-bench - resident memory of one chat@VIDEO process (tw-chat)
 * capturing a busy stream from ytsim (tests/fixtures/ytsim/chat-busy.toml,
 * 300 messages/s) into a fake tokenizer that acks everything. Prints
 * "name|value|target" rows for bench/run. TW_BENCH_SECONDS sets the run
 * time (default 10). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "tw_deliver.h"
#include "tw_proto.h"
#include "tw_time.h"

/* Reads "Key:   N kB" from /proc/pid/status; -1 when absent. */
static long s_status_kb(pid_t pid, const char *key)
{
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

/* CPU seconds (user + system) used by pid so far; -1 when unknown. */
static double s_cpu_s(pid_t pid)
{
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *q = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!q ||
        sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void s_path(char *out, size_t cap, const char *rel)
{
    const char *build = getenv("BUILD");
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", build && *build ? build : "build", rel);
    if (!realpath(p, out))
        snprintf(out, cap, "%s", p);
}

int main(void)
{
    const char *secs_env = getenv("TW_BENCH_SECONDS");
    int secs = secs_env ? atoi(secs_env) : 10;
    if (secs < 2)
        secs = 2;
    char dir[] = "/tmp/tw-chat-rss-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char chat[4096], ytsim[4096], out[512], cfg[512], p[600];
    s_path(chat, sizeof chat, "libexec/tubewatch/tw-chat");
    s_path(ytsim, sizeof ytsim, "bin/ytsim");
    snprintf(out, sizeof out, "%s/ys", dir);
    pid_t ys = fork();
    if (ys == 0) {
        FILE *f = freopen("/dev/null", "w", stdout);
        (void)f;
        execl(ytsim, "ytsim", "--scenario",
              "tests/fixtures/ytsim/chat-busy.toml", "--listen", "127.0.0.1:0",
              "--out", out, "--threads", "2", (char *)NULL);
        _exit(127);
    }
    int port = 0;
    snprintf(p, sizeof p, "%s/port", out);
    for (int i = 0; i < 500 && port == 0; i++) {
        FILE *f = fopen(p, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (port == 0) {
        fprintf(stderr, "chat-rss-bench: ytsim did not start\n");
        kill(ys, SIGKILL);
        return 1;
    }
    const char *subs[] = {"run", "state"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, subs[i]);
        mkdir(p, 0700);
    }
    snprintf(cfg, sizeof cfg, "%s/tw.toml", dir);
    FILE *f = fopen(cfg, "w");
    if (!f)
        return 1;
    fprintf(f,
            "[supervisor]\nruntime_dir = \"%s/run\"\nstate_dir = "
            "\"%s/state\"\n[youtube]\nweb_base_url = "
            "\"http://127.0.0.1:%d\"\n",
            dir, dir, port);
    fclose(f);
    void *zctx = zmq_ctx_new();
    tw_deliver_t *rx = NULL;
    snprintf(p, sizeof p, "ipc://%s/run/tokenizer.sock", dir);
    if (tw_deliver_receiver_new(&rx, zctx, p, "tokenizer", 1, NULL) != TW_OK)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        char e[5][600];
        snprintf(e[0], 600, "TUBEWATCH_WORKER=chat@chatBusy001");
        snprintf(e[1], 600, "TUBEWATCH_INSTANCE=chatBusy001");
        snprintf(e[2], 600, "TUBEWATCH_CONFIG=%s", cfg);
        snprintf(e[3], 600, "TUBEWATCH_RUNTIME_DIR=%s/run", dir);
        snprintf(e[4], 600, "TUBEWATCH_STATE_DIR=%s/state", dir);
        for (int i = 0; i < 5; i++)
            putenv(e[i]);
        FILE *g = freopen("/dev/null", "w", stderr);
        (void)g;
        execl(chat, "tw-chat", (char *)NULL);
        _exit(127);
    }
    uint64_t items = 0;
    long rss_max = 0, file_max = 0;
    int64_t t0 = tw_time_mono_ms(), end = t0 + secs * 1000LL;
    int64_t next_sample = t0 + 1000; /* after start-up */
    while (tw_time_mono_ms() < end) {
        zmq_pollitem_t it = {tw_deliver_socket(rx), -1, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 50);
        tw_msg_t m;
        tw_rc_t rc;
        while ((rc = tw_deliver_recv(rx, &m, NULL)) != TW_ERR_AGAIN) {
            if (rc == TW_OK && m.id == TW_MSG_CHAT_BATCH)
                items += m.u.chat_batch.items.n;
            if (m.seq > 0)
                tw_deliver_ack(rx, m.src, m.epoch, m.seq, NULL);
            tw_proto_clear(&m);
        }
        tw_deliver_tick(rx, tw_time_mono_ms(), NULL);
        if (tw_time_mono_ms() >= next_sample) {
            long rss = s_status_kb(pid, "RssAnon");
            long file = s_status_kb(pid, "RssFile");
            if (file > file_max)
                file_max = file;
            if (rss > rss_max)
                rss_max = rss;
            next_sample += 250;
        }
    }
    long hwm = s_status_kb(pid, "VmHWM");
    double cpu = s_cpu_s(pid);
    if (getenv("TW_BENCH_SMAPS")) {
        char cmd[128];
        snprintf(cmd, sizeof cmd,
                 "awk '/^[0-9a-f]+-/{n=$6} /^Rss:/{r[n]+=$2} END{for(k in r) "
                 "if(r[k]>200) print r[k], k}' /proc/%d/smaps | sort -rn",
                 (int)pid);
        if (system(cmd) != 0)
            fprintf(stderr, "smaps failed\n");
    }
    double secs_run = (double)(tw_time_mono_ms() - t0) / 1000.0;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    kill(ys, SIGTERM);
    waitpid(ys, NULL, 0);
    tw_deliver_destroy(&rx);
    zmq_ctx_term(zctx);
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    if (system(p) != 0)
        fprintf(stderr, "chat-rss-bench: unable to remove %s\n", dir);
    printf("chat@VIDEO private RSS (anon), busy stream (%.0f msgs/s)|%.2f "
           "MiB|<= 4 MiB\n",
           items / secs_run, rss_max / 1024.0);
    printf("chat@VIDEO total RSS (+ shared libraries)|%.2f MiB (%.2f "
           "file)|\n",
           hwm / 1024.0, file_max / 1024.0);
    if (cpu >= 0 && items > 0)
        printf("chat@VIDEO CPU per 1000 messages (busy stream)|%.1f ms (%.1f "
               "%% of a core)|\n",
               cpu * 1000.0 * 1000.0 / (double)items, 100.0 * cpu / secs_run);
    return 0;
}
