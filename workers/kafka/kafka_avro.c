/* kafka_avro - Confluent-framed Avro values of kafka_record's records. */
#include "kafka_avro.h"

#include <assert.h>
#include <avro.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tw_buf.h"

/* How one field of the writer schema is filled. */
typedef struct {
    int ours;         /* index in kafka_record_fields, -1 = always null */
    avro_type_t type; /* AVRO_STRING, AVRO_INT32, AVRO_INT64, AVRO_BOOLEAN,
                         AVRO_NULL */
    int null_branch;  /* union branch of null, -1 = not nullable */
    int value_branch; /* union branch of the value, -1 = not a union */
} s_slot_t;

struct kafka_avro {
    kafka_topic_t topic;        /* records it takes */
    uint32_t id;                /* schema id in the frame */
    avro_schema_t schema;       /* the writer schema */
    avro_value_iface_t *iface;  /* its generic class */
    avro_value_t value;         /* reused value */
    s_slot_t *slots;            /* one per schema field */
    size_t nslots;              /* how many */
    char narrowed[256];         /* our longs held as int */
    uint64_t clamped;           /* values clamped so far */
};

/* Avro record names for tubewatch's own schemas. */
static const char *const s_record_names[] = {"Video", "ChatItem",
                                             "ViewersSample", "StreamEvent"};

/* Appends s as a JSON string (names and docs are plain ASCII). */
static void s_json_str(tw_buf_t *b, const char *s)
{
    tw_buf_append_byte(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            tw_buf_append_byte(b, '\\');
        tw_buf_append_byte(b, *p);
    }
    tw_buf_append_byte(b, '"');
}

char *kafka_avro_schema_json(kafka_topic_t t)
{
    size_t n;
    const kafka_field_t *f = kafka_record_fields(t, &n);
    if (!f)
        return NULL;
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return NULL;
    tw_buf_printf(b,
                  "{\"type\":\"record\",\"name\":\"%s\","
                  "\"namespace\":\"tubewatch\",\"fields\":[",
                  s_record_names[t]);
    for (size_t i = 0; i < n; i++) {
        static const char *const types[] = {"string", "long", "boolean"};
        tw_buf_append_str(b, i ? ",{\"name\":" : "{\"name\":");
        s_json_str(b, f[i].name);
        if (f[i].nullable)
            tw_buf_printf(b, ",\"type\":[\"null\",\"%s\"],\"default\":null",
                          types[f[i].type]);
        else
            tw_buf_printf(b, ",\"type\":\"%s\"", types[f[i].type]);
        tw_buf_append_str(b, ",\"doc\":");
        s_json_str(b, f[i].doc);
        tw_buf_append_byte(b, '}');
    }
    tw_rc_t rc = tw_buf_append_str(b, "]}");
    char *out = rc == TW_OK ? tw_buf_steal(b, NULL) : NULL;
    tw_buf_destroy(&b);
    return out;
}

static bool s_simple(avro_type_t t)
{
    return t == AVRO_STRING || t == AVRO_INT32 || t == AVRO_INT64 ||
           t == AVRO_BOOLEAN;
}

/* Reads the type of field i of the writer schema into *slot. */
static bool s_slot_type(avro_schema_t ft, s_slot_t *slot)
{
    slot->null_branch = -1;
    slot->value_branch = -1;
    if (is_avro_union(ft)) {
        size_t n = avro_schema_union_size(ft);
        slot->type = AVRO_NULL;
        for (size_t k = 0; k < n; k++) {
            avro_schema_t br = avro_schema_union_branch(ft, (int)k);
            avro_type_t bt = avro_typeof(br);
            if (bt == AVRO_NULL && slot->null_branch < 0)
                slot->null_branch = (int)k;
            else if (s_simple(bt) && slot->value_branch < 0) {
                slot->value_branch = (int)k;
                slot->type = bt;
            } else
                return false;
        }
        return slot->null_branch >= 0 || slot->value_branch >= 0;
    }
    slot->type = avro_typeof(ft);
    return s_simple(slot->type) || slot->type == AVRO_NULL;
}

/* True when a value of our type fits the schema's type. */
static bool s_fits(kafka_type_t ours, avro_type_t theirs)
{
    switch (ours) {
    case KAFKA_T_STRING:
        return theirs == AVRO_STRING;
    case KAFKA_T_LONG:
        return theirs == AVRO_INT64 || theirs == AVRO_INT32;
    case KAFKA_T_BOOL:
        return theirs == AVRO_BOOLEAN;
    }
    return false;
}

kafka_avro_t *kafka_avro_new(kafka_topic_t t, const char *schema_json,
                             size_t len, uint32_t id, tw_err_t *err)
{
    assert(schema_json);
    size_t nf;
    const kafka_field_t *f = kafka_record_fields(t, &nf);
    if (!f) {
        tw_err_set(err, "unknown topic");
        return NULL;
    }
    kafka_avro_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    self->topic = t;
    self->id = id;
    if (avro_schema_from_json_length(schema_json, len, &self->schema) != 0) {
        tw_err_set(err, "schema does not parse: %.200s", avro_strerror());
        goto fail;
    }
    if (!is_avro_record(self->schema)) {
        tw_err_set(err, "schema is not an Avro record");
        goto fail;
    }
    self->nslots = avro_schema_record_size(self->schema);
    self->slots = calloc(self->nslots ? self->nslots : 1, sizeof *self->slots);
    if (!self->slots) {
        tw_err_set(err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < self->nslots; i++) {
        const char *name =
            avro_schema_record_field_name(self->schema, (int)i);
        avro_schema_t ft =
            avro_schema_record_field_get_by_index(self->schema, (int)i);
        s_slot_t *slot = &self->slots[i];
        if (!name || !ft || !s_slot_type(ft, slot)) {
            tw_err_set(err, "field '%.100s' has a type tubewatch cannot write",
                       name ? name : "?");
            goto fail;
        }
        slot->ours = -1;
        for (size_t k = 0; k < nf; k++)
            if (strcasecmp(name, f[k].name) == 0)
                slot->ours = (int)k;
        if (slot->ours < 0 || slot->type == AVRO_NULL) {
            if (slot->null_branch < 0 && slot->type != AVRO_NULL) {
                tw_err_set(err,
                           "field '%.100s' is not one of tubewatch's and "
                           "cannot be null",
                           name);
                goto fail;
            }
            slot->ours = -1;
            continue;
        }
        const kafka_field_t *of = &f[slot->ours];
        if (!s_fits(of->type, slot->type)) {
            tw_err_set(err, "field '%.100s' has a type that cannot hold "
                            "tubewatch's value",
                       name);
            goto fail;
        }
        if (of->type == KAFKA_T_LONG && slot->type == AVRO_INT32) {
            size_t used = strlen(self->narrowed);
            snprintf(self->narrowed + used, sizeof self->narrowed - used,
                     "%s%s", used ? ", " : "", of->name);
        }
    }
    self->iface = avro_generic_class_from_schema(self->schema);
    if (!self->iface ||
        avro_generic_value_new(self->iface, &self->value) != 0) {
        tw_err_set(err, "cannot make an Avro value: %.200s", avro_strerror());
        if (self->iface)
            avro_value_iface_decref(self->iface);
        self->iface = NULL;
        goto fail;
    }
    return self;
fail:
    if (self->schema)
        avro_schema_decref(self->schema);
    free(self->slots);
    free(self);
    return NULL;
}

void kafka_avro_destroy(kafka_avro_t **self_p)
{
    assert(self_p);
    kafka_avro_t *self = *self_p;
    if (!self)
        return;
    avro_value_decref(&self->value);
    avro_value_iface_decref(self->iface);
    avro_schema_decref(self->schema);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

uint32_t kafka_avro_id(const kafka_avro_t *self)
{
    assert(self);
    return self->id;
}

const char *kafka_avro_narrowed(const kafka_avro_t *self)
{
    assert(self);
    return self->narrowed;
}

uint64_t kafka_avro_clamped(const kafka_avro_t *self)
{
    assert(self);
    return self->clamped;
}

/* Sets one field value; false when libavro refuses. */
static bool s_set(kafka_avro_t *self, const s_slot_t *slot, avro_value_t *fv,
                  const kafka_val_t *v)
{
    avro_value_t target = *fv;
    if (!v || !v->set) {
        if (slot->type == AVRO_NULL && slot->null_branch < 0)
            return avro_value_set_null(fv) == 0;
        return avro_value_set_branch(fv, slot->null_branch, &target) == 0 &&
               avro_value_set_null(&target) == 0;
    }
    if (slot->value_branch >= 0 &&
        avro_value_set_branch(fv, slot->value_branch, &target) != 0)
        return false;
    switch (slot->type) {
    case AVRO_STRING:
        return avro_value_set_string(&target, v->s ? v->s : "") == 0;
    case AVRO_INT64:
        return avro_value_set_long(&target, v->n) == 0;
    case AVRO_INT32: {
        int64_t n = v->n;
        if (n > INT32_MAX || n < INT32_MIN) {
            self->clamped++;
            n = n > INT32_MAX ? INT32_MAX : INT32_MIN;
        }
        return avro_value_set_int(&target, (int32_t)n) == 0;
    }
    case AVRO_BOOLEAN:
        return avro_value_set_boolean(&target, v->b) == 0;
    default:
        return false;
    }
}

tw_rc_t kafka_avro_encode(kafka_avro_t *self, const kafka_record_t *r,
                          char **out, size_t *len, tw_err_t *err)
{
    assert(self);
    assert(r);
    assert(out);
    assert(len);
    if (r->topic != self->topic) {
        tw_err_set(err, "a %s record given to the %s encoder",
                   kafka_record_topic_str(r->topic),
                   kafka_record_topic_str(self->topic));
        return TW_ERR_INVALID;
    }
    avro_value_reset(&self->value);
    for (size_t i = 0; i < self->nslots; i++) {
        const s_slot_t *slot = &self->slots[i];
        const kafka_val_t *v = slot->ours >= 0 ? &r->v[slot->ours] : NULL;
        if ((!v || !v->set) && slot->null_branch < 0 &&
            slot->type != AVRO_NULL) {
            tw_err_set(err, "field %zu has no value and cannot be null", i);
            return TW_ERR_INVALID;
        }
        avro_value_t fv;
        if (avro_value_get_by_index(&self->value, i, &fv, NULL) != 0 ||
            !s_set(self, slot, &fv, v)) {
            tw_err_set(err, "unable to set field %zu: %.200s", i,
                       avro_strerror());
            return TW_ERR_INVALID;
        }
    }
    size_t size = 0;
    if (avro_value_sizeof(&self->value, &size) != 0) {
        tw_err_set(err, "unable to size the value: %.200s", avro_strerror());
        return TW_ERR_INVALID;
    }
    char *buf = malloc(KAFKA_AVRO_HEADER + size);
    if (!buf) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    buf[0] = 0;
    buf[1] = (char)(self->id >> 24);
    buf[2] = (char)(self->id >> 16);
    buf[3] = (char)(self->id >> 8);
    buf[4] = (char)self->id;
    avro_writer_t w = avro_writer_memory(buf + KAFKA_AVRO_HEADER,
                                         (int64_t)size);
    int wrc = w ? avro_value_write(w, &self->value) : -1;
    if (w)
        avro_writer_free(w);
    if (wrc != 0) {
        free(buf);
        tw_err_set(err, "unable to write the value: %.200s", avro_strerror());
        return TW_ERR_INVALID;
    }
    *out = buf;
    *len = KAFKA_AVRO_HEADER + size;
    return TW_OK;
}
