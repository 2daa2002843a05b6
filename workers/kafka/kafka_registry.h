/* kafka_registry - a Confluent Schema Registry client: the latest schema of
 * a subject, or tubewatch's own registered when the subject has none
 * (GET /subjects/S/versions/latest, POST /subjects/S/versions), basic
 * auth; and the parsers of the registry's answers (docs/kafka.md). */
#ifndef KAFKA_REGISTRY_H
#define KAFKA_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* Parses the answer to GET .../versions/latest: *id (1..INT32_MAX) and
 * *schema (the schema text, malloc'd, caller frees). TW_ERR_PARSE for
 * anything else (not JSON, no id or schema, a schemaType other than AVRO),
 * with err saying why. */
tw_rc_t kafka_registry_parse_latest(const char *buf, size_t len, uint32_t *id,
                                    char **schema, tw_err_t *err);
/* Parses the answer to POST .../versions: {"id": N}. TW_ERR_PARSE when
 * malformed. */
tw_rc_t kafka_registry_parse_id(const char *buf, size_t len, uint32_t *id,
                                tw_err_t *err);
/* Parses an error answer {"error_code": N, "message": "..."}: *code (0
 * when absent). TW_ERR_PARSE when not JSON. */
tw_rc_t kafka_registry_parse_error(const char *buf, size_t len, int *code,
                                   tw_err_t *err);

/* A client of one registry. */
typedef struct kafka_registry kafka_registry_t;

/* Client settings. */
typedef struct {
    const char *url;      /* base URL, e.g. "http://127.0.0.1:8081" */
    const char *user;     /* basic auth user, NULL or "" = no auth */
    const char *password; /* basic auth password (a secret) */
    uint32_t timeout_ms;  /* per request; 0 = 10 s */
} kafka_registry_opts_t;

/* Returns a client, or NULL with err set. The credentials are registered
 * as log secrets. Caller owns the result. */
kafka_registry_t *kafka_registry_new(const kafka_registry_opts_t *opts,
                                     tw_err_t *err);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void kafka_registry_destroy(kafka_registry_t **self_p);

/* Finds the schema to write subject's values with: the latest registered
 * version, or, when the subject has none (404), own_schema registered now.
 * Fills *id, *schema (the schema's text, caller frees) and *registered
 * (true when own_schema was registered). Returns TW_ERR_NET/TW_ERR_TIMEOUT
 * when the registry did not answer, TW_ERR_HTTP for a refusal (401, 409,
 * 422...), TW_ERR_PARSE for an answer that makes no sense; err says which,
 * never with credentials. No retries: the caller retries later. */
tw_rc_t kafka_registry_resolve(kafka_registry_t *self, const char *subject,
                               const char *own_schema, uint32_t *id,
                               char **schema, bool *registered, tw_err_t *err);

#endif
