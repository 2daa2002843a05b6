/* Unit tests of tw_ytpage: watch pages, player responses, updated_metadata,
 * chat continuation choice and exact counts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_ytpage.h"

static tw_ytpage_t *s_page;

static void s_setup(void)
{
    s_page = tw_ytpage_new();
    ck_assert_ptr_nonnull(s_page);
}

static void s_teardown(void)
{
    tw_ytpage_destroy(&s_page);
    tw_ytpage_destroy(&s_page);
}

/* Parses a file (HTML when it ends in .html); NULL if shared and absent. */
static const tw_ytpage_info_t *s_load(const char *path, bool reset)
{
    size_t len;
    char *buf = tw_test_slurp(path, &len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    tw_err_t err = {0};
    tw_rc_t rc;
    if (strstr(path, ".html")) {
        rc = tw_ytpage_parse_html(s_page, buf, len, &err);
    } else {
        if (reset)
            tw_ytpage_reset(s_page);
        rc = tw_ytpage_parse_json(s_page, buf, len, &err);
    }
    ck_assert_msg(rc == TW_OK, "%s: %s", path, err.msg);
    free(buf);
    return tw_ytpage_info(s_page);
}

static const tw_ytpage_info_t *s_shared(const char *rel)
{
    const char *dir = tw_test_shared_dir();
    if (!dir)
        return NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/innertube/%s", dir, rel);
    return s_load(path, true);
}

START_TEST(test_upcoming_page)
{
    const tw_ytpage_info_t *in =
        s_shared("pages/masterchat_watch_upcoming.html");
    if (!in)
        return;
    ck_assert_int_eq(in->state, TW_YTPAGE_STATE_UPCOMING);
    ck_assert_int_eq(in->play, TW_YTPAGE_PLAY_OFFLINE);
    ck_assert_str_eq(in->video_id, "g9KTW9kWGFo");
    ck_assert_str_eq(in->channel_id, "UCL_qhgtOy0dy1Agp8vkySQg");
    ck_assert(in->scheduled_start_usec == 1625666400000000LL);
    ck_assert(in->viewers == 111);
    ck_assert(in->likes == 153);
    ck_assert(in->poll_delay_ms == 15000);
    ck_assert_int_eq(tw_ytpage_chat_type(in->chat_continuation,
                                         strlen(in->chat_continuation)),
                     1);
    ck_assert_int_eq(tw_ytpage_chat_type(in->top_chat_continuation,
                                         strlen(in->top_chat_continuation)),
                     4);
    ck_assert_ptr_nonnull(strstr(in->chat_continuation, "IIAQ%3D%3D"));
    ck_assert(!in->chat_is_replay);
}
END_TEST

START_TEST(test_replay_page)
{
    const tw_ytpage_info_t *in =
        s_shared("pages/youtubechat_watch_replay.html");
    if (!in)
        return;
    ck_assert_int_eq(in->state, TW_YTPAGE_STATE_ENDED);
    ck_assert_int_eq(in->play, TW_YTPAGE_PLAY_OK);
    ck_assert_str_eq(in->video_id, "dchqdFOW8EI");
    ck_assert_str_eq(in->channel_id, "UCxkOLgdNumvVIQqn5ps_bJA");
    ck_assert(in->start_usec == 1637645024000000LL);
    ck_assert(in->end_usec == 1637661570000000LL);
    ck_assert(in->chat_is_replay);
    ck_assert(in->viewers == -1);
    ck_assert(in->views == 81);
    ck_assert(in->likes == 5);
    ck_assert_ptr_nonnull(strstr(in->chat_continuation, "AggB"));
}
END_TEST

START_TEST(test_live_chat_headers)
{
    /* The user had switched to "チャット": selected is not a hint. */
    const tw_ytpage_info_t *in =
        s_shared("live/pytchat_membership_reload.json");
    if (!in)
        return;
    ck_assert_int_eq(tw_ytpage_chat_type(in->chat_continuation,
                                         strlen(in->chat_continuation)),
                     1);
    in = s_shared("live/chatdl_initial_livechat_2020.json");
    ck_assert_int_eq(tw_ytpage_chat_type(in->chat_continuation,
                                         strlen(in->chat_continuation)),
                     1);
    ck_assert_int_eq(tw_ytpage_chat_type(in->top_chat_continuation,
                                         strlen(in->top_chat_continuation)),
                     4);
}
END_TEST

START_TEST(test_players)
{
    const tw_ytpage_info_t *in =
        s_load("tests/fixtures/youtube/player_live.json", true);
    ck_assert_int_eq(in->state, TW_YTPAGE_STATE_LIVE);
    ck_assert_int_eq(in->play, TW_YTPAGE_PLAY_OK);
    ck_assert_str_eq(in->title, "Live \xc3\xa9 now");
    ck_assert(in->views == 98765);
    ck_assert(in->poll_delay_ms == 7500);
    ck_assert(in->start_usec == 1704931568000000LL);

    in = s_load("tests/fixtures/youtube/player_members_only.json", true);
    ck_assert_int_eq(in->play, TW_YTPAGE_PLAY_LOGIN_REQUIRED);
    ck_assert_str_eq(in->play_status, "LOGIN_REQUIRED");
    ck_assert_ptr_nonnull(strstr(in->play_reason, "members-only"));
    ck_assert_int_eq(in->state, TW_YTPAGE_STATE_LIVE);
    ck_assert(in->start_usec == 1706749200000000LL);

    in = s_load("tests/fixtures/youtube/player_private.json", true);
    ck_assert_int_eq(in->play, TW_YTPAGE_PLAY_ERROR);
    ck_assert_str_eq(in->play_reason, "Video unavailable");
    ck_assert_str_eq(in->video_id, "");

    in = s_load("tests/fixtures/youtube/player_unplayable.json", true);
    ck_assert_int_eq(in->play, TW_YTPAGE_PLAY_UNPLAYABLE);
    ck_assert_str_eq(in->play_reason, "Video unavailable in your country");
    ck_assert_int_eq(in->state, TW_YTPAGE_STATE_VOD);
}
END_TEST

START_TEST(test_updated_metadata)
{
    const tw_ytpage_info_t *in =
        s_load("tests/fixtures/youtube/updated_metadata.json", true);
    ck_assert(in->viewers == 12345);
    ck_assert_str_eq(in->viewers_text, "12,345 watching now");
    ck_assert(in->likes == 1024);
    ck_assert_str_eq(in->title, "New title");
    ck_assert_int_eq(in->state, TW_YTPAGE_STATE_LIVE);

    in = s_load("tests/fixtures/youtube/updated_metadata_abbrev.json", true);
    ck_assert(in->viewers == -1);
    ck_assert_str_eq(in->viewers_text, "1.2K watching now");
    ck_assert(in->likes == -1);
}
END_TEST

START_TEST(test_modern_likes)
{
    const tw_ytpage_info_t *in =
        s_load("tests/fixtures/youtube/next_modern_likes.json", true);
    ck_assert(in->likes == 4513); /* likeCountEntity wins */
    ck_assert(in->viewers == 2345);
    in = s_load("tests/fixtures/youtube/next_modern_likes_a11y.json", true);
    ck_assert(in->likes == 4512); /* abbreviated entity: a11y text */
}
END_TEST

START_TEST(test_upcoming_list)
{
    s_load("tests/fixtures/youtube/channel_streams.json", true);
    ck_assert_uint_eq(tw_ytpage_upcoming_count(s_page), 2);
    const tw_ytpage_upcoming_t *u = tw_ytpage_upcoming(s_page, 0);
    ck_assert_str_eq(u->video_id, "UPCOMING001");
    ck_assert(u->start_usec == 1893456000000000LL);
    ck_assert_str_eq(tw_ytpage_upcoming(s_page, 1)->video_id, "UPCOMING002");
}
END_TEST

START_TEST(test_exact_counts)
{
    static const struct {
        const char *text; /* display text */
        bool exact;       /* expected result */
        uint64_t value;   /* expected value */
    } cases[] = {
        {"1,234 watching now", true, 1234},
        {"81 \xe5\x9b\x9e\xe8\xa6\x96\xe8\x81\xb4", true, 81},
        {"111", true, 111},
        {"1.234.567 Zuschauer", true, 1234567},
        {"12\xc2\xa0"
         "345 spectateurs",
         true, 12345},
        {"1.2K watching", false, 0},
        {"1.2K", false, 0},
        {"3K", false, 0},
        {"12 M views", false, 0},
        {"3\xe4\xb8\x87 \xe4\xba\xba", false, 0},
        {"1,2345", false, 0},
        {"watching", false, 0},
        {"", false, 0},
        {"99999999999999999999999", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 0;
        bool ok =
            tw_ytpage_exact_count(cases[i].text, strlen(cases[i].text), &v);
        ck_assert_msg(ok == cases[i].exact, "%s", cases[i].text);
        if (ok)
            ck_assert_msg(v == cases[i].value, "%s -> %llu", cases[i].text,
                          (unsigned long long)v);
    }
}
END_TEST

START_TEST(test_bad_html)
{
    tw_err_t err = {0};
    const char *none = "<html><body>nothing here</body></html>";
    ck_assert_int_eq(tw_ytpage_parse_html(s_page, none, strlen(none), &err),
                     TW_ERR_NOTFOUND);
    const char *cut = "<script>var ytInitialPlayerResponse = {\"a\":[1,2";
    ck_assert_int_eq(tw_ytpage_parse_html(s_page, cut, strlen(cut), &err),
                     TW_ERR_PARSE);
    const char *bad = "<script>var ytInitialData = {\"a\":tru};</script>";
    ck_assert_int_eq(tw_ytpage_parse_html(s_page, bad, strlen(bad), &err),
                     TW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "ytInitialData"));
    const char *win = "x window[\"ytInitialPlayerResponse\"] = "
                      "{\"videoDetails\":{\"videoId\":\"W\",\"isLive\":true,"
                      "\"title\":\"}{\"}};";
    ck_assert_int_eq(tw_ytpage_parse_html(s_page, win, strlen(win), &err),
                     TW_OK);
    ck_assert_str_eq(tw_ytpage_info(s_page)->title, "}{");
    ck_assert_int_eq(tw_ytpage_info(s_page)->state, TW_YTPAGE_STATE_LIVE);
    ck_assert_int_eq(tw_ytpage_chat_type("%%%", 3), 0);
    /* A 2024 live chat token (as logged in xenova/chat-downloader#255):
     * the chat-type field is followed by more fields. */
    static const char tok24[] =
        "0ofMyANuGl5DaWtxSndvWVZVTTJVa28zTFZCaFdHYzJWRWxJTWtKNldtWlVWamQzRW"
        "d0SFNGbFFYMjVIUlZkR2N4b1Q2cWpkdVFFTkNndEhTRmxRWDI1SFJWZEdjeUFCTUFB"
        "JTNEMAGCAQYIARgBIACoAQE%3D";
    ck_assert_int_eq(tw_ytpage_chat_type(tok24, strlen(tok24)), 1);
    ck_assert_int_eq(tw_ytpage_chat_type("", 0), 0);
}
END_TEST

Suite *ytpage_suite(void)
{
    Suite *s = suite_create("ytpage");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_upcoming_page);
    tcase_add_test(tc, test_replay_page);
    tcase_add_test(tc, test_live_chat_headers);
    tcase_add_test(tc, test_players);
    tcase_add_test(tc, test_updated_metadata);
    tcase_add_test(tc, test_modern_likes);
    tcase_add_test(tc, test_upcoming_list);
    tcase_add_test(tc, test_exact_counts);
    tcase_add_test(tc, test_bad_html);
    suite_add_tcase(s, tc);
    return s;
}
