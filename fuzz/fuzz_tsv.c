/* Fuzz target: TSV splitting, unescaping and the escape round trip. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tw_buf.h"
#include "tw_tsv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    tw_buf_t *a = tw_buf_new();
    tw_buf_t *b = tw_buf_new();
    if (!a || !b)
        goto out;
    /* Escaping anything and unescaping it gives it back. */
    if (tw_tsv_escape(a, in, size) != TW_OK)
        goto out;
    assert(tw_buf_len(a) == tw_tsv_escaped_len(in, size));
    assert(!memchr(tw_buf_data(a), '\t', tw_buf_len(a)));
    assert(!memchr(tw_buf_data(a), '\n', tw_buf_len(a)));
    int rc = tw_tsv_unescape(b, tw_buf_data(a), tw_buf_len(a), NULL);
    assert(rc == TW_OK);
    assert(tw_buf_len(b) == size && memcmp(tw_buf_data(b), in, size) == 0);
    /* Walking lines and fields of arbitrary bytes stays in bounds. */
    size_t off = 0, len;
    const char *line;
    bool complete;
    while (tw_tsv_next_line(in, size, &off, &line, &len, &complete)) {
        tw_tsv_field_t f[8];
        size_t n = tw_tsv_split(line, len, f, 8);
        for (size_t i = 0; i < n && i < 8; i++) {
            tw_buf_clear(b);
            if (tw_tsv_unescape(b, f[i].ptr, f[i].len, NULL) == TW_OK)
                assert(tw_buf_len(b) <= f[i].len);
        }
    }
out:
    tw_buf_destroy(&a);
    tw_buf_destroy(&b);
    return 0;
}
