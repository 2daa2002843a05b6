/* tw_ytpage - YouTube watch page / youtubei player, next and
 * updated_metadata responses: stream state, playability, title, channel,
 * the all-messages live chat continuation, viewers and likes. */
#ifndef TW_YTPAGE_H
#define TW_YTPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* A reusable page parser; results live until the next parse or reset. */
typedef struct tw_ytpage tw_ytpage_t;

/* Broadcast state of the video. */
typedef enum {
    TW_YTPAGE_STATE_UNKNOWN = 0, /* not enough data */
    TW_YTPAGE_STATE_UPCOMING,    /* scheduled, not started */
    TW_YTPAGE_STATE_LIVE,        /* live now */
    TW_YTPAGE_STATE_ENDED,       /* was live, has ended */
    TW_YTPAGE_STATE_VOD,         /* ordinary video, never live */
} tw_ytpage_state_t;

/* playabilityStatus.status, classified. */
typedef enum {
    TW_YTPAGE_PLAY_NONE = 0,       /* no playabilityStatus seen */
    TW_YTPAGE_PLAY_OK,             /* OK */
    TW_YTPAGE_PLAY_OFFLINE,        /* LIVE_STREAM_OFFLINE (upcoming) */
    TW_YTPAGE_PLAY_LOGIN_REQUIRED, /* LOGIN_REQUIRED (members-only, age) */
    TW_YTPAGE_PLAY_UNPLAYABLE,     /* UNPLAYABLE */
    TW_YTPAGE_PLAY_ERROR,          /* ERROR (private, deleted) */
    TW_YTPAGE_PLAY_OTHER,          /* any other status */
} tw_ytpage_play_t;

/* What was found. Strings are NUL-terminated, never NULL ("" when absent),
 * owned by the parser. Counts are exact numbers only; -1 = unknown. */
typedef struct {
    tw_ytpage_state_t state;           /* broadcast state */
    tw_ytpage_play_t play;             /* classified playability */
    const char *play_status;           /* raw playabilityStatus.status */
    const char *play_reason;           /* playabilityStatus.reason text */
    const char *video_id;              /* videoDetails.videoId */
    const char *title;                 /* video title */
    const char *channel_id;            /* owner channel id (UC...) */
    int64_t scheduled_start_usec;      /* scheduled start, 0 when unknown */
    int64_t start_usec;                /* actual start (startTimestamp), 0 */
    int64_t end_usec;                  /* end (endTimestamp), 0 */
    const char *chat_continuation;     /* "Live chat" (all messages) token */
    const char *top_chat_continuation; /* "Top chat" token, "" if unknown */
    bool chat_is_replay;               /* liveChatRenderer.isReplay */
    int64_t viewers;                   /* concurrent viewers (exact) or -1 */
    const char *viewers_text;          /* the viewer count text as shown */
    int64_t views;                     /* total views (exact) or -1 */
    int64_t likes;                     /* likes (exact) or -1 */
    int64_t poll_delay_ms;             /* liveStreamability pollDelayMs or -1 */
} tw_ytpage_info_t;

/* An upcoming video listed on the page (channel /streams, sidebars). */
typedef struct {
    const char *video_id; /* its id */
    int64_t start_usec;   /* upcomingEventData.startTime */
} tw_ytpage_upcoming_t;

/* Returns a new parser, or NULL when out of memory. */
tw_ytpage_t *tw_ytpage_new(void);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_ytpage_destroy(tw_ytpage_t **self_p);
/* Forgets everything found so far. */
void tw_ytpage_reset(tw_ytpage_t *self);
/* Resets, then reads a watch page: the embedded ytInitialPlayerResponse and
 * ytInitialData. TW_ERR_NOTFOUND when neither is present, TW_ERR_PARSE when
 * one is malformed. */
tw_rc_t tw_ytpage_parse_html(tw_ytpage_t *self, const char *html, size_t len,
                             tw_err_t *err);
/* Adds what a JSON document tells (player, next, updated_metadata,
 * get_live_chat, browse): fields already known are overwritten only by
 * better data. Does not reset. TW_ERR_PARSE when malformed. */
tw_rc_t tw_ytpage_parse_json(tw_ytpage_t *self, const char *buf, size_t len,
                             tw_err_t *err);
/* The merged result; borrowed. */
const tw_ytpage_info_t *tw_ytpage_info(const tw_ytpage_t *self);
/* Number of upcoming videos listed (with a start time). */
size_t tw_ytpage_upcoming_count(const tw_ytpage_t *self);
/* Upcoming entry i; borrowed. */
const tw_ytpage_upcoming_t *tw_ytpage_upcoming(const tw_ytpage_t *self,
                                               size_t i);

/* Finds `NAME = {...}` (also window["NAME"] = {...}) in html and sets
 * *json and *json_len to the balanced object text. TW_ERR_NOTFOUND if absent,
 * TW_ERR_PARSE if unterminated. */
tw_rc_t tw_ytpage_extract(const char *html, size_t len, const char *name,
                          const char **json, size_t *json_len);
/* Reads an exact count from a display text ("1,234 watching now", "81 回視聴",
 * "1 234"): false for abbreviated ("1.2K", "3万") or digit-less texts. */
bool tw_ytpage_exact_count(const char *text, size_t len, uint64_t *out);
/* Classifies a continuation token: 1 = all messages ("Live chat"), 4 = "Top
 * chat", 0 = unknown (from the chat-type field at the end of the token). */
int tw_ytpage_chat_type(const char *token, size_t len);
/* Static names of the enums. */
const char *tw_ytpage_state_str(tw_ytpage_state_t state);
/* Static name of a playability class. */
const char *tw_ytpage_play_str(tw_ytpage_play_t play);

#endif
