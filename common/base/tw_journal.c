/* tw_journal - append-only record journal with CRC32, trimming and repair.
 *
 * File layout: a sequence of records, each
 *   u32 body_len (LE) | u32 crc32(body) (LE) | body
 *   body = u8 type | u64 id (LE) | payload
 * type DATA carries a payload; type TRIM (no payload) says every DATA record
 * with id <= its id is done. A record that is cut off or fails its CRC ends
 * the journal: it and everything after it is truncated at open. */
#include "tw_journal.h"
#include "tw_fault.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    REC_DATA = 1, /* payload record */
    REC_TRIM = 2, /* watermark record */
};

/* Record header bytes before the body, and body bytes before the payload. */
#define HDR_LEN  8
#define BODY_HDR 9
/* Rewrite the file when it is at least this big and mostly done records. */
#define COMPACT_MIN (64 * 1024)

/* One live record. */
typedef struct {
    uint64_t id;  /* record id */
    uint64_t off; /* file offset of the record header */
    uint32_t len; /* payload length */
} s_rec_t;

struct tw_journal {
    char *path;          /* file path */
    int fd;              /* open, locked descriptor */
    uint64_t size;       /* bytes of valid records (= file size) */
    uint64_t next_id;    /* id of the next appended record */
    uint64_t watermark;  /* records with id <= watermark are done */
    uint64_t trimmed;    /* the watermark the file says (a failed trim
                            leaves it below watermark: tried again) */
    uint64_t live_bytes; /* file bytes of live records */
    uint64_t repaired;   /* bytes cut away at open */
    s_rec_t *recs;       /* live records, recs[head..n) */
    size_t head;         /* first live record */
    size_t n;            /* end of the live records */
    size_t cap;          /* allocated records */
};

/* ---- CRC-32 ---- */

static uint32_t s_crc_table[256];
static bool s_crc_ready;

uint32_t tw_journal_crc32(uint32_t crc, const void *data, size_t len)
{
    if (!s_crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            s_crc_table[i] = c;
        }
        s_crc_ready = true;
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = s_crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* ---- helpers ---- */

static void s_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void s_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t s_get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t s_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static tw_rc_t s_errno_rc(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return TW_ERR_NOSPACE;
    case EACCES:
    case EPERM:
    case EROFS:
        return TW_ERR_PERM;
    case ENOMEM:
        return TW_ERR_NOMEM;
    default:
        return TW_ERR_IO;
    }
}

static tw_rc_t s_sys(tw_err_t *err, const char *what, const char *path)
{
    int e = errno;
    tw_err_set(err, "unable to %s %s: %s", what, path, strerror(e));
    return s_errno_rc(e);
}

/* Writes all of buf at off. */
static bool s_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return false;
        }
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return true;
}

/* Reads all of buf at off; false on error or end of file. */
static bool s_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    char *p = buf;
    while (len > 0) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return true;
}

/* Builds a record (header + body) in a new buffer of *total bytes. */
static unsigned char *s_build(int type, uint64_t id, const void *data,
                              size_t len, size_t *total)
{
    size_t body = BODY_HDR + len;
    unsigned char *b = malloc(HDR_LEN + body);
    if (!b)
        return NULL;
    b[HDR_LEN] = (unsigned char)type;
    s_put64(b + HDR_LEN + 1, id);
    if (len > 0)
        memcpy(b + HDR_LEN + BODY_HDR, data, len);
    s_put32(b, (uint32_t)body);
    s_put32(b + 4, tw_journal_crc32(0, b + HDR_LEN, body));
    *total = HDR_LEN + body;
    return b;
}

static bool s_push(tw_journal_t *self, uint64_t id, uint64_t off, uint32_t len)
{
    if (self->head > 0 && self->head == self->n) {
        self->head = 0;
        self->n = 0;
    }
    if (self->n == self->cap) {
        if (self->head > self->cap / 2) {
            memmove(self->recs, self->recs + self->head,
                    (self->n - self->head) * sizeof *self->recs);
            self->n -= self->head;
            self->head = 0;
        } else {
            size_t cap = self->cap ? self->cap * 2 : 64;
            s_rec_t *r = realloc(self->recs, cap * sizeof *r);
            if (!r)
                return false;
            self->recs = r;
            self->cap = cap;
        }
    }
    self->recs[self->n++] = (s_rec_t){.id = id, .off = off, .len = len};
    self->live_bytes += HDR_LEN + BODY_HDR + (uint64_t)len;
    return true;
}

/* Drops live records with id <= watermark. */
static void s_drop_done(tw_journal_t *self)
{
    while (self->head < self->n &&
           self->recs[self->head].id <= self->watermark) {
        self->live_bytes -=
            HDR_LEN + BODY_HDR + (uint64_t)self->recs[self->head].len;
        self->head++;
    }
}

/* Syncs the directory holding path so a rename is durable. */
static void s_sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(copy);
}

/* ---- open / scan ---- */

/* Reads the records of the file; stops at the first bad one and returns
 * its offset (the size of the valid prefix). */
static tw_rc_t s_scan(tw_journal_t *self, uint64_t fsize, uint64_t *valid,
                      tw_err_t *err)
{
    uint64_t off = 0;
    unsigned char hdr[HDR_LEN];
    unsigned char *body = NULL;
    size_t bodycap = 0;
    tw_rc_t rc = TW_OK;
    while (fsize - off >= HDR_LEN) {
        if (!s_pread_all(self->fd, hdr, HDR_LEN, off))
            break;
        uint32_t blen = s_get32(hdr);
        uint32_t crc = s_get32(hdr + 4);
        if (blen < BODY_HDR || blen > BODY_HDR + TW_JOURNAL_MAX_RECORD ||
            blen > fsize - off - HDR_LEN)
            break;
        if (blen > bodycap) {
            unsigned char *nb = realloc(body, blen);
            if (!nb) {
                tw_err_set(err, "out of memory reading %s", self->path);
                rc = TW_ERR_NOMEM;
                break;
            }
            body = nb;
            bodycap = blen;
        }
        if (!s_pread_all(self->fd, body, blen, off + HDR_LEN))
            break;
        if (tw_journal_crc32(0, body, blen) != crc)
            break;
        uint64_t id = s_get64(body + 1);
        if (body[0] == REC_DATA) {
            if (id < self->next_id)
                break; /* ids only grow: this is not our record */
            if (!s_push(self, id, off, blen - BODY_HDR)) {
                tw_err_set(err, "out of memory reading %s", self->path);
                rc = TW_ERR_NOMEM;
                break;
            }
            self->next_id = id + 1;
        } else if (body[0] == REC_TRIM) {
            if (id > self->watermark)
                self->watermark = id;
            if (id >= self->next_id)
                self->next_id = id + 1;
            s_drop_done(self);
        } else {
            break;
        }
        off += HDR_LEN + blen;
    }
    free(body);
    *valid = off;
    return rc;
}

tw_rc_t tw_journal_open(tw_journal_t **self_p, const char *path, tw_err_t *err)
{
    assert(self_p);
    assert(path);
    *self_p = NULL;
    tw_journal_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    self->fd = -1;
    self->next_id = 1;
    self->path = strdup(path);
    tw_rc_t rc = TW_OK;
    if (!self->path) {
        tw_err_set(err, "out of memory");
        rc = TW_ERR_NOMEM;
        goto fail;
    }
    self->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->fd < 0) {
        rc = s_sys(err, "open journal", path);
        goto fail;
    }
    if (flock(self->fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            tw_err_set(err, "journal %s is in use by another process", path);
            rc = TW_ERR_STATE;
        } else {
            rc = s_sys(err, "lock journal", path);
        }
        goto fail;
    }
    struct stat st;
    if (fstat(self->fd, &st) != 0) {
        rc = s_sys(err, "stat journal", path);
        goto fail;
    }
    uint64_t fsize = (uint64_t)st.st_size;
    uint64_t valid = 0;
    rc = s_scan(self, fsize, &valid, err);
    if (rc != TW_OK)
        goto fail;
    if (valid < fsize) {
        if (ftruncate(self->fd, (off_t)valid) != 0 ||
            fdatasync(self->fd) != 0) {
            rc = s_sys(err, "truncate torn journal", path);
            goto fail;
        }
        self->repaired = fsize - valid;
    }
    self->size = valid;
    self->trimmed = self->watermark;
    *self_p = self;
    return TW_OK;
fail:
    tw_journal_destroy(&self);
    return rc;
}

void tw_journal_destroy(tw_journal_t **self_p)
{
    assert(self_p);
    tw_journal_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0)
        close(self->fd);
    free(self->recs);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* ---- append / trim ---- */

tw_rc_t tw_journal_append(tw_journal_t *self, const void *data, size_t len,
                          uint64_t *id, tw_err_t *err)
{
    assert(self);
    assert(data || len == 0);
    if (len > TW_JOURNAL_MAX_RECORD) {
        tw_err_set(err, "journal record of %zu bytes is too big", len);
        return TW_ERR_TOOBIG;
    }
    size_t total = 0;
    unsigned char *b = s_build(REC_DATA, self->next_id, data, len, &total);
    if (!b) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    const char *failed = NULL;
    if (!s_pwrite_all(self->fd, b, total, self->size))
        failed = "pwrite";
    if (!failed) {
        tw_fault_crash("journal/append", "before_fsync");
        if (fdatasync(self->fd) != 0)
            failed = "fdatasync";
    }
    free(b);
    if (failed) {
        char what[64];
        snprintf(what, sizeof what, "append (%s) to journal", failed);
        tw_rc_t rc = s_sys(err, what, self->path);
        /* Cut off a partial record so the next append follows valid data. */
        (void)ftruncate(self->fd, (off_t)self->size);
        return rc;
    }
    tw_fault_crash("journal/append", "after_fsync");
    if (!s_push(self, self->next_id, self->size, (uint32_t)len)) {
        /* Written but not indexed: it would be replayed after a restart,
         * which is safe; report the failure. */
        tw_err_set(err, "out of memory");
        self->size += total;
        self->next_id++;
        return TW_ERR_NOMEM;
    }
    if (id)
        *id = self->next_id;
    self->next_id++;
    self->size += total;
    return TW_OK;
}

/* Rewrites the file as one TRIM record plus the live records, atomically. */
static tw_rc_t s_compact(tw_journal_t *self, tw_err_t *err)
{
    size_t plen = strlen(self->path);
    char *tmp = malloc(plen + 5);
    s_rec_t *recs = malloc((self->n - self->head + 1) * sizeof *recs);
    unsigned char *buf = NULL;
    int fd = -1;
    tw_rc_t rc = TW_OK;
    if (!tmp || !recs) {
        tw_err_set(err, "out of memory");
        rc = TW_ERR_NOMEM;
        goto out;
    }
    memcpy(tmp, self->path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = s_sys(err, "create", tmp);
        goto out;
    }
    size_t total = 0;
    buf = s_build(REC_TRIM, self->watermark, NULL, 0, &total);
    if (!buf) {
        tw_err_set(err, "out of memory");
        rc = TW_ERR_NOMEM;
        goto out;
    }
    uint64_t off = 0;
    if (!s_pwrite_all(fd, buf, total, off)) {
        rc = s_sys(err, "pwrite", tmp);
        goto out;
    }
    off += total;
    size_t nrec = 0;
    for (size_t i = self->head; i < self->n; i++) {
        const s_rec_t *r = &self->recs[i];
        size_t rlen = HDR_LEN + BODY_HDR + (size_t)r->len;
        unsigned char *nb = realloc(buf, rlen);
        if (!nb) {
            tw_err_set(err, "out of memory");
            rc = TW_ERR_NOMEM;
            goto out;
        }
        buf = nb;
        if (!s_pread_all(self->fd, buf, rlen, r->off)) {
            rc = s_sys(err, "read journal", self->path);
            goto out;
        }
        if (!s_pwrite_all(fd, buf, rlen, off)) {
            rc = s_sys(err, "pwrite", tmp);
            goto out;
        }
        recs[nrec++] = (s_rec_t){.id = r->id, .off = off, .len = r->len};
        off += rlen;
    }
    tw_fault_crash("journal/compact", "before_fsync");
    if (fdatasync(fd) != 0) {
        rc = s_sys(err, "fdatasync", tmp);
        goto out;
    }
    tw_fault_crash("journal/compact", "after_fsync");
    if (rename(tmp, self->path) != 0) {
        rc = s_sys(err, "rename over", self->path);
        goto out;
    }
    tw_fault_crash("journal/compact", "after_rename");
    s_sync_dir(self->path);
    close(self->fd);
    self->fd = fd;
    fd = -1;
    free(self->recs);
    self->recs = recs;
    recs = NULL;
    self->cap = self->n - self->head + 1;
    self->head = 0;
    self->n = nrec;
    self->size = off;
out:
    if (fd >= 0) {
        close(fd);
        (void)unlink(tmp);
    }
    free(buf);
    free(recs);
    free(tmp);
    return rc;
}

tw_rc_t tw_journal_trim(tw_journal_t *self, uint64_t upto, tw_err_t *err)
{
    assert(self);
    if (upto >= self->next_id)
        upto = self->next_id - 1;
    if (upto < self->watermark)
        upto = self->watermark; /* a failed trim's mark, not yet on disk */
    if (upto <= self->trimmed)
        return TW_OK;
    self->watermark = upto;
    s_drop_done(self);
    if (self->size >= COMPACT_MIN && self->live_bytes < self->size / 2) {
        tw_rc_t rc = s_compact(self, err);
        if (rc == TW_OK)
            self->trimmed = upto;
        return rc;
    }
    size_t total = 0;
    unsigned char *b = s_build(REC_TRIM, upto, NULL, 0, &total);
    if (!b) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    bool ok = s_pwrite_all(self->fd, b, total, self->size);
    free(b);
    if (!ok) {
        tw_rc_t rc =
            s_sys(err, "append (pwrite) a trim to journal", self->path);
        (void)ftruncate(self->fd, (off_t)self->size);
        return rc;
    }
    self->size += total;
    self->trimmed = upto;
    return TW_OK;
}

tw_rc_t tw_journal_foreach(tw_journal_t *self, tw_journal_fn *fn, void *arg,
                           tw_err_t *err)
{
    assert(self);
    assert(fn);
    unsigned char *buf = NULL;
    size_t cap = 0;
    tw_rc_t rc = TW_OK;
    /* Index by position: fn may not modify the journal. */
    for (size_t i = self->head; i < self->n && rc == TW_OK; i++) {
        s_rec_t r = self->recs[i];
        if (r.len + (size_t)1 > cap) {
            unsigned char *nb = realloc(buf, (size_t)r.len + 1);
            if (!nb) {
                tw_err_set(err, "out of memory");
                rc = TW_ERR_NOMEM;
                break;
            }
            buf = nb;
            cap = (size_t)r.len + 1;
        }
        if (r.len > 0 &&
            !s_pread_all(self->fd, buf, r.len, r.off + HDR_LEN + BODY_HDR)) {
            rc = s_sys(err, "read journal", self->path);
            break;
        }
        rc = fn(arg, r.id, buf, r.len);
    }
    free(buf);
    return rc;
}

size_t tw_journal_count(const tw_journal_t *self)
{
    assert(self);
    return self->n - self->head;
}

uint64_t tw_journal_next_id(const tw_journal_t *self)
{
    assert(self);
    return self->next_id;
}

uint64_t tw_journal_size(const tw_journal_t *self)
{
    assert(self);
    return self->size;
}

uint64_t tw_journal_repaired(const tw_journal_t *self)
{
    assert(self);
    return self->repaired;
}
