/* sup_daemon - tubewatchd: owns the runtime dir, the sockets, the child
 * table and the one event loop. */
#ifndef SUP_DAEMON_H
#define SUP_DAEMON_H

/* Runs the supervisor for the config at path in the foreground until
 * SIGTERM/SIGINT or a shutdown request. Returns the process exit code: 0
 * after a clean stop, 100 for a bad config, 111 when the runtime dir is
 * locked by another tubewatchd or a resource is unavailable. */
int sup_daemon_run(const char *config_path);

#endif
