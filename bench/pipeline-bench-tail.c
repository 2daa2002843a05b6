/* pipeline-bench-tail - helper of bench/pipeline-bench (MODE=ytsim): follows
 * every DATA/comments/DAY/CHANNEL/VIDEO.tsv while the pipeline runs and
 * measures, over a window, the rows that appear per second and the latency
 * of each row from its received_at (when chat@ fetched it) to the moment
 * the row is seen on disk (polled every 20 ms).
 *
 *   pipeline-bench-tail DATA_DIR WARMUP_S WINDOW_S
 *
 * Prints "rows N\nseconds S\nmsgs_per_s R\np50_us X\np99_us Y\n". Exit 0,
 * or 100 on bad usage. */
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tw_time.h"

/* Most files followed. */
#define S_MAX_FILES 4096

/* One followed file. */
typedef struct {
    char *path; /* its path */
    long off;   /* bytes consumed (complete lines only) */
} s_file_t;

static s_file_t s_files[S_MAX_FILES];
static size_t s_nfiles;
static uint32_t *s_lat;
static size_t s_nlat, s_caplat;
static long s_rows;

static void s_add_lat(int64_t us)
{
    if (s_nlat == s_caplat) {
        s_caplat = s_caplat ? s_caplat * 2 : 65536;
        s_lat = realloc(s_lat, s_caplat * sizeof *s_lat);
        if (!s_lat)
            exit(111);
    }
    s_lat[s_nlat++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Finds new *.tsv files under dir (three levels: DAY/CHANNEL/VIDEO.tsv). */
static void s_scan(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (depth < 2) {
            s_scan(p, depth + 1);
            continue;
        }
        size_t n = strlen(p);
        if (n < 4 || strcmp(p + n - 4, ".tsv") != 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < s_nfiles && !known; i++)
            known = strcmp(s_files[i].path, p) == 0;
        if (!known && s_nfiles < S_MAX_FILES)
            s_files[s_nfiles++] = (s_file_t){strdup(p), 0};
    }
    closedir(d);
}

/* Reads new complete lines of f; counts them when measuring. */
static void s_follow(s_file_t *f, bool measure)
{
    FILE *fp = fopen(f->path, "r");
    if (!fp)
        return;
    if (fseek(fp, f->off, SEEK_SET) != 0) {
        fclose(fp);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t now = tw_time_now_us();
    while ((len = getline(&line, &cap, fp)) > 0) {
        if (line[len - 1] != '\n')
            break; /* incomplete: read it again next time */
        f->off += len;
        if (strncmp(line, "received_at\t", 12) == 0 || !measure)
            continue;
        int64_t t;
        char *tab = strchr(line, '\t');
        if (tab &&
            tw_time_parse_n(line, (size_t)(tab - line), &t, NULL) == TW_OK)
            s_add_lat(now - t);
        s_rows++;
    }
    free(line);
    fclose(fp);
}

static int s_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pipeline-bench-tail DATA_DIR WARMUP_S "
                        "WINDOW_S\n");
        return 100;
    }
    char comments[4096];
    snprintf(comments, sizeof comments, "%s/comments", argv[1]);
    int64_t t0 = tw_time_mono_us();
    int64_t start = t0 + (int64_t)(atof(argv[2]) * 1e6);
    int64_t end = start + (int64_t)(atof(argv[3]) * 1e6);
    for (;;) {
        int64_t now = tw_time_mono_us();
        if (now >= end)
            break;
        s_scan(comments, 0);
        for (size_t i = 0; i < s_nfiles; i++)
            s_follow(&s_files[i], now >= start);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    uint32_t p50 = 0, p99 = 0;
    if (s_nlat) {
        qsort(s_lat, s_nlat, sizeof *s_lat, s_cmp);
        p50 = s_lat[s_nlat / 2];
        p99 = s_lat[s_nlat * 99 / 100];
    }
    double secs = (double)(end - start) / 1e6;
    printf("rows %ld\nseconds %.3f\nmsgs_per_s %.0f\np50_us %u\np99_us %u\n",
           s_rows, secs, (double)s_rows / secs, p50, p99);
    for (size_t i = 0; i < s_nfiles; i++)
        free(s_files[i].path);
    free(s_lat);
    return 0;
}
