/* Fuzz target: STATE/stats/uploads.tsv as stats_sampler reads it back, and
 * a "K/N" shard, on arbitrary bytes; what is read must format and read back
 * to the same list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../workers/stats/stats_sampler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const chans[] = {"UCaaaaaaaaaaaaaaaaaaaaaa",
                                        "UCbbbbbbbbbbbbbbbbbbbbbb"};
    const int64_t now = INT64_C(1772323200000000);
    stats_sampler_cfg_t c = {.watch_uploads = true,
                             .max_age_us = INT64_C(30) * 86400 * 1000000,
                             .uploads_max = 50,
                             .shard = {1, 1}};
    stats_sampler_t *a = stats_sampler_new(&c);
    stats_sampler_t *b = stats_sampler_new(&c);
    if (!a || !b)
        abort();
    stats_sampler_set_channels(a, chans, 2);
    stats_sampler_set_channels(b, chans, 2);
    stats_sampler_uploads_parse(a, (const char *)data, size, now);
    stats_sampler_prune(a, now);
    size_t len = 0;
    char *text = stats_sampler_uploads_format(a, &len);
    if (!text)
        abort();
    stats_sampler_uploads_parse(b, text, len, now);
    if (stats_sampler_video_count(a) != stats_sampler_video_count(b))
        abort();
    for (size_t i = 0; i < stats_sampler_video_count(a); i++) {
        const stats_vid_t *x = stats_sampler_video(a, i);
        const stats_vid_t *y = stats_sampler_find(b, x->id);
        if (!tw_id_is_video(x->id) || !y || y->published_us != x->published_us)
            abort();
    }
    free(text);
    stats_sampler_destroy(&a);
    stats_sampler_destroy(&b);
    char shard[32];
    size_t n = size < sizeof shard - 1 ? size : sizeof shard - 1;
    memcpy(shard, data, n);
    shard[n] = '\0';
    tw_shard_t s;
    if (tw_shard_parse(shard, &s, NULL) == TW_OK &&
        (s.k < 1 || s.k > s.n || s.n > TW_SHARD_MAX))
        abort();
    return 0;
}
