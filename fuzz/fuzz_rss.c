/* Fuzz target: tw_rss on arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "tw_rss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tw_rss_t *rss;
    if (!rss)
        rss = tw_rss_new();
    if (tw_rss_parse(rss, (const char *)data, size, NULL) != TW_OK)
        return 0;
    for (size_t i = 0; i < tw_rss_count(rss); i++) {
        const tw_rss_entry_t *e = tw_rss_entry(rss, i);
        volatile size_t n = strlen(e->video_id) + strlen(e->title) +
                            strlen(e->channel_id) + strlen(e->published);
        (void)n;
    }
    (void)strlen(tw_rss_channel_id(rss));
    return 0;
}
