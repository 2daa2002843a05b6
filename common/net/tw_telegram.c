/* tw_telegram - Telegram Bot API client: sendMessage, getMe, escaping,
 * splitting and reply classification. */
#include "tw_telegram.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_buf.h"
#include "tw_http.h"
#include "tw_json.h"
#include "tw_log.h"

struct tw_telegram {
    tw_http_t *http; /* keep-alive client, base_url = base/bot<TOKEN>/ */
    tw_json_t *json; /* reply parser, reused */
};

static const char *const s_status_names[] = {
    "ok",        "retry",    "chat_gone", "migrated",
    "bad_token", "entities", "rejected"};

const char *tw_telegram_status_str(tw_telegram_status_t status)
{
    if ((size_t)status >= sizeof s_status_names / sizeof s_status_names[0])
        return "unknown";
    return s_status_names[status];
}

tw_telegram_t *tw_telegram_new(const char *base_url, const char *token,
                               uint32_t timeout_ms)
{
    assert(base_url);
    assert(token);
    tw_log_add_secret(token);
    tw_telegram_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    size_t blen = strlen(base_url);
    while (blen > 0 && base_url[blen - 1] == '/')
        blen--;
    size_t cap = blen + strlen(token) + 8;
    char *base = malloc(cap);
    if (!base) {
        free(self);
        return NULL;
    }
    snprintf(base, cap, "%.*s/bot%s/", (int)blen, base_url, token);
    tw_http_opts_t opts = {
        .base_url = base,
        .connect_timeout_ms = 5000,
        .timeout_ms = timeout_ms ? timeout_ms : 10000,
        .max_body = 1024 * 1024,
        .max_retries = -1,
    };
    self->http = tw_http_new(&opts);
    memset(base, 0, cap);
    free(base);
    self->json = tw_json_new();
    if (!self->http || !self->json) {
        tw_telegram_destroy(&self);
        return NULL;
    }
    return self;
}

void tw_telegram_destroy(tw_telegram_t **self_p)
{
    assert(self_p);
    tw_telegram_t *self = *self_p;
    if (!self)
        return;
    tw_http_destroy(&self->http);
    tw_json_destroy(&self->json);
    free(self);
    *self_p = NULL;
}

/* ---- reply classification ---- */

/* Case-insensitive substring test (descriptions vary in case). */
static bool s_contains(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && (s[i] | 0x20) == (needle[i] | 0x20))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static void s_classify_error(tw_telegram_result_t *res)
{
    int code = res->error_code ? res->error_code : (int)res->http_status;
    const char *d = res->description;
    if (code == 429) {
        res->status = TW_TELEGRAM_RETRY;
    } else if (code >= 500 || code == 0) {
        res->status = TW_TELEGRAM_RETRY;
    } else if (res->migrate_to != 0) {
        res->status = TW_TELEGRAM_MIGRATED;
    } else if (code == 401 || code == 404) {
        res->status = TW_TELEGRAM_BAD_TOKEN;
    } else if (code == 403) {
        res->status = TW_TELEGRAM_CHAT_GONE;
    } else if (code == 400 && (s_contains(d, "chat not found") ||
                               s_contains(d, "user not found") ||
                               s_contains(d, "chat_id is empty") ||
                               s_contains(d, "peer_id_invalid") ||
                               s_contains(d, "have no rights to send") ||
                               s_contains(d, "not enough rights"))) {
        res->status = TW_TELEGRAM_CHAT_GONE;
    } else if (code == 400 && s_contains(d, "can't parse entities")) {
        res->status = TW_TELEGRAM_ENTITIES;
    } else if (code == 420 || code == 408) {
        res->status = TW_TELEGRAM_RETRY;
    } else {
        res->status = TW_TELEGRAM_REJECTED;
    }
}

void tw_telegram_parse_reply(long http_status, const char *body, size_t len,
                             const char *retry_after, tw_telegram_result_t *res)
{
    assert(res);
    memset(res, 0, sizeof *res);
    res->http_status = http_status;
    if (retry_after) {
        int64_t ms = tw_http_retry_after_ms(retry_after, 3600 * 1000);
        if (ms > 0)
            res->retry_after_ms = ms;
    }
    tw_json_t *j = tw_json_new();
    bool parsed = j && body && len > 0 &&
                  tw_json_parse(j, body, len, NULL) == TW_OK &&
                  tw_json_type(j, tw_json_root(j)) == TW_JSON_OBJECT;
    if (!parsed) {
        if (http_status >= 200 && http_status < 300) {
            /* a 2xx that is not Telegram's JSON: a proxy or a cut reply;
             * whether it was delivered is unknown, so it is sent again */
            res->status = TW_TELEGRAM_RETRY;
            snprintf(res->description, sizeof res->description,
                     "HTTP %ld with a body that is not a Bot API reply",
                     http_status);
        } else {
            snprintf(res->description, sizeof res->description,
                     http_status ? "HTTP %ld without a Bot API reply"
                                 : "no reply",
                     http_status);
            s_classify_error(res);
        }
        tw_json_destroy(&j);
        return;
    }
    tw_json_ref_t root = tw_json_root(j);
    tw_json_ref_t ok = tw_json_get(j, root, "ok");
    if (tw_json_is_true(j, ok)) {
        res->status = TW_TELEGRAM_OK;
        tw_json_ref_t r = tw_json_get(j, root, "result");
        int64_t id = 0;
        if (tw_json_int64(j, tw_json_get(j, r, "message_id"), &id) == TW_OK)
            res->message_id = id;
        size_t n = 0;
        const char *u = tw_json_str(j, tw_json_get(j, r, "username"), &n);
        if (u &&
            tw_json_type(j, tw_json_get(j, r, "username")) == TW_JSON_STRING) {
            if (n >= sizeof res->username)
                n = sizeof res->username - 1;
            memcpy(res->username, u, n);
            res->username[n] = '\0';
        }
        tw_json_destroy(&j);
        return;
    }
    int64_t code = 0;
    if (tw_json_int64(j, tw_json_get(j, root, "error_code"), &code) == TW_OK &&
        code > 0 && code < 1000)
        res->error_code = (int)code;
    tw_json_ref_t dv = tw_json_get(j, root, "description");
    size_t dn = 0;
    const char *d = tw_json_str(j, dv, &dn);
    if (d && tw_json_type(j, dv) == TW_JSON_STRING) {
        if (dn >= sizeof res->description)
            dn = sizeof res->description - 1;
        memcpy(res->description, d, dn);
        res->description[dn] = '\0';
        /* descriptions are shown in logs: no control bytes, no NUL */
        for (size_t i = 0; i < dn; i++)
            if ((unsigned char)res->description[i] < 0x20)
                res->description[i] = ' ';
    } else {
        snprintf(res->description, sizeof res->description,
                 "error_code %d without description", res->error_code);
    }
    tw_json_ref_t params = tw_json_get(j, root, "parameters");
    int64_t v = 0;
    if (tw_json_int64(j, tw_json_get(j, params, "retry_after"), &v) == TW_OK &&
        v > 0) {
        if (v > 24 * 3600)
            v = 24 * 3600;
        res->retry_after_ms = v * 1000;
    }
    if (tw_json_int64(j, tw_json_get(j, params, "migrate_to_chat_id"), &v) ==
            TW_OK &&
        v != 0)
        res->migrate_to = v;
    tw_json_destroy(&j);
    s_classify_error(res);
}

/* ---- requests ---- */

static tw_rc_t s_call(tw_telegram_t *self, const char *method, const char *form,
                      tw_telegram_result_t *res, tw_err_t *err)
{
    static const char *const hdrs[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL};
    tw_http_resp_t resp = {0};
    tw_http_req_t req = {
        .method = "POST",
        .url = method,
        .headers = hdrs,
        .body = form ? form : "",
        .body_len = form ? strlen(form) : 0,
        .max_retries = -1,
    };
    tw_err_t herr = {{0}, 0, 0};
    tw_rc_t rc = tw_http_request(self->http, &req, &resp, &herr);
    if (rc == TW_ERR_NOMEM) {
        tw_http_resp_clear(&resp);
        tw_err_set(err, "out of memory");
        return rc;
    }
    long status = rc == TW_ERR_NET || rc == TW_ERR_TIMEOUT ? 0 : resp.status;
    tw_telegram_parse_reply(status, resp.body, resp.body_len, resp.retry_after,
                            res);
    if (status == 0) {
        /* herr is redacted by tw_http already; once more costs nothing */
        char msg[sizeof herr.msg + 64];
        snprintf(msg, sizeof msg, "%s: %s", tw_rc_str(rc), herr.msg);
        size_t n = strlen(msg);
        if (n >= sizeof res->description)
            n = sizeof res->description - 1;
        memcpy(res->description, msg, n);
        res->description[n] = '\0';
        tw_log_redact(res->description, sizeof res->description);
    }
    tw_http_resp_clear(&resp);
    return TW_OK;
}

static tw_rc_t s_form_add(tw_buf_t *b, const char *key, const char *value)
{
    char *esc = tw_http_escape(value);
    if (!esc)
        return TW_ERR_NOMEM;
    tw_rc_t rc =
        tw_buf_printf(b, "%s%s=%s", tw_buf_len(b) ? "&" : "", key, esc);
    free(esc);
    return rc;
}

tw_rc_t tw_telegram_send(tw_telegram_t *self, const char *chat_id,
                         const char *text, bool html, tw_telegram_result_t *res,
                         tw_err_t *err)
{
    assert(self);
    assert(chat_id);
    assert(text);
    assert(res);
    memset(res, 0, sizeof *res);
    if (!*chat_id || !*text) {
        tw_err_set(err, "empty %s", *chat_id ? "text" : "chat id");
        return TW_ERR_INVALID;
    }
    tw_buf_t *b = tw_buf_new();
    if (!b) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    tw_rc_t rc = s_form_add(b, "chat_id", chat_id);
    if (rc == TW_OK)
        rc = s_form_add(b, "text", text);
    if (rc == TW_OK && html)
        rc = s_form_add(b, "parse_mode", "HTML");
    if (rc == TW_OK)
        rc = s_form_add(b, "link_preview_options", "{\"is_disabled\":true}");
    if (rc != TW_OK) {
        tw_buf_destroy(&b);
        tw_err_set(err, "out of memory");
        return rc;
    }
    rc = s_call(self, "sendMessage", tw_buf_data(b), res, err);
    tw_buf_destroy(&b);
    return rc;
}

tw_rc_t tw_telegram_get_me(tw_telegram_t *self, tw_telegram_result_t *res,
                           tw_err_t *err)
{
    assert(self);
    assert(res);
    return s_call(self, "getMe", NULL, res, err);
}

/* ---- text ---- */

/* Decodes the UTF-8 sequence at s[i] (i < len): returns its length and
 * sets *cp, or returns 1 with *cp = 0xFFFD for an invalid byte. */
static size_t s_utf8(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned char c = s[i];
    *cp = 0xFFFD;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 1;
    }
    if (i + n > len)
        return 1;
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xc0) != 0x80)
            return 1;
        v = (v << 6) | (s[i + k] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 1;
    *cp = v;
    return n;
}

size_t tw_telegram_text_len(const char *text, size_t len)
{
    assert(text || len == 0);
    const unsigned char *s = (const unsigned char *)text;
    size_t units = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += s_utf8(s, len, i, &cp);
        units += cp > 0xffff ? 2 : 1;
    }
    return units;
}

char *tw_telegram_escape_html(const char *text, size_t len)
{
    assert(text || len == 0);
    const unsigned char *s = (const unsigned char *)text;
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return NULL;
    tw_rc_t rc = tw_buf_reserve(b, len + 16);
    for (size_t i = 0; i < len && rc == TW_OK;) {
        uint32_t cp;
        size_t n = s_utf8(s, len, i, &cp);
        if (cp == '&')
            rc = tw_buf_append(b, "&amp;", 5);
        else if (cp == '<')
            rc = tw_buf_append(b, "&lt;", 4);
        else if (cp == '>')
            rc = tw_buf_append(b, "&gt;", 4);
        else if (cp == 0)
            rc = TW_OK;
        else if (cp == 0xFFFD && n == 1)
            rc = tw_buf_append(b, "\xef\xbf\xbd", 3);
        else
            rc = tw_buf_append(b, text + i, n);
        i += n;
    }
    if (rc == TW_OK)
        rc = tw_buf_append(b, "", 0);
    char *out = rc == TW_OK ? tw_buf_steal(b, NULL) : NULL;
    tw_buf_destroy(&b);
    if (out)
        return out;
    return rc == TW_OK ? strdup("") : NULL;
}

size_t tw_telegram_split(const char *text, size_t len, size_t limit)
{
    assert(text || len == 0);
    const unsigned char *s = (const unsigned char *)text;
    size_t units = 0;
    size_t last_nl = 0, last_sp = 0, last_char = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = s_utf8(s, len, i, &cp);
        size_t u = cp > 0xffff ? 2 : 1;
        if (units + u > limit)
            break;
        units += u;
        i += n;
        last_char = i;
        if (cp == '\n')
            last_nl = i;
        else if (cp == ' ')
            last_sp = i;
    }
    if (last_char >= len)
        return len;
    if (last_nl > 0)
        return last_nl;
    if (last_sp > 0)
        return last_sp;
    if (last_char == 0 && len > 0) {
        /* limit below one character: still make progress */
        uint32_t cp;
        return s_utf8(s, len, 0, &cp);
    }
    return last_char;
}
