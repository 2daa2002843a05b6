/* tw_ytweb - YouTube web client requests: page GETs and innertube POSTs. */
#define _GNU_SOURCE /* memmem */
#include "tw_ytweb.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_buf.h"
#include "tw_log.h"

tw_rc_t tw_ytweb_page_url(char *out, size_t cap, const char *path)
{
    assert(out || cap == 0);
    assert(path);
    int n = snprintf(out, cap, "%s%c" TW_YTWEB_QUERY, path,
                     strchr(path, '?') ? '&' : '?');
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return TW_ERR_TOOBIG;
    }
    return TW_OK;
}

tw_rc_t tw_ytweb_page(tw_http_t *http, const char *path, tw_http_resp_t *resp,
                      tw_err_t *err)
{
    assert(http);
    assert(path);
    assert(resp);
    size_t cap = strlen(path) + sizeof TW_YTWEB_QUERY + 1;
    char *url = malloc(cap);
    if (!url) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    tw_rc_t rc = tw_ytweb_page_url(url, cap, path);
    const char *headers[] = {"Accept-Language: en-US,en;q=0.9", TW_YTWEB_COOKIE,
                             NULL};
    if (rc == TW_OK)
        rc = tw_http_get(http, url, headers, resp, err);
    free(url);
    return rc;
}

/* Appends s to b as the body of a JSON string. */
static tw_rc_t s_json_esc(tw_buf_t *b, const char *s)
{
    tw_rc_t rc = TW_OK;
    for (; *s && rc == TW_OK; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            rc = tw_buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            rc = tw_buf_printf(b, "\\u%04x", ch);
        else
            rc = tw_buf_append_byte(b, (char)ch);
    }
    return rc;
}

tw_rc_t tw_ytweb_innertube(tw_http_t *http, const char *client_version,
                           const char *endpoint, const char *key,
                           const char *value, const char *extra,
                           tw_http_resp_t *resp, tw_err_t *err)
{
    assert(http);
    assert(client_version);
    assert(endpoint);
    assert(key);
    assert(value);
    assert(resp);
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return TW_ERR_NOMEM;
    tw_rc_t rc =
        tw_buf_append_str(b, "{\"context\":{\"client\":{\"clientName\":\"WEB\","
                             "\"clientVersion\":\"");
    if (rc == TW_OK)
        rc = s_json_esc(b, client_version);
    if (rc == TW_OK)
        rc = tw_buf_append_str(b, "\",\"hl\":\"en\",\"gl\":\"US\"}},\"");
    if (rc == TW_OK)
        rc = s_json_esc(b, key);
    if (rc == TW_OK)
        rc = tw_buf_append_str(b, "\":\"");
    if (rc == TW_OK)
        rc = s_json_esc(b, value);
    if (rc == TW_OK)
        rc = tw_buf_append_str(b, "\"");
    if (rc == TW_OK && extra)
        rc = tw_buf_append_str(b, extra);
    if (rc == TW_OK)
        rc = tw_buf_append_str(b, "}");
    char ver[96];
    snprintf(ver, sizeof ver, "X-YouTube-Client-Version: %s", client_version);
    const char *headers[] = {"Content-Type: application/json",
                             "X-YouTube-Client-Name: 1", ver, TW_YTWEB_COOKIE,
                             NULL};
    char url[256];
    snprintf(url, sizeof url, "youtubei/v1/%s?prettyPrint=false", endpoint);
    if (rc == TW_OK)
        rc = tw_http_post(http, url, headers, tw_buf_data(b), tw_buf_len(b),
                          resp, err);
    else
        tw_err_set(err, "out of memory");
    tw_buf_destroy(&b);
    return rc;
}

bool tw_ytweb_client_version(const char *html, size_t len, char *out,
                             size_t cap)
{
    assert(html || len == 0);
    assert(out);
    static const char key[] = "\"INNERTUBE_CLIENT_VERSION\":\"";
    const char *p = len ? memmem(html, len, key, sizeof key - 1) : NULL;
    if (!p || cap == 0)
        return false;
    p += sizeof key - 1;
    size_t n = 0;
    while (p + n < html + len && n < cap - 1 &&
           (p[n] == '.' || (p[n] >= '0' && p[n] <= '9')))
        n++;
    if (n == 0 || p + n >= html + len || p[n] != '"')
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

void tw_ytweb_clients(const tw_cfg_youtube_t *yt, uint32_t timeout_ms,
                      tw_http_t **web, tw_http_t **api)
{
    assert(yt);
    assert(web && api);
    bool has_key = yt->api_key && *yt->api_key;
    if (has_key)
        tw_log_add_secret(yt->api_key);
    tw_http_opts_t wo = {
        .base_url = yt->web_base_url,
        .user_agent = yt->user_agent && *yt->user_agent ? yt->user_agent : NULL,
        .timeout_ms = timeout_ms,
        .max_retries = 2,
        .follow_redirects = 1};
    *web = tw_http_new(&wo);
    *api = NULL;
    if (has_key) {
        tw_http_opts_t ao = wo;
        ao.base_url = yt->api_base_url;
        ao.follow_redirects = 0;
        *api = tw_http_new(&ao);
    }
}
