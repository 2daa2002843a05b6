/* tw_ytpage - YouTube watch, /live_chat, channel /streams pages and
 * youtubei player, next, get_live_chat and updated_metadata responses:
 * stream state, playability, title, channel, the chat continuation capture
 * sends first, viewers, likes and the channel's upcoming and live streams;
 * decoding of chat continuation tokens. */
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

/* What kind of document was read (the first one that tells). */
typedef enum {
    TW_YTPAGE_KIND_OTHER = 0, /* none of the below */
    TW_YTPAGE_KIND_WATCH,     /* watch page, player or next response */
    TW_YTPAGE_KIND_STREAMS,   /* a channel's /streams (Live) tab */
    TW_YTPAGE_KIND_LIVE_CHAT, /* /live_chat(_replay) page, get_live_chat */
} tw_ytpage_kind_t;

/* What was found. Strings are NUL-terminated, never NULL ("" when absent),
 * owned by the parser. Counts are exact numbers only; -1 = unknown. */
typedef struct {
    tw_ytpage_kind_t kind;             /* document kind */
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
    const char *chat_continuation;     /* full token to send first, "" */
    int chat_type;                     /* its decoded chat type (1, 4, 0) */
    const char *chat_video_id;         /* video its token names, "" */
    const char *top_chat_continuation; /* full "Top chat" token, "" */
    bool chat_is_replay;               /* liveChatRenderer.isReplay */
    int64_t viewers;                   /* concurrent viewers (exact) or -1 */
    const char *viewers_text;          /* the viewer count text as shown */
    int64_t views;                     /* total views (exact) or -1 */
    int64_t likes;                     /* likes (exact) or -1 */
    int64_t poll_delay_ms;             /* liveStreamability pollDelayMs or -1 */
    bool members_only;                 /* members-only (see below) */
} tw_ytpage_info_t;
/* chat_continuation is never a token that names no video (the relative
 * chat-view menu tokens of 2025+): it is the all-messages (chat type 1)
 * token when the document holds one that names a video (the header menu of
 * a /live_chat page or of a get_live_chat answer; watch pages up to 2025),
 * else the liveChatRenderer.continuations[0] token when it names a video,
 * whatever its type (a Top-chat token on 2025+ watch pages: fetch
 * /live_chat?continuation=IT and parse that page for the type 1 token).
 * A token naming another video than video_id (when known) is ignored.
 * top_chat_continuation: a Top-chat (type 4) token naming a video.
 * members_only: playabilityStatus LOGIN_REQUIRED or UNPLAYABLE with a
 * channel-membership offer (errorScreen.playerLegacyDesktopYpcOfferRenderer,
 * 2026, any language) or a reason that speaks of members / joining the
 * channel (English). */

/* What a chat continuation token names. */
typedef struct {
    int chat_type;       /* 1 = all messages ("Live chat"), 4 = "Top chat",
                            0 = unknown */
    char video_id[16];   /* the video the token names; "" when it names none
                            (relative token) */
    char channel_id[32]; /* the channel it names, "" when absent */
} tw_ytpage_token_t;

/* An upcoming video listed on the page (channel /streams, sidebars). */
typedef struct {
    const char *video_id; /* its id */
    int64_t start_usec;   /* upcomingEventData.startTime */
} tw_ytpage_upcoming_t;

/* A stream of the channel's own /streams (Live) tab grid. */
typedef struct {
    const char *video_id; /* its id */
    int64_t start_usec;   /* scheduled start, 0 unknown */
    bool live;            /* live now (else upcoming) */
    bool confirmed_state; /* false when only a lockup badge that is not a
                             duration makes it an upcoming candidate */
} tw_ytpage_stream_t;

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

/* Number of the channel's own upcoming and live entries of a /streams tab
 * (videoRenderer and lockupViewModel forms), in page order. */
size_t tw_ytpage_stream_count(const tw_ytpage_t *self);
/* Stream entry i; borrowed. */
const tw_ytpage_stream_t *tw_ytpage_stream(const tw_ytpage_t *self, size_t i);

/* Decodes a chat continuation token (2025+ layout, and older ones as far as
 * they carry these facts). TW_OK (fields possibly empty/0 when the token
 * does not carry them); TW_ERR_PARSE when it is not a token (bad
 * base64/protobuf); never reads past len. */
tw_rc_t tw_ytpage_token_decode(const char *token, size_t len,
                               tw_ytpage_token_t *out);
/* Finds `NAME = {...}` (also window["NAME"] = {...}) in html and sets
 * *json and *json_len to the balanced object text. TW_ERR_NOTFOUND if absent,
 * TW_ERR_PARSE if unterminated. */
tw_rc_t tw_ytpage_extract(const char *html, size_t len, const char *name,
                          const char **json, size_t *json_len);
/* Reads an exact count from a display text ("1,234 watching now", "81 回視聴",
 * "1 234"): false for abbreviated ("1.2K", "3万") or digit-less texts. */
bool tw_ytpage_exact_count(const char *text, size_t len, uint64_t *out);
/* Classifies a continuation token: 1 = all messages ("Live chat"), 4 = "Top
 * chat", 0 = unknown (tw_ytpage_token_decode's type, else the chat-type
 * field found near the end of the token). */
int tw_ytpage_chat_type(const char *token, size_t len);
/* Static name of a document kind: "watch", "streams", "live_chat",
 * "other". */
const char *tw_ytpage_kind_str(tw_ytpage_kind_t kind);
/* Static names of the enums. */
const char *tw_ytpage_state_str(tw_ytpage_state_t state);
/* Static name of a playability class. */
const char *tw_ytpage_play_str(tw_ytpage_play_t play);

#endif
