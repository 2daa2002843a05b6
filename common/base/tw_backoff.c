/* tw_backoff - exponential retry and restart delays, with full jitter. */
#include "tw_backoff.h"

#include <assert.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct tw_backoff {
    uint32_t base_ms;  /* first delay */
    uint32_t max_ms;   /* cap of every delay */
    uint32_t next_ms;  /* delay handed out by the next call */
    uint32_t attempts; /* delays handed out since the last reset */
};

/* splitmix64 state: jitter needs spread, not cryptographic strength. */
static uint64_t s_state;
static int s_seeded;

void tw_backoff_seed(uint64_t seed)
{
    s_state = seed;
    s_seeded = 1;
}

static uint64_t s_random(void)
{
    if (!s_seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        tw_backoff_seed((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
                        ((uint64_t)getpid() << 16));
    }
    uint64_t z = (s_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t tw_backoff_jitter(uint32_t max_ms)
{
    return (uint32_t)(s_random() % ((uint64_t)max_ms + 1));
}

uint32_t tw_backoff_full_jitter(uint32_t base_ms, uint32_t max_ms,
                                uint32_t attempt)
{
    uint64_t d = base_ms;
    for (uint32_t i = 0; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    return tw_backoff_jitter((uint32_t)d);
}

tw_backoff_t *tw_backoff_new(uint32_t base_ms, uint32_t max_ms)
{
    tw_backoff_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base_ms = base_ms;
    self->max_ms = max_ms < base_ms ? base_ms : max_ms;
    self->next_ms = base_ms;
    return self;
}

void tw_backoff_destroy(tw_backoff_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

uint32_t tw_backoff_next(tw_backoff_t *self)
{
    assert(self);
    uint32_t d = self->next_ms;
    uint64_t n = (uint64_t)d * 2;
    self->next_ms = n > self->max_ms ? self->max_ms : (uint32_t)n;
    if (self->attempts < UINT32_MAX)
        self->attempts++;
    return d;
}

uint32_t tw_backoff_next_jitter(tw_backoff_t *self)
{
    return tw_backoff_jitter(tw_backoff_next(self));
}

void tw_backoff_reset(tw_backoff_t *self)
{
    assert(self);
    self->next_ms = self->base_ms;
    self->attempts = 0;
}

uint32_t tw_backoff_attempts(const tw_backoff_t *self)
{
    assert(self);
    return self->attempts;
}
