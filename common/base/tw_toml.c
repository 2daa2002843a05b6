/* tw_toml - TOML 1.0 parser: input checks, lexer, tree builder with the
 * table definition rules, and the read-only accessors of the tree. */
#include "tw_toml.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tables with at least this many keys get a hash index. */
#define S_INDEX_MIN 8
/* Largest file tw_toml_parse_file reads. */
#define S_FILE_MAX (64 * 1024 * 1024)

/* How a table came to exist; decides what may define or extend it later. */
typedef enum {
    S_ORIGIN_ROOT,     /* the document root */
    S_ORIGIN_IMPLICIT, /* created as a super-table of a [header] */
    S_ORIGIN_HEADER,   /* defined by [header], or an element of [[header]] */
    S_ORIGIN_DOTTED,   /* created by a dotted key */
    S_ORIGIN_INLINE,   /* inline table { ... } */
} s_origin_t;

/* One key of a table. */
typedef struct {
    char *key;        /* decoded key, NUL-terminated (may hold NUL) */
    size_t key_len;   /* length of key in bytes */
    int line;         /* 1-based line where the key was written */
    int col;          /* 1-based column where the key was written */
    tw_toml_t *value; /* owned value */
} s_entry_t;

/* A table: entries in document order plus an optional hash index. */
typedef struct {
    s_entry_t *v;      /* entries in document order */
    size_t n;          /* number of entries */
    size_t cap;        /* allocated entries */
    uint32_t *index;   /* open-addressing slots: entry number + 1, 0 = free */
    size_t index_cap;  /* number of slots (power of two), 0 without index */
    s_origin_t origin; /* how the table was created */
    bool frozen;       /* inline table closed: nothing may extend it */
} s_table_t;

/* An array. */
typedef struct {
    tw_toml_t **v;  /* owned elements in order */
    size_t n;       /* number of elements */
    size_t cap;     /* allocated elements */
    bool of_tables; /* created by [[header]] (else a static array value) */
} s_array_t;

struct tw_toml {
    tw_toml_type_t type; /* what the node is */
    int line;            /* 1-based line where the value starts */
    int col;             /* 1-based column where the value starts */
    int depth;           /* nesting depth, the root being 0 */
    union {
        s_table_t table; /* TW_TOML_TABLE */
        s_array_t array; /* TW_TOML_ARRAY */
        struct {
            char *s;           /* NUL-terminated bytes */
            size_t len;        /* length without the final NUL */
        } str;                 /* TW_TOML_STRING */
        int64_t i;             /* TW_TOML_INTEGER */
        double f;              /* TW_TOML_FLOAT */
        bool b;                /* TW_TOML_BOOL */
        tw_toml_datetime_t dt; /* the four date/time types */
    } u;                       /* the value, by type */
};

/* A growable byte buffer. */
typedef struct {
    char *s;    /* bytes, NUL-terminated when not NULL */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
} s_buf_t;

/* One part of a (dotted) key. */
typedef struct {
    char *s;    /* decoded part, NUL-terminated, owned */
    size_t len; /* length in bytes */
    size_t off; /* byte offset where it was written */
    int line;   /* 1-based line */
    int col;    /* 1-based column */
} s_part_t;

/* A whole key: its parts. */
typedef struct {
    s_part_t *v; /* parts, owned */
    size_t n;    /* number of parts */
    size_t cap;  /* allocated parts */
} s_key_t;

/* A 1-based source position. */
typedef struct {
    int line; /* line */
    int col;  /* column, in code points */
} s_at_t;

/* The parser state. */
typedef struct {
    const unsigned char *s; /* the document */
    size_t len;             /* its length */
    size_t pos;             /* current byte offset */
    tw_err_t *err;          /* caller's error buffer, may be NULL */
    bool failed;            /* an error was recorded */
    size_t pc_off;          /* position cache: byte offset ... */
    int pc_line;            /* ... its line ... */
    int pc_col;             /* ... and column */
    s_buf_t sbuf;           /* scratch buffer for strings */
    tw_toml_t *root;        /* the document root */
    tw_toml_t *cur;         /* table receiving key/value pairs */
} s_parser_t;

/* ---------------------------------------------------------------------------
 * Positions and errors */

/* Computes the 1-based line and column (in code points) of byte offset off;
 * amortised linear because offsets are mostly asked in increasing order. */
static void s_pos_of(s_parser_t *p, size_t off, int *line, int *col)
{
    if (off > p->len)
        off = p->len;
    if (off < p->pc_off) {
        /* Going back (rare: error positions): count the newlines crossed,
         * then the column from the start of the line. */
        int l = p->pc_line;
        for (size_t i = p->pc_off; i > off; i--) {
            if (p->s[i - 1] == '\n')
                l--;
        }
        size_t ls = off;
        while (ls > 0 && p->s[ls - 1] != '\n')
            ls--;
        p->pc_off = ls;
        p->pc_line = l;
        p->pc_col = 1;
    }
    size_t i = p->pc_off;
    int l = p->pc_line, c = p->pc_col;
    for (; i < off; i++) {
        unsigned char b = p->s[i];
        if (b == '\n') {
            l++;
            c = 1;
        } else if ((b & 0xC0) != 0x80) {
            c++;
        }
    }
    p->pc_off = off;
    p->pc_line = l;
    p->pc_col = c;
    *line = l;
    *col = c;
}

/* Records the first error, at line:col. Always returns false. */
static bool s_fail_lc(s_parser_t *p, s_at_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool s_fail_lc(s_parser_t *p, s_at_t at, const char *fmt, ...)
{
    if (p->failed)
        return false;
    p->failed = true;
    if (!p->err)
        return false;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tw_err_setpos(p->err, at.line, at.col, "%s", msg);
    return false;
}

/* The position of byte offset off. */
static s_at_t s_at(s_parser_t *p, size_t off)
{
    s_at_t at;
    s_pos_of(p, off, &at.line, &at.col);
    return at;
}

/* The position of a key part. */
static s_at_t s_part_at(const s_part_t *part)
{
    s_at_t at = {part->line, part->col};
    return at;
}

/* Records the first error, at byte offset off. Always returns false. */
static bool s_fail_at(s_parser_t *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool s_fail_at(s_parser_t *p, size_t off, const char *fmt, ...)
{
    if (p->failed)
        return false;
    p->failed = true;
    if (!p->err)
        return false;
    int line, col;
    s_pos_of(p, off, &line, &col);
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tw_err_setpos(p->err, line, col, "%s", msg);
    return false;
}

/* Describes the byte at offset off for messages ("end of input", "'x'",
 * "byte 0xC3"). */
static const char *s_describe(const s_parser_t *p, size_t off, char *buf,
                              size_t size)
{
    if (off >= p->len) {
        snprintf(buf, size, "end of input");
    } else {
        unsigned char b = p->s[off];
        if (b == '\n' || b == '\r')
            snprintf(buf, size, "end of line");
        else if (b > 0x20 && b < 0x7F)
            snprintf(buf, size, "'%c'", b);
        else if (b == ' ')
            snprintf(buf, size, "a space");
        else if (b == '\t')
            snprintf(buf, size, "a tab");
        else
            snprintf(buf, size, "byte 0x%02X", b);
    }
    return buf;
}

/* Fails with "expected WHAT, found X" at the current position. */
static bool s_expected(s_parser_t *p, const char *what)
{
    char buf[32];
    return s_fail_at(p, p->pos, "expected %s, found %s", what,
                     s_describe(p, p->pos, buf, sizeof buf));
}

/* Writes a printable, shortened form of a key for messages. */
static const char *s_key_text(const char *key, size_t len, char *buf,
                              size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < size; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7F || c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, size - o, "\\x%02X", c);
        else
            buf[o++] = (char)c;
        if (o + 8 >= size && i + 1 < len) {
            o += (size_t)snprintf(buf + o, size - o, "...");
            break;
        }
    }
    buf[o < size ? o : size - 1] = '\0';
    return buf;
}

/* ---------------------------------------------------------------------------
 * Input checks: UTF-8 and control characters, before parsing. */

/* Checks the whole document: valid UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF), and no control character other than tab,
 * LF and CR LF. */
static bool s_check_input(s_parser_t *p)
{
    const unsigned char *s = p->s;
    size_t n = p->len;
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        if (b < 0x80) {
            if (b == '\r') {
                if (i + 1 >= n || s[i + 1] != '\n')
                    return s_fail_at(p, i,
                                     "carriage return (CR) not "
                                     "followed by line feed (LF)");
                i += 2;
                continue;
            }
            if ((b < 0x20 && b != '\t' && b != '\n') || b == 0x7F)
                return s_fail_at(p, i,
                                 "control character U+%04X is not allowed; "
                                 "use an escape in a basic string",
                                 b);
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
            cp = b & 0x1F;
            min = 0x80;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            cp = b & 0x0F;
            min = 0x800;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            cp = b & 0x07;
            min = 0x10000;
        } else {
            return s_fail_at(p, i, "invalid UTF-8 byte 0x%02X", b);
        }
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80)
                return s_fail_at(p, i, "invalid UTF-8 sequence");
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return s_fail_at(p, i, "invalid UTF-8 sequence (U+%04X)",
                             (unsigned)cp);
        i += need + 1;
    }
    return true;
}

/* ---------------------------------------------------------------------------
 * Nodes and tables */

/* Frees a node and everything below it. Depth is bounded by the parser. */
static void s_node_free(tw_toml_t *node)
{
    if (!node)
        return;
    if (node->type == TW_TOML_TABLE) {
        for (size_t i = 0; i < node->u.table.n; i++) {
            free(node->u.table.v[i].key);
            s_node_free(node->u.table.v[i].value);
        }
        free(node->u.table.v);
        free(node->u.table.index);
    } else if (node->type == TW_TOML_ARRAY) {
        for (size_t i = 0; i < node->u.array.n; i++)
            s_node_free(node->u.array.v[i]);
        free(node->u.array.v);
    } else if (node->type == TW_TOML_STRING) {
        free(node->u.str.s);
    }
    free(node);
}

/* Out of memory: records the error. Returns false. */
static bool s_nomem(s_parser_t *p)
{
    if (!p->failed) {
        p->failed = true;
        tw_err_set(p->err, "out of memory");
    }
    return false;
}

/* A new node of type at position at with the given depth, or NULL with
 * the error recorded (out of memory, or nesting too deep). */
static tw_toml_t *s_node_new(s_parser_t *p, tw_toml_type_t type, s_at_t at,
                             int depth)
{
    if (depth > TW_TOML_MAX_DEPTH) {
        s_fail_lc(p, at, "nesting deeper than %d levels", TW_TOML_MAX_DEPTH);
        return NULL;
    }
    tw_toml_t *node = calloc(1, sizeof *node);
    if (!node) {
        s_nomem(p);
        return NULL;
    }
    node->type = type;
    node->depth = depth;
    node->line = at.line;
    node->col = at.col;
    return node;
}

/* FNV-1a hash of a key. */
static uint32_t s_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return h;
}

/* Rebuilds the hash index of t with room for at least twice its entries.
 * Returns false when out of memory. */
static bool s_index_rebuild(s_table_t *t)
{
    size_t cap = 16;
    while (cap < t->n * 2 + 2)
        cap *= 2;
    uint32_t *index = calloc(cap, sizeof *index);
    if (!index)
        return false;
    for (size_t i = 0; i < t->n; i++) {
        size_t slot = s_hash(t->v[i].key, t->v[i].key_len) & (cap - 1);
        while (index[slot])
            slot = (slot + 1) & (cap - 1);
        index[slot] = (uint32_t)(i + 1);
    }
    free(t->index);
    t->index = index;
    t->index_cap = cap;
    return true;
}

/* Finds key in t; returns the entry number or -1. */
static long s_table_find(const s_table_t *t, const char *key, size_t len)
{
    if (t->index) {
        size_t mask = t->index_cap - 1;
        size_t slot = s_hash(key, len) & mask;
        while (t->index[slot]) {
            const s_entry_t *e = &t->v[t->index[slot] - 1];
            if (e->key_len == len && memcmp(e->key, key, len) == 0)
                return (long)(t->index[slot] - 1);
            slot = (slot + 1) & mask;
        }
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].key_len == len && memcmp(t->v[i].key, key, len) == 0)
            return (long)i;
    }
    return -1;
}

/* Appends key (copied) -> value (owned on success) to table node; the key
 * must be absent. Returns false when out of memory (value not taken). */
static bool s_table_add(s_parser_t *p, tw_toml_t *table, const s_part_t *part,
                        tw_toml_t *value)
{
    s_table_t *t = &table->u.table;
    if (t->n >= UINT32_MAX - 1)
        return s_fail_at(p, part->off, "too many keys in one table");
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        s_entry_t *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return s_nomem(p);
        t->v = v;
        t->cap = cap;
    }
    char *key = malloc(part->len + 1);
    if (!key)
        return s_nomem(p);
    memcpy(key, part->s, part->len);
    key[part->len] = '\0';
    s_entry_t *e = &t->v[t->n++];
    e->key = key;
    e->key_len = part->len;
    e->line = part->line;
    e->col = part->col;
    e->value = value;
    if (t->index && (t->n * 2 + 2) <= t->index_cap) {
        size_t mask = t->index_cap - 1;
        size_t slot = s_hash(key, part->len) & mask;
        while (t->index[slot])
            slot = (slot + 1) & mask;
        t->index[slot] = (uint32_t)t->n;
    } else if (t->n >= S_INDEX_MIN) {
        if (!s_index_rebuild(t)) {
            /* Keep the table consistent: the caller frees the value. */
            t->n--;
            free(key);
            return s_nomem(p);
        }
    }
    return true;
}

/* Appends value (owned on success) to array node. */
static bool s_array_add(s_parser_t *p, tw_toml_t *array, tw_toml_t *value)
{
    s_array_t *a = &array->u.array;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        tw_toml_t **v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return s_nomem(p);
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = value;
    return true;
}

/* Creates an empty table with origin under key part of parent. Returns the
 * new table (owned by parent) or NULL with the error recorded. */
static tw_toml_t *s_table_new_under(s_parser_t *p, tw_toml_t *parent,
                                    const s_part_t *part, s_at_t at,
                                    s_origin_t origin)
{
    tw_toml_t *t = s_node_new(p, TW_TOML_TABLE, at, parent->depth + 1);
    if (!t)
        return NULL;
    t->u.table.origin = origin;
    if (!s_table_add(p, parent, part, t)) {
        s_node_free(t);
        return NULL;
    }
    return t;
}

/* ---------------------------------------------------------------------------
 * Lexer helpers */

/* The byte at pos + k, or -1 past the end. */
static int s_peek(const s_parser_t *p, size_t k)
{
    if (p->pos + k >= p->len)
        return -1;
    return p->s[p->pos + k];
}

/* Skips spaces and tabs. */
static void s_skip_ws(s_parser_t *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
}

/* Consumes a newline (LF or CR LF); returns whether there was one. */
static bool s_newline(s_parser_t *p)
{
    int c = s_peek(p, 0);
    if (c == '\n') {
        p->pos++;
        return true;
    }
    if (c == '\r' && s_peek(p, 1) == '\n') {
        p->pos += 2;
        return true;
    }
    return false;
}

/* Skips a comment if one starts here (up to, not including, the newline). */
static void s_skip_comment(s_parser_t *p)
{
    if (s_peek(p, 0) != '#')
        return;
    while (p->pos < p->len && p->s[p->pos] != '\n' && p->s[p->pos] != '\r')
        p->pos++;
}

/* Skips whitespace, newlines and comments (inside arrays). */
static void s_skip_all(s_parser_t *p)
{
    for (;;) {
        s_skip_ws(p);
        s_skip_comment(p);
        if (!s_newline(p))
            return;
    }
}

/* After a key/value pair or header: optional whitespace and comment, then a
 * newline or the end of input. */
static bool s_end_of_line(s_parser_t *p, const char *after)
{
    s_skip_ws(p);
    s_skip_comment(p);
    if (p->pos >= p->len || s_newline(p))
        return true;
    char buf[32];
    return s_fail_at(p, p->pos, "expected end of line after %s, found %s",
                     after, s_describe(p, p->pos, buf, sizeof buf));
}

/* Appends len bytes to b. */
static bool s_buf_add(s_parser_t *p, s_buf_t *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            return s_nomem(p);
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, data, len);
    b->len += len;
    b->s[b->len] = '\0';
    return true;
}

/* Appends one byte to b. */
static bool s_buf_byte(s_parser_t *p, s_buf_t *b, int c)
{
    char ch = (char)c;
    return s_buf_add(p, b, &ch, 1);
}

/* ---------------------------------------------------------------------------
 * Strings */

/* Appends code point cp as UTF-8. */
static bool s_buf_utf8(s_parser_t *p, s_buf_t *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return s_buf_add(p, b, u, n);
}

/* Value of hex digit c, or -1. */
static int s_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the escape at pos (which is at the backslash) into b. */
static bool s_escape(s_parser_t *p, s_buf_t *b)
{
    size_t start = p->pos;
    int c = s_peek(p, 1);
    const char *simple = NULL;
    switch (c) {
    case 'b':
        simple = "\b";
        break;
    case 't':
        simple = "\t";
        break;
    case 'n':
        simple = "\n";
        break;
    case 'f':
        simple = "\f";
        break;
    case 'r':
        simple = "\r";
        break;
    case '"':
        simple = "\"";
        break;
    case '\\':
        simple = "\\";
        break;
    case 'u':
    case 'U':
        break;
    default: {
        char buf[32];
        return s_fail_at(p, start,
                         "invalid escape sequence: backslash "
                         "followed by %s",
                         s_describe(p, start + 1, buf, sizeof buf));
    }
    }
    if (simple) {
        p->pos += 2;
        return s_buf_add(p, b, simple, 1);
    }
    int digits = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int i = 0; i < digits; i++) {
        int v = s_hexval(s_peek(p, 2 + (size_t)i));
        if (v < 0)
            return s_fail_at(p, start, "\\%c escape needs %d hex digits", c,
                             digits);
        cp = (cp << 4) | (uint32_t)v;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return s_fail_at(p, start,
                         "escape \\%c%0*X is not a Unicode scalar value", c,
                         digits, (unsigned)cp);
    p->pos += 2 + (size_t)digits;
    return s_buf_utf8(p, b, cp);
}

/* Parses a basic or literal string starting at pos (at the opening quote)
 * into p->sbuf, single-line or multi-line. allow_multi is false for keys. */
static bool s_parse_string(s_parser_t *p, bool allow_multi)
{
    size_t start = p->pos;
    int q = s_peek(p, 0);
    bool basic = q == '"';
    s_buf_t *b = &p->sbuf;
    b->len = 0;
    if (!s_buf_add(p, b, "", 0))
        return false;
    bool multi = allow_multi && s_peek(p, 1) == q && s_peek(p, 2) == q;
    if (!multi) {
        p->pos++;
        for (;;) {
            int c = s_peek(p, 0);
            if (c < 0 || c == '\n' || c == '\r')
                return s_fail_at(p, start, "unterminated string");
            if (c == q) {
                p->pos++;
                return true;
            }
            if (basic && c == '\\') {
                if (!s_escape(p, b))
                    return false;
                continue;
            }
            if (!s_buf_byte(p, b, c))
                return false;
            p->pos++;
        }
    }
    p->pos += 3;
    /* A newline right after the opening delimiter is trimmed. */
    s_newline(p);
    for (;;) {
        int c = s_peek(p, 0);
        if (c < 0)
            return s_fail_at(p, start, "unterminated multi-line string");
        if (c == q) {
            size_t run = 0;
            while (s_peek(p, run) == q)
                run++;
            if (run >= 3) {
                if (run > 5)
                    return s_fail_at(p, p->pos + 5,
                                     "too many quotes at the end of a "
                                     "multi-line string");
                for (size_t i = 3; i < run; i++) {
                    if (!s_buf_byte(p, b, q))
                        return false;
                }
                p->pos += run;
                return true;
            }
            for (size_t i = 0; i < run; i++) {
                if (!s_buf_byte(p, b, q))
                    return false;
            }
            p->pos += run;
            continue;
        }
        if (basic && c == '\\') {
            /* Line-ending backslash: trims whitespace and newlines. */
            size_t save = p->pos;
            p->pos++;
            s_skip_ws(p);
            if (s_newline(p)) {
                for (;;) {
                    s_skip_ws(p);
                    if (!s_newline(p))
                        break;
                }
                continue;
            }
            p->pos = save;
            if (!s_escape(p, b))
                return false;
            continue;
        }
        if (c == '\r') {
            /* CR LF is a newline; decode it as LF. */
            p->pos++;
            continue;
        }
        if (!s_buf_byte(p, b, c))
            return false;
        p->pos++;
    }
}

/* ---------------------------------------------------------------------------
 * Keys */

/* Frees the parts of key. */
static void s_key_clear(s_key_t *key)
{
    for (size_t i = 0; i < key->n; i++)
        free(key->v[i].s);
    free(key->v);
    memset(key, 0, sizeof *key);
}

/* Whether c may appear in a bare key. */
static bool s_bare_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Parses a (dotted) key at pos into key; leading whitespace must already be
 * skipped; trailing whitespace is skipped. */
static bool s_parse_key(s_parser_t *p, s_key_t *key)
{
    for (;;) {
        size_t off = p->pos;
        int c = s_peek(p, 0);
        const char *s;
        size_t len;
        if (c == '"' || c == '\'') {
            if (!s_parse_string(p, false))
                return false;
            s = p->sbuf.s;
            len = p->sbuf.len;
        } else if (s_bare_char(c)) {
            while (s_bare_char(s_peek(p, 0)))
                p->pos++;
            s = (const char *)p->s + off;
            len = p->pos - off;
        } else {
            return s_expected(p, "a key");
        }
        if (key->n >= TW_TOML_MAX_DEPTH)
            return s_fail_at(p, off, "key has more than %d dotted parts",
                             TW_TOML_MAX_DEPTH);
        if (key->n == key->cap) {
            size_t cap = key->cap ? key->cap * 2 : 4;
            s_part_t *v = realloc(key->v, cap * sizeof *v);
            if (!v)
                return s_nomem(p);
            key->v = v;
            key->cap = cap;
        }
        char *copy = malloc(len + 1);
        if (!copy)
            return s_nomem(p);
        memcpy(copy, s, len);
        copy[len] = '\0';
        s_part_t *part = &key->v[key->n++];
        part->s = copy;
        part->len = len;
        part->off = off;
        s_pos_of(p, off, &part->line, &part->col);
        s_skip_ws(p);
        if (s_peek(p, 0) != '.')
            return true;
        p->pos++;
        s_skip_ws(p);
    }
}

/* ---------------------------------------------------------------------------
 * Numbers and dates */

/* Whether c belongs to a number token. */
static bool s_num_char(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '+' ||
           c == '-';
}

/* Value of digit c in base, or -1. */
static int s_digit(int c, int base)
{
    int v = s_hexval(c);
    return v >= 0 && v < base ? v : -1;
}

/* Reads digits of base from tok[*i] with underscores only between digits,
 * appending the digits to out (when not NULL). Returns the digit count, or
 * -1 on a misplaced underscore. */
static int s_digits(const char *tok, size_t n, size_t *i, int base, char *out,
                    size_t *out_len)
{
    int count = 0;
    while (*i < n) {
        int c = (unsigned char)tok[*i];
        if (s_digit(c, base) >= 0) {
            if (out)
                out[(*out_len)++] = (char)c;
            count++;
            (*i)++;
        } else if (c == '_') {
            if (count == 0 || *i + 1 >= n ||
                s_digit((unsigned char)tok[*i + 1], base) < 0)
                return -1;
            (*i)++;
        } else {
            break;
        }
    }
    return count;
}

/* Parses an integer or float token at pos into a new node. */
static tw_toml_t *s_parse_number(s_parser_t *p, int depth, s_at_t at)
{
    size_t start = p->pos;
    while (s_num_char(s_peek(p, 0)))
        p->pos++;
    const char *tok = (const char *)p->s + start;
    size_t n = p->pos - start;
    size_t i = 0;
    bool neg = false, sign = false;
    if (n > 0 && (tok[0] == '+' || tok[0] == '-')) {
        neg = tok[0] == '-';
        sign = true;
        i++;
    }
    const char *body = tok + i;
    size_t blen = n - i;
    if (blen == 3 &&
        (memcmp(body, "inf", 3) == 0 || memcmp(body, "nan", 3) == 0)) {
        tw_toml_t *node = s_node_new(p, TW_TOML_FLOAT, at, depth);
        if (!node)
            return NULL;
        if (body[0] == 'i')
            node->u.f = neg ? -HUGE_VAL : HUGE_VAL;
        else
            node->u.f = neg ? -NAN : NAN;
        return node;
    }
    if (blen >= 2 && body[0] == '0' &&
        (body[1] == 'x' || body[1] == 'o' || body[1] == 'b')) {
        int base = body[1] == 'x' ? 16 : body[1] == 'o' ? 8 : 2;
        if (sign) {
            s_fail_at(p, start,
                      "a sign is not allowed on a hexadecimal, "
                      "octal or binary integer");
            return NULL;
        }
        i += 2;
        uint64_t v = 0;
        bool prev_digit = false;
        int count = 0;
        for (; i < n; i++) {
            int c = (unsigned char)tok[i];
            int d = s_digit(c, base);
            if (d >= 0) {
                if (v > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base) {
                    s_fail_at(p, start, "integer out of range");
                    return NULL;
                }
                v = v * (uint64_t)base + (uint64_t)d;
                prev_digit = true;
                count++;
            } else if (c == '_' && prev_digit && i + 1 < n &&
                       s_digit((unsigned char)tok[i + 1], base) >= 0) {
                prev_digit = false;
            } else {
                s_fail_at(p, start, "invalid %s integer",
                          base == 16  ? "hexadecimal"
                          : base == 8 ? "octal"
                                      : "binary");
                return NULL;
            }
        }
        if (count == 0) {
            s_fail_at(p, start, "integer prefix without digits");
            return NULL;
        }
        tw_toml_t *node = s_node_new(p, TW_TOML_INTEGER, at, depth);
        if (!node)
            return NULL;
        node->u.i = (int64_t)v;
        return node;
    }
    /* Decimal integer or float: digits are copied without underscores. */
    char clean[512];
    size_t cl = 0;
    if (n >= sizeof clean - 8) {
        s_fail_at(p, start, "number too long");
        return NULL;
    }
    if (neg)
        clean[cl++] = '-';
    size_t int_start = i;
    int nd = s_digits(tok, n, &i, 10, clean, &cl);
    if (nd <= 0) {
        s_fail_at(p, start,
                  nd < 0 ? "underscore not between digits"
                         : "invalid number or value");
        return NULL;
    }
    if (nd > 1 && tok[int_start] == '0') {
        s_fail_at(p, start, "leading zeros are not allowed");
        return NULL;
    }
    bool is_float = false;
    if (i < n && tok[i] == '.') {
        is_float = true;
        clean[cl++] = '.';
        i++;
        int fd = s_digits(tok, n, &i, 10, clean, &cl);
        if (fd <= 0) {
            s_fail_at(p, start,
                      fd < 0 ? "underscore not between digits"
                             : "a decimal point must be followed "
                               "by digits");
            return NULL;
        }
    }
    if (i < n && (tok[i] == 'e' || tok[i] == 'E')) {
        is_float = true;
        clean[cl++] = 'e';
        i++;
        if (i < n && (tok[i] == '+' || tok[i] == '-'))
            clean[cl++] = tok[i++];
        int ed = s_digits(tok, n, &i, 10, clean, &cl);
        if (ed <= 0) {
            s_fail_at(p, start,
                      ed < 0 ? "underscore not between digits"
                             : "exponent without digits");
            return NULL;
        }
    }
    if (i != n) {
        s_fail_at(p, start, "invalid number or value");
        return NULL;
    }
    clean[cl] = '\0';
    tw_toml_t *node =
        s_node_new(p, is_float ? TW_TOML_FLOAT : TW_TOML_INTEGER, at, depth);
    if (!node)
        return NULL;
    if (is_float) {
        node->u.f = strtod(clean, NULL);
        return node;
    }
    uint64_t v = 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t k = neg ? 1 : 0; k < cl; k++) {
        uint64_t d = (uint64_t)(clean[k] - '0');
        if (v > (limit - d) / 10) {
            s_node_free(node);
            s_fail_at(p, start, "integer out of range");
            return NULL;
        }
        v = v * 10 + d;
    }
    if (neg)
        node->u.i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        node->u.i = (int64_t)v;
    return node;
}

/* Reads exactly n decimal digits at pos + k; returns the value or -1. */
static int s_fixed_digits(const s_parser_t *p, size_t k, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        int c = s_peek(p, k + (size_t)i);
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

/* Whether a date starts at pos: four digits and a dash. */
static bool s_is_date(const s_parser_t *p)
{
    return s_fixed_digits(p, 0, 4) >= 0 && s_peek(p, 4) == '-';
}

/* Whether a time starts at pos + k: two digits and a colon. */
static bool s_is_time(const s_parser_t *p, size_t k)
{
    return s_fixed_digits(p, k, 2) >= 0 && s_peek(p, k + 2) == ':';
}

/* Number of days in month of year. */
static int s_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return days[month - 1];
}

/* Parses HH:MM:SS[.frac] at pos into dt. */
static bool s_parse_time(s_parser_t *p, tw_toml_datetime_t *dt)
{
    size_t start = p->pos;
    dt->hour = s_fixed_digits(p, 0, 2);
    dt->minute = s_peek(p, 2) == ':' ? s_fixed_digits(p, 3, 2) : -1;
    dt->second = s_peek(p, 5) == ':' ? s_fixed_digits(p, 6, 2) : -1;
    if (dt->hour < 0 || dt->minute < 0 || dt->second < 0)
        return s_fail_at(p, start, "invalid time: expected HH:MM:SS");
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
        return s_fail_at(p, start, "time out of range");
    p->pos += 8;
    if (s_peek(p, 0) == '.') {
        p->pos++;
        int count = 0;
        long ns = 0;
        while (s_peek(p, 0) >= '0' && s_peek(p, 0) <= '9') {
            if (count < 9)
                ns = ns * 10 + (s_peek(p, 0) - '0');
            count++;
            p->pos++;
        }
        if (count == 0)
            return s_fail_at(p, p->pos, "fraction of seconds without digits");
        for (int k = count; k < 9; k++)
            ns *= 10;
        dt->nanosecond = (int)ns;
        dt->frac_digits = count;
    }
    return true;
}

/* Parses a date, time or date-time at pos into a new node. */
static tw_toml_t *s_parse_datetime(s_parser_t *p, int depth, s_at_t at)
{
    size_t start = p->pos;
    tw_toml_datetime_t dt;
    memset(&dt, 0, sizeof dt);
    tw_toml_type_t type;
    if (s_is_date(p)) {
        dt.year = s_fixed_digits(p, 0, 4);
        dt.month = s_peek(p, 4) == '-' ? s_fixed_digits(p, 5, 2) : -1;
        dt.day = s_peek(p, 7) == '-' ? s_fixed_digits(p, 8, 2) : -1;
        if (dt.month < 0 || dt.day < 0) {
            s_fail_at(p, start, "invalid date: expected YYYY-MM-DD");
            return NULL;
        }
        if (dt.month < 1 || dt.month > 12 || dt.day < 1 ||
            dt.day > s_days_in_month(dt.year, dt.month)) {
            s_fail_at(p, start, "invalid date: no such day");
            return NULL;
        }
        p->pos += 10;
        int c = s_peek(p, 0);
        if (c == 'T' || c == 't' || (c == ' ' && s_is_time(p, 1))) {
            p->pos++;
            if (!s_parse_time(p, &dt))
                return NULL;
            c = s_peek(p, 0);
            if (c == 'Z' || c == 'z') {
                dt.offset_z = true;
                p->pos++;
                type = TW_TOML_DATETIME;
            } else if (c == '+' || c == '-') {
                int oh = s_fixed_digits(p, 1, 2);
                int om = s_peek(p, 3) == ':' ? s_fixed_digits(p, 4, 2) : -1;
                if (oh < 0 || om < 0 || oh > 23 || om > 59) {
                    s_fail_at(p, p->pos,
                              "invalid time offset: expected "
                              "+HH:MM or -HH:MM");
                    return NULL;
                }
                dt.offset_min = (c == '-' ? -1 : 1) * (oh * 60 + om);
                p->pos += 6;
                type = TW_TOML_DATETIME;
            } else {
                type = TW_TOML_DATETIME_LOCAL;
            }
        } else {
            type = TW_TOML_DATE_LOCAL;
        }
    } else {
        if (!s_parse_time(p, &dt))
            return NULL;
        type = TW_TOML_TIME_LOCAL;
    }
    tw_toml_t *node = s_node_new(p, type, at, depth);
    if (node)
        node->u.dt = dt;
    return node;
}

/* ---------------------------------------------------------------------------
 * Values */

static tw_toml_t *s_parse_value(s_parser_t *p, int depth);
static bool s_keyval(s_parser_t *p, tw_toml_t *table, bool in_inline);

/* Parses an array at pos (at '[') into a new node. */
static tw_toml_t *s_parse_array(s_parser_t *p, int depth, s_at_t at)
{
    tw_toml_t *arr = s_node_new(p, TW_TOML_ARRAY, at, depth);
    if (!arr)
        return NULL;
    p->pos++;
    for (;;) {
        s_skip_all(p);
        if (s_peek(p, 0) == ']') {
            p->pos++;
            return arr;
        }
        tw_toml_t *v = s_parse_value(p, depth + 1);
        if (!v)
            break;
        if (!s_array_add(p, arr, v)) {
            s_node_free(v);
            break;
        }
        s_skip_all(p);
        int c = s_peek(p, 0);
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == ']') {
            p->pos++;
            return arr;
        }
        s_expected(p, "',' or ']' in array");
        break;
    }
    s_node_free(arr);
    return NULL;
}

/* Parses an inline table at pos (at '{') into a new node. */
static tw_toml_t *s_parse_inline(s_parser_t *p, int depth, s_at_t at)
{
    tw_toml_t *t = s_node_new(p, TW_TOML_TABLE, at, depth);
    if (!t)
        return NULL;
    t->u.table.origin = S_ORIGIN_INLINE;
    p->pos++;
    s_skip_ws(p);
    if (s_peek(p, 0) == '}') {
        p->pos++;
        t->u.table.frozen = true;
        return t;
    }
    for (;;) {
        s_skip_ws(p);
        if (!s_keyval(p, t, true))
            break;
        s_skip_ws(p);
        int c = s_peek(p, 0);
        if (c == ',') {
            p->pos++;
            s_skip_ws(p);
            if (s_peek(p, 0) == '}') {
                s_fail_at(p, p->pos, "trailing comma in inline table");
                break;
            }
            continue;
        }
        if (c == '}') {
            p->pos++;
            t->u.table.frozen = true;
            return t;
        }
        if (c == '\n' || c == '\r')
            s_fail_at(p, p->pos, "newline in inline table");
        else
            s_expected(p, "',' or '}' in inline table");
        break;
    }
    s_node_free(t);
    return NULL;
}

/* Parses a string value at pos into a new node. */
static tw_toml_t *s_parse_string_value(s_parser_t *p, int depth, s_at_t at)
{
    if (!s_parse_string(p, true))
        return NULL;
    tw_toml_t *node = s_node_new(p, TW_TOML_STRING, at, depth);
    if (!node)
        return NULL;
    node->u.str.s = malloc(p->sbuf.len + 1);
    if (!node->u.str.s) {
        free(node);
        s_nomem(p);
        return NULL;
    }
    memcpy(node->u.str.s, p->sbuf.s, p->sbuf.len + 1);
    node->u.str.len = p->sbuf.len;
    return node;
}

/* Parses any value at pos into a new node of the given depth. */
static tw_toml_t *s_parse_value(s_parser_t *p, int depth)
{
    size_t start = p->pos;
    int c = s_peek(p, 0);
    s_at_t at = s_at(p, start);
    if (depth > TW_TOML_MAX_DEPTH) {
        s_fail_lc(p, at, "nesting deeper than %d levels", TW_TOML_MAX_DEPTH);
        return NULL;
    }
    switch (c) {
    case '"':
    case '\'':
        return s_parse_string_value(p, depth, at);
    case '[':
        return s_parse_array(p, depth, at);
    case '{':
        return s_parse_inline(p, depth, at);
    case 't':
    case 'f': {
        const char *word = c == 't' ? "true" : "false";
        size_t wl = strlen(word);
        if (p->len - p->pos >= wl && memcmp(p->s + p->pos, word, wl) == 0 &&
            !s_bare_char(s_peek(p, wl))) {
            tw_toml_t *node = s_node_new(p, TW_TOML_BOOL, at, depth);
            if (!node)
                return NULL;
            node->u.b = c == 't';
            p->pos += wl;
            return node;
        }
        break;
    }
    default:
        if (c >= '0' && c <= '9') {
            if (s_is_date(p) || s_is_time(p, 0))
                return s_parse_datetime(p, depth, at);
            return s_parse_number(p, depth, at);
        }
        if (c == '+' || c == '-' || c == 'i' || c == 'n')
            return s_parse_number(p, depth, at);
        break;
    }
    if (c < 0 || c == '\n' || c == '\r' || c == '#') {
        s_fail_at(p, start, "missing value");
        return NULL;
    }
    char buf[32];
    s_fail_at(p, start, "invalid value starting with %s",
              s_describe(p, start, buf, sizeof buf));
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Key/value pairs and headers */

/* Parses key = value at pos into table (the current table, or an inline
 * table being built). */
static bool s_keyval(s_parser_t *p, tw_toml_t *table, bool in_inline)
{
    s_key_t key = {0};
    bool ok = false;
    if (!s_parse_key(p, &key))
        goto done;
    if (s_peek(p, 0) != '=') {
        s_expected(p, "'=' after a key");
        goto done;
    }
    p->pos++;
    s_skip_ws(p);
    /* Dotted key: walk or create the tables of all parts but the last. */
    tw_toml_t *t = table;
    char kb[128];
    for (size_t i = 0; i + 1 < key.n; i++) {
        s_part_t *part = &key.v[i];
        long idx = s_table_find(&t->u.table, part->s, part->len);
        if (idx < 0) {
            t = s_table_new_under(p, t, part, s_part_at(part), S_ORIGIN_DOTTED);
            if (!t)
                goto done;
            continue;
        }
        tw_toml_t *v = t->u.table.v[idx].value;
        const char *why = NULL;
        if (v->type != TW_TOML_TABLE)
            why = "is already defined as a value that is not a table";
        else if (v->u.table.origin == S_ORIGIN_INLINE)
            why = "is an inline table, which cannot be extended";
        else if (v->u.table.origin == S_ORIGIN_HEADER)
            why = "is a table defined by a [header]; dotted keys cannot "
                  "extend it";
        if (why) {
            s_fail_at(p, part->off, "key '%s' %s",
                      s_key_text(part->s, part->len, kb, sizeof kb), why);
            goto done;
        }
        /* A super-table of an earlier [header] now has content defined
         * by dotted keys, so no [header] may define it any more. */
        if (v->u.table.origin == S_ORIGIN_IMPLICIT)
            v->u.table.origin = S_ORIGIN_DOTTED;
        t = v;
    }
    s_part_t *last = &key.v[key.n - 1];
    if (s_table_find(&t->u.table, last->s, last->len) >= 0) {
        s_fail_at(p, last->off, "duplicate key '%s'",
                  s_key_text(last->s, last->len, kb, sizeof kb));
        goto done;
    }
    tw_toml_t *value = s_parse_value(p, t->depth + 1);
    if (!value)
        goto done;
    if (!s_table_add(p, t, last, value)) {
        s_node_free(value);
        goto done;
    }
    ok = in_inline ? true : s_end_of_line(p, "a value");
done:
    s_key_clear(&key);
    return ok;
}

/* Parses a [table] or [[array of tables]] header at pos and makes its
 * table current. */
static bool s_header(s_parser_t *p)
{
    s_at_t at = s_at(p, p->pos);
    bool aot = s_peek(p, 1) == '[';
    p->pos += aot ? 2 : 1;
    s_key_t key = {0};
    bool ok = false;
    char kb[128];
    s_skip_ws(p);
    if (!s_parse_key(p, &key))
        goto done;
    if (s_peek(p, 0) != ']' || (aot && s_peek(p, 1) != ']')) {
        s_expected(p, aot ? "']]' closing the array of tables header"
                          : "']' closing the table header");
        goto done;
    }
    p->pos += aot ? 2 : 1;
    tw_toml_t *t = p->root;
    for (size_t i = 0; i + 1 < key.n; i++) {
        s_part_t *part = &key.v[i];
        long idx = s_table_find(&t->u.table, part->s, part->len);
        if (idx < 0) {
            t = s_table_new_under(p, t, part, s_part_at(part),
                                  S_ORIGIN_IMPLICIT);
            if (!t)
                goto done;
            continue;
        }
        tw_toml_t *v = t->u.table.v[idx].value;
        if (v->type == TW_TOML_TABLE && v->u.table.origin != S_ORIGIN_INLINE) {
            t = v;
        } else if (v->type == TW_TOML_ARRAY && v->u.array.of_tables &&
                   v->u.array.n > 0) {
            t = v->u.array.v[v->u.array.n - 1];
        } else {
            s_fail_at(p, part->off, "key '%s' %s",
                      s_key_text(part->s, part->len, kb, sizeof kb),
                      v->type == TW_TOML_TABLE
                          ? "is an inline table, which cannot be extended"
                      : v->type == TW_TOML_ARRAY
                          ? "is a static array, which cannot be extended"
                          : "is already defined as a value that is not a "
                            "table");
            goto done;
        }
    }
    s_part_t *last = &key.v[key.n - 1];
    const char *name = s_key_text(last->s, last->len, kb, sizeof kb);
    long idx = s_table_find(&t->u.table, last->s, last->len);
    tw_toml_t *v = idx >= 0 ? t->u.table.v[idx].value : NULL;
    if (aot) {
        if (!v) {
            v = s_node_new(p, TW_TOML_ARRAY, at, t->depth + 1);
            if (!v)
                goto done;
            v->u.array.of_tables = true;
            if (!s_table_add(p, t, last, v)) {
                s_node_free(v);
                goto done;
            }
        } else if (v->type != TW_TOML_ARRAY || !v->u.array.of_tables) {
            s_fail_at(p, last->off, "key '%s' %s", name,
                      v->type == TW_TOML_ARRAY
                          ? "is a static array, which cannot be extended "
                            "by [[...]]"
                          : "is already defined and is not an array of "
                            "tables");
            goto done;
        }
        tw_toml_t *elem = s_node_new(p, TW_TOML_TABLE, at, v->depth + 1);
        if (!elem)
            goto done;
        elem->u.table.origin = S_ORIGIN_HEADER;
        if (!s_array_add(p, v, elem)) {
            s_node_free(elem);
            goto done;
        }
        p->cur = elem;
    } else {
        if (!v) {
            v = s_table_new_under(p, t, last, at, S_ORIGIN_HEADER);
            if (!v)
                goto done;
        } else if (v->type == TW_TOML_TABLE &&
                   v->u.table.origin == S_ORIGIN_IMPLICIT) {
            v->u.table.origin = S_ORIGIN_HEADER;
        } else {
            const char *why =
                v->type != TW_TOML_TABLE ? "is already defined as a value "
                                           "that is not a table"
                : v->u.table.origin == S_ORIGIN_HEADER ? "is defined twice"
                : v->u.table.origin == S_ORIGIN_DOTTED
                    ? "was already defined by dotted keys"
                    : "is an inline table, which cannot be extended";
            s_fail_at(p, last->off, "table '%s' %s", name, why);
            goto done;
        }
        p->cur = v;
    }
    ok = s_end_of_line(p, "a table header");
done:
    s_key_clear(&key);
    return ok;
}

/* Parses the whole document into p->root. */
static bool s_document(s_parser_t *p)
{
    if (p->len >= 3 && memcmp(p->s, "\xEF\xBB\xBF", 3) == 0)
        p->pos = 3;
    for (;;) {
        s_skip_ws(p);
        int c = s_peek(p, 0);
        if (c < 0)
            return true;
        if (c == '#') {
            s_skip_comment(p);
            if (p->pos < p->len && !s_newline(p))
                return s_expected(p, "end of line");
            continue;
        }
        if (s_newline(p))
            continue;
        if (c == '[') {
            if (!s_header(p))
                return false;
            continue;
        }
        if (!s_keyval(p, p->cur, false))
            return false;
    }
}

/* ---------------------------------------------------------------------------
 * Public API */

tw_toml_t *tw_toml_parse(const char *text, size_t len, tw_err_t *err)
{
    assert(text || len == 0);
    tw_err_clear(err);
    s_parser_t p;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)(text ? text : "");
    p.len = len;
    p.err = err;
    p.pc_line = 1;
    p.pc_col = 1;
    if (!s_check_input(&p))
        return NULL;
    s_at_t first = {1, 1};
    p.root = s_node_new(&p, TW_TOML_TABLE, first, 0);
    if (!p.root)
        return NULL;
    p.root->u.table.origin = S_ORIGIN_ROOT;
    p.cur = p.root;
    bool ok = s_document(&p);
    free(p.sbuf.s);
    if (!ok) {
        s_node_free(p.root);
        if (err && !err->msg[0])
            tw_err_set(err, "invalid TOML");
        return NULL;
    }
    return p.root;
}

tw_toml_t *tw_toml_parse_file(const char *path, tw_err_t *err)
{
    assert(path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        tw_err_set(err, "unable to open %s: %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    s_buf_t b = {0};
    char chunk[65536];
    size_t got;
    bool ok = true;
    int e = 0; /* the cause of an I/O failure */
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + got > S_FILE_MAX) {
            tw_err_set(err, "unable to read %s: larger than %d bytes", path,
                       S_FILE_MAX);
            ok = false;
            break;
        }
        char *s = realloc(b.s, b.len + got + 1);
        if (!s) {
            tw_err_set(err, "unable to read %s: out of memory", path);
            e = ENOMEM;
            ok = false;
            break;
        }
        b.s = s;
        memcpy(b.s + b.len, chunk, got);
        b.len += got;
    }
    if (ok && ferror(f)) {
        e = errno ? errno : EIO;
        tw_err_set(err, "unable to read %s: %s", path, strerror(e));
        ok = false;
    }
    fclose(f);
    tw_toml_t *root = NULL;
    if (ok) {
        root = tw_toml_parse(b.s ? b.s : "", b.len, err);
        if (!root && err) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            int line = err->line, col = err->col;
            if (line > 0)
                tw_err_setpos(err, line, col, "%s:%d:%d: %s", path, line, col,
                              msg);
            else
                tw_err_set(err, "%s: %s", path, msg);
        }
    }
    free(b.s);
    errno = root ? errno : e;
    return root;
}

void tw_toml_destroy(tw_toml_t **root_p)
{
    assert(root_p);
    s_node_free(*root_p);
    *root_p = NULL;
}

tw_toml_type_t tw_toml_type(const tw_toml_t *node)
{
    assert(node);
    return node->type;
}

const char *tw_toml_type_name(tw_toml_type_t type)
{
    switch (type) {
    case TW_TOML_TABLE:
        return "table";
    case TW_TOML_ARRAY:
        return "array";
    case TW_TOML_STRING:
        return "string";
    case TW_TOML_INTEGER:
        return "integer";
    case TW_TOML_FLOAT:
        return "float";
    case TW_TOML_BOOL:
        return "bool";
    case TW_TOML_DATETIME:
        return "datetime";
    case TW_TOML_DATETIME_LOCAL:
        return "datetime-local";
    case TW_TOML_DATE_LOCAL:
        return "date-local";
    case TW_TOML_TIME_LOCAL:
        return "time-local";
    }
    return "unknown";
}

void tw_toml_pos(const tw_toml_t *node, int *line, int *col)
{
    assert(node);
    if (line)
        *line = node->line;
    if (col)
        *col = node->col;
}

size_t tw_toml_len(const tw_toml_t *node)
{
    assert(node);
    if (node->type == TW_TOML_TABLE)
        return node->u.table.n;
    if (node->type == TW_TOML_ARRAY)
        return node->u.array.n;
    return 0;
}

const char *tw_toml_key_at(const tw_toml_t *table, size_t i, size_t *key_len)
{
    assert(table);
    if (table->type != TW_TOML_TABLE || i >= table->u.table.n)
        return NULL;
    if (key_len)
        *key_len = table->u.table.v[i].key_len;
    return table->u.table.v[i].key;
}

void tw_toml_key_pos(const tw_toml_t *table, size_t i, int *line, int *col)
{
    assert(table);
    int l = 0, c = 0;
    if (table->type == TW_TOML_TABLE && i < table->u.table.n) {
        l = table->u.table.v[i].line;
        c = table->u.table.v[i].col;
    }
    if (line)
        *line = l;
    if (col)
        *col = c;
}

const tw_toml_t *tw_toml_at(const tw_toml_t *node, size_t i)
{
    assert(node);
    if (node->type == TW_TOML_TABLE)
        return i < node->u.table.n ? node->u.table.v[i].value : NULL;
    if (node->type == TW_TOML_ARRAY)
        return i < node->u.array.n ? node->u.array.v[i] : NULL;
    return NULL;
}

const tw_toml_t *tw_toml_getn(const tw_toml_t *table, const char *key,
                              size_t key_len)
{
    assert(table);
    assert(key || key_len == 0);
    if (table->type != TW_TOML_TABLE)
        return NULL;
    long idx = s_table_find(&table->u.table, key ? key : "", key_len);
    return idx < 0 ? NULL : table->u.table.v[idx].value;
}

const tw_toml_t *tw_toml_get(const tw_toml_t *table, const char *key)
{
    assert(table);
    assert(key);
    return tw_toml_getn(table, key, strlen(key));
}

const char *tw_toml_str(const tw_toml_t *node)
{
    assert(node && node->type == TW_TOML_STRING);
    return node->u.str.s;
}

size_t tw_toml_str_len(const tw_toml_t *node)
{
    assert(node && node->type == TW_TOML_STRING);
    return node->u.str.len;
}

int64_t tw_toml_int(const tw_toml_t *node)
{
    assert(node && node->type == TW_TOML_INTEGER);
    return node->u.i;
}

double tw_toml_float(const tw_toml_t *node)
{
    assert(node && node->type == TW_TOML_FLOAT);
    return node->u.f;
}

bool tw_toml_bool(const tw_toml_t *node)
{
    assert(node && node->type == TW_TOML_BOOL);
    return node->u.b;
}

const tw_toml_datetime_t *tw_toml_datetime(const tw_toml_t *node)
{
    assert(node);
    assert(node->type == TW_TOML_DATETIME ||
           node->type == TW_TOML_DATETIME_LOCAL ||
           node->type == TW_TOML_DATE_LOCAL ||
           node->type == TW_TOML_TIME_LOCAL);
    return &node->u.dt;
}
