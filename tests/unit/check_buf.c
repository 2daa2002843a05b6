/* Unit tests of tw_buf: growth, printf, consume, steal. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tw_buf.h"

START_TEST(test_empty_buffer_is_empty_string)
{
    tw_buf_t *b = tw_buf_new();
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(tw_buf_len(b), 0);
    ck_assert_str_eq(tw_buf_data(b), "");
    size_t len = 99;
    char *s = tw_buf_steal(b, &len);
    ck_assert_str_eq(s, "");
    ck_assert_uint_eq(len, 0);
    free(s);
    tw_buf_destroy(&b);
    ck_assert_ptr_null(b);
    tw_buf_destroy(&b);
}
END_TEST

START_TEST(test_append_grows_and_keeps_nul)
{
    tw_buf_t *b = tw_buf_new();
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(tw_buf_append(b, "abc", 3), TW_OK);
    ck_assert_uint_eq(tw_buf_len(b), 3000);
    ck_assert_int_eq(tw_buf_data(b)[3000], '\0');
    ck_assert_int_eq(memcmp(tw_buf_data(b) + 2997, "abc", 3), 0);
    ck_assert_int_eq(tw_buf_append(b, "x\0y", 3), TW_OK);
    ck_assert_uint_eq(tw_buf_len(b), 3003);
    ck_assert_int_eq(tw_buf_data(b)[3001], '\0');
    tw_buf_destroy(&b);
}
END_TEST

START_TEST(test_printf_small_and_large)
{
    tw_buf_t *b = tw_buf_new();
    ck_assert_int_eq(tw_buf_printf(b, "%d-%s", 42, "x"), TW_OK);
    ck_assert_str_eq(tw_buf_data(b), "42-x");
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(tw_buf_printf(b, "[%s]", big), TW_OK);
    ck_assert_uint_eq(tw_buf_len(b), 4 + 1001);
    ck_assert_int_eq(tw_buf_data(b)[tw_buf_len(b) - 1], ']');
    ck_assert_int_eq(tw_buf_append_byte(b, '!'), TW_OK);
    ck_assert_int_eq(tw_buf_append_str(b, "end"), TW_OK);
    ck_assert_str_eq(tw_buf_data(b) + tw_buf_len(b) - 4, "!end");
    tw_buf_destroy(&b);
}
END_TEST

START_TEST(test_truncate_consume_clear_steal)
{
    tw_buf_t *b = tw_buf_new();
    tw_buf_append_str(b, "hello world");
    tw_buf_consume(b, 6);
    ck_assert_str_eq(tw_buf_data(b), "world");
    tw_buf_truncate(b, 3);
    ck_assert_str_eq(tw_buf_data(b), "wor");
    tw_buf_data_mut(b)[0] = 'W';
    size_t len = 0;
    char *s = tw_buf_steal(b, &len);
    ck_assert_str_eq(s, "Wor");
    ck_assert_uint_eq(len, 3);
    free(s);
    ck_assert_uint_eq(tw_buf_len(b), 0);
    tw_buf_append_str(b, "again");
    tw_buf_clear(b);
    ck_assert_str_eq(tw_buf_data(b), "");
    ck_assert_int_eq(tw_buf_reserve(b, 1 << 20), TW_OK);
    ck_assert_int_eq(tw_buf_reserve(b, (size_t)-1), TW_ERR_NOMEM);
    tw_buf_destroy(&b);
}
END_TEST

Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, test_empty_buffer_is_empty_string);
    tcase_add_test(tc, test_append_grows_and_keeps_nul);
    tcase_add_test(tc, test_printf_small_and_large);
    tcase_add_test(tc, test_truncate_consume_clear_steal);
    suite_add_tcase(s, tc);
    return s;
}
