/* stats_sampler - what the stats worker polls and when (see
 * stats_sampler.h). */
#include "stats_sampler.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stats_sampler {
    stats_sampler_cfg_t cfg;           /* settings */
    stats_vid_t *vids;                 /* the watch list */
    size_t nvids;                      /* count */
    size_t cap;                        /* allocated */
    stats_chan_t *chans;               /* channels of this shard */
    size_t nchans;                     /* count */
    int64_t next_ms[STATS_NPOLLS];     /* next poll (monotonic ms) */
    uint64_t last_iv_ms[STATS_NPOLLS]; /* interval last used, 0 none */
};

stats_sampler_t *stats_sampler_new(const stats_sampler_cfg_t *cfg)
{
    assert(cfg);
    stats_sampler_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    if (self->cfg.shard.n == 0)
        self->cfg.shard = (tw_shard_t){1, 1};
    return self;
}

void stats_sampler_destroy(stats_sampler_t **self_p)
{
    assert(self_p);
    stats_sampler_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nvids; i++)
        free(self->vids[i].description);
    free(self->vids);
    free(self->chans);
    free(self);
    *self_p = NULL;
}

stats_vid_t *stats_sampler_find(stats_sampler_t *self, const char *id)
{
    assert(self);
    assert(id);
    for (size_t i = 0; i < self->nvids; i++)
        if (strcmp(self->vids[i].id, id) == 0)
            return &self->vids[i];
    return NULL;
}

/* The video with id, added (unwatched, published at now_us) when missing;
 * NULL for a bad id or out of memory. */
static stats_vid_t *s_get(stats_sampler_t *self, const char *id, int64_t now_us)
{
    stats_vid_t *v = stats_sampler_find(self, id);
    if (v || !tw_id_is_video(id))
        return v;
    if (self->nvids == self->cap) {
        size_t ncap = self->cap ? self->cap * 2 : 64;
        stats_vid_t *nv = realloc(self->vids, ncap * sizeof *nv);
        if (!nv)
            return NULL;
        self->vids = nv;
        self->cap = ncap;
    }
    v = &self->vids[self->nvids++];
    memset(v, 0, sizeof *v);
    snprintf(v->id, sizeof v->id, "%s", id);
    v->published_us = now_us;
    return v;
}

void stats_sampler_set_description(stats_sampler_t *self, stats_vid_t *v,
                                   const char *text)
{
    assert(self);
    assert(v);
    char *d = strdup(text ? text : "");
    if (!d)
        return;
    free(v->description);
    v->description = d;
}

size_t stats_sampler_video_count(const stats_sampler_t *self)
{
    assert(self);
    return self->nvids;
}

stats_vid_t *stats_sampler_video(stats_sampler_t *self, size_t i)
{
    assert(self);
    return i < self->nvids ? &self->vids[i] : NULL;
}

tw_rc_t stats_sampler_pin(stats_sampler_t *self, const char *id)
{
    assert(self);
    assert(id);
    if (!tw_id_is_video(id))
        return TW_ERR_INVALID;
    if (!tw_shard_owns(&self->cfg.shard, id))
        return TW_ERR_NOTFOUND;
    stats_vid_t *v = s_get(self, id, 0);
    if (!v)
        return TW_ERR_NOMEM;
    v->watched = true;
    v->pinned = true;
    return TW_OK;
}

tw_rc_t stats_sampler_set_channels(stats_sampler_t *self,
                                   const char *const *ids, size_t n)
{
    assert(self);
    assert(ids || n == 0);
    stats_chan_t *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return TW_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tw_id_is_channel(ids[i]) ||
            !tw_shard_owns(&self->cfg.shard, ids[i]))
            continue;
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(v[j].id, ids[i]) == 0;
        if (dup)
            continue;
        snprintf(v[k].id, sizeof v[k].id, "%s", ids[i]);
        for (size_t j = 0; j < self->nchans; j++)
            if (strcmp(self->chans[j].id, ids[i]) == 0)
                v[k] = self->chans[j];
        k++;
    }
    free(self->chans);
    self->chans = v;
    self->nchans = k;
    return TW_OK;
}

size_t stats_sampler_channel_count(const stats_sampler_t *self)
{
    assert(self);
    return self->nchans;
}

stats_chan_t *stats_sampler_channel(stats_sampler_t *self, size_t i)
{
    assert(self);
    return i < self->nchans ? &self->chans[i] : NULL;
}

bool stats_sampler_listed(const stats_sampler_t *self, const char *chan)
{
    assert(self);
    assert(chan);
    for (size_t i = 0; i < self->nchans; i++)
        if (strcmp(self->chans[i].id, chan) == 0)
            return true;
    return false;
}

/* True when an upload published at published_us is too old at now_us. */
static bool s_too_old(const stats_sampler_t *self, int64_t published_us,
                      int64_t now_us)
{
    return self->cfg.max_age_us > 0 && published_us > 0 &&
           published_us < now_us - self->cfg.max_age_us;
}

size_t stats_sampler_streams(stats_sampler_t *self, const tw_scan_stream_t *v,
                             size_t n, int64_t now_us)
{
    assert(self);
    assert(v || n == 0);
    for (size_t i = 0; i < self->nvids; i++)
        self->vids[i].live = false;
    size_t nlive = 0;
    for (size_t i = 0; i < n; i++) {
        const tw_scan_stream_t *s = &v[i];
        bool live = s->state == TW_SCAN_ST_LIVE;
        int64_t published = s->start_us       ? s->start_us
                            : s->scheduled_us ? s->scheduled_us
                            : s->updated_us   ? s->updated_us
                                              : now_us;
        bool upload =
            self->cfg.watch_uploads &&
            stats_sampler_listed(self, s->channel_id) &&
            (s->state == TW_SCAN_ST_VIDEO || s->state == TW_SCAN_ST_LIVE ||
             s->state == TW_SCAN_ST_ENDED) &&
            (live || !s_too_old(self, published, now_us));
        if (!live && !upload && !stats_sampler_find(self, s->video_id))
            continue;
        stats_vid_t *x = s_get(self, s->video_id, published);
        if (!x)
            continue;
        x->live = live;
        nlive += live;
        if (upload && !x->watched) {
            x->watched = true;
            x->published_us = published;
        }
        if (!x->chan[0])
            snprintf(x->chan, sizeof x->chan, "%s", s->channel_id);
        if (s->title[0])
            snprintf(x->title, sizeof x->title, "%s", s->title);
    }
    return nlive;
}

void stats_sampler_refresh_entry(stats_sampler_t *self, stats_refresh_t *r,
                                 const char *chan, const char *vid,
                                 const char *title, int64_t published_us,
                                 int64_t now_us)
{
    assert(self);
    assert(r);
    assert(chan);
    assert(vid);
    r->seen++;
    if (self->cfg.uploads_max && r->seen >= self->cfg.uploads_max)
        r->stop = true;
    if (published_us <= 0)
        published_us = now_us;
    stats_vid_t *v = stats_sampler_find(self, vid);
    if (v && v->watched) {
        r->stop = true; /* newest first: the rest is known */
        return;
    }
    if (s_too_old(self, published_us, now_us)) {
        r->stop = true; /* newest first: the rest is older still */
        return;
    }
    v = s_get(self, vid, published_us);
    if (!v)
        return;
    v->watched = true;
    v->published_us = published_us;
    r->added = true;
    snprintf(v->chan, sizeof v->chan, "%s", chan);
    if (title && title[0])
        snprintf(v->title, sizeof v->title, "%s", title);
}

/* Prunable uploads, newest first within each channel. */
static int s_by_chan_newest(const void *a, const void *b)
{
    const stats_vid_t *x = *(const stats_vid_t *const *)a;
    const stats_vid_t *y = *(const stats_vid_t *const *)b;
    int c = strcmp(x->chan, y->chan);
    if (c != 0)
        return c;
    if (x->published_us != y->published_us)
        return x->published_us > y->published_us ? -1 : 1;
    return strcmp(x->id, y->id);
}

size_t stats_sampler_prune(stats_sampler_t *self, int64_t now_us)
{
    assert(self);
    /* mark: drop = gone from the watch list */
    bool *drop = calloc(self->nvids ? self->nvids : 1, sizeof *drop);
    stats_vid_t **up = calloc(self->nvids ? self->nvids : 1, sizeof *up);
    if (!drop || !up) {
        free(drop);
        free(up);
        return 0;
    }
    size_t nup = 0;
    for (size_t i = 0; i < self->nvids; i++) {
        stats_vid_t *v = &self->vids[i];
        if (v->pinned || v->live)
            continue;
        if (!v->watched || s_too_old(self, v->published_us, now_us))
            drop[i] = true;
        else
            up[nup++] = v;
    }
    if (self->cfg.uploads_max && nup) {
        qsort(up, nup, sizeof *up, s_by_chan_newest);
        size_t run = 0;
        for (size_t i = 0; i < nup; i++) {
            run = i > 0 && strcmp(up[i]->chan, up[i - 1]->chan) == 0 ? run + 1
                                                                     : 1;
            if (run > self->cfg.uploads_max)
                drop[up[i] - self->vids] = true;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < self->nvids; i++) {
        if (drop[i]) {
            free(self->vids[i].description);
            continue;
        }
        if (k != i)
            self->vids[k] = self->vids[i];
        k++;
    }
    size_t removed = self->nvids - k;
    self->nvids = k;
    free(drop);
    free(up);
    return removed;
}

/* Whether poll samples v. */
static bool s_polled(const stats_vid_t *v, stats_poll_t poll)
{
    if (v->gone)
        return false;
    return poll == STATS_POLL_VIEWERS ? v->live : (v->watched || v->live);
}

size_t stats_sampler_select(stats_sampler_t *self, stats_poll_t poll,
                            stats_vid_t **out)
{
    assert(self);
    assert(out || self->nvids == 0);
    size_t n = 0;
    for (size_t i = 0; i < self->nvids; i++)
        if (s_polled(&self->vids[i], poll))
            out[n++] = &self->vids[i];
    return n;
}

size_t stats_sampler_pollable(const stats_sampler_t *self, stats_poll_t poll)
{
    assert(self);
    size_t n = 0;
    for (size_t i = 0; i < self->nvids; i++)
        n += s_polled(&self->vids[i], poll);
    return n;
}

bool stats_sampler_due(const stats_sampler_t *self, stats_poll_t poll,
                       int64_t now_ms)
{
    assert(self);
    assert(poll < STATS_NPOLLS);
    return now_ms >= self->next_ms[poll];
}

void stats_sampler_schedule(stats_sampler_t *self, stats_poll_t poll,
                            int64_t now_ms, uint64_t interval_ms)
{
    assert(self);
    assert(poll < STATS_NPOLLS);
    self->next_ms[poll] = now_ms + (int64_t)interval_ms;
}

bool stats_sampler_note_interval(stats_sampler_t *self, stats_poll_t poll,
                                 uint64_t interval_ms)
{
    assert(self);
    assert(poll < STATS_NPOLLS);
    if (self->last_iv_ms[poll] == interval_ms)
        return false;
    self->last_iv_ms[poll] = interval_ms;
    return true;
}

char *stats_sampler_uploads_format(const stats_sampler_t *self, size_t *len)
{
    assert(self);
    assert(len);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    for (size_t i = 0; i < self->nchans; i++)
        if (self->chans[i].uploads[0])
            fprintf(f, "%s\t%s\n", self->chans[i].id, self->chans[i].uploads);
    for (size_t i = 0; i < self->nvids; i++) {
        const stats_vid_t *v = &self->vids[i];
        if (v->watched && v->chan[0])
            fprintf(f, "video\t%s\t%s\t%lld\n", v->chan, v->id,
                    (long long)v->published_us);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Parses a decimal int64 of exactly len bytes; false when it is not. */
static bool s_int(const char *p, size_t len, int64_t *out)
{
    if (len == 0 || len > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

void stats_sampler_uploads_parse(stats_sampler_t *self, const char *buf,
                                 size_t len, int64_t now_us)
{
    assert(self);
    assert(buf || len == 0);
    size_t off = 0;
    while (off < len) {
        const char *line = buf + off;
        const char *nl = memchr(line, '\n', len - off);
        size_t ll = nl ? (size_t)(nl - line) : len - off;
        off += ll + (nl ? 1 : 0);
        /* up to 4 tab-separated fields */
        const char *f[4];
        size_t fl[4], nf = 0;
        const char *p = line, *end = line + ll;
        while (nf < 4) {
            const char *t = memchr(p, '\t', (size_t)(end - p));
            f[nf] = p;
            fl[nf] = t ? (size_t)(t - p) : (size_t)(end - p);
            nf++;
            if (!t)
                break;
            p = t + 1;
        }
        char a[TW_ID_MAX], b[TW_ID_MAX], c[TW_ID_MAX];
        if (nf >= 3 && fl[0] == 5 && memcmp(f[0], "video", 5) == 0) {
            int64_t published = now_us;
            if (fl[1] >= sizeof a || fl[2] >= sizeof c ||
                (nf == 4 && !s_int(f[3], fl[3], &published)))
                continue;
            snprintf(a, sizeof a, "%.*s", (int)fl[1], f[1]);
            snprintf(c, sizeof c, "%.*s", (int)fl[2], f[2]);
            if (!stats_sampler_listed(self, a) ||
                s_too_old(self, published, now_us))
                continue;
            stats_vid_t *v = s_get(self, c, published);
            if (!v)
                continue;
            if (!v->watched)
                v->published_us = published;
            v->watched = true;
            snprintf(v->chan, sizeof v->chan, "%s", a);
        } else if (nf == 2 && fl[0] < sizeof a && fl[1] < sizeof b) {
            snprintf(a, sizeof a, "%.*s", (int)fl[0], f[0]);
            snprintf(b, sizeof b, "%.*s", (int)fl[1], f[1]);
            for (size_t i = 0; i < self->nchans; i++)
                if (strcmp(self->chans[i].id, a) == 0)
                    snprintf(self->chans[i].uploads,
                             sizeof self->chans[i].uploads, "%s", b);
        }
    }
}
