/* sup_status - status answer, status.json, systemd STATUS=, /metrics. */
#include "sup_status.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "sup_log.h"
#include "sup_metrics.h"
#include "tw_time.h"
#include "tw_version.h"

/* The name of the first dependency of c that is not running, or NULL. */
static const char *s_waiting_for(const sup_table_t *t, const sup_child_t *c)
{
    const tw_cfg_strv_t *after = &sup_child_cfg(c)->after;
    for (size_t i = 0; i < after->len; i++) {
        const sup_child_t *d = sup_table_find(t, after->v[i]);
        if (d && sup_child_state(d) != SUP_ST_RUNNING)
            return sup_child_name(d);
    }
    return NULL;
}

static json_t *s_child_json(const sup_table_t *t, const sup_child_t *c,
                            int64_t now)
{
    sup_child_view_t v;
    sup_child_view(c, &v);
    char ex[32];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(v.name));
    json_object_set_new(o, "state", json_string(sup_child_state_name(v.state)));
    json_object_set_new(o, "pid", json_integer(v.pid));
    json_object_set_new(o, "epoch", json_integer((json_int_t)v.epoch));
    json_object_set_new(
        o, "uptime_ms",
        json_integer(sup_child_alive(c) ? now - v.started_ms : 0));
    json_object_set_new(o, "restarts", json_integer(v.restarts));
    json_object_set_new(o, "last_exit",
                        json_string(sup_child_exit_str(c, ex, sizeof ex)));
    json_object_set_new(o, "msgs_per_s", json_real(v.msgs_per_s));
    json_object_set_new(o, "wanted", json_boolean(v.want));
    json_object_set_new(o, "note", json_string(v.note));
    if (v.drift[0]) {
        char ts[TW_TIME_STR_SIZE];
        json_object_set_new(o, "drift", json_string(v.drift));
        json_object_set_new(o, "drift_at",
                            json_string(tw_time_format(v.drift_at_us, ts)));
    }
    if (v.deadline_ms > 0 &&
        (v.state == SUP_ST_BACKOFF || v.state == SUP_ST_FAILED ||
         v.state == SUP_ST_SCHEDULED))
        json_object_set_new(
            o, "next_start_ms",
            json_integer(v.deadline_ms > now ? v.deadline_ms - now : 0));
    if (v.state == SUP_ST_SCHEDULED) {
        char ts[TW_TIME_STR_SIZE];
        json_object_set_new(o, "not_before",
                            json_string(tw_time_format(v.not_before_us, ts)));
    }
    json_object_set_new(o, "log_dropped",
                        json_integer((json_int_t)sup_log_dropped(v.log)));
    if (v.state == SUP_ST_WAITING) {
        const char *dep = s_waiting_for(t, c);
        if (dep)
            json_object_set_new(o, "waiting_for", json_string(dep));
    }
    return o;
}

/* One template's scheduled instances. */
typedef struct {
    const char *tmpl; /* template name (borrowed from the config) */
    size_t count;     /* instances SCHEDULED */
    int64_t next_us;  /* earliest not_before */
} s_sched_t;

/* Counts the scheduled instances per template into v (cap entries, the
 * templates of the config at most); returns the total. */
static size_t s_scheduled(const sup_table_t *table, s_sched_t *v, size_t cap,
                          size_t *nv)
{
    size_t total = 0;
    *nv = 0;
    for (size_t i = 0; i < sup_table_count(table); i++) {
        const sup_child_t *c = sup_table_at(table, i);
        if (sup_child_state(c) != SUP_ST_SCHEDULED)
            continue;
        sup_child_view_t v1;
        sup_child_view(c, &v1);
        total++;
        size_t k = 0;
        while (k < *nv && strcmp(v[k].tmpl, v1.cfg->name) != 0)
            k++;
        if (k == *nv) {
            if (*nv == cap)
                continue;
            v[k] = (s_sched_t){.tmpl = v1.cfg->name, .next_us = INT64_MAX};
            (*nv)++;
        }
        v[k].count++;
        if (v1.not_before_us < v[k].next_us)
            v[k].next_us = v1.not_before_us;
    }
    return total;
}

json_t *sup_status_json(const sup_status_info_t *info, const sup_table_t *table,
                        bool all)
{
    assert(info);
    assert(table);
    int64_t now = tw_time_mono_ms();
    s_sched_t sched[32];
    size_t nsched = 0;
    size_t nscheduled = s_scheduled(table, sched, 32, &nsched);
    bool listed = all || nscheduled <= SUP_STATUS_LIST_SCHEDULED;
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_true());
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "version", json_string(TW_VERSION));
    json_object_set_new(o, "config", json_string(info->config_path));
    json_object_set_new(o, "uptime_ms", json_integer(now - info->started_ms));
    json_object_set_new(o, "shutting_down", json_boolean(info->shutting_down));
    json_t *arr = json_array();
    for (size_t i = 0; i < sup_table_count(table); i++) {
        const sup_child_t *c = sup_table_at(table, i);
        if (listed || sup_child_state(c) != SUP_ST_SCHEDULED)
            json_array_append_new(arr, s_child_json(table, c, now));
    }
    json_object_set_new(o, "workers", arr);
    json_t *sa = json_array();
    for (size_t k = 0; k < nsched; k++) {
        char ts[TW_TIME_STR_SIZE];
        json_array_append_new(
            sa, json_pack("{s:s,s:I,s:s}", "template", sched[k].tmpl, "count",
                          (json_int_t)sched[k].count, "next",
                          tw_time_format(sched[k].next_us, ts)));
    }
    json_object_set_new(o, "scheduled", sa);
    json_object_set_new(o, "scheduled_listed", json_boolean(listed));
    return o;
}

tw_rc_t sup_status_write(const char *path, const sup_status_info_t *info,
                         const sup_table_t *table, tw_err_t *err)
{
    assert(path);
    assert(info);
    assert(table);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_integer(tw_time_now_us() / 1000000));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "shutting_down", json_boolean(info->shutting_down));
    json_t *ws = json_object();
    for (size_t i = 0; i < sup_table_count(table); i++) {
        const sup_child_t *c = sup_table_at(table, i);
        json_t *w = json_object();
        json_object_set_new(
            w, "state", json_string(sup_child_state_name(sup_child_state(c))));
        json_object_set_new(w, "pid", json_integer(sup_child_pid(c)));
        json_object_set_new(w, "restarts", json_integer(sup_child_restarts(c)));
        json_object_set_new(ws, sup_child_name(c), w);
    }
    json_object_set_new(o, "workers", ws);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    size_t len = strlen(text);
    text[len] = '\n';
    /* No fsync: the runtime dir is volatile by nature. */
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    tw_rc_t rc = TW_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        tw_err_set(err, "unable to open %s: %s", tmp, strerror(errno));
        rc = TW_ERR_IO;
    } else {
        ssize_t w = write(fd, text, len + 1);
        int e = errno;
        close(fd);
        if (w != (ssize_t)(len + 1)) {
            tw_err_set(err, "unable to write %s: %s", tmp,
                       w < 0 ? strerror(e) : "short write");
            unlink(tmp);
            rc = TW_ERR_IO;
        } else if (rename(tmp, path) != 0) {
            tw_err_set(err, "unable to rename %s: %s", tmp, strerror(errno));
            unlink(tmp);
            rc = TW_ERR_IO;
        }
    }
    free(text);
    return rc;
}

void sup_status_notify(const sup_status_info_t *info, const sup_table_t *table)
{
    assert(info);
    assert(table);
    size_t run = 0, failed = 0, other = 0;
    for (size_t i = 0; i < sup_table_count(table); i++) {
        sup_state_t st = sup_child_state(sup_table_at(table, i));
        if (st == SUP_ST_RUNNING)
            run++;
        else if (st == SUP_ST_FAILED)
            failed++;
        else
            other++;
    }
    sd_notifyf(0, "STATUS=%s%zu running, %zu failed, %zu other",
               info->shutting_down ? "stopping: " : "", run, failed, other);
}

tw_rc_t sup_status_metrics(const sup_status_info_t *info,
                           const sup_table_t *table, tw_buf_t *out)
{
    assert(info);
    assert(table);
    assert(out);
    size_t n = sup_table_count(table);
    sup_metrics_worker_t *w = calloc(n ? n : 1, sizeof *w);
    if (!w)
        return TW_ERR_NOMEM;
    int64_t now = tw_time_mono_ms();
    for (size_t i = 0; i < n; i++) {
        const sup_child_t *c = sup_table_at(table, i);
        sup_child_view_t v;
        sup_child_view(c, &v);
        w[i] = (sup_metrics_worker_t){
            .name = v.name,
            .kind = v.cfg->kind,
            .state = v.state,
            .up = v.state == SUP_ST_RUNNING,
            .restarts = v.restarts,
            .exits = v.exits,
            .msgs_in = v.total_in,
            .msgs_out = v.total_out,
            .errors = v.total_errors,
            .heartbeat_age_s = sup_child_alive(c) && v.last_hb_ms > 0
                                   ? (double)(now - v.last_hb_ms) / 1000.0
                                   : -1.0,
            .log_dropped = v.log ? sup_log_dropped(v.log) : 0,
            .drifts = v.drifts,
            .ndrifts = v.ndrifts,
            .instance = v.instance,
            .metrics = v.metrics};
    }
    sup_metrics_global_t g = {.version = TW_VERSION,
                              .start_time_s = (double)info->started_us / 1e6,
                              .bad_msgs = info->bad_msgs,
                              .reloads = info->reloads};
    tw_rc_t rc = sup_metrics_render(out, &g, w, n);
    free(w);
    return rc;
}
