/* tw_proto - message types, structs and the msgpack codec, all expanded from
 * messages.def (STYLE section 6, docs/protocol.md).
 *
 * Wire: one ZMQ frame = one msgpack array
 *   [schema_version, msg_id, src, epoch, seq, fields...]
 * positional, decoded strictly against the table; extra trailing fields (of
 * messages and of nested records) are ignored for forward compatibility. */
#ifndef TW_PROTO_H
#define TW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* Schema version, first element of every frame; bump on any incompatible
 * change. Frames of another version are rejected. */
#define TW_PROTO_VERSION 4
/* Longest string a decoder accepts, in bytes. */
#define TW_PROTO_MAX_STR 65536
/* Most elements an array field (items, tokens) may hold when decoded. */
#define TW_PROTO_MAX_ARRAY 10000
/* Longest src (a ZMQ routing id is at most 255 bytes). */
#define TW_PROTO_SRC_MAX 255

/* Optional unsigned integer: absent is not 0. */
typedef struct {
    bool set;   /* false: absent (nil on the wire) */
    uint64_t v; /* the value when set */
} tw_ou64_t;

/* Optional signed integer: absent is not 0. */
typedef struct {
    bool set;  /* false: absent (nil on the wire) */
    int64_t v; /* the value when set */
} tw_oi64_t;

/* Array of strings. */
typedef struct {
    char **v; /* n strings */
    size_t n; /* number of strings */
} tw_strs_t;

/* Enums: tw_<name>_t with constants TW_<CONST> (messages.def). */
#define E(cname, wire)        TW_##cname,
#define TW_ENUM(name, values) typedef enum { values } tw_##name##_t;
#include "messages.def"
#undef TW_ENUM
#undef E

/* Nested records: tw_<name>_t and tw_<name>_list_t. */
#define F_STR(n)     char *n;
#define F_OSTR(n)    char *n;
#define F_U32(n)     uint32_t n;
#define F_U64(n)     uint64_t n;
#define F_I64(n)     int64_t n;
#define F_BOOL(n)    bool n;
#define F_OU64(n)    tw_ou64_t n;
#define F_OI64(n)    tw_oi64_t n;
#define F_ENUM(n, e) tw_##e##_t n;
#define F_STRS(n)    tw_strs_t n;
#define F_RECS(n, r) tw_##r##_list_t n;
#define TW_REC(name, fields)                                                   \
    typedef struct {                                                           \
        fields                                                                 \
    } tw_##name##_t;                                                           \
    typedef struct {                                                           \
        tw_##name##_t *v;                                                      \
        size_t n;                                                              \
    } tw_##name##_list_t;
#include "messages.def"
#undef TW_REC

/* Message bodies: tw_msg_<lower>_t (field meanings: messages.def). */
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    typedef struct {                                                           \
        fields                                                                 \
    } tw_msg_##lower##_t;
#include "messages.def"
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

/* Message type ids (TW_MSG_<UPPER>); 0 is never a valid id. */
typedef enum {
    TW_MSG_NONE = 0, /* no message / unknown */
#define TW_MSG(upper, lower, wire, id, fields) TW_MSG_##upper = id,
#include "messages.def"
#undef TW_MSG
} tw_msg_id_t;

/* A message: envelope plus the body selected by id. A message filled by
 * tw_proto_decode owns its strings and arrays (free with tw_proto_clear);
 * one you fill yourself for tw_proto_encode stays yours. */
typedef struct {
    tw_msg_id_t id;                 /* message type, selects u */
    char src[TW_PROTO_SRC_MAX + 1]; /* sender's stable name (routing id) */
    uint64_t epoch;                 /* sender's incarnation number */
    uint64_t seq;                   /* per (src, epoch) counter; 0 = none */
    union {
#define TW_MSG(upper, lower, wire, id, fields) tw_msg_##lower##_t lower;
#include "messages.def"
#undef TW_MSG
    } u; /* body: u.<lower> for id TW_MSG_<UPPER> */
} tw_msg_t;

/* Envelope of a frame, without the body. */
typedef struct {
    uint32_t version;               /* schema version (TW_PROTO_VERSION) */
    uint32_t id;                    /* message id as on the wire */
    char src[TW_PROTO_SRC_MAX + 1]; /* sender's name */
    uint64_t epoch;                 /* sender's incarnation */
    uint64_t seq;                   /* sender's sequence number */
} tw_proto_hdr_t;

/* Returns the wire name of id ("chat.batch"), or NULL when unknown. */
const char *tw_proto_name(tw_msg_id_t id);
/* The chat item a tokenized item carries (tw_tok_item_t starts with the
 * fields of tw_chat_item_t; its strings are borrowed from t). */
tw_chat_item_t tw_proto_chat_item(const tw_tok_item_t *t);
/* Returns the id of a wire name, or TW_MSG_NONE when unknown. */
tw_msg_id_t tw_proto_id(const char *name);
/* Returns the number of message types in the table. */
size_t tw_proto_count(void);
/* Returns the i-th (0-based, table order) message id, i < tw_proto_count. */
tw_msg_id_t tw_proto_id_at(size_t i);

/* Encodes msg into a new buffer (*buf, *len; caller frees with free()).
 * Fails with TW_ERR_INVALID on an unknown id or a src longer than
 * TW_PROTO_SRC_MAX, TW_ERR_TOOBIG when a string or array exceeds the
 * decoding limits (the peer would reject it). epoch and seq are always
 * encoded as 9-byte integers so tw_proto_restamp can patch them. */
tw_rc_t tw_proto_encode(const tw_msg_t *msg, char **buf, size_t *len,
                        tw_err_t *err);
/* Decodes one frame into *msg (zeroed first). Returns TW_ERR_PROTO on any
 * malformed, truncated, oversized or unknown frame; *msg then owns nothing.
 * On success free *msg with tw_proto_clear. */
tw_rc_t tw_proto_decode(const void *buf, size_t len, tw_msg_t *msg,
                        tw_err_t *err);
/* Decodes only the envelope of a frame; TW_ERR_PROTO when malformed. The
 * body is not checked: a frame may pass here and fail tw_proto_decode. */
tw_rc_t tw_proto_peek(const void *buf, size_t len, tw_proto_hdr_t *hdr,
                      tw_err_t *err);
/* Rewrites epoch and seq in place in a frame made by tw_proto_encode.
 * Returns TW_ERR_PROTO when the frame does not have that layout. */
tw_rc_t tw_proto_restamp(void *buf, size_t len, uint64_t epoch, uint64_t seq);
/* Frees what msg owns (after tw_proto_decode) and zeroes it; NULL-safe. */
void tw_proto_clear(tw_msg_t *msg);
/* Returns true when a and b have the same id, envelope and body. */
bool tw_proto_equal(const tw_msg_t *a, const tw_msg_t *b);

/* For every enum E in messages.def:
 *   const char *tw_proto_E_str(tw_E_t v): the wire string of v (never NULL;
 *     an out-of-range v gives the first value's string);
 *   tw_E_t tw_proto_E_parse(const char *s): the value of a wire string; an
 *     unknown or NULL s gives the first value (..._UNKNOWN, ..._OTHER). */
#define TW_ENUM(name, values)                                                  \
    const char *tw_proto_##name##_str(tw_##name##_t v);                        \
    tw_##name##_t tw_proto_##name##_parse(const char *s);
#include "messages.def"
#undef TW_ENUM

#endif
