/* writer_store - durable, deduplicating TSV (and JSON Lines) files of the
 * writer worker (see writer_store.h, docs/writer-store.md). */
#include "writer_store.h"
#include "tw_fault.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#include "tw_time.h"

#define S_DEFAULT_MAX_OPEN 64
#define S_MIN_MAX_OPEN     4
#define S_DAYS             2 /* today and yesterday */

/* The three file categories. */
enum { S_COMMENTS = 0, S_VIEWERS = 1, S_STATS = 2 };

static const char *const s_cat_dir[] = {"comments", "viewers", "stats"};
static const char s_cat_key[] = {'c', 'v', 's'};

static const char s_hdr_comments[] =
    "received_at\tpublished_at\tchannel_id\tvideo_id\tmessage_id\tkind\t"
    "author_channel_id\tauthor_name\tamount\ttext\ttokens\n";
static const char s_hdr_viewers[] =
    "sampled_at\tchannel_id\tvideo_id\tconcurrent_viewers\tviews\tlikes\t"
    "comments\n";
static const char s_hdr_stats[] =
    "sampled_at\tchannel_id\tvideo_id\ttitle\tviews\tlikes\tfavorites\t"
    "comments\n";
static const char *const s_headers[] = {s_hdr_comments, s_hdr_viewers,
                                        s_hdr_stats};

/* A growable byte buffer. */
typedef struct {
    char *p;    /* bytes */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    bool nomem; /* an append failed */
} s_buf_t;

/* A set of dedup keys, stored as 64-bit hashes: 16 bytes a key instead of
 * the key itself. A false duplicate needs a 64-bit collision: about 5e-7
 * over a whole day pair of 4 million keys. */
typedef struct {
    uint64_t *slots; /* open-addressing table of hashes, 0 = empty */
    size_t nslots;   /* slots (power of two) */
    size_t count;    /* keys stored */
} s_set_t;

/* The dedup index of one day. */
typedef struct {
    char day[11]; /* "YYYY-MM-DD", "" = unused */
    s_set_t keys; /* category + video + key */
} s_day_t;

/* One cached open file. */
typedef struct {
    char *path;       /* full path, NULL = unused entry */
    int fd;           /* write descriptor */
    off_t off;        /* end of the last complete line */
    off_t synced_off; /* off at the last successful fsync */
    bool dirty;       /* written since the last fsync */
    uint64_t used;    /* LRU tick */
} s_file_t;

struct writer_store {
    char *data_dir;             /* DATA */
    char *zone;                 /* IANA zone or "UTC" */
    bool jsonl;                 /* write .jsonl twins */
    writer_store_clock_t clock; /* clock or NULL */
    void *clock_arg;            /* its argument */
    s_file_t *files;            /* file cache */
    size_t max_files;           /* entries in files */
    uint64_t tick;              /* LRU counter */
    char **dirs;                /* dirs with new entries since last sync */
    size_t ndirs;               /* entries in dirs */
    s_day_t days[S_DAYS];       /* dedup indexes */
    int64_t day_lo;             /* cached local day [day_lo, day_hi) */
    int64_t day_hi;             /* exclusive end, microseconds */
    char day[11];               /* cached local day string */
    bool poisoned;              /* a sync failed: reopen needed */
    s_buf_t line;               /* TSV row being built */
    s_buf_t json;               /* JSON row being built */
    s_buf_t key;                /* dedup key being built */
};

/* ---- buffers ---- */

static void s_buf_add(s_buf_t *b, const char *s, size_t len)
{
    if (b->nomem)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + len + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->nomem = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
    b->p[b->len] = '\0';
}

static void s_buf_str(s_buf_t *b, const char *s)
{
    s_buf_add(b, s, strlen(s));
}

static void s_buf_reset(s_buf_t *b)
{
    b->len = 0;
    b->nomem = false;
    if (b->p)
        b->p[0] = '\0';
}

/* Appends s TSV-escaped (\\ \t \n \r). */
static void s_buf_tsv(s_buf_t *b, const char *s)
{
    if (!s)
        return;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *esc = NULL;
        switch (*p) {
        case '\\':
            esc = "\\\\";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            continue;
        }
        s_buf_add(b, run, (size_t)(p - run));
        s_buf_add(b, esc, 2);
        run = p + 1;
    }
    s_buf_str(b, run);
}

/* Appends the JSON string body of s (no quotes); invalid UTF-8 becomes
 * U+FFFD. */
static void s_buf_json_raw(s_buf_t *b, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            s_buf_add(b, e, 2);
            i++;
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            s_buf_str(b, e);
            i++;
        } else if (c < 0x80) {
            s_buf_add(b, (const char *)p + i, 1);
            i++;
        } else {
            utf8proc_int32_t cp;
            utf8proc_ssize_t r =
                utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
            if (r <= 0) {
                s_buf_str(b, "\xef\xbf\xbd");
                i++;
            } else {
                s_buf_add(b, (const char *)p + i, (size_t)r);
                i += (size_t)r;
            }
        }
    }
}

/* Appends s as a JSON string, or null when s is NULL. */
static void s_buf_json_str(s_buf_t *b, const char *s)
{
    if (!s) {
        s_buf_str(b, "null");
        return;
    }
    s_buf_add(b, "\"", 1);
    s_buf_json_raw(b, s);
    s_buf_add(b, "\"", 1);
}

/* ---- times ---- */

/* Formats us as RFC 3339 UTC with microseconds (tw_time). */
static void s_fmt_time(int64_t us, char buf[TW_TIME_STR_SIZE])
{
    tw_time_format(us, buf);
}

static int64_t s_now(const writer_store_t *self)
{
    if (self->clock)
        return self->clock(self->clock_arg);
    return tw_time_now_us();
}

/* Writes tm's date as YYYY-MM-DD into day. */
static void s_fmt_day(const struct tm *tm, char day[11])
{
    char big[48];
    snprintf(big, sizeof big, "%04d-%02d-%02d", (tm->tm_year + 1900) % 10000,
             tm->tm_mon + 1, tm->tm_mday);
    snprintf(day, 11, "%.10s", big);
}

/* Runs with TZ set to self->zone; restores the previous TZ. */
static void s_local_day(writer_store_t *self, int64_t now_us, char day[11])
{
    if (now_us >= self->day_lo && now_us < self->day_hi) {
        memcpy(day, self->day, 11);
        return;
    }
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", self->zone, 1);
    tzset();
    int64_t sec = now_us / 1000000 - (now_us % 1000000 < 0);
    time_t t = (time_t)sec;
    struct tm tm;
    localtime_r(&t, &tm);
    s_fmt_day(&tm, day);
    struct tm lo = tm;
    lo.tm_hour = lo.tm_min = lo.tm_sec = 0;
    lo.tm_isdst = -1;
    struct tm hi = lo;
    hi.tm_mday++;
    hi.tm_isdst = -1;
    time_t tlo = mktime(&lo), thi = mktime(&hi);
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
    if (tlo != (time_t)-1 && thi != (time_t)-1 && tlo <= t && t < thi) {
        self->day_lo = (int64_t)tlo * 1000000;
        self->day_hi = (int64_t)thi * 1000000;
        memcpy(self->day, day, 11);
    }
}

/* Writes the calendar day before day into prev. */
static void s_prev_day(const char *day, char prev[11])
{
    struct tm tm = {0};
    int y = 0, m = 0, d = 0;
    sscanf(day, "%d-%d-%d", &y, &m, &d);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d - 1;
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    s_fmt_day(&tm, prev);
}

/* ---- key set ---- */

static uint64_t s_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    /* murmur3 finaliser: spreads FNV's weak high bits */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h ? h : 1;
}

static bool s_set_has(const s_set_t *set, uint64_t h)
{
    if (!set->nslots)
        return false;
    size_t mask = set->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (set->slots[i] == 0)
            return false;
        if (set->slots[i] == h)
            return true;
    }
}

static bool s_set_add(s_set_t *set, uint64_t h)
{
    if (s_set_has(set, h))
        return true;
    if ((set->count + 1) * 2 > set->nslots) {
        size_t nn = set->nslots ? set->nslots * 2 : 1024;
        uint64_t *ns = calloc(nn, sizeof *ns);
        if (!ns)
            return false;
        for (size_t i = 0; i < set->nslots; i++) {
            if (!set->slots[i])
                continue;
            size_t j = set->slots[i] & (nn - 1);
            while (ns[j])
                j = (j + 1) & (nn - 1);
            ns[j] = set->slots[i];
        }
        free(set->slots);
        set->slots = ns;
        set->nslots = nn;
    }
    size_t j = h & (set->nslots - 1);
    while (set->slots[j])
        j = (j + 1) & (set->nslots - 1);
    set->slots[j] = h;
    set->count++;
    return true;
}

static void s_set_free(s_set_t *set)
{
    free(set->slots);
    memset(set, 0, sizeof *set);
}

/* ---- validation ---- */

bool writer_store_id_ok(const char *id)
{
    if (!id)
        return false;
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        if (n >= WRITER_STORE_ID_MAX)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

static bool s_msgid_ok(const char *id)
{
    if (!id)
        return false;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++, n++) {
        if (n >= WRITER_STORE_MSGID_MAX || *p <= 0x20 || *p >= 0x7F ||
            *p == '\\')
            return false;
    }
    return n > 0;
}

static bool s_kind_ok(const char *kind)
{
    static const char *const kinds[] = {"text",       "superchat", "sticker",
                                        "membership", "gift",      "jewels",
                                        "deleted",    "other"};
    if (!kind)
        return false;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    }
    return false;
}

/* ---- files ---- */

static tw_rc_t s_errno_rc(int e)
{
    return (e == ENOSPC || e == EFBIG || e == EDQUOT) ? TW_ERR_NOSPACE
                                                      : TW_ERR_IO;
}

/* Truncates a last line without its newline (a torn write). */
static tw_rc_t s_repair_tail(int fd, const char *path, off_t *size,
                             tw_err_t *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        tw_err_set(err, "unable to stat %s: %s", path, strerror(errno));
        return TW_ERR_IO;
    }
    off_t end = st.st_size;
    char buf[4096];
    off_t pos = end;
    off_t keep = 0;
    bool found = false;
    while (pos > 0 && !found) {
        size_t n = pos > (off_t)sizeof buf ? sizeof buf : (size_t)pos;
        ssize_t r = pread(fd, buf, n, pos - (off_t)n);
        if (r != (ssize_t)n) {
            tw_err_set(err, "unable to read %s: %s", path,
                       r < 0 ? strerror(errno) : "short read");
            return TW_ERR_IO;
        }
        for (size_t i = n; i > 0; i--) {
            if (buf[i - 1] == '\n') {
                keep = pos - (off_t)n + (off_t)i;
                found = true;
                break;
            }
        }
        if (pos == end && found && keep == end)
            break; /* ends with a newline: nothing torn */
        pos -= (off_t)n;
    }
    if (keep != end) {
        if (ftruncate(fd, keep) != 0) {
            tw_err_set(err, "unable to truncate torn line of %s: %s", path,
                       strerror(errno));
            return s_errno_rc(errno);
        }
    }
    *size = keep;
    return TW_OK;
}

static bool s_add_dir(writer_store_t *self, const char *dir)
{
    for (size_t i = 0; i < self->ndirs; i++) {
        if (strcmp(self->dirs[i], dir) == 0)
            return true;
    }
    char **nd = realloc(self->dirs, (self->ndirs + 1) * sizeof *nd);
    if (!nd)
        return false;
    self->dirs = nd;
    nd[self->ndirs] = strdup(dir);
    if (!nd[self->ndirs])
        return false;
    self->ndirs++;
    return true;
}

/* Creates the directories of path below data_dir, remembering the parents
 * of new ones for the directory fsync. */
static tw_rc_t s_mkdirs(writer_store_t *self, const char *dir, tw_err_t *err)
{
    char tmp[4096];
    size_t l = strlen(dir);
    if (l >= sizeof tmp) {
        tw_err_set(err, "path too long: %s", dir);
        return TW_ERR_INVALID;
    }
    memcpy(tmp, dir, l + 1);
    for (size_t i = strlen(self->data_dir) + 1; i <= l; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char c = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) == 0) {
            char *slash = strrchr(tmp, '/');
            if (slash) {
                *slash = '\0';
                bool ok = s_add_dir(self, tmp);
                *slash = '/';
                if (!ok) {
                    tw_err_set(err, "out of memory");
                    return TW_ERR_NOMEM;
                }
            }
        } else if (errno != EEXIST) {
            tw_err_set(err, "unable to create %s: %s", tmp, strerror(errno));
            return s_errno_rc(errno);
        }
        tmp[i] = c;
    }
    return TW_OK;
}

static void s_poison_truncate(writer_store_t *self)
{
    self->poisoned = true;
    for (size_t i = 0; i < self->max_files; i++) {
        s_file_t *f = &self->files[i];
        if (f->path && f->dirty && ftruncate(f->fd, f->synced_off) == 0)
            f->off = f->synced_off;
    }
}

static void s_file_drop(s_file_t *f)
{
    if (f->path)
        close(f->fd);
    free(f->path);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

/* Closes f, first making its unsynced rows durable (the next sync would not
 * see them any more). Returns TW_ERR_IO (store poisoned) when fsync fails. */
static tw_rc_t s_file_evict(writer_store_t *self, s_file_t *f, tw_err_t *err)
{
    if (f->path && f->dirty && fsync(f->fd) != 0) {
        tw_err_set(err, "unable to fsync %s: %s", f->path, strerror(errno));
        s_poison_truncate(self);
        return TW_ERR_IO;
    }
    s_file_drop(f);
    return TW_OK;
}

/* Returns the cache entry of path, opening (and creating) it when needed. */
static tw_rc_t s_file_get(writer_store_t *self, const char *path,
                          s_file_t **out, tw_err_t *err)
{
    s_file_t *victim = NULL;
    for (size_t i = 0; i < self->max_files; i++) {
        s_file_t *f = &self->files[i];
        if (f->path && strcmp(f->path, path) == 0) {
            f->used = ++self->tick;
            *out = f;
            return TW_OK;
        }
        if (!victim || (victim->path && (!f->path || f->used < victim->used)))
            victim = f;
    }
    if (victim->path) {
        tw_rc_t rc = s_file_evict(self, victim, err);
        if (rc != TW_OK)
            return rc;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    assert(slash);
    *slash = '\0';
    tw_rc_t rc = s_mkdirs(self, dir, err);
    if (rc != TW_OK)
        return rc;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 && !s_add_dir(self, dir)) {
            close(fd);
            tw_err_set(err, "out of memory");
            return TW_ERR_NOMEM;
        }
    }
    if (fd < 0) {
        tw_err_set(err, "unable to open %s: %s", path, strerror(errno));
        return s_errno_rc(errno);
    }
    off_t size = 0;
    rc = s_repair_tail(fd, path, &size, err);
    if (rc != TW_OK) {
        close(fd);
        return rc;
    }
    victim->path = strdup(path);
    if (!victim->path) {
        close(fd);
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    victim->fd = fd;
    victim->off = size;
    victim->synced_off = size;
    victim->dirty = false;
    victim->used = ++self->tick;
    *out = victim;
    return TW_OK;
}

/* Appends header (when the file is empty) and data at f->off; on failure
 * truncates back so no partial line stays. */
static tw_rc_t s_file_append(writer_store_t *self, s_file_t *f,
                             const char *header, const char *data, size_t len,
                             tw_err_t *err)
{
    const char *parts[2] = {f->off == 0 ? header : NULL, data};
    size_t lens[2] = {parts[0] ? strlen(header) : 0, len};
    off_t pos = f->off;
    for (int k = 0; k < 2; k++) {
        size_t done = 0;
        while (done < lens[k]) {
            ssize_t w = pwrite(f->fd, parts[k] + done, lens[k] - done, pos);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                int e = w < 0 ? errno : EIO;
                tw_err_set(err, "unable to write %s: %s", f->path, strerror(e));
                if (ftruncate(f->fd, f->off) != 0) {
                    /* reopening repairs the torn line */
                    tw_err_t e2;
                    if (s_file_evict(self, f, &e2) != TW_OK)
                        return TW_ERR_IO;
                }
                return s_errno_rc(e);
            }
            done += (size_t)w;
            pos += w;
        }
    }
    f->off = pos;
    f->dirty = true;
    return TW_OK;
}

/* ---- index rebuild ---- */

/* Builds the dedup key of a row into self->key. */
static void s_make_key(writer_store_t *self, int cat, const char *video,
                       size_t vlen, const char *k, size_t klen, bool deleted)
{
    s_buf_reset(&self->key);
    char c = s_cat_key[cat];
    s_buf_add(&self->key, &c, 1);
    s_buf_add(&self->key, "\t", 1);
    s_buf_add(&self->key, video, vlen);
    s_buf_add(&self->key, "\t", 1);
    if (deleted)
        s_buf_add(&self->key, "del:", 4);
    s_buf_add(&self->key, k, klen);
}

/* Field i (0-based) of a tab-separated line. */
static bool s_field(const char *line, size_t len, int i, const char **f,
                    size_t *flen)
{
    const char *p = line, *end = line + len;
    for (int k = 0; k < i; k++) {
        const char *t = memchr(p, '\t', (size_t)(end - p));
        if (!t)
            return false;
        p = t + 1;
    }
    const char *t = memchr(p, '\t', (size_t)(end - p));
    *f = p;
    *flen = t ? (size_t)(t - p) : (size_t)(end - p);
    return true;
}

/* The content key of a comments line: video, message id and the columns
 * kind .. text as written (TSV-escaped; a damaged short line: kind to its
 * end), hashed; 0 when out of memory. Uses self->key. */
static uint64_t s_content_key(writer_store_t *self, const char *video,
                              size_t vlen, const char *id, size_t idlen,
                              const char *line, size_t len)
{
    const char *from, *to;
    size_t fl, tl;
    if (!s_field(line, len, 5, &from, &fl)) {
        from = line + len;
        fl = 0;
    }
    if (!s_field(line, len, 9, &to, &tl)) {
        to = line + len;
        tl = 0;
    }
    if (to < from)
        to = from;
    s_buf_reset(&self->key);
    s_buf_add(&self->key, "r\t", 2);
    s_buf_add(&self->key, video, vlen);
    s_buf_add(&self->key, "\t", 1);
    s_buf_add(&self->key, id, idlen);
    s_buf_add(&self->key, "\t", 1);
    s_buf_add(&self->key, from, (size_t)(to + tl - from));
    if (self->key.nomem)
        return 0;
    return s_hash(self->key.p, self->key.len);
}

static tw_rc_t s_load_file(writer_store_t *self, s_set_t *set, int cat,
                           const char *path, tw_err_t *err)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        tw_err_set(err, "unable to open %s: %s", path, strerror(errno));
        return s_errno_rc(errno);
    }
    off_t size;
    tw_rc_t rc = s_repair_tail(fd, path, &size, err);
    if (rc != TW_OK) {
        close(fd);
        return rc;
    }
    FILE *fp = fdopen(fd, "r");
    if (!fp) {
        close(fd);
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while (rc == TW_OK && (got = getline(&line, &cap, fp)) > 0) {
        size_t len = (size_t)got;
        if (line[len - 1] == '\n')
            len--;
        const char *vid, *k, *kind = NULL;
        size_t vl, kl, kindl = 0;
        bool ok;
        if (cat == S_COMMENTS) {
            ok = s_field(line, len, 3, &vid, &vl) &&
                 s_field(line, len, 4, &k, &kl) &&
                 s_field(line, len, 5, &kind, &kindl);
        } else {
            ok = s_field(line, len, 2, &vid, &vl) &&
                 s_field(line, len, 0, &k, &kl);
        }
        if (!ok || (kl == 10 && memcmp(k, "message_id", 10) == 0) ||
            (kl == 10 && memcmp(k, "sampled_at", 10) == 0))
            continue; /* header or damaged line */
        bool del = kind && kindl == 7 && memcmp(kind, "deleted", 7) == 0;
        uint64_t content = 1;
        if (cat == S_COMMENTS && !del) {
            content = s_content_key(self, vid, vl, k, kl, line, len);
            if (content && !s_set_add(set, content))
                content = 0;
        }
        s_make_key(self, cat, vid, vl, k, kl, del);
        if (!content || self->key.nomem ||
            !s_set_add(set, s_hash(self->key.p, self->key.len))) {
            tw_err_set(err, "out of memory");
            rc = TW_ERR_NOMEM;
        }
    }
    if (rc == TW_OK && ferror(fp)) {
        tw_err_set(err, "unable to read %s", path);
        rc = TW_ERR_IO;
    }
    free(line);
    fclose(fp);
    return rc;
}

static bool s_has_suffix(const char *s, const char *suf)
{
    size_t l = strlen(s), sl = strlen(suf);
    return l > sl && strcmp(s + l - sl, suf) == 0;
}

/* Loads every .tsv of dir (and, with depth 1, of its subdirectories). */
static tw_rc_t s_load_dir(writer_store_t *self, s_set_t *set, int cat,
                          const char *dir, int depth, tw_err_t *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return TW_OK;
        tw_err_set(err, "unable to open %s: %s", dir, strerror(errno));
        return TW_ERR_IO;
    }
    tw_rc_t rc = TW_OK;
    struct dirent *e;
    while (rc == TW_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        if (depth > 0) {
            if (writer_store_id_ok(e->d_name))
                rc = s_load_dir(self, set, cat, path, depth - 1, err);
        } else if (s_has_suffix(e->d_name, ".tsv")) {
            rc = s_load_file(self, set, cat, path, err);
        } else if (s_has_suffix(e->d_name, ".jsonl")) {
            off_t size;
            int fd = open(path, O_RDWR | O_CLOEXEC);
            if (fd >= 0) {
                rc = s_repair_tail(fd, path, &size, err);
                close(fd);
            }
        }
    }
    closedir(d);
    return rc;
}

static tw_rc_t s_load_day(writer_store_t *self, s_day_t *d, tw_err_t *err)
{
    for (int cat = 0; cat < 3; cat++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s/%s", self->data_dir, s_cat_dir[cat],
                 d->day);
        tw_rc_t rc =
            s_load_dir(self, &d->keys, cat, dir, cat == S_STATS ? 0 : 1, err);
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

/* True when path lies in the folder of a day of days[] (".../DAY/..."). */
static bool s_path_in_days(const writer_store_t *self, const char *path)
{
    for (int i = 0; i < S_DAYS; i++) {
        char dir[14];
        if (!self->days[i].day[0])
            continue;
        snprintf(dir, sizeof dir, "/%s/", self->days[i].day);
        if (strstr(path, dir))
            return true;
    }
    return false;
}

/* Closes the cached files of days before the window (today and yesterday):
 * rows only go to those two, so without this the cache would keep a past
 * day's files open until evicted, the open fds growing with every day.
 * TW_ERR_IO (store poisoned) when the fsync of a dirty one fails. */
static tw_rc_t s_close_old_days(writer_store_t *self, tw_err_t *err)
{
    for (size_t i = 0; i < self->max_files; i++) {
        s_file_t *f = &self->files[i];
        if (!f->path || s_path_in_days(self, f->path))
            continue;
        tw_rc_t rc = s_file_evict(self, f, err);
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

/* Makes days[] hold today and the day before, loading from disk as
 * needed. */
static tw_rc_t s_ensure_days(writer_store_t *self, const char *today,
                             tw_err_t *err)
{
    if (strcmp(self->days[0].day, today) == 0)
        return TW_OK;
    char want[S_DAYS][11];
    memcpy(want[0], today, 11);
    s_prev_day(today, want[1]);
    s_day_t nd[S_DAYS];
    memset(nd, 0, sizeof nd);
    bool used[S_DAYS] = {false, false};
    for (int w = 0; w < S_DAYS; w++) {
        for (int i = 0; i < S_DAYS; i++) {
            if (!used[i] && self->days[i].day[0] &&
                strcmp(self->days[i].day, want[w]) == 0) {
                nd[w] = self->days[i];
                used[i] = true;
            }
        }
    }
    for (int i = 0; i < S_DAYS; i++) {
        if (!used[i])
            s_set_free(&self->days[i].keys);
    }
    tw_rc_t rc = TW_OK;
    for (int w = 0; w < S_DAYS; w++) {
        if (nd[w].day[0])
            continue;
        memcpy(nd[w].day, want[w], 11);
        if (rc == TW_OK)
            rc = s_load_day(self, &nd[w], err);
    }
    memcpy(self->days, nd, sizeof nd);
    if (rc == TW_OK)
        rc = s_close_old_days(self, err);
    if (rc != TW_OK) {
        /* a half-loaded index must not be trusted: load again next time */
        for (int i = 0; i < S_DAYS; i++) {
            s_set_free(&self->days[i].keys);
            self->days[i].day[0] = '\0';
        }
    }
    return rc;
}

/* ---- open / close ---- */

static bool s_zone_ok(const char *zone, tw_err_t *err)
{
    return tw_time_zone_check(zone, err) == TW_OK;
}

writer_store_t *writer_store_open(const writer_store_opts_t *opts,
                                  tw_err_t *err)
{
    assert(opts);
    assert(opts->data_dir);
    const char *zone =
        opts->timezone && *opts->timezone ? opts->timezone : "UTC";
    if (!s_zone_ok(zone, err))
        return NULL;
    size_t dl = strlen(opts->data_dir);
    while (dl > 1 && opts->data_dir[dl - 1] == '/')
        dl--;
    if (dl == 0 || dl > 3000) {
        tw_err_set(err, "invalid data dir");
        return NULL;
    }
    writer_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    self->data_dir = strndup(opts->data_dir, dl);
    self->zone = strdup(zone);
    self->jsonl = opts->jsonl;
    self->clock = opts->clock;
    self->clock_arg = opts->clock_arg;
    self->max_files =
        opts->max_open_files ? opts->max_open_files : S_DEFAULT_MAX_OPEN;
    if (self->max_files < S_MIN_MAX_OPEN)
        self->max_files = S_MIN_MAX_OPEN;
    self->files = calloc(self->max_files, sizeof *self->files);
    if (!self->data_dir || !self->zone || !self->files) {
        tw_err_set(err, "out of memory");
        writer_store_destroy(&self);
        return NULL;
    }
    for (size_t i = 0; i < self->max_files; i++)
        self->files[i].fd = -1;
    if (mkdir(self->data_dir, 0755) != 0 && errno != EEXIST) {
        tw_err_set(err, "unable to create %s: %s", self->data_dir,
                   strerror(errno));
        writer_store_destroy(&self);
        return NULL;
    }
    char today[11];
    s_local_day(self, s_now(self), today);
    if (s_ensure_days(self, today, err) != TW_OK) {
        writer_store_destroy(&self);
        return NULL;
    }
    return self;
}

void writer_store_destroy(writer_store_t **self_p)
{
    assert(self_p);
    writer_store_t *self = *self_p;
    if (!self)
        return;
    if (self->files) {
        if (!self->poisoned)
            writer_store_sync(self, NULL);
        for (size_t i = 0; i < self->max_files; i++)
            s_file_drop(&self->files[i]);
    }
    for (size_t i = 0; i < self->ndirs; i++)
        free(self->dirs[i]);
    free(self->dirs);
    for (int i = 0; i < S_DAYS; i++)
        s_set_free(&self->days[i].keys);
    free(self->files);
    free(self->data_dir);
    free(self->zone);
    free(self->line.p);
    free(self->json.p);
    free(self->key.p);
    free(self);
    *self_p = NULL;
}

size_t writer_store_open_files(const writer_store_t *self)
{
    assert(self);
    size_t n = 0;
    for (size_t i = 0; i < self->max_files; i++)
        n += self->files[i].path != NULL;
    return n;
}

size_t writer_store_index_size(const writer_store_t *self)
{
    assert(self);
    size_t n = 0;
    for (int i = 0; i < S_DAYS; i++)
        n += self->days[i].keys.count;
    return n;
}

/* ---- adding rows ---- */

/* Stores the row in self->line (and self->json) under key for category cat,
 * in DATA/cat/DAY/channel[/video].tsv. */
/* Appends self->line (and self->json) unless the key self->key names is
 * stored today or yesterday; after the write the key and, when not 0, the
 * hash extra enter the index. check, when not 0, replaces self->key as the
 * key looked up (the key of self->key is then added after the write). */
static tw_rc_t s_store(writer_store_t *self, int cat, const char *channel,
                       const char *video, uint64_t check, uint64_t extra,
                       bool *dup, tw_err_t *err)
{
    if (self->line.nomem || self->json.nomem || self->key.nomem) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    char today[11];
    s_local_day(self, s_now(self), today);
    tw_rc_t rc = s_ensure_days(self, today, err);
    if (rc != TW_OK)
        return rc;
    uint64_t h = s_hash(self->key.p, self->key.len);
    uint64_t look = check ? check : h;
    for (int i = 0; i < S_DAYS; i++) {
        if (s_set_has(&self->days[i].keys, look)) {
            if (dup)
                *dup = true;
            return TW_OK;
        }
    }
    char base[4096];
    if (cat == S_STATS)
        snprintf(base, sizeof base, "%s/%s/%s/%s", self->data_dir,
                 s_cat_dir[cat], today, channel);
    else
        snprintf(base, sizeof base, "%s/%s/%s/%s/%s", self->data_dir,
                 s_cat_dir[cat], today, channel, video);
    char path[4200];
    snprintf(path, sizeof path, "%s.tsv", base);
    s_file_t *tsv;
    rc = s_file_get(self, path, &tsv, err);
    if (rc != TW_OK)
        return rc;
    off_t tsv_off = tsv->off;
    bool tsv_dirty = tsv->dirty;
    rc = s_file_append(self, tsv, s_headers[cat], self->line.p, self->line.len,
                       err);
    if (rc != TW_OK)
        return rc;
    if (self->jsonl) {
        snprintf(path, sizeof path, "%s.jsonl", base);
        s_file_t *js;
        rc = s_file_get(self, path, &js, err);
        if (rc == TW_OK)
            rc = s_file_append(self, js, "", self->json.p, self->json.len, err);
        if (rc != TW_OK) {
            /* keep the pair consistent: the retry writes both again */
            if (tsv->path && ftruncate(tsv->fd, tsv_off) == 0) {
                tsv->off = tsv_off;
                tsv->dirty = tsv_dirty;
            } else if (tsv->path) {
                tw_err_t e2;
                if (s_file_evict(self, tsv, &e2) != TW_OK)
                    return TW_ERR_IO;
            }
            return rc;
        }
    }
    if (!s_set_add(&self->days[0].keys, h) ||
        (check && !s_set_add(&self->days[0].keys, check)) ||
        (extra && !s_set_add(&self->days[0].keys, extra))) {
        /* stored but not indexed: a redelivery would be written twice, so
         * refuse further work until reopened (the rebuild indexes it) */
        self->poisoned = true;
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    return TW_OK;
}

static void s_tsv_time(s_buf_t *b, int64_t us)
{
    if (us == WRITER_STORE_ABSENT)
        return;
    char t[32];
    s_fmt_time(us, t);
    s_buf_str(b, t);
}

static void s_tsv_num(s_buf_t *b, int64_t v)
{
    if (v == WRITER_STORE_ABSENT)
        return;
    char t[24];
    snprintf(t, sizeof t, "%" PRId64, v);
    s_buf_str(b, t);
}

static void s_json_key(s_buf_t *b, const char *key, bool first)
{
    s_buf_str(b, first ? "{\"" : ",\"");
    s_buf_str(b, key);
    s_buf_str(b, "\":");
}

static void s_json_time(s_buf_t *b, const char *key, int64_t us)
{
    s_json_key(b, key, false);
    if (us == WRITER_STORE_ABSENT) {
        s_buf_str(b, "null");
        return;
    }
    char t[32];
    s_fmt_time(us, t);
    s_buf_json_str(b, t);
}

static void s_json_num(s_buf_t *b, const char *key, int64_t v)
{
    s_json_key(b, key, false);
    if (v == WRITER_STORE_ABSENT) {
        s_buf_str(b, "null");
        return;
    }
    char t[24];
    snprintf(t, sizeof t, "%" PRId64, v);
    s_buf_str(b, t);
}

static void s_json_str(s_buf_t *b, const char *key, const char *s)
{
    s_json_key(b, key, false);
    s_buf_json_str(b, s);
}

static tw_rc_t s_check_ids(const char *channel, const char *video,
                           tw_err_t *err)
{
    if (!writer_store_id_ok(channel)) {
        tw_err_set(err, "invalid channel id");
        return TW_ERR_INVALID;
    }
    if (!writer_store_id_ok(video)) {
        tw_err_set(err, "invalid video id");
        return TW_ERR_INVALID;
    }
    return TW_OK;
}

tw_rc_t writer_store_add_comment(writer_store_t *self,
                                 const writer_store_comment_t *c, bool *dup,
                                 tw_err_t *err)
{
    assert(self);
    assert(c);
    if (dup)
        *dup = false;
    if (self->poisoned) {
        tw_err_set(err, "store failed earlier; reopen it");
        return TW_ERR_STATE;
    }
    tw_rc_t rc = s_check_ids(c->channel_id, c->video_id, err);
    if (rc != TW_OK)
        return rc;
    if (!s_msgid_ok(c->message_id)) {
        tw_err_set(err, "invalid message id");
        return TW_ERR_INVALID;
    }
    if (!s_kind_ok(c->kind)) {
        tw_err_set(err, "invalid message kind");
        return TW_ERR_INVALID;
    }
    int64_t recv = c->received_at_us == WRITER_STORE_ABSENT ? s_now(self)
                                                            : c->received_at_us;
    bool del = strcmp(c->kind, "deleted") == 0;
    const char *text = del ? NULL : c->text;
    s_buf_t *b = &self->line;
    s_buf_reset(b);
    s_tsv_time(b, recv);
    s_buf_add(b, "\t", 1);
    s_tsv_time(b, c->published_at_us);
    s_buf_add(b, "\t", 1);
    s_buf_str(b, c->channel_id);
    s_buf_add(b, "\t", 1);
    s_buf_str(b, c->video_id);
    s_buf_add(b, "\t", 1);
    s_buf_str(b, c->message_id);
    s_buf_add(b, "\t", 1);
    s_buf_str(b, c->kind);
    s_buf_add(b, "\t", 1);
    s_buf_tsv(b, c->author_channel_id);
    s_buf_add(b, "\t", 1);
    s_buf_tsv(b, c->author_name);
    s_buf_add(b, "\t", 1);
    s_buf_tsv(b, c->amount);
    s_buf_add(b, "\t", 1);
    s_buf_tsv(b, text);
    s_buf_add(b, "\t", 1);
    for (size_t i = 0; !del && i < c->n_tokens; i++) {
        if (i)
            s_buf_add(b, " ", 1);
        s_buf_tsv(b, c->tokens[i]);
    }
    s_buf_add(b, "\n", 1);
    s_buf_t *j = &self->json;
    s_buf_reset(j);
    if (self->jsonl) {
        s_json_key(j, "received_at", true);
        char t[32];
        s_fmt_time(recv, t);
        s_buf_json_str(j, t);
        s_json_time(j, "published_at", c->published_at_us);
        s_json_str(j, "channel_id", c->channel_id);
        s_json_str(j, "video_id", c->video_id);
        s_json_str(j, "message_id", c->message_id);
        s_json_str(j, "kind", c->kind);
        s_json_str(j, "author_channel_id", c->author_channel_id);
        s_json_str(j, "author_name", c->author_name);
        s_json_str(j, "amount", c->amount);
        s_json_str(j, "text", text);
        s_json_key(j, "tokens", false);
        s_buf_add(j, "\"", 1);
        for (size_t i = 0; !del && i < c->n_tokens; i++) {
            if (i)
                s_buf_add(j, " ", 1);
            s_buf_json_raw(j, c->tokens[i]);
        }
        s_buf_str(j, "\"}\n");
    }
    /* A chat row also indexes its content key; a replacement is looked up
     * by that key alone, since its id is the placeholder's. */
    uint64_t content = 0;
    if (b->nomem || b->len == 0) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    if (!del) {
        content =
            s_content_key(self, c->video_id, strlen(c->video_id), c->message_id,
                          strlen(c->message_id), b->p, b->len - 1);
        if (!content) {
            tw_err_set(err, "out of memory");
            return TW_ERR_NOMEM;
        }
    }
    s_make_key(self, S_COMMENTS, c->video_id, strlen(c->video_id),
               c->message_id, strlen(c->message_id), del);
    if (c->replaces && !del)
        return s_store(self, S_COMMENTS, c->channel_id, c->video_id, content, 0,
                       dup, err);
    return s_store(self, S_COMMENTS, c->channel_id, c->video_id, 0, content,
                   dup, err);
}

tw_rc_t writer_store_add_deleted(writer_store_t *self, const char *channel_id,
                                 const char *video_id, const char *message_id,
                                 int64_t received_at_us, bool *dup,
                                 tw_err_t *err)
{
    assert(self);
    writer_store_comment_t c = {0};
    c.received_at_us = received_at_us;
    c.published_at_us = WRITER_STORE_ABSENT;
    c.channel_id = channel_id;
    c.video_id = video_id;
    c.message_id = message_id;
    c.kind = "deleted";
    return writer_store_add_comment(self, &c, dup, err);
}

/* Starts a viewers or stats row: checks the state, the ids and the time,
 * and writes the columns both share (sampled_at, channel_id, video_id) to
 * the TSV line and, with JSON Lines on, the JSON object; t receives the
 * formatted time. */
static tw_rc_t s_sample_begin(writer_store_t *self, const char *channel_id,
                              const char *video_id, int64_t sampled_at_us,
                              char t[32], bool *dup, tw_err_t *err)
{
    if (dup)
        *dup = false;
    if (self->poisoned) {
        tw_err_set(err, "store failed earlier; reopen it");
        return TW_ERR_STATE;
    }
    tw_rc_t rc = s_check_ids(channel_id, video_id, err);
    if (rc != TW_OK)
        return rc;
    if (sampled_at_us == WRITER_STORE_ABSENT) {
        tw_err_set(err, "missing sampled_at");
        return TW_ERR_INVALID;
    }
    s_fmt_time(sampled_at_us, t);
    s_buf_t *b = &self->line;
    s_buf_reset(b);
    s_buf_str(b, t);
    s_buf_add(b, "\t", 1);
    s_buf_str(b, channel_id);
    s_buf_add(b, "\t", 1);
    s_buf_str(b, video_id);
    s_buf_t *j = &self->json;
    s_buf_reset(j);
    if (self->jsonl) {
        s_json_key(j, "sampled_at", true);
        s_buf_json_str(j, t);
        s_json_str(j, "channel_id", channel_id);
        s_json_str(j, "video_id", video_id);
    }
    return TW_OK;
}

tw_rc_t writer_store_add_viewers(writer_store_t *self,
                                 const writer_store_viewers_t *v, bool *dup,
                                 tw_err_t *err)
{
    assert(self);
    assert(v);
    char t[32];
    tw_rc_t rc = s_sample_begin(self, v->channel_id, v->video_id,
                                v->sampled_at_us, t, dup, err);
    if (rc != TW_OK)
        return rc;
    s_buf_t *b = &self->line;
    s_buf_add(b, "\t", 1);
    s_tsv_num(b, v->concurrent_viewers);
    s_buf_add(b, "\t", 1);
    s_tsv_num(b, v->views);
    s_buf_add(b, "\t", 1);
    s_tsv_num(b, v->likes);
    s_buf_add(b, "\t", 1);
    s_tsv_num(b, v->comments);
    s_buf_add(b, "\n", 1);
    if (self->jsonl) {
        s_buf_t *j = &self->json;
        s_json_num(j, "concurrent_viewers", v->concurrent_viewers);
        s_json_num(j, "views", v->views);
        s_json_num(j, "likes", v->likes);
        s_json_num(j, "comments", v->comments);
        s_buf_str(j, "}\n");
    }
    s_make_key(self, S_VIEWERS, v->video_id, strlen(v->video_id), t, strlen(t),
               false);
    return s_store(self, S_VIEWERS, v->channel_id, v->video_id, 0, 0, dup, err);
}

tw_rc_t writer_store_add_stats(writer_store_t *self,
                               const writer_store_stats_t *s, bool *dup,
                               tw_err_t *err)
{
    assert(self);
    assert(s);
    char t[32];
    tw_rc_t rc = s_sample_begin(self, s->channel_id, s->video_id,
                                s->sampled_at_us, t, dup, err);
    if (rc != TW_OK)
        return rc;
    s_buf_t *b = &self->line;
    s_buf_add(b, "\t", 1);
    s_buf_tsv(b, s->title);
    s_buf_add(b, "\t", 1);
    s_tsv_num(b, s->views);
    s_buf_add(b, "\t", 1);
    s_tsv_num(b, s->likes);
    s_buf_add(b, "\t", 1);
    s_tsv_num(b, s->favorites);
    s_buf_add(b, "\t", 1);
    s_tsv_num(b, s->comments);
    s_buf_add(b, "\n", 1);
    if (self->jsonl) {
        s_buf_t *j = &self->json;
        s_json_str(j, "title", s->title);
        s_json_num(j, "views", s->views);
        s_json_num(j, "likes", s->likes);
        s_json_num(j, "favorites", s->favorites);
        s_json_num(j, "comments", s->comments);
        s_buf_str(j, "}\n");
    }
    s_make_key(self, S_STATS, s->video_id, strlen(s->video_id), t, strlen(t),
               false);
    return s_store(self, S_STATS, s->channel_id, s->video_id, 0, 0, dup, err);
}

/* ---- sync ---- */

tw_rc_t writer_store_sync(writer_store_t *self, tw_err_t *err)
{
    assert(self);
    if (self->poisoned) {
        tw_err_set(err, "store failed earlier; reopen it");
        return TW_ERR_STATE;
    }
    tw_fault_crash("writer/sync", "before_fsync");
    for (size_t i = 0; i < self->max_files; i++) {
        s_file_t *f = &self->files[i];
        if (!f->path || !f->dirty)
            continue;
        if (fsync(f->fd) != 0) {
            tw_err_set(err, "unable to fsync %s: %s", f->path, strerror(errno));
            s_poison_truncate(self);
            return TW_ERR_IO;
        }
    }
    for (size_t i = 0; i < self->ndirs; i++) {
        int fd = open(self->dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) {
            tw_err_set(err, "unable to fsync directory %s: %s", self->dirs[i],
                       strerror(errno));
            if (fd >= 0)
                close(fd);
            s_poison_truncate(self);
            return TW_ERR_IO;
        }
        close(fd);
    }
    tw_fault_crash("writer/sync", "after_fsync");
    for (size_t i = 0; i < self->max_files; i++) {
        s_file_t *f = &self->files[i];
        if (f->path) {
            f->dirty = false;
            f->synced_off = f->off;
        }
    }
    for (size_t i = 0; i < self->ndirs; i++)
        free(self->dirs[i]);
    self->ndirs = 0;
    return TW_OK;
}
