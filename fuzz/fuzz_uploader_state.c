/* libFuzzer target of the uploader's journal (uploaded.tsv): any bytes must
 * load without a crash (bad lines skipped), and what is saved must load
 * back to the same days. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_archive.h"
#include "tw_log.h"

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
        snprintf(s_path, sizeof s_path, "%s/tw-fuzz-upstate-%d.tsv", base,
                 (int)getpid());
        atexit(s_cleanup);
        tw_log_set_level(TW_LOG_ERROR);
    }
    FILE *f = fopen(s_path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    tw_archive_state_t *st = NULL;
    if (tw_archive_state_load(s_path, &st, NULL) != TW_OK)
        return 0;
    size_t n = tw_archive_state_count(st);
    for (size_t i = 0; i < n; i++) {
        tw_archive_day_t *d = tw_archive_state_at(st, i);
        if (!tw_archive_valid_date(d->date) || d->phase > TW_ARCHIVE_DELETED)
            abort();
    }
    if (tw_archive_state_save(st, NULL) == TW_OK) {
        tw_archive_state_t *again = NULL;
        if (tw_archive_state_load(s_path, &again, NULL) == TW_OK) {
            if (tw_archive_state_count(again) != n)
                abort();
            for (size_t i = 0; i < n; i++) {
                tw_archive_day_t *a = tw_archive_state_at(st, i);
                tw_archive_day_t *b = tw_archive_state_at(again, i);
                if (strcmp(a->date, b->date) || a->phase != b->phase ||
                    a->size != b->size || strcmp(a->md5, b->md5) ||
                    strcmp(a->session, b->session) ||
                    strcmp(a->file_id, b->file_id))
                    abort();
            }
            tw_archive_state_destroy(&again);
        }
    }
    tw_archive_state_destroy(&st);
    return 0;
}
