/* sup_control - the commands of control.sock: reads the requests waiting
 * on the ROUTER socket, parses them (sup_ctl), acts on the child table and
 * answers each with one JSON frame. What the table cannot do itself
 * (status, reload, shutdown, refusing work while shutting down) comes from
 * the daemon through sup_control_hooks_t. */
#ifndef SUP_CONTROL_H
#define SUP_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sup_child.h"
#include "sup_table.h"
#include "tw_rc.h"

/* What the daemon does for the control commands. */
typedef struct {
    void *ctx; /* passed to every hook */
    /* The status answer (sup_status_json; all: every scheduled instance
     * listed), owned by the caller. */
    json_t *(*status)(void *ctx, bool all);
    /* Reloads the config; on success err holds the summary. */
    tw_rc_t (*reload)(void *ctx, tw_err_t *err);
    /* Starts stopping everything. */
    void (*shutdown)(void *ctx);
    /* True once a shutdown began. */
    bool (*shutting_down)(void *ctx);
} sup_control_hooks_t;

typedef struct sup_control sup_control_t;

/* Serves requests arriving on router (a bound ZMQ ROUTER, borrowed) for
 * table and ops (borrowed). NULL when out of memory. */
sup_control_t *sup_control_new(void *router, sup_table_t *table,
                               const sup_ops_t *ops,
                               const sup_control_hooks_t *hooks);
/* Frees *self_p and sets it to NULL; safe on NULL. */
void sup_control_destroy(sup_control_t **self_p);
/* Answers at most max_requests waiting requests, without blocking;
 * malformed envelopes are dropped unanswered. */
void sup_control_run(sup_control_t *self, int max_requests);
/* The answer to one request frame: {"ok":true,...} or {"ok":false,
 * "rc":N,"error":"..."} (caller decrefs). */
json_t *sup_control_answer(sup_control_t *self, const void *data, size_t len);

#endif
