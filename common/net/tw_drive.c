/* tw_drive - Google Drive v3: folder lookup, file lookup and resumable
 * uploads with resumption, backoff and md5 verification. */
#include "tw_drive.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tw_backoff.h"
#include "tw_buf.h"
#include "tw_file.h"
#include "tw_http.h"
#include "tw_log.h"

#define CHUNK_UNIT       (256u * 1024)
#define DEF_BACKOFF_BASE 1000
#define DEF_BACKOFF_MAX  64000
#define DEF_MAX_FAILURES 10
#define FOLDER_MIME      "application/vnd.google-apps.folder"
#define FILE_FIELDS      "id,name,size,md5Checksum"

struct tw_drive {
    tw_gauth_t *auth;       /* token source (borrowed) */
    tw_http_t *http;        /* the HTTP client */
    char *api;              /* api_base_url without trailing '/' */
    char *folder_id;        /* cfg folder_id ("" when unset) */
    char *folder_name;      /* cfg folder_name */
    uint64_t chunk;         /* bytes per PUT */
    uint32_t backoff_base;  /* first backoff delay cap, ms */
    uint32_t backoff_max;   /* backoff cap, ms */
    uint32_t max_failures;  /* consecutive failures before giving up */
    tw_drive_tick_fn *tick; /* progress callback or NULL */
    void *tick_arg;         /* its argument */
    tw_drive_stats_t stats; /* counters */
    char auth_hdr[4096];    /* "Authorization: Bearer ..." */
};

tw_rc_t tw_drive_new(tw_drive_t **self_p, const tw_cfg_drive_t *cfg,
                     tw_gauth_t *auth, tw_err_t *err)
{
    assert(self_p);
    assert(cfg);
    assert(auth);
    *self_p = NULL;
    uint64_t chunk = cfg->chunk_size ? cfg->chunk_size : 8u * 1024 * 1024;
    if (chunk % CHUNK_UNIT != 0) {
        tw_err_set(
            err, "[drive] chunk_size %" PRIu64 " is not a multiple of 256 KiB",
            chunk);
        return TW_ERR_CONFIG;
    }
    tw_drive_t *self = calloc(1, sizeof *self);
    if (!self)
        return TW_ERR_NOMEM;
    const char *api = cfg->api_base_url && *cfg->api_base_url
                          ? cfg->api_base_url
                          : "https://www.googleapis.com";
    size_t n = strlen(api);
    while (n > 0 && api[n - 1] == '/')
        n--;
    self->api = strndup(api, n);
    self->folder_id = strdup(cfg->folder_id ? cfg->folder_id : "");
    self->folder_name = strdup(
        cfg->folder_name && *cfg->folder_name ? cfg->folder_name : "tubewatch");
    tw_http_opts_t hopts = {.timeout_ms = 30000, .max_retries = 3};
    self->http = tw_http_new(&hopts);
    if (!self->api || !self->folder_id || !self->folder_name || !self->http) {
        tw_drive_destroy(&self);
        return TW_ERR_NOMEM;
    }
    self->auth = auth;
    self->chunk = chunk;
    self->backoff_base = DEF_BACKOFF_BASE;
    self->backoff_max = DEF_BACKOFF_MAX;
    self->max_failures = DEF_MAX_FAILURES;
    const char *env = getenv("TUBEWATCH_DRIVE_BACKOFF_MS");
    if (env && *env) {
        long v = strtol(env, NULL, 10);
        if (v > 0 && v < 3600000) {
            self->backoff_base = (uint32_t)v;
            if (self->backoff_max < self->backoff_base)
                self->backoff_max = self->backoff_base;
            if (self->backoff_base < 100)
                self->backoff_max = self->backoff_base * 16;
        }
    }
    *self_p = self;
    return TW_OK;
}

void tw_drive_destroy(tw_drive_t **self_p)
{
    assert(self_p);
    tw_drive_t *self = *self_p;
    if (!self)
        return;
    tw_http_destroy(&self->http);
    free(self->api);
    free(self->folder_id);
    free(self->folder_name);
    free(self);
    *self_p = NULL;
}

void tw_drive_set_tick(tw_drive_t *self, tw_drive_tick_fn *fn, void *arg)
{
    assert(self);
    self->tick = fn;
    self->tick_arg = arg;
}

void tw_drive_set_backoff(tw_drive_t *self, uint32_t base_ms, uint32_t max_ms,
                          uint32_t max_failures)
{
    assert(self);
    self->backoff_base = base_ms ? base_ms : 1;
    self->backoff_max =
        max_ms < self->backoff_base ? self->backoff_base : max_ms;
    self->max_failures = max_failures ? max_failures : 1;
}

void tw_drive_stats(const tw_drive_t *self, tw_drive_stats_t *stats)
{
    assert(self);
    assert(stats);
    *stats = self->stats;
}

/* ---- helpers ------------------------------------------------------ */

static bool s_tick(tw_drive_t *self)
{
    return self->tick && self->tick(self->tick_arg) != 0;
}

/* Waits ms in slices, calling the tick callback; false when aborted. */
static bool s_wait(tw_drive_t *self, uint32_t ms)
{
    while (ms > 0) {
        uint32_t step = ms > 100 ? 100 : ms;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
        if (s_tick(self))
            return false;
    }
    return !s_tick(self);
}

static uint32_t s_backoff_ms(tw_drive_t *self, uint32_t failures,
                             const char *retry_after)
{
    int64_t ra = tw_http_retry_after_ms(retry_after, self->backoff_max);
    if (ra >= 0)
        return (uint32_t)ra;
    uint32_t d = tw_backoff_full_jitter(self->backoff_base, self->backoff_max,
                                        failures ? failures - 1 : 0);
    /* never hammer: at least a tenth of the base */
    return d < self->backoff_base / 10 ? self->backoff_base / 10 : d;
}

/* Drive's error reason: errors[0].reason inside "error", or at the top
 * (resumable PUT replies). */
static void s_reason(const tw_http_resp_t *resp, char *out, size_t cap)
{
    tw_drive_error_reason(resp->body, resp->body_len, out, cap);
}

void tw_drive_error_reason(const char *body, size_t len, char *out, size_t cap)
{
    assert(out && cap > 0);
    out[0] = '\0';
    if (!body || !len)
        return;
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!root)
        return;
    json_t *e = json_object_get(root, "error");
    if (!json_is_object(e))
        e = root;
    json_t *errs = json_object_get(e, "errors");
    const char *r =
        json_string_value(json_object_get(json_array_get(errs, 0), "reason"));
    if (!r)
        r = json_string_value(json_object_get(e, "status"));
    snprintf(out, cap, "%s", r ? r : "");
    json_decref(root);
}

static bool s_rate_limited(const char *reason)
{
    return strcmp(reason, "userRateLimitExceeded") == 0 ||
           strcmp(reason, "rateLimitExceeded") == 0 ||
           strcmp(reason, "RESOURCE_EXHAUSTED") == 0;
}

bool tw_drive_id_ok(const char *id)
{
    if (!id)
        return false;
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        if (n >= 127 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

/* Parses a file resource JSON into *file. */
static tw_rc_t s_parse_file(json_t *o, tw_drive_file_t *file, tw_err_t *err)
{
    memset(file, 0, sizeof *file);
    const char *id = json_string_value(json_object_get(o, "id"));
    if (!id || !*id) {
        tw_err_set(err, "Drive answered without a file id");
        return TW_ERR_PARSE;
    }
    if (!tw_drive_id_ok(id)) {
        tw_err_set(err, "Drive answered with a malformed file id");
        return TW_ERR_PARSE;
    }
    snprintf(file->id, sizeof file->id, "%s", id);
    const char *name = json_string_value(json_object_get(o, "name"));
    snprintf(file->name, sizeof file->name, "%s", name ? name : "");
    json_t *sz = json_object_get(o, "size");
    if (json_is_string(sz))
        file->size = strtoull(json_string_value(sz), NULL, 10);
    else if (json_is_integer(sz))
        file->size = (uint64_t)json_integer_value(sz);
    const char *md5 = json_string_value(json_object_get(o, "md5Checksum"));
    if (md5 && strlen(md5) == 32 && strspn(md5, "0123456789abcdef") == 32)
        snprintf(file->md5, sizeof file->md5, "%s", md5);
    return TW_OK;
}

tw_rc_t tw_drive_parse_file(const char *body, size_t len, tw_drive_file_t *file,
                            tw_err_t *err)
{
    assert(file);
    json_t *o = body ? json_loadb(body, len, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        memset(file, 0, sizeof *file);
        tw_err_set(err, "Drive answered without a JSON file resource");
        return TW_ERR_PARSE;
    }
    tw_rc_t rc = s_parse_file(o, file, err);
    json_decref(o);
    return rc;
}

/* Fills the Authorization header from the token source. */
static tw_rc_t s_auth(tw_drive_t *self, tw_err_t *err)
{
    const char *tok = NULL;
    tw_rc_t rc = tw_gauth_token(self->auth, &tok, err);
    if (rc != TW_OK)
        return rc;
    snprintf(self->auth_hdr, sizeof self->auth_hdr, "Authorization: Bearer %s",
             tok);
    return TW_OK;
}

/* One authorised request with a header list extra (may be NULL) of at
 * most 6 entries. A 401 refreshes the token and retries once; a 401 after
 * that is TW_ERR_AUTH. Returns the tw_http rc otherwise. */
static tw_rc_t s_call(tw_drive_t *self, tw_http_req_t *req,
                      const char *const *extra, tw_http_resp_t *resp,
                      tw_err_t *err)
{
    for (int attempt = 0;; attempt++) {
        tw_rc_t rc = s_auth(self, err);
        if (rc != TW_OK)
            return rc;
        const char *hdrs[8];
        size_t n = 0;
        hdrs[n++] = self->auth_hdr;
        for (size_t i = 0; extra && extra[i] && n < 7; i++)
            hdrs[n++] = extra[i];
        hdrs[n] = NULL;
        req->headers = hdrs;
        self->stats.requests++;
        rc = tw_http_request(self->http, req, resp, err);
        req->headers = NULL;
        if (resp->status != 401)
            return rc;
        tw_gauth_invalidate(self->auth);
        self->stats.refreshes++;
        if (attempt > 0) {
            tw_err_set(err, "Drive refused a freshly issued access token "
                            "(HTTP 401)");
            return TW_ERR_AUTH;
        }
    }
}

/* A metadata request (GET/POST), retried on 403 rate limits beyond what
 * tw_http retries. On TW_OK resp holds a 2xx reply with a JSON body parsed
 * into *json (caller decrefs; may be NULL when json is NULL). */
static tw_rc_t s_meta(tw_drive_t *self, tw_http_req_t *req,
                      const char *const *extra, tw_http_resp_t *resp,
                      json_t **json, tw_err_t *err)
{
    /* retried here, not in tw_http, so that waits keep ticking */
    req->max_retries = -1;
    for (uint32_t failures = 0;;) {
        tw_rc_t rc = s_call(self, req, extra, resp, err);
        char reason[64] = "";
        if (rc == TW_ERR_HTTP)
            s_reason(resp, reason, sizeof reason);
        bool transient = rc == TW_ERR_AGAIN || rc == TW_ERR_NET ||
                         rc == TW_ERR_TIMEOUT ||
                         (rc == TW_ERR_HTTP && resp->status == 403 &&
                          s_rate_limited(reason));
        if (transient) {
            self->stats.failures++;
            if (++failures >= self->max_failures)
                return TW_ERR_AGAIN;
            if (!s_wait(self, s_backoff_ms(self, failures, resp->retry_after)))
                return TW_ERR_CLOSED;
            continue;
        }
        if (rc == TW_ERR_HTTP && strcmp(reason, "storageQuotaExceeded") == 0) {
            tw_err_set(err, "Google Drive storage quota exceeded "
                            "(storageQuotaExceeded): free space or use a "
                            "shared drive");
            return TW_ERR_QUOTA;
        }
        if (rc == TW_ERR_HTTP) {
            tw_err_set(err, "Drive refused the request: HTTP %ld %s",
                       resp->status, reason);
            return TW_ERR_HTTP;
        }
        if (rc != TW_OK)
            return rc;
        if (json) {
            *json = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL)
                               : NULL;
            if (!json_is_object(*json)) {
                json_decref(*json);
                *json = NULL;
                tw_err_set(err, "Drive answered HTTP %ld without JSON",
                           resp->status);
                return TW_ERR_PARSE;
            }
        }
        return TW_OK;
    }
}

char *tw_drive_q_escape(const char *name)
{
    assert(name);
    size_t n = strlen(name);
    char *out = malloc(2 * n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '\'' || name[i] == '\\')
            out[o++] = '\\';
        out[o++] = name[i];
    }
    out[o] = '\0';
    return out;
}

/* GETs files?q=... and returns the parsed list (caller decrefs). */
static tw_rc_t s_list(tw_drive_t *self, const char *q, const char *fields,
                      json_t **files, tw_err_t *err)
{
    *files = NULL;
    char *eq = tw_http_escape(q);
    char *ef = tw_http_escape(fields);
    tw_buf_t *url = tw_buf_new();
    tw_rc_t rc = TW_ERR_NOMEM;
    if (eq && ef && url &&
        tw_buf_printf(url,
                      "%s/drive/v3/files?q=%s&fields=%s&spaces=drive&"
                      "orderBy=createdTime&pageSize=100&"
                      "supportsAllDrives=true&includeItemsFromAllDrives=true",
                      self->api, eq, ef) == TW_OK) {
        tw_http_req_t req = {.method = "GET", .url = tw_buf_data(url)};
        tw_http_resp_t resp = {0};
        json_t *root = NULL;
        rc = s_meta(self, &req, NULL, &resp, &root, err);
        tw_http_resp_clear(&resp);
        if (rc == TW_OK) {
            *files = json_incref(json_object_get(root, "files"));
            json_decref(root);
            if (!json_is_array(*files)) {
                json_decref(*files);
                *files = NULL;
                tw_err_set(err, "Drive file list without \"files\"");
                rc = TW_ERR_PARSE;
            }
        }
    }
    free(eq);
    free(ef);
    tw_buf_destroy(&url);
    return rc;
}

tw_rc_t tw_drive_folder(tw_drive_t *self, char *id, size_t cap, tw_err_t *err)
{
    assert(self);
    assert(id);
    assert(cap > 0);
    if (*self->folder_id) {
        if (!tw_drive_id_ok(self->folder_id)) {
            tw_err_set(err, "drive folder_id is not a Drive id");
            return TW_ERR_CONFIG;
        }
        snprintf(id, cap, "%s", self->folder_id);
        return TW_OK;
    }
    char *esc = tw_drive_q_escape(self->folder_name);
    if (!esc)
        return TW_ERR_NOMEM;
    size_t qlen = strlen(esc) + 200;
    char *q = malloc(qlen);
    if (!q) {
        free(esc);
        return TW_ERR_NOMEM;
    }
    snprintf(q, qlen,
             "mimeType='" FOLDER_MIME "' and name='%s' and 'root' in parents "
             "and trashed=false",
             esc);
    free(esc);
    json_t *files = NULL;
    tw_rc_t rc = s_list(self, q, "files(id,name)", &files, err);
    free(q);
    if (rc != TW_OK)
        return rc;
    const char *found =
        json_string_value(json_object_get(json_array_get(files, 0), "id"));
    if (found && !tw_drive_id_ok(found)) {
        json_decref(files);
        tw_err_set(err, "Drive answered with a malformed folder id");
        return TW_ERR_PARSE;
    }
    if (found) {
        snprintf(id, cap, "%s", found);
        json_decref(files);
        return TW_OK;
    }
    json_decref(files);
    json_t *meta = json_pack("{s:s, s:s, s:[s]}", "name", self->folder_name,
                             "mimeType", FOLDER_MIME, "parents", "root");
    char *body = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    json_decref(meta);
    size_t ulen = strlen(self->api) + 64;
    char *url = malloc(ulen);
    if (!body || !url) {
        free(body);
        free(url);
        return TW_ERR_NOMEM;
    }
    snprintf(url, ulen, "%s/drive/v3/files?fields=id&supportsAllDrives=true",
             self->api);
    static const char *const hdrs[] = {
        "Content-Type: application/json; charset=UTF-8", NULL};
    tw_http_req_t req = {
        .method = "POST", .url = url, .body = body, .body_len = strlen(body)};
    tw_http_resp_t resp = {0};
    json_t *root = NULL;
    rc = s_meta(self, &req, hdrs, &resp, &root, err);
    tw_http_resp_clear(&resp);
    free(body);
    free(url);
    if (rc != TW_OK)
        return rc;
    const char *created = json_string_value(json_object_get(root, "id"));
    if (!tw_drive_id_ok(created)) {
        json_decref(root);
        tw_err_set(err, "Drive created the folder but sent no usable id");
        return TW_ERR_PARSE;
    }
    snprintf(id, cap, "%s", created);
    json_decref(root);
    tw_log_info("created Drive folder '%s'", self->folder_name);
    return TW_OK;
}

tw_rc_t tw_drive_find(tw_drive_t *self, const char *folder_id, const char *name,
                      const char *want_md5, tw_drive_file_t *file,
                      tw_err_t *err)
{
    assert(self);
    assert(folder_id);
    assert(name);
    assert(file);
    char *en = tw_drive_q_escape(name);
    char *ef = tw_drive_q_escape(folder_id);
    size_t qlen = (en ? strlen(en) : 0) + (ef ? strlen(ef) : 0) + 100;
    char *q = malloc(qlen);
    if (!en || !ef || !q) {
        free(en);
        free(ef);
        free(q);
        return TW_ERR_NOMEM;
    }
    snprintf(q, qlen, "name='%s' and '%s' in parents and trashed=false", en,
             ef);
    free(en);
    free(ef);
    json_t *files = NULL;
    tw_rc_t rc = s_list(self, q, "files(" FILE_FIELDS ")", &files, err);
    free(q);
    if (rc != TW_OK)
        return rc;
    size_t i;
    json_t *f;
    json_t *pick = NULL;
    json_array_foreach(files, i, f)
    {
        const char *fn = json_string_value(json_object_get(f, "name"));
        if (!fn || strcmp(fn, name) != 0)
            continue;
        const char *m = json_string_value(json_object_get(f, "md5Checksum"));
        if (!pick)
            pick = f;
        if (want_md5 && m && strcmp(m, want_md5) == 0) {
            pick = f;
            break;
        }
    }
    if (!pick) {
        json_decref(files);
        tw_err_set(err, "no file '%s' in the Drive folder", name);
        return TW_ERR_NOTFOUND;
    }
    rc = s_parse_file(pick, file, err);
    json_decref(files);
    return rc;
}

tw_rc_t tw_drive_start(tw_drive_t *self, const char *folder_id,
                       const char *name, const char *mime, uint64_t size,
                       char **session, tw_err_t *err)
{
    assert(self);
    assert(folder_id);
    assert(name);
    assert(mime);
    assert(session);
    *session = NULL;
    json_t *meta =
        json_pack("{s:s, s:[s]}", "name", name, "parents", folder_id);
    char *body = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    json_decref(meta);
    size_t ulen = strlen(self->api) + 128;
    char *url = malloc(ulen);
    char h_type[300], h_len[80];
    if (!body || !url) {
        free(body);
        free(url);
        return TW_ERR_NOMEM;
    }
    snprintf(url, ulen,
             "%s/upload/drive/v3/files?uploadType=resumable&fields=" FILE_FIELDS
             "&supportsAllDrives=true",
             self->api);
    snprintf(h_type, sizeof h_type, "X-Upload-Content-Type: %s", mime);
    snprintf(h_len, sizeof h_len, "X-Upload-Content-Length: %" PRIu64, size);
    const char *const hdrs[] = {"Content-Type: application/json; charset=UTF-8",
                                h_type, h_len, NULL};
    tw_http_req_t req = {
        .method = "POST", .url = url, .body = body, .body_len = strlen(body)};
    tw_http_resp_t resp = {0};
    tw_rc_t rc = s_meta(self, &req, hdrs, &resp, NULL, err);
    free(body);
    free(url);
    if (rc == TW_OK && (!resp.location || !*resp.location)) {
        tw_err_set(err, "Drive started no upload session (no Location)");
        rc = TW_ERR_PARSE;
    }
    if (rc == TW_OK) {
        *session = strdup(resp.location);
        if (!*session)
            rc = TW_ERR_NOMEM;
    }
    tw_http_resp_clear(&resp);
    return rc;
}

tw_rc_t tw_drive_delete(tw_drive_t *self, const char *file_id, tw_err_t *err)
{
    assert(self);
    assert(file_id);
    char *id = tw_http_escape(file_id);
    size_t ulen = strlen(self->api) + (id ? strlen(id) : 0) + 64;
    char *url = malloc(ulen);
    if (!id || !url) {
        free(id);
        free(url);
        return TW_ERR_NOMEM;
    }
    snprintf(url, ulen, "%s/drive/v3/files/%s?supportsAllDrives=true",
             self->api, id);
    free(id);
    tw_http_req_t req = {.method = "DELETE", .url = url};
    tw_http_resp_t resp = {0};
    tw_rc_t rc = s_meta(self, &req, NULL, &resp, NULL, err);
    if (rc == TW_ERR_HTTP && resp.status == 404) {
        tw_err_clear(err);
        rc = TW_OK;
    }
    tw_http_resp_clear(&resp);
    free(url);
    return rc;
}

/* Parses a 308's Range header ("bytes=0-LAST"): the next offset. */
static uint64_t s_next_offset(const char *range)
{
    if (!range)
        return 0;
    const char *dash = strchr(range, '-');
    if (!dash)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long last = strtoull(dash + 1, &end, 10);
    if (errno || end == dash + 1)
        return 0;
    return (uint64_t)last + 1;
}

tw_rc_t tw_drive_send(tw_drive_t *self, const char *session, const char *path,
                      uint64_t size, const char *md5, tw_drive_file_t *file,
                      tw_err_t *err)
{
    assert(self);
    assert(session);
    assert(path);
    assert(file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tw_err_set(err, "unable to open %s: %s", path, strerror(errno));
        return tw_file_errno_rc(errno);
    }
    size_t cap = (size_t)(self->chunk < size ? self->chunk : size);
    char *buf = malloc(cap ? cap : 1);
    if (!buf) {
        close(fd);
        return TW_ERR_NOMEM;
    }
    tw_rc_t rc = TW_OK;
    bool known = false; /* offset known; else ask the server */
    uint64_t off = 0;
    uint32_t failures = 0;
    char crange[96];
    for (;;) {
        if (s_tick(self)) {
            rc = TW_ERR_CLOSED;
            break;
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size) {
            tw_err_set(err, "%s changed size during the upload", path);
            rc = TW_ERR_IO;
            break;
        }
        size_t n = 0;
        if (!known) {
            snprintf(crange, sizeof crange, "Content-Range: bytes */%" PRIu64,
                     size);
            self->stats.queries++;
        } else {
            uint64_t left = size - off;
            n = (size_t)(left < self->chunk ? left : self->chunk);
            size_t got = 0;
            while (got < n) {
                ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0) {
                    tw_err_set(err, "unable to read %s: %s", path,
                               r < 0 ? strerror(errno) : "short file");
                    rc = TW_ERR_IO;
                    break;
                }
                got += (size_t)r;
            }
            if (rc != TW_OK)
                break;
            if (n == 0)
                snprintf(crange, sizeof crange,
                         "Content-Range: bytes */%" PRIu64, size);
            else
                snprintf(crange, sizeof crange,
                         "Content-Range: bytes %" PRIu64 "-%" PRIu64
                         "/%" PRIu64,
                         off, off + n - 1, size);
            self->stats.puts++;
            self->stats.bytes_sent += n;
        }
        const char *const hdrs[] = {crange, NULL};
        tw_http_req_t req = {.method = "PUT",
                             .url = session,
                             .body = n ? buf : "",
                             .body_len = n,
                             .max_retries = -1,
                             .timeout_ms = 60000 + (uint32_t)(n / 16)};
        tw_http_resp_t resp = {0};
        tw_err_t herr = {0};
        tw_rc_t hrc = s_call(self, &req, hdrs, &resp, &herr);
        long st_code = resp.status;
        if (hrc == TW_ERR_AUTH || hrc == TW_ERR_NOMEM ||
            hrc == TW_ERR_INVALID ||
            (hrc != TW_OK && hrc != TW_ERR_HTTP && hrc != TW_ERR_AGAIN &&
             hrc != TW_ERR_NET && hrc != TW_ERR_TIMEOUT)) {
            if (err)
                *err = herr;
            tw_http_resp_clear(&resp);
            rc = hrc;
            break;
        }
        if (st_code == 200 || st_code == 201) {
            json_t *o = resp.body
                            ? json_loadb(resp.body, resp.body_len, 0, NULL)
                            : NULL;
            rc = o ? s_parse_file(o, file, err) : TW_ERR_PARSE;
            if (!o)
                tw_err_set(err, "Drive finished the upload without JSON");
            json_decref(o);
            tw_http_resp_clear(&resp);
            if (rc == TW_OK && md5 && strcmp(file->md5, md5) != 0) {
                tw_err_set(err,
                           "Drive's md5Checksum '%s' of %s differs from the "
                           "local %s",
                           file->md5, file->name, md5);
                rc = TW_ERR_IO;
            }
            if (rc == TW_OK && file->size != size) {
                tw_err_set(err,
                           "Drive holds %" PRIu64 " bytes of %s, not %" PRIu64,
                           file->size, file->name, size);
                rc = TW_ERR_IO;
            }
            break;
        }
        if (st_code == 308) {
            uint64_t next = s_next_offset(resp.range);
            tw_http_resp_clear(&resp);
            if (next > size) {
                tw_err_set(err, "Drive claims %" PRIu64 " of %" PRIu64 " bytes",
                           next, size);
                rc = TW_ERR_PROTO;
                break;
            }
            if (!known || next > off)
                failures = 0;
            off = next;
            known = true;
            continue;
        }
        if (st_code == 404 || st_code == 410) {
            tw_http_resp_clear(&resp);
            tw_err_set(err, "the Drive upload session is gone (HTTP %ld)",
                       st_code);
            rc = TW_ERR_NOTFOUND;
            break;
        }
        char reason[64] = "";
        s_reason(&resp, reason, sizeof reason);
        if (st_code == 403 && strcmp(reason, "storageQuotaExceeded") == 0) {
            tw_http_resp_clear(&resp);
            tw_err_set(err, "Google Drive storage quota exceeded "
                            "(storageQuotaExceeded): free space or use a "
                            "shared drive");
            rc = TW_ERR_QUOTA;
            break;
        }
        bool transient = st_code == 0 || st_code >= 500 || st_code == 429 ||
                         st_code == 408 ||
                         (st_code == 403 && s_rate_limited(reason));
        if (!transient) {
            tw_err_set(err, "Drive refused the upload: HTTP %ld %s", st_code,
                       reason);
            tw_http_resp_clear(&resp);
            rc = TW_ERR_HTTP;
            break;
        }
        self->stats.failures++;
        failures++;
        tw_log_debug("upload of %s: %s; asking what Drive holds", path,
                     st_code ? "server error" : herr.msg);
        uint32_t wait = s_backoff_ms(self, failures, resp.retry_after);
        tw_http_resp_clear(&resp);
        if (failures >= self->max_failures) {
            tw_err_set(err, "upload of %s failed %u times in a row (last: %s)",
                       path, failures, st_code ? "HTTP error" : herr.msg);
            rc = TW_ERR_AGAIN;
            break;
        }
        if (!s_wait(self, wait)) {
            rc = TW_ERR_CLOSED;
            break;
        }
        known = false;
    }
    free(buf);
    close(fd);
    return rc;
}

tw_rc_t tw_drive_md5_file(const char *path, char hex[33], uint64_t *size,
                          tw_err_t *err)
{
    assert(path);
    assert(hex);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tw_err_set(err, "unable to open %s: %s", path, strerror(errno));
        return tw_file_errno_rc(errno);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        close(fd);
        return TW_ERR_NOMEM;
    }
    static char buf[1 << 16];
    uint64_t total = 0;
    tw_rc_t rc = TW_OK;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            tw_err_set(err, "unable to read %s: %s", path, strerror(errno));
            rc = tw_file_errno_rc(errno);
            break;
        }
        if (r == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        total += (uint64_t)r;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    close(fd);
    if (rc != TW_OK)
        return rc;
    for (unsigned i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (size)
        *size = total;
    return TW_OK;
}
