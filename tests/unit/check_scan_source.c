/* Unit tests of scan_source: the per-channel feed/fallback state machine,
 * the fallback chain, playlistItems pacing with the quota governor, page
 * request shapes and the watch page state mapping. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../workers/scanner/scan_source.h"
#include "tw_scan.h"
#include "tw_quota.h"

static scan_src_act_t s_ev(scan_src_t *src, bool ok)
{
    return scan_src_event(src,
                          ok ? SCAN_SRC_EV_FEED_OK : SCAN_SRC_EV_FEED_FAIL);
}

START_TEST(test_two_failures_switch)
{
    scan_src_t src = {0};
    ck_assert_int_eq(src.state, SCAN_SRC_FEED);
    ck_assert_int_eq(s_ev(&src, false), SCAN_SRC_ACT_NONE);
    ck_assert(!scan_src_in_fallback(&src));
    ck_assert_int_eq(src.state, SCAN_SRC_SUSPECT);
    ck_assert_int_eq(s_ev(&src, false), SCAN_SRC_ACT_FALLBACK);
    ck_assert(scan_src_in_fallback(&src));
    ck_assert_uint_eq(src.fails, SCAN_FEED_FAILS);
    /* the switch is reported once, not on every failed probe */
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(s_ev(&src, false), SCAN_SRC_ACT_NONE);
    ck_assert(scan_src_in_fallback(&src));
    ck_assert_uint_eq(src.fails, 12);
}
END_TEST

START_TEST(test_failures_not_in_a_row)
{
    scan_src_t src = {0};
    /* fail, ok, fail, ok, ...: never two in a row, never a switch */
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(s_ev(&src, i % 2 == 1), SCAN_SRC_ACT_NONE);
        ck_assert(!scan_src_in_fallback(&src));
    }
    ck_assert_int_eq(src.state, SCAN_SRC_FEED);
    ck_assert_uint_eq(src.fails, 0);
    /* ok streaks stay put */
    ck_assert_int_eq(s_ev(&src, true), SCAN_SRC_ACT_NONE);
    ck_assert_int_eq(src.state, SCAN_SRC_FEED);
}
END_TEST

START_TEST(test_recovery_switches_back)
{
    scan_src_t src = {0};
    s_ev(&src, false);
    s_ev(&src, false);
    s_ev(&src, false);
    ck_assert(scan_src_in_fallback(&src));
    ck_assert_int_eq(s_ev(&src, true), SCAN_SRC_ACT_RECOVERED);
    ck_assert(!scan_src_in_fallback(&src));
    ck_assert_int_eq(src.state, SCAN_SRC_FEED);
    ck_assert_uint_eq(src.fails, 0);
    ck_assert_int_eq(s_ev(&src, true), SCAN_SRC_ACT_NONE);
    /* a new outage needs two failures again, and is reported again */
    ck_assert_int_eq(s_ev(&src, false), SCAN_SRC_ACT_NONE);
    ck_assert_int_eq(s_ev(&src, false), SCAN_SRC_ACT_FALLBACK);
    ck_assert_int_eq(s_ev(&src, true), SCAN_SRC_ACT_RECOVERED);
    ck_assert_str_eq(scan_src_state_str(src.state), "feed");
    ck_assert_str_eq(scan_src_state_str(SCAN_SRC_FALLBACK), "fallback");
}
END_TEST

START_TEST(test_fallback_chain)
{
    /* a round starts with /streams */
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_NONE, false, true),
                     SCAN_STEP_STREAMS);
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_NONE, false, false),
                     SCAN_STEP_STREAMS);
    /* /streams read: done */
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_STREAMS, true, true),
                     SCAN_STEP_NONE);
    /* /streams failed: /live */
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_STREAMS, false, true),
                     SCAN_STEP_LIVE);
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_STREAMS, false, false),
                     SCAN_STEP_LIVE);
    /* /live read: done */
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_LIVE, true, true),
                     SCAN_STEP_NONE);
    /* /live failed: playlistItems when allowed, else done */
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_LIVE, false, true),
                     SCAN_STEP_PLAYLIST);
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_LIVE, false, false),
                     SCAN_STEP_NONE);
    /* playlistItems is the last step */
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_PLAYLIST, false, true),
                     SCAN_STEP_NONE);
    ck_assert_int_eq(scan_src_next_step(SCAN_STEP_PLAYLIST, true, true),
                     SCAN_STEP_NONE);
    ck_assert_str_eq(scan_step_str(SCAN_STEP_LIVE), "live");
    ck_assert_str_eq(scan_step_str(SCAN_STEP_PLAYLIST), "playlist");
}
END_TEST

/* Walks a whole round with the given outcomes; returns the steps taken as
 * a string of their first letters ("slp"). */
static void s_round(const bool ok[3], bool playlist_ok, char *out)
{
    size_t n = 0;
    scan_step_t st = scan_src_next_step(SCAN_STEP_NONE, false, playlist_ok);
    while (st != SCAN_STEP_NONE && n < 8) {
        out[n++] = scan_step_str(st)[0];
        st = scan_src_next_step(st, ok[st - 1], playlist_ok);
    }
    out[n] = '\0';
}

START_TEST(test_fallback_rounds)
{
    char r[16];
    s_round((const bool[]){true, true, true}, true, r);
    ck_assert_str_eq(r, "s");
    s_round((const bool[]){false, true, true}, true, r);
    ck_assert_str_eq(r, "sl");
    s_round((const bool[]){false, false, true}, true, r);
    ck_assert_str_eq(r, "slp");
    s_round((const bool[]){false, false, false}, true, r);
    ck_assert_str_eq(r, "slp");
    s_round((const bool[]){false, false, true}, false, r);
    ck_assert_str_eq(r, "sl");
}
END_TEST

START_TEST(test_playlist_pacing)
{
    scan_src_t src = {0};
    /* no key, or the governor says no: never */
    ck_assert(!scan_src_playlist_allowed(&src, 1000, false, true));
    ck_assert(!scan_src_playlist_allowed(&src, 1000, true, false));
    ck_assert(scan_src_playlist_allowed(&src, 1000, true, true));
    /* once called, the channel waits its interval */
    scan_src_playlist_called(&src, 1000, 60000);
    ck_assert(!scan_src_playlist_allowed(&src, 1001, true, true));
    ck_assert(!scan_src_playlist_allowed(&src, 60999, true, true));
    ck_assert(scan_src_playlist_allowed(&src, 61000, true, true));
    /* an absurd interval does not overflow */
    scan_src_playlist_called(&src, 5, UINT64_MAX);
    ck_assert(!scan_src_playlist_allowed(&src, INT64_MAX / 4, true, true));
    /* the feed state machine leaves the pacing alone */
    s_ev(&src, false);
    s_ev(&src, false);
    s_ev(&src, true);
    ck_assert(!scan_src_playlist_allowed(&src, 61000, true, true));
}
END_TEST

/* The chain with the real quota governor: rounds 2 minutes apart, a pacing
 * of 1 minute and a budget of 3 units: three playlistItems calls, then the
 * rounds end at /live. */
START_TEST(test_playlist_quota)
{
    char dir[] = "/tmp/tw-scansrc-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/quota.tsv", dir);
    tw_quota_t *q = tw_quota_open(path, 3, NULL);
    ck_assert_ptr_nonnull(q);
    scan_src_t src = {0};
    s_ev(&src, false);
    s_ev(&src, false);
    int calls = 0;
    for (int round = 0; round < 6; round++) {
        int64_t now = 1000 + round * 120000;
        scan_step_t st = scan_src_next_step(SCAN_STEP_NONE, false, false);
        while (st != SCAN_STEP_NONE) {
            if (st == SCAN_STEP_PLAYLIST) {
                calls++;
                ck_assert_int_eq(
                    tw_quota_spend(q, "playlistItems.list", 1, NULL), TW_OK);
                scan_src_playlist_called(&src, now, 60000);
            }
            /* /streams and /live fail, so the playlist is wanted */
            bool allowed = scan_src_playlist_allowed(&src, now, true,
                                                     tw_quota_allowed(q, 1));
            st = scan_src_next_step(st, false, allowed);
        }
    }
    ck_assert_int_eq(calls, 3);
    ck_assert_uint_eq(tw_quota_used(q), 3);
    ck_assert(!tw_quota_allowed(q, 1));
    tw_quota_destroy(&q);
    char lock[300];
    snprintf(lock, sizeof lock, "%s.lock", path);
    unlink(path);
    unlink(lock);
    rmdir(dir);
}
END_TEST

/* The pacing interval grows with the channels in fallback: a key with 10000
 * units and 100 channels down asks no more than 10% of them a day. */
START_TEST(test_playlist_interval)
{
    uint64_t one = tw_quota_stretch_ms(60000, 1, 10000, 0.1);
    uint64_t hundred = tw_quota_stretch_ms(60000, 100, 10000, 0.1);
    ck_assert_uint_eq(one, 96000);
    ck_assert_uint_ge(hundred, 86400000ull * 100 / 900);
    ck_assert_uint_le(86400000ull / hundred * 100, 900);
}
END_TEST

START_TEST(test_page_urls)
{
    char u[128];
    ck_assert_int_eq(scan_page_url(u, sizeof u, "watch?v=abcdefghijk"), TW_OK);
    ck_assert_str_eq(u, "watch?v=abcdefghijk&hl=en&gl=US");
    ck_assert_int_eq(scan_page_url(u, sizeof u, "@scanbeta"), TW_OK);
    ck_assert_str_eq(u, "@scanbeta?hl=en&gl=US");
    ck_assert_int_eq(scan_channel_tab_url(u, sizeof u, "@scanbeta", "streams"),
                     TW_OK);
    ck_assert_str_eq(u, "@scanbeta/streams?hl=en&gl=US");
    ck_assert_int_eq(
        scan_channel_tab_url(u, sizeof u, "UCscanAAAAAAAAAAAAAAAAAA", "live"),
        TW_OK);
    ck_assert_str_eq(u, "channel/UCscanAAAAAAAAAAAAAAAAAA/live?hl=en&gl=US");
    /* not a channel reference: refused, not requested */
    ck_assert_int_eq(scan_channel_tab_url(u, sizeof u, "../etc", "live"),
                     TW_ERR_INVALID);
    ck_assert_str_eq(u, "");
    ck_assert_int_eq(scan_channel_tab_url(u, sizeof u, "", "live"),
                     TW_ERR_INVALID);
    /* too small: an error and an empty string, never a cut URL */
    char small[12];
    ck_assert_int_eq(scan_page_url(small, sizeof small, "watch?v=abcdefghijk"),
                     TW_ERR_TOOBIG);
    ck_assert_str_eq(small, "");
    ck_assert_int_eq(scan_playlist_url(u, sizeof u, "UCscanAAAAAAAAAAAAAAAAAA"),
                     TW_OK);
    ck_assert_str_eq(u, "playlistItems?part=snippet&playlistId="
                        "UUscanAAAAAAAAAAAAAAAAAA&maxResults=15");
    ck_assert_int_eq(scan_playlist_url(u, sizeof u, "@scanbeta"),
                     TW_ERR_INVALID);
    ck_assert_int_eq(
        scan_playlist_url(small, sizeof small, "UCscanAAAAAAAAAAAAAAAAAA"),
        TW_ERR_TOOBIG);
}
END_TEST

START_TEST(test_page_headers)
{
    const char *const *h = scan_page_headers();
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h[0], "Cookie: SOCS=CAI");
    ck_assert_ptr_null(h[1]);
}
END_TEST

static tw_ytpage_info_t s_info(tw_ytpage_play_t play, const char *reason,
                               tw_ytpage_state_t state)
{
    tw_ytpage_info_t in;
    memset(&in, 0, sizeof in);
    in.play = play;
    in.play_status = "";
    in.play_reason = reason;
    in.state = state;
    return in;
}

START_TEST(test_page_state)
{
    const char *why = NULL;
    tw_ytpage_info_t in = s_info(TW_YTPAGE_PLAY_LOGIN_REQUIRED,
                                 "Join this channel", TW_YTPAGE_STATE_LIVE);
    ck_assert_int_eq(scan_page_state(&in, &why), TW_STREAM_STATE_MEMBERS_ONLY);
    ck_assert_str_eq(why, "Join this channel");
    in = s_info(TW_YTPAGE_PLAY_ERROR, "This video is private",
                TW_YTPAGE_STATE_UNKNOWN);
    ck_assert_int_eq(scan_page_state(&in, &why), TW_STREAM_STATE_PRIVATE);
    in = s_info(TW_YTPAGE_PLAY_UNPLAYABLE, "This video has been removed",
                TW_YTPAGE_STATE_UNKNOWN);
    ck_assert_int_eq(scan_page_state(&in, &why), TW_STREAM_STATE_DELETED);
    in = s_info(TW_YTPAGE_PLAY_ERROR, "Video unavailable",
                TW_YTPAGE_STATE_UNKNOWN);
    ck_assert_int_eq(scan_page_state(&in, &why), TW_STREAM_STATE_UNAVAILABLE);
    in = s_info(TW_YTPAGE_PLAY_OFFLINE, "", TW_YTPAGE_STATE_UPCOMING);
    ck_assert_int_eq(scan_page_state(&in, &why), TW_STREAM_STATE_SCHEDULED);
    ck_assert_str_eq(why, "");
    in = s_info(TW_YTPAGE_PLAY_OK, "", TW_YTPAGE_STATE_LIVE);
    ck_assert_int_eq(scan_page_state(&in, &why), TW_STREAM_STATE_LIVE);
    in = s_info(TW_YTPAGE_PLAY_OK, "", TW_YTPAGE_STATE_ENDED);
    ck_assert_int_eq(scan_page_state(&in, &why), TW_STREAM_STATE_ENDED);
    in = s_info(TW_YTPAGE_PLAY_OK, "", TW_YTPAGE_STATE_VOD);
    ck_assert_int_eq(scan_page_state(&in, &why), TW_SCAN_ST_VIDEO);
    in = s_info(TW_YTPAGE_PLAY_NONE, "", TW_YTPAGE_STATE_UNKNOWN);
    ck_assert_int_eq(scan_page_state(&in, &why), -1);
    /* 2026: UNPLAYABLE with a membership offer, isLive still true */
    in = s_info(TW_YTPAGE_PLAY_UNPLAYABLE, "Nur für Kanalmitglieder",
                TW_YTPAGE_STATE_LIVE);
    in.members_only = true;
    ck_assert_int_eq(scan_page_state(&in, &why), TW_STREAM_STATE_MEMBERS_ONLY);
    ck_assert_str_eq(why, "Nur für Kanalmitglieder");
}
END_TEST

/* Parses a fixture of tests/fixtures/youtube into page (HTML or JSON). */
static void s_parse_fixture(tw_ytpage_t *page, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/youtube/%s", name);
    size_t len = 0;
    char *buf = tw_test_slurp(path, &len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    tw_err_t err = {{0}, 0, 0};
    tw_ytpage_reset(page);
    tw_rc_t rc = strstr(name, ".html")
                     ? tw_ytpage_parse_html(page, buf, len, &err)
                     : tw_ytpage_parse_json(page, buf, len, &err);
    ck_assert_msg(rc == TW_OK, "%s: %s", name, err.msg);
    free(buf);
}

START_TEST(test_candidates_streams)
{
    tw_ytpage_t *page = tw_ytpage_new();
    ck_assert_ptr_nonnull(page);
    const char *ids[8];
    /* lockups: the non-duration badge and the live one, own channel only */
    s_parse_fixture(page, "streams_lockup.json");
    size_t n = scan_page_candidates(page, "UCstreams000000000000001", ids, 8);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(ids[0], "LKUPCOMING1");
    ck_assert_str_eq(ids[1], "LKLIVENOW01");
    ck_assert_str_eq(ids[2], "LKOWNUPCOM2");
    /* cap respected */
    ck_assert_uint_eq(
        scan_page_candidates(page, "UCstreams000000000000001", ids, 2), 2);
    /* the page of another channel offers nothing */
    ck_assert_uint_eq(
        scan_page_candidates(page, "UCother00000000000000001", ids, 8), 0);
    /* videoRenderer form */
    s_parse_fixture(page, "streams_video.json");
    n = scan_page_candidates(page, tw_ytpage_info(page)->channel_id, ids, 8);
    ck_assert_uint_eq(n, tw_ytpage_stream_count(page));
    ck_assert_uint_ge(n, 1);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(ids[i], tw_ytpage_stream(page, i)->video_id);
    tw_ytpage_destroy(&page);
}
END_TEST

START_TEST(test_candidates_live_page)
{
    tw_ytpage_t *page = tw_ytpage_new();
    ck_assert_ptr_nonnull(page);
    const char *ids[8];
    /* a /live page that is the watch page of the live stream */
    s_parse_fixture(page, "player_live.json");
    ck_assert_uint_eq(
        scan_page_candidates(page, "UClive00000000000000000", ids, 8), 1);
    ck_assert_str_eq(ids[0], "LIVEVIDEO01");
    ck_assert_uint_eq(
        scan_page_candidates(page, "UCother00000000000000001", ids, 8), 0);
    ck_assert_uint_eq(
        scan_page_candidates(page, "UClive00000000000000000", ids, 0), 0);
    /* members-only 2026: a candidate whose page says members_only */
    s_parse_fixture(page, "player_members_unplayable.json");
    ck_assert_uint_eq(
        scan_page_candidates(page, "UCmem000000000000000002", ids, 8), 1);
    ck_assert_str_eq(ids[0], "MEMBERS2026");
    const char *why = NULL;
    ck_assert_int_eq(scan_page_state(tw_ytpage_info(page), &why),
                     TW_STREAM_STATE_MEMBERS_ONLY);
    tw_ytpage_destroy(&page);
}
END_TEST

Suite *scan_source_suite(void)
{
    Suite *s = suite_create("scan_source");
    TCase *tc = tcase_create("fsm");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_two_failures_switch);
    tcase_add_test(tc, test_failures_not_in_a_row);
    tcase_add_test(tc, test_recovery_switches_back);
    tcase_add_test(tc, test_fallback_chain);
    tcase_add_test(tc, test_fallback_rounds);
    suite_add_tcase(s, tc);
    tc = tcase_create("quota");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_playlist_pacing);
    tcase_add_test(tc, test_playlist_quota);
    tcase_add_test(tc, test_playlist_interval);
    suite_add_tcase(s, tc);
    tc = tcase_create("requests");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_page_urls);
    tcase_add_test(tc, test_page_headers);
    tcase_add_test(tc, test_page_state);
    tcase_add_test(tc, test_candidates_streams);
    tcase_add_test(tc, test_candidates_live_page);
    suite_add_tcase(s, tc);
    return s;
}
