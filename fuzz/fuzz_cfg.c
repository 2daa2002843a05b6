/* Fuzz target of tw_cfg: any bytes as supervisor.toml load (or are refused
 * with problems that all carry a message) without a crash, and a loaded
 * config answers every worker lookup. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_cfg.h"
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
        snprintf(s_path, sizeof s_path, "%s/tw-fuzz-cfg-%d.toml", base,
                 (int)getpid());
        atexit(s_cleanup);
        tw_log_set_level(TW_LOG_ERROR);
    }
    FILE *f = fopen(s_path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    tw_cfg_problem_t *problems = NULL;
    size_t n = 0;
    tw_cfg_t *cfg = tw_cfg_load(s_path, &problems, &n);
    if (cfg) {
        static const char *const names[] = {"writer",   "tokenizer", "notifier",
                                            "scanner",  "chat",      "stats",
                                            "uploader", "x"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            (void)tw_cfg_worker(cfg, names[i]);
        tw_cfg_destroy(&cfg);
    } else {
        FILE *out = fopen("/dev/null", "w");
        if (out) {
            tw_cfg_print_problems(out, s_path, problems, n);
            fclose(out);
        }
    }
    free(problems);
    return 0;
}
