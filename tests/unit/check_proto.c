/* Unit tests of tw_proto: table-driven round trip of every message in
 * messages.def, and strict rejection of malformed frames. */
#include <check.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_proto.h"

/* ---- sample filling, expanded from the table ---- */

static int s_ctr;

static char *s_mkstr(const char *field)
{
    char b[96];
    snprintf(b, sizeof b, "%s-%d-\xc3\xbc\t\"x\"", field, ++s_ctr);
    char *s = strdup(b);
    ck_assert_ptr_nonnull(s);
    return s;
}

static void *s_mkarr(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* full: every optional set and arrays filled; else optionals absent and
 * arrays empty. */
#define F_STR(x)  m->x = s_mkstr(#x);
#define F_OSTR(x) m->x = full ? s_mkstr(#x) : NULL;
#define F_U32(x)  m->x = 4000000000u - (uint32_t)++s_ctr;
#define F_U64(x)  m->x = UINT64_MAX - (uint64_t)++s_ctr;
#define F_I64(x)                                                               \
    m->x = (++s_ctr % 2) ? -1234567890123LL - s_ctr : INT64_MAX - s_ctr;
#define F_BOOL(x) m->x = full;
#define F_OU64(x)                                                              \
    m->x.set = full;                                                           \
    m->x.v = full ? (uint64_t)1 << 40 | (uint64_t)++s_ctr : 0;
#define F_OI64(x)                                                              \
    m->x.set = full;                                                           \
    m->x.v = full ? -(int64_t)++s_ctr : 0;
#define F_ENUM(x, e) m->x = (tw_##e##_t)(full ? 1 : 0);
#define F_STRS(x)                                                              \
    m->x.n = full ? 3 : 0;                                                     \
    m->x.v = s_mkarr(m->x.n, sizeof *m->x.v);                                  \
    for (size_t k = 0; k < m->x.n; k++)                                        \
        m->x.v[k] = s_mkstr(#x);
#define F_RECS(x, r)                                                           \
    m->x.n = full ? 2 : 0;                                                     \
    m->x.v = s_mkarr(m->x.n, sizeof *m->x.v);                                  \
    for (size_t k = 0; k < m->x.n; k++)                                        \
        s_fill_##r(&m->x.v[k], full);
#define TW_REC(name, fields)                                                   \
    static void s_fill_##name(tw_##name##_t *m, bool full)                     \
    {                                                                          \
        (void)full;                                                            \
        fields                                                                 \
    }
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    static void s_fill_msg_##lower(tw_msg_##lower##_t *m, bool full)           \
    {                                                                          \
        (void)full;                                                            \
        fields                                                                 \
    }
#include "messages.def"
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

/* Fills msg as a sample of type id. */
static void s_fill(tw_msg_t *msg, tw_msg_id_t id, bool full)
{
    memset(msg, 0, sizeof *msg);
    msg->id = id;
    snprintf(msg->src, sizeof msg->src, "chat@dQw4w9WgXcQ");
    msg->epoch = 1700000000123456ULL;
    msg->seq = (uint64_t)++s_ctr;
    switch (id) {
#define TW_MSG(upper, lower, wire, id, fields)                                 \
    case TW_MSG_##upper:                                                       \
        s_fill_msg_##lower(&msg->u.lower, full);                               \
        break;
#include "messages.def"
#undef TW_MSG
    default:
        ck_abort_msg("unknown id %d", (int)id);
    }
}

static void s_roundtrip(tw_msg_id_t id, bool full)
{
    tw_msg_t in, out;
    s_fill(&in, id, full);
    char *buf = NULL;
    size_t len = 0;
    tw_err_t err;
    tw_rc_t rc = tw_proto_encode(&in, &buf, &len, &err);
    ck_assert_msg(rc == TW_OK, "%s: encode: %s", tw_proto_name(id), err.msg);
    rc = tw_proto_decode(buf, len, &out, &err);
    ck_assert_msg(rc == TW_OK, "%s: decode: %s", tw_proto_name(id), err.msg);
    ck_assert_msg(tw_proto_equal(&in, &out), "%s differs after round trip",
                  tw_proto_name(id));
    /* Encoding the decoded copy gives the same bytes. */
    char *buf2 = NULL;
    size_t len2 = 0;
    ck_assert_int_eq(tw_proto_encode(&out, &buf2, &len2, NULL), TW_OK);
    ck_assert_uint_eq(len, len2);
    ck_assert_int_eq(memcmp(buf, buf2, len), 0);
    /* Every strict prefix is rejected, never a crash. */
    for (size_t cut = 0; cut < len; cut++) {
        tw_msg_t t;
        ck_assert_int_eq(tw_proto_decode(buf, cut, &t, NULL), TW_ERR_PROTO);
    }
    free(buf2);
    free(buf);
    tw_proto_clear(&in);
    tw_proto_clear(&out);
}

START_TEST(test_roundtrip_every_message)
{
    ck_assert_uint_gt(tw_proto_count(), 0);
    for (size_t i = 0; i < tw_proto_count(); i++) {
        tw_msg_id_t id = tw_proto_id_at(i);
        s_roundtrip(id, true);
        s_roundtrip(id, false);
    }
}
END_TEST

START_TEST(test_name_table)
{
    for (size_t i = 0; i < tw_proto_count(); i++) {
        tw_msg_id_t id = tw_proto_id_at(i);
        ck_assert_int_ne(id, TW_MSG_NONE);
        const char *name = tw_proto_name(id);
        ck_assert_ptr_nonnull(name);
        ck_assert_int_eq(tw_proto_id(name), id);
        for (size_t j = 0; j < i; j++)
            ck_assert_int_ne(tw_proto_id_at(j), id);
    }
    ck_assert_str_eq(tw_proto_name(TW_MSG_CHAT_BATCH), "chat.batch");
    ck_assert_int_eq(tw_proto_id("stats.sample"), TW_MSG_STATS_SAMPLE);
    ck_assert_int_eq(tw_proto_id("no.such"), TW_MSG_NONE);
    ck_assert_ptr_null(tw_proto_name((tw_msg_id_t)9999));
    ck_assert_str_eq(tw_proto_stream_state_str(TW_STREAM_STATE_MEMBERS_ONLY),
                     "members_only");
    ck_assert_int_eq(tw_proto_stream_state_parse("live"), TW_STREAM_STATE_LIVE);
    ck_assert_int_eq(tw_proto_stream_state_parse("bogus"),
                     TW_STREAM_STATE_UNKNOWN);
    ck_assert_int_eq(tw_proto_chat_kind_parse("superchat"),
                     TW_CHAT_KIND_SUPERCHAT);
    ck_assert_int_eq(tw_proto_chat_kind_parse(NULL), TW_CHAT_KIND_OTHER);
    ck_assert_str_eq(tw_proto_chat_kind_str((tw_chat_kind_t)77), "other");
}
END_TEST

START_TEST(test_stats_absent_is_not_zero)
{
    tw_msg_t in = {.id = TW_MSG_STATS_SAMPLE, .src = "stats", .seq = 7};
    tw_msg_stats_sample_t *s = &in.u.stats_sample;
    s->video_id = "v";
    s->channel_id = "c";
    s->title = "t";
    s->sampled_at_us = 1;
    s->views = (tw_ou64_t){.set = true, .v = 0};
    s->concurrent_viewers = (tw_ou64_t){.set = true, .v = 12};
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_proto_encode(&in, &buf, &len, NULL), TW_OK);
    /* likes, favorites, comments travel as nil (0xc0) at the end. */
    ck_assert_uint_gt(len, 3);
    ck_assert_int_eq((unsigned char)buf[len - 1], 0xc0);
    ck_assert_int_eq((unsigned char)buf[len - 2], 0xc0);
    ck_assert_int_eq((unsigned char)buf[len - 3], 0xc0);
    tw_msg_t out;
    ck_assert_int_eq(tw_proto_decode(buf, len, &out, NULL), TW_OK);
    ck_assert(out.u.stats_sample.views.set);
    ck_assert_uint_eq(out.u.stats_sample.views.v, 0);
    ck_assert(!out.u.stats_sample.likes.set);
    ck_assert_uint_eq(out.u.stats_sample.concurrent_viewers.v, 12);
    ck_assert_str_eq(out.src, "stats");
    ck_assert_uint_eq(out.seq, 7);
    tw_proto_clear(&out);
    free(buf);
}
END_TEST

START_TEST(test_peek_and_restamp)
{
    tw_msg_t in;
    s_fill(&in, TW_MSG_CHAT_BATCH, true);
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_proto_encode(&in, &buf, &len, NULL), TW_OK);
    tw_proto_hdr_t h;
    ck_assert_int_eq(tw_proto_peek(buf, len, &h, NULL), TW_OK);
    ck_assert_uint_eq(h.version, TW_PROTO_VERSION);
    ck_assert_uint_eq(h.id, TW_MSG_CHAT_BATCH);
    ck_assert_str_eq(h.src, "chat@dQw4w9WgXcQ");
    ck_assert_uint_eq(h.seq, in.seq);
    ck_assert_int_eq(tw_proto_restamp(buf, len, 42, UINT64_MAX), TW_OK);
    tw_msg_t out;
    ck_assert_int_eq(tw_proto_decode(buf, len, &out, NULL), TW_OK);
    ck_assert_uint_eq(out.epoch, 42);
    ck_assert_uint_eq(out.seq, UINT64_MAX);
    in.epoch = 42;
    in.seq = UINT64_MAX;
    ck_assert(tw_proto_equal(&in, &out));
    /* Equality looks into nested records. */
    char *keep = out.u.chat_batch.items.v[1].text;
    out.u.chat_batch.items.v[1].text = "changed";
    ck_assert(!tw_proto_equal(&in, &out));
    out.u.chat_batch.items.v[1].text = keep;
    out.u.chat_batch.items.v[0].kind = TW_CHAT_KIND_GIFT;
    ck_assert(!tw_proto_equal(&in, &out));
    ck_assert_int_eq(tw_proto_restamp(buf, 10, 1, 1), TW_ERR_PROTO);
    ck_assert_int_eq(tw_proto_peek(buf, len - 1, &h, NULL), TW_ERR_PROTO);
    tw_proto_clear(&out);
    tw_proto_clear(&in);
    free(buf);
}
END_TEST

/* ---- hand-made frames ---- */

typedef struct {
    msgpack_sbuffer sb; /* output */
    msgpack_packer pk;  /* packer writing into sb */
} s_frame_t;

static void s_frame_init(s_frame_t *f, uint32_t nelem, uint32_t version,
                         uint32_t id)
{
    msgpack_sbuffer_init(&f->sb);
    msgpack_packer_init(&f->pk, &f->sb, msgpack_sbuffer_write);
    msgpack_pack_array(&f->pk, nelem);
    msgpack_pack_uint32(&f->pk, version);
    msgpack_pack_uint32(&f->pk, id);
    msgpack_pack_str_with_body(&f->pk, "w", 1);
    msgpack_pack_uint64(&f->pk, 1);
    msgpack_pack_uint64(&f->pk, 2);
}

static tw_rc_t s_frame_decode(s_frame_t *f, tw_msg_t *out, tw_err_t *err)
{
    tw_rc_t rc = tw_proto_decode(f->sb.data, f->sb.size, out, err);
    msgpack_sbuffer_destroy(&f->sb);
    return rc;
}

START_TEST(test_hello_extra_fields_ignored)
{
    s_frame_t f;
    s_frame_init(&f, 9, TW_PROTO_VERSION, TW_MSG_HELLO);
    msgpack_pack_str_with_body(&f.pk, "scanner", 7);
    msgpack_pack_uint32(&f.pk, 4242);
    msgpack_pack_str_with_body(&f.pk, "future", 6);
    msgpack_pack_map(&f.pk, 0);
    tw_msg_t out;
    tw_err_t err;
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_OK);
    ck_assert_int_eq(out.id, TW_MSG_HELLO);
    ck_assert_str_eq(out.u.hello.kind, "scanner");
    ck_assert_uint_eq(out.u.hello.pid, 4242);
    ck_assert_uint_eq(out.epoch, 1);
    ck_assert_uint_eq(out.seq, 2);
    tw_proto_clear(&out);
}
END_TEST

START_TEST(test_record_extra_fields_and_unknown_enum)
{
    s_frame_t f;
    s_frame_init(&f, 8, TW_PROTO_VERSION, TW_MSG_CHAT_BATCH);
    msgpack_pack_str_with_body(&f.pk, "vid", 3);
    msgpack_pack_str_with_body(&f.pk, "chan", 4);
    msgpack_pack_array(&f.pk, 1);
    msgpack_pack_array(&f.pk, 11);
    msgpack_pack_str_with_body(&f.pk, "id1", 3);
    msgpack_pack_str_with_body(&f.pk, "poll", 4); /* a kind added later */
    msgpack_pack_int64(&f.pk, -5);
    msgpack_pack_int64(&f.pk, 6);
    for (int k = 0; k < 6; k++)
        msgpack_pack_str_with_body(&f.pk, "s", 1);
    msgpack_pack_true(&f.pk); /* extra record field */
    tw_msg_t out;
    tw_err_t err;
    tw_rc_t rc = s_frame_decode(&f, &out, &err);
    ck_assert_msg(rc == TW_OK, "%s", err.msg);
    ck_assert_uint_eq(out.u.chat_batch.items.n, 1);
    tw_chat_item_t *it = &out.u.chat_batch.items.v[0];
    ck_assert_str_eq(it->id, "id1");
    ck_assert_int_eq(it->kind, TW_CHAT_KIND_OTHER);
    ck_assert_int_eq(it->published_usec, -5);
    ck_assert_int_eq(it->received_usec, 6);
    ck_assert_str_eq(it->ref_id, "s");
    tw_proto_clear(&out);
}
END_TEST

START_TEST(test_reject_wrong_version)
{
    s_frame_t f;
    s_frame_init(&f, 7, TW_PROTO_VERSION + 1, TW_MSG_HELLO);
    msgpack_pack_str_with_body(&f.pk, "k", 1);
    msgpack_pack_uint32(&f.pk, 1);
    tw_msg_t out;
    tw_err_t err;
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "version"));
}
END_TEST

START_TEST(test_reject_unknown_id)
{
    s_frame_t f;
    s_frame_init(&f, 7, TW_PROTO_VERSION, 60000);
    msgpack_pack_str_with_body(&f.pk, "k", 1);
    msgpack_pack_uint32(&f.pk, 1);
    tw_msg_t out;
    tw_err_t err;
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown"));
    ck_assert_int_eq(out.id, TW_MSG_NONE);
}
END_TEST

START_TEST(test_reject_wrong_field_type)
{
    s_frame_t f;
    s_frame_init(&f, 7, TW_PROTO_VERSION, TW_MSG_HELLO);
    msgpack_pack_str_with_body(&f.pk, "k", 1);
    msgpack_pack_str_with_body(&f.pk, "12", 2); /* pid as a string */
    tw_msg_t out;
    tw_err_t err;
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "hello"));
    ck_assert_ptr_nonnull(strstr(err.msg, "pid"));

    /* A negative number where an unsigned one is required. */
    s_frame_init(&f, 6, TW_PROTO_VERSION, TW_MSG_STOP);
    msgpack_pack_int64(&f.pk, -1);
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);

    /* u32 out of range. */
    s_frame_init(&f, 6, TW_PROTO_VERSION, TW_MSG_STOP);
    msgpack_pack_uint64(&f.pk, (uint64_t)UINT32_MAX + 1);
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);

    /* nil for a required field. */
    s_frame_init(&f, 7, TW_PROTO_VERSION, TW_MSG_HELLO);
    msgpack_pack_nil(&f.pk);
    msgpack_pack_uint32(&f.pk, 1);
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);

    /* Not an array at all. */
    msgpack_sbuffer_init(&f.sb);
    msgpack_packer_init(&f.pk, &f.sb, msgpack_sbuffer_write);
    msgpack_pack_map(&f.pk, 0);
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);

    /* Items that are not arrays; a string with a NUL. */
    s_frame_init(&f, 8, TW_PROTO_VERSION, TW_MSG_CHAT_BATCH);
    msgpack_pack_str_with_body(&f.pk, "v", 1);
    msgpack_pack_str_with_body(&f.pk, "c", 1);
    msgpack_pack_array(&f.pk, 1);
    msgpack_pack_uint32(&f.pk, 1);
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);

    /* The detail names the element of a bad record. */
    s_frame_init(&f, 8, TW_PROTO_VERSION, TW_MSG_CHAT_TOKENIZED);
    msgpack_pack_str_with_body(&f.pk, "v", 1);
    msgpack_pack_str_with_body(&f.pk, "c", 1);
    msgpack_pack_array(&f.pk, 2);
    for (int e = 0; e < 2; e++) {
        msgpack_pack_array(&f.pk, 12);
        msgpack_pack_str_with_body(&f.pk, "id", 2);
        msgpack_pack_str_with_body(&f.pk, "text", 4);
        msgpack_pack_int64(&f.pk, 1);
        msgpack_pack_int64(&f.pk, 2);
        for (int k = 0; k < 6; k++)
            msgpack_pack_str_with_body(&f.pk, "s", 1);
        msgpack_pack_false(&f.pk); /* replaces */
        msgpack_pack_array(&f.pk, 1);
        if (e == 0)
            msgpack_pack_str_with_body(&f.pk, "tok", 3);
        else
            msgpack_pack_int64(&f.pk, 5);
    }
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);
    ck_assert_str_eq(err.msg,
                     "chat.tokenized: items[1]: field tokens: expected a "
                     "string");
    s_frame_init(&f, 7, TW_PROTO_VERSION, TW_MSG_HELLO);
    msgpack_pack_str_with_body(&f.pk, "a\0b", 3);
    msgpack_pack_uint32(&f.pk, 1);
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);
}
END_TEST

START_TEST(test_reject_too_few_fields)
{
    s_frame_t f;
    s_frame_init(&f, 6, TW_PROTO_VERSION, TW_MSG_HELLO);
    msgpack_pack_str_with_body(&f.pk, "k", 1);
    tw_msg_t out;
    tw_err_t err;
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);

    /* Envelope only, or less. */
    static const unsigned char short_env[] = {0x93, 0x01, 0x08, 0xa1, 'w'};
    ck_assert_int_eq(
        tw_proto_decode(short_env, sizeof short_env - 2, &out, NULL),
        TW_ERR_PROTO);
    ck_assert_int_eq(tw_proto_decode(short_env, sizeof short_env, &out, NULL),
                     TW_ERR_PROTO);
    ck_assert_int_eq(tw_proto_decode("", 0, &out, NULL), TW_ERR_PROTO);
}
END_TEST

START_TEST(test_reject_trailing_bytes)
{
    tw_msg_t in = {.id = TW_MSG_STOP, .src = "sup"};
    in.u.stop.grace_ms = 5;
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_proto_encode(&in, &buf, &len, NULL), TW_OK);
    char *more = malloc(len + 1);
    ck_assert_ptr_nonnull(more);
    memcpy(more, buf, len);
    more[len] = 0x01;
    tw_msg_t out;
    ck_assert_int_eq(tw_proto_decode(more, len + 1, &out, NULL), TW_ERR_PROTO);
    free(more);
    free(buf);
}
END_TEST

START_TEST(test_reject_oversized)
{
    size_t big = TW_PROTO_MAX_STR + 1;
    char *s = malloc(big + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, 'a', big);
    s[big] = '\0';

    s_frame_t f;
    s_frame_init(&f, 7, TW_PROTO_VERSION, TW_MSG_HELLO);
    msgpack_pack_str_with_body(&f.pk, s, big);
    msgpack_pack_uint32(&f.pk, 1);
    tw_msg_t out;
    tw_err_t err;
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);

    /* The encoder refuses what the decoder would reject. */
    tw_msg_t in = {.id = TW_MSG_HELLO, .src = "x"};
    in.u.hello.kind = s;
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_proto_encode(&in, &buf, &len, &err), TW_ERR_TOOBIG);
    ck_assert_ptr_null(buf);
    s[big - 1] = '\0';
    ck_assert_int_eq(tw_proto_encode(&in, &buf, &len, &err), TW_OK);
    free(buf);
    free(s);

    /* An array one over the limit. */
    s_frame_init(&f, 8, TW_PROTO_VERSION, TW_MSG_CHAT_BATCH);
    msgpack_pack_str_with_body(&f.pk, "v", 1);
    msgpack_pack_str_with_body(&f.pk, "c", 1);
    msgpack_pack_array(&f.pk, TW_PROTO_MAX_ARRAY + 1);
    for (int k = 0; k < TW_PROTO_MAX_ARRAY + 1; k++)
        msgpack_pack_nil(&f.pk);
    ck_assert_int_eq(s_frame_decode(&f, &out, &err), TW_ERR_PROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "items"));

    /* A header that claims 4 billion elements. */
    static const unsigned char huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
    ck_assert_int_eq(tw_proto_decode(huge, sizeof huge, &out, NULL),
                     TW_ERR_PROTO);
    static const unsigned char hugestr[] = {0x96, 0x01, 0x08, 0xdb, 0xff,
                                            0xff, 0xff, 0xff, 0x00};
    ck_assert_int_eq(tw_proto_decode(hugestr, sizeof hugestr, &out, NULL),
                     TW_ERR_PROTO);
}
END_TEST

START_TEST(test_reject_deep_nesting)
{
    enum { depth = 5000 };
    unsigned char *b = malloc(depth + 1);
    ck_assert_ptr_nonnull(b);
    memset(b, 0x91, depth);
    b[depth] = 0xc0;
    tw_msg_t out;
    ck_assert_int_eq(tw_proto_decode(b, depth + 1, &out, NULL), TW_ERR_PROTO);
    free(b);
}
END_TEST

START_TEST(test_chat_item_of_tokenized)
{
    tw_tok_item_t t;
    memset(&t, 0, sizeof t);
    t.id = "id1";
    t.kind = TW_CHAT_KIND_JEWELS;
    t.published_usec = 11;
    t.received_usec = 22;
    t.author_channel_id = "UCx";
    t.author_name = "name";
    t.amount = "5";
    t.currency = "JWL";
    t.text = "text";
    t.ref_id = "ref";
    t.replaces = true;
    tw_chat_item_t c = tw_proto_chat_item(&t);
    ck_assert_ptr_eq(c.id, t.id);
    ck_assert_int_eq(c.kind, TW_CHAT_KIND_JEWELS);
    ck_assert_int_eq(c.published_usec, 11);
    ck_assert_int_eq(c.received_usec, 22);
    ck_assert_ptr_eq(c.author_channel_id, t.author_channel_id);
    ck_assert_ptr_eq(c.author_name, t.author_name);
    ck_assert_ptr_eq(c.amount, t.amount);
    ck_assert_ptr_eq(c.currency, t.currency);
    ck_assert_ptr_eq(c.text, t.text);
    ck_assert_ptr_eq(c.ref_id, t.ref_id);
    ck_assert(c.replaces);
}
END_TEST

Suite *proto_suite(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_roundtrip_every_message);
    tcase_add_test(tc, test_name_table);
    tcase_add_test(tc, test_stats_absent_is_not_zero);
    tcase_add_test(tc, test_peek_and_restamp);
    tcase_add_test(tc, test_hello_extra_fields_ignored);
    tcase_add_test(tc, test_record_extra_fields_and_unknown_enum);
    suite_add_tcase(s, tc);
    tc = tcase_create("reject");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_reject_wrong_version);
    tcase_add_test(tc, test_reject_unknown_id);
    tcase_add_test(tc, test_reject_wrong_field_type);
    tcase_add_test(tc, test_reject_too_few_fields);
    tcase_add_test(tc, test_reject_trailing_bytes);
    tcase_add_test(tc, test_reject_oversized);
    tcase_add_test(tc, test_reject_deep_nesting);
    tcase_add_test(tc, test_chat_item_of_tokenized);
    suite_add_tcase(s, tc);
    return s;
}
