/* Unit tests of tw_json: validation, escapes, navigation, numbers, limits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tw_json.h"

static tw_json_t *s_j;

static void s_setup(void)
{
    s_j = tw_json_new();
    ck_assert_ptr_nonnull(s_j);
}

static void s_teardown(void)
{
    tw_json_destroy(&s_j);
    tw_json_destroy(&s_j);
}

static tw_rc_t s_parse(const char *text)
{
    return tw_json_parse(s_j, text, strlen(text), NULL);
}

START_TEST(test_valid_documents)
{
    static const char *const ok[] = {
        "{}",
        "[]",
        " [1, -0, 0.5, 1e3, -2E-2, 1.5e+7] ",
        "\"x\"",
        "true",
        "false",
        "null",
        "{\"a\":{\"b\":[[],{}]}}",
        "\t\r\n0\n",
        "\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\"",
        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(s_parse(ok[i]) == TW_OK, "rejected: %s", ok[i]);
}
END_TEST

START_TEST(test_invalid_documents)
{
    static const char *const bad[] = {
        "",
        "{",
        "[1,]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{1:2}",
        "[01]",
        "[1.]",
        "[.5]",
        "[1e]",
        "[-]",
        "tru",
        "nul",
        "[1 2]",
        "{} {}",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12G4\"",
        "\"a\tb\"",
        "\"\xc3\"",
        "\"\xc0\x80\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xff\"",
        "[+1]",
        "[NaN]",
        "'x'",
        "[}",
        "{]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tw_err_t err = {0};
        tw_rc_t rc = tw_json_parse(s_j, bad[i], strlen(bad[i]), &err);
        ck_assert_msg(rc == TW_ERR_PARSE, "accepted: %s", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "at byte"));
        ck_assert_uint_eq(tw_json_root(s_j), 0);
    }
}
END_TEST

START_TEST(test_error_offset)
{
    tw_err_t err = {0};
    const char *text = "{\"a\":\n [1, 2, x]}";
    ck_assert_int_eq(tw_json_parse(s_j, text, strlen(text), &err),
                     TW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "at byte 14"));
    ck_assert_int_eq(err.line, 2);
    ck_assert_int_eq(err.col, 9);
}
END_TEST

START_TEST(test_escapes_decoded)
{
    const char *text = "[\"a\\tb\\u00e9\\ud83d\\ude00\\udc00\\ud800x\","
                       "\"plain\"]";
    ck_assert_int_eq(s_parse(text), TW_OK);
    tw_json_ref_t a = tw_json_at(s_j, tw_json_root(s_j), 0);
    size_t n;
    const char *s = tw_json_str(s_j, a, &n);
    const char *want = "a\tb\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbdx";
    ck_assert_uint_eq(n, strlen(want));
    ck_assert(memcmp(s, want, n) == 0);
    ck_assert(
        tw_json_str_eq(s_j, tw_json_at(s_j, tw_json_root(s_j), 1), "plain"));
    /* \u0000 is valid JSON and kept. */
    ck_assert_int_eq(tw_json_parse(s_j, "\"a\\u0000b\"", 10, NULL), TW_OK);
    s = tw_json_str(s_j, tw_json_root(s_j), &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(s[1], 0);
}
END_TEST

START_TEST(test_navigation)
{
    const char *text =
        "{\"a\":1,\"b\":{\"c\":[10,{\"d\":\"e\"},[]],\"f\":null},\"a\":2}";
    ck_assert_int_eq(s_parse(text), TW_OK);
    tw_json_ref_t root = tw_json_root(s_j);
    ck_assert_int_eq(tw_json_type(s_j, root), TW_JSON_OBJECT);
    ck_assert_uint_eq(tw_json_count(s_j, root), 3);
    int64_t v;
    ck_assert_int_eq(tw_json_int64(s_j, tw_json_get(s_j, root, "a"), &v),
                     TW_OK);
    ck_assert_int_eq(v, 1); /* first of duplicate keys */
    tw_json_ref_t c = tw_json_path(s_j, root, "b", "c", NULL);
    ck_assert_int_eq(tw_json_type(s_j, c), TW_JSON_ARRAY);
    ck_assert_uint_eq(tw_json_count(s_j, c), 3);
    tw_json_ref_t d = tw_json_get(s_j, tw_json_at(s_j, c, 1), "d");
    ck_assert(tw_json_str_eq(s_j, d, "e"));
    ck_assert_uint_eq(tw_json_at(s_j, c, 3), 0);
    ck_assert_int_eq(tw_json_type(s_j, tw_json_at(s_j, c, 2)), TW_JSON_ARRAY);
    ck_assert_uint_eq(tw_json_first(s_j, tw_json_at(s_j, c, 2)), 0);
    ck_assert_int_eq(tw_json_type(s_j, tw_json_path(s_j, root, "b", "f", NULL)),
                     TW_JSON_NULL);
    ck_assert_uint_eq(tw_json_path(s_j, root, "b", "zz", "y", NULL), 0);
    /* Iterating keys. */
    int keys = 0;
    for (tw_json_ref_t k = tw_json_first(s_j, root); k;
         k = tw_json_next_key(s_j, k))
        keys++;
    ck_assert_int_eq(keys, 3);
    char path[128];
    tw_json_path_of(s_j, d, path, sizeof path);
    ck_assert_str_eq(path, ".b.c[1].d");
    /* scan_keys finds "d" (length 1) after "a" keys. */
    tw_json_ref_t k = tw_json_scan_keys(s_j, 1, 1ULL << 1);
    ck_assert(tw_json_str_eq(s_j, k, "a"));
    ck_assert_uint_eq(tw_json_type(s_j, 0), TW_JSON_NONE);
}
END_TEST

START_TEST(test_numbers)
{
    ck_assert_int_eq(s_parse("[9223372036854775807,-9223372036854775808,"
                             "9223372036854775808,\"123\",\"-5\",\"1x\",1.5,"
                             "18446744073709551615]"),
                     TW_OK);
    tw_json_ref_t r = tw_json_root(s_j);
    int64_t v;
    uint64_t u;
    ck_assert_int_eq(tw_json_int64(s_j, tw_json_at(s_j, r, 0), &v), TW_OK);
    ck_assert(v == INT64_MAX);
    ck_assert_int_eq(tw_json_int64(s_j, tw_json_at(s_j, r, 1), &v), TW_OK);
    ck_assert(v == INT64_MIN);
    ck_assert_int_eq(tw_json_int64(s_j, tw_json_at(s_j, r, 2), &v),
                     TW_ERR_INVALID);
    ck_assert_int_eq(tw_json_u64(s_j, tw_json_at(s_j, r, 2), &u), TW_OK);
    ck_assert_int_eq(tw_json_int64(s_j, tw_json_at(s_j, r, 3), &v), TW_OK);
    ck_assert_int_eq(v, 123);
    ck_assert_int_eq(tw_json_int64(s_j, tw_json_at(s_j, r, 4), &v), TW_OK);
    ck_assert_int_eq(v, -5);
    ck_assert_int_eq(tw_json_u64(s_j, tw_json_at(s_j, r, 4), &u),
                     TW_ERR_INVALID);
    ck_assert_int_eq(tw_json_int64(s_j, tw_json_at(s_j, r, 5), &v),
                     TW_ERR_INVALID);
    ck_assert_int_eq(tw_json_int64(s_j, tw_json_at(s_j, r, 6), &v),
                     TW_ERR_INVALID);
    double d;
    ck_assert_int_eq(tw_json_double(s_j, tw_json_at(s_j, r, 6), &d), TW_OK);
    ck_assert(d == 1.5);
    ck_assert_int_eq(tw_json_u64(s_j, tw_json_at(s_j, r, 7), &u), TW_OK);
    ck_assert(u == UINT64_MAX);
}
END_TEST

START_TEST(test_depth_limit)
{
    size_t n = TW_JSON_MAX_DEPTH + 1;
    char *buf = malloc(2 * n);
    ck_assert_ptr_nonnull(buf);
    memset(buf, '[', n);
    memset(buf + n, ']', n);
    tw_err_t err = {0};
    ck_assert_int_eq(tw_json_parse(s_j, buf, 2 * n, &err), TW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "deep"));
    ck_assert_int_eq(tw_json_parse(s_j, buf + 1, 2 * n - 2, NULL), TW_OK);
    free(buf);
}
END_TEST

START_TEST(test_huge_string_and_reuse)
{
    size_t n = 4 * 1024 * 1024;
    char *buf = malloc(n + 16);
    ck_assert_ptr_nonnull(buf);
    buf[0] = '[';
    buf[1] = '"';
    for (size_t i = 2; i < n; i++)
        buf[i] = (i % 1000 == 0) ? '\\' : 'x';
    /* Every escape must be complete: make them \\n. */
    for (size_t i = 2; i < n; i++)
        if (buf[i] == '\\')
            buf[++i] = 'n';
    memcpy(buf + n, "\"]", 2);
    ck_assert_int_eq(tw_json_parse(s_j, buf, n + 2, NULL), TW_OK);
    size_t len;
    tw_json_str(s_j, tw_json_at(s_j, tw_json_root(s_j), 0), &len);
    ck_assert_uint_lt(len, n);
    ck_assert_uint_gt(len, n - n / 500 - 10);
    ck_assert_int_eq(s_parse("{\"k\":\"v\"}"), TW_OK);
    ck_assert(
        tw_json_str_eq(s_j, tw_json_get(s_j, tw_json_root(s_j), "k"), "v"));
    free(buf);
}
END_TEST

Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_valid_documents);
    tcase_add_test(tc, test_invalid_documents);
    tcase_add_test(tc, test_error_offset);
    tcase_add_test(tc, test_escapes_decoded);
    tcase_add_test(tc, test_navigation);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_huge_string_and_reuse);
    suite_add_tcase(s, tc);
    return s;
}
