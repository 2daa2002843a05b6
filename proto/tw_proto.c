/* tw_proto - msgpack codec of the messages declared in messages.def. */
#include "tw_proto.h"

#include <assert.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* Field helpers unused by the current table must not break the build. */
#define TW_UNUSED __attribute__((unused))

/* Elements of the envelope before the body fields. */
#define HDR_FIELDS 5

/* ---- enums ---- */

#define E(cname, wire) [TW_##cname] = wire,
#define TW_ENUM(name, values)                                                  \
    static const char *const s_##name##_names[] = {values};                    \
    enum {                                                                     \
        s_##name##_count = sizeof s_##name##_names / sizeof *s_##name##_names  \
    };                                                                         \
    const char *tw_proto_##name##_str(tw_##name##_t v)                         \
    {                                                                          \
        if ((unsigned)v >= s_##name##_count || !s_##name##_names[v])           \
            return s_##name##_names[0];                                        \
        return s_##name##_names[v];                                            \
    }                                                                          \
    static tw_##name##_t s_##name##_from(const char *p, size_t n)              \
    {                                                                          \
        for (unsigned k = 0; k < s_##name##_count; k++) {                      \
            const char *w = s_##name##_names[k];                               \
            if (w && strlen(w) == n && memcmp(w, p, n) == 0)                   \
                return (tw_##name##_t)k;                                       \
        }                                                                      \
        return (tw_##name##_t)0;                                               \
    }                                                                          \
    tw_##name##_t tw_proto_##name##_parse(const char *s)                       \
    {                                                                          \
        if (!s)                                                                \
            return (tw_##name##_t)0;                                           \
        return s_##name##_from(s, strlen(s));                                  \
    }
#include "messages.def"
#undef TW_ENUM
#undef E

/* ---- name table ---- */

typedef struct {
    tw_msg_id_t id;   /* message id */
    const char *name; /* wire name */
} s_entry_t;

static const s_entry_t s_table[] = {
#define TW_MSG(upper, lower, wire, id, fields) {TW_MSG_##upper, wire},
#include "messages.def"
#undef TW_MSG
};

enum { s_table_count = sizeof s_table / sizeof *s_table };

const char *tw_proto_name(tw_msg_id_t id)
{
    for (size_t i = 0; i < s_table_count; i++) {
        if (s_table[i].id == id)
            return s_table[i].name;
    }
    return NULL;
}

tw_msg_id_t tw_proto_id(const char *name)
{
    if (!name)
        return TW_MSG_NONE;
    for (size_t i = 0; i < s_table_count; i++) {
        if (strcmp(s_table[i].name, name) == 0)
            return s_table[i].id;
    }
    return TW_MSG_NONE;
}

size_t tw_proto_count(void)
{
    return s_table_count;
}

tw_msg_id_t tw_proto_id_at(size_t i)
{
    assert(i < s_table_count);
    return s_table[i].id;
}

/* ---- field counts ---- */

#define F_STR(x)                               +1
#define F_OSTR(x)                              +1
#define F_U32(x)                               +1
#define F_U64(x)                               +1
#define F_I64(x)                               +1
#define F_BOOL(x)                              +1
#define F_OU64(x)                              +1
#define F_OI64(x)                              +1
#define F_ENUM(x, e)                           +1
#define F_STRS(x)                              +1
#define F_RECS(x, r)                           +1
#define TW_REC(name, fields)                   s_nf_##name = 0 fields,
#define TW_MSG(upper, lower, wire, id, fields) s_nf_msg_##lower = 0 fields,
enum {
#include "messages.def"
};
#undef TW_REC
#undef TW_MSG
#undef F_STR
#undef F_OSTR
#undef F_U32
#undef F_U64
#undef F_I64
#undef F_BOOL
#undef F_OU64
#undef F_OI64
#undef F_ENUM
#undef F_STRS
#undef F_RECS

/* ---- free ---- */

TW_UNUSED static void s_free_strs(tw_strs_t *a)
{
    for (size_t k = 0; a->v && k < a->n; k++)
        free(a->v[k]);
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

#define F_STR(x)     free(m->x);
#define F_OSTR(x)    free(m->x);
#define F_U32(x)     /* nothing */
#define F_U64(x)     /* nothing */
#define F_I64(x)     /* nothing */
#define F_BOOL(x)    /* nothing */
#define F_OU64(x)    /* nothing */
#define F_OI64(x)    /* nothing */
#define F_ENUM(x, e) /* nothing */
#define F_STRS(x)    s_free_strs(&m->x);
#define F_RECS(x, r)                                                           \
    for (size_t k = 0; m->x.v && k < m->x.n; k++)                              \
        s_clear_##r(&m->x.v[k]);                                               \
    free(m->x.v);
#define GEN(name, type, fields)                                                \
    static void s_clear_##name(type *m)                                        \
    {                                                                          \
        fields memset(m, 0, sizeof *m);                                        \
    }
#define TW_REC(name, fields) GEN(name, tw_##name##_t, fields)
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    GEN(msg_##lower, tw_msg_##lower##_t, fields)
#include "messages.def"
#undef GEN
#undef TW_REC
#undef TW_MSG
#undef F_STR
#undef F_OSTR
#undef F_U32
#undef F_U64
#undef F_I64
#undef F_BOOL
#undef F_OU64
#undef F_OI64
#undef F_ENUM
#undef F_STRS
#undef F_RECS

void tw_proto_clear(tw_msg_t *msg)
{
    if (!msg)
        return;
    switch (msg->id) {
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    case TW_MSG_##upper:                                                       \
        s_clear_msg_##lower(&msg->u.lower);                                    \
        break;
#include "messages.def"
#undef TW_MSG
    default:
        break;
    }
    memset(msg, 0, sizeof *msg);
}

/* ---- equality ---- */

/* Required strings: NULL encodes as "", so they compare equal. */
TW_UNUSED static bool s_eq_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

TW_UNUSED static bool s_eq_ostr(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

TW_UNUSED static bool s_eq_strs(const tw_strs_t *a, const tw_strs_t *b)
{
    if (a->n != b->n)
        return false;
    for (size_t k = 0; k < a->n; k++) {
        if (!s_eq_str(a->v[k], b->v[k]))
            return false;
    }
    return true;
}

#define F_STR(x)     &&s_eq_str(a->x, b->x)
#define F_OSTR(x)    &&s_eq_ostr(a->x, b->x)
#define F_U32(x)     &&a->x == b->x
#define F_U64(x)     &&a->x == b->x
#define F_I64(x)     &&a->x == b->x
#define F_BOOL(x)    &&a->x == b->x
#define F_OU64(x)    &&a->x.set == b->x.set && (!a->x.set || a->x.v == b->x.v)
#define F_OI64(x)    &&a->x.set == b->x.set && (!a->x.set || a->x.v == b->x.v)
#define F_ENUM(x, e) &&a->x == b->x
#define F_STRS(x)    &&s_eq_strs(&a->x, &b->x)
#define F_RECS(x, r) &&s_eq_list_##r(&a->x, &b->x)
#define GEN(name, type, fields)                                                \
    static bool s_eq_##name(const type *a, const type *b)                      \
    {                                                                          \
        return true fields;                                                    \
    }
#define TW_REC(name, fields)                                                   \
    GEN(name, tw_##name##_t, fields)                                           \
    static bool s_eq_list_##name(const tw_##name##_list_t *a,                  \
                                 const tw_##name##_list_t *b)                  \
    {                                                                          \
        if (a->n != b->n)                                                      \
            return false;                                                      \
        for (size_t k = 0; k < a->n; k++) {                                    \
            if (!s_eq_##name(&a->v[k], &b->v[k]))                              \
                return false;                                                  \
        }                                                                      \
        return true;                                                           \
    }
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    GEN(msg_##lower, tw_msg_##lower##_t, fields)
#include "messages.def"
#undef GEN
#undef TW_REC
#undef TW_MSG
#undef F_STR
#undef F_OSTR
#undef F_U32
#undef F_U64
#undef F_I64
#undef F_BOOL
#undef F_OU64
#undef F_OI64
#undef F_ENUM
#undef F_STRS
#undef F_RECS

bool tw_proto_equal(const tw_msg_t *a, const tw_msg_t *b)
{
    assert(a);
    assert(b);
    if (a->id != b->id || a->epoch != b->epoch || a->seq != b->seq ||
        strcmp(a->src, b->src) != 0)
        return false;
    switch (a->id) {
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    case TW_MSG_##upper:                                                       \
        return s_eq_msg_##lower(&a->u.lower, &b->u.lower);
#include "messages.def"
#undef TW_MSG
    default:
        return true;
    }
}

/* ---- encoding ---- */

static tw_rc_t s_put_rc(int r)
{
    return r == 0 ? TW_OK : TW_ERR_NOMEM;
}

TW_UNUSED static tw_rc_t s_put_str(msgpack_packer *pk, const char *s,
                                   const char *field, tw_err_t *err)
{
    size_t n = s ? strlen(s) : 0;
    if (n > TW_PROTO_MAX_STR) {
        tw_err_set(err, "field %s: string of %zu bytes exceeds %d", field, n,
                   TW_PROTO_MAX_STR);
        return TW_ERR_TOOBIG;
    }
    if (msgpack_pack_str(pk, n) != 0)
        return TW_ERR_NOMEM;
    return s_put_rc(msgpack_pack_str_body(pk, s ? s : "", n));
}

TW_UNUSED static tw_rc_t s_put_ostr(msgpack_packer *pk, const char *s,
                                    const char *field, tw_err_t *err)
{
    if (!s)
        return s_put_rc(msgpack_pack_nil(pk));
    return s_put_str(pk, s, field, err);
}

TW_UNUSED static tw_rc_t s_put_array(msgpack_packer *pk, size_t n,
                                     const char *field, tw_err_t *err)
{
    if (n > TW_PROTO_MAX_ARRAY) {
        tw_err_set(err, "field %s: %zu elements exceed %d", field, n,
                   TW_PROTO_MAX_ARRAY);
        return TW_ERR_TOOBIG;
    }
    return s_put_rc(msgpack_pack_array(pk, n));
}

TW_UNUSED static tw_rc_t s_put_strs(msgpack_packer *pk, const tw_strs_t *a,
                                    const char *field, tw_err_t *err)
{
    tw_rc_t rc = s_put_array(pk, a->n, field, err);
    for (size_t k = 0; rc == TW_OK && k < a->n; k++)
        rc = s_put_str(pk, a->v[k], field, err);
    return rc;
}

TW_UNUSED static tw_rc_t s_put_ou64(msgpack_packer *pk, tw_ou64_t v)
{
    if (!v.set)
        return s_put_rc(msgpack_pack_nil(pk));
    return s_put_rc(msgpack_pack_uint64(pk, v.v));
}

TW_UNUSED static tw_rc_t s_put_oi64(msgpack_packer *pk, tw_oi64_t v)
{
    if (!v.set)
        return s_put_rc(msgpack_pack_nil(pk));
    return s_put_rc(msgpack_pack_int64(pk, v.v));
}

TW_UNUSED static tw_rc_t s_put_bool(msgpack_packer *pk, bool v)
{
    return s_put_rc(v ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
}

#define PUT(expr)                                                              \
    do {                                                                       \
        rc = (expr);                                                           \
        if (rc != TW_OK)                                                       \
            return rc;                                                         \
    } while (0)
#define F_STR(x)     PUT(s_put_str(pk, m->x, #x, err));
#define F_OSTR(x)    PUT(s_put_ostr(pk, m->x, #x, err));
#define F_U32(x)     PUT(s_put_rc(msgpack_pack_uint32(pk, m->x)));
#define F_U64(x)     PUT(s_put_rc(msgpack_pack_uint64(pk, m->x)));
#define F_I64(x)     PUT(s_put_rc(msgpack_pack_int64(pk, m->x)));
#define F_BOOL(x)    PUT(s_put_bool(pk, m->x));
#define F_OU64(x)    PUT(s_put_ou64(pk, m->x));
#define F_OI64(x)    PUT(s_put_oi64(pk, m->x));
#define F_ENUM(x, e) PUT(s_put_str(pk, tw_proto_##e##_str(m->x), #x, err));
#define F_STRS(x)    PUT(s_put_strs(pk, &m->x, #x, err));
#define F_RECS(x, r)                                                           \
    PUT(s_put_array(pk, m->x.n, #x, err));                                     \
    for (size_t k = 0; k < m->x.n; k++)                                        \
        PUT(s_enc_##r(pk, &m->x.v[k], err));
/* A record is a positional array; a message body follows the envelope in
 * the same array, so only records write their own array header. */
#define GEN(name, type, hdr, fields)                                           \
    static tw_rc_t s_enc_##name(msgpack_packer *pk, const type *m,             \
                                tw_err_t *err)                                 \
    {                                                                          \
        tw_rc_t rc = TW_OK;                                                    \
        (void)err;                                                             \
        hdr fields return rc;                                                  \
    }
#define TW_REC(name, fields)                                                   \
    GEN(name, tw_##name##_t,                                                   \
        PUT(s_put_rc(msgpack_pack_array(pk, s_nf_##name)));                    \
        , fields)
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    GEN(msg_##lower, tw_msg_##lower##_t, /* no header */, fields)
#include "messages.def"
#undef GEN
#undef TW_REC
#undef TW_MSG
#undef F_STR
#undef F_OSTR
#undef F_U32
#undef F_U64
#undef F_I64
#undef F_BOOL
#undef F_OU64
#undef F_OI64
#undef F_ENUM
#undef F_STRS
#undef F_RECS

/* Writes the envelope and the body of msg into pk. */
static tw_rc_t s_encode(msgpack_packer *pk, const tw_msg_t *msg, tw_err_t *err)
{
    tw_rc_t rc = TW_OK;
    size_t nf = 0;
    switch (msg->id) {
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    case TW_MSG_##upper:                                                       \
        nf = s_nf_msg_##lower;                                                 \
        break;
#include "messages.def"
#undef TW_MSG
    default:
        tw_err_set(err, "unknown message id %u", (unsigned)msg->id);
        return TW_ERR_INVALID;
    }
    size_t srclen = strnlen(msg->src, sizeof msg->src);
    if (srclen > TW_PROTO_SRC_MAX) {
        tw_err_set(err, "src longer than %d bytes", TW_PROTO_SRC_MAX);
        return TW_ERR_INVALID;
    }
    PUT(s_put_rc(msgpack_pack_array(pk, HDR_FIELDS + nf)));
    PUT(s_put_rc(msgpack_pack_uint32(pk, TW_PROTO_VERSION)));
    PUT(s_put_rc(msgpack_pack_uint32(pk, (uint32_t)msg->id)));
    PUT(s_put_rc(msgpack_pack_str(pk, srclen)));
    PUT(s_put_rc(msgpack_pack_str_body(pk, msg->src, srclen)));
    PUT(s_put_rc(msgpack_pack_fix_uint64(pk, msg->epoch)));
    PUT(s_put_rc(msgpack_pack_fix_uint64(pk, msg->seq)));
    switch (msg->id) {
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    case TW_MSG_##upper:                                                       \
        return s_enc_msg_##lower(pk, &msg->u.lower, err);
#include "messages.def"
#undef TW_MSG
    default:
        return TW_ERR_INTERNAL;
    }
}
#undef PUT

tw_rc_t tw_proto_encode(const tw_msg_t *msg, char **buf, size_t *len,
                        tw_err_t *err)
{
    assert(msg);
    assert(buf);
    assert(len);
    *buf = NULL;
    *len = 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    tw_rc_t rc = s_encode(&pk, msg, err);
    if (rc != TW_OK) {
        if (rc == TW_ERR_NOMEM)
            tw_err_set(err, "out of memory encoding a message");
        msgpack_sbuffer_destroy(&sb);
        return rc;
    }
    *len = sb.size;
    *buf = msgpack_sbuffer_release(&sb);
    if (!*buf) {
        /* An empty sbuffer has no data pointer; never the case here. */
        *len = 0;
        return TW_ERR_INTERNAL;
    }
    return TW_OK;
}

/* ---- structure scan ---- */

/* Reads a big-endian unsigned integer of k bytes at p[*pos]. */
static bool s_be(const uint8_t *p, size_t len, size_t *pos, int k,
                 uint64_t *out)
{
    if ((size_t)k > len - *pos)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < k; i++)
        v = (v << 8) | p[*pos + (size_t)i];
    *pos += (size_t)k;
    *out = v;
    return true;
}

/* Checks that p[0..len) is exactly one well-formed msgpack object whose
 * declared container sizes fit in the input, so unpacking it allocates
 * memory proportional to len only (a 5-byte array header may claim 4
 * billion elements). */
static bool s_scan(const uint8_t *p, size_t len)
{
    size_t pos = 0;
    uint64_t pending = 1;
    while (pending > 0) {
        if (pos >= len)
            return false;
        uint8_t b = p[pos++];
        pending--;
        uint64_t skip = 0, children = 0, v = 0;
        bool ok = true;
        if (b <= 0x7f || b >= 0xe0) {
            /* fixint */
        } else if (b <= 0x8f) {
            children = 2u * (b & 0x0fu);
        } else if (b <= 0x9f) {
            children = b & 0x0fu;
        } else if (b <= 0xbf) {
            skip = b & 0x1fu;
        } else {
            switch (b) {
            case 0xc0: /* nil */
            case 0xc2: /* false */
            case 0xc3: /* true */
                break;
            case 0xc4: /* bin 8/16/32 */
            case 0xd9: /* str 8/16/32 */
                ok = s_be(p, len, &pos, 1, &skip);
                break;
            case 0xc5:
            case 0xda:
                ok = s_be(p, len, &pos, 2, &skip);
                break;
            case 0xc6:
            case 0xdb:
                ok = s_be(p, len, &pos, 4, &skip);
                break;
            case 0xc7: /* ext 8/16/32: size, type byte, data */
                ok = s_be(p, len, &pos, 1, &v);
                skip = v + 1;
                break;
            case 0xc8:
                ok = s_be(p, len, &pos, 2, &v);
                skip = v + 1;
                break;
            case 0xc9:
                ok = s_be(p, len, &pos, 4, &v);
                skip = v + 1;
                break;
            case 0xcc: /* uint8, int8 */
            case 0xd0:
                skip = 1;
                break;
            case 0xcd:
            case 0xd1:
                skip = 2;
                break;
            case 0xca: /* float32 */
            case 0xce:
            case 0xd2:
                skip = 4;
                break;
            case 0xcb: /* float64 */
            case 0xcf:
            case 0xd3:
                skip = 8;
                break;
            case 0xd4: /* fixext 1/2/4/8/16 */
                skip = 2;
                break;
            case 0xd5:
                skip = 3;
                break;
            case 0xd6:
                skip = 5;
                break;
            case 0xd7:
                skip = 9;
                break;
            case 0xd8:
                skip = 17;
                break;
            case 0xdc: /* array 16/32 */
                ok = s_be(p, len, &pos, 2, &children);
                break;
            case 0xdd:
                ok = s_be(p, len, &pos, 4, &children);
                break;
            case 0xde: /* map 16/32 */
                ok = s_be(p, len, &pos, 2, &v);
                children = 2 * v;
                break;
            case 0xdf:
                ok = s_be(p, len, &pos, 4, &v);
                children = 2 * v;
                break;
            default: /* 0xc1: never used */
                return false;
            }
        }
        if (!ok || skip > len - pos)
            return false;
        pos += (size_t)skip;
        /* Every pending element needs at least one more byte. */
        pending += children;
        if (pending > len - pos)
            return false;
    }
    return pos == len;
}

/* ---- decoding ---- */

static tw_rc_t s_bad(tw_err_t *err, const char *field, const char *what)
{
    tw_err_set(err, "field %s: %s", field, what);
    return TW_ERR_PROTO;
}

TW_UNUSED static tw_rc_t s_get_str(const msgpack_object *o, char **out,
                                   const char *field, tw_err_t *err)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return s_bad(err, field, "expected a string");
    uint32_t n = o->via.str.size;
    if (n > TW_PROTO_MAX_STR)
        return s_bad(err, field, "string too long");
    if (n > 0 && memchr(o->via.str.ptr, '\0', n))
        return s_bad(err, field, "string contains NUL");
    char *s = malloc((size_t)n + 1);
    if (!s) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    if (n > 0)
        memcpy(s, o->via.str.ptr, n);
    s[n] = '\0';
    *out = s;
    return TW_OK;
}

TW_UNUSED static tw_rc_t s_get_ostr(const msgpack_object *o, char **out,
                                    const char *field, tw_err_t *err)
{
    if (o->type == MSGPACK_OBJECT_NIL) {
        *out = NULL;
        return TW_OK;
    }
    return s_get_str(o, out, field, err);
}

static tw_rc_t s_get_u64(const msgpack_object *o, uint64_t *out,
                         const char *field, tw_err_t *err)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return s_bad(err, field, "expected an unsigned integer");
    *out = o->via.u64;
    return TW_OK;
}

TW_UNUSED static tw_rc_t s_get_u32(const msgpack_object *o, uint32_t *out,
                                   const char *field, tw_err_t *err)
{
    uint64_t v = 0;
    tw_rc_t rc = s_get_u64(o, &v, field, err);
    if (rc != TW_OK)
        return rc;
    if (v > UINT32_MAX)
        return s_bad(err, field, "integer out of range");
    *out = (uint32_t)v;
    return TW_OK;
}

TW_UNUSED static tw_rc_t s_get_i64(const msgpack_object *o, int64_t *out,
                                   const char *field, tw_err_t *err)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return TW_OK;
    }
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return s_bad(err, field, "expected an integer");
    if (o->via.u64 > INT64_MAX)
        return s_bad(err, field, "integer out of range");
    *out = (int64_t)o->via.u64;
    return TW_OK;
}

TW_UNUSED static tw_rc_t s_get_bool(const msgpack_object *o, bool *out,
                                    const char *field, tw_err_t *err)
{
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return s_bad(err, field, "expected a boolean");
    *out = o->via.boolean;
    return TW_OK;
}

TW_UNUSED static tw_rc_t s_get_ou64(const msgpack_object *o, tw_ou64_t *out,
                                    const char *field, tw_err_t *err)
{
    out->set = false;
    out->v = 0;
    if (o->type == MSGPACK_OBJECT_NIL)
        return TW_OK;
    tw_rc_t rc = s_get_u64(o, &out->v, field, err);
    out->set = rc == TW_OK;
    return rc;
}

TW_UNUSED static tw_rc_t s_get_oi64(const msgpack_object *o, tw_oi64_t *out,
                                    const char *field, tw_err_t *err)
{
    out->set = false;
    out->v = 0;
    if (o->type == MSGPACK_OBJECT_NIL)
        return TW_OK;
    tw_rc_t rc = s_get_i64(o, &out->v, field, err);
    out->set = rc == TW_OK;
    return rc;
}

/* Checks that o is an array of at most TW_PROTO_MAX_ARRAY elements. */
TW_UNUSED static tw_rc_t s_get_array(const msgpack_object *o, const char *field,
                                     tw_err_t *err)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return s_bad(err, field, "expected an array");
    if (o->via.array.size > TW_PROTO_MAX_ARRAY)
        return s_bad(err, field, "array too long");
    return TW_OK;
}

/* Allocates n zeroed elements of size sz (a valid pointer even for 0). */
TW_UNUSED static void *s_calloc(size_t n, size_t sz, tw_err_t *err)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        tw_err_set(err, "out of memory");
    return p;
}

TW_UNUSED static tw_rc_t s_get_strs(const msgpack_object *o, tw_strs_t *out,
                                    const char *field, tw_err_t *err)
{
    tw_rc_t rc = s_get_array(o, field, err);
    if (rc != TW_OK)
        return rc;
    size_t n = o->via.array.size;
    out->v = s_calloc(n, sizeof *out->v, err);
    if (!out->v)
        return TW_ERR_NOMEM;
    out->n = n;
    for (size_t k = 0; k < n; k++) {
        rc = s_get_str(&o->via.array.ptr[k], &out->v[k], field, err);
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

/* Prefixes "field[k]: " to the detail of an error inside a record. */
static tw_rc_t s_in_element(tw_err_t *err, const char *field, size_t k,
                            tw_rc_t rc)
{
    if (err) {
        char detail[sizeof err->msg];
        memcpy(detail, err->msg, sizeof detail);
        tw_err_set(err, "%s[%zu]: %.400s", field, k, detail);
    }
    return rc;
}

#define GET(expr)                                                              \
    do {                                                                       \
        rc = (expr);                                                           \
        if (rc != TW_OK)                                                       \
            return rc;                                                         \
    } while (0)
#define F_STR(x)  GET(s_get_str(&f[i++], &m->x, #x, err));
#define F_OSTR(x) GET(s_get_ostr(&f[i++], &m->x, #x, err));
#define F_U32(x)  GET(s_get_u32(&f[i++], &m->x, #x, err));
#define F_U64(x)  GET(s_get_u64(&f[i++], &m->x, #x, err));
#define F_I64(x)  GET(s_get_i64(&f[i++], &m->x, #x, err));
#define F_BOOL(x) GET(s_get_bool(&f[i++], &m->x, #x, err));
#define F_OU64(x) GET(s_get_ou64(&f[i++], &m->x, #x, err));
#define F_OI64(x) GET(s_get_oi64(&f[i++], &m->x, #x, err));
#define F_ENUM(x, e)                                                           \
    if (f[i].type != MSGPACK_OBJECT_STR)                                       \
        return s_bad(err, #x, "expected a string");                            \
    if (f[i].via.str.size > TW_PROTO_MAX_STR)                                  \
        return s_bad(err, #x, "string too long");                              \
    m->x = s_##e##_from(f[i].via.str.ptr, f[i].via.str.size);                  \
    i++;
#define F_STRS(x) GET(s_get_strs(&f[i++], &m->x, #x, err));
#define F_RECS(x, r)                                                           \
    GET(s_get_array(&f[i], #x, err));                                          \
    m->x.v = s_calloc(f[i].via.array.size, sizeof *m->x.v, err);               \
    if (!m->x.v)                                                               \
        return TW_ERR_NOMEM;                                                   \
    m->x.n = f[i].via.array.size;                                              \
    for (size_t k = 0; k < m->x.n; k++) {                                      \
        const msgpack_object *el = &f[i].via.array.ptr[k];                     \
        if (el->type != MSGPACK_OBJECT_ARRAY)                                  \
            return s_bad(err, #x, "expected an array per element");            \
        rc =                                                                   \
            s_dec_##r(el->via.array.ptr, el->via.array.size, &m->x.v[k], err); \
        if (rc != TW_OK)                                                       \
            return s_in_element(err, #x, k, rc);                               \
    }                                                                          \
    i++;
/* Decodes nf positional fields f into *m (zeroed by the caller); on error
 * *m may be partly filled and is freed by the caller. */
#define GEN(name, type, fields)                                                \
    static tw_rc_t s_dec_##name(const msgpack_object *f, uint32_t nf, type *m, \
                                tw_err_t *err)                                 \
    {                                                                          \
        tw_rc_t rc = TW_OK;                                                    \
        uint32_t i = 0;                                                        \
        if (nf < (uint32_t)s_nf_##name) {                                      \
            tw_err_set(err, "%s: %u fields, expected %d", #name, nf,           \
                       (int)s_nf_##name);                                      \
            return TW_ERR_PROTO;                                               \
        }                                                                      \
        fields(void) i;                                                        \
        return rc;                                                             \
    }
#define TW_REC(name, fields) GEN(name, tw_##name##_t, fields)
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    GEN(msg_##lower, tw_msg_##lower##_t, fields)
#include "messages.def"
#undef GEN
#undef TW_REC
#undef TW_MSG
#undef F_STR
#undef F_OSTR
#undef F_U32
#undef F_U64
#undef F_I64
#undef F_BOOL
#undef F_OU64
#undef F_OI64
#undef F_ENUM
#undef F_STRS
#undef F_RECS

/* Fills hdr from the first HDR_FIELDS elements of a frame's array. */
static tw_rc_t s_get_hdr(const msgpack_object *f, uint32_t nf,
                         tw_proto_hdr_t *hdr, tw_err_t *err)
{
    tw_rc_t rc = TW_OK;
    if (nf < HDR_FIELDS) {
        tw_err_set(err, "frame has %u elements, expected at least %d", nf,
                   HDR_FIELDS);
        return TW_ERR_PROTO;
    }
    GET(s_get_u32(&f[0], &hdr->version, "version", err));
    if (hdr->version != TW_PROTO_VERSION) {
        tw_err_set(err, "schema version %u, expected %d", hdr->version,
                   TW_PROTO_VERSION);
        return TW_ERR_PROTO;
    }
    GET(s_get_u32(&f[1], &hdr->id, "msg_id", err));
    if (f[2].type != MSGPACK_OBJECT_STR)
        return s_bad(err, "src", "expected a string");
    uint32_t n = f[2].via.str.size;
    if (n > TW_PROTO_SRC_MAX)
        return s_bad(err, "src", "string too long");
    if (n > 0 && memchr(f[2].via.str.ptr, '\0', n))
        return s_bad(err, "src", "string contains NUL");
    if (n > 0)
        memcpy(hdr->src, f[2].via.str.ptr, n);
    hdr->src[n] = '\0';
    GET(s_get_u64(&f[3], &hdr->epoch, "epoch", err));
    GET(s_get_u64(&f[4], &hdr->seq, "seq", err));
    return TW_OK;
}
#undef GET

/* Unpacks a scanned frame; the caller destroys *up. */
static tw_rc_t s_unpack(const void *buf, size_t len, msgpack_unpacked *up,
                        tw_err_t *err)
{
    msgpack_unpacked_init(up);
    if (!buf || len == 0 || !s_scan(buf, len)) {
        tw_err_set(err, "malformed or truncated msgpack frame");
        return TW_ERR_PROTO;
    }
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(up, buf, len, &off);
    if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
        tw_err_set(err, "malformed msgpack frame");
        return TW_ERR_PROTO;
    }
    if (up->data.type != MSGPACK_OBJECT_ARRAY) {
        tw_err_set(err, "frame is not an array");
        return TW_ERR_PROTO;
    }
    return TW_OK;
}

tw_rc_t tw_proto_peek(const void *buf, size_t len, tw_proto_hdr_t *hdr,
                      tw_err_t *err)
{
    assert(hdr);
    memset(hdr, 0, sizeof *hdr);
    msgpack_unpacked up;
    tw_rc_t rc = s_unpack(buf, len, &up, err);
    if (rc == TW_OK)
        rc = s_get_hdr(up.data.via.array.ptr, up.data.via.array.size, hdr, err);
    msgpack_unpacked_destroy(&up);
    return rc;
}

tw_rc_t tw_proto_decode(const void *buf, size_t len, tw_msg_t *msg,
                        tw_err_t *err)
{
    assert(msg);
    memset(msg, 0, sizeof *msg);
    msgpack_unpacked up;
    tw_rc_t rc = s_unpack(buf, len, &up, err);
    tw_proto_hdr_t hdr;
    memset(&hdr, 0, sizeof hdr);
    if (rc == TW_OK)
        rc =
            s_get_hdr(up.data.via.array.ptr, up.data.via.array.size, &hdr, err);
    if (rc != TW_OK) {
        msgpack_unpacked_destroy(&up);
        return rc;
    }
    const msgpack_object *f = up.data.via.array.ptr + HDR_FIELDS;
    uint32_t nf = up.data.via.array.size - HDR_FIELDS;
    msg->id = (tw_msg_id_t)hdr.id;
    memcpy(msg->src, hdr.src, sizeof msg->src);
    msg->epoch = hdr.epoch;
    msg->seq = hdr.seq;
    switch (hdr.id) {
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    case TW_MSG_##upper:                                                       \
        rc = s_dec_msg_##lower(f, nf, &msg->u.lower, err);                     \
        break;
#include "messages.def"
#undef TW_MSG
    default:
        tw_err_set(err, "unknown message id %u", hdr.id);
        msg->id = TW_MSG_NONE;
        rc = TW_ERR_PROTO;
        break;
    }
    msgpack_unpacked_destroy(&up);
    if (rc != TW_OK) {
        if (rc == TW_ERR_PROTO && hdr.id != TW_MSG_NONE) {
            /* Prefix the message name to the field detail. */
            const char *name = tw_proto_name((tw_msg_id_t)hdr.id);
            if (name && err) {
                char detail[sizeof err->msg];
                memcpy(detail, err->msg, sizeof detail);
                tw_err_set(err, "%s: %s", name, detail);
            }
        }
        tw_proto_clear(msg);
    }
    return rc;
}

/* Skips a msgpack unsigned integer at p[*pos]. */
static bool s_skip_uint(const uint8_t *p, size_t len, size_t *pos)
{
    if (*pos >= len)
        return false;
    uint8_t b = p[(*pos)++];
    size_t k = 0;
    if (b <= 0x7f)
        k = 0;
    else if (b == 0xcc)
        k = 1;
    else if (b == 0xcd)
        k = 2;
    else if (b == 0xce)
        k = 4;
    else if (b == 0xcf)
        k = 8;
    else
        return false;
    if (k > len - *pos)
        return false;
    *pos += k;
    return true;
}

/* Writes v as the 8 bytes after a 0xcf marker at p[pos]. */
static void s_patch_u64(uint8_t *p, size_t pos, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[pos + 1 + (size_t)i] = (uint8_t)(v >> (56 - 8 * i));
}

tw_rc_t tw_proto_restamp(void *buf, size_t len, uint64_t epoch, uint64_t seq)
{
    assert(buf);
    uint8_t *p = buf;
    size_t pos = 0;
    uint64_t n = 0;
    if (len < 1)
        return TW_ERR_PROTO;
    uint8_t b = p[pos++];
    bool ok = true;
    if (b == 0xdc)
        ok = s_be(p, len, &pos, 2, &n);
    else if (b == 0xdd)
        ok = s_be(p, len, &pos, 4, &n);
    else if (b < 0x90 || b > 0x9f)
        ok = false;
    ok = ok && s_skip_uint(p, len, &pos) && s_skip_uint(p, len, &pos);
    if (!ok || pos >= len)
        return TW_ERR_PROTO;
    b = p[pos++];
    uint64_t slen = 0;
    if (b >= 0xa0 && b <= 0xbf)
        slen = b & 0x1fu;
    else if (b == 0xd9)
        ok = s_be(p, len, &pos, 1, &slen);
    else if (b == 0xda)
        ok = s_be(p, len, &pos, 2, &slen);
    else
        ok = false;
    if (!ok || slen > len - pos)
        return TW_ERR_PROTO;
    pos += (size_t)slen;
    /* epoch and seq as written by msgpack_pack_fix_uint64: 0xcf + 8 bytes. */
    if (18 > len - pos || p[pos] != 0xcf || p[pos + 9] != 0xcf)
        return TW_ERR_PROTO;
    s_patch_u64(p, pos, epoch);
    s_patch_u64(p, pos + 9, seq);
    return TW_OK;
}

tw_chat_item_t tw_proto_chat_item(const tw_tok_item_t *t)
{
    assert(t);
    return (tw_chat_item_t){
        .id = t->id,
        .kind = t->kind,
        .published_usec = t->published_usec,
        .received_usec = t->received_usec,
        .author_channel_id = t->author_channel_id,
        .author_name = t->author_name,
        .amount = t->amount,
        .currency = t->currency,
        .text = t->text,
        .ref_id = t->ref_id,
        .replaces = t->replaces,
    };
}
