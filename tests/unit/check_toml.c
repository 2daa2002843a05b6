/* Unit tests of tw_toml: accessors, positions, error positions, lookups,
 * document order, table definition rules and limits. */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tw_toml.h"

/* Parses text (NUL-terminated) and asserts success. */
static tw_toml_t *s_parse_ok(const char *text)
{
    tw_err_t err;
    tw_toml_t *root = tw_toml_parse(text, strlen(text), &err);
    ck_assert_msg(root != NULL, "parse failed: %d:%d: %s", err.line, err.col,
                  err.msg);
    return root;
}

/* Asserts that text fails to parse at line:col with msg containing what. */
static void s_parse_fails(const char *text, int line, int col, const char *what)
{
    tw_err_t err;
    tw_toml_t *root = tw_toml_parse(text, strlen(text), &err);
    ck_assert_msg(root == NULL, "unexpectedly valid: %s", text);
    ck_assert_msg(err.line == line && err.col == col,
                  "%s: error at %d:%d (%s), want %d:%d", text, err.line,
                  err.col, err.msg, line, col);
    if (what)
        ck_assert_msg(strstr(err.msg, what) != NULL, "message '%s' lacks '%s'",
                      err.msg, what);
}

START_TEST(test_scalar_accessors)
{
    tw_toml_t *root = s_parse_ok("s = \"caf\\u00e9\\tx\"\n"
                                 "j = -9_223_372_036_854_775_808\n"
                                 "k = 0b1010\n"
                                 "f = 6.25e-1\n"
                                 "n = -nan\n"
                                 "p = -inf\n"
                                 "b = true\n"
                                 "z = \"a\\u0000b\"\n"
                                 "l = 'C:\\path'\n");
    const tw_toml_t *v = tw_toml_get(root, "s");
    ck_assert_int_eq(tw_toml_type(v), TW_TOML_STRING);
    ck_assert_str_eq(tw_toml_str(v), "caf\xC3\xA9\tx");
    ck_assert_ptr_null(tw_toml_get(root, "i"));
    ck_assert_uint_eq(tw_toml_len(root), 9);
    ck_assert_int_eq(tw_toml_int(tw_toml_get(root, "j")), INT64_MIN);
    ck_assert_int_eq(tw_toml_int(tw_toml_get(root, "k")), 10);
    ck_assert_double_eq(tw_toml_float(tw_toml_get(root, "f")), 0.625);
    ck_assert(isnan(tw_toml_float(tw_toml_get(root, "n"))));
    double inf = tw_toml_float(tw_toml_get(root, "p"));
    ck_assert(isinf(inf) && inf < 0);
    ck_assert(tw_toml_bool(tw_toml_get(root, "b")));
    v = tw_toml_get(root, "z");
    ck_assert_uint_eq(tw_toml_str_len(v), 3);
    ck_assert_int_eq(memcmp(tw_toml_str(v), "a\0b", 4), 0);
    ck_assert_str_eq(tw_toml_str(tw_toml_get(root, "l")), "C:\\path");
    ck_assert_str_eq(tw_toml_type_name(TW_TOML_DATETIME_LOCAL),
                     "datetime-local");
    ck_assert_uint_eq(tw_toml_len(tw_toml_get(root, "b")), 0);
    tw_toml_destroy(&root);
    ck_assert_ptr_null(root);
    tw_toml_destroy(&root);
}
END_TEST

START_TEST(test_hex_with_sign_rejected)
{
    s_parse_fails("i = -0x10\n", 1, 5, "sign");
    s_parse_fails("i = 9_223_372_036_854_775_808\n", 1, 5, "range");
    s_parse_fails("i = 0x8000000000000000\n", 1, 5, "range");
    s_parse_fails("i = 1__0\n", 1, 5, "underscore");
    s_parse_fails("i = 012\n", 1, 5, "leading zero");
}
END_TEST

START_TEST(test_datetimes)
{
    tw_toml_t *root = s_parse_ok("a = 1979-05-27T07:32:00.5-07:30\n"
                                 "b = 2000-02-29 23:59:60Z\n"
                                 "c = 1979-05-27T00:32:00.999999999999\n"
                                 "d = 1979-05-27\n"
                                 "e = 07:32:01.25\n");
    const tw_toml_datetime_t *dt = tw_toml_datetime(tw_toml_get(root, "a"));
    ck_assert_int_eq(tw_toml_type(tw_toml_get(root, "a")), TW_TOML_DATETIME);
    ck_assert_int_eq(dt->year, 1979);
    ck_assert_int_eq(dt->month, 5);
    ck_assert_int_eq(dt->day, 27);
    ck_assert_int_eq(dt->hour, 7);
    ck_assert_int_eq(dt->minute, 32);
    ck_assert_int_eq(dt->nanosecond, 500000000);
    ck_assert_int_eq(dt->frac_digits, 1);
    ck_assert_int_eq(dt->offset_min, -450);
    ck_assert(!dt->offset_z);
    dt = tw_toml_datetime(tw_toml_get(root, "b"));
    ck_assert(dt->offset_z);
    ck_assert_int_eq(dt->second, 60);
    dt = tw_toml_datetime(tw_toml_get(root, "c"));
    ck_assert_int_eq(tw_toml_type(tw_toml_get(root, "c")),
                     TW_TOML_DATETIME_LOCAL);
    ck_assert_int_eq(dt->nanosecond, 999999999);
    ck_assert_int_eq(tw_toml_type(tw_toml_get(root, "d")), TW_TOML_DATE_LOCAL);
    dt = tw_toml_datetime(tw_toml_get(root, "e"));
    ck_assert_int_eq(tw_toml_type(tw_toml_get(root, "e")), TW_TOML_TIME_LOCAL);
    ck_assert_int_eq(dt->second, 1);
    ck_assert_int_eq(dt->nanosecond, 250000000);
    ck_assert_int_eq(dt->year, 0);
    tw_toml_destroy(&root);
    s_parse_fails("d = 2001-02-29\n", 1, 5, "no such day");
    s_parse_fails("d = 1979-05-27 07:32\n", 1, 16, "HH:MM:SS");
}
END_TEST

START_TEST(test_positions)
{
    tw_toml_t *root = s_parse_ok("a = 1\n"
                                 "  b = \"x\"\n"
                                 "[t]\n"
                                 "c . d = [1, { e = 2 }]\n"
                                 "\"\xC3\xA9\" = 3 # comment\n");
    int line, col;
    tw_toml_key_pos(root, 1, &line, &col);
    ck_assert_int_eq(line, 2);
    ck_assert_int_eq(col, 3);
    tw_toml_pos(tw_toml_get(root, "b"), &line, &col);
    ck_assert_int_eq(line, 2);
    ck_assert_int_eq(col, 7);
    const tw_toml_t *t = tw_toml_get(root, "t");
    tw_toml_pos(t, &line, &col);
    ck_assert_int_eq(line, 3);
    ck_assert_int_eq(col, 1);
    const tw_toml_t *c = tw_toml_get(t, "c");
    tw_toml_pos(c, &line, &col);
    ck_assert_int_eq(line, 4);
    ck_assert_int_eq(col, 1);
    tw_toml_key_pos(c, 0, &line, &col);
    ck_assert_int_eq(line, 4);
    ck_assert_int_eq(col, 5);
    const tw_toml_t *arr = tw_toml_get(c, "d");
    tw_toml_pos(arr, &line, &col);
    ck_assert_int_eq(col, 9);
    tw_toml_pos(tw_toml_at(arr, 1), &line, &col);
    ck_assert_int_eq(col, 13);
    tw_toml_pos(tw_toml_get(tw_toml_at(arr, 1), "e"), &line, &col);
    ck_assert_int_eq(col, 19);
    /* Columns count code points: the quoted key holds a 2-byte char. */
    tw_toml_pos(tw_toml_get(t, "\xC3\xA9"), &line, &col);
    ck_assert_int_eq(line, 5);
    ck_assert_int_eq(col, 7);
    tw_toml_key_pos(t, 99, &line, &col);
    ck_assert_int_eq(line, 0);
    tw_toml_destroy(&root);
}
END_TEST

START_TEST(test_error_positions)
{
    s_parse_fails("a = 1\nb = \n", 2, 5, "missing value");
    s_parse_fails("a = 1\n\n  a = 2\n", 3, 3, "duplicate key 'a'");
    s_parse_fails("x = \"abc\n", 1, 5, "unterminated");
    s_parse_fails("s = \"\xC3\xA9\" x\n", 1, 9, "end of line");
    s_parse_fails("[a]\nb = 1\n[a]\n", 3, 2, "defined twice");
    s_parse_fails("a = {b = 1}\n[a.c]\n", 2, 2, "inline");
    s_parse_fails("a = {b = 1,}\n", 1, 12, "trailing comma");
    s_parse_fails("a = [1 2]\n", 1, 8, "','");
    s_parse_fails("a = \"\\q\"\n", 1, 6, "escape");
    s_parse_fails("a = \"\\uD800\"\n", 1, 6, "Unicode");
    s_parse_fails("a = 1\r\nb = 2\rc = 3\n", 2, 6, "carriage return");
    s_parse_fails("a = \"x\x7F\"\n", 1, 7, "U+007F");
    s_parse_fails("a = \"\xC3\x28\"\n", 1, 6, "UTF-8");
    s_parse_fails("\xEF\xBB\xBF"
                  "a = 1\nb\n",
                  2, 2, "'='");
    tw_err_t err;
    ck_assert_ptr_null(tw_toml_parse("a = \"\0\"", 7, &err));
    ck_assert_int_eq(err.col, 6);
}
END_TEST

START_TEST(test_table_rules)
{
    /* Valid: sub-tables of dotted tables, super-table after its child,
     * implicit super-tables extended by dotted keys. */
    tw_toml_t *root = s_parse_ok("[fruit]\napple.color = 'red'\n"
                                 "[fruit.apple.texture]\nsmooth = true\n"
                                 "[x.y.z]\n[x]\nw = 1\n"
                                 "[p.q.r]\n[p]\nq.s = 2\n");
    const tw_toml_t *tex = tw_toml_get(
        tw_toml_get(tw_toml_get(root, "fruit"), "apple"), "texture");
    ck_assert(tw_toml_bool(tw_toml_get(tex, "smooth")));
    tw_toml_destroy(&root);
    s_parse_fails("[fruit]\napple.color = 'red'\n[fruit.apple]\n", 3, 8,
                  "dotted");
    s_parse_fails("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 4, 3, "[header]");
    s_parse_fails("[p.q.r]\n[p]\nq.s = 2\n[p.q]\n", 4, 4, "dotted");
    s_parse_fails("a = []\n[[a]]\n", 2, 3, "static array");
    s_parse_fails("[[a]]\n[a]\n", 2, 2, NULL);
    s_parse_fails("a = {b = {c = 1}, b.d = 2}\n", 1, 19, "inline");
    s_parse_fails("a = 1\na.b = 2\n", 2, 1, "not a table");
    root = s_parse_ok("[[a]]\nx = 1\n[a.b]\ny = 2\n[[a]]\nx = 3\n");
    const tw_toml_t *a = tw_toml_get(root, "a");
    ck_assert_int_eq(tw_toml_type(a), TW_TOML_ARRAY);
    ck_assert_uint_eq(tw_toml_len(a), 2);
    ck_assert_int_eq(
        tw_toml_int(tw_toml_get(tw_toml_get(tw_toml_at(a, 0), "b"), "y")), 2);
    ck_assert_int_eq(tw_toml_int(tw_toml_get(tw_toml_at(a, 1), "x")), 3);
    tw_toml_destroy(&root);
}
END_TEST

START_TEST(test_lookup_and_order)
{
    tw_toml_t *root = s_parse_ok("zeta = 1\nalpha = 2\n\"a\\u0000b\" = 3\n"
                                 "mid.x = 4\n'' = 5\n");
    const char *want[] = {"zeta", "alpha", "a", "mid", ""};
    ck_assert_uint_eq(tw_toml_len(root), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(tw_toml_key_at(root, i, NULL), want[i]);
    size_t klen;
    tw_toml_key_at(root, 2, &klen);
    ck_assert_uint_eq(klen, 3);
    ck_assert_ptr_null(tw_toml_key_at(root, 5, NULL));
    ck_assert_ptr_null(tw_toml_at(root, 5));
    ck_assert_int_eq(tw_toml_int(tw_toml_getn(root, "a\0b", 3)), 3);
    ck_assert_ptr_null(tw_toml_get(root, "a"));
    ck_assert_int_eq(tw_toml_int(tw_toml_get(root, "")), 5);
    ck_assert_ptr_null(tw_toml_get(tw_toml_get(root, "zeta"), "x"));
    ck_assert_ptr_eq(tw_toml_at(root, 1), tw_toml_get(root, "alpha"));
    tw_toml_destroy(&root);
}
END_TEST

START_TEST(test_many_keys_indexed)
{
    size_t n = 5000, cap = n * 24 + 1, len = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "k%zu = %zu\n",
                                (n - i) * 7, i);
    tw_err_t err;
    tw_toml_t *root = tw_toml_parse(text, len, &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_uint_eq(tw_toml_len(root), n);
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%zu", (n - i) * 7);
        ck_assert_int_eq(tw_toml_int(tw_toml_get(root, key)), (int64_t)i);
        ck_assert_str_eq(tw_toml_key_at(root, i, NULL), key);
    }
    ck_assert_ptr_null(tw_toml_get(root, "k1"));
    tw_toml_destroy(&root);
    /* A duplicate among many keys is still found. */
    len += (size_t)snprintf(text + len, cap - len, "k7 = 1\n");
    ck_assert_ptr_null(tw_toml_parse(text, len, &err));
    ck_assert_int_eq(err.line, (int)n + 1);
    free(text);
}
END_TEST

START_TEST(test_depth_limit)
{
    char text[1024];
    size_t len = 0;
    len += (size_t)snprintf(text, sizeof text, "a = ");
    for (int i = 0; i < 300; i++)
        text[len++] = '[';
    text[len] = '\0';
    tw_err_t err;
    ck_assert_ptr_null(tw_toml_parse(text, len, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "nesting"));
    /* Deep but within the limit. */
    len = (size_t)snprintf(text, sizeof text, "a = ");
    for (int i = 0; i < 100; i++)
        text[len++] = '[';
    for (int i = 0; i < 100; i++)
        text[len++] = ']';
    text[len] = '\0';
    tw_toml_t *root = tw_toml_parse(text, len, &err);
    ck_assert_ptr_nonnull(root);
    tw_toml_destroy(&root);
    /* Nesting through dotted keys inside inline tables counts too. */
    len = (size_t)snprintf(text, sizeof text, "a = ");
    for (int i = 0; i < 80; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "{b.c=");
    ck_assert_ptr_null(tw_toml_parse(text, len, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "nesting"));
}
END_TEST

START_TEST(test_parse_file)
{
    char path[] = "/tmp/check_toml_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "[server]\nport = 8080\nbad = \n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    tw_err_t err;
    ck_assert_ptr_null(tw_toml_parse_file(path, &err));
    ck_assert_int_eq(err.line, 3);
    ck_assert_int_eq(err.col, 7);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    text = "[server]\nport = 8080\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    tw_toml_t *root = tw_toml_parse_file(path, &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(
        tw_toml_int(tw_toml_get(tw_toml_get(root, "server"), "port")), 8080);
    tw_toml_destroy(&root);
    unlink(path);
    ck_assert_ptr_null(tw_toml_parse_file(path, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "unable to open"));
    root = tw_toml_parse("", 0, NULL);
    ck_assert_ptr_nonnull(root);
    ck_assert_uint_eq(tw_toml_len(root), 0);
    tw_toml_destroy(&root);
    ck_assert_ptr_null(tw_toml_parse("=", 1, NULL));
}
END_TEST

START_TEST(test_multiline_strings)
{
    tw_toml_t *root =
        s_parse_ok("a = \"\"\"\r\none\r\ntwo \\\r\n   three\"\"\"\n"
                   "b = '''\n'quoted' \"\"''''\n"
                   "c = \"\"\"\"\"\"\"\"\n");
    ck_assert_str_eq(tw_toml_str(tw_toml_get(root, "a")), "one\ntwo three");
    ck_assert_str_eq(tw_toml_str(tw_toml_get(root, "b")), "'quoted' \"\"'");
    ck_assert_str_eq(tw_toml_str(tw_toml_get(root, "c")), "\"\"");
    tw_toml_destroy(&root);
    s_parse_fails("a = \"\"\"x\"\"\"\"\"\"\n", 1, 14, "too many quotes");
    s_parse_fails("a = \"\"\"x\\ y\"\"\"\n", 1, 9, "escape");
}
END_TEST

Suite *toml_suite(void)
{
    Suite *s = suite_create("toml");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_scalar_accessors);
    tcase_add_test(tc, test_hex_with_sign_rejected);
    tcase_add_test(tc, test_datetimes);
    tcase_add_test(tc, test_positions);
    tcase_add_test(tc, test_error_positions);
    tcase_add_test(tc, test_table_rules);
    tcase_add_test(tc, test_lookup_and_order);
    tcase_add_test(tc, test_many_keys_indexed);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_parse_file);
    tcase_add_test(tc, test_multiline_strings);
    suite_add_tcase(s, tc);
    return s;
}
