/* uploader_state - the uploader's journal STATE/uploader/uploaded.tsv: one
 * line per day with its phase, rewritten atomically on every change. */
#include "tw_archive.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_buf.h"
#include "tw_file.h"
#include "tw_log.h"
#include "tw_time.h"

#define HEADER    "date\tphase\tsize\tmd5\tsession\tfile_id\tupdated_at\n"
#define MAX_STATE (64u * 1024 * 1024)

struct tw_archive_state {
    char *path;          /* the journal file */
    tw_archive_day_t *v; /* days, sorted by date */
    size_t n;            /* how many */
    size_t cap;          /* allocated */
};

static const char *const s_phases[] = {"none", "zipped", "session", "uploaded",
                                       "deleted"};

const char *tw_archive_phase_name(tw_archive_phase_t p)
{
    return (unsigned)p < sizeof s_phases / sizeof s_phases[0] ? s_phases[p]
                                                              : "?";
}

static int s_phase(const char *s)
{
    for (size_t i = 0; i < sizeof s_phases / sizeof s_phases[0]; i++)
        if (strcmp(s, s_phases[i]) == 0)
            return (int)i;
    return -1;
}

/* Splits line at tabs into at most n fields; returns the count. */
static size_t s_split(char *line, char **f, size_t n)
{
    size_t k = 0;
    f[k++] = line;
    for (char *p = line; *p && k < n; p++) {
        if (*p == '\t') {
            *p = '\0';
            f[k++] = p + 1;
        }
    }
    return k;
}

static bool s_clean(const char *s, size_t cap)
{
    if (strlen(s) >= cap)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

tw_rc_t tw_archive_state_load(const char *path, tw_archive_state_t **self_p,
                              tw_err_t *err)
{
    *self_p = NULL;
    tw_archive_state_t *self = calloc(1, sizeof *self);
    if (!self)
        return TW_ERR_NOMEM;
    self->path = strdup(path);
    if (!self->path) {
        free(self);
        return TW_ERR_NOMEM;
    }
    char *data = NULL;
    size_t len = 0;
    tw_rc_t rc = tw_file_read_all(path, MAX_STATE, &data, &len, err);
    if (rc == TW_ERR_NOTFOUND) {
        tw_err_clear(err);
        *self_p = self;
        return TW_OK;
    }
    if (rc != TW_OK) {
        tw_archive_state_destroy(&self);
        return rc;
    }
    size_t lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (lineno == 1 && strncmp(line, "date\t", 5) == 0)
            continue;
        char *f[8];
        size_t nf = s_split(line, f, 7);
        int ph = nf == 7 ? s_phase(f[1]) : -1;
        if (ph < 0 || !tw_archive_valid_date(f[0]) || !s_clean(f[3], 33) ||
            !s_clean(f[4], 2048) || !s_clean(f[5], 128)) {
            tw_log_warn("%s:%zu: skipping a malformed line", path, lineno);
            continue;
        }
        tw_archive_day_t *d = tw_archive_state_get(self, f[0], true);
        if (!d) {
            free(data);
            tw_archive_state_destroy(&self);
            return TW_ERR_NOMEM;
        }
        d->phase = (tw_archive_phase_t)ph;
        d->size = strtoull(f[2], NULL, 10);
        snprintf(d->md5, sizeof d->md5, "%s", f[3]);
        snprintf(d->session, sizeof d->session, "%s", f[4]);
        snprintf(d->file_id, sizeof d->file_id, "%s", f[5]);
        int64_t us = 0;
        if (tw_time_parse(f[6], &us, NULL) == TW_OK)
            d->updated_us = us;
    }
    free(data);
    *self_p = self;
    return TW_OK;
}

void tw_archive_state_destroy(tw_archive_state_t **self_p)
{
    tw_archive_state_t *self = *self_p;
    if (!self)
        return;
    free(self->v);
    free(self->path);
    free(self);
    *self_p = NULL;
}

tw_archive_day_t *tw_archive_state_get(tw_archive_state_t *self,
                                       const char *date, bool create)
{
    size_t i = 0;
    for (; i < self->n; i++) {
        int c = strcmp(self->v[i].date, date);
        if (c == 0)
            return &self->v[i];
        if (c > 0)
            break;
    }
    if (!create || !tw_archive_valid_date(date))
        return NULL;
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        tw_archive_day_t *v = realloc(self->v, cap * sizeof *v);
        if (!v)
            return NULL;
        self->v = v;
        self->cap = cap;
    }
    memmove(&self->v[i + 1], &self->v[i], (self->n - i) * sizeof *self->v);
    self->n++;
    tw_archive_day_t *d = &self->v[i];
    memset(d, 0, sizeof *d);
    snprintf(d->date, sizeof d->date, "%s", date);
    return d;
}

size_t tw_archive_state_count(const tw_archive_state_t *self)
{
    return self->n;
}

tw_archive_day_t *tw_archive_state_at(tw_archive_state_t *self, size_t i)
{
    return i < self->n ? &self->v[i] : NULL;
}

tw_rc_t tw_archive_state_save(tw_archive_state_t *self, tw_err_t *err)
{
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return TW_ERR_NOMEM;
    tw_rc_t rc = tw_buf_append_str(b, HEADER);
    for (size_t i = 0; rc == TW_OK && i < self->n; i++) {
        const tw_archive_day_t *d = &self->v[i];
        char ts[TW_TIME_STR_SIZE];
        rc = tw_buf_printf(b, "%s\t%s\t%" PRIu64 "\t%s\t%s\t%s\t%s\n", d->date,
                           tw_archive_phase_name(d->phase), d->size, d->md5,
                           d->session, d->file_id,
                           tw_time_format(d->updated_us, ts));
    }
    if (rc == TW_OK)
        rc = tw_file_write_atomic_at("uploader/state", self->path,
                                     tw_buf_data(b), tw_buf_len(b), 0600, err);
    tw_buf_destroy(&b);
    return rc;
}
