/* scan_source - the discovery source state machine, page request shapes
 * and the watch page state mapping (scan_source.h). */
#define _GNU_SOURCE
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "scan_source.h"
#include "tw_scan.h"
#include "tw_id.h"
#include "tw_ytweb.h"

/* One transition: the next state and the action to perform. */
typedef struct {
    scan_src_state_t next; /* state after the event */
    scan_src_act_t act;    /* what the caller does */
} s_trans_t;

/* SCAN_FEED_FAILS is 2: SUSPECT counts the single failure. A larger value
 * would need more SUSPECT states (or a guard on fails). */
static const s_trans_t scan_src_fsm[SCAN_SRC_NSTATES][SCAN_SRC_NEVENTS] = {
    [SCAN_SRC_FEED] =
        {
            [SCAN_SRC_EV_FEED_OK] = {SCAN_SRC_FEED, SCAN_SRC_ACT_NONE},
            [SCAN_SRC_EV_FEED_FAIL] = {SCAN_SRC_SUSPECT, SCAN_SRC_ACT_NONE},
        },
    [SCAN_SRC_SUSPECT] =
        {
            [SCAN_SRC_EV_FEED_OK] = {SCAN_SRC_FEED, SCAN_SRC_ACT_NONE},
            [SCAN_SRC_EV_FEED_FAIL] = {SCAN_SRC_FALLBACK,
                                       SCAN_SRC_ACT_FALLBACK},
        },
    [SCAN_SRC_FALLBACK] =
        {
            [SCAN_SRC_EV_FEED_OK] = {SCAN_SRC_FEED, SCAN_SRC_ACT_RECOVERED},
            [SCAN_SRC_EV_FEED_FAIL] = {SCAN_SRC_FALLBACK, SCAN_SRC_ACT_NONE},
        },
};

/* The fallback chain: the step after [step][worked]. A step that worked
 * ends the round; SCAN_STEP_PLAYLIST is skipped when not allowed. */
static const scan_step_t s_chain[][2] = {
    [SCAN_STEP_NONE] = {SCAN_STEP_STREAMS, SCAN_STEP_STREAMS},
    [SCAN_STEP_STREAMS] = {SCAN_STEP_LIVE, SCAN_STEP_NONE},
    [SCAN_STEP_LIVE] = {SCAN_STEP_PLAYLIST, SCAN_STEP_NONE},
    [SCAN_STEP_PLAYLIST] = {SCAN_STEP_NONE, SCAN_STEP_NONE},
};

scan_src_act_t scan_src_event(scan_src_t *src, scan_src_event_t ev)
{
    assert(src);
    assert(src->state < SCAN_SRC_NSTATES);
    assert(ev < SCAN_SRC_NEVENTS);
    const s_trans_t *t = &scan_src_fsm[src->state][ev];
    src->fails = ev == SCAN_SRC_EV_FEED_FAIL ? src->fails + 1 : 0;
    src->state = t->next;
    return t->act;
}

bool scan_src_in_fallback(const scan_src_t *src)
{
    assert(src);
    return src->state == SCAN_SRC_FALLBACK;
}

scan_step_t scan_src_next_step(scan_step_t step, bool ok, bool playlist_ok)
{
    assert(step <= SCAN_STEP_PLAYLIST);
    scan_step_t next = s_chain[step][ok ? 1 : 0];
    if (next == SCAN_STEP_PLAYLIST && !playlist_ok)
        next = SCAN_STEP_NONE;
    return next;
}

bool scan_src_playlist_allowed(const scan_src_t *src, int64_t now_ms,
                               bool has_key, bool quota_ok)
{
    assert(src);
    return has_key && quota_ok && now_ms >= src->next_playlist_ms;
}

void scan_src_playlist_called(scan_src_t *src, int64_t now_ms,
                              uint64_t interval_ms)
{
    assert(src);
    if (interval_ms > (uint64_t)INT64_MAX / 2)
        interval_ms = (uint64_t)INT64_MAX / 2;
    src->next_playlist_ms = now_ms + (int64_t)interval_ms;
}

const char *scan_src_state_str(scan_src_state_t state)
{
    static const char *names[SCAN_SRC_NSTATES] = {"feed", "suspect",
                                                  "fallback"};
    return state < SCAN_SRC_NSTATES ? names[state] : "?";
}

const char *scan_step_str(scan_step_t step)
{
    static const char *names[] = {"none", "streams", "live", "playlist"};
    return step <= SCAN_STEP_PLAYLIST ? names[step] : "?";
}

/* ---- requests ---- */

tw_rc_t scan_page_url(char *out, size_t cap, const char *path)
{
    return tw_ytweb_page_url(out, cap, path);
}

tw_rc_t scan_channel_tab_url(char *out, size_t cap, const char *ref,
                             const char *tab)
{
    assert(out);
    assert(ref);
    assert(tab);
    char path[TW_ID_MAX + 64];
    bool handle = tw_id_is_handle(ref);
    if (!handle && !tw_id_is_channel(ref)) {
        if (cap)
            out[0] = '\0';
        return TW_ERR_INVALID;
    }
    int n = handle ? snprintf(path, sizeof path, "%s/%s", ref, tab)
                   : snprintf(path, sizeof path, "channel/%s/%s", ref, tab);
    if (n < 0 || (size_t)n >= sizeof path) {
        if (cap)
            out[0] = '\0';
        return TW_ERR_TOOBIG;
    }
    return scan_page_url(out, cap, path);
}

tw_rc_t scan_playlist_url(char *out, size_t cap, const char *channel_id)
{
    assert(out);
    assert(channel_id);
    if (!tw_id_is_channel(channel_id)) {
        if (cap)
            out[0] = '\0';
        return TW_ERR_INVALID;
    }
    int n = snprintf(out, cap,
                     "playlistItems?part=snippet&playlistId=UU%s"
                     "&maxResults=%d",
                     channel_id + 2, SCAN_PLAYLIST_MAX);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return TW_ERR_TOOBIG;
    }
    return TW_OK;
}

const char *const *scan_page_headers(void)
{
    static const char *const hdrs[] = {TW_YTWEB_COOKIE, NULL};
    return hdrs;
}

/* ---- pages ---- */

size_t scan_page_candidates(const tw_ytpage_t *page, const char *channel_id,
                            const char **out, size_t cap)
{
    assert(page);
    assert(channel_id);
    assert(out || cap == 0);
    const tw_ytpage_info_t *in = tw_ytpage_info(page);
    if (in->channel_id[0] && strcmp(in->channel_id, channel_id) != 0)
        return 0; /* a redirect to someone else's page */
    size_t n = 0;
    size_t ns = tw_ytpage_stream_count(page);
    for (size_t i = 0; i < ns && n < cap; i++)
        out[n++] = tw_ytpage_stream(page, i)->video_id;
    if (in->video_id[0] && n < cap) {
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++)
            dup = strcmp(out[i], in->video_id) == 0;
        if (!dup)
            out[n++] = in->video_id;
    }
    return n;
}

int scan_page_state(const tw_ytpage_info_t *in, const char **why)
{
    assert(in);
    assert(why);
    *why = in->play_reason;
    if (in->members_only || in->play == TW_YTPAGE_PLAY_LOGIN_REQUIRED)
        return TW_STREAM_STATE_MEMBERS_ONLY;
    switch (in->play) {
    case TW_YTPAGE_PLAY_ERROR:
    case TW_YTPAGE_PLAY_UNPLAYABLE:
        if (strcasestr(in->play_reason, "private"))
            return TW_STREAM_STATE_PRIVATE;
        if (strcasestr(in->play_reason, "removed") ||
            strcasestr(in->play_reason, "deleted") ||
            strcasestr(in->play_reason, "terminated"))
            return TW_STREAM_STATE_DELETED;
        if (in->play == TW_YTPAGE_PLAY_ERROR)
            return TW_STREAM_STATE_UNAVAILABLE;
        break;
    default:
        break;
    }
    *why = "";
    switch (in->state) {
    case TW_YTPAGE_STATE_UPCOMING:
        return TW_STREAM_STATE_SCHEDULED;
    case TW_YTPAGE_STATE_LIVE:
        return TW_STREAM_STATE_LIVE;
    case TW_YTPAGE_STATE_ENDED:
        return TW_STREAM_STATE_ENDED;
    case TW_YTPAGE_STATE_VOD:
        return TW_SCAN_ST_VIDEO;
    default:
        return -1;
    }
}
