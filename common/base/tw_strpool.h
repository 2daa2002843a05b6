/* tw_strpool - owned NUL-terminated string copies that are freed together
 * (the parsers' result strings live until their next parse). */
#ifndef TW_STRPOOL_H
#define TW_STRPOOL_H

#include <stddef.h>

/* A small value type: zero-initialise it ({0}) before first use. */
typedef struct {
    char **strs; /* owned copies */
    size_t n;    /* copies in use */
    size_t cap;  /* slots allocated */
} tw_strpool_t;

/* Copies s[0..n) into the pool and returns the copy; "" when n is 0 or s is
 * NULL; NULL when out of memory. */
const char *tw_strpool_keep(tw_strpool_t *self, const char *s, size_t n);
/* Frees every copy; keeps the slots for reuse. */
void tw_strpool_clear(tw_strpool_t *self);
/* Frees every copy and the slots; the pool is empty and still usable. */
void tw_strpool_fini(tw_strpool_t *self);

#endif
