/* End-to-end tests of the chat@VIDEO worker (tw-chat) against ytsim: a
 * fake tokenizer (tw_deliver receiver acking everything) and a fake
 * supervisor endpoint (ROUTER collecting stream.events). The captured ids
 * must equal ytsim's truth of what it served, and nothing may be missing
 * from the stream (served rows + moderation rows == the stream's items). */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include "../../workers/chat/chat.h"
#include "e2e_sup.h"
#include "tw_deliver.h"
#include "tw_http.h"
#include "tw_proto.h"
#include "tw_ytpage.h"

/* A growing set of strings (sorted on demand). */
typedef struct {
    char **v;   /* strings (owned) */
    size_t n;   /* used */
    size_t cap; /* allocated */
} s_strs_t;

/* One stream.event received by the fake supervisor. */
typedef struct {
    char src[300];    /* sender */
    char state[32];   /* stream state */
    char reason[256]; /* reason text */
} s_event_t;

/* The test environment. */
typedef struct {
    char dir[256];        /* scratch dir */
    char ys_out[300];     /* ytsim --out */
    char cfg[300];        /* tw-chat config */
    char chat_bin[4096];  /* tw-chat */
    char ytsim_bin[4096]; /* ytsim */
    pid_t ys_pid;         /* ytsim */
    int port;             /* its port */
    void *zctx;           /* ZeroMQ context */
    tw_deliver_t *rx;     /* fake tokenizer */
    void *sup;            /* fake supervisor ROUTER */
    s_strs_t ids;         /* durable (acked) item ids */
    s_strs_t dels;        /* durable deletion targets */
    s_strs_t held;        /* received, not acked (hold mode) */
    s_strs_t held_dels;   /* deletion targets held */
    bool hold;            /* hold mode: do not ack */
    bool api;             /* Data API run: "other" rows kept apart */
    s_strs_t others;      /* Data API "other" rows (moderation events) */
    uint64_t frames;      /* chat.batch frames received */
    s_event_t ev[16];     /* stream.events */
    int nev;              /* count */
} s_env_t;

static s_env_t s_e;
/* The era ytsim serves ("2022" or "2026"), set by the test case. */
static const char *s_era = "2026";

static void s_strs_add(s_strs_t *s, const char *v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        ck_assert_ptr_nonnull(s->v);
    }
    s->v[s->n] = strdup(v);
    ck_assert_ptr_nonnull(s->v[s->n]);
    s->n++;
}

static void s_strs_free(s_strs_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int s_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and removes duplicates. */
static void s_strs_uniq(s_strs_t *s)
{
    if (s->n == 0)
        return;
    qsort(s->v, s->n, sizeof *s->v, s_cmp);
    size_t k = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (strcmp(s->v[i], s->v[k - 1]) == 0)
            free(s->v[i]);
        else
            s->v[k++] = s->v[i];
    }
    s->n = k;
}

static void s_path(char *out, size_t cap, const char *rel)
{
    const char *build = getenv("BUILD");
    char p[4096];
    snprintf(p, sizeof p, "%.200s/%s", build && *build ? build : "build", rel);
    if (!realpath(p, out))
        snprintf(out, cap, "%s", p);
}

/* Handles everything waiting on the two sockets. */
static void s_handle(s_env_t *e)
{
    tw_msg_t m;
    tw_rc_t rc;
    while ((rc = tw_deliver_recv(e->rx, &m, NULL)) != TW_ERR_AGAIN) {
        if (rc == TW_OK && m.id == TW_MSG_CHAT_BATCH) {
            e->frames++;
            const tw_chat_item_list_t *l = &m.u.chat_batch.items;
            for (size_t i = 0; i < l->n; i++) {
                const tw_chat_item_t *it = &l->v[i];
                bool del = it->kind == TW_CHAT_KIND_DELETED;
                ck_assert_str_ne(it->id, "");
                ck_assert_str_eq(m.u.chat_batch.video_id,
                                 m.src + strlen("chat@"));
                ck_assert_int_eq((int)strlen(m.u.chat_batch.channel_id), 24);
                s_strs_t *to = del ? (e->hold ? &e->held_dels : &e->dels)
                                   : (e->hold ? &e->held : &e->ids);
                if (e->api && it->kind == TW_CHAT_KIND_OTHER)
                    to = &e->others;
                s_strs_add(to, del ? it->ref_id : it->id);
            }
        }
        if (!e->hold && m.seq > 0)
            tw_deliver_ack(e->rx, m.src, m.epoch, m.seq, NULL);
        tw_proto_clear(&m);
    }
    while (e->sup) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, e->sup, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            break;
        }
        zmq_msg_init(&body);
        zmq_msg_recv(&body, e->sup, 0);
        tw_msg_t ev;
        if (tw_proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &ev,
                            NULL) == TW_OK) {
            if (ev.id == TW_MSG_STREAM_EVENT && e->nev < 16) {
                s_event_t *x = &e->ev[e->nev++];
                snprintf(x->src, sizeof x->src, "%s", ev.src);
                snprintf(x->state, sizeof x->state, "%s",
                         tw_proto_stream_state_str(ev.u.stream_event.state));
                snprintf(x->reason, sizeof x->reason, "%s",
                         ev.u.stream_event.reason);
            }
            tw_proto_clear(&ev);
        }
        zmq_msg_close(&id);
        zmq_msg_close(&body);
    }
}

/* Serves both sockets for ms milliseconds. */
static void s_pump(s_env_t *e, int ms)
{
    int64_t end = tw_test_now_ms() + ms;
    for (;;) {
        zmq_pollitem_t it[2] = {
            {tw_deliver_socket(e->rx), -1, ZMQ_POLLIN, 0},
            {e->sup, -1, ZMQ_POLLIN, 0},
        };
        int64_t left = end - tw_test_now_ms();
        if (left < 0)
            left = 0;
        int t = tw_deliver_timeout_ms(e->rx, tw_test_now_ms());
        if (t < 0 || t > left)
            t = (int)left;
        zmq_poll(it, e->sup ? 2 : 1, t);
        s_handle(e);
        tw_deliver_tick(e->rx, tw_test_now_ms(), NULL);
        if (tw_test_now_ms() >= end)
            return;
    }
}

/* Starts ytsim on tests/fixtures/ytsim/scenario at speed with --out
 * e->dir/ys and waits for its port. */
static void s_start_ytsim(s_env_t *e, const char *scenario, const char *speed)
{
    s_path(e->chat_bin, sizeof e->chat_bin, "libexec/tubewatch/tw-chat");
    s_path(e->ytsim_bin, sizeof e->ytsim_bin, "bin/ytsim");
    char scn[4096];
    snprintf(scn, sizeof scn, "tests/fixtures/ytsim/%s", scenario);
    snprintf(e->ys_out, sizeof e->ys_out, "%.200s/ys", e->dir);
    char logp[300];
    snprintf(logp, sizeof logp, "%.200s/ytsim.log", e->dir);
    e->ys_pid = fork();
    ck_assert_int_ge(e->ys_pid, 0);
    if (e->ys_pid == 0) {
        FILE *f = freopen(logp, "w", stdout);
        (void)f;
        dup2(1, 2);
        execl(e->ytsim_bin, "ytsim", "--scenario", scn, "--listen",
              "127.0.0.1:0", "--out", e->ys_out, "--speed", speed, "--threads",
              "2", "--era", s_era, (char *)NULL);
        _exit(127);
    }
    char portf[400];
    snprintf(portf, sizeof portf, "%.200s/port", e->ys_out);
    int64_t deadline = tw_test_now_ms() + 5000;
    for (;;) {
        FILE *f = fopen(portf, "r");
        if (f) {
            int ok = fscanf(f, "%d", &e->port);
            fclose(f);
            if (ok == 1 && e->port > 0)
                break;
        }
        ck_assert_msg(tw_test_now_ms() < deadline, "ytsim did not start");
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Binds the fake tokenizer in e->dir/run. */
static void s_bind_rx(s_env_t *e)
{
    e->zctx = zmq_ctx_new();
    ck_assert_ptr_nonnull(e->zctx);
    char ep[400];
    snprintf(ep, sizeof ep, "ipc://%.200s/run/tokenizer.sock", e->dir);
    ck_assert_int_eq(
        tw_deliver_receiver_new(&e->rx, e->zctx, ep, "tokenizer", 1, NULL),
        TW_OK);
}

/* Starts ytsim on scenario (tests/fixtures/ytsim/NAME) at speed, binds the
 * fake peers and writes the config (extras appended to [worker.chat] and
 * [youtube]). */
static void s_start(s_env_t *e, const char *scenario, const char *speed,
                    const char *chat_extra, const char *yt_extra)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/tw-e2e-chat-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(e->dir));
    s_start_ytsim(e, scenario, speed);
    char p[4400];
    const char *subs[] = {"run", "state", "data", "logs"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%.200s/%s", e->dir, subs[i]);
        ck_assert_int_eq(mkdir(p, 0700), 0);
    }
    snprintf(e->cfg, sizeof e->cfg, "%.200s/tw.toml", e->dir);
    FILE *f = fopen(e->cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "[supervisor]\nruntime_dir = \"%.200s/run\"\nstate_dir = "
            "\"%.200s/state\"\ndata_dir = \"%.200s/data\"\nlog_dir = "
            "\"%.200s/logs\"\n"
            "[worker.chat]\npoll_min = \"100ms\"\npoll_max = \"1s\"\n%s\n"
            "[youtube]\nweb_base_url = \"http://127.0.0.1:%d\"\n"
            "api_base_url = \"http://127.0.0.1:%d/youtube/v3\"\n"
            "http_timeout = \"3s\"\n%s\n",
            e->dir, e->dir, e->dir, e->dir, chat_extra ? chat_extra : "",
            e->port, e->port, yt_extra ? yt_extra : "");
    fclose(f);
    s_bind_rx(e);
    char ep[400];
    e->sup = zmq_socket(e->zctx, ZMQ_ROUTER);
    snprintf(ep, sizeof ep, "ipc://%s/run/sup.sock", e->dir);
    ck_assert_int_eq(zmq_bind(e->sup, ep), 0);
}

/* Starts tw-chat for vid with incarnation epoch (and optional extra
 * "NAME=VALUE" environment entry). */
static pid_t s_chat(s_env_t *e, const char *vid, int epoch, const char *env)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char b[6][512];
        snprintf(b[0], 512, "TUBEWATCH_WORKER=chat@%s", vid);
        snprintf(b[1], 512, "TUBEWATCH_INSTANCE=%s", vid);
        snprintf(b[2], 512, "TUBEWATCH_CONFIG=%s", e->cfg);
        snprintf(b[3], 512, "TUBEWATCH_RUNTIME_DIR=%s/run", e->dir);
        snprintf(b[4], 512, "TUBEWATCH_STATE_DIR=%s/state", e->dir);
        snprintf(b[5], 512, "TUBEWATCH_SUP_ENDPOINT=ipc://%s/run/sup.sock",
                 e->dir);
        for (int i = 0; i < 6; i++)
            putenv(b[i]);
        char ep[64];
        snprintf(ep, sizeof ep, "TUBEWATCH_EPOCH=%d", epoch);
        putenv(ep);
        if (env)
            putenv((char *)env);
        char logp[400];
        snprintf(logp, sizeof logp, "%.200s/chat-%s.log", e->dir, vid);
        FILE *f = freopen(logp, "a", stderr);
        (void)f;
        execl(e->chat_bin, "tw-chat", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Pumps until pid exits (or timeout); returns its exit code, -1 if it did
 * not exit. */
static int s_wait_chat(s_env_t *e, pid_t pid, int timeout_ms)
{
    int64_t end = tw_test_now_ms() + timeout_ms;
    while (tw_test_now_ms() < end) {
        s_pump(e, 20);
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s_pump(e, 100); /* last stream.event */
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* Stops ytsim so its truth files are complete. */
static void s_stop_ytsim(s_env_t *e)
{
    if (e->ys_pid > 0) {
        kill(e->ys_pid, SIGTERM);
        int st;
        waitpid(e->ys_pid, &st, 0);
        e->ys_pid = 0;
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
}

/* Reads column col (0-based) of every line of PATH (skipping a header
 * when header) whose column match_col equals match (NULL: all). */
static void s_read_col(const char *path, int col, int match_col,
                       const char *match, s_strs_t *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *fields[16] = {0};
        int n = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, "\t", &save); t && n < 16;
             t = strtok_r(NULL, "\t", &save))
            fields[n++] = t;
        if (n <= col || (match && (n <= match_col ||
                                   strcmp(fields[match_col], match) != 0)))
            continue;
        s_strs_add(out, fields[col]);
    }
    free(line);
    fclose(f);
}

/* chat_items column of truth/streams.tsv for vid, -1 if absent. */
static long s_stream_items(s_env_t *e, const char *vid)
{
    char p[4400];
    snprintf(p, sizeof p, "%.200s/truth/streams.tsv", e->ys_out);
    s_strs_t v = {0};
    s_read_col(p, 10, 0, vid, &v);
    long n = v.n ? atol(v.v[0]) : -1;
    s_strs_free(&v);
    return n;
}

/* Asserts that the sorted unique sets a and b are equal (what = label). */
static void s_same(s_strs_t *a, s_strs_t *b, const char *what)
{
    s_strs_uniq(a);
    s_strs_uniq(b);
    size_t missing = 0, extra = 0, i = 0, k = 0;
    while (i < a->n || k < b->n) {
        int c = i == a->n ? 1 : k == b->n ? -1 : strcmp(a->v[i], b->v[k]);
        if (c < 0) {
            if (missing++ < 3)
                fprintf(stderr, "missing %s\n", a->v[i]);
            i++;
        } else if (c > 0) {
            if (extra++ < 3)
                fprintf(stderr, "extra %s\n", b->v[k]);
            k++;
        } else {
            i++;
            k++;
        }
    }
    ck_assert_msg(missing == 0 && extra == 0,
                  "%s: %zu items missing, %zu extra (truth %zu, got %zu)", what,
                  missing, extra, a->n, b->n);
}

/* Asserts that the captured items equal the truth served for vid and that
 * nothing of the stream is missing. */
static void s_check_truth(s_env_t *e, const char *vid)
{
    char p[4400];
    s_strs_t truth = {0}, tdel = {0}, tban = {0};
    snprintf(p, sizeof p, "%.200s/truth/chat/%s.tsv", e->ys_out, vid);
    s_read_col(p, 0, 0, NULL, &truth);
    snprintf(p, sizeof p, "%.200s/truth/chat/%s.deleted.tsv", e->ys_out, vid);
    s_read_col(p, 2, 1, "delete", &tdel);
    s_read_col(p, 2, 1, "ban", &tban);
    /* every item the stream had is either served or an action that is
     * neither a row nor a moderation event (banners, replacements) */
    long total = s_stream_items(e, vid);
    ck_assert_msg((long)(truth.n + tdel.n + tban.n) <= total,
                  "%s: ytsim served %zu + %zu + %zu of %ld items", vid, truth.n,
                  tdel.n, tban.n, total);
    s_strs_uniq(&truth);
    s_strs_uniq(&tdel);
    s_strs_uniq(&e->ids);
    s_strs_uniq(&e->dels);
    size_t missing = 0, extra = 0, i = 0, k = 0;
    while (i < truth.n || k < e->ids.n) {
        int c = i == truth.n    ? 1
                : k == e->ids.n ? -1
                                : strcmp(truth.v[i], e->ids.v[k]);
        if (c < 0) {
            if (missing++ < 3)
                fprintf(stderr, "missing %s\n", truth.v[i]);
            i++;
        } else if (c > 0) {
            if (extra++ < 3)
                fprintf(stderr, "extra %s\n", e->ids.v[k]);
            k++;
        } else {
            i++;
            k++;
        }
    }
    ck_assert_msg(missing == 0 && extra == 0,
                  "%s: %zu items missing, %zu extra (truth %zu, got %zu)", vid,
                  missing, extra, truth.n, e->ids.n);
    ck_assert_uint_eq(tdel.n, e->dels.n);
    for (size_t j = 0; j < tdel.n; j++)
        ck_assert_str_eq(tdel.v[j], e->dels.v[j]);
    s_strs_free(&truth);
    s_strs_free(&tdel);
    s_strs_free(&tban);
}

/* Number of bans ytsim served for vid. */
static long s_bans(s_env_t *e, const char *vid)
{
    char p[4400];
    snprintf(p, sizeof p, "%.200s/truth/chat/%s.deleted.tsv", e->ys_out, vid);
    s_strs_t v = {0};
    s_read_col(p, 2, 1, "ban", &v);
    long n = (long)v.n;
    s_strs_free(&v);
    return n;
}

/* The last stream.event of src, or NULL. */
static const s_event_t *s_event(s_env_t *e, const char *vid)
{
    char src[96];
    snprintf(src, sizeof src, "chat@%s", vid);
    for (int i = e->nev - 1; i >= 0; i--)
        if (strcmp(e->ev[i].src, src) == 0)
            return &e->ev[i];
    return NULL;
}

/* True when STATE/chat@vid is gone (checkpoint and journal removed). */
static bool s_state_gone(s_env_t *e, const char *vid)
{
    char p[4400];
    snprintf(p, sizeof p, "%.200s/state/chat@%s", e->dir, vid);
    return access(p, F_OK) != 0;
}

/* early_polls of vid in truth/polls.tsv (-1 if absent). */
static long s_early_polls(s_env_t *e, const char *vid)
{
    char p[4400];
    snprintf(p, sizeof p, "%.200s/truth/polls.tsv", e->ys_out);
    s_strs_t v = {0};
    s_read_col(p, 2, 0, vid, &v);
    long n = v.n ? atol(v.v[0]) : -1;
    s_strs_free(&v);
    return n;
}

/* Number of lines of ytsim's requests.log starting with prefix and
 * ending with " status" (status NULL: any). */
static long s_requests(s_env_t *e, const char *prefix, const char *status)
{
    char p[4400];
    snprintf(p, sizeof p, "%.200s/requests.log", e->ys_out);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    long n = 0;
    char tail[16] = "";
    if (status)
        snprintf(tail, sizeof tail, " %s", status);
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        size_t l = strlen(line), t = strlen(tail);
        if (strncmp(line, prefix, strlen(prefix)) == 0 &&
            (!status || (l >= t && strcmp(line + l - t, tail) == 0)))
            n++;
    }
    free(line);
    fclose(f);
    return n;
}

/* Era 2026 only: the chat was read the way that works since late 2025 (the
 * all-messages token from the /live_chat page; no token refused). */
static void s_check_2026_path(s_env_t *e)
{
    if (strcmp(s_era, "2026") != 0)
        return;
    ck_assert_int_gt(s_requests(e, "GET /live_chat", "200"), 0);
    ck_assert_int_eq(s_requests(e, "POST /youtubei/v1/live_chat/", "400"), 0);
    ck_assert_int_eq(s_requests(e, "GET /live_chat", "400"), 0);
}

static void s_teardown(void)
{
    s_env_t *e = &s_e;
    if (e->ys_pid > 0) {
        kill(e->ys_pid, SIGKILL);
        waitpid(e->ys_pid, NULL, 0);
    }
    tw_deliver_destroy(&e->rx);
    if (e->sup)
        zmq_close(e->sup);
    if (e->zctx)
        zmq_ctx_term(e->zctx);
    if (e->dir[0] && !getenv("TW_KEEP_TMP")) {
        char cmd[4400];
        snprintf(cmd, sizeof cmd, "rm -rf '%.200s'", e->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "unable to remove %s\n", e->dir);
    }
    s_strs_free(&e->ids);
    s_strs_free(&e->dels);
    s_strs_free(&e->held);
    s_strs_free(&e->held_dels);
    s_strs_free(&e->others);
}

/* Runs vid to its end and checks the capture against the truth; with
 * live_only, nothing may have come from the replay (no gap in the live
 * capture: the replay walk found every item already sent). */
static void s_capture_ok(const char *scenario, const char *vid,
                         const char *speed, bool live_only)
{
    s_env_t *e = &s_e;
    s_start(e, scenario, speed, NULL, NULL);
    pid_t pid = s_chat(e, vid, 1, NULL);
    ck_assert_int_eq(s_wait_chat(e, pid, 40000), 0);
    s_stop_ytsim(e);
    s_check_truth(e, vid);
    const s_event_t *ev = s_event(e, vid);
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(ev->state, "ended");
    ck_assert_ptr_nonnull(strstr(ev->reason, "chat captured"));
    if (live_only)
        ck_assert_msg(strstr(ev->reason, " 0 from the replay") != NULL,
                      "%s: %s", vid, ev->reason);
    ck_assert(s_state_gone(e, vid));
}

START_TEST(test_normal_stream)
{
    /* era 2026: the truth holds every message, also those Top chat hides:
     * only the all-messages chat equals it */
    s_capture_ok("chat-normal.toml", "chatNormal1", "10", true);
    ck_assert_int_eq(s_early_polls(&s_e, "chatNormal1"), 0);
    s_check_2026_path(&s_e);
}
END_TEST

START_TEST(test_pre_chat)
{
    /* the chat is open (empty) for ~1.5 s before the start */
    s_capture_ok("chat-normal.toml", "chatPreChat", "10", true);
}
END_TEST

START_TEST(test_reported_states)
{
    s_env_t *e = &s_e;
    s_start(e, "chat-normal.toml", "10", NULL, NULL);
    const char *vids[] = {"chatMembers", "chatPrivate", "chatDeleted",
                          "chatDisable"};
    const char *want[] = {"members_only", "private", "deleted", "unavailable"};
    pid_t pids[4];
    for (int i = 0; i < 4; i++)
        pids[i] = s_chat(e, vids[i], 1, NULL);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(s_wait_chat(e, pids[i], 20000), 0);
    for (int i = 0; i < 4; i++) {
        const s_event_t *ev = s_event(e, vids[i]);
        ck_assert_msg(ev != NULL, "no stream.event for %s", vids[i]);
        ck_assert_str_eq(ev->state, want[i]);
        ck_assert(s_state_gone(e, vids[i]));
    }
    ck_assert_ptr_nonnull(strstr(s_event(e, "chatDisable")->reason,
                                 "chat "
                                 "disabled"));
    ck_assert_uint_eq(e->ids.n, 0);
    ck_assert_uint_eq(e->frames, 0);
}
END_TEST

START_TEST(test_never_starting)
{
    s_env_t *e = &s_e;
    s_start(e, "chat-normal.toml", "10", NULL, NULL);
    pid_t pid = s_chat(e, "chatNever01", 1, "TUBEWATCH_CHAT_START_GRACE=2s");
    ck_assert_int_eq(s_wait_chat(e, pid, 20000), 0);
    const s_event_t *ev = s_event(e, "chatNever01");
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(ev->state, "cancelled");
    ck_assert_ptr_nonnull(strstr(ev->reason, "never started"));
}
END_TEST

START_TEST(test_http_faults)
{
    /* 5xx, 429, malformed and truncated answers on every endpoint used */
    s_capture_ok("chat-faults.toml", "chatFaults1", "10", false);
}
END_TEST

START_TEST(test_suspected_end_and_reload)
{
    /* answers without continuation while live, reload continuations and
     * a refused (400) continuation */
    s_capture_ok("chat-suspect.toml", "chatSuspect", "10", true);
    char p[4400];
    snprintf(p, sizeof p, "%.200s/chat-chatSuspect.log", s_e.dir);
    s_strs_t lines = {0};
    s_read_col(p, 0, 0, NULL, &lines);
    bool suspected = false, reload = false;
    for (size_t i = 0; i < lines.n; i++) {
        suspected |= strstr(lines.v[i], "suspected end") != NULL;
        reload |= strstr(lines.v[i], "reload continuation") != NULL;
    }
    s_strs_free(&lines);
    ck_assert(suspected);
    ck_assert(reload);
    /* at most the one refusal of the fault window */
    ck_assert_int_le(
        s_requests(&s_e, "POST /youtubei/v1/live_chat/get_live_chat", "400"),
        1);
}
END_TEST

START_TEST(test_data_api)
{
    s_env_t *e = &s_e;
    s_start(e, "chat-normal.toml", "10", "use_api = true",
            "api_key = \"ytsim-api-key\"\nquota_per_day = 100000000");
    e->api = true;
    pid_t pid = s_chat(e, "chatNormal1", 1, NULL);
    ck_assert_int_eq(s_wait_chat(e, pid, 40000), 0);
    s_stop_ytsim(e);
    char p[4400];
    s_strs_t truth = {0};
    snprintf(p, sizeof p, "%.200s/truth/chat_api/chatNormal1.tsv", e->ys_out);
    s_read_col(p, 0, 0, NULL, &truth);
    ck_assert_uint_gt(truth.n, 50);
    s_same(&truth, &e->ids, "chatNormal1 (Data API)");
    s_strs_free(&truth);
    ck_assert_uint_gt(e->dels.n, 0);
    const s_event_t *ev = s_event(e, "chatNormal1");
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(ev->state, "ended");
    ck_assert_ptr_nonnull(strstr(ev->reason, "quota units"));
    ck_assert_ptr_null(strstr(ev->reason, " 0 quota units"));
    /* the shared governor (STATE/quota.tsv) charged what ytsim counted */
    s_strs_t ours = {0}, theirs = {0};
    snprintf(p, sizeof p, "%.200s/state/quota.tsv", e->dir);
    s_read_col(p, 3, 1, "liveChatMessages.list", &ours);
    snprintf(p, sizeof p, "%.200s/quota.tsv", e->ys_out);
    s_read_col(p, 2, 0, "liveChatMessages.list", &theirs);
    ck_assert_uint_eq(ours.n, 1);
    ck_assert_uint_eq(theirs.n, 1);
    ck_assert_str_eq(ours.v[0], theirs.v[0]);
    s_strs_free(&ours);
    s_strs_free(&theirs);
}
END_TEST

START_TEST(test_kill9_restart)
{
    s_env_t *e = &s_e;
    s_start(e, "chat-normal.toml", "10", "reconcile_replay = false", NULL);
    const char *vid = "chatRestart";
    pid_t pid = s_chat(e, vid, 1, NULL);
    int64_t end = tw_test_now_ms() + 20000;
    while (e->ids.n < 40 && tw_test_now_ms() < end)
        s_pump(e, 20);
    ck_assert_uint_ge(e->ids.n, 40);
    /* the fake tokenizer stops acking: what it gets now is not durable */
    e->hold = true;
    uint64_t f0 = e->frames;
    while (e->frames < f0 + 2 && tw_test_now_ms() < end)
        s_pump(e, 20);
    ck_assert_uint_ge(e->frames, f0 + 2);
    ck_assert_uint_gt(e->held.n, 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* as if the tokenizer lost them: only the journal can bring them back */
    s_strs_free(&e->held);
    s_strs_free(&e->held_dels);
    e->hold = false;
    char p[4400];
    snprintf(p, sizeof p, "%.200s/state/chat@%s/journal", e->dir, vid);
    ck_assert_int_eq(access(p, F_OK), 0);
    s_pump(e, 1000); /* ~10 simulated seconds of downtime */
    pid = s_chat(e, vid, 2, NULL);
    ck_assert_int_eq(s_wait_chat(e, pid, 40000), 0);
    s_stop_ytsim(e);
    s_check_truth(e, vid);
    ck_assert(s_state_gone(e, vid));
    /* without the replay, everything came from the live chat: no gap */
    long total = s_stream_items(e, vid);
    ck_assert_int_eq((long)(e->ids.n + e->dels.n) + s_bans(e, vid), total);
    snprintf(p, sizeof p, "%.200s/chat-%s.log", e->dir, vid);
    s_strs_t lines = {0};
    s_read_col(p, 0, 0, NULL, &lines);
    bool resumed = false;
    for (size_t i = 0; i < lines.n; i++)
        resumed |= strstr(lines.v[i], "from the checkpoint") != NULL;
    s_strs_free(&lines);
    ck_assert(resumed);
}
END_TEST

/* True when the log of vid contains text. */
static bool s_log_has(s_env_t *e, const char *vid, const char *text)
{
    char p[4400];
    snprintf(p, sizeof p, "%.200s/chat-%s.log", e->dir, vid);
    s_strs_t lines = {0};
    s_read_col(p, 0, 0, NULL, &lines);
    bool found = false;
    for (size_t i = 0; i < lines.n; i++)
        found |= strstr(lines.v[i], text) != NULL;
    s_strs_free(&lines);
    return found;
}

START_TEST(test_web_format_break_falls_back_to_api)
{
    s_env_t *e = &s_e;
    s_start(e, "chat-fallback.toml", "10", NULL,
            "api_key = \"ytsim-api-key\"\nquota_per_day = 100000000");
    e->api = true;
    pid_t pid = s_chat(e, "chatFallbck", 1, NULL);
    ck_assert_int_eq(s_wait_chat(e, pid, 40000), 0);
    s_stop_ytsim(e);
    ck_assert(s_log_has(e, "chatFallbck", "falling back to the Data API"));
    /* everything the Data API served was captured */
    char p[4400];
    s_strs_t truth = {0};
    snprintf(p, sizeof p, "%.200s/truth/chat_api/chatFallbck.tsv", e->ys_out);
    s_read_col(p, 0, 0, NULL, &truth);
    ck_assert_uint_gt(truth.n, 20);
    s_same(&truth, &e->ids, "chatFallbck (fallback)");
    s_strs_free(&truth);
    const s_event_t *ev = s_event(e, "chatFallbck");
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(ev->state, "ended");
}
END_TEST

START_TEST(test_sigterm_resume)
{
    s_env_t *e = &s_e;
    s_start(e, "chat-normal.toml", "10", "reconcile_replay = false", NULL);
    const char *vid = "chatRestart";
    pid_t pid = s_chat(e, vid, 1, NULL);
    int64_t end = tw_test_now_ms() + 20000;
    while (e->ids.n < 30 && tw_test_now_ms() < end)
        s_pump(e, 20);
    ck_assert_uint_ge(e->ids.n, 30);
    kill(pid, SIGTERM);
    int64_t t0 = tw_test_now_ms();
    ck_assert_int_eq(s_wait_chat(e, pid, 5000), 0);
    ck_assert_int_lt(tw_test_now_ms() - t0, 3000);
    ck_assert(!s_state_gone(e, vid)); /* checkpoint kept for the restart */
    ck_assert_int_eq(s_event(e, vid) == NULL, 1);
    s_pump(e, 500);
    pid = s_chat(e, vid, 2, NULL);
    ck_assert_int_eq(s_wait_chat(e, pid, 40000), 0);
    s_stop_ytsim(e);
    s_check_truth(e, vid);
    long total = s_stream_items(e, vid);
    ck_assert_int_eq((long)(e->ids.n + e->dels.n) + s_bans(e, vid), total);
    ck_assert(s_state_gone(e, vid));
}
END_TEST

/* True when chat@chatNormal1 is no longer listed by tubewatchd. */
static bool s_instance_gone(e2e_sup_t *t)
{
    json_t *o = e2e_sup_worker(t, "chat@chatNormal1");
    bool gone = o == NULL;
    json_decref(o);
    return gone;
}

START_TEST(test_under_tubewatchd)
{
    /* tubewatch spawn chat VIDEO -> tubewatchd starts tw-chat with its
     * environment; the capture ends, exit 0, the instance is removed */
    static e2e_sup_t t;
    s_env_t *e = &s_e;
    memset(e, 0, sizeof *e);
    e2e_sup_init(&t, "");
    snprintf(e->dir, sizeof e->dir, "%.200s", t.dir);
    s_start_ytsim(e, "chat-normal.toml", "10");
    char w[2048];
    snprintf(w, sizeof w,
             "[youtube]\nweb_base_url = \"http://127.0.0.1:%d\"\n"
             "[worker.chat]\npoll_min = \"100ms\"\npoll_max = \"1s\"\n"
             "stop_timeout = \"5s\"\nrestart = \"transient\"\n",
             e->port);
    e2e_sup_write_config(&t, w);
    char link[4400];
    snprintf(link, sizeof link, "%.200s/tw-chat", t.dir);
    ck_assert_int_eq(symlink(e->chat_bin, link), 0);
    ck_assert(e2e_sup_start(&t));
    s_bind_rx(e);
    const char *args[] = {"spawn", "chat", "chatNormal1", NULL};
    ck_assert_int_eq(e2e_sup_cli(&t, args), 0);
    int64_t end = tw_test_now_ms() + 30000;
    while ((e->ids.n == 0 || !s_instance_gone(&t)) && tw_test_now_ms() < end)
        s_pump(e, 50);
    bool gone = s_instance_gone(&t);
    int st = e2e_sup_stop(&t, 8000);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    s_stop_ytsim(e);
    ck_assert(gone);
    s_check_truth(e, "chatNormal1");
    ck_assert(s_state_gone(e, "chatNormal1"));
    /* the worker's log went through tubewatchd */
    char p[4400];
    snprintf(p, sizeof p, "%.200s/logs/chat@chatNormal1.log", t.dir);
    s_strs_t lines = {0};
    s_read_col(p, 0, 0, NULL, &lines);
    bool ended = false;
    for (size_t i = 0; i < lines.n; i++)
        ended |= strstr(lines.v[i], "chat captured") != NULL;
    s_strs_free(&lines);
    ck_assert_msg(ended, "no 'chat captured' in %s", p);
    e->dir[0] = '\0'; /* the harness removes its dir */
    e2e_sup_cleanup(&t);
}
END_TEST

/* Waits until truth/streams.tsv says vid has ended. */
static void s_wait_ended(s_env_t *e, const char *vid)
{
    char p[4400];
    snprintf(p, sizeof p, "%.200s/truth/streams.tsv", e->ys_out);
    int64_t end = tw_test_now_ms() + 20000;
    for (;;) {
        s_strs_t st = {0};
        s_read_col(p, 3, 0, vid, &st);
        bool ended = st.n == 1 && strcmp(st.v[0], "ended") == 0;
        s_strs_free(&st);
        if (ended)
            return;
        ck_assert_msg(tw_test_now_ms() < end, "%s did not end", vid);
        s_pump(e, 50);
    }
}

START_TEST(test_replay_only)
{
    /* started after the end: everything comes from the replay walk, which
     * must neither lose items (all-messages replay) nor be dragged back
     * (playerOffsetMs only on its first request: ytsim moves a follow-up
     * request that carries it back to that offset, so the walk would
     * never end) */
    s_env_t *e = &s_e;
    s_start(e, "chat-normal.toml", "10", NULL, NULL);
    s_wait_ended(e, "chatNormal1");
    pid_t pid = s_chat(e, "chatNormal1", 1, NULL);
    ck_assert_int_eq(s_wait_chat(e, pid, 40000), 0);
    s_stop_ytsim(e);
    s_check_truth(e, "chatNormal1");
    ck_assert_uint_gt(e->ids.n, 50);
    const s_event_t *ev = s_event(e, "chatNormal1");
    ck_assert_ptr_nonnull(ev);
    /* every item came from the replay (items count replacements too, so
     * they can exceed the distinct ids) */
    size_t items = 0, dels = 0, replayed = 0;
    ck_assert_msg(sscanf(ev->reason,
                         "chat captured: %zu items, %zu deletions, %zu from "
                         "the replay",
                         &items, &dels, &replayed) == 3,
                  "%s", ev->reason);
    ck_assert_msg(items == replayed && items >= e->ids.n, "%s", ev->reason);
    long pages = s_requests(e,
                            "POST /youtubei/v1/live_chat/"
                            "get_live_chat_replay",
                            "200");
    ck_assert_int_gt(pages, 0);
    /* each page once (a dragged walk asks for pages again and again) */
    ck_assert_int_le(pages, (long)e->ids.n);
    if (strcmp(s_era, "2026") == 0)
        ck_assert_int_gt(s_requests(e, "GET /live_chat_replay", "200"), 0);
    ck_assert_int_eq(s_requests(e, "POST /youtubei/v1/live_chat/", "400"), 0);
}
END_TEST

/* base64url alphabet index of ch, -1 for others. */
static int s_b64v(int ch)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = ch ? strchr(a, ch) : NULL;
    return p ? (int)(p - a) : -1;
}

/* Copies token (base64url, padding written %3D) with its last decoded
 * byte changed: for ytsim's tokens, a bad check byte of a token that still
 * names its video. */
static void s_corrupt_token(const char *token, char *out, size_t cap)
{
    unsigned char raw[1024];
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (const char *p = token; *p && strncmp(p, "%3D", 3) != 0; p++) {
        int v = s_b64v(*p);
        ck_assert_int_ge(v, 0);
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ck_assert_uint_lt(n, sizeof raw);
            raw[n++] = (unsigned char)(acc >> bits);
        }
    }
    ck_assert_uint_gt(n, 0);
    raw[n - 1] ^= 0x5a;
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)raw[i + 1] << 8;
        if (i + 2 < n)
            v |= raw[i + 2];
        ck_assert_uint_lt(o + 8, cap);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
    size_t pad = (3 - n % 3) % 3;
    for (size_t k = 0; k < pad; k++) {
        ck_assert_uint_lt(o + 4, cap);
        memcpy(out + o, "%3D", 4);
        o += 3;
    }
}

START_TEST(test_refused_once_recovers)
{
    /* the checkpoint holds a token that names the video but that YouTube
     * refuses (400): the worker re-reads the watch page once, takes a fresh
     * token chain and captures everything */
    s_env_t *e = &s_e;
    s_start(e, "chat-normal.toml", "10", NULL, NULL);
    const char *vid = "chatNormal1";
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/watch?v=%s", e->port, vid);
    tw_http_t *http = tw_http_new(NULL);
    ck_assert_ptr_nonnull(http);
    tw_ytpage_t *page = tw_ytpage_new();
    ck_assert_ptr_nonnull(page);
    const char *hdr[] = {TW_YTWEB_COOKIE, NULL};
    int64_t end = tw_test_now_ms() + 10000;
    char bad[1024] = "";
    while (!bad[0]) {
        tw_http_resp_t resp = {0};
        ck_assert_int_eq(tw_http_get(http, url, hdr, &resp, NULL), TW_OK);
        ck_assert_int_eq(
            tw_ytpage_parse_html(page, resp.body, resp.body_len, NULL), TW_OK);
        tw_http_resp_clear(&resp);
        const tw_ytpage_info_t *info = tw_ytpage_info(page);
        if (info->chat_continuation[0]) {
            s_corrupt_token(info->chat_continuation, bad, sizeof bad);
            break;
        }
        ck_assert_msg(tw_test_now_ms() < end, "no chat token on the page");
        s_pump(e, 50);
    }
    tw_ytpage_destroy(&page);
    tw_http_destroy(&http);
    ck_assert_int_eq(chat_token_match(bad, vid, NULL), CHAT_TOKEN_OURS);
    char p[4400];
    snprintf(p, sizeof p, "%.200s/state/chat@%s", e->dir, vid);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%.200s/state/chat@%s/checkpoint", e->dir, vid);
    chat_ckpt_t ck = {0};
    snprintf(ck.video_id, sizeof ck.video_id, "%s", vid);
    ck_assert_int_eq(chat_ckpt_set_cont(&ck, bad), TW_OK);
    ck_assert_int_eq(chat_ckpt_save(p, &ck, NULL), TW_OK);
    chat_ckpt_clear(&ck);
    pid_t pid = s_chat(e, vid, 1, NULL);
    ck_assert_int_eq(s_wait_chat(e, pid, 40000), 0);
    s_stop_ytsim(e);
    s_check_truth(e, vid);
    ck_assert_int_eq(
        s_requests(e, "POST /youtubei/v1/live_chat/get_live_chat", "400"), 1);
    ck_assert(s_log_has(e, vid, "took a fresh continuation"));
    const s_event_t *ev = s_event(e, vid);
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(ev->state, "ended");
}
END_TEST

START_TEST(test_refused_twice_exits_111)
{
    /* every chat token refused, no API key: one fresh chain, then exit 111
     * with the reason as one line (not retried forever) */
    s_env_t *e = &s_e;
    s_start(e, "chat-refused.toml", "10", NULL, NULL);
    const char *vid = "chatRefused";
    pid_t pid = s_chat(e, vid, 1, NULL);
    ck_assert_int_eq(s_wait_chat(e, pid, 30000), 111);
    s_stop_ytsim(e);
    ck_assert(
        s_log_has(e, vid, "error: chat token refused by YouTube (HTTP 400"));
    ck_assert(s_log_has(e, vid, "twice; no API key for the Data API fallback"));
    ck_assert(s_log_has(e, vid, "format drift: get_live_chat"));
    ck_assert_int_eq(
        s_requests(e, "POST /youtubei/v1/live_chat/get_live_chat", NULL), 2);
    ck_assert_uint_eq(e->ids.n, 0);
    ck_assert_ptr_null(s_event(e, vid));
}
END_TEST

START_TEST(test_refused_twice_uses_data_api)
{
    s_env_t *e = &s_e;
    s_start(e, "chat-refused.toml", "10", NULL,
            "api_key = \"ytsim-api-key\"\nquota_per_day = 100000000");
    e->api = true;
    const char *vid = "chatRefused";
    pid_t pid = s_chat(e, vid, 1, NULL);
    ck_assert_int_eq(s_wait_chat(e, pid, 40000), 0);
    s_stop_ytsim(e);
    ck_assert(s_log_has(e, vid, "falling back to the Data API"));
    ck_assert_int_eq(
        s_requests(e, "POST /youtubei/v1/live_chat/get_live_chat", NULL), 2);
    char p[4400];
    s_strs_t truth = {0};
    snprintf(p, sizeof p, "%.200s/truth/chat_api/%s.tsv", e->ys_out, vid);
    s_read_col(p, 0, 0, NULL, &truth);
    ck_assert_uint_gt(truth.n, 20);
    s_same(&truth, &e->ids, "chatRefused (Data API)");
    s_strs_free(&truth);
    const s_event_t *ev = s_event(e, vid);
    ck_assert_ptr_nonnull(ev);
    ck_assert_str_eq(ev->state, "ended");
}
END_TEST

static void s_era2026(void)
{
    s_era = "2026";
}

static void s_era2022(void)
{
    s_era = "2022";
}

/* The tests every era must pass. */
static void s_add_common(TCase *tc)
{
    tcase_add_test(tc, test_normal_stream);
    tcase_add_test(tc, test_pre_chat);
    tcase_add_test(tc, test_reported_states);
    tcase_add_test(tc, test_never_starting);
    tcase_add_test(tc, test_http_faults);
    tcase_add_test(tc, test_suspected_end_and_reload);
    tcase_add_test(tc, test_data_api);
    tcase_add_test(tc, test_kill9_restart);
    tcase_add_test(tc, test_web_format_break_falls_back_to_api);
    tcase_add_test(tc, test_sigterm_resume);
    tcase_add_test(tc, test_replay_only);
    tcase_add_test(tc, test_refused_twice_exits_111);
    tcase_add_test(tc, test_refused_twice_uses_data_api);
}

Suite *e2e_chat_suite(void)
{
    Suite *s = suite_create("e2e_chat");
    /* YouTube as it is since late 2025 (ytsim's default) */
    TCase *tc = tcase_create("era2026");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, s_era2026, s_teardown);
    s_add_common(tc);
    tcase_add_test(tc, test_refused_once_recovers);
    tcase_add_test(tc, test_under_tubewatchd);
    suite_add_tcase(s, tc);
    /* the 2022 shapes: YouTube rolls changes out gradually */
    tc = tcase_create("era2022");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, s_era2022, s_teardown);
    s_add_common(tc);
    suite_add_tcase(s, tc);
    return s;
}
