/* ytsim_youtube - YouTube's web side: channel RSS feed, channel page, watch
 * page, and the innertube calls next, live_chat, get_live_chat(_replay) and
 * updated_metadata. */
#include "ytsim.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void s_commas(ytsim_buf_t *b, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            YB(b, ",");
        }
        ytsim_buf_put(b, tmp + i, 1);
    }
}

static void s_short(ytsim_buf_t *b, uint64_t v)
{
    if (v < 1000) {
        ytsim_buf_u64(b, v);
    } else if (v < 1000000) {
        ytsim_buf_printf(b, "%.1fK", (double)v / 1e3);
    } else {
        ytsim_buf_printf(b, "%.1fM", (double)v / 1e6);
    }
}

static void s_time(ytsim_srv_t *srv, char *out, size_t cap, double t,
                   bool offset)
{
    ytsim_fmt_time(out, cap, ytsim_wall_usec(srv, t), 0, offset);
}

static int64_t s_unix(ytsim_srv_t *srv, double t)
{
    return ytsim_wall_usec(srv, t) / 1000000;
}

static void s_html_error(ytsim_resp_t *rs, int code)
{
    rs->status = code;
    rs->ctype = "text/html; charset=utf-8";
    ytsim_buf_printf(&rs->body,
                     "<!DOCTYPE html><html lang=en><meta charset=utf-8>"
                     "<title>Error %d</title><p><b>%d.</b> That’s an error."
                     "</html>",
                     code, code);
}

static void s_innertube_error(ytsim_resp_t *rs, int code, const char *status,
                              const char *msg)
{
    ytsim_buf_t *b = ytsim_resp_json(rs, code);
    ytsim_buf_printf(b, "{\"error\":{\"code\":%d,\"message\":", code);
    ytsim_buf_jstr(b, msg);
    YB(b, ",\"errors\":[{\"message\":");
    ytsim_buf_jstr(b, msg);
    ytsim_buf_printf(b,
                     ",\"domain\":\"global\",\"reason\":\"%s\"}],"
                     "\"status\":\"%s\"}}",
                     code == 400 ? "badRequest" : "notFound", status);
}

/* ---- RSS ------------------------------------------------------------- */

/* Time of the last visible change of s up to now. */
static double s_updated(const ytsim_stream_t *s, double now)
{
    double u = s->announce;
    if (s->has_resched && now >= s->resched_at && s->resched_at > u) {
        u = s->resched_at;
    }
    if (s->has_start && now >= s->start) {
        u = s->start;
        if (now >= s->start + s->duration) {
            u = s->start + s->duration;
        }
    }
    return u;
}

static bool s_rss_visible(const ytsim_stream_t *s, double now)
{
    ytsim_state_t st = ytsim_stream_state(s, now);
    return st != YTSIM_ST_HIDDEN && st != YTSIM_ST_DELETED && !s->is_private;
}

static void s_rss(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *cid = ytsim_query(rq, "channel_id");
    const char *pid = ytsim_query(rq, "playlist_id");
    char key[32] = "";
    if (pid && strlen(pid) == 24 && strncmp(pid, "UU", 2) == 0) {
        snprintf(key, sizeof key, "UC%s", pid + 2);
        cid = key;
    }
    int ci = cid ? ytsim_find_channel(srv, cid) : -1;
    if (ci < 0 || strncmp(cid, "UC", 2) != 0) {
        s_html_error(rs, 404);
        return;
    }
    const ytsim_channel_t *c = &scn->chans[ci];
    double now = ytsim_now(srv);
    /* newest first by announce time, at most 15 */
    size_t idx[15];
    size_t n = 0;
    double last = -1e18;
    for (;;) {
        size_t best = (size_t)-1;
        for (size_t i = 0; i < scn->n_streams; i++) {
            const ytsim_stream_t *s = &scn->streams[i];
            bool taken = false;
            for (size_t k = 0; k < n; k++) {
                taken |= idx[k] == i;
            }
            if (taken || s->chan != ci || !s_rss_visible(s, now)) {
                continue;
            }
            if (best == (size_t)-1 ||
                s->announce > scn->streams[best].announce) {
                best = i;
            }
        }
        if (best == (size_t)-1 || n == 15) {
            break;
        }
        idx[n++] = best;
        double u = s_updated(&scn->streams[best], now);
        if (u > last) {
            last = u;
        }
    }
    ytsim_buf_t *b = &rs->body;
    char ts[48];
    YB(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns:yt=\"http://"
          "www.youtube.com/xml/schemas/2015\" xmlns:media=\"http://search."
          "yahoo.com/mrss/\" xmlns=\"http://www.w3.org/2005/Atom\">\n"
          " <link rel=\"self\" href=\"http://www.youtube.com/feeds/videos.xml?"
          "channel_id=");
    ytsim_buf_puts(b, c->id);
    ytsim_buf_printf(b,
                     "\"/>\n <id>yt:channel:%s</id>\n <yt:channelId>%s"
                     "</yt:channelId>\n <title>",
                     c->id + 2, c->id + 2);
    ytsim_buf_xesc(b, c->title);
    ytsim_buf_printf(b,
                     "</title>\n <link rel=\"alternate\" href=\"https://"
                     "www.youtube.com/channel/%s\"/>\n <author>\n  <name>",
                     c->id);
    ytsim_buf_xesc(b, c->title);
    s_time(srv, ts, sizeof ts, -86400 * 900.0, true);
    ytsim_buf_printf(b,
                     "</name>\n  <uri>https://www.youtube.com/channel/%s"
                     "</uri>\n </author>\n <published>%s</published>\n",
                     c->id, ts);
    for (size_t k = 0; k < n; k++) {
        const ytsim_stream_t *s = &scn->streams[idx[k]];
        double upd = s_updated(s, now);
        ytsim_stats_t st;
        ytsim_stream_stats(scn, s, upd, &st);
        ytsim_buf_printf(b,
                         " <entry>\n  <id>yt:video:%s</id>\n  <yt:videoId>"
                         "%s</yt:videoId>\n  <yt:channelId>%s</yt:channelId>"
                         "\n  <title>",
                         s->id, s->id, c->id);
        ytsim_buf_xesc(b, s->title);
        ytsim_buf_printf(b,
                         "</title>\n  <link rel=\"alternate\" href=\"https:"
                         "//www.youtube.com/watch?v=%s\"/>\n  <author>\n"
                         "   <name>",
                         s->id);
        ytsim_buf_xesc(b, c->title);
        s_time(srv, ts, sizeof ts, s->announce, true);
        ytsim_buf_printf(b,
                         "</name>\n   <uri>https://www.youtube.com/channel/"
                         "%s</uri>\n  </author>\n  <published>%s"
                         "</published>\n",
                         c->id, ts);
        s_time(srv, ts, sizeof ts, upd, true);
        ytsim_buf_printf(b,
                         "  <updated>%s</updated>\n  <media:group>\n"
                         "   <media:title>",
                         ts);
        ytsim_buf_xesc(b, s->title);
        ytsim_buf_printf(b,
                         "</media:title>\n   <media:content url=\"https://"
                         "www.youtube.com/v/%s?version=3\" type=\"application"
                         "/x-shockwave-flash\" width=\"640\" height=\"390\"/>"
                         "\n   <media:thumbnail url=\"https://i1.ytimg.com/vi/"
                         "%s/hqdefault.jpg\" width=\"480\" height=\"360\"/>\n"
                         "   <media:description>",
                         s->id, s->id);
        ytsim_buf_xesc(b, s->title);
        ytsim_buf_printf(b,
                         " – simulated by ytsim</media:description>\n"
                         "   <media:community>\n    <media:starRating "
                         "count=\"%llu\" average=\"5.00\" min=\"1\" max=\"5\"/>"
                         "\n    <media:statistics views=\"%llu\"/>\n"
                         "   </media:community>\n  </media:group>\n"
                         " </entry>\n",
                         (unsigned long long)(s->likes_hidden ? 0 : st.likes),
                         (unsigned long long)st.views);
    }
    YB(b, "</feed>\n");
    rs->ctype = "text/xml; charset=UTF-8";
    char etag[40];
    snprintf(etag, sizeof etag, "\"%016llx\"",
             (unsigned long long)ytsim_strhash(b->p));
    char lm[64];
    int64_t lm_usec = ytsim_wall_usec(srv, n ? last : 0);
    ytsim_fmt_http_date(lm, sizeof lm, lm_usec);
    ytsim_resp_header(rs, "ETag", "%s", etag);
    ytsim_resp_header(rs, "Last-Modified", "%s", lm);
    ytsim_resp_header(rs, "Cache-Control", "public, max-age=900");
    const char *inm = ytsim_header(rq, "If-None-Match");
    const char *ims = ytsim_header(rq, "If-Modified-Since");
    bool not_modified = false;
    if (inm) {
        not_modified = strstr(inm, etag) != NULL;
    } else if (ims) {
        int64_t t = ytsim_parse_http_date(ims);
        not_modified = t >= 0 && t >= lm_usec / 1000000;
    }
    if (not_modified) {
        rs->status = 304;
        rs->body.len = 0;
        rs->body.p[0] = '\0';
    }
}

/* ---- channel page ---------------------------------------------------- */

static void s_video_renderer(ytsim_srv_t *srv, ytsim_buf_t *b,
                             const ytsim_stream_t *s, double now)
{
    ytsim_state_t st = ytsim_stream_state(s, now);
    ytsim_stats_t sts;
    ytsim_stream_stats(ytsim_scn(srv), s, now, &sts);
    YB(b, "{\"richItemRenderer\":{\"content\":{\"videoRenderer\":{\"videoId\":"
          "\"");
    ytsim_buf_puts(b, s->id);
    YB(b, "\",\"title\":{\"runs\":[{\"text\":");
    ytsim_buf_jstr(b, s->title);
    YB(b, "}]}");
    if (st == YTSIM_ST_UPCOMING) {
        ytsim_buf_printf(b,
                         ",\"upcomingEventData\":{\"startTime\":\"%lld\","
                         "\"isReminderSet\":false,\"upcomingEventText\":{"
                         "\"runs\":[{\"text\":\"Scheduled for \"},{\"text\":"
                         "\"DATE_PLACEHOLDER\"}]}}",
                         (long long)s_unix(srv, ytsim_stream_sched(s, now)));
        YB(b, ",\"viewCountText\":{\"runs\":[{\"text\":\"");
        ytsim_buf_u64(b, sts.viewers);
        YB(b, "\"},{\"text\":\" waiting\"}]}");
    } else if (st == YTSIM_ST_LIVE) {
        YB(b, ",\"badges\":[{\"metadataBadgeRenderer\":{\"style\":\"BADGE_STYLE"
              "_TYPE_LIVE_NOW\",\"label\":\"LIVE\"}}],\"viewCountText\":{"
              "\"runs\":[{\"text\":\"");
        s_commas(b, sts.viewers);
        YB(b, "\"},{\"text\":\" watching\"}]}");
    } else {
        YB(b, ",\"viewCountText\":{\"simpleText\":\"");
        s_commas(b, sts.views);
        YB(b, " views\"}");
    }
    YB(b, ",\"navigationEndpoint\":{\"commandMetadata\":{\"webCommandMetadata\""
          ":{\"url\":\"/watch?v=");
    ytsim_buf_puts(b, s->id);
    YB(b, "\",\"webPageType\":\"WEB_PAGE_TYPE_WATCH\"}},\"watchEndpoint\":{"
          "\"videoId\":\"");
    ytsim_buf_puts(b, s->id);
    YB(b, "\"}}}}}}");
}

/* Formats the localized start of a lockup ("Scheduled for 8/31/27, 7:00 AM"
 * or "Geplant für: 31.08.27, 07:00"), in UTC. */
static void s_lockup_start(ytsim_buf_t *b, bool de, int64_t unix_s)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    if (de) {
        ytsim_buf_printf(b, "Geplant für: %02d.%02d.%02d, %02d:%02d",
                         tm.tm_mday, tm.tm_mon + 1, tm.tm_year % 100,
                         tm.tm_hour, tm.tm_min);
    } else {
        int h = tm.tm_hour % 12;
        ytsim_buf_printf(b, "Scheduled for %d/%d/%02d, %d:%02d %s",
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_year % 100,
                         h ? h : 12, tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM");
    }
}

/* A /streams entry in the lockupViewModel form (2026, part of the
 * audience): the badge is a duration for past streams, a localized word
 * for upcoming ones, "LIVE" while live; the start only as text. */
static void s_lockup(ytsim_srv_t *srv, ytsim_buf_t *b, const ytsim_channel_t *c,
                     const ytsim_stream_t *s, double now)
{
    bool de = strcmp(c->hl, "de") == 0;
    ytsim_state_t st = ytsim_stream_state(s, now);
    ytsim_stats_t sts;
    ytsim_stream_stats(ytsim_scn(srv), s, now, &sts);
    YB(b, "{\"richItemRenderer\":{\"content\":{\"lockupViewModel\":{"
          "\"contentImage\":{\"thumbnailViewModel\":{\"image\":{\"sources\":"
          "[{\"url\":\"https://i.ytimg.com/vi/");
    ytsim_buf_puts(b, s->id);
    YB(b, "/hqdefault.jpg\",\"width\":168,\"height\":94}]},\"overlays\":[{"
          "\"thumbnailBottomOverlayViewModel\":{\"badges\":[{"
          "\"thumbnailBadgeViewModel\":{\"text\":\"");
    const char *style = "THUMBNAIL_OVERLAY_BADGE_STYLE_DEFAULT";
    if (st == YTSIM_ST_UPCOMING) {
        ytsim_buf_puts(b, de ? "Anstehend" : "Upcoming");
    } else if (st == YTSIM_ST_LIVE) {
        YB(b, "LIVE");
        style = "THUMBNAIL_OVERLAY_BADGE_STYLE_LIVE";
    } else {
        long d = (long)s->duration;
        if (d >= 3600) {
            ytsim_buf_printf(b, "%ld:%02ld:%02ld", d / 3600, d / 60 % 60,
                             d % 60);
        } else {
            ytsim_buf_printf(b, "%ld:%02ld", d / 60, d % 60);
        }
    }
    ytsim_buf_printf(b,
                     "\",\"badgeStyle\":\"%s\",\"animationActivationTargetId"
                     "\":\"%s\"}}]}}]}},\"metadata\":{\"lockupMetadataViewModel"
                     "\":{\"title\":{\"content\":",
                     style, s->id);
    ytsim_buf_jstr(b, s->title);
    YB(b, "},\"metadata\":{\"contentMetadataViewModel\":{\"metadataRows\":[{"
          "\"metadataParts\":[{\"text\":{\"content\":\"");
    if (st == YTSIM_ST_UPCOMING) {
        ytsim_buf_u64(b, sts.viewers);
        ytsim_buf_puts(b, de ? " warten\"}},{\"text\":{\"content\":\""
                             : " waiting\"}},{\"text\":{\"content\":\"");
        s_lockup_start(b, de, s_unix(srv, ytsim_stream_sched(s, now)));
    } else if (st == YTSIM_ST_LIVE) {
        s_commas(b, sts.viewers);
        ytsim_buf_puts(b, de ? " Zuschauer" : " watching");
    } else {
        s_commas(b, sts.views);
        ytsim_buf_puts(b, de ? " Aufrufe" : " views");
    }
    YB(b, "\"}}]}],\"delimiter\":\" • \"}}}},\"contentId\":\"");
    ytsim_buf_puts(b, s->id);
    YB(b, "\",\"contentType\":\"LOCKUP_CONTENT_TYPE_VIDEO\",\"rendererContext\""
          ":{\"commandContext\":{\"onTap\":{\"innertubeCommand\":{"
          "\"commandMetadata\":{\"webCommandMetadata\":{\"url\":\"/watch?v=");
    ytsim_buf_puts(b, s->id);
    YB(b, "\",\"webPageType\":\"WEB_PAGE_TYPE_WATCH\",\"rootVe\":3832}},"
          "\"watchEndpoint\":{\"videoId\":\"");
    ytsim_buf_puts(b, s->id);
    YB(b, "\"}}}}}}}}}");
}

/* True when channel ci's /streams tab is served as lockups. */
static bool s_lockup_channel(const ytsim_scn_t *scn, int ci)
{
    const ytsim_channel_t *c = &scn->chans[ci];
    if (scn->era < 2026 || c->streams_form == 2) {
        return false;
    }
    return c->streams_form == 1 ||
           ytsim_hash3(scn->seed, ytsim_strhash(c->id), 0x10c) % 2 == 0;
}

/* The stream /@handle/live shows: the live one, else the next upcoming. */
static const ytsim_stream_t *s_channel_live(const ytsim_scn_t *scn, int ci,
                                            double now)
{
    const ytsim_stream_t *best = NULL;
    for (size_t i = 0; i < scn->n_streams; i++) {
        const ytsim_stream_t *s = &scn->streams[i];
        ytsim_state_t st = ytsim_stream_state(s, now);
        if (s->chan != ci || s->is_private ||
            (st != YTSIM_ST_LIVE && st != YTSIM_ST_UPCOMING)) {
            continue;
        }
        if (st == YTSIM_ST_LIVE) {
            return s;
        }
        if (!best ||
            ytsim_stream_sched(s, now) < ytsim_stream_sched(best, now)) {
            best = s;
        }
    }
    return best;
}

static void s_watch_page(ytsim_srv_t *srv, ytsim_resp_t *rs, const char *vid);

static void s_channel_page(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *p = rq->path;
    char key[128];
    if (strncmp(p, "/@", 2) == 0) {
        snprintf(key, sizeof key, "%s", p + 2);
    } else {
        snprintf(key, sizeof key, "%s", p + 9);
    }
    char *slash = strchr(key, '/');
    const char *tab = "";
    if (slash) {
        *slash = '\0';
        tab = slash + 1;
    }
    int ci = ytsim_find_channel(srv, key);
    if (ci < 0) {
        s_html_error(rs, 404);
        return;
    }
    const ytsim_channel_t *c = &scn->chans[ci];
    double now = ytsim_now(srv);
    if (strcmp(tab, "live") == 0) {
        const ytsim_stream_t *ls = s_channel_live(scn, ci, now);
        if (ls) {
            s_watch_page(srv, rs, ls->id);
            return;
        }
    }
    bool lockup = strcmp(tab, "streams") == 0 && s_lockup_channel(scn, ci);
    ytsim_buf_t *b = &rs->body;
    rs->ctype = "text/html; charset=utf-8";
    YB(b, "<!DOCTYPE html><html style=\"font-size: 10px;font-family: Roboto, "
          "Arial, sans-serif;\" lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>");
    ytsim_buf_xesc(b, c->title);
    ytsim_buf_printf(b,
                     " - YouTube</title><link rel=\"canonical\" href=\""
                     "https://www.youtube.com/channel/%s\"><meta property="
                     "\"og:url\" content=\"https://www.youtube.com/channel/"
                     "%s\"><meta itemprop=\"identifier\" content=\"%s\">"
                     "</head><body><script nonce=\"sim\">var ytInitialData"
                     " = {",
                     c->id, c->id, c->id);
    ytsim_response_context(b, ytsim_strhash(c->id));
    YB(b, ",\"contents\":{\"twoColumnBrowseResultsRenderer\":{\"tabs\":[{"
          "\"tabRenderer\":{\"title\":\"Live\",\"selected\":true,\"content\":{"
          "\"richGridRenderer\":{\"contents\":[");
    bool first = true;
    for (size_t i = 0; i < scn->n_streams; i++) {
        const ytsim_stream_t *s = &scn->streams[i];
        if (s->chan != ci || !s_rss_visible(s, now)) {
            continue;
        }
        if (!first) {
            YB(b, ",");
        }
        first = false;
        if (lockup) {
            s_lockup(srv, b, c, s, now);
        } else {
            s_video_renderer(srv, b, s, now);
        }
    }
    YB(b, "]}}}}]}},\"metadata\":{\"channelMetadataRenderer\":{\"title\":");
    ytsim_buf_jstr(b, c->title);
    YB(b, ",\"description\":\"\",\"rssUrl\":\"https://www.youtube.com/feeds/"
          "videos.xml?channel_id=");
    ytsim_buf_puts(b, c->id);
    YB(b, "\",\"externalId\":\"");
    ytsim_buf_puts(b, c->id);
    YB(b, "\",\"channelUrl\":\"https://www.youtube.com/channel/");
    ytsim_buf_puts(b, c->id);
    YB(b, "\",\"vanityChannelUrl\":\"http://www.youtube.com/@");
    ytsim_buf_puts(b, c->handle);
    YB(b, "\",\"isFamilySafe\":true}},\"header\":{\"pageHeaderRenderer\":{"
          "\"pageTitle\":");
    ytsim_buf_jstr(b, c->title);
    YB(b, "}},\"trackingParams\":\"CAAQhGciEwi\"};</script></body></html>");
}

/* ---- watch page ------------------------------------------------------ */

static void s_player_response(ytsim_srv_t *srv, ytsim_buf_t *b,
                              const ytsim_stream_t *s, const char *vid,
                              double now)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    YB(b, "{");
    ytsim_response_context(b, s ? s->vh : ytsim_strhash(vid));
    ytsim_state_t st = s ? ytsim_stream_state(s, now) : YTSIM_ST_HIDDEN;
    if (!s || st == YTSIM_ST_HIDDEN || st == YTSIM_ST_DELETED ||
        s->is_private) {
        const char *reason = s && st == YTSIM_ST_DELETED
                                 ? "This video has been removed by the uploader"
                                 : (s && s->is_private && st != YTSIM_ST_HIDDEN
                                        ? "This video is private"
                                        : "Video unavailable");
        YB(b, ",\"playabilityStatus\":{\"status\":\"ERROR\",\"reason\":");
        ytsim_buf_jstr(b, reason);
        YB(b, ",\"errorScreen\":{\"playerErrorMessageRenderer\":{\"reason\":{"
              "\"simpleText\":");
        ytsim_buf_jstr(b, reason);
        YB(b, "}}},\"contextParams\":\"Q0FFU0FnZ0I=\"},\"trackingParams\":"
              "\"CAAQu2kiEwi\"}");
        return;
    }
    const ytsim_channel_t *c = &scn->chans[s->chan];
    ytsim_stats_t sts;
    ytsim_stream_stats(scn, s, now, &sts);
    char ts[48];
    if (s->members_only && scn->era >= 2026) {
        /* 2026: UNPLAYABLE with the membership offer, localized */
        bool de = strcmp(c->hl, "de") == 0;
        const char *reason =
            de ? "Werde Kanalmitglied, um Zugriff auf dieses Video und "
                 "weitere exklusive Inhalte und Vorteile nur für "
                 "Kanalmitglieder zu erhalten."
               : "Join this channel to get access to members-only content "
                 "like this video, and other exclusive perks.";
        YB(b, ",\"playabilityStatus\":{\"status\":\"UNPLAYABLE\",\"reason\":");
        ytsim_buf_jstr(b, reason);
        YB(b, ",\"errorScreen\":{\"playerLegacyDesktopYpcOfferRenderer\":{"
              "\"itemTitle\":");
        ytsim_buf_jstr(b, de ? "Exklusive Inhalte für Kanalmitglieder"
                             : "Members-only content");
        YB(b, ",\"itemThumbnail\":\"https://yt3.ggpht.com/ytc/AIdro_");
        ytsim_buf_put(b, c->id + 2, 22);
        YB(b, "=s176-c-k-c0x00ffffff-no-rj\",\"offerDescription\":");
        ytsim_buf_jstr(b, reason);
        YB(b, ",\"offerId\":\"sponsors_only_video\"}},\"playableInEmbed\":"
              "true,\"skip\":{\"playabilityErrorSkipConfig\":{"
              "\"skipOnPlayabilityError\":false}},\"contextParams\":"
              "\"Q0FFU0FnZ0M=\"}");
    } else if (s->members_only) {
        YB(b, ",\"playabilityStatus\":{\"status\":\"LOGIN_REQUIRED\","
              "\"reason\":\"Join this channel to get access to members-only "
              "content like this video, and other exclusive perks.\","
              "\"playableInEmbed\":true,\"contextParams\":\"Q0FFU0FnZ0I=\"}");
    } else if (st == YTSIM_ST_UPCOMING) {
        ytsim_buf_printf(b,
                         ",\"playabilityStatus\":{\"status\":"
                         "\"LIVE_STREAM_OFFLINE\",\"reason\":\"This live "
                         "event will begin soon.\",\"playableInEmbed\":true,"
                         "\"liveStreamability\":{\"liveStreamabilityRenderer"
                         "\":{\"videoId\":\"%s\",\"offlineSlate\":{"
                         "\"liveStreamOfflineSlateRenderer\":{"
                         "\"scheduledStartTime\":\"%lld\",\"mainText\":{"
                         "\"runs\":[{\"text\":\"Live in \"},{\"text\":"
                         "\"soon\"}]}}},\"pollDelayMs\":\"15000\"}},"
                         "\"contextParams\":\"Q0FFU0FnZ0M=\"}",
                         s->id,
                         (long long)s_unix(srv, ytsim_stream_sched(s, now)));
    } else if (st == YTSIM_ST_LIVE) {
        ytsim_buf_printf(b,
                         ",\"playabilityStatus\":{\"status\":\"OK\","
                         "\"playableInEmbed\":true,\"liveStreamability\":{"
                         "\"liveStreamabilityRenderer\":{\"videoId\":\"%s\","
                         "\"pollDelayMs\":\"15000\"}},\"contextParams\":"
                         "\"Q0FFU0FnZ0M=\"}",
                         s->id);
    } else {
        YB(b, ",\"playabilityStatus\":{\"status\":\"OK\",\"playableInEmbed\":"
              "true,\"contextParams\":\"Q0FFU0FnZ0M=\"}");
    }
    long len = st == YTSIM_ST_ENDED ? (long)s->duration : 0;
    ytsim_buf_printf(b,
                     ",\"videoDetails\":{\"videoId\":\"%s\",\"title\":", s->id);
    ytsim_buf_jstr(b, s->title);
    ytsim_buf_printf(b, ",\"lengthSeconds\":\"%ld\",", len);
    if (st == YTSIM_ST_LIVE) {
        YB(b, "\"isLive\":true,");
    }
    ytsim_buf_printf(b,
                     "\"channelId\":\"%s\",\"isOwnerViewing\":false,"
                     "\"shortDescription\":\"Simulated stream\","
                     "\"isCrawlable\":true,",
                     c->id);
    if (st == YTSIM_ST_UPCOMING) {
        YB(b, "\"isUpcoming\":true,");
    }
    ytsim_buf_printf(
        b,
        "\"allowRatings\":true,\"viewCount\":\"%llu\","
        "\"author\":",
        (unsigned long long)(st == YTSIM_ST_UPCOMING ? 0 : sts.views));
    ytsim_buf_jstr(b, c->title);
    YB(b, ",\"isPrivate\":false,\"isUnpluggedCorpus\":false,");
    if (s->has_start || s->has_sched) {
        YB(b, "\"isLiveContent\":true,\"isLowLatencyLiveStream\":true,"
              "\"latencyClass\":\"MDE_STREAM_OPTIMIZATIONS_RENDERER_LATENCY_"
              "LOW\"}");
    } else {
        YB(b, "\"isLiveContent\":false}");
    }
    YB(b, ",\"microformat\":{\"playerMicroformatRenderer\":{\"title\":{"
          "\"simpleText\":");
    ytsim_buf_jstr(b, s->title);
    s_time(srv, ts, sizeof ts, s->announce, true);
    ytsim_buf_printf(
        b,
        "},\"lengthSeconds\":\"%ld\",\"ownerProfileUrl\":"
        "\"http://www.youtube.com/@%s\",\"externalChannelId\":"
        "\"%s\",\"isFamilySafe\":true,\"isUnlisted\":false,"
        "\"viewCount\":\"%llu\",\"category\":\"Entertainment\","
        "\"publishDate\":\"%.10s\",\"ownerChannelName\":",
        len, c->handle, c->id,
        (unsigned long long)(st == YTSIM_ST_UPCOMING ? 0 : sts.views), ts);
    ytsim_buf_jstr(b, c->title);
    YB(b, ",\"liveBroadcastDetails\":{");
    if (st == YTSIM_ST_LIVE) {
        s_time(srv, ts, sizeof ts, s->start, true);
        ytsim_buf_printf(b, "\"isLiveNow\":true,\"startTimestamp\":\"%s\"", ts);
    } else if (st == YTSIM_ST_ENDED) {
        s_time(srv, ts, sizeof ts, s->start, true);
        ytsim_buf_printf(b, "\"isLiveNow\":false,\"startTimestamp\":\"%s\"",
                         ts);
        s_time(srv, ts, sizeof ts, s->start + s->duration, true);
        ytsim_buf_printf(b, ",\"endTimestamp\":\"%s\"", ts);
    } else {
        s_time(srv, ts, sizeof ts, ytsim_stream_sched(s, now), true);
        ytsim_buf_printf(b, "\"isLiveNow\":false,\"startTimestamp\":\"%s\"",
                         ts);
    }
    s_time(srv, ts, sizeof ts, s->announce, true);
    ytsim_buf_printf(b,
                     "},\"uploadDate\":\"%.10s\"}},\"trackingParams\":"
                     "\"CAAQu2kiEwi\"}",
                     ts);
}

/* Writes ytInitialData (the same object /youtubei/v1/next answers). */
static void s_initial_data(ytsim_srv_t *srv, ytsim_buf_t *b, ytsim_stream_t *s,
                           const char *vid, double now)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    YB(b, "{");
    ytsim_response_context(b, (s ? s->vh : ytsim_strhash(vid)) ^ 1);
    ytsim_state_t st = s ? ytsim_stream_state(s, now) : YTSIM_ST_HIDDEN;
    bool visible =
        s && st != YTSIM_ST_HIDDEN && st != YTSIM_ST_DELETED && !s->is_private;
    YB(b, ",\"contents\":{\"twoColumnWatchNextResults\":{\"results\":{"
          "\"results\":{\"contents\":[");
    if (visible) {
        ytsim_stats_t sts;
        ytsim_stream_stats(scn, s, now, &sts);
        YB(b, "{\"videoPrimaryInfoRenderer\":{\"title\":{\"runs\":[{\"text\":");
        ytsim_buf_jstr(b, s->title);
        YB(b, "}]},\"viewCount\":{\"videoViewCountRenderer\":{\"viewCount\":");
        if (st == YTSIM_ST_LIVE) {
            YB(b, "{\"runs\":[{\"text\":\"");
            s_commas(b, sts.viewers);
            YB(b, "\"},{\"text\":\" watching now\"}]},\"isLive\":true");
        } else if (st == YTSIM_ST_UPCOMING) {
            YB(b, "{\"runs\":[{\"text\":\"");
            s_commas(b, sts.viewers);
            YB(b, "\"},{\"text\":\" waiting\"}]},\"isLive\":true");
        } else {
            YB(b, "{\"simpleText\":\"");
            s_commas(b, sts.views);
            YB(b, " views\"},\"shortViewCount\":{\"simpleText\":\"");
            s_short(b, sts.views);
            YB(b, " views\"}");
        }
        YB(b, ",\"originalViewCount\":\"");
        ytsim_buf_u64(b, st == YTSIM_ST_ENDED ? sts.views : sts.viewers);
        YB(b, "\"}},\"dateText\":{\"simpleText\":\"");
        if (st == YTSIM_ST_UPCOMING) {
            YB(b, "Scheduled for later");
        } else {
            char ts[48];
            ytsim_fmt_time(
                ts, sizeof ts,
                ytsim_wall_usec(srv, s->has_start ? s->start : s->announce), 0,
                false);
            ytsim_buf_printf(b, "%s %.10s",
                             st == YTSIM_ST_LIVE ? "Started streaming on"
                                                 : "Streamed live on",
                             ts);
        }
        YB(b, "\"},\"videoActions\":{\"menuRenderer\":{\"topLevelButtons\":[{"
              "\"segmentedLikeDislikeButtonRenderer\":{\"likeButton\":{"
              "\"toggleButtonRenderer\":{\"style\":{\"styleType\":\"STYLE_"
              "TEXT\"},\"isToggled\":false,\"isDisabled\":false,"
              "\"defaultIcon\":{\"iconType\":\"LIKE\"},\"defaultText\":{");
        if (s->likes_hidden) {
            YB(b, "\"simpleText\":\"Like\"}");
        } else {
            YB(b, "\"accessibility\":{\"accessibilityData\":{\"label\":\"");
            s_commas(b, sts.likes);
            YB(b, " likes\"}},\"simpleText\":\"");
            s_short(b, sts.likes);
            YB(b, "\"}");
        }
        YB(b, ",\"toggledIcon\":{\"iconType\":\"LIKE\"},\"accessibility\":{"
              "\"label\":\"like this video\"}}}}}]}}"
              "}},{\"videoSecondaryInfoRenderer\":{\"owner\":{"
              "\"videoOwnerRenderer\":{\"title\":{\"runs\":[{\"text\":");
        ytsim_buf_jstr(b, scn->chans[s->chan].title);
        YB(b, ",\"navigationEndpoint\":{\"browseEndpoint\":{\"browseId\":\"");
        ytsim_buf_puts(b, scn->chans[s->chan].id);
        YB(b, "\",\"canonicalBaseUrl\":\"/@");
        ytsim_buf_puts(b, scn->chans[s->chan].handle);
        YB(b, "\"}}}]}}}}}");
    }
    YB(b, "]}}");
    if (visible) {
        /* the sidebar lists the channel's other videos; upcoming ones carry
         * upcomingEventData.startTime */
        YB(b, ",\"secondaryResults\":{\"secondaryResults\":{\"results\":[");
        bool first = true;
        for (size_t i = 0; i < scn->n_streams; i++) {
            const ytsim_stream_t *o = &scn->streams[i];
            ytsim_state_t ost = ytsim_stream_state(o, now);
            if (o == s || o->chan != s->chan || o->is_private ||
                ost == YTSIM_ST_HIDDEN || ost == YTSIM_ST_DELETED) {
                continue;
            }
            ytsim_buf_puts(b, first ? "" : ",");
            first = false;
            YB(b, "{\"compactVideoRenderer\":{\"videoId\":\"");
            ytsim_buf_puts(b, o->id);
            YB(b, "\",\"title\":{\"simpleText\":");
            ytsim_buf_jstr(b, o->title);
            YB(b, "}");
            if (ost == YTSIM_ST_UPCOMING) {
                ytsim_buf_printf(
                    b,
                    ",\"upcomingEventData\":{\"startTime\":"
                    "\"%lld\",\"isReminderSet\":false,"
                    "\"upcomingEventText\":{\"runs\":[{"
                    "\"text\":\"Scheduled for \"},{\"text\":"
                    "\"DATE_PLACEHOLDER\"}]}}",
                    (long long)s_unix(srv, ytsim_stream_sched(o, now)));
            } else if (ost == YTSIM_ST_LIVE) {
                YB(b, ",\"badges\":[{\"metadataBadgeRenderer\":{\"style\":"
                      "\"BADGE_STYLE_TYPE_LIVE_NOW\",\"label\":\"LIVE\"}}]");
            }
            YB(b, "}}");
        }
        YB(b, "]}}");
    }
    bool chat = visible && !s->chat_disabled && !s->members_only &&
                (st == YTSIM_ST_UPCOMING || st == YTSIM_ST_LIVE ||
                 (st == YTSIM_ST_ENDED && ytsim_chat_total(s) > 0));
    if (chat) {
        bool replay = st == YTSIM_ST_ENDED;
        uint32_t pos = replay ? 0 : ytsim_chat_initial_pos(srv, s, now);
        YB(b, ",\"conversationBar\":{\"liveChatRenderer\":{\"continuations\":"
              "[{\"reloadContinuationData\":{\"continuation\":\"");
        ytsim_chat_token(b, scn, s, replay ? 'r' : 'T', pos, true);
        YB(b, "\",\"clickTrackingParams\":\"CDQQxqYCIhMI0PnT9ofQ8QIVZET1BR1e"
              "JAnz\"}}],");
        /* era 2026: the menu holds the relative tokens (UINT32_MAX) */
        ytsim_chat_header(b, scn, s, replay, s->era >= 2026 ? UINT32_MAX : pos,
                          true);
        YB(b,
           ",\"trackingParams\":\"CDMQxqYCIhMI0PnT9ofQ8QIV\",\"clientMessages"
           "\":{\"reconnectMessage\":{\"runs\":[{\"text\":\"Chat disconnected"
           ". Attempting to reconnect...\"}]},\"unableToReconnectMessage\":{"
           "\"runs\":[{\"text\":\"Unable to reconnect\"}]},\"fatalError\":{"
           "\"runs\":[{\"text\":\"Unable to connect to chat\"}]},"
           "\"reconnectedMessage\":{\"runs\":[{\"text\":\"Chat reconnected\""
           "}]},\"genericError\":{\"runs\":[{\"text\":\"Error, try again.\"}]"
           "}},\"initialDisplayState\":\"LIVE_CHAT_DISPLAY_STATE_EXPANDED\"");
        if (replay) {
            YB(b, ",\"isReplay\":true");
        }
        YB(b, "}}");
    }
    YB(b, "}},\"currentVideoEndpoint\":{\"watchEndpoint\":{\"videoId\":");
    ytsim_buf_jstr(b, vid);
    YB(b, "}},\"trackingParams\":\"CAAQg2ciEwi\"}");
}

static bool s_valid_vid(const char *v)
{
    if (!v || strlen(v) != 11) {
        return false;
    }
    for (const char *c = v; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) {
            return false;
        }
    }
    return true;
}

static void s_watch(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *vid = ytsim_query(rq, "v");
    s_watch_page(srv, rs, s_valid_vid(vid) ? vid : "AAAAAAAAAAA");
}

static void s_watch_page(ytsim_srv_t *srv, ytsim_resp_t *rs, const char *vid)
{
    ytsim_stream_t *s = ytsim_find_stream(srv, vid);
    double now = ytsim_now(srv);
    ytsim_buf_t *b = &rs->body;
    rs->ctype = "text/html; charset=utf-8";
    YB(b, "<!DOCTYPE html><html style=\"font-size: 10px;font-family: Roboto, "
          "Arial, sans-serif;\" lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>");
    ytsim_buf_xesc(b, s ? s->title : "YouTube");
    YB(b, " - YouTube</title><link rel=\"canonical\" href=\"https://www."
          "youtube.com/watch?v=");
    ytsim_buf_puts(b, vid);
    YB(b,
       "\"></head><body><script nonce=\"sim\">var ytInitialPlayerResponse = ");
    s_player_response(srv, b, s, vid, now);
    YB(b, ";</script><div id=\"player\"></div><script nonce=\"sim\">var "
          "ytInitialData = ");
    s_initial_data(srv, b, s, vid, now);
    YB(b, ";</script></body></html>");
    if (s && ytsim_stream_state(s, now) != YTSIM_ST_HIDDEN &&
        ytsim_stream_state(s, now) != YTSIM_ST_DELETED && !s->is_private) {
        ytsim_stats_t st;
        ytsim_stream_stats(ytsim_scn(srv), s, now, &st);
        ytsim_truth_stats(srv, "watch", s, now, &st,
                          ytsim_stream_state(s, now) == YTSIM_ST_LIVE);
    }
}

/* ---- innertube JSON calls ------------------------------------------- */

static const char *s_body_str(ytsim_req_t *rq, const char *key)
{
    json_t *j = ytsim_body_json(rq);
    json_t *v = j && json_is_object(j) ? json_object_get(j, key) : NULL;
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

static void s_next(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *vid = s_body_str(rq, "videoId");
    if (!ytsim_body_json(rq) || !s_valid_vid(vid)) {
        s_innertube_error(rs, 400, "INVALID_ARGUMENT",
                          "Request contains an invalid argument.");
        return;
    }
    ytsim_stream_t *s = ytsim_find_stream(srv, vid);
    s_initial_data(srv, ytsim_resp_json(rs, 200), s, vid, ytsim_now(srv));
}

/* The stream a token names, with its mode and position (a token without
 * ytsim's own field starts where a new client would), or NULL. */
static ytsim_stream_t *s_token_stream(ytsim_srv_t *srv, const char *tok,
                                      ytsim_tok_t *tk)
{
    if (!ytsim_chat_token_parse(tok, tk)) {
        return NULL;
    }
    ytsim_stream_t *s = ytsim_find_stream(srv, tk->vid);
    if (s && tk->pos == UINT32_MAX) {
        bool replay = tk->mode == 'R' || tk->mode == 'r';
        tk->pos = replay ? 0 : ytsim_chat_initial_pos(srv, s, ytsim_now(srv));
    }
    return s;
}

/* currentPlayerState.playerOffsetMs of a replay request (string or
 * number); false when absent. */
static bool s_player_offset(ytsim_req_t *rq, int64_t *ms)
{
    json_t *j = ytsim_body_json(rq);
    json_t *ps = j && json_is_object(j)
                     ? json_object_get(j, "currentPlayerState")
                     : NULL;
    json_t *v =
        ps && json_is_object(ps) ? json_object_get(ps, "playerOffsetMs") : NULL;
    if (v && json_is_string(v)) {
        char *end = NULL;
        long long x = strtoll(json_string_value(v), &end, 10);
        if (end && *end == '\0' && end != json_string_value(v)) {
            *ms = x;
            return true;
        }
    } else if (v && json_is_integer(v)) {
        *ms = (int64_t)json_integer_value(v);
        return true;
    }
    return false;
}

static void s_get_live_chat(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *tok = s_body_str(rq, "continuation");
    ytsim_tok_t tk;
    ytsim_stream_t *s = tok ? s_token_stream(srv, tok, &tk) : NULL;
    if (!s) {
        /* also a relative (video-agnostic) token: the real 400 */
        s_innertube_error(rs, 400, "INVALID_ARGUMENT",
                          "Request contains an invalid argument.");
        return;
    }
    int64_t off;
    bool replay = tk.mode == 'R' || tk.mode == 'r';
    if (s->era >= 2026 && replay && !tk.first && s_player_offset(rq, &off)) {
        /* playerOffsetMs on a follow-up request drags the replay back to
         * that offset, as the real site does */
        tk.pos = ytsim_chat_replay_seek(s, off < 0 ? 0 : off);
    }
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    rs->status =
        ytsim_chat_response(srv, s, tk.mode, tk.pos, false, tk.first, b);
}

static void s_live_chat_page(ytsim_srv_t *srv, ytsim_req_t *rq,
                             ytsim_resp_t *rs, bool replay)
{
    const char *tok = ytsim_query(rq, "continuation");
    ytsim_tok_t tk = {.mode = replay ? 'R' : 'L'};
    ytsim_stream_t *s = NULL;
    if (tok) {
        s = s_token_stream(srv, tok, &tk);
    } else {
        s = ytsim_find_stream(srv, ytsim_query(rq, "v"));
        if (s && !replay) {
            tk.pos = ytsim_chat_initial_pos(srv, s, ytsim_now(srv));
        }
    }
    if (!s) {
        s_html_error(rs, 400);
        return;
    }
    bool tok_replay = tk.mode == 'R' || tk.mode == 'r';
    if (replay && (!tok_replay || s->era < 2026)) {
        tk.mode = tk.mode == 'T' && s->era >= 2026 ? 'r' : 'R';
    } else if (!replay && tok_replay) {
        tk.mode = tk.mode == 'r' ? 'T' : 'L';
    }
    ytsim_buf_t json = {0};
    int code = ytsim_chat_response(srv, s, tk.mode, tk.pos, true, true, &json);
    if (code != 200) {
        rs->status = code;
        rs->body = json;
        return;
    }
    ytsim_buf_t *b = &rs->body;
    rs->ctype = "text/html; charset=utf-8";
    YB(b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>live_chat</title></head><body><script nonce=\"sim\">window["
          "\"ytInitialData\"] = ");
    ytsim_buf_put(b, json.p, json.len);
    YB(b, ";</script></body></html>");
    ytsim_buf_free(&json);
}

static void s_updated_metadata(ytsim_srv_t *srv, ytsim_req_t *rq,
                               ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *vid = s_body_str(rq, "videoId");
    const char *tok = s_body_str(rq, "continuation");
    char vbuf[12];
    if (!vid && tok) {
        /* our metadata continuation is "umd" + video id */
        if (strlen(tok) == 14 && strncmp(tok, "umd", 3) == 0) {
            memcpy(vbuf, tok + 3, 11);
            vbuf[11] = '\0';
            vid = vbuf;
        }
    }
    ytsim_stream_t *s = ytsim_find_stream(srv, vid);
    double now = ytsim_now(srv);
    ytsim_state_t st = s ? ytsim_stream_state(s, now) : YTSIM_ST_HIDDEN;
    if (!s || st == YTSIM_ST_HIDDEN || st == YTSIM_ST_DELETED ||
        s->is_private) {
        s_innertube_error(rs, s ? 404 : 400,
                          s ? "NOT_FOUND" : "INVALID_ARGUMENT",
                          s ? "Requested entity was not found."
                            : "Request contains an invalid argument.");
        return;
    }
    ytsim_stats_t sts;
    ytsim_stream_stats(scn, s, now, &sts);
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    YB(b, "{");
    ytsim_response_context(b, s->vh ^ 3);
    double sp = ytsim_speed(srv);
    int tmo = (int)(sp > 0 ? 5000 / sp : 5000);
    ytsim_buf_printf(b,
                     ",\"continuation\":{\"timedContinuationData\":{"
                     "\"timeoutMs\":%d,\"continuation\":\"umd%s\"}},"
                     "\"actions\":[{\"updateViewershipAction\":{"
                     "\"viewCount\":{\"videoViewCountRenderer\":{"
                     "\"viewCount\":",
                     tmo < 50 ? 50 : tmo, s->id);
    bool live = st == YTSIM_ST_LIVE;
    if (live || st == YTSIM_ST_UPCOMING) {
        YB(b, "{\"runs\":[{\"text\":\"");
        s_commas(b, sts.viewers);
        ytsim_buf_puts(b,
                       live ? "\"},{\"text\":\" watching now\"}]},"
                              "\"isLive\":true"
                            : "\"},{\"text\":\" waiting\"}]},\"isLive\":true");
        YB(b, ",\"extraShortViewCount\":{\"simpleText\":\"");
        s_short(b, sts.viewers);
        YB(b, "\"},\"unlabeledViewCountValue\":{\"simpleText\":\"");
        s_commas(b, sts.viewers);
        YB(b, "\"},\"originalViewCount\":\"");
        ytsim_buf_u64(b, sts.viewers);
    } else {
        YB(b, "{\"simpleText\":\"");
        s_commas(b, sts.views);
        YB(b, " views\"},\"extraShortViewCount\":{\"simpleText\":\"");
        s_short(b, sts.views);
        YB(b, "\"},\"originalViewCount\":\"");
        ytsim_buf_u64(b, sts.views);
    }
    YB(b, "\"}}}},{\"updateToggleButtonTextAction\":{\"defaultText\":{"
          "\"simpleText\":\"");
    if (s->likes_hidden) {
        YB(b, "Like\"},\"toggledText\":{\"simpleText\":\"Like\"}");
    } else {
        s_short(b, sts.likes);
        YB(b, "\",\"accessibility\":{\"accessibilityData\":{\"label\":\"like "
              "this video along with ");
        s_commas(b, sts.likes);
        YB(b, " other people\"}}},\"toggledText\":{\"simpleText\":\"");
        s_short(b, sts.likes + 1);
        YB(b, "\"}");
    }
    YB(b, ",\"buttonId\":\"TOGGLE_BUTTON_ID_TYPE_LIKE\"}},"
          "{\"updateDateTextAction\":{\"dateText\":{\"simpleText\":\"");
    ytsim_buf_puts(
        b, live ? "Started streaming recently"
                : (st == YTSIM_ST_UPCOMING ? "Scheduled" : "Streamed live"));
    YB(b, "\"}}},{\"updateTitleAction\":{\"title\":{\"runs\":[{\"text\":");
    ytsim_buf_jstr(b, s->title);
    YB(b, "}]}}}]}");
    ytsim_truth_stats(srv, "updated_metadata", s, now, &sts, live);
}

/* The consent interstitial shown instead of a page to a client without the
 * SOCS cookie (scenario consent = true): no ytInitialData, a form posting to
 * consent.youtube.com. */
static bool s_consent(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *ep = rq->ep;
    if (!ytsim_scn(srv)->consent || strcmp(rq->method, "GET") != 0 ||
        (strcmp(ep, "watch") != 0 && strcmp(ep, "channel_page") != 0 &&
         strcmp(ep, "live_chat") != 0 && strcmp(ep, "live_chat_replay") != 0)) {
        return false;
    }
    const char *ck = ytsim_header(rq, "Cookie");
    if (ck && (strncmp(ck, "SOCS=", 5) == 0 || strstr(ck, " SOCS=") ||
               strstr(ck, ";SOCS="))) {
        return false;
    }
    ytsim_buf_t *b = &rs->body;
    rs->status = 200;
    rs->ctype = "text/html; charset=utf-8";
    YB(b, "<!DOCTYPE html><html lang=\"en\" dir=\"ltr\"><head><meta "
          "charset=\"utf-8\"><title>Before you continue to YouTube</title>"
          "</head><body><div class=\"consent\"><h1>Before you continue to "
          "YouTube</h1><p>We use cookies and data to deliver and maintain "
          "Google services.</p><form action=\"https://consent.youtube.com/"
          "save\" method=\"POST\"><input type=\"hidden\" name=\"gl\" "
          "value=\"DE\"><input type=\"hidden\" name=\"m\" value=\"0\">"
          "<input type=\"hidden\" name=\"pc\" value=\"yt\"><input type="
          "\"hidden\" name=\"continue\" value=\"https://www.youtube.com");
    ytsim_buf_xesc(b, rq->path);
    YB(b, "\"><input type=\"hidden\" name=\"hl\" value=\"en\"><input "
          "type=\"hidden\" name=\"src\" value=\"1\"><input type=\"hidden\" "
          "name=\"set_eom\" value=\"true\"><button>Reject all</button>"
          "</form><form action=\"https://consent.youtube.com/save\" "
          "method=\"POST\"><input type=\"hidden\" name=\"set_eom\" "
          "value=\"false\"><button>Accept all</button></form></div></body>"
          "</html>");
    return true;
}

bool ytsim_youtube_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *ep = rq->ep;
    bool post = strcmp(rq->method, "POST") == 0;
    if (s_consent(srv, rq, rs)) {
        return true;
    }
    if (strcmp(ep, "rss") == 0) {
        s_rss(srv, rq, rs);
    } else if (strcmp(ep, "channel_page") == 0) {
        s_channel_page(srv, rq, rs);
    } else if (strcmp(ep, "watch") == 0 && strcmp(rq->path, "/watch") == 0) {
        s_watch(srv, rq, rs);
    } else if (strcmp(ep, "next") == 0 && post) {
        s_next(srv, rq, rs);
    } else if ((strcmp(ep, "get_live_chat") == 0 ||
                strcmp(ep, "get_live_chat_replay") == 0) &&
               post) {
        s_get_live_chat(srv, rq, rs);
    } else if (strcmp(ep, "updated_metadata") == 0 && post) {
        s_updated_metadata(srv, rq, rs);
    } else if (strcmp(ep, "live_chat") == 0) {
        s_live_chat_page(srv, rq, rs, false);
    } else if (strcmp(ep, "live_chat_replay") == 0) {
        s_live_chat_page(srv, rq, rs, true);
    } else {
        return false;
    }
    return true;
}
