/* kafka-bench - throughput of tw-kafka into librdkafka's mock cluster (3
 * brokers on 127.0.0.1) and its CPU per message next to tw-writer's on the
 * same frames. The real worker processes are fed over their sockets by
 * tw_deliver senders ("tokenizer": chat.tokenized frames of ITEMS items;
 * "stats": one stats.sample with a viewers count per chat frame, i.e. a
 * yt_videos and a yt_viewers record). A frame counts once tw-kafka acked it,
 * which it does only when every record of it has a successful delivery
 * report; at the end the topics' high watermarks must hold every record.
 * Formats json and avro (a Schema Registry stub; tubewatch registers its
 * schemas). CPU is utime + stime of the worker from /proc/PID/stat between
 * the first send and the last ack. Prints "name|value|target" rows for
 * bench/run. Usage: kafka-bench [FRAMES [ITEMS]] (default 2000 x 50). */
#define _GNU_SOURCE
#include <fcntl.h>
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

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "../tests/kafka_registry_stub.h"
#include "tw_deliver.h"
#include "tw_proto.h"

#define S_CHAN      "UCuAXFkgsw1L7xaCfnd5JJOw"
#define S_MAX_ITEMS 200

static const char *const s_topics[] = {"yt_videos", "yt_chat", "yt_viewers",
                                       "yt_stream_events"};

/* One measured run. */
typedef struct {
    double secs;    /* first send -> last ack */
    double cpu_s;   /* worker CPU over that time */
    long records;   /* records (or rows) the frames hold */
    long in_topics; /* records found in the topics (kafka) */
} s_result_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double s_cpu(pid_t pid)
{
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strrchr(buf, ')'); /* comm may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!s || sscanf(s + 2,
                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                     "%lu %lu",
                     &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void s_bin(char *out, size_t cap, const char *rel)
{
    const char *build = getenv("BUILD");
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", build && *build ? build : "build", rel);
    if (!realpath(p, out))
        snprintf(out, cap, "%s", p);
}

/* Starts tw-KIND with dir's config; waits for its socket. */
static pid_t s_start(const char *dir, const char *kind)
{
    char bin[PATH_MAX], rel[64], sock[PATH_MAX + 32];
    snprintf(rel, sizeof rel, "libexec/tubewatch/tw-%s", kind);
    s_bin(bin, sizeof bin, rel);
    snprintf(sock, sizeof sock, "%s/run/%s.sock", dir, kind);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/%s.log", dir, kind);
        int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        snprintf(p, sizeof p, "%s/sup.toml", dir);
        setenv("TUBEWATCH_CONFIG", p, 1);
        snprintf(p, sizeof p, "%s/run", dir);
        setenv("TUBEWATCH_RUNTIME_DIR", p, 1);
        snprintf(p, sizeof p, "%s/state", dir);
        setenv("TUBEWATCH_STATE_DIR", p, 1);
        setenv("TUBEWATCH_WORKER", kind, 1);
        setenv("TUBEWATCH_EPOCH", "1", 1);
        unsetenv("TUBEWATCH_SUP_ENDPOINT");
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    struct stat sb;
    for (double end = s_now() + 10; stat(sock, &sb) != 0;) {
        if (s_now() > end || waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "kafka-bench: tw-%s did not bind %s (log in %s)\n",
                    kind, sock, dir);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return -1;
        }
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    return pid;
}

static int s_stop(pid_t pid)
{
    int status = 0;
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Sends frames chat frames of items items and one stats.sample each to
 * kind's socket, as fast as credit allows; returns 0 when all were acked. */
static int s_feed(const char *dir, const char *kind, pid_t pid, int frames,
                  int items, s_result_t *res)
{
    void *zctx = zmq_ctx_new();
    char ep[PATH_MAX + 40];
    snprintf(ep, sizeof ep, "ipc://%s/run/%s.sock", dir, kind);
    tw_deliver_t *tx[2] = {NULL, NULL};
    tw_err_t err = {{0}, 0, 0};
    tw_deliver_opts_t o = {.endpoint = ep, .src = "tokenizer"};
    int rc = -1;
    if (tw_deliver_sender_new(&tx[0], zctx, &o, &err) != TW_OK)
        goto out;
    o.src = "stats";
    if (tw_deliver_sender_new(&tx[1], zctx, &o, &err) != TW_OK)
        goto out;
    static tw_tok_item_t it[S_MAX_ITEMS];
    static char ids[S_MAX_ITEMS][40];
    char vid[16];
    int64_t base = 1795000000LL * 1000000;
    int sent[2] = {0, 0};
    double t0 = s_now(), c0 = s_cpu(pid);
    while (sent[0] < frames || sent[1] < frames) {
        for (int s = 0; s < 2; s++) {
            tw_deliver_handle(tx[s], NULL);
            tw_deliver_tick(tx[s], (int64_t)(s_now() * 1000), NULL);
        }
        bool progress = false;
        while (sent[0] < frames && tw_deliver_can_send(tx[0])) {
            int f = sent[0];
            snprintf(vid, sizeof vid, "vidBench%03d", f % 50);
            for (int k = 0; k < items; k++) {
                snprintf(ids[k], sizeof ids[k], "%s-%d-%d", vid, f, k);
                it[k] = (tw_tok_item_t){
                    .id = ids[k],
                    .kind = TW_CHAT_KIND_TEXT,
                    .published_usec = base + f * 1000 + k,
                    .received_usec = base + f * 1000 + k + 500,
                    .author_name = "Some Viewer",
                    .author_channel_id = "UCabcdefghijklmnopqrstuv",
                    .amount = "",
                    .currency = "",
                    .ref_id = "",
                    .text = "this stream is great, greetings from "
                            "somewhere :wave:"};
            }
            tw_msg_t m;
            memset(&m, 0, sizeof m);
            m.id = TW_MSG_CHAT_TOKENIZED;
            m.u.chat_tokenized.video_id = vid;
            m.u.chat_tokenized.channel_id = S_CHAN;
            m.u.chat_tokenized.items = (tw_tok_item_list_t){it, (size_t)items};
            if (tw_deliver_send(tx[0], &m, &err) != TW_OK)
                goto out;
            sent[0]++;
            progress = true;
        }
        while (sent[1] < frames && tw_deliver_can_send(tx[1])) {
            int f = sent[1];
            snprintf(vid, sizeof vid, "vidBench%03d", f % 50);
            tw_msg_t m;
            memset(&m, 0, sizeof m);
            m.id = TW_MSG_STATS_SAMPLE;
            tw_msg_stats_sample_t *st = &m.u.stats_sample;
            st->video_id = vid;
            st->channel_id = S_CHAN;
            st->title = "A benchmark stream";
            st->description = "about it";
            st->sampled_at_us = base + f;
            st->published_at_us = (tw_oi64_t){true, 1714564800LL * 1000000};
            st->views = (tw_ou64_t){true, 1000 + (uint64_t)f};
            st->likes = (tw_ou64_t){true, 10 + (uint64_t)f};
            st->comments = (tw_ou64_t){true, 3};
            st->concurrent_viewers = (tw_ou64_t){true, 100 + (uint64_t)f};
            if (tw_deliver_send(tx[1], &m, &err) != TW_OK)
                goto out;
            sent[1]++;
            progress = true;
        }
        if (!progress) {
            zmq_pollitem_t p[2] = {
                {tw_deliver_socket(tx[0]), 0, ZMQ_POLLIN, 0},
                {tw_deliver_socket(tx[1]), 0, ZMQ_POLLIN, 0}};
            zmq_poll(p, 2, 10);
        }
    }
    for (int s = 0; s < 2; s++)
        if (tw_deliver_drain(tx[s], 60000, &err) != TW_OK) {
            fprintf(stderr, "kafka-bench: tw-%s left %zu frames unacked\n",
                    kind, tw_deliver_unacked(tx[s]));
            goto out;
        }
    res->secs = s_now() - t0;
    res->cpu_s = s_cpu(pid) - c0;
    res->records = (long)frames * items + 2L * frames;
    rc = 0;
out:
    if (rc != 0 && err.msg[0])
        fprintf(stderr, "kafka-bench: %s\n", err.msg);
    tw_deliver_destroy(&tx[0]);
    tw_deliver_destroy(&tx[1]);
    zmq_ctx_term(zctx);
    return rc;
}

static int s_dir(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, cap, "%s/tw-kbench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/run", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/state", dir);
    mkdir(p, 0700);
    return 0;
}

static void s_rmdir(const char *dir)
{
    if (getenv("TW_KEEP"))
        return;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "kafka-bench: unable to remove %s\n", dir);
}

/* Sum of the topics' high watermarks (-1 when they cannot be read). */
static long s_in_topics(const char *brokers)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!c)
        return -1;
    long n = 0;
    for (size_t i = 0; i < 4 && n >= 0; i++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(c, s_topics[i], 0, &lo, &hi,
                                             5000) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
            n = -1;
        else
            n += (long)hi;
    }
    rd_kafka_destroy(c);
    return n;
}

/* tw-kafka in format fmt against a fresh mock cluster. */
static int s_kafka(const char *fmt, int frames, int items, s_result_t *res)
{
    char dir[PATH_MAX], err[256];
    if (s_dir(dir, sizeof dir) != 0)
        return -1;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        return -1;
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 3);
    krs_t reg;
    bool avro = strcmp(fmt, "avro") == 0;
    int rc = -1;
    pid_t pid = -1;
    if (!mc || (avro && krs_start(&reg, NULL) != 0)) {
        fprintf(stderr, "kafka-bench: no mock cluster or registry\n");
        goto out;
    }
    for (size_t i = 0; i < 4; i++)
        rd_kafka_mock_topic_create(mc, s_topics[i], 1, 3);
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/sup.toml", dir);
    FILE *f = fopen(p, "w");
    if (!f)
        goto out;
    fprintf(f,
            "[supervisor]\nruntime_dir = \"%s/run\"\nstate_dir = "
            "\"%s/state\"\ndata_dir = \"%s/data\"\nlog_dir = \"%s\"\n"
            "[kafka]\nenabled = true\nbrokers = \"%s\"\nformat = \"%s\"\n"
            "schema_registry_url = \"%s\"\n",
            dir, dir, dir, dir, rd_kafka_mock_cluster_bootstraps(mc), fmt,
            avro ? reg.base : "http://127.0.0.1:1");
    fclose(f);
    pid = s_start(dir, "kafka");
    if (pid < 0 || s_feed(dir, "kafka", pid, frames, items, res) != 0)
        goto out;
    /* Every record is in its topic: the partitions' high watermarks. */
    res->in_topics = s_in_topics(rd_kafka_mock_cluster_bootstraps(mc));
    rc = 0;
out:
    if (pid > 0 && s_stop(pid) != 0) {
        fprintf(stderr, "kafka-bench: tw-kafka did not stop cleanly\n");
        rc = -1;
    }
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    if (avro && reg.mhd)
        krs_stop(&reg);
    s_rmdir(dir);
    return rc;
}

/* tw-writer (TSV, fsync after each frame as configured by default). */
static int s_writer(int frames, int items, s_result_t *res)
{
    char dir[PATH_MAX], p[PATH_MAX + 16];
    if (s_dir(dir, sizeof dir) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/sup.toml", dir);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fprintf(f,
            "[supervisor]\nruntime_dir = \"%s/run\"\nstate_dir = "
            "\"%s/state\"\ndata_dir = \"%s/data\"\nlog_dir = \"%s\"\n"
            "[worker.writer]\nformats = [\"tsv\"]\n",
            dir, dir, dir, dir);
    fclose(f);
    pid_t pid = s_start(dir, "writer");
    int rc = pid > 0 ? s_feed(dir, "writer", pid, frames, items, res) : -1;
    if (pid > 0 && s_stop(pid) != 0)
        rc = -1;
    s_rmdir(dir);
    return rc;
}

int main(int argc, char **argv)
{
    int frames = argc > 1 ? atoi(argv[1]) : 2000;
    int items = argc > 2 ? atoi(argv[2]) : 50;
    if (frames < 1 || items < 1 || items > S_MAX_ITEMS) {
        fprintf(stderr, "usage: kafka-bench [FRAMES [ITEMS<=%d]]\n",
                S_MAX_ITEMS);
        return 100;
    }
    signal(SIGPIPE, SIG_IGN);
    s_result_t r[3];
    memset(r, 0, sizeof r);
    const char *fmts[] = {"json", "avro"};
    int status = 0;
    for (int i = 0; i < 2; i++) {
        if (s_kafka(fmts[i], frames, items, &r[i]) != 0) {
            printf("kafka %s records/s into the mock cluster|(failed)|\n",
                   fmts[i]);
            status = 1;
            continue;
        }
        printf("kafka %s records/s into the mock cluster (3 brokers, "
               "acks=all)|%.0f records/s|\n",
               fmts[i], (double)r[i].records / r[i].secs);
        if (r[i].in_topics != r[i].records) {
            fprintf(stderr,
                    "kafka-bench: %s: %ld records in the topics, %ld "
                    "sent\n",
                    fmts[i], r[i].in_topics, r[i].records);
            status = 1;
        }
    }
    if (s_writer(frames, items, &r[2]) != 0) {
        printf("writer (same frames)|(failed)|\n");
        return 1;
    }
    printf("CPU per record: tw-kafka json / avro / tw-writer (tsv)|%.2f / "
           "%.2f / %.2f us|\n",
           r[0].cpu_s * 1e6 / (double)r[0].records,
           r[1].cpu_s * 1e6 / (double)r[1].records,
           r[2].cpu_s * 1e6 / (double)r[2].records);
    return status;
}
