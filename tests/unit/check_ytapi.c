/* Unit tests of tw_ytapi on the shared Data API captures and small
 * hand-written bodies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_ytapi.h"

static tw_ytapi_t *s_api;
static char *s_buf;
static size_t s_len;

static void s_setup(void)
{
    s_api = tw_ytapi_new();
    ck_assert_ptr_nonnull(s_api);
    s_buf = NULL;
}

static void s_teardown(void)
{
    tw_ytapi_destroy(&s_api);
    tw_ytapi_destroy(&s_api);
    free(s_buf);
}

/* Loads a shared youtube-data-api file into s_buf; false when absent. */
static bool s_shared(const char *name)
{
    const char *dir = tw_test_shared_dir();
    if (!dir)
        return false;
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/youtube-data-api/%s", dir, name);
    free(s_buf);
    s_buf = tw_test_slurp(path, &s_len);
    ck_assert_msg(s_buf != NULL, "cannot read %s", path);
    return true;
}

START_TEST(test_videos_live)
{
    if (!s_shared("videos.list-live-concurrentViewers-activeLiveChatId.json"))
        return;
    ck_assert_int_eq(tw_ytapi_parse_videos(s_api, s_buf, s_len, NULL), TW_OK);
    ck_assert_uint_eq(tw_ytapi_video_count(s_api), 1);
    const tw_ytapi_video_t *v = tw_ytapi_video(s_api, 0);
    ck_assert_str_eq(v->id, "c7_kqMFDE8c");
    ck_assert_int_eq(v->state, TW_YTAPI_STATE_LIVE);
    ck_assert(v->has_live_details);
    ck_assert(v->actual_start_usec == 1704931568000000LL);
    ck_assert(v->scheduled_start_usec == 1704931500000000LL);
    ck_assert(v->actual_end_usec == 0);
    ck_assert(v->concurrent.present && v->concurrent.value == 1888);
    ck_assert_str_eq(v->active_live_chat_id,
                     "Cg0KC2M3X2txTUZERThjKicKGFVDVVZXb3lfckdQZFplVXA3ampSSE9h"
                     "URILYzdfa3FNRkRFOGM");
    ck_assert(!v->views.present);
    ck_assert(!v->likes.present);
    ck_assert_str_eq(tw_ytapi_next_page_token(s_api), "");
}
END_TEST

START_TEST(test_videos_statistics)
{
    if (!s_shared("videos.list-statistics.json"))
        return;
    ck_assert_int_eq(tw_ytapi_parse_videos(s_api, s_buf, s_len, NULL), TW_OK);
    const tw_ytapi_video_t *v = tw_ytapi_video(s_api, 0);
    ck_assert_str_eq(v->id, "D-lhorsDlUQ");
    ck_assert_str_eq(v->title, "What are Actions on Google (Assistant on Air)");
    ck_assert_str_eq(v->channel_id, "UC_x5XG1OV2P6uZZ5FSM9Ttw");
    ck_assert_str_eq(v->broadcast_content, "none");
    ck_assert_int_eq(v->state, TW_YTAPI_STATE_NONE);
    ck_assert(!v->has_live_details);
    ck_assert(v->views.present && v->views.value == 7920);
    ck_assert(v->likes.present && v->likes.value == 190);
    ck_assert(v->comments.present && v->comments.value == 32);
    ck_assert(v->favorites.present && v->favorites.value == 0);
    ck_assert(!v->concurrent.present);
}
END_TEST

START_TEST(test_videos_states)
{
    const char *body =
        "{\"items\":[{\"id\":\"U\",\"snippet\":{\"liveBroadcastContent\":"
        "\"upcoming\"},\"liveStreamingDetails\":{\"scheduledStartTime\":"
        "\"2030-01-01T00:00:00Z\"}},{\"id\":\"E\",\"snippet\":{"
        "\"liveBroadcastContent\":\"none\"},\"liveStreamingDetails\":{"
        "\"actualStartTime\":\"2024-01-01T00:00:00Z\",\"actualEndTime\":"
        "\"2024-01-01T01:00:00Z\"},\"statistics\":{\"viewCount\":\"5\","
        "\"likeCount\":\"x\"}},\"junk\"]}";
    ck_assert_int_eq(tw_ytapi_parse_videos(s_api, body, strlen(body), NULL),
                     TW_OK);
    ck_assert_uint_eq(tw_ytapi_video_count(s_api), 2);
    const tw_ytapi_video_t *v = tw_ytapi_video(s_api, 0);
    ck_assert_int_eq(v->state, TW_YTAPI_STATE_UPCOMING);
    ck_assert(v->scheduled_start_usec == 1893456000000000LL);
    v = tw_ytapi_video(s_api, 1);
    ck_assert_int_eq(v->state, TW_YTAPI_STATE_ENDED);
    ck_assert(v->actual_end_usec == 1704070800000000LL);
    ck_assert(v->views.present && v->views.value == 5);
    ck_assert(!v->likes.present); /* malformed counts are absent, not 0 */
    ck_assert_str_eq(tw_ytapi_state_str(v->state), "ended");
}
END_TEST

START_TEST(test_channels_and_playlists)
{
    if (!s_shared("channels.list-contentDetails-uploads.json"))
        return;
    ck_assert_int_eq(tw_ytapi_parse_channels(s_api, s_buf, s_len, NULL), TW_OK);
    ck_assert_uint_eq(tw_ytapi_channel_count(s_api), 2);
    const tw_ytapi_channel_t *c = tw_ytapi_channel(s_api, 1);
    ck_assert_str_eq(c->id, "UC_x5XG1OV2P6uZZ5FSM9Ttw");
    ck_assert_str_eq(c->uploads, "UU_x5XG1OV2P6uZZ5FSM9Ttw");
    ck_assert_str_eq(c->title, "Google Developers");

    s_shared("playlistItems.list-page1-nextPageToken.json");
    ck_assert_int_eq(tw_ytapi_parse_entries(s_api, s_buf, s_len, NULL), TW_OK);
    ck_assert_str_eq(tw_ytapi_next_page_token(s_api), "CAoQAA");
    ck_assert_uint_eq(tw_ytapi_entry_count(s_api), 10);
    const tw_ytapi_entry_t *e = tw_ytapi_entry(s_api, 0);
    ck_assert_str_ne(e->video_id, "");
    ck_assert_str_eq(e->channel_id, "UC_x5XG1OV2P6uZZ5FSM9Ttw");
    ck_assert(e->published_usec > 1500000000000000LL);

    s_shared("playlistItems.list-page2-last.json");
    ck_assert_int_eq(tw_ytapi_parse_entries(s_api, s_buf, s_len, NULL), TW_OK);
    ck_assert_str_eq(tw_ytapi_next_page_token(s_api), "");
    ck_assert_uint_eq(tw_ytapi_entry_count(s_api), 3);

    s_shared("search.list-eventType-live.json");
    ck_assert_int_eq(tw_ytapi_parse_entries(s_api, s_buf, s_len, NULL), TW_OK);
    e = tw_ytapi_entry(s_api, 0);
    ck_assert_str_eq(e->video_id, "qgylp3Td1Bw");
    ck_assert_str_eq(e->broadcast_content, "live");
    ck_assert_str_eq(tw_ytapi_next_page_token(s_api), "CBkQAA");

    const char *handle = "{\"kind\":\"youtube#channelListResponse\","
                         "\"items\":[{\"id\":\"UCh\"}]}";
    ck_assert_int_eq(
        tw_ytapi_parse_channels(s_api, handle, strlen(handle), NULL), TW_OK);
    ck_assert_str_eq(tw_ytapi_channel(s_api, 0)->id, "UCh");
    ck_assert_str_eq(tw_ytapi_channel(s_api, 0)->uploads, "");

    /* The uploads playlist id goes into URLs and STATE/stats/uploads.tsv:
     * anything but an id is dropped. */
    const char *hostile =
        "{\"items\":[{\"id\":\"UCa\",\"contentDetails\":{"
        "\"relatedPlaylists\":{\"uploads\":\"UUa&key=x\\tb\\nc\"}}},"
        "{\"id\":\"UCb\",\"contentDetails\":{\"relatedPlaylists\":{"
        "\"uploads\":\"UU_ok-1\"}}}]}";
    ck_assert_int_eq(
        tw_ytapi_parse_channels(s_api, hostile, strlen(hostile), NULL), TW_OK);
    ck_assert_str_eq(tw_ytapi_channel(s_api, 0)->uploads, "");
    ck_assert_str_eq(tw_ytapi_channel(s_api, 1)->uploads, "UU_ok-1");
}
END_TEST

START_TEST(test_errors_shared)
{
    if (!s_shared("error-403-quotaExceeded.json"))
        return;
    tw_err_t err = {0};
    ck_assert_int_eq(tw_ytapi_parse_videos(s_api, s_buf, s_len, &err),
                     TW_ERR_QUOTA);
    const tw_ytapi_error_t *e = tw_ytapi_error(s_api);
    ck_assert_int_eq(e->reason, TW_YTAPI_REASON_QUOTA_EXCEEDED);
    ck_assert_int_eq(e->code, 403);
    ck_assert_str_eq(e->domain, "youtube.quota");
    ck_assert_ptr_nonnull(strstr(err.msg, "quotaExceeded"));

    s_shared("error-400-keyInvalid.json");
    ck_assert_int_eq(tw_ytapi_parse_error(s_api, s_buf, s_len, NULL), TW_OK);
    ck_assert_int_eq(tw_ytapi_error(s_api)->reason,
                     TW_YTAPI_REASON_KEY_INVALID);
    ck_assert_int_eq(tw_ytapi_error(s_api)->code, 400);

    s_shared("error-403-permission-denied.json");
    ck_assert_int_eq(tw_ytapi_parse_error(s_api, s_buf, s_len, NULL), TW_OK);
    ck_assert_int_eq(tw_ytapi_error(s_api)->reason, TW_YTAPI_REASON_OTHER);
    ck_assert_str_eq(tw_ytapi_error(s_api)->status, "PERMISSION_DENIED");

    s_shared("videos.list-statistics.json");
    ck_assert_int_eq(tw_ytapi_parse_error(s_api, s_buf, s_len, NULL),
                     TW_ERR_NOTFOUND);
}
END_TEST

START_TEST(test_error_reasons)
{
    static const struct {
        const char *reason;  /* errors[0].reason */
        tw_ytapi_reason_t r; /* class */
        tw_rc_t rc;          /* rc of a parse */
    } cases[] = {
        {"liveChatEnded", TW_YTAPI_REASON_CHAT_ENDED, TW_ERR_CLOSED},
        {"liveChatNotFound", TW_YTAPI_REASON_CHAT_NOT_FOUND, TW_ERR_NOTFOUND},
        {"liveChatDisabled", TW_YTAPI_REASON_CHAT_DISABLED, TW_ERR_STATE},
        {"rateLimitExceeded", TW_YTAPI_REASON_RATE_LIMIT, TW_ERR_AGAIN},
        {"forbidden", TW_YTAPI_REASON_FORBIDDEN, TW_ERR_AUTH},
        {"backendError", TW_YTAPI_REASON_BACKEND_ERROR, TW_ERR_AGAIN},
        {"videoNotFound", TW_YTAPI_REASON_OTHER, TW_ERR_HTTP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"error\":{\"code\":403,\"message\":\"m\",\"errors\":[{"
                 "\"domain\":\"youtube.liveChat\",\"reason\":\"%s\"}]}}",
                 cases[i].reason);
        ck_assert_int_eq(
            tw_ytapi_parse_entries(s_api, body, strlen(body), NULL),
            cases[i].rc);
        ck_assert_int_eq(tw_ytapi_error(s_api)->reason, cases[i].r);
        ck_assert_str_eq(tw_ytapi_error(s_api)->reason_text, cases[i].reason);
    }
    const char *b5 = "{\"error\":{\"code\":503,\"message\":\"x\"}}";
    ck_assert_int_eq(tw_ytapi_parse_error(s_api, b5, strlen(b5), NULL), TW_OK);
    ck_assert_int_eq(tw_ytapi_error(s_api)->reason,
                     TW_YTAPI_REASON_BACKEND_ERROR);
    ck_assert_str_eq(tw_ytapi_reason_str(TW_YTAPI_REASON_QUOTA_EXCEEDED),
                     "quotaExceeded");
    ck_assert_int_eq(tw_ytapi_parse_videos(s_api, "[1]", 3, NULL),
                     TW_ERR_PROTO);
    ck_assert_int_eq(tw_ytapi_parse_videos(s_api, "{", 1, NULL), TW_ERR_PARSE);
}
END_TEST

START_TEST(test_chat_messages)
{
    if (!s_shared("liveChatMessages.list-items-only-tubeview.json"))
        return;
    tw_ytchat_t *chat = tw_ytchat_new();
    ck_assert_int_eq(tw_ytapi_parse_chat(s_api, chat, s_buf, s_len, NULL),
                     TW_OK);
    ck_assert(tw_ytchat_is_api(chat));
    ck_assert_uint_eq(tw_ytchat_count(chat), 74);
    const tw_ytchat_item_t *it = tw_ytchat_item(chat, 0);
    ck_assert_int_eq(it->kind, TW_YTCHAT_TEXT);
    ck_assert_str_eq(it->message, "kitni hai");
    ck_assert_str_eq(it->author_name, "Mr Perfect");
    ck_assert(it->timestamp_usec == 1685045288479833LL);
    const char *ended = "{\"error\":{\"code\":403,\"errors\":[{\"reason\":"
                        "\"liveChatEnded\"}]}}";
    ck_assert_int_eq(
        tw_ytapi_parse_chat(s_api, chat, ended, strlen(ended), NULL),
        TW_ERR_CLOSED);
    tw_ytchat_destroy(&chat);
}
END_TEST

Suite *ytapi_suite(void)
{
    Suite *s = suite_create("ytapi");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_videos_live);
    tcase_add_test(tc, test_videos_statistics);
    tcase_add_test(tc, test_videos_states);
    tcase_add_test(tc, test_channels_and_playlists);
    tcase_add_test(tc, test_errors_shared);
    tcase_add_test(tc, test_error_reasons);
    tcase_add_test(tc, test_chat_messages);
    suite_add_tcase(s, tc);
    return s;
}
