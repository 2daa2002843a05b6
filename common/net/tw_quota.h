/* tw_quota - the YouTube Data API quota governor shared by every worker
 * that calls the Data API (docs/capture.md): units spent per Pacific day,
 * persisted in STATE/quota.tsv (atomic replace; a read-modify-write holds
 * flock on STATE/quota.tsv.lock so several processes share one budget), a
 * block until the next Pacific midnight after quotaExceeded, and interval
 * stretching so that planned calls fit quota_per_day with a margin. */
#ifndef TW_QUOTA_H
#define TW_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "tw_rc.h"

/* Share of quota_per_day a plan may use; the rest is a safety margin. */
#define TW_QUOTA_MARGIN 0.9
/* Most methods tracked in the file. */
#define TW_QUOTA_METHODS 16

/* A handle on the shared quota file. */
typedef struct tw_quota tw_quota_t;

/* Per-method totals of the current Pacific day. */
typedef struct {
    char method[40]; /* "videos.list" */
    uint64_t calls;  /* calls charged */
    uint64_t units;  /* units charged */
} tw_quota_method_t;

/* Opens (the file is created on the first spend) the quota file at path
 * with a budget of per_day units. Returns NULL with err set when out of
 * memory or path is empty. */
tw_quota_t *tw_quota_open(const char *path, uint64_t per_day, tw_err_t *err);
/* Frees *self_p and sets it to NULL; safe on NULL. */
void tw_quota_destroy(tw_quota_t **self_p);
/* Tests only: use now_us instead of the wall clock (0 restores it). */
void tw_quota_set_now(tw_quota_t *self, int64_t now_us);

/* True when units more may be spent now: not blocked and the day's total
 * plus units stays within the budget. Re-reads the file when another
 * process changed it. */
bool tw_quota_allowed(tw_quota_t *self, uint64_t units);
/* Charges units for one call of method (under the file lock). Returns
 * TW_ERR_IO/TW_ERR_NOSPACE when the file cannot be written (the spend is
 * still counted in memory). */
tw_rc_t tw_quota_spend(tw_quota_t *self, const char *method, uint64_t units,
                       tw_err_t *err);
/* Records a quotaExceeded answer: every call is refused until the next
 * Pacific midnight (persisted). Returns TW_OK, or a file error. The caller
 * reports it (log, notifier). */
tw_rc_t tw_quota_exhausted(tw_quota_t *self, tw_err_t *err);
/* Unix usec until which calls are blocked, 0 when not blocked. */
int64_t tw_quota_blocked_until(tw_quota_t *self);
/* Units charged today (all processes). */
uint64_t tw_quota_used(tw_quota_t *self);
/* Units still allowed today (0 when blocked). */
uint64_t tw_quota_left(tw_quota_t *self);
/* The budget. */
uint64_t tw_quota_per_day(const tw_quota_t *self);
/* Copies up to cap per-method totals of today into out; returns how many
 * there are. */
size_t tw_quota_methods(tw_quota_t *self, tw_quota_method_t *out, size_t cap);

/* Returns the interval (ms) for a periodic job that spends units_per_round
 * each interval_ms, stretched so that it uses at most share (0..1] of
 * per_day times TW_QUOTA_MARGIN over a day: max(interval_ms,
 * 86400000 * units_per_round / (per_day * share * margin)). per_day 0 or
 * units_per_round 0 gives interval_ms. */
uint64_t tw_quota_stretch_ms(uint64_t interval_ms, double units_per_round,
                             uint64_t per_day, double share);
/* Like tw_quota_stretch_ms, but also spreads what is left of today's
 * budget over what is left of the Pacific day; when nothing is left,
 * returns the time until the next Pacific midnight. */
uint64_t tw_quota_interval_ms(tw_quota_t *self, uint64_t interval_ms,
                              double units_per_round, double share);

#endif
