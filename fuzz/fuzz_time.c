/* Fuzz target: RFC 3339, duration and HH:MM parsers; whatever parses must
 * format and parse back to the same value. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tw_id.h"
#include "tw_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t us, back;
    char buf[TW_TIME_STR_SIZE];
    if (tw_time_parse_n(s, size, &us, NULL) == TW_OK) {
        tw_time_format(us, buf);
        if (tw_time_parse(buf, &back, NULL) == TW_OK && us >= 0 &&
            us < INT64_C(253402300800000000))
            assert(back == us);
    }
    int64_t ms;
    if (tw_time_duration_parse(s, &ms, NULL) == TW_OK) {
        char dur[TW_TIME_DUR_SIZE];
        assert(tw_time_duration_parse(tw_time_duration_format(ms, dur), &back,
                                      NULL) == TW_OK);
        assert(back == ms);
    }
    int h, m;
    if (tw_time_hhmm_parse(s, &h, &m, NULL) == TW_OK)
        assert(h >= 0 && h < 24 && m >= 0 && m < 60);
    char id[TW_ID_MAX];
    tw_id_kind_t kind;
    if (tw_id_parse_channel(s, id, sizeof id, &kind, NULL) == TW_OK)
        assert(kind == TW_ID_CHANNEL ? tw_id_is_channel(id)
                                     : tw_id_is_handle(id));
    if (tw_id_parse_video(s, id, sizeof id, NULL) == TW_OK)
        assert(tw_id_is_video(id));
    free(s);
    return 0;
}
