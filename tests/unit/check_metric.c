/* Unit tests of tw_metric: the names workers may report with their
 * heartbeats (validated, known, bounded) and the conversion to and from the
 * HEARTBEAT's gauges list. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_metric.h"

START_TEST(test_valid_name)
{
    ck_assert(tw_metric_valid_name("chat_items_total"));
    ck_assert(tw_metric_valid_name("a"));
    ck_assert(tw_metric_valid_name("_x:y9"));
    ck_assert(!tw_metric_valid_name(NULL));
    ck_assert(!tw_metric_valid_name(""));
    ck_assert(!tw_metric_valid_name("9lives"));
    ck_assert(!tw_metric_valid_name("chat-items"));
    ck_assert(!tw_metric_valid_name("chat items"));
    ck_assert(!tw_metric_valid_name("chat\"} 1\nfake"));
    ck_assert(!tw_metric_valid_name("caf\xc3\xa9"));
    char name[TW_METRIC_NAME_MAX + 1];
    memset(name, 'a', sizeof name);
    name[TW_METRIC_NAME_MAX - 1] = '\0'; /* 47 bytes: the longest */
    ck_assert(tw_metric_valid_name(name));
    name[TW_METRIC_NAME_MAX - 1] = 'a';
    name[TW_METRIC_NAME_MAX] = '\0'; /* 48 bytes: one too many */
    ck_assert(!tw_metric_valid_name(name));
}
END_TEST

START_TEST(test_known_table)
{
    size_t n = 0;
    const tw_metric_info_t *k = tw_metric_known(&n);
    ck_assert_uint_ge(n, 9);
    ck_assert_uint_le(n, TW_METRIC_MAX);
    for (size_t i = 0; i < n; i++) {
        ck_assert(tw_metric_valid_name(k[i].name));
        ck_assert_ptr_eq(tw_metric_info(k[i].name), &k[i]);
        ck_assert(strcmp(k[i].type, "counter") == 0 ||
                  strcmp(k[i].type, "gauge") == 0);
        /* Prometheus convention: counters and only counters end _total */
        size_t len = strlen(k[i].name);
        bool total = len > 6 && strcmp(k[i].name + len - 6, "_total") == 0;
        ck_assert_int_eq(total, strcmp(k[i].type, "counter") == 0);
        ck_assert_uint_ge(k[i].scale, 1);
        ck_assert(k[i].help[0] && !strchr(k[i].help, '\n'));
    }
    ck_assert_ptr_null(tw_metric_info("no_such_value"));
    ck_assert_ptr_null(tw_metric_info("chat-items"));
    ck_assert_uint_eq(tw_metric_info("writer_lag_seconds")->scale, 1000);
}
END_TEST

START_TEST(test_set_put_get_refuses)
{
    tw_metric_set_t s = {0};
    ck_assert_int_eq(tw_metric_set_put(&s, "uploads_total", 3), TW_OK);
    ck_assert_int_eq(tw_metric_set_put(&s, "quota_used_units", 70), TW_OK);
    ck_assert_int_eq(tw_metric_set_put(&s, "uploads_total", 4), TW_OK);
    ck_assert_uint_eq(s.n, 2);
    int64_t v = 0;
    ck_assert(tw_metric_set_get(&s, "uploads_total", &v));
    ck_assert_int_eq(v, 4);
    ck_assert(!tw_metric_set_get(&s, "uploads_failed_total", &v));
    /* malformed and unknown names change nothing */
    ck_assert_int_eq(tw_metric_set_put(&s, "bad name", 1), TW_ERR_INVALID);
    ck_assert_int_eq(tw_metric_set_put(&s, "no_such_value", 1), TW_ERR_INVALID);
    ck_assert_uint_eq(s.n, 2);
}
END_TEST

START_TEST(test_set_bounded)
{
    /* a full set refuses new names but still updates its own */
    tw_metric_set_t s = {0};
    s.n = TW_METRIC_MAX;
    for (uint32_t i = 0; i < TW_METRIC_MAX; i++)
        snprintf(s.v[i].name, sizeof s.v[i].name, "slot%u", i);
    snprintf(s.v[3].name, sizeof s.v[3].name, "uploads_total");
    ck_assert_int_eq(tw_metric_set_put(&s, "chat_items_total", 1),
                     TW_ERR_TOOBIG);
    ck_assert_int_eq(tw_metric_set_put(&s, "uploads_total", 9), TW_OK);
    ck_assert_int_eq(s.v[3].value, 9);
    ck_assert_uint_eq(s.n, TW_METRIC_MAX);
}
END_TEST

START_TEST(test_list_round_trip)
{
    tw_metric_set_t s = {0};
    ck_assert_int_eq(tw_metric_set_put(&s, "chat_items_total", 42), TW_OK);
    ck_assert_int_eq(tw_metric_set_put(&s, "writer_lag_seconds", -5), TW_OK);
    tw_gauge_t v[TW_METRIC_MAX];
    tw_gauge_list_t list;
    tw_metric_set_to_list(&s, v, &list);
    ck_assert_uint_eq(list.n, 2);
    ck_assert_str_eq(list.v[0].name, "chat_items_total");
    ck_assert_int_eq(list.v[1].value, -5);

    /* it survives the wire */
    tw_msg_t m = {.id = TW_MSG_HEARTBEAT, .src = "w", .epoch = 1, .seq = 0};
    m.u.heartbeat.worker = "w";
    m.u.heartbeat.gauges = list;
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_proto_encode(&m, &buf, &len, NULL), TW_OK);
    tw_msg_t d;
    ck_assert_int_eq(tw_proto_decode(buf, len, &d, NULL), TW_OK);
    free(buf);
    tw_metric_set_t r = {.n = 5}; /* replaced, not merged */
    ck_assert_uint_eq(tw_metric_set_from_list(&r, &d.u.heartbeat.gauges), 0);
    tw_proto_clear(&d);
    ck_assert_uint_eq(r.n, 2);
    int64_t x = 0;
    ck_assert(tw_metric_set_get(&r, "chat_items_total", &x));
    ck_assert_int_eq(x, 42);
    ck_assert(tw_metric_set_get(&r, "writer_lag_seconds", &x));
    ck_assert_int_eq(x, -5);

    /* an empty set is an empty list */
    tw_metric_set_t e = {0};
    tw_metric_set_to_list(&e, v, &list);
    ck_assert_uint_eq(list.n, 0);
}
END_TEST

START_TEST(test_from_list_skips_bad)
{
    /* what a broken or hostile worker could send */
    tw_gauge_t in[TW_METRIC_MAX + 8];
    size_t n = 0;
    in[n++] = (tw_gauge_t){.name = "uploads_total", .value = 1};
    in[n++] = (tw_gauge_t){.name = "x\"} 1\ninjected", .value = 2};
    in[n++] = (tw_gauge_t){.name = NULL, .value = 3};
    in[n++] = (tw_gauge_t){.name = "", .value = 4};
    in[n++] = (tw_gauge_t){.name = "not_known_here", .value = 5};
    in[n++] = (tw_gauge_t){.name = "uploads_total", .value = 6}; /* repeat */
    while (n < sizeof in / sizeof in[0])
        in[n++] = (tw_gauge_t){.name = "uploads_failed_total", .value = 7};
    tw_gauge_list_t list = {.v = in, .n = n};
    tw_metric_set_t s = {0};
    ck_assert_uint_eq(tw_metric_set_from_list(&s, &list), n - 2);
    ck_assert_uint_eq(s.n, 2);
    int64_t v = 0;
    ck_assert(tw_metric_set_get(&s, "uploads_total", &v));
    ck_assert_int_eq(v, 1); /* the first of a repeated name wins */
    ck_assert(tw_metric_set_get(&s, "uploads_failed_total", &v));
    ck_assert_int_eq(v, 7);
}
END_TEST

Suite *metric_suite(void)
{
    Suite *s = suite_create("metric");
    TCase *tc = tcase_create("metric");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_valid_name);
    tcase_add_test(tc, test_known_table);
    tcase_add_test(tc, test_set_put_get_refuses);
    tcase_add_test(tc, test_set_bounded);
    tcase_add_test(tc, test_list_round_trip);
    tcase_add_test(tc, test_from_list_skips_bad);
    suite_add_tcase(s, tc);
    return s;
}
