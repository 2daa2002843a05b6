/* ytsim_registry - a Confluent-compatible Schema Registry (the REST API's
 * subjects, versions and ids; basic auth; Confluent's error bodies), with
 * the schema ksqlDB registers for the seed stream preloaded on request.
 * Registrations are appended to OUT/received/registry.jsonl. */
#include "ytsim.h"

#include <avro.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The value schema ksqlDB registers for
 *   CREATE STREAM yt_videos (video_id VARCHAR KEY, video_timestamp VARCHAR,
 *     title VARCHAR, description VARCHAR, views INTEGER, likes INTEGER,
 *     favorites INTEGER, comments INTEGER) WITH (..., VALUE_FORMAT='avro')
 * in the compact form it is stored in (docs/kafka-tests.md: evidence). */
static const char s_ksql_schema[] =
    "{\"type\":\"record\",\"name\":\"KsqlDataSourceSchema\","
    "\"namespace\":\"io.confluent.ksql.avro_schemas\",\"fields\":["
    "{\"name\":\"VIDEO_TIMESTAMP\",\"type\":[\"null\",\"string\"],"
    "\"default\":null},"
    "{\"name\":\"TITLE\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"DESCRIPTION\",\"type\":[\"null\",\"string\"],"
    "\"default\":null},"
    "{\"name\":\"VIEWS\",\"type\":[\"null\",\"int\"],\"default\":null},"
    "{\"name\":\"LIKES\",\"type\":[\"null\",\"int\"],\"default\":null},"
    "{\"name\":\"FAVORITES\",\"type\":[\"null\",\"int\"],\"default\":null},"
    "{\"name\":\"COMMENTS\",\"type\":[\"null\",\"int\"],\"default\":null}],"
    "\"connect.name\":\"io.confluent.ksql.avro_schemas."
    "KsqlDataSourceSchema\"}";

#define S_CTYPE       "application/vnd.schemaregistry.v1+json"
#define S_MAX_SCHEMAS 4096 /* registry size cap (a test never gets close) */

/* A schema known to the registry. */
typedef struct {
    int64_t id;   /* global id */
    char *schema; /* canonical (compact) text, owned */
} s_schema_t;

/* A subject: its versions in order (version v = index v - 1). */
typedef struct {
    char *name;   /* subject name, owned */
    int64_t *ids; /* schema id of each version, owned */
    size_t n;     /* version count */
} s_subject_t;

static bool s_ready;            /* state initialised from the scenario */
static s_schema_t *s_schemas;   /* every schema, by registration */
static size_t s_n_schemas;      /* count */
static s_subject_t *s_subjects; /* subjects, by first registration */
static size_t s_n_subjects;     /* count */
static int64_t s_next_id;       /* id of the next new schema */
static FILE *s_log;             /* received/registry.jsonl */

static void *s_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        abort();
    }
    return q;
}

static char *s_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        abort();
    }
    return p;
}

static void s_error(ytsim_resp_t *rs, int status, int code, const char *msg)
{
    ytsim_buf_t *b = ytsim_resp_json(rs, status);
    rs->ctype = S_CTYPE;
    ytsim_buf_printf(b, "{\"error_code\":%d,\"message\":", code);
    ytsim_buf_jstr(b, msg);
    YB(b, "}");
}

static s_subject_t *s_find_subject(const char *name)
{
    for (size_t i = 0; i < s_n_subjects; i++) {
        if (strcmp(s_subjects[i].name, name) == 0) {
            return &s_subjects[i];
        }
    }
    return NULL;
}

static const s_schema_t *s_find_id(int64_t id)
{
    for (size_t i = 0; i < s_n_schemas; i++) {
        if (s_schemas[i].id == id) {
            return &s_schemas[i];
        }
    }
    return NULL;
}

/* The id of canonical text, registering it when new; -1 when full. */
static int64_t s_intern(const char *canon)
{
    for (size_t i = 0; i < s_n_schemas; i++) {
        if (strcmp(s_schemas[i].schema, canon) == 0) {
            return s_schemas[i].id;
        }
    }
    if (s_n_schemas == S_MAX_SCHEMAS) {
        return -1;
    }
    s_schemas = s_xrealloc(s_schemas, (s_n_schemas + 1) * sizeof *s_schemas);
    s_schemas[s_n_schemas].id = s_next_id++;
    s_schemas[s_n_schemas].schema = s_xstrdup(canon);
    return s_schemas[s_n_schemas++].id;
}

/* Adds id as the next version of subject name unless it is already one of
 * its versions; returns the version. */
static size_t s_add_version(const char *name, int64_t id)
{
    s_subject_t *sub = s_find_subject(name);
    if (!sub) {
        s_subjects =
            s_xrealloc(s_subjects, (s_n_subjects + 1) * sizeof *s_subjects);
        sub = &s_subjects[s_n_subjects++];
        sub->name = s_xstrdup(name);
        sub->ids = NULL;
        sub->n = 0;
    }
    for (size_t v = 0; v < sub->n; v++) {
        if (sub->ids[v] == id) {
            return v + 1;
        }
    }
    sub->ids = s_xrealloc(sub->ids, (sub->n + 1) * sizeof *sub->ids);
    sub->ids[sub->n++] = id;
    return sub->n;
}

/* Canonical text of an Avro schema (compact JSON, key order kept), or NULL
 * with why set when it is not a valid Avro schema. Caller frees. */
static char *s_canon(const char *text, char *why, size_t cap)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j) {
        snprintf(why, cap, "Invalid schema: %s", jerr.text);
        return NULL;
    }
    char *out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (!out) {
        snprintf(why, cap, "Invalid schema");
        return NULL;
    }
    avro_schema_t sc = NULL;
    if (avro_schema_from_json_length(out, strlen(out), &sc) != 0) {
        snprintf(why, cap, "Invalid schema %s: %s", out, avro_strerror());
        free(out);
        return NULL;
    }
    avro_schema_decref(sc);
    return out;
}

static void s_init(ytsim_srv_t *srv)
{
    if (s_ready) {
        return;
    }
    s_ready = true;
    ytsim_scn_t *scn = ytsim_scn(srv);
    s_next_id = scn->reg_first_id > 0 ? scn->reg_first_id : 1;
    if (scn->reg_ksql) {
        int64_t id = s_intern(s_ksql_schema);
        s_add_version(scn->reg_ksql_subject, id);
    }
}

/* Basic-auth check; false when the request was answered with 401. */
static bool s_auth(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    if (!scn->reg_user[0] && !scn->reg_password[0]) {
        return true;
    }
    const char *h = ytsim_header(rq, "Authorization");
    bool ok = false;
    if (h && strncasecmp(h, "Basic ", 6) == 0) {
        unsigned char dec[512];
        long n = ytsim_b64_decode(h + 6, strlen(h + 6), dec, sizeof dec - 1);
        if (n > 0) {
            dec[n] = '\0';
            char *colon = strchr((char *)dec, ':');
            if (colon) {
                *colon = '\0';
                ok = strcmp((char *)dec, scn->reg_user) == 0 &&
                     strcmp(colon + 1, scn->reg_password) == 0;
            }
        }
    }
    if (!ok) {
        s_error(rs, 401, 401, "Unauthorized");
        ytsim_resp_header(rs, "WWW-Authenticate",
                          "Basic realm=\"SchemaRegistry\"");
    }
    return ok;
}

/* Parses a version path segment: "latest" / "-1" (0 returned) or
 * 1..2^31-1; -1 when invalid. */
static int64_t s_version(const char *s)
{
    if (strcmp(s, "latest") == 0 || strcmp(s, "-1") == 0) {
        return 0;
    }
    if (!*s || strlen(s) > 10) {
        return -1;
    }
    int64_t v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9') {
            return -1;
        }
        v = v * 10 + (*c - '0');
    }
    return v >= 1 && v <= 2147483647 ? v : -1;
}

static void s_schema_obj(ytsim_buf_t *b, const char *subject, size_t version,
                         const s_schema_t *sc)
{
    YB(b, "{\"subject\":");
    ytsim_buf_jstr(b, subject);
    ytsim_buf_printf(b, ",\"version\":%zu,\"id\":%lld,\"schema\":", version,
                     (long long)sc->id);
    ytsim_buf_jstr(b, sc->schema);
    YB(b, "}");
}

/* The "schema" string of a POST body, canonicalised; NULL when the request
 * was answered (bad body). Caller frees. */
static char *s_body_schema(ytsim_req_t *rq, ytsim_resp_t *rs)
{
    json_t *j = ytsim_body_json(rq);
    json_t *sch = j ? json_object_get(j, "schema") : NULL;
    if (!sch || !json_is_string(sch)) {
        s_error(rs, 422, 42201,
                "Invalid schema: the body needs a \"schema\" "
                "string");
        return NULL;
    }
    json_t *type = json_object_get(j, "schemaType");
    if (type && (!json_is_string(type) ||
                 strcmp(json_string_value(type), "AVRO") != 0)) {
        s_error(rs, 422, 42201, "Invalid schema type: only AVRO is served");
        return NULL;
    }
    char why[1024];
    char *canon = s_canon(json_string_value(sch), why, sizeof why);
    if (!canon) {
        s_error(rs, 422, 42201, why);
    }
    return canon;
}

static void s_log_register(ytsim_srv_t *srv, const char *subject, int64_t id,
                           size_t version)
{
    if (!s_log) {
        char path[4096];
        snprintf(path, sizeof path, "%s/received/registry.jsonl",
                 ytsim_out(srv));
        s_log = fopen(path, "a");
    }
    if (!s_log) {
        return;
    }
    ytsim_buf_t b = {0};
    YB(&b, "{\"subject\":");
    ytsim_buf_jstr(&b, subject);
    ytsim_buf_printf(&b, ",\"id\":%lld,\"version\":%zu}\n", (long long)id,
                     version);
    fputs(b.p, s_log);
    fflush(s_log);
    ytsim_buf_free(&b);
}

/* /subjects/NAME[/versions[/V[/schema]]] with the lock held. */
static void s_subjects_route(ytsim_srv_t *srv, ytsim_req_t *rq,
                             ytsim_resp_t *rs, const char *rest)
{
    bool get = strcmp(rq->method, "GET") == 0;
    bool post = strcmp(rq->method, "POST") == 0;
    ytsim_buf_t *b;
    if (*rest == '\0' || strcmp(rest, "/") == 0) {
        if (!get) {
            s_error(rs, 405, 405, "HTTP 405 Method Not Allowed");
            return;
        }
        b = ytsim_resp_json(rs, 200);
        rs->ctype = S_CTYPE;
        YB(b, "[");
        for (size_t i = 0; i < s_n_subjects; i++) {
            if (i) {
                YB(b, ",");
            }
            ytsim_buf_jstr(b, s_subjects[i].name);
        }
        YB(b, "]");
        return;
    }
    /* rest = "/NAME..." */
    char name[256];
    const char *p = rest + 1;
    const char *slash = strchr(p, '/');
    size_t nlen = slash ? (size_t)(slash - p) : strlen(p);
    if (nlen == 0 || nlen >= sizeof name) {
        s_error(rs, 404, 404, "HTTP 404 Not Found");
        return;
    }
    memcpy(name, p, nlen);
    name[nlen] = '\0';
    const char *tail = p + nlen; /* "", "/versions", "/versions/V" ... */
    s_subject_t *sub = s_find_subject(name);
    char msg[512];
    if (*tail == '\0') {
        /* POST /subjects/NAME: is this schema registered under NAME? */
        if (!post) {
            s_error(rs, 405, 405, "HTTP 405 Method Not Allowed");
            return;
        }
        char *canon = s_body_schema(rq, rs);
        if (!canon) {
            return;
        }
        if (!sub) {
            snprintf(msg, sizeof msg, "Subject '%s' not found.", name);
            s_error(rs, 404, 40401, msg);
            free(canon);
            return;
        }
        for (size_t v = 0; v < sub->n; v++) {
            const s_schema_t *sc = s_find_id(sub->ids[v]);
            if (sc && strcmp(sc->schema, canon) == 0) {
                b = ytsim_resp_json(rs, 200);
                rs->ctype = S_CTYPE;
                s_schema_obj(b, name, v + 1, sc);
                free(canon);
                return;
            }
        }
        free(canon);
        s_error(rs, 404, 40403, "Schema not found");
        return;
    }
    if (strcmp(tail, "/versions") == 0 || strcmp(tail, "/versions/") == 0) {
        if (post) {
            char *canon = s_body_schema(rq, rs);
            if (!canon) {
                return;
            }
            int64_t id = s_intern(canon);
            free(canon);
            if (id < 0) {
                s_error(rs, 500, 50001, "Error in the backend data store");
                return;
            }
            size_t version = s_add_version(name, id);
            s_log_register(srv, name, id, version);
            b = ytsim_resp_json(rs, 200);
            rs->ctype = S_CTYPE;
            ytsim_buf_printf(b, "{\"id\":%lld}", (long long)id);
            return;
        }
        if (!get) {
            s_error(rs, 405, 405, "HTTP 405 Method Not Allowed");
            return;
        }
        if (!sub) {
            snprintf(msg, sizeof msg, "Subject '%s' not found.", name);
            s_error(rs, 404, 40401, msg);
            return;
        }
        b = ytsim_resp_json(rs, 200);
        rs->ctype = S_CTYPE;
        YB(b, "[");
        for (size_t v = 0; v < sub->n; v++) {
            ytsim_buf_printf(b, "%s%zu", v ? "," : "", v + 1);
        }
        YB(b, "]");
        return;
    }
    if (strncmp(tail, "/versions/", 10) != 0) {
        s_error(rs, 404, 404, "HTTP 404 Not Found");
        return;
    }
    char vs[32];
    const char *vp = tail + 10;
    const char *vslash = strchr(vp, '/');
    size_t vlen = vslash ? (size_t)(vslash - vp) : strlen(vp);
    bool raw = vslash && strcmp(vslash, "/schema") == 0;
    if ((vslash && !raw) || vlen >= sizeof vs) {
        s_error(rs, 404, 404, "HTTP 404 Not Found");
        return;
    }
    if (!get) {
        s_error(rs, 405, 405, "HTTP 405 Method Not Allowed");
        return;
    }
    memcpy(vs, vp, vlen);
    vs[vlen] = '\0';
    if (!sub) {
        snprintf(msg, sizeof msg, "Subject '%s' not found.", name);
        s_error(rs, 404, 40401, msg);
        return;
    }
    int64_t v = s_version(vs);
    if (v < 0) {
        snprintf(msg, sizeof msg,
                 "The specified version '%s' is not a valid version id. "
                 "Allowed values are between [1, 2^31-1] and the string "
                 "\"latest\"",
                 vs);
        s_error(rs, 422, 42202, msg);
        return;
    }
    if (v == 0) {
        v = (int64_t)sub->n;
    }
    if (v < 1 || (size_t)v > sub->n) {
        snprintf(msg, sizeof msg, "Version %lld not found.", (long long)v);
        s_error(rs, 404, 40402, msg);
        return;
    }
    const s_schema_t *sc = s_find_id(sub->ids[v - 1]);
    if (!sc) {
        s_error(rs, 500, 50001, "Error in the backend data store");
        return;
    }
    b = ytsim_resp_json(rs, 200);
    rs->ctype = S_CTYPE;
    if (raw) {
        ytsim_buf_puts(b, sc->schema);
    } else {
        s_schema_obj(b, name, (size_t)v, sc);
    }
}

/* /schemas/ids/N[/schema] with the lock held. */
static void s_schemas_route(ytsim_req_t *rq, ytsim_resp_t *rs, const char *rest)
{
    if (strncmp(rest, "/ids/", 5) != 0) {
        s_error(rs, 404, 404, "HTTP 404 Not Found");
        return;
    }
    if (strcmp(rq->method, "GET") != 0) {
        s_error(rs, 405, 405, "HTTP 405 Method Not Allowed");
        return;
    }
    const char *p = rest + 5;
    int64_t id = 0;
    size_t digits = 0;
    while (p[digits] >= '0' && p[digits] <= '9' && digits < 11) {
        id = id * 10 + (p[digits] - '0');
        digits++;
    }
    const char *tail = p + digits;
    bool raw = strcmp(tail, "/schema") == 0;
    if (digits == 0 || (*tail && !raw)) {
        s_error(rs, 404, 404, "HTTP 404 Not Found");
        return;
    }
    const s_schema_t *sc = s_find_id(id);
    if (!sc) {
        char msg[64];
        snprintf(msg, sizeof msg, "Schema %lld not found", (long long)id);
        s_error(rs, 404, 40403, msg);
        return;
    }
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    rs->ctype = S_CTYPE;
    if (raw) {
        ytsim_buf_puts(b, sc->schema);
        return;
    }
    YB(b, "{\"schema\":");
    ytsim_buf_jstr(b, sc->schema);
    YB(b, "}");
}

bool ytsim_registry_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    const char *path = rq->path;
    bool subjects = strncmp(path, "/subjects", 9) == 0 &&
                    (path[9] == '\0' || path[9] == '/');
    bool schemas = strncmp(path, "/schemas/", 9) == 0;
    bool config = strcmp(path, "/config") == 0;
    if (!subjects && !schemas && !config) {
        return false;
    }
    if (!s_auth(srv, rq, rs)) {
        return true;
    }
    ytsim_lock(srv);
    s_init(srv);
    if (subjects) {
        s_subjects_route(srv, rq, rs, path + 9);
    } else if (schemas) {
        s_schemas_route(rq, rs, path + 8);
    } else if (strcmp(rq->method, "GET") == 0) {
        /* no compatibility checks: every new schema becomes a version */
        ytsim_buf_t *b = ytsim_resp_json(rs, 200);
        rs->ctype = S_CTYPE;
        YB(b, "{\"compatibilityLevel\":\"NONE\"}");
    } else {
        s_error(rs, 405, 405, "HTTP 405 Method Not Allowed");
    }
    ytsim_unlock(srv);
    return true;
}
