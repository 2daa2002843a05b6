/* Fuzz target: the scanner's parsers (channels file, stream table, channel
 * page id) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tw_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    tw_scan_chan_ref_t *refs = NULL;
    size_t n = 0, bad = 0;
    if (tw_scan_channels_parse(buf, size, &refs, &n, &bad, NULL) == TW_OK) {
        for (size_t i = 0; i < n; i++)
            if (!tw_id_is_channel(refs[i].ref) && !tw_id_is_handle(refs[i].ref))
                abort();
    }
    /* capped: the first 3 of the same list, in the same order, no dups */
    size_t all = n;
    tw_scan_chan_ref_t *full = refs;
    refs = NULL;
    size_t over = 0;
    if (full && tw_scan_channels_parse_max(buf, size, 3, &refs, &n, &bad, &over,
                                           NULL) == TW_OK) {
        if (n != (all < 3 ? all : 3) || (all > 3 && over < all - 3))
            abort();
        for (size_t i = 0; i < n; i++) {
            if (strcmp(refs[i].ref, full[i].ref) != 0)
                abort();
            for (size_t k = 0; k < i; k++)
                if (strcmp(refs[i].ref, refs[k].ref) == 0)
                    abort();
        }
    }
    free(full);
    free(refs);
    tw_scan_stream_t *v = NULL;
    if (tw_scan_streams_parse(buf, size, &v, &n, NULL) == TW_OK) {
        for (size_t i = 0; i < n; i++) {
            if (!tw_id_is_video(v[i].video_id) ||
                strlen(tw_scan_state_str(v[i].state)) == 0)
                abort();
            volatile size_t k = strlen(v[i].title) + strlen(v[i].reason);
            (void)k;
        }
    }
    free(v);
    char id[TW_ID_MAX];
    if (tw_scan_channel_page_id(buf, size, id, sizeof id) == TW_OK &&
        !tw_id_is_channel(id))
        abort();
    return 0;
}
