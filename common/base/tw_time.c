/* tw_time - clocks, RFC 3339 timestamps, durations and local calendar days
 * in named time zones. */
#include "tw_time.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define US_PER_S   INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_S)
/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z */
#define MIN_US (INT64_C(-62167219200) * US_PER_S)
#define MAX_US (INT64_C(253402300800) * US_PER_S - 1)

static int64_t s_clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* The test clock (TW_TEST_CLOCK, tw_time.h): read once per process. */
static struct {
    bool on;          /* TW_TEST_CLOCK is set */
    double virt_us;   /* virtual time at the anchor */
    double speed;     /* virtual seconds per real second */
    double anchor_us; /* real wall time of the anchor */
} s_test;
static pthread_once_t s_test_once = PTHREAD_ONCE_INIT;

static void s_test_init(void)
{
    const char *v = getenv("TW_TEST_CLOCK");
    if (!v || !*v)
        return;
    double virt = 0, speed = 0, anchor = 0;
    int used = 0;
    int n = sscanf(v, "%lf,%lf%n,%lf%n", &virt, &speed, &used, &anchor, &used);
    if (n >= 2 && v[used] != '\0')
        n = 0; /* trailing garbage */
    if (n < 2 || !(speed > 0 && speed <= 1e6) || virt < 0 || anchor < 0) {
        fprintf(stderr,
                "TW_TEST_CLOCK=\"%s\": not VIRT_UNIX,SPEED[,ANCHOR_UNIX]"
                " (a test-only setting)\n",
                v);
        exit(100);
    }
    s_test.virt_us = virt * 1e6;
    s_test.speed = speed;
    s_test.anchor_us =
        n >= 3 ? anchor * 1e6 : (double)s_clock_us(CLOCK_REALTIME);
    s_test.on = true;
}

bool tw_time_test_clock(double *speed)
{
    pthread_once(&s_test_once, s_test_init);
    if (speed)
        *speed = s_test.on ? s_test.speed : 1.0;
    return s_test.on;
}

int64_t tw_time_now_us(void)
{
    int64_t real = s_clock_us(CLOCK_REALTIME);
    if (!tw_time_test_clock(NULL))
        return real;
    return (int64_t)(s_test.virt_us +
                     ((double)real - s_test.anchor_us) * s_test.speed);
}

int64_t tw_time_real_ms(int64_t virtual_ms)
{
    if (virtual_ms <= 0 || !tw_time_test_clock(NULL))
        return virtual_ms;
    double r = ceil((double)virtual_ms / s_test.speed);
    return r >= 9e18 ? INT64_MAX : (int64_t)r;
}

int64_t tw_time_now_ms(void)
{
    return tw_time_now_us() / 1000;
}

int64_t tw_time_mono_us(void)
{
    return s_clock_us(CLOCK_MONOTONIC);
}

int64_t tw_time_mono_ms(void)
{
    return tw_time_mono_us() / 1000;
}

int64_t tw_time_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of tw_time_days_from_civil. */
static void s_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Writes v as exactly width decimal digits at p (v must fit); returns the
 * position after them. */
static char *s_put(char *p, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* Writes "YYYY-MM-DD" (y in 0-9999) at p; returns the position after. */
static char *s_put_date(char *p, int y, int m, int d)
{
    p = s_put(p, y, 4);
    *p++ = '-';
    p = s_put(p, m, 2);
    *p++ = '-';
    return s_put(p, d, 2);
}

static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

char *tw_time_format(int64_t us, char *buf)
{
    assert(buf);
    if (us < MIN_US)
        us = MIN_US;
    if (us > MAX_US)
        us = MAX_US;
    int64_t days = s_floor_div(us, US_PER_DAY);
    int64_t rem = us - days * US_PER_DAY;
    int y, m, d;
    s_civil_from_days(days, &y, &m, &d);
    int64_t secs = rem / US_PER_S;
    char *p = s_put_date(buf, y, m, d);
    *p++ = 'T';
    p = s_put(p, secs / 3600, 2);
    *p++ = ':';
    p = s_put(p, secs / 60 % 60, 2);
    *p++ = ':';
    p = s_put(p, secs % 60, 2);
    *p++ = '.';
    p = s_put(p, rem % US_PER_S, 6);
    *p++ = 'Z';
    *p = '\0';
    return buf;
}

char *tw_time_format_date(int64_t us, char *buf)
{
    assert(buf);
    if (us < MIN_US)
        us = MIN_US;
    if (us > MAX_US)
        us = MAX_US;
    int y, m, d;
    s_civil_from_days(s_floor_div(us, US_PER_DAY), &y, &m, &d);
    *s_put_date(buf, y, m, d) = '\0';
    return buf;
}

static bool s_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly n digits at s[*i] (within len) into *v. */
static bool s_digits(const char *s, size_t len, size_t *i, int n, int *v)
{
    int x = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        x = x * 10 + (s[*i] - '0');
        (*i)++;
    }
    *v = x;
    return true;
}

static bool s_expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

/* Parses "YYYY-MM-DD" at s[*i]; stores days since the epoch. */
static tw_rc_t s_parse_date(const char *s, size_t len, size_t *i, int64_t *days,
                            tw_err_t *err)
{
    int y, m, d;
    if (!s_digits(s, len, i, 4, &y) || !s_expect(s, len, i, '-') ||
        !s_digits(s, len, i, 2, &m) || !s_expect(s, len, i, '-') ||
        !s_digits(s, len, i, 2, &d)) {
        tw_err_set(err, "expected a date YYYY-MM-DD");
        return TW_ERR_PARSE;
    }
    if (m < 1 || m > 12 || d < 1 || d > s_month_days(y, m)) {
        tw_err_set(err, "date %04d-%02d-%02d does not exist", y, m, d);
        return TW_ERR_PARSE;
    }
    *days = tw_time_days_from_civil(y, m, d);
    return TW_OK;
}

tw_rc_t tw_time_parse_n(const char *s, size_t len, int64_t *us, tw_err_t *err)
{
    assert(s || len == 0);
    assert(us);
    size_t i = 0;
    int64_t days;
    tw_rc_t rc = s_parse_date(s, len, &i, &days, err);
    if (rc != TW_OK)
        return rc;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' ')) {
        tw_err_set(err, "expected 'T' after the date");
        return TW_ERR_PARSE;
    }
    i++;
    int hh, mm, ss;
    if (!s_digits(s, len, &i, 2, &hh) || !s_expect(s, len, &i, ':') ||
        !s_digits(s, len, &i, 2, &mm) || !s_expect(s, len, &i, ':') ||
        !s_digits(s, len, &i, 2, &ss)) {
        tw_err_set(err, "expected a time HH:MM:SS");
        return TW_ERR_PARSE;
    }
    if (hh > 23 || mm > 59 || ss > 60) {
        tw_err_set(err, "time %02d:%02d:%02d is out of range", hh, mm, ss);
        return TW_ERR_PARSE;
    }
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        int64_t scale = 100000;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start) {
            tw_err_set(err, "expected digits after the decimal point");
            return TW_ERR_PARSE;
        }
    }
    int64_t offset_s = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        int oh, om;
        if (!s_digits(s, len, &i, 2, &oh) || !s_expect(s, len, &i, ':') ||
            !s_digits(s, len, &i, 2, &om) || oh > 23 || om > 59) {
            tw_err_set(err, "expected a UTC offset +HH:MM or -HH:MM");
            return TW_ERR_PARSE;
        }
        offset_s = sign * (oh * 3600 + om * 60);
    } else {
        tw_err_set(err, "expected 'Z' or a UTC offset after the time");
        return TW_ERR_PARSE;
    }
    if (i != len) {
        tw_err_set(err, "unexpected text after the time zone");
        return TW_ERR_PARSE;
    }
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
    *us = secs * US_PER_S + frac;
    return TW_OK;
}

tw_rc_t tw_time_parse(const char *s, int64_t *us, tw_err_t *err)
{
    assert(s);
    return tw_time_parse_n(s, strlen(s), us, err);
}

tw_rc_t tw_time_parse_date(const char *s, int64_t *us, tw_err_t *err)
{
    assert(s);
    assert(us);
    size_t len = strlen(s);
    size_t i = 0;
    int64_t days;
    tw_rc_t rc = s_parse_date(s, len, &i, &days, err);
    if (rc != TW_OK)
        return rc;
    if (i != len) {
        tw_err_set(err, "unexpected text after the date");
        return TW_ERR_PARSE;
    }
    *us = days * US_PER_DAY;
    return TW_OK;
}

static const struct {
    const char *name; /* unit suffix */
    int64_t ms;       /* milliseconds per unit */
} s_units[] = {
    {"d", INT64_C(86400000)}, {"h", INT64_C(3600000)}, {"m", INT64_C(60000)},
    {"s", INT64_C(1000)},     {"ms", INT64_C(1)},
};
#define NUNITS (sizeof s_units / sizeof s_units[0])

tw_rc_t tw_time_duration_parse(const char *s, int64_t *ms, tw_err_t *err)
{
    assert(s);
    assert(ms);
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return TW_OK;
    }
    if (*s == '\0') {
        tw_err_set(err, "empty duration");
        return TW_ERR_PARSE;
    }
    int64_t total = 0;
    size_t next_unit = 0; /* units must come in decreasing order */
    const char *p = s;
    while (*p) {
        if (*p < '0' || *p > '9') {
            tw_err_set(err,
                       "invalid duration \"%.64s\": expected digits then "
                       "d, h, m, s or ms (like 1h30m)",
                       s);
            return TW_ERR_PARSE;
        }
        int64_t n = 0;
        bool big = false;
        while (*p >= '0' && *p <= '9') {
            if (n > (INT64_MAX - (*p - '0')) / 10)
                big = true;
            else
                n = n * 10 + (*p - '0');
            p++;
        }
        size_t u;
        size_t ul = strspn(p, "dhms");
        for (u = 0; u < NUNITS; u++) {
            if (strlen(s_units[u].name) == ul &&
                strncmp(p, s_units[u].name, ul) == 0)
                break;
        }
        if (ul == 0 || u == NUNITS) {
            tw_err_set(err,
                       "invalid duration \"%.64s\": each number needs a unit "
                       "d, h, m, s or ms",
                       s);
            return TW_ERR_PARSE;
        }
        if (u < next_unit) {
            tw_err_set(err,
                       "invalid duration \"%.64s\": units must be in "
                       "decreasing order, each once",
                       s);
            return TW_ERR_PARSE;
        }
        next_unit = u + 1;
        p += ul;
        if (big || n > (INT64_MAX - total) / s_units[u].ms) {
            tw_err_set(err, "duration \"%.64s\" is too long", s);
            return TW_ERR_TOOBIG;
        }
        total += n * s_units[u].ms;
    }
    *ms = total;
    return TW_OK;
}

char *tw_time_duration_format(int64_t ms, char *buf)
{
    assert(buf);
    size_t off = 0;
    uint64_t v;
    if (ms < 0) {
        buf[off++] = '-';
        v = (uint64_t)(-(ms + 1)) + 1;
    } else {
        v = (uint64_t)ms;
    }
    if (v == 0) {
        snprintf(buf, TW_TIME_DUR_SIZE, "0s");
        return buf;
    }
    for (size_t u = 0; u < NUNITS; u++) {
        uint64_t per = (uint64_t)s_units[u].ms;
        uint64_t n = v / per;
        v %= per;
        if (n == 0)
            continue;
        int w = snprintf(buf + off, TW_TIME_DUR_SIZE - off, "%llu%s",
                         (unsigned long long)n, s_units[u].name);
        if (w < 0 || (size_t)w >= TW_TIME_DUR_SIZE - off)
            break;
        off += (size_t)w;
    }
    buf[off] = '\0';
    return buf;
}

tw_rc_t tw_time_hhmm_parse(const char *s, int *hour, int *minute, tw_err_t *err)
{
    assert(s);
    assert(hour);
    assert(minute);
    size_t len = strlen(s);
    size_t i = 0;
    int h, m;
    if (!s_digits(s, len, &i, 2, &h) || !s_expect(s, len, &i, ':') ||
        !s_digits(s, len, &i, 2, &m) || i != len || h > 23 || m > 59) {
        tw_err_set(err,
                   "invalid time of day \"%.32s\": expected HH:MM "
                   "(00:00-23:59)",
                   s);
        return TW_ERR_PARSE;
    }
    *hour = h;
    *minute = m;
    return TW_OK;
}

/* --- time zones ------------------------------------------------------- */

static bool s_is_utc(const char *zone)
{
    return strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0;
}

tw_rc_t tw_time_zone_check(const char *zone, tw_err_t *err)
{
    assert(zone);
    if (s_is_utc(zone))
        return TW_OK;
    size_t len = strlen(zone);
    bool ok = len > 0 && len < 200 && zone[len - 1] != '/';
    for (size_t i = 0; ok && i < len; i++) {
        char c = zone[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
             (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+' ||
             c == '/';
        /* '.' is not allowed at all, so ".." cannot climb out; an empty
         * part ("//", a leading or trailing '/') is refused too. */
        if (ok && (i == 0 || zone[i - 1] == '/'))
            ok = c != '/';
    }
    if (!ok) {
        tw_err_set(err, "invalid time zone name \"%.64s\"", zone);
        return TW_ERR_INVALID;
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, zone);
    FILE *f = fopen(path, "rb");
    int e = f ? 0 : errno;
    char magic[4] = {0};
    size_t n = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f && n != 4 && ferror(f))
        e = errno ? errno : EIO;
    if (f)
        fclose(f);
    if (e != 0 && e != ENOENT && e != ENOTDIR && e != EISDIR) {
        /* the file may be fine: EMFILE, EIO */
        tw_err_set(err, "unable to read the time zone file %s: %s", path,
                   strerror(e));
        return TW_ERR_IO;
    }
    if (n != 4 || memcmp(magic, "TZif", 4) != 0) {
        tw_err_set(err, "unknown time zone \"%.64s\" (not in %s)", zone, dir);
        return TW_ERR_NOTFOUND;
    }
    return TW_OK;
}

/* The TZ value in effect before s_zone_enter. */
typedef struct {
    char *old; /* copy of the previous TZ, NULL when it was unset */
} s_saved_tz_t;

static tw_rc_t s_zone_enter(const char *zone, s_saved_tz_t *saved,
                            tw_err_t *err)
{
    tw_rc_t rc = tw_time_zone_check(zone, err);
    if (rc != TW_OK)
        return rc;
    const char *old = getenv("TZ");
    saved->old = old ? strdup(old) : NULL;
    if (old && !saved->old)
        return TW_ERR_NOMEM;
    char value[256];
    if (s_is_utc(zone))
        snprintf(value, sizeof value, "UTC0");
    else
        snprintf(value, sizeof value, ":%s", zone);
    if (setenv("TZ", value, 1) != 0) {
        free(saved->old);
        return TW_ERR_NOMEM;
    }
    tzset();
    return TW_OK;
}

static void s_zone_leave(s_saved_tz_t *saved)
{
    if (saved->old)
        setenv("TZ", saved->old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved->old);
    saved->old = NULL;
}

/* The local day computed last: most calls fall into it, and skipping the
 * zone switch (tzset reads the zone file) makes them cheap. */
static struct {
    char zone[128];               /* zone name; "" when nothing is cached */
    int64_t start_us;             /* first instant of the day */
    int64_t end_us;               /* first instant of the next day */
    char date[TW_TIME_DATE_SIZE]; /* the day, "YYYY-MM-DD" */
} s_day;

/* Returns the first instant of local day y-m-d (tm fields) in the zone in
 * effect, or -1. */
static int64_t s_day_start(int year, int mon, int mday)
{
    struct tm tm = {0};
    tm.tm_year = year;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    return t == (time_t)-1 ? -1 : (int64_t)t * US_PER_S;
}

tw_rc_t tw_time_local_date(const char *zone, int64_t us, char *buf,
                           tw_err_t *err)
{
    assert(zone);
    assert(buf);
    if (s_day.zone[0] && strcmp(zone, s_day.zone) == 0 &&
        us >= s_day.start_us && us < s_day.end_us) {
        memcpy(buf, s_day.date, TW_TIME_DATE_SIZE);
        return TW_OK;
    }
    s_saved_tz_t saved;
    tw_rc_t rc = s_zone_enter(zone, &saved, err);
    if (rc != TW_OK)
        return rc;
    time_t t = (time_t)s_floor_div(us, US_PER_S);
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        s_zone_leave(&saved);
        tw_err_set(err, "time out of range");
        return TW_ERR_INVALID;
    }
    int64_t start = s_day_start(tm.tm_year, tm.tm_mon, tm.tm_mday);
    int64_t end = s_day_start(tm.tm_year, tm.tm_mon, tm.tm_mday + 1);
    s_zone_leave(&saved);
    int y = tm.tm_year + 1900;
    *s_put_date(buf, y < 0 ? 0 : y % 10000, tm.tm_mon + 1, tm.tm_mday) = '\0';
    /* Cache only a day whose bounds mktime gave consistently (a midnight
     * repeated by a DST change may not be). */
    s_day.zone[0] = '\0';
    if (start >= 0 && start <= us && us < end &&
        strlen(zone) < sizeof s_day.zone) {
        snprintf(s_day.zone, sizeof s_day.zone, "%s", zone);
        s_day.start_us = start;
        s_day.end_us = end;
        memcpy(s_day.date, buf, TW_TIME_DATE_SIZE);
    }
    return TW_OK;
}

tw_rc_t tw_time_local_offset(const char *zone, int64_t us, int32_t *offset_s,
                             tw_err_t *err)
{
    assert(zone);
    assert(offset_s);
    s_saved_tz_t saved;
    tw_rc_t rc = s_zone_enter(zone, &saved, err);
    if (rc != TW_OK)
        return rc;
    time_t t = (time_t)s_floor_div(us, US_PER_S);
    struct tm tm;
    bool ok = localtime_r(&t, &tm) != NULL;
    s_zone_leave(&saved);
    if (!ok) {
        tw_err_set(err, "time out of range");
        return TW_ERR_INVALID;
    }
    *offset_s = (int32_t)tm.tm_gmtoff;
    return TW_OK;
}

tw_rc_t tw_time_next_local(const char *zone, int64_t us, int hour, int minute,
                           int64_t *next_us, tw_err_t *err)
{
    assert(zone);
    assert(next_us);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59) {
        tw_err_set(err, "invalid time of day %d:%d", hour, minute);
        return TW_ERR_INVALID;
    }
    s_saved_tz_t saved;
    tw_rc_t rc = s_zone_enter(zone, &saved, err);
    if (rc != TW_OK)
        return rc;
    time_t t = (time_t)s_floor_div(us, US_PER_S);
    struct tm today;
    rc = TW_ERR_INVALID;
    if (localtime_r(&t, &today)) {
        /* Today's hour:minute may have passed (or, around a DST change,
         * map before us): try the following days. */
        for (int k = 0; k < 3; k++) {
            struct tm tm = {0};
            tm.tm_year = today.tm_year;
            tm.tm_mon = today.tm_mon;
            tm.tm_mday = today.tm_mday + k;
            tm.tm_hour = hour;
            tm.tm_min = minute;
            tm.tm_isdst = -1;
            time_t cand = mktime(&tm);
            if (cand != (time_t)-1 && (int64_t)cand * US_PER_S > us) {
                *next_us = (int64_t)cand * US_PER_S;
                rc = TW_OK;
                break;
            }
        }
    }
    s_zone_leave(&saved);
    if (rc != TW_OK)
        tw_err_set(err, "time out of range");
    return rc;
}

tw_rc_t tw_time_next_midnight(const char *zone, int64_t us, int64_t *next_us,
                              tw_err_t *err)
{
    return tw_time_next_local(zone, us, 0, 0, next_us, err);
}

tw_rc_t tw_time_pacific_date(int64_t us, char *buf, tw_err_t *err)
{
    return tw_time_local_date(TW_TIME_PACIFIC, us, buf, err);
}

tw_rc_t tw_time_next_pacific_midnight(int64_t us, int64_t *next_us,
                                      tw_err_t *err)
{
    return tw_time_next_midnight(TW_TIME_PACIFIC, us, next_us, err);
}

tw_rc_t tw_time_when_parse(const char *s, int64_t now_us, int64_t *us,
                           tw_err_t *err)
{
    assert(s);
    assert(us);
    if (strcmp(s, "now") == 0) {
        *us = now_us;
        return TW_OK;
    }
    if (s[0] == '+') {
        int64_t ms = 0;
        tw_rc_t rc = tw_time_duration_parse(s + 1, &ms, NULL);
        if (rc != TW_OK || ms > (int64_t)366 * 86400 * 1000) {
            tw_err_set(err,
                       "bad relative time '%.64s' (want e.g. +5m, +90s, "
                       "+1h30m, at most 366 days)",
                       s);
            return TW_ERR_PARSE;
        }
        *us = now_us + ms * 1000;
        return TW_OK;
    }
    tw_rc_t rc = tw_time_parse(s, us, NULL);
    if (rc != TW_OK) {
        tw_err_set(err,
                   "bad time '%.64s' (want RFC 3339 like 2026-11-23T15:00:00Z, "
                   "now, or +5m)",
                   s);
        return TW_ERR_PARSE;
    }
    return TW_OK;
}
