/* tw_ytapi - Data API v3 bodies read with tw_json. */
#include "tw_ytapi.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tw_id.h"
#include "tw_json.h"
#include "tw_strpool.h"

struct tw_ytapi {
    tw_json_t *json;           /* reused tape */
    tw_strpool_t pool;         /* owned strings */
    tw_ytapi_video_t *videos;  /* videos.list items */
    size_t nvideos;            /* in use */
    tw_ytapi_channel_t *chans; /* channels.list items */
    size_t nchans;             /* in use */
    tw_ytapi_entry_t *entries; /* playlist/search items */
    size_t nentries;           /* in use */
    const char *next_page;     /* nextPageToken or "" */
    tw_ytapi_error_t error;    /* error body */
    bool nomem;                /* an allocation failed */
};

tw_ytapi_t *tw_ytapi_new(void)
{
    tw_ytapi_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->json = tw_json_new();
    if (!self->json) {
        free(self);
        return NULL;
    }
    self->next_page = "";
    return self;
}

static void s_reset(tw_ytapi_t *self)
{
    tw_strpool_clear(&self->pool);
    free(self->videos);
    free(self->chans);
    free(self->entries);
    self->videos = NULL;
    self->chans = NULL;
    self->entries = NULL;
    self->nvideos = self->nchans = self->nentries = 0;
    self->next_page = "";
    self->nomem = false;
    self->error = (tw_ytapi_error_t){TW_YTAPI_REASON_NONE, "", "", "", "", 0};
}

void tw_ytapi_destroy(tw_ytapi_t **self_p)
{
    assert(self_p);
    tw_ytapi_t *self = *self_p;
    if (!self)
        return;
    s_reset(self);
    tw_strpool_fini(&self->pool);
    tw_json_destroy(&self->json);
    free(self);
    *self_p = NULL;
}

/* Copies string value v; "" when absent or not a string. */
static const char *s_str(tw_ytapi_t *self, tw_json_ref_t v)
{
    if (tw_json_type(self->json, v) != TW_JSON_STRING)
        return "";
    size_t n;
    const char *s = tw_json_str(self->json, v, &n);
    const char *c = tw_strpool_keep(&self->pool, s, n);
    if (!c) {
        self->nomem = true;
        return "";
    }
    return c;
}

static tw_ytapi_u64_t s_u64(const tw_json_t *j, tw_json_ref_t v)
{
    tw_ytapi_u64_t out = {false, 0};
    if (tw_json_u64(j, v, &out.value) == TW_OK)
        out.present = true;
    else
        out.value = 0;
    return out;
}

static const struct {
    const char *name;         /* reason text */
    tw_ytapi_reason_t reason; /* class */
} s_reasons[] = {
    {"quotaExceeded", TW_YTAPI_REASON_QUOTA_EXCEEDED},
    {"dailyLimitExceeded", TW_YTAPI_REASON_QUOTA_EXCEEDED},
    {"keyInvalid", TW_YTAPI_REASON_KEY_INVALID},
    {"keyExpired", TW_YTAPI_REASON_KEY_INVALID},
    {"rateLimitExceeded", TW_YTAPI_REASON_RATE_LIMIT},
    {"userRateLimitExceeded", TW_YTAPI_REASON_RATE_LIMIT},
    {"forbidden", TW_YTAPI_REASON_FORBIDDEN},
    {"insufficientPermissions", TW_YTAPI_REASON_FORBIDDEN},
    {"liveChatEnded", TW_YTAPI_REASON_CHAT_ENDED},
    {"liveChatNotFound", TW_YTAPI_REASON_CHAT_NOT_FOUND},
    {"liveChatDisabled", TW_YTAPI_REASON_CHAT_DISABLED},
    {"backendError", TW_YTAPI_REASON_BACKEND_ERROR},
    {"internalError", TW_YTAPI_REASON_BACKEND_ERROR},
};

tw_ytapi_reason_t tw_ytapi_reason_from_str(const char *s, size_t len)
{
    assert(s || len == 0);
    for (size_t i = 0; i < sizeof s_reasons / sizeof s_reasons[0]; i++)
        if (strlen(s_reasons[i].name) == len &&
            memcmp(s_reasons[i].name, s, len) == 0)
            return s_reasons[i].reason;
    return TW_YTAPI_REASON_OTHER;
}

const char *tw_ytapi_reason_str(tw_ytapi_reason_t reason)
{
    switch (reason) {
    case TW_YTAPI_REASON_NONE:
        return "none";
    case TW_YTAPI_REASON_QUOTA_EXCEEDED:
        return "quotaExceeded";
    case TW_YTAPI_REASON_KEY_INVALID:
        return "keyInvalid";
    case TW_YTAPI_REASON_RATE_LIMIT:
        return "rateLimitExceeded";
    case TW_YTAPI_REASON_FORBIDDEN:
        return "forbidden";
    case TW_YTAPI_REASON_CHAT_ENDED:
        return "liveChatEnded";
    case TW_YTAPI_REASON_CHAT_NOT_FOUND:
        return "liveChatNotFound";
    case TW_YTAPI_REASON_CHAT_DISABLED:
        return "liveChatDisabled";
    case TW_YTAPI_REASON_BACKEND_ERROR:
        return "backendError";
    case TW_YTAPI_REASON_OTHER:
        return "other";
    }
    return "?";
}

tw_rc_t tw_ytapi_reason_rc(tw_ytapi_reason_t reason)
{
    switch (reason) {
    case TW_YTAPI_REASON_NONE:
        return TW_OK;
    case TW_YTAPI_REASON_QUOTA_EXCEEDED:
        return TW_ERR_QUOTA;
    case TW_YTAPI_REASON_KEY_INVALID:
        return TW_ERR_CONFIG;
    case TW_YTAPI_REASON_RATE_LIMIT:
    case TW_YTAPI_REASON_BACKEND_ERROR:
        return TW_ERR_AGAIN;
    case TW_YTAPI_REASON_FORBIDDEN:
        return TW_ERR_AUTH;
    case TW_YTAPI_REASON_CHAT_ENDED:
        return TW_ERR_CLOSED;
    case TW_YTAPI_REASON_CHAT_NOT_FOUND:
        return TW_ERR_NOTFOUND;
    case TW_YTAPI_REASON_CHAT_DISABLED:
        return TW_ERR_STATE;
    case TW_YTAPI_REASON_OTHER:
        return TW_ERR_HTTP;
    }
    return TW_ERR_HTTP;
}

const char *tw_ytapi_state_str(tw_ytapi_state_t state)
{
    switch (state) {
    case TW_YTAPI_STATE_NONE:
        return "none";
    case TW_YTAPI_STATE_UPCOMING:
        return "upcoming";
    case TW_YTAPI_STATE_LIVE:
        return "live";
    case TW_YTAPI_STATE_ENDED:
        return "ended";
    }
    return "?";
}

/* Parses buf; fills self->error when the body is an error. Returns TW_OK for
 * a non-error document. */
static tw_rc_t s_begin(tw_ytapi_t *self, const char *buf, size_t len,
                       tw_err_t *err)
{
    s_reset(self);
    tw_rc_t rc = tw_json_parse(self->json, buf, len, err);
    if (rc != TW_OK)
        return rc;
    const tw_json_t *j = self->json;
    tw_json_ref_t root = tw_json_root(j);
    if (tw_json_type(j, root) != TW_JSON_OBJECT) {
        tw_err_set(err, "Data API response is not a JSON object");
        return TW_ERR_PROTO;
    }
    tw_json_ref_t e = tw_json_get(j, root, "error");
    if (!e)
        return TW_OK;
    tw_ytapi_error_t *out = &self->error;
    out->reason = TW_YTAPI_REASON_OTHER;
    if (tw_json_type(j, e) == TW_JSON_OBJECT) {
        int64_t code;
        if (tw_json_int64(j, tw_json_get(j, e, "code"), &code) == TW_OK &&
            code >= 0 && code < 1000)
            out->code = (int)code;
        out->message = s_str(self, tw_json_get(j, e, "message"));
        out->status = s_str(self, tw_json_get(j, e, "status"));
        tw_json_ref_t first = tw_json_at(j, tw_json_get(j, e, "errors"), 0);
        tw_json_ref_t reason = tw_json_get(j, first, "reason");
        out->reason_text = s_str(self, reason);
        out->domain = s_str(self, tw_json_get(j, first, "domain"));
        if (*out->reason_text)
            out->reason = tw_ytapi_reason_from_str(out->reason_text,
                                                   strlen(out->reason_text));
        else if (out->code >= 500)
            out->reason = TW_YTAPI_REASON_BACKEND_ERROR;
    } else if (tw_json_type(j, e) == TW_JSON_STRING) {
        /* OAuth-style {"error":"invalid_grant"}. */
        out->reason_text = s_str(self, e);
    }
    rc = tw_ytapi_reason_rc(out->reason);
    tw_err_set(err, "YouTube API error %d %s: %s", out->code,
               *out->reason_text ? out->reason_text : "(no reason)",
               out->message);
    return rc;
}

static tw_rc_t s_end(tw_ytapi_t *self, tw_err_t *err)
{
    if (self->nomem) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    return TW_OK;
}

static tw_json_ref_t s_items(tw_ytapi_t *self, size_t *n)
{
    tw_json_ref_t root = tw_json_root(self->json);
    tw_json_ref_t items = tw_json_get(self->json, root, "items");
    self->next_page =
        s_str(self, tw_json_get(self->json, root, "nextPageToken"));
    *n = tw_json_count(self->json, items);
    if (tw_json_type(self->json, items) != TW_JSON_ARRAY)
        *n = 0;
    return items;
}

tw_rc_t tw_ytapi_parse_videos(tw_ytapi_t *self, const char *buf, size_t len,
                              tw_err_t *err)
{
    assert(self);
    tw_rc_t rc = s_begin(self, buf, len, err);
    if (rc != TW_OK)
        return rc;
    const tw_json_t *j = self->json;
    size_t n;
    tw_json_ref_t items = s_items(self, &n);
    self->videos = calloc(n ? n : 1, sizeof *self->videos);
    if (!self->videos)
        return TW_ERR_NOMEM;
    for (tw_json_ref_t e = tw_json_first(j, items); e; e = tw_json_next(j, e)) {
        if (tw_json_type(j, e) != TW_JSON_OBJECT)
            continue;
        tw_ytapi_video_t *v = &self->videos[self->nvideos++];
        tw_json_ref_t sn = tw_json_get(j, e, "snippet");
        tw_json_ref_t ls = tw_json_get(j, e, "liveStreamingDetails");
        tw_json_ref_t st = tw_json_get(j, e, "statistics");
        v->id = s_str(self, tw_json_get(j, e, "id"));
        v->title = s_str(self, tw_json_get(j, sn, "title"));
        v->description = s_str(self, tw_json_get(j, sn, "description"));
        v->published_usec =
            tw_json_time_us(j, tw_json_get(j, sn, "publishedAt"));
        v->channel_id = s_str(self, tw_json_get(j, sn, "channelId"));
        v->broadcast_content =
            s_str(self, tw_json_get(j, sn, "liveBroadcastContent"));
        v->has_live_details = tw_json_type(j, ls) == TW_JSON_OBJECT;
        v->scheduled_start_usec =
            tw_json_time_us(j, tw_json_get(j, ls, "scheduledStartTime"));
        v->scheduled_end_usec =
            tw_json_time_us(j, tw_json_get(j, ls, "scheduledEndTime"));
        v->actual_start_usec =
            tw_json_time_us(j, tw_json_get(j, ls, "actualStartTime"));
        v->actual_end_usec =
            tw_json_time_us(j, tw_json_get(j, ls, "actualEndTime"));
        v->concurrent = s_u64(j, tw_json_get(j, ls, "concurrentViewers"));
        v->active_live_chat_id =
            s_str(self, tw_json_get(j, ls, "activeLiveChatId"));
        v->views = s_u64(j, tw_json_get(j, st, "viewCount"));
        v->likes = s_u64(j, tw_json_get(j, st, "likeCount"));
        v->comments = s_u64(j, tw_json_get(j, st, "commentCount"));
        v->favorites = s_u64(j, tw_json_get(j, st, "favoriteCount"));
        /* actualEndTime wins; then actualStartTime; then the snippet. */
        if (v->actual_end_usec)
            v->state = TW_YTAPI_STATE_ENDED;
        else if (v->actual_start_usec ||
                 strcmp(v->broadcast_content, "live") == 0)
            v->state = TW_YTAPI_STATE_LIVE;
        else if (strcmp(v->broadcast_content, "upcoming") == 0 ||
                 (v->has_live_details && v->scheduled_start_usec))
            v->state = TW_YTAPI_STATE_UPCOMING;
        else
            v->state = TW_YTAPI_STATE_NONE;
    }
    return s_end(self, err);
}

tw_rc_t tw_ytapi_parse_channels(tw_ytapi_t *self, const char *buf, size_t len,
                                tw_err_t *err)
{
    assert(self);
    tw_rc_t rc = s_begin(self, buf, len, err);
    if (rc != TW_OK)
        return rc;
    const tw_json_t *j = self->json;
    size_t n;
    tw_json_ref_t items = s_items(self, &n);
    self->chans = calloc(n ? n : 1, sizeof *self->chans);
    if (!self->chans)
        return TW_ERR_NOMEM;
    for (tw_json_ref_t e = tw_json_first(j, items); e; e = tw_json_next(j, e)) {
        if (tw_json_type(j, e) != TW_JSON_OBJECT)
            continue;
        tw_ytapi_channel_t *c = &self->chans[self->nchans++];
        c->id = s_str(self, tw_json_get(j, e, "id"));
        c->title = s_str(self, tw_json_path(j, e, "snippet", "title", NULL));
        c->uploads =
            s_str(self, tw_json_path(j, e, "contentDetails", "relatedPlaylists",
                                     "uploads", NULL));
        /* it becomes part of URLs and of a TSV state file */
        if (*c->uploads && !tw_id_is_safe(c->uploads, 64))
            c->uploads = "";
    }
    return s_end(self, err);
}

tw_rc_t tw_ytapi_parse_entries(tw_ytapi_t *self, const char *buf, size_t len,
                               tw_err_t *err)
{
    assert(self);
    tw_rc_t rc = s_begin(self, buf, len, err);
    if (rc != TW_OK)
        return rc;
    const tw_json_t *j = self->json;
    size_t n;
    tw_json_ref_t items = s_items(self, &n);
    self->entries = calloc(n ? n : 1, sizeof *self->entries);
    if (!self->entries)
        return TW_ERR_NOMEM;
    for (tw_json_ref_t e = tw_json_first(j, items); e; e = tw_json_next(j, e)) {
        if (tw_json_type(j, e) != TW_JSON_OBJECT)
            continue;
        tw_json_ref_t sn = tw_json_get(j, e, "snippet");
        tw_json_ref_t cd = tw_json_get(j, e, "contentDetails");
        tw_json_ref_t vid = tw_json_path(j, sn, "resourceId", "videoId", NULL);
        if (!vid)
            vid = tw_json_get(j, cd, "videoId");
        if (!vid)
            vid = tw_json_path(j, e, "id", "videoId", NULL);
        const char *id = s_str(self, vid);
        if (!*id)
            continue;
        tw_ytapi_entry_t *en = &self->entries[self->nentries++];
        en->video_id = id;
        en->channel_id = s_str(self, tw_json_get(j, sn, "channelId"));
        en->title = s_str(self, tw_json_get(j, sn, "title"));
        en->published_usec =
            tw_json_time_us(j, tw_json_get(j, cd, "videoPublishedAt"));
        if (!en->published_usec)
            en->published_usec =
                tw_json_time_us(j, tw_json_get(j, sn, "publishedAt"));
        en->broadcast_content =
            s_str(self, tw_json_get(j, sn, "liveBroadcastContent"));
    }
    return s_end(self, err);
}

tw_rc_t tw_ytapi_parse_chat(tw_ytapi_t *self, tw_ytchat_t *chat,
                            const char *buf, size_t len, tw_err_t *err)
{
    assert(self);
    assert(chat);
    tw_rc_t rc = s_begin(self, buf, len, err);
    if (rc != TW_OK)
        return rc;
    return tw_ytchat_parse(chat, buf, len, err);
}

tw_rc_t tw_ytapi_parse_error(tw_ytapi_t *self, const char *buf, size_t len,
                             tw_err_t *err)
{
    assert(self);
    tw_rc_t rc = s_begin(self, buf, len, err);
    if (rc == TW_ERR_PARSE || rc == TW_ERR_PROTO || rc == TW_ERR_NOMEM ||
        rc == TW_ERR_TOOBIG)
        return rc;
    if (self->error.reason == TW_YTAPI_REASON_NONE) {
        tw_err_set(err, "not an error body");
        return TW_ERR_NOTFOUND;
    }
    return TW_OK;
}

size_t tw_ytapi_video_count(const tw_ytapi_t *self)
{
    assert(self);
    return self->nvideos;
}

const tw_ytapi_video_t *tw_ytapi_video(const tw_ytapi_t *self, size_t i)
{
    assert(self);
    assert(i < self->nvideos);
    return &self->videos[i];
}

size_t tw_ytapi_channel_count(const tw_ytapi_t *self)
{
    assert(self);
    return self->nchans;
}

const tw_ytapi_channel_t *tw_ytapi_channel(const tw_ytapi_t *self, size_t i)
{
    assert(self);
    assert(i < self->nchans);
    return &self->chans[i];
}

size_t tw_ytapi_entry_count(const tw_ytapi_t *self)
{
    assert(self);
    return self->nentries;
}

const tw_ytapi_entry_t *tw_ytapi_entry(const tw_ytapi_t *self, size_t i)
{
    assert(self);
    assert(i < self->nentries);
    return &self->entries[i];
}

const char *tw_ytapi_next_page_token(const tw_ytapi_t *self)
{
    assert(self);
    return self->next_page;
}

const tw_ytapi_error_t *tw_ytapi_error(const tw_ytapi_t *self)
{
    assert(self);
    return &self->error;
}
