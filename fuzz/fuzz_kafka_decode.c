/* Fuzz target: tw-kafka-decode's kcat framing reader and its Confluent
 * Avro path (bounds check, avro-c read, JSON output) against two fixed
 * writer schemas: id 1 = ksqlDB's yt_videos value, id 2 = every Avro type
 * (nested and recursive records, enum, fixed, bytes, arrays, maps). The
 * tool's code is included so its static functions are what is fuzzed. */
#define TW_KDEC_NO_MAIN
#include "../tests/tools/tw-kafka-decode.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char s_ksql[] =
    "{\"type\":\"record\",\"name\":\"KsqlDataSourceSchema\",\"namespace\":"
    "\"io.confluent.ksql.avro_schemas\",\"fields\":["
    "{\"name\":\"VIDEO_TIMESTAMP\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"TITLE\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"DESCRIPTION\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"VIEWS\",\"type\":[\"null\",\"int\"]},"
    "{\"name\":\"LIKES\",\"type\":[\"null\",\"int\"]},"
    "{\"name\":\"FAVORITES\",\"type\":[\"null\",\"int\"]},"
    "{\"name\":\"COMMENTS\",\"type\":[\"null\",\"int\"]}]}";

static const char s_every[] =
    "{\"type\":\"record\",\"name\":\"All\",\"fields\":["
    "{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i\",\"type\":\"int\"},"
    "{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},"
    "{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"by\",\"type\":\"bytes\"},"
    "{\"name\":\"s\",\"type\":\"string\"},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F4\","
    "\"size\":4}},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
    "\"symbols\":[\"A\",\"B\",\"C\"]}},"
    "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
    "{\"name\":\"an\",\"type\":{\"type\":\"array\",\"items\":\"null\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"
    "{\"name\":\"u\",\"type\":[\"null\",\"string\",\"long\"]},"
    "{\"name\":\"next\",\"type\":[\"null\",{\"type\":\"record\","
    "\"name\":\"Node\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
    "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}]}]}";

static char *s_fetch(void *arg, int32_t id, char *why, size_t cap)
{
    (void)arg;
    if (id == 1 || id == 2) {
        char *t = strdup(id == 1 ? s_ksql : s_every);
        if (!t) {
            snprintf(why, cap, "out of memory");
        }
        return t;
    }
    snprintf(why, cap, "Schema %d not found", (int)id);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* schemas stay resolved across runs, as in one tool run */
    static kd_ctx_t ctx = {.fetch = s_fetch};
    tw_buf_t *out = tw_buf_new();
    if (!out) {
        return 0;
    }
    size_t off = 0;
    kd_frame_t fr;
    char why[1024];
    for (int n = 0; n < 1000; n++) {
        size_t before = off;
        int r = kd_frame_next(data, size, &off, &fr, why, sizeof why);
        if (r <= 0) {
            assert(r == 0 || why[0]);
            break;
        }
        assert(off > before && off <= size);
        assert(fr.key_len <= size && fr.value_len <= size);
        size_t mark = tw_buf_len(out);
        if (kd_record(&ctx, &fr, out, why, sizeof why)) {
            /* every record is one line of valid JSON */
            const char *line = tw_buf_data(out) + mark;
            size_t len = tw_buf_len(out) - mark;
            assert(len > 1 && line[len - 1] == '\n');
            assert(!memchr(line, '\n', len - 1));
            tw_json_t *j = tw_json_new();
            assert(j);
            assert(tw_json_parse(j, line, len - 1, NULL) == TW_OK);
            tw_json_destroy(&j);
        } else {
            assert(why[0]);
            assert(tw_buf_len(out) == mark);
        }
    }
    tw_buf_destroy(&out);
    return 0;
}
