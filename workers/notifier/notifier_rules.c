/* notifier_rules - rule engine, templates and event texts of the notifier. */
#include "notifier_rules.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tw_buf.h"
#include "tw_tsv.h"

/* Per rule and metric state of one video. */
typedef struct {
    bool set;        /* a baseline exists */
    uint64_t base;   /* value last announced (or first recorded) */
    int64_t last_us; /* sample time of the last announcement, 0 = never */
} s_rstate_t;

/* Last stored value of one metric. */
typedef struct {
    bool set;      /* a value was seen */
    uint64_t v;    /* the value */
    int64_t at_us; /* its sampled_at */
} s_value_t;

/* Everything remembered about one video. */
typedef struct {
    char *video_id;                       /* id (owned) */
    char *channel_id;                     /* channel (owned) */
    char *title;                          /* last title seen (owned) */
    int state;                            /* tw_stream_state_t announced */
    int64_t sched_us;                     /* scheduled start announced */
    int64_t start_us;                     /* actual start, 0 unknown */
    uint64_t peak;                        /* peak viewers since live */
    bool has_peak;                        /* peak is known */
    int64_t seen_us;                      /* newest sample or event time */
    s_value_t val[NOTIFIER_METRIC_COUNT]; /* last values */
    s_rstate_t *rs;                       /* nrules * NOTIFIER_METRIC_COUNT */
} s_video_t;

struct notifier_rules {
    const tw_cfg_t *cfg; /* rules, events, default chats (borrowed) */
    size_t nrules;       /* cfg->notify.nrules */
    s_video_t *videos;   /* remembered videos */
    size_t nvideos;      /* how many */
    size_t cap;          /* allocated */
    bool dirty;          /* changed since the last save */
    int64_t quota_until; /* end of the quota block last announced */
};

static const char *const s_metric_names[NOTIFIER_METRIC_COUNT] = {
    "views", "likes", "favorites", "comments", "viewers"};
static const char *const s_metric_titles[NOTIFIER_METRIC_COUNT] = {
    "Views", "Likes", "Favorites", "Comments", "Viewers"};

const char *notifier_rules_metric_name(notifier_metric_t m)
{
    if ((unsigned)m >= NOTIFIER_METRIC_COUNT)
        return NULL;
    return s_metric_names[m];
}

notifier_metric_t notifier_rules_metric_parse(const char *name)
{
    for (int m = 0; name && m < NOTIFIER_METRIC_COUNT; m++)
        if (strcmp(name, s_metric_names[m]) == 0)
            return (notifier_metric_t)m;
    return NOTIFIER_METRIC_COUNT;
}

/* ---- notes ---- */

tw_rc_t notifier_notes_add(notifier_notes_t *notes, const char *chat_id,
                           const char *text, const char *key)
{
    assert(notes);
    assert(chat_id);
    assert(text);
    if (notes->n == notes->cap) {
        size_t cap = notes->cap ? notes->cap * 2 : 8;
        notifier_note_t *v = realloc(notes->v, cap * sizeof *v);
        if (!v)
            return TW_ERR_NOMEM;
        notes->v = v;
        notes->cap = cap;
    }
    notifier_note_t *n = &notes->v[notes->n];
    n->chat_id = strdup(chat_id);
    n->text = strdup(text);
    n->key = strdup(key ? key : "");
    if (!n->chat_id || !n->text || !n->key) {
        free(n->chat_id);
        free(n->text);
        free(n->key);
        return TW_ERR_NOMEM;
    }
    notes->n++;
    return TW_OK;
}

void notifier_notes_clear(notifier_notes_t *notes)
{
    assert(notes);
    for (size_t i = 0; i < notes->n; i++) {
        free(notes->v[i].chat_id);
        free(notes->v[i].text);
        free(notes->v[i].key);
    }
    free(notes->v);
    memset(notes, 0, sizeof *notes);
}

/* ---- engine ---- */

notifier_rules_t *notifier_rules_new(const tw_cfg_t *cfg)
{
    assert(cfg);
    notifier_rules_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->nrules = cfg->notify.nrules;
    return self;
}

static void s_video_free(s_video_t *v)
{
    free(v->video_id);
    free(v->channel_id);
    free(v->title);
    free(v->rs);
}

static void s_reset(notifier_rules_t *self)
{
    for (size_t i = 0; i < self->nvideos; i++)
        s_video_free(&self->videos[i]);
    free(self->videos);
    self->videos = NULL;
    self->nvideos = self->cap = 0;
}

void notifier_rules_destroy(notifier_rules_t **self_p)
{
    assert(self_p);
    notifier_rules_t *self = *self_p;
    if (!self)
        return;
    s_reset(self);
    free(self);
    *self_p = NULL;
}

size_t notifier_rules_videos(const notifier_rules_t *self)
{
    assert(self);
    return self->nvideos;
}

bool notifier_rules_dirty(const notifier_rules_t *self)
{
    assert(self);
    return self->dirty;
}

static s_video_t *s_find(notifier_rules_t *self, const char *id)
{
    /* newest first: samples of live streams hit the recent entries */
    for (size_t i = self->nvideos; i-- > 0;)
        if (strcmp(self->videos[i].video_id, id) == 0)
            return &self->videos[i];
    return NULL;
}

static s_video_t *s_get(notifier_rules_t *self, const char *id)
{
    s_video_t *v = s_find(self, id);
    if (v)
        return v;
    if (self->nvideos == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        s_video_t *nv = realloc(self->videos, cap * sizeof *nv);
        if (!nv)
            return NULL;
        self->videos = nv;
        self->cap = cap;
    }
    v = &self->videos[self->nvideos];
    memset(v, 0, sizeof *v);
    v->video_id = strdup(id);
    v->channel_id = strdup("");
    v->title = strdup("");
    v->rs = calloc(self->nrules * NOTIFIER_METRIC_COUNT + 1, sizeof *v->rs);
    if (!v->video_id || !v->channel_id || !v->title || !v->rs) {
        s_video_free(v);
        return NULL;
    }
    self->nvideos++;
    self->dirty = true;
    return v;
}

static tw_rc_t s_set_str(char **dst, const char *src)
{
    if (!src || !*src || strcmp(*dst, src) == 0)
        return TW_OK;
    char *c = strdup(src);
    if (!c)
        return TW_ERR_NOMEM;
    free(*dst);
    *dst = c;
    return TW_OK;
}

static bool s_has(const tw_cfg_strv_t *v, const char *s)
{
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->v[i], s) == 0)
            return true;
    return false;
}

static bool s_event_on(const notifier_rules_t *self, const char *what)
{
    return s_has(&self->cfg->notify.events, what);
}

/* Appends text for every default recipient ([telegram] chat_ids). */
static tw_rc_t s_to_default(notifier_rules_t *self, const char *text,
                            const char *key, notifier_notes_t *out)
{
    const tw_cfg_strv_t *chats = &self->cfg->telegram.chat_ids;
    for (size_t i = 0; i < chats->len; i++) {
        tw_rc_t rc = notifier_notes_add(out, chats->v[i], text, key);
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

/* ---- templates ---- */

static tw_rc_t s_put_u64(tw_buf_t *b, uint64_t v)
{
    return tw_buf_printf(b, "%" PRIu64, v);
}

char *notifier_rules_render(const char *tmpl, const notifier_vars_t *vars)
{
    assert(tmpl);
    assert(vars);
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return NULL;
    tw_rc_t rc = TW_OK;
    const char *p = tmpl;
    const char *mname = notifier_rules_metric_name(vars->metric);
    const char *mtitle = mname ? s_metric_titles[vars->metric] : "";
    while (*p && rc == TW_OK) {
        const char *open = strchr(p, '{');
        if (!open) {
            rc = tw_buf_append_str(b, p);
            break;
        }
        rc = tw_buf_append(b, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        if (rc != TW_OK)
            break;
        if (!close) {
            rc = tw_buf_append_str(b, open);
            break;
        }
        size_t n = (size_t)(close - open - 1);
        const char *name = open + 1;
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(name, lit, n) == 0)
        if (IS("title"))
            rc = tw_buf_append_str(b, vars->title ? vars->title : "");
        else if (IS("video_id"))
            rc = tw_buf_append_str(b, vars->video_id ? vars->video_id : "");
        else if (IS("channel_id"))
            rc = tw_buf_append_str(b, vars->channel_id ? vars->channel_id : "");
        else if (IS("metric"))
            rc = tw_buf_append_str(b, mname ? mname : "");
        else if (IS("Metric"))
            rc = tw_buf_append_str(b, mtitle);
        else if (IS("prev"))
            rc = s_put_u64(b, vars->prev);
        else if (IS("curr"))
            rc = s_put_u64(b, vars->curr);
        else if (IS("delta"))
            rc = vars->curr >= vars->prev
                     ? tw_buf_printf(b, "+%" PRIu64, vars->curr - vars->prev)
                     : tw_buf_printf(b, "-%" PRIu64, vars->prev - vars->curr);
        else {
            /* not ours: keep "{" and go on after it, so "{{title}" works */
            rc = tw_buf_append(b, "{", 1);
            p = open + 1;
            continue;
        }
#undef IS
        p = close + 1;
    }
    char *out = rc == TW_OK ? tw_buf_steal(b, NULL) : NULL;
    tw_buf_destroy(&b);
    return out;
}

/* ---- samples ---- */

static const tw_ou64_t *s_metric_of(const tw_msg_stats_sample_t *s,
                                    notifier_metric_t m)
{
    switch (m) {
    case NOTIFIER_METRIC_VIEWS:
        return &s->views;
    case NOTIFIER_METRIC_LIKES:
        return &s->likes;
    case NOTIFIER_METRIC_FAVORITES:
        return &s->favorites;
    case NOTIFIER_METRIC_COMMENTS:
        return &s->comments;
    case NOTIFIER_METRIC_VIEWERS:
        return &s->concurrent_viewers;
    default:
        return NULL;
    }
}

static bool s_fires(const tw_cfg_rule_t *r, uint64_t base, uint64_t v)
{
    if (v == base)
        return false;
    uint64_t delta = v > base ? v - base : base - v;
    if (r->min_delta > 0 && delta >= r->min_delta)
        return true;
    return r->milestone > 0 && base / r->milestone != v / r->milestone;
}

static tw_rc_t s_fire(notifier_rules_t *self, size_t ri, s_video_t *v,
                      notifier_metric_t m, uint64_t base, uint64_t val,
                      int64_t at_us, notifier_notes_t *out)
{
    const tw_cfg_rule_t *r = &self->cfg->notify.rules[ri];
    notifier_vars_t vars = {
        .title = v->title,
        .video_id = v->video_id,
        .channel_id = v->channel_id,
        .metric = m,
        .prev = base,
        .curr = val,
    };
    char *text = notifier_rules_render(r->template_text, &vars);
    if (!text)
        return TW_ERR_NOMEM;
    char key[160];
    snprintf(key, sizeof key, "m:%s:%s:%zu:%" PRId64, v->video_id,
             s_metric_names[m], ri, at_us);
    const tw_cfg_strv_t *chats =
        r->chat_ids.len ? &r->chat_ids : &self->cfg->telegram.chat_ids;
    tw_rc_t rc = TW_OK;
    for (size_t i = 0; i < chats->len && rc == TW_OK; i++)
        rc = notifier_notes_add(out, chats->v[i], text, key);
    free(text);
    return rc;
}

tw_rc_t notifier_rules_sample(notifier_rules_t *self,
                              const tw_msg_stats_sample_t *s,
                              notifier_notes_t *out)
{
    assert(self);
    assert(s);
    assert(out);
    if (!s->video_id || !*s->video_id)
        return TW_ERR_INVALID;
    s_video_t *v = s_get(self, s->video_id);
    if (!v)
        return TW_ERR_NOMEM;
    if (s_set_str(&v->channel_id, s->channel_id) != TW_OK ||
        s_set_str(&v->title, s->title) != TW_OK)
        return TW_ERR_NOMEM;
    if (s->sampled_at_us > v->seen_us)
        v->seen_us = s->sampled_at_us;
    for (int m = 0; m < NOTIFIER_METRIC_COUNT; m++) {
        const tw_ou64_t *x = s_metric_of(s, (notifier_metric_t)m);
        if (!x->set)
            continue; /* hidden: neither stored nor announced */
        s_value_t *cur = &v->val[m];
        if (cur->set && s->sampled_at_us <= cur->at_us)
            continue; /* a resent or out-of-date sample */
        for (size_t ri = 0; ri < self->nrules; ri++) {
            const tw_cfg_rule_t *r = &self->cfg->notify.rules[ri];
            if (!s_has(&r->metrics, s_metric_names[m]))
                continue;
            s_rstate_t *rs = &v->rs[ri * NOTIFIER_METRIC_COUNT + (size_t)m];
            if (!rs->set) {
                rs->set = true; /* first value: record only */
                rs->base = x->v;
                rs->last_us = 0;
                continue;
            }
            if (!s_fires(r, rs->base, x->v))
                continue;
            if (r->cooldown_ms > 0 && rs->last_us != 0 &&
                s->sampled_at_us - rs->last_us < (int64_t)r->cooldown_ms * 1000)
                continue; /* the baseline stays: the next one shows it all */
            tw_rc_t rc = s_fire(self, ri, v, (notifier_metric_t)m, rs->base,
                                x->v, s->sampled_at_us, out);
            if (rc != TW_OK)
                return rc;
            rs->base = x->v;
            rs->last_us = s->sampled_at_us;
        }
        cur->set = true;
        cur->v = x->v;
        cur->at_us = s->sampled_at_us;
        if (m == NOTIFIER_METRIC_VIEWERS && (!v->has_peak || x->v > v->peak)) {
            v->peak = x->v;
            v->has_peak = true;
        }
        self->dirty = true;
    }
    return TW_OK;
}

/* ---- stream events ---- */

/* Order of stream states: an event never moves a video backwards. */
static int s_rank(int state)
{
    switch (state) {
    case TW_STREAM_STATE_SCHEDULED:
        return 1;
    case TW_STREAM_STATE_LIVE:
        return 2;
    case TW_STREAM_STATE_ENDED:
    case TW_STREAM_STATE_CANCELLED:
    case TW_STREAM_STATE_DELETED:
        return 3;
    default:
        return 0;
    }
}

static void s_fmt_utc(int64_t us, char *buf, size_t cap)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, cap, "?");
        return;
    }
    strftime(buf, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

static void s_fmt_duration(int64_t us, char *buf, size_t cap)
{
    int64_t s = us / 1000000;
    if (s < 0)
        s = 0;
    if (s >= 3600)
        snprintf(buf, cap, "%" PRId64 "h %02" PRId64 "m", s / 3600,
                 (s / 60) % 60);
    else
        snprintf(buf, cap, "%" PRId64 "m %02" PRId64 "s", s / 60, s % 60);
}

tw_rc_t notifier_rules_stream(notifier_rules_t *self,
                              const tw_msg_stream_event_t *ev,
                              notifier_notes_t *out)
{
    assert(self);
    assert(ev);
    assert(out);
    if (ev->reason && strcmp(ev->reason, "quota_exhausted") == 0) {
        /* the scanner's quota report: once per block (it arrives over
         * notifier.sock and again from events.sock) */
        int64_t until = ev->actual_end_us.set ? ev->actual_end_us.v : 0;
        if (until != 0 && until == self->quota_until)
            return TW_OK;
        self->quota_until = until;
        self->dirty = true;
        if (!s_event_on(self, "quota"))
            return TW_OK;
        const char *t = ev->title && *ev->title
                            ? ev->title
                            : "YouTube Data API quota exhausted";
        char key[64];
        snprintf(key, sizeof key, "q:%" PRId64, until);
        return s_to_default(self, t, key, out);
    }
    if (!ev->video_id || !*ev->video_id)
        return TW_ERR_INVALID;
    int state = (int)ev->state;
    if (s_rank(state) == 0)
        return TW_OK; /* members-only, private, ...: nothing to announce */
    s_video_t *v = s_get(self, ev->video_id);
    if (!v)
        return TW_ERR_NOMEM;
    if (s_set_str(&v->channel_id, ev->channel_id) != TW_OK ||
        s_set_str(&v->title, ev->title) != TW_OK)
        return TW_ERR_NOMEM;
    int64_t sched = ev->scheduled_start_us.set ? ev->scheduled_start_us.v : 0;
    if (s_rank(state) < s_rank(v->state))
        return TW_OK; /* late event of an earlier state */
    if (state == v->state &&
        (state != TW_STREAM_STATE_SCHEDULED || sched == v->sched_us))
        return TW_OK; /* already announced (twice delivered, restart) */
    bool resched = state == v->state; /* a scheduled stream moved */
    int64_t times[] = {sched,
                       ev->actual_start_us.set ? ev->actual_start_us.v : 0,
                       ev->actual_end_us.set ? ev->actual_end_us.v : 0};
    for (size_t i = 0; i < 3; i++)
        if (times[i] > v->seen_us)
            v->seen_us = times[i];
    v->state = state;
    v->sched_us = sched;
    if (state == TW_STREAM_STATE_LIVE) {
        v->start_us = ev->actual_start_us.set ? ev->actual_start_us.v : 0;
        v->has_peak = false;
        v->peak = 0;
    }
    self->dirty = true;

    const char *what = tw_proto_stream_state_str(ev->state);
    if (state == TW_STREAM_STATE_DELETED || !s_event_on(self, what))
        return TW_OK;
    const char *title = *v->title ? v->title : v->video_id;
    char line[128] = "";
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return TW_ERR_NOMEM;
    tw_rc_t rc = TW_OK;
    switch (state) {
    case TW_STREAM_STATE_SCHEDULED:
        rc = tw_buf_printf(b, "%s: %s", resched ? "Rescheduled" : "Scheduled",
                           title);
        if (rc == TW_OK && sched) {
            s_fmt_utc(sched, line, sizeof line);
            rc = tw_buf_printf(b, "\nStarts %s", line);
        }
        break;
    case TW_STREAM_STATE_LIVE:
        rc = tw_buf_printf(b, "Live now: %s", title);
        break;
    case TW_STREAM_STATE_ENDED: {
        rc = tw_buf_printf(b, "Stream ended: %s", title);
        int64_t start =
            ev->actual_start_us.set ? ev->actual_start_us.v : v->start_us;
        int64_t end = ev->actual_end_us.set ? ev->actual_end_us.v : 0;
        const char *sep = "\n";
        if (rc == TW_OK && start > 0 && end > start) {
            s_fmt_duration(end - start, line, sizeof line);
            rc = tw_buf_printf(b, "%sDuration: %s", sep, line);
            sep = " | ";
        }
        if (rc == TW_OK && v->has_peak)
            rc = tw_buf_printf(b, "%sPeak viewers: %" PRIu64, sep, v->peak);
        break;
    }
    default:
        rc = tw_buf_printf(b, "Stream cancelled: %s", title);
        break;
    }
    if (rc == TW_OK)
        rc = tw_buf_printf(b, "\nhttps://www.youtube.com/watch?v=%s",
                           v->video_id);
    char key[160];
    snprintf(key, sizeof key, "s:%s:%s:%" PRId64, v->video_id, what, sched);
    if (rc == TW_OK)
        rc = s_to_default(self, tw_buf_data(b), key, out);
    tw_buf_destroy(&b);
    return rc;
}

/* ---- supervisor and notices ---- */

tw_rc_t notifier_rules_worker(notifier_rules_t *self, const char *worker,
                              const char *state, const char *text,
                              notifier_notes_t *out)
{
    assert(self);
    assert(worker);
    assert(state);
    assert(out);
    if (strcmp(state, "failed") != 0 || !s_event_on(self, "failed"))
        return TW_OK;
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return TW_ERR_NOMEM;
    tw_rc_t rc = tw_buf_printf(b, "Worker %s FAILED", worker);
    if (rc == TW_OK && text && *text)
        rc = tw_buf_printf(b, ": %s", text);
    if (rc == TW_OK)
        rc = s_to_default(self, tw_buf_data(b), "", out);
    tw_buf_destroy(&b);
    return rc;
}

tw_rc_t notifier_rules_drift(notifier_rules_t *self, const tw_msg_drift_t *d,
                             notifier_notes_t *out)
{
    assert(self);
    assert(d);
    assert(out);
    if (!s_event_on(self, "drift"))
        return TW_OK;
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return TW_ERR_NOMEM;
    tw_rc_t rc = tw_buf_printf(
        b,
        "YouTube drift: %s could not understand %" PRIu32
        " answers of %s within %" PRIu64 " min; latest: %s",
        d->worker && *d->worker ? d->worker : "?", d->count,
        d->source ? d->source : "?", (d->window_ms + 59999) / 60000,
        d->what && *d->what ? d->what : "-");
    if (rc == TW_OK)
        rc = s_to_default(self, tw_buf_data(b), "", out);
    tw_buf_destroy(&b);
    return rc;
}

tw_rc_t notifier_rules_notice(notifier_rules_t *self, const char *kind,
                              const char *text, notifier_notes_t *out)
{
    assert(self);
    assert(kind);
    assert(out);
    const char *cls = NULL;
    const char *head = NULL;
    if (strncmp(kind, "quota", 5) == 0) {
        cls = "quota";
        head = "YouTube API quota exhausted";
    } else if (strncmp(kind, "upload", 6) == 0) {
        cls = "upload";
        bool ok =
            strstr(kind, "ok") || strstr(kind, "succe") || strstr(kind, "done");
        head = ok ? "Upload succeeded" : "Upload failed";
    } else {
        cls = kind;
        head = kind;
    }
    if (!s_event_on(self, cls))
        return TW_OK;
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return TW_ERR_NOMEM;
    tw_rc_t rc = tw_buf_append_str(b, head);
    if (rc == TW_OK && text && *text)
        rc = tw_buf_printf(b, ": %s", text);
    if (rc == TW_OK)
        rc = s_to_default(self, tw_buf_data(b), "", out);
    tw_buf_destroy(&b);
    return rc;
}

size_t notifier_rules_prune(notifier_rules_t *self, int64_t keep_us)
{
    assert(self);
    int64_t newest = 0;
    for (size_t i = 0; i < self->nvideos; i++)
        if (self->videos[i].seen_us > newest)
            newest = self->videos[i].seen_us;
    size_t k = 0, dropped = 0;
    for (size_t i = 0; i < self->nvideos; i++) {
        s_video_t *v = &self->videos[i];
        if (v->seen_us > 0 && v->seen_us < newest - keep_us) {
            s_video_free(v);
            dropped++;
            continue;
        }
        self->videos[k++] = *v;
    }
    self->nvideos = k;
    if (dropped)
        self->dirty = true;
    return dropped;
}

/* ---- persistence ----
 * V video channel title state sched_us start_us peak(-) seen_us
 * M video metric value sampled_at_us
 * R video metric rule base last_us
 * Q quota_until_us (the quota block last announced) */

static tw_rc_t s_field(tw_buf_t *b, const char *s, bool last)
{
    tw_rc_t rc = tw_tsv_escape(b, s, strlen(s));
    if (rc == TW_OK)
        rc = tw_buf_append_byte(b, last ? '\n' : '\t');
    return rc;
}

char *notifier_rules_save(notifier_rules_t *self, size_t *len)
{
    assert(self);
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return NULL;
    tw_rc_t rc = tw_buf_append_str(b, "# tubewatch notifier values v1\n");
    if (rc == TW_OK && self->quota_until != 0)
        rc = tw_buf_printf(b, "Q\t%" PRId64 "\n", self->quota_until);
    for (size_t i = 0; i < self->nvideos && rc == TW_OK; i++) {
        const s_video_t *v = &self->videos[i];
        rc = tw_buf_append_str(b, "V\t");
        if (rc == TW_OK)
            rc = s_field(b, v->video_id, false);
        if (rc == TW_OK)
            rc = s_field(b, v->channel_id, false);
        if (rc == TW_OK)
            rc = s_field(b, v->title, false);
        if (rc == TW_OK) {
            char peak[32] = "-";
            if (v->has_peak)
                snprintf(peak, sizeof peak, "%" PRIu64, v->peak);
            rc = tw_buf_printf(
                b, "%d\t%" PRId64 "\t%" PRId64 "\t%s\t%" PRId64 "\n", v->state,
                v->sched_us, v->start_us, peak, v->seen_us);
        }
        for (int m = 0; m < NOTIFIER_METRIC_COUNT && rc == TW_OK; m++) {
            if (v->val[m].set) {
                rc = tw_buf_append_str(b, "M\t");
                if (rc == TW_OK)
                    rc = s_field(b, v->video_id, false);
                if (rc == TW_OK)
                    rc = tw_buf_printf(b, "%s\t%" PRIu64 "\t%" PRId64 "\n",
                                       s_metric_names[m], v->val[m].v,
                                       v->val[m].at_us);
            }
            for (size_t ri = 0; ri < self->nrules && rc == TW_OK; ri++) {
                const s_rstate_t *rs =
                    &v->rs[ri * NOTIFIER_METRIC_COUNT + (size_t)m];
                if (!rs->set)
                    continue;
                rc = tw_buf_append_str(b, "R\t");
                if (rc == TW_OK)
                    rc = s_field(b, v->video_id, false);
                if (rc == TW_OK)
                    rc = tw_buf_printf(b, "%s\t%zu\t%" PRIu64 "\t%" PRId64 "\n",
                                       s_metric_names[m], ri, rs->base,
                                       rs->last_us);
            }
        }
    }
    char *out = rc == TW_OK ? tw_buf_steal(b, len) : NULL;
    tw_buf_destroy(&b);
    if (out)
        self->dirty = false;
    return out;
}

static bool s_num(const tw_tsv_field_t *f, int64_t *out, bool allow_neg)
{
    char tmp[32];
    if (f->len == 0 || f->len >= sizeof tmp)
        return false;
    memcpy(tmp, f->ptr, f->len);
    tmp[f->len] = '\0';
    const char *p = tmp;
    if (*p == '-' && allow_neg)
        p++;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    char *end = NULL;
    long long v = strtoll(tmp, &end, 10);
    if (*end)
        return false;
    *out = v;
    return true;
}

static bool s_unum(const tw_tsv_field_t *f, uint64_t *out)
{
    char tmp[32];
    if (f->len == 0 || f->len >= sizeof tmp)
        return false;
    for (size_t i = 0; i < f->len; i++)
        if (f->ptr[i] < '0' || f->ptr[i] > '9')
            return false;
    memcpy(tmp, f->ptr, f->len);
    tmp[f->len] = '\0';
    *out = strtoull(tmp, NULL, 10);
    return true;
}

/* Unescapes a field into a new string, NULL when malformed or no memory. */
static char *s_str(const tw_tsv_field_t *f)
{
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return NULL;
    char *out = NULL;
    if (tw_tsv_unescape(b, f->ptr, f->len, NULL) == TW_OK)
        out = tw_buf_steal(b, NULL);
    tw_buf_destroy(&b);
    return out;
}

static bool s_load_line(notifier_rules_t *self, const char *line, size_t len,
                        bool *nomem)
{
    tw_tsv_field_t f[10];
    size_t n = tw_tsv_split(line, len, f, 10);
    if (n < 2 || f[0].len != 1)
        return false;
    if (f[0].ptr[0] == 'Q') {
        int64_t q = 0;
        if (n != 2 || !s_num(&f[1], &q, true))
            return false;
        self->quota_until = q;
        return true;
    }
    char *id = s_str(&f[1]);
    if (!id) {
        return false;
    }
    if (!*id || strlen(id) >= 64) {
        free(id);
        return false;
    }
    bool ok = false;
    char kind = f[0].ptr[0];
    if (kind == 'V' && (n == 8 || n == 9)) {
        int64_t seen = 0;
        if (n == 9 && !s_num(&f[8], &seen, true)) {
            free(id);
            return false;
        }
        int64_t state, sched, start;
        uint64_t peak = 0;
        bool has_peak = !(f[7].len == 1 && f[7].ptr[0] == '-');
        char *ch = s_str(&f[2]);
        char *title = s_str(&f[3]);
        if (ch && title && s_num(&f[4], &state, false) && state < 100 &&
            s_num(&f[5], &sched, true) && s_num(&f[6], &start, true) &&
            (!has_peak || s_unum(&f[7], &peak))) {
            s_video_t *v = s_get(self, id);
            if (!v) {
                *nomem = true;
            } else {
                free(v->channel_id);
                free(v->title);
                v->channel_id = ch;
                v->title = title;
                ch = title = NULL;
                v->state = (int)state;
                v->sched_us = sched;
                v->start_us = start;
                v->peak = peak;
                v->has_peak = has_peak;
                v->seen_us = seen;
                ok = true;
            }
        }
        free(ch);
        free(title);
    } else if ((kind == 'M' && n == 5) || (kind == 'R' && n == 6)) {
        char mname[16] = "";
        if (f[2].len < sizeof mname)
            memcpy(mname, f[2].ptr, f[2].len);
        notifier_metric_t m = notifier_rules_metric_parse(mname);
        s_video_t *v = m < NOTIFIER_METRIC_COUNT ? s_get(self, id) : NULL;
        if (m < NOTIFIER_METRIC_COUNT && !v)
            *nomem = true;
        uint64_t val, ri;
        int64_t at;
        if (v && kind == 'M' && s_unum(&f[3], &val) &&
            s_num(&f[4], &at, true)) {
            v->val[m] = (s_value_t){true, val, at};
            ok = true;
        } else if (v && kind == 'R' && s_unum(&f[3], &ri) &&
                   ri < self->nrules && s_unum(&f[4], &val) &&
                   s_num(&f[5], &at, true)) {
            v->rs[ri * NOTIFIER_METRIC_COUNT + (size_t)m] =
                (s_rstate_t){true, val, at};
            ok = true;
        }
    }
    free(id);
    return ok;
}

tw_rc_t notifier_rules_load(notifier_rules_t *self, const char *text,
                            size_t len, size_t *skipped, tw_err_t *err)
{
    assert(self);
    assert(text || len == 0);
    s_reset(self);
    self->quota_until = 0;
    size_t off = 0, bad = 0;
    const char *line;
    size_t llen;
    bool complete;
    bool nomem = false;
    while (tw_tsv_next_line(text, len, &off, &line, &llen, &complete)) {
        if (llen == 0 || line[0] == '#')
            continue;
        if (!complete || !s_load_line(self, line, llen, &nomem))
            bad++;
        if (nomem) {
            tw_err_set(err, "out of memory");
            return TW_ERR_NOMEM;
        }
    }
    if (skipped)
        *skipped = bad;
    self->dirty = false;
    return TW_OK;
}
