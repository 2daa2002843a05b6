/* Fuzz target: tw_json parse plus a full walk of every value. */
#include <stddef.h>
#include <stdint.h>

#include "tw_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tw_json_t *j;
    if (!j)
        j = tw_json_new();
    if (tw_json_parse(j, (const char *)data, size, NULL) != TW_OK)
        return 0;
    char path[256];
    for (tw_json_ref_t v = 1; v < tw_json_ntok(j); v++) {
        size_t n;
        const char *s = tw_json_str(j, v, &n);
        volatile char sink = s && n ? s[n - 1] : 0;
        (void)sink;
        int64_t i;
        uint64_t u;
        double d;
        tw_json_int64(j, v, &i);
        tw_json_u64(j, v, &u);
        tw_json_double(j, v, &d);
        tw_json_first(j, v);
        tw_json_next(j, v);
        tw_json_next_key(j, v);
        if (v % 64 == 0)
            tw_json_path_of(j, v, path, sizeof path);
    }
    tw_json_get(j, tw_json_root(j), "a");
    tw_json_at(j, tw_json_root(j), 3);
    return 0;
}
