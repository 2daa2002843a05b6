/* Unit tests of tw_quota: budget, persistence, day roll, exhaustion,
 * several processes sharing one file, interval stretching. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tw_quota.h"
#include "tw_time.h"

static char s_dir[64];
static char s_path[128];

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/twquotaXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    snprintf(s_path, sizeof s_path, "%s/quota.tsv", s_dir);
}

static void s_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* 2026-11-23T12:00:00Z = 04:00 Pacific (PST, UTC-8). */
static int64_t s_t0(void)
{
    int64_t t;
    ck_assert_int_eq(tw_time_parse("2026-11-23T12:00:00Z", &t, NULL), TW_OK);
    return t;
}

/* A spend whose save fails (past a file size limit: EFBIG) is kept: this
 * handle counts it at once, and the next save that works writes it for
 * everyone; a block is kept the same way. */
START_TEST(test_failed_save_keeps_the_spend)
{
    tw_quota_t *q = tw_quota_open(s_path, 100, NULL);
    tw_quota_t *other = tw_quota_open(s_path, 100, NULL);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_nonnull(other);
    tw_quota_set_now(q, s_t0());
    tw_quota_set_now(other, s_t0());
    ck_assert_int_eq(tw_quota_spend(q, "videos.list", 1, NULL), TW_OK);
    struct rlimit old;
    tw_err_t err = {{0}, 0, 0};
    int lim0 = tw_test_limit_fsize(0, &old);
    tw_rc_t rc1 = tw_quota_spend(q, "search.list", 100, &err);
    tw_rc_t rc2 = tw_quota_spend(q, "videos.list", 1, NULL);
    tw_test_limit_restore(RLIMIT_FSIZE, &old);
    ck_assert_int_eq(lim0, 0);
    ck_assert_int_ne(rc1, TW_OK);
    ck_assert_int_ne(rc2, TW_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "File too large"));
    ck_assert_uint_eq(tw_quota_used(q), 102);
    ck_assert(!tw_quota_allowed(q, 1));
    ck_assert_uint_eq(tw_quota_used(other), 1); /* not on disk yet */
    ck_assert_int_eq(tw_quota_spend(q, "videos.list", 1, NULL), TW_OK);
    ck_assert_uint_eq(tw_quota_used(q), 103);
    ck_assert_uint_eq(tw_quota_used(other), 103);
    tw_quota_method_t m[4];
    ck_assert_uint_eq(tw_quota_methods(other, m, 4), 2);
    ck_assert_str_eq(m[0].method, "videos.list");
    ck_assert_uint_eq(m[0].calls, 3);
    ck_assert_str_eq(m[1].method, "search.list");
    ck_assert_uint_eq(m[1].units, 100);
    /* a block that could not be saved holds in this handle, then on disk */
    int lim = tw_test_limit_fsize(0, &old);
    tw_rc_t rc3 = tw_quota_exhausted(other, NULL);
    tw_test_limit_restore(RLIMIT_FSIZE, &old);
    ck_assert_int_eq(lim, 0);
    ck_assert_int_ne(rc3, TW_OK);
    ck_assert_int_gt(tw_quota_blocked_until(other), 0);
    ck_assert_int_eq(tw_quota_blocked_until(q), 0);
    ck_assert_int_eq(tw_quota_spend(other, "videos.list", 1, NULL), TW_OK);
    ck_assert_int_gt(tw_quota_blocked_until(q), 0);
    tw_quota_destroy(&q);
    tw_quota_destroy(&other);
}
END_TEST

START_TEST(test_spend_and_allowed)
{
    tw_quota_t *q = tw_quota_open(s_path, 10, NULL);
    ck_assert_ptr_nonnull(q);
    tw_quota_set_now(q, s_t0());
    ck_assert(tw_quota_allowed(q, 10));
    ck_assert(!tw_quota_allowed(q, 11));
    ck_assert_int_eq(tw_quota_spend(q, "videos.list", 1, NULL), TW_OK);
    ck_assert_int_eq(tw_quota_spend(q, "videos.list", 1, NULL), TW_OK);
    ck_assert_int_eq(tw_quota_spend(q, "channels.list", 3, NULL), TW_OK);
    ck_assert_uint_eq(tw_quota_used(q), 5);
    ck_assert_uint_eq(tw_quota_left(q), 5);
    ck_assert(tw_quota_allowed(q, 5));
    ck_assert(!tw_quota_allowed(q, 6));
    tw_quota_method_t m[4];
    ck_assert_uint_eq(tw_quota_methods(q, m, 4), 2);
    ck_assert_str_eq(m[0].method, "videos.list");
    ck_assert_uint_eq(m[0].calls, 2);
    ck_assert_uint_eq(m[0].units, 2);
    ck_assert_uint_eq(m[1].units, 3);

    /* a second handle (another process) sees the same totals */
    tw_quota_t *q2 = tw_quota_open(s_path, 10, NULL);
    tw_quota_set_now(q2, s_t0() + 1000000);
    ck_assert_uint_eq(tw_quota_used(q2), 5);
    ck_assert_int_eq(tw_quota_spend(q2, "videos.list", 1, NULL), TW_OK);
    ck_assert_uint_eq(tw_quota_used(q), 6);
    tw_quota_destroy(&q2);
    tw_quota_destroy(&q);
    ck_assert_ptr_null(q);
    tw_quota_destroy(&q);
}
END_TEST

START_TEST(test_day_roll)
{
    tw_quota_t *q = tw_quota_open(s_path, 100, NULL);
    tw_quota_set_now(q, s_t0());
    ck_assert_int_eq(tw_quota_spend(q, "videos.list", 40, NULL), TW_OK);
    /* 07:59 UTC next day = 23:59 Pacific: same quota day */
    tw_quota_set_now(q, s_t0() + INT64_C(19) * 3600 * 1000000 +
                            INT64_C(59) * 60 * 1000000);
    ck_assert_uint_eq(tw_quota_used(q), 40);
    /* 08:00 UTC = Pacific midnight: a new day */
    tw_quota_set_now(q, s_t0() + INT64_C(20) * 3600 * 1000000);
    ck_assert_uint_eq(tw_quota_used(q), 0);
    ck_assert_uint_eq(tw_quota_left(q), 100);
    tw_quota_destroy(&q);
}
END_TEST

START_TEST(test_exhausted_until_midnight)
{
    tw_quota_t *q = tw_quota_open(s_path, 100, NULL);
    tw_quota_set_now(q, s_t0());
    ck_assert_int_eq(tw_quota_exhausted(q, NULL), TW_OK);
    ck_assert(!tw_quota_allowed(q, 1));
    ck_assert_uint_eq(tw_quota_left(q), 0);
    int64_t want;
    ck_assert_int_eq(tw_time_parse("2026-11-24T08:00:00Z", &want, NULL), TW_OK);
    ck_assert_int_eq(tw_quota_blocked_until(q), want);
    /* persisted: a new handle is blocked too */
    tw_quota_t *q2 = tw_quota_open(s_path, 100, NULL);
    tw_quota_set_now(q2, s_t0() + 3600000000LL);
    ck_assert(!tw_quota_allowed(q2, 1));
    /* the interval waits for the reset */
    uint64_t iv = tw_quota_interval_ms(q2, 1000, 1, 1);
    ck_assert_uint_eq(iv, (uint64_t)(want - s_t0() - 3600000000LL) / 1000);
    /* after midnight everything is allowed again */
    tw_quota_set_now(q2, want + 1);
    ck_assert(tw_quota_allowed(q2, 1));
    ck_assert_int_eq(tw_quota_blocked_until(q2), 0);
    tw_quota_destroy(&q2);
    tw_quota_destroy(&q);
}
END_TEST

START_TEST(test_garbage_file)
{
    FILE *f = fopen(s_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("day\t2026-11-23\nmethod\tvideos.list\n\x01\x02garbage\tx\n"
          "blocked_until\tnot-a-time\nmethod\tvideos.list\t2\t7\n",
          f);
    fclose(f);
    tw_quota_t *q = tw_quota_open(s_path, 100, NULL);
    tw_quota_set_now(q, s_t0());
    ck_assert_uint_eq(tw_quota_used(q), 7);
    ck_assert_int_eq(tw_quota_blocked_until(q), 0);
    tw_quota_destroy(&q);
    ck_assert_ptr_null(tw_quota_open("", 1, NULL));
}
END_TEST

START_TEST(test_processes_share)
{
    enum { NPROC = 4, EACH = 25 };
    for (int p = 0; p < NPROC; p++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            tw_quota_t *q = tw_quota_open(s_path, 100000, NULL);
            for (int i = 0; i < EACH; i++)
                if (tw_quota_spend(q, "videos.list", 1, NULL) != TW_OK)
                    _exit(1);
            tw_quota_destroy(&q);
            _exit(0);
        }
    }
    for (int p = 0; p < NPROC; p++) {
        int st;
        ck_assert_int_gt(wait(&st), 0);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    tw_quota_t *q = tw_quota_open(s_path, 100000, NULL);
    ck_assert_uint_eq(tw_quota_used(q), NPROC * EACH);
    tw_quota_destroy(&q);
}
END_TEST

START_TEST(test_stretch)
{
    /* 1 unit every second would be 86400/day: stretched to fit 10000*0.9 */
    uint64_t iv = tw_quota_stretch_ms(1000, 1, 10000, 1);
    ck_assert_uint_eq(iv, 9600);
    ck_assert_uint_eq(tw_quota_stretch_ms(60000, 1, 10000, 1), 60000);
    /* half the budget: twice as long */
    ck_assert_uint_eq(tw_quota_stretch_ms(1000, 1, 10000, 0.5), 19200);
    ck_assert_uint_eq(tw_quota_stretch_ms(1000, 0, 10000, 1), 1000);
    ck_assert_uint_eq(tw_quota_stretch_ms(1000, 1, 0, 1), 1000);
    /* dynamic: 10 units left, 20 h of the day left */
    tw_quota_t *q = tw_quota_open(s_path, 100, NULL);
    tw_quota_set_now(q, s_t0());
    ck_assert_int_eq(tw_quota_spend(q, "videos.list", 90, NULL), TW_OK);
    iv = tw_quota_interval_ms(q, 1000, 1, 1);
    ck_assert_uint_eq(iv, 20u * 3600 * 1000 / 10);
    tw_quota_destroy(&q);
}
END_TEST

Suite *quota_suite(void)
{
    Suite *s = suite_create("quota");
    TCase *tc = tcase_create("quota");
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_spend_and_allowed);
    tcase_add_test(tc, test_failed_save_keeps_the_spend);
    tcase_add_test(tc, test_day_roll);
    tcase_add_test(tc, test_exhausted_until_midnight);
    tcase_add_test(tc, test_garbage_file);
    tcase_add_test(tc, test_processes_share);
    tcase_add_test(tc, test_stretch);
    suite_add_tcase(s, tc);
    return s;
}
