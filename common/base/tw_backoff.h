/* tw_backoff - exponential retry and restart delays, with full jitter. */
#ifndef TW_BACKOFF_H
#define TW_BACKOFF_H

#include <stdint.h>

/* Exponential restart delay for one child. */
typedef struct tw_backoff tw_backoff_t;
/* Returns a new backoff starting at base_ms, capped at max_ms, or NULL. */
tw_backoff_t *tw_backoff_new(uint32_t base_ms, uint32_t max_ms);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_backoff_destroy(tw_backoff_t **self_p);
/* Returns the delay to wait before the next start, and doubles it. */
uint32_t tw_backoff_next(tw_backoff_t *self);
/* Returns a uniformly random delay in [0, tw_backoff_next(self)] ("full
 * jitter"), and doubles the underlying delay. */
uint32_t tw_backoff_next_jitter(tw_backoff_t *self);
/* Starts over at base_ms (after a success). */
void tw_backoff_reset(tw_backoff_t *self);
/* Returns how many delays were handed out since the last reset. */
uint32_t tw_backoff_attempts(const tw_backoff_t *self);

/* Returns a uniformly random value in [0, max_ms] (full jitter). */
uint32_t tw_backoff_jitter(uint32_t max_ms);
/* Returns the full-jitter delay of retry number attempt (0-based):
 * random in [0, min(max_ms, base_ms * 2^attempt)]. */
uint32_t tw_backoff_full_jitter(uint32_t base_ms, uint32_t max_ms,
                                uint32_t attempt);
/* Seeds the jitter generator (tests); it is otherwise seeded from the
 * clock and pid on first use. */
void tw_backoff_seed(uint64_t seed);

#endif
