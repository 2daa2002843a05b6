/* tw_report - one stream's chat, viewers and paid messages, read from the
 * writer's TSV files (docs/writer-store.md) and reduced to what a report
 * draws: messages per time bin, viewer samples, totals by currency.
 * Pure: takes file contents, never opens files. */
#ifndef TW_REPORT_H
#define TW_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "tw_id.h"
#include "tw_rc.h"

#define TW_REPORT_MAX_BINS   720 /* bins wider than a minute beyond this */
#define TW_REPORT_TITLE_SIZE 256 /* room for a title and its NUL */

/* Totals of one kind of paid item in one currency. */
typedef struct {
    char kind[12];        /* "superchat", "sticker" or "jewels" */
    char currency[8];     /* ISO 4217 code, "Jewels", or "?" (unreadable) */
    uint64_t count;       /* items */
    int64_t total_micros; /* sum of readable amounts in millionths */
    uint64_t unreadable;  /* items whose amount could not be read */
} tw_report_money_t;

/* What a report shows; arrays are owned by the report. */
typedef struct {
    char channel_id[TW_ID_MAX];       /* from the rows, "" if none */
    char title[TW_REPORT_TITLE_SIZE]; /* latest stats title, "" if none */
    uint64_t messages;        /* distinct messages (deleted ones included) */
    uint64_t deleted;         /* of those, later deleted */
    uint64_t skipped;         /* damaged lines and rows of other videos */
    int64_t first_us;         /* earliest message time (0 without messages) */
    int64_t last_us;          /* latest message time */
    int64_t bin0_us;          /* start of the first bin */
    int64_t bin_us;           /* bin width: 60 s, or more for long spans */
    size_t nbins;             /* bins (0 without messages) */
    const uint32_t *bins;     /* messages per bin */
    size_t nviewers;          /* viewer samples, by time, one per instant */
    const int64_t *viewer_us; /* sample times */
    const uint64_t *viewers;  /* concurrent viewers at viewer_us[i] */
    uint64_t peak_viewers;    /* largest sample */
    size_t nmoney;            /* money rows, by kind then currency */
    const tw_report_money_t *money; /* totals */
} tw_report_result_t;

/* Aggregates the rows of one video. */
typedef struct tw_report tw_report_t;

/* Returns a new, empty report of video_id (tw_id_is_video), or NULL for a
 * bad id or when out of memory. */
tw_report_t *tw_report_new(const char *video_id);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_report_destroy(tw_report_t **self_p);
/* Adds the lines of a comments file (DATA/comments/DAY/CH/VIDEO.tsv); feed
 * files in day order. A message id's last non-deleted row is its content;
 * a `deleted` row marks it deleted. Damaged lines are counted in skipped.
 * TW_ERR_NOMEM only. */
tw_rc_t tw_report_add_comments(tw_report_t *self, const char *buf, size_t len);
/* Adds the lines of a viewers file (DATA/viewers/DAY/CH/VIDEO.tsv). */
tw_rc_t tw_report_add_viewers(tw_report_t *self, const char *buf, size_t len);
/* Adds the lines of a stats file (DATA/stats/DAY/CH.tsv): the title of
 * the video's latest row is kept; other videos' rows are ignored. */
tw_rc_t tw_report_add_stats(tw_report_t *self, const char *buf, size_t len);
/* Computes and returns the result (borrowed, valid until the next call on
 * self), or NULL when out of memory. */
const tw_report_result_t *tw_report_result(tw_report_t *self);

/* Returns the number N of "... N Jewels" in a Jewels gift's text
 * ("sent Rose for 20 Jewels" -> 20), or -1 when there is none. */
int64_t tw_report_jewels(const char *text);

#endif
