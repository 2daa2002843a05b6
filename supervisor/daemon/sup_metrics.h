/* sup_metrics - the Prometheus page of tubewatchd (text exposition format
 * 0.0.4) and the HTTP endpoint serving GET /metrics from the event loop:
 * libmicrohttpd without threads, its epoll fd polled by the supervisor. */
#ifndef SUP_METRICS_H
#define SUP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "sup_child.h"
#include "tw_buf.h"
#include "tw_metric.h"
#include "tw_rc.h"

/* What the page says about the supervisor itself. */
typedef struct {
    const char *version; /* tubewatch version */
    double start_time_s; /* Unix time tubewatchd started */
    uint64_t bad_msgs;   /* undecodable worker frames */
    uint64_t reloads;    /* config reloads accepted */
} sup_metrics_global_t;

/* What the page says about one worker (borrowed strings). */
typedef struct {
    const char *name;                /* "scanner", "chat@VIDEO" */
    const char *kind;                /* "chat", "scanner", ... */
    sup_state_t state;               /* lifecycle state */
    bool up;                         /* a process exists and is ready */
    uint64_t restarts;               /* restarts so far */
    const uint64_t *exits;           /* SUP_EXIT__COUNT counters */
    uint64_t msgs_in;                /* messages in (heartbeats) */
    uint64_t msgs_out;               /* messages out (heartbeats) */
    uint64_t errors;                 /* errors (heartbeats) */
    double heartbeat_age_s;          /* since the last beat; < 0 none */
    uint64_t log_dropped;            /* log lines dropped */
    const sup_drift_count_t *drifts; /* drift reports by source */
    uint32_t ndrifts;                /* entries in drifts */
    const char *instance;            /* "VIDEO" of chat@VIDEO, or ""/NULL */
    const tw_metric_set_t *metrics;  /* heartbeat values, or NULL */
} sup_metrics_worker_t;

/* Appends value to out escaped for a label value: backslash, double quote
 * and newline become \\, \" and \n. TW_ERR_NOMEM on failure. */
tw_rc_t sup_metrics_escape(tw_buf_t *out, const char *value);
/* Appends the whole page for g and the n workers in w to out: the
 * heartbeat values of tw_metric.h become tubewatch_<name>{worker="W"}
 * (plus video="VIDEO" for a chat@VIDEO worker), with HELP and TYPE from
 * tw_metric_known. TW_ERR_NOMEM
 * on failure (out then holds part of the page). */
tw_rc_t sup_metrics_render(tw_buf_t *out, const sup_metrics_global_t *g,
                           const sup_metrics_worker_t *w, size_t n);

/* Renders the page into out (reset and owned by the server). */
typedef tw_rc_t (*sup_metrics_page_fn)(void *ctx, tw_buf_t *out);

/* The HTTP endpoint. */
typedef struct sup_metrics_http sup_metrics_http_t;
/* Listens on listen ("127.0.0.1:9464"); page renders each answer. NULL
 * with err set on a bad address or when the port cannot be bound. */
sup_metrics_http_t *sup_metrics_http_new(const char *listen,
                                         sup_metrics_page_fn page, void *ctx,
                                         tw_err_t *err);
/* Stops listening and frees *self_p; sets it to NULL; safe on NULL. */
void sup_metrics_http_destroy(sup_metrics_http_t **self_p);
/* The fd to poll for input; when it is readable, or after timeout_ms,
 * call sup_metrics_http_run. */
int sup_metrics_http_fd(const sup_metrics_http_t *self);
/* Milliseconds until the server needs sup_metrics_http_run even without
 * input (connection time-outs); -1 = none. */
int64_t sup_metrics_http_timeout_ms(sup_metrics_http_t *self);
/* Accepts, reads and answers what is ready, without blocking. */
void sup_metrics_http_run(sup_metrics_http_t *self);
/* The TCP port listened on (useful with port 0). */
uint16_t sup_metrics_http_port(const sup_metrics_http_t *self);

#endif
