/* sup_status - what tubewatchd says about itself and its children: the
 * answer to `tubewatch status`, RUNTIME/status.json, the STATUS= line for
 * systemd and the GET /metrics page. */
#ifndef SUP_STATUS_H
#define SUP_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sup_table.h"
#include "tw_buf.h"
#include "tw_rc.h"

/* The supervisor's own figures (borrowed strings). */
typedef struct {
    const char *config_path; /* absolute config path */
    int64_t started_ms;      /* monotonic start of tubewatchd */
    int64_t started_us;      /* wall time tubewatchd started */
    bool shutting_down;      /* stopping everything */
    uint64_t bad_msgs;       /* undecodable worker frames */
    uint64_t reloads;        /* config reloads accepted */
} sup_status_info_t;

/* Scheduled instances listed one by one in the status answer at most;
 * above it (unless all is asked for) they are summed up per template. */
#define SUP_STATUS_LIST_SCHEDULED 100

/* The status answer: {"ok":true, "pid", "version", "config", "uptime_ms",
 * "shutting_down", "workers":[{name, state, pid, ...}], "scheduled":
 * [{template, count, next}], "scheduled_listed"} (caller decrefs), or NULL
 * when out of memory. "workers" holds the scheduled instances too when
 * all is true or they are at most SUP_STATUS_LIST_SCHEDULED; "scheduled"
 * counts them per template with the earliest start either way. */
json_t *sup_status_json(const sup_status_info_t *info, const sup_table_t *table,
                        bool all);
/* Replaces path (status.json) atomically with time, pid, shutting_down and
 * each worker's state, pid and restarts. TW_ERR_IO or TW_ERR_NOMEM with
 * err set on failure. */
tw_rc_t sup_status_write(const char *path, const sup_status_info_t *info,
                         const sup_table_t *table, tw_err_t *err);
/* Tells systemd "N running, N failed, N other" (a no-op outside it). */
void sup_status_notify(const sup_status_info_t *info, const sup_table_t *table);
/* Renders the Prometheus page into out. TW_ERR_NOMEM on failure. */
tw_rc_t sup_status_metrics(const sup_status_info_t *info,
                           const sup_table_t *table, tw_buf_t *out);

#endif
