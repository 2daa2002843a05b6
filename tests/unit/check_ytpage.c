/* Unit tests of tw_ytpage: watch pages, player responses, updated_metadata,
 * chat continuation tokens and their choice, members-only, /streams entries
 * and exact counts. */
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

/* Real tokens: the 2026 full Top-chat token of a watch page, the relative
 * menu tokens of 2025+, a 2021 live, a 2021 replay and a 2019 live token
 * (video only); tok24 of test_bad_html is a 2024 one. */
static const char s_full26[] =
    "0ofMyAOAARpeQ2lrcUp3b1lWVU5CYjNrMmNucG9VMlkwZVdSaldXcEtkek5YYjFabkVndG"
    "pNbXhpTjNSaU1WTkZRUm9UNnFqZHVRRU5DZ3RqTW14aU4zUmlNVk5GUVNBQk1BQSUzRDAB"
    "ggEICAQYAiAAKACIAQGgAc-kruvH4JIDqAEAsgEA";
static const char s_rel_live[] = "0ofMyAMSGgAwAYIBCAgBGAAgACgBqAEB";
static const char s_rel_top[] = "0ofMyAMSGgAwAYIBCAgEGAAgACgBqAEB";
static const char s_live21[] =
    "0ofMyANhGlhDaWtxSndvWVZVTk1YM0ZvWjNSUGVUQmtlVEZCWjNBNGRtdDVVMUZuRWd0bk"
    "9VdFVWemxyVjBkR2J4b1Q2cWpkdVFFTkNndG5PVXRVVnpsclYwZEdieUFCMAGCAQIIAQ%3D"
    "%3D";
static const char s_replay21[] =
    "op2w0wRgGlhDaWtxSndvWVZVTjRhMDlNWjJST2RXMTJWa2xSY1c0MWNITmZZa3BCRWd0a1"
    "kyaHhaRVpQVnpoRlNSb1Q2cWpkdVFFTkNndGtZMmh4WkVaUFZ6aEZTU0FCQAFyAggE";
static const char s_live19[] =
    "0ofMyAPiARp8Q2c4S0RRb0xPREJQZW5SS2FIVTNOemdhUTZxNXdiMEJQUW83YUhSMGNITT"
    "ZMeTkzZDNjdWVXOTFkSFZpWlM1amIyMHZiR2wyWlY5amFHRjBQM1k5T0RCUGVuUkthSFUz"
    "TnpnbWFYTmZjRzl3YjNWMFBURWdBZyUzRCUzRCid_ejQpPvkAjAAOABAAUorCAAQABgAIA"
    "AqDnN0YXRpY2NoZWNrc3VtOgBAAEoCCAFQwJKPoqT75AJYA1DF-ovRpPvkAliL_fvZoPvk"
    "AmgBggEECAEQAIgBAKABtNic0aT75AI%3D";

/* Decodes a copy of exactly len bytes (no NUL after it: a read past len
 * shows under the sanitizers). */
static tw_rc_t s_decode(const char *tok, size_t len, tw_ytpage_token_t *t)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, tok, len);
    tw_rc_t rc = tw_ytpage_token_decode(copy, len, t);
    free(copy);
    return rc;
}

START_TEST(test_token_decode)
{
    static const struct {
        const char *token;   /* the token */
        int type;            /* its chat type */
        const char *video;   /* the video it names */
        const char *channel; /* the channel it names */
    } cases[] = {
        {s_full26, 4, "c2lb7tb1SEA", "UCAoy6rzhSf4ydcYjJw3WoVg"},
        {s_rel_live, 1, "", ""},
        {s_rel_top, 4, "", ""},
        {s_live21, 1, "g9KTW9kWGFo", "UCL_qhgtOy0dy1Agp8vkySQg"},
        {s_replay21, 4, "dchqdFOW8EI", "UCxkOLgdNumvVIQqn5ps_bJA"},
        {s_live19, 1, "80OztJhu778", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_ytpage_token_t t;
        size_t n = strlen(cases[i].token);
        ck_assert_int_eq(s_decode(cases[i].token, n, &t), TW_OK);
        ck_assert_int_eq(t.chat_type, cases[i].type);
        ck_assert_str_eq(t.video_id, cases[i].video);
        ck_assert_str_eq(t.channel_id, cases[i].channel);
        ck_assert_int_eq(tw_ytpage_chat_type(cases[i].token, n), cases[i].type);
    }
    /* Padding written as '=', as %3D, or left out. */
    static const char *const pads[] = {
        "0ofMyAMHGgCCAQIIAQ==", "0ofMyAMHGgCCAQIIAQ%3D%3D",
        "0ofMyAMHGgCCAQIIAQ"};
    for (size_t i = 0; i < 3; i++) {
        tw_ytpage_token_t t;
        ck_assert_int_eq(s_decode(pads[i], strlen(pads[i]), &t), TW_OK);
        ck_assert_int_eq(t.chat_type, 1);
    }
}
END_TEST

START_TEST(test_token_hostile)
{
    static const char *const bad[] = {
        "",
        "%%%",
        "%3",
        "test-continuation:01",
        "___continuation___",
        "___reload_continuation___",
        "0ofMyAP_____DwA=",                 /* length beyond the end */
        "0ofMyAMLCP____________8B",         /* 11-byte varint */
        "0ofMyAMCCww=",                     /* group wire type */
        "0ofMyAMA0ofMyAMA",                 /* two top-level fields */
        "0ofMyAMSGgtub3QgYmFzZTY0IYIBAggB", /* field 3 is not base64 */
        "0ofMyAMHGgCCAQIIAQ==x",            /* data after padding */
        "0ofMyAMHGgCCAQIIAQ===",            /* too much padding */
        "A",                                /* dangling 6 bits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tw_ytpage_token_t t;
        ck_assert_msg(s_decode(bad[i], strlen(bad[i]), &t) == TW_ERR_PARSE,
                      "%s", bad[i]);
        ck_assert_int_eq(t.chat_type, 0);
        ck_assert_str_eq(t.video_id, "");
    }
    /* Every truncation of a real token is refused. */
    size_t full = strlen(s_full26);
    for (size_t n = 0; n < full; n++) {
        tw_ytpage_token_t t;
        ck_assert_msg(s_decode(s_full26, n, &t) == TW_ERR_PARSE, "%zu", n);
    }
    /* Well-formed, but the video field holds no video id; an unknown chat
     * type reads as 0. */
    static const char badvid[] =
        "0ofMyANHGkBDaWtxSndvWVZVTjNZWFJqYURBd01EQXdNREF3TURBd01EQXdNREF4RWd0"
        "aVlXUWlkbWxrWlc4aElRJTNEJTNEggECCAE=";
    tw_ytpage_token_t t;
    ck_assert_int_eq(s_decode(badvid, strlen(badvid), &t), TW_OK);
    ck_assert_str_eq(t.video_id, "");
    ck_assert_str_eq(t.channel_id, "UCwatch00000000000000001");
    ck_assert_int_eq(t.chat_type, 1);
    ck_assert_int_eq(s_decode("0ofMyAMHGgCCAQIIBw==", 20, &t), TW_OK);
    ck_assert_int_eq(t.chat_type, 0);
    /* Longer than any token. */
    size_t big = 70000;
    char *huge = malloc(big);
    ck_assert_ptr_nonnull(huge);
    memset(huge, 'A', big);
    ck_assert_int_eq(tw_ytpage_token_decode(huge, big, &t), TW_ERR_PARSE);
    free(huge);
}
END_TEST

START_TEST(test_chat_choice_2026)
{
    /* Watch page: relative menu tokens; the full Top-chat token of
     * liveChatRenderer.continuations[0] is chosen. */
    const tw_ytpage_info_t *in =
        s_load("tests/fixtures/youtube/watch_2026.html", true);
    ck_assert_int_eq(in->kind, TW_YTPAGE_KIND_WATCH);
    ck_assert_int_eq(in->chat_type, 4);
    ck_assert_str_eq(in->chat_video_id, "WATCH202601");
    ck_assert_str_eq(in->top_chat_continuation, in->chat_continuation);
    ck_assert_uint_gt(strlen(in->chat_continuation), 100);
    ck_assert_int_ne(strcmp(in->chat_continuation, s_rel_live), 0);
    /* A later header of another video is ignored; one of this video with
     * an all-messages token replaces the Top-chat token. */
    static const char other[] =
        "{\"continuationContents\":{\"liveChatContinuation\":{\"header\":{"
        "\"liveChatHeaderRenderer\":{\"viewSelector\":{"
        "\"sortFilterSubMenuRenderer\":{\"subMenuItems\":[{\"title\":\"x\","
        "\"continuation\":{\"reloadContinuationData\":{\"continuation\":"
        "\"0ofMyANqGlhDaWtxSndvWVZVTjNZWFJqYURBd01EQXdNREF3TURBd01EQXdNREF4RW"
        "d0UFZFaEZVbFpKUkVWUE1Sb1Q2cWpkdVFFTkNndFBWRWhGVWxaSlJFVlBNU0FCMAGCAQ"
        "gIARgCIAAoAIgBAQ==\"}}}]}}}}}}}";
    static const char same[] =
        "{\"continuationContents\":{\"liveChatContinuation\":{\"header\":{"
        "\"liveChatHeaderRenderer\":{\"viewSelector\":{"
        "\"sortFilterSubMenuRenderer\":{\"subMenuItems\":[{\"title\":\"x\","
        "\"continuation\":{\"reloadContinuationData\":{\"continuation\":"
        "\"0ofMyANqGlhDaWtxSndvWVZVTjNZWFJqYURBd01EQXdNREF3TURBd01EQXdNREF4RW"
        "d0WFFWUkRTREl3TWpZd01Sb1Q2cWpkdVFFTkNndFhRVlJEU0RJd01qWXdNU0FCMAGCAQ"
        "gIARgCIAAoAIgBAQ==\"}}}]}}}}}}}";
    tw_err_t err = {0};
    ck_assert_int_eq(tw_ytpage_parse_json(s_page, other, strlen(other), &err),
                     TW_OK);
    ck_assert_int_eq(in->chat_type, 4);
    ck_assert_int_eq(tw_ytpage_parse_json(s_page, same, strlen(same), &err),
                     TW_OK);
    ck_assert_int_eq(in->chat_type, 1);
    ck_assert_str_eq(in->chat_video_id, "WATCH202601");
    ck_assert_ptr_nonnull(strstr(same, in->chat_continuation));

    /* /live_chat page: Live listed first, localized titles. */
    in = s_load("tests/fixtures/youtube/live_chat_2026.html", true);
    ck_assert_int_eq(in->kind, TW_YTPAGE_KIND_LIVE_CHAT);
    ck_assert_int_eq(in->chat_type, 1);
    ck_assert_str_eq(in->chat_video_id, "LCVIDEO0001");
    ck_assert_int_eq(tw_ytpage_chat_type(in->top_chat_continuation,
                                         strlen(in->top_chat_continuation)),
                     4);
    /* First get_live_chat answer: Top listed first. */
    in = s_load("tests/fixtures/youtube/get_live_chat_2026.json", true);
    ck_assert_int_eq(in->chat_type, 1);
    ck_assert_str_eq(in->chat_video_id, "GLCVIDEO002");
    ck_assert_int_eq(tw_ytpage_chat_type(in->chat_continuation,
                                         strlen(in->chat_continuation)),
                     1);

    /* Only relative tokens: no chat token at all. */
    static const char rel[] =
        "{\"videoDetails\":{\"videoId\":\"RELATIVE001\",\"isLive\":true},"
        "\"liveChatRenderer\":{\"continuations\":[{\"reloadContinuationData\":"
        "{\"continuation\":\"0ofMyAMSGgAwAYIBCAgEGAAgACgBqAEB\"}}],"
        "\"header\":{\"sortFilterSubMenuRenderer\":{\"subMenuItems\":["
        "{\"continuation\":{\"reloadContinuationData\":{\"continuation\":"
        "\"0ofMyAMSGgAwAYIBCAgBGAAgACgBqAEB\"}}}]}}}}";
    tw_ytpage_reset(s_page);
    ck_assert_int_eq(tw_ytpage_parse_json(s_page, rel, strlen(rel), &err),
                     TW_OK);
    in = tw_ytpage_info(s_page);
    ck_assert_str_eq(in->chat_continuation, "");
    ck_assert_str_eq(in->top_chat_continuation, "");
    ck_assert_int_eq(in->chat_type, 0);
    ck_assert_str_eq(in->chat_video_id, "");
}
END_TEST

START_TEST(test_members_only)
{
    const tw_ytpage_info_t *in =
        s_load("tests/fixtures/youtube/player_members_unplayable.json", true);
    ck_assert_int_eq(in->play, TW_YTPAGE_PLAY_UNPLAYABLE);
    ck_assert(in->members_only);
    ck_assert_int_eq(in->state, TW_YTPAGE_STATE_LIVE);
    in = s_load("tests/fixtures/youtube/player_members_only.json", true);
    ck_assert_int_eq(in->play, TW_YTPAGE_PLAY_LOGIN_REQUIRED);
    ck_assert(in->members_only);
    in = s_load("tests/fixtures/youtube/player_unplayable.json", true);
    ck_assert(!in->members_only);
    in = s_load("tests/fixtures/youtube/player_private.json", true);
    ck_assert(!in->members_only);
    in = s_load("tests/fixtures/youtube/player_live.json", true);
    ck_assert(!in->members_only);
    const char *dir = tw_test_shared_dir();
    if (!dir)
        return;
    char path[1024];
    snprintf(path, sizeof path,
             "%s/fixtures/youtube-2026/pages/"
             "AkiRosenthal.memberlive.qS50yDHZOx4.2026-02-17.html",
             dir);
    in = s_load(path, true);
    ck_assert(in->members_only);
    ck_assert_str_eq(in->video_id, "qS50yDHZOx4");
    ck_assert_str_eq(in->chat_continuation, "");
}
END_TEST

START_TEST(test_streams_lockup)
{
    const tw_ytpage_info_t *in =
        s_load("tests/fixtures/youtube/streams_lockup.json", true);
    ck_assert_int_eq(in->kind, TW_YTPAGE_KIND_STREAMS);
    ck_assert_str_eq(in->channel_id, "UCstreams000000000000001");
    /* Skipped: past videos (durations), another channel's lockup, a shelf,
     * an empty badge and a tab that is not selected. */
    ck_assert_uint_eq(tw_ytpage_stream_count(s_page), 3);
    const tw_ytpage_stream_t *s = tw_ytpage_stream(s_page, 0);
    ck_assert_str_eq(s->video_id, "LKUPCOMING1");
    ck_assert(!s->live);
    ck_assert(!s->confirmed_state);
    ck_assert(s->start_usec == 0);
    s = tw_ytpage_stream(s_page, 1);
    ck_assert_str_eq(s->video_id, "LKLIVENOW01");
    ck_assert(s->live);
    ck_assert(s->confirmed_state);
    s = tw_ytpage_stream(s_page, 2);
    ck_assert_str_eq(s->video_id, "LKOWNUPCOM2");
    ck_assert(!s->live);
}
END_TEST

START_TEST(test_streams_video)
{
    s_load("tests/fixtures/youtube/streams_video.json", true);
    static const struct {
        const char *id; /* video */
        bool live;      /* live now */
        int64_t start;  /* scheduled start */
    } want[] = {
        {"VRUPCOMING1", false, 1893456000000000LL},
        {"VRLIVENOW01", true, 0},
        {"VRLIVEBADGE", true, 0},
        {"VRPREMIERE1", false, 1893463200000000LL},
        {"VRCONTINUE1", true, 0},
    };
    ck_assert_uint_eq(tw_ytpage_stream_count(s_page), 5);
    for (size_t i = 0; i < 5; i++) {
        const tw_ytpage_stream_t *s = tw_ytpage_stream(s_page, i);
        ck_assert_str_eq(s->video_id, want[i].id);
        ck_assert(s->live == want[i].live);
        ck_assert(s->start_usec == want[i].start);
        ck_assert(s->confirmed_state);
    }
    /* The older list still has every upcoming videoRenderer with a start,
     * wherever it is. */
    ck_assert_uint_eq(tw_ytpage_upcoming_count(s_page), 3);
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
    tcase_add_test(tc, test_token_decode);
    tcase_add_test(tc, test_token_hostile);
    tcase_add_test(tc, test_chat_choice_2026);
    tcase_add_test(tc, test_members_only);
    tcase_add_test(tc, test_streams_lockup);
    tcase_add_test(tc, test_streams_video);
    suite_add_tcase(s, tc);
    return s;
}
