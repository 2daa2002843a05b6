/* scan_track - the life of the streams in the scanner's table (see
 * scan_track.h). */
#include "scan_track.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "tw_id.h"

static void s_set_channel(tw_scan_stream_t *s, const char *chan)
{
    if ((size_t)snprintf(s->channel_id, sizeof s->channel_id, "%s", chan) >=
        sizeof s->channel_id)
        s->channel_id[0] = '\0';
}

void scan_track_init(tw_scan_stream_t *s, const char *vid, const char *chan,
                     const char *title, int64_t now_us)
{
    assert(s);
    assert(vid);
    assert(chan);
    assert(title);
    memset(s, 0, sizeof *s);
    snprintf(s->video_id, sizeof s->video_id, "%s", vid);
    s_set_channel(s, chan);
    snprintf(s->title, sizeof s->title, "%s", title);
    s->state = TW_SCAN_ST_UNKNOWN;
    s->seen_us = now_us;
    s->next_us = now_us;
}

void scan_track_restore(tw_scan_stream_t *v, size_t n, int64_t now_us)
{
    assert(v || n == 0);
    for (size_t i = 0; i < n; i++)
        v[i].next_us = tw_scan_state_final(v[i].state) ? INT64_MAX : now_us;
}

/* Whether a change from old to st is announced with a stream.event. */
static bool s_announced(tw_scan_state_t old, tw_scan_state_t st)
{
    switch (st) {
    case TW_SCAN_ST_SCHEDULED:
    case TW_SCAN_ST_LIVE:
    case TW_SCAN_ST_MEMBERS_ONLY:
        return true;
    case TW_SCAN_ST_ENDED:
    case TW_SCAN_ST_CANCELLED:
    case TW_SCAN_ST_PRIVATE:
    case TW_SCAN_ST_DELETED:
    case TW_SCAN_ST_UNAVAILABLE:
        return tw_scan_state_tracked(old);
    case TW_SCAN_ST_UNKNOWN:
    case TW_SCAN_ST_VIDEO:
        break;
    }
    return false;
}

scan_track_act_t scan_track_apply(tw_scan_stream_t *s,
                                  const scan_track_obs_t *obs,
                                  const scan_track_cfg_t *cfg, int64_t now_us)
{
    assert(s);
    assert(obs);
    assert(cfg);
    scan_track_act_t act = {false, false, 0, 0};
    tw_scan_state_t st = obs->state;
    tw_scan_state_t old = s->state;
    int64_t old_sched = s->scheduled_us;
    char why[64] = "";
    if (obs->reason)
        snprintf(why, sizeof why, "%s", obs->reason);
    if (st == TW_SCAN_ST_SCHEDULED && obs->scheduled_us &&
        obs->scheduled_us < now_us - SCAN_TRACK_OVERDUE_US) {
        st = TW_SCAN_ST_CANCELLED;
        snprintf(why, sizeof why, "never started");
    }
    if (obs->title && *obs->title)
        snprintf(s->title, sizeof s->title, "%s", obs->title);
    if (obs->channel && tw_id_is_channel(obs->channel))
        s_set_channel(s, obs->channel);
    if (obs->scheduled_us)
        s->scheduled_us = obs->scheduled_us;
    if (obs->start_us)
        s->start_us = obs->start_us;
    if (obs->end_us)
        s->end_us = obs->end_us;
    s->checked_us = now_us;
    bool resched = st == TW_SCAN_ST_SCHEDULED && old == TW_SCAN_ST_SCHEDULED &&
                   obs->scheduled_us && old_sched &&
                   obs->scheduled_us != old_sched;
    if (st != old || resched) {
        s->state = st;
        s->updated_us = now_us;
        snprintf(s->reason, sizeof s->reason, "%s",
                 resched ? "rescheduled" : why);
        act.event = s_announced(old, st);
    }
    if (st == TW_SCAN_ST_SCHEDULED && s->scheduled_us) {
        int64_t nb = s->scheduled_us - cfg->lead_us;
        if (nb < 0)
            nb = 0;
        if (nb != s->spawn_nb_us) {
            act.spawn = true;
            act.spawn_at_us = nb;
            act.spawn_mark_us = nb;
        }
    } else if (st == TW_SCAN_ST_LIVE &&
               (s->spawn_nb_us == 0 || s->spawn_nb_us > now_us)) {
        act.spawn = true;
        act.spawn_at_us = 0;
        act.spawn_mark_us = now_us;
    }
    if (st == TW_SCAN_ST_SCHEDULED &&
        s->scheduled_us - now_us > SCAN_TRACK_FAR_US)
        s->next_us = now_us + cfg->track_us * SCAN_TRACK_FAR_ROUNDS;
    else if (tw_scan_state_final(s->state))
        s->next_us = INT64_MAX;
    else
        s->next_us = now_us + cfg->track_us;
    return act;
}

void scan_track_spawned(tw_scan_stream_t *s, const scan_track_act_t *act)
{
    assert(s);
    assert(act);
    if (act->spawn)
        s->spawn_nb_us = act->spawn_mark_us;
}

void scan_track_obs_from_api(const tw_ytapi_video_t *it, scan_track_obs_t *obs)
{
    assert(it);
    assert(obs);
    memset(obs, 0, sizeof *obs);
    switch (it->state) {
    case TW_YTAPI_STATE_UPCOMING:
        obs->state = TW_SCAN_ST_SCHEDULED;
        break;
    case TW_YTAPI_STATE_LIVE:
        obs->state = TW_SCAN_ST_LIVE;
        break;
    case TW_YTAPI_STATE_ENDED:
        obs->state = TW_SCAN_ST_ENDED;
        break;
    case TW_YTAPI_STATE_NONE:
    default:
        obs->state = it->has_live_details
                         ? (it->actual_end_usec     ? TW_SCAN_ST_ENDED
                            : it->actual_start_usec ? TW_SCAN_ST_LIVE
                                                    : TW_SCAN_ST_SCHEDULED)
                         : TW_SCAN_ST_VIDEO;
        break;
    }
    obs->scheduled_us = it->scheduled_start_usec;
    obs->start_us = it->actual_start_usec;
    obs->end_us = it->actual_end_usec;
    obs->title = it->title;
    obs->channel = it->channel_id;
}

bool scan_track_needs_page(const tw_scan_stream_t *s,
                           const scan_track_obs_t *obs)
{
    assert(s);
    assert(obs);
    return tw_scan_state_tracked(obs->state) &&
           !tw_scan_state_tracked(s->state);
}

static bool s_open(const tw_scan_stream_t *s)
{
    return !tw_scan_state_final(s->state);
}

size_t scan_track_due(tw_scan_stream_t *v, size_t n, int64_t now_us,
                      const scan_track_due_opts_t *o, tw_scan_stream_t **out)
{
    assert(v || n == 0);
    assert(o);
    assert(out || n == 0);
    size_t due = 0;
    int64_t oldest = INT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (s_open(&v[i]) && v[i].next_us <= now_us) {
            due++;
            if (v[i].next_us < oldest)
                oldest = v[i].next_us;
        }
    /* a videos.list call costs one unit for 1 id or 50: wait a little for
     * more ids when the batch would be small */
    int64_t coalesce = o->scan_us / 2;
    if (coalesce > SCAN_TRACK_COALESCE_MAX_US)
        coalesce = SCAN_TRACK_COALESCE_MAX_US;
    if (!o->api)
        coalesce = 0;
    if (due == 0 || (due < SCAN_TRACK_BATCH && now_us - oldest < coalesce))
        return 0;
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        if (s_open(&v[i]) && v[i].next_us <= now_us)
            out[nc++] = &v[i];
    size_t room = (SCAN_TRACK_BATCH - nc % SCAN_TRACK_BATCH) % SCAN_TRACK_BATCH;
    int64_t horizon = now_us + o->track_us / 2;
    for (size_t i = 0; i < n && o->api && room; i++)
        if (s_open(&v[i]) && v[i].next_us > now_us && v[i].next_us <= horizon) {
            out[nc++] = &v[i];
            room--;
        }
    return nc;
}

size_t scan_track_open_count(const tw_scan_stream_t *v, size_t n)
{
    assert(v || n == 0);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s_open(&v[i]);
    return k;
}

void scan_track_hurry(tw_scan_stream_t *v, size_t n, int64_t soon_us)
{
    assert(v || n == 0);
    for (size_t i = 0; i < n; i++)
        if (s_open(&v[i]) && v[i].next_us > soon_us)
            v[i].next_us = soon_us;
}

size_t scan_track_prune(tw_scan_stream_t *v, size_t n, int64_t now_us)
{
    assert(v || n == 0);
    int64_t cut = now_us - SCAN_TRACK_KEEP_US;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const tw_scan_stream_t *s = &v[i];
        int64_t last =
            s->checked_us > s->updated_us ? s->checked_us : s->updated_us;
        if (tw_scan_state_final(s->state) && last && last < cut)
            continue;
        if (k != i)
            v[k] = *s;
        k++;
    }
    return k;
}
