/* sup_log - worker log capture: pipes read by the event loop, files written
 * by one writer thread. */
#define _GNU_SOURCE
#include "sup_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tw_log.h"
#include "tw_time.h"

/* Room for one timestamped line. */
#define STAMPED_MAX (SUP_LOG_LINE_MAX + 64)

static void s_queue(sup_log_t *self, const char *staged, size_t len);
static size_t s_stamp(char *out, size_t cap, const char *ts, const char *line,
                      size_t n);

struct sup_log {
    sup_logger_t *lg;       /* owner */
    sup_log_t *next;        /* list of the logger (under mu) */
    char name[128];         /* file stem */
    int rfd;                /* pipe read end (non-blocking), -1 = none */
    int wfd;                /* pipe write end, for children, -1 = none */
    char *part;             /* partial line, SUP_LOG_LINE_MAX bytes
                               while the pipe is open (loop thread) */
    size_t partlen;         /* bytes in part */
    bool piped;             /* the pipe is open (under mu) */
    char *buf;              /* queued lines (under mu), NULL = none */
    size_t len;             /* bytes in buf (under mu) */
    size_t cap;             /* bytes allocated for buf (under mu) */
    uint64_t dropped;       /* lines dropped, not reported yet */
    uint64_t dropped_total; /* lines dropped ever */
    int closing;            /* released: write out and free */
    int fd;                 /* log file (writer thread) */
    uint64_t size;          /* its size (writer thread) */
    bool rotate_failing;    /* the last rotation failed (writer thread) */
};

struct sup_logger {
    pthread_mutex_t mu;  /* guards the list and every log's buffer */
    pthread_cond_t work; /* signalled when there is something to write */
    pthread_cond_t idle; /* signalled when the writer ran out of work */
    pthread_t thread;    /* the writer */
    sup_log_t *logs;     /* every log */
    char dir[PATH_MAX];  /* LOG_DIR */
    uint64_t max_size;   /* rotate above this */
    uint32_t keep;       /* rotated files kept */
    int quit;            /* stop once everything is written */
    int busy;            /* writer is writing outside the lock */
    int finished;        /* the writer thread has returned */
    uint64_t pipes;      /* pipes opened or closed so far (loop thread) */
    char out[SUP_LOG_BUF_CAP + 256]; /* writer's copy of one buffer */
};

/* Shifts NAME.log.K to K+1 and NAME.log to NAME.log.1 (or removes it when
 * log_keep is 0); the file is closed either way, the next write opens
 * NAME.log. False when NAME.log could not be moved: it is reopened and
 * grows past max_size rather than lose lines, the next batch tries again,
 * and tubewatchd's own log says so once per run of failures. */
static bool s_rotate(sup_logger_t *lg, sup_log_t *l)
{
    char from[PATH_MAX + 160], to[PATH_MAX + 160];
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    for (uint32_t k = lg->keep; k >= 2; k--) {
        snprintf(from, sizeof from, "%s/%s.log.%u", lg->dir, l->name, k - 1);
        snprintf(to, sizeof to, "%s/%s.log.%u", lg->dir, l->name, k);
        if (rename(from, to) != 0 && errno != ENOENT && !l->rotate_failing)
            tw_log_error("unable to rotate %s: rename to %s: %s", from, to,
                         strerror(errno));
    }
    snprintf(from, sizeof from, "%s/%s.log", lg->dir, l->name);
    int rc = 0;
    if (lg->keep > 0) {
        snprintf(to, sizeof to, "%s/%s.log.1", lg->dir, l->name);
        rc = rename(from, to);
    } else {
        rc = unlink(from);
    }
    if (rc != 0 && errno != ENOENT) {
        if (!l->rotate_failing)
            tw_log_error("unable to rotate %s: %s: %s (it grows past "
                         "log_max_size until a rotation succeeds)",
                         from, lg->keep > 0 ? "rename" : "unlink",
                         strerror(errno));
        l->rotate_failing = true;
        return false;
    }
    if (l->rotate_failing)
        tw_log_info("%s rotated again", from);
    l->rotate_failing = false;
    return true;
}

static bool s_open_file(sup_logger_t *lg, sup_log_t *l)
{
    char path[PATH_MAX + 160];
    snprintf(path, sizeof path, "%s/%s.log", lg->dir, l->name);
    l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (l->fd < 0) {
        tw_log_error("unable to open %s: %s", path, strerror(errno));
        return false;
    }
    struct stat st;
    l->size = fstat(l->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return true;
}

static void s_write_all(sup_log_t *l, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(l->fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            tw_log_error("unable to write %s.log: %s", l->name,
                         strerror(errno));
            return;
        }
        data += w;
        len -= (size_t)w;
        l->size += (uint64_t)w;
    }
}

/* Writes whole lines to the worker's file, rotating so that no file grows
 * past max_size (unless one line alone is larger, or rotating fails: then
 * the rest of the batch goes to the current file and the next batch tries
 * again). Writer thread. */
static void s_write_file(sup_logger_t *lg, sup_log_t *l, const char *data,
                         size_t len, uint64_t max_size)
{
    bool failed = false; /* a rotation failed in this batch */
    while (len > 0) {
        if (l->fd < 0 && !s_open_file(lg, l))
            return;
        size_t n = len;
        if (max_size > 0 && l->size + len > max_size) {
            size_t room = l->size < max_size ? (size_t)(max_size - l->size) : 0;
            const char *cut = NULL;
            for (size_t i = room; i > 0; i--) {
                if (data[i - 1] == '\n') {
                    cut = data + i;
                    break;
                }
            }
            if (cut) {
                n = (size_t)(cut - data);
            } else if (l->size > 0 && !failed) {
                if (!s_rotate(lg, l))
                    failed = true;
                continue;
            } else if (l->size == 0) {
                const char *nl = memchr(data, '\n', len);
                n = nl ? (size_t)(nl - data) + 1 : len;
            }
        }
        s_write_all(l, data, n);
        data += n;
        len -= n;
        if (len > 0 && !failed && !s_rotate(lg, l))
            failed = true;
    }
}

static void s_free_log(sup_log_t *l)
{
    if (l->fd >= 0)
        close(l->fd);
    if (l->rfd >= 0)
        close(l->rfd);
    if (l->wfd >= 0)
        close(l->wfd);
    free(l->part);
    free(l->buf);
    free(l);
}

static void *s_writer(void *arg)
{
    sup_logger_t *lg = arg;
    pthread_mutex_lock(&lg->mu);
    for (;;) {
        int did = 0;
        sup_log_t **pp = &lg->logs;
        while (*pp) {
            sup_log_t *l = *pp;
            if (l->len > 0 || l->dropped > 0) {
                size_t n = l->len;
                memcpy(lg->out, l->buf, n);
                l->len = 0;
                if (l->dropped > 0) {
                    char ts[TW_TIME_STR_SIZE];
                    tw_time_format(tw_time_now_us(), ts);
                    n += (size_t)snprintf(lg->out + n, sizeof lg->out - n,
                                          "%s tubewatchd: %" PRIu64
                                          " lines dropped (log buffer full)\n",
                                          ts, l->dropped);
                    l->dropped = 0;
                }
                uint64_t max_size = lg->max_size;
                lg->busy = 1;
                pthread_mutex_unlock(&lg->mu);
                s_write_file(lg, l, lg->out, n, max_size);
                pthread_mutex_lock(&lg->mu);
                lg->busy = 0;
                did = 1;
                continue; /* re-check this log: more may have arrived */
            }
            if (l->closing) {
                *pp = l->next;
                s_free_log(l);
                continue;
            }
            if (!l->piped && (l->buf || l->fd >= 0)) {
                /* no process writes to it: hold no buffer and no file
                 * until one does (scheduled instances are many) */
                free(l->buf);
                l->buf = NULL;
                l->cap = 0;
                if (l->fd >= 0)
                    close(l->fd);
                l->fd = -1;
            }
            pp = &l->next;
        }
        if (did)
            continue;
        if (lg->quit)
            break;
        pthread_cond_broadcast(&lg->idle);
        pthread_cond_wait(&lg->work, &lg->mu);
    }
    lg->finished = 1;
    pthread_cond_broadcast(&lg->idle);
    pthread_mutex_unlock(&lg->mu);
    return NULL;
}

static int s_mkdirs(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

sup_logger_t *sup_logger_new(const char *dir, uint64_t max_size, uint32_t keep,
                             tw_err_t *err)
{
    assert(dir);
    if (s_mkdirs(dir, 0750) != 0) {
        tw_err_set(err, "unable to create %s: %s", dir, strerror(errno));
        return NULL;
    }
    sup_logger_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    snprintf(self->dir, sizeof self->dir, "%s", dir);
    self->max_size = max_size;
    self->keep = keep;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->work, NULL);
    pthread_cond_init(&self->idle, NULL);
    /* The writer must not take signals meant for the event loop. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&self->thread, NULL, s_writer, self);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        tw_err_set(err, "unable to start the log writer: %s", strerror(e));
        free(self);
        return NULL;
    }
    return self;
}

static struct timespec s_deadline(int timeout_ms)
{
    struct timespec until;
    /* pthread_cond_timedwait counts in the real CLOCK_REALTIME, never in
     * the test clock of tw_time */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    return until;
}

void sup_logger_destroy(sup_logger_t **self_p, int timeout_ms)
{
    if (!self_p || !*self_p)
        return;
    sup_logger_t *self = *self_p;
    *self_p = NULL;
    struct timespec until = s_deadline(timeout_ms);
    pthread_mutex_lock(&self->mu);
    for (sup_log_t *l = self->logs; l; l = l->next)
        l->closing = 1;
    self->quit = 1;
    pthread_cond_signal(&self->work);
    int rc = 0;
    while (!self->finished && rc == 0)
        rc = pthread_cond_timedwait(&self->idle, &self->mu, &until);
    bool finished = self->finished;
    pthread_mutex_unlock(&self->mu);
    if (!finished) {
        /* The writer is stuck in the kernel (hung disk): abandon it rather
         * than hang the caller, which is about to exit. */
        tw_log_error("log writer stuck; %d ms passed, giving up on it",
                     timeout_ms);
        return;
    }
    pthread_join(self->thread, NULL);
    while (self->logs) {
        sup_log_t *l = self->logs;
        self->logs = l->next;
        s_free_log(l);
    }
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->work);
    pthread_cond_destroy(&self->idle);
    free(self);
}

void sup_logger_set_limits(sup_logger_t *self, uint64_t max_size, uint32_t keep)
{
    assert(self);
    pthread_mutex_lock(&self->mu);
    self->max_size = max_size;
    self->keep = keep;
    pthread_mutex_unlock(&self->mu);
}

static int s_pending(sup_logger_t *self)
{
    if (self->busy)
        return 1;
    for (sup_log_t *l = self->logs; l; l = l->next) {
        if (l->len > 0 || l->dropped > 0 || l->closing)
            return 1;
    }
    return 0;
}

bool sup_logger_flush(sup_logger_t *self, int timeout_ms)
{
    assert(self);
    struct timespec until = s_deadline(timeout_ms);
    pthread_mutex_lock(&self->mu);
    pthread_cond_signal(&self->work);
    int rc = 0;
    while (s_pending(self) && rc == 0)
        rc = pthread_cond_timedwait(&self->idle, &self->mu, &until);
    bool done = !s_pending(self);
    pthread_mutex_unlock(&self->mu);
    return done;
}

sup_log_t *sup_log_open(sup_logger_t *lg, const char *name, tw_err_t *err)
{
    assert(lg);
    assert(name);
    sup_log_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    self->lg = lg;
    self->fd = -1;
    self->rfd = -1;
    self->wfd = -1;
    snprintf(self->name, sizeof self->name, "%s", name);
    pthread_mutex_lock(&lg->mu);
    self->next = lg->logs;
    lg->logs = self;
    pthread_mutex_unlock(&lg->mu);
    return self;
}

tw_rc_t sup_log_pipe(sup_log_t *self, tw_err_t *err)
{
    assert(self);
    if (self->rfd >= 0)
        return TW_OK;
    char *part = malloc(SUP_LOG_LINE_MAX);
    if (!part) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        tw_err_set(err, "unable to create the log pipe of %s: %s", self->name,
                   strerror(errno));
        free(part);
        return errno == EMFILE || errno == ENFILE ? TW_ERR_AGAIN : TW_ERR_IO;
    }
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    sup_logger_t *lg = self->lg;
    pthread_mutex_lock(&lg->mu);
    self->rfd = p[0];
    self->wfd = p[1];
    self->part = part;
    self->partlen = 0;
    self->piped = true;
    pthread_mutex_unlock(&lg->mu);
    lg->pipes++;
    return TW_OK;
}

void sup_log_unpipe(sup_log_t *self)
{
    assert(self);
    if (self->rfd < 0)
        return;
    /* Bounded: a stray writer could keep the pipe full forever. */
    sup_log_drain(self, 1024 * 1024);
    if (self->partlen > 0) {
        /* the last line had no newline: keep it */
        char ts[TW_TIME_STR_SIZE];
        char staged[STAMPED_MAX];
        tw_time_format(tw_time_now_us(), ts);
        size_t n =
            s_stamp(staged, sizeof staged, ts, self->part, self->partlen);
        s_queue(self, staged, n);
    }
    sup_logger_t *lg = self->lg;
    pthread_mutex_lock(&lg->mu);
    close(self->rfd);
    close(self->wfd);
    self->rfd = self->wfd = -1;
    free(self->part);
    self->part = NULL;
    self->partlen = 0;
    self->piped = false;
    pthread_cond_signal(&lg->work);
    pthread_mutex_unlock(&lg->mu);
    lg->pipes++;
}

bool sup_log_piped(const sup_log_t *self)
{
    assert(self);
    return self->rfd >= 0;
}

uint64_t sup_logger_pipes(const sup_logger_t *self)
{
    assert(self);
    return self->pipes;
}

void sup_log_destroy(sup_log_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sup_log_t *self = *self_p;
    if (self->rfd >= 0)
        sup_log_drain(self, 1024 * 1024);
    sup_logger_t *lg = self->lg;
    pthread_mutex_lock(&lg->mu);
    self->closing = 1;
    pthread_cond_signal(&lg->work);
    pthread_mutex_unlock(&lg->mu);
    *self_p = NULL;
}

int sup_log_fd(const sup_log_t *self)
{
    assert(self);
    return self->rfd;
}

int sup_log_child_fd(const sup_log_t *self)
{
    assert(self);
    return self->wfd;
}

uint64_t sup_log_dropped(const sup_log_t *self)
{
    assert(self);
    sup_logger_t *lg = self->lg;
    pthread_mutex_lock(&lg->mu);
    uint64_t n = self->dropped_total;
    pthread_mutex_unlock(&lg->mu);
    return n;
}

/* Queues the formatted lines in staged (each ends with '\n'); whatever does
 * not fit is dropped and counted. Loop thread. */
static void s_queue(sup_log_t *self, const char *staged, size_t len)
{
    sup_logger_t *lg = self->lg;
    pthread_mutex_lock(&lg->mu);
    /* grown on demand: most logs hold a few lines at a time */
    size_t want = self->len + len;
    if (want > SUP_LOG_BUF_CAP)
        want = SUP_LOG_BUF_CAP;
    if (want > self->cap) {
        size_t cap = self->cap ? self->cap : 1024;
        while (cap < want)
            cap *= 2;
        if (cap > SUP_LOG_BUF_CAP)
            cap = SUP_LOG_BUF_CAP;
        char *b = realloc(self->buf, cap);
        if (b) {
            self->buf = b;
            self->cap = cap;
        }
    }
    int was_empty = self->len == 0;
    const char *p = staged, *end = staged + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)(nl - p) + 1;
        if (self->len + n <= self->cap && self->dropped == 0) {
            memcpy(self->buf + self->len, p, n);
            self->len += n;
        } else {
            /* Once dropping, keep dropping until the report is written, so
             * the file never shows lines out of order around the gap. */
            self->dropped++;
            self->dropped_total++;
        }
        p = nl + 1;
    }
    if (was_empty)
        pthread_cond_signal(&lg->work);
    pthread_mutex_unlock(&lg->mu);
}

/* Appends "TS line\n" to the staging buffer. */
static size_t s_stamp(char *out, size_t cap, const char *ts, const char *line,
                      size_t n)
{
    if (cap < 40 + n)
        return 0;
    size_t tl = strlen(ts);
    memcpy(out, ts, tl);
    out[tl] = ' ';
    memcpy(out + tl + 1, line, n);
    out[tl + 1 + n] = '\n';
    return tl + 2 + n;
}

size_t sup_log_drain(sup_log_t *self, size_t max_bytes)
{
    assert(self);
    if (self->rfd < 0)
        return 0;
    char in[16384];
    char staged[sizeof in + 2 * STAMPED_MAX];
    size_t total = 0;
    char ts[TW_TIME_STR_SIZE];
    ts[0] = '\0';
    while (total < max_bytes) {
        size_t want = sizeof in;
        if (max_bytes - total < want)
            want = max_bytes - total;
        ssize_t r = read(self->rfd, in, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (!ts[0])
            tw_time_format(tw_time_now_us(), ts);
        total += (size_t)r;
        size_t slen = 0;
        for (ssize_t i = 0; i < r; i++) {
            char c = in[i];
            if (c == '\n' || self->partlen == SUP_LOG_LINE_MAX) {
                if (sizeof staged - slen < 64 + self->partlen) {
                    s_queue(self, staged, slen);
                    slen = 0;
                }
                slen += s_stamp(staged + slen, sizeof staged - slen, ts,
                                self->part, self->partlen);
                self->partlen = 0;
                if (c == '\n')
                    continue;
            }
            self->part[self->partlen++] = c;
        }
        if (slen > 0)
            s_queue(self, staged, slen);
    }
    return total;
}

void sup_log_note(sup_log_t *self, const char *fmt, ...)
{
    assert(self);
    char line[1024];
    int n = snprintf(line, sizeof line, "tubewatchd: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    char ts[TW_TIME_STR_SIZE];
    tw_time_format(tw_time_now_us(), ts);
    char staged[sizeof line + 64];
    size_t len = s_stamp(staged, sizeof staged, ts, line, strlen(line));
    s_queue(self, staged, len);
}
