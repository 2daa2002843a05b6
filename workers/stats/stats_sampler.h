/* stats_sampler - what the stats worker polls and when (docs/capture.md,
 * "stats"): the watch list (live streams from the scanner's table, uploads
 * of the listed channels, the videos of [worker.stats] videos), bounded by
 * uploads_max_age and uploads_max; this host's shard; the next viewers and
 * counts polls; the text of STATE/stats/uploads.tsv. Pure: no sockets, no
 * HTTP, no clock (times are passed in). */
#ifndef STATS_SAMPLER_H
#define STATS_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_id.h"
#include "tw_rc.h"
#include "tw_scan.h"
#include "tw_shard.h"

/* The two polls. */
typedef enum {
    STATS_POLL_VIEWERS = 0, /* concurrent viewers of live streams */
    STATS_POLL_COUNTS,      /* views, likes, favorites, comments */
    STATS_NPOLLS,
} stats_poll_t;

/* One video of the watch list. */
typedef struct {
    char id[16];          /* video id */
    char chan[TW_ID_MAX]; /* channel id, "" when unknown */
    char title[256];      /* title */
    int64_t published_us; /* published (or first seen), Unix usec */
    bool published_known; /* published_us is snippet.publishedAt */
    char *description;    /* snippet.description (the sampler's), or NULL */
    bool live;            /* in the live set */
    bool watched;         /* an upload of a listed channel, or pinned */
    bool pinned;          /* listed in [worker.stats] videos: never pruned */
    bool gone;            /* no longer returned (deleted, private) */
} stats_vid_t;

/* One channel whose uploads are watched. */
typedef struct {
    char id[TW_ID_MAX];      /* channel id */
    char uploads[TW_ID_MAX]; /* uploads playlist, "" until known */
    int64_t next_ms;         /* next uploads refresh (monotonic ms) */
} stats_chan_t;

/* Settings. */
typedef struct {
    bool watch_uploads;   /* uploads of listed channels are watched */
    int64_t max_age_us;   /* uploads older than this leave; 0 = no limit */
    uint32_t uploads_max; /* newest uploads kept per channel; 0 = all */
    tw_shard_t shard;     /* this host's share of channels and videos */
} stats_sampler_cfg_t;

typedef struct stats_sampler stats_sampler_t;

/* Returns a new, empty sampler, or NULL when out of memory. */
stats_sampler_t *stats_sampler_new(const stats_sampler_cfg_t *cfg);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void stats_sampler_destroy(stats_sampler_t **self_p);

/* The video with id, or NULL. Pointers to videos stay valid until the next
 * call that adds or removes videos (pin, streams, uploads_parse,
 * refresh_entry, prune). */
stats_vid_t *stats_sampler_find(stats_sampler_t *self, const char *id);
/* Replaces v's description with a copy of text (kept when out of memory). */
void stats_sampler_set_description(stats_sampler_t *self, stats_vid_t *v,
                                   const char *text);
/* Number of videos held, and the i-th (borrowed). */
size_t stats_sampler_video_count(const stats_sampler_t *self);
stats_vid_t *stats_sampler_video(stats_sampler_t *self, size_t i);
/* Adds a video of [worker.stats] videos: watched and never pruned, when its
 * id belongs to this host's shard. TW_ERR_INVALID for a bad id,
 * TW_ERR_NOTFOUND when another shard polls it, TW_ERR_NOMEM. */
tw_rc_t stats_sampler_pin(stats_sampler_t *self, const char *id);

/* Replaces the channel list with the ids of this host's shard among
 * ids[0..n), keeping what is known of channels still listed. */
tw_rc_t stats_sampler_set_channels(stats_sampler_t *self,
                                   const char *const *ids, size_t n);
/* Number of channels, and the i-th (borrowed; valid until the next
 * set_channels). */
size_t stats_sampler_channel_count(const stats_sampler_t *self);
stats_chan_t *stats_sampler_channel(stats_sampler_t *self, size_t i);
/* True when chan is one of the channels. */
bool stats_sampler_listed(const stats_sampler_t *self, const char *chan);

/* Applies the scanner's stream table v[0..n) at now_us: the live set is
 * exactly its live rows; with watch_uploads, the videos, live streams and
 * ended streams of listed channels are watched uploads (published at their
 * start, scheduled start or first classification), unless older than
 * max_age. Returns the number of live streams. */
size_t stats_sampler_streams(stats_sampler_t *self, const tw_scan_stream_t *v,
                             size_t n, int64_t now_us);

/* One uploads refresh of a channel (its playlist, newest first). */
typedef struct {
    size_t seen; /* entries fed so far */
    bool added;  /* a video was added: save uploads.tsv */
    bool stop;   /* read no further page */
} stats_refresh_t;

/* Feeds one playlist entry of channel chan to r at now_us
 * (published_us 0 = unknown, taken as now). Stops the refresh at a video
 * already watched, at one older than max_age (not added), and after
 * uploads_max entries. */
void stats_sampler_refresh_entry(stats_sampler_t *self, stats_refresh_t *r,
                                 const char *chan, const char *vid,
                                 const char *title, int64_t published_us,
                                 int64_t now_us);

/* Removes at now_us the watched uploads older than max_age and, per
 * channel, those beyond the uploads_max newest; and videos neither live,
 * watched nor pinned. Pinned and live videos stay. Returns how many were
 * removed. */
size_t stats_sampler_prune(stats_sampler_t *self, int64_t now_us);

/* Copies into out (room for stats_sampler_video_count pointers) the videos
 * the poll samples: live ones for viewers, watched or live ones for counts;
 * never gone ones. Returns the count. */
size_t stats_sampler_select(stats_sampler_t *self, stats_poll_t poll,
                            stats_vid_t **out);
/* How many videos the poll samples. */
size_t stats_sampler_pollable(const stats_sampler_t *self, stats_poll_t poll);

/* True when the poll is due at now_ms (monotonic; due at once after new). */
bool stats_sampler_due(const stats_sampler_t *self, stats_poll_t poll,
                       int64_t now_ms);
/* The poll ran at now_ms: the next one is interval_ms later. */
void stats_sampler_schedule(stats_sampler_t *self, stats_poll_t poll,
                            int64_t now_ms, uint64_t interval_ms);
/* Records interval_ms as the one the poll uses; true when it differs from
 * the last one recorded (worth logging: the quota governor stretched it). */
bool stats_sampler_note_interval(stats_sampler_t *self, stats_poll_t poll,
                                 uint64_t interval_ms);

/* The text of STATE/stats/uploads.tsv: "CHANNEL TAB PLAYLIST" per channel
 * with a known uploads playlist, "video TAB CHANNEL TAB VIDEO TAB
 * PUBLISHED_US" per watched upload. Caller frees; NULL when out of
 * memory. */
char *stats_sampler_uploads_format(const stats_sampler_t *self, size_t *len);
/* Reads that text back at now_us: playlists of listed channels, watched
 * uploads of listed channels (a line without PUBLISHED_US, as older
 * versions wrote, counts as published now). Bad lines are skipped. */
void stats_sampler_uploads_parse(stats_sampler_t *self, const char *buf,
                                 size_t len, int64_t now_us);

#endif
