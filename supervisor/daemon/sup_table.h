/* sup_table - tubewatchd's child table: the children, the config their
 * sections belong to (and configs replaced by a reload while some child
 * still uses them), dependencies between children, and the template
 * instances (chat@VIDEO) with their start times kept in STATE/spawns.tsv. */
#ifndef SUP_TABLE_H
#define SUP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sup_child.h"
#include "sup_log.h"
#include "tw_cfg.h"
#include "tw_rc.h"

/* Configs replaced by reloads whose children are still stopping. */
#define SUP_TABLE_MAX_RETIRED 8
typedef struct sup_table sup_table_t;

/* Returns an empty table that takes *cfg_p (set to NULL), opens each
 * child's log with logger (borrowed) and keeps instances in spawns_path.
 * NULL when out of memory (*cfg_p is then left alone). */
sup_table_t *sup_table_new(tw_cfg_t **cfg_p, sup_logger_t *logger,
                           const char *spawns_path);
/* Closes every child's log, frees the children and the configs; sets
 * *self_p to NULL; safe on NULL. Processes are the caller's business. */
void sup_table_destroy(sup_table_t **self_p);

/* The current config (borrowed). */
const tw_cfg_t *sup_table_cfg(const sup_table_t *self);
/* Makes *cfg_p (taken, set to NULL) the current config. The old one is
 * freed, or kept while children marked retired_cfg use it (retire).
 * TW_ERR_AGAIN (nothing changed) when SUP_TABLE_MAX_RETIRED are kept. */
tw_rc_t sup_table_set_cfg(sup_table_t *self, tw_cfg_t **cfg_p, bool retire);
/* Configs kept for retired children. */
size_t sup_table_nretired(const sup_table_t *self);

/* Number of children; sup_table_at(i) for i below it. */
size_t sup_table_count(const sup_table_t *self);
sup_child_t *sup_table_at(const sup_table_t *self, size_t i);
/* Changes whenever a child is added or dropped, or a log pipe is opened or
 * closed (a pipe exists only while a process runs). */
uint64_t sup_table_generation(const sup_table_t *self);
/* The child called name, or NULL. */
sup_child_t *sup_table_find(const sup_table_t *self, const char *name);
/* Adds a STOPPED child for section w (instance may be NULL) with its log.
 * NULL with err set on failure. */
sup_child_t *sup_table_add(sup_table_t *self, const tw_cfg_worker_t *w,
                           const char *instance, tw_err_t *err);
/* Closes the log pipe of every child whose process was reaped, drops
 * children marked for removal once settled, and instances whose job is
 * done; frees configs no child uses any more. */
void sup_table_sweep(sup_table_t *self);

/* True when every enabled worker in c's "after" list is RUNNING. */
bool sup_table_deps_ready(const sup_table_t *self, const sup_child_t *c);
/* True while some live child lists c in its "after". */
bool sup_table_has_live_dependents(const sup_table_t *self,
                                   const sup_child_t *c);

/* Schedules TMPL@INSTANCE at not_before (Unix usec; in the past = now):
 * adds the instance (at most max_instances per template), moves a
 * scheduled one to the new time, starts a settled one again.
 * TW_ERR_NOTFOUND, TW_ERR_STATE (disabled), TW_ERR_INVALID (bad id),
 * TW_ERR_TOOBIG or TW_ERR_NOMEM with err set. */
tw_rc_t sup_table_spawn(sup_table_t *self, const sup_ops_t *ops,
                        const char *tmpl, const char *instance,
                        int64_t not_before, tw_err_t *err);
/* Notes that the set of instances changed (spawns.tsv is stale). */
void sup_table_touch_spawns(sup_table_t *self);
/* True while spawns.tsv is stale. */
bool sup_table_spawns_dirty(const sup_table_t *self);
/* Saves of spawns.tsv are at least this far apart (ms), so that a burst of
 * spawns costs one write and fsync, not one per spawn. */
#define SUP_TABLE_SPAWNS_BATCH_MS 200
/* True when spawns.tsv is stale and the last save is at least
 * SUP_TABLE_SPAWNS_BATCH_MS old at now_ms (monotonic). */
bool sup_table_spawns_due(const sup_table_t *self, int64_t now_ms);
/* Rewrites spawns.tsv with the instances still wanted. */
tw_rc_t sup_table_save_spawns(sup_table_t *self, tw_err_t *err);
/* Schedules the instances listed in spawns.tsv again (logging each); the
 * file is not marked stale by it. */
void sup_table_restore_spawns(sup_table_t *self, const sup_ops_t *ops);

#endif
