/* sup_daemon - tubewatchd: owns the runtime dir, the sockets, the child
 * table and the one event loop. */
#ifndef SUP_DAEMON_H
#define SUP_DAEMON_H

#include "tw_rc.h"

/* Runs the supervisor for the config at path in the foreground until
 * SIGTERM/SIGINT or a shutdown request. Returns TW_OK after a clean stop,
 * TW_ERR_CONFIG for a bad config (or runtime dir), TW_ERR_AGAIN when the
 * runtime dir is locked by another tubewatchd, TW_ERR_IO or TW_ERR_NOMEM
 * when a resource is unavailable; tw_rc_exit gives the exit code. */
tw_rc_t sup_daemon_run(const char *config_path);

#endif
