/* tw_cfg - loads and validates supervisor.toml into a typed struct.
 *
 * Every setting is declared once in a field table below (section, key, type,
 * default, bounds); the loader walks the TOML tree against those tables, so
 * unknown keys, wrong types and ranges are found in one place. */
#include "tw_cfg.h"
#include "tw_shard.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_log.h"
#include "tw_file.h"
#include "tw_time.h"
#include "tw_toml.h"

#ifndef TW_LIBEXECDIR
#define TW_LIBEXECDIR "/usr/local/libexec/tubewatch"
#endif

#define MAX_SECRET_BYTES 4096

typedef enum {
    F_STR,     /* string */
    F_PATH,    /* string, resolved against the config's directory */
    F_SECRET,  /* string inline, or KEY_file naming a 0600 file */
    F_URL,     /* http(s) base URL, trailing slash removed */
    F_BOOL,    /* boolean */
    F_U32,     /* non-negative integer within bounds */
    F_U64,     /* non-negative integer within bounds */
    F_DUR,     /* duration string: "90s", "5m", "1h30m", "250ms" */
    F_SIZE,    /* integer bytes or "10MiB" */
    F_STRV,    /* array of strings */
    F_RESTART, /* permanent | transient | temporary */
    F_SIGNAL,  /* "TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "KILL" */
    F_CHOICE,  /* one of choices */
    F_HHMM,    /* "HH:MM" */
} s_ftype_t;

typedef struct {
    const char *key;            /* TOML key */
    s_ftype_t type;             /* how to read it */
    size_t off;                 /* offset in the target struct */
    const char *def;            /* default, parsed like a value; NULL none */
    uint64_t min;               /* bounds for numbers and durations (ms) */
    uint64_t max;               /* 0 = no upper bound */
    const char *const *choices; /* F_CHOICE / F_STRV allowed values */
} s_field_t;

#define END                                                                    \
    {                                                                          \
        NULL, F_STR, 0, NULL, 0, 0, NULL                                       \
    }

static const char *const s_url_modes[] = {"keep", "drop", NULL};
static const char *const s_metrics[] = {"views",    "likes",   "favorites",
                                        "comments", "viewers", NULL};
static const char *const s_events[] = {"scheduled", "live",  "ended",
                                       "failed",    "quota", "upload",
                                       "cancelled", "drift", NULL};
static const char *const s_formats[] = {"tsv", "jsonl", NULL};
static const char *const s_kinds[] = {"scanner",   "chat",   "stats",
                                      "tokenizer", "writer", "uploader",
                                      "notifier",  "kafka",  NULL};
static const char *const s_kafka_formats[] = {"avro", "json", NULL};
static const char *const s_kafka_protocols[] = {
    "plaintext", "ssl", "sasl_plaintext", "sasl_ssl", NULL};
static const char *const s_kafka_mechanisms[] = {"PLAIN", "SCRAM-SHA-256",
                                                 "SCRAM-SHA-512", NULL};

#define SUP(f) offsetof(tw_cfg_supervisor_t, f)
static const s_field_t s_supervisor_fields[] = {
    {"runtime_dir", F_PATH, SUP(runtime_dir), "/run/tubewatch", 0, 0, NULL},
    {"state_dir", F_PATH, SUP(state_dir), "/var/lib/tubewatch/state", 0, 0,
     NULL},
    {"data_dir", F_PATH, SUP(data_dir), "/var/lib/tubewatch/data", 0, 0, NULL},
    {"log_dir", F_PATH, SUP(log_dir), "/var/log/tubewatch", 0, 0, NULL},
    {"libexec_dir", F_PATH, SUP(libexec_dir), "", 0, 0, NULL},
    {"timezone", F_STR, SUP(timezone), "UTC", 0, 0, NULL},
    {"log_max_size", F_SIZE, SUP(log_max_size), "10MiB", 4096, 0, NULL},
    {"log_keep", F_U32, SUP(log_keep), "5", 0, 1000, NULL},
    {"status_interval", F_DUR, SUP(status_interval_ms), "5s", 100, 3600000,
     NULL},
    {"metrics_listen", F_STR, SUP(metrics_listen), "", 0, 0, NULL},
    END};

#define YT(f) offsetof(tw_cfg_youtube_t, f)
static const s_field_t s_youtube_fields[] = {
    {"api_key", F_SECRET, YT(api_key), "", 0, 0, NULL},
    {"web_base_url", F_URL, YT(web_base_url), "https://www.youtube.com", 0, 0,
     NULL},
    {"api_base_url", F_URL, YT(api_base_url),
     "https://www.googleapis.com/youtube/v3", 0, 0, NULL},
    {"quota_per_day", F_U64, YT(quota_per_day), "10000", 0, 0, NULL},
    {"use_search", F_BOOL, YT(use_search), "false", 0, 0, NULL},
    {"http_timeout", F_DUR, YT(http_timeout_ms), "30s", 100, 600000, NULL},
    {"user_agent", F_STR, YT(user_agent), "", 0, 0, NULL},
    {"drift_threshold", F_U32, YT(drift_threshold), "5", 1, 1000, NULL},
    {"drift_window", F_DUR, YT(drift_window_ms), "15m", 1000, 604800000, NULL},
    END};

#define TG(f) offsetof(tw_cfg_telegram_t, f)
static const s_field_t s_telegram_fields[] = {
    {"bot_token", F_SECRET, TG(bot_token), "", 0, 0, NULL},
    {"base_url", F_URL, TG(base_url), "https://api.telegram.org", 0, 0, NULL},
    {"chat_ids", F_STRV, TG(chat_ids), NULL, 0, 0, NULL},
    END};

#define DR(f) offsetof(tw_cfg_drive_t, f)
static const s_field_t s_drive_fields[] = {
    {"enabled", F_BOOL, DR(enabled), "false", 0, 0, NULL},
    {"client_secrets_file", F_PATH, DR(client_secrets_file), "", 0, 0, NULL},
    {"token_file", F_PATH, DR(token_file), "", 0, 0, NULL},
    {"service_account_file", F_PATH, DR(service_account_file), "", 0, 0, NULL},
    {"folder_id", F_STR, DR(folder_id), "", 0, 0, NULL},
    {"folder_name", F_STR, DR(folder_name), "", 0, 0, NULL},
    {"oauth_base_url", F_URL, DR(oauth_base_url),
     "https://oauth2.googleapis.com", 0, 0, NULL},
    {"api_base_url", F_URL, DR(api_base_url), "https://www.googleapis.com", 0,
     0, NULL},
    {"chunk_size", F_SIZE, DR(chunk_size), "8MiB", 262144, 0, NULL},
    END};

#define WK(f) offsetof(tw_cfg_worker_t, f)
/* Keys every [worker.NAME] (and [defaults]) may set. */
static const s_field_t s_worker_fields[] = {
    {"enabled", F_BOOL, WK(enabled), "true", 0, 0, NULL},
    {"after", F_STRV, WK(after), NULL, 0, 0, NULL},
    {"restart", F_RESTART, WK(restart), "permanent", 0, 0, NULL},
    {"min_uptime", F_DUR, WK(min_uptime_ms), "1s", 0, 0, NULL},
    {"restart_delay", F_DUR, WK(restart_delay_ms), "100ms", 1, 0, NULL},
    {"restart_delay_max", F_DUR, WK(restart_delay_max_ms), "30s", 1, 0, NULL},
    {"max_restarts", F_U32, WK(max_restarts), "10", 1, 100000, NULL},
    {"restart_window", F_DUR, WK(restart_window_ms), "60s", 1, 0, NULL},
    {"failed_retry", F_DUR, WK(failed_retry_ms), "10m", 1000, 0, NULL},
    {"stop_signal", F_SIGNAL, WK(stop_signal), "TERM", 0, 0, NULL},
    {"stop_timeout", F_DUR, WK(stop_timeout_ms), "10s", 0, 3600000, NULL},
    {"ready_timeout", F_DUR, WK(ready_timeout_ms), "5s", 0, 3600000, NULL},
    {"watchdog_timeout", F_DUR, WK(watchdog_timeout_ms), "0s", 0, 0, NULL},
    {"memory_limit", F_SIZE, WK(memory_limit), "0", 0, 0, NULL},
    {"open_files", F_U64, WK(open_files), "0", 0, 1048576, NULL},
    {"env", F_STRV, WK(env), NULL, 0, 0, NULL},
    {"max_instances", F_U32, WK(max_instances), "100", 1, 10000, NULL},
    END};

#define SC(f) offsetof(tw_cfg_scanner_t, f)
static const s_field_t s_scanner_fields[] = {
    {"channels_file", F_PATH, SC(channels_file), "channels.txt", 0, 0, NULL},
    {"scan_interval", F_DUR, SC(scan_interval_ms), "5m", 1000, 0, NULL},
    {"lead_time", F_DUR, SC(lead_time_ms), "5m", 0, 0, NULL},
    {"channels_max", F_U32, SC(channels_max), "100000", 1, 1000000, NULL},
    {"shard", F_STR, SC(shard), "", 0, 0, NULL},
    END};

#define CH(f) offsetof(tw_cfg_chat_t, f)
static const s_field_t s_chat_fields[] = {
    {"poll_min", F_DUR, CH(poll_min_ms), "1s", 10, 0, NULL},
    {"poll_max", F_DUR, CH(poll_max_ms), "10s", 10, 0, NULL},
    {"reconcile_replay", F_BOOL, CH(reconcile_replay), "true", 0, 0, NULL},
    {"use_api", F_BOOL, CH(use_api), "false", 0, 0, NULL},
    END};

#define ST(f) offsetof(tw_cfg_stats_t, f)
static const s_field_t s_stats_fields[] = {
    {"viewers_interval", F_DUR, ST(viewers_interval_ms), "60s", 1000, 0, NULL},
    {"stats_interval", F_DUR, ST(stats_interval_ms), "10m", 1000, 0, NULL},
    {"watch_uploads", F_BOOL, ST(watch_uploads), "true", 0, 0, NULL},
    {"videos", F_STRV, ST(videos), NULL, 0, 0, NULL},
    {"uploads_max_age", F_DUR, ST(uploads_max_age_ms), "30d", 0, 0, NULL},
    {"uploads_max", F_U32, ST(uploads_max), "50", 0, 1000000, NULL},
    END};

#define TK(f) offsetof(tw_cfg_tokenizer_t, f)
static const s_field_t s_tokenizer_fields[] = {
    {"languages", F_STRV, TK(languages), "en", 0, 0, NULL},
    {"stopwords_dir", F_PATH, TK(stopwords_dir), "", 0, 0, NULL},
    {"stopword_files", F_STRV, TK(stopword_files), NULL, 0, 0, NULL},
    {"urls", F_CHOICE, TK(urls), "keep", 0, 0, s_url_modes},
    {"mentions", F_CHOICE, TK(mentions), "keep", 0, 0, s_url_modes},
    {"stem", F_STR, TK(stem), "", 0, 0, NULL},
    END};

#define WR(f) offsetof(tw_cfg_writer_t, f)
static const s_field_t s_writer_fields[] = {
    {"fsync_interval", F_DUR, WR(fsync_interval_ms), "0s", 0, 60000, NULL},
    {"formats", F_STRV, WR(formats), "tsv", 0, 0, s_formats},
    END};

#define UP(f) offsetof(tw_cfg_uploader_t, f)
static const s_field_t s_uploader_fields[] = {
    {"archive_at", F_HHMM, UP(archive_at), "02:00", 0, 0, NULL},
    {"keep_days", F_U32, UP(keep_days), "0", 0, 100000, NULL},
    END};

#define NR(f) offsetof(tw_cfg_notifier_t, f)
static const s_field_t s_notifier_fields[] = {
    {"outbox_max", F_U32, NR(outbox_max), "10000", 1, 1000000, NULL}, END};

#define NO(f) offsetof(tw_cfg_notify_t, f)
static const s_field_t s_notify_fields[] = {{"events", F_STRV, NO(events),
                                             "live,ended,failed,quota,drift", 0,
                                             0, s_events},
                                            END};

#define RU(f) offsetof(tw_cfg_rule_t, f)
static const s_field_t s_rule_fields[] = {
    {"metrics", F_STRV, RU(metrics), "likes", 0, 0, s_metrics},
    {"min_delta", F_U64, RU(min_delta), "1", 0, 0, NULL},
    {"milestone", F_U64, RU(milestone), "0", 0, 0, NULL},
    {"cooldown", F_DUR, RU(cooldown_ms), "0s", 0, 0, NULL},
    {"chat_ids", F_STRV, RU(chat_ids), NULL, 0, 0, NULL},
    {"template", F_STR, RU(template_text),
     "Video: {title} | {Metric} changed: {prev} -> {curr}", 0, 0, NULL},
    END};

#define KF(f) offsetof(tw_cfg_kafka_t, f)
static const s_field_t s_kafka_fields[] = {
    {"enabled", F_BOOL, KF(enabled), "false", 0, 0, NULL},
    {"brokers", F_STR, KF(brokers), "localhost:9092", 0, 0, NULL},
    {"client_id", F_STR, KF(client_id), "tubewatch", 0, 0, NULL},
    {"format", F_CHOICE, KF(format), "avro", 0, 0, s_kafka_formats},
    {"schema_registry_url", F_URL, KF(schema_registry_url),
     "http://localhost:8081", 0, 0, NULL},
    {"schema_registry_user", F_STR, KF(schema_registry_user), "", 0, 0, NULL},
    {"schema_registry_password", F_SECRET, KF(schema_registry_password), "", 0,
     0, NULL},
    {"topic_videos", F_STR, KF(topic_videos), "yt_videos", 0, 0, NULL},
    {"topic_chat", F_STR, KF(topic_chat), "yt_chat", 0, 0, NULL},
    {"topic_viewers", F_STR, KF(topic_viewers), "yt_viewers", 0, 0, NULL},
    {"topic_events", F_STR, KF(topic_events), "yt_stream_events", 0, 0, NULL},
    {"security_protocol", F_CHOICE, KF(security_protocol), "plaintext", 0, 0,
     s_kafka_protocols},
    {"sasl_mechanism", F_CHOICE, KF(sasl_mechanism), "PLAIN", 0, 0,
     s_kafka_mechanisms},
    {"sasl_username", F_STR, KF(sasl_username), "", 0, 0, NULL},
    {"sasl_password", F_SECRET, KF(sasl_password), "", 0, 0, NULL},
    {"ssl_ca_file", F_PATH, KF(ssl_ca_file), "", 0, 0, NULL},
    {"queue_max_messages", F_U32, KF(queue_max_messages), "100000", 100,
     10000000, NULL},
    END};

/* Kind-specific tables, found by the worker's kind. */
typedef struct {
    const char *kind;        /* built-in kind */
    const s_field_t *fields; /* its extra keys */
    size_t off;              /* where its struct sits in tw_cfg_t */
} s_kind_t;

static const s_kind_t s_kind_tables[] = {
    {"scanner", s_scanner_fields, offsetof(tw_cfg_t, scanner)},
    {"chat", s_chat_fields, offsetof(tw_cfg_t, chat)},
    {"stats", s_stats_fields, offsetof(tw_cfg_t, stats)},
    {"tokenizer", s_tokenizer_fields, offsetof(tw_cfg_t, tokenizer)},
    {"writer", s_writer_fields, offsetof(tw_cfg_t, writer)},
    {"uploader", s_uploader_fields, offsetof(tw_cfg_t, uploader)},
    {"notifier", s_notifier_fields, offsetof(tw_cfg_t, notifier)},
    {"kafka", NULL, 0},
};

/* The loading context: problems found and where relative paths start. */
typedef struct {
    tw_cfg_problem_t *problems; /* found so far */
    size_t nproblems;           /* how many */
    size_t cap;                 /* allocated */
    char *dir;                  /* directory of the config file */
} s_ctx_t;

static void s_problem(s_ctx_t *ctx, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_problem(s_ctx_t *ctx, int line, int col, const char *fmt, ...)
{
    if (ctx->nproblems == ctx->cap) {
        size_t ncap = ctx->cap ? ctx->cap * 2 : 8;
        tw_cfg_problem_t *np =
            realloc(ctx->problems, ncap * sizeof *ctx->problems);
        if (!np)
            return;
        ctx->problems = np;
        ctx->cap = ncap;
    }
    tw_cfg_problem_t *p = &ctx->problems[ctx->nproblems++];
    p->line = line;
    p->col = col;
    p->temporary = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
}

/* A failure to open or read a file that may pass by itself: not a missing
 * or forbidden file, which the operator has to fix. */
static bool s_passing(int e)
{
    return e != 0 && e != ENOENT && e != EACCES && e != EPERM && e != EISDIR &&
           e != ENOTDIR && e != ELOOP && e != ENAMETOOLONG;
}

/* Marks the last problem temporary when errno e may pass. */
static void s_mark_passing(s_ctx_t *ctx, int e)
{
    if (ctx->nproblems > 0 && s_passing(e))
        ctx->problems[ctx->nproblems - 1].temporary = true;
}

bool tw_cfg_problems_temporary(const tw_cfg_problem_t *problems, size_t n)
{
    assert(problems || n == 0);
    for (size_t i = 0; i < n; i++)
        if (problems[i].temporary)
            return true;
    return false;
}

static char *s_strdup(const char *s)
{
    char *copy = strdup(s ? s : "");
    if (!copy)
        abort(); /* STYLE: allocation failure is fatal; we get restarted */
    return copy;
}

static void s_strv_free(tw_cfg_strv_t *sv)
{
    for (size_t i = 0; i < sv->len; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->len = 0;
}

static void s_strv_push(tw_cfg_strv_t *sv, const char *s)
{
    char **nv = realloc(sv->v, (sv->len + 1) * sizeof *nv);
    if (!nv)
        abort();
    sv->v = nv;
    sv->v[sv->len++] = s_strdup(s);
}

tw_rc_t tw_cfg_parse_duration(const char *text, uint64_t *ms)
{
    assert(text);
    assert(ms);
    int64_t v;
    if (tw_time_duration_parse(text, &v, NULL) != TW_OK || v < 0)
        return TW_ERR_INVALID;
    *ms = (uint64_t)v;
    return TW_OK;
}

tw_rc_t tw_cfg_parse_size(const char *text, uint64_t *bytes)
{
    assert(text);
    assert(bytes);
    const char *p = text;
    if (!isdigit((unsigned char)*p))
        return TW_ERR_INVALID;
    uint64_t n = 0;
    while (isdigit((unsigned char)*p)) {
        if (n > (UINT64_MAX - 9) / 10)
            return TW_ERR_INVALID;
        n = n * 10 + (uint64_t)(*p - '0');
        p++;
    }
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"kB", 1000},
                 {"KiB", 1024},
                 {"MB", 1000000},
                 {"MiB", 1048576},
                 {"GB", 1000000000},
                 {"GiB", 1073741824}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].suffix) == 0) {
            if (n > UINT64_MAX / units[i].mult)
                return TW_ERR_INVALID;
            *bytes = n * units[i].mult;
            return TW_OK;
        }
    }
    return TW_ERR_INVALID;
}

static int s_signal_of(const char *name)
{
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {{"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},
                {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
                {"KILL", SIGKILL}};
    if (strncmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        if (strcmp(name, sigs[i].name) == 0)
            return sigs[i].sig;
    }
    return 0;
}

static bool s_in(const char *const *choices, const char *s)
{
    for (size_t i = 0; choices[i]; i++) {
        if (strcmp(choices[i], s) == 0)
            return true;
    }
    return false;
}

static char *s_resolve(const s_ctx_t *ctx, const char *path)
{
    if (!*path || path[0] == '/' || !ctx->dir)
        return s_strdup(path);
    size_t len = strlen(ctx->dir) + strlen(path) + 2;
    char *full = malloc(len);
    if (!full)
        abort();
    snprintf(full, len, "%s/%s", ctx->dir, path);
    return full;
}

/* Reads a secret from a file that only its owner may read. */
static char *s_read_secret(s_ctx_t *ctx, const char *path, int line, int col)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        s_problem(ctx, line, col, "unable to open secrets file %s: %s", path,
                  strerror(e));
        s_mark_passing(ctx, e);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        s_problem(ctx, line, col, "secrets file %s is not a regular file",
                  path);
        close(fd);
        return NULL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        s_problem(ctx, line, col,
                  "secrets file %s is readable by group or others (mode "
                  "%04o); run: chmod 600 %s",
                  path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return NULL;
    }
    char buf[MAX_SECRET_BYTES + 1];
    ssize_t n = read(fd, buf, sizeof buf);
    int e = n < 0 ? errno : 0;
    close(fd);
    if (n < 0 || n > MAX_SECRET_BYTES) {
        s_problem(ctx, line, col, "unable to read secrets file %s: %s", path,
                  n < 0 ? strerror(e) : "larger than 4 KiB");
        s_mark_passing(ctx, e);
        return NULL;
    }
    /* One line; surrounding white space (a final newline) is not part of
     * the secret. */
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        n--;
    buf[n] = '\0';
    char *start = buf;
    while (isspace((unsigned char)*start))
        start++;
    return s_strdup(start);
}

static bool s_valid_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* Parses text (a string value or a default) as field f into target. Returns
 * false with msg set when invalid. */
static bool s_set_from_string(s_ctx_t *ctx, const s_field_t *f, void *base,
                              const char *text, char *msg, size_t msgcap)
{
    char *target = (char *)base + f->off;
    uint64_t v = 0;
    switch (f->type) {
    case F_STR:
    case F_SECRET:
        free(*(char **)target);
        *(char **)target = s_strdup(text);
        if (f->type == F_SECRET)
            tw_log_add_secret(text); /* masked in logs and errors */
        return true;
    case F_PATH:
        free(*(char **)target);
        *(char **)target = s_resolve(ctx, text);
        return true;
    case F_URL: {
        if (!s_valid_url(text)) {
            snprintf(msg, msgcap, "'%s' must be an http:// or https:// URL",
                     f->key);
            return false;
        }
        char *copy = s_strdup(text);
        size_t len = strlen(copy);
        while (len > 0 && copy[len - 1] == '/')
            copy[--len] = '\0';
        free(*(char **)target);
        *(char **)target = copy;
        return true;
    }
    case F_BOOL:
        *(bool *)target = strcmp(text, "true") == 0;
        return true;
    case F_U32:
    case F_U64: {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(text, &end, 10);
        if (errno || *end || !isdigit((unsigned char)*text)) {
            snprintf(msg, msgcap, "'%s' must be a non-negative integer",
                     f->key);
            return false;
        }
        v = n;
        break;
    }
    case F_DUR:
        if (tw_cfg_parse_duration(text, &v) != TW_OK) {
            snprintf(msg, msgcap,
                     "'%s' must be a duration such as \"250ms\", \"90s\", "
                     "\"5m\" or \"1h30m\", not \"%s\"",
                     f->key, text);
            return false;
        }
        break;
    case F_SIZE:
        if (tw_cfg_parse_size(text, &v) != TW_OK) {
            snprintf(msg, msgcap,
                     "'%s' must be a size such as 1048576, \"512KiB\" or "
                     "\"10MiB\", not \"%s\"",
                     f->key, text);
            return false;
        }
        break;
    case F_RESTART:
        if (strcmp(text, "permanent") == 0)
            *(tw_restart_t *)target = TW_RESTART_PERMANENT;
        else if (strcmp(text, "transient") == 0)
            *(tw_restart_t *)target = TW_RESTART_TRANSIENT;
        else if (strcmp(text, "temporary") == 0)
            *(tw_restart_t *)target = TW_RESTART_TEMPORARY;
        else {
            snprintf(msg, msgcap,
                     "'restart' must be \"permanent\", \"transient\" or "
                     "\"temporary\", not \"%s\"",
                     text);
            return false;
        }
        return true;
    case F_SIGNAL: {
        int sig = s_signal_of(text);
        if (!sig) {
            snprintf(msg, msgcap,
                     "'%s' must be a signal name such as \"TERM\" or "
                     "\"INT\", not \"%s\"",
                     f->key, text);
            return false;
        }
        *(int *)target = sig;
        return true;
    }
    case F_CHOICE:
        if (!s_in(f->choices, text)) {
            snprintf(msg, msgcap, "'%s' may not be \"%s\"", f->key, text);
            return false;
        }
        free(*(char **)target);
        *(char **)target = s_strdup(text);
        return true;
    case F_HHMM: {
        int h, m;
        char tail;
        if (strlen(text) != 5 ||
            sscanf(text, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 ||
            m < 0 || m > 59) {
            snprintf(msg, msgcap,
                     "'%s' must be a local time \"HH:MM\", not \"%s\"", f->key,
                     text);
            return false;
        }
        free(*(char **)target);
        *(char **)target = s_strdup(text);
        return true;
    }
    case F_STRV: {
        /* Defaults only: comma-separated. */
        tw_cfg_strv_t *sv = (tw_cfg_strv_t *)target;
        s_strv_free(sv);
        char *copy = s_strdup(text);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save))
            s_strv_push(sv, tok);
        free(copy);
        return true;
    }
    }
    if (v < f->min || (f->max && v > f->max)) {
        const char *unit = f->type == F_DUR ? "ms" : "";
        if (f->max)
            snprintf(msg, msgcap,
                     "'%s' is out of range (%" PRIu64 "%s to %" PRIu64 "%s)",
                     f->key, f->min, unit, f->max, unit);
        else
            snprintf(msg, msgcap, "'%s' must be at least %" PRIu64 "%s", f->key,
                     f->min, unit);
        return false;
    }
    if (f->type == F_U32) {
        if (v > UINT32_MAX) {
            snprintf(msg, msgcap, "'%s' is too large", f->key);
            return false;
        }
        *(uint32_t *)target = (uint32_t)v;
    } else {
        *(uint64_t *)target = v;
    }
    return true;
}

static void s_apply_defaults(s_ctx_t *ctx, const s_field_t *fields, void *base)
{
    char msg[200];
    for (const s_field_t *f = fields; f && f->key; f++) {
        if (f->def) {
            bool ok = s_set_from_string(ctx, f, base, f->def, msg, sizeof msg);
            assert(ok);
            (void)ok;
        }
    }
}

/* Edit distance, for "did you mean". */
static size_t s_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

typedef struct {
    const char *best; /* closest known key so far */
    size_t dist;      /* its distance */
} s_guess_t;

static void s_guess_in(s_guess_t *g, const char *key, const s_field_t *fields)
{
    for (const s_field_t *f = fields; f && f->key; f++) {
        size_t d = s_distance(key, f->key);
        if (d < g->dist) {
            g->dist = d;
            g->best = f->key;
        }
    }
}

static void s_unknown_key(s_ctx_t *ctx, int line, int col, const char *where,
                          const char *key, const s_field_t *a,
                          const s_field_t *b)
{
    s_guess_t g = {NULL, SIZE_MAX};
    s_guess_in(&g, key, a);
    s_guess_in(&g, key, b);
    size_t limit = strlen(key) <= 4 ? 1 : 2;
    if (g.best && g.dist <= limit)
        s_problem(ctx, line, col,
                  "unknown key '%s' in [%s] (did you mean '%s'?)", key, where,
                  g.best);
    else
        s_problem(ctx, line, col, "unknown key '%s' in [%s]", key, where);
}

static const s_field_t *s_find(const s_field_t *fields, const char *key,
                               bool *is_file)
{
    *is_file = false;
    for (const s_field_t *f = fields; f && f->key; f++) {
        if (strcmp(f->key, key) == 0)
            return f;
        if (f->type == F_SECRET) {
            size_t kl = strlen(f->key);
            if (strncmp(key, f->key, kl) == 0 &&
                strcmp(key + kl, "_file") == 0) {
                *is_file = true;
                return f;
            }
        }
    }
    return NULL;
}

static const char *s_type_word(s_ftype_t t)
{
    switch (t) {
    case F_BOOL:
        return "a boolean";
    case F_U32:
    case F_U64:
        return "an integer";
    case F_SIZE:
        return "an integer or a size string";
    case F_STRV:
        return "an array of strings";
    default:
        return "a string";
    }
}

/* Sets one field from a TOML value, reporting type and range problems. */
static void s_set_value(s_ctx_t *ctx, const s_field_t *f, bool is_file,
                        void *base, const tw_toml_t *val, const char *where)
{
    int line, col;
    tw_toml_pos(val, &line, &col);
    tw_toml_type_t t = tw_toml_type(val);
    char msg[300];
    char num[32];
    const char *text = NULL;

    if (f->type == F_STRV) {
        if (t != TW_TOML_ARRAY) {
            s_problem(ctx, line, col, "'%s' in [%s] must be %s, not %s", f->key,
                      where, s_type_word(f->type), tw_toml_type_name(t));
            return;
        }
        tw_cfg_strv_t *sv = (tw_cfg_strv_t *)((char *)base + f->off);
        s_strv_free(sv);
        for (size_t i = 0; i < tw_toml_len(val); i++) {
            const tw_toml_t *e = tw_toml_at(val, i);
            int el, ec;
            tw_toml_pos(e, &el, &ec);
            if (tw_toml_type(e) == TW_TOML_INTEGER) {
                /* Telegram chat ids are numbers; keep them as text. */
                snprintf(num, sizeof num, "%" PRId64, tw_toml_int(e));
                s_strv_push(sv, num);
                continue;
            }
            if (tw_toml_type(e) != TW_TOML_STRING ||
                strlen(tw_toml_str(e)) != tw_toml_str_len(e)) {
                s_problem(ctx, el, ec, "'%s' in [%s] must hold strings, not %s",
                          f->key, where, tw_toml_type_name(tw_toml_type(e)));
                continue;
            }
            if (f->choices && !s_in(f->choices, tw_toml_str(e))) {
                char allowed[200] = "";
                for (size_t k = 0; f->choices[k]; k++) {
                    strncat(allowed, k ? ", " : "",
                            sizeof allowed - strlen(allowed) - 1);
                    strncat(allowed, f->choices[k],
                            sizeof allowed - strlen(allowed) - 1);
                }
                s_problem(ctx, el, ec,
                          "'%s' in [%s] may not hold \"%s\" (allowed: %s)",
                          f->key, where, tw_toml_str(e), allowed);
                continue;
            }
            s_strv_push(sv, tw_toml_str(e));
        }
        return;
    }
    if (f->type == F_BOOL) {
        if (t != TW_TOML_BOOL) {
            s_problem(ctx, line, col, "'%s' in [%s] must be a boolean, not %s",
                      f->key, where, tw_toml_type_name(t));
            return;
        }
        *(bool *)((char *)base + f->off) = tw_toml_bool(val);
        return;
    }
    if ((f->type == F_U32 || f->type == F_U64 || f->type == F_SIZE) &&
        t == TW_TOML_INTEGER) {
        int64_t n = tw_toml_int(val);
        if (n < 0) {
            s_problem(ctx, line, col, "'%s' in [%s] must not be negative",
                      f->key, where);
            return;
        }
        snprintf(num, sizeof num, "%" PRId64, n);
        text = num;
    } else if (t == TW_TOML_STRING && f->type != F_U32 && f->type != F_U64) {
        text = tw_toml_str(val);
        if (strlen(text) != tw_toml_str_len(val)) {
            s_problem(ctx, line, col, "'%s' in [%s] contains a NUL byte",
                      f->key, where);
            return;
        }
    } else {
        s_problem(ctx, line, col, "'%s' in [%s] must be %s, not %s",
                  is_file ? "secret file" : f->key, where, s_type_word(f->type),
                  tw_toml_type_name(t));
        return;
    }
    if (is_file) {
        char *path = s_resolve(ctx, text);
        char *secret = s_read_secret(ctx, path, line, col);
        free(path);
        if (secret) {
            char **target = (char **)((char *)base + f->off);
            free(*target);
            *target = secret;
            tw_log_add_secret(secret); /* masked in logs and errors */
        }
        return;
    }
    if (!s_set_from_string(ctx, f, base, text, msg, sizeof msg))
        s_problem(ctx, line, col, "%s in [%s]", msg, where);
}

/* Loads the keys of table into base using fields (and extra, a second table
 * for the same section). Subtables are reported as unknown. */
static void s_load_table(s_ctx_t *ctx, const tw_toml_t *table,
                         const char *where, const s_field_t *fields, void *base,
                         const s_field_t *extra, void *extra_base,
                         const char *const *skip)
{
    for (size_t i = 0; i < tw_toml_len(table); i++) {
        const char *key = tw_toml_key_at(table, i, NULL);
        const tw_toml_t *val = tw_toml_at(table, i);
        int line, col;
        tw_toml_key_pos(table, i, &line, &col);
        if (skip && s_in(skip, key))
            continue;
        bool is_file;
        const s_field_t *f = s_find(fields, key, &is_file);
        void *b = base;
        if (!f && extra) {
            f = s_find(extra, key, &is_file);
            b = extra_base;
        }
        if (!f) {
            s_unknown_key(ctx, line, col, where, key, fields, extra);
            continue;
        }
        s_set_value(ctx, f, is_file, b, val, where);
    }
}

static bool s_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (const char *p = s; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    }
    return true;
}

static const s_kind_t *s_kind_table(const char *kind)
{
    for (size_t i = 0; i < sizeof s_kind_tables / sizeof s_kind_tables[0];
         i++) {
        if (strcmp(s_kind_tables[i].kind, kind) == 0)
            return &s_kind_tables[i];
    }
    return NULL;
}

static void s_worker_free(tw_cfg_worker_t *w)
{
    free(w->name);
    free(w->kind);
    s_strv_free(&w->command);
    s_strv_free(&w->after);
    s_strv_free(&w->env);
}

static void s_load_worker(s_ctx_t *ctx, tw_cfg_t *cfg, const char *name,
                          const tw_toml_t *table, const tw_toml_t *defaults,
                          int line, int col)
{
    char where[100];
    snprintf(where, sizeof where, "worker.%s", name);
    if (!s_valid_name(name)) {
        s_problem(ctx, line, col,
                  "worker name '%s' may hold only letters, digits, '_' and "
                  "'-' (at most 64)",
                  name);
        return;
    }
    if (tw_toml_type(table) != TW_TOML_TABLE) {
        s_problem(ctx, line, col, "[%s] must be a table", where);
        return;
    }
    tw_cfg_worker_t *nw =
        realloc(cfg->workers, (cfg->nworkers + 1) * sizeof *nw);
    if (!nw)
        abort();
    cfg->workers = nw;
    tw_cfg_worker_t *w = &cfg->workers[cfg->nworkers++];
    memset(w, 0, sizeof *w);
    w->name = s_strdup(name);
    s_apply_defaults(ctx, s_worker_fields, w);
    if (defaults) {
        static const char *const none[] = {NULL};
        s_load_table(ctx, defaults, "defaults", s_worker_fields, w, NULL, NULL,
                     none);
    }

    /* kind, command and template decide which other keys are allowed. */
    const tw_toml_t *kind = tw_toml_get(table, "kind");
    const tw_toml_t *command = tw_toml_get(table, "command");
    const tw_toml_t *tmpl = tw_toml_get(table, "template");
    int kl = line, kc = col;
    if (kind) {
        tw_toml_pos(kind, &kl, &kc);
        if (tw_toml_type(kind) != TW_TOML_STRING ||
            !s_in(s_kinds, tw_toml_str(kind))) {
            s_problem(ctx, kl, kc,
                      "'kind' in [%s] must be one of scanner, chat, stats, "
                      "tokenizer, writer, uploader, notifier, kafka",
                      where);
            w->kind = s_strdup("");
        } else {
            w->kind = s_strdup(tw_toml_str(kind));
        }
    } else if (command) {
        w->kind = s_strdup("");
    } else if (s_in(s_kinds, name)) {
        w->kind = s_strdup(name);
    } else {
        s_problem(ctx, line, col,
                  "[%s] needs 'kind' (a built-in worker) or 'command' (a "
                  "program to run)",
                  where);
        w->kind = s_strdup("");
    }
    if (command) {
        int cl, cc;
        tw_toml_pos(command, &cl, &cc);
        static const s_field_t cmd_field[] = {
            {"command", F_STRV, WK(command), NULL, 0, 0, NULL}, END};
        s_set_value(ctx, &cmd_field[0], false, w, command, where);
        if (w->command.len == 0)
            s_problem(ctx, cl, cc, "'command' in [%s] must not be empty",
                      where);
        else if (w->command.v[0][0] != '/')
            s_problem(ctx, cl, cc,
                      "'command' in [%s] must start with an absolute path",
                      where);
        if (*w->kind)
            s_problem(ctx, cl, cc,
                      "[%s] sets both 'kind' and 'command'; pick one", where);
    }
    w->is_template = strcmp(w->kind, "chat") == 0;
    if (tmpl) {
        int tl, tc;
        tw_toml_pos(tmpl, &tl, &tc);
        if (tw_toml_type(tmpl) != TW_TOML_BOOL)
            s_problem(ctx, tl, tc, "'template' in [%s] must be a boolean",
                      where);
        else
            w->is_template = tw_toml_bool(tmpl);
    }
    if (w->is_template && !kind && !command) {
        /* chat is the template by default: instances are made by spawn. */
    }
    const s_kind_t *kt = *w->kind ? s_kind_table(w->kind) : NULL;
    void *extra_base = kt && kt->fields ? (char *)cfg + kt->off : NULL;
    static const char *const skip[] = {"kind", "command", "template", NULL};
    s_load_table(ctx, table, where, s_worker_fields, w, kt ? kt->fields : NULL,
                 extra_base, skip);
    /* An instance of a template (chat@VIDEO) exits 0 when its job is done:
     * restarting it would only redo finished work. */
    if (w->is_template && !tw_toml_get(table, "restart"))
        w->restart = TW_RESTART_TRANSIENT;
    if (w->restart_delay_max_ms < w->restart_delay_ms)
        s_problem(ctx, line, col,
                  "[%s] restart_delay_max is smaller than restart_delay",
                  where);
}

/* Checks that every 'after' names a worker and that there is no cycle. */
static void s_check_deps(s_ctx_t *ctx, const tw_cfg_t *cfg)
{
    for (size_t i = 0; i < cfg->nworkers; i++) {
        const tw_cfg_worker_t *w = &cfg->workers[i];
        for (size_t j = 0; j < w->after.len; j++) {
            const tw_cfg_worker_t *dep = tw_cfg_worker(cfg, w->after.v[j]);
            if (!dep)
                s_problem(ctx, 0, 0,
                          "[worker.%s] runs after '%s', which is not a "
                          "worker",
                          w->name, w->after.v[j]);
            else if (dep->is_template)
                s_problem(ctx, 0, 0,
                          "[worker.%s] cannot run after template '%s'", w->name,
                          w->after.v[j]);
        }
    }
    /* Kahn's algorithm: whatever is left has a cycle. */
    size_t n = cfg->nworkers;
    if (n == 0)
        return;
    bool *done = calloc(n, sizeof *done);
    if (!done)
        abort();
    size_t ndone = 0;
    bool progress = true;
    while (progress) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            bool ready = true;
            const tw_cfg_worker_t *w = &cfg->workers[i];
            for (size_t j = 0; j < w->after.len && ready; j++) {
                for (size_t k = 0; k < n; k++) {
                    if (strcmp(cfg->workers[k].name, w->after.v[j]) == 0 &&
                        !done[k])
                        ready = false;
                }
            }
            if (ready) {
                done[i] = true;
                ndone++;
                progress = true;
            }
        }
    }
    for (size_t i = 0; i < n && ndone < n; i++) {
        if (!done[i]) {
            s_problem(ctx, 0, 0,
                      "[worker.%s] is part of a dependency cycle ('after')",
                      cfg->workers[i].name);
        }
    }
    free(done);
}

static void s_resolve_libexec(tw_cfg_t *cfg)
{
    if (*cfg->supervisor.libexec_dir)
        return;
    /* Next to the running program (build/bin -> build/libexec/tubewatch),
     * else the installed location. */
    static const char *const rel[] = {"../libexec/tubewatch"};
    char *dir = tw_file_exe_relative_dir(rel, 1);
    free(cfg->supervisor.libexec_dir);
    cfg->supervisor.libexec_dir = dir ? dir : s_strdup(TW_LIBEXECDIR);
}

tw_rc_t tw_cfg_parse_listen(const char *listen, void *addr, tw_err_t *err)
{
    assert(listen);
    assert(addr);
    struct sockaddr_storage *ss = addr;
    memset(ss, 0, sizeof *ss);
    char host[64];
    const char *port;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (!end || end[1] != ':' || (size_t)(end - listen - 1) >= sizeof host)
            goto bad;
        memcpy(host, listen + 1, (size_t)(end - listen - 1));
        host[end - listen - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host)
            goto bad;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port = colon + 1;
    }
    if (!*port || strlen(port) > 5 ||
        strspn(port, "0123456789") != strlen(port))
        goto bad;
    unsigned long p = strtoul(port, NULL, 10);
    if (p > 65535)
        goto bad;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (listen[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        return TW_OK;
    }
    if (listen[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        return TW_OK;
    }
bad:
    tw_err_set(err,
               "metrics_listen '%.80s' is not ADDRESS:PORT (IPv4, or IPv6 "
               "in brackets, port 0-65535)",
               listen);
    return TW_ERR_INVALID;
}

static void s_check_semantics(s_ctx_t *ctx, tw_cfg_t *cfg)
{
    if (*cfg->supervisor.metrics_listen) {
        struct sockaddr_storage sa;
        tw_err_t lerr;
        if (tw_cfg_parse_listen(cfg->supervisor.metrics_listen, &sa, &lerr) !=
            TW_OK)
            s_problem(ctx, 0, 0, "[supervisor] %s", lerr.msg);
    }
    if (*cfg->telegram.bot_token && cfg->telegram.chat_ids.len == 0) {
        bool rule_has_chats = false;
        for (size_t i = 0; i < cfg->notify.nrules; i++)
            rule_has_chats |= cfg->notify.rules[i].chat_ids.len > 0;
        if (!rule_has_chats)
            s_problem(ctx, 0, 0,
                      "[telegram] has a bot token but no chat_ids to send "
                      "to");
    }
    if (cfg->drive.enabled) {
        bool oauth = *cfg->drive.client_secrets_file && *cfg->drive.token_file;
        bool sa = *cfg->drive.service_account_file;
        if (!oauth && !sa)
            s_problem(ctx, 0, 0,
                      "[drive] is enabled but has neither client_secrets_file "
                      "+ token_file nor service_account_file");
        if (!*cfg->drive.folder_id && !*cfg->drive.folder_name)
            s_problem(ctx, 0, 0,
                      "[drive] is enabled but names no folder_id or "
                      "folder_name");
    }
    if (cfg->drive.chunk_size % 262144 != 0)
        s_problem(ctx, 0, 0,
                  "[drive] chunk_size must be a multiple of 256 KiB");
    if (cfg->chat.poll_min_ms > cfg->chat.poll_max_ms)
        s_problem(ctx, 0, 0, "[worker.chat] poll_min is above poll_max");
    tw_shard_t shard = {1, 1};
    tw_err_t serr;
    if (tw_shard_parse(cfg->scanner.shard, &shard, &serr) != TW_OK)
        s_problem(ctx, 0, 0, "[worker.scanner] %s", serr.msg);
    cfg->scanner.shard_k = shard.k;
    cfg->scanner.shard_n = shard.n;
    /* The zone must exist in the tz database. */
    tw_err_t err;
    tw_rc_t zrc = tw_time_zone_check(cfg->supervisor.timezone, &err);
    if (zrc != TW_OK) {
        s_problem(ctx, 0, 0, "[supervisor] timezone: %s", err.msg);
        if (zrc == TW_ERR_IO)
            s_mark_passing(ctx, EIO); /* the zone file, unreadable now */
    }
    for (size_t i = 0; i < cfg->notify.nrules; i++) {
        if (!*cfg->notify.rules[i].template_text)
            s_problem(ctx, 0, 0, "[[notify.rule]] %zu has an empty template",
                      i + 1);
    }
}

/* True when name is a Kafka topic name: 1..249 of [A-Za-z0-9._-]. */
static bool s_kafka_topic_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 249 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") == n;
}

/* [kafka]: checks the settings and, when enabled, makes sure a worker named
 * "kafka" runs (a [worker.kafka] section may tune how); when disabled, a
 * declared kafka worker is not started. */
static void s_kafka_worker(s_ctx_t *ctx, tw_cfg_t *cfg,
                           const tw_toml_t *defaults)
{
    tw_cfg_kafka_t *k = &cfg->kafka;
    for (size_t i = 0; i < cfg->nworkers; i++) {
        tw_cfg_worker_t *w = &cfg->workers[i];
        if (strcmp(w->kind, "kafka") != 0)
            continue;
        if (strcmp(w->name, "kafka") != 0)
            s_problem(ctx, 0, 0,
                      "[worker.%s] is of kind kafka but must be named "
                      "[worker.kafka]",
                      w->name);
        if (!k->enabled)
            w->enabled = false;
    }
    if (!k->enabled)
        return;
    const char *const topics[] = {k->topic_videos, k->topic_chat,
                                  k->topic_viewers, k->topic_events};
    for (size_t i = 0; i < 4; i++)
        if (!s_kafka_topic_ok(topics[i]))
            s_problem(ctx, 0, 0,
                      "[kafka] topic '%s' may hold only letters, digits, "
                      "'.', '_' and '-' (1 to 249)",
                      topics[i]);
    if (!*k->brokers)
        s_problem(ctx, 0, 0, "[kafka] is enabled but 'brokers' is empty");
    if (strncmp(k->security_protocol, "sasl_", 5) == 0 &&
        (!*k->sasl_username || !*k->sasl_password))
        s_problem(ctx, 0, 0,
                  "[kafka] security_protocol %s needs sasl_username "
                  "and sasl_password_file",
                  k->security_protocol);
    if (*k->schema_registry_password && !*k->schema_registry_user)
        s_problem(ctx, 0, 0,
                  "[kafka] has a schema_registry_password but no "
                  "schema_registry_user");
    const tw_cfg_worker_t *have = tw_cfg_worker(cfg, "kafka");
    if (have) {
        if (strcmp(have->kind, "kafka") != 0)
            s_problem(ctx, 0, 0,
                      "[worker.kafka] must be of kind kafka while [kafka] is "
                      "enabled");
        return;
    }
    tw_cfg_worker_t *nw =
        realloc(cfg->workers, (cfg->nworkers + 1) * sizeof *nw);
    if (!nw)
        abort();
    cfg->workers = nw;
    tw_cfg_worker_t *w = &cfg->workers[cfg->nworkers++];
    memset(w, 0, sizeof *w);
    w->name = s_strdup("kafka");
    w->kind = s_strdup("kafka");
    s_apply_defaults(ctx, s_worker_fields, w);
    if (defaults) {
        static const char *const none[] = {NULL};
        s_load_table(ctx, defaults, "defaults", s_worker_fields, w, NULL, NULL,
                     none);
    }
}

static void s_load_root(s_ctx_t *ctx, tw_cfg_t *cfg, const tw_toml_t *root)
{
    s_apply_defaults(ctx, s_supervisor_fields, &cfg->supervisor);
    s_apply_defaults(ctx, s_youtube_fields, &cfg->youtube);
    s_apply_defaults(ctx, s_telegram_fields, &cfg->telegram);
    s_apply_defaults(ctx, s_drive_fields, &cfg->drive);
    s_apply_defaults(ctx, s_scanner_fields, &cfg->scanner);
    s_apply_defaults(ctx, s_chat_fields, &cfg->chat);
    s_apply_defaults(ctx, s_stats_fields, &cfg->stats);
    s_apply_defaults(ctx, s_tokenizer_fields, &cfg->tokenizer);
    s_apply_defaults(ctx, s_writer_fields, &cfg->writer);
    s_apply_defaults(ctx, s_uploader_fields, &cfg->uploader);
    s_apply_defaults(ctx, s_notifier_fields, &cfg->notifier);
    s_apply_defaults(ctx, s_notify_fields, &cfg->notify);
    s_apply_defaults(ctx, s_kafka_fields, &cfg->kafka);

    static const struct {
        const char *name;
        const s_field_t *fields;
        size_t off;
    } sections[] = {
        {"supervisor", s_supervisor_fields, offsetof(tw_cfg_t, supervisor)},
        {"youtube", s_youtube_fields, offsetof(tw_cfg_t, youtube)},
        {"telegram", s_telegram_fields, offsetof(tw_cfg_t, telegram)},
        {"drive", s_drive_fields, offsetof(tw_cfg_t, drive)},
        {"kafka", s_kafka_fields, offsetof(tw_cfg_t, kafka)},
    };
    static const char *const top[] = {"supervisor", "youtube", "telegram",
                                      "drive",      "worker",  "defaults",
                                      "notify",     "kafka",   NULL};
    static const s_field_t top_fields[] = {
        {"supervisor", F_STR, 0, NULL, 0, 0, NULL},
        {"youtube", F_STR, 0, NULL, 0, 0, NULL},
        {"telegram", F_STR, 0, NULL, 0, 0, NULL},
        {"drive", F_STR, 0, NULL, 0, 0, NULL},
        {"worker", F_STR, 0, NULL, 0, 0, NULL},
        {"defaults", F_STR, 0, NULL, 0, 0, NULL},
        {"notify", F_STR, 0, NULL, 0, 0, NULL},
        {"kafka", F_STR, 0, NULL, 0, 0, NULL},
        END};

    for (size_t i = 0; i < tw_toml_len(root); i++) {
        const char *key = tw_toml_key_at(root, i, NULL);
        int line, col;
        tw_toml_key_pos(root, i, &line, &col);
        if (!s_in(top, key)) {
            s_unknown_key(ctx, line, col, "top level", key, top_fields, NULL);
            continue;
        }
        if (tw_toml_type(tw_toml_at(root, i)) != TW_TOML_TABLE)
            s_problem(ctx, line, col, "'%s' must be a table ([%s])", key, key);
    }
    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        const tw_toml_t *t = tw_toml_get(root, sections[s].name);
        if (t && tw_toml_type(t) == TW_TOML_TABLE)
            s_load_table(ctx, t, sections[s].name, sections[s].fields,
                         (char *)cfg + sections[s].off, NULL, NULL, NULL);
    }

    const tw_toml_t *defaults = tw_toml_get(root, "defaults");
    if (defaults && tw_toml_type(defaults) != TW_TOML_TABLE)
        defaults = NULL;
    const tw_toml_t *workers = tw_toml_get(root, "worker");
    if (workers && tw_toml_type(workers) == TW_TOML_TABLE) {
        for (size_t i = 0; i < tw_toml_len(workers); i++) {
            int line, col;
            tw_toml_key_pos(workers, i, &line, &col);
            s_load_worker(ctx, cfg, tw_toml_key_at(workers, i, NULL),
                          tw_toml_at(workers, i), defaults, line, col);
        }
    }

    const tw_toml_t *notify = tw_toml_get(root, "notify");
    if (notify && tw_toml_type(notify) == TW_TOML_TABLE) {
        static const char *const skip[] = {"rule", NULL};
        s_load_table(ctx, notify, "notify", s_notify_fields, &cfg->notify, NULL,
                     NULL, skip);
        const tw_toml_t *rules = tw_toml_get(notify, "rule");
        if (rules && tw_toml_type(rules) != TW_TOML_ARRAY) {
            int line, col;
            tw_toml_pos(rules, &line, &col);
            s_problem(ctx, line, col,
                      "'rule' in [notify] must be an array of tables "
                      "([[notify.rule]])");
        } else if (rules) {
            size_t n = tw_toml_len(rules);
            cfg->notify.rules = calloc(n ? n : 1, sizeof *cfg->notify.rules);
            if (!cfg->notify.rules)
                abort();
            for (size_t i = 0; i < n; i++) {
                const tw_toml_t *r = tw_toml_at(rules, i);
                tw_cfg_rule_t *rule = &cfg->notify.rules[cfg->notify.nrules++];
                s_apply_defaults(ctx, s_rule_fields, rule);
                if (tw_toml_type(r) != TW_TOML_TABLE) {
                    int line, col;
                    tw_toml_pos(r, &line, &col);
                    s_problem(ctx, line, col,
                              "each [[notify.rule]] must be a table");
                    continue;
                }
                s_load_table(ctx, r, "notify.rule", s_rule_fields, rule, NULL,
                             NULL, NULL);
            }
        }
    }
    s_kafka_worker(ctx, cfg, defaults);
    s_check_deps(ctx, cfg);
    s_check_semantics(ctx, cfg);
    s_resolve_libexec(cfg);
}

static char *s_dirname_abs(const char *path)
{
    char *real = realpath(path, NULL);
    if (!real)
        return NULL;
    char *slash = strrchr(real, '/');
    if (slash == real)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    return real;
}

tw_cfg_t *tw_cfg_load(const char *path, tw_cfg_problem_t **problems,
                      size_t *nproblems)
{
    assert(path);
    s_ctx_t ctx = {0};
    if (problems)
        *problems = NULL;
    if (nproblems)
        *nproblems = 0;

    tw_err_t err;
    tw_err_clear(&err);
    tw_toml_t *root = tw_toml_parse_file(path, &err);
    int e = root ? 0 : errno; /* tw_toml_parse_file: 0 = not TOML */
    tw_cfg_t *cfg = NULL;
    if (!root) {
        s_problem(&ctx, err.line, err.col, "%s", err.msg);
        s_mark_passing(&ctx, e);
    } else {
        cfg = calloc(1, sizeof *cfg);
        if (!cfg)
            abort();
        ctx.dir = s_dirname_abs(path);
        char *abs = realpath(path, NULL);
        cfg->path = abs ? abs : s_strdup(path);
        s_load_root(&ctx, cfg, root);
        tw_toml_destroy(&root);
    }
    free(ctx.dir);
    if (ctx.nproblems > 0) {
        tw_cfg_destroy(&cfg);
        if (problems && nproblems) {
            *problems = ctx.problems;
            *nproblems = ctx.nproblems;
        } else {
            free(ctx.problems);
        }
        return NULL;
    }
    free(ctx.problems);
    return cfg;
}

static void s_free_fields(const s_field_t *fields, void *base)
{
    for (const s_field_t *f = fields; f && f->key; f++) {
        char *target = (char *)base + f->off;
        switch (f->type) {
        case F_STR:
        case F_PATH:
        case F_SECRET:
        case F_URL:
        case F_CHOICE:
        case F_HHMM:
            free(*(char **)target);
            *(char **)target = NULL;
            break;
        case F_STRV:
            s_strv_free((tw_cfg_strv_t *)target);
            break;
        default:
            break;
        }
    }
}

void tw_cfg_destroy(tw_cfg_t **cfg_p)
{
    assert(cfg_p);
    tw_cfg_t *cfg = *cfg_p;
    if (!cfg)
        return;
    s_free_fields(s_supervisor_fields, &cfg->supervisor);
    s_free_fields(s_youtube_fields, &cfg->youtube);
    s_free_fields(s_telegram_fields, &cfg->telegram);
    s_free_fields(s_drive_fields, &cfg->drive);
    for (size_t k = 0; k < sizeof s_kind_tables / sizeof s_kind_tables[0];
         k++) {
        if (s_kind_tables[k].fields)
            s_free_fields(s_kind_tables[k].fields,
                          (char *)cfg + s_kind_tables[k].off);
    }
    s_free_fields(s_notify_fields, &cfg->notify);
    s_free_fields(s_kafka_fields, &cfg->kafka);
    for (size_t i = 0; i < cfg->notify.nrules; i++)
        s_free_fields(s_rule_fields, &cfg->notify.rules[i]);
    free(cfg->notify.rules);
    for (size_t i = 0; i < cfg->nworkers; i++)
        s_worker_free(&cfg->workers[i]);
    free(cfg->workers);
    free(cfg->path);
    free(cfg);
    *cfg_p = NULL;
}

void tw_cfg_print_problems(FILE *out, const char *path,
                           const tw_cfg_problem_t *problems, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (problems[i].line > 0)
            fprintf(out, "%s:%d:%d: %s\n", path, problems[i].line,
                    problems[i].col, problems[i].msg);
        else
            fprintf(out, "%s: %s\n", path, problems[i].msg);
    }
}

const tw_cfg_worker_t *tw_cfg_worker(const tw_cfg_t *cfg, const char *name)
{
    assert(cfg);
    assert(name);
    for (size_t i = 0; i < cfg->nworkers; i++) {
        if (strcmp(cfg->workers[i].name, name) == 0)
            return &cfg->workers[i];
    }
    return NULL;
}

static bool s_strv_equal(const tw_cfg_strv_t *a, const tw_cfg_strv_t *b)
{
    if (a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++) {
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    }
    return true;
}

bool tw_cfg_worker_equal(const tw_cfg_worker_t *a, const tw_cfg_worker_t *b)
{
    assert(a);
    assert(b);
    return strcmp(a->name, b->name) == 0 && strcmp(a->kind, b->kind) == 0 &&
           s_strv_equal(&a->command, &b->command) && a->enabled == b->enabled &&
           a->is_template == b->is_template &&
           a->max_instances == b->max_instances &&
           s_strv_equal(&a->after, &b->after) && a->restart == b->restart &&
           a->min_uptime_ms == b->min_uptime_ms &&
           a->restart_delay_ms == b->restart_delay_ms &&
           a->restart_delay_max_ms == b->restart_delay_max_ms &&
           a->max_restarts == b->max_restarts &&
           a->restart_window_ms == b->restart_window_ms &&
           a->failed_retry_ms == b->failed_retry_ms &&
           a->stop_signal == b->stop_signal &&
           a->stop_timeout_ms == b->stop_timeout_ms &&
           a->ready_timeout_ms == b->ready_timeout_ms &&
           a->watchdog_timeout_ms == b->watchdog_timeout_ms &&
           a->memory_limit == b->memory_limit &&
           a->open_files == b->open_files && s_strv_equal(&a->env, &b->env);
}
