/* Unit tests of tw_id: id validation and channel/video URL parsing. */
#include <check.h>
#include <string.h>

#include "tw_id.h"

START_TEST(test_video_ids)
{
    ck_assert(tw_id_is_video("dQw4w9WgXcQ"));
    ck_assert(tw_id_is_video("a-_0123456Z"));
    ck_assert(!tw_id_is_video("dQw4w9WgXc"));
    ck_assert(!tw_id_is_video("dQw4w9WgXcQQ"));
    ck_assert(!tw_id_is_video("dQw4w9WgX/Q"));
    ck_assert(!tw_id_is_video("../../etc/p"));
    ck_assert(!tw_id_is_video(""));
}
END_TEST

START_TEST(test_channel_ids_and_handles)
{
    ck_assert(tw_id_is_channel("UCuAXFkgsw1L7xaCfnd5JJOw"));
    ck_assert(!tw_id_is_channel("UCuAXFkgsw1L7xaCfnd5JJO"));
    ck_assert(!tw_id_is_channel("UCuAXFkgsw1L7xaCfnd5JJOww"));
    ck_assert(!tw_id_is_channel("UXuAXFkgsw1L7xaCfnd5JJOw"));
    ck_assert(!tw_id_is_channel("UCuAXFkgsw1L7xaCfnd5JJ.w"));
    ck_assert(tw_id_is_handle("@abc"));
    ck_assert(tw_id_is_handle("@Some.Name_x-1"));
    ck_assert(tw_id_is_handle("@123456789012345678901234567890"));
    ck_assert(!tw_id_is_handle("@1234567890123456789012345678901"));
    ck_assert(!tw_id_is_handle("@ab"));
    ck_assert(!tw_id_is_handle("abc"));
    ck_assert(!tw_id_is_handle("@a b c"));
    ck_assert(!tw_id_is_handle("@abc/"));
}
END_TEST

START_TEST(test_safe_component)
{
    ck_assert(tw_id_is_safe("abc_DEF-123", 64));
    ck_assert(!tw_id_is_safe("", 64));
    ck_assert(!tw_id_is_safe(".", 64));
    ck_assert(!tw_id_is_safe("..", 64));
    ck_assert(!tw_id_is_safe("a/b", 64));
    ck_assert(!tw_id_is_safe("a.b", 64));
    ck_assert(!tw_id_is_safe("abcd", 3));
    ck_assert(tw_id_is_safe("abc", 3));
    ck_assert(tw_id_is_safe_n("ab/", 2, 8));
    ck_assert(!tw_id_is_safe_n("a\0b", 3, 8));
}
END_TEST

static void s_channel(const char *in, const char *want, tw_id_kind_t kind)
{
    char out[TW_ID_MAX];
    tw_id_kind_t got = 0;
    tw_err_t err = {.msg = ""};
    tw_rc_t rc = tw_id_parse_channel(in, out, sizeof out, &got, &err);
    ck_assert_msg(rc == TW_OK, "%s: %s", in, err.msg);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(got, kind);
}

static void s_channel_bad(const char *in)
{
    char out[TW_ID_MAX];
    tw_err_t err = {.msg = ""};
    ck_assert_msg(tw_id_parse_channel(in, out, sizeof out, NULL, &err) ==
                      TW_ERR_INVALID,
                  "accepted %s", in);
    ck_assert_str_ne(err.msg, "");
}

START_TEST(test_parse_channel_forms)
{
    const char *id = "UCuAXFkgsw1L7xaCfnd5JJOw";
    s_channel(id, id, TW_ID_CHANNEL);
    s_channel("https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw", id,
              TW_ID_CHANNEL);
    s_channel("http://youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw/streams", id,
              TW_ID_CHANNEL);
    s_channel("youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw?si=x", id,
              TW_ID_CHANNEL);
    s_channel("@lofigirl", "@lofigirl", TW_ID_HANDLE);
    s_channel("https://www.youtube.com/@lofigirl", "@lofigirl", TW_ID_HANDLE);
    s_channel("youtube.com/@lofigirl/streams", "@lofigirl", TW_ID_HANDLE);
    s_channel("https://m.youtube.com/@Lofi.Girl_1/live#x", "@Lofi.Girl_1",
              TW_ID_HANDLE);
    s_channel("HTTPS://WWW.YOUTUBE.COM/@abc/", "@abc", TW_ID_HANDLE);
}
END_TEST

START_TEST(test_parse_channel_rejects)
{
    s_channel_bad("");
    s_channel_bad("lofigirl");
    s_channel_bad("https://evil.example/channel/UCuAXFkgsw1L7xaCfnd5JJOw");
    s_channel_bad("https://youtube.com.evil.example/@abc");
    s_channel_bad("https://www.youtube.com/channel/UCshort");
    s_channel_bad("https://www.youtube.com/channel/../../etc");
    s_channel_bad("https://www.youtube.com/@ab");
    s_channel_bad("https://www.youtube.com/@a%2Fb");
    s_channel_bad("https://www.youtube.com/c/SomeName");
    s_channel_bad("https://www.youtube.com/user/SomeName");
    s_channel_bad("https://www.youtube.com/watch?v=dQw4w9WgXcQ");
    s_channel_bad("https://youtu.be/dQw4w9WgXcQ");
    char small[8];
    ck_assert_int_eq(tw_id_parse_channel("UCuAXFkgsw1L7xaCfnd5JJOw", small,
                                         sizeof small, NULL, NULL),
                     TW_ERR_INVALID);
}
END_TEST

START_TEST(test_parse_video_forms)
{
    const char *ok[] = {
        "dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?feature=x&v=dQw4w9WgXcQ&t=1",
        "youtube.com/live/dQw4w9WgXcQ?si=abc",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://m.youtube.com/shorts/dQw4w9WgXcQ",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[16] = "";
        ck_assert_msg(tw_id_parse_video(ok[i], out, sizeof out, NULL) == TW_OK,
                      "%s", ok[i]);
        ck_assert_str_eq(out, "dQw4w9WgXcQ");
    }
    const char *bad[] = {
        "dQw4w9WgXc",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQQ",
        "https://www.youtube.com/watch?vv=dQw4w9WgXcQ",
        "https://example.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/@handle",
        "https://youtu.be/../../etc/pa",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[16];
        ck_assert_msg(tw_id_parse_video(bad[i], out, sizeof out, NULL) ==
                          TW_ERR_INVALID,
                      "%s", bad[i]);
    }
}
END_TEST

Suite *id_suite(void)
{
    Suite *s = suite_create("id");
    TCase *tc = tcase_create("id");
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, test_video_ids);
    tcase_add_test(tc, test_channel_ids_and_handles);
    tcase_add_test(tc, test_safe_component);
    tcase_add_test(tc, test_parse_channel_forms);
    tcase_add_test(tc, test_parse_channel_rejects);
    tcase_add_test(tc, test_parse_video_forms);
    suite_add_tcase(s, tc);
    return s;
}
