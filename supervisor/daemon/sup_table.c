/* sup_table - the child table, its configs and the template instances. */
#include "sup_table.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sup_state.h"
#include "tw_log.h"
#include "tw_time.h"
#include "tw_worker.h"

struct sup_table {
    tw_cfg_t *cfg;                            /* current config (owned) */
    tw_cfg_t *retired[SUP_TABLE_MAX_RETIRED]; /* configs still referenced */
    size_t nretired;                          /* how many */
    sup_child_t **kids;                       /* the children */
    size_t nkids;                             /* children in use */
    size_t capkids;                           /* allocated slots */
    sup_logger_t *logger;                     /* opens children's logs */
    char spawns_path[PATH_MAX];               /* STATE/spawns.tsv */
    bool spawns_dirty;                        /* spawns.tsv is stale */
    int64_t spawns_saved_ms; /* monotonic time of the last save attempt */
    uint64_t generation;     /* children added or dropped */
};

sup_table_t *sup_table_new(tw_cfg_t **cfg_p, sup_logger_t *logger,
                           const char *spawns_path)
{
    assert(cfg_p);
    assert(*cfg_p);
    assert(logger);
    assert(spawns_path);
    sup_table_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->capkids = 16;
    self->kids = calloc(self->capkids, sizeof *self->kids);
    if (!self->kids) {
        free(self);
        return NULL;
    }
    self->cfg = *cfg_p;
    *cfg_p = NULL;
    self->logger = logger;
    snprintf(self->spawns_path, sizeof self->spawns_path, "%s", spawns_path);
    return self;
}

/* Closes c's log and frees c. */
static void s_drop(sup_child_t **c_p)
{
    sup_log_t *log = sup_child_log(*c_p);
    sup_log_destroy(&log);
    sup_child_destroy(c_p);
}

void sup_table_destroy(sup_table_t **self_p)
{
    assert(self_p);
    sup_table_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nkids; i++)
        s_drop(&self->kids[i]);
    for (size_t i = 0; i < self->nretired; i++)
        tw_cfg_destroy(&self->retired[i]);
    tw_cfg_destroy(&self->cfg);
    free(self->kids);
    free(self);
    *self_p = NULL;
}

const tw_cfg_t *sup_table_cfg(const sup_table_t *self)
{
    assert(self);
    return self->cfg;
}

tw_rc_t sup_table_set_cfg(sup_table_t *self, tw_cfg_t **cfg_p, bool retire)
{
    assert(self);
    assert(cfg_p);
    assert(*cfg_p);
    if (retire && self->nretired == SUP_TABLE_MAX_RETIRED)
        return TW_ERR_AGAIN;
    if (retire)
        self->retired[self->nretired++] = self->cfg;
    else
        tw_cfg_destroy(&self->cfg);
    self->cfg = *cfg_p;
    *cfg_p = NULL;
    return TW_OK;
}

size_t sup_table_nretired(const sup_table_t *self)
{
    assert(self);
    return self->nretired;
}

size_t sup_table_count(const sup_table_t *self)
{
    assert(self);
    return self->nkids;
}

sup_child_t *sup_table_at(const sup_table_t *self, size_t i)
{
    assert(self);
    assert(i < self->nkids);
    return self->kids[i];
}

uint64_t sup_table_generation(const sup_table_t *self)
{
    assert(self);
    return self->generation + sup_logger_pipes(self->logger);
}

sup_child_t *sup_table_find(const sup_table_t *self, const char *name)
{
    assert(self);
    assert(name);
    for (size_t i = 0; i < self->nkids; i++) {
        if (strcmp(sup_child_name(self->kids[i]), name) == 0)
            return self->kids[i];
    }
    return NULL;
}

sup_child_t *sup_table_add(sup_table_t *self, const tw_cfg_worker_t *w,
                           const char *instance, tw_err_t *err)
{
    assert(self);
    assert(w);
    if (self->nkids == self->capkids) {
        sup_child_t **k =
            realloc(self->kids, self->capkids * 2 * sizeof *self->kids);
        if (!k) {
            tw_err_set(err, "out of memory");
            return NULL;
        }
        self->kids = k;
        self->capkids *= 2;
    }
    sup_child_t *c = sup_child_new(w, instance);
    if (!c) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    sup_log_t *log = sup_log_open(self->logger, sup_child_name(c), err);
    if (!log) {
        sup_child_destroy(&c);
        return NULL;
    }
    sup_child_set_log(c, log);
    self->kids[self->nkids++] = c;
    self->generation++;
    return c;
}

/* Frees the retired configs once no child uses them. */
static void s_free_retired(sup_table_t *self)
{
    for (size_t i = 0; i < self->nkids; i++) {
        if (sup_child_retired_cfg(self->kids[i]))
            return;
    }
    for (size_t i = 0; i < self->nretired; i++)
        tw_cfg_destroy(&self->retired[i]);
    self->nretired = 0;
}

void sup_table_sweep(sup_table_t *self)
{
    assert(self);
    bool removed = false;
    for (size_t i = 0; i < self->nkids;) {
        sup_child_t *c = self->kids[i];
        sup_log_t *log = sup_child_log(c);
        if (log && !sup_child_alive(c) && sup_log_piped(log))
            sup_log_unpipe(log); /* its process was reaped */
        if ((sup_child_removing(c) && sup_child_settled(c)) ||
            sup_child_done(c)) {
            if (sup_child_instance(c)[0])
                self->spawns_dirty = true;
            s_drop(&self->kids[i]);
            self->kids[i] = self->kids[--self->nkids];
            self->generation++;
            removed = true;
            continue;
        }
        i++;
    }
    if (removed && self->nretired > 0)
        s_free_retired(self);
}

bool sup_table_deps_ready(const sup_table_t *self, const sup_child_t *c)
{
    assert(self);
    assert(c);
    const tw_cfg_strv_t *after = &sup_child_cfg(c)->after;
    for (size_t i = 0; i < after->len; i++) {
        const tw_cfg_worker_t *dw = tw_cfg_worker(self->cfg, after->v[i]);
        if (!dw || !dw->enabled)
            continue; /* a disabled dependency never holds anyone back */
        const sup_child_t *d = sup_table_find(self, after->v[i]);
        if (!d || sup_child_state(d) != SUP_ST_RUNNING)
            return false;
    }
    return true;
}

bool sup_table_has_live_dependents(const sup_table_t *self,
                                   const sup_child_t *c)
{
    assert(self);
    assert(c);
    if (sup_child_instance(c)[0])
        return false;
    for (size_t i = 0; i < self->nkids; i++) {
        const sup_child_t *d = self->kids[i];
        if (!sup_child_alive(d))
            continue;
        const tw_cfg_strv_t *after = &sup_child_cfg(d)->after;
        for (size_t j = 0; j < after->len; j++) {
            if (strcmp(after->v[j], sup_child_name(c)) == 0)
                return true;
        }
    }
    return false;
}

static size_t s_count_instances(const sup_table_t *self, const char *tmpl)
{
    size_t n = 0, tl = strlen(tmpl);
    for (size_t i = 0; i < self->nkids; i++) {
        const char *nm = sup_child_name(self->kids[i]);
        if (sup_child_instance(self->kids[i])[0] &&
            strncmp(nm, tmpl, tl) == 0 && nm[tl] == '@')
            n++;
    }
    return n;
}

tw_rc_t sup_table_spawn(sup_table_t *self, const sup_ops_t *ops,
                        const char *tmpl, const char *instance,
                        int64_t not_before, tw_err_t *err)
{
    assert(self);
    assert(ops);
    assert(tmpl);
    assert(instance);
    const tw_cfg_worker_t *w = tw_cfg_worker(self->cfg, tmpl);
    if (!w || !w->is_template) {
        tw_err_set(err, "no template worker '%s'", tmpl);
        return TW_ERR_NOTFOUND;
    }
    if (!w->enabled) {
        tw_err_set(err, "template '%s' is disabled", tmpl);
        return TW_ERR_STATE;
    }
    if (!tw_worker_valid_instance(instance)) {
        tw_err_set(err, "bad instance id");
        return TW_ERR_INVALID;
    }
    char name[TW_WORKER_NAME_MAX];
    snprintf(name, sizeof name, "%s@%s", tmpl, instance);
    sup_child_t *c = sup_table_find(self, name);
    if (c) {
        sup_state_t st = sup_child_state(c);
        if (st == SUP_ST_SCHEDULED) {
            sup_child_schedule(ops, c, not_before);
            self->spawns_dirty = true;
            tw_log_info("%s: rescheduled", name);
        } else if (!sup_child_alive(c) && st != SUP_ST_BACKOFF &&
                   st != SUP_ST_WAITING) {
            sup_child_set_remove(c, false, sup_child_retired_cfg(c));
            sup_child_dispatch(ops, c, SUP_EV_START);
        }
        return TW_OK;
    }
    if (s_count_instances(self, tmpl) >= w->max_instances) {
        tw_err_set(err,
                   "template '%s' already has max_instances (%" PRIu32
                   ") instances",
                   tmpl, w->max_instances);
        return TW_ERR_TOOBIG;
    }
    c = sup_table_add(self, w, instance, err);
    if (!c)
        return TW_ERR_NOMEM;
    self->spawns_dirty = true;
    sup_child_schedule(ops, c, not_before);
    if (sup_child_state(c) == SUP_ST_SCHEDULED) {
        char ts[TW_TIME_STR_SIZE];
        sup_log_note(sup_child_log(c), "scheduled for %s",
                     tw_time_format(not_before, ts));
        tw_log_info("%s: scheduled for %s", name, ts);
    }
    return TW_OK;
}

void sup_table_touch_spawns(sup_table_t *self)
{
    assert(self);
    self->spawns_dirty = true;
}

bool sup_table_spawns_dirty(const sup_table_t *self)
{
    assert(self);
    return self->spawns_dirty;
}

bool sup_table_spawns_due(const sup_table_t *self, int64_t now_ms)
{
    assert(self);
    return self->spawns_dirty &&
           now_ms - self->spawns_saved_ms >= SUP_TABLE_SPAWNS_BATCH_MS;
}

tw_rc_t sup_table_save_spawns(sup_table_t *self, tw_err_t *err)
{
    assert(self);
    sup_spawn_t *v = calloc(self->nkids + 1, sizeof *v);
    if (!v) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < self->nkids; i++) {
        const sup_child_t *c = self->kids[i];
        sup_child_view_t cv;
        sup_child_view(c, &cv);
        if (!cv.instance[0] || sup_child_removing(c) ||
            cv.state == SUP_ST_EXITED || cv.state == SUP_ST_STOPPED)
            continue;
        snprintf(v[n].tmpl, sizeof v[n].tmpl, "%s", cv.cfg->name);
        snprintf(v[n].instance, sizeof v[n].instance, "%s", cv.instance);
        v[n].not_before = cv.not_before_us;
        n++;
    }
    tw_rc_t rc = sup_spawns_save(self->spawns_path, v, n, err);
    self->spawns_saved_ms = tw_time_mono_ms();
    if (rc == TW_OK)
        self->spawns_dirty = false;
    free(v);
    return rc;
}

void sup_table_restore_spawns(sup_table_t *self, const sup_ops_t *ops)
{
    assert(self);
    assert(ops);
    /* every instance the templates allow (each at most 10000): a file
     * written before a config change may hold fewer or more */
    size_t cap = 1;
    for (size_t i = 0; i < self->cfg->nworkers; i++)
        if (self->cfg->workers[i].is_template)
            cap += self->cfg->workers[i].max_instances;
    sup_spawn_t *v = calloc(cap, sizeof *v);
    if (!v)
        return;
    size_t n = 0, bad = 0;
    tw_err_t err;
    /* Restoring the file's own entries leaves it as fresh as it was. */
    bool dirty = self->spawns_dirty;
    if (sup_spawns_load(self->spawns_path, v, cap, &n, &bad, &err) != TW_OK)
        tw_log_error("unable to read spawns: %s", err.msg);
    if (bad > 0)
        tw_log_warn("%s: skipped %zu malformed lines", self->spawns_path, bad);
    for (size_t i = 0; i < n; i++) {
        if (sup_table_spawn(self, ops, v[i].tmpl, v[i].instance,
                            v[i].not_before, &err) != TW_OK)
            tw_log_warn("unable to restore %s@%s: %s", v[i].tmpl, v[i].instance,
                        err.msg);
        else
            tw_log_info("restored %s@%s", v[i].tmpl, v[i].instance);
    }
    self->spawns_dirty = dirty;
    free(v);
}
