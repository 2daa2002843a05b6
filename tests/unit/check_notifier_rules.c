/* Unit tests of notifier_rules: first samples, hidden values, min_delta,
 * milestones, cooldowns, templates, stream events and persistence. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/notifier/notifier_rules.h"

static char *s_chats[] = {"111", "-222"};
static char *s_rule_chats[] = {"333"};
static char *s_likes[] = {"likes"};
static char *s_views_viewers[] = {"views", "viewers"};
static char *s_events[] = {"scheduled", "live",   "ended", "failed",
                           "quota",     "upload", "drift"};

/* One config with rules given by the test. */
static tw_cfg_t s_cfg;
static tw_cfg_rule_t s_rules[4];

static void s_setup(void)
{
    memset(&s_cfg, 0, sizeof s_cfg);
    memset(s_rules, 0, sizeof s_rules);
    s_cfg.telegram.chat_ids = (tw_cfg_strv_t){s_chats, 1};
    s_cfg.notify.events = (tw_cfg_strv_t){s_events, 6};
    s_rules[0].metrics = (tw_cfg_strv_t){s_likes, 1};
    s_rules[0].min_delta = 1;
    s_rules[0].template_text =
        "Video: {title} | {Metric} changed: {prev} -> {curr}";
    s_cfg.notify.rules = s_rules;
    s_cfg.notify.nrules = 1;
}

static tw_msg_stats_sample_t s_sample(const char *title, int64_t at,
                                      int64_t likes, int64_t views)
{
    tw_msg_stats_sample_t s;
    memset(&s, 0, sizeof s);
    s.video_id = "dQw4w9WgXcQ";
    s.channel_id = "UCuAXFkgsw1L7xaCfnd5JJOw";
    s.title = (char *)title;
    s.sampled_at_us = at;
    if (likes >= 0)
        s.likes = (tw_ou64_t){true, (uint64_t)likes};
    if (views >= 0)
        s.views = (tw_ou64_t){true, (uint64_t)views};
    return s;
}

START_TEST(test_default_template_exact)
{
    notifier_rules_t *r = notifier_rules_new(&s_cfg);
    notifier_notes_t out = {0};
    tw_msg_stats_sample_t s = s_sample("T", 1000000, 10, 5);
    ck_assert_int_eq(notifier_rules_sample(r, &s, &out), TW_OK);
    ck_assert_uint_eq(out.n, 0); /* first sample only records */
    s = s_sample("T", 2000000, 11, 6);
    ck_assert_int_eq(notifier_rules_sample(r, &s, &out), TW_OK);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.v[0].text, "Video: T | Likes changed: 10 -> 11");
    ck_assert_str_eq(out.v[0].chat_id, "111");
    notifier_notes_clear(&out);
    /* the same sample again (redelivered) announces nothing */
    ck_assert_int_eq(notifier_rules_sample(r, &s, &out), TW_OK);
    ck_assert_uint_eq(out.n, 0);
    notifier_rules_destroy(&r);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_hidden_values_never_announce)
{
    notifier_rules_t *r = notifier_rules_new(&s_cfg);
    notifier_notes_t out = {0};
    tw_msg_stats_sample_t s = s_sample("T", 1, -1, 5);
    notifier_rules_sample(r, &s, &out);
    s = s_sample("T", 2, 50, 6); /* likes appear: a first value */
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 0);
    s = s_sample("T", 3, -1, 7); /* hidden again: not 0 */
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 0);
    s = s_sample("T", 4, 52, 8);
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.v[0].text, "Video: T | Likes changed: 50 -> 52");
    notifier_notes_clear(&out);
    notifier_rules_destroy(&r);
}
END_TEST

START_TEST(test_min_delta_accumulates_and_milestone)
{
    s_rules[0].metrics = (tw_cfg_strv_t){s_views_viewers, 2};
    s_rules[0].min_delta = 100;
    s_rules[0].milestone = 1000;
    s_rules[0].chat_ids = (tw_cfg_strv_t){s_rule_chats, 1};
    s_rules[0].template_text = "{metric}/{Metric} {prev}->{curr} ({delta}) "
                               "{video_id} {channel_id} {unknown} {title}";
    notifier_rules_t *r = notifier_rules_new(&s_cfg);
    notifier_notes_t out = {0};
    tw_msg_stats_sample_t s = s_sample("T", 1, -1, 940);
    notifier_rules_sample(r, &s, &out);
    s = s_sample("T", 2, -1, 990); /* +50: below min_delta */
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 0);
    s = s_sample("T", 3, -1, 1001); /* crosses 1000 */
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.v[0].text, "views/Views 940->1001 (+61) dQw4w9WgXcQ "
                                    "UCuAXFkgsw1L7xaCfnd5JJOw {unknown} T");
    ck_assert_str_eq(out.v[0].chat_id, "333");
    notifier_notes_clear(&out);
    s = s_sample("T", 4, -1, 1060);
    notifier_rules_sample(r, &s, &out);
    s = s_sample("T", 5, -1, 1101); /* +100 since the last announcement */
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.v[0].text, "views/Views 1001->1101 (+100) dQw4w9WgXcQ "
                                    "UCuAXFkgsw1L7xaCfnd5JJOw {unknown} T");
    notifier_notes_clear(&out);
    s = s_sample("T", 6, -1, 1000); /* -101 */
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_ptr_nonnull(strstr(out.v[0].text, "(-101)"));
    notifier_notes_clear(&out);
    notifier_rules_destroy(&r);
}
END_TEST

START_TEST(test_cooldown_per_video_metric)
{
    s_rules[0].cooldown_ms = 60000;
    notifier_rules_t *r = notifier_rules_new(&s_cfg);
    notifier_notes_t out = {0};
    int64_t sec = 1000000;
    tw_msg_stats_sample_t s = s_sample("T", 0 * sec, 10, -1);
    notifier_rules_sample(r, &s, &out);
    s = s_sample("T", 10 * sec, 11, -1);
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 1);
    s = s_sample("T", 20 * sec, 12, -1); /* in cooldown */
    notifier_rules_sample(r, &s, &out);
    s = s_sample("T", 40 * sec, 13, -1); /* in cooldown */
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 1);
    s = s_sample("T", 71 * sec, 14, -1); /* after: shows all since 11 */
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_str_eq(out.v[1].text, "Video: T | Likes changed: 11 -> 14");
    notifier_notes_clear(&out);
    notifier_rules_destroy(&r);
}
END_TEST

START_TEST(test_render_edges)
{
    notifier_vars_t v = {.title = "<b>&",
                         .metric = NOTIFIER_METRIC_VIEWERS,
                         .prev = 5,
                         .curr = 3};
    char *t = notifier_rules_render("{{title}} {delta} {Metric} {", &v);
    ck_assert_str_eq(t, "{<b>&} -2 Viewers {");
    free(t);
    t = notifier_rules_render("", &v);
    ck_assert_str_eq(t, "");
    free(t);
    ck_assert_int_eq(notifier_rules_metric_parse("comments"),
                     NOTIFIER_METRIC_COMMENTS);
    ck_assert_int_eq(notifier_rules_metric_parse("nope"),
                     NOTIFIER_METRIC_COUNT);
}
END_TEST

static tw_msg_stream_event_t s_event(tw_stream_state_t st, int64_t sched,
                                     int64_t start, int64_t end)
{
    tw_msg_stream_event_t e;
    memset(&e, 0, sizeof e);
    e.video_id = "dQw4w9WgXcQ";
    e.channel_id = "UCx";
    e.title = "Launch <now> & later";
    e.state = st;
    e.reason = "";
    if (sched)
        e.scheduled_start_us = (tw_oi64_t){true, sched};
    if (start)
        e.actual_start_us = (tw_oi64_t){true, start};
    if (end)
        e.actual_end_us = (tw_oi64_t){true, end};
    return e;
}

START_TEST(test_stream_events_once_with_summary)
{
    s_cfg.telegram.chat_ids = (tw_cfg_strv_t){s_chats, 2};
    notifier_rules_t *r = notifier_rules_new(&s_cfg);
    notifier_notes_t out = {0};
    int64_t t0 = 1795000000LL * 1000000;
    tw_msg_stream_event_t e = s_event(TW_STREAM_STATE_SCHEDULED, t0, 0, 0);
    notifier_rules_stream(r, &e, &out);
    ck_assert_uint_eq(out.n, 2); /* both default chats */
    ck_assert_ptr_nonnull(strstr(out.v[0].text, "Scheduled: Launch <now>"));
    ck_assert_ptr_nonnull(strstr(out.v[0].text, "UTC"));
    notifier_rules_stream(r, &e, &out); /* duplicate */
    ck_assert_uint_eq(out.n, 2);
    notifier_notes_clear(&out);

    e = s_event(TW_STREAM_STATE_LIVE, t0, t0 + 60000000, 0);
    notifier_rules_stream(r, &e, &out);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_ptr_nonnull(strstr(out.v[0].text, "Live now:"));
    notifier_notes_clear(&out);
    /* a late "scheduled" after live is ignored */
    e = s_event(TW_STREAM_STATE_SCHEDULED, t0 + 5, 0, 0);
    notifier_rules_stream(r, &e, &out);
    ck_assert_uint_eq(out.n, 0);

    tw_msg_stats_sample_t s = s_sample("T", 1, -1, -1);
    s.concurrent_viewers = (tw_ou64_t){true, 1234};
    notifier_rules_sample(r, &s, &out);
    s.sampled_at_us = 2;
    s.concurrent_viewers = (tw_ou64_t){true, 900};
    notifier_rules_sample(r, &s, &out);

    e = s_event(TW_STREAM_STATE_ENDED, t0, t0 + 60000000,
                t0 + 60000000 + 3723000000LL);
    notifier_rules_stream(r, &e, &out);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_ptr_nonnull(strstr(out.v[0].text, "Stream ended: "));
    ck_assert_ptr_nonnull(strstr(out.v[0].text, "Duration: 1h 02m"));
    ck_assert_ptr_nonnull(strstr(out.v[0].text, "Peak viewers: 1234"));
    notifier_notes_clear(&out);
    notifier_rules_stream(r, &e, &out);
    ck_assert_uint_eq(out.n, 0);
    notifier_rules_destroy(&r);
}
END_TEST

START_TEST(test_events_filtered_by_config)
{
    s_cfg.notify.events = (tw_cfg_strv_t){s_events + 2, 1}; /* ended */
    notifier_rules_t *r = notifier_rules_new(&s_cfg);
    notifier_notes_t out = {0};
    tw_msg_stream_event_t e = s_event(TW_STREAM_STATE_LIVE, 0, 5, 0);
    notifier_rules_stream(r, &e, &out);
    ck_assert_uint_eq(out.n, 0);
    notifier_rules_worker(r, "stats", "failed", "5 restarts", &out);
    notifier_rules_notice(r, "quota", "10000 units used", &out);
    ck_assert_uint_eq(out.n, 0);
    notifier_rules_destroy(&r);

    s_cfg.notify.events = (tw_cfg_strv_t){s_events, 6};
    r = notifier_rules_new(&s_cfg);
    notifier_rules_worker(r, "stats", "failed", "5 restarts", &out);
    notifier_rules_worker(r, "stats", "ready", "", &out);
    notifier_rules_notice(r, "quota", "10000 units used", &out);
    notifier_rules_notice(r, "upload.done", "2026-11-22.zip", &out);
    notifier_rules_notice(r, "upload.failed", "HTTP 500", &out);
    ck_assert_uint_eq(out.n, 4);
    ck_assert_str_eq(out.v[0].text, "Worker stats FAILED: 5 restarts");
    ck_assert_str_eq(out.v[1].text,
                     "YouTube API quota exhausted: 10000 units used");
    ck_assert_str_eq(out.v[2].text, "Upload succeeded: 2026-11-22.zip");
    ck_assert_str_eq(out.v[3].text, "Upload failed: HTTP 500");
    notifier_notes_clear(&out);
    notifier_rules_destroy(&r);
}
END_TEST

START_TEST(test_drift_alert)
{
    tw_msg_drift_t d = {.worker = "chat@dQw4w9WgXcQ",
                        .source = "chat.token",
                        .what = "HTTP 400 INVALID_ARGUMENT",
                        .count = 5,
                        .window_ms = 900000};
    notifier_notes_t out = {0};
    notifier_rules_t *r = notifier_rules_new(&s_cfg); /* no "drift" */
    ck_assert_int_eq(notifier_rules_drift(r, &d, &out), TW_OK);
    ck_assert_uint_eq(out.n, 0);
    notifier_rules_destroy(&r);
    s_cfg.notify.events = (tw_cfg_strv_t){s_events, 7};
    r = notifier_rules_new(&s_cfg);
    ck_assert_int_eq(notifier_rules_drift(r, &d, &out), TW_OK);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.v[0].text,
                     "YouTube drift: chat@dQw4w9WgXcQ could not understand 5 "
                     "answers of chat.token within 15 min; latest: HTTP 400 "
                     "INVALID_ARGUMENT");
    notifier_notes_clear(&out);
    notifier_rules_destroy(&r);
}
END_TEST

START_TEST(test_save_load_no_reannounce)
{
    notifier_rules_t *r = notifier_rules_new(&s_cfg);
    notifier_notes_t out = {0};
    tw_msg_stats_sample_t s = s_sample("Tab\there\nnewline", 1, 10, 1);
    notifier_rules_sample(r, &s, &out);
    s = s_sample("Tab\there\nnewline", 2, 11, 1);
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 1);
    notifier_notes_clear(&out);
    tw_msg_stream_event_t e = s_event(TW_STREAM_STATE_LIVE, 0, 5, 0);
    notifier_rules_stream(r, &e, &out);
    notifier_notes_clear(&out);
    ck_assert(notifier_rules_dirty(r));
    size_t len = 0;
    char *text = notifier_rules_save(r, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert(!notifier_rules_dirty(r));
    notifier_rules_destroy(&r);

    r = notifier_rules_new(&s_cfg);
    size_t skipped = 99;
    ck_assert_int_eq(notifier_rules_load(r, text, len, &skipped, NULL), TW_OK);
    ck_assert_uint_eq(skipped, 0);
    ck_assert_uint_eq(notifier_rules_videos(r), 1);
    /* the sample is resent after a restart: nothing again */
    notifier_rules_sample(r, &s, &out);
    notifier_rules_stream(r, &e, &out);
    ck_assert_uint_eq(out.n, 0);
    s = s_sample("Tab\there\nnewline", 3, 12, 1);
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.v[0].text,
                     "Video: Tab\there\nnewline | Likes changed: 11 -> 12");
    notifier_notes_clear(&out);
    free(text);

    /* garbage is skipped, never a crash */
    const char *junk = "V\tx\n\xff\tR\tvid\tlikes\t99\t1\t1\nM\tvid\tnope\t1\t1"
                       "\nV\tvid\tc\tt\t2\tx\t0\t-\nR\tvid\tlikes\t0\t5\t1";
    ck_assert_int_eq(notifier_rules_load(r, junk, strlen(junk), &skipped, NULL),
                     TW_OK);
    ck_assert_uint_eq(skipped, 5);
    notifier_rules_destroy(&r);
}
END_TEST

START_TEST(test_prune_silent_videos)
{
    notifier_rules_t *r = notifier_rules_new(&s_cfg);
    notifier_notes_t out = {0};
    int64_t day = 86400LL * 1000000;
    tw_msg_stats_sample_t s = s_sample("old", 1 * day, 1, -1);
    s.video_id = "oldoldoldol";
    notifier_rules_sample(r, &s, &out);
    s = s_sample("new", 100 * day, 1, -1);
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(notifier_rules_videos(r), 2);
    ck_assert_uint_eq(notifier_rules_prune(r, 120 * day), 0);
    ck_assert_uint_eq(notifier_rules_prune(r, 90 * day), 1);
    ck_assert_uint_eq(notifier_rules_videos(r), 1);
    /* the survivor still works */
    s = s_sample("new", 101 * day, 2, -1);
    notifier_rules_sample(r, &s, &out);
    ck_assert_uint_eq(out.n, 1);
    notifier_notes_clear(&out);
    notifier_rules_destroy(&r);
}
END_TEST

START_TEST(test_scanner_quota_event_once)
{
    notifier_rules_t *r = notifier_rules_new(&s_cfg);
    notifier_notes_t out = {0};
    tw_msg_stream_event_t e;
    memset(&e, 0, sizeof e);
    e.video_id = "";
    e.channel_id = "";
    e.title = "YouTube Data API quota exhausted until 2026-11-24T08:00:00Z";
    e.state = TW_STREAM_STATE_UNAVAILABLE;
    e.actual_end_us = (tw_oi64_t){true, 1795000000LL * 1000000};
    e.reason = "quota_exhausted";
    ck_assert_int_eq(notifier_rules_stream(r, &e, &out), TW_OK);
    ck_assert_int_eq(notifier_rules_stream(r, &e, &out), TW_OK); /* again */
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.v[0].text, e.title);
    notifier_notes_clear(&out);
    size_t len = 0;
    char *text = notifier_rules_save(r, &len);
    notifier_rules_destroy(&r);
    r = notifier_rules_new(&s_cfg);
    size_t skipped = 1;
    notifier_rules_load(r, text, len, &skipped, NULL);
    free(text);
    ck_assert_uint_eq(skipped, 0);
    notifier_rules_stream(r, &e, &out); /* after a restart: still once */
    ck_assert_uint_eq(out.n, 0);
    e.actual_end_us.v += 86400LL * 1000000; /* the next block */
    notifier_rules_stream(r, &e, &out);
    ck_assert_uint_eq(out.n, 1);
    notifier_notes_clear(&out);
    /* an event without a video id otherwise is refused, not a crash */
    e.reason = "";
    ck_assert_int_eq(notifier_rules_stream(r, &e, &out), TW_ERR_INVALID);
    notifier_rules_destroy(&r);
}
END_TEST

Suite *notifier_rules_suite(void)
{
    Suite *s = suite_create("notifier_rules");
    TCase *tc = tcase_create("rules");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, NULL);
    tcase_add_test(tc, test_default_template_exact);
    tcase_add_test(tc, test_hidden_values_never_announce);
    tcase_add_test(tc, test_min_delta_accumulates_and_milestone);
    tcase_add_test(tc, test_cooldown_per_video_metric);
    tcase_add_test(tc, test_render_edges);
    tcase_add_test(tc, test_stream_events_once_with_summary);
    tcase_add_test(tc, test_events_filtered_by_config);
    tcase_add_test(tc, test_drift_alert);
    tcase_add_test(tc, test_save_load_no_reannounce);
    tcase_add_test(tc, test_prune_silent_videos);
    tcase_add_test(tc, test_scanner_quota_event_once);
    suite_add_tcase(s, tc);
    return s;
}
