/* tw_rss - YouTube channel/playlist Atom feed (feeds/videos.xml) reader
 * (expat, namespace aware). */
#ifndef TW_RSS_H
#define TW_RSS_H

#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* A reusable feed parser; results live until the next parse. */
typedef struct tw_rss tw_rss_t;

/* One <entry>. Strings never NULL ("" when absent), borrowed. */
typedef struct {
    const char *video_id;   /* yt:videoId, else from <id>yt:video:ID</id> */
    const char *channel_id; /* the entry's own yt:channelId (UC...) */
    const char *title;      /* Atom <title> */
    const char *published;  /* <published> text */
    const char *updated;    /* <updated> text */
    int64_t published_usec; /* parsed <published>, 0 when absent/bad */
    int64_t updated_usec;   /* parsed <updated>, 0 when absent/bad */
    int64_t views;          /* media:statistics views, -1 when absent */
} tw_rss_entry_t;

/* Returns a new parser, or NULL when out of memory. */
tw_rss_t *tw_rss_new(void);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_rss_destroy(tw_rss_t **self_p);
/* Parses a feed document (prolog optional). Malformed XML -> TW_ERR_PARSE
 * with line/column in err; a well-formed non-feed document -> TW_ERR_PROTO;
 * TW_ERR_NOMEM; TW_ERR_TOOBIG past 2 GiB. */
tw_rc_t tw_rss_parse(tw_rss_t *self, const char *buf, size_t len,
                     tw_err_t *err);
/* Number of entries of the last parse. */
size_t tw_rss_count(const tw_rss_t *self);
/* Entry i (< count), in document order; borrowed. */
const tw_rss_entry_t *tw_rss_entry(const tw_rss_t *self, size_t i);
/* The feed-level channel id with the "UC" prefix restored when YouTube left
 * it out, or "" when absent; borrowed. */
const char *tw_rss_channel_id(const tw_rss_t *self);
/* The feed <title>, or ""; borrowed. */
const char *tw_rss_title(const tw_rss_t *self);

#endif
