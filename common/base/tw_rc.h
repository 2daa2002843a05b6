/* tw_rc - the project's one return-code enum, error detail buffer and exit
 * codes. */
#ifndef TW_RC_H
#define TW_RC_H

#include <stddef.h>

/* Return codes of every fallible function; TW_OK is 0. Append only: the
 * numbers travel over the wire in replies. */
typedef enum {
    TW_OK = 0,
    TW_ERR_NOMEM = 1,     /* out of memory */
    TW_ERR_IO = 2,        /* read/write/fsync failed */
    TW_ERR_PARSE = 3,     /* malformed input (JSON, XML, TOML, TSV) */
    TW_ERR_PROTO = 4,     /* malformed or unknown message */
    TW_ERR_CONFIG = 5,    /* invalid configuration */
    TW_ERR_INVALID = 6,   /* invalid argument or value */
    TW_ERR_NOTFOUND = 7,  /* no such thing */
    TW_ERR_EXISTS = 8,    /* already exists */
    TW_ERR_TIMEOUT = 9,   /* deadline passed */
    TW_ERR_HTTP = 10,     /* HTTP error status that retrying cannot fix */
    TW_ERR_NET = 11,      /* network failure (connect, reset, DNS) */
    TW_ERR_AGAIN = 12,    /* temporary; try again later */
    TW_ERR_NOSPACE = 13,  /* disk full */
    TW_ERR_PERM = 14,     /* permission denied / unsafe permissions */
    TW_ERR_TOOBIG = 15,   /* size limit exceeded */
    TW_ERR_QUOTA = 16,    /* API quota exhausted */
    TW_ERR_AUTH = 17,     /* credentials rejected */
    TW_ERR_STATE = 18,    /* operation not valid in the current state */
    TW_ERR_CLOSED = 19,   /* peer or stream closed */
    TW_ERR_INTERNAL = 20, /* a bug */
} tw_rc_t;

/* Exit codes of every binary (STYLE section 4). */
enum {
    TW_EXIT_OK = 0,      /* done */
    TW_EXIT_REFUSED = 1, /* tubewatch: the supervisor refused the request */
    TW_EXIT_USAGE = 100, /* usage or config error: permanent */
    TW_EXIT_BUG = 101,   /* internal bug */
    TW_EXIT_TEMP = 111,  /* temporary failure: restart with backoff */
};

/* The exit code of a process whose work ended with rc, the one mapping
 * of every main: TW_OK -> 0; TW_ERR_CONFIG, TW_ERR_INVALID, TW_ERR_AUTH,
 * TW_ERR_QUOTA -> 100 (permanent: fix the config, do not restart);
 * TW_ERR_INTERNAL -> 101 (a bug); anything else -> 111 (temporary: I/O,
 * peer gone, locked; restart with backoff). */
int tw_rc_exit(tw_rc_t rc);

/* Human detail of a failure; functions take an optional tw_err_t *err. */
typedef struct {
    char msg[512]; /* message, NUL-terminated; "" when none */
    int line;      /* 1-based source line of the problem, 0 when none */
    int col;       /* 1-based source column of the problem, 0 when none */
} tw_err_t;

/* Returns a static, human-readable name for rc. */
const char *tw_rc_str(tw_rc_t rc);
/* Formats a message into err (if not NULL); line and col are set to 0. */
void tw_err_set(tw_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Like tw_err_set, with a source position. */
void tw_err_setpos(tw_err_t *err, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Clears err (if not NULL). */
void tw_err_clear(tw_err_t *err);

#endif
