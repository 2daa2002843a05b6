/* ytsim_dataapi - YouTube Data API v3: videos, channels, playlistItems,
 * search and liveChat/messages, with key check and quota accounting. */
#include "ytsim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per-method quota accounting. */
typedef struct {
    const char *method; /* method name */
    int cost;           /* units per call */
    uint64_t calls;     /* calls seen */
    uint64_t units;     /* units charged */
} s_quota_t;

static s_quota_t s_quota[] = {
    {"videos.list", 1, 0, 0},           {"channels.list", 1, 0, 0},
    {"playlistItems.list", 1, 0, 0},    {"search.list", 100, 0, 0},
    {"liveChatMessages.list", 5, 0, 0},
};
#define N_QUOTA (sizeof s_quota / sizeof s_quota[0])

static int64_t s_day = -1;  /* Pacific day of the current budget */
static int64_t s_used;      /* units used today */
static uint64_t s_rejected; /* calls refused for quota */

void ytsim_dataapi_write_quota(ytsim_srv_t *srv);
void ytsim_dataapi_write_quota(ytsim_srv_t *srv)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/quota.tsv", ytsim_out(srv));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return;
    }
    ytsim_lock(srv);
    fputs("method\tcalls\tunits\n", f);
    for (size_t i = 0; i < N_QUOTA; i++) {
        fprintf(f, "%s\t%llu\t%llu\n", s_quota[i].method,
                (unsigned long long)s_quota[i].calls,
                (unsigned long long)s_quota[i].units);
    }
    ytsim_unlock(srv);
    fclose(f);
    rename(tmp, path);
}

static void s_error(ytsim_resp_t *rs, int code, const char *domain,
                    const char *reason, const char *msg, const char *status)
{
    ytsim_buf_t *b = ytsim_resp_json(rs, code);
    ytsim_buf_printf(b, "{\"error\":{\"code\":%d,\"message\":", code);
    ytsim_buf_jstr(b, msg);
    YB(b, ",\"errors\":[{\"message\":");
    ytsim_buf_jstr(b, msg);
    ytsim_buf_printf(b, ",\"domain\":\"%s\",\"reason\":\"%s\"}]", domain,
                     reason);
    if (status) {
        ytsim_buf_printf(b, ",\"status\":\"%s\"", status);
    }
    YB(b, "}}");
}

/* Key check and quota; returns false when the request was answered. */
static bool s_admit(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs,
                    size_t qi)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *key = ytsim_query(rq, "key");
    const char *auth = ytsim_header(rq, "Authorization");
    if (!key && !(auth && strncmp(auth, "Bearer ", 7) == 0)) {
        s_error(rs, 403, "global", "forbidden",
                "The request is missing a valid API key.", "PERMISSION_DENIED");
        return false;
    }
    if (key && scn->api_key[0] && strcmp(key, scn->api_key) != 0) {
        /* the shape of fixtures/youtube-data-api/error-400-keyInvalid */
        ytsim_buf_t *b = ytsim_resp_json(rs, 400);
        YB(b, "{\"error\":{\"errors\":[{\"domain\":\"usageLimits\",\"reason\":"
              "\"keyInvalid\",\"message\":\"Bad Request\"}],\"code\":400,"
              "\"message\":\"Bad Request\"}}");
        return false;
    }
    /* the budget resets at midnight Pacific (UTC-8, DST ignored) */
    int64_t wall = ytsim_wall_usec(srv, ytsim_now(srv)) / 1000000;
    int64_t day = (wall - 8 * 3600) / 86400;
    bool over;
    ytsim_lock(srv);
    if (day != s_day) {
        s_day = day;
        s_used = 0;
    }
    s_quota[qi].calls++;
    over = s_used + s_quota[qi].cost > scn->quota_per_day;
    if (!over) {
        s_used += s_quota[qi].cost;
        s_quota[qi].units += (uint64_t)s_quota[qi].cost;
    } else {
        s_rejected++;
    }
    ytsim_unlock(srv);
    if (over) {
        /* the exact body of fixtures/youtube-data-api/error-403-quota */
        ytsim_buf_t *b = ytsim_resp_json(rs, 403);
        YB(b, "{\"error\":{\"code\":403,\"message\":\"The request cannot be "
              "completed because you have exceeded your <a href=\\\"/youtube/"
              "v3/getting-started#quota\\\">quota</a>.\",\"errors\":[{"
              "\"message\":\"The request cannot be completed because you have "
              "exceeded your <a href=\\\"/youtube/v3/getting-started#quota\\\">"
              "quota</a>.\",\"domain\":\"youtube.quota\",\"reason\":"
              "\"quotaExceeded\"}]}}");
        return false;
    }
    return true;
}

static bool s_has_part(const char *parts, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = parts; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        if (len == n && strncmp(p, name, n) == 0) {
            return true;
        }
        p = c ? c + 1 : p + len;
    }
    return false;
}

static void s_etag(ytsim_buf_t *b, uint64_t h)
{
    char e[28];
    ytsim_rng_t r = {h};
    ytsim_rng_id(&r, e, 27);
    YB(b, "\"etag\":\"");
    ytsim_buf_puts(b, e);
    YB(b, "\"");
}

static void s_thumbs(ytsim_buf_t *b, const char *vid, bool live)
{
    const char *sfx = live ? "_live" : "";
    ytsim_buf_printf(b,
                     "\"thumbnails\":{\"default\":{\"url\":\"https://"
                     "i.ytimg.com/vi/%s/default%s.jpg\",\"width\":120,"
                     "\"height\":90},\"medium\":{\"url\":\"https://i.ytimg."
                     "com/vi/%s/mqdefault%s.jpg\",\"width\":320,\"height\":"
                     "180},\"high\":{\"url\":\"https://i.ytimg.com/vi/%s/"
                     "hqdefault%s.jpg\",\"width\":480,\"height\":360}}",
                     vid, sfx, vid, sfx, vid, sfx);
}

static bool s_visible(const ytsim_stream_t *s, double now)
{
    ytsim_state_t st = ytsim_stream_state(s, now);
    return st != YTSIM_ST_HIDDEN && st != YTSIM_ST_DELETED && !s->is_private;
}

static const char *s_lbc(ytsim_state_t st)
{
    return st == YTSIM_ST_LIVE
               ? "live"
               : (st == YTSIM_ST_UPCOMING ? "upcoming" : "none");
}

static void s_time(ytsim_srv_t *srv, char *out, size_t cap, double t)
{
    ytsim_fmt_time(out, cap, ytsim_wall_usec(srv, t), 0, false);
}

static void s_video_item(ytsim_srv_t *srv, ytsim_buf_t *b, ytsim_stream_t *s,
                         const char *parts, double now)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const ytsim_channel_t *c = &scn->chans[s->chan];
    ytsim_state_t st = ytsim_stream_state(s, now);
    ytsim_stats_t sts;
    ytsim_stream_stats(scn, s, now, &sts);
    char ts[48];
    YB(b, "{\"kind\":\"youtube#video\",");
    s_etag(b, s->vh ^ (uint64_t)floor(now));
    YB(b, ",\"id\":\"");
    ytsim_buf_puts(b, s->id);
    YB(b, "\"");
    if (s_has_part(parts, "snippet")) {
        s_time(srv, ts, sizeof ts, s->announce);
        ytsim_buf_printf(b,
                         ",\"snippet\":{\"publishedAt\":\"%s\","
                         "\"channelId\":\"%s\",\"title\":",
                         ts, c->id);
        ytsim_buf_jstr(b, s->title);
        YB(b, ",\"description\":\"Simulated stream\",");
        s_thumbs(b, s->id, st == YTSIM_ST_LIVE);
        YB(b, ",\"channelTitle\":");
        ytsim_buf_jstr(b, c->title);
        ytsim_buf_printf(b,
                         ",\"categoryId\":\"20\",\"liveBroadcastContent\":"
                         "\"%s\",\"localized\":{\"title\":",
                         s_lbc(st));
        ytsim_buf_jstr(b, s->title);
        YB(b, ",\"description\":\"Simulated stream\"}}");
    }
    if (s_has_part(parts, "contentDetails")) {
        long d = st == YTSIM_ST_ENDED ? (long)s->duration : 0;
        ytsim_buf_printf(b,
                         ",\"contentDetails\":{\"duration\":\"PT%ldH%ldM"
                         "%ldS\",\"dimension\":\"2d\",\"definition\":\"hd\","
                         "\"caption\":\"false\",\"licensedContent\":false,"
                         "\"projection\":\"rectangular\"}",
                         d / 3600, d / 60 % 60, d % 60);
    }
    if (s_has_part(parts, "status")) {
        YB(b, ",\"status\":{\"uploadStatus\":\"processed\",\"privacyStatus\":"
              "\"public\",\"license\":\"youtube\",\"embeddable\":true,"
              "\"publicStatsViewable\":true,\"madeForKids\":false}");
    }
    bool stats = s_has_part(parts, "statistics");
    if (stats) {
        ytsim_buf_printf(b, ",\"statistics\":{\"viewCount\":\"%llu\"",
                         (unsigned long long)sts.views);
        if (!s->likes_hidden) {
            ytsim_buf_printf(b, ",\"likeCount\":\"%llu\"",
                             (unsigned long long)sts.likes);
        }
        YB(b, ",\"favoriteCount\":\"0\"");
        if (!s->comments_disabled) {
            ytsim_buf_printf(b, ",\"commentCount\":\"%llu\"",
                             (unsigned long long)sts.comments);
        }
        YB(b, "}");
    }
    bool lsd = s_has_part(parts, "liveStreamingDetails") &&
               (s->has_sched || s->has_start);
    if (lsd) {
        YB(b, ",\"liveStreamingDetails\":{");
        bool first = true;
        if (st == YTSIM_ST_LIVE || st == YTSIM_ST_ENDED) {
            s_time(srv, ts, sizeof ts, s->start);
            ytsim_buf_printf(b, "\"actualStartTime\":\"%s\"", ts);
            first = false;
        }
        if (st == YTSIM_ST_ENDED) {
            s_time(srv, ts, sizeof ts, s->start + s->duration);
            ytsim_buf_printf(b, ",\"actualEndTime\":\"%s\"", ts);
        }
        if (s->has_sched) {
            s_time(srv, ts, sizeof ts, ytsim_stream_sched(s, now));
            ytsim_buf_printf(b, "%s\"scheduledStartTime\":\"%s\"",
                             first ? "" : ",", ts);
            first = false;
        }
        if (st == YTSIM_ST_LIVE) {
            ytsim_buf_printf(b, "%s\"concurrentViewers\":\"%llu\"",
                             first ? "" : ",", (unsigned long long)sts.viewers);
            first = false;
        }
        if ((st == YTSIM_ST_LIVE || st == YTSIM_ST_UPCOMING) &&
            !s->chat_disabled) {
            ytsim_buf_printf(b, "%s\"activeLiveChatId\":\"%s\"",
                             first ? "" : ",", s->chat_id);
        }
        YB(b, "}");
    }
    YB(b, "}");
    if (stats || lsd) {
        ytsim_truth_stats(srv, "videos.list", s, now, &sts,
                          st == YTSIM_ST_LIVE);
    }
}

static void s_videos(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *parts = ytsim_query(rq, "part");
    const char *ids = ytsim_query(rq, "id");
    if (!parts || !*parts) {
        s_error(rs, 400, "youtube.parameter", "missingRequiredParameter",
                "No filter selected. Expected one of: myRated, chart, id",
                "INVALID_ARGUMENT");
        return;
    }
    if (!ids) {
        s_error(rs, 400, "youtube.parameter", "missingRequiredParameter",
                "No filter selected. Expected one of: myRated, chart, id",
                "INVALID_ARGUMENT");
        return;
    }
    size_t n = 1;
    for (const char *p = ids; *p; p++) {
        n += *p == ',';
    }
    if (n > 50) {
        s_error(rs, 400, "youtube.video", "invalidFilters",
                "The request specifies an invalid filter parameter.",
                "INVALID_ARGUMENT");
        return;
    }
    double now = ytsim_now(srv);
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    YB(b, "{\"kind\":\"youtube#videoListResponse\",");
    s_etag(b, ytsim_strhash(ids) ^ (uint64_t)floor(now));
    YB(b, ",\"items\":[");
    size_t found = 0;
    const char *p = ids;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char id[16] = "";
        if (len == 11) {
            memcpy(id, p, 11);
            ytsim_stream_t *s = ytsim_find_stream(srv, id);
            if (s && s_visible(s, now)) {
                if (found++) {
                    YB(b, ",");
                }
                s_video_item(srv, b, s, parts, now);
            }
        }
        if (!c) {
            break;
        }
        p = c + 1;
    }
    ytsim_buf_printf(b,
                     "],\"pageInfo\":{\"totalResults\":%zu,"
                     "\"resultsPerPage\":%zu}}",
                     found, found);
}

static void s_channels(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *parts = ytsim_query(rq, "part");
    const char *ids = ytsim_query(rq, "id");
    const char *handle = ytsim_query(rq, "forHandle");
    if (!parts || (!ids && !handle)) {
        s_error(rs, 400, "youtube.parameter", "missingRequiredParameter",
                "No filter selected. Expected one of: forUsername, id, "
                "managedByMe, forHandle, mine, mySubscribers, categoryId",
                "INVALID_ARGUMENT");
        return;
    }
    int match[64];
    size_t n = 0;
    if (handle) {
        int ci = ytsim_find_channel(srv, handle);
        if (ci >= 0) {
            match[n++] = ci;
        }
    } else {
        const char *p = ids;
        while (*p && n < 50) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            char id[32] = "";
            if (len == 24) {
                memcpy(id, p, 24);
                for (size_t i = 0; i < scn->n_chans; i++) {
                    if (strcmp(scn->chans[i].id, id) == 0) {
                        match[n++] = (int)i;
                    }
                }
            }
            if (!c) {
                break;
            }
            p = c + 1;
        }
    }
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    YB(b, "{\"kind\":\"youtube#channelListResponse\",");
    s_etag(b, ytsim_strhash(ids ? ids : handle));
    ytsim_buf_printf(b,
                     ",\"pageInfo\":{\"totalResults\":%zu,"
                     "\"resultsPerPage\":5}",
                     n);
    if (n > 0) {
        YB(b, ",\"items\":[");
    }
    for (size_t k = 0; k < n; k++) {
        const ytsim_channel_t *c = &scn->chans[match[k]];
        if (k) {
            YB(b, ",");
        }
        YB(b, "{\"kind\":\"youtube#channel\",");
        s_etag(b, ytsim_strhash(c->id));
        ytsim_buf_printf(b, ",\"id\":\"%s\"", c->id);
        if (s_has_part(parts, "snippet")) {
            YB(b, ",\"snippet\":{\"title\":");
            ytsim_buf_jstr(b, c->title);
            ytsim_buf_printf(b,
                             ",\"description\":\"\",\"customUrl\":\"@%s\","
                             "\"publishedAt\":\"2015-03-01T10:00:00Z\","
                             "\"thumbnails\":{\"default\":{\"url\":\"https:"
                             "//yt3.ggpht.com/ytc/%s=s88-c-k\",\"width\":88,"
                             "\"height\":88}},\"localized\":{\"title\":",
                             c->handle, c->id + 2);
            ytsim_buf_jstr(b, c->title);
            YB(b, ",\"description\":\"\"}}");
        }
        if (s_has_part(parts, "contentDetails")) {
            ytsim_buf_printf(b,
                             ",\"contentDetails\":{\"relatedPlaylists\":{"
                             "\"likes\":\"\",\"uploads\":\"UU%s\"}}",
                             c->id + 2);
        }
        if (s_has_part(parts, "statistics")) {
            size_t vids = 0;
            for (size_t i = 0; i < scn->n_streams; i++) {
                vids += scn->streams[i].chan == match[k];
            }
            ytsim_buf_printf(b,
                             ",\"statistics\":{\"viewCount\":\"1234567\","
                             "\"subscriberCount\":\"%llu\","
                             "\"hiddenSubscriberCount\":false,"
                             "\"videoCount\":\"%zu\"}",
                             (unsigned long long)c->subs, vids);
        }
        YB(b, "}");
    }
    if (n > 0) {
        YB(b, "]");
    }
    YB(b, "}");
}

/* Page tokens look like the real ones: base64 of {08 <offset> 10 <dir>}. */
static void s_page_token(ytsim_buf_t *b, uint32_t off, int dir)
{
    unsigned char p[8];
    size_t n = 0;
    p[n++] = 0x08;
    uint32_t v = off;
    do {
        p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    p[n++] = 0x10;
    p[n++] = (unsigned char)dir;
    ytsim_buf_b64(b, p, n, true, false);
}

static bool s_parse_page_token(const char *t, uint32_t *off)
{
    unsigned char p[16];
    long n = ytsim_b64_decode(t, strlen(t), p, sizeof p);
    if (n < 4 || p[0] != 0x08) {
        return false;
    }
    uint32_t v = 0;
    int shift = 0;
    long i = 1;
    for (; i < n && shift < 32; i++) {
        v |= (uint32_t)(p[i] & 0x7f) << shift;
        shift += 7;
        if (!(p[i] & 0x80)) {
            break;
        }
    }
    *off = v;
    return i + 2 < n + 1;
}

/* Fills idx with the visible streams of channel ci, newest first. */
static size_t s_channel_videos(ytsim_srv_t *srv, int ci, double now,
                               size_t *idx, size_t cap)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    size_t n = 0;
    for (size_t i = 0; i < scn->n_streams && n < cap; i++) {
        if (scn->streams[i].chan == ci && s_visible(&scn->streams[i], now)) {
            idx[n++] = i;
        }
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && scn->streams[idx[j]].announce >
                                        scn->streams[idx[j - 1]].announce;
             j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    }
    return n;
}

static void s_playlist_items(ytsim_srv_t *srv, ytsim_req_t *rq,
                             ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *parts = ytsim_query(rq, "part");
    const char *pl = ytsim_query(rq, "playlistId");
    const char *mr = ytsim_query(rq, "maxResults");
    const char *pt = ytsim_query(rq, "pageToken");
    int ci = -1;
    if (pl && strlen(pl) == 24 && strncmp(pl, "UU", 2) == 0) {
        char cid[32];
        snprintf(cid, sizeof cid, "UC%s", pl + 2);
        ci = ytsim_find_channel(srv, cid);
    }
    if (!parts || !pl) {
        s_error(rs, 400, "youtube.parameter", "missingRequiredParameter",
                "No filter selected. Expected one of: id, playlistId",
                "INVALID_ARGUMENT");
        return;
    }
    if (ci < 0) {
        s_error(rs, 404, "youtube.playlistItem", "playlistNotFound",
                "The playlist identified with the request's <code>playlistId"
                "</code> parameter cannot be found.",
                NULL);
        return;
    }
    long max = mr ? strtol(mr, NULL, 10) : 5;
    if (max < 0 || max > 50) {
        s_error(rs, 400, "youtube.parameter", "invalidParameter",
                "Invalid value for parameter maxResults", "INVALID_ARGUMENT");
        return;
    }
    uint32_t off = 0;
    if (pt && !s_parse_page_token(pt, &off)) {
        s_error(rs, 400, "youtube.parameter", "invalidPageToken",
                "The request specifies an invalid page token.",
                "INVALID_ARGUMENT");
        return;
    }
    double now = ytsim_now(srv);
    size_t idx[1024];
    size_t n = s_channel_videos(srv, ci, now, idx, 1024);
    const ytsim_channel_t *c = &scn->chans[ci];
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    YB(b, "{\"kind\":\"youtube#playlistItemListResponse\",");
    s_etag(b, ytsim_strhash(pl) ^ off ^ (uint64_t)n);
    size_t end = off + (size_t)max;
    if (end > n) {
        end = n;
    }
    if (end < n) {
        YB(b, ",\"nextPageToken\":\"");
        s_page_token(b, (uint32_t)end, 0);
        YB(b, "\"");
    }
    if (off > 0) {
        YB(b, ",\"prevPageToken\":\"");
        s_page_token(b, off, 1);
        YB(b, "\"");
    }
    YB(b, ",\"items\":[");
    char ts[48];
    for (size_t k = off; k < end; k++) {
        const ytsim_stream_t *s = &scn->streams[idx[k]];
        if (k > off) {
            YB(b, ",");
        }
        YB(b, "{\"kind\":\"youtube#playlistItem\",");
        s_etag(b, s->vh);
        YB(b, ",\"id\":\"");
        char raw[64];
        snprintf(raw, sizeof raw, "%s.%s", pl, s->id);
        ytsim_buf_b64(b, raw, strlen(raw), false, false);
        YB(b, "\"");
        s_time(srv, ts, sizeof ts, s->announce);
        if (s_has_part(parts, "snippet")) {
            ytsim_buf_printf(b,
                             ",\"snippet\":{\"publishedAt\":\"%s\","
                             "\"channelId\":\"%s\",\"title\":",
                             ts, c->id);
            ytsim_buf_jstr(b, s->title);
            YB(b, ",\"description\":\"Simulated stream\",");
            s_thumbs(b, s->id, false);
            YB(b, ",\"channelTitle\":");
            ytsim_buf_jstr(b, c->title);
            ytsim_buf_printf(b,
                             ",\"playlistId\":\"%s\",\"position\":%zu,"
                             "\"resourceId\":{\"kind\":\"youtube#video\","
                             "\"videoId\":\"%s\"},\"videoOwnerChannelTitle"
                             "\":",
                             pl, k, s->id);
            ytsim_buf_jstr(b, c->title);
            ytsim_buf_printf(b, ",\"videoOwnerChannelId\":\"%s\"}", c->id);
        }
        if (s_has_part(parts, "contentDetails")) {
            ytsim_buf_printf(b,
                             ",\"contentDetails\":{\"videoId\":\"%s\","
                             "\"videoPublishedAt\":\"%s\"}",
                             s->id, ts);
        }
        YB(b, "}");
    }
    ytsim_buf_printf(b,
                     "],\"pageInfo\":{\"totalResults\":%zu,"
                     "\"resultsPerPage\":%ld}}",
                     n, max);
}

static void s_search(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *cid = ytsim_query(rq, "channelId");
    const char *ev = ytsim_query(rq, "eventType");
    const char *type = ytsim_query(rq, "type");
    if (!ytsim_query(rq, "part")) {
        s_error(rs, 400, "global", "required", "Required parameter: part",
                "INVALID_ARGUMENT");
        return;
    }
    if (ev && (!type || strcmp(type, "video") != 0)) {
        s_error(rs, 400, "youtube.search", "invalidSearchFilter",
                "The request contains an invalid combination of search "
                "filters and/or restrictions. Note that you must set the "
                "<code>type</code> parameter to <code>video</code> if you "
                "set a value for the <code>eventType</code>, ... parameters.",
                "INVALID_ARGUMENT");
        return;
    }
    double now = ytsim_now(srv);
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    YB(b, "{\"kind\":\"youtube#searchListResponse\",");
    s_etag(b, ytsim_strhash(cid ? cid : "") ^ (uint64_t)floor(now));
    YB(b, ",\"regionCode\":\"US\",\"items\":[");
    size_t n = 0;
    for (size_t i = 0; i < scn->n_streams && n < 50; i++) {
        ytsim_stream_t *s = &scn->streams[i];
        const ytsim_channel_t *c = &scn->chans[s->chan];
        if (!s_visible(s, now) || (cid && strcmp(cid, c->id) != 0)) {
            continue;
        }
        ytsim_state_t st = ytsim_stream_state(s, now);
        if (ev && !((strcmp(ev, "live") == 0 && st == YTSIM_ST_LIVE) ||
                    (strcmp(ev, "upcoming") == 0 && st == YTSIM_ST_UPCOMING) ||
                    (strcmp(ev, "completed") == 0 && st == YTSIM_ST_ENDED &&
                     s->has_start))) {
            continue;
        }
        if (n++) {
            YB(b, ",");
        }
        char ts[48];
        s_time(srv, ts, sizeof ts, s->announce);
        YB(b, "{\"kind\":\"youtube#searchResult\",");
        s_etag(b, s->vh ^ 5);
        ytsim_buf_printf(b,
                         ",\"id\":{\"kind\":\"youtube#video\",\"videoId\":"
                         "\"%s\"},\"snippet\":{\"publishedAt\":\"%s\","
                         "\"channelId\":\"%s\",\"title\":",
                         s->id, ts, c->id);
        ytsim_buf_jstr(b, s->title);
        YB(b, ",\"description\":\"Simulated stream\",");
        s_thumbs(b, s->id, st == YTSIM_ST_LIVE);
        YB(b, ",\"channelTitle\":");
        ytsim_buf_jstr(b, c->title);
        ytsim_buf_printf(b,
                         ",\"liveBroadcastContent\":\"%s\",\"publishTime\":"
                         "\"%s\"}}",
                         s_lbc(st), ts);
    }
    ytsim_buf_printf(b,
                     "],\"pageInfo\":{\"totalResults\":%zu,"
                     "\"resultsPerPage\":%zu}}",
                     n, n);
}

static void s_live_chat_messages(ytsim_srv_t *srv, ytsim_req_t *rq,
                                 ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *lc = ytsim_query(rq, "liveChatId");
    const char *pt = ytsim_query(rq, "pageToken");
    const char *mr = ytsim_query(rq, "maxResults");
    if (!lc || !ytsim_query(rq, "part")) {
        s_error(rs, 400, "youtube.parameter", "missingRequiredParameter",
                "No filter selected. Expected one of: liveChatId",
                "INVALID_ARGUMENT");
        return;
    }
    ytsim_stream_t *s = NULL;
    for (size_t i = 0; i < scn->n_streams; i++) {
        if (strcmp(scn->streams[i].chat_id, lc) == 0) {
            s = &scn->streams[i];
        }
    }
    double now = ytsim_now(srv);
    ytsim_state_t st = s ? ytsim_stream_state(s, now) : YTSIM_ST_HIDDEN;
    if (!s || st == YTSIM_ST_HIDDEN || st == YTSIM_ST_DELETED ||
        s->is_private) {
        s_error(rs, 404, "youtube.liveChat", "liveChatNotFound",
                "The live chat that you are trying to retrieve cannot be "
                "found. Check the value of the requests <code>liveChatId"
                "</code> parameter to ensure that it is correct.",
                NULL);
        return;
    }
    if (s->chat_disabled) {
        s_error(rs, 403, "youtube.liveChat", "liveChatDisabled",
                "The live chat is disabled.", NULL);
        return;
    }
    if (s->members_only) {
        s_error(rs, 403, "youtube.liveChat", "forbidden",
                "You do not have the permissions required to retrieve "
                "messages for the specified live chat.",
                NULL);
        return;
    }
    uint32_t pos = 0;
    if (pt && !ytsim_chat_api_token(pt, &pos)) {
        s_error(rs, 400, "youtube.liveChat", "pageTokenInvalid",
                "The request specifies an invalid page token.", NULL);
        return;
    }
    if (!pt) {
        pos = ytsim_chat_initial_pos(srv, s, now);
    }
    long max = mr ? strtol(mr, NULL, 10) : 500;
    if (max < 200 || max > 2000) {
        max = max < 200 ? 200 : 2000;
    }
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    rs->status = ytsim_chat_api_response(srv, s, pos, (uint32_t)max, b);
}

bool ytsim_dataapi_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    static const char *eps[] = {"videos", "channels", "playlistItems", "search",
                                "liveChatMessages"};
    size_t qi = 0;
    for (; qi < N_QUOTA; qi++) {
        if (strcmp(rq->ep, eps[qi]) == 0) {
            break;
        }
    }
    if (qi == N_QUOTA) {
        return false;
    }
    if (strcmp(rq->method, "GET") != 0) {
        s_error(rs, 405, "global", "httpMethodNotAllowed",
                "HTTP method not allowed", NULL);
        return true;
    }
    if (!s_admit(srv, rq, rs, qi)) {
        return true;
    }
    switch (qi) {
    case 0:
        s_videos(srv, rq, rs);
        break;
    case 1:
        s_channels(srv, rq, rs);
        break;
    case 2:
        s_playlist_items(srv, rq, rs);
        break;
    case 3:
        s_search(srv, rq, rs);
        break;
    default:
        s_live_chat_messages(srv, rq, rs);
        break;
    }
    return true;
}
