/* scan_track - the life of the streams in the scanner's table: a source's
 * view of a video (videos.list or a page) applied to its row gives the
 * stream.event to send, the chat@VIDEO spawn request to make (scheduled
 * start - lead_time, or now once live) and the next check; which rows are
 * due, and which finished rows are forgotten (docs/capture.md, "scanner").
 * Pure: no sockets, no HTTP, no clock; the caller passes the time in. */
#ifndef SCAN_TRACK_H
#define SCAN_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_scan.h"
#include "tw_ytapi.h"

/* Ids per videos.list call. */
#define SCAN_TRACK_BATCH 50
/* A scheduled stream still upcoming this long after its start: cancelled. */
#define SCAN_TRACK_OVERDUE_US (INT64_C(24) * 3600 * 1000000)
/* Scheduled further away than this: re-checked every SCAN_TRACK_FAR_ROUNDS
 * tracking intervals. */
#define SCAN_TRACK_FAR_US     (INT64_C(3600) * 1000000)
#define SCAN_TRACK_FAR_ROUNDS 6
/* Finished videos are forgotten this long after their last check. */
#define SCAN_TRACK_KEEP_US (INT64_C(30) * 86400 * 1000000)
/* Longest wait for more due ids before a videos.list call with fewer than
 * SCAN_TRACK_BATCH of them. */
#define SCAN_TRACK_COALESCE_MAX_US (INT64_C(30) * 1000000)

/* What a source says about one video. Times are Unix usec, 0 = not said;
 * strings may be NULL (not said) and are copied. */
typedef struct {
    tw_scan_state_t state; /* the classification */
    int64_t scheduled_us;  /* scheduled start */
    int64_t start_us;      /* actual start */
    int64_t end_us;        /* actual end */
    const char *title;     /* title, NULL or "" = keep the row's */
    const char *channel;   /* channel id, ignored unless a channel id */
    const char *reason;    /* why (the page's text), or NULL */
} scan_track_obs_t;

/* Settings of the tracker. */
typedef struct {
    int64_t lead_us;  /* lead_time: spawn this long before the start */
    int64_t track_us; /* re-check interval of tracked streams */
} scan_track_cfg_t;

/* What the caller does after scan_track_apply. */
typedef struct {
    bool event;            /* send a stream.event of the row */
    bool spawn;            /* request chat@VIDEO not before spawn_at_us */
    int64_t spawn_at_us;   /* not_before of that request, 0 = now */
    int64_t spawn_mark_us; /* spawn_nb_us once the request was accepted */
} scan_track_act_t;

/* Fills a new row for vid of channel chan (dropped when too long) with
 * title, unknown, due at now_us. */
void scan_track_init(tw_scan_stream_t *s, const char *vid, const char *chan,
                     const char *title, int64_t now_us);
/* Due times of rows loaded from the table: now for those still changing,
 * never for final ones. */
void scan_track_restore(tw_scan_stream_t *v, size_t n, int64_t now_us);

/* Applies obs to s at now_us: a scheduled stream overdue by
 * SCAN_TRACK_OVERDUE_US becomes cancelled ("never started"); times, title
 * and channel are updated; a change of state (or of a scheduled start:
 * reason "rescheduled") is recorded in updated_us and reason; the next
 * check is set (SCAN_TRACK_FAR_ROUNDS intervals away for a start more than
 * SCAN_TRACK_FAR_US ahead, never for a final state). Returns what to do:
 * an event for scheduled, live and members-only, and for a tracked stream
 * that finished; a spawn request at scheduled - lead when that time is new,
 * or now when live and no request is due before now. */
scan_track_act_t scan_track_apply(tw_scan_stream_t *s,
                                  const scan_track_obs_t *obs,
                                  const scan_track_cfg_t *cfg, int64_t now_us);
/* Records that the spawn request of act was accepted (a refused one is
 * asked again at the next apply). */
void scan_track_spawned(tw_scan_stream_t *s, const scan_track_act_t *act);

/* Maps a videos.list item to obs (strings borrowed from it). */
void scan_track_obs_from_api(const tw_ytapi_video_t *it, scan_track_obs_t *obs);
/* True when the watch page must confirm obs before it is applied to s:
 * members-only broadcasts look normal in videos.list, so a scheduled or
 * live stream not tracked yet is checked once on its page (no quota). */
bool scan_track_needs_page(const tw_scan_stream_t *s,
                           const scan_track_obs_t *obs);

/* Which rows to classify now. */
typedef struct {
    bool api;         /* videos.list is used (batches worth filling) */
    int64_t scan_us;  /* scan_interval */
    int64_t track_us; /* tracking interval */
} scan_track_due_opts_t;

/* Copies into out (room for n pointers) the rows of v[0..n) to classify at
 * now_us: none while fewer than SCAN_TRACK_BATCH are due with the API and
 * the oldest has waited less than half a scan interval (at most
 * SCAN_TRACK_COALESCE_MAX_US); else the due ones, and with the API those due
 * within half a tracking interval fill the last batch's free places.
 * Returns the count. */
size_t scan_track_due(tw_scan_stream_t *v, size_t n, int64_t now_us,
                      const scan_track_due_opts_t *o, tw_scan_stream_t **out);
/* Rows still changing (not final): what the tracking plan pays for. */
size_t scan_track_open_count(const tw_scan_stream_t *v, size_t n);
/* Brings the next check of every open row forward to soon_us at the
 * latest (quota-free sources from now on: the normal pace). */
void scan_track_hurry(tw_scan_stream_t *v, size_t n, int64_t soon_us);
/* Drops the final rows not checked nor changed for SCAN_TRACK_KEEP_US
 * before now_us, keeping the order. Returns the new count. */
size_t scan_track_prune(tw_scan_stream_t *v, size_t n, int64_t now_us);

#endif
