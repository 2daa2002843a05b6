/* End-to-end tests of tw-notifier against ytsim's Telegram Bot API: the
 * real worker process fed over notifier.sock by a tw_deliver sender; what
 * ytsim received (received/telegram.jsonl) is compared exactly. Covers
 * rules and templates, HTML escaping, a 429 storm, replay after kill -9 and
 * permanent errors. A ytsim that does not start, or does not speak
 * Telegram, fails the test. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
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

#include "e2e_sup.h"
#include "tw_deliver.h"
#include "tw_proto.h"

#define S_TOKEN "123456789:AAEsimulatedTelegramBotTokenForYtsim0"
#define S_CHAT1 "664743441"
#define S_CHAT2 "-1001234567890"

/* One test's world. */
typedef struct {
    char dir[256];        /* scratch dir */
    char out[300];        /* ytsim --out */
    char cfg[300];        /* DIR/sup.toml */
    pid_t ytsim;          /* simulator */
    pid_t notifier;       /* tw-notifier */
    int port;             /* ytsim port */
    void *zctx;           /* ZeroMQ context of the sender */
    tw_deliver_t *tx;     /* "stats" sender */
    int64_t t;            /* sampled_at of the next sample */
    const char *scenario; /* fixture name, NULL = telegram.toml */
    int sentinel;         /* likes of the sentinel video so far, 0 = none */
    int64_t sentinel_t;   /* sampled_at of the last sentinel sample */
} s_world_t;

static void s_bin(char *out, size_t cap, const char *env, const char *rel)
{
    const char *e = getenv(env);
    if (e && *e) {
        snprintf(out, cap, "%s", e);
        return;
    }
    const char *build = getenv("BUILD");
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", build && *build ? build : "build", rel);
    if (!realpath(p, out))
        snprintf(out, cap, "%s", p);
}

static void s_fixture(const s_world_t *w, char *out, size_t cap)
{
    char rel[PATH_MAX], p[PATH_MAX];
    snprintf(rel, sizeof rel, "tests/fixtures/notifier/%s",
             w->scenario ? w->scenario : "telegram.toml");
    if (!realpath(rel, p))
        snprintf(p, sizeof p, "%s", rel);
    snprintf(out, cap, "%s", p);
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void s_init(s_world_t *w)
{
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/tw-e2e-notify-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(w->dir));
    char p[400];
    snprintf(p, sizeof p, "%s/run", w->dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/state", w->dir);
    mkdir(p, 0700);
    snprintf(w->out, sizeof w->out, "%s/ytsim", w->dir);
    snprintf(w->cfg, sizeof w->cfg, "%s/sup.toml", w->dir);
    w->t = 1795000000LL * 1000000;
}

/* Starts ytsim with extra args (NULL-terminated); false when it does not
 * come up or does not speak Telegram. */
static bool s_ytsim_start(s_world_t *w, const char *const *extra)
{
    char bin[PATH_MAX], scn[PATH_MAX];
    s_bin(bin, sizeof bin, "TW_YTSIM", "bin/ytsim");
    s_fixture(w, scn, sizeof scn);
    if (access(bin, X_OK) != 0)
        return false;
    char portf[400];
    snprintf(portf, sizeof portf, "%s/port", w->out);
    unlink(portf);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char log[400];
        snprintf(log, sizeof log, "%s/ytsim.err", w->dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        const char *argv[32] = {bin,        "--scenario",  scn,
                                "--listen", "127.0.0.1:0", "--out",
                                w->out,     "--speed",     "0"};
        int n = 9;
        for (int i = 0; extra && extra[i] && n < 30; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    w->ytsim = pid;
    int64_t end = s_now_ms() + 5000;
    while (s_now_ms() < end) {
        FILE *f = fopen(portf, "r");
        if (f) {
            int ok = fscanf(f, "%d", &w->port);
            fclose(f);
            if (ok == 1 && w->port > 0)
                break;
        }
        s_pause_ms(5);
    }
    if (w->port <= 0)
        return false;
    /* does it speak Telegram? (getMe with the scenario's token) */
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "curl -s -o /dev/null -w '%%{http_code}' "
             "http://127.0.0.1:%d/bot%s/getMe | grep -q 200",
             w->port, S_TOKEN);
    return system(cmd) == 0;
}

static void s_ytsim_stop(s_world_t *w)
{
    if (w->ytsim > 0) {
        kill(w->ytsim, SIGTERM);
        waitpid(w->ytsim, NULL, 0);
        w->ytsim = 0;
    }
}

/* Writes the config: base_url to ytsim (or a dead port when port is 0),
 * [notify] and rules (TOML text). */
static void s_config(s_world_t *w, int port, const char *notify)
{
    FILE *f = fopen(w->cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "[supervisor]\n"
            "runtime_dir = \"%s/run\"\n"
            "state_dir = \"%s/state\"\n"
            "data_dir = \"%s/data\"\n"
            "log_dir = \"%s/logs\"\n"
            "[telegram]\n"
            "bot_token = \"%s\"\n"
            "base_url = \"http://127.0.0.1:%d\"\n"
            "chat_ids = [" S_CHAT1 "]\n"
            "[worker.notifier]\n"
            "%s\n",
            w->dir, w->dir, w->dir, w->dir, S_TOKEN, port ? port : 9, notify);
    fclose(f);
}

/* Starts tw-notifier (extra env "K=V" or NULL) and waits for its socket. */
static void s_notifier_start(s_world_t *w, const char *env1, const char *env2)
{
    char bin[PATH_MAX];
    s_bin(bin, sizeof bin, "TW_NOTIFIER", "libexec/tubewatch/tw-notifier");
    char sock[400];
    snprintf(sock, sizeof sock, "%s/run/notifier.sock", w->dir);
    unlink(sock);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char log[400];
        snprintf(log, sizeof log, "%s/notifier.err", w->dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0)
            dup2(fd, 2);
        char rt[400], st[400];
        snprintf(rt, sizeof rt, "%s/run", w->dir);
        snprintf(st, sizeof st, "%s/state", w->dir);
        setenv("TUBEWATCH_WORKER", "notifier", 1);
        setenv("TUBEWATCH_CONFIG", w->cfg, 1);
        setenv("TUBEWATCH_RUNTIME_DIR", rt, 1);
        setenv("TUBEWATCH_STATE_DIR", st, 1);
        setenv("TUBEWATCH_EPOCH", "1", 1);
        unsetenv("TUBEWATCH_SUP_ENDPOINT");
        if (env1)
            putenv((char *)env1);
        if (env2)
            putenv((char *)env2);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    w->notifier = pid;
    int64_t end = s_now_ms() + 5000;
    struct stat sb;
    while (stat(sock, &sb) != 0 && s_now_ms() < end)
        s_pause_ms(5);
    ck_assert_msg(stat(sock, &sb) == 0, "notifier did not bind its socket");
}

static int s_notifier_stop(s_world_t *w, int sig)
{
    int status = -1;
    if (w->notifier > 0) {
        kill(w->notifier, sig);
        waitpid(w->notifier, &status, 0);
        w->notifier = 0;
    }
    return status;
}

static void s_sender(s_world_t *w)
{
    if (!w->zctx)
        w->zctx = zmq_ctx_new();
    char ep[400];
    snprintf(ep, sizeof ep, "ipc://%s/run/notifier.sock", w->dir);
    tw_deliver_opts_t o = {.endpoint = ep, .src = "stats"};
    tw_err_t err = {{0}, 0, 0};
    ck_assert_int_eq(tw_deliver_sender_new(&w->tx, w->zctx, &o, &err), TW_OK);
}

static void s_cleanup(s_world_t *w)
{
    tw_deliver_destroy(&w->tx);
    if (w->zctx)
        zmq_ctx_term(w->zctx);
    s_notifier_stop(w, SIGKILL);
    s_ytsim_stop(w);
    if (getenv("TW_KEEP") == NULL) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "unable to remove %s\n", w->dir);
    }
}

/* Sends one stats.sample (negative = absent) and waits for its ack. */
static void s_sample(s_world_t *w, const char *vid, const char *title,
                     int64_t likes, int64_t views)
{
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_STATS_SAMPLE;
    m.u.stats_sample.video_id = (char *)vid;
    m.u.stats_sample.channel_id = "UCuAXFkgsw1L7xaCfnd5JJOw";
    m.u.stats_sample.title = (char *)title;
    m.u.stats_sample.sampled_at_us = w->t;
    w->t += 1000000;
    if (likes >= 0)
        m.u.stats_sample.likes = (tw_ou64_t){true, (uint64_t)likes};
    if (views >= 0)
        m.u.stats_sample.views = (tw_ou64_t){true, (uint64_t)views};
    tw_err_t err = {{0}, 0, 0};
    ck_assert_int_eq(tw_deliver_send(w->tx, &m, &err), TW_OK);
    ck_assert_int_eq(tw_deliver_drain(w->tx, 5000, &err), TW_OK);
}

static void s_event(s_world_t *w, const char *vid, tw_stream_state_t st)
{
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_STREAM_EVENT;
    m.u.stream_event.video_id = (char *)vid;
    m.u.stream_event.channel_id = "UCuAXFkgsw1L7xaCfnd5JJOw";
    m.u.stream_event.title = "Launch & <co>";
    m.u.stream_event.state = st;
    m.u.stream_event.reason = "";
    tw_err_t err = {{0}, 0, 0};
    ck_assert_int_eq(tw_deliver_send(w->tx, &m, &err), TW_OK);
    ck_assert_int_eq(tw_deliver_drain(w->tx, 5000, &err), TW_OK);
}

/* Lines of received/telegram.jsonl: texts per chat, in order. */
typedef struct {
    char chat[64][24];  /* chat_id */
    char text[64][512]; /* text */
    char mode[64][8];   /* parse_mode */
    int n;              /* lines */
} s_recv_t;

static void s_received(s_world_t *w, s_recv_t *r)
{
    memset(r, 0, sizeof *r);
    char p[400];
    snprintf(p, sizeof p, "%s/received/telegram.jsonl", w->out);
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    char line[8192];
    while (fgets(line, sizeof line, f) && r->n < 64) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
            continue;
        snprintf(r->chat[r->n], sizeof r->chat[0], "%lld",
                 (long long)json_integer_value(json_object_get(j, "chat_id")));
        const char *t = json_string_value(json_object_get(j, "text"));
        const char *m = json_string_value(json_object_get(j, "parse_mode"));
        snprintf(r->text[r->n], sizeof r->text[0], "%s", t ? t : "");
        snprintf(r->mode[r->n], sizeof r->mode[0], "%s", m ? m : "");
        r->n++;
        json_decref(j);
    }
    fclose(f);
}

static int s_wait_lines(s_world_t *w, int want, int timeout_ms)
{
    s_recv_t r;
    int64_t end = s_now_ms() + timeout_ms;
    do {
        s_received(w, &r);
        if (r.n >= want)
            return r.n;
        s_pause_ms(20);
    } while (s_now_ms() < end);
    return r.n;
}

/* The positive signal before checking that nothing more happened: a likes
 * change of the sentinel video, sent after everything else, must arrive as
 * chats more lines (one per chat of the likes rule). Samples are handled in
 * order and each chat's outbox is sent in order, so once it is there every
 * earlier sample was handled and every earlier message to those chats sent.
 * Returns the number of lines then. */
static int s_sentinel(s_world_t *w, int have, int chats)
{
    if (w->t <= w->sentinel_t) /* a test rewound the clock */
        w->t = w->sentinel_t + 1000000;
    if (w->sentinel == 0)
        s_sample(w, "zzzzzzzzzzz", "sentinel", ++w->sentinel, -1);
    s_sample(w, "zzzzzzzzzzz", "sentinel", ++w->sentinel, -1);
    w->sentinel_t = w->t - 1000000;
    char want[128];
    snprintf(want, sizeof want, "Video: sentinel | Likes changed: %d -&gt; %d",
             w->sentinel - 1, w->sentinel);
    s_recv_t r;
    int64_t end = s_now_ms() + 40000;
    for (;;) {
        s_received(w, &r);
        int seen = 0;
        for (int i = 0; i < r.n; i++)
            seen += strcmp(r.text[i], want) == 0;
        if (seen >= chats)
            break;
        ck_assert_msg(s_now_ms() < end,
                      "the sentinel did not arrive (%d lines)", r.n);
        s_pause_ms(20);
    }
    ck_assert_int_ge(r.n, have + chats);
    return r.n;
}

/* True when line i of r is the sentinel's message. */
static bool s_is_sentinel(const s_recv_t *r, int i)
{
    return strstr(r->text[i], "Video: sentinel | Likes changed:") != NULL;
}

/* Texts sent to one chat, in order; returns how many. */
static int s_texts_of(const s_recv_t *r, const char *chat, const char **out,
                      int cap)
{
    int n = 0;
    for (int i = 0; i < r->n && n < cap; i++)
        if (strcmp(r->chat[i], chat) == 0)
            out[n++] = r->text[i];
    return n;
}

static int s_count_in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

#define S_YTSIM_TELEGRAM(w, extra)                                             \
    ck_assert_msg(                                                             \
        s_ytsim_start(&(w), (extra)),                                          \
        "ytsim did not start or does not speak the Telegram Bot API")

START_TEST(test_rules_templates_escaping)
{
    s_world_t w;
    s_init(&w);
    S_YTSIM_TELEGRAM(w, NULL);
    char notify[512];
    snprintf(notify, sizeof notify,
             "[notify]\nevents = [\"live\", \"ended\"]\n"
             "[[notify.rule]]\nmetrics = [\"likes\"]\n"
             "[[notify.rule]]\nmetrics = [\"views\"]\nmin_delta = 0\n"
             "milestone = 1000\nchat_ids = [\"" S_CHAT2 "\"]\n"
             "template = \"{title}: {Metric} {prev} -> {curr} ({delta}) "
             "{video_id}\"\n");
    s_config(&w, w.port, notify);
    s_notifier_start(&w, NULL, NULL);
    s_sender(&w);
    const char *hostile = "<script>alert(1)</script> &amp; \xf0\x9f\x8e\xa4";
    s_sample(&w, "dQw4w9WgXcQ", hostile, 10, 990);
    s_sample(&w, "dQw4w9WgXcQ", hostile, 11, 1001);
    s_sample(&w, "dQw4w9WgXcQ", hostile, 11, 1500); /* nothing */
    s_sample(&w, "dQw4w9WgXcQ", hostile, -1, 2000); /* likes hidden */
    s_event(&w, "dQw4w9WgXcQ", TW_STREAM_STATE_LIVE);
    s_event(&w, "dQw4w9WgXcQ", TW_STREAM_STATE_LIVE); /* once */
    ck_assert_int_eq(s_wait_lines(&w, 4, 10000), 4);
    s_sentinel(&w, 4, 1);
    s_recv_t r;
    s_received(&w, &r);
    ck_assert_int_eq(r.n, 5);
    ck_assert(s_is_sentinel(&r, 4));
    const char *t1[8], *t2[8];
    ck_assert_int_eq(s_texts_of(&r, S_CHAT1, t1, 8), 3);
    ck_assert_int_eq(s_texts_of(&r, S_CHAT2, t2, 8), 2);
    ck_assert_str_eq(t1[0], "Video: &lt;script&gt;alert(1)&lt;/script&gt; "
                            "&amp;amp; \xf0\x9f\x8e\xa4 | Likes changed: 10 "
                            "-&gt; 11");
    ck_assert_str_eq(t1[1], "Live now: Launch &amp; &lt;co&gt;\n"
                            "https://www.youtube.com/watch?v=dQw4w9WgXcQ");
    ck_assert_str_eq(t2[0], "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; "
                            "\xf0\x9f\x8e\xa4: Views 990 -&gt; 1001 (+11) "
                            "dQw4w9WgXcQ");
    ck_assert_str_eq(t2[1], "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; "
                            "\xf0\x9f\x8e\xa4: Views 1001 -&gt; 2000 (+999) "
                            "dQw4w9WgXcQ");
    for (int i = 0; i < r.n; i++)
        ck_assert_str_eq(r.mode[i], "HTML");
    /* a restart re-announces nothing and the token never reached a log */
    ck_assert_int_eq(s_notifier_stop(&w, SIGTERM), 0);
    s_notifier_start(&w, NULL, NULL);
    tw_deliver_destroy(&w.tx);
    s_sender(&w);
    w.t -= 3000000; /* the last samples again */
    s_sample(&w, "dQw4w9WgXcQ", hostile, 11, 1500);
    s_sample(&w, "dQw4w9WgXcQ", hostile, -1, 2000);
    s_event(&w, "dQw4w9WgXcQ", TW_STREAM_STATE_LIVE);
    s_sentinel(&w, 5, 1);
    s_received(&w, &r);
    ck_assert_int_eq(r.n, 6);
    ck_assert(s_is_sentinel(&r, 5));
    char err[400];
    snprintf(err, sizeof err, "%s/notifier.err", w.dir);
    ck_assert_int_eq(s_count_in_file(err, "AAEsimulated"), 0);
    s_cleanup(&w);
}
END_TEST

START_TEST(test_429_storm_order_kept_nothing_lost)
{
    s_world_t w;
    s_init(&w);
    /* half of all sendMessage calls answer 429 retry_after 1 */
    const char *extra[] = {"--fault", "telegram:429:0:1000000:0.5:1", NULL};
    S_YTSIM_TELEGRAM(w, extra);
    s_config(&w, w.port,
             "[notify]\nevents = []\n[[notify.rule]]\nmetrics = "
             "[\"likes\"]\nchat_ids = [\"" S_CHAT1 "\", \"" S_CHAT2 "\"]\n");
    s_notifier_start(&w, NULL, NULL);
    s_sender(&w);
    for (int i = 0; i <= 5; i++)
        s_sample(&w, "aaaaaaaaaaa", "storm", 100 + i, -1);
    ck_assert_int_eq(s_wait_lines(&w, 10, 40000), 10);
    s_sentinel(&w, 10, 2);
    s_recv_t r;
    s_received(&w, &r);
    ck_assert_int_eq(r.n, 12);
    const char *chats[] = {S_CHAT1, S_CHAT2};
    for (int c = 0; c < 2; c++) {
        const char *t[16];
        ck_assert_int_eq(s_texts_of(&r, chats[c], t, 16), 6);
        ck_assert(strstr(t[5], "Video: sentinel") != NULL);
        for (int i = 0; i < 5; i++) {
            char want[128];
            snprintf(want, sizeof want,
                     "Video: storm | Likes changed: %d -&gt; %d", 100 + i,
                     101 + i);
            ck_assert_str_eq(t[i], want);
        }
    }
    char err[400];
    snprintf(err, sizeof err, "%s/notifier.err", w.dir);
    ck_assert_int_gt(s_count_in_file(err, "Too Many Requests"), 0);
    s_cleanup(&w);
}
END_TEST

/* A chat rate-limited for an hour (ytsim at 400x: every sendMessage
 * answers 429 retry_after 1 for 3,600 simulated seconds, 9 s of real
 * time) with outbox_max = 10: the notifier keeps running, drops the oldest
 * with a log line, and once the limit ends the last 10 arrive in order. */
START_TEST(test_rate_limited_hour_outbox_bounded)
{
    s_world_t w;
    s_init(&w);
    const char *extra[] = {"--speed", "400", "--fault",
                           "telegram_sendmessage:429:0:3600:1:1", NULL};
    S_YTSIM_TELEGRAM(w, extra);
    s_config(&w, w.port,
             "outbox_max = 10\n[notify]\nevents = []\n[[notify.rule]]\n"
             "metrics = [\"likes\"]\nchat_ids = [\"" S_CHAT1 "\"]\n");
    s_notifier_start(&w, NULL, NULL);
    s_sender(&w);
    for (int i = 0; i <= 30; i++)
        s_sample(&w, "aaaaaaaaaaa", "limited", 100 + i, -1);
    /* 30 messages queued during the limit: 20 dropped */
    char err[400];
    snprintf(err, sizeof err, "%s/notifier.err", w.dir);
    int64_t end = s_now_ms() + 20000;
    while ((s_count_in_file(err, "Too Many Requests") == 0 ||
            s_count_in_file(err, "outbox full (10 queued") == 0) &&
           s_now_ms() < end)
        s_pause_ms(20);
    ck_assert_int_gt(s_count_in_file(err, "Too Many Requests"), 0);
    ck_assert_int_gt(s_count_in_file(err, "outbox full (10 queued"), 0);
    ck_assert_int_eq(s_wait_lines(&w, 10, 40000), 10);
    s_sentinel(&w, 10, 1);
    ck_assert_int_eq(kill(w.notifier, 0), 0);
    s_recv_t r;
    s_received(&w, &r);
    ck_assert_int_eq(r.n, 11);
    for (int i = 0; i < 10; i++) {
        char want[128];
        snprintf(want, sizeof want,
                 "Video: limited | Likes changed: %d -&gt; %d", 120 + i,
                 121 + i);
        ck_assert_str_eq(r.text[i], want);
    }
    ck_assert(s_is_sentinel(&r, 10));
    ck_assert_int_eq(WEXITSTATUS(s_notifier_stop(&w, SIGTERM)), 0);
    s_cleanup(&w);
}
END_TEST

START_TEST(test_outbox_replay_after_kill9)
{
    s_world_t w;
    s_init(&w);
    /* first run: Telegram unreachable, messages wait in the outbox */
    s_config(&w, 0,
             "[notify]\nevents = []\n[[notify.rule]]\nmetrics = "
             "[\"likes\"]\n");
    s_notifier_start(&w, NULL, NULL);
    s_sender(&w);
    for (int i = 0; i <= 3; i++)
        s_sample(&w, "bbbbbbbbbbb", "replay", 7 + i, -1);
    /* acked = journaled; now kill -9 */
    int st = s_notifier_stop(&w, SIGKILL);
    ck_assert(WIFSIGNALED(st));
    char jp[400];
    snprintf(jp, sizeof jp, "%s/state/notifier/outbox/" S_CHAT1 ".journal",
             w.dir);
    struct stat sb;
    ck_assert_int_eq(stat(jp, &sb), 0);
    ck_assert_int_gt(sb.st_size, 0);
    S_YTSIM_TELEGRAM(w, NULL);
    s_config(&w, w.port,
             "[notify]\nevents = []\n[[notify.rule]]\nmetrics = "
             "[\"likes\"]\n");
    s_notifier_start(&w, NULL, NULL);
    ck_assert_int_eq(s_wait_lines(&w, 3, 15000), 3);
    /* and nothing twice, even after another restart */
    ck_assert_int_eq(s_notifier_stop(&w, SIGTERM), 0);
    s_notifier_start(&w, NULL, NULL);
    tw_deliver_destroy(&w.tx);
    s_sender(&w);
    s_sentinel(&w, 3, 1);
    s_recv_t r;
    s_received(&w, &r);
    ck_assert_int_eq(r.n, 4);
    ck_assert(s_is_sentinel(&r, 3));
    for (int i = 0; i < 3; i++) {
        char want[128];
        snprintf(want, sizeof want,
                 "Video: replay | Likes changed: %d -&gt; "
                 "%d",
                 7 + i, 8 + i);
        ck_assert_str_eq(r.text[i], want);
    }
    s_cleanup(&w);
}
END_TEST

START_TEST(test_permanent_errors_not_looped)
{
    s_world_t w;
    s_init(&w);
    S_YTSIM_TELEGRAM(w, NULL);
    s_config(&w, w.port,
             "[notify]\nevents = []\n[[notify.rule]]\nmetrics = "
             "[\"likes\"]\nchat_ids = [\"333\", \"-5\", \"12345\", "
             "\"" S_CHAT1 "\"]\n");
    s_notifier_start(&w, "TUBEWATCH_NOTIFIER_CHAT_RATE=5", NULL);
    s_sender(&w);
    s_sample(&w, "ccccccccccc", "perm", 1, -1);
    s_sample(&w, "ccccccccccc", "perm", 2, -1);
    s_sample(&w, "ccccccccccc", "perm", 3, -1);
    /* chat1 and the migrated -5 (now S_CHAT2) get both */
    ck_assert_int_eq(s_wait_lines(&w, 4, 10000), 4);
    s_sentinel(&w, 4, 2);
    s_recv_t r;
    s_received(&w, &r);
    ck_assert_int_eq(r.n, 6);
    const char *t[8];
    ck_assert_int_eq(s_texts_of(&r, S_CHAT1, t, 8), 3);
    ck_assert_int_eq(s_texts_of(&r, S_CHAT2, t, 8), 3);
    ck_assert_str_eq(t[0], "Video: perm | Likes changed: 1 -&gt; 2");
    ck_assert_str_eq(t[1], "Video: perm | Likes changed: 2 -&gt; 3");
    char err[400];
    snprintf(err, sizeof err, "%s/notifier.err", w.dir);
    /* one try each for the blocked and the unknown chat, then disabled */
    ck_assert_int_eq(s_count_in_file(err, "chat 333: 403"), 1);
    ck_assert_int_eq(s_count_in_file(err, "chat 12345: 400"), 1);
    ck_assert_int_eq(s_count_in_file(err, "migrated to " S_CHAT2), 1);
    ck_assert_int_ge(s_count_in_file(err, "chat 333 is disabled"), 1);
    s_cleanup(&w);
}
END_TEST

START_TEST(test_worker_failed_alert)
{
    s_world_t w;
    s_init(&w);
    S_YTSIM_TELEGRAM(w, NULL);
    /* play the supervisor's events.sock: an XPUB shows the subscription */
    w.zctx = zmq_ctx_new();
    void *pub = zmq_socket(w.zctx, ZMQ_XPUB);
    char ep[400];
    snprintf(ep, sizeof ep, "ipc://%s/run/events.sock", w.dir);
    ck_assert_int_eq(zmq_bind(pub, ep), 0);
    s_config(&w, w.port, "[notify]\nevents = [\"failed\"]\n");
    s_notifier_start(&w, NULL, NULL);
    char sub[64];
    int got = 0;
    zmq_pollitem_t it = {.socket = pub, .events = ZMQ_POLLIN};
    int64_t end = s_now_ms() + 5000;
    while (got < 2 && s_now_ms() < end) {
        if (zmq_poll(&it, 1, 100) > 0 &&
            zmq_recv(pub, sub, sizeof sub, ZMQ_DONTWAIT) > 0)
            got++;
    }
    ck_assert_int_eq(got, 2); /* worker.failed and stream.event */
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_WORKER_EVENT;
    snprintf(m.src, sizeof m.src, "tubewatchd");
    m.u.worker_event.worker = "stats";
    m.u.worker_event.state = "failed";
    m.u.worker_event.text = "6 restarts in 60 s <exit 111>";
    m.u.worker_event.restarts = 6;
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_proto_encode(&m, &buf, &len, NULL), TW_OK);
    /* a state the notifier does not subscribe to, then the failure */
    zmq_send(pub, "worker.ready", 12, ZMQ_SNDMORE);
    zmq_send(pub, buf, len, 0);
    zmq_send(pub, "worker.failed", 13, ZMQ_SNDMORE);
    zmq_send(pub, buf, len, 0);
    free(buf);
    ck_assert_int_eq(s_wait_lines(&w, 1, 5000), 1);
    /* the positive signal: a later failure of another worker arrives, so
     * the ignored worker.ready was handled and sent nothing */
    m.u.worker_event.worker = "tokenizer";
    buf = NULL;
    ck_assert_int_eq(tw_proto_encode(&m, &buf, &len, NULL), TW_OK);
    zmq_send(pub, "worker.failed", 13, ZMQ_SNDMORE);
    zmq_send(pub, buf, len, 0);
    free(buf);
    ck_assert_int_eq(s_wait_lines(&w, 2, 5000), 2);
    s_recv_t r;
    s_received(&w, &r);
    ck_assert_int_eq(r.n, 2);
    ck_assert_str_eq(r.text[0], "Worker stats FAILED: 6 restarts in 60 s "
                                "&lt;exit 111&gt;");
    ck_assert_str_eq(r.text[1], "Worker tokenizer FAILED: 6 restarts in 60 s "
                                "&lt;exit 111&gt;");
    ck_assert_str_eq(r.chat[0], S_CHAT1);
    zmq_close(pub);
    s_cleanup(&w);
}
END_TEST

START_TEST(test_kill9_while_sending_exactly_once_or_one_dup)
{
    s_world_t w;
    s_init(&w);
    w.scenario = "telegram-fast.toml";
    S_YTSIM_TELEGRAM(w, NULL);
    s_config(&w, w.port,
             "[notify]\nevents = []\n[[notify.rule]]\nmetrics = "
             "[\"likes\"]\n");
    const char *rate = "TUBEWATCH_NOTIFIER_CHAT_RATE=200";
    s_notifier_start(&w, rate, NULL);
    s_sender(&w);
    int kills = 0;
    for (int i = 0; i <= 40; i++) {
        s_sample(&w, "ddddddddddd", "crash", 1000 + i, -1);
        if (i % 8 == 4) {
            /* kill -9 at once: messages may be queued, sent, or sent and
             * not yet trimmed */
            int st = s_notifier_stop(&w, SIGKILL);
            ck_assert(WIFSIGNALED(st));
            kills++;
            s_notifier_start(&w, rate, NULL);
        }
    }
    ck_assert_int_ge(s_wait_lines(&w, 40, 20000), 40);
    int have = s_wait_lines(&w, 40, 0);
    s_sentinel(&w, have, 1);
    s_recv_t r;
    s_received(&w, &r);
    ck_assert(s_is_sentinel(&r, r.n - 1));
    r.n--; /* the sentinel */
    /* every change exactly once, in order; a kill may repeat one message */
    int want = 0, dups = 0;
    for (int i = 0; i < r.n; i++) {
        char exp[128];
        snprintf(exp, sizeof exp, "Video: crash | Likes changed: %d -&gt; %d",
                 1000 + want, 1001 + want);
        if (strcmp(r.text[i], exp) == 0) {
            want++;
            continue;
        }
        char prev[128];
        snprintf(prev, sizeof prev, "Video: crash | Likes changed: %d -&gt; %d",
                 999 + want, 1000 + want);
        ck_assert_msg(want > 0 && strcmp(r.text[i], prev) == 0,
                      "line %d out of order: %s", i, r.text[i]);
        dups++;
    }
    ck_assert_int_eq(want, 40);
    ck_assert_int_le(dups, kills);
    s_cleanup(&w);
}
END_TEST

START_TEST(test_under_tubewatchd_failed_worker_alert)
{
    s_world_t w;
    s_init(&w);
    S_YTSIM_TELEGRAM(w, NULL);
    char workers[2048];
    snprintf(workers, sizeof workers,
             "[telegram]\nbot_token = \"%s\"\nbase_url = "
             "\"http://127.0.0.1:%d\"\nchat_ids = [" S_CHAT1 "]\n"
             "[notify]\nevents = [\"failed\"]\n"
             "[worker.notifier]\n"
             "[worker.crasher]\nafter = [\"notifier\"]\n"
             "command = [\"/bin/sh\", \"-c\", \"exit 1\"]\n"
             "max_restarts = 1\nrestart_window = \"60s\"\n"
             "restart_delay = \"100ms\"\n",
             S_TOKEN, w.port);
    e2e_sup_t t;
    e2e_sup_init(&t, workers);
    /* the real worker program, found by kind in libexec_dir */
    char bin[PATH_MAX], link[400];
    s_bin(bin, sizeof bin, "TW_NOTIFIER", "libexec/tubewatch/tw-notifier");
    snprintf(link, sizeof link, "%s/tw-notifier", t.dir);
    ck_assert_int_eq(symlink(bin, link), 0);
    ck_assert(e2e_sup_start(&t));
    ck_assert(e2e_sup_wait_state(&t, "notifier", "running", 5000));
    ck_assert(e2e_sup_wait_state(&t, "crasher", "failed", 5000));
    ck_assert_int_ge(s_wait_lines(&w, 1, 5000), 1);
    s_recv_t r;
    s_received(&w, &r);
    ck_assert_int_eq(r.n, 1);
    ck_assert_ptr_nonnull(strstr(r.text[0], "Worker crasher FAILED: exit 1"));
    ck_assert_int_eq(WEXITSTATUS(e2e_sup_stop(&t, 5000)), 0);
    e2e_sup_cleanup(&t);
    s_cleanup(&w);
}
END_TEST

Suite *e2e_notifier_suite(void)
{
    Suite *s = suite_create("e2e_notifier");
    TCase *tc = tcase_create("telegram");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_rules_templates_escaping);
    tcase_add_test(tc, test_429_storm_order_kept_nothing_lost);
    tcase_add_test(tc, test_outbox_replay_after_kill9);
    tcase_add_test(tc, test_rate_limited_hour_outbox_bounded);
    tcase_add_test(tc, test_permanent_errors_not_looped);
    tcase_add_test(tc, test_worker_failed_alert);
    tcase_add_test(tc, test_kill9_while_sending_exactly_once_or_one_dup);
    tcase_add_test(tc, test_under_tubewatchd_failed_worker_alert);
    suite_add_tcase(s, tc);
    return s;
}
