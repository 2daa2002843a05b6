/* kafka_registry_stub - a minimal Confluent Schema Registry for the Kafka
 * tests (unit and end-to-end): subjects with one version each, GET
 * /subjects/S/versions/latest (404 + error_code 40401 when unknown), POST
 * /subjects/S/versions {"schema": "..."} -> {"id": N}, and 401 when basic
 * auth is required and missing or wrong. libmicrohttpd on 127.0.0.1, a
 * free port. Included by one file per test program. */
#ifndef KAFKA_REGISTRY_STUB_H
#define KAFKA_REGISTRY_STUB_H

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KRS_MAX 16

/* The stub's state. */
typedef struct {
    struct MHD_Daemon *mhd; /* the server */
    char base[64];          /* "http://127.0.0.1:PORT" */
    pthread_mutex_t lock;   /* guards what follows */
    char *subject[KRS_MAX]; /* registered subjects */
    char *schema[KRS_MAX];  /* their schema text */
    int id[KRS_MAX];        /* their ids */
    int n;                  /* how many */
    int next_id;            /* id of the next registration */
    const char *auth;       /* required "Basic ..." value, or NULL */
    int gets;               /* GET requests answered */
    int posts;              /* POST requests answered */
    int unauthorized;       /* requests refused with 401 */
    int paused_fd;          /* listening socket while paused, else -1 */
} krs_t;

/* Upload buffer of one request. */
typedef struct {
    char data[65536]; /* body */
    size_t len;       /* bytes */
} krs_up_t;

static inline enum MHD_Result krs_reply(struct MHD_Connection *c,
                                        unsigned status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type",
                            "application/vnd.schemaregistry.v1+json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Subject of "/subjects/S/versions[/latest]" into out; 0 none, 1 versions,
 * 2 latest. */
static inline int krs_path(const char *url, char *out, size_t cap)
{
    if (strncmp(url, "/subjects/", 10) != 0)
        return 0;
    const char *s = url + 10;
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= cap)
        return 0;
    memcpy(out, s, (size_t)(slash - s));
    out[slash - s] = '\0';
    if (strcmp(slash, "/versions") == 0)
        return 1;
    if (strcmp(slash, "/versions/latest") == 0)
        return 2;
    return 0;
}

/* Adds subject with schema under the next id; returns the id. */
static inline int krs_add(krs_t *k, const char *subject, const char *schema)
{
    pthread_mutex_lock(&k->lock);
    int id = 0;
    for (int i = 0; i < k->n; i++)
        if (strcmp(k->subject[i], subject) == 0)
            id = k->id[i];
    if (!id && k->n < KRS_MAX) {
        k->subject[k->n] = strdup(subject);
        k->schema[k->n] = strdup(schema);
        id = k->id[k->n] = k->next_id++;
        k->n++;
    }
    pthread_mutex_unlock(&k->lock);
    return id;
}

static inline enum MHD_Result krs_handler(void *cls, struct MHD_Connection *c,
                                          const char *url, const char *method,
                                          const char *version,
                                          const char *upload,
                                          size_t *upload_size, void **con_cls)
{
    (void)version;
    krs_t *k = cls;
    krs_up_t *up = *con_cls;
    if (!up) {
        up = calloc(1, sizeof *up);
        *con_cls = up;
        return up ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        size_t room = sizeof up->data - 1 - up->len;
        size_t n = *upload_size < room ? *upload_size : room;
        memcpy(up->data + up->len, upload, n);
        up->len += n;
        *upload_size = 0;
        return MHD_YES;
    }
    if (k->auth) {
        const char *a =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        if (!a || strcmp(a, k->auth) != 0) {
            pthread_mutex_lock(&k->lock);
            k->unauthorized++;
            pthread_mutex_unlock(&k->lock);
            return krs_reply(
                c, 401, "{\"error_code\":401,\"message\":\"Unauthorized\"}");
        }
    }
    char subject[256];
    int kind = krs_path(url, subject, sizeof subject);
    if (kind == 2 && strcmp(method, "GET") == 0) {
        pthread_mutex_lock(&k->lock);
        k->gets++;
        json_t *j = NULL;
        for (int i = 0; i < k->n; i++)
            if (strcmp(k->subject[i], subject) == 0)
                j = json_pack("{s:s,s:i,s:i,s:s}", "subject", subject,
                              "version", 1, "id", k->id[i], "schema",
                              k->schema[i]);
        pthread_mutex_unlock(&k->lock);
        if (!j)
            return krs_reply(c, 404,
                             "{\"error_code\":40401,\"message\":\"Subject "
                             "not found.\"}");
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        enum MHD_Result r = krs_reply(c, 200, text);
        free(text);
        return r;
    }
    if (kind == 1 && strcmp(method, "POST") == 0) {
        pthread_mutex_lock(&k->lock);
        k->posts++;
        pthread_mutex_unlock(&k->lock);
        up->data[up->len] = '\0';
        json_t *j = json_loads(up->data, 0, NULL);
        const char *schema = json_string_value(json_object_get(j, "schema"));
        if (!schema) {
            json_decref(j);
            return krs_reply(c, 422,
                             "{\"error_code\":42201,\"message\":\"Invalid "
                             "schema\"}");
        }
        int id = krs_add(k, subject, schema);
        json_decref(j);
        char body[64];
        snprintf(body, sizeof body, "{\"id\":%d}", id);
        return krs_reply(c, 200, body);
    }
    return krs_reply(c, 404, "{\"error_code\":404,\"message\":\"HTTP 404\"}");
}

static inline void krs_completed(void *cls, struct MHD_Connection *c,
                                 void **con_cls,
                                 enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

/* Starts the stub; auth is the required Authorization value or NULL.
 * Returns 0, or -1 when it cannot listen. */
static inline int krs_start(krs_t *k, const char *auth)
{
    memset(k, 0, sizeof *k);
    pthread_mutex_init(&k->lock, NULL);
    k->next_id = 1;
    k->auth = auth;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    k->paused_fd = -1;
    k->mhd =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC,
                         0, NULL, NULL, krs_handler, k, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
                         krs_completed, NULL, MHD_OPTION_END);
    if (!k->mhd)
        return -1;
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(k->mhd, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(k->base, sizeof k->base, "http://127.0.0.1:%u",
             info ? (unsigned)info->port : 0u);
    return 0;
}

/* Stops answering while keeping the port and the subjects: connections
 * are accepted by the kernel and wait unanswered (a hung registry) until
 * krs_resume. Returns 0, or -1 when already paused or it cannot. */
static inline int krs_pause(krs_t *k)
{
    if (!k->mhd || k->paused_fd >= 0)
        return -1;
    MHD_socket fd = MHD_quiesce_daemon(k->mhd);
    if (fd == MHD_INVALID_SOCKET)
        return -1;
    MHD_stop_daemon(k->mhd);
    k->mhd = NULL;
    k->paused_fd = fd;
    return 0;
}

/* Answers again on the same port after krs_pause. Returns 0 or -1. */
static inline int krs_resume(krs_t *k)
{
    if (k->paused_fd < 0)
        return -1;
    k->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            MHD_USE_ITC,
        0, NULL, NULL, krs_handler, k, MHD_OPTION_LISTEN_SOCKET,
        (MHD_socket)k->paused_fd, MHD_OPTION_NOTIFY_COMPLETED, krs_completed,
        NULL, MHD_OPTION_END);
    if (!k->mhd)
        return -1;
    k->paused_fd = -1;
    return 0;
}

/* Stops the stub and frees its subjects. */
static inline void krs_stop(krs_t *k)
{
    if (k->mhd)
        MHD_stop_daemon(k->mhd);
    k->mhd = NULL;
    if (k->paused_fd >= 0)
        close(k->paused_fd);
    k->paused_fd = -1;
    for (int i = 0; i < k->n; i++) {
        free(k->subject[i]);
        free(k->schema[i]);
    }
    k->n = 0;
    pthread_mutex_destroy(&k->lock);
}

/* The schema of subject (copy, caller frees) or NULL. */
static inline char *krs_schema(krs_t *k, const char *subject)
{
    char *s = NULL;
    pthread_mutex_lock(&k->lock);
    for (int i = 0; i < k->n; i++)
        if (strcmp(k->subject[i], subject) == 0)
            s = strdup(k->schema[i]);
    pthread_mutex_unlock(&k->lock);
    return s;
}

/* The schema ksqlDB registers for the seed's CREATE STREAM yt_videos
 * (VARCHAR -> optional string, INTEGER -> optional int). */
#define KRS_SEED_SCHEMA                                                        \
    "{\"type\":\"record\",\"name\":\"KsqlDataSourceSchema\","                  \
    "\"namespace\":\"io.confluent.ksql.avro_schemas\",\"fields\":["            \
    "{\"name\":\"VIDEO_TIMESTAMP\",\"type\":[\"null\",\"string\"],"            \
    "\"default\":null},"                                                       \
    "{\"name\":\"TITLE\",\"type\":[\"null\",\"string\"],\"default\":null},"    \
    "{\"name\":\"DESCRIPTION\",\"type\":[\"null\",\"string\"],"                \
    "\"default\":null},"                                                       \
    "{\"name\":\"VIEWS\",\"type\":[\"null\",\"int\"],\"default\":null},"       \
    "{\"name\":\"LIKES\",\"type\":[\"null\",\"int\"],\"default\":null},"       \
    "{\"name\":\"FAVORITES\",\"type\":[\"null\",\"int\"],\"default\":null},"   \
    "{\"name\":\"COMMENTS\",\"type\":[\"null\",\"int\"],\"default\":null}]}"

#endif
