/* Unit tests of workers/kafka/kafka_record and kafka_avro: records made
 * from frames, JSON, Confluent framing, Avro round trips through libavro,
 * null counts, int clamping, schemas that fit or not. */
#include <avro.h>
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/kafka/kafka_avro.h"
#include "../../workers/kafka/kafka_record.h"
#include "../kafka_registry_stub.h"

#define S_VID  "dQw4w9WgXcQ"
#define S_CHAN "UCuAXFkgsw1L7xaCfnd5JJOw"

/* A stats.sample: views set, likes hidden, 2024-05-01T12:00:00Z. */
static tw_msg_t s_sample(uint64_t views, bool viewers)
{
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_STATS_SAMPLE;
    tw_msg_stats_sample_t *s = &m.u.stats_sample;
    s->video_id = S_VID;
    s->channel_id = S_CHAN;
    s->title = "Launch \"day\"";
    s->description = "line1\nline2";
    s->sampled_at_us = 1795000000LL * 1000000;
    s->published_at_us = (tw_oi64_t){true, 1714564800LL * 1000000};
    s->views = (tw_ou64_t){true, views};
    s->comments = (tw_ou64_t){true, 0};
    if (viewers)
        s->concurrent_viewers = (tw_ou64_t){true, 1234};
    return m;
}

START_TEST(test_sample_makes_videos_and_viewers)
{
    tw_msg_t m = s_sample(42, true);
    ck_assert_uint_eq(kafka_record_count(&m), 2);
    kafka_record_t r;
    kafka_record_make(&m, 0, &r);
    ck_assert_int_eq(r.topic, KAFKA_TOPIC_VIDEOS);
    ck_assert_str_eq(r.key, S_VID);
    char *json = NULL;
    size_t len = 0;
    ck_assert_int_eq(kafka_record_json(&r, &json, &len, NULL), TW_OK);
    ck_assert_str_eq(json,
                     "{\"VIDEO_TIMESTAMP\":\"2024-05-01T12:00:00Z\","
                     "\"TITLE\":\"Launch \\\"day\\\"\","
                     "\"DESCRIPTION\":\"line1\\nline2\",\"VIEWS\":42,"
                     "\"LIKES\":null,\"FAVORITES\":null,\"COMMENTS\":0}");
    free(json);
    kafka_record_clear(&r);
    kafka_record_make(&m, 1, &r);
    ck_assert_int_eq(r.topic, KAFKA_TOPIC_VIEWERS);
    ck_assert(r.v[3].set);
    ck_assert_int_eq(r.v[3].n, 1234);
    ck_assert(!r.v[5].set); /* likes hidden: null, not 0 */
    kafka_record_clear(&r);

    /* Only viewers: one record, on yt_viewers. */
    tw_msg_t v = s_sample(1, true);
    v.u.stats_sample.views.set = false;
    v.u.stats_sample.comments.set = false;
    ck_assert_uint_eq(kafka_record_count(&v), 1);
    kafka_record_make(&v, 0, &r);
    ck_assert_int_eq(r.topic, KAFKA_TOPIC_VIEWERS);
    kafka_record_clear(&r);
}
END_TEST

START_TEST(test_chat_items_and_deletion)
{
    tw_tok_item_t items[2];
    memset(items, 0, sizeof items);
    char *toks[] = {"hello", "world"};
    items[0].id = "msg1";
    items[0].kind = TW_CHAT_KIND_TEXT;
    items[0].received_usec = 1795000000LL * 1000000;
    items[0].author_name = "Ann";
    items[0].author_channel_id = "UCa";
    items[0].amount = "";
    items[0].text = "Hello \xff world"; /* one byte that is not UTF-8 */
    items[0].tokens = (tw_strs_t){toks, 2};
    items[1].id = "del1";
    items[1].kind = TW_CHAT_KIND_DELETED;
    items[1].ref_id = "msg0";
    items[1].text = "ignored";
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_CHAT_TOKENIZED;
    m.u.chat_tokenized.video_id = S_VID;
    m.u.chat_tokenized.channel_id = S_CHAN;
    m.u.chat_tokenized.items = (tw_tok_item_list_t){items, 2};
    ck_assert_uint_eq(kafka_record_count(&m), 2);
    kafka_record_t r;
    kafka_record_make(&m, 0, &r);
    char *json = NULL;
    size_t len = 0;
    ck_assert_int_eq(kafka_record_json(&r, &json, &len, NULL), TW_OK);
    json_t *j = json_loadb(json, len, 0, NULL);
    ck_assert_ptr_nonnull(j); /* valid JSON despite the bad byte */
    ck_assert_str_eq(json_string_value(json_object_get(j, "message_id")),
                     "msg1");
    ck_assert_str_eq(json_string_value(json_object_get(j, "tokens")),
                     "hello world");
    ck_assert_str_eq(json_string_value(json_object_get(j, "text")),
                     "Hello \xef\xbf\xbd world");
    ck_assert(json_is_null(json_object_get(j, "amount")));
    ck_assert(json_is_null(json_object_get(j, "published_at")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "received_at")),
                     "2026-11-18T11:06:40.000000Z");
    json_decref(j);
    free(json);
    kafka_record_clear(&r);
    kafka_record_make(&m, 1, &r);
    ck_assert_str_eq(r.v[4].s, "msg0"); /* the deleted message's id */
    ck_assert_str_eq(r.v[5].s, "deleted");
    ck_assert(!r.v[9].set);
    kafka_record_clear(&r);
}
END_TEST

/* Decodes a Confluent frame with schema json; returns the value (caller
 * decrefs it and *iface). */
static void s_decode(const char *schema_json, const char *buf, size_t len,
                     uint32_t want_id, avro_value_iface_t **iface,
                     avro_value_t *out, avro_schema_t *schema)
{
    ck_assert_uint_ge(len, KAFKA_AVRO_HEADER);
    ck_assert_int_eq((unsigned char)buf[0], 0);
    uint32_t id = (uint32_t)(unsigned char)buf[1] << 24 |
                  (uint32_t)(unsigned char)buf[2] << 16 |
                  (uint32_t)(unsigned char)buf[3] << 8 |
                  (uint32_t)(unsigned char)buf[4];
    ck_assert_uint_eq(id, want_id);
    ck_assert_int_eq(
        avro_schema_from_json_length(schema_json, strlen(schema_json), schema),
        0);
    *iface = avro_generic_class_from_schema(*schema);
    ck_assert_int_eq(avro_generic_value_new(*iface, out), 0);
    avro_reader_t rd = avro_reader_memory(buf + KAFKA_AVRO_HEADER,
                                          (int64_t)(len - KAFKA_AVRO_HEADER));
    ck_assert_int_eq(avro_value_read(rd, out), 0);
    avro_reader_free(rd);
}

/* Field name of record v: *is_null, or its branch value in *br. */
static void s_field(avro_value_t *v, const char *name, bool *is_null,
                    avro_value_t *br)
{
    avro_value_t f;
    ck_assert_int_eq(avro_value_get_by_name(v, name, &f, NULL), 0);
    if (avro_value_get_type(&f) == AVRO_UNION) {
        ck_assert_int_eq(avro_value_get_current_branch(&f, br), 0);
    } else {
        *br = f;
    }
    *is_null = avro_value_get_type(br) == AVRO_NULL;
}

START_TEST(test_avro_own_schema_round_trip)
{
    char *schema = kafka_avro_schema_json(KAFKA_TOPIC_VIDEOS);
    ck_assert_ptr_nonnull(schema);
    ck_assert_ptr_nonnull(strstr(schema, "\"VIEWS\",\"type\":[\"null\","
                                         "\"long\"]"));
    tw_err_t err = {0};
    kafka_avro_t *enc = kafka_avro_new(KAFKA_TOPIC_VIDEOS, schema,
                                       strlen(schema), 0x01020304, &err);
    ck_assert_msg(enc != NULL, "%s", err.msg);
    ck_assert_str_eq(kafka_avro_narrowed(enc), "");
    tw_msg_t m = s_sample(5000000000ULL, false); /* > 2^31 - 1 */
    kafka_record_t r;
    kafka_record_make(&m, 0, &r);
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(kafka_avro_encode(enc, &r, &buf, &len, &err), TW_OK);
    /* Framing: magic 0, id big-endian. */
    ck_assert_int_eq(buf[1], 1);
    ck_assert_int_eq(buf[2], 2);
    ck_assert_int_eq(buf[3], 3);
    ck_assert_int_eq(buf[4], 4);
    avro_value_iface_t *iface;
    avro_value_t v;
    avro_schema_t sc;
    s_decode(schema, buf, len, 0x01020304, &iface, &v, &sc);
    bool null;
    avro_value_t br;
    int64_t n;
    const char *s;
    size_t sl;
    s_field(&v, "VIEWS", &null, &br);
    ck_assert(!null);
    ck_assert_int_eq(avro_value_get_long(&br, &n), 0);
    ck_assert_int_eq(n, 5000000000LL);
    s_field(&v, "LIKES", &null, &br);
    ck_assert(null);
    s_field(&v, "COMMENTS", &null, &br);
    ck_assert(!null);
    ck_assert_int_eq(avro_value_get_long(&br, &n), 0);
    ck_assert_int_eq(n, 0);
    s_field(&v, "VIDEO_TIMESTAMP", &null, &br);
    ck_assert_int_eq(avro_value_get_string(&br, &s, &sl), 0);
    ck_assert_str_eq(s, "2024-05-01T12:00:00Z");
    s_field(&v, "TITLE", &null, &br);
    ck_assert_int_eq(avro_value_get_string(&br, &s, &sl), 0);
    ck_assert_str_eq(s, "Launch \"day\"");
    ck_assert_uint_eq(kafka_avro_clamped(enc), 0);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(sc);
    free(buf);
    kafka_record_clear(&r);
    kafka_avro_destroy(&enc);
    kafka_avro_destroy(&enc);
    ck_assert_ptr_null(enc);
    free(schema);
}
END_TEST

START_TEST(test_avro_seed_schema_clamps_int)
{
    const char *seed = KRS_SEED_SCHEMA;
    tw_err_t err = {0};
    kafka_avro_t *enc =
        kafka_avro_new(KAFKA_TOPIC_VIDEOS, seed, strlen(seed), 7, &err);
    ck_assert_msg(enc != NULL, "%s", err.msg);
    ck_assert_str_eq(kafka_avro_narrowed(enc),
                     "VIEWS, LIKES, FAVORITES, COMMENTS");
    tw_msg_t m = s_sample(5000000000ULL, false);
    kafka_record_t r;
    kafka_record_make(&m, 0, &r);
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(kafka_avro_encode(enc, &r, &buf, &len, &err), TW_OK);
    ck_assert_uint_eq(kafka_avro_clamped(enc), 1);
    avro_value_iface_t *iface;
    avro_value_t v;
    avro_schema_t sc;
    s_decode(seed, buf, len, 7, &iface, &v, &sc);
    bool null;
    avro_value_t br;
    int32_t i32;
    s_field(&v, "VIEWS", &null, &br);
    ck_assert_int_eq(avro_value_get_int(&br, &i32), 0);
    ck_assert_int_eq(i32, INT32_MAX);
    s_field(&v, "LIKES", &null, &br);
    ck_assert(null); /* hidden stays null under int too */
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(sc);
    free(buf);
    kafka_record_clear(&r);
    kafka_avro_destroy(&enc);
}
END_TEST

START_TEST(test_avro_schemas_that_do_not_fit)
{
    tw_err_t err = {0};
    const char *bad[] = {
        "not json",
        "\"string\"",
        /* a required field tubewatch does not have */
        "{\"type\":\"record\",\"name\":\"x\",\"fields\":[{\"name\":\"OTHER\","
        "\"type\":\"string\"}]}",
        /* a count as string */
        "{\"type\":\"record\",\"name\":\"x\",\"fields\":[{\"name\":\"VIEWS\","
        "\"type\":\"string\"}]}",
        /* a map */
        "{\"type\":\"record\",\"name\":\"x\",\"fields\":[{\"name\":\"TITLE\","
        "\"type\":{\"type\":\"map\",\"values\":\"string\"}}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kafka_avro_t *enc =
            kafka_avro_new(KAFKA_TOPIC_VIDEOS, bad[i], strlen(bad[i]), 1, &err);
        ck_assert_msg(enc == NULL, "accepted %s", bad[i]);
        ck_assert(err.msg[0] != '\0');
    }
    /* Extra nullable fields are written null; missing ones are left out;
     * field names match whatever their case. */
    const char *ok = "{\"type\":\"record\",\"name\":\"x\",\"fields\":["
                     "{\"name\":\"views\",\"type\":\"long\"},"
                     "{\"name\":\"EXTRA\",\"type\":[\"null\",\"string\"]}]}";
    kafka_avro_t *enc =
        kafka_avro_new(KAFKA_TOPIC_VIDEOS, ok, strlen(ok), 3, &err);
    ck_assert_msg(enc != NULL, "%s", err.msg);
    tw_msg_t m = s_sample(9, false);
    kafka_record_t r;
    kafka_record_make(&m, 0, &r);
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(kafka_avro_encode(enc, &r, &buf, &len, &err), TW_OK);
    ck_assert_uint_eq(len, KAFKA_AVRO_HEADER + 2); /* zigzag 9, branch 0 */
    ck_assert_int_eq(buf[5], 18);
    ck_assert_int_eq(buf[6], 0);
    free(buf);
    /* A required long with no value: refused, not written as 0. */
    m.u.stats_sample.views.set = false;
    kafka_record_clear(&r);
    kafka_record_make(&m, 0, &r);
    ck_assert_int_eq(kafka_avro_encode(enc, &r, &buf, &len, &err),
                     TW_ERR_INVALID);
    kafka_record_clear(&r);
    /* A record of another topic. */
    tw_msg_t e;
    memset(&e, 0, sizeof e);
    e.id = TW_MSG_STREAM_EVENT;
    kafka_record_make(&e, 0, &r);
    ck_assert_int_eq(kafka_avro_encode(enc, &r, &buf, &len, &err),
                     TW_ERR_INVALID);
    kafka_record_clear(&r);
    kafka_avro_destroy(&enc);
}
END_TEST

START_TEST(test_every_own_schema_parses_and_encodes)
{
    for (int t = 0; t < KAFKA_TOPIC_COUNT; t++) {
        char *schema = kafka_avro_schema_json((kafka_topic_t)t);
        ck_assert_ptr_nonnull(schema);
        tw_err_t err = {0};
        kafka_avro_t *enc = kafka_avro_new((kafka_topic_t)t, schema,
                                           strlen(schema), 1, &err);
        ck_assert_msg(enc != NULL, "%s: %s", schema, err.msg);
        kafka_record_t r;
        memset(&r, 0, sizeof r);
        r.topic = (kafka_topic_t)t;
        size_t n;
        const kafka_field_t *f = kafka_record_fields(r.topic, &n);
        for (size_t k = 0; k < n; k++)
            r.v[k] = (kafka_val_t){.set = !f[k].nullable, .s = "x"};
        char *buf = NULL;
        size_t len = 0;
        ck_assert_int_eq(kafka_avro_encode(enc, &r, &buf, &len, &err), TW_OK);
        free(buf);
        kafka_avro_destroy(&enc);
        free(schema);
    }
}
END_TEST

Suite *kafka_record_suite(void)
{
    Suite *s = suite_create("kafka_record");
    TCase *tc = tcase_create("kafka_record");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_sample_makes_videos_and_viewers);
    tcase_add_test(tc, test_chat_items_and_deletion);
    tcase_add_test(tc, test_avro_own_schema_round_trip);
    tcase_add_test(tc, test_avro_seed_schema_clamps_int);
    tcase_add_test(tc, test_avro_schemas_that_do_not_fit);
    tcase_add_test(tc, test_every_own_schema_parses_and_encodes);
    suite_add_tcase(s, tc);
    return s;
}
