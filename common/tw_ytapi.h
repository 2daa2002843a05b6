/* tw_ytapi - YouTube Data API v3 response bodies: videos.list, channels.list,
 * playlistItems.list / search.list, liveChatMessages.list (via tw_ytchat)
 * and error bodies. */
#ifndef TW_YTAPI_H
#define TW_YTAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"
#include "tw_ytchat.h"

/* A reusable response parser; results live until its next parse. */
typedef struct tw_ytapi tw_ytapi_t;

/* error.errors[0].reason, classified. */
typedef enum {
    TW_YTAPI_REASON_NONE = 0,       /* no error body */
    TW_YTAPI_REASON_QUOTA_EXCEEDED, /* quotaExceeded, dailyLimitExceeded */
    TW_YTAPI_REASON_KEY_INVALID,    /* keyInvalid, keyExpired */
    TW_YTAPI_REASON_RATE_LIMIT,     /* rateLimitExceeded, userRate... */
    TW_YTAPI_REASON_FORBIDDEN,      /* forbidden, insufficientPermissions */
    TW_YTAPI_REASON_CHAT_ENDED,     /* liveChatEnded */
    TW_YTAPI_REASON_CHAT_NOT_FOUND, /* liveChatNotFound */
    TW_YTAPI_REASON_CHAT_DISABLED,  /* liveChatDisabled */
    TW_YTAPI_REASON_BACKEND_ERROR,  /* backendError, internalError */
    TW_YTAPI_REASON_OTHER,          /* anything else */
} tw_ytapi_reason_t;

/* An error body. Strings never NULL ("" when absent), borrowed. */
typedef struct {
    tw_ytapi_reason_t reason; /* classified reason */
    const char *reason_text;  /* raw errors[0].reason */
    const char *domain;       /* errors[0].domain */
    const char *message;      /* error.message (may contain HTML) */
    const char *status;       /* error.status ("PERMISSION_DENIED") */
    int code;                 /* error.code (HTTP status), 0 if absent */
} tw_ytapi_error_t;

/* An optional unsigned count: absent is not zero. */
typedef struct {
    bool present;   /* the field was there and valid */
    uint64_t value; /* its value when present */
} tw_ytapi_u64_t;

/* Broadcast state of a video. */
typedef enum {
    TW_YTAPI_STATE_NONE = 0, /* not a broadcast / ended premiere: "none" */
    TW_YTAPI_STATE_UPCOMING, /* scheduled */
    TW_YTAPI_STATE_LIVE,     /* live now */
    TW_YTAPI_STATE_ENDED,    /* has actualEndTime */
} tw_ytapi_state_t;

/* One videos.list item. Strings never NULL, borrowed; times 0 = absent. */
typedef struct {
    const char *id;                  /* video id */
    const char *title;               /* snippet.title */
    const char *channel_id;          /* snippet.channelId */
    const char *broadcast_content;   /* snippet.liveBroadcastContent raw */
    tw_ytapi_state_t state;          /* derived (see docs) */
    bool has_live_details;           /* liveStreamingDetails present */
    int64_t scheduled_start_usec;    /* scheduledStartTime */
    int64_t scheduled_end_usec;      /* scheduledEndTime */
    int64_t actual_start_usec;       /* actualStartTime */
    int64_t actual_end_usec;         /* actualEndTime */
    tw_ytapi_u64_t concurrent;       /* concurrentViewers */
    const char *active_live_chat_id; /* activeLiveChatId or "" */
    tw_ytapi_u64_t views;            /* statistics.viewCount */
    tw_ytapi_u64_t likes;            /* statistics.likeCount */
    tw_ytapi_u64_t comments;         /* statistics.commentCount */
    tw_ytapi_u64_t favorites;        /* statistics.favoriteCount */
    const char *description;         /* snippet.description */
    int64_t published_usec;          /* snippet.publishedAt */
} tw_ytapi_video_t;

/* One channels.list item. */
typedef struct {
    const char *id;      /* channel id (UC...) */
    const char *title;   /* snippet.title or "" */
    const char *uploads; /* contentDetails.relatedPlaylists.uploads or "" */
} tw_ytapi_channel_t;

/* One playlistItems.list or search.list item. */
typedef struct {
    const char *video_id;          /* the video */
    const char *channel_id;        /* snippet.channelId */
    const char *title;             /* snippet.title */
    int64_t published_usec;        /* snippet.publishedAt (or
                                      contentDetails.videoPublishedAt), 0 */
    const char *broadcast_content; /* search: liveBroadcastContent or "" */
} tw_ytapi_entry_t;

/* Returns a new parser, or NULL when out of memory. */
tw_ytapi_t *tw_ytapi_new(void);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_ytapi_destroy(tw_ytapi_t **self_p);

/* Each parse below: malformed JSON -> TW_ERR_PARSE; an error body -> the rc
 * of tw_ytapi_reason_rc() with the details in tw_ytapi_error(). */

/* Parses a videos.list response. */
tw_rc_t tw_ytapi_parse_videos(tw_ytapi_t *self, const char *buf, size_t len,
                              tw_err_t *err);
/* Parses a channels.list response (id=, forHandle=). */
tw_rc_t tw_ytapi_parse_channels(tw_ytapi_t *self, const char *buf, size_t len,
                                tw_err_t *err);
/* Parses a playlistItems.list or search.list response. */
tw_rc_t tw_ytapi_parse_entries(tw_ytapi_t *self, const char *buf, size_t len,
                               tw_err_t *err);
/* Parses a liveChatMessages.list response into chat (see tw_ytchat). */
tw_rc_t tw_ytapi_parse_chat(tw_ytapi_t *self, tw_ytchat_t *chat,
                            const char *buf, size_t len, tw_err_t *err);
/* Parses an error body only: TW_OK when buf is one (see tw_ytapi_error()),
 * TW_ERR_NOTFOUND when it is valid JSON without "error". */
tw_rc_t tw_ytapi_parse_error(tw_ytapi_t *self, const char *buf, size_t len,
                             tw_err_t *err);

/* Results of the last parse (borrowed). */
size_t tw_ytapi_video_count(const tw_ytapi_t *self);
/* Video i. */
const tw_ytapi_video_t *tw_ytapi_video(const tw_ytapi_t *self, size_t i);
/* Number of channels. */
size_t tw_ytapi_channel_count(const tw_ytapi_t *self);
/* Channel i. */
const tw_ytapi_channel_t *tw_ytapi_channel(const tw_ytapi_t *self, size_t i);
/* Number of playlist/search entries. */
size_t tw_ytapi_entry_count(const tw_ytapi_t *self);
/* Entry i. */
const tw_ytapi_entry_t *tw_ytapi_entry(const tw_ytapi_t *self, size_t i);
/* nextPageToken of the last list response, "" when it was the last page. */
const char *tw_ytapi_next_page_token(const tw_ytapi_t *self);
/* The error body of the last parse (reason NONE when there was none). */
const tw_ytapi_error_t *tw_ytapi_error(const tw_ytapi_t *self);

/* Classifies a reason string. */
tw_ytapi_reason_t tw_ytapi_reason_from_str(const char *s, size_t len);
/* Static camelCase name of a reason ("quotaExceeded", "other", "none"). */
const char *tw_ytapi_reason_str(tw_ytapi_reason_t reason);
/* The project return code for a reason: QUOTA, CONFIG (bad key), AGAIN
 * (rate limit, backend), AUTH (forbidden), CLOSED (chat ended), NOTFOUND,
 * STATE (chat disabled), HTTP (other). */
tw_rc_t tw_ytapi_reason_rc(tw_ytapi_reason_t reason);
/* Static name of a state: "none", "upcoming", "live", "ended". */
const char *tw_ytapi_state_str(tw_ytapi_state_t state);

#endif
