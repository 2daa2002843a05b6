/* kafka_avro - Avro values in Confluent's wire format (magic byte 0, the
 * schema id as 4 bytes big-endian, the Avro binary encoding) for the records
 * of kafka_record, written with a schema from the Schema Registry or with
 * tubewatch's own (docs/kafka.md). */
#ifndef KAFKA_AVRO_H
#define KAFKA_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include "kafka_record.h"
#include "tw_rc.h"

/* Bytes before the Avro body: magic 0 and the 4-byte schema id. */
#define KAFKA_AVRO_HEADER 5

/* The encoder of one topic with one writer schema. */
typedef struct kafka_avro kafka_avro_t;

/* Returns tubewatch's own Avro schema of topic t as JSON (caller frees):
 * a record whose nullable fields are ["null", T] with default null and
 * whose counts are long. NULL when out of memory. */
char *kafka_avro_schema_json(kafka_topic_t t);

/* Prepares writing t's records with the writer schema schema_json
 * (len bytes) registered under id. Every field of that record must match
 * one of t's fields by name (case-insensitive) with a type it can hold
 * (string; int or long for counts, int values being clamped; boolean;
 * each alone or in a union with null), or be nullable (then always null).
 * Returns NULL with err set when the schema does not parse or does not fit.
 * Caller owns the result. */
kafka_avro_t *kafka_avro_new(kafka_topic_t t, const char *schema_json,
                             size_t len, uint32_t id, tw_err_t *err);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void kafka_avro_destroy(kafka_avro_t **self_p);

/* The schema id written in every frame. */
uint32_t kafka_avro_id(const kafka_avro_t *self);
/* The names of t's 64-bit fields that the schema holds as int, separated
 * by ", " ("" when none) (borrowed). */
const char *kafka_avro_narrowed(const kafka_avro_t *self);
/* How many values were clamped to the int range so far. */
uint64_t kafka_avro_clamped(const kafka_avro_t *self);

/* Encodes r (of this topic) as one Confluent frame into *out (malloc'd,
 * caller frees) of *len bytes. A value that does not fit an int field is
 * clamped to INT32_MIN..INT32_MAX and counted. TW_ERR_INVALID when r is of
 * another topic or a non-nullable field has no value; TW_ERR_NOMEM. */
tw_rc_t kafka_avro_encode(kafka_avro_t *self, const kafka_record_t *r,
                          char **out, size_t *len, tw_err_t *err);

#endif
