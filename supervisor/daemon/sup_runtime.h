/* sup_runtime - tubewatchd's runtime dir and what lives in it: the 0700
 * dir and its lock, the state and data dirs, the processes a previous
 * tubewatchd left behind, the signalfd, /dev/null for the children, and
 * the three sockets (control.sock, sup.sock, events.sock). */
#ifndef SUP_RUNTIME_H
#define SUP_RUNTIME_H

#include <stddef.h>

#include "tw_cfg.h"
#include "tw_rc.h"

typedef struct sup_runtime sup_runtime_t;

/* Sets up the runtime of the [supervisor] section sv, in this order:
 * checks that runtime_dir fits a Unix socket path, creates it 0700 (owned
 * by us), locks RUNTIME/lock and writes our pid there, creates state_dir
 * and data_dir, kills the processes a previous tubewatchd left in this
 * runtime dir, blocks SIGCHLD/SIGTERM/SIGINT/SIGHUP into a signalfd,
 * ignores SIGPIPE, becomes a child subreaper, opens /dev/null and binds
 * RUNTIME/control.sock, sup.sock (both ROUTER) and events.sock (PUB),
 * mode 0600. On success *self_p is owned by the caller. On failure
 * *self_p is NULL, err says why and rc is TW_ERR_CONFIG (runtime dir too
 * long or not ours), TW_ERR_AGAIN (locked by another tubewatchd, or no
 * ZeroMQ context) or TW_ERR_IO; what was set up is undone, and the sockets
 * are removed only by the lock holder. */
tw_rc_t sup_runtime_new(sup_runtime_t **self_p, const tw_cfg_supervisor_t *sv,
                        tw_err_t *err);
/* Closes the sockets, the context and the fds; as the lock holder removes
 * the socket files. Frees *self_p and sets it to NULL; safe on NULL. */
void sup_runtime_destroy(sup_runtime_t **self_p);

/* The runtime dir (borrowed). */
const char *sup_runtime_dir(const sup_runtime_t *self);
/* The workers' endpoint, "ipc://RUNTIME/sup.sock" (borrowed). */
const char *sup_runtime_sup_endpoint(const sup_runtime_t *self);
/* The ROUTER socket of control.sock (borrowed). */
void *sup_runtime_control_sock(const sup_runtime_t *self);
/* The ROUTER socket of sup.sock, the workers' socket (borrowed). */
void *sup_runtime_worker_sock(const sup_runtime_t *self);
/* The signalfd of SIGCHLD, SIGTERM, SIGINT and SIGHUP (non-blocking). */
int sup_runtime_signal_fd(const sup_runtime_t *self);
/* An fd open on /dev/null, the children's stdin. */
int sup_runtime_null_fd(const sup_runtime_t *self);
/* Publishes buf on events.sock under topic (two frames: topic, buf),
 * without blocking; dropped when no subscriber keeps up. */
void sup_runtime_publish(sup_runtime_t *self, const char *topic,
                         const void *buf, size_t len);

#endif
