/* sup_wsock - the workers' socket, sup.sock: reads what the workers send
 * (HELLO, HEARTBEAT, spawn.request, stream.event, drift), feeds it to the
 * child table and republishes stream events and drift on events.sock;
 * sends STOP to a worker. */
#ifndef SUP_WSOCK_H
#define SUP_WSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "sup_child.h"
#include "sup_runtime.h"
#include "sup_table.h"

/* What the daemon answers for the worker socket. */
typedef struct {
    void *ctx; /* passed to every hook */
    /* True once a shutdown began: spawn requests are refused then. */
    bool (*shutting_down)(void *ctx);
} sup_wsock_hooks_t;

typedef struct sup_wsock sup_wsock_t;

/* Serves the worker socket and events.sock of rt for table and ops (all
 * borrowed). NULL when out of memory. */
sup_wsock_t *sup_wsock_new(sup_runtime_t *rt, sup_table_t *table,
                           const sup_ops_t *ops,
                           const sup_wsock_hooks_t *hooks);
/* Frees *self_p and sets it to NULL; safe on NULL. */
void sup_wsock_destroy(sup_wsock_t **self_p);
/* Handles at most max_msgs waiting worker messages, without blocking:
 * HELLO and HEARTBEAT of the current incarnation of a child go to it (any
 * other is ignored), spawn.request to sup_table_spawn, stream.event and
 * drift are logged and republished (a drift only when the child's drift
 * report says so). Malformed frames are dropped and counted. */
void sup_wsock_run(sup_wsock_t *self, int max_msgs);
/* Sends STOP with grace_ms to the current incarnation of c, without
 * blocking; dropped when c is not connected. */
void sup_wsock_stop(sup_wsock_t *self, const sup_child_t *c, uint32_t grace_ms);
/* Worker frames dropped as malformed so far. */
uint64_t sup_wsock_bad_msgs(const sup_wsock_t *self);

#endif
