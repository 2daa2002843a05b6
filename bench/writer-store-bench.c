/* Benchmark of writer_store: comment rows/s and MB/s appended (with a sync
 * every 256 rows, as the writer acks batches), and index rebuild rows/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../workers/writer/writer_store.h"

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t s_clock(void *arg)
{
    (void)arg;
    return 1773144000000000LL; /* a fixed day: one set of files */
}

int main(int argc, char **argv)
{
    int rows = argc > 1 ? atoi(argv[1]) : 100000;
    char dir[] = "/tmp/tw-wsbench-XXXXXX";
    if (!mkdtemp(dir))
        return 111;
    writer_store_opts_t o = {0};
    o.data_dir = dir;
    o.clock = s_clock;
    tw_err_t err;
    writer_store_t *st = writer_store_open(&o, &err);
    if (!st) {
        fprintf(stderr, "writer-store-bench: %s\n", err.msg);
        return 111;
    }
    const char *toks[] = {"best", "stream", "ever", "\xf0\x9f\x98\x82"};
    char id[32], vid[16];
    size_t bytes = 0;
    double t0 = s_now(), tsync = 0;
    for (int i = 0; i < rows; i++) {
        snprintf(id, sizeof id, "LCC.msg%08d", i);
        snprintf(vid, sizeof vid, "video%02d", i % 8);
        writer_store_comment_t c = {0};
        c.received_at_us = 1773144000000000LL + i;
        c.published_at_us = c.received_at_us - 1000000;
        c.channel_id = "UCbenchchannel0000000000";
        c.video_id = vid;
        c.message_id = id;
        c.kind = "text";
        c.author_channel_id = "UCauthor00000000000000000";
        c.author_name = "Some Viewer";
        c.text = "This is the best stream ever \xf0\x9f\x98\x82";
        c.tokens = toks;
        c.n_tokens = 4;
        if (writer_store_add_comment(st, &c, NULL, &err) != TW_OK) {
            fprintf(stderr, "writer-store-bench: %s\n", err.msg);
            return 111;
        }
        bytes += 180;
        if (i % 256 == 255) {
            double ts = s_now();
            if (writer_store_sync(st, &err) != TW_OK) {
                fprintf(stderr, "writer-store-bench: %s\n", err.msg);
                return 111;
            }
            tsync += s_now() - ts;
        }
    }
    writer_store_sync(st, NULL);
    double dt = s_now() - t0;
    writer_store_destroy(&st);
    printf("%-34s %10.0f rows/s %8.1f MB/s (approx)\n",
           "writer_store append+sync/256", rows / dt, bytes / dt / 1e6);
    printf("%-34s %10.0f rows/s (%.0f%% of the time in fsync)\n",
           "writer_store append only", rows / (dt - tsync), 100 * tsync / dt);
    t0 = s_now();
    st = writer_store_open(&o, &err);
    dt = s_now() - t0;
    if (st)
        printf("%-34s %10.0f rows/s (%zu keys)\n", "writer_store index rebuild",
               (double)writer_store_index_size(st) / dt,
               writer_store_index_size(st));
    writer_store_destroy(&st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 111;
}
