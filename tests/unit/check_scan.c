/* Unit tests of tw_scan: the channels file, the handle cache, channel
 * page ids and the stream table. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tw_scan.h"
#include "tw_time.h"

START_TEST(test_channels_parse)
{
    const char *in =
        "# header\n"
        "UCaaaaaaaaaaaaaaaaaaaaaa\n"
        "  @handle_1   # trailing comment\r\n"
        "\n"
        "https://www.youtube.com/channel/UCbbbbbbbbbbbbbbbbbbbbbb/videos\n"
        "youtube.com/@Handle_1\n"
        "UCaaaaaaaaaaaaaaaaaaaaaa\n"
        "not a channel\n"
        "https://www.youtube.com/c/legacy\n";
    tw_scan_chan_ref_t *v = NULL;
    size_t n = 0, bad = 0;
    tw_err_t err = {{0}, 0, 0};
    ck_assert_int_eq(tw_scan_channels_parse(in, strlen(in), &v, &n, &bad, &err),
                     TW_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(v[0].ref, "UCaaaaaaaaaaaaaaaaaaaaaa");
    ck_assert_int_eq(v[0].kind, TW_ID_CHANNEL);
    ck_assert_int_eq(v[0].line, 2);
    ck_assert_str_eq(v[1].ref, "@handle_1");
    ck_assert_int_eq(v[1].kind, TW_ID_HANDLE);
    ck_assert_str_eq(v[2].ref, "UCbbbbbbbbbbbbbbbbbbbbbb");
    ck_assert_str_eq(v[3].ref, "@Handle_1");
    ck_assert_uint_eq(bad, 2);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 8"));
    free(v);
    /* empty and missing files are empty lists */
    ck_assert_int_eq(tw_scan_channels_parse("", 0, &v, &n, &bad, NULL), TW_OK);
    ck_assert_uint_eq(n, 0);
    free(v);
    ck_assert_int_eq(
        tw_scan_channels_load("/nonexistent/channels.txt", &v, &n, &bad, NULL),
        TW_OK);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_channel_page_id)
{
    char id[TW_ID_MAX];
    const char *a = "<html>..\"externalId\":\"UCcccccccccccccccccccccc\",..";
    ck_assert_int_eq(tw_scan_channel_page_id(a, strlen(a), id, sizeof id),
                     TW_OK);
    ck_assert_str_eq(id, "UCcccccccccccccccccccccc");
    const char *b = "<link rel=\"canonical\" href=\"https://www.youtube.com/"
                    "channel/UCdddddddddddddddddddddd\">";
    ck_assert_int_eq(tw_scan_channel_page_id(b, strlen(b), id, sizeof id),
                     TW_OK);
    ck_assert_str_eq(id, "UCdddddddddddddddddddddd");
    const char *c = "\"externalId\":\"UCshort\" <link rel=\"canonical\" "
                    "href=\"https://www.youtube.com/@x\">";
    ck_assert_int_eq(tw_scan_channel_page_id(c, strlen(c), id, sizeof id),
                     TW_ERR_NOTFOUND);
    /* an id followed by more id characters is not an id */
    const char *d = "\"externalId\":\"UCeeeeeeeeeeeeeeeeeeeeeeX\"";
    ck_assert_int_eq(tw_scan_channel_page_id(d, strlen(d), id, sizeof id),
                     TW_ERR_NOTFOUND);
}
END_TEST

START_TEST(test_handles_roundtrip)
{
    char path[] = "/tmp/twhandlesXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    tw_scan_handle_t h[2] = {{"@one", "UCaaaaaaaaaaaaaaaaaaaaaa"},
                             {"@two", "UCbbbbbbbbbbbbbbbbbbbbbb"}};
    ck_assert_int_eq(tw_scan_handles_save(path, h, 2, NULL), TW_OK);
    tw_scan_handle_t *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(tw_scan_handles_load(path, &v, &n, NULL), TW_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(tw_scan_handles_find(v, n, "@TWO"),
                     "UCbbbbbbbbbbbbbbbbbbbbbb");
    ck_assert_ptr_null(tw_scan_handles_find(v, n, "@three"));
    free(v);
    unlink(path);
}
END_TEST

START_TEST(test_streams_roundtrip)
{
    char path[] = "/tmp/twstreamsXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    tw_scan_stream_t s[3];
    memset(s, 0, sizeof s);
    snprintf(s[0].video_id, sizeof s[0].video_id, "abcdefghijk");
    snprintf(s[0].channel_id, sizeof s[0].channel_id,
             "UCaaaaaaaaaaaaaaaaaaaaaa");
    s[0].state = TW_SCAN_ST_SCHEDULED;
    s[0].scheduled_us = 1767225600000000;
    s[0].spawn_nb_us = 1767225300000000;
    snprintf(s[0].reason, sizeof s[0].reason, "rescheduled");
    snprintf(s[0].title, sizeof s[0].title, "tab\there\nnewline \\ ünï");
    s[1] = s[0];
    snprintf(s[1].video_id, sizeof s[1].video_id, "bbbbbbbbbbb");
    s[1].state = TW_SCAN_ST_VIDEO;
    s[1].title[0] = '\0';
    s[2] = s[0];
    snprintf(s[2].video_id, sizeof s[2].video_id, "ccccccccccc");
    s[2].state = TW_SCAN_ST_ENDED;
    s[2].start_us = 1767225601000000;
    s[2].end_us = 1767229201123456;
    ck_assert_int_eq(tw_scan_streams_save(path, s, 3, NULL), TW_OK);
    /* a garbage line appended is skipped */
    FILE *f = fopen(path, "a");
    fputs("xx\tyy\n\tbad\tline\twith\tenough\tfields\t\t\t\t\t\n", f);
    fclose(f);
    tw_scan_stream_t *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(tw_scan_streams_load(path, &v, &n, NULL), TW_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(v[0].title, s[0].title);
    ck_assert_str_eq(v[0].reason, "rescheduled");
    ck_assert_int_eq(v[0].state, TW_SCAN_ST_SCHEDULED);
    ck_assert_int_eq(v[0].scheduled_us, s[0].scheduled_us);
    ck_assert_int_eq(v[0].spawn_nb_us, s[0].spawn_nb_us);
    ck_assert_int_eq(v[0].start_us, 0);
    ck_assert_int_eq(v[1].state, TW_SCAN_ST_VIDEO);
    ck_assert_int_eq(v[2].end_us, s[2].end_us);
    free(v);
    unlink(path);
}
END_TEST

START_TEST(test_states)
{
    ck_assert_str_eq(tw_scan_state_str(TW_SCAN_ST_MEMBERS_ONLY),
                     "members_only");
    ck_assert_str_eq(tw_scan_state_str(TW_SCAN_ST_VIDEO), "video");
    ck_assert_str_eq(tw_scan_state_str((tw_scan_state_t)-5), "unknown");
    tw_scan_state_t st = TW_SCAN_ST_UNKNOWN;
    ck_assert_int_eq(tw_scan_state_parse("cancelled", 9, &st), TW_OK);
    ck_assert_int_eq(st, TW_SCAN_ST_CANCELLED);
    ck_assert_int_eq(tw_scan_state_parse("video", 5, &st), TW_OK);
    ck_assert_int_eq(st, TW_SCAN_ST_VIDEO);
    ck_assert_int_eq(tw_scan_state_parse("nope", 4, &st), TW_ERR_INVALID);
    ck_assert_int_eq(st, TW_SCAN_ST_VIDEO);
    ck_assert(tw_scan_state_tracked(TW_SCAN_ST_SCHEDULED));
    ck_assert(tw_scan_state_tracked(TW_SCAN_ST_LIVE));
    ck_assert(!tw_scan_state_tracked(TW_SCAN_ST_UNKNOWN));
    ck_assert(!tw_scan_state_tracked(TW_SCAN_ST_ENDED));
    char path[64];
    ck_assert_int_eq(
        tw_scan_path(path, sizeof path, "/st", TW_SCAN_FILE_STREAMS), TW_OK);
    ck_assert_str_eq(path, "/st/scanner/streams.tsv");
    ck_assert_int_eq(
        tw_scan_path(path, sizeof path, "/st", TW_SCAN_FILE_HANDLES), TW_OK);
    ck_assert_str_eq(path, "/st/scanner/handles.tsv");
    ck_assert_int_eq(tw_scan_path(path, 10, "/st", TW_SCAN_FILE_FEEDS),
                     TW_ERR_TOOBIG);
    ck_assert(!tw_scan_state_final(TW_SCAN_ST_SCHEDULED));
    ck_assert(!tw_scan_state_final(TW_SCAN_ST_LIVE));
    ck_assert(!tw_scan_state_final(TW_SCAN_ST_UNKNOWN));
    ck_assert(tw_scan_state_final(TW_SCAN_ST_ENDED));
    ck_assert(tw_scan_state_final(TW_SCAN_ST_VIDEO));
}
END_TEST

Suite *scan_suite(void)
{
    Suite *s = suite_create("scan");
    TCase *tc = tcase_create("scan");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_channels_parse);
    tcase_add_test(tc, test_channel_page_id);
    tcase_add_test(tc, test_handles_roundtrip);
    tcase_add_test(tc, test_streams_roundtrip);
    tcase_add_test(tc, test_states);
    suite_add_tcase(s, tc);
    return s;
}
