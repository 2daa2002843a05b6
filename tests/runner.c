/* Check test runner: runs every suite listed in the generated TW_SUITES
 * header. CK_RUN_SUITE, CK_RUN_CASE, CK_FORK=no work as Check defines. */
#include <check.h>
#include <stdlib.h>

#include "tw_log.h"

#define TW_SUITE(name) Suite *name##_suite(void);
#include TW_SUITES
#undef TW_SUITE

int main(void)
{
    tw_log_init("tests");
    SRunner *sr = srunner_create(NULL);
#define TW_SUITE(name) srunner_add_suite(sr, name##_suite());
#include TW_SUITES
#undef TW_SUITE
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
