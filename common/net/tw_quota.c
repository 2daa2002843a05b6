/* tw_quota - Data API quota governor (see tw_quota.h). */
#include "tw_quota.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_buf.h"
#include "tw_file.h"
#include "tw_log.h"
#include "tw_time.h"
#include "tw_tsv.h"

/* Largest quota file read. */
#define S_MAX_FILE (64 * 1024)

struct tw_quota {
    char *path;                                  /* STATE/quota.tsv */
    char *lock_path;                             /* STATE/quota.tsv.lock */
    uint64_t per_day;                            /* budget */
    int64_t fixed_now;                           /* tests: fixed clock, 0 off */
    char day[TW_TIME_DATE_SIZE];                 /* Pacific day of the counts */
    int64_t blocked_until;                       /* usec, 0 = not blocked */
    tw_quota_method_t methods[TW_QUOTA_METHODS]; /* today's totals */
    size_t nmethods;                             /* used entries */
    struct stat seen;                            /* file identity last read */
    bool have_seen;                              /* seen is valid */
    tw_quota_method_t pending[TW_QUOTA_METHODS]; /* spent, not saved yet */
    size_t npending;                             /* used entries */
    char pending_day[TW_TIME_DATE_SIZE];         /* Pacific day of pending */
    bool pending_block;                          /* a block not saved yet */
    bool failing;                                /* the last save failed */
};

static int64_t s_now(const tw_quota_t *self)
{
    return self->fixed_now ? self->fixed_now : tw_time_now_us();
}

/* Today's Pacific date; falls back to UTC-8 when the zone is missing. */
static void s_today(const tw_quota_t *self, char *buf)
{
    int64_t now = s_now(self);
    if (tw_time_pacific_date(now, buf, NULL) != TW_OK)
        tw_time_format_date(now - INT64_C(8) * 3600 * 1000000, buf);
}

static int64_t s_next_midnight(const tw_quota_t *self)
{
    int64_t now = s_now(self), next;
    if (tw_time_next_pacific_midnight(now, &next, NULL) == TW_OK)
        return next;
    int64_t day = INT64_C(86400) * 1000000, off = INT64_C(8) * 3600 * 1000000;
    return ((now - off) / day + 1) * day + off;
}

tw_quota_t *tw_quota_open(const char *path, uint64_t per_day, tw_err_t *err)
{
    if (!path || !*path) {
        tw_err_set(err, "quota file path is empty");
        return NULL;
    }
    tw_quota_t *self = calloc(1, sizeof *self);
    size_t n = strlen(path) + 6;
    if (self) {
        self->path = strdup(path);
        self->lock_path = malloc(n);
    }
    if (!self || !self->path || !self->lock_path) {
        tw_quota_destroy(&self);
        tw_err_set(err, "out of memory");
        return NULL;
    }
    snprintf(self->lock_path, n, "%s.lock", path);
    self->per_day = per_day;
    return self;
}

void tw_quota_destroy(tw_quota_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->path);
    free((*self_p)->lock_path);
    free(*self_p);
    *self_p = NULL;
}

void tw_quota_set_now(tw_quota_t *self, int64_t now_us)
{
    assert(self);
    self->fixed_now = now_us;
    self->have_seen = false;
}

static tw_quota_method_t *s_method(tw_quota_t *self, const char *name,
                                   size_t len, bool add)
{
    for (size_t i = 0; i < self->nmethods; i++)
        if (strlen(self->methods[i].method) == len &&
            memcmp(self->methods[i].method, name, len) == 0)
            return &self->methods[i];
    if (!add || self->nmethods == TW_QUOTA_METHODS ||
        len >= sizeof self->methods[0].method)
        return NULL;
    tw_quota_method_t *m = &self->methods[self->nmethods++];
    memset(m, 0, sizeof *m);
    memcpy(m->method, name, len);
    return m;
}

static uint64_t s_u64(const char *p, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++)
        v = v * 10 + (uint64_t)(p[i] - '0');
    return v;
}

/* Drops counts of an earlier day and an expired block. */
static void s_roll(tw_quota_t *self)
{
    char today[TW_TIME_DATE_SIZE];
    s_today(self, today);
    if (strcmp(today, self->day) != 0) {
        snprintf(self->day, sizeof self->day, "%s", today);
        self->nmethods = 0;
    }
    if (self->blocked_until && self->blocked_until <= s_now(self))
        self->blocked_until = 0;
}

/* Adds calls and units of method to the counts (to "other" when the table
 * is full). */
static void s_count(tw_quota_t *self, const char *method, uint64_t calls,
                    uint64_t units)
{
    tw_quota_method_t *m = s_method(self, method, strlen(method), true);
    if (!m)
        m = s_method(self, "other", 5, true);
    if (m) {
        m->calls += calls;
        m->units += units;
    }
}

/* Adds what was spent but not saved (a failed save) to the counts just
 * read: they are the file plus that. Pending counts of an earlier day are
 * dropped. */
static void s_apply_pending(tw_quota_t *self)
{
    if (strcmp(self->pending_day, self->day) != 0) {
        self->npending = 0;
        self->pending_block = false;
        return;
    }
    for (size_t i = 0; i < self->npending; i++)
        s_count(self, self->pending[i].method, self->pending[i].calls,
                self->pending[i].units);
    if (self->pending_block) {
        int64_t until = s_next_midnight(self);
        if (until > self->blocked_until)
            self->blocked_until = until;
    }
}

/* Records a spend (and a block) as pending until a save succeeds. */
static void s_pend(tw_quota_t *self, const char *method, uint64_t units,
                   bool block)
{
    if (strcmp(self->pending_day, self->day) != 0) {
        snprintf(self->pending_day, sizeof self->pending_day, "%s", self->day);
        self->npending = 0;
        self->pending_block = false;
    }
    self->pending_block |= block;
    if (!method)
        return;
    size_t i = 0;
    while (i < self->npending && strcmp(self->pending[i].method, method) != 0)
        i++;
    if (i == self->npending) {
        if (self->npending == TW_QUOTA_METHODS)
            i = self->npending - 1; /* full: charged to the last one */
        else
            memset(&self->pending[self->npending++], 0,
                   sizeof self->pending[0]);
        if (!self->pending[i].method[0])
            snprintf(self->pending[i].method, sizeof self->pending[i].method,
                     "%s", method);
    }
    self->pending[i].calls++;
    self->pending[i].units += units;
}

/* Re-reads the file when it changed (or always when force). A missing or
 * garbled file means nothing spent. Pending spends are added. */
static void s_load(tw_quota_t *self, bool force)
{
    struct stat st;
    if (stat(self->path, &st) != 0) {
        if (self->have_seen || force) {
            self->nmethods = 0;
            self->blocked_until = 0;
            self->day[0] = '\0';
            s_roll(self);
            s_apply_pending(self);
        }
        self->have_seen = false;
        s_roll(self);
        return;
    }
    if (!force && self->have_seen && st.st_ino == self->seen.st_ino &&
        st.st_size == self->seen.st_size &&
        st.st_mtim.tv_sec == self->seen.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == self->seen.st_mtim.tv_nsec) {
        s_roll(self);
        return;
    }
    char *data = NULL;
    size_t len = 0;
    self->nmethods = 0;
    self->blocked_until = 0;
    self->day[0] = '\0';
    if (tw_file_read_all(self->path, S_MAX_FILE, &data, &len, NULL) == TW_OK) {
        size_t off = 0, ll;
        const char *line;
        while (tw_tsv_next_line(data, len, &off, &line, &ll, NULL)) {
            tw_tsv_field_t f[4];
            size_t nf = tw_tsv_split(line, ll, f, 4);
            if (nf == 2 && f[0].len == 3 && memcmp(f[0].ptr, "day", 3) == 0 &&
                f[1].len == TW_TIME_DATE_SIZE - 1) {
                memcpy(self->day, f[1].ptr, f[1].len);
                self->day[f[1].len] = '\0';
            } else if (nf == 2 && f[0].len == 13 &&
                       memcmp(f[0].ptr, "blocked_until", 13) == 0) {
                int64_t t = 0;
                if (f[1].len > 1 &&
                    tw_time_parse_n(f[1].ptr, f[1].len, &t, NULL) == TW_OK)
                    self->blocked_until = t;
            } else if (nf == 4 && f[0].len == 6 &&
                       memcmp(f[0].ptr, "method", 6) == 0) {
                tw_quota_method_t *m = s_method(self, f[1].ptr, f[1].len, true);
                if (m) {
                    m->calls = s_u64(f[2].ptr, f[2].len);
                    m->units = s_u64(f[3].ptr, f[3].len);
                }
            }
        }
        free(data);
    }
    self->seen = st;
    self->have_seen = true;
    s_roll(self);
    s_apply_pending(self);
}

static tw_rc_t s_save(tw_quota_t *self, tw_err_t *err)
{
    tw_buf_t *b = tw_buf_new();
    if (!b) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    char ts[TW_TIME_STR_SIZE];
    tw_buf_printf(b,
                  "# tubewatch Data API quota of one Pacific day (tw_quota)\n"
                  "day\t%s\nblocked_until\t%s\n",
                  self->day,
                  self->blocked_until ? tw_time_format(self->blocked_until, ts)
                                      : "-");
    for (size_t i = 0; i < self->nmethods; i++)
        tw_buf_printf(b, "method\t%s\t%llu\t%llu\n", self->methods[i].method,
                      (unsigned long long)self->methods[i].calls,
                      (unsigned long long)self->methods[i].units);
    tw_rc_t rc = tw_file_write_atomic(self->path, tw_buf_data(b), tw_buf_len(b),
                                      0644, err);
    tw_buf_destroy(&b);
    struct stat st;
    if (rc == TW_OK && stat(self->path, &st) == 0) {
        self->seen = st;
        self->have_seen = true;
    }
    return rc;
}

/* Runs the read-modify-write under the lock file: reload, apply, save. */
static tw_rc_t s_update(tw_quota_t *self, const char *method, uint64_t units,
                        bool block, tw_err_t *err)
{
    int fd = open(self->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    s_load(self, true);
    if (method)
        s_count(self, method, 1, units);
    if (block)
        self->blocked_until = s_next_midnight(self);
    s_pend(self, method, units, block);
    tw_err_t serr = {{0}, 0, 0};
    tw_rc_t rc = s_save(self, &serr);
    if (rc == TW_OK) {
        self->npending = 0;
        self->pending_block = false;
        if (self->failing)
            tw_log_info("quota: %s saved again", self->path);
        self->failing = false;
    } else {
        /* kept in memory and added at every read until a save works */
        if (!self->failing)
            tw_log_error("quota: unable to save (the spend is kept and "
                         "saved with the next one): %s",
                         serr.msg);
        self->failing = true;
        if (err)
            *err = serr;
    }
    if (fd >= 0)
        close(fd); /* releases the lock */
    else if (rc == TW_OK)
        tw_log_warn("quota: unable to lock %s: %s", self->lock_path,
                    strerror(errno));
    return rc;
}

static uint64_t s_used(const tw_quota_t *self)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < self->nmethods; i++)
        sum += self->methods[i].units;
    return sum;
}

bool tw_quota_allowed(tw_quota_t *self, uint64_t units)
{
    assert(self);
    s_load(self, false);
    if (self->blocked_until)
        return false;
    return s_used(self) + units <= self->per_day;
}

tw_rc_t tw_quota_spend(tw_quota_t *self, const char *method, uint64_t units,
                       tw_err_t *err)
{
    assert(self);
    assert(method);
    return s_update(self, method, units, false, err);
}

tw_rc_t tw_quota_exhausted(tw_quota_t *self, tw_err_t *err)
{
    assert(self);
    return s_update(self, NULL, 0, true, err);
}

int64_t tw_quota_blocked_until(tw_quota_t *self)
{
    assert(self);
    s_load(self, false);
    return self->blocked_until;
}

uint64_t tw_quota_used(tw_quota_t *self)
{
    assert(self);
    s_load(self, false);
    return s_used(self);
}

uint64_t tw_quota_left(tw_quota_t *self)
{
    assert(self);
    s_load(self, false);
    uint64_t used = s_used(self);
    if (self->blocked_until || used >= self->per_day)
        return 0;
    return self->per_day - used;
}

uint64_t tw_quota_per_day(const tw_quota_t *self)
{
    assert(self);
    return self->per_day;
}

size_t tw_quota_methods(tw_quota_t *self, tw_quota_method_t *out, size_t cap)
{
    assert(self);
    s_load(self, false);
    for (size_t i = 0; i < self->nmethods && i < cap; i++)
        out[i] = self->methods[i];
    return self->nmethods;
}

uint64_t tw_quota_stretch_ms(uint64_t interval_ms, double units_per_round,
                             uint64_t per_day, double share)
{
    if (per_day == 0 || units_per_round <= 0)
        return interval_ms;
    if (share <= 0 || share > 1)
        share = 1;
    double ms = 86400000.0 * units_per_round /
                ((double)per_day * share * TW_QUOTA_MARGIN);
    uint64_t need = (uint64_t)ceil(ms);
    return need > interval_ms ? need : interval_ms;
}

/* The quota day is wall time: spans derived from it are converted into the
 * real time a caller waits (tw_time_real_ms; the identity without a test
 * clock). interval_ms is already the caller's. */
static uint64_t s_real(double virtual_ms)
{
    int64_t v = virtual_ms >= 9e15 ? INT64_C(9000000000000000)
                                   : (int64_t)ceil(virtual_ms);
    return (uint64_t)tw_time_real_ms(v);
}

uint64_t tw_quota_interval_ms(tw_quota_t *self, uint64_t interval_ms,
                              double units_per_round, double share)
{
    assert(self);
    uint64_t out = s_real(
        (double)tw_quota_stretch_ms(0, units_per_round, self->per_day, share));
    if (out < interval_ms)
        out = interval_ms;
    if (units_per_round <= 0)
        return out;
    int64_t now = s_now(self);
    int64_t left_ms = (s_next_midnight(self) - now) / 1000;
    if (left_ms < 1)
        left_ms = 1;
    uint64_t left = tw_quota_left(self);
    if (left == 0) {
        int64_t until =
            self->blocked_until ? self->blocked_until : s_next_midnight(self);
        uint64_t wait = until > now ? s_real((double)(until - now) / 1000) : 0;
        return wait > out ? wait : out;
    }
    if (share <= 0 || share > 1)
        share = 1;
    double ms = (double)left_ms * units_per_round / ((double)left * share);
    uint64_t need = s_real(ms);
    return need > out ? need : out;
}
