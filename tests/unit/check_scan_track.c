/* Unit tests of scan_track on a fake clock: upcoming -> live -> ended with
 * their events and spawn requests at lead time, rescheduling, overdue
 * streams, members-only checks, refused spawn requests, rows found by a
 * fallback page, which rows are due (batches, coalescing) and pruning. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/scanner/scan_track.h"

#define SEC  INT64_C(1000000)
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)
/* The fake clock starts on 2026-03-01 00:00:00 UTC. */
#define T0 (INT64_C(1772323200) * SEC)

static const scan_track_cfg_t s_cfg = {.lead_us = 5 * MIN, .track_us = 5 * MIN};

static tw_scan_stream_t s_row(const char *vid, int64_t now)
{
    tw_scan_stream_t s;
    scan_track_init(&s, vid, "UCaaaaaaaaaaaaaaaaaaaaaa", "a title", now);
    return s;
}

static scan_track_obs_t s_obs(tw_scan_state_t st, int64_t sched, int64_t start,
                              int64_t end)
{
    scan_track_obs_t o = {
        .state = st, .scheduled_us = sched, .start_us = start, .end_us = end};
    return o;
}

START_TEST(test_init)
{
    tw_scan_stream_t s = s_row("vid00000001", T0);
    ck_assert_str_eq(s.video_id, "vid00000001");
    ck_assert_str_eq(s.channel_id, "UCaaaaaaaaaaaaaaaaaaaaaa");
    ck_assert_int_eq(s.state, TW_SCAN_ST_UNKNOWN);
    ck_assert_int_eq(s.next_us, T0);
    ck_assert_int_eq(s.seen_us, T0);
    /* a channel id too long for the row is dropped, not cut */
    char chan[64];
    memset(chan, 'U', sizeof chan - 1);
    chan[sizeof chan - 1] = '\0';
    scan_track_init(&s, "vid00000001", chan, "", T0);
    ck_assert_str_eq(s.channel_id, "");
}
END_TEST

START_TEST(test_upcoming_live_ended)
{
    int64_t now = T0;
    int64_t sched = T0 + 3 * HOUR;
    tw_scan_stream_t s = s_row("vid00000001", now);
    /* upcoming, far away: event, spawn at sched - lead, checked rarely */
    scan_track_obs_t o = s_obs(TW_SCAN_ST_SCHEDULED, sched, 0, 0);
    o.title = "Big show";
    scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert(a.event);
    ck_assert(a.spawn);
    ck_assert_int_eq(a.spawn_at_us, sched - 5 * MIN);
    ck_assert_int_eq(s.state, TW_SCAN_ST_SCHEDULED);
    ck_assert_str_eq(s.title, "Big show");
    ck_assert_int_eq(s.updated_us, now);
    ck_assert_int_eq(s.next_us, now + SCAN_TRACK_FAR_ROUNDS * 5 * MIN);
    scan_track_spawned(&s, &a);
    ck_assert_int_eq(s.spawn_nb_us, sched - 5 * MIN);
    /* the same again: nothing to do, not changed */
    now += 30 * MIN;
    a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert(!a.event);
    ck_assert(!a.spawn);
    ck_assert_int_eq(s.updated_us, T0);
    ck_assert_int_eq(s.checked_us, now);
    /* within the hour: checked every tracking interval */
    now = sched - 30 * MIN;
    a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert(!a.event && !a.spawn);
    ck_assert_int_eq(s.next_us, now + 5 * MIN);
    /* live on time: the chat was requested before now, no new request */
    now = sched + MIN;
    o = s_obs(TW_SCAN_ST_LIVE, sched, sched, 0);
    a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert(a.event);
    ck_assert(!a.spawn);
    ck_assert_int_eq(s.state, TW_SCAN_ST_LIVE);
    ck_assert_int_eq(s.start_us, sched);
    ck_assert_int_eq(s.next_us, now + 5 * MIN);
    /* ended: event (it was tracked), never checked again */
    now += 2 * HOUR;
    o = s_obs(TW_SCAN_ST_ENDED, 0, 0, now - MIN);
    a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert(a.event);
    ck_assert(!a.spawn);
    ck_assert_int_eq(s.state, TW_SCAN_ST_ENDED);
    ck_assert_int_eq(s.scheduled_us, sched); /* times not said are kept */
    ck_assert_int_eq(s.start_us, sched);
    ck_assert_int_eq(s.end_us, now - MIN);
    ck_assert_int_eq(s.next_us, INT64_MAX);
    ck_assert(tw_scan_state_final(s.state));
}
END_TEST

START_TEST(test_live_without_schedule_spawns_now)
{
    int64_t now = T0;
    tw_scan_stream_t s = s_row("vid00000002", now);
    scan_track_obs_t o = s_obs(TW_SCAN_ST_LIVE, 0, now - MIN, 0);
    scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert(a.event);
    ck_assert(a.spawn);
    ck_assert_int_eq(a.spawn_at_us, 0); /* now */
    scan_track_spawned(&s, &a);
    ck_assert_int_eq(s.spawn_nb_us, now);
    /* still live later: asked once only */
    a = scan_track_apply(&s, &o, &s_cfg, now + 5 * MIN);
    ck_assert(!a.event && !a.spawn);
}
END_TEST

START_TEST(test_early_start_spawns_now)
{
    /* scheduled for tomorrow, live today: the request for tomorrow is
     * replaced by one for now */
    int64_t now = T0, sched = T0 + DAY;
    tw_scan_stream_t s = s_row("vid00000003", now);
    scan_track_obs_t o = s_obs(TW_SCAN_ST_SCHEDULED, sched, 0, 0);
    scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, now);
    scan_track_spawned(&s, &a);
    now += HOUR;
    o = s_obs(TW_SCAN_ST_LIVE, sched, now, 0);
    a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert(a.event);
    ck_assert(a.spawn);
    ck_assert_int_eq(a.spawn_at_us, 0);
    scan_track_spawned(&s, &a);
    ck_assert_int_eq(s.spawn_nb_us, now);
}
END_TEST

START_TEST(test_reschedule)
{
    int64_t now = T0, sched = T0 + 2 * HOUR;
    tw_scan_stream_t s = s_row("vid00000004", now);
    scan_track_obs_t o = s_obs(TW_SCAN_ST_SCHEDULED, sched, 0, 0);
    scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, now);
    scan_track_spawned(&s, &a);
    ck_assert_str_eq(s.reason, "");
    now += 10 * MIN;
    int64_t later = sched + HOUR;
    o = s_obs(TW_SCAN_ST_SCHEDULED, later, 0, 0);
    a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert(a.event);
    ck_assert_str_eq(s.reason, "rescheduled");
    ck_assert_int_eq(s.updated_us, now);
    ck_assert(a.spawn);
    ck_assert_int_eq(a.spawn_at_us, later - 5 * MIN);
    scan_track_spawned(&s, &a);
    ck_assert_int_eq(s.spawn_nb_us, later - 5 * MIN);
    /* a source that does not say the start changes nothing */
    o = s_obs(TW_SCAN_ST_SCHEDULED, 0, 0, 0);
    a = scan_track_apply(&s, &o, &s_cfg, now + MIN);
    ck_assert(!a.event && !a.spawn);
    ck_assert_int_eq(s.scheduled_us, later);
}
END_TEST

START_TEST(test_refused_spawn_asked_again)
{
    int64_t now = T0, sched = T0 + 30 * MIN;
    tw_scan_stream_t s = s_row("vid00000005", now);
    scan_track_obs_t o = s_obs(TW_SCAN_ST_SCHEDULED, sched, 0, 0);
    scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert(a.spawn);
    /* not recorded: the supervisor did not take it */
    a = scan_track_apply(&s, &o, &s_cfg, now + 5 * MIN);
    ck_assert(!a.event);
    ck_assert(a.spawn);
    ck_assert_int_eq(a.spawn_at_us, sched - 5 * MIN);
    scan_track_spawned(&s, &a);
    a = scan_track_apply(&s, &o, &s_cfg, now + 10 * MIN);
    ck_assert(!a.spawn);
}
END_TEST

START_TEST(test_overdue_cancelled)
{
    int64_t now = T0;
    tw_scan_stream_t s = s_row("vid00000006", now - 2 * DAY);
    scan_track_obs_t o =
        s_obs(TW_SCAN_ST_SCHEDULED, now - 2 * DAY - HOUR, 0, 0);
    scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, now - 2 * DAY);
    ck_assert(a.event);
    scan_track_spawned(&s, &a);
    /* 25 hours past its start and still upcoming */
    o = s_obs(TW_SCAN_ST_SCHEDULED, now - 25 * HOUR, 0, 0);
    a = scan_track_apply(&s, &o, &s_cfg, now);
    ck_assert_int_eq(s.state, TW_SCAN_ST_CANCELLED);
    ck_assert_str_eq(s.reason, "never started");
    ck_assert(a.event); /* it was tracked */
    ck_assert(!a.spawn);
    ck_assert_int_eq(s.next_us, INT64_MAX);
    /* 23 hours late is not overdue yet */
    tw_scan_stream_t t = s_row("vid00000007", now);
    o = s_obs(TW_SCAN_ST_SCHEDULED, now - 23 * HOUR, 0, 0);
    scan_track_apply(&t, &o, &s_cfg, now);
    ck_assert_int_eq(t.state, TW_SCAN_ST_SCHEDULED);
}
END_TEST

START_TEST(test_final_without_tracking_is_quiet)
{
    /* ordinary videos and streams that ended before we saw them: no event */
    tw_scan_state_t quiet[] = {TW_SCAN_ST_VIDEO, TW_SCAN_ST_ENDED,
                               TW_SCAN_ST_DELETED, TW_SCAN_ST_PRIVATE,
                               TW_SCAN_ST_UNAVAILABLE};
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++) {
        tw_scan_stream_t s = s_row("vid00000008", T0);
        scan_track_obs_t o = s_obs(quiet[i], 0, 0, 0);
        o.reason = "gone";
        scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, T0);
        ck_assert_msg(!a.event, "event for %s", tw_scan_state_str(quiet[i]));
        ck_assert(!a.spawn);
        ck_assert_int_eq(s.state, quiet[i]);
        ck_assert_str_eq(s.reason, "gone");
        ck_assert_int_eq(s.next_us, INT64_MAX);
    }
    /* deleted while tracked: announced */
    tw_scan_stream_t s = s_row("vid00000009", T0);
    scan_track_obs_t o = s_obs(TW_SCAN_ST_LIVE, 0, T0, 0);
    scan_track_apply(&s, &o, &s_cfg, T0);
    o = s_obs(TW_SCAN_ST_DELETED, 0, 0, 0);
    o.reason = "watch page 404";
    scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, T0 + MIN);
    ck_assert(a.event);
    ck_assert_str_eq(s.reason, "watch page 404");
}
END_TEST

START_TEST(test_members_only)
{
    tw_scan_stream_t s = s_row("vid0000000a", T0);
    scan_track_obs_t o = s_obs(TW_SCAN_ST_SCHEDULED, T0 + HOUR, 0, 0);
    /* a broadcast not tracked yet: its page must say whether it is
     * members-only */
    ck_assert(scan_track_needs_page(&s, &o));
    o.state = TW_SCAN_ST_MEMBERS_ONLY;
    o.reason = "members only";
    scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, T0);
    ck_assert(a.event); /* announced, but never recorded */
    ck_assert(!a.spawn);
    ck_assert_int_eq(s.state, TW_SCAN_ST_MEMBERS_ONLY);
    ck_assert_str_eq(s.reason, "members only");
    ck_assert(tw_scan_state_final(s.state));
    /* a tracked stream is not checked again; a plain video never is */
    tw_scan_stream_t t = s_row("vid0000000b", T0);
    o = s_obs(TW_SCAN_ST_LIVE, 0, T0, 0);
    scan_track_apply(&t, &o, &s_cfg, T0);
    ck_assert(!scan_track_needs_page(&t, &o));
    o = s_obs(TW_SCAN_ST_VIDEO, 0, 0, 0);
    ck_assert(!scan_track_needs_page(&s, &o));
}
END_TEST

START_TEST(test_obs_from_api)
{
    tw_ytapi_video_t it;
    memset(&it, 0, sizeof it);
    it.id = "vid0000000c";
    it.title = "T";
    it.channel_id = "UCbbbbbbbbbbbbbbbbbbbbbb";
    it.broadcast_content = "";
    scan_track_obs_t o;
    it.state = TW_YTAPI_STATE_UPCOMING;
    it.scheduled_start_usec = T0;
    scan_track_obs_from_api(&it, &o);
    ck_assert_int_eq(o.state, TW_SCAN_ST_SCHEDULED);
    ck_assert_int_eq(o.scheduled_us, T0);
    ck_assert_str_eq(o.channel, "UCbbbbbbbbbbbbbbbbbbbbbb");
    it.state = TW_YTAPI_STATE_LIVE;
    scan_track_obs_from_api(&it, &o);
    ck_assert_int_eq(o.state, TW_SCAN_ST_LIVE);
    it.state = TW_YTAPI_STATE_ENDED;
    scan_track_obs_from_api(&it, &o);
    ck_assert_int_eq(o.state, TW_SCAN_ST_ENDED);
    /* "none" with live details: the times say */
    it.state = TW_YTAPI_STATE_NONE;
    it.has_live_details = true;
    scan_track_obs_from_api(&it, &o);
    ck_assert_int_eq(o.state, TW_SCAN_ST_SCHEDULED);
    it.actual_start_usec = T0;
    scan_track_obs_from_api(&it, &o);
    ck_assert_int_eq(o.state, TW_SCAN_ST_LIVE);
    it.actual_end_usec = T0 + HOUR;
    scan_track_obs_from_api(&it, &o);
    ck_assert_int_eq(o.state, TW_SCAN_ST_ENDED);
    ck_assert_int_eq(o.end_us, T0 + HOUR);
    it.has_live_details = false;
    scan_track_obs_from_api(&it, &o);
    ck_assert_int_eq(o.state, TW_SCAN_ST_VIDEO);
}
END_TEST

START_TEST(test_found_by_fallback_page)
{
    /* a /live page shows a stream the feed never listed: the row is new
     * (unknown) and classified from that page at once, with the page's
     * channel */
    tw_scan_stream_t s;
    scan_track_init(&s, "vid0000000d", "UCcccccccccccccccccccccc", "", T0);
    scan_track_obs_t o = s_obs(TW_SCAN_ST_LIVE, 0, T0 - MIN, 0);
    o.title = "On air";
    o.channel = "UCcccccccccccccccccccccc";
    scan_track_act_t a = scan_track_apply(&s, &o, &s_cfg, T0);
    ck_assert(a.event);
    ck_assert(a.spawn);
    ck_assert_str_eq(s.title, "On air");
    /* a channel that is not a channel id is ignored */
    o.channel = "not a channel";
    scan_track_apply(&s, &o, &s_cfg, T0 + MIN);
    ck_assert_str_eq(s.channel_id, "UCcccccccccccccccccccccc");
}
END_TEST

/* n rows, row i due at due[i] (open), others final. */
static tw_scan_stream_t *s_table(size_t n, int64_t due)
{
    tw_scan_stream_t *v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        scan_track_init(&v[i], "vid0000000e", "UCaaaaaaaaaaaaaaaaaaaaaa", "",
                        due);
        v[i].state = TW_SCAN_ST_SCHEDULED;
    }
    return v;
}

START_TEST(test_due_coalesces_small_batches)
{
    scan_track_due_opts_t o = {
        .api = true, .scan_us = 5 * MIN, .track_us = 5 * MIN};
    tw_scan_stream_t *v = s_table(3, T0);
    tw_scan_stream_t *out[3];
    /* 3 due for 10 s: wait for more (half a scan round, at most 30 s) */
    ck_assert_uint_eq(scan_track_due(v, 3, T0 + 10 * SEC, &o, out), 0);
    ck_assert_uint_eq(scan_track_due(v, 3, T0 + 30 * SEC, &o, out), 3);
    /* without the API every page costs the same: no waiting */
    o.api = false;
    ck_assert_uint_eq(scan_track_due(v, 3, T0, &o, out), 3);
    /* a short scan interval waits half of it */
    o.api = true;
    o.scan_us = 10 * SEC;
    ck_assert_uint_eq(scan_track_due(v, 3, T0 + 4 * SEC, &o, out), 0);
    ck_assert_uint_eq(scan_track_due(v, 3, T0 + 5 * SEC, &o, out), 3);
    /* nothing due: nothing */
    ck_assert_uint_eq(scan_track_due(v, 3, T0 - 1, &o, out), 0);
    free(v);
}
END_TEST

START_TEST(test_due_riders_fill_the_batch)
{
    scan_track_due_opts_t o = {
        .api = true, .scan_us = 5 * MIN, .track_us = 5 * MIN};
    size_t n = 120;
    tw_scan_stream_t *v = s_table(n, T0);
    /* 60 due now; 40 due within half a tracking interval; 10 later; 10
     * final */
    for (size_t i = 60; i < 100; i++)
        v[i].next_us = T0 + 2 * MIN;
    for (size_t i = 100; i < 110; i++)
        v[i].next_us = T0 + 4 * MIN;
    for (size_t i = 110; i < n; i++)
        v[i].state = TW_SCAN_ST_ENDED;
    tw_scan_stream_t **out = calloc(n, sizeof *out);
    /* 60 due >= a batch: no waiting; 40 free places in the second batch,
     * filled by the 40 riders */
    size_t k = scan_track_due(v, n, T0, &o, out);
    ck_assert_uint_eq(k, 100);
    for (size_t i = 0; i < 60; i++)
        ck_assert_ptr_eq(out[i], &v[i]);
    for (size_t i = 60; i < 100; i++)
        ck_assert_ptr_eq(out[i], &v[i]);
    /* no riders without the API */
    o.api = false;
    ck_assert_uint_eq(scan_track_due(v, n, T0, &o, out), 60);
    ck_assert_uint_eq(scan_track_open_count(v, n), 110);
    free(out);
    free(v);
}
END_TEST

START_TEST(test_restore_hurry_prune)
{
    tw_scan_stream_t v[4];
    for (int i = 0; i < 4; i++)
        scan_track_init(&v[i], "vid0000000f", "UCaaaaaaaaaaaaaaaaaaaaaa", "",
                        T0);
    v[0].state = TW_SCAN_ST_SCHEDULED;
    v[1].state = TW_SCAN_ST_ENDED;
    v[1].checked_us = T0 - 31 * DAY;
    v[1].updated_us = T0 - 40 * DAY;
    v[2].state = TW_SCAN_ST_VIDEO;
    v[2].checked_us = T0 - 29 * DAY;
    v[3].state = TW_SCAN_ST_LIVE;
    v[3].checked_us = T0 - 90 * DAY; /* open rows are never dropped */
    scan_track_restore(v, 4, T0);
    ck_assert_int_eq(v[0].next_us, T0);
    ck_assert_int_eq(v[1].next_us, INT64_MAX);
    ck_assert_int_eq(v[3].next_us, T0);
    v[0].next_us = T0 + DAY;
    scan_track_hurry(v, 4, T0 + MIN);
    ck_assert_int_eq(v[0].next_us, T0 + MIN);
    ck_assert_int_eq(v[1].next_us, INT64_MAX);
    ck_assert_int_eq(v[3].next_us, T0); /* already sooner */
    ck_assert_uint_eq(scan_track_prune(v, 4, T0), 3);
    ck_assert_int_eq(v[0].state, TW_SCAN_ST_SCHEDULED);
    ck_assert_int_eq(v[1].state, TW_SCAN_ST_VIDEO);
    ck_assert_int_eq(v[2].state, TW_SCAN_ST_LIVE);
    /* the video goes two days later */
    ck_assert_uint_eq(scan_track_prune(v, 3, T0 + 2 * DAY), 2);
}
END_TEST

Suite *scan_track_suite(void)
{
    Suite *s = suite_create("scan_track");
    TCase *tc = tcase_create("apply");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_upcoming_live_ended);
    tcase_add_test(tc, test_live_without_schedule_spawns_now);
    tcase_add_test(tc, test_early_start_spawns_now);
    tcase_add_test(tc, test_reschedule);
    tcase_add_test(tc, test_refused_spawn_asked_again);
    tcase_add_test(tc, test_overdue_cancelled);
    tcase_add_test(tc, test_final_without_tracking_is_quiet);
    tcase_add_test(tc, test_members_only);
    tcase_add_test(tc, test_obs_from_api);
    tcase_add_test(tc, test_found_by_fallback_page);
    suite_add_tcase(s, tc);
    tc = tcase_create("table");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_due_coalesces_small_batches);
    tcase_add_test(tc, test_due_riders_fill_the_batch);
    tcase_add_test(tc, test_restore_hurry_prune);
    suite_add_tcase(s, tc);
    return s;
}
