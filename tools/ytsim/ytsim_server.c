/* ytsim_server - the simulator's main: CLI, libmicrohttpd glue, routing,
 * fault injection, request log, truth files and clean shutdown. */
#include "ytsim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tw_log.h"

/* Per-endpoint request counter (for deterministic fault shares). */
typedef struct {
    char name[40];  /* endpoint */
    uint64_t count; /* requests seen */
} s_epcount_t;

struct ytsim_srv {
    ytsim_scn_t scn;        /* the scenario */
    double speed;           /* sim seconds per real second */
    double t0;              /* sim time at start */
    double mono0;           /* monotonic clock at start */
    char out[3072];         /* output directory */
    pthread_mutex_t mu;     /* guards mutable module state */
    pthread_mutex_t log_mu; /* guards the log files */
    FILE *reqlog;           /* requests.log */
    FILE *stats;            /* truth/stats.tsv */
    s_epcount_t eps[64];    /* fault counters */
    int n_eps;              /* used counters */
};

static ytsim_srv_t s_srv;

double ytsim_real(ytsim_srv_t *srv)
{
    return ytsim_mono() - srv->mono0;
}

double ytsim_now(ytsim_srv_t *srv)
{
    return srv->t0 + ytsim_real(srv) * srv->speed;
}

int64_t ytsim_wall_usec(ytsim_srv_t *srv, double t)
{
    return srv->scn.epoch_usec + (int64_t)(t * 1e6);
}

ytsim_scn_t *ytsim_scn(ytsim_srv_t *srv)
{
    return &srv->scn;
}

const char *ytsim_out(ytsim_srv_t *srv)
{
    return srv->out;
}

double ytsim_lifetime_clock(ytsim_srv_t *srv)
{
    return tw_time_test_clock(NULL) ? ytsim_now(srv) : ytsim_real(srv);
}

double ytsim_speed(ytsim_srv_t *srv)
{
    return srv->speed;
}

void ytsim_lock(ytsim_srv_t *srv)
{
    pthread_mutex_lock(&srv->mu);
}

void ytsim_unlock(ytsim_srv_t *srv)
{
    pthread_mutex_unlock(&srv->mu);
}

ytsim_stream_t *ytsim_find_stream(ytsim_srv_t *srv, const char *id)
{
    if (!id) {
        return NULL;
    }
    for (size_t i = 0; i < srv->scn.n_streams; i++) {
        if (strcmp(srv->scn.streams[i].id, id) == 0) {
            return &srv->scn.streams[i];
        }
    }
    return NULL;
}

int ytsim_find_channel(ytsim_srv_t *srv, const char *key)
{
    if (!key) {
        return -1;
    }
    const char *h = key[0] == '@' ? key + 1 : key;
    for (size_t i = 0; i < srv->scn.n_chans; i++) {
        if (strcmp(srv->scn.chans[i].id, key) == 0 ||
            strcasecmp(srv->scn.chans[i].handle, h) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void ytsim_truth_stats(ytsim_srv_t *srv, const char *source,
                       const ytsim_stream_t *s, double t,
                       const ytsim_stats_t *st, bool live)
{
    char ts[48];
    ytsim_fmt_time(ts, sizeof ts, ytsim_wall_usec(srv, t), 6, false);
    ytsim_buf_t b = {0};
    ytsim_buf_printf(&b, "%s\t%s\t%s\t%s\t", ts, source,
                     srv->scn.chans[s->chan].id, s->id);
    if (live) {
        ytsim_buf_u64(&b, st->viewers);
    }
    YB(&b, "\t");
    ytsim_buf_u64(&b, st->views);
    YB(&b, "\t");
    if (!s->likes_hidden) {
        ytsim_buf_u64(&b, st->likes);
    }
    YB(&b, "\t0\t");
    if (!s->comments_disabled) {
        ytsim_buf_u64(&b, st->comments);
    }
    YB(&b, "\n");
    pthread_mutex_lock(&srv->log_mu);
    if (srv->stats) {
        fwrite(b.p, 1, b.len, srv->stats);
    }
    pthread_mutex_unlock(&srv->log_mu);
    ytsim_buf_free(&b);
}

/* ---- request helpers ---------------------------------------------- */

void ytsim_resp_header(ytsim_resp_t *rs, const char *name, const char *fmt, ...)
{
    if (rs->nh >= 6) {
        return;
    }
    snprintf(rs->hname[rs->nh], sizeof rs->hname[0], "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rs->hval[rs->nh], sizeof rs->hval[0], fmt, ap);
    va_end(ap);
    rs->nh++;
}

ytsim_buf_t *ytsim_resp_json(ytsim_resp_t *rs, int status)
{
    rs->status = status;
    rs->ctype = "application/json; charset=UTF-8";
    rs->body.len = 0;
    return &rs->body;
}

const char *ytsim_header(ytsim_req_t *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *ytsim_query(ytsim_req_t *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

void *ytsim_body_json(ytsim_req_t *rq)
{
    if (!rq->json_tried) {
        rq->json_tried = true;
        if (rq->body.len > 0) {
            rq->json = json_loadb(rq->body.p, rq->body.len, 0, NULL);
        }
    }
    return rq->json;
}

static int s_hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static char *s_urldecode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    if (!o) {
        abort();
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            o[k++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && s_hexval(s[i + 1]) >= 0 &&
                   s_hexval(s[i + 2]) >= 0) {
            o[k++] = (char)(s_hexval(s[i + 1]) * 16 + s_hexval(s[i + 2]));
            i += 2;
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = '\0';
    return o;
}

static void s_parse_form(ytsim_req_t *rq)
{
    rq->form_tried = true;
    const char *ct = ytsim_header(rq, "Content-Type");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        rq->body.len == 0) {
        return;
    }
    size_t n = 1;
    for (size_t i = 0; i < rq->body.len; i++) {
        n += rq->body.p[i] == '&';
    }
    rq->form = calloc(2 * n + 1, sizeof(char *));
    if (!rq->form) {
        abort();
    }
    size_t k = 0;
    const char *p = rq->body.p, *end = rq->body.p + rq->body.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp) {
            amp = end;
        }
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        if (amp > p) {
            const char *ke = eq ? eq : amp;
            rq->form[k++] = s_urldecode(p, (size_t)(ke - p));
            rq->form[k++] = eq ? s_urldecode(eq + 1, (size_t)(amp - eq - 1))
                               : s_urldecode("", 0);
        }
        p = amp + 1;
    }
}

const char *ytsim_param(ytsim_req_t *rq, const char *name)
{
    const char *v = ytsim_query(rq, name);
    if (v) {
        return v;
    }
    if (!rq->form_tried) {
        s_parse_form(rq);
    }
    for (size_t i = 0; rq->form && rq->form[i]; i += 2) {
        if (strcmp(rq->form[i], name) == 0) {
            return rq->form[i + 1];
        }
    }
    const char *ct = ytsim_header(rq, "Content-Type");
    if (ct && strncasecmp(ct, "application/json", 16) == 0) {
        json_t *j = ytsim_body_json(rq);
        json_t *f = j && json_is_object(j) ? json_object_get(j, name) : NULL;
        if (!f || rq->n_strs >= 64) {
            return NULL;
        }
        char *s;
        if (json_is_string(f)) {
            s = strdup(json_string_value(f));
        } else {
            s = json_dumps(f, JSON_ENCODE_ANY | JSON_COMPACT);
        }
        if (!s) {
            abort();
        }
        rq->strs[rq->n_strs++] = s;
        return s;
    }
    return NULL;
}

static void s_req_free(ytsim_req_t *rq)
{
    ytsim_buf_free(&rq->body);
    ytsim_buf_free(&rq->scratch);
    if (rq->json) {
        json_decref(rq->json);
    }
    for (size_t i = 0; rq->form && rq->form[i]; i++) {
        free(rq->form[i]);
    }
    free(rq->form);
    for (int i = 0; i < rq->n_strs; i++) {
        free(rq->strs[i]);
    }
    free(rq);
}

/* ---- endpoints and faults ------------------------------------------ */

void ytsim_endpoint_name(const char *method, const char *path, char *out,
                         size_t cap)
{
    static const struct {
        const char *prefix;
        const char *name;
    } tab[] = {
        {"/feeds/videos.xml", "rss"},
        {"/watch", "watch"},
        {"/youtubei/v1/next", "next"},
        {"/youtubei/v1/live_chat/get_live_chat_replay", "get_live_chat_replay"},
        {"/youtubei/v1/live_chat/get_live_chat", "get_live_chat"},
        {"/youtubei/v1/updated_metadata", "updated_metadata"},
        {"/live_chat_replay", "live_chat_replay"},
        {"/live_chat", "live_chat"},
        {"/youtube/v3/videos", "videos"},
        {"/youtube/v3/channels", "channels"},
        {"/youtube/v3/playlistItems", "playlistItems"},
        {"/youtube/v3/search", "search"},
        {"/youtube/v3/liveChat/messages", "liveChatMessages"},
        {"/token", "token"},
        {"/device/code", "device_code"},
        {"/upload/drive/v3/files", "drive_upload"},
        {"/drive/v3/files", "drive_files"},
        {"/@", "channel_page"},
        {"/channel/", "channel_page"},
        {"/ytsim/status", "ytsim_status"},
        {"/subjects", "registry_subjects"},
        {"/schemas/", "registry_schemas"},
        {"/config", "registry_config"},
    };
    (void)method;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (strncmp(path, tab[i].prefix, strlen(tab[i].prefix)) == 0) {
            snprintf(out, cap, "%s", tab[i].name);
            return;
        }
    }
    if (strncmp(path, "/bot", 4) == 0) {
        const char *m = strrchr(path, '/');
        snprintf(out, cap, "telegram_%s", m ? m + 1 : "");
        for (char *c = out; *c; c++) {
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        }
        return;
    }
    snprintf(out, cap, "other");
}

static bool s_ep_match(const char *rule, const char *ep)
{
    if (strcmp(ep, "ytsim_status") == 0) {
        return false; /* the control endpoint never fails */
    }
    if (strcmp(rule, "*") == 0 || strcmp(rule, ep) == 0) {
        return true;
    }
    /* "telegram" covers telegram_*, "youtubei" the innertube calls,
     * "dataapi" the Data API, "drive" both Drive endpoints */
    if (strcmp(rule, "telegram") == 0) {
        return strncmp(ep, "telegram_", 9) == 0;
    }
    if (strcmp(rule, "drive") == 0) {
        return strncmp(ep, "drive_", 6) == 0;
    }
    if (strcmp(rule, "registry") == 0) {
        return strncmp(ep, "registry_", 9) == 0;
    }
    if (strcmp(rule, "youtubei") == 0) {
        return strcmp(ep, "next") == 0 || strcmp(ep, "get_live_chat") == 0 ||
               strcmp(ep, "get_live_chat_replay") == 0 ||
               strcmp(ep, "updated_metadata") == 0;
    }
    if (strcmp(rule, "dataapi") == 0) {
        return strcmp(ep, "videos") == 0 || strcmp(ep, "channels") == 0 ||
               strcmp(ep, "playlistItems") == 0 || strcmp(ep, "search") == 0 ||
               strcmp(ep, "liveChatMessages") == 0;
    }
    return false;
}

static uint64_t s_ep_counter(ytsim_srv_t *srv, const char *ep)
{
    uint64_t c = 0;
    pthread_mutex_lock(&srv->log_mu);
    int i = 0;
    for (; i < srv->n_eps; i++) {
        if (strcmp(srv->eps[i].name, ep) == 0) {
            break;
        }
    }
    if (i == srv->n_eps && i < 64) {
        snprintf(srv->eps[i].name, sizeof srv->eps[i].name, "%s", ep);
        srv->eps[i].count = 0;
        srv->n_eps++;
    }
    if (i < 64) {
        c = srv->eps[i].count++;
    }
    pthread_mutex_unlock(&srv->log_mu);
    return c;
}

static void s_fault_body(ytsim_resp_t *rs, const char *ep, int code,
                         const char *status, const char *reason,
                         const char *msg)
{
    ytsim_buf_t *b = ytsim_resp_json(rs, code);
    if (strncmp(ep, "telegram_", 9) == 0) {
        ytsim_buf_printf(
            b, "{\"ok\":false,\"error_code\":%d,\"description\":", code);
        ytsim_buf_jstr(b, msg);
        YB(b, "}");
        return;
    }
    if (strncmp(ep, "registry_", 9) == 0) {
        /* Confluent's error body; 50001 = "Error in the backend data
         * store" */
        ytsim_buf_printf(
            b, "{\"error_code\":%d,\"message\":", code >= 500 ? 50001 : code);
        ytsim_buf_jstr(b, msg);
        YB(b, "}");
        return;
    }
    if (strcmp(ep, "token") == 0 || strcmp(ep, "device_code") == 0) {
        YB(b, "{\"error\":\"internal_failure\",\"error_description\":");
        ytsim_buf_jstr(b, msg);
        YB(b, "}");
        return;
    }
    ytsim_buf_printf(b, "{\"error\":{\"code\":%d,\"message\":", code);
    ytsim_buf_jstr(b, msg);
    YB(b, ",\"errors\":[{\"message\":");
    ytsim_buf_jstr(b, msg);
    ytsim_buf_printf(b,
                     ",\"domain\":\"global\",\"reason\":\"%s\"}],"
                     "\"status\":\"%s\"}}",
                     reason, status);
}

/* Answers with the quota error of the endpoint's service. */
static void s_quota_fault(ytsim_resp_t *rs, const char *ep, int retry_after)
{
    ytsim_buf_t *b;
    if (strncmp(ep, "drive_", 6) == 0) {
        b = ytsim_resp_json(rs, 403);
        YB(b, "{\"error\":{\"errors\":[{\"domain\":\"global\",\"reason\":"
              "\"storageQuotaExceeded\",\"message\":\"The user's Drive "
              "storage quota has been exceeded.\"}],\"code\":403,\"message\""
              ":\"The user's Drive storage quota has been exceeded.\"}}");
    } else if (strncmp(ep, "telegram_", 9) == 0 || strcmp(ep, "token") == 0) {
        b = ytsim_resp_json(rs, 429);
        ytsim_buf_printf(b,
                         "{\"ok\":false,\"error_code\":429,"
                         "\"description\":\"Too Many Requests: retry "
                         "after %d\",\"parameters\":{\"retry_after\":%d}}",
                         retry_after, retry_after);
        ytsim_resp_header(rs, "Retry-After", "%d", retry_after);
    } else {
        b = ytsim_resp_json(rs, 403);
        YB(b, "{\"error\":{\"code\":403,\"message\":\"The request cannot be "
              "completed because you have exceeded your <a href=\\\"/youtube/"
              "v3/getting-started#quota\\\">quota</a>.\",\"errors\":[{"
              "\"message\":\"The request cannot be completed because you "
              "have exceeded your <a href=\\\"/youtube/v3/getting-started#"
              "quota\\\">quota</a>.\",\"domain\":\"youtube.quota\","
              "\"reason\":\"quotaExceeded\"}]}}");
    }
}

/* The feed outage: the RSS feed of the rule's channel (or of every channel)
 * answers YouTube's HTML error page with the rule's status (404 or 500)
 * for the whole window. */
static bool s_feed_outage(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs,
                          const ytsim_fault_t *f)
{
    if (strcmp(rq->ep, "rss") != 0) {
        return false;
    }
    if (f->channel[0]) {
        const char *cid = ytsim_query(rq, "channel_id");
        const char *pid = ytsim_query(rq, "playlist_id");
        char key[32];
        if (!cid && pid && strlen(pid) == 24 && strncmp(pid, "UU", 2) == 0) {
            snprintf(key, sizeof key, "UC%s", pid + 2);
            cid = key;
        }
        int want = ytsim_find_channel(srv, f->channel);
        if (!cid || want < 0 || ytsim_find_channel(srv, cid) != want) {
            return false;
        }
    }
    int code = f->status ? f->status : 404;
    rs->status = code;
    rs->ctype = "text/html; charset=utf-8";
    ytsim_buf_printf(&rs->body,
                     "<!DOCTYPE html><html lang=en><meta charset=utf-8>"
                     "<title>Error %d</title><p><b>%d.</b> That’s an error."
                     "</html>",
                     code, code);
    return true;
}

/* Applies the first matching fault; returns true when the request must not
 * reach its handler (answered or dropped). *slow_ms and *post get the
 * faults that act after the handler; *huge_mb the size of a huge body. */
static bool s_fault(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs,
                    int *slow_ms, int *post, int *huge_mb)
{
    double now = ytsim_now(srv);
    bool counted = false;
    uint64_t c = 0;
    for (size_t i = 0; i < srv->scn.n_faults; i++) {
        const ytsim_fault_t *f = &srv->scn.faults[i];
        if (now < f->from || now >= f->to || !s_ep_match(f->endpoint, rq->ep)) {
            continue;
        }
        if (!counted) {
            c = s_ep_counter(srv, rq->ep);
            counted = true;
        }
        double u = ytsim_unit(
            ytsim_hash3(srv->scn.seed ^ ytsim_strhash(f->endpoint),
                        ytsim_strhash(rq->ep) ^ (uint64_t)f->kind, c));
        if (f->share < 1.0 && u >= f->share) {
            continue;
        }
        switch (f->kind) {
        case YTSIM_F_5XX: {
            int code = f->status ? f->status : 503;
            s_fault_body(rs, rq->ep, code,
                         code == 503 ? "UNAVAILABLE" : "INTERNAL",
                         "backendError",
                         code == 503 ? "The service is currently unavailable."
                                     : "Internal error encountered.");
            return true;
        }
        case YTSIM_F_429: {
            char msg[64];
            if (strncmp(rq->ep, "telegram_", 9) == 0) {
                snprintf(msg, sizeof msg, "Too Many Requests: retry after %d",
                         f->retry_after);
                ytsim_buf_t *b = ytsim_resp_json(rs, 429);
                ytsim_buf_printf(b,
                                 "{\"ok\":false,\"error_code\":429,"
                                 "\"description\":\"%s\",\"parameters\":{"
                                 "\"retry_after\":%d}}",
                                 msg, f->retry_after);
            } else {
                s_fault_body(rs, rq->ep, 429, "RESOURCE_EXHAUSTED",
                             "rateLimitExceeded",
                             "Resource has been exhausted (e.g. check quota).");
            }
            ytsim_resp_header(rs, "Retry-After", "%d", f->retry_after);
            return true;
        }
        case YTSIM_F_SLOW:
            *slow_ms = f->delay_ms;
            return false;
        case YTSIM_F_TRUNCATE:
        case YTSIM_F_MALFORMED:
            *post = (int)f->kind;
            return false;
        case YTSIM_F_RESET:
        case YTSIM_F_OUTAGE:
            rs->close = true;
            return true;
        case YTSIM_F_QUOTA:
            s_quota_fault(rs, rq->ep, f->retry_after);
            return true;
        case YTSIM_F_NOCONT:
        case YTSIM_F_RELOAD:
            if (ytsim_chatfault_apply(srv, rq, rs, f->kind)) {
                return true;
            }
            continue;
        case YTSIM_F_FEED:
            if (s_feed_outage(srv, rq, rs, f)) {
                return true;
            }
            continue;
        case YTSIM_F_HUGE:
            *post = (int)f->kind;
            *huge_mb = f->size_mb > 0 ? f->size_mb : 100;
            return true;
        }
    }
    return false;
}

/* ---- MHD glue ------------------------------------------------------- */

static enum MHD_Result s_arg_cb(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *value)
{
    (void)kind;
    ytsim_buf_t *b = cls;
    ytsim_buf_puts(b, b->len && strchr(b->p, '?') ? "&" : "?");
    ytsim_buf_puts(b, key);
    if (value) {
        YB(b, "=");
        ytsim_buf_puts(b, value);
    }
    return MHD_YES;
}

static void s_log_request(ytsim_srv_t *srv, ytsim_req_t *rq, int status)
{
    ytsim_buf_t b = {0};
    ytsim_buf_puts(&b, rq->method);
    YB(&b, " ");
    size_t at = b.len;
    ytsim_buf_puts(&b, rq->path);
    ytsim_buf_t q = {0};
    YB(&q, "");
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, s_arg_cb, &q);
    ytsim_buf_puts(&b, q.p);
    ytsim_buf_free(&q);
    (void)at;
    ytsim_buf_printf(&b, " %d", status);
    ytsim_buf_reserve(&b, b.len + 64);
    tw_log_redact(b.p, b.cap);
    pthread_mutex_lock(&srv->log_mu);
    if (srv->reqlog) {
        fprintf(srv->reqlog, "%s\n", b.p);
    }
    pthread_mutex_unlock(&srv->log_mu);
    ytsim_buf_free(&b);
}

/* State of a truncated response. */
typedef struct {
    char *p;    /* body */
    size_t len; /* full length */
    size_t cut; /* bytes sent before the error */
} s_trunc_t;

static ssize_t s_trunc_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    s_trunc_t *t = cls;
    if (pos >= t->cut) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = t->cut - (size_t)pos;
    if (n > max) {
        n = max;
    }
    memcpy(buf, t->p + pos, n);
    return (ssize_t)n;
}

static void s_trunc_free(void *cls)
{
    s_trunc_t *t = cls;
    free(t->p);
    free(t);
}

/* A valid JSON object of exactly *cls bytes, generated as it is sent:
 * {"responseContext":{},"padding":"xxx...x"} (the huge fault). */
static ssize_t s_huge_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    static const char head[] = "{\"responseContext\":{},\"padding\":\"";
    static const char tail[] = "\"}";
    uint64_t total = *(const uint64_t *)cls;
    size_t hl = sizeof head - 1, tl = sizeof tail - 1;
    if (pos >= total) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = 0;
    while (n < max && pos + n < total) {
        uint64_t p = pos + n;
        if (p < hl) {
            buf[n] = head[p];
        } else if (p >= total - tl) {
            buf[n] = tail[p - (total - tl)];
        } else {
            buf[n] = 'x';
        }
        n++;
    }
    return (ssize_t)n;
}

/* GET /ytsim/status: the simulated clock and every stream's state. */
static void s_status(ytsim_srv_t *srv, ytsim_resp_t *rs)
{
    static const char *names[] = {"hidden", "upcoming", "live", "ended",
                                  "deleted"};
    double now = ytsim_now(srv);
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    char ts[48];
    ytsim_fmt_time(ts, sizeof ts, ytsim_wall_usec(srv, now), 6, false);
    ytsim_buf_printf(b,
                     "{\"now\":%.3f,\"now_wall\":\"%s\",\"speed\":%g,"
                     "\"streams\":[",
                     now, ts, srv->speed);
    for (size_t i = 0; i < srv->scn.n_streams; i++) {
        ytsim_stream_t *s = &srv->scn.streams[i];
        ytsim_buf_printf(b,
                         "%s{\"video_id\":\"%s\",\"channel_id\":\"%s\","
                         "\"state\":\"%s\",\"chat_items\":%u,"
                         "\"chat_total\":%u}",
                         i ? "," : "", s->id, srv->scn.chans[s->chan].id,
                         names[ytsim_stream_state(s, now)],
                         ytsim_chat_count(&srv->scn, s, now),
                         ytsim_chat_total(s));
    }
    YB(b, "]}");
}

static void s_dispatch(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    if (strcmp(rq->ep, "ytsim_status") == 0) {
        s_status(srv, rs);
        return;
    }
    if (ytsim_youtube_handle(srv, rq, rs) ||
        ytsim_dataapi_handle(srv, rq, rs) ||
        ytsim_telegram_handle(srv, rq, rs) ||
        ytsim_google_handle(srv, rq, rs) ||
        ytsim_registry_handle(srv, rq, rs)) {
        return;
    }
    ytsim_buf_t *b = &rs->body;
    rs->status = 404;
    rs->ctype = "text/html; charset=utf-8";
    YB(b, "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 404 "
          "(Not Found)!!1</title><p><b>404.</b> <ins>That’s an error.</ins>"
          "<p>The requested URL was not found on this server.</html>");
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn,
                                const char *url, const char *method,
                                const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    ytsim_srv_t *srv = cls;
    (void)version;
    ytsim_req_t *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq) {
            return MHD_NO;
        }
        rq->conn = conn;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (rq->body.len + *upload_data_size > (size_t)512 << 20) {
            return MHD_NO;
        }
        ytsim_buf_put(&rq->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    rq->method = method;
    rq->path = url;
    ytsim_endpoint_name(method, url, rq->ep, sizeof rq->ep);
    ytsim_resp_t *rs = calloc(1, sizeof *rs);
    if (!rs) {
        return MHD_NO;
    }
    rs->status = 200;
    rs->ctype = "application/json; charset=UTF-8";
    int slow_ms = 0, post = -1, huge_mb = 0;
    if (!s_fault(srv, rq, rs, &slow_ms, &post, &huge_mb)) {
        s_dispatch(srv, rq, rs);
    }
    if (slow_ms > 0) {
        struct timespec ts = {slow_ms / 1000, (long)(slow_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    s_log_request(srv, rq, rs->close ? 0 : rs->status);
    if (rs->close) {
        ytsim_buf_free(&rs->body);
        free(rs);
        return MHD_NO;
    }
    if (!rs->body.p) {
        YB(&rs->body, "");
    }
    struct MHD_Response *resp;
    if (post == YTSIM_F_HUGE) {
        uint64_t *total = malloc(sizeof *total);
        if (!total) {
            abort();
        }
        *total = (uint64_t)huge_mb * 1000000;
        resp = MHD_create_response_from_callback(*total, 64 * 1024, s_huge_read,
                                                 total, free);
    } else if (post == YTSIM_F_TRUNCATE && rs->body.len > 1) {
        s_trunc_t *t = malloc(sizeof *t);
        if (!t) {
            abort();
        }
        t->p = rs->body.p;
        t->len = rs->body.len;
        t->cut = rs->body.len / 2;
        rs->body.p = NULL;
        resp = MHD_create_response_from_callback(t->len, 64 * 1024,
                                                 s_trunc_read, t, s_trunc_free);
    } else {
        size_t len = rs->body.len;
        if (post == YTSIM_F_MALFORMED && len > 1) {
            len = len / 2;
        }
        resp = MHD_create_response_from_buffer(len, rs->body.p,
                                               MHD_RESPMEM_MUST_FREE);
        rs->body.p = NULL;
    }
    if (!resp) {
        free(rs);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", rs->ctype);
    for (int i = 0; i < rs->nh; i++) {
        MHD_add_response_header(resp, rs->hname[i], rs->hval[i]);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rs->status, resp);
    MHD_destroy_response(resp);
    free(rs);
    return ret;
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    if (*con_cls) {
        s_req_free(*con_cls);
        *con_cls = NULL;
    }
}

/* ---- truth files ---------------------------------------------------- */

static void s_time_or_empty(FILE *f, ytsim_srv_t *srv, bool has, double t)
{
    if (has) {
        char ts[48];
        ytsim_fmt_time(ts, sizeof ts, ytsim_wall_usec(srv, t), 0, false);
        fputs(ts, f);
    }
}

static void s_write_streams(ytsim_srv_t *srv)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/truth/streams.tsv", srv->out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return;
    }
    static const char *names[] = {"hidden", "upcoming", "live", "ended",
                                  "deleted"};
    double now = ytsim_now(srv);
    fputs("video_id\tchannel_id\ttitle\tstate\tscheduled_start\t"
          "actual_start\tactual_end\tmembers_only\tprivate\tchat_disabled\t"
          "chat_items\n",
          f);
    for (size_t i = 0; i < srv->scn.n_streams; i++) {
        ytsim_stream_t *s = &srv->scn.streams[i];
        ytsim_state_t st = ytsim_stream_state(s, now);
        ytsim_buf_t t = {0};
        ytsim_buf_tsv(&t, s->title);
        fprintf(f, "%s\t%s\t%s\t%s\t", s->id, srv->scn.chans[s->chan].id,
                t.p ? t.p : "", names[st]);
        ytsim_buf_free(&t);
        s_time_or_empty(f, srv, s->has_sched, ytsim_stream_sched(s, now));
        fputs("\t", f);
        bool started = s->has_start && now >= s->start;
        s_time_or_empty(f, srv, started, s->start);
        fputs("\t", f);
        s_time_or_empty(f, srv, started && now >= s->start + s->duration,
                        s->start + s->duration);
        fprintf(f, "\t%d\t%d\t%d\t%u\n", s->members_only, s->is_private,
                s->chat_disabled, ytsim_chat_count(&srv->scn, s, now));
    }
    fclose(f);
    rename(tmp, path);
}

static void s_write_polls(ytsim_srv_t *srv)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/truth/polls.tsv", srv->out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return;
    }
    fputs("video_id\tpolls\tearly_polls\n", f);
    for (size_t i = 0; i < srv->scn.n_streams; i++) {
        ytsim_stream_t *s = &srv->scn.streams[i];
        pthread_mutex_lock(&s->mu);
        fprintf(f, "%s\t%llu\t%llu\n", s->id, (unsigned long long)s->polls,
                (unsigned long long)s->early_polls);
        pthread_mutex_unlock(&s->mu);
    }
    fclose(f);
    rename(tmp, path);
}

/* Writes quota.tsv (in ytsim_dataapi.c). */
void ytsim_dataapi_write_quota(ytsim_srv_t *srv);

static void s_flush(ytsim_srv_t *srv)
{
    pthread_mutex_lock(&srv->log_mu);
    if (srv->reqlog) {
        fflush(srv->reqlog);
    }
    if (srv->stats) {
        fflush(srv->stats);
    }
    pthread_mutex_unlock(&srv->log_mu);
    for (size_t i = 0; i < srv->scn.n_streams; i++) {
        ytsim_stream_t *s = &srv->scn.streams[i];
        pthread_mutex_lock(&s->mu);
        FILE *fs[] = {s->truth, s->truth_del, s->truth_api};
        for (size_t k = 0; k < 3; k++) {
            if (fs[k]) {
                fflush(fs[k]);
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
    s_write_streams(srv);
    s_write_polls(srv);
    ytsim_dataapi_write_quota(srv);
}

/* ---- main ------------------------------------------------------------ */

/* Parses ENDPOINT:KIND[:FROM:TO[:SHARE[:ARG]]]; ARG is the status (5xx),
 * retry_after (429), delay_ms (slow) or size_mb (huge). */
static bool s_parse_fault(const char *v, ytsim_fault_t *f)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    char *fields[6] = {0};
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ":", &save); t && n < 6;
         t = strtok_r(NULL, ":", &save)) {
        fields[n++] = t;
    }
    if (n < 2 || n == 3) {
        return false;
    }
    memset(f, 0, sizeof *f);
    snprintf(f->endpoint, sizeof f->endpoint, "%s", fields[0]);
    static const char *kinds[] = {
        "5xx",    "429",   "slow",   "truncate", "reset",       "malformed",
        "outage", "quota", "nocont", "reload",   "feed_outage", "huge"};
    int k = -1;
    for (int i = 0; i < 12; i++) {
        if (strcmp(fields[1], kinds[i]) == 0) {
            k = i;
        }
    }
    if (k < 0) {
        return false;
    }
    f->kind = (ytsim_fault_kind_t)k;
    f->from = n > 2 ? strtod(fields[2], NULL) : -1e18;
    f->to = n > 3 ? strtod(fields[3], NULL) : 1e18;
    f->share = n > 4 ? strtod(fields[4], NULL) : 1.0;
    f->status = f->kind == YTSIM_F_FEED ? 404 : 503;
    f->retry_after = 5;
    f->delay_ms = 2000;
    f->size_mb = 100;
    if (n > 5) {
        int arg = atoi(fields[5]);
        if (f->kind == YTSIM_F_5XX || f->kind == YTSIM_F_FEED) {
            f->status = arg;
        } else if (f->kind == YTSIM_F_429) {
            f->retry_after = arg;
        } else if (f->kind == YTSIM_F_HUGE) {
            f->size_mb = arg;
        } else {
            f->delay_ms = arg;
        }
    }
    return true;
}

static void s_usage(FILE *f)
{
    fputs(
        "usage: ytsim --scenario FILE|builtin --listen 127.0.0.1:PORT "
        "--out DIR\n"
        "       ytsim --check --scenario FILE   (validate and exit)\n"
        "             [--speed X] [--seed N] [--time T] [--threads N]\n"
        "             [--load-streams N] [--load-rate R] [--epoch UNIX]\n"
        "             [--quota UNITS] [--token-ttl SECONDS] [--era 2022|2026]\n"
        "             [--fault ENDPOINT:KIND[:FROM:TO[:SHARE[:ARG]]]]...\n"
        "Simulates YouTube (RSS, web client, Data API), Telegram, Google\n"
        "OAuth and Drive for tests. PORT 0 picks a free port; the first\n"
        "stdout line is \"ytsim: listening on 127.0.0.1:PORT\" and DIR/port\n"
        "holds the port. --time starts the simulated clock at T seconds;\n"
        "--speed 0 freezes it. SIGTERM/SIGINT complete the truth files.\n"
        "Exit codes: 0 ok, 100 usage/config error, 101 bug, 111 "
        "temporary failure (port in use, I/O).\n",
        f);
}

static int s_mkdirs(const char *out)
{
    const char *subs[] = {"", "/truth", "/received", "/received/drive"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s%s", out, subs[i]);
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    ytsim_srv_t *srv = &s_srv;
    tw_log_init("ytsim");
    const char *scenario = NULL, *listen = NULL, *out = NULL;
    double speed = 1.0, t0 = 0;
    long long seed = -1;
    int threads = 8;
    long load_streams = -1;
    double load_rate = -1;
    long long epoch = -1;
    bool check = false;
    long long quota = -1;
    long token_ttl = -1;
    long era = 0;
    ytsim_fault_t faults[32];
    size_t n_faults = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return TW_EXIT_OK;
        }
        if (strcmp(a, "--check") == 0) {
            check = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "ytsim: %s needs a value\n", a);
            s_usage(stderr);
            return TW_EXIT_USAGE;
        }
        char *end = NULL;
        i++;
        if (strcmp(a, "--scenario") == 0) {
            scenario = v;
        } else if (strcmp(a, "--listen") == 0) {
            listen = v;
        } else if (strcmp(a, "--out") == 0) {
            out = v;
        } else if (strcmp(a, "--speed") == 0) {
            speed = strtod(v, &end);
        } else if (strcmp(a, "--time") == 0) {
            t0 = strtod(v, &end);
        } else if (strcmp(a, "--seed") == 0) {
            seed = strtoll(v, &end, 10);
        } else if (strcmp(a, "--threads") == 0) {
            threads = (int)strtol(v, &end, 10);
        } else if (strcmp(a, "--load-streams") == 0) {
            load_streams = strtol(v, &end, 10);
        } else if (strcmp(a, "--load-rate") == 0) {
            load_rate = strtod(v, &end);
        } else if (strcmp(a, "--token-ttl") == 0) {
            token_ttl = strtol(v, &end, 10);
        } else if (strcmp(a, "--quota") == 0) {
            quota = strtoll(v, &end, 10);
        } else if (strcmp(a, "--epoch") == 0) {
            epoch = strtoll(v, &end, 10);
        } else if (strcmp(a, "--era") == 0) {
            era = strtol(v, &end, 10);
            if (era != 2022 && era != 2026) {
                fprintf(stderr, "ytsim: --era wants 2022 or 2026\n");
                return TW_EXIT_USAGE;
            }
        } else if (strcmp(a, "--fault") == 0) {
            if (n_faults == 32 || !s_parse_fault(v, &faults[n_faults])) {
                fprintf(stderr,
                        "ytsim: bad --fault %s (ENDPOINT:KIND[:FROM:"
                        "TO[:SHARE[:ARG]]])\n",
                        v);
                return TW_EXIT_USAGE;
            }
            n_faults++;
        } else {
            fprintf(stderr, "ytsim: unknown option %s\n", a);
            s_usage(stderr);
            return TW_EXIT_USAGE;
        }
        if (end && *end) {
            fprintf(stderr, "ytsim: bad value for %s: %s\n", a, v);
            return TW_EXIT_USAGE;
        }
        if (speed < 0 || threads < 1 || threads > 64) {
            fprintf(stderr, "ytsim: bad value for %s: %s\n", a, v);
            return TW_EXIT_USAGE;
        }
    }
    if (!scenario || (!check && (!listen || !out))) {
        s_usage(stderr);
        return TW_EXIT_USAGE;
    }
    if (check) {
        listen = "127.0.0.1:0";
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    {
        char host[64];
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host) {
            fprintf(stderr, "ytsim: --listen wants HOST:PORT\n");
            return TW_EXIT_USAGE;
        }
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        char *end = NULL;
        long port = strtol(colon + 1, &end, 10);
        if (*end || port < 0 || port > 65535 ||
            inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
            fprintf(stderr, "ytsim: bad --listen address %s\n", listen);
            return TW_EXIT_USAGE;
        }
        sa.sin_port = htons((uint16_t)port);
    }
    tw_err_t err = {0};
    if (strcmp(scenario, "builtin") == 0) {
        ytsim_scn_default(&srv->scn);
    } else if (ytsim_scn_load(&srv->scn, scenario, &err) != TW_OK) {
        if (err.line) {
            fprintf(stderr, "ytsim: %s:%d:%d: %s\n", scenario, err.line,
                    err.col, err.msg);
        } else {
            fprintf(stderr, "ytsim: %s: %s\n", scenario, err.msg);
        }
        ytsim_scn_free(&srv->scn);
        return TW_EXIT_USAGE;
    }
    if (seed >= 0) {
        srv->scn.seed = (uint64_t)seed;
    }
    if (token_ttl >= 0) {
        srv->scn.token_ttl = (int)token_ttl;
    }
    if (era) {
        srv->scn.era = (int)era;
    }
    if (quota >= 0) {
        srv->scn.quota_per_day = quota;
    }
    if (epoch >= 0) {
        srv->scn.epoch_now = false;
        srv->scn.epoch_usec = (int64_t)epoch * 1000000;
    }
    if (n_faults > 0) {
        ytsim_fault_t *all = realloc(
            srv->scn.faults, (srv->scn.n_faults + n_faults) * sizeof *all);
        if (!all) {
            abort();
        }
        memcpy(all + srv->scn.n_faults, faults, n_faults * sizeof *all);
        srv->scn.faults = all;
        srv->scn.n_faults += n_faults;
    }
    if (load_streams >= 0) {
        srv->scn.load_streams = (uint32_t)load_streams;
    }
    if (load_rate >= 0) {
        srv->scn.load_rate = load_rate;
    }
    if (ytsim_scn_finish(&srv->scn, &err) != TW_OK) {
        fprintf(stderr, "ytsim: %s: %s\n", scenario, err.msg);
        ytsim_scn_free(&srv->scn);
        return TW_EXIT_USAGE;
    }
    if (check) {
        printf("ytsim: scenario ok: %zu channels, %zu streams, %zu faults\n",
               srv->scn.n_chans, srv->scn.n_streams, srv->scn.n_faults);
        ytsim_scn_free(&srv->scn);
        return TW_EXIT_OK;
    }
    if (srv->scn.epoch_now) {
        srv->scn.epoch_usec = tw_time_now_us() / 1000000 * 1000000;
    }
    tw_log_add_secret(srv->scn.api_key);
    tw_log_add_secret(srv->scn.tg_token);
    tw_log_add_secret(srv->scn.client_secret);
    tw_log_add_secret(srv->scn.reg_password);
    for (size_t i = 0; i < srv->scn.n_refresh_tokens; i++) {
        tw_log_add_secret(srv->scn.refresh_tokens[i]);
    }
    snprintf(srv->out, sizeof srv->out, "%s", out);
    if (s_mkdirs(out) != 0) {
        fprintf(stderr, "ytsim: unable to create %s: %s\n", out,
                strerror(errno));
        return TW_EXIT_TEMP;
    }
    pthread_mutex_init(&srv->mu, NULL);
    pthread_mutex_init(&srv->log_mu, NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/requests.log", out);
    srv->reqlog = fopen(path, "w");
    snprintf(path, sizeof path, "%s/truth/stats.tsv", out);
    srv->stats = fopen(path, "w");
    if (!srv->reqlog || !srv->stats) {
        fprintf(stderr, "ytsim: unable to write into %s: %s\n", out,
                strerror(errno));
        return TW_EXIT_TEMP;
    }
    fputs("served_at\tsource\tchannel_id\tvideo_id\tconcurrent_viewers\t"
          "views\tlikes\tfavorites\tcomments\n",
          srv->stats);
    srv->speed = speed;
    srv->t0 = t0;
    srv->mono0 = ytsim_mono();
    double test_speed = 1;
    if (tw_time_test_clock(&test_speed)) {
        /* the clock every tubewatch process shares (tw_time.h): the
         * simulated second 0 stays at the epoch, the clock follows it */
        srv->speed = test_speed;
        srv->t0 = (double)(tw_time_now_us() - srv->scn.epoch_usec) / 1e6;
    }
    ytsim_chat_truth_open(srv);
    s_write_streams(srv);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES) {
        flags |= MHD_USE_EPOLL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, s_access, srv, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_CONNECTION_LIMIT, 4000u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "ytsim: unable to listen on %s\n", listen);
        return TW_EXIT_TEMP;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : ntohs(sa.sin_port);
    char host[64];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    printf("ytsim: listening on %s:%u\n", host, port);
    fflush(stdout);
    snprintf(path, sizeof path, "%s/port", out);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *pf = fopen(tmp, "w");
    if (pf) {
        fprintf(pf, "%u\n", port);
        fclose(pf);
        rename(tmp, path);
    }
    for (;;) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            break;
        }
        s_flush(srv);
    }
    MHD_stop_daemon(d);
    s_flush(srv);
    ytsim_chat_truth_close(srv);
    fclose(srv->reqlog);
    fclose(srv->stats);
    srv->reqlog = srv->stats = NULL;
    ytsim_scn_free(&srv->scn);
    return TW_EXIT_OK;
}
