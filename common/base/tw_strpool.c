/* tw_strpool - owned string copies freed together. */
#include "tw_strpool.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

const char *tw_strpool_keep(tw_strpool_t *self, const char *s, size_t n)
{
    assert(self);
    if (!s || n == 0)
        return "";
    if (self->n == self->cap) {
        size_t ncap = self->cap ? self->cap * 2 : 64;
        char **np = realloc(self->strs, ncap * sizeof *np);
        if (!np)
            return NULL;
        self->strs = np;
        self->cap = ncap;
    }
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    self->strs[self->n++] = c;
    return c;
}

void tw_strpool_clear(tw_strpool_t *self)
{
    assert(self);
    for (size_t i = 0; i < self->n; i++)
        free(self->strs[i]);
    self->n = 0;
}

void tw_strpool_fini(tw_strpool_t *self)
{
    assert(self);
    tw_strpool_clear(self);
    free(self->strs);
    self->strs = NULL;
    self->cap = 0;
}
