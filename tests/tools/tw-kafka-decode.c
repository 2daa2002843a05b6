/* tw-kafka-decode - turns the records kcat consumed into JSON lines: reads
 * kcat's binary-safe framing (-f '%t %p %o %K %S\n%k%s\n'), decodes
 * Confluent-framed Avro values (magic 0, 4-byte schema id, Avro binary)
 * with the writer schema fetched from a Schema Registry and avro-c, and
 * passes JSON values through. fuzz/fuzz_kafka_decode.c includes this file
 * with TW_KDEC_NO_MAIN to fuzz the framing and Avro paths. */
#include <assert.h>
#include <avro.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_buf.h"
#include "tw_json.h"
#include "tw_rc.h"

#define KD_MAX_DEPTH   64        /* nesting of Avro values */
#define KD_MAX_ELEMS   (1 << 20) /* array/map elements in one value */
#define KD_MAX_SCHEMAS 256       /* distinct schema ids in one run */

/* One record of kcat's framing; pointers into the input. */
typedef struct {
    char topic[256];      /* topic name */
    long partition;       /* partition */
    long long offset;     /* offset */
    const uint8_t *key;   /* key bytes, NULL = null key */
    size_t key_len;       /* key length */
    const uint8_t *value; /* value bytes, NULL = null value */
    size_t value_len;     /* value length */
} kd_frame_t;

/* Returns the writer schema (JSON text, caller frees) of id, or NULL with
 * why set. */
typedef char *(kd_schema_fn)(void *arg, int32_t id, char *why, size_t cap);

/* A schema id resolved once. */
typedef struct {
    int32_t id;                /* registry id */
    avro_schema_t schema;      /* parsed writer schema */
    avro_value_iface_t *iface; /* generic value class */
} kd_schema_t;

/* Decoder state: where schemas come from, and the resolved ones. */
typedef struct {
    kd_schema_fn *fetch;           /* schema source */
    void *arg;                     /* its argument */
    kd_schema_t s[KD_MAX_SCHEMAS]; /* resolved ids */
    size_t n;                      /* count */
} kd_ctx_t;

/* ---- framing ---------------------------------------------------------- */

/* Parses a decimal (optionally negative) number ending at a space or
 * newline; returns false when malformed. */
static bool kd_num(const uint8_t *p, size_t n, size_t *i, long long *out)
{
    bool neg = false;
    if (*i < n && p[*i] == '-') {
        neg = true;
        (*i)++;
    }
    size_t start = *i;
    long long v = 0;
    while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
        if (v > (INT64_MAX - 9) / 10) {
            return false;
        }
        v = v * 10 + (p[*i] - '0');
        (*i)++;
    }
    if (*i == start || *i - start > 19) {
        return false;
    }
    *out = neg ? -v : v;
    return true;
}

/* Reads the next record from buf[*off..len). Returns 1 with *fr set, 0 at
 * the end of the input, -1 with why set when the framing is broken. */
static int kd_frame_next(const uint8_t *buf, size_t len, size_t *off,
                         kd_frame_t *fr, char *why, size_t cap)
{
    size_t i = *off;
    if (i >= len) {
        return 0;
    }
    memset(fr, 0, sizeof *fr);
    size_t t = 0;
    while (i < len && buf[i] != ' ' && buf[i] != '\n') {
        if (t + 1 >= sizeof fr->topic || buf[i] < 0x21 || buf[i] > 0x7e) {
            snprintf(why, cap, "bad topic name in the header at byte %zu", i);
            return -1;
        }
        fr->topic[t++] = (char)buf[i++];
    }
    fr->topic[t] = '\0';
    long long nums[4];
    for (int k = 0; k < 4; k++) {
        if (t == 0 || i >= len || buf[i] != ' ') {
            snprintf(why, cap,
                     "header at byte %zu is not \"TOPIC PARTITION OFFSET "
                     "KEYLEN VALUELEN\" (kcat -f '%%t %%p %%o %%K %%S\\n%%k"
                     "%%s\\n')",
                     *off);
            return -1;
        }
        i++;
        if (!kd_num(buf, len, &i, &nums[k])) {
            snprintf(why, cap, "bad number in the header at byte %zu", i);
            return -1;
        }
    }
    if (i >= len || buf[i] != '\n') {
        snprintf(why, cap, "header at byte %zu does not end with a newline",
                 *off);
        return -1;
    }
    i++;
    if (nums[0] < 0 || nums[0] > INT32_MAX || nums[1] < 0 || nums[2] < -1 ||
        nums[3] < -1) {
        snprintf(why, cap, "header at byte %zu has an impossible value", *off);
        return -1;
    }
    fr->partition = (long)nums[0];
    fr->offset = nums[1];
    size_t kl = nums[2] < 0 ? 0 : (size_t)nums[2];
    size_t vl = nums[3] < 0 ? 0 : (size_t)nums[3];
    if (kl > len - i || vl > len - i - kl || len - i - kl - vl < 1) {
        snprintf(why, cap,
                 "record at byte %zu is cut off (key %lld, value %lld bytes "
                 "announced)",
                 *off, nums[2], nums[3]);
        return -1;
    }
    fr->key = nums[2] < 0 ? NULL : buf + i;
    fr->key_len = kl;
    i += kl;
    fr->value = nums[3] < 0 ? NULL : buf + i;
    fr->value_len = vl;
    i += vl;
    if (buf[i] != '\n') {
        snprintf(why, cap,
                 "record at byte %zu is not followed by a newline: the "
                 "lengths do not match the bytes",
                 *off);
        return -1;
    }
    *off = i + 1;
    return 1;
}

/* ---- JSON output ------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid. */
static size_t kd_utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    return len;
}

/* Appends s as a JSON string; false when s is not UTF-8. */
static bool kd_jstr(tw_buf_t *b, const uint8_t *s, size_t n)
{
    tw_buf_append_byte(b, '"');
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            tw_buf_append_byte(b, '\\');
            tw_buf_append_byte(b, (char)c);
            i++;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            tw_buf_append_byte(b, '\\');
            tw_buf_append_byte(b, c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
            i++;
        } else if (c < 0x20) {
            tw_buf_printf(b, "\\u%04x", c);
            i++;
        } else {
            size_t l = kd_utf8_len(s + i, n - i);
            if (l == 0) {
                return false;
            }
            tw_buf_append(b, s + i, l);
            i += l;
        }
    }
    tw_buf_append_byte(b, '"');
    return true;
}

static void kd_hex(tw_buf_t *b, const uint8_t *s, size_t n)
{
    static const char d[] = "0123456789abcdef";
    tw_buf_append_byte(b, '"');
    for (size_t i = 0; i < n; i++) {
        tw_buf_append_byte(b, d[s[i] >> 4]);
        tw_buf_append_byte(b, d[s[i] & 15]);
    }
    tw_buf_append_byte(b, '"');
}

static void kd_double(tw_buf_t *b, double v)
{
    if (isnan(v) || isinf(v)) {
        tw_buf_printf(b, "\"%s\"",
                      isnan(v) ? "NaN"
                      : v > 0  ? "Infinity"
                               : "-Infinity");
        return;
    }
    tw_buf_printf(b, "%.17g", v);
}

/* ---- Avro: a bounds check, then avro-c ------------------------------- */

/* A zigzag varint of at most max_bytes; false when cut off or overlong. */
static bool kd_varint(const uint8_t *p, size_t n, size_t *i, int max_bytes,
                      int64_t *out)
{
    uint64_t v = 0;
    for (int k = 0; k < max_bytes; k++) {
        if (*i >= n) {
            return false;
        }
        uint8_t c = p[(*i)++];
        v |= (uint64_t)(c & 0x7f) << (7 * k);
        if (!(c & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return true;
        }
    }
    return false;
}

static avro_schema_t kd_deref(avro_schema_t s)
{
    while (s && avro_typeof(s) == AVRO_LINK) {
        s = avro_schema_link_target(s);
    }
    return s;
}

/* Walks one value of schema s in p[*i..n) without allocating, so avro-c
 * only ever reads lengths and counts that fit the bytes. */
static bool kd_check(avro_schema_t s, const uint8_t *p, size_t n, size_t *i,
                     int depth, size_t *elems, char *why, size_t cap)
{
    int64_t v;
    s = kd_deref(s);
    if (!s || depth > KD_MAX_DEPTH) {
        snprintf(why, cap, "Avro value nested deeper than %d", KD_MAX_DEPTH);
        return false;
    }
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        return true;
    case AVRO_BOOLEAN:
        if (*i >= n || p[*i] > 1) {
            snprintf(why, cap, "bad Avro boolean at byte %zu", *i);
            return false;
        }
        (*i)++;
        return true;
    case AVRO_INT32:
        if (!kd_varint(p, n, i, 5, &v) || v < INT32_MIN || v > INT32_MAX) {
            snprintf(why, cap, "bad Avro int at byte %zu", *i);
            return false;
        }
        return true;
    case AVRO_INT64:
        if (!kd_varint(p, n, i, 10, &v)) {
            snprintf(why, cap, "bad Avro long at byte %zu", *i);
            return false;
        }
        return true;
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
        size_t w = avro_typeof(s) == AVRO_FLOAT ? 4 : 8;
        if (n - *i < w) {
            snprintf(why, cap, "Avro float/double cut off at byte %zu", *i);
            return false;
        }
        *i += w;
        return true;
    }
    case AVRO_STRING:
    case AVRO_BYTES:
        if (!kd_varint(p, n, i, 10, &v) || v < 0 || (uint64_t)v > n - *i) {
            snprintf(why, cap, "bad Avro string/bytes length at byte %zu", *i);
            return false;
        }
        *i += (size_t)v;
        return true;
    case AVRO_FIXED: {
        int64_t w = avro_schema_fixed_size(s);
        if (w < 0 || (uint64_t)w > n - *i) {
            snprintf(why, cap, "Avro fixed cut off at byte %zu", *i);
            return false;
        }
        *i += (size_t)w;
        return true;
    }
    case AVRO_ENUM:
        if (!kd_varint(p, n, i, 5, &v) || v < 0 ||
            v >= avro_schema_enum_number_of_symbols(s)) {
            snprintf(why, cap, "bad Avro enum index at byte %zu", *i);
            return false;
        }
        return true;
    case AVRO_UNION:
        if (!kd_varint(p, n, i, 10, &v) || v < 0 ||
            (uint64_t)v >= avro_schema_union_size(s)) {
            snprintf(why, cap, "bad Avro union branch at byte %zu", *i);
            return false;
        }
        return kd_check(avro_schema_union_branch(s, (int)v), p, n, i, depth + 1,
                        elems, why, cap);
    case AVRO_RECORD: {
        size_t nf = avro_schema_record_size(s);
        for (size_t f = 0; f < nf; f++) {
            if (!kd_check(avro_schema_record_field_get_by_index(s, (int)f), p,
                          n, i, depth + 1, elems, why, cap)) {
                return false;
            }
        }
        return true;
    }
    case AVRO_ARRAY:
    case AVRO_MAP: {
        bool map = avro_typeof(s) == AVRO_MAP;
        avro_schema_t item =
            map ? avro_schema_map_values(s) : avro_schema_array_items(s);
        for (;;) {
            int64_t cnt;
            if (!kd_varint(p, n, i, 10, &cnt) || cnt == INT64_MIN) {
                snprintf(why, cap, "bad Avro block count at byte %zu", *i);
                return false;
            }
            if (cnt == 0) {
                return true;
            }
            if (cnt < 0) {
                int64_t bytes;
                cnt = -cnt;
                if (!kd_varint(p, n, i, 10, &bytes) || bytes < 0) {
                    snprintf(why, cap, "bad Avro block size at byte %zu", *i);
                    return false;
                }
            }
            if ((uint64_t)cnt > KD_MAX_ELEMS - *elems) {
                snprintf(why, cap, "more than %d Avro array/map elements",
                         KD_MAX_ELEMS);
                return false;
            }
            *elems += (size_t)cnt;
            for (int64_t k = 0; k < cnt; k++) {
                int64_t kl = 0;
                if (map && (!kd_varint(p, n, i, 10, &kl) || kl < 0 ||
                            (uint64_t)kl > n - *i)) {
                    snprintf(why, cap, "bad Avro map key at byte %zu", *i);
                    return false;
                }
                *i += map ? (size_t)kl : 0;
                if (!kd_check(item, p, n, i, depth + 1, elems, why, cap)) {
                    return false;
                }
            }
        }
    }
    default:
        snprintf(why, cap, "unsupported Avro type %s",
                 avro_schema_type_name(s));
        return false;
    }
}

/* Appends the avro-c value v as plain JSON (a union as its branch's value,
 * bytes and fixed as hex, an enum as its symbol). */
static bool kd_emit(avro_value_t *v, tw_buf_t *b, int depth, char *why,
                    size_t cap)
{
    if (depth > KD_MAX_DEPTH) {
        snprintf(why, cap, "Avro value nested too deep");
        return false;
    }
    switch (avro_value_get_type(v)) {
    case AVRO_NULL:
        tw_buf_append_str(b, "null");
        return true;
    case AVRO_BOOLEAN: {
        int x = 0;
        avro_value_get_boolean(v, &x);
        tw_buf_append_str(b, x ? "true" : "false");
        return true;
    }
    case AVRO_INT32: {
        int32_t x = 0;
        avro_value_get_int(v, &x);
        tw_buf_printf(b, "%d", (int)x);
        return true;
    }
    case AVRO_INT64: {
        int64_t x = 0;
        avro_value_get_long(v, &x);
        tw_buf_printf(b, "%lld", (long long)x);
        return true;
    }
    case AVRO_FLOAT: {
        float x = 0;
        avro_value_get_float(v, &x);
        kd_double(b, (double)x);
        return true;
    }
    case AVRO_DOUBLE: {
        double x = 0;
        avro_value_get_double(v, &x);
        kd_double(b, x);
        return true;
    }
    case AVRO_STRING: {
        const char *s = NULL;
        size_t size = 0;
        avro_value_get_string(v, &s, &size);
        /* size counts avro-c's terminating NUL */
        if (!kd_jstr(b, (const uint8_t *)s, size ? size - 1 : 0)) {
            snprintf(why, cap, "an Avro string is not UTF-8");
            return false;
        }
        return true;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
        const void *d = NULL;
        size_t size = 0;
        if (avro_value_get_type(v) == AVRO_BYTES) {
            avro_value_get_bytes(v, &d, &size);
        } else {
            avro_value_get_fixed(v, &d, &size);
        }
        kd_hex(b, d, size);
        return true;
    }
    case AVRO_ENUM: {
        int x = 0;
        avro_value_get_enum(v, &x);
        const char *sym = avro_schema_enum_get(avro_value_get_schema(v), x);
        return kd_jstr(b, (const uint8_t *)(sym ? sym : ""),
                       sym ? strlen(sym) : 0);
    }
    case AVRO_UNION: {
        avro_value_t br;
        if (avro_value_get_current_branch(v, &br) != 0) {
            snprintf(why, cap, "Avro union without a branch");
            return false;
        }
        return kd_emit(&br, b, depth + 1, why, cap);
    }
    case AVRO_RECORD:
    case AVRO_MAP:
    case AVRO_ARRAY: {
        avro_type_t t = avro_value_get_type(v);
        size_t n = 0;
        avro_value_get_size(v, &n);
        tw_buf_append_byte(b, t == AVRO_ARRAY ? '[' : '{');
        for (size_t k = 0; k < n; k++) {
            avro_value_t child;
            const char *name = NULL;
            if (avro_value_get_by_index(v, k, &child, &name) != 0) {
                snprintf(why, cap, "avro-c: %s", avro_strerror());
                return false;
            }
            if (k) {
                tw_buf_append_byte(b, ',');
            }
            if (t != AVRO_ARRAY) {
                if (!kd_jstr(b, (const uint8_t *)(name ? name : ""),
                             name ? strlen(name) : 0)) {
                    snprintf(why, cap, "an Avro name or map key is not UTF-8");
                    return false;
                }
                tw_buf_append_byte(b, ':');
            }
            if (!kd_emit(&child, b, depth + 1, why, cap)) {
                return false;
            }
        }
        tw_buf_append_byte(b, t == AVRO_ARRAY ? ']' : '}');
        return true;
    }
    default:
        snprintf(why, cap, "unsupported Avro value type");
        return false;
    }
}

/* The resolved schema of id, fetching and parsing it on first use; NULL
 * with why set. */
static kd_schema_t *kd_schema(kd_ctx_t *ctx, int32_t id, char *why, size_t cap)
{
    for (size_t k = 0; k < ctx->n; k++) {
        if (ctx->s[k].id == id) {
            return &ctx->s[k];
        }
    }
    if (ctx->n == KD_MAX_SCHEMAS) {
        snprintf(why, cap, "more than %d schema ids", KD_MAX_SCHEMAS);
        return NULL;
    }
    char *text = ctx->fetch(ctx->arg, id, why, cap);
    if (!text) {
        return NULL;
    }
    avro_schema_t sc = NULL;
    if (avro_schema_from_json_length(text, strlen(text), &sc) != 0) {
        snprintf(why, cap, "schema %d is not a valid Avro schema: %s", (int)id,
                 avro_strerror());
        free(text);
        return NULL;
    }
    free(text);
    avro_value_iface_t *iface = avro_generic_class_from_schema(sc);
    if (!iface) {
        snprintf(why, cap, "avro-c cannot build schema %d: %s", (int)id,
                 avro_strerror());
        avro_schema_decref(sc);
        return NULL;
    }
    kd_schema_t *e = &ctx->s[ctx->n++];
    e->id = id;
    e->schema = sc;
    e->iface = iface;
    return e;
}

/* Frees every resolved schema. */
static void kd_ctx_clear(kd_ctx_t *ctx)
{
    for (size_t k = 0; k < ctx->n; k++) {
        avro_value_iface_decref(ctx->s[k].iface);
        avro_schema_decref(ctx->s[k].schema);
    }
    ctx->n = 0;
}

/* Decodes one Confluent-framed Avro value into JSON on b; schema id in
 * *id. False with why set. */
static bool kd_avro(kd_ctx_t *ctx, const uint8_t *p, size_t n, tw_buf_t *b,
                    int32_t *id, char *why, size_t cap)
{
    if (n < 5 || p[0] != 0) {
        snprintf(why, cap,
                 "value is not Confluent-framed (magic byte 0 and a 4-byte "
                 "schema id)");
        return false;
    }
    uint32_t u = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 8 | p[4];
    *id = (int32_t)u;
    kd_schema_t *sc = kd_schema(ctx, *id, why, cap);
    if (!sc) {
        return false;
    }
    size_t i = 5, elems = 0;
    if (!kd_check(sc->schema, p, n, &i, 0, &elems, why, cap)) {
        return false;
    }
    if (i != n) {
        snprintf(why, cap, "%zu bytes after the Avro value of schema %d", n - i,
                 (int)*id);
        return false;
    }
    avro_value_t v;
    if (avro_generic_value_new(sc->iface, &v) != 0) {
        snprintf(why, cap, "avro-c: %s", avro_strerror());
        return false;
    }
    avro_reader_t r = avro_reader_memory((const char *)p + 5, (int64_t)n - 5);
    bool ok = r && avro_value_read(r, &v) == 0;
    if (!ok) {
        snprintf(why, cap, "avro-c cannot read the value of schema %d: %s",
                 (int)*id, avro_strerror());
    } else {
        ok = kd_emit(&v, b, 0, why, cap);
    }
    if (r) {
        avro_reader_free(r);
    }
    avro_value_decref(&v);
    return ok;
}

/* Appends the JSON line of one record to out; false with why set. */
static bool kd_record(kd_ctx_t *ctx, const kd_frame_t *fr, tw_buf_t *out,
                      char *why, size_t cap)
{
    size_t mark = tw_buf_len(out);
    tw_buf_append_str(out, "{\"topic\":");
    kd_jstr(out, (const uint8_t *)fr->topic, strlen(fr->topic));
    tw_buf_printf(out, ",\"partition\":%ld,\"offset\":%lld,", fr->partition,
                  fr->offset);
    if (!fr->key) {
        tw_buf_append_str(out, "\"key\":null");
    } else {
        size_t at = tw_buf_len(out);
        tw_buf_append_str(out, "\"key\":");
        if (!kd_jstr(out, fr->key, fr->key_len)) {
            tw_buf_truncate(out, at);
            tw_buf_append_str(out, "\"key\":null,\"key_hex\":");
            kd_hex(out, fr->key, fr->key_len);
        }
    }
    if (!fr->value) {
        tw_buf_append_str(out, ",\"format\":null,\"value\":null}\n");
        return true;
    }
    if (fr->value_len > 0 && fr->value[0] == 0) {
        int32_t id = 0;
        tw_buf_t *v = tw_buf_new();
        if (!v) {
            snprintf(why, cap, "out of memory");
            return false;
        }
        bool ok = kd_avro(ctx, fr->value, fr->value_len, v, &id, why, cap);
        if (ok) {
            tw_buf_printf(out,
                          ",\"format\":\"avro\",\"schema_id\":%d,"
                          "\"value\":",
                          (int)id);
            tw_buf_append(out, tw_buf_data(v), tw_buf_len(v));
            tw_buf_append_str(out, "}\n");
        } else {
            tw_buf_truncate(out, mark);
        }
        tw_buf_destroy(&v);
        return ok;
    }
    tw_json_t *j = tw_json_new();
    tw_err_t jerr = {0};
    if (!j || tw_json_parse(j, (const char *)fr->value, fr->value_len, &jerr) !=
                  TW_OK) {
        snprintf(why, cap,
                 "value is neither Confluent-framed Avro (magic byte 0) nor "
                 "JSON (%s)",
                 j ? jerr.msg : "out of memory");
        tw_json_destroy(&j);
        tw_buf_truncate(out, mark);
        return false;
    }
    tw_json_destroy(&j);
    tw_buf_append_str(out, ",\"format\":\"json\",\"value\":");
    /* valid JSON holds a newline only as whitespace: keep one line */
    for (size_t k = 0; k < fr->value_len; k++) {
        char c = (char)fr->value[k];
        tw_buf_append_byte(out, c == '\n' || c == '\r' ? ' ' : c);
    }
    tw_buf_append_str(out, "}\n");
    return true;
}

#ifndef TW_KDEC_NO_MAIN

#include "tw_http.h"

/* Where schemas come from: the registry and its credentials. */
typedef struct {
    tw_http_t *http;   /* client */
    const char *url;   /* registry base URL */
    char *auth_header; /* "Authorization: Basic ..." or NULL (owned) */
    bool temporary;    /* the last failure was the registry not answering */
} kd_registry_t;

static char *kd_fetch(void *arg, int32_t id, char *why, size_t cap)
{
    kd_registry_t *reg = arg;
    if (!reg->url) {
        snprintf(why, cap,
                 "an Avro value names schema %d but no --registry was given",
                 (int)id);
        return NULL;
    }
    char url[2048];
    snprintf(url, sizeof url, "%s/schemas/ids/%d", reg->url, (int)id);
    const char *headers[] = {reg->auth_header, NULL};
    tw_http_resp_t resp = {0};
    tw_err_t err = {0};
    tw_rc_t rc = tw_http_get(reg->http, url, reg->auth_header ? headers : NULL,
                             &resp, &err);
    if (rc != TW_OK) {
        reg->temporary = rc != TW_ERR_HTTP;
        snprintf(why, cap, "unable to fetch schema %d from the registry: %s",
                 (int)id, err.msg);
        tw_http_resp_clear(&resp);
        return NULL;
    }
    tw_json_t *j = tw_json_new();
    char *text = NULL;
    if (j && tw_json_parse(j, resp.body, resp.body_len, NULL) == TW_OK) {
        tw_json_ref_t s = tw_json_get(j, tw_json_root(j), "schema");
        size_t len = 0;
        const char *str = s ? tw_json_str(j, s, &len) : NULL;
        if (str) {
            text = strndup(str, len);
        }
    }
    if (!text) {
        snprintf(why, cap,
                 "the registry's answer for schema %d has no "
                 "\"schema\" string",
                 (int)id);
    }
    tw_json_destroy(&j);
    tw_http_resp_clear(&resp);
    return text;
}

/* Reads "user:password" from a file (first line); returns the basic-auth
 * header (caller frees) or NULL with why set. */
static char *kd_auth_header(const char *path, char *why, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, cap, "unable to open %s: %s", path, strerror(errno));
        return NULL;
    }
    char line[1024];
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[got ? strcspn(line, "\r\n") : 0] = '\0';
    if (!strchr(line, ':')) {
        snprintf(why, cap, "%s: wants one line \"user:password\"", path);
        return NULL;
    }
    static const char d[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(line);
    char *h = malloc(32 + 4 * (n / 3 + 1));
    if (!h) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    char *o = h + sprintf(h, "Authorization: Basic ");
    const uint8_t *s = (const uint8_t *)line;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t)s[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= s[i + 2];
        }
        *o++ = d[(v >> 18) & 63];
        *o++ = d[(v >> 12) & 63];
        *o++ = i + 1 < n ? d[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? d[v & 63] : '=';
    }
    *o = '\0';
    explicit_bzero(line, sizeof line);
    return h;
}

static void kd_usage(FILE *f)
{
    fputs("usage: kcat -C -b BOOTSTRAP -t TOPIC -e -o beginning \\\n"
          "            -f '%t %p %o %K %S\\n%k%s\\n' |\n"
          "       tw-kafka-decode [--registry URL] [--registry-auth FILE]\n"
          "Prints one JSON line per record: "
          "{\"topic\",\"partition\",\"offset\",\n"
          "\"key\" (string or null; \"key_hex\" when not UTF-8),\"format\"\n"
          "(\"avro\", \"json\" or null),\"schema_id\" (Avro),\"value\"}. An "
          "Avro\n"
          "value (magic byte 0, 4-byte schema id) is decoded with the writer\n"
          "schema from URL/schemas/ids/N (basic auth from FILE, one line\n"
          "\"user:password\"): a record as an object, a union as its branch's\n"
          "value, bytes and fixed as hex. A JSON value is printed as it is.\n"
          "Exit codes: 0 ok, 100 usage error or malformed input (the message\n"
          "names the record), 111 the registry did not answer.\n",
          f);
}

int main(int argc, char **argv)
{
    kd_registry_t reg = {0};
    const char *auth_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            kd_usage(stdout);
            return TW_EXIT_OK;
        }
        if (i + 1 < argc && strcmp(argv[i], "--registry") == 0) {
            reg.url = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--registry-auth") == 0) {
            auth_file = argv[++i];
        } else {
            kd_usage(stderr);
            return TW_EXIT_USAGE;
        }
    }
    char why[1024] = "";
    if (auth_file) {
        reg.auth_header = kd_auth_header(auth_file, why, sizeof why);
        if (!reg.auth_header) {
            fprintf(stderr, "tw-kafka-decode: %s\n", why);
            return TW_EXIT_USAGE;
        }
    }
    tw_http_opts_t opts = {.timeout_ms = 10000, .max_retries = 2};
    reg.http = tw_http_new(&opts);
    tw_buf_t *in = tw_buf_new();
    tw_buf_t *out = tw_buf_new();
    if (!reg.http || !in || !out) {
        fprintf(stderr, "tw-kafka-decode: out of memory\n");
        return TW_EXIT_TEMP;
    }
    char chunk[65536];
    for (;;) {
        ssize_t got = read(0, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            fprintf(stderr, "tw-kafka-decode: unable to read stdin: %s\n",
                    strerror(errno));
            return TW_EXIT_TEMP;
        }
        if (got == 0) {
            break;
        }
        if (tw_buf_append(in, chunk, (size_t)got) != TW_OK) {
            fprintf(stderr, "tw-kafka-decode: out of memory\n");
            return TW_EXIT_TEMP;
        }
    }
    kd_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        return TW_EXIT_TEMP;
    }
    ctx->fetch = kd_fetch;
    ctx->arg = &reg;
    size_t off = 0, n = 0;
    int rc = TW_EXIT_OK;
    kd_frame_t fr;
    for (;;) {
        int r = kd_frame_next((const uint8_t *)tw_buf_data(in), tw_buf_len(in),
                              &off, &fr, why, sizeof why);
        if (r == 0) {
            break;
        }
        if (r < 0) {
            fprintf(stderr, "tw-kafka-decode: record %zu: %s\n", n + 1, why);
            rc = TW_EXIT_USAGE;
            break;
        }
        n++;
        if (!kd_record(ctx, &fr, out, why, sizeof why)) {
            fprintf(stderr,
                    "tw-kafka-decode: record %zu (%s partition %ld offset "
                    "%lld): %s\n",
                    n, fr.topic, fr.partition, fr.offset, why);
            rc = reg.temporary ? TW_EXIT_TEMP : TW_EXIT_USAGE;
            break;
        }
        if (tw_buf_len(out) > (1 << 16)) {
            fwrite(tw_buf_data(out), 1, tw_buf_len(out), stdout);
            tw_buf_clear(out);
        }
    }
    fwrite(tw_buf_data(out), 1, tw_buf_len(out), stdout);
    if (fflush(stdout) != 0 && rc == TW_EXIT_OK) {
        rc = TW_EXIT_TEMP;
    }
    kd_ctx_clear(ctx);
    free(ctx);
    tw_buf_destroy(&in);
    tw_buf_destroy(&out);
    tw_http_destroy(&reg.http);
    free(reg.auth_header);
    return rc;
}

#endif
