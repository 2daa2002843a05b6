/* Fuzz target of tw_journal: opening any file content never crashes, the
 * repaired journal replays, accepts an append and reopens intact. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tw_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_path[80];

static tw_rc_t s_count(void *arg, uint64_t id, const void *buf, size_t len)
{
    (void)id;
    (void)buf;
    (void)len;
    (*(size_t *)arg)++;
    return TW_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_path[0]) {
        /* tmpfs when there is one: the repair path syncs. */
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(s_path, sizeof s_path, "%s/fuzz-journal-%ld", dir,
                 (long)getpid());
    }
    FILE *f = fopen(s_path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    tw_journal_t *j = NULL;
    if (tw_journal_open(&j, s_path, NULL) != TW_OK) {
        unlink(s_path);
        return 0;
    }
    size_t n = 0;
    if (tw_journal_foreach(j, s_count, &n, NULL) != TW_OK ||
        n != tw_journal_count(j))
        abort();
    uint64_t id = 0;
    /* Appending syncs to disk: do it for one input in eight only. */
    if (size % 8 == 0 && tw_journal_append(j, "x", 1, &id, NULL) == TW_OK) {
        if (id + 1 != tw_journal_next_id(j))
            abort();
        (void)tw_journal_trim(j, id - 1, NULL);
        tw_journal_destroy(&j);
        if (tw_journal_open(&j, s_path, NULL) != TW_OK)
            abort();
        /* What we wrote after a repair is valid: nothing more to cut. */
        if (tw_journal_repaired(j) != 0 || tw_journal_count(j) != 1)
            abort();
    }
    tw_journal_destroy(&j);
    unlink(s_path);
    return 0;
}
