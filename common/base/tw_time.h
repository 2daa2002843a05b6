/* tw_time - clocks, RFC 3339 timestamps, durations and local calendar days
 * in named time zones. Times are int64 microseconds (or milliseconds where
 * the name says so) since 1970-01-01T00:00:00Z. */
#ifndef TW_TIME_H
#define TW_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

#define TW_TIME_STR_SIZE  32 /* room for an RFC 3339 string and its NUL */
#define TW_TIME_DATE_SIZE 11 /* room for "YYYY-MM-DD" and its NUL */
#define TW_TIME_DUR_SIZE  32 /* room for any formatted duration */
#define TW_TIME_PACIFIC   "America/Los_Angeles" /* the quota day's zone */

/* Every wall-clock read of tubewatch and ytsim goes through tw_time_now_*.
 *
 * TEST ONLY: TW_TEST_CLOCK="VIRT_UNIX,SPEED[,ANCHOR_UNIX]" (read once per
 * process) replaces the wall clock by a virtual one: at the real wall time
 * ANCHOR_UNIX (seconds, fractions allowed; default: the first clock read of
 * the process) it shows VIRT_UNIX and then runs SPEED times faster. All
 * processes given the same value agree on the time (the soak test plays a
 * week this way). Spans of the outside world (poll intervals, the archive
 * schedule, quota days, token lifetimes) are waited through
 * tw_time_real_ms; process health timers (heartbeats, acks, restarts) stay
 * real. A malformed value exits with status 100. Never set it in
 * production: every timestamp stored would be wrong. */

/* Returns true when TW_TEST_CLOCK is active and stores its speed in *speed
 * (1.0 without it; speed may be NULL). */
bool tw_time_test_clock(double *speed);
/* Returns the real milliseconds a process waits for virtual_ms of wall
 * time to pass: virtual_ms itself without a test clock, else
 * virtual_ms / speed rounded up (never 0 for a positive span). */
int64_t tw_time_real_ms(int64_t virtual_ms);
/* Returns the wall clock (virtual under TW_TEST_CLOCK) in microseconds. */
int64_t tw_time_now_us(void);
/* Returns the wall clock in milliseconds. */
int64_t tw_time_now_ms(void);
/* Returns the monotonic clock in microseconds (for timeouts, intervals). */
int64_t tw_time_mono_us(void);
/* Returns the monotonic clock in milliseconds. */
int64_t tw_time_mono_ms(void);
/* Days since 1970-01-01 of proleptic Gregorian date y-m-d (m 1-12, d 1-31;
 * not validated; H. Hinnant's days_from_civil). */
int64_t tw_time_days_from_civil(int64_t y, int m, int d);

/* Writes us as RFC 3339 UTC with microseconds ("2026-11-23T13:31:33.123456Z",
 * 27 characters) into buf (TW_TIME_STR_SIZE bytes); times outside years
 * 0000-9999 are clamped. Returns buf. */
char *tw_time_format(int64_t us, char *buf);
/* Writes the UTC calendar date of us ("YYYY-MM-DD") into buf
 * (TW_TIME_DATE_SIZE bytes). Returns buf. */
char *tw_time_format_date(int64_t us, char *buf);
/* Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", an optional
 * fraction of any length (digits after the 6th are dropped), then "Z" or
 * "+HH:MM"/"-HH:MM" ('t', 'z' and ' ' as separator are accepted too).
 * Stores microseconds since the epoch in *us. Returns TW_ERR_PARSE with
 * the reason in err on anything else, out-of-range fields included. */
tw_rc_t tw_time_parse(const char *s, int64_t *us, tw_err_t *err);
/* Like tw_time_parse for len bytes at s (no NUL needed). */
tw_rc_t tw_time_parse_n(const char *s, size_t len, int64_t *us, tw_err_t *err);
/* Parses a point in time as operators write it: "now" (now_us), "+" and a
 * duration as tw_time_duration_parse reads it, at most 366 days ("+5m",
 * "+1h30m"), or an RFC 3339 date-time as tw_time_parse reads it. Stores
 * microseconds since the epoch in *us; TW_ERR_PARSE with the reason in err
 * otherwise. */
tw_rc_t tw_time_when_parse(const char *s, int64_t now_us, int64_t *us,
                           tw_err_t *err);
/* Parses a calendar date "YYYY-MM-DD" and stores its UTC midnight in *us.
 * Returns TW_ERR_PARSE on anything else. */
tw_rc_t tw_time_parse_date(const char *s, int64_t *us, tw_err_t *err);

/* Parses a duration: one or more <digits><unit> with units d, h, m, s, ms
 * in decreasing order ("90s", "5m", "1h30m", "250ms", "2d"), or "0".
 * Stores milliseconds in *ms. Returns TW_ERR_PARSE on garbage, a missing
 * unit, a sign, spaces or repeated units; TW_ERR_TOOBIG on overflow. */
tw_rc_t tw_time_duration_parse(const char *s, int64_t *ms, tw_err_t *err);
/* Writes ms as a duration tw_time_duration_parse reads back ("1h30m",
 * "250ms", "0s"; a negative one gets a leading '-') into buf
 * (TW_TIME_DUR_SIZE bytes). Returns buf. */
char *tw_time_duration_format(int64_t ms, char *buf);
/* Parses a local wall-clock time "HH:MM" (00:00-23:59). Returns
 * TW_ERR_PARSE with a reason otherwise. */
tw_rc_t tw_time_hhmm_parse(const char *s, int *hour, int *minute,
                           tw_err_t *err);

/* The functions taking an IANA zone name ("Europe/Berlin", "UTC") set TZ
 * and call tzset for the duration of the call and restore the previous TZ:
 * they are not thread-safe (workers are single-threaded). */

/* Returns TW_OK when zone names a zone of the system database
 * ($TZDIR or /usr/share/zoneinfo; "UTC" always works); TW_ERR_INVALID for
 * an unsafe name, TW_ERR_NOTFOUND for an unknown one, TW_ERR_IO when its
 * file could not be read now (EMFILE, EIO), with err set. */
tw_rc_t tw_time_zone_check(const char *zone, tw_err_t *err);
/* Writes the local calendar date of us in zone ("YYYY-MM-DD") into buf
 * (TW_TIME_DATE_SIZE bytes). The last day computed is cached, so calling
 * this per item is cheap. Errors as tw_time_zone_check. */
tw_rc_t tw_time_local_date(const char *zone, int64_t us, char *buf,
                           tw_err_t *err);
/* Stores in *offset_s the offset of local time in zone from UTC at us, in
 * seconds (+3600 for Europe/Berlin in winter). Errors as
 * tw_time_zone_check, TW_ERR_INVALID for a time out of range. */
tw_rc_t tw_time_local_offset(const char *zone, int64_t us, int32_t *offset_s,
                             tw_err_t *err);
/* Stores in *next_us the first instant strictly after us at which the
 * local clock of zone shows hour:minute (a time skipped by a DST change
 * maps to the instant mktime gives, usually an hour later). Errors as
 * tw_time_zone_check, TW_ERR_INVALID for a bad hour or minute. */
tw_rc_t tw_time_next_local(const char *zone, int64_t us, int hour, int minute,
                           int64_t *next_us, tw_err_t *err);
/* Stores in *next_us the start of the next local day in zone after us. */
tw_rc_t tw_time_next_midnight(const char *zone, int64_t us, int64_t *next_us,
                              tw_err_t *err);
/* Writes the Pacific (quota) date of us into buf (TW_TIME_DATE_SIZE);
 * returns TW_ERR_NOTFOUND when the zone database lacks the zone. */
tw_rc_t tw_time_pacific_date(int64_t us, char *buf, tw_err_t *err);
/* Stores in *next_us the next Pacific midnight after us (quota reset). */
tw_rc_t tw_time_next_pacific_midnight(int64_t us, int64_t *next_us,
                                      tw_err_t *err);

#endif
