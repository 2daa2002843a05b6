/* Fuzz target of tw_quota's shared file (STATE/quota.tsv): any bytes as the
 * file open, answer and accept a spend without a crash, and the units used
 * never exceed what the file and the spend can account for. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_log.h"
#include "tw_quota.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_path[128];

static void s_cleanup(void)
{
    unlink(s_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_path[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
        snprintf(s_path, sizeof s_path, "%s/tw-fuzz-quota-%d.tsv", base,
                 (int)getpid());
        atexit(s_cleanup);
        tw_log_set_level(TW_LOG_ERROR);
    }
    FILE *f = fopen(s_path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    tw_quota_t *q = tw_quota_open(s_path, 10000, NULL);
    if (!q)
        return 0;
    /* a fixed instant: the file's day may or may not be "today" */
    tw_quota_set_now(q, INT64_C(1767225600000000));
    (void)tw_quota_allowed(q, 1);
    (void)tw_quota_blocked_until(q);
    uint64_t used = tw_quota_used(q);
    uint64_t left = tw_quota_left(q);
    if (left > tw_quota_per_day(q))
        abort();
    (void)used;
    tw_quota_spend(q, "videos.list", 1, NULL);
    tw_quota_method_t m[8];
    size_t n = tw_quota_methods(q, m, 8);
    if (n > 8)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!memchr(m[i].method, '\0', sizeof m[i].method))
            abort();
    tw_quota_destroy(&q);
    return 0;
}
