/* Check test runner: runs every suite listed in the generated TW_SUITES
 * header. CK_RUN_SUITE, CK_RUN_CASE, CK_FORK=no work as Check defines.
 * Checks record what they skip (tw_test_skip) in a file this runner names
 * in TW_SKIP_FILE; at the end it prints each skip once and their count, and
 * appends the count to TW_SKIP_COUNT_FILE when set (tests/run sums them). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tw_log.h"

#define TW_SUITE(name) Suite *name##_suite(void);
#include TW_SUITES
#undef TW_SUITE

/* Prints the distinct lines of path and returns how many lines it had. */
static int s_report_skips(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0;
    char line[600], prev[600] = "";
    while (fgets(line, sizeof line, f)) {
        n++;
        if (strcmp(line, prev) != 0)
            fprintf(stdout, "  skipped: %s", line);
        snprintf(prev, sizeof prev, "%s", line);
    }
    fclose(f);
    return n;
}

int main(void)
{
    tw_log_init("tests");
    char skips[] = "/tmp/tw-skips-XXXXXX";
    int fd = mkstemp(skips);
    if (fd >= 0) {
        close(fd);
        setenv("TW_SKIP_FILE", skips, 1);
    }
    SRunner *sr = srunner_create(NULL);
#define TW_SUITE(name) srunner_add_suite(sr, name##_suite());
#include TW_SUITES
#undef TW_SUITE
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    int nskip = fd >= 0 ? s_report_skips(skips) : 0;
    if (fd >= 0)
        unlink(skips);
    if (nskip > 0)
        printf("%d skip(s): the checks above left out what they say\n", nskip);
    const char *count = getenv("TW_SKIP_COUNT_FILE");
    if (count && *count && nskip > 0) {
        FILE *c = fopen(count, "a");
        if (c) {
            fprintf(c, "%d\n", nskip);
            fclose(c);
        }
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
