/* sup_metrics - Prometheus text page of the supervisor's state and the
 * loop-driven HTTP endpoint serving it. */
#define _GNU_SOURCE
#include "sup_metrics.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tw_cfg.h"
#include "tw_log.h"

/* Simultaneous scrapes served; more wait in the listen queue. */
#define MAX_CONNECTIONS 16
/* Seconds an idle or slow connection is kept. */
#define CONNECTION_TIMEOUT_S 10

/* ---- the page ---- */

tw_rc_t sup_metrics_escape(tw_buf_t *out, const char *value)
{
    assert(out);
    assert(value);
    tw_rc_t rc = TW_OK;
    for (const char *p = value; *p && rc == TW_OK; p++) {
        if (*p == '\\')
            rc = tw_buf_append(out, "\\\\", 2);
        else if (*p == '"')
            rc = tw_buf_append(out, "\\\"", 2);
        else if (*p == '\n')
            rc = tw_buf_append(out, "\\n", 2);
        else
            rc = tw_buf_append_byte(out, *p);
    }
    return rc;
}

static tw_rc_t s_family(tw_buf_t *out, const char *name, const char *type,
                        const char *help)
{
    return tw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                         type);
}

/* name{worker="W"[,label="value"]} value */
static tw_rc_t s_sample(tw_buf_t *out, const char *name, const char *worker,
                        const char *label, const char *lvalue,
                        const char *value)
{
    tw_rc_t rc = tw_buf_printf(out, "%s{worker=\"", name);
    if (rc == TW_OK)
        rc = sup_metrics_escape(out, worker);
    if (rc == TW_OK && label) {
        rc = tw_buf_printf(out, "\",%s=\"", label);
        if (rc == TW_OK)
            rc = sup_metrics_escape(out, lvalue);
    }
    if (rc == TW_OK)
        rc = tw_buf_printf(out, "\"} %s\n", value);
    return rc;
}

static tw_rc_t s_sample_u64(tw_buf_t *out, const char *name, const char *worker,
                            const char *label, const char *lvalue, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%" PRIu64, v);
    return s_sample(out, name, worker, label, lvalue, num);
}

/* One counter family with one sample per worker. */
typedef uint64_t (*s_get_fn)(const sup_metrics_worker_t *w);

static uint64_t s_restarts(const sup_metrics_worker_t *w)
{
    return w->restarts;
}
static uint64_t s_in(const sup_metrics_worker_t *w)
{
    return w->msgs_in;
}
static uint64_t s_out(const sup_metrics_worker_t *w)
{
    return w->msgs_out;
}
static uint64_t s_errors(const sup_metrics_worker_t *w)
{
    return w->errors;
}
static uint64_t s_dropped(const sup_metrics_worker_t *w)
{
    return w->log_dropped;
}

static tw_rc_t s_per_worker(tw_buf_t *out, const char *name, const char *help,
                            s_get_fn get, const sup_metrics_worker_t *w,
                            size_t n)
{
    tw_rc_t rc = s_family(out, name, "counter", help);
    for (size_t i = 0; i < n && rc == TW_OK; i++)
        rc = s_sample_u64(out, name, w[i].name, NULL, NULL, get(&w[i]));
    return rc;
}

static tw_rc_t s_render_global(tw_buf_t *out, const sup_metrics_global_t *g)
{
    tw_rc_t rc = s_family(out, "tubewatch_build_info", "gauge",
                          "Always 1; the version label names the build.");
    if (rc == TW_OK)
        rc = tw_buf_append_str(out, "tubewatch_build_info{version=\"");
    if (rc == TW_OK)
        rc = sup_metrics_escape(out, g->version ? g->version : "");
    if (rc == TW_OK)
        rc = tw_buf_append_str(out, "\"} 1\n");
    if (rc == TW_OK)
        rc = s_family(out, "tubewatch_start_time_seconds", "gauge",
                      "Unix time tubewatchd started.");
    if (rc == TW_OK)
        rc = tw_buf_printf(out, "tubewatch_start_time_seconds %.3f\n",
                           g->start_time_s);
    if (rc == TW_OK)
        rc = s_family(out, "tubewatch_bad_messages_total", "counter",
                      "Worker frames tubewatchd could not decode.");
    if (rc == TW_OK)
        rc = tw_buf_printf(out, "tubewatch_bad_messages_total %" PRIu64 "\n",
                           g->bad_msgs);
    if (rc == TW_OK)
        rc = s_family(out, "tubewatch_config_reloads_total", "counter",
                      "Configuration reloads accepted.");
    if (rc == TW_OK)
        rc = tw_buf_printf(out, "tubewatch_config_reloads_total %" PRIu64 "\n",
                           g->reloads);
    return rc;
}

/* The worker's sample of one heartbeat value; a chat@VIDEO worker's
 * carries video="VIDEO" so per-stream series join on it. */
static tw_rc_t s_value_sample(tw_buf_t *out, const char *family,
                              const tw_metric_info_t *mi,
                              const sup_metrics_worker_t *w, int64_t v)
{
    char num[32];
    if (mi->scale > 1)
        snprintf(num, sizeof num, "%.3f", (double)v / (double)mi->scale);
    else
        snprintf(num, sizeof num, "%" PRId64, v);
    bool video = w->instance && *w->instance;
    return s_sample(out, family, w->name, video ? "video" : NULL,
                    video ? w->instance : NULL, num);
}

/* One family per known heartbeat value that some worker reports. */
static tw_rc_t s_render_values(tw_buf_t *out, const sup_metrics_worker_t *w,
                               size_t n)
{
    size_t nknown = 0;
    const tw_metric_info_t *known = tw_metric_known(&nknown);
    tw_rc_t rc = TW_OK;
    for (size_t k = 0; k < nknown && rc == TW_OK; k++) {
        char family[TW_METRIC_NAME_MAX + 16];
        snprintf(family, sizeof family, "tubewatch_%s", known[k].name);
        bool header = false;
        for (size_t i = 0; i < n && rc == TW_OK; i++) {
            int64_t v = 0;
            if (!w[i].metrics ||
                !tw_metric_set_get(w[i].metrics, known[k].name, &v))
                continue;
            if (!header) {
                rc = s_family(out, family, known[k].type, known[k].help);
                header = true;
            }
            if (rc == TW_OK)
                rc = s_value_sample(out, family, &known[k], &w[i], v);
        }
    }
    return rc;
}

tw_rc_t sup_metrics_render(tw_buf_t *out, const sup_metrics_global_t *g,
                           const sup_metrics_worker_t *w, size_t n)
{
    assert(out);
    assert(g);
    assert(w || n == 0);
    tw_rc_t rc = s_render_global(out, g);
    if (rc == TW_OK)
        rc = s_family(out, "tubewatch_worker_info", "gauge",
                      "Always 1; the kind label names the worker program.");
    for (size_t i = 0; i < n && rc == TW_OK; i++)
        rc = s_sample(out, "tubewatch_worker_info", w[i].name, "kind",
                      w[i].kind ? w[i].kind : "", "1");
    if (rc == TW_OK)
        rc = s_family(out, "tubewatch_worker_up", "gauge",
                      "1 when the worker's process runs and is ready.");
    for (size_t i = 0; i < n && rc == TW_OK; i++)
        rc = s_sample(out, "tubewatch_worker_up", w[i].name, NULL, NULL,
                      w[i].up ? "1" : "0");
    if (rc == TW_OK)
        rc = s_family(out, "tubewatch_worker_state", "gauge",
                      "1 for the worker's current lifecycle state, 0 for "
                      "the others.");
    for (size_t i = 0; i < n && rc == TW_OK; i++) {
        for (int st = 0; st < SUP_ST__COUNT && rc == TW_OK; st++)
            rc = s_sample(out, "tubewatch_worker_state", w[i].name, "state",
                          sup_child_state_name((sup_state_t)st),
                          (int)w[i].state == st ? "1" : "0");
    }
    if (rc == TW_OK)
        rc = s_per_worker(out, "tubewatch_worker_restarts_total",
                          "Restarts of the worker after its process ended.",
                          s_restarts, w, n);
    if (rc == TW_OK)
        rc = s_family(out, "tubewatch_worker_exits_total", "counter",
                      "Ends of the worker's processes, by exit code or "
                      "signal class.");
    for (size_t i = 0; i < n && rc == TW_OK; i++) {
        for (int c = 0; c < SUP_EXIT__COUNT && rc == TW_OK; c++)
            rc = s_sample_u64(out, "tubewatch_worker_exits_total", w[i].name,
                              "cause",
                              sup_child_exit_cause_name((sup_exit_cause_t)c),
                              w[i].exits ? w[i].exits[c] : 0);
    }
    if (rc == TW_OK)
        rc = s_per_worker(out, "tubewatch_worker_messages_in_total",
                          "Messages the worker received, from its "
                          "heartbeats.",
                          s_in, w, n);
    if (rc == TW_OK)
        rc = s_per_worker(out, "tubewatch_worker_messages_out_total",
                          "Messages the worker produced, from its "
                          "heartbeats.",
                          s_out, w, n);
    if (rc == TW_OK)
        rc = s_per_worker(out, "tubewatch_worker_errors_total",
                          "Errors the worker counted, from its heartbeats.",
                          s_errors, w, n);
    if (rc == TW_OK)
        rc = s_family(out, "tubewatch_worker_heartbeat_age_seconds", "gauge",
                      "Seconds since the worker's last heartbeat or hello "
                      "(absent while it has none).");
    for (size_t i = 0; i < n && rc == TW_OK; i++) {
        if (w[i].heartbeat_age_s < 0)
            continue;
        char num[32];
        snprintf(num, sizeof num, "%.3f", w[i].heartbeat_age_s);
        rc = s_sample(out, "tubewatch_worker_heartbeat_age_seconds", w[i].name,
                      NULL, NULL, num);
    }
    if (rc == TW_OK)
        rc = s_per_worker(out, "tubewatch_worker_log_dropped_lines_total",
                          "Log lines dropped because the worker wrote "
                          "faster than the disk took them.",
                          s_dropped, w, n);
    if (rc == TW_OK)
        rc = s_family(out, "tubewatch_drift_total", "counter",
                      "Drift reports: a source's answers were not "
                      "understood too often.");
    for (size_t i = 0; i < n && rc == TW_OK; i++) {
        for (uint32_t d = 0; d < w[i].ndrifts && rc == TW_OK; d++)
            rc = s_sample_u64(out, "tubewatch_drift_total", w[i].name, "source",
                              w[i].drifts[d].source, w[i].drifts[d].reports);
    }
    if (rc == TW_OK)
        rc = s_render_values(out, w, n);
    return rc;
}

/* ---- the HTTP endpoint ---- */

struct sup_metrics_http {
    struct MHD_Daemon *mhd;   /* the server, no threads of its own */
    sup_metrics_page_fn page; /* renders the page */
    void *ctx;                /* passed to page */
    int fd;                   /* epoll fd to poll */
    uint16_t port;            /* port bound */
};

static enum MHD_Result s_answer(struct MHD_Connection *conn, unsigned status,
                                const char *ctype, const char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn,
                                const char *url, const char *method,
                                const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)con_cls;
    sup_metrics_http_t *self = cls;
    static const char text[] = "text/plain; charset=utf-8";
    if (*upload_size != 0) {
        *upload_size = 0; /* ignore any body; answered when it is read */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return s_answer(conn, 405, text, "only GET\n", 9);
    if (strcmp(url, "/metrics") != 0)
        return s_answer(conn, 404, text, "see /metrics\n", 13);
    tw_buf_t *buf = tw_buf_new();
    tw_rc_t rc = buf ? self->page(self->ctx, buf) : TW_ERR_NOMEM;
    enum MHD_Result ret;
    if (rc != TW_OK)
        ret = s_answer(conn, 500, text, "unable to render metrics\n", 25);
    else
        ret = s_answer(conn, 200, "text/plain; version=0.0.4; charset=utf-8",
                       tw_buf_data(buf), tw_buf_len(buf));
    tw_buf_destroy(&buf);
    return ret;
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    tw_log_warn("metrics: %s", line);
}

sup_metrics_http_t *sup_metrics_http_new(const char *listen,
                                         sup_metrics_page_fn page, void *ctx,
                                         tw_err_t *err)
{
    assert(listen);
    assert(page);
    struct sockaddr_storage sa;
    if (tw_cfg_parse_listen(listen, &sa, err) != TW_OK)
        return NULL;
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
        tw_err_set(err, "libmicrohttpd was built without epoll");
        return NULL;
    }
    sup_metrics_http_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    self->page = page;
    self->ctx = ctx;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (sa.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, s_access, self, MHD_OPTION_EXTERNAL_LOGGER,
        s_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!self->mhd) {
        tw_err_set(err, "unable to listen on %s for metrics: %s", listen,
                   errno ? strerror(errno) : "libmicrohttpd refused");
        free(self);
        return NULL;
    }
    const union MHD_DaemonInfo *fd =
        MHD_get_daemon_info(self->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *port =
        MHD_get_daemon_info(self->mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (!fd || fd->epoll_fd < 0) {
        tw_err_set(err, "unable to get libmicrohttpd's epoll fd");
        MHD_stop_daemon(self->mhd);
        free(self);
        return NULL;
    }
    self->fd = fd->epoll_fd;
    self->port = port ? port->port : 0;
    return self;
}

void sup_metrics_http_destroy(sup_metrics_http_t **self_p)
{
    assert(self_p);
    sup_metrics_http_t *self = *self_p;
    if (!self)
        return;
    MHD_stop_daemon(self->mhd);
    free(self);
    *self_p = NULL;
}

int sup_metrics_http_fd(const sup_metrics_http_t *self)
{
    assert(self);
    return self->fd;
}

int64_t sup_metrics_http_timeout_ms(sup_metrics_http_t *self)
{
    assert(self);
    MHD_UNSIGNED_LONG_LONG t = 0;
    if (MHD_get_timeout(self->mhd, &t) != MHD_YES)
        return -1;
    return t > INT32_MAX ? INT32_MAX : (int64_t)t;
}

void sup_metrics_http_run(sup_metrics_http_t *self)
{
    assert(self);
    MHD_run(self->mhd);
}

uint16_t sup_metrics_http_port(const sup_metrics_http_t *self)
{
    assert(self);
    return self->port;
}
