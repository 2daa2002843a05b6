/* ytsim_scenario - the scenario: built-in default, TOML loader, derived
 * state and stat trajectories. */
#include "ytsim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tw_toml.h"

static char *s_dup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p) {
        abort();
    }
    return p;
}

/* Stream defaults, applied before per-stream settings. */
static void s_stream_defaults(ytsim_stream_t *s)
{
    memset(s, 0, sizeof *s);
    s->rate = 2.0;
    s->mix = (ytsim_mix_t){.text = 0.86,
                           .superchat = 0.04,
                           .sticker = 0.02,
                           .membership = 0.03,
                           .gift = 0.01,
                           .jewels = 0.01, /* era 2026 only */
                           .other = 0.01,
                           .deletion = 0.03,
                           .ban = 0.01};
    s->replay_miss = 0.0;
    s->n_authors = 300;
    s->backlog = 1000000;
    s->max_actions = 500;
    s->timeout_ms = 5000;
    s->views0 = 100;
    s->views_per_s = 2.0;
    s->like_ratio = 0.05;
    s->comment_ratio = 0.0;
    s->viewers_peak = 1500;
    s->duration = 3600;
    s->deleted_at = 0;
}

static void s_scn_defaults(ytsim_scn_t *scn)
{
    memset(scn, 0, sizeof *scn);
    scn->seed = 1;
    scn->epoch_now = true;
    scn->api_key = s_dup("ytsim-api-key");
    scn->quota_per_day = 10000;
    scn->tg_token = s_dup("123456789:AAEsimulatedTelegramBotTokenForYtsim0");
    scn->tg_username = s_dup("ytsim_bot");
    scn->tg_chat_per_s = 1.0;
    scn->tg_global_per_s = 30.0;
    scn->client_id = s_dup("ytsim-client.apps.googleusercontent.com");
    scn->client_secret = s_dup("ytsim-client-secret");
    scn->token_ttl = 3599;
    scn->sa_email = s_dup("");
    scn->sa_pubkey = s_dup("");
    scn->device_polls = 1;
    scn->drive_root = s_dup("root");
    scn->session_ttl = 7 * 86400;
    scn->truth_chat = true;
    scn->load_rate = 100;
    scn->era = 2026;
    scn->reg_user = s_dup("");
    scn->reg_password = s_dup("");
    scn->reg_ksql_subject = s_dup("yt_videos-value");
    scn->reg_first_id = 1;
}

static ytsim_stream_t *s_add_stream(ytsim_scn_t *scn, int chan,
                                    const char *title)
{
    ytsim_stream_t *n =
        realloc(scn->streams, (scn->n_streams + 1) * sizeof *scn->streams);
    if (!n) {
        abort();
    }
    scn->streams = n;
    ytsim_stream_t *s = &scn->streams[scn->n_streams++];
    s_stream_defaults(s);
    s->chan = chan;
    s->title = s_dup(title);
    return s;
}

static int s_add_channel(ytsim_scn_t *scn, const char *handle,
                         const char *title)
{
    ytsim_channel_t *n =
        realloc(scn->chans, (scn->n_chans + 1) * sizeof *scn->chans);
    if (!n) {
        abort();
    }
    scn->chans = n;
    ytsim_channel_t *c = &scn->chans[scn->n_chans];
    memset(c, 0, sizeof *c);
    snprintf(c->handle, sizeof c->handle, "%s", handle ? handle : "");
    snprintf(c->hl, sizeof c->hl, "en");
    c->title = s_dup(title);
    c->subs = 12300;
    return (int)scn->n_chans++;
}

void ytsim_scn_default(ytsim_scn_t *scn)
{
    s_scn_defaults(scn);
    scn->seed = 42;
    int a = s_add_channel(scn, "ryokoch", "Ryōko Ch. 涼子");
    int b = s_add_channel(scn, "cafemuller", "Café Müller Live");
    ytsim_stream_t *s;
    s = s_add_stream(scn, a, "【歌枠】Singing stream ♪ / karaoke #1");
    s->has_sched = true;
    s->sched = 20;
    s->has_start = true;
    s->start = 25;
    s->duration = 90;
    s->rate = 3;
    s->replay_miss = 0.05;
    s = s_add_stream(scn, a, "Yesterday's stream: Minecraft survival");
    s->has_sched = true;
    s->sched = -7300;
    s->has_start = true;
    s->start = -7200;
    s->duration = 3600;
    s->announce = -8000;
    s->rate = 0.5;
    s->replay_miss = 0.02;
    s->views0 = 5000;
    s = s_add_stream(scn, a, "Upcoming: Q&A <special> & \"friends\"");
    s->has_sched = true;
    s->sched = 600;
    s->has_resched = true;
    s->resched_at = 30;
    s->resched_to = 900;
    s->has_start = true;
    s->start = 905;
    s->duration = 600;
    s = s_add_stream(scn, a, "Members only chat");
    s->has_sched = true;
    s->sched = 10;
    s->has_start = true;
    s->start = 10;
    s->duration = 300;
    s->members_only = true;
    s = s_add_stream(scn, b, "Live from the café – unscheduled");
    s->has_start = true;
    s->start = 5;
    s->duration = 200;
    s->rate = 5;
    s->likes_hidden = true;
    s->comments_disabled = true;
    s->announce = 5;
    s = s_add_stream(scn, b, "Private rehearsal");
    s->has_sched = true;
    s->sched = 100;
    s->is_private = true;
    s = s_add_stream(scn, b, "Deleted stream");
    s->has_sched = true;
    s->sched = 30;
    s->has_start = true;
    s->start = 30;
    s->duration = 100;
    s->has_deleted = true;
    s->deleted_at = 60;
    s = s_add_stream(scn, b, "Chat disabled broadcast");
    s->has_start = true;
    s->has_sched = true;
    s->sched = 0;
    s->start = 0;
    s->duration = 400;
    s->chat_disabled = true;
    scn->n_refresh_tokens = 1;
    scn->refresh_tokens = calloc(1, sizeof(char *));
    if (!scn->refresh_tokens) {
        abort();
    }
    scn->refresh_tokens[0] = s_dup("1//ytsim-refresh-token");
    scn->n_tg_chats = 2;
    scn->tg_chats = calloc(2, sizeof(int64_t));
    if (!scn->tg_chats) {
        abort();
    }
    scn->tg_chats[0] = 664743441;
    scn->tg_chats[1] = -1001234567890;
}

/* ---- TOML loader ------------------------------------------------------ */

static tw_rc_t s_type_err(const tw_toml_t *v, const char *key, const char *want,
                          tw_err_t *err)
{
    int line = 0, col = 0;
    tw_toml_pos(v, &line, &col);
    tw_err_setpos(err, line, col, "%s: expected %s, got %s", key, want,
                  tw_toml_type_name(tw_toml_type(v)));
    return TW_ERR_CONFIG;
}

static tw_rc_t s_num(const tw_toml_t *t, const char *key, double *out,
                     bool *found, tw_err_t *err)
{
    const tw_toml_t *v = tw_toml_get(t, key);
    if (found) {
        *found = v != NULL;
    }
    if (!v) {
        return TW_OK;
    }
    if (tw_toml_type(v) == TW_TOML_INTEGER) {
        *out = (double)tw_toml_int(v);
    } else if (tw_toml_type(v) == TW_TOML_FLOAT) {
        *out = tw_toml_float(v);
    } else {
        return s_type_err(v, key, "a number", err);
    }
    return TW_OK;
}

static tw_rc_t s_bool(const tw_toml_t *t, const char *key, bool *out,
                      tw_err_t *err)
{
    const tw_toml_t *v = tw_toml_get(t, key);
    if (!v) {
        return TW_OK;
    }
    if (tw_toml_type(v) != TW_TOML_BOOL) {
        return s_type_err(v, key, "a boolean", err);
    }
    *out = tw_toml_bool(v);
    return TW_OK;
}

static tw_rc_t s_str(const tw_toml_t *t, const char *key, char **out,
                     tw_err_t *err)
{
    const tw_toml_t *v = tw_toml_get(t, key);
    if (!v) {
        return TW_OK;
    }
    if (tw_toml_type(v) != TW_TOML_STRING) {
        return s_type_err(v, key, "a string", err);
    }
    free(*out);
    *out = s_dup(tw_toml_str(v));
    return TW_OK;
}

static tw_rc_t s_strbuf(const tw_toml_t *t, const char *key, char *out,
                        size_t cap, tw_err_t *err)
{
    const tw_toml_t *v = tw_toml_get(t, key);
    if (!v) {
        return TW_OK;
    }
    if (tw_toml_type(v) != TW_TOML_STRING) {
        return s_type_err(v, key, "a string", err);
    }
    if (tw_toml_str_len(v) >= cap) {
        int line = 0, col = 0;
        tw_toml_pos(v, &line, &col);
        tw_err_setpos(err, line, col, "%s: too long", key);
        return TW_ERR_CONFIG;
    }
    snprintf(out, cap, "%s", tw_toml_str(v));
    return TW_OK;
}

#define S_TRY(x)                                                               \
    do {                                                                       \
        rc = (x);                                                              \
        if (rc != TW_OK) {                                                     \
            return rc;                                                         \
        }                                                                      \
    } while (0)

static tw_rc_t s_mix(const tw_toml_t *t, ytsim_mix_t *m, tw_err_t *err)
{
    const tw_toml_t *v = tw_toml_get(t, "mix");
    tw_rc_t rc;
    if (!v) {
        return TW_OK;
    }
    if (tw_toml_type(v) != TW_TOML_TABLE) {
        return s_type_err(v, "mix", "a table", err);
    }
    ytsim_mix_t z = {0};
    S_TRY(s_num(v, "text", &z.text, NULL, err));
    S_TRY(s_num(v, "superchat", &z.superchat, NULL, err));
    S_TRY(s_num(v, "sticker", &z.sticker, NULL, err));
    S_TRY(s_num(v, "membership", &z.membership, NULL, err));
    S_TRY(s_num(v, "gift", &z.gift, NULL, err));
    S_TRY(s_num(v, "jewels", &z.jewels, NULL, err));
    S_TRY(s_num(v, "other", &z.other, NULL, err));
    S_TRY(s_num(v, "deletion", &z.deletion, NULL, err));
    S_TRY(s_num(v, "ban", &z.ban, NULL, err));
    *m = z;
    return TW_OK;
}

/* Reads the per-stream keys of t into s (used for [defaults] too). */
static tw_rc_t s_stream_keys(const tw_toml_t *t, ytsim_stream_t *s,
                             tw_err_t *err)
{
    tw_rc_t rc;
    double d;
    bool f;
    S_TRY(s_strbuf(t, "id", s->id, sizeof s->id, err));
    S_TRY(s_str(t, "title", &s->title, err));
    S_TRY(s_num(t, "announce", &s->announce, NULL, err));
    S_TRY(s_num(t, "scheduled", &d, &f, err));
    if (f) {
        s->has_sched = true;
        s->sched = d;
    }
    S_TRY(s_num(t, "rescheduled_to", &d, &f, err));
    if (f) {
        s->has_resched = true;
        s->resched_to = d;
    }
    S_TRY(s_num(t, "rescheduled_at", &s->resched_at, NULL, err));
    S_TRY(s_num(t, "start", &d, &f, err));
    if (f) {
        s->has_start = true;
        s->start = d;
    }
    S_TRY(s_num(t, "duration", &s->duration, NULL, err));
    bool unsched = false;
    S_TRY(s_bool(t, "unscheduled", &unsched, err));
    if (unsched) {
        s->has_sched = false;
    }
    S_TRY(s_bool(t, "members_only", &s->members_only, err));
    S_TRY(s_bool(t, "private", &s->is_private, err));
    S_TRY(s_num(t, "deleted_at", &d, &f, err));
    if (f) {
        s->has_deleted = true;
        s->deleted_at = d;
    }
    bool del = false;
    S_TRY(s_bool(t, "deleted", &del, err));
    if (del && !s->has_deleted) {
        s->has_deleted = true;
        s->deleted_at = -1e9;
    }
    S_TRY(s_bool(t, "chat_disabled", &s->chat_disabled, err));
    S_TRY(s_num(t, "rate", &s->rate, NULL, err));
    S_TRY(s_mix(t, &s->mix, err));
    S_TRY(s_num(t, "replay_miss", &s->replay_miss, NULL, err));
    S_TRY(s_num(t, "authors", &d, &f, err));
    if (f) {
        s->n_authors = d < 1 ? 1 : (uint32_t)d;
    }
    S_TRY(s_num(t, "backlog", &d, &f, err));
    if (f) {
        s->backlog = d < 0 ? 0 : (uint32_t)d;
    }
    S_TRY(s_num(t, "max_actions", &d, &f, err));
    if (f) {
        s->max_actions = d < 1 ? 1 : (uint32_t)d;
    }
    S_TRY(s_num(t, "timeout_ms", &d, &f, err));
    if (f) {
        s->timeout_ms = (int)d;
    }
    S_TRY(s_num(t, "views", &d, &f, err));
    if (f) {
        s->views0 = (uint64_t)d;
    }
    S_TRY(s_num(t, "views_per_s", &s->views_per_s, NULL, err));
    S_TRY(s_num(t, "like_ratio", &s->like_ratio, NULL, err));
    S_TRY(s_bool(t, "likes_hidden", &s->likes_hidden, err));
    S_TRY(s_num(t, "comment_ratio", &s->comment_ratio, NULL, err));
    S_TRY(s_bool(t, "comments_disabled", &s->comments_disabled, err));
    S_TRY(s_num(t, "viewers_peak", &d, &f, err));
    if (f) {
        s->viewers_peak = (uint64_t)d;
    }
    const tw_toml_t *cv = tw_toml_get(t, "viewers_curve");
    if (cv) {
        size_t n = tw_toml_type(cv) == TW_TOML_ARRAY ? tw_toml_len(cv) : 0;
        double *c = calloc(2 * n + 2, sizeof *c);
        if (!c) {
            abort();
        }
        for (size_t i = 0; i < n; i++) {
            const tw_toml_t *pr = tw_toml_at(cv, i);
            double pv[2];
            bool ok = tw_toml_type(pr) == TW_TOML_ARRAY && tw_toml_len(pr) == 2;
            for (size_t k = 0; ok && k < 2; k++) {
                const tw_toml_t *e = tw_toml_at(pr, k);
                if (tw_toml_type(e) == TW_TOML_INTEGER) {
                    pv[k] = (double)tw_toml_int(e);
                } else if (tw_toml_type(e) == TW_TOML_FLOAT) {
                    pv[k] = tw_toml_float(e);
                } else {
                    ok = false;
                }
            }
            if (!ok || (i > 0 && pv[0] <= c[2 * i - 2]) || pv[1] < 0) {
                free(c);
                return s_type_err(pr, "viewers_curve",
                                  "[seconds, viewers] pairs with increasing "
                                  "seconds",
                                  err);
            }
            c[2 * i] = pv[0];
            c[2 * i + 1] = pv[1];
        }
        if (tw_toml_type(cv) != TW_TOML_ARRAY || n == 0) {
            free(c);
            return s_type_err(cv, "viewers_curve", "a non-empty array", err);
        }
        free(s->curve);
        s->curve = c;
        s->n_curve = n;
    }
    return TW_OK;
}

static ytsim_fault_kind_t s_fault_kind(const char *k, bool *ok)
{
    static const struct {
        const char *name;
        ytsim_fault_kind_t kind;
    } tab[] = {{"5xx", YTSIM_F_5XX},          {"429", YTSIM_F_429},
               {"slow", YTSIM_F_SLOW},        {"truncate", YTSIM_F_TRUNCATE},
               {"reset", YTSIM_F_RESET},      {"malformed", YTSIM_F_MALFORMED},
               {"outage", YTSIM_F_OUTAGE},    {"quota", YTSIM_F_QUOTA},
               {"nocont", YTSIM_F_NOCONT},    {"reload", YTSIM_F_RELOAD},
               {"feed_outage", YTSIM_F_FEED}, {"huge", YTSIM_F_HUGE}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (strcmp(tab[i].name, k) == 0) {
            *ok = true;
            return tab[i].kind;
        }
    }
    *ok = false;
    return YTSIM_F_5XX;
}

static tw_rc_t s_load_faults(ytsim_scn_t *scn, const tw_toml_t *arr,
                             tw_err_t *err)
{
    tw_rc_t rc;
    if (tw_toml_type(arr) != TW_TOML_ARRAY) {
        return s_type_err(arr, "fault", "an array of tables", err);
    }
    size_t n = tw_toml_len(arr);
    scn->faults = calloc(n ? n : 1, sizeof *scn->faults);
    if (!scn->faults) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        const tw_toml_t *t = tw_toml_at(arr, i);
        if (tw_toml_type(t) != TW_TOML_TABLE) {
            return s_type_err(t, "fault", "a table", err);
        }
        ytsim_fault_t *f = &scn->faults[scn->n_faults++];
        snprintf(f->endpoint, sizeof f->endpoint, "*");
        f->from = -1e18;
        f->to = 1e18;
        f->share = 1.0;
        f->status = 503;
        f->retry_after = 5;
        f->delay_ms = 2000;
        f->size_mb = 100;
        S_TRY(s_strbuf(t, "endpoint", f->endpoint, sizeof f->endpoint, err));
        S_TRY(s_num(t, "from", &f->from, NULL, err));
        S_TRY(s_num(t, "to", &f->to, NULL, err));
        S_TRY(s_num(t, "share", &f->share, NULL, err));
        double d;
        bool found;
        S_TRY(s_num(t, "status", &d, &found, err));
        if (found) {
            f->status = (int)d;
        }
        S_TRY(s_num(t, "retry_after", &d, &found, err));
        if (found) {
            f->retry_after = (int)d;
        }
        S_TRY(s_num(t, "delay_ms", &d, &found, err));
        if (found) {
            f->delay_ms = (int)d;
        }
        S_TRY(s_num(t, "size_mb", &d, &found, err));
        if (found) {
            f->size_mb = (int)d;
        }
        S_TRY(s_strbuf(t, "channel", f->channel, sizeof f->channel, err));
        char kind[32] = "5xx";
        S_TRY(s_strbuf(t, "kind", kind, sizeof kind, err));
        bool ok;
        f->kind = s_fault_kind(kind, &ok);
        if (ok && f->kind == YTSIM_F_FEED && !tw_toml_get(t, "status")) {
            f->status = 404;
        }
        if (!ok) {
            int line = 0, col = 0;
            tw_toml_pos(t, &line, &col);
            tw_err_setpos(err, line, col,
                          "fault.kind: unknown kind \"%s\" (5xx, 429, slow, "
                          "truncate, reset, malformed, outage, quota, "
                          "nocont, reload, feed_outage, huge)",
                          kind);
            return TW_ERR_CONFIG;
        }
    }
    return TW_OK;
}

/* Reads an optional array of integers. */
static tw_rc_t s_int_list(const tw_toml_t *t, const char *key, int64_t **out,
                          size_t *n, tw_err_t *err)
{
    const tw_toml_t *v = tw_toml_get(t, key);
    if (!v) {
        return TW_OK;
    }
    if (tw_toml_type(v) != TW_TOML_ARRAY) {
        return s_type_err(v, key, "an array of integers", err);
    }
    int64_t *a = calloc(tw_toml_len(v) + 1, sizeof *a);
    if (!a) {
        abort();
    }
    for (size_t i = 0; i < tw_toml_len(v); i++) {
        const tw_toml_t *e = tw_toml_at(v, i);
        if (tw_toml_type(e) != TW_TOML_INTEGER) {
            free(a);
            return s_type_err(e, key, "integers", err);
        }
        a[i] = tw_toml_int(e);
    }
    free(*out);
    *out = a;
    *n = tw_toml_len(v);
    return TW_OK;
}

static tw_rc_t s_load_doc(ytsim_scn_t *scn, const tw_toml_t *root,
                          tw_err_t *err)
{
    tw_rc_t rc;
    double d;
    bool f;
    S_TRY(s_num(root, "seed", &d, &f, err));
    if (f) {
        scn->seed = (uint64_t)(int64_t)d;
    }
    const tw_toml_t *ep = tw_toml_get(root, "epoch");
    if (ep) {
        tw_toml_type_t ty = tw_toml_type(ep);
        if (ty == TW_TOML_STRING && strcmp(tw_toml_str(ep), "now") == 0) {
            scn->epoch_now = true;
        } else if (ty == TW_TOML_INTEGER) {
            scn->epoch_now = false;
            scn->epoch_usec = tw_toml_int(ep) * 1000000;
        } else if (ty == TW_TOML_DATETIME) {
            const tw_toml_datetime_t *dt = tw_toml_datetime(ep);
            struct tm tm = {0};
            tm.tm_year = dt->year - 1900;
            tm.tm_mon = dt->month - 1;
            tm.tm_mday = dt->day;
            tm.tm_hour = dt->hour;
            tm.tm_min = dt->minute;
            tm.tm_sec = dt->second;
            scn->epoch_now = false;
            scn->epoch_usec =
                ((int64_t)timegm(&tm) - (int64_t)dt->offset_min * 60) * 1000000;
        } else {
            return s_type_err(ep, "epoch",
                              "\"now\", unix seconds or a date-time", err);
        }
    }
    S_TRY(s_str(root, "api_key", &scn->api_key, err));
    S_TRY(s_num(root, "quota_per_day", &d, &f, err));
    if (f) {
        scn->quota_per_day = (int64_t)d;
    }
    S_TRY(s_bool(root, "truth_chat", &scn->truth_chat, err));
    S_TRY(s_bool(root, "consent", &scn->consent, err));
    const tw_toml_t *era = tw_toml_get(root, "era");
    if (era) {
        if (tw_toml_type(era) != TW_TOML_STRING ||
            (strcmp(tw_toml_str(era), "2022") != 0 &&
             strcmp(tw_toml_str(era), "2026") != 0)) {
            return s_type_err(era, "era", "\"2022\" or \"2026\"", err);
        }
        scn->era = atoi(tw_toml_str(era));
    }

    ytsim_stream_t defs;
    s_stream_defaults(&defs);
    const tw_toml_t *dt = tw_toml_get(root, "defaults");
    if (dt) {
        S_TRY(s_stream_keys(dt, &defs, err));
    }
    free(defs.title);
    defs.title = NULL;
    free(defs.curve); /* viewers_curve is per stream only */
    defs.curve = NULL;
    defs.n_curve = 0;
    defs.id[0] = '\0';
    defs.has_sched = defs.has_start = defs.has_resched = false;
    defs.has_deleted = false;

    const tw_toml_t *chans = tw_toml_get(root, "channel");
    if (chans && tw_toml_type(chans) != TW_TOML_ARRAY) {
        return s_type_err(chans, "channel", "an array of tables", err);
    }
    for (size_t i = 0; chans && i < tw_toml_len(chans); i++) {
        const tw_toml_t *c = tw_toml_at(chans, i);
        if (tw_toml_type(c) != TW_TOML_TABLE) {
            return s_type_err(c, "channel", "a table", err);
        }
        char handle[64] = "", title[256] = "";
        snprintf(handle, sizeof handle, "channel%zu", i + 1);
        S_TRY(s_strbuf(c, "handle", handle, sizeof handle, err));
        snprintf(title, sizeof title, "Channel %zu", i + 1);
        S_TRY(s_strbuf(c, "title", title, sizeof title, err));
        int ci =
            s_add_channel(scn, handle[0] == '@' ? handle + 1 : handle, title);
        S_TRY(s_strbuf(c, "id", scn->chans[ci].id, sizeof scn->chans[ci].id,
                       err));
        S_TRY(s_num(c, "subscribers", &d, &f, err));
        if (f) {
            scn->chans[ci].subs = (uint64_t)d;
        }
        char hl[8] = "en", form[16] = "";
        S_TRY(s_strbuf(c, "hl", hl, sizeof hl, err));
        S_TRY(s_strbuf(c, "streams_form", form, sizeof form, err));
        if ((strcmp(hl, "en") != 0 && strcmp(hl, "de") != 0) ||
            (form[0] && strcmp(form, "lockup") != 0 &&
             strcmp(form, "video") != 0)) {
            int line = 0, col = 0;
            tw_toml_pos(c, &line, &col);
            tw_err_setpos(err, line, col,
                          "channel: hl must be \"en\" or \"de\", "
                          "streams_form \"lockup\" or \"video\"");
            return TW_ERR_CONFIG;
        }
        memcpy(scn->chans[ci].hl, hl, 3); /* "en" or "de", checked */
        scn->chans[ci].streams_form =
            form[0] == '\0' ? 0 : (strcmp(form, "lockup") == 0 ? 1 : 2);
        const tw_toml_t *ss = tw_toml_get(c, "stream");
        if (ss && tw_toml_type(ss) != TW_TOML_ARRAY) {
            return s_type_err(ss, "stream", "an array of tables", err);
        }
        for (size_t j = 0; ss && j < tw_toml_len(ss); j++) {
            const tw_toml_t *st = tw_toml_at(ss, j);
            if (tw_toml_type(st) != TW_TOML_TABLE) {
                return s_type_err(st, "stream", "a table", err);
            }
            ytsim_stream_t *s = s_add_stream(scn, ci, "");
            char *title_keep = s->title;
            *s = defs;
            s->chan = ci;
            s->title = title_keep;
            snprintf(title, sizeof title, "%s stream %zu", scn->chans[ci].title,
                     j + 1);
            free(s->title);
            s->title = s_dup(title);
            S_TRY(s_stream_keys(st, s, err));
            if (!s->has_sched && !s->has_start) {
                int line = 0, col = 0;
                tw_toml_pos(st, &line, &col);
                tw_err_setpos(err, line, col,
                              "stream needs scheduled and/or start");
                return TW_ERR_CONFIG;
            }
            if (!tw_toml_get(st, "announce")) {
                s->announce = s->has_sched ? (s->sched < 0 ? s->sched - 600 : 0)
                                           : s->start;
            }
        }
    }
    const tw_toml_t *fa = tw_toml_get(root, "fault");
    if (fa) {
        S_TRY(s_load_faults(scn, fa, err));
    }
    const tw_toml_t *tg = tw_toml_get(root, "telegram");
    if (tg) {
        S_TRY(s_str(tg, "token", &scn->tg_token, err));
        S_TRY(s_str(tg, "username", &scn->tg_username, err));
        S_TRY(s_num(tg, "per_chat_per_s", &scn->tg_chat_per_s, NULL, err));
        S_TRY(s_num(tg, "global_per_s", &scn->tg_global_per_s, NULL, err));
        const tw_toml_t *ch = tw_toml_get(tg, "chats");
        if (ch) {
            if (tw_toml_type(ch) != TW_TOML_ARRAY) {
                return s_type_err(ch, "chats", "an array", err);
            }
            free(scn->tg_chats);
            scn->n_tg_chats = tw_toml_len(ch);
            scn->tg_chats = calloc(scn->n_tg_chats + 1, sizeof(int64_t));
            if (!scn->tg_chats) {
                abort();
            }
            for (size_t i = 0; i < scn->n_tg_chats; i++) {
                const tw_toml_t *v = tw_toml_at(ch, i);
                if (tw_toml_type(v) != TW_TOML_INTEGER) {
                    return s_type_err(v, "chats", "integers", err);
                }
                scn->tg_chats[i] = tw_toml_int(v);
            }
        }
    }
    if (tg) {
        S_TRY(s_int_list(tg, "blocked", &scn->tg_blocked, &scn->n_tg_blocked,
                         err));
        int64_t *mig = NULL;
        size_t nmig = 0;
        const tw_toml_t *m = tw_toml_get(tg, "migrated");
        if (m && tw_toml_type(m) == TW_TOML_ARRAY) {
            mig = calloc(2 * tw_toml_len(m) + 1, sizeof *mig);
            if (!mig) {
                abort();
            }
            for (size_t i = 0; i < tw_toml_len(m); i++) {
                const tw_toml_t *pr = tw_toml_at(m, i);
                if (tw_toml_type(pr) != TW_TOML_ARRAY || tw_toml_len(pr) != 2 ||
                    tw_toml_type(tw_toml_at(pr, 0)) != TW_TOML_INTEGER ||
                    tw_toml_type(tw_toml_at(pr, 1)) != TW_TOML_INTEGER) {
                    free(mig);
                    return s_type_err(pr, "migrated",
                                      "[group id, supergroup id] pairs", err);
                }
                mig[2 * nmig] = tw_toml_int(tw_toml_at(pr, 0));
                mig[2 * nmig + 1] = tw_toml_int(tw_toml_at(pr, 1));
                nmig++;
            }
        } else if (m) {
            return s_type_err(m, "migrated", "an array", err);
        }
        scn->tg_migrated = mig;
        scn->n_tg_migrated = nmig;
    }
    const tw_toml_t *oa = tw_toml_get(root, "oauth");
    if (oa) {
        S_TRY(s_str(oa, "client_id", &scn->client_id, err));
        S_TRY(s_str(oa, "client_secret", &scn->client_secret, err));
        S_TRY(s_str(oa, "service_account", &scn->sa_email, err));
        S_TRY(s_str(oa, "public_key", &scn->sa_pubkey, err));
        S_TRY(s_num(oa, "token_ttl", &d, &f, err));
        if (f) {
            scn->token_ttl = (int)d;
        }
        S_TRY(s_num(oa, "device_polls", &d, &f, err));
        if (f) {
            scn->device_polls = (int)d;
        }
        const tw_toml_t *rt = tw_toml_get(oa, "refresh_tokens");
        if (rt) {
            if (tw_toml_type(rt) != TW_TOML_ARRAY) {
                return s_type_err(rt, "refresh_tokens", "an array", err);
            }
            for (size_t i = 0; i < scn->n_refresh_tokens; i++) {
                free(scn->refresh_tokens[i]);
            }
            free(scn->refresh_tokens);
            scn->n_refresh_tokens = tw_toml_len(rt);
            scn->refresh_tokens =
                calloc(scn->n_refresh_tokens + 1, sizeof(char *));
            if (!scn->refresh_tokens) {
                abort();
            }
            for (size_t i = 0; i < scn->n_refresh_tokens; i++) {
                const tw_toml_t *v = tw_toml_at(rt, i);
                if (tw_toml_type(v) != TW_TOML_STRING) {
                    scn->n_refresh_tokens = i;
                    return s_type_err(v, "refresh_tokens", "strings", err);
                }
                scn->refresh_tokens[i] = s_dup(tw_toml_str(v));
            }
        }
    }
    const tw_toml_t *dr = tw_toml_get(root, "drive");
    if (dr) {
        S_TRY(s_str(dr, "root", &scn->drive_root, err));
        S_TRY(s_num(dr, "session_ttl", &d, &f, err));
        if (f) {
            scn->session_ttl = (int)d;
        }
    }
    const tw_toml_t *rg = tw_toml_get(root, "registry");
    if (rg) {
        S_TRY(s_str(rg, "username", &scn->reg_user, err));
        S_TRY(s_str(rg, "password", &scn->reg_password, err));
        S_TRY(s_bool(rg, "preload_ksql", &scn->reg_ksql, err));
        S_TRY(s_str(rg, "ksql_subject", &scn->reg_ksql_subject, err));
        S_TRY(s_num(rg, "first_id", &d, &f, err));
        if (f) {
            if (d < 1 || d > 2147483647.0) {
                return s_type_err(tw_toml_get(rg, "first_id"), "first_id",
                                  "an id of 1..2147483647", err);
            }
            scn->reg_first_id = (int64_t)d;
        }
    }
    const tw_toml_t *ld = tw_toml_get(root, "load");
    if (ld) {
        S_TRY(s_num(ld, "streams", &d, &f, err));
        if (f) {
            scn->load_streams = d < 0 ? 0 : (uint32_t)d;
        }
        S_TRY(s_num(ld, "rate", &scn->load_rate, NULL, err));
    }
    return TW_OK;
}

tw_rc_t ytsim_scn_load(ytsim_scn_t *scn, const char *path, tw_err_t *err)
{
    s_scn_defaults(scn);
    tw_toml_t *root = tw_toml_parse_file(path, err);
    if (!root) {
        return TW_ERR_PARSE;
    }
    tw_rc_t rc = s_load_doc(scn, root, err);
    tw_toml_destroy(&root);
    return rc;
}

/* Video ids end in one of 16 characters, channel ids in one of 4. */
static void s_make_id(uint64_t h, char *out, size_t n, const char *last)
{
    ytsim_rng_t r = {h};
    ytsim_rng_id(&r, out, n);
    out[n - 1] = last[ytsim_rng_next(&r) % strlen(last)];
}

static void s_chat_id(ytsim_scn_t *scn, ytsim_stream_t *s)
{
    /* activeLiveChatId: base64 of a small protobuf naming video and
     * channel, like the real ones. */
    unsigned char p[80];
    size_t n = 0;
    const char *cid = scn->chans[s->chan].id;
    p[n++] = 0x0a;
    p[n++] = 0x0d;
    p[n++] = 0x0a;
    p[n++] = 0x0b;
    memcpy(p + n, s->id, 11);
    n += 11;
    p[n++] = 0x2a;
    p[n++] = 0x27;
    p[n++] = 0x0a;
    p[n++] = 0x18;
    memcpy(p + n, cid, 24);
    n += 24;
    p[n++] = 0x12;
    p[n++] = 0x0b;
    memcpy(p + n, s->id, 11);
    n += 11;
    ytsim_buf_t b = {0};
    ytsim_buf_b64(&b, p, n, true, false);
    snprintf(s->chat_id, sizeof s->chat_id, "%s", b.p);
    ytsim_buf_free(&b);
}

static bool s_valid_id(const char *id, size_t n)
{
    if (strlen(id) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

tw_rc_t ytsim_scn_finish(ytsim_scn_t *scn, tw_err_t *err)
{
    if (scn->load_streams > 0) {
        int ci = s_add_channel(scn, "loadtest", "Load test channel");
        for (uint32_t i = 0; i < scn->load_streams; i++) {
            char title[64];
            snprintf(title, sizeof title, "Load stream %u", i + 1);
            ytsim_stream_t *s = s_add_stream(scn, ci, title);
            s->has_sched = true;
            s->sched = 0;
            s->has_start = true;
            s->start = 0;
            s->duration = 86400;
            s->load = true;
            s->rate = scn->load_rate;
            s->backlog = 0;
            s->max_actions = 100000;
            s->timeout_ms = 1000;
            s->mix = (ytsim_mix_t){.text = 0.95,
                                   .superchat = 0.02,
                                   .sticker = 0.01,
                                   .membership = 0.02};
        }
    }
    for (size_t i = 0; i < scn->n_chans; i++) {
        ytsim_channel_t *c = &scn->chans[i];
        if (c->id[0] == '\0') {
            char tail[23];
            s_make_id(ytsim_hash3(scn->seed, 0xc4a, i), tail, 22, "AQgw");
            snprintf(c->id, sizeof c->id, "UC%s", tail);
        } else if (strncmp(c->id, "UC", 2) != 0 || !s_valid_id(c->id, 24)) {
            tw_err_set(err, "channel %zu: id \"%s\" is not UC + 22 chars", i,
                       c->id);
            return TW_ERR_CONFIG;
        }
    }
    for (size_t i = 0; i < scn->n_streams; i++) {
        ytsim_stream_t *s = &scn->streams[i];
        if (s->id[0] == '\0') {
            s_make_id(ytsim_hash3(scn->seed, 0x51d, i), s->id, 11,
                      "AEIMQUYcgkosw048");
        } else if (!s_valid_id(s->id, 11)) {
            tw_err_set(err, "stream %zu: id \"%s\" is not 11 id chars", i,
                       s->id);
            return TW_ERR_CONFIG;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(scn->streams[j].id, s->id) == 0) {
                tw_err_set(err, "stream id %s used twice", s->id);
                return TW_ERR_CONFIG;
            }
        }
        if (s->rate < 0 || s->duration < 0 || s->replay_miss < 0 ||
            s->replay_miss > 1) {
            tw_err_set(err,
                       "stream %s: negative rate/duration or "
                       "replay_miss outside 0..1",
                       s->id);
            return TW_ERR_CONFIG;
        }
        if (!s->has_sched && s->announce == 0 && s->has_start) {
            s->announce = s->start;
        }
        s->era = scn->era;
        ytsim_mix_t *m = &s->mix;
        if (s->era < 2026) {
            m->jewels = 0; /* Jewels came in 2025 */
        }
        double sum = m->text + m->superchat + m->sticker + m->membership +
                     m->gift + m->jewels + m->other + m->deletion + m->ban;
        if (sum <= 0) {
            *m = (ytsim_mix_t){.text = 1};
            sum = 1;
        }
        m->text /= sum;
        m->superchat /= sum;
        m->sticker /= sum;
        m->membership /= sum;
        m->gift /= sum;
        m->jewels /= sum;
        m->other /= sum;
        m->deletion /= sum;
        m->ban /= sum;
        s->vh = ytsim_hash3(scn->seed, ytsim_strhash(s->id), 0x5eed);
        s_chat_id(scn, s);
        pthread_mutex_init(&s->mu, NULL);
    }
    return TW_OK;
}

void ytsim_scn_free(ytsim_scn_t *scn)
{
    for (size_t i = 0; i < scn->n_chans; i++) {
        free(scn->chans[i].title);
    }
    free(scn->chans);
    for (size_t i = 0; i < scn->n_streams; i++) {
        free(scn->streams[i].title);
        free(scn->streams[i].served);
        free(scn->streams[i].served_api);
        free(scn->streams[i].curve);
    }
    free(scn->streams);
    free(scn->faults);
    free(scn->api_key);
    free(scn->tg_token);
    free(scn->tg_chats);
    free(scn->tg_blocked);
    free(scn->tg_migrated);
    free(scn->tg_username);
    free(scn->client_id);
    free(scn->client_secret);
    for (size_t i = 0; i < scn->n_refresh_tokens; i++) {
        free(scn->refresh_tokens[i]);
    }
    free(scn->refresh_tokens);
    free(scn->sa_email);
    free(scn->sa_pubkey);
    free(scn->drive_root);
    free(scn->reg_user);
    free(scn->reg_password);
    free(scn->reg_ksql_subject);
    memset(scn, 0, sizeof *scn);
}

ytsim_state_t ytsim_stream_state(const ytsim_stream_t *s, double t)
{
    if (t < s->announce) {
        return YTSIM_ST_HIDDEN;
    }
    if (s->has_deleted && t >= s->deleted_at) {
        return YTSIM_ST_DELETED;
    }
    if (s->has_start && t >= s->start) {
        return t < s->start + s->duration ? YTSIM_ST_LIVE : YTSIM_ST_ENDED;
    }
    return s->has_sched ? YTSIM_ST_UPCOMING : YTSIM_ST_HIDDEN;
}

double ytsim_stream_sched(const ytsim_stream_t *s, double t)
{
    if (s->has_resched && t >= s->resched_at) {
        return s->resched_to;
    }
    return s->sched;
}

void ytsim_stream_stats(const ytsim_scn_t *scn, const ytsim_stream_t *s,
                        double t, ytsim_stats_t *out)
{
    (void)scn;
    double live = 0;
    if (s->has_start && t > s->start) {
        live = t - s->start;
        if (live > s->duration) {
            live = s->duration;
        }
    }
    double views = (double)s->views0 + s->views_per_s * live;
    out->views = (uint64_t)views;
    out->likes = (uint64_t)(views * s->like_ratio);
    out->comments = (uint64_t)(views * s->comment_ratio);
    out->viewers = 0;
    ytsim_state_t st = ytsim_stream_state(s, t);
    if (st == YTSIM_ST_LIVE && s->n_curve > 0) {
        /* piecewise linear through the given points, flat outside them */
        const double *c = s->curve;
        double v = c[1];
        for (size_t i = 0; i < s->n_curve; i++) {
            if (live >= c[2 * i]) {
                v = c[2 * i + 1];
            }
            if (i + 1 < s->n_curve && live >= c[2 * i] && live < c[2 * i + 2]) {
                double f = (live - c[2 * i]) / (c[2 * i + 2] - c[2 * i]);
                v = c[2 * i + 1] + f * (c[2 * i + 3] - c[2 * i + 1]);
                break;
            }
        }
        out->viewers = (uint64_t)llround(v);
    } else if (st == YTSIM_ST_LIVE) {
        double x = s->duration > 0 ? live / s->duration : 0;
        double shape =
            x < 0.1 ? 0.2 + 8 * x : (x > 0.9 ? 1 - 4 * (x - 0.9) : 1.0);
        double noise = ytsim_unit(ytsim_hash3(s->vh, (uint64_t)floor(t), 7));
        double v = (double)s->viewers_peak * shape * (0.95 + 0.1 * noise);
        out->viewers = (uint64_t)v;
    } else if (st == YTSIM_ST_UPCOMING) {
        out->viewers = s->viewers_peak / 10;
    }
}
