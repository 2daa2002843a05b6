/* sup_reload - config loading and the reload diff. */
#include "sup_reload.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_log.h"

/* Longest "after" chain followed. */
#define MAX_DEPTH 64

/* Checks the "after" graph: unknown names and cycles are config errors. */
static tw_rc_t s_check_graph(const tw_cfg_t *cfg, tw_err_t *err)
{
    for (size_t i = 0; i < cfg->nworkers; i++) {
        const tw_cfg_worker_t *w = &cfg->workers[i];
        if (w->is_template && strlen(w->name) > 31) {
            tw_err_set(err,
                       "worker.%s: a template name may have at most 31 "
                       "bytes",
                       w->name);
            return TW_ERR_CONFIG;
        }
        for (size_t j = 0; j < w->after.len; j++) {
            const tw_cfg_worker_t *d = tw_cfg_worker(cfg, w->after.v[j]);
            if (!d) {
                tw_err_set(err, "worker.%s: after names unknown worker '%s'",
                           w->name, w->after.v[j]);
                return TW_ERR_CONFIG;
            }
            if (d->is_template) {
                tw_err_set(err, "worker.%s: after names template '%s'", w->name,
                           w->after.v[j]);
                return TW_ERR_CONFIG;
            }
        }
    }
    /* Longest path is at most nworkers: follow every chain that far. */
    for (size_t i = 0; i < cfg->nworkers; i++) {
        const tw_cfg_worker_t *w = &cfg->workers[i];
        const tw_cfg_worker_t *stack[MAX_DEPTH];
        size_t idx[MAX_DEPTH];
        size_t depth = 1;
        stack[0] = w;
        idx[0] = 0;
        while (depth > 0) {
            const tw_cfg_worker_t *top = stack[depth - 1];
            if (idx[depth - 1] >= top->after.len) {
                depth--;
                continue;
            }
            const tw_cfg_worker_t *d =
                tw_cfg_worker(cfg, top->after.v[idx[depth - 1]++]);
            if (d == w) {
                tw_err_set(err, "worker.%s: dependency cycle through 'after'",
                           w->name);
                return TW_ERR_CONFIG;
            }
            if (depth >= MAX_DEPTH || depth > cfg->nworkers) {
                tw_err_set(err, "worker.%s: dependency chain too deep",
                           w->name);
                return TW_ERR_CONFIG;
            }
            stack[depth] = d;
            idx[depth] = 0;
            depth++;
        }
    }
    return TW_OK;
}

tw_rc_t sup_reload_load(tw_cfg_t **cfg_p, const char *path, tw_err_t *err)
{
    assert(cfg_p);
    assert(path);
    assert(err);
    *cfg_p = NULL;
    tw_cfg_problem_t *problems = NULL;
    size_t n = 0;
    tw_cfg_t *cfg = tw_cfg_load(path, &problems, &n);
    if (!cfg) {
        size_t off = 0;
        err->msg[0] = '\0';
        for (size_t i = 0; i < n && off < sizeof err->msg - 1; i++) {
            int w =
                snprintf(err->msg + off, sizeof err->msg - off,
                         "%s%s:%d:%d: %s", i ? "; " : "", path,
                         problems[i].line, problems[i].col, problems[i].msg);
            if (w < 0)
                break;
            off += (size_t)w;
        }
        if (n == 0)
            tw_err_set(err, "%s: unable to load the config", path);
        tw_rc_t rc =
            tw_cfg_problems_temporary(problems, n) ? TW_ERR_IO : TW_ERR_CONFIG;
        free(problems);
        return rc;
    }
    free(problems);
    if (s_check_graph(cfg, err) != TW_OK) {
        tw_cfg_destroy(&cfg);
        return TW_ERR_CONFIG;
    }
    *cfg_p = cfg;
    return TW_OK;
}

/* Warns about settings that only a restart of tubewatchd applies. */
static void s_warn_fixed(const tw_cfg_supervisor_t *a,
                         const tw_cfg_supervisor_t *b)
{
    if (strcmp(a->runtime_dir, b->runtime_dir) != 0 ||
        strcmp(a->log_dir, b->log_dir) != 0 ||
        strcmp(a->state_dir, b->state_dir) != 0)
        tw_log_warn("reload: runtime_dir, log_dir and state_dir changes "
                    "take effect at the next start of tubewatchd");
    if (strcmp(a->metrics_listen, b->metrics_listen) != 0)
        tw_log_warn("reload: metrics_listen changes take effect at the next "
                    "start of tubewatchd");
}

tw_rc_t sup_reload_apply(sup_table_t *table, const sup_ops_t *ops,
                         sup_logger_t *logger, const char *path, tw_err_t *err)
{
    assert(table);
    assert(ops);
    assert(logger);
    assert(path);
    assert(err);
    tw_cfg_t *nc = NULL;
    tw_rc_t rc = sup_reload_load(&nc, path, err);
    if (rc != TW_OK) {
        tw_log_error("reload rejected, running config kept: %s", err->msg);
        return rc;
    }
    if (sup_table_nretired(table) == SUP_TABLE_MAX_RETIRED) {
        tw_cfg_destroy(&nc);
        tw_err_set(err, "too many reloads in flight; try again when the "
                        "removed workers have stopped");
        return TW_ERR_AGAIN;
    }
    s_warn_fixed(&sup_table_cfg(table)->supervisor, &nc->supervisor);
    sup_logger_set_limits(logger, nc->supervisor.log_max_size,
                          nc->supervisor.log_keep);
    size_t added = 0, removed = 0, changed = 0;
    size_t nold = sup_table_count(table);
    bool any_retired = false;
    for (size_t i = 0; i < nold; i++) {
        sup_child_t *c = sup_table_at(table, i);
        if (sup_child_removing(c))
            continue;
        const tw_cfg_worker_t *nw = tw_cfg_worker(nc, sup_child_cfg(c)->name);
        bool was_tmpl = sup_child_instance(c)[0] != '\0';
        if (!nw || nw->is_template != was_tmpl) {
            sup_child_set_remove(c, true, true);
            any_retired = true;
            sup_child_dispatch(ops, c, SUP_EV_STOP);
            removed++;
            continue;
        }
        bool same = tw_cfg_worker_equal(sup_child_cfg(c), nw);
        sup_child_set_cfg(c, nw);
        if (same)
            continue;
        changed++;
        sup_log_note(sup_child_log(c), "config changed");
        if (!nw->enabled)
            sup_child_dispatch(ops, c, SUP_EV_STOP);
        else if (sup_child_alive(c))
            sup_child_dispatch(ops, c, SUP_EV_RESTART);
        else if (sup_child_state(c) != SUP_ST_SCHEDULED)
            sup_child_dispatch(ops, c, SUP_EV_START);
    }
    for (size_t i = 0; i < nc->nworkers; i++) {
        const tw_cfg_worker_t *nw = &nc->workers[i];
        if (nw->is_template)
            continue;
        sup_child_t *old = sup_table_find(table, nw->name);
        if (old && sup_child_removing(old)) {
            /* Removed by an earlier reload and still stopping: keep it. */
            sup_child_set_remove(old, false, false);
            sup_child_set_cfg(old, nw);
            added++;
            if (nw->enabled)
                sup_child_dispatch(ops, old, SUP_EV_START);
            continue;
        }
        if (old)
            continue;
        sup_child_t *c = sup_table_add(table, nw, NULL, err);
        if (!c) {
            tw_log_error("reload: unable to add %s: %s", nw->name, err->msg);
            continue;
        }
        added++;
        if (nw->enabled)
            sup_child_dispatch(ops, c, SUP_EV_START);
    }
    /* Room for one more was checked above. */
    rc = sup_table_set_cfg(table, &nc, any_retired);
    assert(rc == TW_OK);
    (void)rc;
    tw_log_info("reloaded %s: %zu added, %zu removed, %zu changed", path, added,
                removed, changed);
    tw_err_set(err, "%zu added, %zu removed, %zu changed", added, removed,
               changed);
    return TW_OK;
}
