/* tw-scanner - finds the streams of the listed channels (docs/capture.md):
 * channel RSS feeds (no quota, conditional GET) spread over scan_interval,
 * batched videos.list (<= 50 ids, 1 unit) or the watch page without a key, a
 * stream state table in STATE/scanner/streams.tsv, spawn.request of chat@VIDEO
 * at scheduled start - lead_time, stream.event to tubewatchd and the notifier.
 * A channel whose feed fails twice in a row is discovered from its /streams
 * tab, its /live page and its uploads playlist until the feed works again
 * (scan_source). With [worker.scanner] shard = "K/N" only the channels
 * whose id falls in shard K are scanned (tw_shard). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#include "scan_source.h"
#include "scan_track.h"
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
#include "tw_rss.h"
#include "tw_shard.h"
#include "tw_signal.h"
#include "tw_time.h"
#include "tw_worker.h"
#include "tw_ytapi.h"
#include "tw_ytpage.h"
#include "tw_ytweb.h"

/* Ids per videos.list call. */
#define S_BATCH SCAN_TRACK_BATCH
/* Longest wait between two runs of the scanner's work. */
#define S_TICK_MS 250
/* Share of the daily quota the scanner plans for. */
#define S_QUOTA_SHARE 0.5
/* Share of the daily quota for playlistItems of channels whose feed is
 * down (only when their /streams and /live pages fail too). */
#define S_PLAYLIST_SHARE 0.1

/* One channel of the channels file. */
typedef struct {
    char ref[TW_ID_MAX]; /* "UC..." or "@handle" as listed */
    char id[TW_ID_MAX];  /* resolved channel id, "" until resolved */
    int64_t next_rss_ms; /* monotonic time of the next feed check */
    int64_t next_res_ms; /* monotonic time of the next handle lookup */
    char etag[160];      /* ETag of the last feed */
    char lastmod[64];    /* Last-Modified of the last feed */
    scan_src_t src;      /* feed or fallback sources */
} s_chan_t;

/* The scanner. */
typedef struct {
    tw_worker_t *w;            /* supervisor link */
    tw_loop_t *loop;           /* the event loop */
    int tick;                  /* timer of the scanner's work */
    int64_t next_plan_ms;      /* next prune and quota plan */
    const tw_cfg_t *cfg;       /* config (borrowed) */
    char dir[2048];            /* STATE/scanner */
    char streams_path[4200];   /* STATE/scanner/streams.tsv */
    char handles_path[4200];   /* STATE/scanner/handles.tsv */
    char feeds_path[4200];     /* STATE/scanner/feeds.tsv */
    tw_http_t *web;            /* www.youtube.com client */
    tw_http_t *api;            /* Data API client, NULL without a key */
    tw_quota_t *quota;         /* shared quota governor */
    tw_deliver_t *notify;      /* sender to notifier.sock, or NULL */
    tw_deliver_t *kafka;       /* sender to kafka.sock, or NULL */
    tw_rss_t *rss;             /* feed parser */
    tw_ytapi_t *yt;            /* Data API parser */
    tw_ytpage_t *page;         /* watch page parser */
    s_chan_t *chans;           /* channels */
    size_t nchans;             /* count */
    tw_scan_handle_t *handles; /* handle cache */
    size_t nhandles;           /* count */
    tw_scan_stream_t *streams; /* stream table */
    size_t nstreams;           /* count */
    size_t cap;                /* allocated */
    tw_fstamp_t chan_st;       /* channels file identity */
    tw_shard_t shard;          /* this host's share of the channels */
    int64_t next_stat_ms;      /* next check of the channels file */
    bool dirty;                /* streams.tsv needs saving */
    bool feeds_dirty;          /* feeds.tsv needs saving */
    int64_t next_save_ms;      /* next save of dirty files */
    int64_t quota_noted;       /* blocked_until already reported */
    uint64_t scan_ms;          /* scan_interval */
    uint64_t track_ms;         /* re-check interval of tracked streams */
    int hupfd;                 /* SIGHUP signalfd */
    uint64_t rss_checks;       /* feed requests made */
    uint64_t api_calls;        /* videos.list calls made */
    uint64_t page_checks;      /* /streams and /live requests made */
    uint64_t playlist_calls;   /* playlistItems.list calls made */
} s_scan_t;

static int64_t s_mono(void)
{
    return tw_time_mono_ms();
}

/* ---- persistence ---- */

static void s_save(s_scan_t *S, bool force)
{
    if (!force && s_mono() < S->next_save_ms)
        return;
    S->next_save_ms = s_mono() + 1000;
    tw_err_t err = {{0}, 0, 0};
    if (S->dirty) {
        if (tw_scan_streams_save(S->streams_path, S->streams, S->nstreams,
                                 &err) == TW_OK)
            S->dirty = false;
        else
            tw_log_error("unable to save %s: %s", S->streams_path, err.msg);
    }
    if (S->feeds_dirty) {
        FILE *f = NULL;
        char *buf = NULL;
        size_t len = 0;
        f = open_memstream(&buf, &len);
        if (f) {
            for (size_t i = 0; i < S->nchans; i++)
                if (S->chans[i].id[0] &&
                    (S->chans[i].etag[0] || S->chans[i].lastmod[0]))
                    fprintf(f, "%s\t%s\t%s\n", S->chans[i].id, S->chans[i].etag,
                            S->chans[i].lastmod);
            fclose(f);
            if (tw_file_write_atomic(S->feeds_path, buf, len, 0644, &err) ==
                TW_OK)
                S->feeds_dirty = false;
            free(buf);
        }
    }
}

/* One row of feeds.tsv (pointers into the file's text). */
typedef struct {
    const char *id;      /* channel id */
    const char *etag;    /* ETag */
    const char *lastmod; /* Last-Modified */
} s_feed_t;

static int s_feed_cmp(const void *a, const void *b)
{
    return strcmp(((const s_feed_t *)a)->id, ((const s_feed_t *)b)->id);
}

/* Reads feeds.tsv into *rows sorted by id (the strings point into *data;
 * free both). A missing or unreadable file gives no rows. */
static size_t s_feeds_read(s_scan_t *S, char **data, s_feed_t **rows)
{
    *data = NULL;
    *rows = NULL;
    size_t len = 0, n = 0, cap = 0;
    if (tw_file_read_all(S->feeds_path, TW_SCAN_FILE_MAX, data, &len, NULL) !=
        TW_OK)
        return 0;
    char *save = NULL;
    for (char *line = strtok_r(*data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            continue;
        *t1 = *t2 = '\0';
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            s_feed_t *v = realloc(*rows, ncap * sizeof *v);
            if (!v)
                break;
            *rows = v;
            cap = ncap;
        }
        (*rows)[n++] = (s_feed_t){line, t1 + 1, t2 + 1};
    }
    if (n > 1)
        qsort(*rows, n, sizeof **rows, s_feed_cmp);
    return n;
}

/* Restores ETag/Last-Modified of channel c from feeds.tsv (one channel
 * resolved: the whole file is read for it). */
static void s_load_feed(s_scan_t *S, s_chan_t *c)
{
    if (!c->id[0])
        return;
    char *data = NULL;
    s_feed_t *rows = NULL;
    size_t n = s_feeds_read(S, &data, &rows);
    s_feed_t key = {c->id, NULL, NULL};
    const s_feed_t *f =
        n ? bsearch(&key, rows, n, sizeof *rows, s_feed_cmp) : NULL;
    if (f) {
        snprintf(c->etag, sizeof c->etag, "%s", f->etag);
        snprintf(c->lastmod, sizeof c->lastmod, "%s", f->lastmod);
    }
    free(rows);
    free(data);
}

static int s_chan_cmp(const void *a, const void *b)
{
    return strcmp((*(s_chan_t *const *)a)->ref, (*(s_chan_t *const *)b)->ref);
}

static int s_ref_cmp(const void *key, const void *elem)
{
    return strcmp(key, (*(s_chan_t *const *)elem)->ref);
}

/* (Re)reads the channels file, keeping the state of channels still
 * listed, and spreads the feed checks over scan_interval. At most
 * channels_max channels are used (the first ones): beyond, an error says
 * how many are ignored. Linear in the file's size: the old channels are
 * found through a sorted index, feeds.tsv is read once. */
static void s_load_channels(s_scan_t *S)
{
    const char *path = S->cfg->scanner.channels_file;
    uint32_t max = S->cfg->scanner.channels_max;
    tw_scan_chan_ref_t *refs = NULL;
    size_t n = 0, nbad = 0, nover = 0;
    tw_err_t err = {{0}, 0, 0};
    if (tw_scan_channels_load_max(path, max, &refs, &n, &nbad, &nover, &err) !=
        TW_OK) {
        tw_log_error("unable to read %s: %s", path, err.msg);
        return;
    }
    if (nbad)
        tw_log_warn("%s: %zu bad line(s) skipped; %s", path, nbad, err.msg);
    if (nover)
        tw_log_error("%s: more than channels_max = %" PRIu32 " channels: "
                     "only the first %" PRIu32 " are scanned, %zu line(s) "
                     "after them ignored (raise [worker.scanner] "
                     "channels_max)",
                     path, max, max, nover);
    s_chan_t *v = calloc(n ? n : 1, sizeof *v);
    s_chan_t **idx = calloc(S->nchans ? S->nchans : 1, sizeof *idx);
    if (!v || !idx) {
        tw_log_error("%s: out of memory for %zu channels", path, n);
        free(v);
        free(idx);
        free(refs);
        return;
    }
    for (size_t k = 0; k < S->nchans; k++)
        idx[k] = &S->chans[k];
    if (S->nchans > 1)
        qsort(idx, S->nchans, sizeof *idx, s_chan_cmp);
    char *fdata = NULL;
    s_feed_t *feeds = NULL;
    size_t nfeeds = 0;
    bool feeds_read = false;
    size_t nnew = 0;
    int64_t now = s_mono();
    for (size_t i = 0; i < n; i++) {
        s_chan_t **old = S->nchans ? bsearch(refs[i].ref, idx, S->nchans,
                                             sizeof *idx, s_ref_cmp)
                                   : NULL;
        if (old) {
            v[i] = **old;
            continue;
        }
        nnew++;
        snprintf(v[i].ref, sizeof v[i].ref, "%s", refs[i].ref);
        if (refs[i].kind == TW_ID_CHANNEL) {
            snprintf(v[i].id, sizeof v[i].id, "%s", refs[i].ref);
        } else {
            const char *id =
                tw_scan_handles_find(S->handles, S->nhandles, refs[i].ref);
            if (id)
                snprintf(v[i].id, sizeof v[i].id, "%s", id);
        }
        if (v[i].id[0] && !feeds_read) {
            nfeeds = s_feeds_read(S, &fdata, &feeds);
            feeds_read = true;
        }
        s_feed_t key = {v[i].id, NULL, NULL};
        const s_feed_t *f =
            v[i].id[0] && nfeeds
                ? bsearch(&key, feeds, nfeeds, sizeof *feeds, s_feed_cmp)
                : NULL;
        if (f) {
            snprintf(v[i].etag, sizeof v[i].etag, "%s", f->etag);
            snprintf(v[i].lastmod, sizeof v[i].lastmod, "%s", f->lastmod);
        }
        v[i].next_rss_ms =
            now + (int64_t)((double)S->scan_ms * (double)i / (double)n);
    }
    free(feeds);
    free(fdata);
    free(idx);
    if (S->shard.n > 1)
        tw_log_info("%zu channel(s) from %s (%zu new); shard %" PRIu32
                    "/%" PRIu32 " scans those whose id falls in it",
                    n, path, nnew, S->shard.k, S->shard.n);
    else
        tw_log_info("%zu channel(s) from %s (%zu new)", n, path, nnew);
    free(S->chans);
    S->chans = v;
    S->nchans = n;
    free(refs);
}

/* Reloads the channels file when it changed (checked once a second). */
static void s_check_channels(s_scan_t *S, bool force)
{
    int64_t now = s_mono();
    if (!force && now < S->next_stat_ms)
        return;
    S->next_stat_ms = now + 1000;
    if (!tw_fstamp_changed(&S->chan_st, S->cfg->scanner.channels_file) &&
        !force)
        return;
    s_load_channels(S);
}

/* ---- stream table ---- */

static tw_scan_stream_t *s_find(s_scan_t *S, const char *vid)
{
    for (size_t i = 0; i < S->nstreams; i++)
        if (strcmp(S->streams[i].video_id, vid) == 0)
            return &S->streams[i];
    return NULL;
}

static tw_scan_stream_t *s_add(s_scan_t *S, const char *vid, const char *chan,
                               const char *title)
{
    if (S->nstreams == S->cap) {
        size_t ncap = S->cap ? S->cap * 2 : 64;
        tw_scan_stream_t *v = realloc(S->streams, ncap * sizeof *v);
        if (!v)
            return NULL;
        S->streams = v;
        S->cap = ncap;
    }
    tw_scan_stream_t *s = &S->streams[S->nstreams++];
    scan_track_init(s, vid, chan, title, tw_time_now_us());
    S->dirty = true;
    return s;
}

/* ---- events ---- */

static void s_notify(s_scan_t *S, tw_msg_t *m)
{
    tw_deliver_t *out[] = {S->notify, S->kafka};
    const char *names[] = {"notifier", "kafka worker"};
    for (size_t i = 0; i < 2; i++) {
        if (!out[i])
            continue;
        tw_msg_t copy = *m; /* send restamps the envelope */
        tw_err_t err = {{0}, 0, 0};
        tw_rc_t rc = tw_deliver_send(out[i], &copy, &err);
        if (rc != TW_OK)
            tw_log_warn("stream.event to the %s not sent: %s", names[i],
                        err.msg[0] ? err.msg : tw_rc_str(rc));
    }
}

static void s_event(s_scan_t *S, const tw_scan_stream_t *s)
{
    tw_log_info("stream %s (%s): %s%s%s", s->video_id, s->channel_id,
                tw_scan_state_str(s->state), s->reason[0] ? " - " : "",
                s->reason);
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_STREAM_EVENT;
    tw_msg_stream_event_t *e = &m.u.stream_event;
    e->video_id = (char *)s->video_id;
    e->channel_id = (char *)s->channel_id;
    e->title = (char *)s->title;
    e->state = (tw_stream_state_t)s->state;
    e->scheduled_start_us = (tw_oi64_t){s->scheduled_us != 0, s->scheduled_us};
    e->actual_start_us = (tw_oi64_t){s->start_us != 0, s->start_us};
    e->actual_end_us = (tw_oi64_t){s->end_us != 0, s->end_us};
    e->reason = (char *)s->reason;
    tw_worker_stream_event(S->w, e);
    tw_worker_count(S->w, 0, 1, 0);
    s_notify(S, &m);
}

static void s_plan(s_scan_t *S);

/* The shared quota governor's day so far, for /metrics. */
/* Before each heartbeat: the quota values it carries. */
static void s_report_quota(tw_worker_t *w, void *arg)
{
    (void)w;
    s_scan_t *S = arg;
    uint64_t used = tw_quota_used(S->quota);
    uint64_t left = tw_quota_left(S->quota);
    tw_worker_gauge(S->w, "quota_used_units",
                    used > INT64_MAX ? INT64_MAX : (int64_t)used);
    tw_worker_gauge(S->w, "quota_remaining_units",
                    left > INT64_MAX ? INT64_MAX : (int64_t)left);
}

/* Reports a quotaExceeded once per block: log, tubewatchd, notifier. */
static void s_quota_exhausted(s_scan_t *S)
{
    tw_err_t err = {{0}, 0, 0};
    if (tw_quota_exhausted(S->quota, &err) != TW_OK)
        tw_log_warn("quota file: %s", err.msg);
    int64_t until = tw_quota_blocked_until(S->quota);
    if (until == S->quota_noted)
        return;
    S->quota_noted = until;
    /* quota-free sources from now on: back to the normal pace */
    s_plan(S);
    scan_track_hurry(S->streams, S->nstreams,
                     tw_time_now_us() + (int64_t)S->scan_ms * 1000);
    char ts[TW_TIME_STR_SIZE], title[128];
    tw_time_format(until, ts);
    tw_log_warn("Data API quota exhausted: quota-free sources only until %s",
                ts);
    snprintf(title, sizeof title, "YouTube Data API quota exhausted until %s",
             ts);
    tw_msg_t m;
    memset(&m, 0, sizeof m);
    m.id = TW_MSG_STREAM_EVENT;
    m.u.stream_event.video_id = "";
    m.u.stream_event.channel_id = "";
    m.u.stream_event.title = title;
    m.u.stream_event.state = TW_STREAM_STATE_UNAVAILABLE;
    m.u.stream_event.actual_end_us = (tw_oi64_t){true, until};
    m.u.stream_event.reason = "quota_exhausted";
    tw_worker_stream_event(S->w, &m.u.stream_event);
    s_notify(S, &m);
}

/* ---- stream tracking ---- */

/* Applies what a source says about s (scan_track_apply) and does what it
 * asks: the stream.event, the chat@VIDEO spawn request. */
static void s_apply(s_scan_t *S, tw_scan_stream_t *s,
                    const scan_track_obs_t *obs)
{
    scan_track_cfg_t tc = {.lead_us =
                               (int64_t)S->cfg->scanner.lead_time_ms * 1000,
                           .track_us = (int64_t)S->track_ms * 1000};
    int64_t now = tw_time_now_us();
    scan_track_act_t act = scan_track_apply(s, obs, &tc, now);
    S->dirty = true;
    if (act.event)
        s_event(S, s);
    if (!act.spawn || tw_worker_spawn_request(S->w, "chat", s->video_id,
                                              act.spawn_at_us) != TW_OK)
        return;
    scan_track_spawned(s, &act);
    if (s->state == TW_SCAN_ST_SCHEDULED) {
        char ts[TW_TIME_STR_SIZE];
        tw_log_info("spawn chat@%s at %s", s->video_id,
                    tw_time_format(act.spawn_at_us, ts));
    } else {
        tw_log_info("spawn chat@%s now (live)", s->video_id);
    }
}

/* s_apply of a page's view: state st (scan_page_state), times and texts
 * from the parsed page in. */
static void s_apply_page(s_scan_t *S, tw_scan_stream_t *s, tw_scan_state_t st,
                         const tw_ytpage_info_t *in, const char *why)
{
    scan_track_obs_t obs = {.state = st,
                            .scheduled_us = in->scheduled_start_usec,
                            .start_us = in->start_usec,
                            .end_us = in->end_usec,
                            .title = in->title,
                            .channel = in->channel_id,
                            .reason = why};
    s_apply(S, s, &obs);
}

/* GETs a page url (relative to web_base_url, built by scan_page_url or
 * scan_channel_tab_url: hl/gl parameters) with the consent cookie;
 * retry: whether the client's retries apply (a fallback round does not
 * retry: the next round comes one scan_interval later). */
static tw_rc_t s_page_get(s_scan_t *S, const char *url, bool retry,
                          tw_http_resp_t *resp, tw_err_t *err)
{
    tw_http_req_t req = {.url = url,
                         .headers = scan_page_headers(),
                         .max_retries = retry ? 0 : -1};
    return tw_http_request(S->web, &req, resp, err);
}

/* Fetches the watch page of s into S->page. Returns TW_OK, TW_ERR_NOTFOUND
 * for a 404/410, or a network/parse error (try again later). */
static tw_rc_t s_fetch_page(s_scan_t *S, const char *vid)
{
    char path[96], url[160];
    snprintf(path, sizeof path, "watch?v=%s", vid);
    tw_http_resp_t resp = {0};
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = scan_page_url(url, sizeof url, path);
    if (rc == TW_OK)
        rc = s_page_get(S, url, true, &resp, &err);
    if (rc == TW_ERR_HTTP && (resp.status == 404 || resp.status == 410)) {
        tw_http_resp_clear(&resp);
        return TW_ERR_NOTFOUND;
    }
    bool fetched = rc == TW_OK;
    if (rc == TW_OK)
        rc = tw_ytpage_parse_html(S->page, resp.body ? resp.body : "",
                                  resp.body_len, &err);
    if (rc != TW_OK)
        tw_log_warn("watch page of %s: %s", vid,
                    err.msg[0] ? err.msg : tw_rc_str(rc));
    if (fetched && rc != TW_OK)
        tw_worker_drift(S->w, "watch page", "a watch page without its data", 1);
    tw_http_resp_clear(&resp);
    return rc;
}

/* Classifies s from its watch page (no quota). */
static void s_classify_page(s_scan_t *S, tw_scan_stream_t *s)
{
    tw_worker_service(S->w); /* heartbeat between requests */
    tw_rc_t rc = s_fetch_page(S, s->video_id);
    if (rc == TW_ERR_NOTFOUND) {
        scan_track_obs_t gone = {.state = TW_SCAN_ST_DELETED,
                                 .reason = "watch page 404"};
        s_apply(S, s, &gone);
        return;
    }
    if (rc != TW_OK) {
        s->next_us = tw_time_now_us() + (int64_t)S->scan_ms * 1000;
        return;
    }
    const tw_ytpage_info_t *in = tw_ytpage_info(S->page);
    const char *why = "";
    int st = scan_page_state(in, &why);
    if (st < 0) {
        s->next_us = tw_time_now_us() + (int64_t)S->scan_ms * 1000;
        return;
    }
    s_apply_page(S, s, (tw_scan_state_t)st, in, why);
}

/* A parser of tw_ytapi for one Data API answer. */
typedef tw_rc_t (*s_api_parse_fn)(tw_ytapi_t *yt, const char *buf, size_t len,
                                  tw_err_t *err);

/* GETs a Data API url (what = the method, for the quota and logs) and
 * parses the answer into S->yt. A 2xx spends one unit; quotaExceeded marks
 * the quota exhausted and a refused key drops the API client (both logged
 * here). *http_rc receives the request's rc; returns the parse's rc
 * (TW_ERR_AGAIN when the request failed before an answer). */
static tw_rc_t s_api_get(s_scan_t *S, const char *what, const char *url,
                         s_api_parse_fn parse, tw_rc_t *http_rc, tw_err_t *err)
{
    tw_http_resp_t resp = {0};
    tw_rc_t rc = tw_http_get(S->api, url, NULL, &resp, err);
    *http_rc = rc;
    if (rc != TW_OK && rc != TW_ERR_HTTP && rc != TW_ERR_AGAIN) {
        tw_http_resp_clear(&resp);
        return TW_ERR_AGAIN;
    }
    tw_err_t perr = {{0}, 0, 0};
    tw_rc_t prc =
        parse(S->yt, resp.body ? resp.body : "", resp.body_len, &perr);
    if (prc != TW_OK)
        *err = perr;
    if (rc == TW_OK && resp.status >= 200 && resp.status < 300)
        tw_quota_spend(S->quota, what, 1, NULL);
    tw_http_resp_clear(&resp);
    if (prc == TW_ERR_QUOTA)
        s_quota_exhausted(S);
    if (prc == TW_ERR_CONFIG || prc == TW_ERR_AUTH) {
        tw_log_error("%s refused (%s): using quota-free sources", what,
                     err->msg);
        tw_http_destroy(&S->api);
    }
    return prc;
}

/* Classifies up to S_BATCH streams with one videos.list call. Returns
 * TW_OK when the API answered; otherwise the caller falls back. */
static tw_rc_t s_classify_api(s_scan_t *S, tw_scan_stream_t **v, size_t n)
{
    char url[S_BATCH * 13 + 512];
    size_t off = (size_t)snprintf(
        url, sizeof url, "videos?part=snippet,liveStreamingDetails&id=");
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(url + off, sizeof url - off, "%s%s",
                                i ? "," : "", v[i]->video_id);
    char *key = tw_http_escape(S->cfg->youtube.api_key);
    if (!key)
        return TW_ERR_NOMEM;
    snprintf(url + off, sizeof url - off, "&maxResults=50&key=%s", key);
    free(key);
    tw_err_t err = {{0}, 0, 0};
    S->api_calls++;
    tw_rc_t rc;
    tw_rc_t prc =
        s_api_get(S, "videos.list", url, tw_ytapi_parse_videos, &rc, &err);
    if (prc == TW_ERR_QUOTA || prc == TW_ERR_CONFIG || prc == TW_ERR_AUTH)
        return prc;
    if (rc != TW_OK && rc != TW_ERR_HTTP && rc != TW_ERR_AGAIN) {
        tw_log_warn("videos.list: %s", err.msg);
        return rc;
    }
    if (prc != TW_OK) {
        tw_log_warn("videos.list: %s", err.msg[0] ? err.msg : tw_rc_str(prc));
        return prc;
    }
    tw_worker_count(S->w, 1, 0, 0);
    size_t nv = tw_ytapi_video_count(S->yt);
    /* copy what we need: page fetches below reuse nothing of S->yt, but be
     * safe against reentrancy */
    for (size_t i = 0; i < n; i++) {
        tw_scan_stream_t *s = v[i];
        const tw_ytapi_video_t *it = NULL;
        for (size_t k = 0; k < nv && !it; k++)
            if (strcmp(tw_ytapi_video(S->yt, k)->id, s->video_id) == 0)
                it = tw_ytapi_video(S->yt, k);
        if (!it) {
            /* private or deleted: the watch page tells which */
            s_classify_page(S, s);
            continue;
        }
        scan_track_obs_t obs;
        scan_track_obs_from_api(it, &obs);
        char title[256], chan[TW_ID_MAX];
        snprintf(title, sizeof title, "%s", it->title);
        snprintf(chan, sizeof chan, "%s", it->channel_id);
        obs.title = title;
        obs.channel = chan;
        const char *page_why = "";
        if (scan_track_needs_page(s, &obs) &&
            s_fetch_page(S, s->video_id) == TW_OK &&
            scan_page_state(tw_ytpage_info(S->page), &page_why) ==
                TW_SCAN_ST_MEMBERS_ONLY) {
            obs.state = TW_SCAN_ST_MEMBERS_ONLY;
            obs.reason = "members only";
        }
        s_apply(S, s, &obs);
    }
    return TW_OK;
}

/* Classifies the streams that are due, in batches of S_BATCH. */
static void s_classify_due(s_scan_t *S)
{
    tw_scan_stream_t **cand = malloc((S->nstreams + 1) * sizeof *cand);
    if (!cand)
        return;
    scan_track_due_opts_t o = {.api = S->api != NULL,
                               .scan_us = (int64_t)S->scan_ms * 1000,
                               .track_us = (int64_t)S->track_ms * 1000};
    size_t nc =
        scan_track_due(S->streams, S->nstreams, tw_time_now_us(), &o, cand);
    for (size_t off = 0; off < nc; off += S_BATCH) {
        size_t n = nc - off < S_BATCH ? nc - off : S_BATCH;
        bool api = S->api && tw_quota_allowed(S->quota, 1);
        if (!api || s_classify_api(S, cand + off, n) != TW_OK)
            for (size_t k = 0; k < n; k++)
                s_classify_page(S, cand[off + k]);
    }
    free(cand);
}

/* ---- channels ---- */

/* Resolves a handle from the cache or its channel page; returns true when
 * it made a request. */
static bool s_resolve(s_scan_t *S, s_chan_t *c)
{
    const char *id = tw_scan_handles_find(S->handles, S->nhandles, c->ref);
    if (id) {
        snprintf(c->id, sizeof c->id, "%s", id);
        s_load_feed(S, c);
        return false;
    }
    int64_t now = s_mono();
    if (now < c->next_res_ms)
        return false;
    c->next_res_ms = now + (int64_t)(S->scan_ms < 60000 ? S->scan_ms : 60000);
    tw_http_resp_t resp = {0};
    tw_err_t err = {{0}, 0, 0};
    char url[160];
    /* "@handle": URL-safe characters (tw_id_is_handle) */
    tw_rc_t rc = scan_page_url(url, sizeof url, c->ref);
    if (rc == TW_OK)
        rc = s_page_get(S, url, true, &resp, &err);
    char cid[TW_ID_MAX];
    if (rc == TW_OK && resp.body &&
        tw_scan_channel_page_id(resp.body, resp.body_len, cid, sizeof cid) ==
            TW_OK) {
        tw_scan_handle_t *v =
            realloc(S->handles, (S->nhandles + 1) * sizeof *S->handles);
        if (v) {
            S->handles = v;
            snprintf(v[S->nhandles].handle, sizeof v->handle, "%s", c->ref);
            snprintf(v[S->nhandles].channel_id, sizeof v->channel_id, "%s",
                     cid);
            S->nhandles++;
            tw_scan_handles_save(S->handles_path, S->handles, S->nhandles,
                                 NULL);
        }
        snprintf(c->id, sizeof c->id, "%s", cid);
        s_load_feed(S, c);
        tw_log_info("%s is %s", c->ref, cid);
    } else {
        tw_log_warn("unable to resolve %s: %s", c->ref,
                    rc != TW_OK ? err.msg : "no channel id in the page");
    }
    tw_http_resp_clear(&resp);
    return true;
}

/* Adds vid of channel c found by a fallback source to the table, unless
 * known. Returns the new row, or NULL. */
static tw_scan_stream_t *s_add_found(s_scan_t *S, const s_chan_t *c,
                                     const char *vid, const char *title,
                                     const char *source)
{
    if (!tw_id_is_video(vid) || s_find(S, vid))
        return NULL;
    tw_scan_stream_t *s = s_add(S, vid, c->id, title ? title : "");
    if (s)
        tw_log_debug("new video %s on the %s of %s", vid, source, c->id);
    return s;
}

/* Fallback step: the channel's /streams tab or /live page. Every
 * candidate (scan_page_candidates) becomes a row, classified (confirmed)
 * like a feed entry by videos.list or its watch page; the video a /live
 * page shows is classified from that page at once. Returns true when the
 * page was read. */
static bool s_step_page(s_scan_t *S, s_chan_t *c, const char *tab)
{
    char url[256];
    tw_http_resp_t resp = {0};
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = scan_channel_tab_url(url, sizeof url, c->ref, tab);
    if (rc != TW_OK)
        rc = scan_channel_tab_url(url, sizeof url, c->id, tab);
    if (rc != TW_OK)
        return false;
    S->page_checks++;
    rc = s_page_get(S, url, false, &resp, &err);
    bool fetched = rc == TW_OK;
    if (rc == TW_OK)
        rc = tw_ytpage_parse_html(S->page, resp.body ? resp.body : "",
                                  resp.body_len, &err);
    tw_http_resp_clear(&resp);
    if (rc != TW_OK) {
        tw_log_debug("%s page of %s: %s", tab, c->id,
                     err.msg[0] ? err.msg : tw_rc_str(rc));
        if (fetched)
            tw_worker_drift(S->w, "channel page",
                            "a channel page without its data", 1);
        return false;
    }
    const char *ids[128];
    size_t n = scan_page_candidates(S->page, c->id, ids, 128);
    const tw_ytpage_info_t *in = tw_ytpage_info(S->page);
    for (size_t i = 0; i < n; i++) {
        bool shown = strcmp(ids[i], in->video_id) == 0;
        tw_scan_stream_t *s =
            s_add_found(S, c, ids[i], shown ? in->title : NULL, tab);
        const char *why = "";
        int st = s && shown ? scan_page_state(in, &why) : -1;
        if (st >= 0)
            s_apply_page(S, s, (tw_scan_state_t)st, in, why);
    }
    return true;
}

static bool s_step_streams(s_scan_t *S, s_chan_t *c)
{
    return s_step_page(S, c, "streams");
}

static bool s_step_live(s_scan_t *S, s_chan_t *c)
{
    return s_step_page(S, c, "live");
}

/* Channels whose feed is down. */
static size_t s_fallback_count(const s_scan_t *S)
{
    size_t n = 0;
    for (size_t i = 0; i < S->nchans; i++)
        if (scan_src_in_fallback(&S->chans[i].src))
            n++;
    return n;
}

/* Fallback step: the newest SCAN_PLAYLIST_MAX entries of the uploads
 * playlist (1 unit), paced so that all channels in fallback together stay
 * within S_PLAYLIST_SHARE of the daily quota. Returns true when the API
 * answered a list. */
static bool s_step_playlist(s_scan_t *S, s_chan_t *c)
{
    char url[512];
    if (!S->api || scan_playlist_url(url, sizeof url - 256, c->id) != TW_OK)
        return false;
    char *key = tw_http_escape(S->cfg->youtube.api_key);
    if (!key)
        return false;
    size_t off = strlen(url);
    if ((size_t)snprintf(url + off, sizeof url - off, "&key=%s", key) >=
        sizeof url - off) {
        free(key);
        return false;
    }
    free(key);
    double nfb = (double)s_fallback_count(S);
    scan_src_playlist_called(&c->src, s_mono(),
                             tw_quota_interval_ms(S->quota, S->scan_ms,
                                                  nfb < 1 ? 1 : nfb,
                                                  S_PLAYLIST_SHARE));
    tw_err_t err = {{0}, 0, 0};
    S->playlist_calls++;
    tw_rc_t rc;
    tw_rc_t prc = s_api_get(S, "playlistItems.list", url,
                            tw_ytapi_parse_entries, &rc, &err);
    if (prc == TW_ERR_QUOTA || prc == TW_ERR_CONFIG || prc == TW_ERR_AUTH)
        return false;
    if (prc != TW_OK || rc != TW_OK) {
        tw_log_debug("playlistItems of %s: %s", c->id,
                     err.msg[0] ? err.msg : tw_rc_str(prc));
        return false;
    }
    size_t n = tw_ytapi_entry_count(S->yt);
    for (size_t i = 0; i < n; i++) {
        const tw_ytapi_entry_t *e = tw_ytapi_entry(S->yt, i);
        s_add_found(S, c, e->video_id, e->title, "uploads playlist");
    }
    return true;
}

/* The fallback steps, by scan_step_t. */
static bool (*const s_steps[])(s_scan_t *, s_chan_t *) = {
    [SCAN_STEP_STREAMS] = s_step_streams,
    [SCAN_STEP_LIVE] = s_step_live,
    [SCAN_STEP_PLAYLIST] = s_step_playlist,
};

/* One fallback round for c: the steps of scan_src_next_step in order until
 * one works. Failures are logged at debug level: the switch itself was
 * logged once. */
static void s_fallback_round(s_scan_t *S, s_chan_t *c)
{
    bool found = false;
    scan_step_t step = scan_src_next_step(SCAN_STEP_NONE, false, false);
    while (step != SCAN_STEP_NONE) {
        tw_worker_service(S->w); /* heartbeat between requests */
        bool ok = s_steps[step](S, c);
        found = found || ok;
        bool quota_ok = S->api && tw_quota_allowed(S->quota, 1);
        step = scan_src_next_step(step, ok,
                                  scan_src_playlist_allowed(&c->src, s_mono(),
                                                            S->api != NULL,
                                                            quota_ok));
    }
    if (found)
        tw_worker_count(S->w, 1, 0, 0);
    else
        tw_worker_count(S->w, 0, 0, 1);
}

/* Checks the feed of c. Returns true when it answered (a feed, or 304);
 * otherwise why says what failed. While the channel is in fallback the
 * feed is only probed: no retries, failures logged at debug level. */
static bool s_check_feed(s_scan_t *S, s_chan_t *c, char *why, size_t cap)
{
    tw_worker_service(S->w); /* heartbeat between requests */
    bool probe = scan_src_in_fallback(&c->src);
    char url[128], inm[200], ims[100];
    snprintf(url, sizeof url, "feeds/videos.xml?channel_id=%s", c->id);
    const char *hdrs[3] = {NULL, NULL, NULL};
    size_t nh = 0;
    if (c->etag[0]) {
        snprintf(inm, sizeof inm, "If-None-Match: %s", c->etag);
        hdrs[nh++] = inm;
    }
    if (c->lastmod[0]) {
        snprintf(ims, sizeof ims, "If-Modified-Since: %s", c->lastmod);
        hdrs[nh++] = ims;
    }
    tw_http_req_t req = {
        .url = url, .headers = hdrs, .max_retries = probe ? -1 : 0};
    tw_http_resp_t resp = {0};
    tw_err_t err = {{0}, 0, 0};
    S->rss_checks++;
    tw_rc_t rc = tw_http_request(S->web, &req, &resp, &err);
    if (rc == TW_OK && resp.status == 304) {
        tw_http_resp_clear(&resp);
        return true;
    }
    if (rc == TW_OK)
        rc = tw_rss_parse(S->rss, resp.body ? resp.body : "", resp.body_len,
                          &err);
    if (rc != TW_OK) {
        tw_http_resp_clear(&resp);
        snprintf(why, cap, "%.200s", err.msg[0] ? err.msg : tw_rc_str(rc));
        if (probe)
            tw_log_debug("feed of %s: %s", c->id, why);
        else
            tw_log_warn("feed of %s: %s", c->id, why);
        tw_worker_count(S->w, 0, 0, 1);
        return false;
    }
    /* validators only of a feed that parsed: a broken answer must not
     * turn the next check into a 304 */
    if (resp.etag && strlen(resp.etag) < sizeof c->etag &&
        strcmp(resp.etag, c->etag) != 0) {
        snprintf(c->etag, sizeof c->etag, "%s", resp.etag);
        S->feeds_dirty = true;
    }
    if (resp.last_modified && strlen(resp.last_modified) < sizeof c->lastmod &&
        strcmp(resp.last_modified, c->lastmod) != 0) {
        snprintf(c->lastmod, sizeof c->lastmod, "%s", resp.last_modified);
        S->feeds_dirty = true;
    }
    tw_http_resp_clear(&resp);
    tw_worker_count(S->w, 1, 0, 0);
    for (size_t i = 0; i < tw_rss_count(S->rss); i++) {
        const tw_rss_entry_t *e = tw_rss_entry(S->rss, i);
        if (!tw_id_is_video(e->video_id) || s_find(S, e->video_id))
            continue;
        const char *chan =
            tw_id_is_channel(e->channel_id) ? e->channel_id : c->id;
        if (s_add(S, e->video_id, chan, e->title))
            tw_log_debug("new video %s in the feed of %s", e->video_id, chan);
    }
    return true;
}

/* One scan of channel c: its feed, the state machine, and a fallback round
 * while the feed is down. */
static void s_scan_channel(s_scan_t *S, s_chan_t *c)
{
    char why[256] = "";
    bool ok = s_check_feed(S, c, why, sizeof why);
    scan_src_act_t act = scan_src_event(&c->src, ok ? SCAN_SRC_EV_FEED_OK
                                                    : SCAN_SRC_EV_FEED_FAIL);
    if (act == SCAN_SRC_ACT_FALLBACK)
        tw_log_warn("feed of %s failed %" PRIu32 " times in a row (%s): "
                    "discovering from its /streams tab and /live page%s "
                    "until the feed works again",
                    c->id, c->src.fails, why,
                    S->api ? ", then its uploads playlist" : "");
    else if (act == SCAN_SRC_ACT_RECOVERED)
        tw_log_info("feed of %s is back: discovering from the feed again",
                    c->id);
    if (scan_src_in_fallback(&c->src))
        s_fallback_round(S, c);
}

/* Feed checks and handle lookups that are due (a few per call, so that
 * heartbeats and signals are not held up). Returns true when more are
 * due. */
static bool s_check_channels_due(s_scan_t *S)
{
    int64_t now = s_mono();
    int budget = 8;
    for (size_t i = 0; i < S->nchans; i++) {
        s_chan_t *c = &S->chans[i];
        if (budget == 0)
            return true;
        if (!c->id[0]) {
            if (s_resolve(S, c))
                budget--;
            continue;
        }
        if (c->next_rss_ms > now || !tw_shard_owns(&S->shard, c->id))
            continue;
        c->next_rss_ms += (int64_t)S->scan_ms;
        if (c->next_rss_ms <= now)
            c->next_rss_ms = now + (int64_t)S->scan_ms;
        s_scan_channel(S, c);
        budget--;
    }
    return false;
}

/* Drops rows in a final state not seen for SCAN_TRACK_KEEP_US: the table
 * does not grow without bound (a video still in a feed is classified again,
 * at 1/50 unit, and dropped again later). */
static void s_prune(s_scan_t *S)
{
    size_t k = scan_track_prune(S->streams, S->nstreams, tw_time_now_us());
    if (k != S->nstreams) {
        tw_log_info("forgot %zu old finished video(s)", S->nstreams - k);
        S->nstreams = k;
        S->dirty = true;
    }
}

/* Recomputes the tracking interval so the plan fits the quota. */
static void s_plan(s_scan_t *S)
{
    S->track_ms = S->scan_ms;
    if (!S->api || !tw_quota_allowed(S->quota, 1))
        return; /* watch pages cost no quota */
    size_t tracked = scan_track_open_count(S->streams, S->nstreams);
    double units = ceil((double)tracked / S_BATCH);
    uint64_t iv =
        tw_quota_interval_ms(S->quota, S->scan_ms, units, S_QUOTA_SHARE);
    if (iv != S->track_ms)
        tw_log_debug("tracking interval stretched to %" PRIu64 " ms", iv);
    S->track_ms = iv;
}

/* ---- main ---- */

/* The work of the scanner, on its loop's timer: channels file, plan,
 * feed checks (a few per run: due again at once while more are due),
 * classifications, saving. */
static tw_rc_t s_on_tick(tw_loop_t *loop, int id, void *arg)
{
    s_scan_t *S = arg;
    if (tw_worker_stopping(S->w)) {
        tw_loop_stop(loop);
        return TW_OK;
    }
    s_check_channels(S, false);
    if (s_mono() >= S->next_plan_ms) {
        s_prune(S);
        s_plan(S);
        S->next_plan_ms = s_mono() + (int64_t)S->scan_ms;
    }
    bool busy = s_check_channels_due(S);
    s_classify_due(S);
    s_save(S, false);
    if (tw_worker_stopping(S->w))
        tw_loop_stop(loop);
    tw_loop_rearm_timer(loop, id, busy ? 0 : S_TICK_MS);
    return TW_OK;
}

/* SIGHUP: the channels file is read again now. */
static tw_rc_t s_on_hup(tw_loop_t *loop, void *sock, int fd, short revents,
                        void *arg)
{
    (void)loop;
    (void)sock;
    (void)revents;
    s_scan_t *S = arg;
    struct signalfd_siginfo si;
    bool seen = false;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
        seen = true;
    if (seen) {
        tw_log_info("SIGHUP: reloading the channels file");
        s_check_channels(S, true);
    }
    return TW_OK;
}

static void s_path(char *out, size_t cap, const char *dir, const char *name)
{
    if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
        tw_log_fatal(TW_EXIT_USAGE, "path too long: %s/%s", dir, name);
}

/* Opens the journaled stream.event sender to worker name's socket when
 * that worker is enabled (STATE/scanner/NAME.journal). */
static void s_open_events(s_scan_t *S, const char *name, tw_deliver_t **out)
{
    const tw_cfg_worker_t *nw = tw_cfg_worker(S->cfg, name);
    if (!nw || !nw->enabled)
        return;
    const char *rt = getenv(TW_ENV_RUNTIME_DIR);
    if (!rt || !*rt)
        rt = S->cfg->supervisor.runtime_dir;
    char ep[4300], jp[4300], file[64];
    if ((size_t)snprintf(ep, sizeof ep, "ipc://%s/%s.sock", rt, name) >=
        sizeof ep)
        ep[0] = '\0';
    snprintf(file, sizeof file, "%s.journal", name);
    s_path(jp, sizeof jp, S->dir, file);
    tw_deliver_opts_t o = {.endpoint = ep,
                           .src = tw_worker_name(S->w),
                           .epoch = tw_worker_epoch(S->w),
                           .journal = jp};
    tw_err_t err = {{0}, 0, 0};
    if (tw_deliver_sender_new(out, tw_worker_zctx(S->w), &o, &err) != TW_OK)
        tw_log_warn("no stream.events to the %s: %s", name, err.msg);
}

int main(void)
{
    tw_log_init("tw-scanner");
    /* SIGHUP (reload the channels file) is read from a signalfd; blocked
     * before the worker's threads start, so they inherit the mask. */
    static const int hup[] = {SIGHUP};
    int hupfd = -1;
    tw_err_t herr = {{0}, 0, 0};
    if (tw_signal_fd(hup, 1, &hupfd, &herr) != TW_OK) {
        tw_log_error("%s", herr.msg);
        return TW_EXIT_TEMP;
    }
    int exit_code = TW_EXIT_TEMP;
    tw_err_t err = {{0}, 0, 0};
    s_scan_t S0, *S = &S0;
    memset(S, 0, sizeof *S);
    tw_rc_t rc = tw_worker_new(&S->w, "scanner", &err);
    if (rc != TW_OK) {
        tw_log_error("%s", err.msg);
        return tw_rc_exit(rc);
    }
    S->cfg = tw_worker_cfg(S->w);
    S->hupfd = hupfd;
    S->shard = (tw_shard_t){S->cfg->scanner.shard_k, S->cfg->scanner.shard_n};
    S->scan_ms = S->cfg->scanner.scan_interval_ms;
    if (S->scan_ms < 1000)
        S->scan_ms = 1000;
    S->track_ms = S->scan_ms;
    const char *state = getenv(TW_ENV_STATE_DIR);
    if (!state || !*state)
        state = S->cfg->supervisor.state_dir;
    char qpath[4200];
    s_path(S->dir, sizeof S->dir, state, "scanner");
    s_path(S->streams_path, sizeof S->streams_path, S->dir, "streams.tsv");
    s_path(S->handles_path, sizeof S->handles_path, S->dir, "handles.tsv");
    s_path(S->feeds_path, sizeof S->feeds_path, S->dir, "feeds.tsv");
    s_path(qpath, sizeof qpath, state, "quota.tsv");
    if (tw_file_mkdirs(S->dir, 0700, &err) != TW_OK) {
        tw_log_error("%s", err.msg);
        tw_worker_destroy(&S->w);
        return TW_EXIT_TEMP;
    }
    const tw_cfg_youtube_t *yt = &S->cfg->youtube;
    tw_ytweb_clients(yt, tw_worker_http_timeout_ms(S->w, yt->http_timeout_ms),
                     &S->web, &S->api);
    S->quota = tw_quota_open(qpath, yt->quota_per_day, &err);
    S->rss = tw_rss_new();
    S->yt = tw_ytapi_new();
    S->page = tw_ytpage_new();
    if (!S->web || !S->quota || !S->rss || !S->yt || !S->page) {
        tw_log_error("unable to initialise: %s", err.msg[0] ? err.msg : "");
        exit_code = TW_EXIT_TEMP;
        goto out;
    }
    tw_worker_on_beat(S->w, s_report_quota, S);
    s_open_events(S, "notifier", &S->notify);
    s_open_events(S, "kafka", &S->kafka);
    if (tw_scan_handles_load(S->handles_path, &S->handles, &S->nhandles,
                             &err) != TW_OK ||
        tw_scan_streams_load(S->streams_path, &S->streams, &S->nstreams,
                             &err) != TW_OK)
        tw_log_warn("state: %s", err.msg);
    S->cap = S->nstreams;
    scan_track_restore(S->streams, S->nstreams, tw_time_now_us());
    s_check_channels(S, true);
    tw_worker_ready(S->w);
    tw_log_info("scanning %zu channel(s) every %" PRIu64 " ms, %s", S->nchans,
                S->scan_ms,
                S->api ? "Data API videos.list" : "watch pages (no API key)");
    S->loop = tw_loop_new();
    S->tick = S->loop ? tw_loop_add_timer(S->loop, 0, 0, s_on_tick, S) : -1;
    rc = S->tick < 0 ? TW_ERR_NOMEM : TW_OK;
    if (rc == TW_OK)
        rc = tw_worker_attach(S->w, S->loop);
    if (rc == TW_OK && S->hupfd >= 0)
        rc = tw_loop_add_fd(S->loop, S->hupfd, ZMQ_POLLIN, s_on_hup, S);
    if (rc == TW_OK && S->notify)
        rc = tw_deliver_attach(S->notify, S->loop, NULL, NULL);
    if (rc == TW_OK && S->kafka)
        rc = tw_deliver_attach(S->kafka, S->loop, NULL, NULL);
    if (rc != TW_OK) {
        tw_log_error("unable to start the loop: %s", tw_rc_str(rc));
        goto out;
    }
    rc = tw_loop_run(S->loop);
    if (rc != TW_OK)
        tw_log_error("event loop: %s", tw_rc_str(rc));
    exit_code = TW_EXIT_OK;
out:
    s_save(S, true);
    if (S->notify) {
        tw_deliver_drain(S->notify, 1000, NULL);
        tw_deliver_destroy(&S->notify);
    }
    if (S->kafka) {
        tw_deliver_drain(S->kafka, 1000, NULL);
        tw_deliver_destroy(&S->kafka);
    }
    tw_log_info("stopped: %" PRIu64 " feed checks, %" PRIu64
                " videos.list calls, %" PRIu64 " channel pages, %" PRIu64
                " playlistItems calls",
                S->rss_checks, S->api_calls, S->page_checks, S->playlist_calls);
    tw_rss_destroy(&S->rss);
    tw_ytapi_destroy(&S->yt);
    tw_ytpage_destroy(&S->page);
    tw_quota_destroy(&S->quota);
    tw_http_destroy(&S->web);
    tw_http_destroy(&S->api);
    free(S->chans);
    free(S->handles);
    free(S->streams);
    tw_worker_destroy(&S->w);
    tw_loop_destroy(&S->loop);
    if (S->hupfd >= 0)
        close(S->hupfd);
    return exit_code;
}
