/* tw_buf - a growable byte buffer, always NUL-terminated. */
#ifndef TW_BUF_H
#define TW_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "tw_rc.h"

/* A growable byte buffer; its bytes may include NUL. */
typedef struct tw_buf tw_buf_t;

/* Returns a new empty buffer, or NULL when out of memory. */
tw_buf_t *tw_buf_new(void);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_buf_destroy(tw_buf_t **self_p);

/* Makes room for at least extra more bytes (plus the NUL). Returns
 * TW_ERR_NOMEM (buffer unchanged) when that cannot be allocated. */
tw_rc_t tw_buf_reserve(tw_buf_t *self, size_t extra);
/* Appends len bytes. Returns TW_ERR_NOMEM (buffer unchanged) on failure. */
tw_rc_t tw_buf_append(tw_buf_t *self, const void *data, size_t len);
/* Appends a NUL-terminated string. */
tw_rc_t tw_buf_append_str(tw_buf_t *self, const char *s);
/* Appends one byte. */
tw_rc_t tw_buf_append_byte(tw_buf_t *self, char c);
/* Appends printf-formatted text. Returns TW_ERR_NOMEM (buffer unchanged)
 * on failure, TW_ERR_INVALID on a format error. */
tw_rc_t tw_buf_printf(tw_buf_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Like tw_buf_printf with a va_list. */
tw_rc_t tw_buf_vprintf(tw_buf_t *self, const char *fmt, va_list ap);

/* Returns the bytes (borrowed, NUL-terminated, valid until the next change
 * of the buffer); never NULL. */
const char *tw_buf_data(const tw_buf_t *self);
/* Returns the writable bytes (borrowed, like tw_buf_data). */
char *tw_buf_data_mut(tw_buf_t *self);
/* Returns the number of bytes, not counting the NUL. */
size_t tw_buf_len(const tw_buf_t *self);
/* Cuts the buffer to len bytes (len must not exceed the length). */
void tw_buf_truncate(tw_buf_t *self, size_t len);
/* Empties the buffer, keeping its memory. */
void tw_buf_clear(tw_buf_t *self);
/* Removes the first n bytes (n must not exceed the length). */
void tw_buf_consume(tw_buf_t *self, size_t n);
/* Returns the bytes as a malloc'ed NUL-terminated string the caller frees,
 * stores their count in *len (if not NULL) and leaves the buffer empty.
 * Returns NULL when out of memory (buffer unchanged). */
char *tw_buf_steal(tw_buf_t *self, size_t *len);

#endif
