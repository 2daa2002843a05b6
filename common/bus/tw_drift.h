/* tw_drift - counts, per source, the answers of YouTube a worker could not
 * understand (unknown actions, renderers or view models; a continuation
 * token refused with a 4xx; a page without the keys it should have) and
 * says when a source passes a threshold within a sliding window: the sign
 * that YouTube changed something (a "drift" event, docs/capture.md). */
#ifndef TW_DRIFT_H
#define TW_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-source drift counters of one process. */
typedef struct tw_drift tw_drift_t;

/* Sources are kept up to this many; further ones share the last slot. */
#define TW_DRIFT_MAX_SOURCES 16

/* One alarm, filled by tw_drift_note when a source passes the threshold. */
typedef struct {
    char source[48];    /* e.g. "chat.actions", "chat.token", "page" */
    char what[160];     /* the latest thing not understood */
    uint32_t count;     /* occurrences within the window */
    uint64_t window_ms; /* the window */
} tw_drift_alarm_t;

/* Returns counters raising an alarm when a source sees threshold (>= 1)
 * occurrences within window_ms (>= 1), or NULL when out of memory. */
tw_drift_t *tw_drift_new(uint32_t threshold, uint64_t window_ms);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_drift_destroy(tw_drift_t **self_p);
/* Counts n occurrences of source (what = the latest, truncated) at
 * now_ms (a monotonic clock). Returns true, with *alarm filled, when the
 * source reaches the threshold within the window; a source alarms at most
 * once per window, counted from its alarm. */
bool tw_drift_note(tw_drift_t *self, const char *source, const char *what,
                   uint32_t n, int64_t now_ms, tw_drift_alarm_t *alarm);
/* Occurrences of source within the window ending at now_ms. */
uint32_t tw_drift_count(const tw_drift_t *self, const char *source,
                        int64_t now_ms);
/* Total occurrences ever counted, all sources. */
uint64_t tw_drift_total(const tw_drift_t *self);

#endif
