/* ytsim_google - Google OAuth 2.0 token endpoint (refresh_token,
 * device_code, jwt-bearer grants; /device/code) with expiring access tokens,
 * and Drive v3 (files list/create, multipart and resumable uploads) storing
 * every uploaded file in OUT/received/drive/. */
#include "ytsim.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CHUNK (256 * 1024)

/* An issued access token. */
typedef struct {
    char tok[64];   /* the token */
    double expires; /* real time of expiry */
} s_token_t;

/* A pending device authorisation. */
typedef struct {
    char code[48]; /* device_code */
    int polls;     /* token polls so far */
    bool done;     /* refresh token issued */
} s_device_t;

/* A Drive file or folder. */
typedef struct {
    char id[40];     /* file id */
    char *name;      /* name (owned) */
    char parent[40]; /* parent id */
    char mime[128];  /* mimeType */
    uint64_t size;   /* bytes */
    char md5[33];    /* md5Checksum (files only) */
} s_file_t;

/* A resumable upload session. */
typedef struct {
    char id[40];       /* upload_id */
    char *meta;        /* metadata JSON (owned) */
    char mime[128];    /* X-Upload-Content-Type */
    int64_t total;     /* X-Upload-Content-Length or -1 */
    uint64_t received; /* bytes stored */
    double created;    /* real time */
    int file;          /* index of the finished file or -1 */
    bool dead;         /* dropped by a fault */
} s_session_t;

static s_token_t *s_tokens;
static size_t s_n_tokens;
static s_device_t s_devices[64];
static size_t s_n_devices;
static char **s_extra_refresh; /* refresh tokens issued by device flow */
static size_t s_n_extra_refresh;
static s_file_t *s_files;
static size_t s_n_files;
static s_session_t *s_sessions;
static size_t s_n_sessions;
static uint64_t s_counter;

static void *s_grow(void *p, size_t n, size_t size)
{
    void *q = realloc(p, (n + 1) * size);
    if (!q) {
        abort();
    }
    return q;
}

static void s_rand(char *out, size_t n, uint64_t salt)
{
    /* ids need not be reproducible across runs: mix a counter and time */
    ytsim_rng_t r = {
        ytsim_hash3((uint64_t)tw_time_now_us(), ++s_counter, salt)};
    ytsim_rng_id(&r, out, n);
}

static void s_oauth_error(ytsim_resp_t *rs, int code, const char *err,
                          const char *desc)
{
    ytsim_buf_t *b = ytsim_resp_json(rs, code);
    YB(b, "{\"error\":");
    ytsim_buf_jstr(b, err);
    YB(b, ",\"error_description\":");
    ytsim_buf_jstr(b, desc);
    YB(b, "}");
}

static void s_issue(ytsim_srv_t *srv, ytsim_resp_t *rs, const char *scope,
                    const char *refresh)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    char tok[64];
    char r[41];
    ytsim_lock(srv);
    s_rand(r, 40, 0x7a);
    snprintf(tok, sizeof tok, "ya29.sim-%s", r);
    s_tokens = s_grow(s_tokens, s_n_tokens, sizeof *s_tokens);
    snprintf(s_tokens[s_n_tokens].tok, sizeof s_tokens[0].tok, "%s", tok);
    s_tokens[s_n_tokens++].expires = ytsim_lifetime_clock(srv) + scn->token_ttl;
    ytsim_unlock(srv);
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    YB(b, "{\"access_token\":");
    ytsim_buf_jstr(b, tok);
    ytsim_buf_printf(b, ",\"expires_in\":%d", scn->token_ttl);
    if (refresh) {
        YB(b, ",\"refresh_token\":");
        ytsim_buf_jstr(b, refresh);
    }
    YB(b, ",\"scope\":");
    ytsim_buf_jstr(b, scope && *scope
                          ? scope
                          : "https://www.googleapis.com/auth/drive.file "
                            "https://www.googleapis.com/auth/youtube.readonly");
    YB(b, ",\"token_type\":\"Bearer\"}");
}

static bool s_client_ok(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *id = ytsim_param(rq, "client_id");
    const char *sec = ytsim_param(rq, "client_secret");
    if (!id || strcmp(id, scn->client_id) != 0) {
        s_oauth_error(rs, 401, "invalid_client",
                      "The OAuth client was not found.");
        return false;
    }
    if (sec && strcmp(sec, scn->client_secret) != 0) {
        s_oauth_error(rs, 401, "invalid_client", "Unauthorized");
        return false;
    }
    return true;
}

static void s_refresh(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    if (!s_client_ok(srv, rq, rs)) {
        return;
    }
    const char *rt = ytsim_param(rq, "refresh_token");
    bool ok = false;
    ytsim_lock(srv);
    for (size_t i = 0; rt && i < scn->n_refresh_tokens; i++) {
        ok |= strcmp(rt, scn->refresh_tokens[i]) == 0;
    }
    for (size_t i = 0; rt && i < s_n_extra_refresh; i++) {
        ok |= strcmp(rt, s_extra_refresh[i]) == 0;
    }
    ytsim_unlock(srv);
    if (!ok) {
        s_oauth_error(rs, 400, "invalid_grant",
                      "Token has been expired or revoked.");
        return;
    }
    s_issue(srv, rs, ytsim_param(rq, "scope"), NULL);
}

static void s_device_code(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    if (!s_client_ok(srv, rq, rs)) {
        return;
    }
    char code[48], user[10];
    ytsim_lock(srv);
    if (s_n_devices == 64) {
        ytsim_unlock(srv);
        s_oauth_error(rs, 429, "slow_down", "Too many device codes");
        return;
    }
    char r[40];
    s_rand(r, 38, 0xde);
    snprintf(code, sizeof code, "AH-1Ng%s", r);
    s_device_t *d = &s_devices[s_n_devices++];
    snprintf(d->code, sizeof d->code, "%s", code);
    d->polls = 0;
    d->done = false;
    ytsim_unlock(srv);
    for (int i = 0; i < 9; i++) {
        user[i] = i == 4 ? '-' : (char)('A' + (code[10 + i] & 15));
    }
    user[9] = '\0';
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    ytsim_buf_printf(b,
                     "{\"device_code\":\"%s\",\"user_code\":\"%s\","
                     "\"expires_in\":1800,\"interval\":5,"
                     "\"verification_url\":\"https://www.google.com/"
                     "device\"}",
                     code, user);
}

static void s_device_token(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    if (!s_client_ok(srv, rq, rs)) {
        return;
    }
    const char *code = ytsim_param(rq, "device_code");
    int state = -1; /* -1 unknown, 0 pending, 1 approved, 2 used */
    char refresh[64] = "";
    ytsim_lock(srv);
    for (size_t i = 0; code && i < s_n_devices; i++) {
        s_device_t *d = &s_devices[i];
        if (strcmp(d->code, code) != 0) {
            continue;
        }
        if (d->done) {
            state = 2;
        } else if (d->polls++ < scn->device_polls) {
            state = 0;
        } else {
            state = 1;
            d->done = true;
            char r[33];
            s_rand(r, 32, 0xd1);
            snprintf(refresh, sizeof refresh, "1//ytsim-device-%s", r);
            s_extra_refresh = s_grow(s_extra_refresh, s_n_extra_refresh,
                                     sizeof *s_extra_refresh);
            s_extra_refresh[s_n_extra_refresh++] = strdup(refresh);
        }
    }
    ytsim_unlock(srv);
    if (state == 0) {
        s_oauth_error(rs, 428, "authorization_pending",
                      "Precondition Required");
    } else if (state == 1) {
        s_issue(srv, rs, NULL, refresh);
    } else {
        s_oauth_error(rs, 400, "invalid_grant", "Malformed auth code.");
    }
}

static json_t *s_b64json(const char *s, size_t n)
{
    unsigned char buf[4096];
    long len = ytsim_b64_decode(s, n, buf, sizeof buf);
    if (len < 0) {
        return NULL;
    }
    return json_loadb((const char *)buf, (size_t)len, 0, NULL);
}

static bool s_verify_sig(const char *pem, const char *input, size_t n,
                         const char *sig64)
{
    unsigned char sig[1024];
    long sl = ytsim_b64_decode(sig64, strlen(sig64), sig, sizeof sig);
    FILE *f = fopen(pem, "r");
    if (!f || sl <= 0) {
        if (f) {
            fclose(f);
        }
        return false;
    }
    EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (!k) {
        return false;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx &&
              EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
              EVP_DigestVerifyUpdate(ctx, input, n) == 1 &&
              EVP_DigestVerifyFinal(ctx, sig, (size_t)sl) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return ok;
}

static void s_jwt(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *a = ytsim_param(rq, "assertion");
    const char *d1 = a ? strchr(a, '.') : NULL;
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.')) {
        s_oauth_error(rs, 400, "invalid_grant", "Invalid JWT: malformed.");
        return;
    }
    json_t *h = s_b64json(a, (size_t)(d1 - a));
    json_t *c = s_b64json(d1 + 1, (size_t)(d2 - d1 - 1));
    const char *why = NULL;
    const char *alg = h ? json_string_value(json_object_get(h, "alg")) : NULL;
    const char *iss = c ? json_string_value(json_object_get(c, "iss")) : NULL;
    const char *aud = c ? json_string_value(json_object_get(c, "aud")) : NULL;
    const char *scope =
        c ? json_string_value(json_object_get(c, "scope")) : NULL;
    json_t *iat = c ? json_object_get(c, "iat") : NULL;
    json_t *exp = c ? json_object_get(c, "exp") : NULL;
    double now = (double)(tw_time_now_us() / 1000000);
    if (!h || !c) {
        why = "Invalid JWT: malformed.";
    } else if (!alg || strcmp(alg, "RS256") != 0) {
        why = "Invalid JWT: unsupported algorithm.";
    } else if (!iss || (scn->sa_email[0] && strcmp(iss, scn->sa_email))) {
        why = "Invalid JWT Signature.";
    } else if (!aud || strcmp(aud, "https://oauth2.googleapis.com/token")) {
        why = "Invalid JWT: audience is not "
              "https://oauth2.googleapis.com/token.";
    } else if (!json_is_number(iat) || !json_is_number(exp) ||
               json_number_value(exp) <= json_number_value(iat) ||
               json_number_value(exp) - json_number_value(iat) > 3600 ||
               json_number_value(iat) > now + 300 ||
               json_number_value(exp) < now) {
        why = "Invalid JWT: Token must be a short-lived token (60 minutes) "
              "and in a reasonable timeframe. Check your iat and exp values "
              "in the JWT claim.";
    } else if (scn->sa_pubkey[0] &&
               !s_verify_sig(scn->sa_pubkey, a, (size_t)(d2 - a), d2 + 1)) {
        why = "Invalid JWT Signature.";
    }
    if (!why && (!scope || !*scope)) {
        s_oauth_error(rs, 400, "invalid_scope",
                      "Invalid OAuth scope or ID token audience provided.");
    } else if (why) {
        s_oauth_error(rs, 400, "invalid_grant", why);
    } else {
        s_issue(srv, rs, scope, NULL);
    }
    json_decref(h);
    json_decref(c);
}

static void s_token(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *gt = ytsim_param(rq, "grant_type");
    if (!gt) {
        s_oauth_error(rs, 400, "unsupported_grant_type",
                      "Invalid grant_type: ");
    } else if (strcmp(gt, "refresh_token") == 0) {
        s_refresh(srv, rq, rs);
    } else if (strcmp(gt, "urn:ietf:params:oauth:grant-type:device_code") ==
                   0 ||
               strcmp(gt, "http://oauth.net/grant_type/device/1.0") == 0) {
        s_device_token(srv, rq, rs);
    } else if (strcmp(gt, "urn:ietf:params:oauth:grant-type:jwt-bearer") == 0) {
        s_jwt(srv, rq, rs);
    } else {
        char d[256];
        snprintf(d, sizeof d, "Invalid grant_type: %s", gt);
        s_oauth_error(rs, 400, "unsupported_grant_type", d);
    }
}

/* ---- Drive ---------------------------------------------------------- */

static void s_drive_error(ytsim_resp_t *rs, int code, const char *domain,
                          const char *reason, const char *msg)
{
    ytsim_buf_t *b = ytsim_resp_json(rs, code);
    YB(b, "{\"error\":{\"errors\":[{\"domain\":");
    ytsim_buf_jstr(b, domain);
    YB(b, ",\"reason\":");
    ytsim_buf_jstr(b, reason);
    YB(b, ",\"message\":");
    ytsim_buf_jstr(b, msg);
    if (code == 401) {
        YB(b, ",\"locationType\":\"header\",\"location\":\"Authorization\"");
    }
    ytsim_buf_printf(b, "}],\"code\":%d,\"message\":", code);
    ytsim_buf_jstr(b, msg);
    YB(b, "}}");
}

static bool s_authorised(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *h = ytsim_header(rq, "Authorization");
    bool ok = false;
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        double now = ytsim_lifetime_clock(srv);
        ytsim_lock(srv);
        for (size_t i = 0; i < s_n_tokens; i++) {
            if (strcmp(s_tokens[i].tok, h + 7) == 0 &&
                s_tokens[i].expires > now) {
                ok = true;
            }
        }
        ytsim_unlock(srv);
    }
    if (!ok) {
        s_drive_error(rs, 401, "global", "authError", "Invalid Credentials");
    }
    return ok;
}

static void s_file_json(ytsim_buf_t *b, const s_file_t *f)
{
    YB(b, "{\"kind\":\"drive#file\",\"id\":");
    ytsim_buf_jstr(b, f->id);
    YB(b, ",\"name\":");
    ytsim_buf_jstr(b, f->name);
    YB(b, ",\"mimeType\":");
    ytsim_buf_jstr(b, f->mime);
    YB(b, ",\"parents\":[");
    ytsim_buf_jstr(b, f->parent);
    YB(b, "]");
    if (strcmp(f->mime, "application/vnd.google-apps.folder") != 0) {
        ytsim_buf_printf(b, ",\"size\":\"%llu\",\"md5Checksum\":\"%s\"",
                         (unsigned long long)f->size, f->md5);
    }
    YB(b, "}");
}

/* Adds a file (locked by the caller); returns its index. */
static size_t s_add_file(ytsim_srv_t *srv, const char *name, const char *parent,
                         const char *mime)
{
    s_files = s_grow(s_files, s_n_files, sizeof *s_files);
    s_file_t *f = &s_files[s_n_files];
    memset(f, 0, sizeof *f);
    char r[34];
    s_rand(r, 33, 0xf1);
    snprintf(f->id, sizeof f->id, "1%s", r);
    f->name = strdup(name ? name : "Untitled");
    snprintf(f->parent, sizeof f->parent, "%s",
             parent ? parent : ytsim_scn(srv)->drive_root);
    snprintf(f->mime, sizeof f->mime, "%s",
             mime ? mime : "application/octet-stream");
    return s_n_files++;
}

/* Value of KEY='...' in a q string (unescaped into out) or false. */
static bool s_q_value(const char *q, const char *key, char *out, size_t cap)
{
    const char *p = strstr(q, key);
    if (!p) {
        return false;
    }
    p += strlen(key);
    while (*p == ' ' || *p == '=') {
        p++;
    }
    if (*p != '\'') {
        return false;
    }
    size_t k = 0;
    for (p++; *p && *p != '\''; p++) {
        if (*p == '\\' && p[1]) {
            p++;
        }
        if (k + 1 < cap) {
            out[k++] = *p;
        }
    }
    out[k] = '\0';
    return true;
}

static void s_files_list(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *q = ytsim_query(rq, "q");
    char name[512], parent[64], mime[128];
    bool has_name = q && s_q_value(q, "name", name, sizeof name);
    bool has_mime = q && s_q_value(q, "mimeType", mime, sizeof mime);
    bool has_parent = false;
    if (q) {
        /* 'PARENT' in parents */
        const char *in = strstr(q, "in parents");
        if (in) {
            const char *e = in;
            while (e > q && e[-1] == ' ') {
                e--;
            }
            const char *s = e - 1;
            while (s > q && s[-1] != '\'') {
                s--;
            }
            if (e > q && e[-1] == '\'' && s > q && (size_t)(e - s) < 64) {
                snprintf(parent, sizeof parent, "%.*s", (int)(e - 1 - s), s);
                has_parent = true;
            }
        }
    }
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    YB(b, "{\"kind\":\"drive#fileList\",\"incompleteSearch\":false,"
          "\"files\":[");
    size_t n = 0;
    ytsim_lock(srv);
    for (size_t i = 0; i < s_n_files; i++) {
        const s_file_t *f = &s_files[i];
        if ((has_name && strcmp(f->name, name) != 0) ||
            (has_mime && strcmp(f->mime, mime) != 0) ||
            (has_parent && strcmp(f->parent, parent) != 0)) {
            continue;
        }
        if (n++) {
            YB(b, ",");
        }
        s_file_json(b, f);
    }
    ytsim_unlock(srv);
    YB(b, "]}");
}

static const char *s_jstr(json_t *o, const char *key)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *s_jparent(json_t *o)
{
    json_t *p = o ? json_object_get(o, "parents") : NULL;
    json_t *v = p && json_is_array(p) ? json_array_get(p, 0) : NULL;
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

static void s_files_create(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    json_t *m = ytsim_body_json(rq);
    if (!m || !json_is_object(m)) {
        s_drive_error(rs, 400, "global", "parseError", "Parse Error");
        return;
    }
    ytsim_lock(srv);
    size_t i =
        s_add_file(srv, s_jstr(m, "name"), s_jparent(m), s_jstr(m, "mimeType"));
    s_file_t f = s_files[i];
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    s_file_json(b, &f);
    ytsim_unlock(srv);
}

static void s_md5_hex(const unsigned char *d, size_t n, char *out)
{
    unsigned char md[16];
    unsigned int len = 0;
    EVP_Digest(d, n, md, &len, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
}

/* Stores a finished upload; returns the file index (locked by caller). */
static size_t s_store(ytsim_srv_t *srv, json_t *meta, const char *mime,
                      const unsigned char *data, size_t n, const char *how)
{
    const char *ty = s_jstr(meta, "mimeType");
    size_t i =
        s_add_file(srv, s_jstr(meta, "name"), s_jparent(meta), ty ? ty : mime);
    s_file_t *f = &s_files[i];
    f->size = n;
    s_md5_hex(data, n, f->md5);
    char safe[200];
    size_t k = 0;
    for (const char *p = f->name; *p && k < sizeof safe - 1; p++) {
        char c = *p;
        safe[k++] =
            (c == '/' || c == '\\' || (unsigned char)c < 0x20) ? '_' : c;
    }
    safe[k] = '\0';
    char path[4600];
    snprintf(path, sizeof path, "%s/received/drive/%s-%s", ytsim_out(srv),
             f->id, safe);
    FILE *o = fopen(path, "wb");
    if (o) {
        fwrite(data, 1, n, o);
        fclose(o);
    }
    snprintf(path, sizeof path, "%s/received/drive/%s.json", ytsim_out(srv),
             f->id);
    o = fopen(path, "w");
    if (o) {
        ytsim_buf_t b = {0};
        s_file_json(&b, f);
        b.len--; /* reopen the object to add the upload kind */
        ytsim_buf_printf(&b, ",\"upload\":\"%s\"}\n", how);
        fwrite(b.p, 1, b.len, o);
        ytsim_buf_free(&b);
        fclose(o);
    }
    return i;
}

static void s_multipart(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *ct = ytsim_header(rq, "Content-Type");
    const char *bp = ct ? strstr(ct, "boundary=") : NULL;
    if (!bp) {
        s_drive_error(rs, 400, "global", "badContent",
                      "Media type 'application/octet-stream' is not "
                      "supported. Valid media types: [*/*]");
        return;
    }
    char delim[200];
    bp += 9;
    size_t bl = strcspn(bp, "; ");
    if (*bp == '"') {
        bp++;
        bl = strcspn(bp, "\"");
    }
    snprintf(delim, sizeof delim, "--%.*s", (int)bl, bp);
    /* parts: [delim CRLF headers CRLF CRLF body CRLF]... delim-- */
    const char *body = rq->body.p ? rq->body.p : "";
    size_t n = rq->body.len, dl = strlen(delim);
    const char *parts[3];
    size_t lens[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
    int np = 0;
    size_t i = 0;
    while (np < 3) {
        const char *d = NULL;
        for (size_t j = i; j + dl <= n; j++) {
            if (memcmp(body + j, delim, dl) == 0) {
                d = body + j;
                break;
            }
        }
        if (!d) {
            break;
        }
        size_t at = (size_t)(d - body);
        if (np > 0) {
            size_t end = at;
            if (end >= 2 && body[end - 2] == '\r' && body[end - 1] == '\n') {
                end -= 2;
            }
            lens[np - 1] = end - (size_t)(parts[np - 1] - body);
        }
        at += dl;
        if (at + 2 <= n && body[at] == '-' && body[at + 1] == '-') {
            break;
        }
        const char *hdr_end = NULL;
        for (size_t j = at; j + 4 <= n; j++) {
            if (memcmp(body + j, "\r\n\r\n", 4) == 0) {
                hdr_end = body + j + 4;
                break;
            }
        }
        if (!hdr_end) {
            break;
        }
        parts[np++] = hdr_end;
        i = (size_t)(hdr_end - body);
    }
    if (np > 0 && lens[np - 1] == SIZE_MAX) {
        np--; /* a part without its closing delimiter */
    }
    if (np < 2) {
        s_drive_error(rs, 400, "global", "badContent",
                      "Malformed multipart body.");
        return;
    }
    json_t *meta = json_loadb(parts[0], lens[0], 0, NULL);
    if (!meta) {
        s_drive_error(rs, 400, "global", "parseError", "Parse Error");
        return;
    }
    ytsim_lock(srv);
    size_t fi = s_store(srv, meta, "application/octet-stream",
                        (const unsigned char *)parts[1], lens[1], "multipart");
    s_file_t f = s_files[fi];
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    s_file_json(b, &f);
    ytsim_unlock(srv);
    json_decref(meta);
}

static void s_resumable_start(ytsim_srv_t *srv, ytsim_req_t *rq,
                              ytsim_resp_t *rs)
{
    json_t *m = ytsim_body_json(rq);
    if (rq->body.len > 0 && !m) {
        s_drive_error(rs, 400, "global", "parseError", "Parse Error");
        return;
    }
    const char *ty = ytsim_header(rq, "X-Upload-Content-Type");
    const char *len = ytsim_header(rq, "X-Upload-Content-Length");
    const char *host = ytsim_header(rq, "Host");
    char id[40];
    ytsim_lock(srv);
    s_sessions = s_grow(s_sessions, s_n_sessions, sizeof *s_sessions);
    s_session_t *s = &s_sessions[s_n_sessions++];
    memset(s, 0, sizeof *s);
    char r[32];
    s_rand(r, 31, 0x5e);
    snprintf(s->id, sizeof s->id, "AEnB2U%s", r);
    s->meta = rq->body.len ? strndup(rq->body.p, rq->body.len) : strdup("{}");
    snprintf(s->mime, sizeof s->mime, "%s",
             ty ? ty : "application/octet-stream");
    s->total = len ? strtoll(len, NULL, 10) : -1;
    s->created = ytsim_lifetime_clock(srv);
    s->file = -1;
    snprintf(id, sizeof id, "%s", s->id);
    ytsim_unlock(srv);
    rs->status = 200;
    rs->ctype = "text/plain; charset=utf-8";
    ytsim_resp_header(rs, "Location",
                      "http://%s/upload/drive/v3/files?uploadType=resumable&"
                      "upload_id=%s",
                      host ? host : "127.0.0.1", id);
    ytsim_resp_header(rs, "X-GUploader-UploadID", "%s", id);
}

/* Parses a Content-Range ("bytes A-B/N", "bytes *\/N" for a status
 * query, N may be "*"); false if malformed. */
static bool s_range(const char *h, int64_t *a, int64_t *b, int64_t *total)
{
    if (strncmp(h, "bytes ", 6) != 0) {
        return false;
    }
    const char *p = h + 6;
    if (*p == '*') {
        *a = *b = -1;
        p++;
    } else {
        char *e;
        *a = strtoll(p, &e, 10);
        if (*e != '-') {
            return false;
        }
        *b = strtoll(e + 1, &e, 10);
        p = e;
        if (*b < *a) {
            return false;
        }
    }
    if (*p != '/') {
        return false;
    }
    *total = p[1] == '*' ? -1 : strtoll(p + 1, NULL, 10);
    return true;
}

static void s_session_done(ytsim_srv_t *srv, s_session_t *s, ytsim_resp_t *rs)
{
    /* locked by the caller */
    if (s->file < 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s/received/drive/.partial-%s",
                 ytsim_out(srv), s->id);
        ytsim_buf_t data = {0};
        FILE *f = fopen(path, "rb");
        char buf[65536];
        size_t n;
        while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) {
            ytsim_buf_put(&data, buf, n);
        }
        if (f) {
            fclose(f);
        }
        remove(path);
        json_t *meta = json_loads(s->meta, 0, NULL);
        s->file = (int)s_store(srv, meta, s->mime,
                               (const unsigned char *)(data.p ? data.p : ""),
                               data.len, "resumable");
        json_decref(meta);
        ytsim_buf_free(&data);
    }
    s_file_t f = s_files[s->file];
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    s_file_json(b, &f);
}

/* Is a "drive_session" fault active now? (drops upload sessions) */
static bool s_session_fault(ytsim_srv_t *srv)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    double now = ytsim_now(srv);
    for (size_t i = 0; i < scn->n_faults; i++) {
        const ytsim_fault_t *f = &scn->faults[i];
        if (strcmp(f->endpoint, "drive_session") == 0 && now >= f->from &&
            now < f->to) {
            return true;
        }
    }
    return false;
}

static void s_resumable_put(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *uid = ytsim_query(rq, "upload_id");
    const char *cr = ytsim_header(rq, "Content-Range");
    bool kill = s_session_fault(srv);
    ytsim_lock(srv);
    s_session_t *s = NULL;
    for (size_t i = 0; uid && i < s_n_sessions; i++) {
        if (strcmp(s_sessions[i].id, uid) == 0) {
            s = &s_sessions[i];
        }
    }
    if (s && kill) {
        s->dead = true;
    }
    if (!s || s->dead ||
        ytsim_lifetime_clock(srv) - s->created > scn->session_ttl) {
        ytsim_unlock(srv);
        s_drive_error(rs, 404, "global", "notFound", "Not Found");
        return;
    }
    int64_t a = 0, b = 0, total = s->total;
    size_t n = rq->body.len;
    if (cr && !s_range(cr, &a, &b, &total)) {
        ytsim_unlock(srv);
        s_drive_error(rs, 400, "global", "badRequest",
                      "Failed to parse Content-Range header.");
        return;
    }
    if (!cr) {
        /* the whole file in one PUT */
        a = 0;
        b = (int64_t)n - 1;
        total = (int64_t)n;
    }
    if (total >= 0) {
        s->total = total;
    }
    if (a < 0) {
        /* status query: bytes *\/N */
        if (s->total >= 0 && (int64_t)s->received == s->total) {
            s_session_done(srv, s, rs);
        } else {
            rs->status = 308;
            rs->ctype = "text/plain; charset=utf-8";
            if (s->received > 0) {
                ytsim_resp_header(rs, "Range", "bytes=0-%llu",
                                  (unsigned long long)s->received - 1);
            }
        }
        ytsim_unlock(srv);
        return;
    }
    if ((int64_t)n != b - a + 1 || a > (int64_t)s->received ||
        (s->total >= 0 && b >= s->total)) {
        ytsim_unlock(srv);
        s_drive_error(rs, 400, "global", "badRequest",
                      "Invalid request. According to the Content-Range "
                      "header, the upload offset is out of range.");
        return;
    }
    bool last = s->total >= 0 && b + 1 == s->total;
    /* keep what extends the stored bytes; a non-final chunk is cut to a
     * multiple of 256 KiB, like Drive does */
    uint64_t end = (uint64_t)b + 1;
    if (!last) {
        end = end / CHUNK * CHUNK;
    }
    if (end > s->received) {
        char path[4200];
        snprintf(path, sizeof path, "%s/received/drive/.partial-%s",
                 ytsim_out(srv), s->id);
        FILE *f = fopen(path, s->received ? "r+b" : "wb");
        if (f) {
            fseek(f, (long)s->received, SEEK_SET);
            fwrite(rq->body.p + (s->received - (uint64_t)a), 1,
                   end - s->received, f);
            fclose(f);
            s->received = end;
        }
    }
    if (s->total >= 0 && (int64_t)s->received == s->total) {
        s_session_done(srv, s, rs);
    } else {
        rs->status = 308;
        rs->ctype = "text/plain; charset=utf-8";
        if (s->received > 0) {
            ytsim_resp_header(rs, "Range", "bytes=0-%llu",
                              (unsigned long long)s->received - 1);
        }
    }
    ytsim_unlock(srv);
}

bool ytsim_google_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *ep = rq->ep;
    const char *m = rq->method;
    if (strcmp(ep, "token") == 0 && strcmp(rq->path, "/token") == 0) {
        if (strcmp(m, "POST") != 0) {
            s_oauth_error(rs, 405, "invalid_request", "Method not allowed");
        } else {
            s_token(srv, rq, rs);
        }
        return true;
    }
    if (strcmp(ep, "device_code") == 0) {
        s_device_code(srv, rq, rs);
        return true;
    }
    if (strcmp(ep, "drive_files") == 0) {
        if (!s_authorised(srv, rq, rs)) {
            return true;
        }
        if (strcmp(m, "GET") == 0) {
            s_files_list(srv, rq, rs);
        } else if (strcmp(m, "POST") == 0) {
            s_files_create(srv, rq, rs);
        } else {
            s_drive_error(rs, 405, "global", "methodNotAllowed",
                          "Method not allowed");
        }
        return true;
    }
    if (strcmp(ep, "drive_upload") == 0) {
        const char *ut = ytsim_query(rq, "uploadType");
        if (strcmp(m, "PUT") == 0 && ytsim_query(rq, "upload_id")) {
            /* the session URI is the credential, as with Google */
            s_resumable_put(srv, rq, rs);
            return true;
        }
        if (!s_authorised(srv, rq, rs)) {
            return true;
        }
        if (strcmp(m, "POST") == 0 && ut && strcmp(ut, "multipart") == 0) {
            s_multipart(srv, rq, rs);
        } else if (strcmp(m, "POST") == 0 && ut &&
                   strcmp(ut, "resumable") == 0) {
            s_resumable_start(srv, rq, rs);
        } else {
            s_drive_error(rs, 400, "global", "invalid",
                          "Invalid Value: uploadType");
        }
        return true;
    }
    return false;
}
