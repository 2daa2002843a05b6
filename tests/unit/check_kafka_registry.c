/* Unit tests of workers/kafka/kafka_registry: the answer parsers, and the
 * client against a small in-test registry (latest schema, registration on
 * 404, basic auth, 401, a registry that is not there). */
#include <check.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/kafka/kafka_avro.h"
#include "../../workers/kafka/kafka_registry.h"
#include "../kafka_registry_stub.h"
#include "tw_log.h"

START_TEST(test_parse_latest)
{
    uint32_t id = 0;
    char *schema = NULL;
    const char *ok = "{\"subject\":\"yt_videos-value\",\"version\":3,"
                     "\"id\":42,\"schema\":\"{\\\"type\\\":\\\"string\\\"}\"}";
    ck_assert_int_eq(
        kafka_registry_parse_latest(ok, strlen(ok), &id, &schema, NULL), TW_OK);
    ck_assert_uint_eq(id, 42);
    ck_assert_str_eq(schema, "{\"type\":\"string\"}");
    free(schema);
    const char *avro = "{\"id\":1,\"schemaType\":\"AVRO\",\"schema\":\"x\"}";
    ck_assert_int_eq(
        kafka_registry_parse_latest(avro, strlen(avro), &id, &schema, NULL),
        TW_OK);
    free(schema);
    const char *bad[] = {
        "",
        "[]",
        "{\"id\":1}",
        "{\"schema\":\"x\"}",
        "{\"id\":0,\"schema\":\"x\"}",
        "{\"id\":-5,\"schema\":\"x\"}",
        "{\"id\":4294967296,\"schema\":\"x\"}",
        "{\"id\":1.5,\"schema\":\"x\"}",
        "{\"id\":1,\"schema\":7}",
        "{\"id\":1,\"schema\":\"\"}",
        "{\"id\":1,\"schema\":\"a\\u0000b\"}",
        "{\"id\":1,\"schema\":\"x\",\"schemaType\":\"PROTOBUF\"}",
        "{\"id\":1,\"id\":2,\"schema\":\"x\"}",
        "{\"id\":1,\"schema\":\"x\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tw_err_t err = {0};
        schema = (char *)"untouched";
        ck_assert_msg(kafka_registry_parse_latest(bad[i], strlen(bad[i]), &id,
                                                  &schema, &err) ==
                          TW_ERR_PARSE,
                      "accepted %s", bad[i]);
        ck_assert_ptr_null(schema);
        ck_assert(err.msg[0] != '\0');
    }
}
END_TEST

START_TEST(test_parse_id_and_error)
{
    uint32_t id = 0;
    ck_assert_int_eq(kafka_registry_parse_id("{\"id\":7}", 8, &id, NULL),
                     TW_OK);
    ck_assert_uint_eq(id, 7);
    ck_assert_int_eq(kafka_registry_parse_id("{\"id\":\"7\"}", 10, &id, NULL),
                     TW_ERR_PARSE);
    int code = 0;
    const char *e = "{\"error_code\":40401,\"message\":\"Subject not found\"}";
    ck_assert_int_eq(kafka_registry_parse_error(e, strlen(e), &code, NULL),
                     TW_OK);
    ck_assert_int_eq(code, 40401);
    ck_assert_int_eq(kafka_registry_parse_error("<html>", 6, &code, NULL),
                     TW_ERR_PARSE);
}
END_TEST

START_TEST(test_resolve_registers_then_reuses)
{
    krs_t k;
    ck_assert_int_eq(krs_start(&k, NULL), 0);
    kafka_registry_opts_t o = {.url = k.base, .timeout_ms = 5000};
    tw_err_t err = {0};
    kafka_registry_t *reg = kafka_registry_new(&o, &err);
    ck_assert_ptr_nonnull(reg);
    char *own = kafka_avro_schema_json(KAFKA_TOPIC_CHAT);
    uint32_t id = 0;
    char *schema = NULL;
    bool registered = false;
    ck_assert_int_eq(kafka_registry_resolve(reg, "yt_chat-value", own, &id,
                                            &schema, &registered, &err),
                     TW_OK);
    ck_assert(registered);
    ck_assert_uint_eq(id, 1);
    ck_assert_str_eq(schema, own);
    free(schema);
    char *stored = krs_schema(&k, "yt_chat-value");
    ck_assert_ptr_nonnull(stored);
    ck_assert_str_eq(stored, own); /* sent exactly, JSON-escaped */
    free(stored);
    /* A second client finds the registered version. */
    ck_assert_int_eq(kafka_registry_resolve(reg, "yt_chat-value", "{}", &id,
                                            &schema, &registered, &err),
                     TW_OK);
    ck_assert(!registered);
    ck_assert_uint_eq(id, 1);
    ck_assert_str_eq(schema, own);
    free(schema);
    /* The seed's schema registered by ksqlDB wins over tubewatch's. */
    ck_assert_int_eq(krs_add(&k, "yt_videos-value", KRS_SEED_SCHEMA), 2);
    ck_assert_int_eq(kafka_registry_resolve(reg, "yt_videos-value", own, &id,
                                            &schema, &registered, &err),
                     TW_OK);
    ck_assert(!registered);
    ck_assert_uint_eq(id, 2);
    ck_assert_str_eq(schema, KRS_SEED_SCHEMA);
    free(schema);
    ck_assert_int_eq(k.posts, 1);
    free(own);
    kafka_registry_destroy(&reg);
    kafka_registry_destroy(&reg);
    krs_stop(&k);
}
END_TEST

START_TEST(test_resolve_basic_auth)
{
    /* "user:s3cret-pass" */
    krs_t k;
    ck_assert_int_eq(krs_start(&k, "Basic dXNlcjpzM2NyZXQtcGFzcw=="), 0);
    tw_err_t err = {0};
    uint32_t id = 0;
    char *schema = NULL;
    bool registered = false;
    kafka_registry_opts_t none = {.url = k.base, .timeout_ms = 5000};
    kafka_registry_t *reg = kafka_registry_new(&none, &err);
    ck_assert_int_eq(kafka_registry_resolve(reg, "s-value", "{}", &id, &schema,
                                            &registered, &err),
                     TW_ERR_HTTP);
    ck_assert_ptr_nonnull(strstr(err.msg, "401"));
    ck_assert_ptr_null(schema);
    kafka_registry_destroy(&reg);

    kafka_registry_opts_t wrong = {.url = k.base,
                                   .user = "user",
                                   .password = "wrong-pass",
                                   .timeout_ms = 5000};
    reg = kafka_registry_new(&wrong, &err);
    ck_assert_int_eq(kafka_registry_resolve(reg, "s-value", "{}", &id, &schema,
                                            &registered, &err),
                     TW_ERR_HTTP);
    ck_assert_ptr_null(strstr(err.msg, "wrong-pass"));
    kafka_registry_destroy(&reg);

    kafka_registry_opts_t ok = {.url = k.base,
                                .user = "user",
                                .password = "s3cret-pass",
                                .timeout_ms = 5000};
    reg = kafka_registry_new(&ok, &err);
    ck_assert_int_eq(kafka_registry_resolve(reg, "s-value", "{\"x\":1}", &id,
                                            &schema, &registered, &err),
                     TW_OK);
    ck_assert(registered);
    free(schema);
    ck_assert_int_eq(k.unauthorized, 2);
    /* The password and its encoding are log secrets. */
    char line[200] = "auth dXNlcjpzM2NyZXQtcGFzcw== pw s3cret-pass";
    tw_log_redact(line, sizeof line);
    ck_assert_ptr_null(strstr(line, "s3cret-pass"));
    ck_assert_ptr_null(strstr(line, "dXNlcjpzM2NyZXQtcGFzcw=="));
    kafka_registry_destroy(&reg);
    krs_stop(&k);
}
END_TEST

START_TEST(test_resolve_unreachable)
{
    krs_t k;
    ck_assert_int_eq(krs_start(&k, NULL), 0);
    char base[64];
    snprintf(base, sizeof base, "%s", k.base);
    krs_stop(&k); /* nothing listens there any more */
    kafka_registry_opts_t o = {.url = base, .timeout_ms = 2000};
    tw_err_t err = {0};
    kafka_registry_t *reg = kafka_registry_new(&o, &err);
    uint32_t id = 0;
    char *schema = NULL;
    bool registered = false;
    tw_rc_t rc = kafka_registry_resolve(reg, "s-value", "{}", &id, &schema,
                                        &registered, &err);
    ck_assert(rc == TW_ERR_NET || rc == TW_ERR_TIMEOUT);
    ck_assert_ptr_null(schema);
    kafka_registry_destroy(&reg);
}
END_TEST

Suite *kafka_registry_suite(void)
{
    Suite *s = suite_create("kafka_registry");
    TCase *tc = tcase_create("kafka_registry");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_parse_latest);
    tcase_add_test(tc, test_parse_id_and_error);
    tcase_add_test(tc, test_resolve_registers_then_reuses);
    tcase_add_test(tc, test_resolve_basic_auth);
    tcase_add_test(tc, test_resolve_unreachable);
    suite_add_tcase(s, tc);
    return s;
}
