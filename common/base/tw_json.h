/* tw_json - strict, allocation-light JSON reader: one validating pass builds
 * a flat token tape that is then navigated without further allocation. */
#ifndef TW_JSON_H
#define TW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* A parsed document (reusable: each parse replaces the previous one). */
typedef struct tw_json tw_json_t;

/* A value in the current document: an index into the tape; 0 = none. */
typedef uint32_t tw_json_ref_t;

/* Type of a value. */
typedef enum {
    TW_JSON_NONE = 0, /* no value (ref 0) */
    TW_JSON_NULL,     /* null */
    TW_JSON_FALSE,    /* false */
    TW_JSON_TRUE,     /* true */
    TW_JSON_NUMBER,   /* number (raw text kept) */
    TW_JSON_STRING,   /* string (decoded UTF-8) */
    TW_JSON_ARRAY,    /* array */
    TW_JSON_OBJECT,   /* object */
} tw_json_type_t;

/* Maximum nesting depth accepted by the parser. */
#define TW_JSON_MAX_DEPTH 512

/* Returns a new empty document, or NULL when out of memory. */
tw_json_t *tw_json_new(void);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_json_destroy(tw_json_t **self_p);
/* Parses and validates buf[0..len) (UTF-8, structure, escapes incl.
 * surrogate pairs; lone surrogates become U+FFFD; depth-bounded). The buffer
 * must outlive every later access. Returns TW_ERR_PARSE with the byte offset
 * in err on malformed input, TW_ERR_TOOBIG past 4 GiB, TW_ERR_NOMEM. */
tw_rc_t tw_json_parse(tw_json_t *self, const char *buf, size_t len,
                      tw_err_t *err);
/* Like tw_json_parse for the first document of buf only (a sequence of
 * documents such as JSON Lines): *used receives the bytes it took, its
 * trailing white space included; what follows is not looked at. */
tw_rc_t tw_json_parse_first(tw_json_t *self, const char *buf, size_t len,
                            size_t *used, tw_err_t *err);
/* Returns the root value of the last successful parse (0 if none). */
tw_json_ref_t tw_json_root(const tw_json_t *self);
/* Returns the number of tape entries (the exclusive upper bound of refs). */
uint32_t tw_json_ntok(const tw_json_t *self);

/* Returns the type of v (TW_JSON_STRING for an object key, TW_JSON_NONE for
 * 0 or past the end). */
tw_json_type_t tw_json_type(const tw_json_t *self, tw_json_ref_t v);
/* True when tape entry v is an object key (a string followed by its value
 * at v + 1). */
bool tw_json_is_key(const tw_json_t *self, tw_json_ref_t v);
/* Returns the bytes of a string (decoded) or number (raw text) or key v and
 * sets *len; NULL for other types. Not NUL-terminated; borrowed until the
 * next parse. */
const char *tw_json_str(const tw_json_t *self, tw_json_ref_t v, size_t *len);
/* True when v is a string or key equal to the NUL-terminated s. */
bool tw_json_str_eq(const tw_json_t *self, tw_json_ref_t v, const char *s);
/* Returns the element/member count of an array/object, else 0. */
uint32_t tw_json_count(const tw_json_t *self, tw_json_ref_t v);

/* First child of container v: for an array its first element, for an object
 * its first key (the value is key + 1). 0 when empty or not a container. */
tw_json_ref_t tw_json_first(const tw_json_t *self, tw_json_ref_t v);
/* Next sibling of element v in an array, or 0 at the end. */
tw_json_ref_t tw_json_next(const tw_json_t *self, tw_json_ref_t v);
/* Next key after key k in an object, or 0 at the end. */
tw_json_ref_t tw_json_next_key(const tw_json_t *self, tw_json_ref_t k);
/* The entry following v and all its descendants (may equal ntok). */
tw_json_ref_t tw_json_skip(const tw_json_t *self, tw_json_ref_t v);
/* Value of the first member named key in object obj, or 0. */
tw_json_ref_t tw_json_get(const tw_json_t *self, tw_json_ref_t obj,
                          const char *key);
/* Follows a NULL-terminated list of object keys from v; 0 when any is
 * missing. */
tw_json_ref_t tw_json_path(const tw_json_t *self, tw_json_ref_t v, ...)
    __attribute__((sentinel));
/* Element i of array v, or 0. */
tw_json_ref_t tw_json_at(const tw_json_t *self, tw_json_ref_t v, uint32_t i);

/* Returns the first object key at or after entry from whose length n < 64
 * has bit (1 << n) set in lenmask, or 0: a fast pre-order scan for keys. */
tw_json_ref_t tw_json_scan_keys(const tw_json_t *self, tw_json_ref_t from,
                                uint64_t lenmask);

/* Reads an integer number, or a string holding only an optional '-' and
 * digits, into *out. Returns TW_ERR_INVALID when v is neither or does not
 * fit. */
tw_rc_t tw_json_int64(const tw_json_t *self, tw_json_ref_t v, int64_t *out);
/* Like tw_json_int64 for an unsigned 64-bit value (no sign allowed). */
tw_rc_t tw_json_u64(const tw_json_t *self, tw_json_ref_t v, uint64_t *out);
/* Reads a number as a double; TW_ERR_INVALID for non-numbers. */
tw_rc_t tw_json_double(const tw_json_t *self, tw_json_ref_t v, double *out);
/* True when v is true. */
bool tw_json_is_true(const tw_json_t *self, tw_json_ref_t v);
/* Unix microseconds of an RFC 3339 string value (tw_time_parse_n); 0 when v
 * is absent, not a string or malformed. */
int64_t tw_json_time_us(const tw_json_t *self, tw_json_ref_t v);

/* Writes the jq-style path of v from the root (".a.b[3].c") into buf
 * (truncated to cap, always NUL-terminated when cap > 0). Slow: walks from
 * the root; meant for diagnostics. Returns buf. */
char *tw_json_path_of(const tw_json_t *self, tw_json_ref_t v, char *buf,
                      size_t cap);

/* Parses a decimal digit string s[0..len) as u64; false when empty, not all
 * digits or overflowing. */
bool tw_json_parse_u64(const char *s, size_t len, uint64_t *out);

#endif
