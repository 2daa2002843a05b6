/* tw_worker - a worker's side of the supervisor protocol (env, HELLO,
 * heartbeats, STOP, spawn.request, stream.event). */
#define _GNU_SOURCE
#include "tw_worker.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "tw_log.h"

/* Wire format until proto/ lands: one frame = msgpack array
 * [version, type, src, epoch, seq, fields...]. */
#define WMSG_VERSION 1

struct tw_worker {
    tw_cfg_t *cfg;                       /* loaded config (owned) */
    const tw_cfg_worker_t *section;      /* [worker.NAME] or NULL */
    char name[TW_WORKER_NAME_MAX];       /* TUBEWATCH_WORKER */
    char instance[TW_WORKER_INSTANCE_MAX]; /* TUBEWATCH_INSTANCE */
    uint64_t epoch;                      /* TUBEWATCH_EPOCH */
    char kind[32];                       /* worker kind */
    void *zctx;                          /* ZeroMQ context (owned) */
    void *sup;                           /* DEALER to tubewatchd (owned) */
    int sigfd;                           /* signalfd for TERM/INT */
    bool stopping;                       /* stop requested */
    uint64_t seq;                        /* next message seq */
    uint64_t msgs_in;                    /* counters for heartbeats */
    uint64_t msgs_out;                   /* counters for heartbeats */
    uint64_t errors;                     /* counters for heartbeats */
    int64_t hb_interval_ms;              /* heartbeat period */
    int64_t next_hb_ms;                  /* monotonic time of next one */
};

static const char *const s_names[] = {
    [TW_WMSG_HELLO] = "hello",
    [TW_WMSG_HEARTBEAT] = "heartbeat",
    [TW_WMSG_STOP] = "stop",
    [TW_WMSG_SPAWN_REQUEST] = "spawn.request",
    [TW_WMSG_STREAM_EVENT] = "stream.event",
    [TW_WMSG_WORKER_EVENT] = "worker.event",
};

const char *tw_wmsg_name(tw_wmsg_type_t type)
{
    if ((size_t)type < sizeof s_names / sizeof s_names[0] && s_names[type])
        return s_names[type];
    return "unknown";
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool tw_worker_valid_instance(const char *id)
{
    if (!id)
        return false;
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok || n + 1 >= TW_WORKER_INSTANCE_MAX)
            return false;
    }
    return n > 0;
}

/* ---- encoding ---- */

static void s_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

size_t tw_wmsg_encode(const tw_wmsg_t *msg, void *buf, size_t cap)
{
    assert(msg);
    assert(buf);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    size_t nfields = 0;
    switch (msg->type) {
    case TW_WMSG_HELLO:
        nfields = 2;
        break;
    case TW_WMSG_HEARTBEAT:
        nfields = 4;
        break;
    case TW_WMSG_STOP:
        nfields = 1;
        break;
    case TW_WMSG_SPAWN_REQUEST:
        nfields = 3;
        break;
    case TW_WMSG_STREAM_EVENT:
        nfields = 7;
        break;
    case TW_WMSG_WORKER_EVENT:
        nfields = 3;
        break;
    }
    msgpack_pack_array(&pk, 5 + nfields);
    msgpack_pack_uint32(&pk, WMSG_VERSION);
    msgpack_pack_uint32(&pk, (uint32_t)msg->type);
    s_pack_str(&pk, msg->src);
    msgpack_pack_uint64(&pk, msg->epoch);
    msgpack_pack_uint64(&pk, msg->seq);
    switch (msg->type) {
    case TW_WMSG_HELLO:
        s_pack_str(&pk, msg->kind);
        msgpack_pack_uint32(&pk, msg->pid);
        break;
    case TW_WMSG_HEARTBEAT:
        msgpack_pack_uint32(&pk, msg->pid);
        msgpack_pack_uint64(&pk, msg->msgs_in);
        msgpack_pack_uint64(&pk, msg->msgs_out);
        msgpack_pack_uint64(&pk, msg->errors);
        break;
    case TW_WMSG_STOP:
        msgpack_pack_uint32(&pk, msg->grace_ms);
        break;
    case TW_WMSG_SPAWN_REQUEST:
        s_pack_str(&pk, msg->tmpl);
        s_pack_str(&pk, msg->instance);
        msgpack_pack_int64(&pk, msg->not_before);
        break;
    case TW_WMSG_STREAM_EVENT:
        s_pack_str(&pk, msg->stream.video_id);
        s_pack_str(&pk, msg->stream.channel_id);
        s_pack_str(&pk, msg->stream.title);
        s_pack_str(&pk, msg->stream.state);
        msgpack_pack_int64(&pk, msg->stream.scheduled_start);
        msgpack_pack_int64(&pk, msg->stream.actual_start);
        msgpack_pack_int64(&pk, msg->stream.actual_end);
        break;
    case TW_WMSG_WORKER_EVENT:
        s_pack_str(&pk, msg->worker);
        s_pack_str(&pk, msg->state);
        s_pack_str(&pk, msg->text);
        break;
    }
    size_t n = sb.size <= cap ? sb.size : 0;
    if (n)
        memcpy(buf, sb.data, n);
    msgpack_sbuffer_destroy(&sb);
    return n;
}

/* ---- decoding ---- */

typedef struct {
    const msgpack_object *v; /* array elements */
    size_t n;                /* how many */
    size_t i;                /* next to read */
    bool bad;                /* a field had the wrong type */
} s_cursor_t;

static const msgpack_object *s_next(s_cursor_t *c)
{
    if (c->i >= c->n) {
        c->bad = true;
        return NULL;
    }
    return &c->v[c->i++];
}

static uint64_t s_get_u64(s_cursor_t *c)
{
    const msgpack_object *o = s_next(c);
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        c->bad = true;
        return 0;
    }
    return o->via.u64;
}

static int64_t s_get_i64(s_cursor_t *c)
{
    const msgpack_object *o = s_next(c);
    if (o && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return o->via.i64;
    if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
        o->via.u64 <= INT64_MAX)
        return (int64_t)o->via.u64;
    c->bad = true;
    return 0;
}

/* Copies a string field; too long or embedded NUL counts as malformed. */
static void s_get_str(s_cursor_t *c, char *out, size_t cap)
{
    const msgpack_object *o = s_next(c);
    out[0] = '\0';
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= cap ||
        memchr(o->via.str.ptr, '\0', o->via.str.size)) {
        c->bad = true;
        return;
    }
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = '\0';
}

/* Reads a big-endian unsigned integer of n bytes. */
static uint64_t s_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Checks the frame's shape before msgpack-c sees it: a flat array of at
 * most 32 scalars and strings, every length inside the frame. msgpack-c
 * would otherwise allocate whatever a header claims. */
static bool s_precheck(const unsigned char *p, size_t len)
{
    if (len < 1)
        return false;
    size_t off = 1, count;
    if ((p[0] & 0xf0) == 0x90) {
        count = p[0] & 0x0f;
    } else if (p[0] == 0xdc && len >= 3) {
        count = (size_t)s_be(p + 1, 2);
        off = 3;
    } else {
        return false;
    }
    if (count > 32)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (off >= len)
            return false;
        unsigned char b = p[off++];
        size_t skip = 0;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            skip = 0;
        else if ((b & 0xe0) == 0xa0)
            skip = b & 0x1f;
        else if (b == 0xcc || b == 0xd0)
            skip = 1;
        else if (b == 0xcd || b == 0xd1)
            skip = 2;
        else if (b == 0xce || b == 0xd2 || b == 0xca)
            skip = 4;
        else if (b == 0xcf || b == 0xd3 || b == 0xcb)
            skip = 8;
        else if (b == 0xd9 || b == 0xda || b == 0xdb || b == 0xc4 ||
                 b == 0xc5 || b == 0xc6) {
            size_t nb = (b == 0xd9 || b == 0xc4)   ? 1
                        : (b == 0xda || b == 0xc5) ? 2
                                                   : 4;
            if (len - off < nb)
                return false;
            skip = (size_t)s_be(p + off, nb);
            off += nb;
        } else {
            return false; /* nested containers, ext: never in our frames */
        }
        if (len - off < skip)
            return false;
        off += skip;
    }
    return off == len;
}

tw_rc_t tw_wmsg_decode(const void *data, size_t len, tw_wmsg_t *msg,
                       tw_err_t *err)
{
    assert(data || len == 0);
    assert(msg);
    memset(msg, 0, sizeof *msg);
    if (!s_precheck(data, len)) {
        tw_err_set(err, "not a message frame");
        return TW_ERR_PROTO;
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    msgpack_unpack_return ur =
        msgpack_unpack_next(&up, (const char *)data, len, &off);
    tw_rc_t rc = TW_OK;
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len ||
        up.data.type != MSGPACK_OBJECT_ARRAY || up.data.via.array.size < 5) {
        tw_err_set(err, "not a message frame");
        rc = TW_ERR_PROTO;
        goto out;
    }
    s_cursor_t c = {up.data.via.array.ptr, up.data.via.array.size, 0, false};
    uint64_t version = s_get_u64(&c);
    uint64_t type = s_get_u64(&c);
    if (c.bad || version != WMSG_VERSION) {
        tw_err_set(err, "unsupported schema version");
        rc = TW_ERR_PROTO;
        goto out;
    }
    msg->type = (tw_wmsg_type_t)type;
    s_get_str(&c, msg->src, sizeof msg->src);
    msg->epoch = s_get_u64(&c);
    msg->seq = s_get_u64(&c);
    switch (type) {
    case TW_WMSG_HELLO:
        s_get_str(&c, msg->kind, sizeof msg->kind);
        msg->pid = (uint32_t)s_get_u64(&c);
        break;
    case TW_WMSG_HEARTBEAT:
        msg->pid = (uint32_t)s_get_u64(&c);
        msg->msgs_in = s_get_u64(&c);
        msg->msgs_out = s_get_u64(&c);
        msg->errors = s_get_u64(&c);
        break;
    case TW_WMSG_STOP:
        msg->grace_ms = (uint32_t)s_get_u64(&c);
        break;
    case TW_WMSG_SPAWN_REQUEST:
        s_get_str(&c, msg->tmpl, sizeof msg->tmpl);
        s_get_str(&c, msg->instance, sizeof msg->instance);
        msg->not_before = s_get_i64(&c);
        break;
    case TW_WMSG_STREAM_EVENT:
        s_get_str(&c, msg->stream.video_id, sizeof msg->stream.video_id);
        s_get_str(&c, msg->stream.channel_id, sizeof msg->stream.channel_id);
        s_get_str(&c, msg->stream.title, sizeof msg->stream.title);
        s_get_str(&c, msg->stream.state, sizeof msg->stream.state);
        msg->stream.scheduled_start = s_get_i64(&c);
        msg->stream.actual_start = s_get_i64(&c);
        msg->stream.actual_end = s_get_i64(&c);
        break;
    case TW_WMSG_WORKER_EVENT:
        s_get_str(&c, msg->worker, sizeof msg->worker);
        s_get_str(&c, msg->state, sizeof msg->state);
        s_get_str(&c, msg->text, sizeof msg->text);
        break;
    default:
        tw_err_set(err, "unknown message type %" PRIu64, type);
        rc = TW_ERR_PROTO;
        goto out;
    }
    if (c.bad) {
        tw_err_set(err, "malformed %s message", tw_wmsg_name(msg->type));
        rc = TW_ERR_PROTO;
    }
out:
    msgpack_unpacked_destroy(&up);
    return rc;
}

/* ---- the worker object ---- */

static void s_copy_env(const char *name, char *out, size_t cap)
{
    const char *v = getenv(name);
    snprintf(out, cap, "%s", v ? v : "");
}

tw_worker_t *tw_worker_new(const char *kind, int *exit_code, tw_err_t *err)
{
    assert(kind);
    int dummy;
    if (!exit_code)
        exit_code = &dummy;
    *exit_code = TW_EXIT_TEMP;
    tw_worker_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return NULL;
    }
    self->sigfd = -1;
    snprintf(self->kind, sizeof self->kind, "%s", kind);
    s_copy_env(TW_ENV_WORKER, self->name, sizeof self->name);
    if (!self->name[0])
        snprintf(self->name, sizeof self->name, "%s", kind);
    s_copy_env(TW_ENV_INSTANCE, self->instance, sizeof self->instance);
    const char *ep = getenv(TW_ENV_EPOCH);
    self->epoch = ep ? strtoull(ep, NULL, 10) : 0;
    const char *cfgpath = getenv(TW_ENV_CONFIG);
    if (!cfgpath || !*cfgpath) {
        tw_err_set(err, "%s is not set (run me under tubewatchd)",
                   TW_ENV_CONFIG);
        *exit_code = TW_EXIT_USAGE;
        goto fail;
    }
    tw_cfg_problem_t *problems = NULL;
    size_t nproblems = 0;
    self->cfg = tw_cfg_load(cfgpath, &problems, &nproblems);
    if (!self->cfg) {
        tw_err_set(err, "unable to load %s: %s", cfgpath,
                   nproblems ? problems[0].msg : "invalid");
        free(problems);
        *exit_code = TW_EXIT_USAGE;
        goto fail;
    }
    free(problems);
    char section[TW_WORKER_NAME_MAX];
    snprintf(section, sizeof section, "%s", self->name);
    char *at = strchr(section, '@');
    if (at)
        *at = '\0';
    self->section = tw_cfg_worker(self->cfg, section);
    uint64_t wd = self->section ? self->section->watchdog_timeout_ms : 0;
    self->hb_interval_ms = wd ? (int64_t)(wd / 4) : 5000;
    if (self->hb_interval_ms < 50)
        self->hb_interval_ms = 50;
    if (self->hb_interval_ms > 5000)
        self->hb_interval_ms = 5000;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    /* Blocked before the ZeroMQ threads start, so they inherit the mask. */
    sigprocmask(SIG_BLOCK, &set, NULL);
    self->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (self->sigfd < 0) {
        tw_err_set(err, "unable to create signalfd: %s", strerror(errno));
        goto fail;
    }
    self->zctx = zmq_ctx_new();
    if (!self->zctx) {
        tw_err_set(err, "unable to create ZeroMQ context");
        goto fail;
    }
    const char *endpoint = getenv(TW_ENV_SUP_ENDPOINT);
    if (endpoint && *endpoint) {
        self->sup = zmq_socket(self->zctx, ZMQ_DEALER);
        int linger = 1000;
        zmq_setsockopt(self->sup, ZMQ_LINGER, &linger, sizeof linger);
        int hwm = 1000;
        zmq_setsockopt(self->sup, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(self->sup, ZMQ_ROUTING_ID, self->name,
                       strlen(self->name));
        if (zmq_connect(self->sup, endpoint) != 0) {
            tw_err_set(err, "unable to connect to %s: %s", endpoint,
                       zmq_strerror(zmq_errno()));
            goto fail;
        }
    }
    self->next_hb_ms = s_now_ms() + self->hb_interval_ms;
    *exit_code = TW_EXIT_OK;
    return self;
fail:
    tw_worker_destroy(&self);
    return NULL;
}

void tw_worker_destroy(tw_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tw_worker_t *self = *self_p;
    if (self->sup)
        zmq_close(self->sup);
    if (self->zctx)
        zmq_ctx_term(self->zctx);
    if (self->sigfd >= 0)
        close(self->sigfd);
    tw_cfg_destroy(&self->cfg);
    free(self);
    *self_p = NULL;
}

const tw_cfg_t *tw_worker_cfg(const tw_worker_t *self)
{
    assert(self);
    return self->cfg;
}

const tw_cfg_worker_t *tw_worker_section(const tw_worker_t *self)
{
    assert(self);
    return self->section;
}

const char *tw_worker_name(const tw_worker_t *self)
{
    assert(self);
    return self->name;
}

const char *tw_worker_instance(const tw_worker_t *self)
{
    assert(self);
    return self->instance;
}

uint64_t tw_worker_epoch(const tw_worker_t *self)
{
    assert(self);
    return self->epoch;
}

void *tw_worker_zctx(tw_worker_t *self)
{
    assert(self);
    return self->zctx;
}

int tw_worker_signal_fd(const tw_worker_t *self)
{
    assert(self);
    return self->sigfd;
}

bool tw_worker_stopping(const tw_worker_t *self)
{
    assert(self);
    return self->stopping;
}

int tw_worker_pollitems(tw_worker_t *self, void *items)
{
    assert(self);
    assert(items);
    zmq_pollitem_t *it = items;
    it[0] = (zmq_pollitem_t){NULL, self->sigfd, ZMQ_POLLIN, 0};
    /* Without a supervisor endpoint the second item polls nothing. */
    it[1] = (zmq_pollitem_t){self->sup, -1, self->sup ? ZMQ_POLLIN : 0, 0};
    return 2;
}

/* Sends one message to the supervisor without blocking. */
static tw_rc_t s_send(tw_worker_t *self, tw_wmsg_t *msg)
{
    if (!self->sup)
        return TW_OK;
    snprintf(msg->src, sizeof msg->src, "%s", self->name);
    msg->epoch = self->epoch;
    msg->seq = ++self->seq;
    unsigned char buf[2048];
    size_t n = tw_wmsg_encode(msg, buf, sizeof buf);
    if (n == 0)
        return TW_ERR_TOOBIG;
    if (zmq_send(self->sup, buf, n, ZMQ_DONTWAIT) < 0)
        return TW_ERR_AGAIN;
    return TW_OK;
}

int tw_worker_timeout_ms(const tw_worker_t *self)
{
    assert(self);
    int64_t left = self->next_hb_ms - s_now_ms();
    return left < 0 ? 0 : (int)left;
}

void tw_worker_handle(tw_worker_t *self)
{
    assert(self);
    struct signalfd_siginfo si;
    while (read(self->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
        self->stopping = true;
    while (self->sup) {
        unsigned char buf[2048];
        int n = zmq_recv(self->sup, buf, sizeof buf, ZMQ_DONTWAIT);
        if (n < 0)
            break;
        tw_wmsg_t msg;
        if ((size_t)n <= sizeof buf &&
            tw_wmsg_decode(buf, (size_t)n, &msg, NULL) == TW_OK &&
            msg.type == TW_WMSG_STOP)
            self->stopping = true;
    }
    if (s_now_ms() >= self->next_hb_ms)
        tw_worker_heartbeat(self);
}

tw_rc_t tw_worker_ready(tw_worker_t *self)
{
    assert(self);
    tw_wmsg_t msg = {.type = TW_WMSG_HELLO, .pid = (uint32_t)getpid()};
    snprintf(msg.kind, sizeof msg.kind, "%s", self->kind);
    return s_send(self, &msg);
}

void tw_worker_count(tw_worker_t *self, uint64_t in, uint64_t out,
                     uint64_t errors)
{
    assert(self);
    self->msgs_in += in;
    self->msgs_out += out;
    self->errors += errors;
}

tw_rc_t tw_worker_heartbeat(tw_worker_t *self)
{
    assert(self);
    self->next_hb_ms = s_now_ms() + self->hb_interval_ms;
    tw_wmsg_t msg = {.type = TW_WMSG_HEARTBEAT,
                     .pid = (uint32_t)getpid(),
                     .msgs_in = self->msgs_in,
                     .msgs_out = self->msgs_out,
                     .errors = self->errors};
    return s_send(self, &msg);
}

tw_rc_t tw_worker_spawn_request(tw_worker_t *self, const char *tmpl,
                                const char *instance, int64_t not_before)
{
    assert(self);
    assert(tmpl);
    assert(instance);
    if (!tw_worker_valid_instance(instance) ||
        strlen(tmpl) >= sizeof ((tw_wmsg_t *)0)->tmpl)
        return TW_ERR_INVALID;
    tw_wmsg_t msg = {.type = TW_WMSG_SPAWN_REQUEST, .not_before = not_before};
    snprintf(msg.tmpl, sizeof msg.tmpl, "%s", tmpl);
    snprintf(msg.instance, sizeof msg.instance, "%s", instance);
    return s_send(self, &msg);
}

tw_rc_t tw_worker_stream_event(tw_worker_t *self,
                               const tw_worker_stream_event_t *ev)
{
    assert(self);
    assert(ev);
    tw_wmsg_t msg = {.type = TW_WMSG_STREAM_EVENT, .stream = *ev};
    return s_send(self, &msg);
}
