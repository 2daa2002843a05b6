/* ytsim_util - buffers, escaping, base64, PRNG and time helpers. */
#include "ytsim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ytsim_buf_reserve(ytsim_buf_t *b, size_t n)
{
    if (b->len + n + 1 <= b->cap) {
        return;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        abort();
    }
    b->p = p;
    b->cap = cap;
}

void ytsim_buf_put(ytsim_buf_t *b, const char *s, size_t n)
{
    ytsim_buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void ytsim_buf_puts(ytsim_buf_t *b, const char *s)
{
    ytsim_buf_put(b, s, strlen(s));
}

void ytsim_buf_printf(ytsim_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n < sizeof tmp) {
        ytsim_buf_put(b, tmp, (size_t)n);
        return;
    }
    ytsim_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ytsim_buf_u64(ytsim_buf_t *b, uint64_t v)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    ytsim_buf_put(b, tmp + i, (size_t)(24 - i));
}

void ytsim_buf_i64(ytsim_buf_t *b, int64_t v)
{
    if (v < 0) {
        YB(b, "-");
        ytsim_buf_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        ytsim_buf_u64(b, (uint64_t)v);
    }
}

void ytsim_buf_jesc(ytsim_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        ytsim_buf_put(b, run, (size_t)(s - run));
        run = s + 1;
        switch (c) {
        case '"':
            YB(b, "\\\"");
            break;
        case '\\':
            YB(b, "\\\\");
            break;
        case '\n':
            YB(b, "\\n");
            break;
        case '\r':
            YB(b, "\\r");
            break;
        case '\t':
            YB(b, "\\t");
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ytsim_buf_put(b, u, 6);
        }
        }
    }
    ytsim_buf_put(b, run, (size_t)(s - run));
}

void ytsim_buf_jstr(ytsim_buf_t *b, const char *s)
{
    YB(b, "\"");
    ytsim_buf_jesc(b, s);
    YB(b, "\"");
}

void ytsim_buf_xesc(ytsim_buf_t *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            YB(b, "&amp;");
            break;
        case '<':
            YB(b, "&lt;");
            break;
        case '>':
            YB(b, "&gt;");
            break;
        case '"':
            YB(b, "&quot;");
            break;
        case '\'':
            YB(b, "&#39;");
            break;
        default:
            ytsim_buf_put(b, s, 1);
        }
    }
}

void ytsim_buf_tsv(ytsim_buf_t *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\t':
            YB(b, "\\t");
            break;
        case '\n':
            YB(b, "\\n");
            break;
        case '\r':
            YB(b, "\\r");
            break;
        case '\\':
            YB(b, "\\\\");
            break;
        default:
            ytsim_buf_put(b, s, 1);
        }
    }
}

void ytsim_buf_b64(ytsim_buf_t *b, const void *d, size_t n, bool url, bool pad)
{
    const char *al =
        url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
              "/";
    const unsigned char *p = d;
    ytsim_buf_reserve(b, (n + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char o[4] = {al[v >> 18], al[v >> 12 & 63], al[v >> 6 & 63],
                     al[v & 63]};
        ytsim_buf_put(b, o, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        char o[4] = {al[v >> 18], al[v >> 12 & 63], '=', '='};
        ytsim_buf_put(b, o, pad ? 4 : 2);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        char o[4] = {al[v >> 18], al[v >> 12 & 63], al[v >> 6 & 63], '='};
        ytsim_buf_put(b, o, pad ? 4 : 3);
    }
}

void ytsim_buf_free(ytsim_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int s_b64val(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+' || c == '-') {
        return 62;
    }
    if (c == '/' || c == '_') {
        return 63;
    }
    return -1;
}

long ytsim_b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            break;
        }
        int v = s_b64val((unsigned char)s[i]);
        if (v < 0) {
            return -1;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) {
                return -1;
            }
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    return (long)o;
}

uint64_t ytsim_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t ytsim_hash3(uint64_t a, uint64_t b, uint64_t c)
{
    return ytsim_mix(ytsim_mix(ytsim_mix(a) ^ b) ^ c);
}

uint64_t ytsim_strhash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    }
    return ytsim_mix(h);
}

uint64_t ytsim_rng_next(ytsim_rng_t *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    uint64_t x = r->s;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint32_t ytsim_rng_below(ytsim_rng_t *r, uint32_t n)
{
    return n ? (uint32_t)((ytsim_rng_next(r) >> 32) * n >> 32) : 0;
}

double ytsim_unit(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

double ytsim_rng_unit(ytsim_rng_t *r)
{
    return ytsim_unit(ytsim_rng_next(r));
}

void ytsim_rng_id(ytsim_rng_t *r, char *out, size_t n)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t v = 0;
    int left = 0;
    for (size_t i = 0; i < n; i++) {
        if (left < 6) {
            v = ytsim_rng_next(r);
            left = 64;
        }
        out[i] = al[v & 63];
        v >>= 6;
        left -= 6;
    }
    out[n] = '\0';
}

void ytsim_fmt_time(char *out, size_t cap, int64_t usec, int frac, bool offset)
{
    time_t sec =
        (time_t)(usec >= 0 ? usec / 1000000 : -((-usec + 999999) / 1000000));
    int64_t us = usec - (int64_t)sec * 1000000;
    struct tm tm;
    gmtime_r(&sec, &tm);
    char fr[16] = "";
    if (frac == 3) {
        snprintf(fr, sizeof fr, ".%03d", (int)(us / 1000));
    } else if (frac == 6) {
        snprintf(fr, sizeof fr, ".%06d", (int)us);
    }
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fr,
             offset ? "+00:00" : "Z");
}

static const char *s_wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *s_mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void ytsim_fmt_http_date(char *out, size_t cap, int64_t usec)
{
    time_t sec = (time_t)(usec / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", s_wd[tm.tm_wday],
             tm.tm_mday, s_mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
}

int64_t ytsim_parse_http_date(const char *s)
{
    char wd[4], mon[4];
    int d, y, h, mi, se;
    if (sscanf(s, "%3s, %d %3s %d %d:%d:%d", wd, &d, mon, &y, &h, &mi, &se) !=
        7) {
        return -1;
    }
    int m = -1;
    for (int i = 0; i < 12; i++) {
        if (strcmp(mon, s_mon[i]) == 0) {
            m = i;
        }
    }
    if (m < 0) {
        return -1;
    }
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (int64_t)timegm(&tm);
}

double ytsim_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
