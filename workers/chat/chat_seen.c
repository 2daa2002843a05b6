/* chat_seen - a bounded set of recently sent chat ids (two generations of
 * open-addressed 64-bit hashes), so reloads and the replay walk skip what
 * this process already sent without memory growing with the stream. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

/* Slots per generation: a power of two, at most half full. */
#define S_SLOTS (CHAT_SEEN_MIN * 2)

struct chat_seen {
    uint64_t *cur;  /* current generation (S_SLOTS, 0 = empty) */
    uint64_t *prev; /* previous generation */
    size_t ncur;    /* entries in cur */
};

/* FNV-1a 64 with a final mix; never 0 (0 marks an empty slot). */
static uint64_t s_hash(const char *id)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

chat_seen_t *chat_seen_new(void)
{
    chat_seen_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cur = calloc(S_SLOTS, sizeof *self->cur);
    self->prev = calloc(S_SLOTS, sizeof *self->prev);
    if (!self->cur || !self->prev)
        chat_seen_destroy(&self);
    return self;
}

void chat_seen_destroy(chat_seen_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->cur);
    free((*self_p)->prev);
    free(*self_p);
    *self_p = NULL;
}

/* True when h is in table t. */
static bool s_find(const uint64_t *t, uint64_t h)
{
    for (size_t i = h & (S_SLOTS - 1);; i = (i + 1) & (S_SLOTS - 1)) {
        if (t[i] == h)
            return true;
        if (t[i] == 0)
            return false;
    }
}

bool chat_seen_has(const chat_seen_t *self, const char *id)
{
    assert(self);
    assert(id);
    uint64_t h = s_hash(id);
    return s_find(self->cur, h) || s_find(self->prev, h);
}

bool chat_seen_add(chat_seen_t *self, const char *id)
{
    assert(self);
    assert(id);
    uint64_t h = s_hash(id);
    if (s_find(self->cur, h) || s_find(self->prev, h))
        return false;
    if (self->ncur >= S_SLOTS / 2) {
        uint64_t *t = self->prev;
        self->prev = self->cur;
        self->cur = t;
        memset(self->cur, 0, S_SLOTS * sizeof *self->cur);
        self->ncur = 0;
    }
    size_t i = h & (S_SLOTS - 1);
    while (self->cur[i] != 0)
        i = (i + 1) & (S_SLOTS - 1);
    self->cur[i] = h;
    self->ncur++;
    return true;
}
