/* Unit tests of tw_http against a libmicrohttpd server started in the test
 * on 127.0.0.1 (ephemeral port): retries, Retry-After, 4xx, size cap, gzip,
 * conditional GET, timeouts, methods, keep-alive and redaction. */
#include <arpa/inet.h>
#include <check.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tw_http.h"

static struct MHD_Daemon *s_mhd;
static char s_base[64];
static atomic_int s_hits;        /* requests answered by the counted routes */
static atomic_int s_connections; /* TCP connections accepted */
static atomic_int s_stopping;    /* the slow handler gives up when set */
static uint32_t s_delays[16];    /* delays the client asked to sleep */
static int s_ndelays;

/* "hello gzip world\n" x 50, gzip-compressed. */
static const unsigned char s_gz[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48,
    0xcd, 0xc9, 0xc9, 0x57, 0x48, 0xaf, 0xca, 0x2c, 0x50, 0x28, 0xcf, 0x2f,
    0xca, 0x49, 0xe1, 0xca, 0x18, 0x15, 0x18, 0x15, 0x18, 0x15, 0x20, 0x5f,
    0x00, 0x00, 0x1b, 0x11, 0xd8, 0x38, 0x52, 0x03, 0x00, 0x00};

/* Request body collected across handler calls. */
typedef struct {
    char data[4096]; /* body bytes, truncated */
    size_t len;      /* bytes received */
} s_upload_t;

static enum MHD_Result s_reply(struct MHD_Connection *c, unsigned status,
                               const char *body, size_t len,
                               const char *const *headers)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)body, MHD_RESPMEM_MUST_COPY);
    for (size_t i = 0; headers && headers[i]; i += 2)
        MHD_add_response_header(r, headers[i], headers[i + 1]);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static ssize_t s_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    if (pos >= 100000)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = max < 1000 ? max : 1000;
    memset(buf, 'z', n);
    return (ssize_t)n;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *c,
                                 const char *url, const char *method,
                                 const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    s_upload_t *up = *con_cls;
    if (!up) {
        up = calloc(1, sizeof *up);
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t room = sizeof up->data - up->len;
        size_t n = *upload_size < room ? *upload_size : room;
        memcpy(up->data + up->len, upload, n);
        up->len += n;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/flaky") == 0) {
        int n = atomic_fetch_add(&s_hits, 1);
        return n == 0 ? s_reply(c, 503, "busy", 4, NULL)
                      : s_reply(c, 200, "ok", 2, NULL);
    }
    if (strcmp(url, "/ratelimit") == 0) {
        int n = atomic_fetch_add(&s_hits, 1);
        const char *h[] = {"Retry-After", "2", NULL};
        return n == 0 ? s_reply(c, 429, "slow down", 9, h)
                      : s_reply(c, 200, "ok", 2, NULL);
    }
    if (strcmp(url, "/always503") == 0) {
        atomic_fetch_add(&s_hits, 1);
        const char *h[] = {"Retry-After", "100000", NULL};
        return s_reply(c, 503, "down", 4, h);
    }
    if (strcmp(url, "/notfound") == 0) {
        atomic_fetch_add(&s_hits, 1);
        return s_reply(c, 404, "{\"error\":{\"code\":404}}", 22, NULL);
    }
    if (strcmp(url, "/stream") == 0) {
        struct MHD_Response *r = MHD_create_response_from_callback(
            MHD_SIZE_UNKNOWN, 1000, s_stream, NULL, NULL);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/gzip") == 0) {
        const char *ae =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
        if (!ae || !strstr(ae, "gzip"))
            return s_reply(c, 400, "no gzip", 7, NULL);
        const char *h[] = {"Content-Encoding", "gzip", "Content-Type",
                           "text/plain", NULL};
        return s_reply(c, 200, (const char *)s_gz, sizeof s_gz, h);
    }
    if (strcmp(url, "/etag") == 0) {
        const char *inm =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
        const char *ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                      "If-Modified-Since");
        const char *h[] = {"ETag", "\"v1\"", "Last-Modified",
                           "Mon, 23 Nov 2026 10:00:00 GMT", NULL};
        if ((inm && strcmp(inm, "\"v1\"") == 0) ||
            (ims && strcmp(ims, "Mon, 23 Nov 2026 10:00:00 GMT") == 0))
            return s_reply(c, 304, "", 0, h);
        return s_reply(c, 200, "<feed/>", 7, h);
    }
    if (strcmp(url, "/slow") == 0) {
        for (int i = 0; i < 600 && !atomic_load(&s_stopping); i++) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        return s_reply(c, 200, "late", 4, NULL);
    }
    if (strcmp(url, "/drive") == 0) {
        const char *h[] = {"Range", "bytes=0-262143", NULL};
        return s_reply(c, 308, "", 0, h);
    }
    if (strcmp(url, "/redirect") == 0) {
        const char *h[] = {"Location", "/echo", NULL};
        return s_reply(c, 302, "", 0, h);
    }
    if (strcmp(url, "/setcookie") == 0) {
        const char *h[] = {"Set-Cookie", "VISITOR=abc123; Path=/", NULL};
        return s_reply(c, 200, "", 0, h);
    }
    if (strcmp(url, "/cookie") == 0) {
        const char *ck =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
        return s_reply(c, 200, ck ? ck : "-", ck ? strlen(ck) : 1, NULL);
    }
    if (strncmp(url, "/echo", 5) == 0) {
        const char *ct =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        const char *x =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Test");
        char out[4400];
        int n = snprintf(out, sizeof out, "%s %s ct=%s x=%s len=%zu body=%.*s",
                         method, url, ct ? ct : "-", x ? x : "-", up->len,
                         (int)up->len, up->data);
        return s_reply(c, 200, out, (size_t)n, NULL);
    }
    return s_reply(c, 500, "no route", 8, NULL);
}

static void s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void s_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
                     enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    (void)socket_ctx;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&s_connections, 1);
}

static void s_setup(void)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    s_mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
        NULL, NULL, s_handler, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, s_notify, NULL, MHD_OPTION_END);
    ck_assert_ptr_nonnull(s_mhd);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s_mhd, MHD_DAEMON_INFO_BIND_PORT);
    ck_assert_ptr_nonnull(info);
    snprintf(s_base, sizeof s_base, "http://127.0.0.1:%u",
             (unsigned)info->port);
    atomic_store(&s_hits, 0);
    atomic_store(&s_connections, 0);
    atomic_store(&s_stopping, 0);
    s_ndelays = 0;
}

static void s_teardown(void)
{
    atomic_store(&s_stopping, 1);
    MHD_stop_daemon(s_mhd);
    s_mhd = NULL;
}

static void s_record_sleep(uint32_t ms, void *arg)
{
    (void)arg;
    if (s_ndelays < 16)
        s_delays[s_ndelays++] = ms;
}

static tw_http_t *s_client(const tw_http_opts_t *extra)
{
    tw_http_opts_t o = {0};
    if (extra)
        o = *extra;
    o.base_url = s_base;
    tw_http_t *h = tw_http_new(&o);
    ck_assert_ptr_nonnull(h);
    tw_http_set_sleep(h, s_record_sleep, NULL);
    return h;
}

START_TEST(test_503_then_200_is_retried)
{
    tw_http_t *h = s_client(NULL);
    tw_http_resp_t resp = {0};
    tw_err_t err = {.msg = "stale"};
    ck_assert_int_eq(tw_http_get(h, "/flaky", NULL, &resp, &err), TW_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "ok");
    ck_assert_uint_eq(resp.body_len, 2);
    ck_assert_int_eq(resp.attempts, 2);
    ck_assert_int_eq(s_ndelays, 1);
    ck_assert_uint_le(s_delays[0], 500);
    ck_assert_str_eq(err.msg, "");
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
    ck_assert_ptr_null(h);
}
END_TEST

START_TEST(test_default_sleep_is_used)
{
    tw_http_opts_t o = {
        .base_url = s_base, .backoff_base_ms = 1, .backoff_max_ms = 2};
    tw_http_t *h = tw_http_new(&o);
    tw_http_resp_t resp = {0};
    ck_assert_int_eq(tw_http_get(h, "/flaky", NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.attempts, 2);
    ck_assert_int_eq(s_ndelays, 0);
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_429_honours_retry_after)
{
    tw_http_t *h = s_client(NULL);
    tw_http_resp_t resp = {0};
    ck_assert_int_eq(tw_http_get(h, "ratelimit", NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_int_eq(s_ndelays, 1);
    ck_assert_uint_eq(s_delays[0], 2000);
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_retries_run_out_with_capped_retry_after)
{
    tw_http_opts_t o = {.max_retries = 2, .retry_after_max_ms = 5000};
    tw_http_t *h = s_client(&o);
    tw_http_resp_t resp = {0};
    tw_err_t err;
    ck_assert_int_eq(tw_http_get(h, "/always503", NULL, &resp, &err),
                     TW_ERR_AGAIN);
    ck_assert_int_eq(resp.status, 503);
    ck_assert_int_eq(resp.attempts, 3);
    ck_assert_int_eq(atomic_load(&s_hits), 3);
    ck_assert_int_eq(s_ndelays, 2);
    ck_assert_uint_eq(s_delays[0], 5000);
    ck_assert_str_eq(resp.retry_after, "100000");
    ck_assert_ptr_nonnull(strstr(err.msg, "503"));
    /* Per request: no retries at all. */
    tw_http_req_t req = {.url = "/always503", .max_retries = -1};
    ck_assert_int_eq(tw_http_request(h, &req, &resp, NULL), TW_ERR_AGAIN);
    ck_assert_int_eq(resp.attempts, 1);
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_404_not_retried_and_url_redacted)
{
    tw_http_t *h = s_client(NULL);
    tw_http_resp_t resp = {0};
    tw_err_t err;
    ck_assert_int_eq(
        tw_http_get(h, "/notfound?part=x&key=AIzaSECRET123", NULL, &resp, &err),
        TW_ERR_HTTP);
    ck_assert_int_eq(resp.status, 404);
    ck_assert_int_eq(resp.attempts, 1);
    ck_assert_int_eq(atomic_load(&s_hits), 1);
    ck_assert_int_eq(s_ndelays, 0);
    ck_assert_ptr_nonnull(strstr(resp.body, "404"));
    ck_assert_ptr_null(strstr(err.msg, "AIzaSECRET123"));
    ck_assert_ptr_nonnull(strstr(err.msg, "key=***"));
    ck_assert_ptr_nonnull(strstr(err.msg, "404"));
    ck_assert_ptr_nonnull(strstr(err.msg, "{\"error\":{\"code\":404}}"));
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_size_cap)
{
    tw_http_opts_t o = {.max_body = 10000};
    tw_http_t *h = s_client(&o);
    tw_http_resp_t resp = {0};
    tw_err_t err;
    /* Unknown length (chunked): the cap hits while reading. */
    ck_assert_int_eq(tw_http_get(h, "/stream", NULL, &resp, &err),
                     TW_ERR_TOOBIG);
    ck_assert_int_eq(resp.attempts, 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "10000"));
    /* A decoded gzip body over the cap is caught too. */
    tw_http_req_t req = {.url = "/gzip", .max_body = 100};
    ck_assert_int_eq(tw_http_request(h, &req, &resp, &err), TW_ERR_TOOBIG);
    req.max_body = 850;
    ck_assert_int_eq(tw_http_request(h, &req, &resp, &err), TW_OK);
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_gzip_body_decoded)
{
    tw_http_t *h = s_client(NULL);
    tw_http_resp_t resp = {0};
    ck_assert_int_eq(tw_http_get(h, "/gzip", NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_uint_eq(resp.body_len, 850);
    ck_assert_int_eq(strncmp(resp.body, "hello gzip world\nhello", 22), 0);
    ck_assert_str_eq(resp.content_type, "text/plain");
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_conditional_get_304)
{
    tw_http_t *h = s_client(NULL);
    tw_http_resp_t resp = {0};
    ck_assert_int_eq(tw_http_get(h, "/etag", NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.etag, "\"v1\"");
    ck_assert_str_eq(resp.last_modified, "Mon, 23 Nov 2026 10:00:00 GMT");
    char inm[128];
    snprintf(inm, sizeof inm, "If-None-Match: %s", resp.etag);
    const char *hdrs[] = {inm, NULL};
    ck_assert_int_eq(tw_http_get(h, "/etag", hdrs, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.status, 304);
    ck_assert_uint_eq(resp.body_len, 0);
    const char *ims[] = {"If-Modified-Since: Mon, 23 Nov 2026 10:00:00 GMT",
                         NULL};
    ck_assert_int_eq(tw_http_get(h, "/etag", ims, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.status, 304);
    /* Three requests, one kept-alive connection. */
    ck_assert_int_eq(atomic_load(&s_connections), 1);
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_timeout_on_slow_handler)
{
    tw_http_opts_t o = {.timeout_ms = 200, .max_retries = -1};
    tw_http_t *h = s_client(&o);
    tw_http_resp_t resp = {0};
    tw_err_t err;
    int64_t t0 = tw_test_now_ms();
    ck_assert_int_eq(tw_http_get(h, "/slow", NULL, &resp, &err),
                     TW_ERR_TIMEOUT);
    int64_t took = tw_test_now_ms() - t0;
    ck_assert_int_lt(took, 2000);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "/slow"));
    /* The client still works afterwards. */
    ck_assert_int_eq(tw_http_get(h, "/echo", NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.status, 200);
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_network_error_retried)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd); /* nobody listens on that port now */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x", ntohs(sa.sin_port));
    tw_http_opts_t o = {.max_retries = 2};
    tw_http_t *h = s_client(&o);
    tw_http_resp_t resp = {0};
    tw_err_t err;
    ck_assert_int_eq(tw_http_get(h, url, NULL, &resp, &err), TW_ERR_NET);
    ck_assert_int_eq(resp.attempts, 3);
    ck_assert_int_eq(s_ndelays, 2);
    ck_assert_uint_le(s_delays[1], 1000);
    ck_assert_int_eq(tw_http_get(h, "ftp://127.0.0.1/x", NULL, &resp, &err),
                     TW_ERR_INVALID);
    ck_assert_int_eq(resp.attempts, 1);
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

/* A raw server answering one request with header values holding control
 * characters: such values are dropped, never handed on (they end up in
 * request headers, URLs and TSV state). */
START_TEST(test_control_chars_in_headers_dropped)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 1), 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int c = accept(fd, NULL, NULL);
        char req[4096];
        ssize_t r = read(c, req, sizeof req);
        (void)r;
        static const char ans[] =
            "HTTP/1.1 200 OK\r\n"
            "ETag: \"a\rX-Evil: 1\"\r\n"
            "Last-Modified: Mon,\t23 Nov 2026\r\n"
            "Location: http://h/x\x01y\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\nok";
        ssize_t w = write(c, ans, sizeof ans - 1);
        (void)w;
        close(c);
        _exit(0);
    }
    close(fd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/h", ntohs(sa.sin_port));
    tw_http_opts_t o = {.max_retries = -1};
    tw_http_t *h = s_client(&o);
    tw_http_resp_t resp = {0};
    ck_assert_int_eq(tw_http_get(h, url, NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_null(resp.etag);
    ck_assert_ptr_null(resp.last_modified);
    ck_assert_ptr_null(resp.location);
    ck_assert_str_eq(resp.content_type, "text/plain");
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
    int st;
    waitpid(pid, &st, 0);
}
END_TEST

START_TEST(test_methods_and_bodies)
{
    tw_http_t *h = s_client(NULL);
    tw_http_resp_t resp = {0};
    const char *hdrs[] = {"X-Test: yes", "Content-Type: application/json",
                          NULL};
    ck_assert_int_eq(
        tw_http_post(h, "/echo", hdrs, "{\"a\":1}", 7, &resp, NULL), TW_OK);
    ck_assert_str_eq(resp.body, "POST /echo ct=application/json x=yes len=7 "
                                "body={\"a\":1}");
    ck_assert_int_eq(tw_http_put(h, "/echo", NULL, "abc", 3, &resp, NULL),
                     TW_OK);
    ck_assert_str_eq(resp.body, "PUT /echo ct=- x=- len=3 body=abc");
    ck_assert_int_eq(tw_http_put(h, "/echo", NULL, NULL, 0, &resp, NULL),
                     TW_OK);
    ck_assert_str_eq(resp.body, "PUT /echo ct=- x=- len=0 body=");
    tw_http_req_t req = {.method = "DELETE", .url = "/echo"};
    ck_assert_int_eq(tw_http_request(h, &req, &resp, NULL), TW_OK);
    ck_assert_str_eq(resp.body, "DELETE /echo ct=- x=- len=0 body=");
    ck_assert_int_eq(tw_http_get(h, "/echo", NULL, &resp, NULL), TW_OK);
    ck_assert_str_eq(resp.body, "GET /echo ct=- x=- len=0 body=");
    /* A large body goes without an Expect: 100-continue stall. */
    char big[3000];
    memset(big, 'q', sizeof big);
    ck_assert_int_eq(
        tw_http_post(h, "/echo", NULL, big, sizeof big, &resp, NULL), TW_OK);
    ck_assert_ptr_nonnull(strstr(resp.body, "len=3000"));
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_308_and_redirect_not_followed)
{
    tw_http_t *h = s_client(NULL);
    tw_http_resp_t resp = {0};
    ck_assert_int_eq(tw_http_put(h, "/drive", NULL, "x", 1, &resp, NULL),
                     TW_OK);
    ck_assert_int_eq(resp.status, 308);
    ck_assert_str_eq(resp.range, "bytes=0-262143");
    ck_assert_ptr_null(resp.location);
    ck_assert_int_eq(tw_http_get(h, "/redirect", NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.status, 302);
    ck_assert_str_eq(resp.location, "/echo");
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
    tw_http_opts_t o = {.follow_redirects = 1};
    h = s_client(&o);
    ck_assert_int_eq(tw_http_get(h, "/redirect", NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_ptr_nonnull(strstr(resp.body, "GET /echo"));
    ck_assert_ptr_null(resp.location);
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_cookies_kept_when_asked)
{
    tw_http_t *h = s_client(NULL);
    tw_http_resp_t resp = {0};
    ck_assert_int_eq(tw_http_get(h, "/setcookie", NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(tw_http_get(h, "/cookie", NULL, &resp, NULL), TW_OK);
    ck_assert_str_eq(resp.body, "-");
    tw_http_destroy(&h);
    tw_http_opts_t o = {.cookies = 1};
    h = s_client(&o);
    ck_assert_int_eq(tw_http_get(h, "/setcookie", NULL, &resp, NULL), TW_OK);
    ck_assert_int_eq(tw_http_get(h, "/cookie", NULL, &resp, NULL), TW_OK);
    ck_assert_str_eq(resp.body, "VISITOR=abc123");
    tw_http_resp_clear(&resp);
    tw_http_destroy(&h);
}
END_TEST

START_TEST(test_helpers)
{
    char *u = tw_http_url_join("http://h/api/v3/", "/videos?id=1");
    ck_assert_str_eq(u, "http://h/api/v3/videos?id=1");
    free(u);
    u = tw_http_url_join("http://h/api", "videos");
    ck_assert_str_eq(u, "http://h/api/videos");
    free(u);
    u = tw_http_url_join("http://h/api", "https://other/x");
    ck_assert_str_eq(u, "https://other/x");
    free(u);
    u = tw_http_url_join(NULL, "rel");
    ck_assert_str_eq(u, "rel");
    free(u);
    u = tw_http_escape("a b&c=d/é~");
    ck_assert_str_eq(u, "a%20b%26c%3Dd%2F%C3%A9~");
    free(u);
    ck_assert_int_eq(tw_http_retry_after_ms("5", 60000), 5000);
    ck_assert_int_eq(tw_http_retry_after_ms(" 120 ", 60000), 60000);
    ck_assert_int_eq(tw_http_retry_after_ms("99999999999999999999", 1000),
                     1000);
    ck_assert_int_eq(
        tw_http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1000), -1);
    ck_assert_int_eq(tw_http_retry_after_ms("-1", 1000), -1);
    ck_assert_int_eq(tw_http_retry_after_ms("", 1000), -1);
    ck_assert_int_eq(tw_http_retry_after_ms(NULL, 1000), -1);
    tw_http_resp_t resp = {0};
    tw_http_resp_clear(&resp);
}
END_TEST

Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 15);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_503_then_200_is_retried);
    tcase_add_test(tc, test_default_sleep_is_used);
    tcase_add_test(tc, test_429_honours_retry_after);
    tcase_add_test(tc, test_retries_run_out_with_capped_retry_after);
    tcase_add_test(tc, test_404_not_retried_and_url_redacted);
    tcase_add_test(tc, test_size_cap);
    tcase_add_test(tc, test_gzip_body_decoded);
    tcase_add_test(tc, test_conditional_get_304);
    tcase_add_test(tc, test_timeout_on_slow_handler);
    tcase_add_test(tc, test_network_error_retried);
    tcase_add_test(tc, test_control_chars_in_headers_dropped);
    tcase_add_test(tc, test_methods_and_bodies);
    tcase_add_test(tc, test_308_and_redirect_not_followed);
    tcase_add_test(tc, test_cookies_kept_when_asked);
    suite_add_tcase(s, tc);
    tc = tcase_create("helpers");
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, test_helpers);
    suite_add_tcase(s, tc);
    return s;
}
