/* tw_ytweb - requests of YouTube's web client as tubewatch sends them:
 * pages in English for the US with the consent cookie (without it EU
 * addresses get a consent interstitial instead of the page), and innertube
 * (youtubei/v1) calls with the WEB client context. Used by chat@VIDEO and
 * `tubewatch probe`. */
#ifndef TW_YTWEB_H
#define TW_YTWEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_cfg.h"
#include "tw_http.h"
#include "tw_rc.h"

/* Query every page request carries. */
#define TW_YTWEB_QUERY "hl=en&gl=US"
/* Consent cookie every web request carries. */
#define TW_YTWEB_COOKIE "Cookie: SOCS=CAI"
/* clientVersion sent until a page tells a newer one. */
#define TW_YTWEB_CLIENT_VERSION "2.20240101.00.00"

/* Writes path (relative to the web base URL, e.g. "watch?v=ID"; may hold a
 * query) with TW_YTWEB_QUERY appended into out. TW_ERR_TOOBIG when cap is
 * too small (out is then ""). */
tw_rc_t tw_ytweb_page_url(char *out, size_t cap, const char *path);
/* GETs a page: tw_ytweb_page_url of path, with the consent cookie and an
 * English Accept-Language. */
tw_rc_t tw_ytweb_page(tw_http_t *http, const char *path, tw_http_resp_t *resp,
                      tw_err_t *err);
/* POSTs youtubei/v1/ENDPOINT with the WEB client context of client_version,
 * one string member key = value (JSON-escaped here) and extra, raw JSON
 * members to append (",\"a\":1", or NULL). */
tw_rc_t tw_ytweb_innertube(tw_http_t *http, const char *client_version,
                           const char *endpoint, const char *key,
                           const char *value, const char *extra,
                           tw_http_resp_t *resp, tw_err_t *err);
/* Copies INNERTUBE_CLIENT_VERSION of a page into out (cap bytes); false
 * when the page has none (out untouched). */
bool tw_ytweb_client_version(const char *html, size_t len, char *out,
                             size_t cap);

/* Registers yt's API key as a log secret and creates the YouTube web client
 * (redirects followed, 2 retries, timeout_ms per request) into *web and, when
 * an API key is set, the Data API client (no redirects) into *api (else
 * NULL). *web is NULL when out of memory. */
void tw_ytweb_clients(const tw_cfg_youtube_t *yt, uint32_t timeout_ms,
                      tw_http_t **web, tw_http_t **api);

#endif
