/* tw_log - one line per event on stderr, with secrets redacted. */
#ifndef TW_LOG_H
#define TW_LOG_H

#include <stdarg.h>
#include <stddef.h>

typedef enum {
    TW_LOG_DEBUG = 0,
    TW_LOG_INFO = 1,
    TW_LOG_WARN = 2,
    TW_LOG_ERROR = 3,
} tw_log_level_t;

/* Sets the program name shown in every line (default "tubewatch") and the
 * lowest level written. Reads TUBEWATCH_LOG_LEVEL (debug|info|warn|error)
 * and TUBEWATCH_LOG_TIME=1 (prefix an RFC 3339 UTC timestamp). */
void tw_log_init(const char *prog);
/* Sets the lowest level written. */
void tw_log_set_level(tw_log_level_t level);
/* Registers a secret (API key, token) that must never appear in a line; the
 * string is copied. Secrets shorter than 4 bytes are ignored. */
void tw_log_add_secret(const char *secret);
/* Forgets every registered secret. */
void tw_log_clear_secrets(void);

/* Rewrites buf in place (NUL-terminated, capacity cap) so that registered
 * secrets, "key=", "token=", "access_token=", "refresh_token=",
 * "client_secret=" query values, "Bearer X" and "/botTOKEN/" become "***".
 * Returns buf. */
char *tw_log_redact(char *buf, size_t cap);

/* Writes "<prog>[<pid>]: <level>: <message>" to stderr, redacted. */
void tw_log_write(tw_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tw_log_vwrite(tw_log_level_t level, const char *fmt, va_list ap);
/* Logs at error level, then exits with code. */
void tw_log_fatal(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#define tw_log_debug(...) tw_log_write(TW_LOG_DEBUG, __VA_ARGS__)
#define tw_log_info(...)  tw_log_write(TW_LOG_INFO, __VA_ARGS__)
#define tw_log_warn(...)  tw_log_write(TW_LOG_WARN, __VA_ARGS__)
#define tw_log_error(...) tw_log_write(TW_LOG_ERROR, __VA_ARGS__)

#endif
