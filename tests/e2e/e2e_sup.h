/* e2e_sup - harness of the supervisor end-to-end tests: a mkdtemp dir with
 * a config, the real tubewatchd, requests on its control socket. */
#ifndef E2E_SUP_H
#define E2E_SUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* One supervisor under test. */
typedef struct {
    char dir[256];      /* scratch dir (removed by e2e_sup_cleanup) */
    char cfg[300];      /* DIR/sup.toml */
    char worker[4096];  /* absolute path of tw-test-worker */
    char daemon[4096];  /* absolute path of tubewatchd */
    char cli[4096];     /* absolute path of tubewatch */
    pid_t pid;          /* tubewatchd, 0 when not running */
    char preload[4096]; /* LD_PRELOAD of tubewatchd, "" = none */
} e2e_sup_t;

/* Makes the dir and writes the config: a [supervisor] section pointing
 * into the dir, fast [defaults], then workers (TOML) where "@W" stands for
 * the test worker's path and "@D" for the dir. */
void e2e_sup_init(e2e_sup_t *t, const char *workers);
/* Runs tubewatchd with BUILD/rel (a helper library) in LD_PRELOAD. */
void e2e_sup_preload(e2e_sup_t *t, const char *rel);
/* Rewrites the config with other workers (for reload tests). */
void e2e_sup_write_config(e2e_sup_t *t, const char *workers);
/* Starts tubewatchd (stderr to DIR/daemon.err) and waits until it answers;
 * returns false if it did not. */
bool e2e_sup_start(e2e_sup_t *t);
/* Starts another tubewatchd on the same config and returns its exit code
 * (or -1 if it is still running after 5 s). */
int e2e_sup_run_second(e2e_sup_t *t);
/* Sends one JSON request; returns the reply (caller decrefs) or NULL. */
json_t *e2e_sup_request(e2e_sup_t *t, const char *json);
/* The status entry of worker name (caller decrefs) or NULL. */
json_t *e2e_sup_worker(e2e_sup_t *t, const char *name);
/* Waits until worker name is in state (NULL: absent); true if so. */
bool e2e_sup_wait_state(e2e_sup_t *t, const char *name, const char *state,
                        int timeout_ms);
/* Pid of worker name from status, 0 if none. */
pid_t e2e_sup_pid(e2e_sup_t *t, const char *name);
/* Lines of DIR/NAME.events starting with word ("start", "exit"); fills up
 * to cap monotonic microsecond stamps into us (may be NULL). */
int e2e_sup_events(e2e_sup_t *t, const char *name, const char *word,
                   long long *us, int cap);
/* Pids listed in DIR/NAME.grandchildren; returns how many. */
int e2e_sup_grandchildren(e2e_sup_t *t, const char *name, pid_t *pids, int cap);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. Returns the wait status. */
int e2e_sup_stop(e2e_sup_t *t, int timeout_ms);
/* Stops tubewatchd (exit 0 asserted) and asserts that no worker log holds
 * a sanitizer report (ASan, LSan at exit, UBSan). */
void e2e_sup_stop_checked(e2e_sup_t *t);
/* Stops tubewatchd if running and removes the dir. */
void e2e_sup_cleanup(e2e_sup_t *t);
/* Runs the tubewatch CLI with args (a shell-free argv) and returns its exit
 * code; its stdout goes to DIR/cli.out. */
int e2e_sup_cli(e2e_sup_t *t, const char *const *args);
/* True while pid exists and is not a zombie. */
bool e2e_pid_alive(pid_t pid);
/* Waits until pid is gone; true if so. */
bool e2e_wait_dead(pid_t pid, int timeout_ms);

#endif
