/* Fuzz target: the Schema Registry's answers as the kafka worker reads
 * them (latest version, registration id, error) and the schema text they
 * carry, mapped onto every topic's records and used to encode one. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../workers/kafka/kafka_avro.h"
#include "../workers/kafka/kafka_registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    uint32_t id = 0;
    int code = 0;
    kafka_registry_parse_id(buf, size, &id, NULL);
    kafka_registry_parse_error(buf, size, &code, NULL);
    char *schema = NULL;
    if (kafka_registry_parse_latest(buf, size, &id, &schema, NULL) != TW_OK)
        return 0;
    for (int t = 0; t < KAFKA_TOPIC_COUNT; t++) {
        kafka_avro_t *enc = kafka_avro_new((kafka_topic_t)t, schema,
                                           strlen(schema), id, NULL);
        if (!enc)
            continue;
        kafka_record_t r;
        memset(&r, 0, sizeof r);
        r.topic = (kafka_topic_t)t;
        size_t n;
        const kafka_field_t *f = kafka_record_fields(r.topic, &n);
        for (size_t k = 0; k < n; k++)
            r.v[k] = (kafka_val_t){.set = k % 2 == 0 || !f[k].nullable,
                                   .s = "v",
                                   .n = INT64_MAX - (int64_t)k,
                                   .b = true};
        char *out = NULL;
        size_t len = 0;
        if (kafka_avro_encode(enc, &r, &out, &len, NULL) == TW_OK)
            free(out);
        kafka_avro_destroy(&enc);
    }
    free(schema);
    return 0;
}
