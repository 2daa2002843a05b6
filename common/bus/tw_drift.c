/* tw_drift - sliding-window counters per source: each source keeps the
 * times of its last `threshold` occurrences in a ring; the source is over
 * the threshold when the oldest of them lies within the window. */
#include "tw_drift.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[48];       /* source name, "" = free slot */
    int64_t *times;      /* ring of the last `threshold` occurrence times */
    uint32_t next;       /* ring slot written next */
    uint32_t filled;     /* slots in use */
    int64_t quiet_until; /* no new alarm before this time */
} s_source_t;

struct tw_drift {
    uint32_t threshold;                       /* occurrences for an alarm */
    uint64_t window_ms;                       /* sliding window */
    s_source_t sources[TW_DRIFT_MAX_SOURCES]; /* per source */
    uint64_t total;                           /* all occurrences */
};

tw_drift_t *tw_drift_new(uint32_t threshold, uint64_t window_ms)
{
    assert(threshold >= 1);
    assert(window_ms >= 1);
    tw_drift_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->threshold = threshold;
    self->window_ms = window_ms;
    for (size_t i = 0; i < TW_DRIFT_MAX_SOURCES; i++) {
        self->sources[i].times = calloc(threshold, sizeof(int64_t));
        if (!self->sources[i].times) {
            tw_drift_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void tw_drift_destroy(tw_drift_t **self_p)
{
    assert(self_p);
    tw_drift_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < TW_DRIFT_MAX_SOURCES; i++)
        free(self->sources[i].times);
    free(self);
    *self_p = NULL;
}

/* The slot of source: its own, a free one, or the last (shared). */
static s_source_t *s_slot(tw_drift_t *self, const char *source)
{
    for (size_t i = 0; i < TW_DRIFT_MAX_SOURCES; i++) {
        s_source_t *s = &self->sources[i];
        if (s->name[0] == '\0') {
            snprintf(s->name, sizeof s->name, "%s", source);
            return s;
        }
        if (strncmp(s->name, source, sizeof s->name - 1) == 0)
            return s;
    }
    return &self->sources[TW_DRIFT_MAX_SOURCES - 1];
}

static uint32_t s_within(const tw_drift_t *self, const s_source_t *s,
                         int64_t now_ms)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->filled; i++)
        if (now_ms - s->times[i] < (int64_t)self->window_ms)
            n++;
    return n;
}

bool tw_drift_note(tw_drift_t *self, const char *source, const char *what,
                   uint32_t n, int64_t now_ms, tw_drift_alarm_t *alarm)
{
    assert(self);
    assert(source);
    assert(alarm);
    if (n == 0)
        return false;
    s_source_t *s = s_slot(self, source);
    self->total += n;
    uint32_t k = n < self->threshold ? n : self->threshold;
    for (uint32_t i = 0; i < k; i++) {
        s->times[s->next] = now_ms;
        s->next = (s->next + 1) % self->threshold;
        if (s->filled < self->threshold)
            s->filled++;
    }
    uint32_t count = s_within(self, s, now_ms);
    if (count < self->threshold || now_ms < s->quiet_until)
        return false;
    s->quiet_until = now_ms + (int64_t)self->window_ms;
    memset(alarm, 0, sizeof *alarm);
    snprintf(alarm->source, sizeof alarm->source, "%s", s->name);
    snprintf(alarm->what, sizeof alarm->what, "%s", what ? what : "");
    alarm->count = n > count ? n : count;
    alarm->window_ms = self->window_ms;
    return true;
}

uint32_t tw_drift_count(const tw_drift_t *self, const char *source,
                        int64_t now_ms)
{
    assert(self);
    assert(source);
    for (size_t i = 0; i < TW_DRIFT_MAX_SOURCES; i++) {
        const s_source_t *s = &self->sources[i];
        if (strncmp(s->name, source, sizeof s->name - 1) == 0 && s->name[0])
            return s_within(self, s, now_ms);
    }
    return 0;
}

uint64_t tw_drift_total(const tw_drift_t *self)
{
    assert(self);
    return self->total;
}
