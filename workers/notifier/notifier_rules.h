/* notifier_rules - the notifier's pure rule engine: the remembered values
 * per video and metric, the [[notify.rule]] tests (min_delta, milestone,
 * cooldown), templates, and the texts of stream, worker and notice events.
 * No I/O: the state is saved to and loaded from a text (values.tsv) by the
 * caller. Texts are plain (not escaped); times are Unix microseconds. */
#ifndef NOTIFIER_RULES_H
#define NOTIFIER_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_cfg.h"
#include "tw_proto.h"
#include "tw_rc.h"

/* The metrics a rule may watch, in stats.sample order. */
typedef enum {
    NOTIFIER_METRIC_VIEWS = 0,     /* views */
    NOTIFIER_METRIC_LIKES = 1,     /* likes */
    NOTIFIER_METRIC_FAVORITES = 2, /* favorites */
    NOTIFIER_METRIC_COMMENTS = 3,  /* comments */
    NOTIFIER_METRIC_VIEWERS = 4,   /* concurrent viewers */
    NOTIFIER_METRIC_COUNT = 5,     /* how many */
} notifier_metric_t;

/* One notification to send. */
typedef struct {
    char *chat_id; /* recipient as configured (owned) */
    char *text;    /* plain text, not escaped (owned) */
    char *key;     /* dedup key of what caused it, "" when none (owned) */
} notifier_note_t;

/* A growable list of notifications. Start zeroed. */
typedef struct {
    notifier_note_t *v; /* n notes */
    size_t n;           /* how many */
    size_t cap;         /* allocated */
} notifier_notes_t;

/* Values substituted into a template. */
typedef struct {
    const char *title;        /* {title} */
    const char *video_id;     /* {video_id} */
    const char *channel_id;   /* {channel_id} */
    notifier_metric_t metric; /* {metric} "likes", {Metric} "Likes" */
    uint64_t prev;            /* {prev}: the value last announced */
    uint64_t curr;            /* {curr}: the new value */
} notifier_vars_t;

/* The engine: rules plus per-video state. */
typedef struct notifier_rules notifier_rules_t;

/* Returns an engine for cfg's [[notify.rule]]s, [notify] events and
 * [telegram] chat_ids (cfg must outlive the engine), or NULL when out of
 * memory. */
notifier_rules_t *notifier_rules_new(const tw_cfg_t *cfg);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void notifier_rules_destroy(notifier_rules_t **self_p);

/* Applies one sample: remembers every present value (absent values are
 * neither stored nor announced; a sample not newer than the stored one is
 * ignored) and appends a note per recipient for every rule that fires.
 * The first value of a video and metric is only recorded. */
tw_rc_t notifier_rules_sample(notifier_rules_t *self,
                              const tw_msg_stats_sample_t *s,
                              notifier_notes_t *out);
/* Applies a stream.event: appends the announcement when [notify] events
 * lists its state and the video was not already announced in that state
 * (or a later one). "ended" carries a summary: duration, peak viewers
 * seen in samples. */
tw_rc_t notifier_rules_stream(notifier_rules_t *self,
                              const tw_msg_stream_event_t *ev,
                              notifier_notes_t *out);
/* Appends the alert of a supervisor worker event (state "failed") when
 * "failed" is among [notify] events; other states are ignored. */
tw_rc_t notifier_rules_worker(notifier_rules_t *self, const char *worker,
                              const char *state, const char *text,
                              notifier_notes_t *out);
/* Appends the alert of a drift report (YouTube answers a worker could not
 * understand) when "drift" is among [notify] events (a worker reports a
 * source at most once per window). */
tw_rc_t notifier_rules_drift(notifier_rules_t *self, const tw_msg_drift_t *d,
                             notifier_notes_t *out);
/* Appends a notice (kind "quota", "upload.ok", "upload.failed", ...) when
 * its class (quota, upload) is among [notify] events. */
tw_rc_t notifier_rules_notice(notifier_rules_t *self, const char *kind,
                              const char *text, notifier_notes_t *out);

/* True when the state changed since the last notifier_rules_save. */
bool notifier_rules_dirty(const notifier_rules_t *self);
/* Returns the state as TSV text (caller frees; *len its length) and marks
 * it clean, or NULL when out of memory. */
char *notifier_rules_save(notifier_rules_t *self, size_t *len);
/* Replaces the state with one saved earlier. Unknown or malformed lines
 * are skipped and counted in *skipped (may be NULL). TW_ERR_NOMEM. */
tw_rc_t notifier_rules_load(notifier_rules_t *self, const char *text,
                            size_t len, size_t *skipped, tw_err_t *err);
/* Forgets videos whose newest sample or event is more than keep_us older
 * than the newest of all (samples of a video keep it); returns how many. */
size_t notifier_rules_prune(notifier_rules_t *self, int64_t keep_us);
/* Number of videos remembered. */
size_t notifier_rules_videos(const notifier_rules_t *self);

/* Renders a template: {title} {metric} {Metric} {prev} {curr} {video_id}
 * {channel_id} {delta} (signed, "+1"); an unknown {name} stays as is.
 * Returns the text (caller frees) or NULL when out of memory. */
char *notifier_rules_render(const char *tmpl, const notifier_vars_t *vars);
/* Returns the wire name of a metric ("likes"), or NULL when out of range. */
const char *notifier_rules_metric_name(notifier_metric_t m);
/* Returns the metric called name, or NOTIFIER_METRIC_COUNT when unknown. */
notifier_metric_t notifier_rules_metric_parse(const char *name);

/* Appends a note (strings copied). TW_ERR_NOMEM. */
tw_rc_t notifier_notes_add(notifier_notes_t *notes, const char *chat_id,
                           const char *text, const char *key);
/* Frees every note and empties the list (keeps nothing allocated). */
void notifier_notes_clear(notifier_notes_t *notes);

#endif
