/* scan_source - where the scanner finds a channel's videos: its RSS feed
 * while the feed works; after SCAN_FEED_FAILS failures in a row the
 * /streams tab, then the /live page, then the uploads playlist (Data API),
 * until the feed answers again (a per-channel state machine driven by the
 * table scan_src_fsm[state][event]). Also the shape of page requests
 * (hl/gl parameters, consent cookie) and the mapping of a parsed watch page
 * to a stream state (docs/capture.md). */
#ifndef SCAN_SOURCE_H
#define SCAN_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"
#include "tw_ytpage.h"

/* Feed failures in a row that switch a channel to the fallback sources. */
#define SCAN_FEED_FAILS 2
/* Entries asked of playlistItems.list (the feed lists 15 too). */
#define SCAN_PLAYLIST_MAX 15

/* Discovery state of one channel. */
typedef enum {
    SCAN_SRC_FEED = 0, /* the feed works */
    SCAN_SRC_SUSPECT,  /* the last feed check failed */
    SCAN_SRC_FALLBACK, /* SCAN_FEED_FAILS failures in a row: other sources */
    SCAN_SRC_NSTATES,
} scan_src_state_t;

/* Outcome of one feed check. */
typedef enum {
    SCAN_SRC_EV_FEED_OK = 0, /* a feed was parsed, or 304 Not Modified */
    SCAN_SRC_EV_FEED_FAIL,   /* 4xx, 5xx, network error or unparsable */
    SCAN_SRC_NEVENTS,
} scan_src_event_t;

/* What the caller does after an event (each is logged exactly once). */
typedef enum {
    SCAN_SRC_ACT_NONE = 0,  /* nothing */
    SCAN_SRC_ACT_FALLBACK,  /* switched to the fallback sources */
    SCAN_SRC_ACT_RECOVERED, /* the feed works again: back to it */
} scan_src_act_t;

/* One step of a fallback round, in the order they are tried. */
typedef enum {
    SCAN_STEP_NONE = 0, /* the round is over */
    SCAN_STEP_STREAMS,  /* GET /@handle/streams (or /channel/UC.../streams) */
    SCAN_STEP_LIVE,     /* GET /@handle/live (or /channel/UC.../live) */
    SCAN_STEP_PLAYLIST, /* playlistItems.list of UU... (1 unit) */
} scan_step_t;

/* Per-channel discovery state; zero-initialised = feed works. */
typedef struct {
    scan_src_state_t state;   /* current state */
    uint32_t fails;           /* feed failures in a row */
    int64_t next_playlist_ms; /* monotonic ms before which playlistItems
                                 is not called for this channel */
} scan_src_t;

/* Applies a feed check outcome; returns the action to perform. */
scan_src_act_t scan_src_event(scan_src_t *src, scan_src_event_t ev);
/* True when the channel's videos come from the fallback sources. */
bool scan_src_in_fallback(const scan_src_t *src);
/* The step after step (SCAN_STEP_NONE: the first of a round) that ended
 * with ok (the source answered something parsable) or not. A step that
 * worked ends the round; playlist_ok says whether SCAN_STEP_PLAYLIST may
 * run (see scan_src_playlist_allowed). */
scan_step_t scan_src_next_step(scan_step_t step, bool ok, bool playlist_ok);
/* True when playlistItems may be called for this channel now: a key is
 * set (has_key), the quota governor allows one unit (quota_ok) and the
 * channel's own pacing interval has passed. */
bool scan_src_playlist_allowed(const scan_src_t *src, int64_t now_ms,
                               bool has_key, bool quota_ok);
/* Records a playlistItems call at now_ms: the next one waits interval_ms
 * (from tw_quota_interval_ms). */
void scan_src_playlist_called(scan_src_t *src, int64_t now_ms,
                              uint64_t interval_ms);
/* Static names ("feed", "suspect", "fallback"; "streams", ...). */
const char *scan_src_state_str(scan_src_state_t state);
/* Static name of a step ("none", "streams", "live", "playlist"). */
const char *scan_step_str(scan_step_t step);

/* Writes path (relative to the web base URL, e.g. "watch?v=ID") with the
 * page query (TW_YTWEB_QUERY: English, United States) appended into out
 * (tw_ytweb_page_url). TW_ERR_TOOBIG when cap is too small. */
tw_rc_t scan_page_url(char *out, size_t cap, const char *path);
/* Writes the page url of a channel tab ("streams", "live") for ref
 * ("@handle" or "UC...") into out: "@handle/TAB?hl=..." or
 * "channel/UC.../TAB?hl=...". TW_ERR_INVALID for another ref,
 * TW_ERR_TOOBIG when cap is too small. */
tw_rc_t scan_channel_tab_url(char *out, size_t cap, const char *ref,
                             const char *tab);
/* Writes the playlistItems.list url of channel_id's uploads playlist
 * (UU + the id without UC), without the key, into out. TW_ERR_INVALID when
 * channel_id is not a channel id, TW_ERR_TOOBIG when cap is too small. */
tw_rc_t scan_playlist_url(char *out, size_t cap, const char *channel_id);
/* The extra headers of a page request (NULL-terminated; static): the
 * consent cookie TW_YTWEB_COOKIE (no EU consent interstitial). */
const char *const *scan_page_headers(void);

/* Copies into out (at most cap, borrowed from page) the video ids a parsed
 * /streams tab or /live page offers as candidates for channel_id: the
 * channel's own upcoming and live /streams entries (videoRenderer and
 * lockupViewModel; a lockup whose badge is not a duration included), and
 * the video a /live (watch) page shows. Nothing when the page belongs to
 * another channel. Returns the count. */
size_t scan_page_candidates(const tw_ytpage_t *page, const char *channel_id,
                            const char **out, size_t cap);

/* Maps a parsed watch page to a tw_stream_state_t or TW_SCAN_ST_VIDEO; -1 when
 * it does not say: members-only (LOGIN_REQUIRED, or UNPLAYABLE with a
 * membership offer: in->members_only) first. *why gets the page's reason
 * for a members-only, private, deleted or unavailable video, else ""
 * (borrowed from in). */
int scan_page_state(const tw_ytpage_info_t *in, const char **why);

#endif
