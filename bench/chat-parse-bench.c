/* chat-parse-bench - parses chat JSON files repeatedly for about 3 seconds
 * (TW_BENCH_SECONDS overrides) and prints items/s and MB/s, by wall clock
 * and per CPU second. Exit 0 ok, 100
 * usage, 111 unreadable or malformed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tw_json.h"
#include "tw_rc.h"
#include "tw_ytchat.h"

/* One loaded input file. */
typedef struct {
    char *buf;  /* contents */
    size_t len; /* bytes */
} s_file_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int s_load(const char *path, s_file_t *f)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    if (fseek(fp, 0, SEEK_END) != 0) {
        fclose(fp);
        return -1;
    }
    long n = ftell(fp);
    rewind(fp);
    f->buf = malloc(n > 0 ? (size_t)n : 1);
    f->len = n > 0 ? (size_t)n : 0;
    int ok = f->buf && fread(f->buf, 1, f->len, fp) == f->len;
    fclose(fp);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: chat-parse-bench [--json-only] FILE...\n");
        return TW_EXIT_USAGE;
    }
    int first = 1;
    int json_only = 0;
    if (strcmp(argv[1], "--json-only") == 0) {
        json_only = 1;
        first = 2;
    }
    int nfiles = argc - first;
    s_file_t *files = calloc((size_t)nfiles + 1, sizeof *files);
    size_t bytes = 0;
    for (int i = 0; i < nfiles; i++) {
        if (s_load(argv[first + i], &files[i]) != 0) {
            fprintf(stderr, "chat-parse-bench: unable to read %s\n",
                    argv[first + i]);
            return TW_EXIT_TEMP;
        }
        bytes += files[i].len;
    }
    double secs = 3.0;
    const char *env = getenv("TW_BENCH_SECONDS");
    if (env && atof(env) > 0)
        secs = atof(env);
    tw_ytchat_t *chat = tw_ytchat_new();
    tw_json_t *json = tw_json_new();
    if (!chat || !json)
        return TW_EXIT_TEMP;
    size_t items_per_round = 0;
    for (int i = 0; i < nfiles; i++) {
        tw_err_t err = {0};
        tw_rc_t rc = tw_ytchat_parse(chat, files[i].buf, files[i].len, &err);
        if (rc != TW_OK) {
            fprintf(stderr, "chat-parse-bench: unable to parse %s: %s\n",
                    argv[first + i], err.msg);
            return TW_EXIT_TEMP;
        }
        for (size_t k = 0; k < tw_ytchat_count(chat); k++)
            if (tw_ytchat_item(chat, k)->kind <= TW_YTCHAT_OTHER)
                items_per_round++;
    }
    double start = s_now(), cpu0 = s_cpu(), elapsed;
    size_t rounds = 0, items = 0;
    do {
        for (int i = 0; i < nfiles; i++) {
            if (json_only) {
                tw_json_parse(json, files[i].buf, files[i].len, NULL);
            } else {
                tw_ytchat_parse(chat, files[i].buf, files[i].len, NULL);
                items += tw_ytchat_count(chat);
            }
        }
        rounds++;
        elapsed = s_now() - start;
    } while (elapsed < secs);
    double cpu = s_cpu() - cpu0;
    double mb = (double)bytes * (double)rounds / 1e6;
    printf("%d files, %zu bytes, %zu chat items per round, %zu rounds in "
           "%.2f s\n",
           nfiles, bytes, items_per_round, rounds, elapsed);
    printf("%.0f items/s  %.1f MB/s%s\n",
           (double)items_per_round * (double)rounds / elapsed, mb / elapsed,
           json_only ? "  (JSON validation only)" : "");
    /* Per CPU second: fairer on a box shared with other jobs. */
    if (cpu > 0)
        printf("%.0f items/s  %.1f MB/s per CPU second (%.2f s CPU)\n",
               (double)items_per_round * (double)rounds / cpu, mb / cpu, cpu);
    (void)items;
    tw_ytchat_destroy(&chat);
    tw_json_destroy(&json);
    for (int i = 0; i < nfiles; i++)
        free(files[i].buf);
    free(files);
    return TW_EXIT_OK;
}
