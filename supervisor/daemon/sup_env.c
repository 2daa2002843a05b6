/* sup_env - a worker's argv and environment. */
#include "sup_env.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_worker.h"

/* Room for the identity's "KEY=VALUE" strings. */
#define ARENA_CAP (8 * PATH_MAX + 1024)

struct sup_env {
    char **argv;         /* program and arguments, NULL-terminated */
    char **envp;         /* environment, NULL-terminated */
    size_t nenv;         /* entries used in envp */
    size_t capenv;       /* slots in envp, the NULL included */
    char *arena;         /* the identity's strings */
    size_t off;          /* bytes used in arena */
    char path[PATH_MAX]; /* libexec/tw-KIND when the section has no command */
};

bool sup_env_reserved(const char *entry)
{
    static const char *const drop[] = {"TUBEWATCH_WORKER=",
                                       "TUBEWATCH_INSTANCE=",
                                       "TUBEWATCH_EPOCH=",
                                       "TUBEWATCH_CONFIG=",
                                       "TUBEWATCH_RUNTIME_DIR=",
                                       "TUBEWATCH_SUP_ENDPOINT=",
                                       "TUBEWATCH_STATE_DIR=",
                                       "TUBEWATCH_DATA_DIR=",
                                       "NOTIFY_SOCKET=",
                                       "WATCHDOG_PID=",
                                       "WATCHDOG_USEC=",
                                       "LISTEN_FDS=",
                                       "LISTEN_PID=",
                                       "LISTEN_FDNAMES="};
    assert(entry);
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
        if (strncmp(entry, drop[i], strlen(drop[i])) == 0)
            return true;
    }
    return false;
}

/* True when list sets the variable of entry ("KEY=..."). */
static bool s_in(const tw_cfg_strv_t *list, const char *entry)
{
    size_t klen = strcspn(entry, "=");
    for (size_t i = 0; i < list->len; i++) {
        if (strncmp(list->v[i], entry, klen) == 0 && list->v[i][klen] == '=')
            return true;
    }
    return false;
}

/* Appends "KEY=VALUE" (silently skipped when there is no room). */
static void s_add(sup_env_t *self, const char *key, const char *value)
{
    if (self->nenv + 1 >= self->capenv)
        return;
    int w = snprintf(self->arena + self->off, ARENA_CAP - self->off, "%s=%s",
                     key, value);
    if (w < 0 || (size_t)w >= ARENA_CAP - self->off)
        return;
    self->envp[self->nenv++] = self->arena + self->off;
    self->off += (size_t)w + 1;
}

sup_env_t *sup_env_new(const tw_cfg_worker_t *w, char *const *inherited,
                       const sup_env_ids_t *ids)
{
    assert(w);
    assert(inherited);
    assert(ids);
    sup_env_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    size_t nargs = w->command.len > 0 ? w->command.len : 1;
    size_t ninh = 0;
    while (inherited[ninh])
        ninh++;
    self->capenv = ninh + w->env.len + 16;
    self->argv = calloc(nargs + 1, sizeof *self->argv);
    self->envp = calloc(self->capenv, sizeof *self->envp);
    self->arena = malloc(ARENA_CAP);
    if (!self->argv || !self->envp || !self->arena) {
        sup_env_destroy(&self);
        return NULL;
    }
    if (w->command.len > 0) {
        for (size_t i = 0; i < w->command.len; i++)
            self->argv[i] = w->command.v[i];
    } else {
        snprintf(self->path, sizeof self->path, "%s/tw-%s", ids->libexec_dir,
                 w->kind);
        self->argv[0] = self->path;
    }
    /* The section's env overrides the inherited one; neither may forge
     * the TUBEWATCH_* identity. */
    for (size_t i = 0; i < ninh; i++) {
        if (!sup_env_reserved(inherited[i]) && !s_in(&w->env, inherited[i]))
            self->envp[self->nenv++] = inherited[i];
    }
    for (size_t i = 0; i < w->env.len && self->nenv + 1 < self->capenv; i++) {
        if (!sup_env_reserved(w->env.v[i]))
            self->envp[self->nenv++] = w->env.v[i];
    }
    char epoch[24];
    snprintf(epoch, sizeof epoch, "%" PRIu64, ids->epoch);
    s_add(self, TW_ENV_WORKER, ids->name);
    s_add(self, TW_ENV_INSTANCE, ids->instance);
    s_add(self, TW_ENV_EPOCH, epoch);
    s_add(self, TW_ENV_CONFIG, ids->config_path);
    s_add(self, TW_ENV_RUNTIME_DIR, ids->runtime_dir);
    s_add(self, TW_ENV_SUP_ENDPOINT, ids->sup_endpoint);
    s_add(self, TW_ENV_STATE_DIR, ids->state_dir);
    s_add(self, TW_ENV_DATA_DIR, ids->data_dir);
    self->envp[self->nenv] = NULL;
    return self;
}

void sup_env_destroy(sup_env_t **self_p)
{
    assert(self_p);
    sup_env_t *self = *self_p;
    if (!self)
        return;
    free(self->argv);
    free(self->envp);
    free(self->arena);
    free(self);
    *self_p = NULL;
}

char *const *sup_env_argv(const sup_env_t *self)
{
    assert(self);
    return self->argv;
}

char *const *sup_env_envp(const sup_env_t *self)
{
    assert(self);
    return self->envp;
}
