/* sup_state - what tubewatchd keeps in STATE across restarts: the epoch
 * counter and the template instances to restore (spawns.tsv). */
#ifndef SUP_STATE_H
#define SUP_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* Writes len bytes to path atomically (temp file, fsync, rename, fsync of
 * the directory), mode 0600. */
tw_rc_t sup_state_write_atomic(const char *path, const void *data, size_t len,
                               tw_err_t *err);

/* The incarnation counter; increases across restarts of tubewatchd. */
typedef struct sup_epoch sup_epoch_t;
/* Opens the counter stored at path (created when missing). Reserves a
 * block of numbers on disk so that a crash never reuses one. NULL with err
 * set on I/O failure. */
sup_epoch_t *sup_epoch_open(const char *path, tw_err_t *err);
/* Frees *self_p; safe on NULL. */
void sup_epoch_destroy(sup_epoch_t **self_p);
/* Returns the next epoch (never 0, never repeated). */
uint64_t sup_epoch_next(sup_epoch_t *self);

/* One template instance to keep across restarts. */
typedef struct {
    char tmpl[32];      /* template name */
    char instance[64];  /* instance id */
    int64_t not_before; /* Unix usec */
} sup_spawn_t;

/* Writes the instances (spawns.tsv format: TEMPLATE TAB INSTANCE TAB USEC)
 * atomically to path. */
tw_rc_t sup_spawns_save(const char *path, const sup_spawn_t *v, size_t n,
                        tw_err_t *err);
/* Reads up to cap entries from path into v; *n gets the count. A missing
 * file is 0 entries. Malformed lines are skipped and counted in *bad. */
tw_rc_t sup_spawns_load(const char *path, sup_spawn_t *v, size_t cap, size_t *n,
                        size_t *bad, tw_err_t *err);

#endif
