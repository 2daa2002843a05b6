/* Unit tests of notifier_outbox with a scripted sender and a fake clock:
 * order per chat through 429 storms, rate limits, permanent errors not
 * looped, migration, entity fallback, splitting and replay. */
#include <check.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../workers/notifier/notifier_outbox.h"

/* What the fake Telegram saw and will answer. */
typedef struct {
    char chat[64][32];   /* chat id of each accepted message */
    char text[64][5000]; /* its text */
    bool html[64];       /* parse mode HTML */
    int n;               /* accepted */
    int calls;           /* requests */
    int64_t times[256];  /* fake time of each request */
    char cchat[256][16]; /* chat of each request */
    bool limited[256];   /* request answered 429 */
    int storm;           /* answer 429 to every storm-th request (0 off) */
    int fail_5xx;        /* answer the next N requests with 502 */
    const char *gone;    /* chat that answers 403 */
    const char *migrate; /* chat that answers "migrated to -100999" */
    bool entities;       /* first HTML send answers can't parse entities */
    int64_t *now;        /* the fake clock */
} s_fake_t;

static tw_rc_t s_fake_send(void *arg, const char *chat, const char *text,
                           bool html, tw_telegram_result_t *res)
{
    s_fake_t *f = arg;
    memset(res, 0, sizeof *res);
    if (f->calls < 256) {
        f->times[f->calls] = *f->now;
        snprintf(f->cchat[f->calls], sizeof f->cchat[0], "%s", chat);
        f->limited[f->calls] = f->storm && (f->calls + 1) % f->storm == 0;
    }
    f->calls++;
    const char *body = NULL;
    long status = 200;
    if (f->storm && f->calls % f->storm == 0) {
        status = 429;
        body = "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many "
               "Requests: retry after 3\",\"parameters\":{\"retry_after\":3}}";
    } else if (f->fail_5xx > 0) {
        f->fail_5xx--;
        status = 502;
        body = "bad gateway";
    } else if (f->gone && strcmp(chat, f->gone) == 0) {
        status = 403;
        body = "{\"ok\":false,\"error_code\":403,\"description\":"
               "\"Forbidden: bot was blocked by the user\"}";
    } else if (f->migrate && strcmp(chat, f->migrate) == 0) {
        status = 400;
        body = "{\"ok\":false,\"error_code\":400,\"description\":\"Bad "
               "Request: group chat was migrated to a supergroup chat\","
               "\"parameters\":{\"migrate_to_chat_id\":-100999}}";
    } else if (f->entities && html) {
        f->entities = false;
        status = 400;
        body = "{\"ok\":false,\"error_code\":400,\"description\":\"Bad "
               "Request: can't parse entities: x\"}";
    }
    if (!body) {
        ck_assert_int_lt(f->n, 64);
        snprintf(f->chat[f->n], sizeof f->chat[0], "%s", chat);
        snprintf(f->text[f->n], sizeof f->text[0], "%s", text);
        f->html[f->n] = html;
        f->n++;
        body = "{\"ok\":true,\"result\":{\"message_id\":1}}";
    }
    tw_telegram_parse_reply(status, body, strlen(body), NULL, res);
    return TW_OK;
}

static char s_dir[256];

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tw-outbox-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void s_teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Runs the outbox on the fake clock until it is empty or limit ms pass. */
static void s_drain(notifier_outbox_t *o, int64_t *now, int64_t limit)
{
    int64_t end = *now + limit;
    while (notifier_outbox_pending(o) > 0 && *now < end) {
        int64_t t = notifier_outbox_timeout_ms(o, *now);
        ck_assert_int_ge(t, 0);
        *now += t;
        ck_assert_int_eq(notifier_outbox_run(o, *now, 8, NULL, NULL), TW_OK);
    }
}

static notifier_outbox_t *s_open(s_fake_t *f)
{
    notifier_outbox_t *o = NULL;
    notifier_outbox_opts_t opts = {.backoff_min_ms = 100};
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, f, NULL), TW_OK);
    return o;
}

START_TEST(test_order_and_rate_per_chat)
{
    int64_t now = 1000;
    s_fake_t f = {.now = &now};
    notifier_outbox_t *o = s_open(&f);
    char t[32];
    for (int i = 0; i < 10; i++) {
        snprintf(t, sizeof t, "a%d <&>", i);
        ck_assert_int_eq(notifier_outbox_add(o, "1", t, NULL, NULL), TW_OK);
        snprintf(t, sizeof t, "b%d", i);
        ck_assert_int_eq(notifier_outbox_add(o, "2", t, NULL, NULL), TW_OK);
    }
    ck_assert_uint_eq(notifier_outbox_pending(o), 20);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.n, 20);
    int ia = 0, ib = 0;
    int64_t last1 = -100000;
    for (int i = 0; i < f.n; i++) {
        if (strcmp(f.chat[i], "1") == 0) {
            snprintf(t, sizeof t, "a%d &lt;&amp;&gt;", ia++);
            ck_assert_str_eq(f.text[i], t);
            ck_assert(f.html[i]);
            /* at most one message per second to a chat */
            ck_assert_int_ge(f.times[i] - last1, 1000);
            last1 = f.times[i];
        } else {
            snprintf(t, sizeof t, "b%d", ib++);
            ck_assert_str_eq(f.text[i], t);
        }
    }
    /* two chats progress side by side: ~10 s, not 20 */
    ck_assert_int_lt(now - 1000, 12000);
    notifier_outbox_destroy(&o);
}
END_TEST

START_TEST(test_429_storm_keeps_order_loses_nothing)
{
    int64_t now = 0;
    s_fake_t f = {.now = &now, .storm = 3};
    notifier_outbox_t *o = s_open(&f);
    char t[32];
    for (int i = 0; i < 12; i++) {
        snprintf(t, sizeof t, "m%d", i);
        notifier_outbox_add(o, i % 2 ? "7" : "8", t, NULL, NULL);
    }
    s_drain(o, &now, 600000);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    ck_assert_int_eq(f.n, 12);
    int next7 = 1, next8 = 0;
    for (int i = 0; i < f.n; i++) {
        int k = atoi(f.text[i] + 1);
        if (strcmp(f.chat[i], "7") == 0) {
            ck_assert_int_eq(k, next7);
            next7 += 2;
        } else {
            ck_assert_int_eq(k, next8);
            next8 += 2;
        }
    }
    notifier_outbox_stats_t st;
    notifier_outbox_stats(o, &st);
    ck_assert_uint_ge(st.limited, 4);
    ck_assert_uint_eq(st.sent, 12);
    /* retry_after is honoured: the chat (or all) waits 3 s after a 429 */
    for (int i = 0; i < f.calls && i < 256; i++) {
        if (!f.limited[i])
            continue;
        for (int j = i + 1; j < f.calls && j < 256; j++) {
            if (strcmp(f.cchat[j], f.cchat[i]) == 0) {
                ck_assert_int_ge(f.times[j] - f.times[i], 3000);
                break;
            }
        }
    }
    notifier_outbox_destroy(&o);
}
END_TEST

START_TEST(test_gone_chat_disabled_not_looped)
{
    int64_t now = 0;
    s_fake_t f = {.now = &now, .gone = "66"};
    notifier_outbox_t *o = s_open(&f);
    notifier_outbox_add(o, "66", "one", NULL, NULL);
    notifier_outbox_add(o, "66", "two", NULL, NULL);
    notifier_outbox_add(o, "5", "ok", NULL, NULL);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.calls, 2); /* one try for 66, then nothing */
    ck_assert_int_eq(f.n, 1);
    ck_assert(notifier_outbox_chat_disabled(o, "66"));
    notifier_outbox_add(o, "66", "three", NULL, NULL); /* dropped */
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    notifier_outbox_destroy(&o);
    /* disabled survives a restart */
    o = s_open(&f);
    ck_assert(notifier_outbox_chat_disabled(o, "66"));
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    notifier_outbox_destroy(&o);
}
END_TEST

START_TEST(test_migration_and_entities_fallback)
{
    int64_t now = 0;
    s_fake_t f = {.now = &now, .migrate = "-42", .entities = true};
    notifier_outbox_t *o = s_open(&f);
    notifier_outbox_add(o, "-42", "group <msg>", NULL, NULL);
    notifier_outbox_add(o, "-42", "second", NULL, NULL);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.n, 2);
    ck_assert_str_eq(f.chat[0], "-100999");
    /* the entity error made it resend plain, unescaped */
    ck_assert_str_eq(f.text[0], "group <msg>");
    ck_assert(!f.html[0]);
    ck_assert_str_eq(f.text[1], "second");
    ck_assert(f.html[1]);
    notifier_outbox_destroy(&o);
    /* the new id is remembered */
    o = s_open(&f);
    notifier_outbox_add(o, "-42", "third", NULL, NULL);
    s_drain(o, &now, 60000);
    ck_assert_str_eq(f.chat[2], "-100999");
    notifier_outbox_destroy(&o);
}
END_TEST

START_TEST(test_replay_after_crash_and_dedup)
{
    int64_t now = 0;
    s_fake_t f = {.now = &now, .fail_5xx = 1000};
    notifier_outbox_t *o = s_open(&f);
    notifier_outbox_add(o, "9", "first", "k1", NULL);
    notifier_outbox_add(o, "9", "second", "k2", NULL);
    notifier_outbox_add(o, "9", "again", "k1", NULL); /* dup key */
    ck_assert_uint_eq(notifier_outbox_pending(o), 2);
    notifier_outbox_run(o, now, 8, NULL, NULL); /* 502: kept */
    ck_assert_uint_eq(notifier_outbox_pending(o), 2);
    /* "crash": close without sending; reopen replays both */
    notifier_outbox_destroy(&o);
    f.fail_5xx = 0;
    o = s_open(&f);
    ck_assert_uint_eq(notifier_outbox_pending(o), 2);
    notifier_outbox_add(o, "9", "dup after restart", "k2", NULL);
    ck_assert_uint_eq(notifier_outbox_pending(o), 2);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.n, 2);
    ck_assert_str_eq(f.text[0], "first");
    ck_assert_str_eq(f.text[1], "second");
    notifier_outbox_destroy(&o);
    o = s_open(&f);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    notifier_outbox_destroy(&o);
}
END_TEST

START_TEST(test_long_text_split_in_order)
{
    int64_t now = 0;
    s_fake_t f = {.now = &now};
    notifier_outbox_t *o = s_open(&f);
    size_t len = 9000;
    char *t = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        t[i] = i % 10 == 9 ? ' ' : (i % 97 == 0 ? '&' : 'x');
    t[len] = '\0';
    notifier_outbox_add(o, "3", t, "long", NULL);
    ck_assert_uint_eq(notifier_outbox_pending(o), 3);
    notifier_outbox_add(o, "3", t, "long", NULL); /* every part a dup */
    ck_assert_uint_eq(notifier_outbox_pending(o), 3);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.n, 3);
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        /* visible length: entities count one */
        size_t vis = 0;
        for (const char *p = f.text[i]; *p; p++) {
            if (*p == '&')
                p = strchr(p, ';');
            vis++;
        }
        ck_assert_uint_le(vis, 4096);
        total += vis;
    }
    ck_assert_uint_eq(total, len);
    free(t);
    notifier_outbox_destroy(&o);
}
END_TEST

START_TEST(test_deferred_trim_until_commit)
{
    int64_t now = 0;
    s_fake_t f = {.now = &now};
    notifier_outbox_t *o = NULL;
    notifier_outbox_opts_t opts = {.defer_trim = true};
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    notifier_outbox_add(o, "4", "sent before the crash", "k9", NULL);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.n, 1);
    /* sent, not committed: its key still counts */
    notifier_outbox_add(o, "4", "redelivered cause", "k9", NULL);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    notifier_outbox_destroy(&o); /* crash before the commit */
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 1); /* resent once */
    notifier_outbox_add(o, "4", "redelivered cause", "k9", NULL);
    ck_assert_uint_eq(notifier_outbox_pending(o), 1);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(notifier_outbox_commit(o, NULL), TW_OK);
    notifier_outbox_destroy(&o);
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    notifier_outbox_destroy(&o);
    ck_assert_int_eq(f.n, 2);
}
END_TEST

/* A commit whose trim cannot be written (past a file size limit: EFBIG)
 * fails, keeps the part's key (a redelivered cause queues nothing) and
 * works when tried again; nothing is sent twice, nothing replayed. */
START_TEST(test_failed_trim_retried)
{
    int64_t now = 0;
    s_fake_t f = {.now = &now};
    notifier_outbox_t *o = NULL;
    notifier_outbox_opts_t opts = {.defer_trim = true};
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    notifier_outbox_add(o, "4", "live now", "k1", NULL);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.n, 1);
    struct rlimit old;
    tw_err_t err = {{0}, 0, 0};
    int lim = tw_test_limit_fsize(0, &old);
    tw_rc_t rc = notifier_outbox_commit(o, &err);
    tw_test_limit_restore(RLIMIT_FSIZE, &old);
    ck_assert_int_eq(lim, 0);
    ck_assert_int_ne(rc, TW_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "File too large"));
    notifier_outbox_add(o, "4", "redelivered cause", "k1", NULL);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    ck_assert_int_eq(notifier_outbox_commit(o, NULL), TW_OK);
    notifier_outbox_destroy(&o);
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0); /* trimmed: no replay */
    notifier_outbox_destroy(&o);
    ck_assert_int_eq(f.n, 1);
}
END_TEST

/* A message journaled by one incarnation (crash after the append, before
 * its cause was acked) is replayed, sent and trimmed by the next; the
 * cause redelivered afterwards (in that incarnation or a later one) must
 * not queue it again. */
START_TEST(test_redelivered_cause_after_replay_and_trim)
{
    int64_t now = 0;
    s_fake_t f = {.now = &now};
    notifier_outbox_t *o = NULL;
    notifier_outbox_opts_t opts = {.defer_trim = true};
    const char *key = "s:vid00000001:ended:0";
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    ck_assert_int_eq(notifier_outbox_add(o, "5", "Stream ended: x", key, NULL),
                     TW_OK);
    notifier_outbox_destroy(&o); /* crash after the journal append */
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 1); /* replayed */
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(notifier_outbox_commit(o, NULL), TW_OK); /* trimmed */
    /* the cause comes again: the message counts as sent */
    ck_assert_int_eq(notifier_outbox_add(o, "5", "Stream ended: x", key, NULL),
                     TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    notifier_outbox_stats_t st;
    notifier_outbox_stats(o, &st);
    ck_assert_uint_eq(st.dups, 1);
    notifier_outbox_destroy(&o); /* crash before the cause is acked */
    /* a later incarnation still knows the key (sent.tsv) */
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    ck_assert_int_eq(notifier_outbox_add(o, "5", "Stream ended: x", key, NULL),
                     TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    /* another key of the same chat still goes out */
    ck_assert_int_eq(notifier_outbox_add(o, "5", "Live now: y",
                                         "s:vid00000002:live:0", NULL),
                     TW_OK);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.n, 2);
    ck_assert_str_eq(f.text[1], "Live now: y");
    notifier_outbox_destroy(&o);
}
END_TEST

/* sent.tsv keeps the last sent_keep keys of each chat, across restarts;
 * a part without a key leaves nothing there. */
START_TEST(test_sent_keys_bounded)
{
    int64_t now = 0;
    s_fake_t f = {.now = &now};
    notifier_outbox_t *o = NULL;
    notifier_outbox_opts_t opts = {.defer_trim = true, .sent_keep = 2};
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    notifier_outbox_add(o, "6", "one", "k1", NULL);
    notifier_outbox_add(o, "6", "two", "", NULL); /* no key */
    notifier_outbox_add(o, "6", "three", "k3", NULL);
    notifier_outbox_add(o, "6", "four", "k4", NULL);
    notifier_outbox_add(o, "7", "other chat", "k1", NULL);
    s_drain(o, &now, 60000);
    ck_assert_int_eq(f.n, 5);
    ck_assert_int_eq(notifier_outbox_commit(o, NULL), TW_OK);
    notifier_outbox_destroy(&o);
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    notifier_outbox_add(o, "6", "three", "k3", NULL);      /* kept: dup */
    notifier_outbox_add(o, "6", "four", "k4", NULL);       /* kept: dup */
    notifier_outbox_add(o, "7", "other chat", "k1", NULL); /* its own */
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    notifier_outbox_add(o, "6", "one", "k1", NULL); /* beyond sent_keep */
    ck_assert_uint_eq(notifier_outbox_pending(o), 1);
    notifier_outbox_destroy(&o);
}
END_TEST

/* A chat rate-limited for long: its queue stays at max_queue, the oldest
 * parts go (counted), the rest keep their order, other chats are not
 * touched, the journal holds only what is queued, and a smaller cap at the
 * next open drops the oldest of the replayed parts. */
START_TEST(test_cap_drops_oldest_keeps_order)
{
    int64_t now = 1000;
    s_fake_t f = {.now = &now, .storm = 1}; /* every request: 429 */
    notifier_outbox_t *o = NULL;
    notifier_outbox_opts_t opts = {.max_queue = 10};
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    char t[32];
    for (int i = 0; i < 3; i++) {
        snprintf(t, sizeof t, "other %d", i);
        ck_assert_int_eq(notifier_outbox_add(o, "2", t, NULL, NULL), TW_OK);
    }
    for (int i = 0; i < 50; i++) {
        snprintf(t, sizeof t, "m%d", i);
        ck_assert_int_eq(notifier_outbox_add(o, "1", t, NULL, NULL), TW_OK);
        /* the limit holds: each try answers 429 */
        now += 500;
        ck_assert_int_eq(notifier_outbox_run(o, now, 8, NULL, NULL), TW_OK);
        ck_assert_uint_le(notifier_outbox_pending(o), 13);
    }
    ck_assert_int_eq(f.n, 0);
    ck_assert_int_gt(f.calls, 0);
    notifier_outbox_stats_t st;
    notifier_outbox_stats(o, &st);
    ck_assert_uint_eq(st.dropped, 40);
    ck_assert_uint_eq(st.overflowed, 40);
    ck_assert_uint_eq(notifier_outbox_pending(o), 13);
    /* after a restart the journals hold only what is queued */
    notifier_outbox_destroy(&o);
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 13);
    notifier_outbox_destroy(&o);
    /* a smaller cap: the oldest replayed parts go */
    opts.max_queue = 5;
    ck_assert_int_eq(
        notifier_outbox_open(&o, s_dir, &opts, s_fake_send, &f, NULL), TW_OK);
    ck_assert_uint_eq(notifier_outbox_pending(o), 8);
    notifier_outbox_stats(o, &st);
    ck_assert_uint_eq(st.overflowed, 5);
    /* the limit ends: the rest flows, in order */
    f.storm = 0;
    s_drain(o, &now, 600000);
    ck_assert_uint_eq(notifier_outbox_pending(o), 0);
    ck_assert_int_eq(f.n, 8);
    int k1 = 0, k2 = 0;
    for (int i = 0; i < f.n; i++) {
        if (strcmp(f.chat[i], "1") == 0) {
            snprintf(t, sizeof t, "m%d", 45 + k1++);
        } else {
            ck_assert_str_eq(f.chat[i], "2");
            snprintf(t, sizeof t, "other %d", k2++);
        }
        ck_assert_str_eq(f.text[i], t);
    }
    ck_assert_int_eq(k1, 5);
    ck_assert_int_eq(k2, 3);
    notifier_outbox_destroy(&o);
}
END_TEST

Suite *notifier_outbox_suite(void)
{
    Suite *s = suite_create("notifier_outbox");
    TCase *tc = tcase_create("outbox");
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_order_and_rate_per_chat);
    tcase_add_test(tc, test_429_storm_keeps_order_loses_nothing);
    tcase_add_test(tc, test_gone_chat_disabled_not_looped);
    tcase_add_test(tc, test_migration_and_entities_fallback);
    tcase_add_test(tc, test_replay_after_crash_and_dedup);
    tcase_add_test(tc, test_long_text_split_in_order);
    tcase_add_test(tc, test_deferred_trim_until_commit);
    tcase_add_test(tc, test_failed_trim_retried);
    tcase_add_test(tc, test_redelivered_cause_after_replay_and_trim);
    tcase_add_test(tc, test_sent_keys_bounded);
    tcase_add_test(tc, test_cap_drops_oldest_keeps_order);
    suite_add_tcase(s, tc);
    return s;
}
