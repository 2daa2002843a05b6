/* tw_tsv - escaping and splitting of the project's TSV lines. */
#include "tw_tsv.h"

#include <assert.h>
#include <string.h>

static int s_special(char c)
{
    return c == '\\' || c == '\t' || c == '\n' || c == '\r';
}

size_t tw_tsv_escaped_len(const char *s, size_t len)
{
    assert(s || len == 0);
    size_t n = len;
    for (size_t i = 0; i < len; i++) {
        if (s_special(s[i]))
            n++;
    }
    return n;
}

tw_rc_t tw_tsv_escape(tw_buf_t *out, const char *s, size_t len)
{
    assert(out);
    assert(s || len == 0);
    tw_rc_t rc = tw_buf_reserve(out, tw_tsv_escaped_len(s, len));
    if (rc != TW_OK)
        return rc;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (!s_special(s[i]))
            continue;
        tw_buf_append(out, s + start, i - start);
        char esc[2] = {'\\', s[i]};
        if (s[i] == '\t')
            esc[1] = 't';
        else if (s[i] == '\n')
            esc[1] = 'n';
        else if (s[i] == '\r')
            esc[1] = 'r';
        tw_buf_append(out, esc, 2);
        start = i + 1;
    }
    return tw_buf_append(out, s + start, len - start);
}

/* Decodes the escape at s[i] (a backslash) into *c; returns 0, or -1. */
static int s_decode(const char *s, size_t len, size_t i, char *c)
{
    if (i + 1 >= len)
        return -1;
    switch (s[i + 1]) {
    case '\\':
        *c = '\\';
        return 0;
    case 't':
        *c = '\t';
        return 0;
    case 'n':
        *c = '\n';
        return 0;
    case 'r':
        *c = '\r';
        return 0;
    default:
        return -1;
    }
}

tw_rc_t tw_tsv_unescape_inplace(char *s, size_t len, size_t *out_len,
                                tw_err_t *err)
{
    assert(s || len == 0);
    assert(out_len);
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\t' || c == '\n' || c == '\r') {
            tw_err_setpos(err, 0, (int)(i + 1),
                          "raw control character 0x%02x in a TSV field",
                          (unsigned)(unsigned char)c);
            return TW_ERR_PARSE;
        }
        if (c == '\\') {
            if (s_decode(s, len, i, &c) != 0) {
                tw_err_setpos(err, 0, (int)(i + 1),
                              "invalid escape in a TSV field");
                return TW_ERR_PARSE;
            }
            i++;
        }
        s[w++] = c;
    }
    if (w < len)
        s[w] = '\0';
    *out_len = w;
    return TW_OK;
}

tw_rc_t tw_tsv_unescape(tw_buf_t *out, const char *s, size_t len, tw_err_t *err)
{
    assert(out);
    assert(s || len == 0);
    size_t before = tw_buf_len(out);
    tw_rc_t rc = tw_buf_append(out, s, len);
    if (rc != TW_OK)
        return rc;
    size_t n = 0;
    rc = tw_tsv_unescape_inplace(tw_buf_data_mut(out) + before, len, &n, err);
    tw_buf_truncate(out, rc == TW_OK ? before + n : before);
    return rc;
}

size_t tw_tsv_split(const char *line, size_t len, tw_tsv_field_t *fields,
                    size_t max)
{
    assert(line || len == 0);
    assert(fields || max == 0);
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    size_t n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (n < max) {
            fields[n].ptr = line + start;
            fields[n].len = i - start;
        }
        n++;
        start = i + 1;
    }
    return n;
}

bool tw_tsv_next_line(const char *buf, size_t len, size_t *off,
                      const char **line, size_t *line_len, bool *complete)
{
    assert(buf || len == 0);
    assert(off);
    assert(line);
    assert(line_len);
    if (*off >= len)
        return false;
    const char *start = buf + *off;
    size_t rest = len - *off;
    const char *nl = memchr(start, '\n', rest);
    *line = start;
    if (nl) {
        *line_len = (size_t)(nl - start);
        *off += *line_len + 1;
    } else {
        *line_len = rest;
        *off = len;
    }
    if (complete)
        *complete = nl != NULL;
    return true;
}
