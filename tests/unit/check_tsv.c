/* Unit tests of tw_tsv: escaping, unescaping, splitting, line walking. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tw_buf.h"
#include "tw_tsv.h"

static void s_escapes(const char *in, size_t len, const char *want)
{
    tw_buf_t *b = tw_buf_new();
    ck_assert_int_eq(tw_tsv_escape(b, in, len), TW_OK);
    ck_assert_uint_eq(tw_buf_len(b), strlen(want));
    ck_assert_str_eq(tw_buf_data(b), want);
    ck_assert_uint_eq(tw_tsv_escaped_len(in, len), strlen(want));
    tw_buf_destroy(&b);
}

START_TEST(test_escape_exact_set)
{
    s_escapes("plain", 5, "plain");
    s_escapes("a\tb\nc\rd\\e", 9, "a\\tb\\nc\\rd\\\\e");
    s_escapes("\\t", 2, "\\\\t");
    s_escapes("", 0, "");
    /* Other control bytes and UTF-8 pass through unchanged. */
    s_escapes("\x01\x1f\x7f\xc3\xa9", 5, "\x01\x1f\x7f\xc3\xa9");
}
END_TEST

START_TEST(test_unescape_rejects_bad_escapes)
{
    tw_buf_t *b = tw_buf_new();
    tw_err_t err;
    ck_assert_int_eq(tw_tsv_unescape(b, "a\\x", 3, &err), TW_ERR_PARSE);
    ck_assert_int_eq(err.col, 2);
    ck_assert_int_eq(tw_tsv_unescape(b, "trail\\", 6, &err), TW_ERR_PARSE);
    ck_assert_int_eq(tw_tsv_unescape(b, "raw\ttab", 7, &err), TW_ERR_PARSE);
    ck_assert_int_eq(tw_tsv_unescape(b, "raw\nnl", 6, NULL), TW_ERR_PARSE);
    ck_assert_uint_eq(tw_buf_len(b), 0);
    ck_assert_int_eq(tw_tsv_unescape(b, "ok\\\\\\t", 6, &err), TW_OK);
    ck_assert_str_eq(tw_buf_data(b), "ok\\\t");
    tw_buf_destroy(&b);
}
END_TEST

START_TEST(test_round_trip_hostile_bytes)
{
    /* Every byte value, many backslash/escape-letter combinations. */
    char in[512];
    for (size_t i = 0; i < 256; i++)
        in[i] = (char)i;
    static const char mix[] = "\\t\\n\\\\r\t\n\r\\";
    for (size_t i = 256; i < sizeof in; i++)
        in[i] = mix[i % (sizeof mix - 1)];
    tw_buf_t *esc = tw_buf_new();
    tw_buf_t *back = tw_buf_new();
    for (size_t len = 0; len <= sizeof in; len += 37) {
        tw_buf_clear(esc);
        tw_buf_clear(back);
        ck_assert_int_eq(tw_tsv_escape(esc, in, len), TW_OK);
        ck_assert_ptr_null(memchr(tw_buf_data(esc), '\t', tw_buf_len(esc)));
        ck_assert_ptr_null(memchr(tw_buf_data(esc), '\n', tw_buf_len(esc)));
        ck_assert_ptr_null(memchr(tw_buf_data(esc), '\r', tw_buf_len(esc)));
        ck_assert_int_eq(
            tw_tsv_unescape(back, tw_buf_data(esc), tw_buf_len(esc), NULL),
            TW_OK);
        ck_assert_uint_eq(tw_buf_len(back), len);
        ck_assert_int_eq(memcmp(tw_buf_data(back), in, len), 0);
        /* In place gives the same. */
        size_t n = 0;
        ck_assert_int_eq(tw_tsv_unescape_inplace(tw_buf_data_mut(esc),
                                                 tw_buf_len(esc), &n, NULL),
                         TW_OK);
        ck_assert_uint_eq(n, len);
        ck_assert_int_eq(memcmp(tw_buf_data(esc), in, len), 0);
    }
    tw_buf_destroy(&esc);
    tw_buf_destroy(&back);
}
END_TEST

START_TEST(test_split_fields)
{
    tw_tsv_field_t f[4];
    const char *line = "a\t\tb\\tc\tlast\r\n";
    size_t n = tw_tsv_split(line, strlen(line), f, 4);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(f[0].len, 1);
    ck_assert_uint_eq(f[1].len, 0);
    ck_assert_int_eq(strncmp(f[2].ptr, "b\\tc", f[2].len), 0);
    ck_assert_uint_eq(f[2].len, 4);
    ck_assert_uint_eq(f[3].len, 4);
    ck_assert_int_eq(strncmp(f[3].ptr, "last", 4), 0);
    ck_assert_uint_eq(tw_tsv_split("x\ty\tz", 5, f, 2), 3);
    ck_assert_uint_eq(tw_tsv_split("", 0, f, 4), 1);
    ck_assert_uint_eq(f[0].len, 0);
    ck_assert_uint_eq(tw_tsv_split("\t", 1, f, 4), 2);
}
END_TEST

START_TEST(test_next_line_and_torn_tail)
{
    const char *buf = "h1\th2\nv1\tv2\npartial";
    size_t off = 0, len = 0;
    const char *line;
    bool complete;
    ck_assert(tw_tsv_next_line(buf, strlen(buf), &off, &line, &len, &complete));
    ck_assert(complete);
    ck_assert_uint_eq(len, 5);
    ck_assert(tw_tsv_next_line(buf, strlen(buf), &off, &line, &len, &complete));
    ck_assert_int_eq(strncmp(line, "v1\tv2", len), 0);
    ck_assert(tw_tsv_next_line(buf, strlen(buf), &off, &line, &len, &complete));
    ck_assert(!complete);
    ck_assert_uint_eq(len, 7);
    ck_assert(
        !tw_tsv_next_line(buf, strlen(buf), &off, &line, &len, &complete));
    off = 0;
    ck_assert(tw_tsv_next_line("\n", 1, &off, &line, &len, NULL));
    ck_assert_uint_eq(len, 0);
    ck_assert(!tw_tsv_next_line("\n", 1, &off, &line, &len, NULL));
}
END_TEST

Suite *tsv_suite(void)
{
    Suite *s = suite_create("tsv");
    TCase *tc = tcase_create("tsv");
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, test_escape_exact_set);
    tcase_add_test(tc, test_unescape_rejects_bad_escapes);
    tcase_add_test(tc, test_round_trip_hostile_bytes);
    tcase_add_test(tc, test_split_fields);
    tcase_add_test(tc, test_next_line_and_torn_tail);
    suite_add_tcase(s, tc);
    return s;
}
