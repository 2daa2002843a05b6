/* tw_rc - return-code names and the error detail buffer. */
#include "tw_rc.h"

#include "tw_log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const s_names[] = {
    [TW_OK] = "ok",
    [TW_ERR_NOMEM] = "out of memory",
    [TW_ERR_IO] = "input/output error",
    [TW_ERR_PARSE] = "malformed input",
    [TW_ERR_PROTO] = "protocol error",
    [TW_ERR_CONFIG] = "configuration error",
    [TW_ERR_INVALID] = "invalid argument",
    [TW_ERR_NOTFOUND] = "not found",
    [TW_ERR_EXISTS] = "already exists",
    [TW_ERR_TIMEOUT] = "timed out",
    [TW_ERR_HTTP] = "HTTP error",
    [TW_ERR_NET] = "network error",
    [TW_ERR_AGAIN] = "temporary failure",
    [TW_ERR_NOSPACE] = "no space left on device",
    [TW_ERR_PERM] = "permission denied",
    [TW_ERR_TOOBIG] = "too big",
    [TW_ERR_QUOTA] = "quota exhausted",
    [TW_ERR_AUTH] = "authentication failed",
    [TW_ERR_STATE] = "invalid state",
    [TW_ERR_CLOSED] = "closed",
    [TW_ERR_INTERNAL] = "internal error",
};

const char *tw_rc_str(tw_rc_t rc)
{
    if ((size_t)rc < sizeof s_names / sizeof s_names[0] && s_names[rc])
        return s_names[rc];
    return "unknown error";
}

static void s_vset(tw_err_t *err, int line, int col, const char *fmt,
                   va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    /* Messages reach control replies, notices and Telegram, not only the
     * (redacted) logs: mask secrets here too. */
    tw_log_redact(err->msg, sizeof err->msg);
    err->line = line;
    err->col = col;
}

void tw_err_set(tw_err_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    s_vset(err, 0, 0, fmt, ap);
    va_end(ap);
}

void tw_err_setpos(tw_err_t *err, int line, int col, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    s_vset(err, line, col, fmt, ap);
    va_end(ap);
}

void tw_err_clear(tw_err_t *err)
{
    if (!err)
        return;
    err->msg[0] = '\0';
    err->line = 0;
    err->col = 0;
}

int tw_rc_exit(tw_rc_t rc)
{
    switch (rc) {
    case TW_OK:
        return TW_EXIT_OK;
    case TW_ERR_CONFIG:
    case TW_ERR_INVALID:
    case TW_ERR_AUTH:
    case TW_ERR_QUOTA:
        return TW_EXIT_USAGE;
    case TW_ERR_INTERNAL:
        return TW_EXIT_BUG;
    default:
        return TW_EXIT_TEMP;
    }
}
