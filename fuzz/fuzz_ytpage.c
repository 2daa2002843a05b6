/* Fuzz target: tw_ytpage on arbitrary bytes as HTML and as JSON, and the
 * chat continuation token decoder. */
#include <stdint.h>
#include <string.h>

#include "tw_ytpage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tw_ytpage_t *page;
    if (!page)
        page = tw_ytpage_new();
    const char *s = (const char *)data;
    tw_ytpage_parse_html(page, s, size, NULL);
    tw_ytpage_reset(page);
    tw_ytpage_parse_json(page, s, size, NULL);
    const tw_ytpage_info_t *in = tw_ytpage_info(page);
    volatile size_t n = strlen(in->title) + strlen(in->chat_continuation) +
                        strlen(in->chat_video_id) + strlen(in->viewers_text) +
                        strlen(in->play_reason);
    for (size_t i = 0; i < tw_ytpage_stream_count(page); i++)
        n += strlen(tw_ytpage_stream(page, i)->video_id);
    (void)n;
    uint64_t v;
    tw_ytpage_exact_count(s, size, &v);
    tw_ytpage_chat_type(s, size);
    tw_ytpage_token_t tok;
    if (tw_ytpage_token_decode(s, size, &tok) == TW_OK) {
        /* The decoded ids are NUL-terminated inside their arrays. */
        if (memchr(tok.video_id, 0, sizeof tok.video_id) == NULL ||
            memchr(tok.channel_id, 0, sizeof tok.channel_id) == NULL)
            __builtin_trap();
    }
    return 0;
}
