/* tw_buf - a growable byte buffer, always NUL-terminated. */
#include "tw_buf.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tw_buf {
    char *data; /* bytes + NUL; NULL until the first allocation */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated, including room for the NUL */
};

static char s_empty[1];

tw_buf_t *tw_buf_new(void)
{
    return calloc(1, sizeof(tw_buf_t));
}

void tw_buf_destroy(tw_buf_t **self_p)
{
    assert(self_p);
    if (!*self_p)
        return;
    free((*self_p)->data);
    free(*self_p);
    *self_p = NULL;
}

tw_rc_t tw_buf_reserve(tw_buf_t *self, size_t extra)
{
    assert(self);
    if (extra > SIZE_MAX - self->len - 1)
        return TW_ERR_NOMEM;
    size_t need = self->len + extra + 1;
    if (need <= self->cap)
        return TW_OK;
    size_t cap = self->cap ? self->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(self->data, cap);
    if (!p)
        return TW_ERR_NOMEM;
    if (!self->data)
        p[0] = '\0';
    self->data = p;
    self->cap = cap;
    return TW_OK;
}

tw_rc_t tw_buf_append(tw_buf_t *self, const void *data, size_t len)
{
    assert(self);
    assert(data || len == 0);
    tw_rc_t rc = tw_buf_reserve(self, len);
    if (rc != TW_OK)
        return rc;
    if (len)
        memcpy(self->data + self->len, data, len);
    self->len += len;
    self->data[self->len] = '\0';
    return TW_OK;
}

tw_rc_t tw_buf_append_str(tw_buf_t *self, const char *s)
{
    assert(s);
    return tw_buf_append(self, s, strlen(s));
}

tw_rc_t tw_buf_append_byte(tw_buf_t *self, char c)
{
    return tw_buf_append(self, &c, 1);
}

tw_rc_t tw_buf_vprintf(tw_buf_t *self, const char *fmt, va_list ap)
{
    assert(self);
    assert(fmt);
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return TW_ERR_INVALID;
    if ((size_t)n < sizeof small)
        return tw_buf_append(self, small, (size_t)n);
    tw_rc_t rc = tw_buf_reserve(self, (size_t)n);
    if (rc != TW_OK)
        return rc;
    vsnprintf(self->data + self->len, (size_t)n + 1, fmt, ap);
    self->len += (size_t)n;
    return TW_OK;
}

tw_rc_t tw_buf_printf(tw_buf_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tw_rc_t rc = tw_buf_vprintf(self, fmt, ap);
    va_end(ap);
    return rc;
}

const char *tw_buf_data(const tw_buf_t *self)
{
    assert(self);
    return self->data ? self->data : s_empty;
}

char *tw_buf_data_mut(tw_buf_t *self)
{
    assert(self);
    if (!self->data) {
        s_empty[0] = '\0';
        return s_empty;
    }
    return self->data;
}

size_t tw_buf_len(const tw_buf_t *self)
{
    assert(self);
    return self->len;
}

void tw_buf_truncate(tw_buf_t *self, size_t len)
{
    assert(self);
    assert(len <= self->len);
    if (!self->data)
        return;
    self->len = len;
    self->data[len] = '\0';
}

void tw_buf_clear(tw_buf_t *self)
{
    tw_buf_truncate(self, 0);
}

void tw_buf_consume(tw_buf_t *self, size_t n)
{
    assert(self);
    assert(n <= self->len);
    if (n == 0)
        return;
    memmove(self->data, self->data + n, self->len - n);
    self->len -= n;
    self->data[self->len] = '\0';
}

char *tw_buf_steal(tw_buf_t *self, size_t *len)
{
    assert(self);
    char *out = self->data;
    if (!out) {
        out = malloc(1);
        if (!out)
            return NULL;
        out[0] = '\0';
    }
    if (len)
        *len = self->len;
    self->data = NULL;
    self->len = 0;
    self->cap = 0;
    return out;
}
