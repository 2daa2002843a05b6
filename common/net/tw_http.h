/* tw_http - an HTTP client over one reused libcurl handle (keep-alive):
 * timeouts, a response size cap, gzip, and retries with exponential
 * backoff and full jitter on 5xx, 429 and network errors, honouring
 * Retry-After. Error messages never contain secrets (URLs are redacted). */
#ifndef TW_HTTP_H
#define TW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* A client: one connection cache, its options and its retry policy. */
typedef struct tw_http tw_http_t;

/* Client options; a zero field takes the default shown. */
typedef struct {
    const char *base_url;        /* prefix of relative URLs; copied */
    const char *user_agent;      /* default "tubewatch/<version>"; copied */
    uint32_t connect_timeout_ms; /* connect phase limit, default 10000 */
    uint32_t timeout_ms;         /* whole-transfer limit, default 30000 */
    size_t max_body;             /* response body cap, default 16 MiB */
    int max_retries;             /* retries after the first try, default 3;
                                    a negative value means none */
    uint32_t backoff_base_ms;    /* first retry delay cap, default 500 */
    uint32_t backoff_max_ms;     /* retry delay cap, default 30000 */
    uint32_t retry_after_max_ms; /* cap on a server's Retry-After, default
                                    120000 */
    int follow_redirects;        /* 1: follow up to 5 redirects, default 0 */
    int cookies;                 /* 1: keep received cookies in memory and
                                    send them back, default 0 */
} tw_http_opts_t;

/* One request. Only url is required. */
typedef struct {
    const char *method;         /* NULL: GET, or POST when body is set */
    const char *url;            /* absolute, or joined to base_url */
    const char *const *headers; /* NULL-terminated "Name: value" list */
    const void *body;           /* request body (POST/PUT), or NULL */
    size_t body_len;            /* bytes in body */
    uint32_t timeout_ms;        /* 0: the client's timeout_ms */
    size_t max_body;            /* 0: the client's max_body */
    int max_retries;            /* 0: the client's; negative: no retry */
} tw_http_req_t;

/* A response. Strings are owned by the response (tw_http_resp_clear frees
 * them); a header string is NULL when the header was absent. */
typedef struct {
    long status;         /* HTTP status of the last attempt, 0 if none */
    char *body;          /* body, NUL-terminated (may hold NULs), or NULL */
    size_t body_len;     /* bytes in body */
    char *location;      /* Location header */
    char *range;         /* Range header (Drive 308 replies) */
    char *retry_after;   /* Retry-After header */
    char *etag;          /* ETag header */
    char *last_modified; /* Last-Modified header */
    char *content_type;  /* Content-Type header */
    int attempts;        /* requests sent, retries included */
} tw_http_resp_t;

/* Sleeps ms milliseconds between retries; tests inject their own. */
typedef void(tw_http_sleep_fn)(uint32_t ms, void *arg);

/* Returns a new client with opts (NULL: all defaults), or NULL when
 * libcurl cannot be initialised. */
tw_http_t *tw_http_new(const tw_http_opts_t *opts);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_http_destroy(tw_http_t **self_p);
/* Replaces the retry sleep (default: nanosleep); fn NULL restores it. */
void tw_http_set_sleep(tw_http_t *self, tw_http_sleep_fn *fn, void *arg);

/* Performs req, retrying 5xx (but 501/505), 429 and network errors with
 * full-jitter backoff or the server's Retry-After (seconds, capped), and
 * fills resp, which must be zeroed ({0}) or hold an earlier response: it
 * is cleared first; clear it after use. Returns TW_OK for any
 * 1xx-3xx status (304 and 308 included); TW_ERR_HTTP for a 4xx not
 * retried; TW_ERR_AGAIN when retries of 5xx/429 ran out (resp holds the
 * last reply); TW_ERR_NET or TW_ERR_TIMEOUT when no reply came;
 * TW_ERR_TOOBIG when the body exceeded the cap (not retried);
 * TW_ERR_INVALID for a bad URL. err says what failed, URL redacted. */
tw_rc_t tw_http_request(tw_http_t *self, const tw_http_req_t *req,
                        tw_http_resp_t *resp, tw_err_t *err);
/* GET url with optional headers (NULL-terminated list). */
tw_rc_t tw_http_get(tw_http_t *self, const char *url,
                    const char *const *headers, tw_http_resp_t *resp,
                    tw_err_t *err);
/* POST len bytes of body to url with optional headers. */
tw_rc_t tw_http_post(tw_http_t *self, const char *url,
                     const char *const *headers, const void *body, size_t len,
                     tw_http_resp_t *resp, tw_err_t *err);
/* PUT len bytes of body (len 0 sends Content-Length: 0) to url. */
tw_rc_t tw_http_put(tw_http_t *self, const char *url,
                    const char *const *headers, const void *body, size_t len,
                    tw_http_resp_t *resp, tw_err_t *err);
/* Frees what resp owns and zeroes it; safe on a zeroed response. */
void tw_http_resp_clear(tw_http_resp_t *resp);

/* Returns url joined to base (caller frees), or NULL when out of memory:
 * an absolute url (with "scheme://") is returned as is; otherwise base
 * without trailing '/' + '/' + url without leading '/'. base may be NULL. */
char *tw_http_url_join(const char *base, const char *url);
/* Returns s percent-encoded for a query value or path segment (caller
 * frees), or NULL when out of memory. */
char *tw_http_escape(const char *s);
/* Parses a Retry-After value in seconds ("120"); returns milliseconds,
 * capped at cap_ms, or -1 for an absent or non-numeric value. */
int64_t tw_http_retry_after_ms(const char *value, uint32_t cap_ms);

#endif
