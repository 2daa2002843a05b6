/* scan_store - the scanner's files, shared with the stats worker and the
 * CLI: the channels file (ids, @handles, URLs, # comments), the @handle
 * cache STATE/scanner/handles.tsv and the stream table
 * STATE/scanner/streams.tsv (docs/capture.md). */
#ifndef TW_SCAN_H
#define TW_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_id.h"
#include "tw_proto.h"
#include "tw_rc.h"

/* Largest channels file or state table read. */
#define TW_SCAN_FILE_MAX (16u * 1024 * 1024)
/* State of a row of the stream table: the stream.event states of
 * tw_stream_state_t (same values, so a row's state goes on the wire as it
 * is) and TW_SCAN_ST_VIDEO, an ordinary video that never was a stream. */
typedef enum {
    TW_SCAN_ST_UNKNOWN = TW_STREAM_STATE_UNKNOWN,     /* not classified yet */
    TW_SCAN_ST_SCHEDULED = TW_STREAM_STATE_SCHEDULED, /* upcoming */
    TW_SCAN_ST_LIVE = TW_STREAM_STATE_LIVE,           /* live now */
    TW_SCAN_ST_ENDED = TW_STREAM_STATE_ENDED,         /* was live, ended */
    TW_SCAN_ST_CANCELLED = TW_STREAM_STATE_CANCELLED, /* never started */
    TW_SCAN_ST_MEMBERS_ONLY = TW_STREAM_STATE_MEMBERS_ONLY, /* not readable */
    TW_SCAN_ST_PRIVATE = TW_STREAM_STATE_PRIVATE,           /* made private */
    TW_SCAN_ST_DELETED = TW_STREAM_STATE_DELETED,           /* removed */
    TW_SCAN_ST_UNAVAILABLE = TW_STREAM_STATE_UNAVAILABLE,   /* other refusal */
    TW_SCAN_ST_VIDEO = 100, /* an ordinary video (no live) */
} tw_scan_state_t;

/* One usable line of the channels file. */
typedef struct {
    char ref[TW_ID_MAX]; /* "UC..." or "@handle" */
    tw_id_kind_t kind;   /* TW_ID_CHANNEL or TW_ID_HANDLE */
    int line;            /* 1-based line in the file */
} tw_scan_chan_ref_t;

/* Parses a channels file: one reference per line (channel id, @handle or
 * channel URL), blank lines and '#' comments (also after a reference)
 * ignored, duplicates dropped. Bad lines are skipped; *nbad counts them
 * and the first one is described in err. *out is malloc'd (free it). */
tw_rc_t tw_scan_channels_parse(const char *buf, size_t len,
                               tw_scan_chan_ref_t **out, size_t *n,
                               size_t *nbad, tw_err_t *err);
/* Reads and parses the file at path (a missing file is an empty list). */
tw_rc_t tw_scan_channels_load(const char *path, tw_scan_chan_ref_t **out,
                              size_t *n, size_t *nbad, tw_err_t *err);
/* The same keeping the first max references only (0: all); *nover (may be
 * NULL) counts the usable lines beyond them. */
tw_rc_t tw_scan_channels_parse_max(const char *buf, size_t len, size_t max,
                                   tw_scan_chan_ref_t **out, size_t *n,
                                   size_t *nbad, size_t *nover, tw_err_t *err);
tw_rc_t tw_scan_channels_load_max(const char *path, size_t max,
                                  tw_scan_chan_ref_t **out, size_t *n,
                                  size_t *nbad, size_t *nover, tw_err_t *err);

/* One resolved handle. */
typedef struct {
    char handle[TW_ID_MAX];     /* "@name" */
    char channel_id[TW_ID_MAX]; /* "UC..." */
} tw_scan_handle_t;

/* Loads STATE/scanner/handles.tsv (handle TAB channel id); a missing file
 * is empty. *out is malloc'd. */
tw_rc_t tw_scan_handles_load(const char *path, tw_scan_handle_t **out,
                             size_t *n, tw_err_t *err);
/* Writes the handle cache atomically. */
tw_rc_t tw_scan_handles_save(const char *path, const tw_scan_handle_t *v,
                             size_t n, tw_err_t *err);
/* Returns the channel id cached for handle, or NULL. */
const char *tw_scan_handles_find(const tw_scan_handle_t *v, size_t n,
                                 const char *handle);
/* Finds the channel id in a channel page (externalId, canonical link or
 * og:url). Returns TW_ERR_NOTFOUND when there is none. */
tw_rc_t tw_scan_channel_page_id(const char *html, size_t len, char *out,
                                size_t cap);

/* The scanner's files under the state directory. */
typedef enum {
    TW_SCAN_FILE_STREAMS = 0, /* scanner/streams.tsv: the stream table */
    TW_SCAN_FILE_HANDLES,     /* scanner/handles.tsv: the @handle cache */
    TW_SCAN_FILE_FEEDS,       /* scanner/feeds.tsv: feed validators */
} tw_scan_file_t;

/* Writes the path of one of the scanner's files under state_dir (STATE)
 * into out. TW_ERR_TOOBIG when cap is too small. Other processes find the
 * scanner's files only through this. */
tw_rc_t tw_scan_path(char *out, size_t cap, const char *state_dir,
                     tw_scan_file_t which);

/* One row of the stream table. Times are Unix usec, 0 = unknown. */
typedef struct {
    char video_id[16];     /* video id */
    char channel_id[32];   /* channel id */
    tw_scan_state_t state; /* where the stream is */
    int64_t scheduled_us;  /* scheduled start */
    int64_t start_us;      /* actual start */
    int64_t end_us;        /* actual end */
    int64_t spawn_nb_us;   /* not_before of the last spawn request, 0 none */
    int64_t updated_us;    /* last state change */
    int64_t checked_us;    /* last classification */
    int64_t next_us;       /* next classification due (not persisted) */
    int64_t seen_us;       /* first time seen (not persisted) */
    char reason[64];       /* why (rescheduled, deleted text), or "" */
    char title[256];       /* title (UTF-8) */
} tw_scan_stream_t;

/* Wire name of a state ("scheduled", ..., "video"). */
const char *tw_scan_state_str(tw_scan_state_t state);
/* State of a name into *out; TW_ERR_INVALID when unknown. */
tw_rc_t tw_scan_state_parse(const char *s, size_t len, tw_scan_state_t *out);
/* True for states that will not change any more (ended, video, deleted,
 * cancelled, private, members_only, unavailable). */
bool tw_scan_state_final(tw_scan_state_t state);
/* True for the states a chat is recorded in (scheduled, live). */
bool tw_scan_state_tracked(tw_scan_state_t state);

/* Loads streams.tsv (header line first; bad lines skipped). A missing file
 * is an empty table. *out is malloc'd. */
tw_rc_t tw_scan_streams_load(const char *path, tw_scan_stream_t **out,
                             size_t *n, tw_err_t *err);
/* Parses the text of streams.tsv (what tw_scan_streams_load reads). */
tw_rc_t tw_scan_streams_parse(const char *data, size_t len,
                              tw_scan_stream_t **out, size_t *n, tw_err_t *err);
/* Writes the stream table atomically (0644). */
tw_rc_t tw_scan_streams_save(const char *path, const tw_scan_stream_t *v,
                             size_t n, tw_err_t *err);

#endif
