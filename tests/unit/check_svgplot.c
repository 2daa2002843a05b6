/* Unit tests of ctl_svgplot and tw_report: values -> coordinates, escaping,
 * and the reduction of writer rows (one message per id, damaged lines). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_report.h"
#include "../../supervisor/cli/ctl_svgplot.h"

/* The value of attribute name of the element whose id is id, or -1. */
static double s_attr(const char *svg, const char *id, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "id=\"%s\"", id);
    const char *p = strstr(svg, key);
    if (!p)
        return -1;
    const char *end = strchr(p, '>');
    snprintf(key, sizeof key, " %s=\"", name);
    const char *a = strstr(p, key);
    if (!a || a > end)
        return -1;
    return atof(a + strlen(key));
}

START_TEST(test_map_and_nice_max)
{
    ck_assert_double_eq_tol(ctl_svgplot_map(5, 0, 10, 100, 200), 150, 1e-9);
    ck_assert_double_eq_tol(ctl_svgplot_map(0, 0, 10, 300, 100), 300, 1e-9);
    ck_assert_double_eq_tol(ctl_svgplot_map(3, 1, 1, 7, 9), 7, 1e-9);
    double step;
    ck_assert_double_eq(ctl_svgplot_nice_max(25, 5, &step), 25);
    ck_assert_double_eq(step, 5);
    ck_assert_double_eq(ctl_svgplot_nice_max(26, 5, &step), 30);
    ck_assert_double_eq(ctl_svgplot_nice_max(900, 5, &step), 1000);
    ck_assert_double_eq(step, 200);
    ck_assert_double_eq(ctl_svgplot_nice_max(0, 5, &step), 1);
    ck_assert_double_eq(ctl_svgplot_nice_max(3, 5, &step), 3);
    ck_assert_double_eq(step, 1);
}
END_TEST

START_TEST(test_bars_coordinates)
{
    double x[] = {0, 60, 120, 180};
    double v[] = {5, 20, 0, 10};
    ctl_svgplot_tick_t t[] = {{60, "12:01"}, {9999, "outside"}};
    ctl_svgplot_series_t s = {"chat", "Chat", x, v, 4, 0, 240, 60, t, 2};
    ctl_svgplot_t *p = ctl_svgplot_new(600, "t", NULL);
    ck_assert_ptr_nonnull(p);
    ctl_svgplot_area_t a;
    ck_assert_int_eq(ctl_svgplot_bars(p, &s, &a), TW_OK);
    char *svg = ctl_svgplot_finish(p, NULL);
    ck_assert_ptr_nonnull(svg);
    /* y axis 0..20: the 20 bar fills the area, 5 a quarter, 0 nothing */
    ck_assert_double_eq_tol(s_attr(svg, "chat-bar-1", "height"), a.h, 0.01);
    ck_assert_double_eq_tol(s_attr(svg, "chat-bar-1", "y"), a.y, 0.01);
    ck_assert_double_eq_tol(s_attr(svg, "chat-bar-0", "height"), a.h / 4, 0.01);
    ck_assert_double_eq_tol(s_attr(svg, "chat-bar-2", "height"), 0, 0.01);
    ck_assert_double_eq_tol(s_attr(svg, "chat-bar-3", "y") +
                                s_attr(svg, "chat-bar-3", "height"),
                            a.y + a.h, 0.01);
    /* x: a bin of 60 of 240 is a quarter of the width (less a gap) */
    ck_assert_double_eq_tol(s_attr(svg, "chat-bar-2", "x"), a.x + a.w / 2,
                            0.01);
    ck_assert_double_eq_tol(s_attr(svg, "chat-bar-2", "width"), a.w / 4 - 1,
                            0.01);
    ck_assert_double_eq(s_attr(svg, "chat-bar-1", "data-v"), 20);
    ck_assert_double_eq(s_attr(svg, "chat-bar-3", "data-x"), 180);
    ck_assert_ptr_nonnull(strstr(svg, ">12:01</text>"));
    ck_assert_ptr_null(strstr(svg, "outside"));
    free(svg);
    ctl_svgplot_series_t bad = s;
    bad.id = "Bad\"id";
    ck_assert_int_eq(ctl_svgplot_bars(p, &bad, NULL), TW_ERR_INVALID);
    bad = s;
    bad.x_hi = bad.x_lo;
    ck_assert_int_eq(ctl_svgplot_line(p, &bad, NULL), TW_ERR_INVALID);
    ctl_svgplot_destroy(&p);
    ck_assert_ptr_null(p);
    ctl_svgplot_destroy(&p);
}
END_TEST

START_TEST(test_line_points)
{
    double x[] = {100, 200, 300};
    double v[] = {0, 100, 50};
    ctl_svgplot_series_t s = {"viewers", "V", x, v, 3, 100, 300, 0, NULL, 0};
    ctl_svgplot_t *p = ctl_svgplot_new(500, "t", "sub");
    ctl_svgplot_area_t a;
    ck_assert_int_eq(ctl_svgplot_line(p, &s, &a), TW_OK);
    char *svg = ctl_svgplot_finish(p, NULL);
    ck_assert_double_eq_tol(s_attr(svg, "viewers-pt-0", "cx"), a.x, 0.01);
    ck_assert_double_eq_tol(s_attr(svg, "viewers-pt-0", "cy"), a.y + a.h, 0.01);
    ck_assert_double_eq_tol(s_attr(svg, "viewers-pt-1", "cx"), a.x + a.w / 2,
                            0.01);
    ck_assert_double_eq_tol(s_attr(svg, "viewers-pt-1", "cy"), a.y, 0.01);
    ck_assert_double_eq_tol(s_attr(svg, "viewers-pt-2", "cy"), a.y + a.h / 2,
                            0.01);
    ck_assert_ptr_nonnull(strstr(svg, "<polyline id=\"viewers-line\""));
    free(svg);
    ctl_svgplot_destroy(&p);
}
END_TEST

START_TEST(test_escape)
{
    tw_buf_t *b = tw_buf_new();
    ck_assert_int_eq(ctl_svgplot_escape(b, "<a href='x'>&\"\x01\xff", 100),
                     TW_OK);
    ck_assert_str_eq(tw_buf_data(b), "&lt;a href=&apos;x&apos;&gt;&amp;"
                                     "&quot; \xef\xbf\xbd");
    tw_buf_clear(b);
    /* a cut never splits a character: "é" is 2 bytes */
    ck_assert_int_eq(ctl_svgplot_escape(b, "ab\xc3\xa9", 3), TW_OK);
    ck_assert_str_eq(tw_buf_data(b), "ab...");
    tw_buf_destroy(&b);
    ctl_svgplot_t *p = ctl_svgplot_new(400, "<script>x</script>", "a&b");
    const char *hdr[] = {"k", "v"};
    const char *cells[] = {"<i>", "1"};
    ck_assert_int_eq(ctl_svgplot_table(p, "money", "M", 2, hdr, cells, 1, NULL),
                     TW_OK);
    char *svg = ctl_svgplot_finish(p, NULL);
    ck_assert_ptr_null(strstr(svg, "<script>"));
    ck_assert_ptr_null(strstr(svg, "<i>"));
    ck_assert_ptr_nonnull(strstr(svg, "&lt;script&gt;x&lt;/script&gt;"));
    ck_assert_ptr_nonnull(strstr(svg, "id=\"money-row-0\""));
    free(svg);
    ctl_svgplot_destroy(&p);
}
END_TEST

#define HDR                                                                    \
    "received_at\tpublished_at\tchannel_id\tvideo_id\tmessage_id\tkind\t"      \
    "author_channel_id\tauthor_name\tamount\ttext\ttokens\n"
#define ROW(t, id, kind, amount, text)                                         \
    "2026-03-10T12:00:30Z\t" t "\tUCc\tvideo000001\t" id "\t" kind             \
    "\tUCa\tname\t" amount "\t" text "\t\n"

START_TEST(test_report_one_row_per_message)
{
    ck_assert_ptr_null(tw_report_new("../etc"));
    tw_report_t *r = tw_report_new("video000001");
    ck_assert_ptr_nonnull(r);
    const char *day1 = HDR ROW("2026-03-10T12:00:05Z", "a", "text", "", "x")
        ROW("2026-03-10T12:00:06Z", "b", "superchat", "$5.00", "")
            ROW("2026-03-10T12:03:00Z", "b", "superchat", "$5.00", "")
                ROW("2026-03-10T12:01:00Z", "c", "jewels", "",
                    "sent Rose for 20 Jewels");
    const char *day2 = HDR ROW("", "c", "deleted", "", "")
        ROW("2026-03-10T12:01:10Z", "d", "sticker", "oops", "")
            ROW("bad-time", "e", "text", "",
                "") "2026-03-10T12:00:30Z\tshort\n" ROW("2026-03-10T12:01:00Z",
                                                        "f", "nonsense", "", "")
                ROW("2026-03-10T12:01:00Z", "torn", "text", "", "");
    size_t len2 = strlen(day2) - 1; /* no newline at the end: torn */
    ck_assert_int_eq(tw_report_add_comments(r, day1, strlen(day1)), TW_OK);
    ck_assert_int_eq(tw_report_add_comments(r, day2, len2), TW_OK);
    const tw_report_result_t *res = tw_report_result(r);
    ck_assert_ptr_nonnull(res);
    /* a, b (twice: once), c (deleted: still posted), d, e (received_at) */
    ck_assert_uint_eq(res->messages, 5);
    ck_assert_uint_eq(res->deleted, 1);
    ck_assert_uint_eq(res->skipped, 3);
    ck_assert_uint_eq(res->bin_us, 60000000);
    ck_assert_uint_eq(res->nbins, 4);   /* 12:00 .. 12:03 */
    ck_assert_uint_eq(res->bins[0], 2); /* a, e */
    ck_assert_uint_eq(res->bins[1], 2); /* c, d */
    ck_assert_uint_eq(res->bins[2], 0);
    ck_assert_uint_eq(res->bins[3], 1); /* b's last row */
    ck_assert_str_eq(res->channel_id, "UCc");
    ck_assert_uint_eq(res->nmoney, 3);
    ck_assert_str_eq(res->money[0].kind, "jewels");
    ck_assert_int_eq(res->money[0].total_micros, 20000000);
    ck_assert_str_eq(res->money[1].kind, "sticker");
    ck_assert_str_eq(res->money[1].currency, "?");
    ck_assert_uint_eq(res->money[1].unreadable, 1);
    ck_assert_str_eq(res->money[2].currency, "USD");
    ck_assert_uint_eq(res->money[2].count, 1);
    ck_assert_int_eq(res->money[2].total_micros, 5000000);
    tw_report_destroy(&r);
}
END_TEST

START_TEST(test_report_viewers_title_and_wide_bins)
{
    tw_report_t *r = tw_report_new("video000001");
    const char *v =
        "sampled_at\tchannel_id\tvideo_id\tconcurrent_viewers\tviews\tlikes\t"
        "comments\n"
        "2026-03-10T12:02:00Z\tUCc\tvideo000001\t30\t\t\t\n"
        "2026-03-10T12:01:00Z\tUCc\tvideo000001\t20\t\t\t\n"
        "2026-03-10T12:03:00Z\tUCc\tvideo000001\t\t\t\t\n"
        "2026-03-10T12:04:00Z\tUCc\tvideo000001\t-5\t\t\t\n"
        "2026-03-10T12:04:00Z\tUCc\tvideo000002\t99\t\t\t\n";
    ck_assert_int_eq(tw_report_add_viewers(r, v, strlen(v)), TW_OK);
    const char *s = "2026-03-10T12:00:00Z\tUCc\tvideo000001\told\t1\t\t\t\n"
                    "2026-03-10T13:00:00Z\tUCc\tvideo000001\tnew\\tone\t1\t"
                    "\t\t\n"
                    "2026-03-10T14:00:00Z\tUCc\tvideo000002\tother\t1\t\t\t\n";
    ck_assert_int_eq(tw_report_add_stats(r, s, strlen(s)), TW_OK);
    /* two messages 10 days apart: bins get wider, never more than the cap */
    const char *c = ROW("2026-03-01T00:00:00Z", "a", "text", "", "")
        ROW("2026-03-11T00:00:00Z", "b", "text", "", "");
    ck_assert_int_eq(tw_report_add_comments(r, c, strlen(c)), TW_OK);
    const tw_report_result_t *res = tw_report_result(r);
    ck_assert_uint_eq(res->nviewers, 2);
    ck_assert_uint_eq(res->viewers[0], 20);
    ck_assert_uint_eq(res->viewers[1], 30);
    ck_assert_uint_eq(res->peak_viewers, 30);
    ck_assert_uint_eq(res->skipped, 2); /* -5 and the other video */
    ck_assert_str_eq(res->title, "new\tone");
    ck_assert_uint_le(res->nbins, TW_REPORT_MAX_BINS);
    ck_assert_uint_eq(res->bin_us, 30 * 60000000LL);
    ck_assert_uint_eq(res->bins[0] + res->bins[res->nbins - 1], 2);
    ck_assert_int_eq(tw_report_jewels("sent Gold coin for 10 Jewels"), 10);
    ck_assert_int_eq(tw_report_jewels("no number"), -1);
    tw_report_destroy(&r);
}
END_TEST

Suite *svgplot_suite(void)
{
    Suite *s = suite_create("svgplot");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_map_and_nice_max);
    tcase_add_test(tc, test_bars_coordinates);
    tcase_add_test(tc, test_line_points);
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_report_one_row_per_message);
    tcase_add_test(tc, test_report_viewers_title_and_wide_bins);
    suite_add_tcase(s, tc);
    return s;
}
