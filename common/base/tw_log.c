/* tw_log - one line per event on stderr, with secrets redacted. */
#include "tw_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tw_time.h"

#define MAX_SECRETS 64
/* The first secrets registered (API key, bot token, client secret, refresh
 * token) stay for the life of the process; past them the table is a ring, so
 * the newest of a long run of refreshed access tokens is always masked. */
#define PINNED_SECRETS 8
#define LINE_MAX_BYTES 4096

static char s_prog[64] = "tubewatch";
static tw_log_level_t s_level = TW_LOG_INFO;
static int s_with_time;
static char *s_secrets[MAX_SECRETS];
static size_t s_nsecrets;
static size_t s_next_evict = PINNED_SECRETS; /* ring slot replaced next */

static const char *const s_level_names[] = {"debug", "info", "warning",
                                            "error"};

void tw_log_init(const char *prog)
{
    if (prog) {
        const char *slash = strrchr(prog, '/');
        snprintf(s_prog, sizeof s_prog, "%s", slash ? slash + 1 : prog);
    }
    const char *lvl = getenv("TUBEWATCH_LOG_LEVEL");
    if (lvl) {
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(lvl, s_level_names[i]) == 0 ||
                (i == TW_LOG_WARN && strcasecmp(lvl, "warn") == 0))
                s_level = (tw_log_level_t)i;
        }
    }
    const char *t = getenv("TUBEWATCH_LOG_TIME");
    s_with_time = t && strcmp(t, "1") == 0;
}

void tw_log_set_level(tw_log_level_t level)
{
    s_level = level;
}

void tw_log_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < 4)
        return;
    for (size_t i = 0; i < s_nsecrets; i++) {
        if (strcmp(s_secrets[i], secret) == 0)
            return;
    }
    char *copy = strdup(secret);
    if (!copy)
        return;
    if (s_nsecrets < MAX_SECRETS) {
        s_secrets[s_nsecrets++] = copy;
        return;
    }
    free(s_secrets[s_next_evict]);
    s_secrets[s_next_evict] = copy;
    if (++s_next_evict == MAX_SECRETS)
        s_next_evict = PINNED_SECRETS;
}

void tw_log_clear_secrets(void)
{
    for (size_t i = 0; i < s_nsecrets; i++)
        free(s_secrets[i]);
    s_nsecrets = 0;
    s_next_evict = PINNED_SECRETS;
}

/* Replaces len bytes at p with "***", shifting the tail; the result stays
 * within cap (the tail is cut when it would not fit). Returns the position
 * just after the mask. */
static char *s_mask(char *buf, size_t cap, char *p, size_t len)
{
    size_t start = (size_t)(p - buf);
    size_t used = strlen(buf);
    size_t tail = used - start - len;
    size_t mask = 3;
    if (start + mask > cap - 1)
        mask = cap - 1 - start;
    if (start + mask + tail > cap - 1)
        tail = cap - 1 - start - mask;
    memmove(p + mask, p + len, tail);
    p[mask + tail] = '\0';
    memset(p, '*', mask);
    return p + mask;
}

static int s_value_char(char c)
{
    return c && c != '&' && c != ' ' && c != '"' && c != '\'' && c != '\n' &&
           c != '\t' && c != ',' && c != ';';
}

static void s_mask_params(char *buf, size_t cap)
{
    static const char *const names[] = {
        "key=",           "token=",         "access_token=",
        "refresh_token=", "client_secret=", "assertion=",
        "code=",          "password=",      "upload_id="};
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        size_t nl = strlen(names[n]);
        char *p = buf;
        while ((p = strstr(p, names[n])) != NULL) {
            /* Only a whole parameter name: preceded by ?, &, space or
             * start, so "apikey=" is handled by its own suffix rule. */
            int whole = p == buf || p[-1] == '?' || p[-1] == '&' ||
                        p[-1] == ' ' || p[-1] == '_' || p[-1] == '"';
            char *v = p + nl;
            if (!whole || !s_value_char(*v) || strncmp(v, "***", 3) == 0) {
                p = v;
                continue;
            }
            size_t len = 0;
            while (s_value_char(v[len]))
                len++;
            p = s_mask(buf, cap, v, len);
        }
    }
}

static void s_mask_after(char *buf, size_t cap, const char *marker, char stop)
{
    size_t ml = strlen(marker);
    char *p = buf;
    while ((p = strstr(p, marker)) != NULL) {
        char *v = p + ml;
        size_t len = 0;
        while (v[len] && v[len] != stop && v[len] != ' ' && v[len] != '"' &&
               v[len] != '\n')
            len++;
        if (len == 0 || strncmp(v, "***", 3) == 0) {
            p = v;
            continue;
        }
        p = s_mask(buf, cap, v, len);
    }
}

char *tw_log_redact(char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return buf;
    for (size_t i = 0; i < s_nsecrets; i++) {
        size_t sl = strlen(s_secrets[i]);
        char *p = buf;
        while ((p = strstr(p, s_secrets[i])) != NULL)
            p = s_mask(buf, cap, p, sl);
    }
    s_mask_params(buf, cap);
    s_mask_after(buf, cap, "Bearer ", ' ');
    s_mask_after(buf, cap, "/bot", '/');
    return buf;
}

void tw_log_vwrite(tw_log_level_t level, const char *fmt, va_list ap)
{
    if (level < s_level)
        return;
    char line[LINE_MAX_BYTES];
    size_t off = 0;
    if (s_with_time) {
        int64_t us = tw_time_now_us();
        time_t secs = (time_t)(us / 1000000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        off += strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
        off += (size_t)snprintf(line + off, sizeof line - off, ".%06ldZ ",
                                (long)(us % 1000000));
    }
    int n = snprintf(line + off, sizeof line - off, "%s[%ld]: %s: ", s_prog,
                     (long)getpid(), s_level_names[level]);
    if (n > 0)
        off += (size_t)n;
    if (off < sizeof line)
        vsnprintf(line + off, sizeof line - off, fmt, ap);
    /* One event, one line: embedded newlines would forge log lines, other
     * control characters (ESC...) would drive the reader's terminal. */
    for (char *p = line + off; *p; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
        else if ((*p > 0 && *p < 0x20 && *p != '\t') || *p == 0x7f)
            *p = '?';
    }
    tw_log_redact(line, sizeof line - 1);
    size_t len = strlen(line);
    line[len++] = '\n';
    /* A single write keeps lines from concurrent processes whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void tw_log_write(tw_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tw_log_vwrite(level, fmt, ap);
    va_end(ap);
}

void tw_log_fatal(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tw_log_vwrite(TW_LOG_ERROR, fmt, ap);
    va_end(ap);
    exit(code);
}
