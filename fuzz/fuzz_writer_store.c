/* libFuzzer target of writer_store's recovery: any bytes as an existing day
 * file (torn, garbage, huge lines) must be repaired and indexed without a
 * crash, and appending afterwards must leave a file ending in a newline. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../workers/writer/writer_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_dir[64];
static char s_files[3][256];

static int64_t s_clock(void *arg)
{
    (void)arg;
    return 1773144000000000LL; /* 2026-03-10 */
}

static void s_cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "unable to remove %s\n", s_dir);
}

static void s_init(void)
{
    /* tmpfs when there is one: fsync is then free and runs are fast */
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
    snprintf(s_dir, sizeof s_dir, "%s/tw-fuzz-ws-%d", base, (int)getpid());
    atexit(s_cleanup);
    const char *dirs[] = {"",
                          "/comments",
                          "/comments/2026-03-10",
                          "/comments/2026-03-10/UCx",
                          "/viewers",
                          "/viewers/2026-03-10",
                          "/viewers/2026-03-10/UCx",
                          "/stats",
                          "/stats/2026-03-10"};
    char p[256];
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(p, sizeof p, "%s%s", s_dir, dirs[i]);
        mkdir(p, 0700);
    }
    snprintf(s_files[0], 256, "%s/comments/2026-03-10/UCx/v1.tsv", s_dir);
    snprintf(s_files[1], 256, "%s/viewers/2026-03-10/UCx/v1.tsv", s_dir);
    snprintf(s_files[2], 256, "%s/stats/2026-03-10/UCx.tsv", s_dir);
}

static void s_put(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
}

static void s_ends_with_newline(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        abort();
    off_t end = lseek(fd, 0, SEEK_END);
    char c = 0;
    if (end <= 0 || pread(fd, &c, 1, end - 1) != 1 || c != '\n')
        abort();
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_dir[0])
        s_init();
    for (int i = 0; i < 3; i++)
        s_put(s_files[i], data, size);
    writer_store_opts_t o = {0};
    o.data_dir = s_dir;
    o.clock = s_clock;
    writer_store_t *st = writer_store_open(&o, NULL);
    if (!st)
        abort();
    writer_store_comment_t c = {0};
    c.received_at_us = s_clock(NULL);
    c.published_at_us = WRITER_STORE_ABSENT;
    c.channel_id = "UCx";
    c.video_id = "v1";
    c.message_id = "fuzz-id";
    c.kind = "text";
    c.text = "x";
    if (writer_store_add_comment(st, &c, NULL, NULL) != TW_OK)
        abort();
    writer_store_viewers_t v = {s_clock(NULL), "UCx", "v1", 1, 2, 3, 4};
    if (writer_store_add_viewers(st, &v, NULL, NULL) != TW_OK)
        abort();
    writer_store_stats_t s = {s_clock(NULL), "UCx", "v1", "t", 1, 2, 3, 4};
    if (writer_store_add_stats(st, &s, NULL, NULL) != TW_OK)
        abort();
    writer_store_destroy(&st);
    for (int i = 0; i < 3; i++)
        s_ends_with_newline(s_files[i]);
    return 0;
}
