/* sup_time - clocks and the time formats of the supervisor and its CLI. */
#include "sup_time.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tw_time.h"

int64_t sup_time_mono_ms(void)
{
    return tw_time_mono_ms();
}

int64_t sup_time_mono_us(void)
{
    return tw_time_mono_us();
}

int64_t sup_time_real_us(void)
{
    return tw_time_now_us();
}

char *sup_time_format(int64_t unix_us, char *buf, size_t cap)
{
    assert(buf);
    time_t secs = (time_t)(unix_us / 1000000);
    long usec = (long)(unix_us % 1000000);
    if (usec < 0) {
        usec += 1000000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, usec);
    return buf;
}

/* Reads exactly n digits at *p; -1 if not digits. */
static int s_digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static tw_rc_t s_parse_relative(const char *p, int64_t now_us, int64_t *out_us,
                                tw_err_t *err)
{
    int64_t total_ms = 0;
    if (!*p)
        goto bad;
    while (*p) {
        int64_t v = 0;
        int nd = 0;
        while (*p >= '0' && *p <= '9') {
            if (v > 1000000000)
                goto bad;
            v = v * 10 + (*p++ - '0');
            nd++;
        }
        if (nd == 0)
            goto bad;
        int64_t unit;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 1;
            p += 2;
        } else if (*p == 's') {
            unit = 1000;
            p++;
        } else if (*p == 'm') {
            unit = 60 * 1000;
            p++;
        } else if (*p == 'h') {
            unit = 3600 * 1000;
            p++;
        } else if (*p == 'd') {
            unit = 86400 * 1000;
            p++;
        } else {
            goto bad;
        }
        total_ms += v * unit;
        if (total_ms > (int64_t)366 * 86400 * 1000)
            goto bad;
    }
    *out_us = now_us + total_ms * 1000;
    return TW_OK;
bad:
    tw_err_set(err, "bad relative time (want e.g. +5m, +90s, +1h30m)");
    return TW_ERR_INVALID;
}

tw_rc_t sup_time_parse(const char *text, int64_t now_us, int64_t *out_us,
                       tw_err_t *err)
{
    assert(text);
    assert(out_us);
    if (strcmp(text, "now") == 0) {
        *out_us = now_us;
        return TW_OK;
    }
    if (text[0] == '+')
        return s_parse_relative(text + 1, now_us, out_us, err);
    const char *p = text;
    int y = s_digits(&p, 4);
    if (y < 0 || *p++ != '-')
        goto bad;
    int mo = s_digits(&p, 2);
    if (mo < 1 || mo > 12 || *p++ != '-')
        goto bad;
    int d = s_digits(&p, 2);
    if (d < 1 || d > 31 || (*p != 'T' && *p != 't' && *p != ' '))
        goto bad;
    p++;
    int h = s_digits(&p, 2);
    if (h < 0 || h > 23 || *p++ != ':')
        goto bad;
    int mi = s_digits(&p, 2);
    if (mi < 0 || mi > 59 || *p++ != ':')
        goto bad;
    int s = s_digits(&p, 2);
    if (s < 0 || s > 60)
        goto bad;
    int64_t frac_us = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        int64_t scale = 100000;
        while (*p >= '0' && *p <= '9') {
            if (nd < 6)
                frac_us += (*p - '0') * scale;
            scale /= 10;
            nd++;
            p++;
        }
        if (nd == 0 || nd > 9)
            goto bad;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int oh = s_digits(&p, 2);
        if (oh < 0 || oh > 23 || *p++ != ':')
            goto bad;
        int om = s_digits(&p, 2);
        if (om < 0 || om > 59)
            goto bad;
        offset_s = sign * (oh * 3600 + om * 60);
    } else {
        goto bad;
    }
    if (*p)
        goto bad;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        goto bad;
    int64_t secs = tw_time_days_from_civil(y, mo, d) * 86400 + h * 3600 +
                   mi * 60 + s - offset_s;
    *out_us = secs * 1000000 + frac_us;
    return TW_OK;
bad:
    tw_err_set(err,
               "bad time '%.64s' (want RFC 3339 like 2026-11-23T15:00:00Z, "
               "or +5m)",
               text);
    return TW_ERR_INVALID;
}
