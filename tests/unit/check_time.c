/* Unit tests of tw_time: RFC 3339, durations, local days in zones. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tw_time.h"

#define T_2026_11_23 INT64_C(1795440693123456) /* 13:31:33.123456Z */

/* A zone file that cannot be read now (EMFILE) is an I/O error, not an
 * unknown zone (a config error, never retried). */
START_TEST(test_zone_unreadable_now)
{
    struct rlimit old;
    tw_err_t err = {{0}, 0, 0};
    int lim = tw_test_limit_fds(&old);
    tw_rc_t rc = tw_time_zone_check("Europe/Berlin", &err);
    tw_test_limit_restore(RLIMIT_NOFILE, &old);
    ck_assert_int_eq(lim, 0);
    ck_assert_int_eq(rc, TW_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "Too many open files"));
    ck_assert_int_eq(tw_time_zone_check("Europe/Berlin", NULL), TW_OK);
    ck_assert_int_eq(tw_time_zone_check("Europe/Nowhere", NULL),
                     TW_ERR_NOTFOUND);
}
END_TEST

START_TEST(test_clocks)
{
    int64_t us = tw_time_now_us();
    int64_t s = (int64_t)time(NULL);
    ck_assert_int_le(us / 1000000 - s, 1);
    ck_assert_int_ge(us / 1000000 - s, -1);
    ck_assert_int_le(tw_time_now_ms() - us / 1000, 1000);
    int64_t m1 = tw_time_mono_us();
    int64_t m2 = tw_time_mono_us();
    ck_assert_int_ge(m2, m1);
    ck_assert_int_le(tw_time_mono_ms() - m2 / 1000, 1000);
}
END_TEST

/* Runs fn in a child with TW_TEST_CLOCK=value (the clock is read once per
 * process) and returns its exit status. */
static int s_with_test_clock(const char *value, int (*fn)(void))
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("TW_TEST_CLOCK", value, 1);
        _exit(fn());
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static int s_virtual_clock(void)
{
    double speed = 0;
    if (!tw_time_test_clock(&speed) || speed != 100)
        return 1;
    int64_t m0 = tw_time_mono_us();
    int64_t v = tw_time_now_us();
    int64_t m1 = tw_time_mono_us();
    /* anchored in the past second: virtual = 1e9 s + 100 x real elapsed */
    int64_t base = INT64_C(1000000000) * 1000000;
    if (v < base || v > base + 100 * (INT64_C(2000000) + (m1 - m0)))
        return 2;
    if (tw_time_real_ms(1000) != 10 || tw_time_real_ms(1001) != 11 ||
        tw_time_real_ms(0) != 0 || tw_time_real_ms(-5) != -5)
        return 3;
    return 0;
}

static int s_plain_clock(void)
{
    double speed = 0;
    if (tw_time_test_clock(&speed) || speed != 1 ||
        tw_time_real_ms(1234) != 1234)
        return 1;
    return 0;
}

START_TEST(test_test_clock)
{
    char v[64];
    snprintf(v, sizeof v, "1000000000,100,%lld", (long long)time(NULL));
    ck_assert_int_eq(s_with_test_clock(v, s_virtual_clock), 0);
    ck_assert_int_eq(s_with_test_clock("", s_plain_clock), 0);
    /* malformed: refused with the usage exit code, never a silent clock */
    ck_assert_int_eq(s_with_test_clock("1000000000", s_plain_clock), 100);
    ck_assert_int_eq(s_with_test_clock("1000000000,0", s_plain_clock), 100);
    ck_assert_int_eq(s_with_test_clock("1,2,3x", s_plain_clock), 100);
}
END_TEST

START_TEST(test_format_rfc3339)
{
    char buf[TW_TIME_STR_SIZE];
    ck_assert_str_eq(tw_time_format(T_2026_11_23, buf),
                     "2026-11-23T13:31:33.123456Z");
    ck_assert_str_eq(tw_time_format(0, buf), "1970-01-01T00:00:00.000000Z");
    ck_assert_str_eq(tw_time_format(-500000, buf),
                     "1969-12-31T23:59:59.500000Z");
    ck_assert_str_eq(tw_time_format(INT64_C(1709251199) * 1000000, buf),
                     "2024-02-29T23:59:59.000000Z");
    ck_assert_str_eq(tw_time_format(INT64_MAX, buf),
                     "9999-12-31T23:59:59.999999Z");
    ck_assert_str_eq(tw_time_format(INT64_MIN, buf),
                     "0000-01-01T00:00:00.000000Z");
    char d[TW_TIME_DATE_SIZE];
    ck_assert_str_eq(tw_time_format_date(T_2026_11_23, d), "2026-11-23");
}
END_TEST

static int64_t s_parse(const char *s)
{
    int64_t us = 0;
    tw_err_t err = {.msg = ""};
    tw_rc_t rc = tw_time_parse(s, &us, &err);
    ck_assert_msg(rc == TW_OK, "%s: %s", s, err.msg);
    return us;
}

START_TEST(test_parse_rfc3339)
{
    ck_assert_int_eq(s_parse("2026-11-23T13:31:33.123456Z"), T_2026_11_23);
    ck_assert_int_eq(s_parse("2026-11-23T14:31:33.123456+01:00"), T_2026_11_23);
    ck_assert_int_eq(s_parse("2026-11-23T08:01:33.123456-05:30"), T_2026_11_23);
    ck_assert_int_eq(s_parse("2026-11-23t13:31:33.123456789z"), T_2026_11_23);
    ck_assert_int_eq(s_parse("2026-11-23 13:31:33.1234561Z"), T_2026_11_23);
    ck_assert_int_eq(s_parse("2026-11-23T13:31:33Z"), T_2026_11_23 - 123456);
    ck_assert_int_eq(s_parse("2026-11-23T13:31:33.1Z"), T_2026_11_23 - 23456);
    ck_assert_int_eq(s_parse("1969-12-31T23:59:59.5Z"), -500000);
    ck_assert_int_eq(s_parse("2024-02-29T23:59:59+00:00"),
                     INT64_C(1709251199) * 1000000);
    /* A leap second reads as the next second. */
    ck_assert_int_eq(s_parse("2016-12-31T23:59:60Z"),
                     s_parse("2017-01-01T00:00:00Z"));
    int64_t us = 0;
    const char *s = "2026-11-23T13:31:33.123456Zjunk";
    ck_assert_int_eq(tw_time_parse_n(s, 27, &us, NULL), TW_OK);
    ck_assert_int_eq(us, T_2026_11_23);
    char buf[TW_TIME_STR_SIZE];
    for (int64_t v = -86400000001; v < INT64_C(4000000000000000);
         v += INT64_C(123456789012345)) {
        ck_assert_int_eq(s_parse(tw_time_format(v, buf)), v);
    }
    ck_assert_int_eq(tw_time_parse_date("2026-11-23", &us, NULL), TW_OK);
    ck_assert_int_eq(us, T_2026_11_23 -
                             (13 * 3600 + 31 * 60 + 33) * INT64_C(1000000) -
                             123456);
}
END_TEST

START_TEST(test_parse_rejects)
{
    const char *bad[] = {
        "",
        "2026-11-23",
        "2026-11-23T13:31:33",
        "2026-11-23T13:31:33.Z",
        "2026-11-23T13:31:33.123",
        "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T23:60:00Z",
        "2026-11-23T23:00:61Z",
        "2026-11-23T13:31:33+1:00",
        "2026-11-23T13:31:33+01",
        "2026-11-23T13:31:33+24:00",
        "2026-11-23T13:31:33Z ",
        "26-11-23T13:31:33Z",
        "2026/11/23T13:31:33Z",
        "2026-11-23X13:31:33Z",
        "+2026-11-23T13:31:33Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 42;
        tw_err_t err = {.msg = ""};
        ck_assert_msg(tw_time_parse(bad[i], &us, &err) == TW_ERR_PARSE,
                      "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(us, 42);
        ck_assert_str_ne(err.msg, "");
    }
    int64_t us;
    ck_assert_int_eq(tw_time_parse_date("2026-11-23x", &us, NULL),
                     TW_ERR_PARSE);
    ck_assert_int_eq(tw_time_parse_date("2026-02-30", &us, NULL), TW_ERR_PARSE);
}
END_TEST

static int64_t s_dur(const char *s)
{
    int64_t ms = -1;
    tw_err_t err = {.msg = ""};
    tw_rc_t rc = tw_time_duration_parse(s, &ms, &err);
    ck_assert_msg(rc == TW_OK, "%s: %s", s, err.msg);
    return ms;
}

START_TEST(test_durations)
{
    ck_assert_int_eq(s_dur("90s"), 90000);
    ck_assert_int_eq(s_dur("5m"), 300000);
    ck_assert_int_eq(s_dur("1h30m"), 5400000);
    ck_assert_int_eq(s_dur("250ms"), 250);
    ck_assert_int_eq(s_dur("2d"), 172800000);
    ck_assert_int_eq(s_dur("0"), 0);
    ck_assert_int_eq(s_dur("0s"), 0);
    ck_assert_int_eq(s_dur("1d2h3m4s5ms"), 93784005);
    ck_assert_int_eq(s_dur("106751991167d7h12m55s807ms"), INT64_MAX);
    const char *bad[] = {"",      "10",   "-5s",  "5 s", " 5s",  "5s ",
                         "5x",    "1m1h", "1s1s", "s",   "1.5s", "5sm",
                         "5ms1s", "1h30", "h1",   "5S",  "0x10s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        ck_assert_msg(tw_time_duration_parse(bad[i], &ms, NULL) == TW_ERR_PARSE,
                      "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(ms, 42);
    }
    int64_t ms;
    ck_assert_int_eq(tw_time_duration_parse("106751991168d", &ms, NULL),
                     TW_ERR_TOOBIG);
    ck_assert_int_eq(
        tw_time_duration_parse("106751991167d7h12m55s808ms", &ms, NULL),
        TW_ERR_TOOBIG);
    ck_assert_int_eq(
        tw_time_duration_parse("99999999999999999999999s", &ms, NULL),
        TW_ERR_TOOBIG);
}
END_TEST

START_TEST(test_duration_format_round_trip)
{
    char buf[TW_TIME_DUR_SIZE];
    ck_assert_str_eq(tw_time_duration_format(5400000, buf), "1h30m");
    ck_assert_str_eq(tw_time_duration_format(0, buf), "0s");
    ck_assert_str_eq(tw_time_duration_format(250, buf), "250ms");
    ck_assert_str_eq(tw_time_duration_format(90000, buf), "1m30s");
    ck_assert_str_eq(tw_time_duration_format(172800000, buf), "2d");
    ck_assert_str_eq(tw_time_duration_format(-1500, buf), "-1s500ms");
    ck_assert_str_eq(tw_time_duration_format(INT64_MAX, buf),
                     "106751991167d7h12m55s807ms");
    ck_assert_str_eq(tw_time_duration_format(INT64_MIN, buf),
                     "-106751991167d7h12m55s808ms");
    for (int64_t v = 1; v > 0 && v < INT64_MAX / 3; v = v * 3 + 7)
        ck_assert_int_eq(s_dur(tw_time_duration_format(v, buf)), v);
}
END_TEST

START_TEST(test_hhmm)
{
    int h = -1, m = -1;
    ck_assert_int_eq(tw_time_hhmm_parse("02:00", &h, &m, NULL), TW_OK);
    ck_assert_int_eq(h, 2);
    ck_assert_int_eq(m, 0);
    ck_assert_int_eq(tw_time_hhmm_parse("23:59", &h, &m, NULL), TW_OK);
    const char *bad[] = {"24:00", "2:00", "02:60", "02:00 ", "0200", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(tw_time_hhmm_parse(bad[i], &h, &m, NULL),
                         TW_ERR_PARSE);
}
END_TEST

START_TEST(test_zone_check)
{
    tw_err_t err;
    ck_assert_int_eq(tw_time_zone_check("UTC", &err), TW_OK);
    ck_assert_int_eq(tw_time_zone_check("America/Los_Angeles", &err), TW_OK);
    ck_assert_int_eq(tw_time_zone_check("Nowhere/Atlantis", &err),
                     TW_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "Nowhere/Atlantis"));
    ck_assert_int_eq(tw_time_zone_check("../../etc/passwd", &err),
                     TW_ERR_INVALID);
    ck_assert_int_eq(tw_time_zone_check("/etc/passwd", &err), TW_ERR_INVALID);
    ck_assert_int_eq(tw_time_zone_check("Europe/.hidden", &err),
                     TW_ERR_INVALID);
    ck_assert_int_eq(tw_time_zone_check("", &err), TW_ERR_INVALID);
    ck_assert_int_eq(tw_time_zone_check("America/", &err), TW_ERR_INVALID);
    ck_assert_int_eq(tw_time_zone_check("America//Chicago", &err),
                     TW_ERR_INVALID);
    ck_assert_int_eq(tw_time_zone_check("Etc/GMT+5", &err), TW_OK);
    /* A directory of the database is not a zone. */
    ck_assert_int_eq(tw_time_zone_check("America", &err), TW_ERR_NOTFOUND);
}
END_TEST

START_TEST(test_local_date)
{
    char d[TW_TIME_DATE_SIZE];
    tw_err_t err;
    ck_assert_int_eq(
        tw_time_local_date("America/Los_Angeles", T_2026_11_23, d, &err),
        TW_OK);
    ck_assert_str_eq(d, "2026-11-23");
    /* 07:59:59Z is still the previous day in PST (UTC-8). */
    int64_t us = s_parse("2026-11-23T07:59:59.999999Z");
    ck_assert_int_eq(tw_time_pacific_date(us, d, &err), TW_OK);
    ck_assert_str_eq(d, "2026-11-22");
    ck_assert_int_eq(tw_time_pacific_date(us + 1, d, &err), TW_OK);
    ck_assert_str_eq(d, "2026-11-23");
    ck_assert_int_eq(tw_time_local_date("Asia/Tokyo", us, d, &err), TW_OK);
    ck_assert_str_eq(d, "2026-11-23");
    ck_assert_int_eq(tw_time_local_date("UTC", -1, d, &err), TW_OK);
    ck_assert_str_eq(d, "1969-12-31");
    ck_assert_int_eq(tw_time_local_date("Mars/Olympus", us, d, &err),
                     TW_ERR_NOTFOUND);
}
END_TEST

START_TEST(test_next_midnight_across_dst)
{
    int64_t next = 0;
    tw_err_t err;
    /* 2026-03-08 is 23 hours long in Los Angeles. */
    ck_assert_int_eq(tw_time_next_midnight("America/Los_Angeles",
                                           INT64_C(1772996400) * 1000000, &next,
                                           &err),
                     TW_OK);
    ck_assert_int_eq(next, INT64_C(1773039600) * 1000000);
    /* 2026-11-01 is 25 hours long. */
    ck_assert_int_eq(tw_time_next_pacific_midnight(
                         INT64_C(1793563200) * 1000000, &next, &err),
                     TW_OK);
    ck_assert_int_eq(next, INT64_C(1793606400) * 1000000);
    /* Exactly at midnight: the next one. */
    ck_assert_int_eq(tw_time_next_midnight("America/Los_Angeles",
                                           INT64_C(1772956800) * 1000000, &next,
                                           &err),
                     TW_OK);
    ck_assert_int_eq(next, (INT64_C(1772956800) + 23 * 3600) * 1000000);
    ck_assert_int_eq(tw_time_next_midnight("UTC", T_2026_11_23, &next, &err),
                     TW_OK);
    ck_assert_int_eq(next, s_parse("2026-11-24T00:00:00Z"));
}
END_TEST

START_TEST(test_local_date_changes_at_midnights)
{
    /* Across both 2026 DST changes in Los Angeles and Berlin, in 7-minute
     * steps: the date changes exactly when a midnight is passed. */
    const char *zones[] = {"America/Los_Angeles", "Europe/Berlin"};
    const char *starts[] = {"2026-03-06T00:00:00Z", "2026-10-23T00:00:00Z"};
    for (size_t z = 0; z < 2; z++) {
        for (size_t k = 0; k < 2; k++) {
            int64_t t = s_parse(starts[k]);
            char prev[TW_TIME_DATE_SIZE], d[TW_TIME_DATE_SIZE];
            int64_t boundary;
            ck_assert_int_eq(tw_time_local_date(zones[z], t, prev, NULL),
                             TW_OK);
            ck_assert_int_eq(
                tw_time_next_midnight(zones[z], t, &boundary, NULL), TW_OK);
            int changes = 0;
            for (int i = 0; i < 5 * 24 * 60 / 7; i++) {
                t += INT64_C(7) * 60 * 1000000;
                ck_assert_int_eq(tw_time_local_date(zones[z], t, d, NULL),
                                 TW_OK);
                if (t >= boundary) {
                    ck_assert_str_ne(d, prev);
                    ck_assert_int_eq(
                        tw_time_next_midnight(zones[z], t, &boundary, NULL),
                        TW_OK);
                    changes++;
                } else {
                    ck_assert_str_eq(d, prev);
                }
                memcpy(prev, d, sizeof d);
            }
            ck_assert_int_ge(changes, 4);
        }
    }
}
END_TEST

START_TEST(test_next_local_hhmm)
{
    int64_t next = 0;
    tw_err_t err;
    /* 14:31 CET: 02:00 is tomorrow. */
    ck_assert_int_eq(
        tw_time_next_local("Europe/Berlin", T_2026_11_23, 2, 0, &next, &err),
        TW_OK);
    ck_assert_int_eq(next, INT64_C(1795482000) * 1000000);
    /* 01:30 CET: 02:00 is today. */
    ck_assert_int_eq(tw_time_next_local("Europe/Berlin",
                                        s_parse("2026-11-23T00:30:00Z"), 2, 0,
                                        &next, &err),
                     TW_OK);
    ck_assert_int_eq(next, INT64_C(1795395600) * 1000000);
    ck_assert_int_eq(tw_time_next_local("Europe/Berlin", 0, 24, 0, &next, &err),
                     TW_ERR_INVALID);
    /* 02:30 does not exist on 2026-03-29 in Berlin; some instant after
     * the previous call's time and within a day comes back. */
    int64_t before = s_parse("2026-03-28T12:00:00Z");
    ck_assert_int_eq(
        tw_time_next_local("Europe/Berlin", before, 2, 30, &next, &err), TW_OK);
    ck_assert_int_gt(next, before);
    ck_assert_int_le(next - before, INT64_C(86400) * 1000000);
}
END_TEST

START_TEST(test_tz_restored)
{
    char d[TW_TIME_DATE_SIZE];
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    ck_assert_int_eq(tw_time_local_date("America/Los_Angeles", 0, d, NULL),
                     TW_OK);
    ck_assert_str_eq(d, "1969-12-31");
    ck_assert_str_eq(getenv("TZ"), "Asia/Tokyo");
    time_t t = 0;
    struct tm tm;
    localtime_r(&t, &tm);
    ck_assert_int_eq(tm.tm_hour, 9);
    unsetenv("TZ");
    tzset();
    ck_assert_int_eq(tw_time_local_date("Asia/Tokyo", 0, d, NULL), TW_OK);
    ck_assert_str_eq(d, "1970-01-01");
    ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

START_TEST(test_when_parse)
{
    int64_t us;
    ck_assert_int_eq(tw_time_when_parse("1970-01-01T00:00:00Z", 0, &us, NULL),
                     TW_OK);
    ck_assert_int_eq(us, 0);
    ck_assert_int_eq(
        tw_time_when_parse("2026-11-23T16:00:00.5+01:00", 0, &us, NULL), TW_OK);
    char buf[TW_TIME_STR_SIZE];
    ck_assert_str_eq(tw_time_format(us, buf), "2026-11-23T15:00:00.500000Z");
    ck_assert_int_eq(tw_time_when_parse("+5m", 1000, &us, NULL), TW_OK);
    ck_assert_int_eq(us, 1000 + 300000000LL);
    ck_assert_int_eq(tw_time_when_parse("+1h30m", 0, &us, NULL), TW_OK);
    ck_assert_int_eq(us, 5400000000LL);
    ck_assert_int_eq(tw_time_when_parse("2026-02-30T00:00:00Z", 0, &us, NULL),
                     TW_ERR_PARSE);
    ck_assert_int_eq(tw_time_when_parse("+5x", 0, &us, NULL), TW_ERR_PARSE);
    ck_assert_int_eq(tw_time_when_parse("2026-11-23 10:00", 0, &us, NULL),
                     TW_ERR_PARSE);
    ck_assert_int_eq(tw_time_when_parse("now", 77, &us, NULL), TW_OK);
    ck_assert_int_eq(us, 77);
    ck_assert_int_eq(tw_time_when_parse("+367d", 0, &us, NULL), TW_ERR_PARSE);
    ck_assert_int_eq(tw_time_when_parse("+", 0, &us, NULL), TW_ERR_PARSE);
}
END_TEST

Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("format");
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, test_clocks);
    tcase_add_test(tc, test_test_clock);
    tcase_add_test(tc, test_format_rfc3339);
    tcase_add_test(tc, test_parse_rfc3339);
    tcase_add_test(tc, test_parse_rejects);
    tcase_add_test(tc, test_durations);
    tcase_add_test(tc, test_duration_format_round_trip);
    tcase_add_test(tc, test_hhmm);
    suite_add_tcase(s, tc);
    tc = tcase_create("zones");
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, test_zone_check);
    tcase_add_test(tc, test_local_date);
    tcase_add_test(tc, test_next_midnight_across_dst);
    tcase_add_test(tc, test_local_date_changes_at_midnights);
    tcase_add_test(tc, test_next_local_hhmm);
    tcase_add_test(tc, test_tz_restored);
    tcase_add_test(tc, test_when_parse);
    tcase_add_test(tc, test_zone_unreadable_now);
    suite_add_tcase(s, tc);
    return s;
}
