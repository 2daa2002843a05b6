/* tw_gauth - Google OAuth 2.0 access tokens (refresh token, device code,
 * service-account JWT) with caching and early refresh. */
#include "tw_gauth.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tw_buf.h"
#include "tw_file.h"
#include "tw_http.h"
#include "tw_log.h"
#include "tw_time.h"

#define MAX_FILE      (256 * 1024)
#define MARGIN_MAX_MS 300000 /* refresh at most 5 min early */
#define DEVICE_GRANT  "urn:ietf:params:oauth:grant-type:device_code"
#define JWT_GRANT     "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define REAUTH_HINT   "run `tubewatch drive-auth` again"

struct tw_gauth {
    bool service;               /* true: service account JWT; false: refresh */
    char *token_url;            /* oauth_base_url + "/token" */
    char *client_id;            /* OAuth client id */
    char *client_secret;        /* OAuth client secret */
    char *refresh_token;        /* from token_file */
    char *token_file;           /* path of the refresh token */
    char *sa_email;             /* service account client_email */
    char *sa_key;               /* service account PEM private key */
    char *access;               /* cached access token or NULL */
    int64_t refresh_at_ms;      /* monotonic time to fetch a new one */
    bool dead;                  /* credentials rejected: do not ask again */
    struct timespec dead_mtime; /* token_file mtime when it was rejected */
    uint32_t fetches;           /* tokens fetched */
    tw_http_t *http;            /* client of the token endpoint */
};

static json_t *s_load_json(const char *what, const char *path, bool secret,
                           tw_rc_t *rc, tw_err_t *err)
{
    if (!path || !*path) {
        tw_err_set(err, "no %s configured in [drive]", what);
        *rc = TW_ERR_CONFIG;
        return NULL;
    }
    if (secret) {
        tw_rc_t prc = tw_file_check_secret(path, err);
        if (prc != TW_OK) {
            (void)prc;
            *rc = TW_ERR_CONFIG;
            return NULL;
        }
    }
    char *data = NULL;
    size_t len = 0;
    tw_rc_t frc = tw_file_read_all(path, MAX_FILE, &data, &len, err);
    if (frc != TW_OK) {
        tw_err_t e2;
        tw_err_set(&e2, "unable to read %s %s: %s", what, path,
                   err ? err->msg : tw_rc_str(frc));
        if (err)
            *err = e2;
        *rc = TW_ERR_CONFIG;
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    free(data);
    if (!root || !json_is_object(root)) {
        /* jansson's message could quote the file: keep only the place */
        tw_err_set(err, "%s %s is not a JSON object (line %d)", what, path,
                   root ? 1 : jerr.line);
        json_decref(root);
        *rc = TW_ERR_CONFIG;
        return NULL;
    }
    *rc = TW_OK;
    return root;
}

static char *s_jdup(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? strdup(s) : NULL;
}

static char *s_join(const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    size_t len = n + strlen(path) + 1;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%.*s%s", (int)n, base, path);
    return s;
}

/* Reads client_id and client_secret from Google's client_secrets.json
 * ("installed" or "web" shape, or flat). */
static tw_rc_t s_load_client(const char *path, char **id, char **secret,
                             tw_err_t *err)
{
    tw_rc_t rc;
    json_t *root = s_load_json("client_secrets_file", path, false, &rc, err);
    if (!root)
        return rc;
    json_t *c = json_object_get(root, "installed");
    if (!json_is_object(c))
        c = json_object_get(root, "web");
    if (!json_is_object(c))
        c = root;
    *id = s_jdup(c, "client_id");
    *secret = s_jdup(c, "client_secret");
    json_decref(root);
    if (!*id || !*secret) {
        free(*id);
        free(*secret);
        *id = *secret = NULL;
        tw_err_set(err,
                   "client_secrets_file %s has no client_id/client_secret "
                   "(download the OAuth client JSON of a Desktop app)",
                   path);
        return TW_ERR_CONFIG;
    }
    tw_log_add_secret(*secret);
    return TW_OK;
}

static tw_rc_t s_load_refresh(tw_gauth_t *self, tw_err_t *err)
{
    tw_rc_t rc;
    struct stat st;
    if (stat(self->token_file, &st) != 0 && errno == ENOENT) {
        tw_err_set(err,
                   "no Drive refresh token in %s: run `tubewatch drive-auth` "
                   "first",
                   self->token_file);
        return TW_ERR_AUTH;
    }
    json_t *root = s_load_json("token_file", self->token_file, true, &rc, err);
    if (!root)
        return rc;
    free(self->refresh_token);
    self->refresh_token = s_jdup(root, "refresh_token");
    json_decref(root);
    if (!self->refresh_token) {
        tw_err_set(err, "token_file %s holds no refresh_token: " REAUTH_HINT,
                   self->token_file);
        return TW_ERR_AUTH;
    }
    tw_log_add_secret(self->refresh_token);
    return TW_OK;
}

tw_rc_t tw_gauth_new(tw_gauth_t **self_p, const tw_cfg_drive_t *cfg,
                     tw_err_t *err)
{
    assert(self_p);
    assert(cfg);
    *self_p = NULL;
    tw_gauth_t *self = calloc(1, sizeof *self);
    if (!self)
        return TW_ERR_NOMEM;
    tw_rc_t rc = TW_OK;
    const char *base = cfg->oauth_base_url && *cfg->oauth_base_url
                           ? cfg->oauth_base_url
                           : "https://oauth2.googleapis.com";
    self->token_url = s_join(base, "/token");
    /* bounded waits: callers heartbeat between calls */
    tw_http_opts_t hopts = {.timeout_ms = 30000,
                            .max_retries = 3,
                            .backoff_max_ms = 4000,
                            .retry_after_max_ms = 10000};
    self->http = tw_http_new(&hopts);
    if (!self->token_url || !self->http) {
        rc = TW_ERR_NOMEM;
        goto fail;
    }
    if (cfg->service_account_file && *cfg->service_account_file) {
        self->service = true;
        json_t *root = s_load_json("service_account_file",
                                   cfg->service_account_file, true, &rc, err);
        if (!root)
            goto fail;
        self->sa_email = s_jdup(root, "client_email");
        self->sa_key = s_jdup(root, "private_key");
        json_decref(root);
        if (!self->sa_email || !self->sa_key) {
            tw_err_set(err,
                       "service_account_file %s lacks client_email or "
                       "private_key",
                       cfg->service_account_file);
            rc = TW_ERR_CONFIG;
            goto fail;
        }
    } else {
        rc = s_load_client(cfg->client_secrets_file, &self->client_id,
                           &self->client_secret, err);
        if (rc != TW_OK)
            goto fail;
        if (!cfg->token_file || !*cfg->token_file) {
            tw_err_set(err, "[drive] token_file is not set");
            rc = TW_ERR_CONFIG;
            goto fail;
        }
        self->token_file = strdup(cfg->token_file);
        if (!self->token_file) {
            rc = TW_ERR_NOMEM;
            goto fail;
        }
        rc = s_load_refresh(self, err);
        if (rc != TW_OK)
            goto fail;
    }
    *self_p = self;
    return TW_OK;
fail:
    tw_gauth_destroy(&self);
    return rc;
}

void tw_gauth_destroy(tw_gauth_t **self_p)
{
    assert(self_p);
    tw_gauth_t *self = *self_p;
    if (!self)
        return;
    tw_http_destroy(&self->http);
    free(self->token_url);
    free(self->client_id);
    free(self->client_secret);
    free(self->refresh_token);
    free(self->token_file);
    free(self->sa_email);
    if (self->sa_key) {
        OPENSSL_cleanse(self->sa_key, strlen(self->sa_key));
        free(self->sa_key);
    }
    free(self->access);
    free(self);
    *self_p = NULL;
}

/* Appends "&name=value" (value percent-encoded) to a form body. */
static tw_rc_t s_form(tw_buf_t *b, const char *name, const char *value)
{
    char *esc = tw_http_escape(value ? value : "");
    if (!esc)
        return TW_ERR_NOMEM;
    tw_rc_t rc =
        tw_buf_printf(b, "%s%s=%s", tw_buf_len(b) ? "&" : "", name, esc);
    free(esc);
    return rc;
}

/* POSTs a form to url; stores the parsed JSON reply in *reply (may be an
 * error object) and the HTTP status in *status. Returns the tw_http rc,
 * but TW_ERR_HTTP replies still come with *reply. */
static tw_rc_t s_post_form(tw_http_t *http, const char *url, tw_buf_t *form,
                           int max_retries, long *status, json_t **reply,
                           tw_err_t *err)
{
    static const char *const hdrs[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL};
    tw_http_req_t req = {.method = "POST",
                         .url = url,
                         .headers = hdrs,
                         .body = tw_buf_data(form),
                         .body_len = tw_buf_len(form),
                         .max_retries = max_retries};
    tw_http_resp_t resp = {0};
    tw_rc_t rc = tw_http_request(http, &req, &resp, err);
    *status = resp.status;
    *reply = NULL;
    if (resp.body && resp.body_len)
        *reply = json_loadb(resp.body, resp.body_len, 0, NULL);
    tw_http_resp_clear(&resp);
    if ((rc == TW_OK || rc == TW_ERR_HTTP) && !json_is_object(*reply)) {
        json_decref(*reply);
        *reply = NULL;
        tw_err_set(err, "token endpoint answered HTTP %ld without JSON",
                   *status);
        return rc == TW_OK ? TW_ERR_PARSE : TW_ERR_HTTP;
    }
    return rc;
}

static const char *s_oauth_error(json_t *reply)
{
    const char *e = json_string_value(json_object_get(reply, "error"));
    return e ? e : "";
}

/* Copies error_description (not a secret) into a short safe string. */
static void s_desc(json_t *reply, char *out, size_t cap)
{
    const char *d =
        json_string_value(json_object_get(reply, "error_description"));
    snprintf(out, cap, "%s", d ? d : "");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

static bool s_token_file_changed(tw_gauth_t *self)
{
    struct stat st;
    if (!self->token_file || stat(self->token_file, &st) != 0)
        return false;
    return st.st_mtim.tv_sec != self->dead_mtime.tv_sec ||
           st.st_mtim.tv_nsec != self->dead_mtime.tv_nsec;
}

static void s_mark_dead(tw_gauth_t *self)
{
    struct stat st;
    self->dead = true;
    if (self->token_file && stat(self->token_file, &st) == 0)
        self->dead_mtime = st.st_mtim;
}

static tw_rc_t s_fetch(tw_gauth_t *self, tw_err_t *err)
{
    tw_buf_t *form = tw_buf_new();
    if (!form)
        return TW_ERR_NOMEM;
    tw_rc_t rc = TW_OK;
    if (self->service) {
        char *jwt = NULL;
        rc = tw_gauth_jwt(self->sa_email, TW_GAUTH_SCOPE_DRIVE_FILE,
                          TW_GAUTH_AUD, tw_time_now_us() / 1000000,
                          self->sa_key, &jwt, err);
        if (rc == TW_OK) {
            rc = s_form(form, "grant_type", JWT_GRANT);
            if (rc == TW_OK)
                rc = s_form(form, "assertion", jwt);
            free(jwt);
        }
    } else {
        rc = s_form(form, "client_id", self->client_id);
        if (rc == TW_OK)
            rc = s_form(form, "client_secret", self->client_secret);
        if (rc == TW_OK)
            rc = s_form(form, "refresh_token", self->refresh_token);
        if (rc == TW_OK)
            rc = s_form(form, "grant_type", "refresh_token");
    }
    if (rc != TW_OK) {
        tw_buf_destroy(&form);
        return rc;
    }
    long status = 0;
    json_t *reply = NULL;
    rc =
        s_post_form(self->http, self->token_url, form, 0, &status, &reply, err);
    OPENSSL_cleanse(tw_buf_data_mut(form), tw_buf_len(form));
    tw_buf_destroy(&form);
    if (rc == TW_ERR_HTTP && reply) {
        const char *e = s_oauth_error(reply);
        char desc[160];
        s_desc(reply, desc, sizeof desc);
        if (strcmp(e, "invalid_grant") == 0 && !self->service) {
            tw_err_set(err,
                       "Google refused the Drive refresh token (invalid_grant"
                       ": %s): it was revoked or expired; " REAUTH_HINT,
                       desc);
        } else if (strcmp(e, "invalid_grant") == 0) {
            tw_err_set(err,
                       "Google refused the service-account assertion "
                       "(invalid_grant: %s); check the key file and the "
                       "clock",
                       desc);
        } else if (strcmp(e, "invalid_client") == 0 ||
                   strcmp(e, "unauthorized_client") == 0 ||
                   strcmp(e, "deleted_client") == 0) {
            tw_err_set(err,
                       "Google refused the OAuth client (%s: %s); check "
                       "client_secrets_file",
                       e, desc);
        } else {
            tw_err_set(err, "token request refused: HTTP %ld %s: %s", status, e,
                       desc);
        }
        json_decref(reply);
        s_mark_dead(self);
        return TW_ERR_AUTH;
    }
    if (rc != TW_OK) {
        json_decref(reply);
        return rc;
    }
    const char *tok = json_string_value(json_object_get(reply, "access_token"));
    json_int_t ttl = json_integer_value(json_object_get(reply, "expires_in"));
    if (!tok || !*tok) {
        json_decref(reply);
        tw_err_set(err, "token endpoint answered without access_token");
        return TW_ERR_PARSE;
    }
    if (ttl <= 0)
        ttl = 3600;
    free(self->access);
    self->access = strdup(tok);
    json_decref(reply);
    if (!self->access)
        return TW_ERR_NOMEM;
    tw_log_add_secret(self->access);
    int64_t ttl_ms = (int64_t)ttl * 1000;
    int64_t margin = ttl_ms / 10;
    if (margin > MARGIN_MAX_MS)
        margin = MARGIN_MAX_MS;
    self->refresh_at_ms = tw_time_mono_ms() + tw_time_real_ms(ttl_ms - margin);
    self->fetches++;
    return TW_OK;
}

tw_rc_t tw_gauth_token(tw_gauth_t *self, const char **token, tw_err_t *err)
{
    assert(self);
    assert(token);
    *token = NULL;
    if (self->dead) {
        if (self->service || !s_token_file_changed(self)) {
            tw_err_set(err,
                       self->service
                           ? "Drive service-account credentials were refused"
                           : "the Drive refresh token was refused "
                             "earlier; " REAUTH_HINT);
            return TW_ERR_AUTH;
        }
        /* a new token file appeared (drive-auth ran): use it */
        tw_rc_t rc = s_load_refresh(self, err);
        if (rc != TW_OK) {
            s_mark_dead(self);
            return rc;
        }
        self->dead = false;
    }
    if (self->access && tw_time_mono_ms() < self->refresh_at_ms) {
        *token = self->access;
        return TW_OK;
    }
    tw_rc_t rc = s_fetch(self, err);
    if (rc != TW_OK)
        return rc;
    *token = self->access;
    return TW_OK;
}

void tw_gauth_invalidate(tw_gauth_t *self)
{
    assert(self);
    free(self->access);
    self->access = NULL;
    self->refresh_at_ms = 0;
}

uint32_t tw_gauth_fetches(const tw_gauth_t *self)
{
    assert(self);
    return self->fetches;
}

/* ---- device-code flow --------------------------------------------- */

static int s_nanosleep(uint32_t ms, void *arg)
{
    (void)arg;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

static tw_rc_t s_write_token(const tw_cfg_drive_t *cfg, const char *refresh,
                             const char *scope, tw_err_t *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", cfg->token_file);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        tw_rc_t rc = tw_file_mkdirs(dir, 0700, err);
        if (rc != TW_OK)
            return rc;
    }
    char now[TW_TIME_STR_SIZE];
    json_t *o = json_pack("{s:s, s:s, s:s}", "refresh_token", refresh, "scope",
                          scope ? scope : TW_GAUTH_SCOPE_DRIVE_FILE,
                          "created_at", tw_time_format(tw_time_now_us(), now));
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (!text)
        return TW_ERR_NOMEM;
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        return TW_ERR_NOMEM;
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    tw_rc_t rc =
        tw_file_write_atomic(cfg->token_file, line, len + 1, 0600, err);
    OPENSSL_cleanse(line, len);
    free(line);
    return rc;
}

tw_rc_t tw_gauth_device_flow(const tw_cfg_drive_t *cfg, FILE *out,
                             tw_gauth_sleep_fn *sleep_fn, void *sleep_arg,
                             tw_err_t *err)
{
    assert(cfg);
    assert(out);
    if (!sleep_fn)
        sleep_fn = s_nanosleep;
    if (!cfg->token_file || !*cfg->token_file) {
        tw_err_set(err, "[drive] token_file is not set: say where the "
                        "refresh token goes");
        return TW_ERR_CONFIG;
    }
    char *id = NULL, *secret = NULL;
    tw_rc_t rc = s_load_client(cfg->client_secrets_file, &id, &secret, err);
    if (rc != TW_OK)
        return rc;
    const char *base = cfg->oauth_base_url && *cfg->oauth_base_url
                           ? cfg->oauth_base_url
                           : "https://oauth2.googleapis.com";
    char *code_url = s_join(base, "/device/code");
    char *token_url = s_join(base, "/token");
    tw_http_t *http = tw_http_new(NULL);
    tw_buf_t *form = tw_buf_new();
    json_t *reply = NULL;
    char *device = NULL;
    if (!code_url || !token_url || !http || !form) {
        rc = TW_ERR_NOMEM;
        goto done;
    }
    rc = s_form(form, "client_id", id);
    if (rc == TW_OK)
        rc = s_form(form, "scope", TW_GAUTH_SCOPE_DRIVE_FILE);
    if (rc != TW_OK)
        goto done;
    long status = 0;
    rc = s_post_form(http, code_url, form, 0, &status, &reply, err);
    if (rc == TW_ERR_HTTP && reply) {
        char desc[160];
        s_desc(reply, desc, sizeof desc);
        tw_err_set(err,
                   "Google refused the device-code request (%s: %s); the "
                   "OAuth client must be of type \"TVs and Limited Input "
                   "devices\"",
                   s_oauth_error(reply), desc);
        rc = TW_ERR_AUTH;
        goto done;
    }
    if (rc != TW_OK)
        goto done;
    device = s_jdup(reply, "device_code");
    const char *user = json_string_value(json_object_get(reply, "user_code"));
    const char *vurl =
        json_string_value(json_object_get(reply, "verification_url"));
    if (!vurl)
        vurl = json_string_value(json_object_get(reply, "verification_uri"));
    json_int_t interval =
        json_integer_value(json_object_get(reply, "interval"));
    json_int_t expires =
        json_integer_value(json_object_get(reply, "expires_in"));
    if (!device || !user || !vurl) {
        tw_err_set(err, "device-code reply lacks device_code, user_code or "
                        "verification_url");
        rc = TW_ERR_PARSE;
        goto done;
    }
    tw_log_add_secret(device);
    if (interval <= 0)
        interval = 5;
    if (expires <= 0)
        expires = 1800;
    fprintf(out,
            "To let tubewatch upload to Google Drive, open\n\n    %s\n\n"
            "on any device and enter the code\n\n    %s\n\n"
            "Waiting for the approval (the code expires in %d minutes)...\n",
            vurl, user, (int)((expires + 59) / 60));
    fflush(out);
    json_decref(reply);
    reply = NULL;
    int64_t deadline = tw_time_mono_ms() + (int64_t)expires * 1000;
    for (;;) {
        if (sleep_fn((uint32_t)interval * 1000, sleep_arg) != 0) {
            tw_err_set(err, "device authorisation interrupted");
            rc = TW_ERR_CLOSED;
            goto done;
        }
        if (tw_time_mono_ms() > deadline) {
            tw_err_set(err, "the device code expired before it was "
                            "approved; run `tubewatch drive-auth` again");
            rc = TW_ERR_AUTH;
            goto done;
        }
        tw_buf_clear(form);
        rc = s_form(form, "client_id", id);
        if (rc == TW_OK)
            rc = s_form(form, "client_secret", secret);
        if (rc == TW_OK)
            rc = s_form(form, "device_code", device);
        if (rc == TW_OK)
            rc = s_form(form, "grant_type", DEVICE_GRANT);
        if (rc != TW_OK)
            goto done;
        rc = s_post_form(http, token_url, form, -1, &status, &reply, err);
        if (rc == TW_OK) {
            const char *refresh =
                json_string_value(json_object_get(reply, "refresh_token"));
            if (!refresh || !*refresh) {
                tw_err_set(err, "Google approved but sent no refresh_token");
                rc = TW_ERR_PARSE;
                goto done;
            }
            tw_log_add_secret(refresh);
            const char *at =
                json_string_value(json_object_get(reply, "access_token"));
            if (at)
                tw_log_add_secret(at);
            rc = s_write_token(
                cfg, refresh,
                json_string_value(json_object_get(reply, "scope")), err);
            if (rc == TW_OK)
                fprintf(out, "Authorised. Refresh token stored in %s\n",
                        cfg->token_file);
            goto done;
        }
        const char *e = reply ? s_oauth_error(reply) : "";
        if (rc == TW_ERR_HTTP && strcmp(e, "authorization_pending") == 0) {
            /* keep polling */
        } else if ((rc == TW_ERR_HTTP && strcmp(e, "slow_down") == 0) ||
                   status == 429) {
            interval += 5;
        } else if (rc == TW_ERR_HTTP && strcmp(e, "expired_token") == 0) {
            tw_err_set(err, "the device code expired before it was "
                            "approved; run `tubewatch drive-auth` again");
            rc = TW_ERR_AUTH;
            goto done;
        } else if (rc == TW_ERR_HTTP && strcmp(e, "access_denied") == 0) {
            tw_err_set(err, "the authorisation was denied in the browser");
            rc = TW_ERR_AUTH;
            goto done;
        } else if (rc == TW_ERR_HTTP) {
            char desc[160];
            s_desc(reply, desc, sizeof desc);
            tw_err_set(err, "device authorisation failed: HTTP %ld %s: %s",
                       status, e, desc);
            rc = TW_ERR_AUTH;
            goto done;
        } else if (rc == TW_ERR_NOMEM) {
            goto done;
        }
        /* 5xx and network errors: keep polling until the deadline */
        json_decref(reply);
        reply = NULL;
    }
done:
    json_decref(reply);
    if (device) {
        OPENSSL_cleanse(device, strlen(device));
        free(device);
    }
    if (form) {
        OPENSSL_cleanse(tw_buf_data_mut(form), tw_buf_len(form));
        tw_buf_destroy(&form);
    }
    tw_http_destroy(&http);
    free(code_url);
    free(token_url);
    free(id);
    free(secret);
    return rc;
}

/* ---- JWT -------------------------------------------------------------- */

char *tw_gauth_b64url(const void *data, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = data;
    char *out = malloc(len / 3 * 4 + 5);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

static char *s_b64json(json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return NULL;
    char *b = tw_gauth_b64url(text, strlen(text));
    free(text);
    return b;
}

tw_rc_t tw_gauth_jwt(const char *iss, const char *scope, const char *aud,
                     int64_t iat, const char *pem, char **jwt, tw_err_t *err)
{
    assert(iss);
    assert(scope);
    assert(aud);
    assert(pem);
    assert(jwt);
    *jwt = NULL;
    tw_rc_t rc = TW_ERR_NOMEM;
    json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
    json_t *cl = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", iss, "scope",
                           scope, "aud", aud, "iat", (json_int_t)iat, "exp",
                           (json_int_t)(iat + 3600));
    char *h64 = hdr ? s_b64json(hdr) : NULL;
    char *c64 = cl ? s_b64json(cl) : NULL;
    json_decref(hdr);
    json_decref(cl);
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *ctx = NULL;
    unsigned char *sig = NULL;
    char *input = NULL;
    char *s64 = NULL;
    if (!h64 || !c64)
        goto done;
    size_t ilen = strlen(h64) + 1 + strlen(c64);
    input = malloc(ilen + 1);
    if (!input)
        goto done;
    snprintf(input, ilen + 1, "%s.%s", h64, c64);
    bio = BIO_new_mem_buf(pem, -1);
    key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    if (!key || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        tw_err_set(err, "the service account's private_key is not a PEM RSA "
                        "private key");
        rc = TW_ERR_CONFIG;
        goto done;
    }
    ctx = EVP_MD_CTX_new();
    size_t slen = 0;
    if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, NULL, &slen, (const unsigned char *)input, ilen) !=
            1) {
        tw_err_set(err, "unable to sign the JWT with the service account key");
        rc = TW_ERR_CONFIG;
        goto done;
    }
    sig = malloc(slen);
    if (!sig)
        goto done;
    if (EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)input, ilen) !=
        1) {
        tw_err_set(err, "unable to sign the JWT with the service account key");
        rc = TW_ERR_CONFIG;
        goto done;
    }
    s64 = tw_gauth_b64url(sig, slen);
    if (!s64)
        goto done;
    size_t total = ilen + 1 + strlen(s64) + 1;
    *jwt = malloc(total);
    if (!*jwt)
        goto done;
    snprintf(*jwt, total, "%s.%s", input, s64);
    rc = TW_OK;
done:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    BIO_free(bio);
    free(sig);
    free(input);
    free(s64);
    free(h64);
    free(c64);
    return rc;
}
