/* Unit tests of tw_drift: threshold within the sliding window, one alarm
 * per window, sources apart, bursts, many sources. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "tw_drift.h"

START_TEST(test_threshold_within_window)
{
    tw_drift_t *d = tw_drift_new(3, 1000);
    ck_assert_ptr_nonnull(d);
    tw_drift_alarm_t a;
    ck_assert(!tw_drift_note(d, "chat.actions", "x1", 1, 0, &a));
    ck_assert(!tw_drift_note(d, "chat.actions", "x2", 1, 500, &a));
    /* the first one left the window: still two within it */
    ck_assert(!tw_drift_note(d, "chat.actions", "x3", 1, 1200, &a));
    ck_assert_uint_eq(tw_drift_count(d, "chat.actions", 1200), 2);
    ck_assert(tw_drift_note(d, "chat.actions", "x4", 1, 1300, &a));
    ck_assert_str_eq(a.source, "chat.actions");
    ck_assert_str_eq(a.what, "x4");
    ck_assert_uint_eq(a.count, 3);
    ck_assert_uint_eq(a.window_ms, 1000);
    /* quiet for a window after an alarm, then again */
    ck_assert(!tw_drift_note(d, "chat.actions", "x5", 1, 1400, &a));
    ck_assert(!tw_drift_note(d, "chat.actions", "x6", 1, 2299, &a));
    ck_assert(tw_drift_note(d, "chat.actions", "x7", 1, 2300, &a));
    ck_assert_uint_eq(tw_drift_total(d), 7);
    tw_drift_destroy(&d);
    ck_assert_ptr_null(d);
    tw_drift_destroy(&d);
}
END_TEST

START_TEST(test_sources_apart_and_bursts)
{
    tw_drift_t *d = tw_drift_new(5, 60000);
    tw_drift_alarm_t a;
    ck_assert(!tw_drift_note(d, "page", "no chat", 2, 10, &a));
    ck_assert(!tw_drift_note(d, "chat.token", "400", 2, 10, &a));
    ck_assert(!tw_drift_note(d, "page", "no chat", 0, 10, &a));
    ck_assert_uint_eq(tw_drift_count(d, "page", 10), 2);
    /* one parse with 40 unknown actions is past the threshold at once */
    ck_assert(tw_drift_note(d, "chat.actions", "newAction", 40, 20, &a));
    ck_assert_uint_eq(a.count, 40);
    ck_assert_uint_eq(tw_drift_count(d, "nothing", 20), 0);
    tw_drift_destroy(&d);
}
END_TEST

START_TEST(test_many_sources_and_long_names)
{
    tw_drift_t *d = tw_drift_new(2, 1000);
    tw_drift_alarm_t a;
    char name[64];
    int alarms = 0;
    for (int i = 0; i < TW_DRIFT_MAX_SOURCES + 10; i++) {
        snprintf(name, sizeof name, "source-%d", i);
        alarms += tw_drift_note(d, name, name, 1, i, &a);
    }
    /* sources past the table share its last slot (named after the first):
     * they are still counted and alarm together */
    ck_assert_int_eq(alarms, 1);
    ck_assert_str_eq(a.source, "source-15");
    ck_assert_str_eq(a.what, "source-16");
    ck_assert_uint_eq(tw_drift_count(d, "source-0", 100), 1);
    tw_drift_destroy(&d);

    d = tw_drift_new(1, 1000);
    char big[400];
    memset(big, 'w', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert(tw_drift_note(d, big, big, 1, 0, &a));
    ck_assert_uint_eq(strlen(a.source), sizeof a.source - 1);
    ck_assert_uint_eq(strlen(a.what), sizeof a.what - 1);
    tw_drift_destroy(&d);
}
END_TEST

Suite *drift_suite(void)
{
    Suite *s = suite_create("drift");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_threshold_within_window);
    tcase_add_test(tc, test_sources_apart_and_bursts);
    tcase_add_test(tc, test_many_sources_and_long_names);
    suite_add_tcase(s, tc);
    return s;
}
