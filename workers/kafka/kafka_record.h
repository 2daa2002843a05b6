/* kafka_record - what the kafka worker writes: the four topics, their
 * fields (one table per topic, used by the JSON and the Avro encoders and
 * for tubewatch's own Avro schemas), the records made from one pipeline
 * frame, and their JSON encoding (docs/kafka.md). */
#ifndef KAFKA_RECORD_H
#define KAFKA_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_proto.h"
#include "tw_rc.h"
#include "tw_time.h"

/* The topics. */
typedef enum {
    KAFKA_TOPIC_VIDEOS = 0,  /* stats samples: the seed's yt_videos record */
    KAFKA_TOPIC_CHAT = 1,    /* one record per chat item */
    KAFKA_TOPIC_VIEWERS = 2, /* concurrent viewers samples */
    KAFKA_TOPIC_EVENTS = 3,  /* stream events */
    KAFKA_TOPIC_COUNT = 4,   /* how many */
} kafka_topic_t;

/* Type of a field value. */
typedef enum {
    KAFKA_T_STRING = 0, /* UTF-8 text */
    KAFKA_T_LONG = 1,   /* 64-bit signed integer */
    KAFKA_T_BOOL = 2,   /* boolean */
} kafka_type_t;

/* One field of a topic's value. */
typedef struct {
    const char *name;  /* field name in JSON and Avro */
    kafka_type_t type; /* value type */
    bool nullable;     /* may be null (Avro ["null", T]) */
    const char *doc;   /* one line for the Avro schema's "doc" */
} kafka_field_t;

/* One field value; set false = null. */
typedef struct {
    bool set;      /* false: null (absent, hidden) */
    const char *s; /* KAFKA_T_STRING (borrowed from the frame or record) */
    int64_t n;     /* KAFKA_T_LONG */
    bool b;        /* KAFKA_T_BOOL */
} kafka_val_t;

/* Most fields of any topic. */
#define KAFKA_RECORD_MAX_FIELDS 16

/* One record to produce. Strings are borrowed from the frame it was made
 * from, or from the record's own buffers: valid while both live. */
typedef struct {
    kafka_topic_t topic;                   /* where it goes */
    const char *key;                       /* video id, "" = no key */
    int64_t sampled_at_us;                 /* yt_videos: header sampled_at */
    kafka_val_t v[KAFKA_RECORD_MAX_FIELDS]; /* values, in field order */
    char times[4][TW_TIME_STR_SIZE];       /* formatted time fields */
    char *tokens;                          /* joined tokens (owned) */
} kafka_record_t;

/* Returns the fields of topic t and their count in *n (static). */
const kafka_field_t *kafka_record_fields(kafka_topic_t t, size_t *n);
/* Returns the short name of t ("videos", "chat", "viewers", "events"). */
const char *kafka_record_topic_str(kafka_topic_t t);

/* Returns the number of records frame m makes: per chat item one (chat.batch
 * and chat.tokenized), for stats.sample one yt_videos record when it has a
 * count and one yt_viewers record when it has concurrent viewers, for
 * stream.event one; 0 for anything else. */
size_t kafka_record_count(const tw_msg_t *m);
/* Fills *r with record i (< kafka_record_count) of m. Free with
 * kafka_record_clear. */
void kafka_record_make(const tw_msg_t *m, size_t i, kafka_record_t *r);
/* Frees what *r owns. */
void kafka_record_clear(kafka_record_t *r);

/* Encodes r as one JSON object (field names as in kafka_record_fields,
 * null for absent values) into *out (malloc'd, caller frees, not
 * NUL-terminated in *len). TW_ERR_NOMEM when out of memory. */
tw_rc_t kafka_record_json(const kafka_record_t *r, char **out, size_t *len,
                          tw_err_t *err);

#endif
