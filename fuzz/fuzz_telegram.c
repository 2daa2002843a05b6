/* Fuzz target: tw_telegram reply classification, HTML escaping and
 * splitting on arbitrary bytes. The first byte picks the HTTP status. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tw_telegram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {0,   200, 400, 401, 403, 404,
                                    409, 420, 429, 500, 502, 503};
    if (size == 0)
        return 0;
    long status = statuses[data[0] % (sizeof statuses / sizeof *statuses)];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    tw_telegram_result_t r;
    tw_telegram_parse_reply(status, body, len, len > 3 ? "5" : NULL, &r);
    assert(r.status <= TW_TELEGRAM_REJECTED);
    assert(memchr(r.description, '\0', sizeof r.description));
    assert(memchr(r.username, '\0', sizeof r.username));
    assert(r.retry_after_ms >= 0);
    (void)tw_telegram_status_str(r.status);

    /* splitting and escaping: parts cover the input, each fits, and the
     * escaped text never holds a raw < or > */
    size_t limit = 1 + data[0] % 64;
    size_t off = 0;
    while (off < len) {
        size_t n = tw_telegram_split(body + off, len - off, limit);
        assert(n > 0 && n <= len - off);
        assert(tw_telegram_text_len(body + off, n) <= (limit < 2 ? 2 : limit));
        char *h = tw_telegram_escape_html(body + off, n);
        assert(h);
        assert(!strchr(h, '<') && !strchr(h, '>'));
        free(h);
        off += n;
    }
    return 0;
}
