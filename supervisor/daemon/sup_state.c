/* sup_state - epoch counter and spawns.tsv, written atomically. */
#include "sup_state.h"
#include "tw_fault.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tw_log.h"
#include "tw_time.h"
#include "tw_worker.h"

/* Epoch numbers reserved on disk at a time. */
#define EPOCH_BLOCK 1024
/* Largest counter accepted from the file: far from wrapping around. */
#define EPOCH_MAX (UINT64_MAX / 4)

tw_rc_t sup_state_write_atomic(const char *path, const void *data, size_t len,
                               tw_err_t *err)
{
    assert(path);
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        tw_err_set(err, "path too long: %s", path);
        return TW_ERR_INVALID;
    }
    /* crash points "tw/crash/supervisor/<file name>/..." */
    const char *base = strrchr(path, '/');
    char point[96];
    snprintf(point, sizeof point, "supervisor/%s", base ? base + 1 : path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        tw_err_set(err, "unable to create %s: %s", tmp, strerror(errno));
        return TW_ERR_IO;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            tw_err_set(err, "unable to write %s: %s", tmp, strerror(e));
            return e == ENOSPC ? TW_ERR_NOSPACE : TW_ERR_IO;
        }
        p += w;
        left -= (size_t)w;
    }
    tw_fault_crash(point, "before_fsync");
    if (fsync(fd) != 0) {
        tw_err_set(err, "unable to fsync %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return TW_ERR_IO;
    }
    if (close(fd) != 0) {
        tw_err_set(err, "unable to close %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return TW_ERR_IO;
    }
    tw_fault_crash(point, "after_fsync");
    if (rename(tmp, path) != 0) {
        tw_err_set(err, "unable to rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return TW_ERR_IO;
    }
    tw_fault_crash(point, "after_rename");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return TW_OK;
}

struct sup_epoch {
    char path[PATH_MAX]; /* file holding the reserved limit */
    uint64_t next;       /* next number handed out */
    uint64_t limit;      /* numbers below this are reserved on disk */
    bool failing;        /* the last reservation failed */
};

static tw_rc_t s_epoch_reserve(sup_epoch_t *self, tw_err_t *err)
{
    char buf[32];
    int n =
        snprintf(buf, sizeof buf, "%" PRIu64 "\n", self->limit + EPOCH_BLOCK);
    tw_rc_t rc = sup_state_write_atomic(self->path, buf, (size_t)n, err);
    if (rc == TW_OK)
        self->limit += EPOCH_BLOCK;
    return rc;
}

sup_epoch_t *sup_epoch_open(const char *path, tw_err_t *err)
{
    assert(path);
    sup_epoch_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    snprintf(self->path, sizeof self->path, "%s", path);
    FILE *f = fopen(path, "re");
    uint64_t stored = 0;
    if (f) {
        char line[64] = "";
        char *end = NULL;
        bool ok = fgets(line, sizeof line, f) != NULL && line[0] >= '0' &&
                  line[0] <= '9';
        errno = 0;
        unsigned long long v = ok ? strtoull(line, &end, 10) : 0;
        ok = ok && errno == 0 && (*end == '\n' || *end == '\0') &&
             v <= EPOCH_MAX;
        fclose(f);
        if (ok) {
            stored = (uint64_t)v;
        } else {
            /* Damaged: any number may have been used. The wall clock in
             * microseconds is far above a counter that started at 1 and
             * grows by one per spawn. */
            stored = (uint64_t)tw_time_now_us();
            tw_log_warn("%s is damaged: epochs restart at %" PRIu64, path,
                        stored);
        }
    }
    /* Everything below the stored limit may have been handed out. */
    self->next = stored > 0 ? stored : 1;
    self->limit = self->next;
    if (s_epoch_reserve(self, err) != TW_OK) {
        free(self);
        return NULL;
    }
    return self;
}

void sup_epoch_destroy(sup_epoch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

uint64_t sup_epoch_next(sup_epoch_t *self)
{
    assert(self);
    if (self->next >= self->limit) {
        tw_err_t err = {{0}, 0, 0};
        if (s_epoch_reserve(self, &err) != TW_OK) {
            /* Still monotonic within this run; only a crash right now could
             * repeat numbers at the next start. Tried again at each spawn,
             * said once. */
            if (!self->failing)
                tw_log_error("unable to reserve epochs (retrying at the next "
                             "spawn): %s",
                             err.msg);
            self->failing = true;
            self->limit = self->next + 1;
        } else if (self->failing) {
            tw_log_info("epochs reserved again");
            self->failing = false;
        }
    }
    return self->next++;
}

tw_rc_t sup_spawns_save(const char *path, const sup_spawn_t *v, size_t n,
                        tw_err_t *err)
{
    assert(path);
    assert(v || n == 0);
    size_t cap = 64 + n * (sizeof v->tmpl + sizeof v->instance + 24);
    char *buf = malloc(cap);
    if (!buf) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + off, cap - off, "%s\t%s\t%" PRId64 "\n",
                         v[i].tmpl, v[i].instance, v[i].not_before);
        if (w > 0)
            off += (size_t)w;
    }
    tw_rc_t rc = sup_state_write_atomic(path, buf, off, err);
    free(buf);
    return rc;
}

tw_rc_t sup_spawns_load(const char *path, sup_spawn_t *v, size_t cap, size_t *n,
                        size_t *bad, tw_err_t *err)
{
    assert(path);
    assert(n);
    assert(bad);
    *n = 0;
    *bad = 0;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return TW_OK;
        tw_err_set(err, "unable to open %s: %s", path, strerror(errno));
        return TW_ERR_IO;
    }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            (*bad)++;
            continue;
        }
        line[len - 1] = '\0';
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) {
            (*bad)++;
            continue;
        }
        *t1 = '\0';
        *t2 = '\0';
        char *end = NULL;
        errno = 0;
        long long nb = strtoll(t2 + 1, &end, 10);
        if (errno || !end || *end || nb < 0 || strlen(line) == 0 ||
            strlen(line) >= sizeof v->tmpl || strchr(line, '@') ||
            !tw_worker_valid_instance(t1 + 1) || *n >= cap) {
            (*bad)++;
            continue;
        }
        sup_spawn_t *s = &v[(*n)++];
        /* Both lengths were checked above. */
        memcpy(s->tmpl, line, strlen(line) + 1);
        memcpy(s->instance, t1 + 1, strlen(t1 + 1) + 1);
        s->not_before = nb;
    }
    fclose(f);
    return TW_OK;
}
