/* End-to-end tests of tw-kafka: the real worker process fed over kafka.sock
 * by tw_deliver senders, producing into librdkafka's in-process mock
 * cluster (3 brokers); a librdkafka consumer reads every topic back and each
 * record is compared with what was sent: JSON, Avro against an in-test
 * Schema Registry (the seed's int schema pre-registered for yt_videos),
 * all brokers down for a window (nothing acked during it, everything after,
 * no loss), the registry hanging while a new subject must be resolved
 * (input held, one log line, everything once after), and SASL PLAIN
 * configured with its password nowhere in logs, argv or environment. */
#define _GNU_SOURCE
#include <avro.h>
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
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

#include "../kafka_registry_stub.h"
#include "tw_deliver.h"
#include "tw_proto.h"

#define S_CHAN "UCuAXFkgsw1L7xaCfnd5JJOw"
/* Records of one run at most. */
#define S_MAX 256

/* One consumed record. */
typedef struct {
    char topic[32]; /* topic */
    char key[32];   /* key */
    char *value;    /* value bytes (owned) */
    size_t len;     /* their count */
} s_rec_t;

/* One test's world. */
typedef struct {
    char dir[256];               /* scratch dir */
    char cfg[300];               /* DIR/sup.toml */
    rd_kafka_t *mrk;             /* handle owning the mock cluster */
    rd_kafka_mock_cluster_t *mc; /* the mock cluster */
    char brokers[256];           /* its bootstrap servers */
    pid_t worker;                /* tw-kafka */
    void *zctx;                  /* ZeroMQ context of the senders */
    tw_deliver_t *stats;         /* "stats" sender */
    tw_deliver_t *tok;           /* "tokenizer" sender */
    krs_t reg;                   /* Schema Registry, when avro */
    bool have_reg;               /* reg runs */
    s_rec_t recs[S_MAX];         /* consumed */
    int nrecs;                   /* how many */
    int64_t stored;              /* records in the topics (watermarks) */
    uint32_t window;             /* senders' window, 0 = default */
    const char *extra;           /* config text after [kafka]'s keys */
} s_world_t;

static const char *const s_topics[] = {"yt_videos", "yt_chat", "yt_viewers",
                                       "yt_stream_events"};

static void s_bin(char *out, size_t cap, const char *rel)
{
    const char *build = getenv("BUILD");
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", build && *build ? build : "build", rel);
    if (!realpath(p, out))
        snprintf(out, cap, "%s", p);
}

static void s_init(s_world_t *w)
{
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/tw-e2e-kafka-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(w->dir));
    char p[400];
    snprintf(p, sizeof p, "%s/run", w->dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/state", w->dir);
    mkdir(p, 0700);
    snprintf(w->cfg, sizeof w->cfg, "%s/sup.toml", w->dir);
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    w->mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ck_assert_ptr_nonnull(w->mrk);
    w->mc = rd_kafka_mock_cluster_new(w->mrk, 3);
    ck_assert_ptr_nonnull(w->mc);
    snprintf(w->brokers, sizeof w->brokers, "%s",
             rd_kafka_mock_cluster_bootstraps(w->mc));
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(rd_kafka_mock_topic_create(w->mc, s_topics[i], 1, 3),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
}

static void s_config(s_world_t *w, const char *format)
{
    FILE *f = fopen(w->cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "[supervisor]\nruntime_dir = \"%s/run\"\nstate_dir = "
            "\"%s/state\"\ndata_dir = \"%s/data\"\nlog_dir = \"%s\"\n"
            "[kafka]\nenabled = true\nbrokers = \"%s\"\nformat = \"%s\"\n"
            "schema_registry_url = \"%s\"\n%s",
            w->dir, w->dir, w->dir, w->dir, w->brokers, format,
            w->have_reg ? w->reg.base : "http://127.0.0.1:1",
            w->extra ? w->extra : "");
    fclose(f);
}

static void s_worker_start(s_world_t *w)
{
    char bin[PATH_MAX], sock[400];
    s_bin(bin, sizeof bin, "libexec/tubewatch/tw-kafka");
    snprintf(sock, sizeof sock, "%s/run/kafka.sock", w->dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char log[400];
        snprintf(log, sizeof log, "%s/kafka.log", w->dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        char rt[400], st[400];
        snprintf(rt, sizeof rt, "%s/run", w->dir);
        snprintf(st, sizeof st, "%s/state", w->dir);
        setenv("TUBEWATCH_WORKER", "kafka", 1);
        setenv("TUBEWATCH_CONFIG", w->cfg, 1);
        setenv("TUBEWATCH_RUNTIME_DIR", rt, 1);
        setenv("TUBEWATCH_STATE_DIR", st, 1);
        setenv("TUBEWATCH_EPOCH", "1", 1);
        unsetenv("TUBEWATCH_SUP_ENDPOINT");
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    w->worker = pid;
    int64_t end = tw_test_now_ms() + 5000;
    struct stat sb;
    while (stat(sock, &sb) != 0 && tw_test_now_ms() < end) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(stat(sock, &sb) == 0, "tw-kafka did not bind its socket");
    if (!w->zctx)
        w->zctx = zmq_ctx_new();
    tw_deliver_opts_t o = {.endpoint = NULL, .src = "stats"};
    o.window = w->window;
    char ep[420];
    snprintf(ep, sizeof ep, "ipc://%s", sock);
    o.endpoint = ep;
    tw_err_t err = {{0}, 0, 0};
    ck_assert_int_eq(tw_deliver_sender_new(&w->stats, w->zctx, &o, &err),
                     TW_OK);
    o.src = "tokenizer";
    ck_assert_int_eq(tw_deliver_sender_new(&w->tok, w->zctx, &o, &err), TW_OK);
}

static void s_cleanup(s_world_t *w)
{
    tw_deliver_destroy(&w->stats);
    tw_deliver_destroy(&w->tok);
    if (w->zctx)
        zmq_ctx_term(w->zctx);
    if (w->worker > 0) {
        kill(w->worker, SIGTERM);
        int status = 0;
        waitpid(w->worker, &status, 0);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "tw-kafka did not stop cleanly (status %d)", status);
    }
    for (int i = 0; i < w->nrecs; i++)
        free(w->recs[i].value);
    if (w->mc)
        rd_kafka_mock_cluster_destroy(w->mc);
    if (w->mrk)
        rd_kafka_destroy(w->mrk);
    if (w->have_reg)
        krs_stop(&w->reg);
    if (getenv("TW_KEEP") == NULL) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "unable to remove %s\n", w->dir);
    }
}

/* Sends a stats.sample of video vid (views < 0: hidden). */
static void s_sample(s_world_t *w, const char *vid, int64_t views,
                     int64_t viewers, int64_t at)
{
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_STATS_SAMPLE;
    tw_msg_stats_sample_t *s = &m.u.stats_sample;
    s->video_id = (char *)vid;
    s->channel_id = S_CHAN;
    s->title = "Launch";
    s->description = "about it";
    s->sampled_at_us = at;
    s->published_at_us = (tw_oi64_t){true, 1714564800LL * 1000000};
    if (views >= 0)
        s->views = (tw_ou64_t){true, (uint64_t)views};
    s->likes = (tw_ou64_t){false, 0};
    s->comments = (tw_ou64_t){views >= 0, views >= 0 ? 3 : 0};
    if (viewers >= 0)
        s->concurrent_viewers = (tw_ou64_t){true, (uint64_t)viewers};
    tw_err_t err = {{0}, 0, 0};
    ck_assert_int_eq(tw_deliver_send(w->stats, &m, &err), TW_OK);
}

/* Sends a chat.tokenized frame of n items "VID-k" k = first..first+n-1. */
static void s_chat(s_world_t *w, const char *vid, int first, int n)
{
    tw_tok_item_t items[8];
    char ids[8][32], texts[8][32];
    memset(items, 0, sizeof items);
    for (int k = 0; k < n; k++) {
        snprintf(ids[k], sizeof ids[k], "%s-%d", vid, first + k);
        snprintf(texts[k], sizeof texts[k], "message %d", first + k);
        items[k].id = ids[k];
        items[k].kind = TW_CHAT_KIND_TEXT;
        items[k].received_usec = 1795000000LL * 1000000 + first + k;
        items[k].author_name = "Ann";
        items[k].author_channel_id = "UCann";
        items[k].amount = "";
        items[k].currency = "";
        items[k].ref_id = "";
        items[k].text = texts[k];
    }
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_CHAT_TOKENIZED;
    m.u.chat_tokenized.video_id = (char *)vid;
    m.u.chat_tokenized.channel_id = S_CHAN;
    m.u.chat_tokenized.items = (tw_tok_item_list_t){items, (size_t)n};
    tw_err_t err = {{0}, 0, 0};
    ck_assert_int_eq(tw_deliver_send(w->tok, &m, &err), TW_OK);
}

/* Waits until both senders are fully acked. */
static void s_drain(s_world_t *w, int ms)
{
    tw_err_t err = {{0}, 0, 0};
    ck_assert_msg(tw_deliver_drain(w->stats, ms, &err) == TW_OK,
                  "stats frames not acked: %zu", tw_deliver_unacked(w->stats));
    ck_assert_msg(tw_deliver_drain(w->tok, ms, &err) == TW_OK,
                  "chat frames not acked: %zu", tw_deliver_unacked(w->tok));
}

/* Consumes every topic from the start until want records came (or 15 s). */
static void s_consume(s_world_t *w, int want)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", w->brokers, err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "tw-e2e", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    ck_assert_ptr_nonnull(c);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(4);
    for (size_t i = 0; i < 4; i++)
        rd_kafka_topic_partition_list_add(tp, s_topics[i], 0)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(c, tp), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(tp);
    int64_t end = tw_test_now_ms() + 15000;
    while (w->nrecs < want && tw_test_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err && w->nrecs < S_MAX) {
            s_rec_t *r = &w->recs[w->nrecs++];
            snprintf(r->topic, sizeof r->topic, "%s",
                     rd_kafka_topic_name(m->rkt));
            snprintf(r->key, sizeof r->key, "%.*s", (int)m->key_len,
                     (const char *)m->key);
            r->value = malloc(m->len + 1);
            memcpy(r->value, m->payload, m->len);
            r->value[m->len] = '\0';
            r->len = m->len;
        }
        rd_kafka_message_destroy(m);
    }
    w->stored = 0;
    for (size_t i = 0; i < 4; i++) {
        int64_t lo = 0, hi = 0;
        ck_assert_int_eq(
            rd_kafka_query_watermark_offsets(c, s_topics[i], 0, &lo, &hi, 5000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
        w->stored += hi - lo;
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

static int s_count(const s_world_t *w, const char *topic)
{
    int n = 0;
    for (int i = 0; i < w->nrecs; i++)
        n += strcmp(w->recs[i].topic, topic) == 0;
    return n;
}

/* The workload: 3 videos x 2 samples (one with viewers), 3 chat frames. */
static int s_workload(s_world_t *w, int64_t views)
{
    int64_t at = 1795000000LL * 1000000;
    const char *vids[] = {"vidAAAAAAAA", "vidBBBBBBBB", "vidCCCCCCCC"};
    for (int i = 0; i < 3; i++) {
        s_sample(w, vids[i], views + i, -1, at + i);
        s_sample(w, vids[i], -1, 100 + i, at + 10 + i);
        s_chat(w, vids[i], 0, 3);
    }
    s_chat(w, vids[0], 3, 2);
    /* records: 3 videos (second sample has no count), 3 viewers, 11 chat */
    return 3 + 3 + 11;
}

/* Checks chat order per key and that every message is there once. */
static void s_check_chat_json(const s_world_t *w)
{
    int next[3] = {0, 0, 0};
    const char *vids[] = {"vidAAAAAAAA", "vidBBBBBBBB", "vidCCCCCCCC"};
    for (int i = 0; i < w->nrecs; i++) {
        const s_rec_t *r = &w->recs[i];
        if (strcmp(r->topic, "yt_chat") != 0)
            continue;
        json_t *j = json_loads(r->value, 0, NULL);
        ck_assert_ptr_nonnull(j);
        int v = 0;
        while (v < 3 && strcmp(vids[v], r->key) != 0)
            v++;
        ck_assert_int_lt(v, 3);
        char want[32];
        snprintf(want, sizeof want, "%s-%d", vids[v], next[v]++);
        ck_assert_str_eq(json_string_value(json_object_get(j, "message_id")),
                         want);
        ck_assert_str_eq(json_string_value(json_object_get(j, "video_id")),
                         vids[v]);
        json_decref(j);
    }
    ck_assert_int_eq(next[0], 5);
    ck_assert_int_eq(next[1], 3);
    ck_assert_int_eq(next[2], 3);
}

START_TEST(test_json_every_record_consumed)
{
    s_world_t w;
    s_init(&w);
    s_config(&w, "json");
    s_worker_start(&w);
    int want = s_workload(&w, 5000000000LL);
    s_drain(&w, 20000);
    s_consume(&w, want);
    ck_assert_int_eq(w.nrecs, want);
    ck_assert_int_eq(s_count(&w, "yt_videos"), 3);
    ck_assert_int_eq(s_count(&w, "yt_viewers"), 3);
    ck_assert_int_eq(s_count(&w, "yt_chat"), 11);
    for (int i = 0; i < w.nrecs; i++) {
        if (strcmp(w.recs[i].topic, "yt_videos") != 0)
            continue;
        json_t *j = json_loads(w.recs[i].value, 0, NULL);
        ck_assert_ptr_nonnull(j);
        int k = w.recs[i].key[3] - 'A';
        ck_assert_int_eq(json_integer_value(json_object_get(j, "VIEWS")),
                         5000000000LL + k);
        ck_assert(json_is_null(json_object_get(j, "LIKES")));
        ck_assert(json_is_null(json_object_get(j, "FAVORITES")));
        ck_assert_int_eq(json_integer_value(json_object_get(j, "COMMENTS")), 3);
        ck_assert_str_eq(
            json_string_value(json_object_get(j, "VIDEO_TIMESTAMP")),
            "2024-05-01T12:00:00Z");
        ck_assert_str_eq(json_string_value(json_object_get(j, "DESCRIPTION")),
                         "about it");
        json_decref(j);
    }
    s_check_chat_json(&w);
    s_cleanup(&w);
}
END_TEST

/* Decodes an Avro frame with the registry's schema of subject. */
static avro_value_t s_avro(s_world_t *w, const s_rec_t *r, const char *subject,
                           avro_value_iface_t **iface, avro_schema_t *sc)
{
    ck_assert_uint_ge(r->len, 5);
    ck_assert_int_eq(r->value[0], 0);
    char *schema = krs_schema(&w->reg, subject);
    ck_assert_ptr_nonnull(schema);
    ck_assert_int_eq(avro_schema_from_json_length(schema, strlen(schema), sc),
                     0);
    free(schema);
    *iface = avro_generic_class_from_schema(*sc);
    avro_value_t v;
    ck_assert_int_eq(avro_generic_value_new(*iface, &v), 0);
    avro_reader_t rd = avro_reader_memory(r->value + 5, (int64_t)r->len - 5);
    ck_assert_int_eq(avro_value_read(rd, &v), 0);
    avro_reader_free(rd);
    return v;
}

/* s_check_chat_json for Avro records: yt_chat in order per key, every
 * message once. */
static void s_check_chat(s_world_t *w)
{
    int next[3] = {0, 0, 0};
    const char *vids[] = {"vidAAAAAAAA", "vidBBBBBBBB", "vidCCCCCCCC"};
    for (int i = 0; i < w->nrecs; i++) {
        const s_rec_t *r = &w->recs[i];
        if (strcmp(r->topic, "yt_chat") != 0)
            continue;
        avro_value_iface_t *iface;
        avro_schema_t sc;
        avro_value_t f;
        avro_value_t v = s_avro(w, r, "yt_chat-value", &iface, &sc);
        const char *id;
        size_t idl;
        ck_assert_int_eq(avro_value_get_by_name(&v, "message_id", &f, NULL), 0);
        ck_assert_int_eq(avro_value_get_string(&f, &id, &idl), 0);
        int k = 0;
        while (k < 3 && strcmp(vids[k], r->key) != 0)
            k++;
        ck_assert_int_lt(k, 3);
        char want[32];
        snprintf(want, sizeof want, "%s-%d", vids[k], next[k]++);
        ck_assert_str_eq(id, want);
        avro_value_decref(&v);
        avro_value_iface_decref(iface);
        avro_schema_decref(sc);
    }
    ck_assert_int_eq(next[0], 5);
    ck_assert_int_eq(next[1], 3);
    ck_assert_int_eq(next[2], 3);
}

START_TEST(test_avro_seed_schema_and_registered)
{
    s_world_t w;
    s_init(&w);
    ck_assert_int_eq(krs_start(&w.reg, NULL), 0);
    w.have_reg = true;
    ck_assert_int_eq(krs_add(&w.reg, "yt_videos-value", KRS_SEED_SCHEMA), 1);
    s_config(&w, "avro");
    s_worker_start(&w);
    int want = s_workload(&w, 5000000000LL); /* above the seed's int */
    s_drain(&w, 20000);
    s_consume(&w, want);
    ck_assert_int_eq(w.nrecs, want);
    /* tubewatch registered its own schemas for the other topics. */
    char *chat = krs_schema(&w.reg, "yt_chat-value");
    ck_assert_ptr_nonnull(chat);
    ck_assert_ptr_nonnull(strstr(chat, "\"message_id\""));
    free(chat);
    int videos = 0, chats = 0;
    for (int i = 0; i < w.nrecs; i++) {
        const s_rec_t *r = &w.recs[i];
        avro_value_iface_t *iface;
        avro_schema_t sc;
        avro_value_t f, br;
        if (strcmp(r->topic, "yt_videos") == 0) {
            ck_assert_int_eq(r->value[4], 1); /* the seed schema's id */
            avro_value_t v = s_avro(&w, r, "yt_videos-value", &iface, &sc);
            int32_t n;
            ck_assert_int_eq(avro_value_get_by_name(&v, "VIEWS", &f, NULL), 0);
            ck_assert_int_eq(avro_value_get_current_branch(&f, &br), 0);
            ck_assert_int_eq(avro_value_get_int(&br, &n), 0);
            ck_assert_int_eq(n, INT32_MAX); /* clamped */
            ck_assert_int_eq(avro_value_get_by_name(&v, "LIKES", &f, NULL), 0);
            ck_assert_int_eq(avro_value_get_current_branch(&f, &br), 0);
            ck_assert_int_eq(avro_value_get_type(&br), AVRO_NULL);
            ck_assert_int_eq(avro_value_get_by_name(&v, "COMMENTS", &f, NULL),
                             0);
            ck_assert_int_eq(avro_value_get_current_branch(&f, &br), 0);
            ck_assert_int_eq(avro_value_get_int(&br, &n), 0);
            ck_assert_int_eq(n, 3);
            avro_value_decref(&v);
            avro_value_iface_decref(iface);
            avro_schema_decref(sc);
            videos++;
        } else if (strcmp(r->topic, "yt_chat") == 0) {
            avro_value_t v = s_avro(&w, r, "yt_chat-value", &iface, &sc);
            const char *s;
            size_t sl;
            ck_assert_int_eq(avro_value_get_by_name(&v, "message_id", &f, NULL),
                             0);
            ck_assert_int_eq(avro_value_get_string(&f, &s, &sl), 0);
            ck_assert_int_eq(strncmp(s, r->key, strlen(r->key)), 0);
            avro_value_decref(&v);
            avro_value_iface_decref(iface);
            avro_schema_decref(sc);
            chats++;
        }
    }
    ck_assert_int_eq(videos, 3);
    ck_assert_int_eq(chats, 11);
    /* The clamp is logged once. */
    char p[400], line[2048];
    snprintf(p, sizeof p, "%s/kafka.log", w.dir);
    FILE *f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    int clamp_lines = 0;
    while (fgets(line, sizeof line, f))
        clamp_lines += strstr(line, "was written as 2147483647") != NULL;
    fclose(f);
    ck_assert_int_eq(clamp_lines, 1);
    s_cleanup(&w);
}
END_TEST

START_TEST(test_brokers_down_nothing_acked_nothing_lost)
{
    s_world_t w;
    s_init(&w);
    s_config(&w, "json");
    s_worker_start(&w);
    /* Warm up: one sample through, so the producer knows the cluster. */
    s_sample(&w, "vidWARMUPxx", 1, -1, 1);
    s_drain(&w, 20000);
    for (int b = 1; b <= 3; b++)
        ck_assert_int_eq(rd_kafka_mock_broker_set_down(w.mc, b),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    int want = s_workload(&w, 10);
    /* For 2 s nothing may be acked. */
    int64_t end = tw_test_now_ms() + 2000;
    while (tw_test_now_ms() < end) {
        tw_deliver_handle(w.stats, NULL);
        tw_deliver_handle(w.tok, NULL);
        ck_assert_uint_eq(tw_deliver_unacked(w.stats), 6);
        ck_assert_uint_eq(tw_deliver_unacked(w.tok), 4);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int b = 1; b <= 3; b++)
        ck_assert_int_eq(rd_kafka_mock_broker_set_up(w.mc, b),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    s_drain(&w, 30000);
    s_consume(&w, want + 1);
    ck_assert_int_eq(w.nrecs, want + 1);
    ck_assert_int_eq(s_count(&w, "yt_videos"), 4);
    ck_assert_int_eq(s_count(&w, "yt_viewers"), 3);
    s_check_chat_json(&w);
    s_cleanup(&w);
}
END_TEST

/* Writes DIR/name (mode 0600) holding text. */
static void s_secret_file(const s_world_t *w, const char *name,
                          const char *text)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", w->dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Lines of the worker's log holding needle. */
static int s_log_count(const s_world_t *w, const char *needle)
{
    char p[400], line[4096];
    snprintf(p, sizeof p, "%s/kafka.log", w->dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* Waits (deadline ms) until the worker's log holds needle. */
static bool s_wait_log(const s_world_t *w, const char *needle, int ms)
{
    int64_t end = tw_test_now_ms() + ms;
    while (s_log_count(w, needle) == 0) {
        if (tw_test_now_ms() >= end)
            return false;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

/* True when the file holds needle anywhere (NUL bytes included). */
static bool s_file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= n; i++)
        if (memcmp(buf + i, needle, nl) == 0)
            return true;
    return false;
}

/* Keeps both senders served for ms, asserting all along that nothing is
 * acked: stats holds n_stats frames, the tokenizer n_tok. */
static void s_hold(s_world_t *w, int ms, size_t n_stats, size_t n_tok)
{
    int64_t end = tw_test_now_ms() + ms;
    while (tw_test_now_ms() < end) {
        tw_deliver_handle(w->stats, NULL);
        tw_deliver_handle(w->tok, NULL);
        ck_assert_uint_eq(tw_deliver_unacked(w->stats), n_stats);
        ck_assert_uint_eq(tw_deliver_unacked(w->tok), n_tok);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* The registry stops answering after the worker resolved yt_videos and
 * yt_chat; a viewers sample needs yt_viewers-value: that frame and every
 * one after it are held (not acked; the senders run out of credit), one
 * log line says why, never the password; once the registry answers again
 * every record arrives exactly once, in order per key. */
START_TEST(test_registry_down_new_subject_held)
{
    s_world_t w;
    s_init(&w);
    /* "sr-key:sr-Secret-0123" */
    ck_assert_int_eq(krs_start(&w.reg, "Basic c3Ita2V5OnNyLVNlY3JldC0wMTIz"),
                     0);
    w.have_reg = true;
    s_secret_file(&w, "srpw", "sr-Secret-0123\n");
    /* watchdog 4 s: registry requests time out after 1 s */
    w.extra = "schema_registry_user = \"sr-key\"\n"
              "schema_registry_password_file = \"srpw\"\n"
              "[defaults]\nwatchdog_timeout = \"4s\"\n";
    w.window = 3;
    s_config(&w, "avro");
    s_worker_start(&w);
    int64_t at = 1795000000LL * 1000000;
    s_sample(&w, "vidAAAAAAAA", 10, -1, at);
    s_chat(&w, "vidAAAAAAAA", 0, 3);
    s_drain(&w, 20000);
    ck_assert_int_eq(w.reg.unauthorized, 0);

    ck_assert_int_eq(krs_pause(&w.reg), 0);
    s_sample(&w, "vidAAAAAAAA", -1, 100, at + 1); /* viewers only */
    ck_assert(s_wait_log(&w, "subject yt_viewers-value", 5000));
    /* The worker holds: what the tokenizer sends now is not read. */
    s_chat(&w, "vidAAAAAAAA", 3, 2);
    s_chat(&w, "vidBBBBBBBB", 0, 3);
    s_chat(&w, "vidCCCCCCCC", 0, 3);
    ck_assert(!tw_deliver_can_send(w.tok)); /* out of credit */
    tw_err_t err = {{0}, 0, 0};
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_CHAT_TOKENIZED;
    m.u.chat_tokenized.video_id = "vidCCCCCCCC";
    m.u.chat_tokenized.channel_id = S_CHAN;
    ck_assert_int_eq(tw_deliver_send(w.tok, &m, &err), TW_ERR_AGAIN);
    /* Over 6.5 s the worker asks again (every 5 s): still nothing acked. */
    s_hold(&w, 6500, 1, 3);

    ck_assert_int_eq(krs_resume(&w.reg), 0);
    s_drain(&w, 20000);
    int want = 1 + 3 + 1 + 8;
    s_consume(&w, want);
    ck_assert_int_eq(w.nrecs, want);
    ck_assert_int_eq(w.stored, want); /* nothing twice */
    ck_assert_int_eq(s_count(&w, "yt_videos"), 1);
    ck_assert_int_eq(s_count(&w, "yt_viewers"), 1);
    s_check_chat(&w);
    char *sc = krs_schema(&w.reg, "yt_viewers-value");
    ck_assert_ptr_nonnull(sc);
    free(sc);
    /* One line for the outage (however many retries), one when it ends;
     * the password in none. */
    ck_assert_int_eq(s_log_count(&w, "producing is held"), 1);
    ck_assert_int_eq(s_log_count(&w, "schema registry answers again"), 1);
    ck_assert_int_eq(s_log_count(&w, "sr-Secret-0123"), 0);
    s_cleanup(&w);
}
END_TEST

/* security_protocol sasl_plaintext / sasl_ssl with PLAIN: librdkafka is
 * configured with the mechanism and the credentials (the mock cluster
 * cannot authenticate, so nothing is delivered and nothing acked), and the
 * password is in no log line, not in the worker's argv or environment. */
START_TEST(test_sasl_plain_password_hidden)
{
    const char *protos[] = {"sasl_plaintext", "sasl_ssl"};
    /* what librdkafka says about the plaintext mock brokers: PLAIN needs
     * SaslHandshake (the mock serves none); TLS meets a plaintext port */
    const char *said[] = {"(required by mechanism PLAIN)", "SSL handshake"};
    for (int i = 0; i < 2; i++) {
        s_world_t w;
        s_init(&w);
        s_secret_file(&w, "kpw", "kafka-Secret-789\n");
        char extra[300];
        snprintf(extra, sizeof extra,
                 "security_protocol = \"%s\"\nsasl_mechanism = \"PLAIN\"\n"
                 "sasl_username = \"CLUSTER_KEY\"\n"
                 "sasl_password_file = \"kpw\"\n",
                 protos[i]);
        w.extra = extra;
        s_config(&w, "json");
        s_worker_start(&w);
        s_sample(&w, "vidAAAAAAAA", 10, -1, 1795000000LL * 1000000);
        /* librdkafka reports the failed authentication; nothing acked. */
        ck_assert_msg(s_wait_log(&w, "kafka: ", 10000),
                      "no producer error logged with %s", protos[i]);
        ck_assert_msg(s_wait_log(&w, said[i], 10000), "%s: no '%s' logged",
                      protos[i], said[i]);
        s_hold(&w, 500, 1, 0);
        char want[80];
        snprintf(want, sizeof want, "(%s)", protos[i]);
        ck_assert_int_eq(s_log_count(&w, want), 1);
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/cmdline", (int)w.worker);
        ck_assert(!s_file_has(p, "kafka-Secret-789"));
        snprintf(p, sizeof p, "/proc/%d/environ", (int)w.worker);
        ck_assert(!s_file_has(p, "kafka-Secret-789"));
        s_cleanup(&w);
        /* after the stop line too */
        ck_assert_int_eq(s_log_count(&w, "kafka-Secret-789"), 0);
    }
}
END_TEST

Suite *e2e_kafka_suite(void)
{
    Suite *s = suite_create("e2e_kafka");
    TCase *tc = tcase_create("e2e_kafka");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_json_every_record_consumed);
    tcase_add_test(tc, test_avro_seed_schema_and_registered);
    tcase_add_test(tc, test_brokers_down_nothing_acked_nothing_lost);
    tcase_add_test(tc, test_registry_down_new_subject_held);
    tcase_add_test(tc, test_sasl_plain_password_hidden);
    suite_add_tcase(s, tc);
    return s;
}
