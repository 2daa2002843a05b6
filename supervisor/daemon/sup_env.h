/* sup_env - what a worker is started with: its argv (the section's command,
 * or libexec/tw-KIND) and its environment (inherited, the section's env,
 * then the TUBEWATCH_* identity, which neither may forge). */
#ifndef SUP_ENV_H
#define SUP_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "tw_cfg.h"
#include "tw_rc.h"

/* Who the worker is and where it finds the supervisor (borrowed strings). */
typedef struct {
    const char *name;        /* TUBEWATCH_WORKER: "scanner", "chat@VIDEO" */
    const char *instance;    /* TUBEWATCH_INSTANCE: instance id or "" */
    uint64_t epoch;          /* TUBEWATCH_EPOCH: incarnation */
    const char *config_path; /* TUBEWATCH_CONFIG: absolute config path */
    const char *runtime_dir; /* TUBEWATCH_RUNTIME_DIR */
    const char
        *sup_endpoint;     /* TUBEWATCH_SUP_ENDPOINT: ipc://RUNTIME/sup.sock */
    const char *state_dir; /* TUBEWATCH_STATE_DIR */
    const char *data_dir;  /* TUBEWATCH_DATA_DIR */
    const char *libexec_dir; /* where tw-KIND lives */
} sup_env_ids_t;

/* The argv and envp of one start. */
typedef struct sup_env sup_env_t;

/* Builds the argv and environment of worker w: inherited is the
 * supervisor's environment (NULL-terminated), from which the variables of
 * the identity and of systemd's protocols (NOTIFY_SOCKET, WATCHDOG_*,
 * LISTEN_*) are dropped and those the section's env sets are replaced.
 * NULL when out of memory. */
sup_env_t *sup_env_new(const tw_cfg_worker_t *w, char *const *inherited,
                       const sup_env_ids_t *ids);
/* Frees *self_p and sets it to NULL; safe on NULL. */
void sup_env_destroy(sup_env_t **self_p);
/* The program and its arguments; argv[0] is the path (borrowed). */
char *const *sup_env_argv(const sup_env_t *self);
/* The complete environment, NULL-terminated (borrowed). */
char *const *sup_env_envp(const sup_env_t *self);
/* True when a "KEY=VALUE" entry sets a variable tubewatchd owns (the
 * TUBEWATCH_* identity, systemd's NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*). */
bool sup_env_reserved(const char *entry);

#endif
