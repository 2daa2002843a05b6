/* tw_test - shared helpers of the Check suites: suite prototypes and
 * deadline-based waiting (never sleep to synchronise). */
#ifndef TW_TEST_H
#define TW_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#define TW_SUITE(name) Suite *name##_suite(void);
#include "unit_suites.h"
#include "e2e_suites.h"
#undef TW_SUITE

/* Monotonic milliseconds. */
static inline int64_t tw_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls cond(arg) every few milliseconds until it is true or timeout_ms
 * passed; returns the last value of cond. */
static inline bool tw_test_wait_until(bool (*cond)(void *), void *arg,
                                      int timeout_ms)
{
    int64_t deadline = tw_test_now_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        if (tw_test_now_ms() >= deadline)
            return cond(arg);
        struct timespec pause = {0, 2 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

/* Records that the calling check leaves out work it cannot do here (why):
 * the runner counts and prints every skip, and tests/run adds them to its
 * "skipped" total. Under TW_NO_SKIP=1 (set by .ci/run) or CI=true the check
 * fails instead. The caller returns after it. */
void tw_test_skip_at(const char *file, int line, const char *why);
#define tw_test_skip(why) tw_test_skip_at(__FILE__, __LINE__, (why))
/* The shared fixtures folder (TW_SHARED, default ../shared), or NULL when it
 * is absent; NULL is recorded as a skip (tw_test_skip), so a caller returns
 * on NULL and the run still says what it did not test. */
const char *tw_test_shared_dir_at(const char *file, int line);
#define tw_test_shared_dir() tw_test_shared_dir_at(__FILE__, __LINE__)
/* Reads a whole file into a NUL-terminated malloc'd buffer (length in *len),
 * or NULL when it cannot be read. */
char *tw_test_slurp(const char *path, size_t *len);
/* Removes path and, for a directory, everything below it (temp dirs). */
void tw_test_rm_rf(const char *path);

/* Resource limits that make a system call fail for real, for the span of
 * one call under test (no check assertion in between: Check records them
 * in a file). tw_test_limit_fds: the next open fails with EMFILE (the soft
 * RLIMIT_NOFILE becomes the lowest free fd); tw_test_limit_fsize: a write
 * past bytes fails with EFBIG (SIGXFSZ ignored meanwhile). Both store the
 * old limit in *old and return setrlimit's result; tw_test_limit_restore
 * puts it back (and SIGXFSZ's default). */
int tw_test_limit_fds(struct rlimit *old);
int tw_test_limit_fsize(rlim_t bytes, struct rlimit *old);
void tw_test_limit_restore(int resource, const struct rlimit *old);

#endif
