/* chat_api - the chat worker's Data API path: videos.list for the
 * activeLiveChatId, then liveChatMessages.list honouring
 * pollingIntervalMillis, offlineAt and the daily quota (units counted
 * locally). Used when [worker.chat] use_api is set and as the fallback when
 * the web client's format breaks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "tw_backoff.h"
#include "tw_log.h"
#include "tw_quota.h"
#include "tw_time.h"
#include "tw_ytapi.h"

/* Units of the two calls (external-apis.md 1.1). */
#define S_UNITS_VIDEOS   1
#define S_UNITS_MESSAGES 5

/* Share of the daily budget one chat stream may plan for (the governor
 * also spreads what is left of the day over the rest of it). */
#define S_QUOTA_SHARE 0.5

/* Longest wait between checks of a chat that is not open yet. */
#define S_WAIT_MAX_MS (5 * 60 * 1000)

/* What a call gave. */
typedef enum {
    S_OK = 0, /* parsed */
    S_RETRY,  /* transient: back off and retry */
    S_ERROR,  /* an error body: see tw_ytapi_error() */
    S_BUDGET, /* not sent: the shared daily budget is spent */
} s_res_t;

/* GETs url (relative to api_base_url, key appended) and parses it with
 * the parser chosen by chat (NULL: videos.list). */
static s_res_t s_call(chat_t *c, tw_ytapi_t *api, const char *url,
                      unsigned units, bool chat, tw_rc_t *rcp)
{
    if (c->quota && !tw_quota_allowed(c->quota, units)) {
        *rcp = TW_ERR_QUOTA;
        return S_BUDGET;
    }
    char *key = tw_http_escape(c->cfg->youtube.api_key);
    char *base = tw_http_url_join(c->cfg->youtube.api_base_url, url);
    size_t n = (base ? strlen(base) : 0) + (key ? strlen(key) : 0) + 8;
    char *full = malloc(n);
    if (!key || !base || !full) {
        free(key);
        free(base);
        free(full);
        *rcp = TW_ERR_NOMEM;
        return S_RETRY;
    }
    snprintf(full, n, "%s&key=%s", base, key);
    free(key);
    free(base);
    tw_http_resp_t resp = {0};
    tw_err_t err = {0};
    tw_rc_t rc = tw_http_get(c->http, full, NULL, &resp, &err);
    free(full);
    if (resp.status != 0) {
        /* every answered request costs its units, refused ones included */
        c->quota_units += units;
        if (c->quota)
            tw_quota_spend(c->quota,
                           chat ? "liveChatMessages.list" : "videos.list",
                           units, NULL);
    }
    s_res_t res = S_OK;
    if (resp.body && (rc == TW_OK || rc == TW_ERR_HTTP || rc == TW_ERR_AGAIN)) {
        tw_rc_t prc =
            chat ? tw_ytapi_parse_chat(api, c->chat, resp.body, resp.body_len,
                                       &err)
                 : tw_ytapi_parse_videos(api, resp.body, resp.body_len, &err);
        if (prc != TW_OK) {
            rc = prc;
            res = tw_ytapi_error(api)->reason != TW_YTAPI_REASON_NONE ? S_ERROR
                                                                      : S_RETRY;
        } else if (rc != TW_OK) {
            res = S_RETRY;
        }
    } else {
        res = S_RETRY;
    }
    if (res != S_OK) {
        c->errors++;
        tw_log_write(TW_LOG_WARN, "Data API %s: %s",
                     chat ? "liveChatMessages" : "videos",
                     err.msg[0] ? err.msg : tw_rc_str(rc));
    }
    tw_http_resp_clear(&resp);
    *rcp = rc;
    return res;
}

/* Waits while the Data API may not be called: after a quotaExceeded
 * answer (exhausted true: blocked until the next Pacific midnight, shared
 * with the other workers through tw_quota) or while the shared budget is
 * spent. */
static void s_wait_quota(chat_t *c, bool exhausted, unsigned units)
{
    if (!c->quota) {
        chat_wait(c, 60000);
        return;
    }
    if (exhausted)
        tw_quota_exhausted(c->quota, NULL);
    int64_t until = tw_quota_blocked_until(c->quota);
    int64_t wait_ms = until > 0 ? (until - tw_time_now_us()) / 1000
                                : (int64_t)tw_quota_interval_ms(
                                      c->quota, 60000, units, S_QUOTA_SHARE);
    tw_log_write(TW_LOG_WARN, "Data API quota %s: next call in %" PRId64 " s",
                 exhausted ? "exhausted" : "budget spent", wait_ms / 1000);
    int64_t end =
        tw_time_mono_ms() + tw_time_real_ms(wait_ms > 0 ? wait_ms : 1000);
    while (!chat_stopping(c) && tw_time_mono_ms() < end)
        chat_wait(c, 60000);
}

/* Sets the report outcome. */
static chat_end_t s_report(chat_t *c, tw_stream_state_t st, const char *why)
{
    c->report_state = st;
    snprintf(c->report_reason, sizeof c->report_reason, "%s", why);
    return CHAT_END_REPORT;
}

/* videos.list until the stream has a live chat id (copied into id).
 * Returns -1 when found, else an end. */
static int s_chat_id(chat_t *c, tw_ytapi_t *api, char *id, size_t cap)
{
    char url[128];
    snprintf(url, sizeof url, "videos?part=snippet,liveStreamingDetails&id=%s",
             c->video_id);
    tw_backoff_t *bo =
        tw_backoff_new((uint32_t)c->cfg->chat.poll_max_ms, S_WAIT_MAX_MS);
    int64_t first = tw_time_now_us();
    int missing = 0, end = -1;
    for (;;) {
        if (chat_stopping(c)) {
            end = CHAT_END_STOP;
            break;
        }
        tw_rc_t rc;
        s_res_t r = s_call(c, api, url, S_UNITS_VIDEOS, false, &rc);
        if (rc == TW_ERR_QUOTA && (r == S_ERROR || r == S_BUDGET)) {
            s_wait_quota(c, r == S_ERROR, S_UNITS_VIDEOS);
            continue;
        }
        if (r == S_ERROR && rc == TW_ERR_CONFIG) {
            end = CHAT_END_FAIL; /* bad key: nothing to retry */
            break;
        }
        if (r != S_OK) {
            chat_wait(c, bo ? tw_backoff_next_jitter(bo) + 100 : 1000);
            continue;
        }
        if (tw_ytapi_video_count(api) == 0) {
            /* unknown, private and deleted ids are simply omitted */
            if (++missing >= 2) {
                end = s_report(c, TW_STREAM_STATE_UNAVAILABLE,
                               "unavailable: not listed by videos.list "
                               "(private, deleted or unknown)");
                break;
            }
            chat_wait(c, (int64_t)c->cfg->chat.poll_max_ms);
            continue;
        }
        const tw_ytapi_video_t *v = tw_ytapi_video(api, 0);
        if (v->title[0])
            snprintf(c->title, sizeof c->title, "%s", v->title);
        if (v->channel_id[0])
            snprintf(c->ck.channel_id, sizeof c->ck.channel_id, "%s",
                     v->channel_id);
        if (v->scheduled_start_usec)
            c->sched_usec = v->scheduled_start_usec;
        if (v->actual_start_usec)
            c->start_usec = v->actual_start_usec;
        if (v->actual_end_usec)
            c->end_usec = v->actual_end_usec;
        if (v->active_live_chat_id[0]) {
            snprintf(id, cap, "%s", v->active_live_chat_id);
            break;
        }
        if (v->state == TW_YTAPI_STATE_ENDED) {
            end = CHAT_END_ENDED;
            break;
        }
        if (v->state == TW_YTAPI_STATE_LIVE) {
            end = s_report(c, TW_STREAM_STATE_UNAVAILABLE,
                           "chat disabled: live without activeLiveChatId");
            break;
        }
        int64_t base = c->sched_usec ? c->sched_usec : first;
        if (tw_time_now_us() > base + c->grace_ms * 1000) {
            end = s_report(c, TW_STREAM_STATE_CANCELLED,
                           "never started: no live chat after the grace");
            break;
        }
        chat_wait(c, bo ? tw_backoff_next(bo) : 1000);
    }
    tw_backoff_destroy(&bo);
    return end;
}

chat_end_t chat_api_capture(chat_t *c)
{
    if (!c->cfg->youtube.api_key[0]) {
        tw_log_write(TW_LOG_ERROR, "the Data API needs [youtube] api_key");
        return CHAT_END_FAIL;
    }
    tw_ytapi_t *api = tw_ytapi_new();
    if (!api)
        return CHAT_END_FAIL;
    tw_err_t qerr = {0};
    c->quota =
        tw_quota_open(c->quota_path, c->cfg->youtube.quota_per_day, &qerr);
    if (!c->quota)
        tw_log_write(TW_LOG_WARN,
                     "quota governor unavailable (%s): "
                     "counting units locally only",
                     qerr.msg);
    char chat_id[256] = "";
    char *page = NULL;
    chat_end_t end = CHAT_END_ENDED;
    int end0 = s_chat_id(c, api, chat_id, sizeof chat_id);
    uint32_t fails = 0;
    tw_log_write(TW_LOG_INFO, "capturing %s with the Data API", c->video_id);
    while (end0 < 0) {
        if (chat_stopping(c)) {
            end = CHAT_END_STOP;
            break;
        }
        if (!tw_deliver_can_send(c->tx)) {
            chat_wait(c, 1000);
            continue;
        }
        char *lid = tw_http_escape(chat_id);
        char *ptok = page ? tw_http_escape(page) : NULL;
        char url[1024];
        snprintf(url, sizeof url,
                 "liveChat/messages?liveChatId=%s&part=id,snippet,"
                 "authorDetails&maxResults=2000%s%s",
                 lid ? lid : "", ptok ? "&pageToken=" : "", ptok ? ptok : "");
        free(lid);
        free(ptok);
        c->polls++;
        tw_rc_t rc;
        s_res_t r = s_call(c, api, url, S_UNITS_MESSAGES, true, &rc);
        if (r == S_BUDGET) {
            s_wait_quota(c, false, S_UNITS_MESSAGES);
            continue;
        }
        if (r == S_ERROR) {
            if (rc == TW_ERR_CLOSED)
                break; /* liveChatEnded */
            if (rc == TW_ERR_QUOTA) {
                s_wait_quota(c, true, S_UNITS_MESSAGES);
                continue;
            }
            if (rc == TW_ERR_STATE) {
                end = s_report(c, TW_STREAM_STATE_UNAVAILABLE,
                               "chat disabled (liveChatDisabled)");
                break;
            }
            if (rc == TW_ERR_AUTH) {
                end = s_report(c, TW_STREAM_STATE_MEMBERS_ONLY,
                               "members-only: the chat is forbidden");
                break;
            }
            if (rc == TW_ERR_CONFIG) {
                end = CHAT_END_FAIL;
                break;
            }
            if (rc == TW_ERR_NOTFOUND) {
                end0 = s_chat_id(c, api, chat_id, sizeof chat_id);
                if (end0 >= 0)
                    end = (chat_end_t)end0;
                continue;
            }
        }
        if (r != S_OK) {
            tw_worker_count(c->w, 0, 0, 1);
            chat_wait(c,
                      tw_backoff_full_jitter((uint32_t)c->cfg->chat.poll_min_ms,
                                             60000, fails++));
            continue;
        }
        fails = 0;
        rc = chat_send_items(c, false, NULL);
        if (rc != TW_OK) {
            end = rc == TW_ERR_CLOSED ? CHAT_END_STOP : CHAT_END_FAIL;
            break;
        }
        const tw_ytchat_cont_t *k = tw_ytchat_continuation(c->chat);
        if (k->token[0]) {
            free(page);
            page = strdup(k->token);
        }
        if (chat_save(c, false) != TW_OK) {
            end = CHAT_END_FAIL;
            break;
        }
        if (k->offline_at_usec) {
            if (!c->end_usec)
                c->end_usec = k->offline_at_usec;
            break;
        }
        int64_t d = k->timeout_ms > 0 ? k->timeout_ms : 5000;
        if (d < (int64_t)c->cfg->chat.poll_min_ms)
            d = (int64_t)c->cfg->chat.poll_min_ms;
        if (c->quota)
            d = (int64_t)tw_quota_interval_ms(c->quota, (uint64_t)d,
                                              S_UNITS_MESSAGES, S_QUOTA_SHARE);
        chat_wait(c, d);
    }
    free(page);
    tw_ytapi_destroy(&api);
    tw_quota_destroy(&c->quota);
    if (end0 >= 0)
        end = (chat_end_t)end0;
    tw_log_write(TW_LOG_INFO, "Data API capture of %s: %" PRIu64 " quota units",
                 c->video_id, c->quota_units);
    return end;
}
