/* tw_json - strict JSON tokenizer building a flat tape with skip links. */
#include "tw_json.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>

#include "tw_time.h"
#endif

enum {
    T_END = 8,      /* closes a container; never returned as a value */
    T_TYPE = 0x0f,  /* type bits of tag */
    F_KEY = 0x10,   /* string is an object key */
    F_ARENA = 0x20, /* off points into the arena (decoded escapes) */
};

/* One tape entry. */
typedef struct {
    uint32_t tag;  /* tw_json_type_t or T_END, plus F_* flags */
    uint32_t off;  /* byte offset of the text (input or arena) */
    uint32_t len;  /* text length, or member count of a container */
    uint32_t next; /* index after this value and its descendants */
} s_tok_t;

struct tw_json {
    const char *buf; /* input of the last parse (borrowed) */
    s_tok_t *tok;    /* tape; tok[0] is an unused sentinel */
    uint32_t ntok;   /* entries in use */
    uint32_t cap;    /* entries allocated */
    char *arena;     /* decoded strings that had escapes */
    size_t alen;     /* arena bytes in use */
    size_t acap;     /* arena bytes allocated */
    bool ok;         /* the last parse succeeded */
};

tw_json_t *tw_json_new(void)
{
    tw_json_t *self = calloc(1, sizeof *self);
    return self;
}

void tw_json_destroy(tw_json_t **self_p)
{
    assert(self_p);
    tw_json_t *self = *self_p;
    if (!self)
        return;
    free(self->tok);
    free(self->arena);
    free(self);
    *self_p = NULL;
}

static tw_rc_t s_fail(tw_err_t *err, const char *buf, const char *at,
                      const char *what)
{
    if (err) {
        size_t off = (size_t)(at - buf);
        int line = 1, col = 1;
        for (const char *c = buf; c < at; c++) {
            if (*c == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        tw_err_setpos(err, line, col, "JSON: %s at byte %zu", what, off);
    }
    return TW_ERR_PARSE;
}

static bool s_grow_tape(tw_json_t *self)
{
    uint32_t ncap = self->cap ? self->cap * 2 : 1024;
    if (ncap < self->cap)
        return false;
    s_tok_t *t = realloc(self->tok, (size_t)ncap * sizeof *t);
    if (!t)
        return false;
    self->tok = t;
    self->cap = ncap;
    return true;
}

static bool s_reserve_arena(tw_json_t *self, size_t more)
{
    if (self->acap - self->alen >= more)
        return true;
    size_t ncap = self->acap ? self->acap : 4096;
    while (ncap - self->alen < more)
        ncap *= 2;
    char *a = realloc(self->arena, ncap);
    if (!a)
        return false;
    self->arena = a;
    self->acap = ncap;
    return true;
}

/* Length of the valid UTF-8 sequence at p (first byte >= 0x80), or 0. */
static size_t s_utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0xc2)
        return 0;
    if (c < 0xe0) {
        n = 2;
    } else if (c < 0xf0) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c < 0xf5) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

static int s_hex(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    return -1;
}

/* Reads 4 hex digits at p; -1 when invalid or short. */
static long s_hex4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = s_hex(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t s_put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Non-zero when any byte of x is '"', '\\', < 0x20 or >= 0x80. */
static inline uint64_t s_special(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"');
    uint64_t b = x ^ (ONES * '\\');
    uint64_t lt = (x - ONES * 0x20) & ~x;
    uint64_t zq = (q - ONES) & ~q;
    uint64_t zb = (b - ONES) & ~b;
    return (lt | zq | zb | x) & HIGHS;
}

/* Decodes the escaped string body s[..] up to the closing quote into the
 * arena; *pp is left after the closing quote. */
static tw_rc_t s_string_escaped(tw_json_t *self, const unsigned char *s,
                                const unsigned char *q,
                                const unsigned char *end,
                                const unsigned char **pp, s_tok_t *t,
                                tw_err_t *err)
{
    const char *buf = self->buf;
    /* Find the closing quote first to bound the decoded size. */
    const unsigned char *c = q;
    while (c < end && *c != '"') {
        if (*c == '\\')
            c++;
        c++;
    }
    if (c >= end)
        return s_fail(err, buf, (const char *)s - 1, "unterminated string");
    if (!s_reserve_arena(self, (size_t)(c - s) + 4))
        return TW_ERR_NOMEM;
    char *o0 = self->arena + self->alen;
    char *o = o0;
    memcpy(o, s, (size_t)(q - s));
    o += q - s;
    const unsigned char *p = q;
    for (;;) {
        unsigned ch = *p;
        if (ch == '"')
            break;
        if (ch == '\\') {
            unsigned e = p[1];
            p += 2;
            switch (e) {
            case '"':
                *o++ = '"';
                break;
            case '\\':
                *o++ = '\\';
                break;
            case '/':
                *o++ = '/';
                break;
            case 'b':
                *o++ = '\b';
                break;
            case 'f':
                *o++ = '\f';
                break;
            case 'n':
                *o++ = '\n';
                break;
            case 'r':
                *o++ = '\r';
                break;
            case 't':
                *o++ = '\t';
                break;
            case 'u': {
                long u = s_hex4(p, end);
                if (u < 0)
                    return s_fail(err, buf, (const char *)p - 2,
                                  "bad \\u escape");
                p += 4;
                unsigned long cp = (unsigned long)u;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    long lo = -1;
                    if (end - p >= 6 && p[0] == '\\' && p[1] == 'u')
                        lo = s_hex4(p + 2, end);
                    if (lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) +
                             ((unsigned long)lo - 0xdc00);
                        p += 6;
                    } else {
                        cp = 0xfffd;
                    }
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    cp = 0xfffd;
                }
                o += s_put_utf8(o, cp);
                break;
            }
            default:
                return s_fail(err, buf, (const char *)p - 2, "bad escape");
            }
            continue;
        }
        if (ch < 0x20)
            return s_fail(err, buf, (const char *)p,
                          "control character in string");
        if (ch >= 0x80) {
            size_t n = s_utf8_len(p, end);
            if (!n)
                return s_fail(err, buf, (const char *)p, "invalid UTF-8");
            memcpy(o, p, n);
            o += n;
            p += n;
            continue;
        }
        *o++ = (char)ch;
        p++;
    }
    t->tag |= F_ARENA;
    t->off = (uint32_t)self->alen;
    t->len = (uint32_t)(o - o0);
    self->alen += (size_t)(o - o0);
    *pp = p + 1;
    return TW_OK;
}

/* Scans the string starting at the quote *pp into t. */
static inline tw_rc_t s_string(tw_json_t *self, const unsigned char **pp,
                               const unsigned char *end, s_tok_t *t,
                               tw_err_t *err)
{
    const unsigned char *s = *pp + 1;
    const unsigned char *q = s;
    for (;;) {
#if defined(__SSE2__)
        /* 16 bytes at a time; a signed compare below 0x20 also catches every
         * byte >= 0x80. */
        while (end - q >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
            __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
            unsigned mask = (unsigned)_mm_movemask_epi8(m);
            if (mask) {
                q += __builtin_ctz(mask);
                goto special;
            }
            q += 16;
        }
#endif
        while (end - q >= 8) {
            uint64_t x;
            memcpy(&x, q, 8);
            if (s_special(x))
                break;
            q += 8;
        }
#if defined(__SSE2__)
    special:
#endif
        if (q >= end)
            return s_fail(err, self->buf, (const char *)s - 1,
                          "unterminated string");
        unsigned c = *q;
        if (c == '"')
            break;
        if (c == '\\')
            return s_string_escaped(self, s, q, end, pp, t, err);
        if (c < 0x20)
            return s_fail(err, self->buf, (const char *)q,
                          "control character in string");
        if (c >= 0x80) {
            size_t n = s_utf8_len(q, end);
            if (!n)
                return s_fail(err, self->buf, (const char *)q, "invalid UTF-8");
            q += n;
        } else {
            q++;
        }
    }
    t->off = (uint32_t)((const char *)s - self->buf);
    t->len = (uint32_t)(q - s);
    *pp = q + 1;
    return TW_OK;
}

static inline bool s_digit(unsigned c)
{
    return c - '0' < 10;
}

/* Scans a number at *pp into t. */
static tw_rc_t s_number(tw_json_t *self, const unsigned char **pp,
                        const unsigned char *end, s_tok_t *t, tw_err_t *err)
{
    const unsigned char *s = *pp, *p = s;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !s_digit(*p))
        return s_fail(err, self->buf, (const char *)p, "bad number");
    if (*p == '0') {
        p++;
    } else {
        while (p < end && s_digit(*p))
            p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !s_digit(*p))
            return s_fail(err, self->buf, (const char *)p, "bad number");
        while (p < end && s_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !s_digit(*p))
            return s_fail(err, self->buf, (const char *)p, "bad number");
        while (p < end && s_digit(*p))
            p++;
    }
    t->off = (uint32_t)((const char *)s - self->buf);
    t->len = (uint32_t)(p - s);
    *pp = p;
    return TW_OK;
}

#define WS(p)                                                                  \
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))   \
    p++

/* Parses one document; with used, only the first of buf (*used = bytes up
 * to the end of its trailing white space), else all of buf. */
static tw_rc_t s_parse(tw_json_t *self, const char *buf, size_t len,
                       size_t *used, tw_err_t *err)
{
    self->ok = false;
    self->ntok = 1;
    self->alen = 0;
    self->buf = buf;
    if (len >= UINT32_MAX - 16) {
        tw_err_set(err, "JSON: document too big (%zu bytes)", len);
        return TW_ERR_TOOBIG;
    }
    if (!self->tok || self->cap < 2) {
        if (!s_grow_tape(self))
            return TW_ERR_NOMEM;
    }
    self->tok[0] = (s_tok_t){0, 0, 0, 1};
    const unsigned char *p = (const unsigned char *)buf;
    const unsigned char *end = p + len;
    uint32_t stack[TW_JSON_MAX_DEPTH];
    uint32_t count[TW_JSON_MAX_DEPTH];
    int depth = 0;
    tw_rc_t rc;
    s_tok_t *t;

    WS(p);
value:
    if (self->ntok >= self->cap - 1 && !s_grow_tape(self))
        return TW_ERR_NOMEM;
    if (p >= end)
        return s_fail(err, buf, (const char *)p, "unexpected end of input");
    t = &self->tok[self->ntok];
    switch (*p) {
    case '{':
    case '[':
        if (depth >= TW_JSON_MAX_DEPTH)
            return s_fail(err, buf, (const char *)p, "nesting too deep");
        t->tag = *p == '{' ? TW_JSON_OBJECT : TW_JSON_ARRAY;
        t->off = (uint32_t)((const char *)p - buf);
        t->len = 0;
        stack[depth] = self->ntok;
        count[depth] = 0;
        depth++;
        self->ntok++;
        p++;
        WS(p);
        if (p < end && (*p == '}' || *p == ']'))
            goto close;
        if (t->tag == TW_JSON_OBJECT)
            goto key;
        goto value;
    case '"':
        t->tag = TW_JSON_STRING;
        t->next = self->ntok + 1;
        rc = s_string(self, &p, end, t, err);
        if (rc != TW_OK)
            return rc;
        self->ntok++;
        goto after;
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0)
            return s_fail(err, buf, (const char *)p, "bad literal");
        *t = (s_tok_t){TW_JSON_TRUE, (uint32_t)((const char *)p - buf), 4,
                       self->ntok + 1};
        p += 4;
        self->ntok++;
        goto after;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0)
            return s_fail(err, buf, (const char *)p, "bad literal");
        *t = (s_tok_t){TW_JSON_FALSE, (uint32_t)((const char *)p - buf), 5,
                       self->ntok + 1};
        p += 5;
        self->ntok++;
        goto after;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0)
            return s_fail(err, buf, (const char *)p, "bad literal");
        *t = (s_tok_t){TW_JSON_NULL, (uint32_t)((const char *)p - buf), 4,
                       self->ntok + 1};
        p += 4;
        self->ntok++;
        goto after;
    default:
        if (*p == '-' || s_digit(*p)) {
            t->tag = TW_JSON_NUMBER;
            t->next = self->ntok + 1;
            rc = s_number(self, &p, end, t, err);
            if (rc != TW_OK)
                return rc;
            self->ntok++;
            goto after;
        }
        return s_fail(err, buf, (const char *)p, "unexpected character");
    }

key:
    if (self->ntok >= self->cap - 1 && !s_grow_tape(self))
        return TW_ERR_NOMEM;
    if (p >= end || *p != '"')
        return s_fail(err, buf, (const char *)p, "expected a string key");
    t = &self->tok[self->ntok];
    t->tag = TW_JSON_STRING | F_KEY;
    t->next = self->ntok + 1;
    rc = s_string(self, &p, end, t, err);
    if (rc != TW_OK)
        return rc;
    self->ntok++;
    WS(p);
    if (p >= end || *p != ':')
        return s_fail(err, buf, (const char *)p, "expected ':'");
    p++;
    WS(p);
    goto value;

after:
    if (depth == 0) {
        WS(p);
        if (used) {
            *used = (size_t)((const char *)p - buf);
            self->ok = true;
            return TW_OK;
        }
        if (p != end)
            return s_fail(err, buf, (const char *)p,
                          "trailing data after the document");
        self->ok = true;
        return TW_OK;
    }
    count[depth - 1]++;
    WS(p);
    if (p >= end)
        return s_fail(err, buf, (const char *)p, "unexpected end of input");
    if (*p == ',') {
        p++;
        WS(p);
        if (self->tok[stack[depth - 1]].tag == TW_JSON_OBJECT)
            goto key;
        goto value;
    }
close : {
    s_tok_t *open = &self->tok[stack[depth - 1]];
    char want = open->tag == TW_JSON_OBJECT ? '}' : ']';
    if (p >= end || *p != want)
        return s_fail(err, buf, (const char *)p,
                      want == '}' ? "expected ',' or '}'"
                                  : "expected ',' or ']'");
    if (self->ntok >= self->cap - 1 && !s_grow_tape(self))
        return TW_ERR_NOMEM;
    open = &self->tok[stack[depth - 1]];
    t = &self->tok[self->ntok];
    *t = (s_tok_t){T_END, (uint32_t)((const char *)p - buf), 0, self->ntok + 1};
    self->ntok++;
    open->next = self->ntok;
    open->len = count[depth - 1];
    depth--;
    p++;
    goto after;
}
}

tw_json_ref_t tw_json_root(const tw_json_t *self)
{
    assert(self);
    return self->ok ? 1 : 0;
}

uint32_t tw_json_ntok(const tw_json_t *self)
{
    assert(self);
    return self->ok ? self->ntok : 0;
}

static inline const s_tok_t *s_tok(const tw_json_t *self, tw_json_ref_t v)
{
    if (v == 0 || !self->ok || v >= self->ntok)
        return NULL;
    return &self->tok[v];
}

tw_json_type_t tw_json_type(const tw_json_t *self, tw_json_ref_t v)
{
    assert(self);
    const s_tok_t *t = s_tok(self, v);
    if (!t || (t->tag & T_TYPE) == T_END)
        return TW_JSON_NONE;
    return (tw_json_type_t)(t->tag & T_TYPE);
}

bool tw_json_is_key(const tw_json_t *self, tw_json_ref_t v)
{
    assert(self);
    const s_tok_t *t = s_tok(self, v);
    return t && (t->tag & F_KEY);
}

const char *tw_json_str(const tw_json_t *self, tw_json_ref_t v, size_t *len)
{
    assert(self);
    const s_tok_t *t = s_tok(self, v);
    unsigned ty = t ? t->tag & T_TYPE : 0;
    if (ty != TW_JSON_STRING && ty != TW_JSON_NUMBER) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = t->len;
    return (t->tag & F_ARENA) ? self->arena + t->off : self->buf + t->off;
}

bool tw_json_str_eq(const tw_json_t *self, tw_json_ref_t v, const char *s)
{
    assert(self);
    assert(s);
    const s_tok_t *t = s_tok(self, v);
    if (!t || (t->tag & T_TYPE) != TW_JSON_STRING)
        return false;
    size_t n = strlen(s);
    if (n != t->len)
        return false;
    const char *p =
        (t->tag & F_ARENA) ? self->arena + t->off : self->buf + t->off;
    return memcmp(p, s, n) == 0;
}

uint32_t tw_json_count(const tw_json_t *self, tw_json_ref_t v)
{
    assert(self);
    const s_tok_t *t = s_tok(self, v);
    if (!t)
        return 0;
    unsigned ty = t->tag & T_TYPE;
    return ty == TW_JSON_ARRAY || ty == TW_JSON_OBJECT ? t->len : 0;
}

tw_json_ref_t tw_json_first(const tw_json_t *self, tw_json_ref_t v)
{
    assert(self);
    const s_tok_t *t = s_tok(self, v);
    if (!t)
        return 0;
    unsigned ty = t->tag & T_TYPE;
    if ((ty != TW_JSON_ARRAY && ty != TW_JSON_OBJECT) || t->len == 0)
        return 0;
    return v + 1;
}

tw_json_ref_t tw_json_next(const tw_json_t *self, tw_json_ref_t v)
{
    assert(self);
    const s_tok_t *t = s_tok(self, v);
    if (!t)
        return 0;
    uint32_t n = t->next;
    if (n >= self->ntok || (self->tok[n].tag & T_TYPE) == T_END)
        return 0;
    return n;
}

tw_json_ref_t tw_json_next_key(const tw_json_t *self, tw_json_ref_t k)
{
    assert(self);
    if (!tw_json_is_key(self, k))
        return 0;
    return tw_json_next(self, k + 1);
}

tw_json_ref_t tw_json_skip(const tw_json_t *self, tw_json_ref_t v)
{
    assert(self);
    const s_tok_t *t = s_tok(self, v);
    return t ? t->next : 0;
}

tw_json_ref_t tw_json_get(const tw_json_t *self, tw_json_ref_t obj,
                          const char *key)
{
    assert(self);
    assert(key);
    if (tw_json_type(self, obj) != TW_JSON_OBJECT)
        return 0;
    size_t n = strlen(key);
    for (tw_json_ref_t k = tw_json_first(self, obj); k;
         k = tw_json_next(self, k + 1)) {
        const s_tok_t *t = &self->tok[k];
        if (t->len == n) {
            const char *p =
                (t->tag & F_ARENA) ? self->arena + t->off : self->buf + t->off;
            if (memcmp(p, key, n) == 0)
                return k + 1;
        }
    }
    return 0;
}

tw_json_ref_t tw_json_path(const tw_json_t *self, tw_json_ref_t v, ...)
{
    assert(self);
    va_list ap;
    va_start(ap, v);
    const char *k;
    while (v && (k = va_arg(ap, const char *)) != NULL)
        v = tw_json_get(self, v, k);
    va_end(ap);
    return v;
}

tw_json_ref_t tw_json_at(const tw_json_t *self, tw_json_ref_t v, uint32_t i)
{
    assert(self);
    if (tw_json_type(self, v) != TW_JSON_ARRAY)
        return 0;
    tw_json_ref_t e = tw_json_first(self, v);
    while (e && i--)
        e = tw_json_next(self, e);
    return e;
}

bool tw_json_parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return false;
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

tw_rc_t tw_json_u64(const tw_json_t *self, tw_json_ref_t v, uint64_t *out)
{
    assert(self);
    assert(out);
    size_t n;
    const char *s = tw_json_str(self, v, &n);
    if (!s || !tw_json_parse_u64(s, n, out))
        return TW_ERR_INVALID;
    return TW_OK;
}

tw_rc_t tw_json_int64(const tw_json_t *self, tw_json_ref_t v, int64_t *out)
{
    assert(self);
    assert(out);
    size_t n;
    const char *s = tw_json_str(self, v, &n);
    if (!s)
        return TW_ERR_INVALID;
    bool neg = n > 0 && s[0] == '-';
    uint64_t u;
    if (!tw_json_parse_u64(s + neg, n - neg, &u))
        return TW_ERR_INVALID;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return TW_ERR_INVALID;
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX)
            return TW_ERR_INVALID;
        *out = (int64_t)u;
    }
    return TW_OK;
}

tw_rc_t tw_json_double(const tw_json_t *self, tw_json_ref_t v, double *out)
{
    assert(self);
    assert(out);
    if (tw_json_type(self, v) != TW_JSON_NUMBER)
        return TW_ERR_INVALID;
    size_t n;
    const char *s = tw_json_str(self, v, &n);
    char small[64];
    char *tmp = n < sizeof small ? small : malloc(n + 1);
    if (!tmp)
        return TW_ERR_NOMEM;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    if (tmp != small)
        free(tmp);
    return TW_OK;
}

bool tw_json_is_true(const tw_json_t *self, tw_json_ref_t v)
{
    assert(self);
    return tw_json_type(self, v) == TW_JSON_TRUE;
}

int64_t tw_json_time_us(const tw_json_t *self, tw_json_ref_t v)
{
    size_t n;
    int64_t us;
    if (tw_json_type(self, v) != TW_JSON_STRING)
        return 0;
    const char *s = tw_json_str(self, v, &n);
    return tw_time_parse_n(s, n, &us, NULL) == TW_OK ? us : 0;
}

static void s_append(char *buf, size_t cap, size_t *pos, const char *s,
                     size_t n)
{
    if (*pos + 1 >= cap)
        return;
    size_t room = cap - 1 - *pos;
    if (n > room)
        n = room;
    memcpy(buf + *pos, s, n);
    *pos += n;
    buf[*pos] = '\0';
}

char *tw_json_path_of(const tw_json_t *self, tw_json_ref_t v, char *buf,
                      size_t cap)
{
    assert(self);
    assert(buf || cap == 0);
    size_t pos = 0;
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    tw_json_ref_t cur = tw_json_root(self);
    if (!cur || v >= self->ntok)
        return buf;
    while (cur != v) {
        tw_json_type_t ty = tw_json_type(self, cur);
        tw_json_ref_t found = 0;
        if (ty == TW_JSON_ARRAY) {
            uint32_t i = 0;
            for (tw_json_ref_t e = tw_json_first(self, cur); e;
                 e = tw_json_next(self, e), i++) {
                if (v >= e && v < self->tok[e].next) {
                    char seg[24];
                    int n = snprintf(seg, sizeof seg, "[%" PRIu32 "]", i);
                    s_append(buf, cap, &pos, seg, (size_t)n);
                    found = e;
                    break;
                }
            }
        } else if (ty == TW_JSON_OBJECT) {
            for (tw_json_ref_t k = tw_json_first(self, cur); k;
                 k = tw_json_next(self, k + 1)) {
                if (v >= k && v < self->tok[k + 1].next) {
                    size_t n;
                    const char *s = tw_json_str(self, k, &n);
                    s_append(buf, cap, &pos, ".", 1);
                    s_append(buf, cap, &pos, s, n);
                    found = v == k ? k : k + 1;
                    break;
                }
            }
        }
        if (!found)
            break;
        cur = found;
    }
    return buf;
}

tw_json_ref_t tw_json_scan_keys(const tw_json_t *self, tw_json_ref_t from,
                                uint64_t lenmask)
{
    assert(self);
    if (!self->ok || from == 0)
        return 0;
    const s_tok_t *t = self->tok;
    for (uint32_t i = from, n = self->ntok; i < n; i++) {
        if ((t[i].tag & F_KEY) && t[i].len < 64 && ((lenmask >> t[i].len) & 1))
            return i;
    }
    return 0;
}

tw_rc_t tw_json_parse(tw_json_t *self, const char *buf, size_t len,
                      tw_err_t *err)
{
    assert(self);
    assert(buf || len == 0);
    return s_parse(self, buf, len, NULL, err);
}

tw_rc_t tw_json_parse_first(tw_json_t *self, const char *buf, size_t len,
                            size_t *used, tw_err_t *err)
{
    assert(self);
    assert(buf || len == 0);
    assert(used);
    *used = 0;
    return s_parse(self, buf, len, used, err);
}
