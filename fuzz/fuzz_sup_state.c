/* Fuzz target of the supervisor's state files: any bytes as spawns.tsv load
 * without a crash (bad lines counted), every entry loaded is a valid
 * template instance, and a save/load round trip is exact; the same bytes as
 * the epoch counter open and hand out increasing epochs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../supervisor/daemon/sup_state.h"
#include "tw_log.h"
#include "tw_worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 64

static char s_path[128];

static void s_cleanup(void)
{
    unlink(s_path);
}

static int s_put(const uint8_t *data, size_t size)
{
    FILE *f = fopen(s_path, "wb");
    if (!f)
        return -1;
    fwrite(data, 1, size, f);
    fclose(f);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_path[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
        snprintf(s_path, sizeof s_path, "%s/tw-fuzz-sup-%d", base,
                 (int)getpid());
        atexit(s_cleanup);
        tw_log_set_level(TW_LOG_ERROR);
    }
    if (s_put(data, size) != 0)
        return 0;
    static sup_spawn_t v[CAP], w[CAP];
    size_t n = 0, bad = 0;
    if (sup_spawns_load(s_path, v, CAP, &n, &bad, NULL) == TW_OK) {
        if (n > CAP)
            abort();
        for (size_t i = 0; i < n; i++) {
            if (!memchr(v[i].tmpl, '\0', sizeof v[i].tmpl) ||
                !tw_worker_valid_instance(v[i].instance) ||
                strchr(v[i].tmpl, '\t') || strchr(v[i].tmpl, '\n'))
                abort();
        }
        if (sup_spawns_save(s_path, v, n, NULL) == TW_OK) {
            size_t n2 = 0, bad2 = 0;
            if (sup_spawns_load(s_path, w, CAP, &n2, &bad2, NULL) != TW_OK ||
                n2 != n || bad2 != 0)
                abort();
            for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].tmpl, w[i].tmpl) ||
                    strcmp(v[i].instance, w[i].instance) ||
                    v[i].not_before != w[i].not_before)
                    abort();
        }
    }
    if (s_put(data, size) != 0)
        return 0;
    sup_epoch_t *e = sup_epoch_open(s_path, NULL);
    if (e) {
        uint64_t a = sup_epoch_next(e);
        uint64_t b = sup_epoch_next(e);
        if (a == 0 || b <= a)
            abort();
        sup_epoch_destroy(&e);
    }
    return 0;
}
