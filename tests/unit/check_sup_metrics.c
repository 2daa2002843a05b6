/* Unit tests of the Prometheus page (sup_metrics): label escaping, the
 * exposition format, exit causes, heartbeat totals, drift counts, and the
 * metrics_listen address. */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../supervisor/daemon/sup_child.h"
#include "../../supervisor/daemon/sup_metrics.h"
#include "tw_cfg.h"

static char *s_escaped(const char *in)
{
    tw_buf_t *b = tw_buf_new();
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(sup_metrics_escape(b, in), TW_OK);
    char *out = strdup(tw_buf_data(b));
    tw_buf_destroy(&b);
    return out;
}

START_TEST(test_escape_backslash_quote_newline)
{
    char *s = s_escaped("a\\b\"c\nd");
    ck_assert_str_eq(s, "a\\\\b\\\"c\\nd");
    free(s);
    s = s_escaped("chat@dQw4w9WgXcQ");
    ck_assert_str_eq(s, "chat@dQw4w9WgXcQ");
    free(s);
    s = s_escaped("");
    ck_assert_str_eq(s, "");
    free(s);
    /* Tabs and UTF-8 pass through: only three characters are special. */
    s = s_escaped("\tCafé");
    ck_assert_str_eq(s, "\tCafé");
    free(s);
}
END_TEST

/* Number of lines of page equal to line. */
static int s_count_line(const char *page, const char *line)
{
    int n = 0;
    size_t ll = strlen(line);
    for (const char *p = page; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len == ll && memcmp(p, line, ll) == 0)
            n++;
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

static char *s_render(const sup_metrics_worker_t *w, size_t n)
{
    sup_metrics_global_t g = {.version = "1.2\"3",
                              .start_time_s = 1700000000.5,
                              .bad_msgs = 7,
                              .reloads = 2};
    tw_buf_t *b = tw_buf_new();
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(sup_metrics_render(b, &g, w, n), TW_OK);
    char *out = strdup(tw_buf_data(b));
    tw_buf_destroy(&b);
    return out;
}

START_TEST(test_render_workers)
{
    uint64_t exits_a[SUP_EXIT__COUNT] = {0};
    exits_a[SUP_EXIT_KILLED] = 2;
    exits_a[SUP_EXIT_TEMPORARY] = 1;
    uint64_t exits_b[SUP_EXIT__COUNT] = {0};
    sup_drift_count_t drifts[2] = {{"youtubei", 3}, {"rss", 1}};
    sup_metrics_worker_t w[2] = {{.name = "chat@abc",
                                  .kind = "chat",
                                  .state = SUP_ST_RUNNING,
                                  .up = true,
                                  .restarts = 3,
                                  .exits = exits_a,
                                  .msgs_in = 120,
                                  .msgs_out = 118,
                                  .errors = 4,
                                  .heartbeat_age_s = 1.25,
                                  .log_dropped = 9,
                                  .drifts = drifts,
                                  .ndrifts = 2},
                                 {.name = "we\"ird\\name\n",
                                  .kind = "stats",
                                  .state = SUP_ST_FAILED,
                                  .up = false,
                                  .exits = exits_b,
                                  .heartbeat_age_s = -1}};
    char *p = s_render(w, 2);

    ck_assert_int_eq(
        s_count_line(p, "tubewatch_build_info{version=\"1.2\\\"3\"} 1"), 1);
    ck_assert_int_eq(
        s_count_line(p, "tubewatch_start_time_seconds 1700000000.500"), 1);
    ck_assert_int_eq(s_count_line(p, "tubewatch_bad_messages_total 7"), 1);
    ck_assert_int_eq(s_count_line(p, "tubewatch_config_reloads_total 2"), 1);
    ck_assert_int_eq(
        s_count_line(
            p, "tubewatch_worker_info{worker=\"chat@abc\",kind=\"chat\"} 1"),
        1);
    ck_assert_int_eq(
        s_count_line(p, "tubewatch_worker_up{worker=\"chat@abc\"} 1"), 1);
    ck_assert_int_eq(
        s_count_line(p,
                     "tubewatch_worker_up{worker=\"we\\\"ird\\\\name\\n\"} 0"),
        1);
    ck_assert_int_eq(
        s_count_line(
            p,
            "tubewatch_worker_state{worker=\"chat@abc\",state=\"running\"} 1"),
        1);
    ck_assert_int_eq(
        s_count_line(
            p,
            "tubewatch_worker_state{worker=\"chat@abc\",state=\"failed\"} 0"),
        1);
    ck_assert_int_eq(
        s_count_line(p, "tubewatch_worker_state{worker="
                        "\"we\\\"ird\\\\name\\n\",state=\"failed\"} 1"),
        1);
    ck_assert_int_eq(
        s_count_line(p,
                     "tubewatch_worker_restarts_total{worker=\"chat@abc\"} 3"),
        1);
    ck_assert_int_eq(s_count_line(p, "tubewatch_worker_exits_total{worker="
                                     "\"chat@abc\",cause=\"killed\"} 2"),
                     1);
    ck_assert_int_eq(s_count_line(p, "tubewatch_worker_exits_total{worker="
                                     "\"chat@abc\",cause=\"exit_111\"} 1"),
                     1);
    ck_assert_int_eq(s_count_line(p, "tubewatch_worker_exits_total{worker="
                                     "\"chat@abc\",cause=\"exit_0\"} 0"),
                     1);
    ck_assert_int_eq(
        s_count_line(
            p, "tubewatch_worker_messages_in_total{worker=\"chat@abc\"} 120"),
        1);
    ck_assert_int_eq(
        s_count_line(
            p, "tubewatch_worker_messages_out_total{worker=\"chat@abc\"} 118"),
        1);
    ck_assert_int_eq(
        s_count_line(p, "tubewatch_worker_errors_total{worker=\"chat@abc\"} 4"),
        1);
    ck_assert_int_eq(s_count_line(p, "tubewatch_worker_heartbeat_age_seconds{"
                                     "worker=\"chat@abc\"} 1.250"),
                     1);
    ck_assert_int_eq(
        s_count_line(
            p,
            "tubewatch_worker_log_dropped_lines_total{worker=\"chat@abc\"} 9"),
        1);
    ck_assert_int_eq(
        s_count_line(
            p,
            "tubewatch_drift_total{worker=\"chat@abc\",source=\"youtubei\"} 3"),
        1);
    ck_assert_int_eq(
        s_count_line(
            p, "tubewatch_drift_total{worker=\"chat@abc\",source=\"rss\"} 1"),
        1);
    /* No heartbeat age for a worker without one. */
    ck_assert_ptr_null(
        strstr(p, "tubewatch_worker_heartbeat_age_seconds{worker=\"we"));
    /* Every state and every cause appears once per worker. */
    ck_assert_int_eq(
        s_count_line(
            p,
            "tubewatch_worker_state{worker=\"chat@abc\",state=\"stopped\"} 0"),
        1);
    ck_assert_int_eq(
        s_count_line(p, "tubewatch_worker_exits_total{worker="
                        "\"we\\\"ird\\\\name\\n\",cause=\"crashed\"} 0"),
        1);
    /* One HELP and one TYPE per family, before its samples. */
    ck_assert_int_eq(
        s_count_line(p, "# TYPE tubewatch_worker_restarts_total counter"), 1);
    ck_assert_int_eq(s_count_line(p, "# TYPE tubewatch_worker_up gauge"), 1);
    ck_assert_int_eq(s_count_line(p, "# TYPE tubewatch_drift_total counter"),
                     1);
    const char *type = strstr(p, "# TYPE tubewatch_worker_exits_total counter");
    const char *help = strstr(p, "# HELP tubewatch_worker_exits_total ");
    const char *sample = strstr(p, "\ntubewatch_worker_exits_total{");
    ck_assert_ptr_nonnull(type);
    ck_assert_ptr_nonnull(help);
    ck_assert_ptr_nonnull(sample);
    ck_assert(help < type && type < sample);
    /* A raw newline never appears inside a sample line. */
    ck_assert_ptr_null(strstr(p, "name\n\""));
    ck_assert(p[strlen(p) - 1] == '\n');
    free(p);
}
END_TEST

START_TEST(test_render_no_workers)
{
    char *p = s_render(NULL, 0);
    ck_assert_int_eq(s_count_line(p, "# TYPE tubewatch_worker_up gauge"), 1);
    ck_assert_ptr_null(strstr(p, "{worker="));
    free(p);
}
END_TEST

START_TEST(test_exit_causes)
{
    ck_assert_int_eq(sup_child_exit_cause(W_EXITCODE(0, 0)), SUP_EXIT_CLEAN);
    ck_assert_int_eq(sup_child_exit_cause(W_EXITCODE(100, 0)), SUP_EXIT_USAGE);
    ck_assert_int_eq(sup_child_exit_cause(W_EXITCODE(101, 0)), SUP_EXIT_BUG);
    ck_assert_int_eq(sup_child_exit_cause(W_EXITCODE(111, 0)),
                     SUP_EXIT_TEMPORARY);
    ck_assert_int_eq(sup_child_exit_cause(W_EXITCODE(1, 0)), SUP_EXIT_OTHER);
    ck_assert_int_eq(sup_child_exit_cause(W_EXITCODE(0, SIGKILL)),
                     SUP_EXIT_KILLED);
    ck_assert_int_eq(sup_child_exit_cause(W_EXITCODE(0, SIGTERM)),
                     SUP_EXIT_TERMINATED);
    ck_assert_int_eq(sup_child_exit_cause(W_EXITCODE(0, SIGSEGV)),
                     SUP_EXIT_CRASHED);
    ck_assert_int_eq(sup_child_exit_cause(W_EXITCODE(0, SIGUSR1)),
                     SUP_EXIT_SIGNAL);
    ck_assert_str_eq(sup_child_exit_cause_name(SUP_EXIT_KILLED), "killed");
    ck_assert_str_eq(sup_child_exit_cause_name(SUP_EXIT__COUNT), "?");
}
END_TEST

static sup_child_t *s_child(void)
{
    static tw_cfg_worker_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.name = "w";
    sup_child_t *c = sup_child_new(&cfg, NULL);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* What status and /metrics read from c. */
static sup_child_view_t s_view(const sup_child_t *c)
{
    sup_child_view_t v;
    sup_child_view(c, &v);
    return v;
}

START_TEST(test_heartbeat_totals_span_restarts)
{
    sup_child_t *c = s_child();
    sup_child_heartbeat(c, 1, 5, 3, 0);
    sup_child_heartbeat(c, 1, 8, 4, 1);
    /* A new incarnation counts from 0 again. */
    sup_child_heartbeat(c, 2, 2, 1, 0);
    sup_child_heartbeat(c, 2, 2, 1, 0);
    ck_assert_uint_eq(s_view(c).total_in, 10);
    ck_assert_uint_eq(s_view(c).total_out, 5);
    ck_assert_uint_eq(s_view(c).total_errors, 1);
    /* A counter going backwards within one incarnation is a new count. */
    sup_child_heartbeat(c, 2, 1, 1, 0);
    ck_assert_uint_eq(s_view(c).total_in, 11);
    sup_child_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_drift_counts_by_source)
{
    sup_child_t *c = s_child();
    sup_child_drift(c, "youtubei");
    sup_child_drift(c, "youtubei");
    sup_child_drift(c, "rss");
    ck_assert_uint_eq(s_view(c).ndrifts, 2);
    ck_assert_str_eq(s_view(c).drifts[0].source, "youtubei");
    ck_assert_uint_eq(s_view(c).drifts[0].reports, 2);
    ck_assert_uint_eq(s_view(c).drifts[1].reports, 1);
    sup_child_drift(c, "a");
    sup_child_drift(c, "b");
    sup_child_drift(c, "c"); /* table full: shares the last slot */
    ck_assert_uint_eq(s_view(c).ndrifts, SUP_CHILD_DRIFT_SOURCES);
    ck_assert_str_eq(s_view(c).drifts[SUP_CHILD_DRIFT_SOURCES - 1].source,
                     "other");
    ck_assert_uint_eq(s_view(c).drifts[SUP_CHILD_DRIFT_SOURCES - 1].reports, 2);
    sup_child_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_parse_listen)
{
    struct sockaddr_storage sa;
    tw_err_t err;
    ck_assert_int_eq(tw_cfg_parse_listen("127.0.0.1:9464", &sa, &err), TW_OK);
    ck_assert_int_eq(sa.ss_family, AF_INET);
    ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&sa)->sin_port), 9464);
    ck_assert_int_eq(tw_cfg_parse_listen("[::1]:0", &sa, &err), TW_OK);
    ck_assert_int_eq(sa.ss_family, AF_INET6);
    ck_assert_int_eq(tw_cfg_parse_listen("0.0.0.0:65535", &sa, &err), TW_OK);
    const char *bad[] = {"localhost:9464",
                         "127.0.0.1",
                         "127.0.0.1:",
                         ":9464",
                         "1.2.3.4:65536",
                         "1.2.3.4:9x",
                         "[::1]9464",
                         "::1:9464",
                         "[1.2.3.4]:80",
                         "1.2.3.4:-1",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(tw_cfg_parse_listen(bad[i], &sa, &err) == TW_ERR_INVALID,
                      "accepted '%s'", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "metrics_listen"));
    }
}
END_TEST

START_TEST(test_config_key)
{
    char dir[] = "/tmp/tw-metrics-cfg-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/s.toml", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("[supervisor]\nmetrics_listen = \"127.0.0.1:9464\"\n", f);
    fclose(f);
    tw_cfg_problem_t *pr = NULL;
    size_t n = 0;
    tw_cfg_t *cfg = tw_cfg_load(path, &pr, &n);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_str_eq(cfg->supervisor.metrics_listen, "127.0.0.1:9464");
    tw_cfg_destroy(&cfg);
    free(pr);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("[supervisor]\nmetrics_listen = \"localhost:9464\"\n", f);
    fclose(f);
    pr = NULL;
    cfg = tw_cfg_load(path, &pr, &n);
    ck_assert_ptr_null(cfg);
    ck_assert_uint_ge(n, 1);
    ck_assert_ptr_nonnull(strstr(pr[0].msg, "metrics_listen"));
    free(pr);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("[supervisor]\n", f);
    fclose(f);
    pr = NULL;
    cfg = tw_cfg_load(path, &pr, &n);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_str_eq(cfg->supervisor.metrics_listen, ""); /* off */
    tw_cfg_destroy(&cfg);
    free(pr);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_render_heartbeat_values)
{
    tw_metric_set_t chat = {0}, scan = {0}, none = {0};
    ck_assert_int_eq(tw_metric_set_put(&chat, "chat_items_total", 42), TW_OK);
    ck_assert_int_eq(
        tw_metric_set_put(&chat, "chat_last_poll_unix_seconds", 1700000000),
        TW_OK);
    ck_assert_int_eq(tw_metric_set_put(&chat, "writer_lag_seconds", 1234),
                     TW_OK);
    ck_assert_int_eq(tw_metric_set_put(&scan, "quota_used_units", 9000), TW_OK);
    ck_assert_int_eq(tw_metric_set_put(&scan, "writer_lag_seconds", -2500),
                     TW_OK);
    uint64_t exits[SUP_EXIT__COUNT] = {0};
    sup_metrics_worker_t w[4] = {
        {.name = "chat@abc",
         .kind = "chat",
         .instance = "abc",
         .exits = exits,
         .metrics = &chat},
        {.name = "scanner",
         .kind = "scanner",
         .exits = exits,
         .metrics = &scan},
        {.name = "writer", .kind = "writer", .exits = exits, .metrics = &none},
        {.name = "old", .kind = "stats", .exits = exits}};
    char *p = s_render(w, 4);
    ck_assert_int_eq(s_count_line(p, "tubewatch_chat_items_total{worker="
                                     "\"chat@abc\",video=\"abc\"} 42"),
                     1);
    ck_assert_int_eq(
        s_count_line(p, "tubewatch_chat_last_poll_unix_seconds{worker="
                        "\"chat@abc\",video=\"abc\"} 1700000000"),
        1);
    /* milliseconds on the wire, seconds on the page */
    ck_assert_int_eq(s_count_line(p, "tubewatch_writer_lag_seconds{worker="
                                     "\"chat@abc\",video=\"abc\"} 1.234"),
                     1);
    ck_assert_int_eq(
        s_count_line(p,
                     "tubewatch_writer_lag_seconds{worker=\"scanner\"} -2.500"),
        1);
    ck_assert_int_eq(
        s_count_line(p, "tubewatch_quota_used_units{worker=\"scanner\"} 9000"),
        1);
    /* one HELP/TYPE per family, before its samples, whatever the number of
     * workers reporting it */
    ck_assert_int_eq(
        s_count_line(p, "# TYPE tubewatch_chat_items_total counter"), 1);
    ck_assert_int_eq(
        s_count_line(p, "# TYPE tubewatch_writer_lag_seconds gauge"), 1);
    const char *type = strstr(p, "# TYPE tubewatch_writer_lag_seconds gauge");
    const char *help = strstr(p, "# HELP tubewatch_writer_lag_seconds ");
    const char *s1 = strstr(p, "\ntubewatch_writer_lag_seconds{");
    ck_assert(help && type && s1 && help < type && type < s1);
    /* the samples of a family are consecutive */
    const char *s2 = strstr(s1 + 1, "\n") + 1;
    ck_assert(strncmp(s2, "tubewatch_writer_lag_seconds{", 29) == 0);
    /* nobody reports uploads: no family at all */
    ck_assert_ptr_null(strstr(p, "tubewatch_uploads_total"));
    ck_assert_ptr_null(strstr(p, "worker=\"writer\",video"));
    free(p);
}
END_TEST

START_TEST(test_child_metrics_from_heartbeat)
{
    sup_child_t *c = s_child();
    tw_gauge_t g[3] = {{.name = "chat_items_total", .value = 5},
                       {.name = "bogus name", .value = 1},
                       {.name = "chat_last_poll_unix_seconds", .value = 9}};
    tw_gauge_list_t list = {.v = g, .n = 3};
    ck_assert_uint_eq(sup_child_metrics(c, &list), 1);
    ck_assert_uint_eq(s_view(c).metrics->n, 2);
    /* the next heartbeat replaces the values: a name it lacks is gone */
    list.n = 1;
    g[0].value = 8;
    ck_assert_uint_eq(sup_child_metrics(c, &list), 0);
    int64_t v = 0;
    ck_assert(tw_metric_set_get(s_view(c).metrics, "chat_items_total", &v));
    ck_assert_int_eq(v, 8);
    ck_assert(!tw_metric_set_get(s_view(c).metrics,
                                 "chat_last_poll_unix_seconds", NULL));
    sup_child_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

Suite *sup_metrics_suite(void)
{
    Suite *s = suite_create("sup_metrics");
    TCase *tc = tcase_create("sup_metrics");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_escape_backslash_quote_newline);
    tcase_add_test(tc, test_render_workers);
    tcase_add_test(tc, test_render_no_workers);
    tcase_add_test(tc, test_exit_causes);
    tcase_add_test(tc, test_heartbeat_totals_span_restarts);
    tcase_add_test(tc, test_drift_counts_by_source);
    tcase_add_test(tc, test_parse_listen);
    tcase_add_test(tc, test_config_key);
    tcase_add_test(tc, test_render_heartbeat_values);
    tcase_add_test(tc, test_child_metrics_from_heartbeat);
    suite_add_tcase(s, tc);
    return s;
}
