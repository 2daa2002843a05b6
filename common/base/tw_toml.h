/* tw_toml - a TOML 1.0 parser producing a read-only document tree. */
#ifndef TW_TOML_H
#define TW_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* Deepest nesting of tables and arrays accepted (the root is level 0);
 * deeper documents are rejected so hostile input cannot exhaust the stack. */
#define TW_TOML_MAX_DEPTH 128

/* The type of a node. */
typedef enum {
    TW_TOML_TABLE,          /* table (root, [table], inline, array element) */
    TW_TOML_ARRAY,          /* array, including an array of tables */
    TW_TOML_STRING,         /* UTF-8 string; may contain NUL (use _len) */
    TW_TOML_INTEGER,        /* signed 64-bit integer */
    TW_TOML_FLOAT,          /* double, including inf and nan */
    TW_TOML_BOOL,           /* true / false */
    TW_TOML_DATETIME,       /* offset date-time */
    TW_TOML_DATETIME_LOCAL, /* local date-time */
    TW_TOML_DATE_LOCAL,     /* local date */
    TW_TOML_TIME_LOCAL,     /* local time */
} tw_toml_type_t;

/* A date, time or date-time; fields not carried by the type are 0. */
typedef struct {
    int year;        /* 0-9999 */
    int month;       /* 1-12 */
    int day;         /* 1-31 */
    int hour;        /* 0-23 */
    int minute;      /* 0-59 */
    int second;      /* 0-60 (60 only as written) */
    int nanosecond;  /* 0-999999999 */
    int frac_digits; /* digits written after the point, 0 when none */
    int offset_min;  /* offset from UTC in minutes (TW_TOML_DATETIME) */
    bool offset_z;   /* offset written as Z (TW_TOML_DATETIME) */
} tw_toml_datetime_t;

/* A node of the document. Nodes are owned by their document. */
typedef struct tw_toml tw_toml_t;

/* Parses len bytes of TOML. Returns the root table (owned by the caller,
 * free with tw_toml_destroy) or NULL with err set, err->line and err->col
 * being the 1-based position of the problem. */
tw_toml_t *tw_toml_parse(const char *text, size_t len, tw_err_t *err);
/* Reads and parses a file; NULL with err set on I/O or parse failure,
 * errno then being the cause of an I/O failure and 0 for a parse one. */
tw_toml_t *tw_toml_parse_file(const char *path, tw_err_t *err);
/* Frees the whole document *root_p and sets it to NULL; safe on NULL. */
void tw_toml_destroy(tw_toml_t **root_p);

/* Returns the node's type. */
tw_toml_type_t tw_toml_type(const tw_toml_t *node);
/* Returns the name of a type ("table", "string", "datetime-local", ...). */
const char *tw_toml_type_name(tw_toml_type_t type);
/* Returns the 1-based line and column where the node's value starts. */
void tw_toml_pos(const tw_toml_t *node, int *line, int *col);

/* Number of entries of a table or elements of an array; 0 otherwise. */
size_t tw_toml_len(const tw_toml_t *node);
/* Key of a table's i-th entry, in document order (borrowed); NULL if out of
 * range. Keys may contain NUL bytes only via escapes; key_len gives the
 * length when key_len is not NULL. */
const char *tw_toml_key_at(const tw_toml_t *table, size_t i, size_t *key_len);
/* Position where the table's i-th key was written (its last dotted part). */
void tw_toml_key_pos(const tw_toml_t *table, size_t i, int *line, int *col);
/* The i-th value of a table or array (borrowed); NULL if out of range. */
const tw_toml_t *tw_toml_at(const tw_toml_t *node, size_t i);
/* The value under key in a table (borrowed); NULL if absent or not a
 * table. */
const tw_toml_t *tw_toml_get(const tw_toml_t *table, const char *key);
/* Like tw_toml_get with a key of key_len bytes (which may hold NUL). */
const tw_toml_t *tw_toml_getn(const tw_toml_t *table, const char *key,
                              size_t key_len);

/* Scalar accessors; the node must be of the matching type (asserted). */
const char *tw_toml_str(const tw_toml_t *node); /* borrowed, NUL-ended */
size_t tw_toml_str_len(const tw_toml_t *node);
int64_t tw_toml_int(const tw_toml_t *node);
double tw_toml_float(const tw_toml_t *node);
bool tw_toml_bool(const tw_toml_t *node);
/* For the four date/time types (borrowed). */
const tw_toml_datetime_t *tw_toml_datetime(const tw_toml_t *node);

#endif
