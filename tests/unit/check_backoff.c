/* Unit tests of tw_backoff: doubling, cap, reset, full jitter bounds. */
#include <check.h>

#include "tw_backoff.h"

START_TEST(test_backoff_caps_at_max)
{
    tw_backoff_t *b = tw_backoff_new(100, 400);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(tw_backoff_next(b), 100);
    ck_assert_uint_eq(tw_backoff_next(b), 200);
    ck_assert_uint_eq(tw_backoff_next(b), 400);
    ck_assert_uint_eq(tw_backoff_next(b), 400);
    tw_backoff_destroy(&b);
    ck_assert_ptr_null(b);
    tw_backoff_destroy(&b);
}
END_TEST

START_TEST(test_reset_and_attempts)
{
    tw_backoff_t *b = tw_backoff_new(10, 1000);
    tw_backoff_next(b);
    tw_backoff_next(b);
    ck_assert_uint_eq(tw_backoff_attempts(b), 2);
    ck_assert_uint_eq(tw_backoff_next(b), 40);
    tw_backoff_reset(b);
    ck_assert_uint_eq(tw_backoff_attempts(b), 0);
    ck_assert_uint_eq(tw_backoff_next(b), 10);
    tw_backoff_destroy(&b);
}
END_TEST

START_TEST(test_no_overflow_near_uint32_max)
{
    tw_backoff_t *b = tw_backoff_new(3000000000u, 4000000000u);
    ck_assert_uint_eq(tw_backoff_next(b), 3000000000u);
    ck_assert_uint_eq(tw_backoff_next(b), 4000000000u);
    ck_assert_uint_eq(tw_backoff_next(b), 4000000000u);
    tw_backoff_destroy(&b);
    /* max below base: base wins. */
    b = tw_backoff_new(500, 100);
    ck_assert_uint_eq(tw_backoff_next(b), 500);
    ck_assert_uint_eq(tw_backoff_next(b), 500);
    tw_backoff_destroy(&b);
}
END_TEST

START_TEST(test_full_jitter_bounds_and_spread)
{
    tw_backoff_seed(12345);
    uint32_t lo = UINT32_MAX, hi = 0;
    for (int i = 0; i < 2000; i++) {
        uint32_t d = tw_backoff_full_jitter(100, 1000, 3);
        ck_assert_uint_le(d, 800);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    ck_assert_uint_lt(lo, 100);
    ck_assert_uint_gt(hi, 700);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_le(tw_backoff_full_jitter(100, 1000, 40), 1000);
    ck_assert_uint_eq(tw_backoff_jitter(0), 0);
    tw_backoff_t *b = tw_backoff_new(50, 200);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_le(tw_backoff_next_jitter(b), 200);
    ck_assert_uint_eq(tw_backoff_next(b), 200);
    tw_backoff_destroy(&b);
}
END_TEST

Suite *backoff_suite(void)
{
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("backoff");
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, test_backoff_caps_at_max);
    tcase_add_test(tc, test_reset_and_attempts);
    tcase_add_test(tc, test_no_overflow_near_uint32_max);
    tcase_add_test(tc, test_full_jitter_bounds_and_spread);
    suite_add_tcase(s, tc);
    return s;
}
