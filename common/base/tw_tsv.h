/* tw_tsv - escaping and splitting of the project's TSV lines
 * (docs/writer-store.md): a field's backslash, tab, newline and carriage return
 * are written as
 * \\, \t, \n and \r; every other byte is written as is. */
#ifndef TW_TSV_H
#define TW_TSV_H

#include <stdbool.h>
#include <stddef.h>

#include "tw_buf.h"
#include "tw_rc.h"

/* One field of a split line: a slice of the line, still escaped. */
typedef struct {
    const char *ptr; /* first byte of the field (inside the line) */
    size_t len;      /* bytes in the field */
} tw_tsv_field_t;

/* Appends the escaped form of len bytes at s to out. Returns TW_ERR_NOMEM
 * when out cannot grow. */
tw_rc_t tw_tsv_escape(tw_buf_t *out, const char *s, size_t len);
/* Returns the length of the escaped form of len bytes at s. */
size_t tw_tsv_escaped_len(const char *s, size_t len);
/* Appends the unescaped form of len bytes at s to out. Returns TW_ERR_PARSE
 * (err says where) on a backslash not followed by \, t, n or r, or on a raw
 * tab, newline or carriage return; TW_ERR_NOMEM when out cannot grow. */
tw_rc_t tw_tsv_unescape(tw_buf_t *out, const char *s, size_t len,
                        tw_err_t *err);
/* Unescapes the len bytes at s in place (the result is never longer),
 * NUL-terminates it when it got shorter and stores its length in *out_len.
 * Errors as tw_tsv_unescape (s is then partly rewritten). */
tw_rc_t tw_tsv_unescape_inplace(char *s, size_t len, size_t *out_len,
                                tw_err_t *err);

/* Splits one line (without its newline; a trailing "\n" or "\r\n" is
 * ignored) at tabs into at most max fields. Returns the number of fields
 * in the line, which is more than max when fields were left out. */
size_t tw_tsv_split(const char *line, size_t len, tw_tsv_field_t *fields,
                    size_t max);

/* Finds the next line of buf (len bytes) starting at *off: stores its start
 * and length (without the newline) and moves *off past it. Returns false at
 * the end of buf; *complete (if not NULL) is false for a last line that has
 * no newline (a torn write). */
bool tw_tsv_next_line(const char *buf, size_t len, size_t *off,
                      const char **line, size_t *line_len, bool *complete);

#endif
