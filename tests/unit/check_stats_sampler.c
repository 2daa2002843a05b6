/* Unit tests of stats_sampler on a fake clock: the live set and watched
 * uploads from the scanner's table, pinned videos, uploads refreshes that
 * stop at known or old videos, the bounded watch list (uploads_max_age,
 * uploads_max) staying flat as channels upload, poll selection and timing,
 * uploads.tsv round trip (and its older form), and shards. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/stats/stats_sampler.h"

#define SEC  INT64_C(1000000)
#define HOUR (3600 * SEC)
#define DAY  (24 * HOUR)
/* The fake clock starts on 2026-03-01 00:00:00 UTC. */
#define T0 (INT64_C(1772323200) * SEC)

static const char *const s_chans[] = {"UCaaaaaaaaaaaaaaaaaaaaaa",
                                      "UCbbbbbbbbbbbbbbbbbbbbbb"};

static stats_sampler_t *s_new(int64_t max_age, uint32_t max)
{
    stats_sampler_cfg_t c = {.watch_uploads = true,
                             .max_age_us = max_age,
                             .uploads_max = max,
                             .shard = {1, 1}};
    stats_sampler_t *s = stats_sampler_new(&c);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(stats_sampler_set_channels(s, s_chans, 2), TW_OK);
    return s;
}

/* An 11-character video id from n. */
static void s_vid(char *out, int n)
{
    snprintf(out, 12, "v%010d", n);
}

static tw_scan_stream_t s_row(const char *vid, const char *chan,
                              tw_scan_state_t st, int64_t start)
{
    tw_scan_stream_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.video_id, sizeof r.video_id, "%s", vid);
    snprintf(r.channel_id, sizeof r.channel_id, "%s", chan);
    snprintf(r.title, sizeof r.title, "t %s", vid);
    r.state = st;
    r.start_us = start;
    r.updated_us = start ? start : T0;
    return r;
}

START_TEST(test_streams_live_and_uploads)
{
    stats_sampler_t *s = s_new(30 * DAY, 0);
    tw_scan_stream_t v[5] = {
        s_row("live0000001", s_chans[0], TW_SCAN_ST_LIVE, T0 - HOUR),
        s_row("video000001", s_chans[0], TW_SCAN_ST_VIDEO, 0),
        s_row("sched000001", s_chans[1], TW_SCAN_ST_SCHEDULED, 0),
        s_row("ended000001", s_chans[1], TW_SCAN_ST_ENDED, T0 - DAY),
        /* a channel not listed: live, but not an upload */
        s_row("other000001", "UCcccccccccccccccccccccc", TW_SCAN_ST_LIVE, T0),
    };
    ck_assert_uint_eq(stats_sampler_streams(s, v, 5, T0), 2);
    ck_assert_uint_eq(stats_sampler_pollable(s, STATS_POLL_VIEWERS), 2);
    /* counts: the live ones, the video and the ended stream */
    ck_assert_uint_eq(stats_sampler_pollable(s, STATS_POLL_COUNTS), 4);
    ck_assert_ptr_null(stats_sampler_find(s, "sched000001"));
    stats_vid_t *x = stats_sampler_find(s, "other000001");
    ck_assert(x->live && !x->watched);
    x = stats_sampler_find(s, "ended000001");
    ck_assert(x->watched && !x->live);
    ck_assert_int_eq(x->published_us, T0 - DAY);
    ck_assert_str_eq(x->title, "t ended000001");
    /* the live one ended: the live set follows the table */
    v[0].state = TW_SCAN_ST_ENDED;
    ck_assert_uint_eq(stats_sampler_streams(s, v, 5, T0 + HOUR), 1);
    stats_vid_t *sel[8];
    ck_assert_uint_eq(stats_sampler_select(s, STATS_POLL_VIEWERS, sel), 1);
    ck_assert_str_eq(sel[0]->id, "other000001");
    /* gone videos are not polled */
    stats_sampler_find(s, "ended000001")->gone = true;
    ck_assert_uint_eq(stats_sampler_pollable(s, STATS_POLL_COUNTS), 3);
    /* without watch_uploads only the live set */
    stats_sampler_cfg_t c = {.watch_uploads = false, .shard = {1, 1}};
    stats_sampler_t *t = stats_sampler_new(&c);
    stats_sampler_set_channels(t, s_chans, 2);
    v[0].state = TW_SCAN_ST_LIVE;
    stats_sampler_streams(t, v, 5, T0);
    ck_assert_uint_eq(stats_sampler_pollable(t, STATS_POLL_COUNTS), 2);
    stats_sampler_destroy(&t);
    stats_sampler_destroy(&s);
    ck_assert_ptr_null(s);
    stats_sampler_destroy(&s);
}
END_TEST

START_TEST(test_old_table_rows_are_not_added)
{
    stats_sampler_t *s = s_new(30 * DAY, 0);
    tw_scan_stream_t v[2] = {
        s_row("ended000002", s_chans[0], TW_SCAN_ST_ENDED, T0 - 40 * DAY),
        s_row("live0000002", s_chans[0], TW_SCAN_ST_LIVE, T0 - 40 * DAY),
    };
    stats_sampler_streams(s, v, 2, T0);
    ck_assert_ptr_null(stats_sampler_find(s, "ended000002"));
    /* a stream live for 40 days is live: polled however old */
    ck_assert_ptr_nonnull(stats_sampler_find(s, "live0000002"));
    ck_assert_uint_eq(stats_sampler_prune(s, T0), 0);
    ck_assert_uint_eq(stats_sampler_pollable(s, STATS_POLL_VIEWERS), 1);
    stats_sampler_destroy(&s);
}
END_TEST

START_TEST(test_pinned)
{
    stats_sampler_t *s = s_new(DAY, 1);
    ck_assert_int_eq(stats_sampler_pin(s, "pinned00001"), TW_OK);
    ck_assert_int_eq(stats_sampler_pin(s, "bad id"), TW_ERR_INVALID);
    stats_vid_t *x = stats_sampler_find(s, "pinned00001");
    ck_assert(x->pinned && x->watched);
    /* never pruned, whatever its age */
    ck_assert_uint_eq(stats_sampler_prune(s, T0 + 400 * DAY), 0);
    ck_assert_uint_eq(stats_sampler_pollable(s, STATS_POLL_COUNTS), 1);
    stats_sampler_destroy(&s);
}
END_TEST

START_TEST(test_refresh_stops)
{
    stats_sampler_t *s = s_new(30 * DAY, 0);
    char id[12];
    /* first refresh: 60 uploads one day apart, newest first: those within
     * 30 days are added, the first older one stops the refresh */
    stats_refresh_t r = {0, false, false};
    int fed = 0;
    for (int i = 0; i < 60 && !r.stop; i++, fed++) {
        s_vid(id, 100 - i);
        stats_sampler_refresh_entry(s, &r, s_chans[0], id, "x",
                                    T0 - i * DAY - HOUR, T0);
    }
    ck_assert(r.added);
    ck_assert_int_eq(fed, 31);
    ck_assert_uint_eq(stats_sampler_video_count(s), 30);
    /* next refresh: two new uploads, then a known one stops it */
    r = (stats_refresh_t){0, false, false};
    s_vid(id, 102);
    stats_sampler_refresh_entry(s, &r, s_chans[0], id, "", T0, T0 + HOUR);
    s_vid(id, 101);
    stats_sampler_refresh_entry(s, &r, s_chans[0], id, "", T0, T0 + HOUR);
    ck_assert(!r.stop);
    s_vid(id, 100);
    stats_sampler_refresh_entry(s, &r, s_chans[0], id, "", 0, T0 + HOUR);
    ck_assert(r.stop);
    ck_assert_uint_eq(stats_sampler_video_count(s), 32);
    /* an unknown publication time counts as now (kept) */
    r = (stats_refresh_t){0, false, false};
    s_vid(id, 103);
    stats_sampler_refresh_entry(s, &r, s_chans[1], id, "", 0, T0);
    ck_assert_int_eq(stats_sampler_find(s, id)->published_us, T0);
    /* with a count cap the refresh stops after uploads_max entries */
    stats_sampler_t *c = s_new(0, 5);
    r = (stats_refresh_t){0, false, false};
    fed = 0;
    for (int i = 0; i < 50 && !r.stop; i++, fed++) {
        s_vid(id, 500 - i);
        stats_sampler_refresh_entry(c, &r, s_chans[1], id, "", T0 - i * DAY,
                                    T0);
    }
    ck_assert_int_eq(fed, 5);
    stats_sampler_destroy(&c);
    stats_sampler_destroy(&s);
}
END_TEST

START_TEST(test_watch_list_stays_flat)
{
    /* two channels upload 10 videos a day for 120 days; the list is pruned
     * daily: it never holds more than uploads_max per channel nor anything
     * older than uploads_max_age */
    stats_sampler_t *s = s_new(30 * DAY, 50);
    ck_assert_int_eq(stats_sampler_pin(s, "pinned00002"), TW_OK);
    char id[12];
    int n = 0;
    size_t most = 0;
    for (int day = 0; day < 120; day++) {
        int64_t now = T0 + day * DAY;
        for (int c = 0; c < 2; c++) {
            stats_refresh_t r = {0, false, false};
            for (int k = 0; k < 10; k++) {
                s_vid(id, ++n);
                stats_sampler_refresh_entry(s, &r, s_chans[c], id, "",
                                            now - k * HOUR, now);
            }
        }
        stats_sampler_prune(s, now);
        size_t held = stats_sampler_video_count(s);
        if (held > most)
            most = held;
        for (size_t i = 0; i < held; i++) {
            const stats_vid_t *v = stats_sampler_video(s, i);
            ck_assert(v->pinned || v->published_us >= now - 30 * DAY);
        }
    }
    /* 2 channels x 50 + the pinned video */
    ck_assert_uint_eq(most, 101);
    ck_assert_uint_eq(stats_sampler_pollable(s, STATS_POLL_COUNTS), 101);
    ck_assert_ptr_nonnull(stats_sampler_find(s, "pinned00002"));
    /* the newest survive the cap */
    s_vid(id, n);
    ck_assert_ptr_nonnull(stats_sampler_find(s, id));
    s_vid(id, n - 99); /* channel 1, five days back */
    ck_assert_ptr_nonnull(stats_sampler_find(s, id));
    s_vid(id, n - 100); /* channel 1, six days back */
    ck_assert_ptr_null(stats_sampler_find(s, id));
    /* age alone: 3 a day for 100 days stays at 30 days' worth */
    stats_sampler_t *a = s_new(30 * DAY, 0);
    for (int day = 0; day < 100; day++) {
        int64_t now = T0 + day * DAY;
        stats_refresh_t r = {0, false, false};
        for (int k = 0; k < 3; k++) {
            s_vid(id, ++n);
            stats_sampler_refresh_entry(a, &r, s_chans[0], id, "", now, now);
        }
        stats_sampler_prune(a, now);
        ck_assert_uint_le(stats_sampler_video_count(a), 93);
    }
    stats_sampler_destroy(&a);
    stats_sampler_destroy(&s);
}
END_TEST

START_TEST(test_prune_drops_unwatched)
{
    /* a live stream of an unlisted channel ends: nothing polls it any
     * more, so it leaves memory too */
    stats_sampler_t *s = s_new(0, 0);
    tw_scan_stream_t v =
        s_row("other000002", "UCcccccccccccccccccccccc", TW_SCAN_ST_LIVE, T0);
    stats_sampler_streams(s, &v, 1, T0);
    ck_assert_uint_eq(stats_sampler_prune(s, T0), 0);
    v.state = TW_SCAN_ST_ENDED;
    stats_sampler_streams(s, &v, 1, T0);
    ck_assert_uint_eq(stats_sampler_prune(s, T0), 1);
    ck_assert_uint_eq(stats_sampler_video_count(s), 0);
    stats_sampler_destroy(&s);
}
END_TEST

START_TEST(test_polls_timing)
{
    stats_sampler_t *s = s_new(0, 0);
    /* due at once */
    ck_assert(stats_sampler_due(s, STATS_POLL_VIEWERS, 0));
    ck_assert(stats_sampler_due(s, STATS_POLL_COUNTS, 0));
    stats_sampler_schedule(s, STATS_POLL_VIEWERS, 1000, 60000);
    ck_assert(!stats_sampler_due(s, STATS_POLL_VIEWERS, 60999));
    ck_assert(stats_sampler_due(s, STATS_POLL_VIEWERS, 61000));
    ck_assert(stats_sampler_due(s, STATS_POLL_COUNTS, 61000));
    /* an interval is worth logging once per change */
    ck_assert(stats_sampler_note_interval(s, STATS_POLL_COUNTS, 600000));
    ck_assert(!stats_sampler_note_interval(s, STATS_POLL_COUNTS, 600000));
    ck_assert(stats_sampler_note_interval(s, STATS_POLL_COUNTS, 900000));
    ck_assert(stats_sampler_note_interval(s, STATS_POLL_VIEWERS, 900000));
    stats_sampler_destroy(&s);
}
END_TEST

START_TEST(test_uploads_file)
{
    stats_sampler_t *s = s_new(30 * DAY, 0);
    stats_sampler_channel(s, 0)->uploads[0] = '\0';
    snprintf(stats_sampler_channel(s, 1)->uploads, TW_ID_MAX, "%s",
             "UUbbbbbbbbbbbbbbbbbbbbbb");
    stats_refresh_t r = {0, false, false};
    stats_sampler_refresh_entry(s, &r, s_chans[0], "upload00001", "", T0 - DAY,
                                T0);
    ck_assert_int_eq(stats_sampler_pin(s, "pinned00003"), TW_OK);
    size_t len = 0;
    char *text = stats_sampler_uploads_format(s, &len);
    ck_assert_ptr_nonnull(text);
    char want[256];
    snprintf(want, sizeof want,
             "UCbbbbbbbbbbbbbbbbbbbbbb\tUUbbbbbbbbbbbbbbbbbbbbbb\n"
             "video\tUCaaaaaaaaaaaaaaaaaaaaaa\tupload00001\t%lld\n",
             (long long)(T0 - DAY));
    ck_assert_str_eq(text, want);
    ck_assert_uint_eq(len, strlen(want));
    /* read back into a fresh sampler */
    stats_sampler_t *t = s_new(30 * DAY, 0);
    stats_sampler_uploads_parse(t, text, len, T0 + HOUR);
    ck_assert_str_eq(stats_sampler_channel(t, 1)->uploads,
                     "UUbbbbbbbbbbbbbbbbbbbbbb");
    stats_vid_t *v = stats_sampler_find(t, "upload00001");
    ck_assert_ptr_nonnull(v);
    ck_assert(v->watched);
    ck_assert_int_eq(v->published_us, T0 - DAY);
    /* too old by now: not read back */
    stats_sampler_t *u = s_new(30 * DAY, 0);
    stats_sampler_uploads_parse(u, text, len, T0 + 31 * DAY);
    ck_assert_ptr_null(stats_sampler_find(u, "upload00001"));
    stats_sampler_destroy(&u);
    free(text);
    /* the older three-column form, bad lines, unlisted channels */
    const char *old = "video\tUCaaaaaaaaaaaaaaaaaaaaaa\toldform0001\n"
                      "video\tUCcccccccccccccccccccccc\tunlisted001\n"
                      "video\tUCaaaaaaaaaaaaaaaaaaaaaa\tbadtime0001\tx9\n"
                      "garbage\n"
                      "\n"
                      "video\tUCaaaaaaaaaaaaaaaaaaaaaa\tnot a video\n";
    stats_sampler_uploads_parse(t, old, strlen(old), T0 + HOUR);
    v = stats_sampler_find(t, "oldform0001");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->published_us, T0 + HOUR);
    ck_assert_ptr_null(stats_sampler_find(t, "unlisted001"));
    ck_assert_ptr_null(stats_sampler_find(t, "badtime0001"));
    ck_assert_uint_eq(stats_sampler_video_count(t), 2);
    stats_sampler_destroy(&t);
    stats_sampler_destroy(&s);
}
END_TEST

START_TEST(test_shards_split_channels_and_pins)
{
    /* three hosts with the same channels and pins: each channel and each
     * pinned video is watched by exactly one of them */
    enum { NCH = 300 };
    static char ids[NCH][TW_ID_MAX];
    const char *idp[NCH];
    for (int i = 0; i < NCH; i++) {
        snprintf(ids[i], sizeof ids[i], "UC%022d", i * 7919);
        idp[i] = ids[i];
    }
    stats_sampler_t *h[3];
    size_t total = 0;
    for (uint32_t k = 0; k < 3; k++) {
        stats_sampler_cfg_t c = {.watch_uploads = true, .shard = {k + 1, 3}};
        h[k] = stats_sampler_new(&c);
        ck_assert_int_eq(stats_sampler_set_channels(h[k], idp, NCH), TW_OK);
        total += stats_sampler_channel_count(h[k]);
        ck_assert_uint_gt(stats_sampler_channel_count(h[k]), NCH / 3 / 2);
    }
    ck_assert_uint_eq(total, NCH);
    for (int i = 0; i < NCH; i++) {
        int owners = 0;
        for (int k = 0; k < 3; k++)
            owners += stats_sampler_listed(h[k], ids[i]);
        ck_assert_int_eq(owners, 1);
    }
    char vid[12];
    for (int i = 0; i < 30; i++) {
        s_vid(vid, i);
        int owners = 0;
        for (int k = 0; k < 3; k++)
            owners += stats_sampler_pin(h[k], vid) == TW_OK;
        ck_assert_int_eq(owners, 1);
    }
    for (int k = 0; k < 3; k++)
        stats_sampler_destroy(&h[k]);
}
END_TEST

Suite *stats_sampler_suite(void)
{
    Suite *s = suite_create("stats_sampler");
    TCase *tc = tcase_create("watch list");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_streams_live_and_uploads);
    tcase_add_test(tc, test_old_table_rows_are_not_added);
    tcase_add_test(tc, test_pinned);
    tcase_add_test(tc, test_refresh_stops);
    tcase_add_test(tc, test_watch_list_stays_flat);
    tcase_add_test(tc, test_prune_drops_unwatched);
    tcase_add_test(tc, test_shards_split_channels_and_pins);
    suite_add_tcase(s, tc);
    tc = tcase_create("polls and file");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_polls_timing);
    tcase_add_test(tc, test_uploads_file);
    suite_add_tcase(s, tc);
    return s;
}
