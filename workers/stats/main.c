/* tw-stats - samples concurrent viewers of live streams every
 * viewers_interval and views/likes/favorites/comments of watched videos
 * every stats_interval (docs/capture.md), and sends
 * stats.sample to the writer and the notifier. What is polled when is
 * stats_sampler: the live set from the scanner's stream table
 * (common/store/tw_scan), the uploads of the listed channels of this host's
 * shard (channels.list -> uploads playlist -> playlistItems with a key, and
 * the scanner's table) within uploads_max_age and uploads_max, and
 * [worker.stats] videos. Data API
 * videos.list (50 ids a call) with a key and quota left, else the web
 * client's updated_metadata (viewers) and watch page (counts). A hidden
 * count stays absent, never 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "stats_sampler.h"
#include "tw_scan.h"
#include "tw_cfg.h"
#include "tw_deliver.h"
#include "tw_file.h"
#include "tw_fstamp.h"
#include "tw_http.h"
#include "tw_log.h"
#include "tw_loop.h"
#include "tw_proto.h"
#include "tw_quota.h"
#include "tw_time.h"
#include "tw_worker.h"
#include "tw_ytapi.h"
#include "tw_ytpage.h"
#include "tw_ytweb.h"

#define S_BATCH 50
/* Shares of the daily quota: viewers polls and count polls (+ uploads). */
#define S_SHARE_VIEWERS 0.25
#define S_SHARE_STATS   0.25
/* Most playlistItems pages read for one channel in one refresh. */
#define S_MAX_PAGES 20
/* Output links: the writer, the notifier and the kafka worker. */
#define S_NOUT 3
/* Longest wait between two runs of the worker's work. */
#define S_TICK_MS 250

/* One output link. */
typedef struct {
    const char *name; /* "writer", "notifier", "kafka" */
    tw_deliver_t *d;  /* sender, NULL when that worker is not configured */
} s_out_t;

/* The worker. */
typedef struct {
    tw_worker_t *w;          /* supervisor link */
    tw_loop_t *loop;         /* the event loop */
    const tw_cfg_t *cfg;     /* config (borrowed) */
    char dir[2100];          /* STATE/stats */
    char streams_path[2200]; /* the scanner's stream table */
    char handles_path[2200]; /* the scanner's handle cache */
    char uploads_path[2200]; /* STATE/stats/uploads.tsv */
    bool uploads_unsaved;    /* its last save failed: retried each tick */
    tw_http_t *web;          /* web client */
    tw_http_t *api;          /* Data API, NULL without a key */
    tw_quota_t *quota;       /* shared quota */
    tw_ytapi_t *yt;          /* Data API parser */
    tw_ytpage_t *page;       /* page parser */
    s_out_t out[S_NOUT];     /* writer, notifier, kafka */
    stats_sampler_t *sam;    /* what to poll when */
    tw_fstamp_t streams_st;  /* the stream table's identity */
    tw_fstamp_t chan_st;     /* channels file identity */
    tw_fstamp_t handles_st;  /* the handle cache's identity */
    int64_t next_files_ms;   /* next check of the files */
    int64_t last_us;         /* last sampled_at (kept increasing) */
    uint64_t samples;        /* samples sent */
    uint64_t skipped;        /* polls skipped (no credit) */
} s_stats_t;

static int64_t s_mono(void)
{
    return tw_time_mono_ms();
}

/* ---- inputs: channels file, scanner table, config ---- */

/* The channel ids of the channels file: @handles through the scanner's
 * handle cache (one not resolved yet is left out). */
static void s_load_channels(s_stats_t *S)
{
    tw_scan_chan_ref_t *refs = NULL;
    size_t n = 0;
    tw_scan_handle_t *hs = NULL;
    size_t nh = 0;
    if (tw_scan_channels_load(S->cfg->scanner.channels_file, &refs, &n, NULL,
                              NULL) != TW_OK)
        return;
    tw_scan_handles_load(S->handles_path, &hs, &nh, NULL);
    const char **ids = calloc(n ? n : 1, sizeof *ids);
    size_t k = 0;
    for (size_t i = 0; ids && i < n; i++) {
        const char *id = refs[i].kind == TW_ID_CHANNEL
                             ? refs[i].ref
                             : tw_scan_handles_find(hs, nh, refs[i].ref);
        if (id)
            ids[k++] = id;
    }
    if (ids)
        stats_sampler_set_channels(S->sam, ids, k);
    free(ids);
    free(refs);
    free(hs);
}

/* Re-reads the scanner's table: the live set, and the videos of listed
 * channels (the feed's recent uploads) as watched uploads. */
static void s_load_streams(s_stats_t *S)
{
    tw_scan_stream_t *v = NULL;
    size_t n = 0;
    if (tw_scan_streams_load(S->streams_path, &v, &n, NULL) != TW_OK)
        return;
    size_t nlive = stats_sampler_streams(S->sam, v, n, tw_time_now_us());
    free(v);
    tw_log_debug("%zu live stream(s)", nlive);
}

static void s_load_uploads(s_stats_t *S);

static void s_check_files(s_stats_t *S, bool force)
{
    if (!force && s_mono() < S->next_files_ms)
        return;
    S->next_files_ms = s_mono() + 1000;
    bool chan = tw_fstamp_changed(&S->chan_st, S->cfg->scanner.channels_file);
    bool handles = tw_fstamp_changed(&S->handles_st, S->handles_path);
    if (force || chan || handles) {
        s_load_channels(S);
        s_load_uploads(S);
        force = true; /* the uploads of new channels are in the table */
    }
    if (tw_fstamp_changed(&S->streams_st, S->streams_path) || force)
        s_load_streams(S);
}

/* ---- output ---- */

static bool s_can_send(const s_stats_t *S)
{
    for (size_t i = 0; i < S_NOUT; i++)
        if (S->out[i].d && !tw_deliver_can_send(S->out[i].d))
            return false;
    return true;
}

static tw_ou64_t s_opt(bool set, uint64_t v)
{
    return (tw_ou64_t){set, set ? v : 0};
}

/* Sends one sample to every output. */
static void s_send(s_stats_t *S, const stats_vid_t *v, tw_ou64_t viewers,
                   tw_ou64_t views, tw_ou64_t likes, tw_ou64_t favs,
                   tw_ou64_t comments)
{
    int64_t now = tw_time_now_us();
    if (now <= S->last_us)
        now = S->last_us + 1; /* (video, sampled_at) is the writer's key */
    S->last_us = now;
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_STATS_SAMPLE;
    tw_msg_stats_sample_t *s = &m.u.stats_sample;
    s->video_id = (char *)v->id;
    s->channel_id = (char *)v->chan;
    s->title = (char *)v->title;
    s->sampled_at_us = now;
    s->concurrent_viewers = viewers;
    s->views = views;
    s->likes = likes;
    s->favorites = favs;
    s->comments = comments;
    s->published_at_us = (tw_oi64_t){v->published_known, v->published_us};
    s->description = v->description;
    for (size_t i = 0; i < S_NOUT; i++) {
        if (!S->out[i].d)
            continue;
        tw_err_t err = {{0}, 0, 0};
        if (tw_deliver_send(S->out[i].d, &m, &err) != TW_OK)
            tw_log_warn("stats.sample to the %s: %s", S->out[i].name, err.msg);
    }
    S->samples++;
    tw_worker_count(S->w, 0, 1, 0);
}

/* ---- Data API ---- */

static void s_quota_hit(s_stats_t *S)
{
    int64_t before = tw_quota_blocked_until(S->quota);
    tw_quota_exhausted(S->quota, NULL);
    if (!before) {
        char ts[TW_TIME_STR_SIZE];
        tw_log_warn("Data API quota exhausted: quota-free sources until %s",
                    tw_time_format(tw_quota_blocked_until(S->quota), ts));
    }
}

/* GETs a Data API path (key appended) and parses it with parse. Returns
 * the parse result; spends quota for answered calls. */
static tw_rc_t s_api_get(s_stats_t *S, const char *method, const char *path,
                         tw_rc_t (*parse)(tw_ytapi_t *, const char *, size_t,
                                          tw_err_t *))
{
    if (!S->api || !tw_quota_allowed(S->quota, 1))
        return TW_ERR_QUOTA;
    char *key = tw_http_escape(S->cfg->youtube.api_key);
    size_t n = strlen(path) + (key ? strlen(key) : 0) + 8;
    char *url = malloc(n);
    if (!key || !url) {
        free(key);
        free(url);
        return TW_ERR_NOMEM;
    }
    snprintf(url, n, "%s&key=%s", path, key);
    free(key);
    tw_http_resp_t resp = {0};
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = tw_http_get(S->api, url, NULL, &resp, &err);
    free(url);
    if (rc != TW_OK && rc != TW_ERR_HTTP && rc != TW_ERR_AGAIN) {
        tw_log_warn("%s: %s", method, err.msg);
        tw_http_resp_clear(&resp);
        return rc;
    }
    tw_rc_t prc = parse(S->yt, resp.body ? resp.body : "", resp.body_len, &err);
    if (rc == TW_OK && resp.status >= 200 && resp.status < 300)
        tw_quota_spend(S->quota, method, 1, NULL);
    tw_http_resp_clear(&resp);
    if (prc == TW_ERR_QUOTA) {
        s_quota_hit(S);
    } else if (prc == TW_ERR_CONFIG || prc == TW_ERR_AUTH) {
        tw_log_error("%s refused (%s): quota-free sources only", method,
                     err.msg);
        tw_http_destroy(&S->api);
    } else if (prc != TW_OK) {
        tw_log_warn("%s: %s", method, err.msg[0] ? err.msg : tw_rc_str(prc));
    }
    return prc;
}

/* Samples v[0..n) with one videos.list call. TW_OK when answered. */
static tw_rc_t s_sample_api(s_stats_t *S, stats_vid_t **v, size_t n,
                            bool viewers_only)
{
    char path[S_BATCH * 13 + 128];
    size_t off = (size_t)snprintf(
        path, sizeof path, "videos?part=statistics,liveStreamingDetails%s&id=",
        viewers_only ? "" : ",snippet");
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(path + off, sizeof path - off, "%s%s",
                                i ? "," : "", v[i]->id);
    snprintf(path + off, sizeof path - off, "&maxResults=50");
    tw_rc_t rc = s_api_get(S, "videos.list", path, tw_ytapi_parse_videos);
    if (rc != TW_OK)
        return rc;
    size_t nv = tw_ytapi_video_count(S->yt);
    for (size_t i = 0; i < n; i++) {
        const tw_ytapi_video_t *it = NULL;
        for (size_t k = 0; k < nv && !it; k++)
            if (strcmp(tw_ytapi_video(S->yt, k)->id, v[i]->id) == 0)
                it = tw_ytapi_video(S->yt, k);
        if (!it) {
            v[i]->gone = true; /* deleted or private: nothing to sample */
            continue;
        }
        if (it->title[0])
            snprintf(v[i]->title, sizeof v[i]->title, "%s", it->title);
        if (it->channel_id[0] && !v[i]->chan[0])
            snprintf(v[i]->chan, sizeof v[i]->chan, "%s", it->channel_id);
        if (it->published_usec) {
            v[i]->published_us = it->published_usec;
            v[i]->published_known = true;
        }
        stats_sampler_set_description(S->sam, v[i], it->description);
        s_send(S, v[i], s_opt(it->concurrent.present, it->concurrent.value),
               s_opt(it->views.present, it->views.value),
               s_opt(it->likes.present, it->likes.value),
               s_opt(it->favorites.present, it->favorites.value),
               s_opt(it->comments.present, it->comments.value));
    }
    return TW_OK;
}

/* ---- quota-free sources ---- */

static void s_sample_viewers_web(s_stats_t *S, stats_vid_t *v)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"context\":{\"client\":{\"clientName\":\"WEB\","
             "\"clientVersion\":\"2.20240101.00.00\",\"hl\":\"en\"}},"
             "\"videoId\":\"%s\"}",
             v->id);
    static const char *const hdrs[] = {"Content-Type: application/json", NULL};
    tw_http_resp_t resp = {0};
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = tw_http_post(S->web, "youtubei/v1/updated_metadata", hdrs,
                              body, strlen(body), &resp, &err);
    if (rc == TW_OK) {
        tw_ytpage_reset(S->page);
        rc = tw_ytpage_parse_json(S->page, resp.body ? resp.body : "",
                                  resp.body_len, &err);
    }
    tw_http_resp_clear(&resp);
    if (rc != TW_OK) {
        tw_log_warn("updated_metadata of %s: %s", v->id, err.msg);
        tw_worker_count(S->w, 0, 0, 1);
        return;
    }
    const tw_ytpage_info_t *in = tw_ytpage_info(S->page);
    if (in->viewers < 0 && in->likes < 0)
        return; /* hidden or abbreviated: nothing exact to report */
    tw_ou64_t none = {false, 0};
    s_send(S, v, s_opt(in->viewers >= 0, (uint64_t)in->viewers), none,
           s_opt(in->likes >= 0, (uint64_t)in->likes), none, none);
}

static void s_sample_page(s_stats_t *S, stats_vid_t *v)
{
    char url[64];
    snprintf(url, sizeof url, "watch?v=%s", v->id);
    tw_http_resp_t resp = {0};
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = tw_http_get(S->web, url, NULL, &resp, &err);
    if (rc == TW_OK)
        rc = tw_ytpage_parse_html(S->page, resp.body ? resp.body : "",
                                  resp.body_len, &err);
    tw_http_resp_clear(&resp);
    if (rc != TW_OK) {
        tw_log_warn("watch page of %s: %s", v->id, err.msg);
        tw_worker_count(S->w, 0, 0, 1);
        return;
    }
    const tw_ytpage_info_t *in = tw_ytpage_info(S->page);
    if (in->play == TW_YTPAGE_PLAY_ERROR) {
        v->gone = true;
        return;
    }
    if (in->title[0])
        snprintf(v->title, sizeof v->title, "%s", in->title);
    if (in->channel_id[0] && !v->chan[0])
        snprintf(v->chan, sizeof v->chan, "%s", in->channel_id);
    if (in->views < 0 && in->likes < 0 && in->viewers < 0)
        return;
    tw_ou64_t none = {false, 0};
    s_send(S, v,
           s_opt(in->state == TW_YTPAGE_STATE_LIVE && in->viewers >= 0,
                 (uint64_t)in->viewers),
           /* an upcoming stream's page shows 0 views: not a count */
           s_opt(in->views >= 0 && in->state != TW_YTPAGE_STATE_UPCOMING,
                 (uint64_t)in->views),
           s_opt(in->likes >= 0, (uint64_t)in->likes), none, none);
}

/* Samples the selected videos: the API in batches, else the web. */
static void s_poll(s_stats_t *S, bool viewers)
{
    if (!s_can_send(S)) {
        S->skipped++;
        tw_log_warn("outputs have no credit: %s poll skipped",
                    viewers ? "viewers" : "stats");
        return;
    }
    stats_vid_t **sel =
        malloc((stats_sampler_video_count(S->sam) + 1) * sizeof *sel);
    if (!sel)
        return;
    size_t n = stats_sampler_select(
        S->sam, viewers ? STATS_POLL_VIEWERS : STATS_POLL_COUNTS, sel);
    for (size_t off = 0; off < n && !tw_worker_stopping(S->w); off += S_BATCH) {
        size_t k = n - off < S_BATCH ? n - off : S_BATCH;
        if (S->api && s_sample_api(S, sel + off, k, viewers) == TW_OK)
            continue;
        for (size_t i = 0; i < k && !tw_worker_stopping(S->w); i++) {
            tw_worker_service(S->w);
            if (viewers)
                s_sample_viewers_web(S, sel[off + i]);
            else
                s_sample_page(S, sel[off + i]);
        }
    }
    free(sel);
}

/* ---- uploads (Data API) ---- */

/* Saves the watch list; a failure (disk full, EIO) is said once, kept in
 * memory and retried at every tick until a save works (the list read at
 * the next start would otherwise miss uploads already found). */
static void s_save_uploads(s_stats_t *S)
{
    size_t len = 0;
    tw_err_t err = {{0}, 0, 0};
    char *buf = stats_sampler_uploads_format(S->sam, &len);
    if (!buf)
        tw_err_set(&err, "out of memory");
    tw_rc_t rc =
        buf ? tw_file_write_atomic(S->uploads_path, buf, len, 0644, &err)
            : TW_ERR_NOMEM;
    free(buf);
    if (rc != TW_OK) {
        if (!S->uploads_unsaved)
            tw_log_error("unable to save the watch list (retrying): %s",
                         err.msg);
        S->uploads_unsaved = true;
    } else if (S->uploads_unsaved) {
        tw_log_info("watch list saved again");
        S->uploads_unsaved = false;
    }
}

static void s_load_uploads(s_stats_t *S)
{
    char *data = NULL;
    size_t len = 0;
    if (tw_file_read_all(S->uploads_path, TW_SCAN_FILE_MAX, &data, &len,
                         NULL) != TW_OK)
        return;
    stats_sampler_uploads_parse(S->sam, data, len, tw_time_now_us());
    free(data);
}

/* Drops what left the watch list (uploads_max_age, uploads_max) and saves
 * the list when something did. */
static void s_prune(s_stats_t *S)
{
    size_t n = stats_sampler_prune(S->sam, tw_time_now_us());
    if (n == 0)
        return;
    tw_log_info("%zu video(s) left the watch list (uploads_max_age, "
                "uploads_max); %zu watched",
                n, stats_sampler_pollable(S->sam, STATS_POLL_COUNTS));
    s_save_uploads(S);
}

/* channels.list for the channels without a known uploads playlist. */
static void s_find_uploads(s_stats_t *S)
{
    char path[S_BATCH * 26 + 128];
    size_t off =
        (size_t)snprintf(path, sizeof path, "channels?part=contentDetails&id=");
    size_t n = 0;
    size_t nch = stats_sampler_channel_count(S->sam);
    for (size_t i = 0; i < nch && n < S_BATCH; i++) {
        const stats_chan_t *c = stats_sampler_channel(S->sam, i);
        if (!c->uploads[0])
            off += (size_t)snprintf(path + off, sizeof path - off, "%s%s",
                                    n++ ? "," : "", c->id);
    }
    if (n == 0)
        return;
    snprintf(path + off, sizeof path - off, "&maxResults=50");
    if (s_api_get(S, "channels.list", path, tw_ytapi_parse_channels) != TW_OK)
        return;
    for (size_t k = 0; k < tw_ytapi_channel_count(S->yt); k++) {
        const tw_ytapi_channel_t *c = tw_ytapi_channel(S->yt, k);
        for (size_t i = 0; i < nch; i++) {
            stats_chan_t *x = stats_sampler_channel(S->sam, i);
            if (strcmp(x->id, c->id) == 0 && c->uploads[0])
                snprintf(x->uploads, sizeof x->uploads, "%s", c->uploads);
        }
    }
    s_save_uploads(S);
}

/* Pages through a channel's uploads until a known video, one older than
 * uploads_max_age or uploads_max entries (stats_sampler_refresh_entry). */
static void s_refresh_uploads(s_stats_t *S, const stats_chan_t *c)
{
    char token[128] = "";
    char chan[TW_ID_MAX];
    snprintf(chan, sizeof chan, "%s", c->id);
    stats_refresh_t r = {0, false, false};
    for (int page = 0; page < S_MAX_PAGES; page++) {
        char path[600];
        /* the token comes from the previous answer: escape it */
        char *etok = token[0] ? tw_http_escape(token) : NULL;
        snprintf(path, sizeof path,
                 "playlistItems?part=contentDetails&playlistId=%s"
                 "&maxResults=50%s%s",
                 c->uploads, etok ? "&pageToken=" : "", etok ? etok : "");
        free(etok);
        if (s_api_get(S, "playlistItems.list", path, tw_ytapi_parse_entries) !=
            TW_OK)
            break;
        int64_t now = tw_time_now_us();
        for (size_t i = 0; i < tw_ytapi_entry_count(S->yt); i++) {
            const tw_ytapi_entry_t *e = tw_ytapi_entry(S->yt, i);
            stats_sampler_refresh_entry(S->sam, &r, chan, e->video_id, e->title,
                                        e->published_usec, now);
        }
        const char *next = tw_ytapi_next_page_token(S->yt);
        if (r.stop || !next[0] || strlen(next) >= sizeof token)
            break;
        snprintf(token, sizeof token, "%s", next);
    }
    if (r.added)
        s_save_uploads(S);
}

static void s_uploads_due(s_stats_t *S, uint64_t iv_ms)
{
    if (!S->api || !S->cfg->stats.watch_uploads ||
        !tw_quota_allowed(S->quota, 1))
        return;
    int64_t now = s_mono();
    bool missing = false;
    size_t nch = stats_sampler_channel_count(S->sam);
    for (size_t i = 0; i < nch; i++)
        missing |= !stats_sampler_channel(S->sam, i)->uploads[0];
    if (missing)
        s_find_uploads(S);
    for (size_t i = 0; i < nch; i++) {
        stats_chan_t *c = stats_sampler_channel(S->sam, i);
        if (!c->uploads[0] || c->next_ms > now)
            continue;
        c->next_ms = now + (int64_t)iv_ms;
        s_refresh_uploads(S, c);
    }
}

/* ---- main ---- */

static bool s_join(char *out, size_t cap, const char *a, const char *b)
{
    return (size_t)snprintf(out, cap, "%s/%s", a, b) < cap;
}

static void s_open_out(s_stats_t *S, s_out_t *o, const char *name)
{
    o->name = name;
    const tw_cfg_worker_t *w = tw_cfg_worker(S->cfg, name);
    if (!w || !w->enabled)
        return;
    const char *rt = getenv(TW_ENV_RUNTIME_DIR);
    if (!rt || !*rt)
        rt = S->cfg->supervisor.runtime_dir;
    char ep[4200];
    if ((size_t)snprintf(ep, sizeof ep, "ipc://%s/%s.sock", rt, name) >=
        sizeof ep)
        return;
    tw_deliver_opts_t opts = {.endpoint = ep,
                              .src = tw_worker_name(S->w),
                              .epoch = tw_worker_epoch(S->w)};
    tw_err_t err = {{0}, 0, 0};
    if (tw_deliver_sender_new(&o->d, tw_worker_zctx(S->w), &opts, &err) !=
        TW_OK)
        tw_log_warn("no stats.sample to the %s: %s", name, err.msg);
}

/* Logs the interval really used for what (0 viewers, 1 counts) when it
 * changes: the quota governor stretches the configured one to fit the
 * day's budget. */
static void s_note_interval(s_stats_t *S, stats_poll_t what, uint64_t used,
                            uint64_t configured)
{
    if (!stats_sampler_note_interval(S->sam, what, used))
        return;
    const char *name = what == STATS_POLL_VIEWERS ? "viewers" : "counts";
    if (used == configured)
        tw_log_info("%s every %" PRIu64 " ms (as configured)", name, used);
    else
        tw_log_info("%s every %" PRIu64 " ms: the quota governor stretched "
                    "the configured %" PRIu64 " ms to fit the day's Data API "
                    "budget",
                    name, used, configured);
}

/* The work of the stats worker, on its loop's timer (every S_TICK_MS):
 * the input files, and the viewers and counts polls that are due. */
static tw_rc_t s_on_tick(tw_loop_t *loop, int id, void *arg)
{
    (void)id;
    s_stats_t *S = arg;
    if (tw_worker_stopping(S->w)) {
        tw_loop_stop(loop);
        return TW_OK;
    }
    uint64_t viv = S->cfg->stats.viewers_interval_ms;
    uint64_t siv = S->cfg->stats.stats_interval_ms;
    s_check_files(S, false);
    if (S->uploads_unsaved)
        s_save_uploads(S);
    int64_t now = s_mono();
    bool api_ok = S->api && tw_quota_allowed(S->quota, 1);
    if (stats_sampler_due(S->sam, STATS_POLL_VIEWERS, now)) {
        size_t nlive = stats_sampler_pollable(S->sam, STATS_POLL_VIEWERS);
        uint64_t iv = api_ok
                          ? tw_quota_interval_ms(S->quota, viv,
                                                 ceil((double)nlive / S_BATCH),
                                                 S_SHARE_VIEWERS)
                          : viv;
        stats_sampler_schedule(S->sam, STATS_POLL_VIEWERS, now, iv);
        if (nlive) {
            s_note_interval(S, STATS_POLL_VIEWERS, iv, viv);
            s_poll(S, true);
        }
    }
    if (stats_sampler_due(S->sam, STATS_POLL_COUNTS, now)) {
        s_prune(S);
        size_t nw = stats_sampler_pollable(S->sam, STATS_POLL_COUNTS);
        double units = ceil((double)nw / S_BATCH) +
                       (S->cfg->stats.watch_uploads
                            ? (double)stats_sampler_channel_count(S->sam)
                            : 0);
        uint64_t iv =
            api_ok ? tw_quota_interval_ms(S->quota, siv, units, S_SHARE_STATS)
                   : siv;
        stats_sampler_schedule(S->sam, STATS_POLL_COUNTS, now, iv);
        if (nw)
            s_note_interval(S, STATS_POLL_COUNTS, iv, siv);
        s_uploads_due(S, iv);
        s_poll(S, false);
    }
    if (tw_worker_stopping(S->w))
        tw_loop_stop(loop);
    return TW_OK;
}

int main(void)
{
    tw_log_init("tw-stats");
    int exit_code = TW_EXIT_TEMP;
    tw_err_t err = {{0}, 0, 0};
    s_stats_t S0, *S = &S0;
    memset(S, 0, sizeof *S);
    tw_rc_t rc = tw_worker_new(&S->w, "stats", &err);
    if (rc != TW_OK) {
        tw_log_error("%s", err.msg);
        return tw_rc_exit(rc);
    }
    S->cfg = tw_worker_cfg(S->w);
    const tw_cfg_youtube_t *yt = &S->cfg->youtube;
    const char *st = getenv(TW_ENV_STATE_DIR);
    if (!st || !*st)
        st = S->cfg->supervisor.state_dir;
    char qpath[2200];
    if (!s_join(S->dir, sizeof S->dir, st, "stats") ||
        tw_scan_path(S->streams_path, sizeof S->streams_path, st,
                     TW_SCAN_FILE_STREAMS) != TW_OK ||
        tw_scan_path(S->handles_path, sizeof S->handles_path, st,
                     TW_SCAN_FILE_HANDLES) != TW_OK ||
        !s_join(S->uploads_path, sizeof S->uploads_path, S->dir,
                "uploads.tsv") ||
        !s_join(qpath, sizeof qpath, st, "quota.tsv") ||
        tw_file_mkdirs(S->dir, 0700, &err) != TW_OK) {
        tw_log_error("state dir %s: %s", st, err.msg[0] ? err.msg : "too long");
        tw_worker_destroy(&S->w);
        return TW_EXIT_TEMP;
    }
    tw_ytweb_clients(yt, tw_worker_http_timeout_ms(S->w, yt->http_timeout_ms),
                     &S->web, &S->api);
    S->quota = tw_quota_open(qpath, yt->quota_per_day, &err);
    S->yt = tw_ytapi_new();
    S->page = tw_ytpage_new();
    const tw_cfg_stats_t *sc = &S->cfg->stats;
    stats_sampler_cfg_t scfg = {
        .watch_uploads = sc->watch_uploads,
        .max_age_us = (int64_t)sc->uploads_max_age_ms * 1000,
        .uploads_max = sc->uploads_max,
        .shard = {S->cfg->scanner.shard_k, S->cfg->scanner.shard_n}};
    S->sam = stats_sampler_new(&scfg);
    if (!S->web || !S->quota || !S->yt || !S->page || !S->sam) {
        tw_log_error("unable to initialise %s", err.msg);
        goto out;
    }
    s_open_out(S, &S->out[0], "writer");
    s_open_out(S, &S->out[1], "notifier");
    s_open_out(S, &S->out[2], "kafka");
    for (size_t i = 0; i < S->cfg->stats.videos.len; i++) {
        char id[16];
        if (tw_id_parse_video(S->cfg->stats.videos.v[i], id, sizeof id, &err) !=
            TW_OK) {
            tw_log_warn("[worker.stats] videos: '%s' skipped: %s",
                        S->cfg->stats.videos.v[i], err.msg);
            continue;
        }
        if (stats_sampler_pin(S->sam, id) == TW_ERR_NOTFOUND)
            tw_log_debug("[worker.stats] videos: %s is polled by shard %" PRIu32
                         " of %" PRIu32,
                         id, tw_shard_of(id, scfg.shard.n), scfg.shard.n);
    }
    s_check_files(S, true);
    tw_worker_ready(S->w);
    uint64_t viv = S->cfg->stats.viewers_interval_ms;
    uint64_t siv = S->cfg->stats.stats_interval_ms;
    tw_log_info("configured: viewers every %" PRIu64
                " ms, counts every %" PRIu64
                " ms, %s (the intervals used are logged as they change)",
                viv, siv, S->api ? "Data API" : "web client (no API key)");
    s_prune(S);
    S->loop = tw_loop_new();
    int tick =
        S->loop ? tw_loop_add_timer(S->loop, S_TICK_MS, 0, s_on_tick, S) : -1;
    rc = tick < 0 ? TW_ERR_NOMEM : TW_OK;
    if (rc == TW_OK)
        rc = tw_worker_attach(S->w, S->loop);
    for (size_t i = 0; i < S_NOUT && rc == TW_OK; i++)
        if (S->out[i].d)
            rc = tw_deliver_attach(S->out[i].d, S->loop, NULL, NULL);
    if (rc != TW_OK) {
        tw_log_error("unable to start the loop: %s", tw_rc_str(rc));
        goto out;
    }
    rc = tw_loop_run(S->loop);
    if (rc != TW_OK)
        tw_log_error("event loop: %s", tw_rc_str(rc));
    exit_code = TW_EXIT_OK;
    if (S->uploads_unsaved)
        s_save_uploads(S);
out:
    for (size_t i = 0; i < S_NOUT; i++)
        if (S->out[i].d) {
            tw_deliver_drain(S->out[i].d, 1000, NULL);
            tw_deliver_destroy(&S->out[i].d);
        }
    tw_log_info("stopped: %" PRIu64 " samples sent, %" PRIu64 " polls skipped",
                S->samples, S->skipped);
    tw_ytapi_destroy(&S->yt);
    tw_ytpage_destroy(&S->page);
    tw_quota_destroy(&S->quota);
    tw_http_destroy(&S->web);
    tw_http_destroy(&S->api);
    stats_sampler_destroy(&S->sam);
    tw_worker_destroy(&S->w);
    tw_loop_destroy(&S->loop);
    return exit_code;
}
