/* kafka_registry - Schema Registry client and answer parsers. */
#include "kafka_registry.h"

#include <assert.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_http.h"
#include "tw_log.h"

#define S_CONTENT_TYPE "Content-Type: application/vnd.schemaregistry.v1+json"
#define S_ACCEPT                                                               \
    "Accept: application/vnd.schemaregistry.v1+json, application/json"

struct kafka_registry {
    tw_http_t *http; /* client on the registry's base URL */
    char *auth;      /* "Authorization: Basic ..." or NULL */
};

/* Loads buf as one JSON object. */
static json_t *s_load(const char *buf, size_t len, tw_err_t *err)
{
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        tw_err_set(err, "registry answer is not JSON: %.120s", je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        tw_err_set(err, "registry answer is not a JSON object");
        return NULL;
    }
    return root;
}

/* Reads member "id" of o: an integer 1..INT32_MAX. */
static tw_rc_t s_id(const json_t *o, uint32_t *id, tw_err_t *err)
{
    const json_t *j = json_object_get(o, "id");
    if (!json_is_integer(j) || json_integer_value(j) < 1 ||
        json_integer_value(j) > INT32_MAX) {
        tw_err_set(err, "registry answer has no valid schema id");
        return TW_ERR_PARSE;
    }
    *id = (uint32_t)json_integer_value(j);
    return TW_OK;
}

tw_rc_t kafka_registry_parse_latest(const char *buf, size_t len, uint32_t *id,
                                    char **schema, tw_err_t *err)
{
    assert(buf || len == 0);
    assert(id);
    assert(schema);
    *schema = NULL;
    json_t *root = s_load(buf ? buf : "", len, err);
    if (!root)
        return TW_ERR_PARSE;
    tw_rc_t rc = s_id(root, id, err);
    const json_t *type = json_object_get(root, "schemaType");
    const json_t *s = json_object_get(root, "schema");
    if (rc == TW_OK && type &&
        (!json_is_string(type) || strcmp(json_string_value(type), "AVRO"))) {
        tw_err_set(err, "registry schema is of type %.40s, not AVRO",
                   json_is_string(type) ? json_string_value(type) : "?");
        rc = TW_ERR_PARSE;
    }
    if (rc == TW_OK && (!json_is_string(s) || json_string_length(s) == 0 ||
                        strlen(json_string_value(s)) != json_string_length(s))) {
        tw_err_set(err, "registry answer has no schema text");
        rc = TW_ERR_PARSE;
    }
    if (rc == TW_OK) {
        *schema = strdup(json_string_value(s));
        if (!*schema) {
            tw_err_set(err, "out of memory");
            rc = TW_ERR_NOMEM;
        }
    }
    json_decref(root);
    return rc;
}

tw_rc_t kafka_registry_parse_id(const char *buf, size_t len, uint32_t *id,
                                tw_err_t *err)
{
    assert(buf || len == 0);
    assert(id);
    json_t *root = s_load(buf ? buf : "", len, err);
    if (!root)
        return TW_ERR_PARSE;
    tw_rc_t rc = s_id(root, id, err);
    json_decref(root);
    return rc;
}

tw_rc_t kafka_registry_parse_error(const char *buf, size_t len, int *code,
                                   tw_err_t *err)
{
    assert(buf || len == 0);
    assert(code);
    *code = 0;
    json_t *root = s_load(buf ? buf : "", len, err);
    if (!root)
        return TW_ERR_PARSE;
    const json_t *c = json_object_get(root, "error_code");
    if (json_is_integer(c) && json_integer_value(c) > 0 &&
        json_integer_value(c) < 1000000)
        *code = (int)json_integer_value(c);
    json_decref(root);
    return TW_OK;
}

kafka_registry_t *kafka_registry_new(const kafka_registry_opts_t *opts,
                                     tw_err_t *err)
{
    assert(opts);
    assert(opts->url);
    kafka_registry_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    tw_http_opts_t ho = {0};
    ho.base_url = opts->url;
    ho.timeout_ms = opts->timeout_ms ? opts->timeout_ms : 10000;
    ho.connect_timeout_ms = ho.timeout_ms < 5000 ? ho.timeout_ms : 5000;
    ho.max_body = 1024 * 1024;
    ho.max_retries = -1;
    self->http = tw_http_new(&ho);
    if (!self->http) {
        tw_err_set(err, "unable to create an HTTP client");
        free(self);
        return NULL;
    }
    if (opts->user && *opts->user) {
        const char *pw = opts->password ? opts->password : "";
        size_t plen = strlen(opts->user) + 1 + strlen(pw);
        char *plain = malloc(plen + 1);
        size_t blen = 4 * ((plen + 2) / 3) + 1;
        char *b64 = malloc(blen);
        size_t alen = blen + 32;
        self->auth = malloc(alen);
        if (!plain || !b64 || !self->auth) {
            free(plain);
            free(b64);
            kafka_registry_destroy(&self);
            tw_err_set(err, "out of memory");
            return NULL;
        }
        snprintf(plain, plen + 1, "%s:%s", opts->user, pw);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain,
                        (int)plen);
        snprintf(self->auth, alen, "Authorization: Basic %s", b64);
        tw_log_add_secret(b64);
        if (*pw)
            tw_log_add_secret(pw);
        memset(plain, 0, plen);
        free(plain);
        free(b64);
    }
    return self;
}

void kafka_registry_destroy(kafka_registry_t **self_p)
{
    assert(self_p);
    kafka_registry_t *self = *self_p;
    if (!self)
        return;
    tw_http_destroy(&self->http);
    if (self->auth) {
        memset(self->auth, 0, strlen(self->auth));
        free(self->auth);
    }
    free(self);
    *self_p = NULL;
}

/* Describes a refusal: status, and the registry's error_code. */
static void s_refused(const char *what, const tw_http_resp_t *resp,
                      tw_err_t *err)
{
    int code = 0;
    if (resp->body)
        kafka_registry_parse_error(resp->body, resp->body_len, &code, NULL);
    if (resp->status == 401 || resp->status == 403)
        tw_err_set(err, "%s: HTTP %ld: the registry refused the credentials",
                   what, resp->status);
    else
        tw_err_set(err, "%s: HTTP %ld, error_code %d", what, resp->status,
                   code);
}

tw_rc_t kafka_registry_resolve(kafka_registry_t *self, const char *subject,
                               const char *own_schema, uint32_t *id,
                               char **schema, bool *registered, tw_err_t *err)
{
    assert(self);
    assert(subject);
    assert(own_schema);
    assert(id);
    assert(schema);
    assert(registered);
    *schema = NULL;
    *registered = false;
    char *esc = tw_http_escape(subject);
    if (!esc) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    char url[1024];
    snprintf(url, sizeof url, "subjects/%s/versions/latest", esc);
    const char *headers[] = {S_ACCEPT, self->auth, NULL};
    tw_http_resp_t resp = {0};
    tw_err_t herr = {0};
    tw_rc_t rc = tw_http_get(self->http, url, headers, &resp, &herr);
    if (rc == TW_OK && resp.status == 200) {
        rc = kafka_registry_parse_latest(resp.body, resp.body_len, id, schema,
                                         err);
        tw_http_resp_clear(&resp);
        free(esc);
        return rc;
    }
    if (rc != TW_OK && resp.status != 404) {
        if (rc == TW_ERR_HTTP)
            s_refused("GET latest schema", &resp, err);
        else
            tw_err_set(err, "GET latest schema: %s", herr.msg);
        tw_http_resp_clear(&resp);
        free(esc);
        return rc == TW_ERR_AGAIN ? TW_ERR_NET : rc;
    }
    if (resp.status != 404) {
        tw_err_set(err, "GET latest schema: unexpected HTTP %ld", resp.status);
        tw_http_resp_clear(&resp);
        free(esc);
        return TW_ERR_PARSE;
    }
    /* No version yet: register tubewatch's schema. */
    json_t *body = json_pack("{s:s}", "schema", own_schema);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        tw_http_resp_clear(&resp);
        free(esc);
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    snprintf(url, sizeof url, "subjects/%s/versions", esc);
    free(esc);
    const char *pheaders[] = {S_CONTENT_TYPE, S_ACCEPT, self->auth, NULL};
    if (!self->auth)
        pheaders[2] = NULL;
    rc = tw_http_post(self->http, url, pheaders, text, strlen(text), &resp,
                      &herr);
    free(text);
    if (rc == TW_OK && resp.status == 200)
        rc = kafka_registry_parse_id(resp.body, resp.body_len, id, err);
    else if (rc == TW_ERR_HTTP)
        s_refused("POST schema", &resp, err);
    else if (rc == TW_OK) {
        tw_err_set(err, "POST schema: unexpected HTTP %ld", resp.status);
        rc = TW_ERR_PARSE;
    } else {
        tw_err_set(err, "POST schema: %s", herr.msg);
        if (rc == TW_ERR_AGAIN)
            rc = TW_ERR_NET;
    }
    tw_http_resp_clear(&resp);
    if (rc != TW_OK)
        return rc;
    *schema = strdup(own_schema);
    if (!*schema) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    *registered = true;
    return TW_OK;
}
