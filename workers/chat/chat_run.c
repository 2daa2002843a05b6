/* chat_run - the chat@VIDEO worker: startup probe of the watch page, the
 * live chat loop with suspected-end confirmation, delivery with journal and
 * checkpoint, replay reconciliation after the end (docs/chat.md). */
#define _GNU_SOURCE /* memmem */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "tw_backoff.h"
#include "tw_buf.h"
#include "tw_cfg.h"
#include "tw_chatmap.h"
#include "tw_file.h"
#include "tw_id.h"
#include "tw_log.h"
#include "tw_time.h"

/* innertube client version used until the watch page tells a newer one. */
/* Checkpoint at least this often while nothing new arrives. */
#define S_CKPT_IDLE_MS 60000
/* Re-read the page this often while a stream has not been seen live. */
#define S_UPCOMING_RECHECK_MS (10 * 60 * 1000)
/* Longest wait between checks of a stream whose chat is not open yet. */
#define S_WAIT_MAX_MS (5 * 60 * 1000)
/* Consecutive failed replay requests before the walk is abandoned. */
#define S_REPLAY_MAX_ERRORS 20
/* Attempts to find the replay continuation after the end. */
#define S_REPLAY_PROBES 8
/* Longest wait for the receiver to ack everything before exiting. */
#define S_DRAIN_MS (5 * 60 * 1000)

/* ---- waiting: a run of the worker's loop ---- */

bool chat_stopping(chat_t *c)
{
    return tw_worker_stopping(c->w);
}

void chat_wait(chat_t *c, int64_t ms)
{
    tw_rc_t rc;
    if (chat_stopping(c))
        rc = tw_loop_step(c->loop, ms > INT_MAX ? INT_MAX : (int)ms);
    else
        rc = tw_loop_run_for(c->loop, ms);
    if (rc != TW_OK)
        tw_log_write(TW_LOG_WARN, "event loop: %s", tw_rc_str(rc));
}

/* tw_http's retry sleep: keeps heartbeats and acks flowing meanwhile. */
static void s_http_sleep(uint32_t ms, void *arg)
{
    chat_wait(arg, ms);
}

/* Waits until the sender has credit; false when stopping first. */
static bool s_wait_credit(chat_t *c)
{
    bool logged = false;
    while (!tw_deliver_can_send(c->tx)) {
        if (chat_stopping(c))
            return false;
        if (!logged) {
            tw_log_write(TW_LOG_INFO,
                         "out of credit (%zu unacked): polling "
                         "paused until the tokenizer acks",
                         tw_deliver_unacked(c->tx));
            logged = true;
        }
        chat_wait(c, 1000);
    }
    return !chat_stopping(c);
}

/* Clamped, jittered (+-10 %) poll delay for a timeoutMs (-1: unknown). */
static int64_t s_poll_delay(const chat_t *c, int64_t timeout_ms)
{
    int64_t lo = (int64_t)c->cfg->chat.poll_min_ms;
    int64_t hi = (int64_t)c->cfg->chat.poll_max_ms;
    int64_t t = timeout_ms < 0 ? hi : timeout_ms;
    if (t < lo)
        t = lo;
    if (t > hi)
        t = hi;
    int64_t j = t / 10;
    return t - j + (int64_t)tw_backoff_jitter((uint32_t)(2 * j));
}

/* ---- delivery ---- */

/* Sends items[0..n) as one chat.batch (split in two when too big). */
static tw_rc_t s_send_batch(chat_t *c, tw_chat_item_t *items, size_t n)
{
    if (n == 0)
        return TW_OK;
    if (!s_wait_credit(c))
        return TW_ERR_CLOSED;
    tw_msg_t msg = {.id = TW_MSG_CHAT_BATCH};
    msg.u.chat_batch.video_id = c->video_id;
    msg.u.chat_batch.channel_id = c->ck.channel_id;
    msg.u.chat_batch.items.v = items;
    msg.u.chat_batch.items.n = n;
    tw_err_t err = {0};
    tw_rc_t rc = tw_deliver_send(c->tx, &msg, &err);
    if (rc == TW_ERR_TOOBIG && n > 1) {
        rc = s_send_batch(c, items, n / 2);
        if (rc == TW_OK)
            rc = s_send_batch(c, items + n / 2, n - n / 2);
        return rc;
    }
    if (rc != TW_OK)
        tw_log_write(TW_LOG_ERROR, "unable to send chat.batch: %s",
                     err.msg[0] ? err.msg : tw_rc_str(rc));
    return rc;
}

/* FNV-1a of a field, then a separator, into h. */
static uint64_t s_fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    h ^= 0x1f;
    return h * 1099511628211ull;
}

/* A hash of what a replacement says (kind, author, amount, text). */
static uint64_t s_content_hash(const tw_chat_item_t *o)
{
    uint64_t h = 1469598103934665603ull;
    h = s_fnv(h, tw_proto_chat_kind_str(o->kind));
    h = s_fnv(h, o->author_channel_id);
    h = s_fnv(h, o->author_name);
    h = s_fnv(h, o->amount);
    return s_fnv(h, o->text);
}

tw_rc_t chat_send_items(chat_t *c, bool replay, size_t *nsent)
{
    size_t total = tw_ytchat_count(c->chat);
    size_t cap = total < CHAT_BATCH_MAX ? total : CHAT_BATCH_MAX;
    if (nsent)
        *nsent = 0;
    if (!replay) /* called after every answered poll, empty or not */
        tw_worker_gauge(c->w, "chat_last_poll_unix_seconds",
                        tw_time_now_us() / 1000000);
    if (total == 0)
        return TW_OK;
    tw_chat_item_t *items = calloc(cap, sizeof *items);
    if (!items)
        return TW_ERR_NOMEM;
    tw_strpool_t pool = {0}; /* clipped texts of the batch being built */
    int64_t now = tw_time_now_us();
    size_t n = 0;
    uint64_t in = 0, out = 0, del = 0;
    tw_rc_t rc = TW_OK;
    for (size_t i = 0; i < total && rc == TW_OK; i++) {
        const tw_ytchat_item_t *it = tw_ytchat_item(c->chat, i);
        tw_chat_item_t *o = &items[n];
        tw_chatmap_result_t mr = tw_chatmap_item(it, now, &pool, o);
        if (mr == TW_CHATMAP_EVENT) {
            c->bans++;
            continue;
        }
        in++;
        if (mr == TW_CHATMAP_BAD_ID) {
            c->skipped++;
            continue;
        }
        bool is_del = o->kind == TW_CHAT_KIND_DELETED;
        const char *id = o->id;
        /* reloads and the replay overlap what was sent: skip it here
         * (the writer's dedup would drop it anyway). A replacement shares
         * the placeholder's id: its key adds its content, as the writer's
         * content key does (docs/writer-store.md). */
        if (!is_del) {
            char key[300];
            if (it->replaces)
                snprintf(key, sizeof key, "rep %016" PRIx64 " %s",
                         s_content_hash(o), id);
            else
                snprintf(key, sizeof key, "%s", id);
            if (!chat_seen_add(c->seen, key))
                continue;
        }
        n++;
        if (it->timestamp_usec > c->ck.last_usec)
            c->ck.last_usec = it->timestamp_usec;
        if (is_del) {
            del++;
        } else {
            out++;
        }
        if (n == cap) {
            rc = s_send_batch(c, items, n);
            n = 0;
            tw_strpool_clear(&pool);
        }
    }
    if (rc == TW_OK)
        rc = s_send_batch(c, items, n);
    tw_strpool_fini(&pool);
    free(items);
    if (rc == TW_OK) {
        c->ck.items += out;
        c->ck.deleted += del;
        if (replay)
            c->ck.replay_items += out;
        if (nsent)
            *nsent = out + del;
        tw_worker_count(c->w, in, out + del, 0);
        tw_worker_gauge(c->w, "chat_items_total", (int64_t)c->ck.items);
    }
    return rc;
}

tw_rc_t chat_save(chat_t *c, bool force)
{
    int64_t now = tw_time_mono_ms();
    if (!force && now - c->ckpt_ms < S_CKPT_IDLE_MS)
        return TW_OK;
    tw_err_t err = {0};
    tw_rc_t rc = chat_ckpt_save(c->ckpt_path, &c->ck, &err);
    if (rc != TW_OK) {
        tw_log_write(TW_LOG_ERROR, "unable to save the checkpoint: %s",
                     err.msg[0] ? err.msg : tw_rc_str(rc));
        return rc;
    }
    c->ckpt_ms = now;
    return TW_OK;
}

void chat_log_unknown(chat_t *c)
{
    size_t n = tw_ytchat_unknown_count(c->chat);
    for (size_t i = 0; i < n; i++) {
        const tw_ytchat_unknown_t *u = tw_ytchat_unknown(c->chat, i);
        /* every answer counts towards the drift alarm; the log line is
         * written once per name */
        if (c->w) {
            char what[160];
            snprintf(what, sizeof what, "unknown renderer or action %s",
                     u->name);
            tw_worker_drift(c->w, "chat.actions", what, u->count);
        }
        bool known = false;
        for (size_t k = 0; k < c->nunknown && !known; k++)
            known =
                strncmp(c->unknown[k], u->name, sizeof c->unknown[k] - 1) == 0;
        if (known)
            continue;
        tw_log_write(TW_LOG_WARN,
                     "unknown chat renderer or action '%s' at %s (%" PRIu32
                     " in this answer): YouTube's format may have changed",
                     u->name, u->path, u->count);
        if (c->nunknown < sizeof c->unknown / sizeof c->unknown[0]) {
            snprintf(c->unknown[c->nunknown], sizeof c->unknown[0], "%s",
                     u->name);
            c->nunknown++;
        }
    }
}

/* ---- the web client ---- */

/* POSTs an innertube call with the WEB client context and one string field
 * (key = value) plus optional raw JSON extra members. */
static tw_rc_t s_innertube(chat_t *c, const char *path, const char *key,
                           const char *value, const char *extra,
                           tw_http_resp_t *resp, tw_err_t *err)
{
    return tw_ytweb_innertube(c->http, c->client_version, path, key, value,
                              extra, resp, err);
}

/* Copies what the page tells about the stream into c. */
static void s_take_info(chat_t *c, const tw_ytpage_info_t *info)
{
    if (info->title[0])
        snprintf(c->title, sizeof c->title, "%s", info->title);
    if (tw_id_is_channel(info->channel_id))
        snprintf(c->ck.channel_id, sizeof c->ck.channel_id, "%s",
                 info->channel_id);
    if (info->scheduled_start_usec)
        c->sched_usec = info->scheduled_start_usec;
    if (info->start_usec && info->state != TW_YTPAGE_STATE_UPCOMING)
        c->start_usec = info->start_usec;
    if (info->end_usec)
        c->end_usec = info->end_usec;
    if (info->state == TW_YTPAGE_STATE_LIVE ||
        info->state == TW_YTPAGE_STATE_ENDED)
        c->seen_live = true;
}

/* Picks up INNERTUBE_CLIENT_VERSION from a watch page. */
static void s_take_version(chat_t *c, const char *html, size_t len)
{
    tw_ytweb_client_version(html, len, c->client_version,
                            sizeof c->client_version);
}

/* Reads the watch page (falling back to youtubei next) and classifies it.
 * The parsed info stays in c->page. */
static void s_probe(chat_t *c, chat_page_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->verdict = CHAT_PAGE_RETRY;
    char path[64];
    snprintf(path, sizeof path, "watch?v=%s", c->video_id);
    tw_http_resp_t resp = {0};
    tw_err_t err = {0};
    tw_rc_t rc = tw_ytweb_page(c->http, path, &resp, &err);
    if (rc == TW_OK && resp.body) {
        s_take_version(c, resp.body, resp.body_len);
        rc = tw_ytpage_parse_html(c->page, resp.body, resp.body_len, &err);
    }
    if (rc != TW_OK) {
        tw_log_write(TW_LOG_WARN, "watch page of %s: %s; trying youtubei next",
                     c->video_id, err.msg[0] ? err.msg : tw_rc_str(rc));
        c->errors++;
        tw_ytpage_reset(c->page);
        tw_err_clear(&err);
        rc = s_innertube(c, "next", "videoId", c->video_id, NULL, &resp, &err);
        if (rc == TW_OK && resp.body)
            rc = tw_ytpage_parse_json(c->page, resp.body, resp.body_len, &err);
        if (rc != TW_OK) {
            tw_log_write(TW_LOG_WARN, "youtubei next of %s: %s", c->video_id,
                         err.msg[0] ? err.msg : tw_rc_str(rc));
            tw_http_resp_clear(&resp);
            return;
        }
    }
    tw_http_resp_clear(&resp);
    const tw_ytpage_info_t *info = tw_ytpage_info(c->page);
    s_take_info(c, info);
    chat_page_classify(info, res);
    tw_log_write(TW_LOG_DEBUG, "page: state %s, playability %s, chat %s%s",
                 tw_ytpage_state_str(info->state),
                 tw_ytpage_play_str(info->play),
                 info->chat_continuation[0] ? "yes" : "no",
                 info->chat_is_replay ? " (replay)" : "");
}

/* Probes until the verdict is not RETRY (or stopping); a REPORT verdict
 * is confirmed by a second probe. */
static void s_probe_settled(chat_t *c, chat_page_result_t *res)
{
    tw_backoff_t *bo =
        tw_backoff_new((uint32_t)c->cfg->chat.poll_min_ms, S_WAIT_MAX_MS);
    int64_t first = tw_time_now_us();
    for (;;) {
        s_probe(c, res);
        if (chat_stopping(c))
            break;
        if (res->verdict == CHAT_PAGE_REPORT) {
            chat_wait(c, (int64_t)c->cfg->chat.poll_max_ms);
            chat_page_result_t again;
            s_probe(c, &again);
            if (again.verdict == CHAT_PAGE_RETRY)
                continue;
            *res = again;
            break;
        }
        if (res->verdict != CHAT_PAGE_RETRY)
            break;
        if (c->cfg->youtube.api_key[0] &&
            tw_backoff_attempts(bo) + 1 >= CHAT_FALLBACK_ERRORS)
            break; /* the caller falls back to the Data API */
        if (tw_time_now_us() - first > c->grace_ms * 1000) {
            res->verdict = CHAT_PAGE_REPORT;
            res->state = TW_STREAM_STATE_UNAVAILABLE;
            snprintf(res->reason, sizeof res->reason,
                     "unavailable: no usable watch page for %" PRId64 " s",
                     c->grace_ms / 1000);
            break;
        }
        chat_wait(c, bo ? tw_backoff_next_jitter(bo) + 100 : 1000);
    }
    tw_backoff_destroy(&bo);
}

/* Sets the REPORT outcome. */
static chat_end_t s_report(chat_t *c, const chat_page_result_t *res)
{
    c->report_state = res->state;
    snprintf(c->report_reason, sizeof c->report_reason, "%s", res->reason);
    return CHAT_END_REPORT;
}

/* Deadline (wall us) after which a stream still not live counts as never
 * starting. */
static int64_t s_start_deadline(const chat_t *c, int64_t first_seen)
{
    int64_t base = c->sched_usec ? c->sched_usec : first_seen;
    if (base < first_seen && !c->sched_usec)
        base = first_seen;
    return base + c->grace_ms * 1000;
}

/* Waits for the chat of an upcoming stream to open. Returns -1 to go on
 * (res holds the new verdict) or an end. */
static int s_wait_open(chat_t *c, chat_page_result_t *res)
{
    int64_t first = tw_time_now_us();
    uint32_t base = (uint32_t)c->cfg->chat.poll_max_ms;
    tw_backoff_t *bo = tw_backoff_new(base, S_WAIT_MAX_MS);
    int end = -1;
    while (res->verdict == CHAT_PAGE_WAIT) {
        int64_t now = tw_time_now_us();
        if (now > s_start_deadline(c, first)) {
            chat_page_result_t r = {.verdict = CHAT_PAGE_REPORT,
                                    .state = TW_STREAM_STATE_CANCELLED};
            snprintf(r.reason, sizeof r.reason,
                     "never started: chat still closed %" PRId64
                     " s after the scheduled start",
                     c->grace_ms / 1000);
            end = s_report(c, &r);
            break;
        }
        int64_t d = bo ? tw_backoff_next(bo) : base;
        if (c->sched_usec > now && (c->sched_usec - now) / 1000 + 1000 < d)
            d = (c->sched_usec - now) / 1000 + 1000;
        tw_log_write(TW_LOG_INFO,
                     "chat of %s is not open yet; next check in %" PRId64 " ms",
                     c->video_id, d);
        chat_wait(c, d);
        if (chat_stopping(c)) {
            end = CHAT_END_STOP;
            break;
        }
        s_probe_settled(c, res);
    }
    tw_backoff_destroy(&bo);
    return end;
}

/* Gives up after YouTube refused the token chain twice (the second time
 * a fresh chain from a re-read watch page): reports the drift, then the
 * Data API takes over when a key is set (live chat only: it has no
 * replay); else the reason is logged as one line and the worker exits 111
 * (restarted later with backoff). */
static chat_end_t s_refused(chat_t *c, const char *source, long status,
                            const char *why, bool replay)
{
    char what[160];
    snprintf(what, sizeof what,
             "chat token refused by YouTube (HTTP %ld%s%s) twice", status,
             why[0] ? " " : "", why);
    chat_drift(c, source, what);
    if (!replay && c->cfg->youtube.api_key[0]) {
        tw_log_write(TW_LOG_WARN, "%s", what);
        return CHAT_END_FALLBACK;
    }
    tw_log_write(TW_LOG_ERROR, "%s; %s", what,
                 replay ? "the Data API has no replay"
                        : "no API key for the Data API fallback");
    /* capture stops here: report it now, whatever the threshold */
    if (c->w)
        tw_worker_drift_alarm(c->w, source, what, 2);
    return CHAT_END_FAIL;
}

/* True when a continuation from an answer may be sent: it names this
 * video (else the drift is reported). */
static bool s_chained_ok(chat_t *c, const char *source, const char *token)
{
    chat_token_match_t m = chat_token_match(token, c->video_id, NULL);
    if (m == CHAT_TOKEN_OURS)
        return true;
    char what[96];
    snprintf(what, sizeof what, "continuation %s: not sent",
             chat_token_match_str(m));
    chat_drift(c, source, what);
    return false;
}

/* Re-reads the watch page and returns the replay token to walk from
 * (caller frees), or NULL. */
static char *s_fresh_replay_token(chat_t *c)
{
    chat_page_result_t res;
    s_probe(c, &res);
    return chat_token_start(c, true);
}

/* Walks the replay from token, sending every item not sent already.
 * first: token was taken from a page, so the first request tells the
 * player offset (later requests must not: it drags the replay back). */
static chat_end_t s_replay_walk(chat_t *c, const char *token, bool first)
{
    c->ck.phase = CHAT_PHASE_REPLAY;
    if (chat_ckpt_set_cont(&c->ck, token) != TW_OK)
        return CHAT_END_FAIL;
    if (chat_save(c, true) != TW_OK)
        return CHAT_END_FAIL;
    tw_log_write(TW_LOG_INFO, "walking the replay of %s", c->video_id);
    int errs = 0;
    bool refused = false;
    uint64_t pages = 0, before = c->ck.replay_items;
    int64_t pace = (int64_t)c->cfg->chat.poll_min_ms;
    if (pace > 250)
        pace = 250;
    for (;;) {
        if (chat_stopping(c))
            return CHAT_END_STOP;
        if (!s_wait_credit(c))
            return CHAT_END_STOP;
        tw_http_resp_t resp = {0};
        tw_err_t err = {0};
        tw_rc_t rc = s_innertube(
            c, "live_chat/get_live_chat_replay", "continuation",
            c->ck.continuation,
            first ? ",\"currentPlayerState\":{\"playerOffsetMs\":\"0\"}" : NULL,
            &resp, &err);
        if (rc == TW_ERR_HTTP && resp.status >= 400 && resp.status < 500) {
            long status = resp.status;
            char why[48];
            chat_token_error_status(resp.body, resp.body_len, why, sizeof why);
            tw_http_resp_clear(&resp);
            c->errors++;
            if (refused)
                return s_refused(c, "get_live_chat_replay", status, why, true);
            refused = true;
            tw_log_write(TW_LOG_WARN,
                         "get_live_chat_replay: HTTP %ld%s%s: re-reading "
                         "the watch page",
                         status, why[0] ? " " : "", why);
            char *tok = s_fresh_replay_token(c);
            if (chat_stopping(c)) {
                free(tok);
                return CHAT_END_STOP;
            }
            if (tok) {
                rc = chat_ckpt_set_cont(&c->ck, tok);
                free(tok);
                if (rc != TW_OK)
                    return CHAT_END_FAIL;
                first = true;
            }
            chat_wait(c, pace);
            continue;
        }
        if (rc == TW_OK)
            rc = tw_ytchat_parse(c->chat, resp.body ? resp.body : "",
                                 resp.body_len, &err);
        if (rc != TW_OK) {
            c->errors++;
            tw_http_resp_clear(&resp);
            if (++errs >= S_REPLAY_MAX_ERRORS) {
                tw_log_write(TW_LOG_WARN,
                             "replay walk of %s abandoned after %d errors "
                             "(last: %s)",
                             c->video_id, errs,
                             err.msg[0] ? err.msg : tw_rc_str(rc));
                break;
            }
            chat_wait(c, tw_backoff_full_jitter(500, 30000, (uint32_t)errs));
            continue;
        }
        errs = 0;
        refused = false;
        first = false;
        pages++;
        chat_log_unknown(c);
        rc = chat_send_items(c, true, NULL);
        if (rc == TW_ERR_CLOSED) {
            tw_http_resp_clear(&resp);
            return CHAT_END_STOP;
        }
        if (rc != TW_OK) {
            tw_http_resp_clear(&resp);
            return CHAT_END_FAIL;
        }
        if (c->cont_top && chat_token_upgrade(c, resp.body, resp.body_len)) {
            /* the all-messages replay from its start (the walk so far was
             * Top chat: what it sent is skipped as already seen) */
            tw_http_resp_clear(&resp);
            if (chat_save(c, true) != TW_OK)
                return CHAT_END_FAIL;
            chat_wait(c, pace);
            continue;
        }
        const tw_ytchat_cont_t *k = tw_ytchat_continuation(c->chat);
        bool more = k->kind == TW_YTCHAT_CONT_REPLAY && k->token[0] &&
                    strcmp(k->token, c->ck.continuation) != 0 &&
                    s_chained_ok(c, "get_live_chat_replay", k->token);
        if (more && chat_ckpt_set_cont(&c->ck, k->token) != TW_OK) {
            tw_http_resp_clear(&resp);
            return CHAT_END_FAIL;
        }
        tw_http_resp_clear(&resp);
        if (chat_save(c, true) != TW_OK)
            return CHAT_END_FAIL;
        if (!more)
            break;
        chat_wait(c, pace);
    }
    tw_log_write(TW_LOG_INFO,
                 "replay of %s walked: %" PRIu64 " pages, %" PRIu64
                 " items not seen live",
                 c->video_id, pages, c->ck.replay_items - before);
    return CHAT_END_ENDED;
}

/* After the confirmed end: finds the replay continuation and walks it. */
static chat_end_t s_reconcile(chat_t *c)
{
    if (!c->cfg->chat.reconcile_replay)
        return CHAT_END_ENDED;
    tw_backoff_t *bo =
        tw_backoff_new((uint32_t)c->cfg->chat.poll_max_ms, S_WAIT_MAX_MS);
    chat_end_t end = CHAT_END_ENDED;
    for (int i = 0; i < S_REPLAY_PROBES; i++) {
        chat_page_result_t res;
        s_probe(c, &res);
        if (chat_stopping(c)) {
            end = CHAT_END_STOP;
            break;
        }
        const tw_ytpage_info_t *info = tw_ytpage_info(c->page);
        if (info->chat_is_replay && info->chat_continuation[0]) {
            char *tok = chat_token_start(c, true);
            if (!tok) {
                tw_log_write(TW_LOG_WARN,
                             "no replay token naming %s on its watch page",
                             c->video_id);
                break;
            }
            end = s_replay_walk(c, tok, true);
            free(tok);
            break;
        }
        if (res.verdict == CHAT_PAGE_REPORT)
            break; /* deleted or made private right after the end */
        chat_wait(c, bo ? tw_backoff_next(bo) : 1000);
    }
    if (end == CHAT_END_ENDED && c->ck.phase != CHAT_PHASE_REPLAY)
        tw_log_write(TW_LOG_WARN, "no replay of %s found: not reconciled",
                     c->video_id);
    tw_backoff_destroy(&bo);
    return end;
}

/* Sleeps after a failed request: full jitter from poll_min, capped. */
static void s_backoff(chat_t *c, uint32_t attempt)
{
    uint32_t base = (uint32_t)c->cfg->chat.poll_min_ms;
    chat_wait(c, tw_backoff_full_jitter(base, 60000, attempt) + base / 2);
}

/* Replaces c->ck.continuation with a fresh token chain for the live chat
 * from the page in c->page (chat_token_start). True when replaced. */
static bool s_take_page_cont(chat_t *c)
{
    char *tok = chat_token_start(c, false);
    if (!tok)
        return false;
    tw_rc_t rc = chat_ckpt_set_cont(&c->ck, tok);
    free(tok);
    return rc == TW_OK;
}

/* Decides what a page probe during the live loop means. Returns -1 to go
 * on polling, else an end. One probe only: a page that cannot be read
 * (outage, format change) never stalls the chat polling; a report verdict
 * is confirmed by a second probe. */
static int s_recheck(chat_t *c, bool *ended)
{
    *ended = false;
    chat_page_result_t res;
    s_probe(c, &res);
    if (chat_stopping(c))
        return CHAT_END_STOP;
    if (res.verdict == CHAT_PAGE_RETRY) {
        if (++c->page_fails >= CHAT_FALLBACK_ERRORS &&
            c->cfg->youtube.api_key[0])
            return CHAT_END_FALLBACK;
        return -1;
    }
    c->page_fails = 0;
    if (res.verdict == CHAT_PAGE_REPORT) {
        chat_wait(c, (int64_t)c->cfg->chat.poll_max_ms);
        s_probe(c, &res);
        if (chat_stopping(c))
            return CHAT_END_STOP;
        if (res.verdict == CHAT_PAGE_REPORT)
            return s_report(c, &res);
        if (res.verdict == CHAT_PAGE_RETRY)
            return -1;
    }
    const tw_ytpage_info_t *info = tw_ytpage_info(c->page);
    *ended = res.verdict == CHAT_PAGE_ENDED ||
             info->state == TW_YTPAGE_STATE_ENDED || info->end_usec != 0;
    return -1;
}

/* The live chat loop from c->ck.continuation until the confirmed end. */
static chat_end_t s_live(chat_t *c)
{
    int64_t first_seen = tw_time_now_us();
    int64_t next_recheck =
        tw_time_mono_ms() + tw_time_real_ms(S_UPCOMING_RECHECK_MS);
    uint32_t fails = 0, bad_parse = 0, suspects = 0;
    bool refused = false; /* the chain in use replaces a refused one */
    int64_t last_timeout = -1;
    c->ck.phase = CHAT_PHASE_LIVE;
    tw_log_write(TW_LOG_INFO, "capturing the live chat of %s (%s)", c->video_id,
                 c->title);
    for (;;) {
        if (chat_stopping(c))
            return CHAT_END_STOP;
        /* a stream not seen live: is it still coming? */
        if (!c->seen_live &&
            (tw_time_mono_ms() >= next_recheck ||
             tw_time_now_us() > s_start_deadline(c, first_seen))) {
            next_recheck =
                tw_time_mono_ms() + tw_time_real_ms(S_UPCOMING_RECHECK_MS);
            bool ended = false;
            int end = s_recheck(c, &ended);
            if (end >= 0)
                return (chat_end_t)end;
            if (ended)
                return CHAT_END_ENDED;
            const tw_ytpage_info_t *info = tw_ytpage_info(c->page);
            if (info->state == TW_YTPAGE_STATE_UPCOMING &&
                tw_time_now_us() > s_start_deadline(c, first_seen)) {
                chat_page_result_t r = {.verdict = CHAT_PAGE_REPORT,
                                        .state = TW_STREAM_STATE_CANCELLED};
                snprintf(r.reason, sizeof r.reason,
                         "never started: still upcoming %" PRId64
                         " s after the scheduled start",
                         c->grace_ms / 1000);
                return s_report(c, &r);
            }
        }
        if (!s_wait_credit(c))
            return CHAT_END_STOP;
        tw_http_resp_t resp = {0};
        tw_err_t err = {0};
        c->polls++;
        tw_rc_t rc = s_innertube(c, "live_chat/get_live_chat", "continuation",
                                 c->ck.continuation, NULL, &resp, &err);
        if (rc != TW_OK) {
            long status = resp.status;
            char why[48];
            chat_token_error_status(resp.body, resp.body_len, why, sizeof why);
            tw_http_resp_clear(&resp);
            c->errors++;
            tw_worker_count(c->w, 0, 0, 1);
            if (rc == TW_ERR_HTTP && status >= 400 && status < 500) {
                tw_log_write(TW_LOG_WARN,
                             "get_live_chat: HTTP %ld%s%s: re-reading the "
                             "watch page",
                             status, why[0] ? " " : "", why);
                bool ended = false;
                int end = s_recheck(c, &ended);
                if (end >= 0)
                    return (chat_end_t)end;
                if (ended)
                    return CHAT_END_ENDED;
                if (refused)
                    return s_refused(c, "get_live_chat", status, why, false);
                /* once: a fresh token chain from the page just read */
                refused = true;
                if (s_take_page_cont(c))
                    tw_log_write(TW_LOG_INFO, "took a fresh continuation "
                                              "from the watch page");
                chat_wait(c, s_poll_delay(c, last_timeout));
                continue;
            }
            tw_log_write(TW_LOG_WARN, "get_live_chat: %s",
                         err.msg[0] ? err.msg : tw_rc_str(rc));
            s_backoff(c, fails++);
            continue;
        }
        rc = tw_ytchat_parse(c->chat, resp.body ? resp.body : "", resp.body_len,
                             &err);
        if (rc != TW_OK) {
            tw_http_resp_clear(&resp);
            c->malformed++;
            c->errors++;
            tw_worker_count(c->w, 0, 0, 1);
            tw_log_write(TW_LOG_WARN,
                         "unparsable get_live_chat answer (%u "
                         "in a row): %s",
                         bad_parse + 1, err.msg);
            if (++bad_parse >= CHAT_FALLBACK_ERRORS &&
                c->cfg->youtube.api_key[0])
                return CHAT_END_FALLBACK;
            /* the server is not overloaded: no exponential backoff */
            chat_wait(c, s_poll_delay(c, 0));
            continue;
        }
        fails = 0;
        bad_parse = 0;
        refused = false;
        chat_log_unknown(c);
        size_t nsent = 0;
        rc = chat_send_items(c, false, &nsent);
        if (rc != TW_OK) {
            tw_http_resp_clear(&resp);
            return rc == TW_ERR_CLOSED ? CHAT_END_STOP : CHAT_END_FAIL;
        }
        if (c->cont_top && chat_token_upgrade(c, resp.body, resp.body_len)) {
            tw_http_resp_clear(&resp);
            if (chat_save(c, true) != TW_OK)
                return CHAT_END_FAIL;
            chat_wait(c, (int64_t)c->cfg->chat.poll_min_ms);
            continue;
        }
        const tw_ytchat_cont_t *k = tw_ytchat_continuation(c->chat);
        tw_ytchat_cont_kind_t kind = k->kind;
        int64_t timeout = k->timeout_ms;
        if (timeout >= 0)
            last_timeout = timeout;
        bool have =
            k->token[0] != '\0' && s_chained_ok(c, "get_live_chat", k->token);
        if (have &&
            (kind == TW_YTCHAT_CONT_INVALIDATION ||
             kind == TW_YTCHAT_CONT_TIMED || kind == TW_YTCHAT_CONT_RELOAD)) {
            rc = chat_ckpt_set_cont(&c->ck, k->token);
            tw_http_resp_clear(&resp);
            if (rc != TW_OK || chat_save(c, nsent > 0) != TW_OK)
                return CHAT_END_FAIL;
            suspects = 0;
            if (kind == TW_YTCHAT_CONT_RELOAD)
                tw_log_write(TW_LOG_INFO, "reload continuation received");
            chat_wait(c, kind == TW_YTCHAT_CONT_RELOAD
                             ? (int64_t)c->cfg->chat.poll_min_ms
                             : s_poll_delay(c, timeout));
            continue;
        }
        tw_http_resp_clear(&resp);
        if (nsent > 0 && chat_save(c, true) != TW_OK)
            return CHAT_END_FAIL;
        if (kind == TW_YTCHAT_CONT_REPLAY || kind == TW_YTCHAT_CONT_SEEK)
            return CHAT_END_ENDED;
        /* No continuation: only a suspected end until the page agrees. */
        bool ended = false;
        int end = s_recheck(c, &ended);
        if (end >= 0)
            return (chat_end_t)end;
        if (ended) {
            tw_log_write(TW_LOG_INFO, "end of %s confirmed by the watch page",
                         c->video_id);
            return CHAT_END_ENDED;
        }
        suspects++;
        tw_log_write(TW_LOG_WARN,
                     "answer without continuation while %s is still live "
                     "(suspected end #%u): going on",
                     c->video_id, suspects);
        /* first retry the same continuation, then a fresh one */
        if (suspects % 2 == 0 && s_take_page_cont(c))
            tw_log_write(TW_LOG_INFO, "reloaded the continuation from the "
                                      "watch page");
        chat_wait(c, s_poll_delay(c, -1));
    }
}

/* Drops a checkpointed continuation that does not name this video (one
 * saved by an older version from a relative chat-view token, or a foreign
 * file): the page gives a fresh one. */
static void s_check_ckpt_token(chat_t *c)
{
    if (!c->ck.continuation)
        return;
    chat_token_match_t m =
        chat_token_match(c->ck.continuation, c->video_id, NULL);
    if (m == CHAT_TOKEN_OURS)
        return;
    tw_log_write(TW_LOG_WARN,
                 "checkpointed continuation %s: starting from the watch page",
                 chat_token_match_str(m));
    chat_ckpt_set_cont(&c->ck, NULL);
    c->ck.phase = CHAT_PHASE_LIVE;
}

/* Web client capture: probe, wait for the chat, live loop, replay. */
static chat_end_t s_web(chat_t *c)
{
    s_check_ckpt_token(c);
    if (c->ck.phase == CHAT_PHASE_REPLAY && c->ck.continuation) {
        tw_log_write(TW_LOG_INFO, "resuming the replay walk of %s",
                     c->video_id);
        char *tok = strdup(c->ck.continuation);
        chat_end_t end = tok ? s_replay_walk(c, tok, false) : CHAT_END_FAIL;
        free(tok);
        return end;
    }
    chat_page_result_t res;
    s_probe_settled(c, &res);
    if (chat_stopping(c))
        return CHAT_END_STOP;
    if (res.verdict == CHAT_PAGE_RETRY)
        return CHAT_END_FALLBACK; /* only with an API key */
    if (res.verdict == CHAT_PAGE_REPORT)
        return s_report(c, &res);
    if (res.verdict == CHAT_PAGE_WAIT) {
        int end = s_wait_open(c, &res);
        if (end >= 0)
            return (chat_end_t)end;
        if (res.verdict == CHAT_PAGE_REPORT)
            return s_report(c, &res);
        if (res.verdict == CHAT_PAGE_RETRY)
            return CHAT_END_FALLBACK;
    }
    bool resumed = c->ck.continuation != NULL;
    if (resumed) {
        tw_log_write(TW_LOG_INFO,
                     "resuming %s from the checkpoint (%" PRIu64
                     " items sent before)",
                     c->video_id, c->ck.items);
    } else if (res.verdict == CHAT_PAGE_CHAT && !s_take_page_cont(c)) {
        if (chat_stopping(c))
            return CHAT_END_STOP;
        tw_log_write(TW_LOG_ERROR,
                     "no chat token naming %s on its watch page%s", c->video_id,
                     c->cfg->youtube.api_key[0] ? ": trying the Data API"
                                                : " and no API key for the "
                                                  "Data API fallback");
        return c->cfg->youtube.api_key[0] ? CHAT_END_FALLBACK : CHAT_END_FAIL;
    }
    chat_end_t end = CHAT_END_ENDED;
    if (resumed || res.verdict == CHAT_PAGE_CHAT)
        end = s_live(c);
    if (end == CHAT_END_ENDED)
        end = s_reconcile(c);
    return end;
}

/* ---- setup and the end ---- */

/* Sends the stream.event of the outcome. */
static void s_event(chat_t *c, tw_stream_state_t state, const char *reason)
{
    tw_msg_stream_event_t ev = {0};
    ev.video_id = c->video_id;
    ev.channel_id = c->ck.channel_id;
    ev.title = c->title;
    ev.state = state;
    ev.scheduled_start_us = (tw_oi64_t){c->sched_usec != 0, c->sched_usec};
    ev.actual_start_us = (tw_oi64_t){c->start_usec != 0, c->start_usec};
    ev.actual_end_us = (tw_oi64_t){c->end_usec != 0, c->end_usec};
    ev.reason = (char *)reason;
    if (tw_worker_stream_event(c->w, &ev) != TW_OK)
        tw_log_write(TW_LOG_WARN, "unable to send stream.event");
}

/* Waits until every frame is acked; false when stopping or too slow. */
static bool s_drain(chat_t *c, int64_t max_ms)
{
    int64_t deadline = tw_time_mono_ms() + max_ms;
    while (tw_deliver_unacked(c->tx) > 0) {
        if (tw_time_mono_ms() >= deadline || chat_stopping(c))
            return false;
        chat_wait(c, 200);
    }
    return true;
}

/* Removes the checkpoint, the journal, what a crash left behind (temporary
 * files of atomic writes) and the state dir, which is this worker's own. */
static void s_cleanup_state(chat_t *c)
{
    tw_deliver_destroy(&c->tx);
    DIR *d = opendir(c->dir);
    for (;;) {
        struct dirent *de = d ? readdir(d) : NULL;
        if (!de)
            break;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", c->dir, de->d_name);
        if (unlink(p) != 0 && errno != ENOENT)
            tw_log_write(TW_LOG_WARN, "unable to remove %s: %s", p,
                         strerror(errno));
    }
    if (d)
        closedir(d);
    if (rmdir(c->dir) != 0 && errno != ENOENT)
        tw_log_write(TW_LOG_WARN, "unable to remove %s: %s", c->dir,
                     strerror(errno));
}

/* Reads the never-starting grace (environment override or default). */
static int64_t s_grace_ms(void)
{
    const char *v = getenv(CHAT_ENV_START_GRACE);
    uint64_t ms = 0;
    if (v && *v && tw_cfg_parse_duration(v, &ms) == TW_OK)
        return (int64_t)ms;
    if (v && *v)
        tw_log_write(TW_LOG_WARN, "ignoring %s=%s (not a duration)",
                     CHAT_ENV_START_GRACE, v);
    return CHAT_START_GRACE_MS;
}

/* Opens everything; returns an exit code or -1 when ready. */
static int s_setup(chat_t *c, tw_worker_t *w, tw_loop_t *loop)
{
    c->w = w;
    c->loop = loop;
    c->cfg = tw_worker_cfg(w);
    const char *vid = tw_worker_instance(w);
    if (!tw_id_is_video(vid)) {
        tw_log_write(TW_LOG_ERROR, "instance '%s' is not a video id", vid);
        return TW_EXIT_USAGE;
    }
    snprintf(c->video_id, sizeof c->video_id, "%s", vid);
    snprintf(c->client_version, sizeof c->client_version, "%s",
             TW_YTWEB_CLIENT_VERSION);
    c->grace_ms = s_grace_ms();
    const char *state = getenv(TW_ENV_STATE_DIR);
    const char *runtime = getenv(TW_ENV_RUNTIME_DIR);
    if (!state || !*state)
        state = c->cfg->supervisor.state_dir;
    if (!runtime || !*runtime)
        runtime = c->cfg->supervisor.runtime_dir;
    int n = snprintf(c->dir, sizeof c->dir, "%s/%s", state, tw_worker_name(w));
    if (n < 0 || (size_t)n >= sizeof c->dir) {
        tw_log_write(TW_LOG_ERROR, "state dir path too long");
        return TW_EXIT_USAGE;
    }
    snprintf(c->ckpt_path, sizeof c->ckpt_path, "%s/checkpoint", c->dir);
    snprintf(c->journal_path, sizeof c->journal_path, "%s/journal", c->dir);
    snprintf(c->quota_path, sizeof c->quota_path, "%s/quota.tsv", state);
    tw_err_t err = {0};
    if (tw_file_mkdirs(c->dir, 0700, &err) != TW_OK) {
        tw_log_write(TW_LOG_ERROR, "unable to create %s: %s", c->dir, err.msg);
        return TW_EXIT_TEMP;
    }
    const tw_cfg_youtube_t *yt = &c->cfg->youtube;
    if (yt->api_key[0])
        tw_log_add_secret(yt->api_key);
    /* first retry after about half the shortest poll interval */
    uint64_t base = c->cfg->chat.poll_min_ms / 2;
    tw_http_opts_t ho = {
        .base_url = yt->web_base_url,
        .user_agent = yt->user_agent[0] ? yt->user_agent : NULL,
        .timeout_ms = (uint32_t)yt->http_timeout_ms,
        .max_retries = 4,
        .backoff_base_ms = (uint32_t)(base < 50    ? 50
                                      : base > 500 ? 500
                                                   : base),
        .backoff_max_ms = 30000,
        .cookies = 1,
    };
    c->http = tw_http_new(&ho);
    c->page = tw_ytpage_new();
    c->chat = tw_ytchat_new();
    c->seen = chat_seen_new();
    if (!c->http || !c->page || !c->chat || !c->seen) {
        tw_log_write(TW_LOG_ERROR, "unable to set up: out of memory");
        return TW_EXIT_TEMP;
    }
    tw_http_set_sleep(c->http, s_http_sleep, c);
    tw_rc_t rc = chat_ckpt_load(c->ckpt_path, &c->ck, &err);
    if (rc == TW_OK && strcmp(c->ck.video_id, c->video_id) != 0) {
        tw_log_write(TW_LOG_WARN, "checkpoint is for %s, not %s: ignored",
                     c->ck.video_id, c->video_id);
        chat_ckpt_clear(&c->ck);
    } else if (rc != TW_OK && rc != TW_ERR_NOTFOUND) {
        tw_log_write(TW_LOG_WARN, "starting over: %s", err.msg);
    }
    snprintf(c->ck.video_id, sizeof c->ck.video_id, "%s", c->video_id);
    char endpoint[4200];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/tokenizer.sock", runtime);
    tw_deliver_opts_t dopt = {
        .endpoint = endpoint,
        .src = tw_worker_name(w),
        .epoch = tw_worker_epoch(w),
        .journal = c->journal_path,
    };
    rc = tw_deliver_sender_new(&c->tx, tw_worker_zctx(w), &dopt, &err);
    if (rc != TW_OK) {
        tw_log_write(TW_LOG_ERROR, "unable to open the sender: %s", err.msg);
        return tw_rc_exit(rc);
    }
    rc = tw_deliver_attach(c->tx, c->loop, NULL, NULL);
    if (rc != TW_OK) {
        tw_log_write(TW_LOG_ERROR, "unable to attach the sender: %s",
                     tw_rc_str(rc));
        return TW_EXIT_TEMP;
    }
    tw_deliver_stats_t st;
    tw_deliver_stats(c->tx, &st);
    if (tw_deliver_unacked(c->tx) > 0)
        tw_log_write(TW_LOG_INFO, "%zu journaled batches queued for resend",
                     tw_deliver_unacked(c->tx));
    return -1;
}

int chat_run(tw_worker_t *worker, tw_loop_t *loop)
{
    assert(worker);
    assert(loop);
    chat_t *c = calloc(1, sizeof *c);
    if (!c) {
        tw_log_write(TW_LOG_ERROR, "out of memory");
        return TW_EXIT_TEMP;
    }
    int code = s_setup(c, worker, loop);
    if (code < 0) {
        tw_worker_ready(worker);
        chat_end_t end;
        if (c->cfg->chat.use_api && c->cfg->youtube.api_key[0])
            end = chat_api_capture(c);
        else
            end = s_web(c);
        if (end == CHAT_END_FALLBACK) {
            tw_log_write(TW_LOG_WARN,
                         "web client unusable for %s: falling "
                         "back to the Data API",
                         c->video_id);
            end = chat_api_capture(c);
        }
        char reason[400];
        switch (end) {
        case CHAT_END_ENDED:
            snprintf(reason, sizeof reason,
                     "chat captured: %" PRIu64 " items, %" PRIu64
                     " deletions, %" PRIu64 " from the replay, %" PRIu64
                     " polls, %" PRIu64 " errors, %" PRIu64 " quota units",
                     c->ck.items, c->ck.deleted, c->ck.replay_items, c->polls,
                     c->errors, c->quota_units);
            s_event(c, TW_STREAM_STATE_ENDED, reason);
            tw_log_write(TW_LOG_INFO, "%s ended: %s", c->video_id, reason);
            break;
        case CHAT_END_REPORT:
            s_event(c, c->report_state, c->report_reason);
            tw_log_write(TW_LOG_INFO, "%s: %s (%s)", c->video_id,
                         tw_proto_stream_state_str(c->report_state),
                         c->report_reason);
            break;
        case CHAT_END_STOP:
            tw_log_write(TW_LOG_INFO, "stopping: %zu batches unacked",
                         tw_deliver_unacked(c->tx));
            break;
        case CHAT_END_FAIL:
        case CHAT_END_FALLBACK:
            break;
        }
        if (end == CHAT_END_ENDED || end == CHAT_END_REPORT) {
            if (s_drain(c, S_DRAIN_MS)) {
                s_cleanup_state(c);
                code = TW_EXIT_OK;
            } else {
                tw_log_write(TW_LOG_WARN,
                             "%zu batches still unacked: keeping the journal",
                             tw_deliver_unacked(c->tx));
                if (end == CHAT_END_ENDED) {
                    /* resume at the end of the replay after a restart */
                    chat_save(c, true);
                }
                code = chat_stopping(c) ? TW_EXIT_OK : TW_EXIT_TEMP;
            }
        } else if (end == CHAT_END_STOP) {
            tw_err_t err = {0};
            tw_deliver_drain(c->tx, 2000, &err);
            code = TW_EXIT_OK;
        } else {
            code = TW_EXIT_TEMP;
        }
    }
    tw_deliver_destroy(&c->tx);
    tw_http_destroy(&c->http);
    tw_ytpage_destroy(&c->page);
    tw_ytpage_destroy(&c->aux);
    tw_ytchat_destroy(&c->chat);
    chat_seen_destroy(&c->seen);
    chat_ckpt_clear(&c->ck);
    free(c);
    return code;
}
