/* tw_http - an HTTP client over one reused libcurl handle, with timeouts,
 * a size cap, gzip and retries honouring Retry-After. */
#include "tw_http.h"

#include <assert.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tw_backoff.h"
#include "tw_buf.h"
#include "tw_log.h"
#include "tw_version.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_TIMEOUT_MS         30000
#define DEFAULT_MAX_BODY           (16u * 1024 * 1024)
#define DEFAULT_MAX_RETRIES        3
#define DEFAULT_BACKOFF_BASE_MS    500
#define DEFAULT_BACKOFF_MAX_MS     30000
#define DEFAULT_RETRY_AFTER_MAX_MS 120000
#define MAX_REDIRECTS              5

struct tw_http {
    CURL *curl;                   /* the reused easy handle */
    tw_http_opts_t opts;          /* options with defaults applied */
    char *base_url;               /* copy of opts.base_url, or NULL */
    char *user_agent;             /* copy of the User-Agent */
    tw_http_sleep_fn *sleep_fn;   /* retry sleep, or NULL for nanosleep */
    void *sleep_arg;              /* argument of sleep_fn */
    CURLSH *share;                /* cookie store, NULL without cookies */
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's detail of the last error */
};

/* State of one attempt, shared with the libcurl callbacks. */
typedef struct {
    tw_buf_t *body;       /* response body so far */
    size_t max;           /* body cap */
    bool toobig;          /* the cap was hit */
    bool nomem;           /* the body could not grow */
    tw_http_resp_t *resp; /* where the selected headers go */
} s_xfer_t;

static const struct {
    const char *name; /* header name, lower case */
    size_t offset;    /* field of tw_http_resp_t */
} s_headers[] = {
    {"location", offsetof(tw_http_resp_t, location)},
    {"range", offsetof(tw_http_resp_t, range)},
    {"retry-after", offsetof(tw_http_resp_t, retry_after)},
    {"etag", offsetof(tw_http_resp_t, etag)},
    {"last-modified", offsetof(tw_http_resp_t, last_modified)},
    {"content-type", offsetof(tw_http_resp_t, content_type)},
};
#define NHEADERS (sizeof s_headers / sizeof s_headers[0])

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static CURLcode s_global_rc = CURLE_FAILED_INIT;

static void s_global_init(void)
{
    s_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char **s_header_slot(tw_http_resp_t *resp, size_t i)
{
    return (char **)((char *)resp + s_headers[i].offset);
}

static void s_clear_headers(tw_http_resp_t *resp)
{
    for (size_t i = 0; i < NHEADERS; i++) {
        char **slot = s_header_slot(resp, i);
        free(*slot);
        *slot = NULL;
    }
}

void tw_http_resp_clear(tw_http_resp_t *resp)
{
    assert(resp);
    s_clear_headers(resp);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

tw_http_t *tw_http_new(const tw_http_opts_t *opts)
{
    pthread_once(&s_once, s_global_init);
    if (s_global_rc != CURLE_OK)
        return NULL;
    tw_http_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (opts)
        self->opts = *opts;
    tw_http_opts_t *o = &self->opts;
    if (!o->connect_timeout_ms)
        o->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    if (!o->timeout_ms)
        o->timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!o->max_body)
        o->max_body = DEFAULT_MAX_BODY;
    if (!o->max_retries)
        o->max_retries = DEFAULT_MAX_RETRIES;
    if (o->max_retries < 0)
        o->max_retries = 0;
    if (!o->backoff_base_ms)
        o->backoff_base_ms = DEFAULT_BACKOFF_BASE_MS;
    if (!o->backoff_max_ms)
        o->backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
    if (!o->retry_after_max_ms)
        o->retry_after_max_ms = DEFAULT_RETRY_AFTER_MAX_MS;
    self->base_url = o->base_url ? strdup(o->base_url) : NULL;
    self->user_agent =
        strdup(o->user_agent ? o->user_agent : "tubewatch/" TW_VERSION);
    o->base_url = self->base_url;
    o->user_agent = self->user_agent;
    self->curl = curl_easy_init();
    if (o->cookies) {
        self->share = curl_share_init();
        if (self->share &&
            curl_share_setopt(self->share, CURLSHOPT_SHARE,
                              CURL_LOCK_DATA_COOKIE) != CURLSHE_OK) {
            curl_share_cleanup(self->share);
            self->share = NULL;
        }
    }
    if (!self->curl || !self->user_agent || (o->cookies && !self->share) ||
        (opts && opts->base_url && !self->base_url)) {
        tw_http_destroy(&self);
        return NULL;
    }
    return self;
}

void tw_http_destroy(tw_http_t **self_p)
{
    assert(self_p);
    tw_http_t *self = *self_p;
    if (!self)
        return;
    if (self->curl && self->share)
        curl_easy_setopt(self->curl, CURLOPT_COOKIEFILE, (char *)NULL);
    if (self->curl)
        curl_easy_cleanup(self->curl);
    if (self->share)
        curl_share_cleanup(self->share);
    free(self->base_url);
    free(self->user_agent);
    free(self);
    *self_p = NULL;
}

void tw_http_set_sleep(tw_http_t *self, tw_http_sleep_fn *fn, void *arg)
{
    assert(self);
    self->sleep_fn = fn;
    self->sleep_arg = arg;
}

char *tw_http_url_join(const char *base, const char *url)
{
    assert(url);
    if (!base || !*base || strstr(url, "://"))
        return strdup(url);
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    while (*url == '/')
        url++;
    size_t ul = strlen(url);
    char *out = malloc(bl + 1 + ul + 1);
    if (!out)
        return NULL;
    memcpy(out, base, bl);
    out[bl] = '/';
    memcpy(out + bl + 1, url, ul + 1);
    return out;
}

char *tw_http_escape(const char *s)
{
    assert(s);
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(s);
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = '\0';
    return out;
}

int64_t tw_http_retry_after_ms(const char *value, uint32_t cap_ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value < '0' || *value > '9')
        return -1;
    int64_t secs = 0;
    while (*value >= '0' && *value <= '9') {
        if (secs < INT64_C(1) << 40)
            secs = secs * 10 + (*value - '0');
        value++;
    }
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value != '\0')
        return -1;
    int64_t ms = secs * 1000;
    return ms > cap_ms ? (int64_t)cap_ms : ms;
}

static size_t s_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    s_xfer_t *x = arg;
    size_t n = size * nmemb;
    if (n > x->max - tw_buf_len(x->body)) {
        x->toobig = true;
        return 0;
    }
    if (tw_buf_append(x->body, data, n) != TW_OK) {
        x->nomem = true;
        return 0;
    }
    return n;
}

static size_t s_on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    s_xfer_t *x = arg;
    size_t n = size * nmemb;
    /* A new status line (after 1xx or a redirect): forget earlier
     * headers, only the final response's count. */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        s_clear_headers(x->resp);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t nl = (size_t)(colon - data);
    for (size_t i = 0; i < NHEADERS; i++) {
        if (strlen(s_headers[i].name) != nl ||
            strncasecmp(data, s_headers[i].name, nl) != 0)
            continue;
        const char *v = colon + 1;
        const char *end = data + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
                           end[-1] == ' ' || end[-1] == '\t'))
            end--;
        char **slot = s_header_slot(x->resp, i);
        free(*slot);
        *slot = NULL;
        /* None of these may hold a control character; one would end up
         * in a request header, a URL or a TSV state file. */
        bool clean = true;
        for (const char *p = v; p < end && clean; p++)
            clean = (unsigned char)*p >= 0x20 && *p != 0x7f;
        if (clean)
            *slot = strndup(v, (size_t)(end - v));
        break;
    }
    return n;
}

/* Sets err from fmt with the URL redacted, then redacts the whole
 * message again (curl's detail may echo the URL). */
static void s_err(tw_err_t *err, const char *method, const char *url,
                  const char *detail)
{
    if (!err)
        return;
    size_t cap = strlen(url) * 2 + 16;
    char *safe = malloc(cap);
    if (safe) {
        snprintf(safe, cap, "%s", url);
        tw_log_redact(safe, cap);
    }
    tw_err_set(err, "unable to %s %s: %s", method, safe ? safe : "URL", detail);
    tw_log_redact(err->msg, sizeof err->msg);
    free(safe);
}

/* Writes "HTTP status N" plus the start of the body (one line, control
 * bytes blanked) so logs show the API's reason (quotaExceeded, ...). */
static void s_status_detail(char *out, size_t cap, long status,
                            const tw_buf_t *body)
{
    int n = snprintf(out, cap, "HTTP status %ld", status);
    size_t off = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    size_t len = tw_buf_len(body);
    if (status < 400 || len == 0 || off == 0 || cap - off < 8)
        return;
    if (len > 160)
        len = 160;
    const char *b = tw_buf_data(body);
    out[off++] = ':';
    out[off++] = ' ';
    for (size_t i = 0; i < len && off + 1 < cap; i++) {
        unsigned char c = (unsigned char)b[i];
        out[off++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[off] = '\0';
}

static bool s_has_header(const char *const *headers, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; headers && headers[i]; i++) {
        if (strncasecmp(headers[i], name, nl) == 0 && headers[i][nl] == ':')
            return true;
    }
    return false;
}

static bool s_retryable_status(long status)
{
    return status == 429 ||
           (status >= 500 && status <= 599 && status != 501 && status != 505);
}

/* curl failures that another attempt cannot fix. */
static bool s_permanent_curl(CURLcode res)
{
    switch (res) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_ABORTED_BY_CALLBACK:
        return true;
    default:
        return false;
    }
}

static void s_sleep(tw_http_t *self, uint32_t ms)
{
    if (self->sleep_fn) {
        self->sleep_fn(ms, self->sleep_arg);
        return;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sets up the handle for one attempt and stores in *list the header list
 * the caller frees after the transfer. */
static CURLcode s_setup(tw_http_t *self, const tw_http_req_t *req,
                        const char *url, const char *method, s_xfer_t *x,
                        struct curl_slist **list)
{
    CURL *c = self->curl;
    const tw_http_opts_t *o = &self->opts;
    uint32_t timeout = req->timeout_ms ? req->timeout_ms : o->timeout_ms;
    /* libcurl 7.88 leaks the cookie file list on curl_easy_reset: drop it
     * first (the cookies themselves stay in the share handle). */
    if (self->share)
        curl_easy_setopt(c, CURLOPT_COOKIEFILE, (char *)NULL);
    curl_easy_reset(c);
    CURLcode r = CURLE_OK;
#define SET(opt, val)                                                          \
    do {                                                                       \
        if (r == CURLE_OK)                                                     \
            r = curl_easy_setopt(c, opt, val);                                 \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, self->errbuf);
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_USERAGENT, self->user_agent);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)timeout);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
    SET(CURLOPT_WRITEFUNCTION, s_on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, s_on_header);
    SET(CURLOPT_HEADERDATA, x);
    /* The cookie store lives in the share handle; an empty cookie file
     * name switches the engine on. */
    if (self->share) {
        SET(CURLOPT_SHARE, self->share);
        SET(CURLOPT_COOKIEFILE, "");
    }
    if (o->follow_redirects) {
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
        SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    bool with_body = req->body || strcmp(method, "POST") == 0 ||
                     strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    if (strcmp(method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (with_body) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SET(CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        if (strcmp(method, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") == 0) {
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        SET(CURLOPT_CUSTOMREQUEST, method);
    }
#undef SET
    if (r != CURLE_OK)
        return r;
    struct curl_slist *l = NULL;
    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        struct curl_slist *nl = curl_slist_append(l, req->headers[i]);
        if (!nl)
            goto nomem;
        l = nl;
    }
    /* No "Expect: 100-continue" round trip before large bodies. */
    struct curl_slist *nl = curl_slist_append(l, "Expect:");
    if (!nl)
        goto nomem;
    l = nl;
    /* curl labels any body form data; a PUT of raw bytes is not. */
    if (with_body && strcmp(method, "POST") != 0 &&
        !s_has_header(req->headers, "Content-Type")) {
        nl = curl_slist_append(l, "Content-Type:");
        if (!nl)
            goto nomem;
        l = nl;
    }
    *list = l;
    return curl_easy_setopt(c, CURLOPT_HTTPHEADER, l);
nomem:
    curl_slist_free_all(l);
    return CURLE_OUT_OF_MEMORY;
}

tw_rc_t tw_http_request(tw_http_t *self, const tw_http_req_t *req,
                        tw_http_resp_t *resp, tw_err_t *err)
{
    assert(self);
    assert(req);
    assert(req->url);
    assert(resp);
    assert(req->body || req->body_len == 0);
    tw_http_resp_clear(resp);
    const tw_http_opts_t *o = &self->opts;
    const char *method = req->method ? req->method : req->body ? "POST" : "GET";
    int max_retries = req->max_retries ? req->max_retries : o->max_retries;
    if (max_retries < 0)
        max_retries = 0;
    char *url = tw_http_url_join(self->base_url, req->url);
    tw_buf_t *body = tw_buf_new();
    if (!url || !body) {
        free(url);
        tw_buf_destroy(&body);
        tw_err_set(err, "unable to %s: out of memory", method);
        return TW_ERR_NOMEM;
    }
    tw_rc_t rc = TW_OK;
    for (int attempt = 0;; attempt++) {
        tw_buf_clear(body);
        s_clear_headers(resp);
        resp->status = 0;
        s_xfer_t x = {body, req->max_body ? req->max_body : o->max_body, false,
                      false, resp};
        struct curl_slist *list = NULL;
        self->errbuf[0] = '\0';
        CURLcode res = s_setup(self, req, url, method, &x, &list);
        if (res == CURLE_OK)
            res = curl_easy_perform(self->curl);
        curl_slist_free_all(list);
        resp->attempts = attempt + 1;
        long status = 0;
        if (res == CURLE_OK) {
            curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &status);
            resp->status = status;
        }
        bool retry = false;
        char detail[CURL_ERROR_SIZE + 64];
        if (res == CURLE_OK) {
            retry = s_retryable_status(status);
            if (status < 400)
                rc = TW_OK;
            else
                rc = retry ? TW_ERR_AGAIN : TW_ERR_HTTP;
            s_status_detail(detail, sizeof detail, status, body);
        } else if (x.nomem) {
            rc = TW_ERR_NOMEM;
            snprintf(detail, sizeof detail, "out of memory");
        } else if (x.toobig || res == CURLE_FILESIZE_EXCEEDED) {
            rc = TW_ERR_TOOBIG;
            snprintf(detail, sizeof detail, "response larger than %zu bytes",
                     x.max);
        } else {
            retry = !s_permanent_curl(res);
            rc = res == CURLE_OPERATION_TIMEDOUT ? TW_ERR_TIMEOUT
                 : res == CURLE_OUT_OF_MEMORY    ? TW_ERR_NOMEM
                 : retry                         ? TW_ERR_NET
                                                 : TW_ERR_INVALID;
            snprintf(detail, sizeof detail, "%s",
                     self->errbuf[0] ? self->errbuf : curl_easy_strerror(res));
        }
        if (rc != TW_OK)
            s_err(err, method, url, detail);
        if (!retry || attempt >= max_retries)
            break;
        int64_t delay = -1;
        if (status == 429 || status == 503)
            delay = tw_http_retry_after_ms(resp->retry_after,
                                           o->retry_after_max_ms);
        if (delay < 0)
            delay = tw_backoff_full_jitter(
                o->backoff_base_ms, o->backoff_max_ms, (uint32_t)attempt);
        s_sleep(self, (uint32_t)delay);
    }
    if (rc == TW_OK)
        tw_err_clear(err);
    size_t len = 0;
    resp->body = tw_buf_steal(body, &len);
    resp->body_len = resp->body ? len : 0;
    tw_buf_destroy(&body);
    free(url);
    return rc;
}

tw_rc_t tw_http_get(tw_http_t *self, const char *url,
                    const char *const *headers, tw_http_resp_t *resp,
                    tw_err_t *err)
{
    tw_http_req_t req = {.method = "GET", .url = url, .headers = headers};
    return tw_http_request(self, &req, resp, err);
}

tw_rc_t tw_http_post(tw_http_t *self, const char *url,
                     const char *const *headers, const void *body, size_t len,
                     tw_http_resp_t *resp, tw_err_t *err)
{
    tw_http_req_t req = {.method = "POST",
                         .url = url,
                         .headers = headers,
                         .body = body,
                         .body_len = len};
    return tw_http_request(self, &req, resp, err);
}

tw_rc_t tw_http_put(tw_http_t *self, const char *url,
                    const char *const *headers, const void *body, size_t len,
                    tw_http_resp_t *resp, tw_err_t *err)
{
    tw_http_req_t req = {.method = "PUT",
                         .url = url,
                         .headers = headers,
                         .body = body,
                         .body_len = len};
    return tw_http_request(self, &req, resp, err);
}
