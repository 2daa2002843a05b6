/* tw_report - one stream's data reduced for a report (see tw_report.h). */
#include "tw_report.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_time.h"
#include "tw_tsv.h"
#include "tw_ytchat.h"

#define COMMENT_FIELDS 11
#define VIEWER_FIELDS  7
#define STATS_FIELDS   8
#define FIELD_MAX      4096 /* longest field unescaped here */

enum { K_OTHER, K_SUPERCHAT, K_STICKER, K_JEWELS, K_DELETED };

/* One message id and its current content. */
typedef struct {
    char *id;       /* message id (owned) */
    char *amount;   /* amount text of the content row (owned) */
    int64_t t_us;   /* published_at, else received_at */
    int64_t jewels; /* Jewels of a Jewels gift, -1 if unreadable */
    int kind;       /* K_* of the content row */
    bool content;   /* a non-deleted row was seen */
    bool deleted;   /* a deleted row was seen */
} s_msg_t;

struct tw_report {
    char video[TW_ID_VIDEO_LEN + 1]; /* the video reported */
    s_msg_t *msgs;                   /* messages in first-seen order */
    size_t nmsgs;                    /* used */
    size_t capmsgs;                  /* allocated */
    size_t *slots;                   /* hash table: index + 1, 0 = empty */
    size_t nslots;                   /* power of two */
    int64_t *v_us;                   /* viewer sample times */
    uint64_t *v_n;                   /* viewer counts */
    size_t nv;                       /* samples */
    size_t capv;                     /* allocated */
    int64_t title_us;                /* sampled_at of the kept title */
    uint32_t *bins;                  /* result bins */
    tw_report_money_t *money;        /* result money rows */
    tw_report_result_t res;          /* last result */
};

tw_report_t *tw_report_new(const char *video_id)
{
    if (!video_id || !tw_id_is_video(video_id))
        return NULL;
    tw_report_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    memcpy(self->video, video_id, TW_ID_VIDEO_LEN + 1);
    self->title_us = INT64_MIN;
    return self;
}

void tw_report_destroy(tw_report_t **self_p)
{
    assert(self_p);
    tw_report_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nmsgs; i++) {
        free(self->msgs[i].id);
        free(self->msgs[i].amount);
    }
    free(self->msgs);
    free(self->slots);
    free(self->v_us);
    free(self->v_n);
    free(self->bins);
    free(self->money);
    free(self);
    *self_p = NULL;
}

int64_t tw_report_jewels(const char *text)
{
    assert(text);
    int64_t found = -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || (p > text && p[-1] >= '0' && p[-1] <= '9'))
            continue;
        int64_t n = 0;
        const char *q = p;
        while (*q >= '0' && *q <= '9' && n < INT64_MAX / 100)
            n = n * 10 + (*q++ - '0');
        if (strncmp(q, " Jewel", 6) == 0)
            found = n;
    }
    return found;
}

/* FNV-1a of a message id. */
static size_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static tw_rc_t s_grow_table(tw_report_t *self)
{
    size_t n = self->nslots ? self->nslots * 2 : 1024;
    size_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return TW_ERR_NOMEM;
    for (size_t i = 0; i < self->nmsgs; i++) {
        size_t k = s_hash(self->msgs[i].id) & (n - 1);
        while (slots[k])
            k = (k + 1) & (n - 1);
        slots[k] = i + 1;
    }
    free(self->slots);
    self->slots = slots;
    self->nslots = n;
    return TW_OK;
}

/* Finds or adds message id; NULL when out of memory. */
static s_msg_t *s_msg(tw_report_t *self, const char *id)
{
    if (self->nmsgs * 2 >= self->nslots && s_grow_table(self) != TW_OK)
        return NULL;
    size_t k = s_hash(id) & (self->nslots - 1);
    while (self->slots[k]) {
        s_msg_t *m = &self->msgs[self->slots[k] - 1];
        if (strcmp(m->id, id) == 0)
            return m;
        k = (k + 1) & (self->nslots - 1);
    }
    if (self->nmsgs == self->capmsgs) {
        size_t cap = self->capmsgs ? self->capmsgs * 2 : 256;
        s_msg_t *v = realloc(self->msgs, cap * sizeof *v);
        if (!v)
            return NULL;
        self->msgs = v;
        self->capmsgs = cap;
    }
    s_msg_t *m = &self->msgs[self->nmsgs];
    memset(m, 0, sizeof *m);
    m->id = strdup(id);
    if (!m->id)
        return NULL;
    self->slots[k] = ++self->nmsgs;
    return m;
}

/* Unescapes field f into out (FIELD_MAX bytes). False when damaged. */
static bool s_field(const tw_tsv_field_t *f, char *out)
{
    if (f->len >= FIELD_MAX)
        return false;
    memcpy(out, f->ptr, f->len);
    out[f->len] = '\0';
    size_t n;
    if (tw_tsv_unescape_inplace(out, f->len, &n, NULL) != TW_OK)
        return false;
    out[n] = '\0';
    return strlen(out) == n; /* no NUL bytes inside */
}

static bool s_eq(const tw_tsv_field_t *f, const char *s)
{
    return f->len == strlen(s) && memcmp(f->ptr, s, f->len) == 0;
}

/* Parses a non-empty time field. */
static bool s_time(const tw_tsv_field_t *f, int64_t *us)
{
    return f->len > 0 && tw_time_parse_n(f->ptr, f->len, us, NULL) == TW_OK;
}

/* The kind column: K_* or -1 when unknown. */
static int s_kind(const tw_tsv_field_t *f)
{
    static const struct {
        const char *name; /* column value */
        int kind;         /* K_* */
    } kinds[] = {{"text", K_OTHER},      {"superchat", K_SUPERCHAT},
                 {"sticker", K_STICKER}, {"membership", K_OTHER},
                 {"gift", K_OTHER},      {"jewels", K_JEWELS},
                 {"deleted", K_DELETED}, {"other", K_OTHER}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (s_eq(f, kinds[i].name))
            return kinds[i].kind;
    return -1;
}

/* Keeps the channel id of the first good row. */
static void s_channel(tw_report_t *self, const tw_tsv_field_t *f)
{
    if (!self->res.channel_id[0] && tw_id_is_safe_n(f->ptr, f->len, 63)) {
        memcpy(self->res.channel_id, f->ptr, f->len);
        self->res.channel_id[f->len] = '\0';
    }
}

/* One comments row; *ok false when damaged or of another video. */
static tw_rc_t s_comment(tw_report_t *self, const tw_tsv_field_t *f, bool *ok)
{
    char id[FIELD_MAX], amount[FIELD_MAX], text[FIELD_MAX];
    *ok = false;
    int64_t t;
    int kind = s_kind(&f[5]);
    if (!s_eq(&f[3], self->video) || kind < 0 || f[4].len == 0 ||
        !s_field(&f[4], id) || !s_field(&f[8], amount))
        return TW_OK;
    if (!s_time(&f[1], &t) && !s_time(&f[0], &t))
        return TW_OK;
    if (kind == K_JEWELS && !s_field(&f[9], text))
        return TW_OK;
    s_msg_t *m = s_msg(self, id);
    if (!m)
        return TW_ERR_NOMEM;
    *ok = true;
    s_channel(self, &f[2]);
    if (kind == K_DELETED) {
        m->deleted = true;
        return TW_OK;
    }
    char *a = strdup(amount);
    if (!a)
        return TW_ERR_NOMEM;
    free(m->amount);
    m->amount = a;
    m->t_us = t;
    m->kind = kind;
    m->jewels = kind == K_JEWELS ? tw_report_jewels(text) : -1;
    m->content = true;
    return TW_OK;
}

static tw_rc_t s_viewer(tw_report_t *self, const tw_tsv_field_t *f, bool *ok)
{
    *ok = false;
    int64_t t;
    if (!s_eq(&f[2], self->video) || !s_time(&f[0], &t))
        return TW_OK;
    *ok = true;
    s_channel(self, &f[1]);
    if (f[3].len == 0) /* hidden or unknown: no sample */
        return TW_OK;
    uint64_t n = 0;
    for (size_t i = 0; i < f[3].len; i++) {
        char c = f[3].ptr[i];
        if (c < '0' || c > '9' || i >= 15) {
            *ok = false;
            return TW_OK;
        }
        n = n * 10 + (uint64_t)(c - '0');
    }
    if (self->nv == self->capv) {
        size_t cap = self->capv ? self->capv * 2 : 256;
        int64_t *a = realloc(self->v_us, cap * sizeof *a);
        if (!a)
            return TW_ERR_NOMEM;
        self->v_us = a;
        uint64_t *b = realloc(self->v_n, cap * sizeof *b);
        if (!b)
            return TW_ERR_NOMEM;
        self->v_n = b;
        self->capv = cap;
    }
    self->v_us[self->nv] = t;
    self->v_n[self->nv++] = n;
    return TW_OK;
}

static tw_rc_t s_stats(tw_report_t *self, const tw_tsv_field_t *f, bool *ok)
{
    char title[FIELD_MAX];
    *ok = true;
    int64_t t;
    if (!s_eq(&f[2], self->video)) /* other videos are no damage */
        return TW_OK;
    if (!s_time(&f[0], &t) || !s_field(&f[3], title)) {
        *ok = false;
        return TW_OK;
    }
    s_channel(self, &f[1]);
    if (t >= self->title_us) {
        self->title_us = t;
        size_t n = strlen(title);
        if (n >= sizeof self->res.title) /* cut at a character boundary */
            for (n = sizeof self->res.title - 1;
                 n > 0 && ((unsigned char)title[n] & 0xc0) == 0x80; n--)
                ;
        memcpy(self->res.title, title, n);
        self->res.title[n] = '\0';
    }
    return TW_OK;
}

typedef tw_rc_t (*s_row_fn)(tw_report_t *, const tw_tsv_field_t *, bool *);

/* Walks the lines of buf: the header is skipped, a line with the wrong
 * field count, a torn last line or a row fn refuses counts as skipped. */
static tw_rc_t s_lines(tw_report_t *self, const char *buf, size_t len,
                       size_t nfields, const char *header, s_row_fn fn)
{
    assert(self);
    assert(buf || len == 0);
    tw_tsv_field_t f[12];
    size_t off = 0;
    const char *line;
    size_t n;
    bool complete;
    while (tw_tsv_next_line(buf, len, &off, &line, &n, &complete)) {
        if (n == 0 && complete)
            continue;
        size_t got = tw_tsv_split(line, n, f, 12);
        if (got >= 1 && s_eq(&f[0], header))
            continue;
        bool ok = false;
        if (complete && got == nfields) {
            tw_rc_t rc = fn(self, f, &ok);
            if (rc != TW_OK)
                return rc;
        }
        if (!ok)
            self->res.skipped++;
    }
    return TW_OK;
}

tw_rc_t tw_report_add_comments(tw_report_t *self, const char *buf, size_t len)
{
    return s_lines(self, buf, len, COMMENT_FIELDS, "received_at", s_comment);
}

tw_rc_t tw_report_add_viewers(tw_report_t *self, const char *buf, size_t len)
{
    return s_lines(self, buf, len, VIEWER_FIELDS, "sampled_at", s_viewer);
}

tw_rc_t tw_report_add_stats(tw_report_t *self, const char *buf, size_t len)
{
    return s_lines(self, buf, len, STATS_FIELDS, "sampled_at", s_stats);
}

/* Bin widths in minutes, tried in order. */
static const int64_t s_bin_minutes[] = {1,  2,   5,   10,  15,  30,
                                        60, 120, 180, 360, 720, 1440};

static int s_money_cmp(const void *a, const void *b)
{
    const tw_report_money_t *x = a, *y = b;
    int c = strcmp(x->kind, y->kind);
    return c ? c : strcmp(x->currency, y->currency);
}

static void s_sort_viewers(tw_report_t *self)
{
    /* insertion sort: samples arrive nearly in order */
    for (size_t i = 1; i < self->nv; i++) {
        int64_t t = self->v_us[i];
        uint64_t n = self->v_n[i];
        size_t j = i;
        while (j > 0 && self->v_us[j - 1] > t) {
            self->v_us[j] = self->v_us[j - 1];
            self->v_n[j] = self->v_n[j - 1];
            j--;
        }
        self->v_us[j] = t;
        self->v_n[j] = n;
    }
    size_t w = 0;
    for (size_t i = 0; i < self->nv; i++) {
        if (w > 0 && self->v_us[w - 1] == self->v_us[i]) {
            self->v_n[w - 1] = self->v_n[i]; /* the later row wins */
            continue;
        }
        self->v_us[w] = self->v_us[i];
        self->v_n[w++] = self->v_n[i];
    }
    self->nv = w;
}

/* Adds one paid item to the row of its kind and currency; micros < 0
 * counts it as unreadable. */
static tw_rc_t s_money_add(tw_report_t *self, size_t *n, size_t *cap,
                           const char *kind, const char *cur, int64_t micros)
{
    tw_report_money_t *r = NULL;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(self->money[i].kind, kind) == 0 &&
            strcmp(self->money[i].currency, cur) == 0)
            r = &self->money[i];
    if (!r) {
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 8;
            tw_report_money_t *v = realloc(self->money, c * sizeof *v);
            if (!v)
                return TW_ERR_NOMEM;
            self->money = v;
            *cap = c;
        }
        r = &self->money[(*n)++];
        memset(r, 0, sizeof *r);
        snprintf(r->kind, sizeof r->kind, "%s", kind);
        snprintf(r->currency, sizeof r->currency, "%s", cur);
    }
    r->count++;
    if (micros < 0)
        r->unreadable++;
    else if (r->total_micros <= INT64_MAX - micros)
        r->total_micros += micros;
    return TW_OK;
}

const tw_report_result_t *tw_report_result(tw_report_t *self)
{
    assert(self);
    tw_report_result_t *r = &self->res;
    r->messages = r->deleted = 0;
    r->first_us = r->last_us = 0;
    for (size_t i = 0; i < self->nmsgs; i++) {
        const s_msg_t *m = &self->msgs[i];
        if (!m->content)
            continue;
        if (!r->messages || m->t_us < r->first_us)
            r->first_us = m->t_us;
        if (!r->messages || m->t_us > r->last_us)
            r->last_us = m->t_us;
        r->messages++;
        r->deleted += m->deleted;
    }
    free(self->bins);
    self->bins = NULL;
    r->nbins = 0;
    r->bins = NULL;
    r->bin_us = 60 * INT64_C(1000000);
    r->bin0_us = 0;
    if (r->messages) {
        /* the span in minutes, computed without overflow for any year */
        int64_t b0 = r->first_us / 60000000 - (r->first_us % 60000000 < 0);
        int64_t b1 = r->last_us / 60000000 - (r->last_us % 60000000 < 0);
        int64_t span = b1 - b0 + 1;
        int64_t width = 0;
        for (size_t i = 0; i < sizeof s_bin_minutes / sizeof *s_bin_minutes;
             i++)
            if (span <= TW_REPORT_MAX_BINS * s_bin_minutes[i] &&
                (!width || s_bin_minutes[i] < width))
                width = s_bin_minutes[i];
        if (!width) /* days */
            width = (span / TW_REPORT_MAX_BINS / 1440 + 1) * 1440;
        b0 -= ((b0 % width) + width) % width;
        r->bin_us = width * 60000000;
        r->bin0_us = b0 * 60000000;
        r->nbins = (size_t)((b1 - b0) / width + 1);
        self->bins = calloc(r->nbins, sizeof *self->bins);
        if (!self->bins)
            return NULL;
        for (size_t i = 0; i < self->nmsgs; i++) {
            const s_msg_t *m = &self->msgs[i];
            if (!m->content)
                continue;
            int64_t mb = m->t_us / 60000000 - (m->t_us % 60000000 < 0);
            self->bins[(mb - b0) / width]++;
        }
        r->bins = self->bins;
    }
    s_sort_viewers(self);
    r->nviewers = self->nv;
    r->viewer_us = self->v_us;
    r->viewers = self->v_n;
    r->peak_viewers = 0;
    for (size_t i = 0; i < self->nv; i++)
        if (self->v_n[i] > r->peak_viewers)
            r->peak_viewers = self->v_n[i];
    free(self->money);
    self->money = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < self->nmsgs; i++) {
        const s_msg_t *m = &self->msgs[i];
        if (!m->content || m->kind == K_OTHER)
            continue;
        tw_rc_t rc;
        if (m->kind == K_JEWELS) {
            rc = s_money_add(self, &n, &cap, "jewels", "Jewels",
                             m->jewels < 0 || m->jewels > INT64_MAX / 1000000
                                 ? -1
                                 : m->jewels * 1000000);
        } else {
            char code[4];
            int64_t micros;
            tw_ytchat_parse_amount(m->amount ? m->amount : "", code, &micros);
            rc = s_money_add(self, &n, &cap,
                             m->kind == K_SUPERCHAT ? "superchat" : "sticker",
                             code[0] && micros >= 0 ? code : "?",
                             code[0] ? micros : -1);
        }
        if (rc != TW_OK)
            return NULL;
    }
    if (n)
        qsort(self->money, n, sizeof *self->money, s_money_cmp);
    r->nmoney = n;
    r->money = self->money;
    return r;
}
