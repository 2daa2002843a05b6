/* Unit tests of the chat worker's pieces: checkpoint file, recently-sent
 * id set, watch page classification. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../workers/chat/chat.h"

static char s_dir[64];

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tw-chat-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void s_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_ckpt_round_trip)
{
    char path[128];
    snprintf(path, sizeof path, "%s/checkpoint", s_dir);
    chat_ckpt_t ck = {0}, back;
    ck_assert_int_eq(chat_ckpt_load(path, &back, NULL), TW_ERR_NOTFOUND);
    snprintf(ck.video_id, sizeof ck.video_id, "abcdefghijk");
    snprintf(ck.channel_id, sizeof ck.channel_id, "UC0123456789abcdefghijkA");
    ck.phase = CHAT_PHASE_REPLAY;
    ck.last_usec = 1700000000123456;
    ck.items = 42;
    ck.deleted = 3;
    ck.replay_items = 7;
    ck_assert_int_eq(chat_ckpt_set_cont(&ck, "0ofMyANY%3D_-x"), TW_OK);
    ck_assert_int_eq(chat_ckpt_save(path, &ck, NULL), TW_OK);
    ck_assert_int_eq(chat_ckpt_load(path, &back, NULL), TW_OK);
    ck_assert_str_eq(back.video_id, ck.video_id);
    ck_assert_str_eq(back.channel_id, ck.channel_id);
    ck_assert_int_eq(back.phase, CHAT_PHASE_REPLAY);
    ck_assert_str_eq(back.continuation, "0ofMyANY%3D_-x");
    ck_assert_int_eq(back.last_usec, ck.last_usec);
    ck_assert_uint_eq(back.items, 42);
    ck_assert_uint_eq(back.deleted, 3);
    ck_assert_uint_eq(back.replay_items, 7);
    ck_assert_int_gt(back.saved_usec, 0);
    chat_ckpt_clear(&back);
    /* no continuation is fine too */
    ck_assert_int_eq(chat_ckpt_set_cont(&ck, NULL), TW_OK);
    ck_assert_int_eq(chat_ckpt_save(path, &ck, NULL), TW_OK);
    ck_assert_int_eq(chat_ckpt_load(path, &back, NULL), TW_OK);
    ck_assert_ptr_null(back.continuation);
    chat_ckpt_clear(&back);
    /* a token that could break the line format is refused */
    ck_assert_int_eq(chat_ckpt_set_cont(&ck, "bad\ntoken"), TW_OK);
    ck_assert_int_eq(chat_ckpt_save(path, &ck, NULL), TW_ERR_INVALID);
    chat_ckpt_clear(&ck);
}
END_TEST

START_TEST(test_ckpt_corrupt)
{
    char path[128];
    snprintf(path, sizeof path, "%s/checkpoint", s_dir);
    const char *bad[] = {
        "",
        "garbage\n",
        "tubewatch-chat-checkpoint 1\nphase live\n", /* no video */
        "tubewatch-chat-checkpoint 1\nvideo ../../etc\n",
        "tubewatch-chat-checkpoint 1\nvideo abcdefghijk\nphase what\n",
        "tubewatch-chat-checkpoint 1\nvideo abcdefghijk\nitems 12x\n",
        "tubewatch-chat-checkpoint 1\nvideo abcdefghijk\nchannel a/b\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(bad[i], f);
        fclose(f);
        chat_ckpt_t ck;
        tw_err_t err = {0};
        ck_assert_msg(chat_ckpt_load(path, &ck, &err) == TW_ERR_PARSE,
                      "case %zu", i);
        ck_assert_ptr_null(ck.continuation);
    }
    /* unknown keys from a newer version are ignored */
    FILE *f = fopen(path, "w");
    fputs("tubewatch-chat-checkpoint 1\nvideo abcdefghijk\nfuture 1\n", f);
    fclose(f);
    chat_ckpt_t ck;
    ck_assert_int_eq(chat_ckpt_load(path, &ck, NULL), TW_OK);
    chat_ckpt_clear(&ck);
}
END_TEST

START_TEST(test_seen_bounded)
{
    chat_seen_t *s = chat_seen_new();
    ck_assert_ptr_nonnull(s);
    ck_assert(chat_seen_add(s, "a"));
    ck_assert(!chat_seen_add(s, "a"));
    ck_assert(chat_seen_has(s, "a"));
    ck_assert(!chat_seen_has(s, "b"));
    char id[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(id, sizeof id, "id%d", i);
        ck_assert(chat_seen_add(s, id));
        /* the last CHAT_SEEN_MIN ids are always remembered */
        if (i >= CHAT_SEEN_MIN) {
            snprintf(id, sizeof id, "id%d", i - CHAT_SEEN_MIN + 1);
            ck_assert(chat_seen_has(s, id));
        }
    }
    ck_assert(!chat_seen_has(s, "id0")); /* bounded: old ids forgotten */
    chat_seen_destroy(&s);
    ck_assert_ptr_null(s);
    chat_seen_destroy(&s);
}
END_TEST

/* An info with every string "" and counts unknown. */
static tw_ytpage_info_t s_info(void)
{
    tw_ytpage_info_t i;
    memset(&i, 0, sizeof i);
    i.play_status = i.play_reason = i.video_id = i.title = "";
    i.channel_id = i.chat_continuation = i.top_chat_continuation = "";
    i.viewers_text = "";
    i.viewers = i.views = i.likes = i.poll_delay_ms = -1;
    return i;
}

START_TEST(test_page_classify)
{
    chat_page_result_t r;
    tw_ytpage_info_t i = s_info();
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_RETRY);

    i.play = TW_YTPAGE_PLAY_ERROR;
    i.play_reason = "This video is private";
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_REPORT);
    ck_assert_int_eq(r.state, TW_STREAM_STATE_PRIVATE);
    i.play_reason = "This video has been removed by the uploader";
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.state, TW_STREAM_STATE_DELETED);
    i.play_reason = "Video unavailable";
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.state, TW_STREAM_STATE_UNAVAILABLE);

    i.play = TW_YTPAGE_PLAY_LOGIN_REQUIRED;
    i.play_reason = "Join this channel to get access to members-only content";
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_REPORT);
    ck_assert_int_eq(r.state, TW_STREAM_STATE_MEMBERS_ONLY);
    i.play_reason = "Sign in to confirm your age";
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.state, TW_STREAM_STATE_UNAVAILABLE);
    i.chat_continuation = "0ofMyANYlive";
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_CHAT); /* gated, chat visible */

    i = s_info();
    i.play = TW_YTPAGE_PLAY_OFFLINE;
    i.state = TW_YTPAGE_STATE_UPCOMING;
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_WAIT);
    i.chat_continuation = "0ofMyANYprechat";
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_CHAT);

    i = s_info();
    i.play = TW_YTPAGE_PLAY_OK;
    i.state = TW_YTPAGE_STATE_LIVE;
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_REPORT);
    ck_assert_int_eq(r.state, TW_STREAM_STATE_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(r.reason, "chat disabled"));

    i.state = TW_YTPAGE_STATE_ENDED;
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_ENDED);
    i.chat_continuation = "op2w0wRyreplay";
    i.chat_is_replay = true;
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_ENDED);

    i = s_info();
    i.play = TW_YTPAGE_PLAY_OK;
    i.state = TW_YTPAGE_STATE_VOD;
    chat_page_classify(&i, &r);
    ck_assert_int_eq(r.verdict, CHAT_PAGE_REPORT);
    ck_assert_int_eq(r.state, TW_STREAM_STATE_UNAVAILABLE);
}
END_TEST

Suite *chat_suite(void)
{
    Suite *s = suite_create("chat");
    TCase *tc = tcase_create("chat");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_ckpt_round_trip);
    tcase_add_test(tc, test_ckpt_corrupt);
    tcase_add_test(tc, test_seen_bounded);
    tcase_add_test(tc, test_page_classify);
    suite_add_tcase(s, tc);
    return s;
}
