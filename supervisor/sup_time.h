/* sup_time - clocks and the time formats of the supervisor and its CLI. */
#ifndef SUP_TIME_H
#define SUP_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* Monotonic milliseconds. */
int64_t sup_time_mono_ms(void);
/* Monotonic microseconds. */
int64_t sup_time_mono_us(void);
/* Wall-clock Unix microseconds. */
int64_t sup_time_real_us(void);
/* Formats Unix microseconds as RFC 3339 UTC with microseconds
 * ("2026-11-23T13:37:58.123456Z") into buf (at least 32 bytes). Returns
 * buf. */
char *sup_time_format(int64_t unix_us, char *buf, size_t cap);
/* Parses an absolute RFC 3339 time ("2026-11-23T15:00:00Z",
 * "2026-11-23T16:00:00+01:00", fraction optional) or a relative one
 * ("+5m", "+90s", "+1h30m", "now") into Unix microseconds; now_us is the
 * reference for relative times. TW_ERR_INVALID with err set if bad. */
tw_rc_t sup_time_parse(const char *text, int64_t now_us, int64_t *out_us,
                       tw_err_t *err);

#endif
