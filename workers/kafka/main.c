/* tw-kafka - the pipeline's Kafka output (docs/kafka.md): a tw_deliver
 * receiver on ipc://RUNTIME/kafka.sock taking what the writer takes
 * (chat.tokenized, chat.batch, stats.sample) and the scanner's
 * stream.events, producing one record per chat item, stats sample, viewers
 * sample and event with librdkafka (idempotent, acks=all, no delivery
 * timeout). A frame is acked on the bus only once every record of it has a
 * successful delivery report; frames are acked in the order they came.
 * While Kafka is down or slow the producer's queue fills, the worker stops
 * reading, its senders run out of credit and their journals hold; nothing
 * is dropped. A record whose delivery failed makes its whole frame be
 * produced again after a delay (consumers remove the duplicates by key and
 * message_id / sampled_at). format "avro" writes Confluent's wire format
 * with the Schema Registry's latest schema of TOPIC-value (tubewatch's own
 * registered when there is none); "json" writes plain JSON objects.
 * Everything runs on one tw_loop: the receiver, librdkafka's wake-up pipe
 * (delivery reports, errors, logs) and one timer for the held producing
 * (full queue, registry down) and the failed frames' retries.
 * Exit codes: 0 stopped, 100 bad config, 111 temporary failure (an
 * unbindable socket, a fatal producer error). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "kafka_avro.h"
#include "kafka_record.h"
#include "kafka_registry.h"
#include "tw_deliver.h"
#include "tw_log.h"
#include "tw_loop.h"
#include "tw_proto.h"
#include "tw_time.h"
#include "tw_worker.h"

/* Frames held in the in-flight table at most (then reading pauses). */
#define S_MAX_FRAMES 1024
/* Frames read per receiver callback at most. */
#define S_ROUND_MAX 256
/* A full producer queue is tried again after this long. */
#define S_FULL_RETRY_MS 50
/* A frame whose delivery failed is produced again after this long,
 * doubling up to S_RETRY_MAX_MS. */
#define S_RETRY_MS     1000
#define S_RETRY_MAX_MS 30000
/* The registry is asked again after this long when it failed. */
#define S_REGISTRY_RETRY_MS 5000
/* On stop: how long to wait for outstanding delivery reports. */
#define S_FLUSH_MS 3000

/* One bus frame and the delivery state of its records. */
typedef struct {
    tw_msg_t msg;     /* the frame (owned): records are made from it */
    size_t nrec;      /* records it makes */
    size_t produced;  /* records handed to the producer */
    size_t pending;   /* produced and not yet reported */
    size_t failed;    /* reports with an error (this round) */
    int64_t retry_ms; /* produce again not before (mono), 0 = now */
    uint32_t backoff; /* next retry delay */
} s_frame_t;

/* The worker. */
typedef struct {
    tw_worker_t *w;                          /* supervisor link */
    const tw_cfg_kafka_t *cfg;               /* [kafka] (borrowed) */
    tw_deliver_t *rx;                        /* receiver on kafka.sock */
    rd_kafka_t *rk;                          /* the producer */
    int wake[2];                             /* librdkafka's event pipe */
    bool avro;                               /* format avro */
    const char *topics[KAFKA_TOPIC_COUNT];   /* topic names */
    kafka_registry_t *reg;                   /* Schema Registry (avro) */
    kafka_avro_t *enc[KAFKA_TOPIC_COUNT];    /* encoders, NULL until known */
    int64_t reg_retry_ms[KAFKA_TOPIC_COUNT]; /* next registry try (mono) */
    int64_t reg_down_ms;                     /* registry failing since */
    tw_rc_t reg_rc;                          /* its kind of failure logged */
    bool clamp_logged;                       /* the int clamp was logged */
    s_frame_t **ring;                        /* frames in arrival order */
    size_t head;                             /* first used slot */
    size_t len;                              /* used slots */
    int64_t hold_ms;                         /* producing waits until */
    uint64_t records;                        /* records delivered */
    uint64_t failures;                       /* failed delivery reports */
    uint64_t dropped;                        /* records refused at once */
    int64_t down_log_ms;                     /* last broker-error line */
    bool stopping;                           /* purging at stop: quiet */
    tw_loop_t *loop;                         /* the event loop */
    int timer;                               /* held producing, retries */
} s_kafka_t;

/* ---- librdkafka callbacks (served by rd_kafka_poll in this thread) ---- */

static void s_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf)
{
    (void)rk;
    /* tw_log redacts the secrets the config registered. */
    tw_log_level_t l = level <= 3   ? TW_LOG_ERROR
                       : level <= 4 ? TW_LOG_WARN
                       : level <= 6 ? TW_LOG_INFO
                                    : TW_LOG_DEBUG;
    tw_log_write(l, "librdkafka %s: %s", fac, buf);
}

static void s_error_cb(rd_kafka_t *rk, int err, const char *reason,
                       void *opaque)
{
    s_kafka_t *self = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof why);
        tw_log_error("fatal producer error, restarting: %s: %s",
                     rd_kafka_err2name(orig), why);
        exit(TW_EXIT_TEMP);
    }
    int64_t now = tw_time_mono_ms();
    if (now - self->down_log_ms >= 30000 || self->down_log_ms == 0) {
        self->down_log_ms = now;
        tw_log_warn("kafka: %s: %s", rd_kafka_err2name(err), reason);
    }
}

static void s_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    s_kafka_t *self = opaque;
    s_frame_t *f = m->_private;
    if (!f)
        return;
    f->pending--;
    if (m->err && self->stopping)
        return;
    if (m->err) {
        f->failed++;
        self->failures++;
        tw_worker_count(self->w, 0, 0, 1);
        if (self->failures <= 20 || self->failures % 1000 == 0)
            tw_log_warn("delivery to %s failed: %s (%" PRIu64
                        " failures so far); the frame will be produced "
                        "again",
                        rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
                        self->failures);
    } else {
        self->records++;
        tw_worker_count(self->w, 0, 1, 0);
    }
}

/* ---- acks ---- */

static void s_frame_free(s_frame_t *f)
{
    tw_proto_clear(&f->msg);
    free(f);
}

/* Pops the delivered frames at the head, schedules failed ones again,
 * and sends the acks. */
static void s_settle(s_kafka_t *self)
{
    int64_t now = tw_time_mono_ms();
    for (size_t i = 0; i < self->len; i++) {
        s_frame_t *f = self->ring[(self->head + i) % S_MAX_FRAMES];
        if (f->produced == f->nrec && f->pending == 0 && f->failed > 0) {
            f->produced = 0;
            f->failed = 0;
            f->retry_ms = now + f->backoff;
            f->backoff = f->backoff * 2 > S_RETRY_MAX_MS ? S_RETRY_MAX_MS
                                                         : f->backoff * 2;
        }
    }
    while (self->len > 0) {
        s_frame_t *f = self->ring[self->head];
        if (f->produced < f->nrec || f->pending > 0 || f->failed > 0)
            break;
        tw_deliver_ack_later(self->rx, f->msg.src, f->msg.epoch, f->msg.seq);
        s_frame_free(f);
        self->head = (self->head + 1) % S_MAX_FRAMES;
        self->len--;
    }
    tw_err_t err = {0};
    if (tw_deliver_ack_owed(self->rx, &err) != TW_OK)
        tw_log_warn("ack: %s", err.msg); /* the sender resends; dups dropped */
}

/* ---- producing ---- */

/* Notes that the registry could not give subject's schema: rc is the kind
 * of failure (TW_ERR_NET/TW_ERR_TIMEOUT no answer, TW_ERR_HTTP refused,
 * TW_ERR_PARSE nonsense, TW_OK a schema that cannot hold the records), why
 * the detail. One line when it starts failing or fails in another way,
 * debug lines while it keeps failing the same way. Never the credentials
 * (the registry's errors hold none; tw_log redacts the secrets anyway). */
static void s_registry_failed(s_kafka_t *self, const char *subject, tw_rc_t rc,
                              const char *why)
{
    int64_t now = tw_time_mono_ms();
    bool same = self->reg_down_ms != 0 && self->reg_rc == rc;
    if (self->reg_down_ms == 0)
        self->reg_down_ms = now;
    self->reg_rc = rc;
    if (same) {
        tw_log_debug("schema registry, subject %s, still: %s", subject, why);
        return;
    }
    bool refused = rc == TW_OK || rc == TW_ERR_HTTP || rc == TW_ERR_PARSE;
    tw_log_write(refused ? TW_LOG_ERROR : TW_LOG_WARN,
                 "schema registry, subject %s: %s; producing is held "
                 "(nothing is dropped or acked) and the registry is asked "
                 "again every %d s",
                 subject, why, S_REGISTRY_RETRY_MS / 1000);
}

/* The Avro encoder of topic t: asks the registry when not known yet.
 * NULL while the registry cannot be used (retried later). */
static kafka_avro_t *s_encoder(s_kafka_t *self, kafka_topic_t t)
{
    if (self->enc[t])
        return self->enc[t];
    int64_t now = tw_time_mono_ms();
    if (now < self->reg_retry_ms[t]) {
        if (self->hold_ms < self->reg_retry_ms[t])
            self->hold_ms = self->reg_retry_ms[t];
        return NULL;
    }
    char subject[300];
    snprintf(subject, sizeof subject, "%s-value", self->topics[t]);
    char *own = kafka_avro_schema_json(t);
    if (!own)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    uint32_t id = 0;
    char *schema = NULL;
    bool registered = false;
    tw_err_t err = {0};
    tw_rc_t rc = kafka_registry_resolve(self->reg, subject, own, &id, &schema,
                                        &registered, &err);
    free(own);
    if (rc == TW_OK) {
        self->enc[t] = kafka_avro_new(t, schema, strlen(schema), id, &err);
        if (!self->enc[t]) {
            char why[512];
            snprintf(why, sizeof why,
                     "the registry's schema %" PRIu32 " cannot hold "
                     "tubewatch's %s records: %.300s",
                     id, kafka_record_topic_str(t), err.msg);
            s_registry_failed(self, subject, TW_OK, why);
        }
    } else {
        s_registry_failed(self, subject, rc, err.msg);
    }
    free(schema);
    if (!self->enc[t]) {
        self->reg_retry_ms[t] = now + S_REGISTRY_RETRY_MS;
        self->hold_ms = self->reg_retry_ms[t];
        return NULL;
    }
    if (self->reg_down_ms != 0) {
        tw_log_info("schema registry answers again after %" PRId64
                    " s; producing resumes",
                    (now - self->reg_down_ms + 500) / 1000);
        self->reg_down_ms = 0;
    }
    tw_log_info("%s: schema id %" PRIu32 " (%s)", subject, id,
                registered ? "tubewatch's, registered now"
                           : "the latest registered");
    if (*kafka_avro_narrowed(self->enc[t]))
        tw_log_warn("%s: schema %" PRIu32 " holds %s as int: values above "
                    "2147483647 will be written as 2147483647",
                    subject, id, kafka_avro_narrowed(self->enc[t]));
    return self->enc[t];
}

/* Produces record i of frame f. TW_OK when handed over (or dropped as
 * unproducible), TW_ERR_AGAIN when the caller must hold and try later. */
static tw_rc_t s_produce_one(s_kafka_t *self, s_frame_t *f, size_t i)
{
    kafka_record_t r;
    kafka_record_make(&f->msg, i, &r);
    char *val = NULL;
    size_t len = 0;
    tw_err_t err = {0};
    tw_rc_t rc;
    if (self->avro) {
        kafka_avro_t *enc = s_encoder(self, r.topic);
        if (!enc) {
            kafka_record_clear(&r);
            return TW_ERR_AGAIN;
        }
        uint64_t before = kafka_avro_clamped(enc);
        rc = kafka_avro_encode(enc, &r, &val, &len, &err);
        if (kafka_avro_clamped(enc) > before && !self->clamp_logged) {
            self->clamp_logged = true;
            tw_log_warn("%s: a count of video %s is above 2147483647 and was "
                        "written as 2147483647 (the registered schema holds "
                        "int); later clamps are not logged",
                        self->topics[r.topic], r.key);
        }
    } else {
        rc = kafka_record_json(&r, &val, &len, &err);
    }
    if (rc != TW_OK) {
        self->dropped++;
        tw_worker_count(self->w, 0, 0, 1);
        tw_log_error("dropping a %s record of %s seq %" PRIu64
                     " that cannot be encoded: %s",
                     kafka_record_topic_str(r.topic), f->msg.src, f->msg.seq,
                     err.msg);
        kafka_record_clear(&r);
        return TW_OK;
    }
    char at[24];
    snprintf(at, sizeof at, "%" PRId64, r.sampled_at_us);
    size_t klen = strlen(r.key);
    rd_kafka_resp_err_t kerr;
    if (r.topic == KAFKA_TOPIC_VIDEOS)
        kerr = rd_kafka_producev(
            self->rk, RD_KAFKA_V_TOPIC(self->topics[r.topic]),
            RD_KAFKA_V_KEY(klen ? r.key : NULL, klen),
            RD_KAFKA_V_VALUE(val, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_OPAQUE(f),
            RD_KAFKA_V_HEADER("sampled_at_us", at, -1), RD_KAFKA_V_END);
    else
        kerr =
            rd_kafka_producev(self->rk, RD_KAFKA_V_TOPIC(self->topics[r.topic]),
                              RD_KAFKA_V_KEY(klen ? r.key : NULL, klen),
                              RD_KAFKA_V_VALUE(val, len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                              RD_KAFKA_V_OPAQUE(f), RD_KAFKA_V_END);
    kafka_record_clear(&r);
    if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR) {
        f->pending++;
        return TW_OK;
    }
    free(val); /* not taken on failure */
    if (kerr == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        self->hold_ms = tw_time_mono_ms() + S_FULL_RETRY_MS;
        return TW_ERR_AGAIN;
    }
    if (kerr == RD_KAFKA_RESP_ERR__FATAL) {
        s_error_cb(self->rk, kerr, "fatal", self);
        return TW_ERR_AGAIN;
    }
    /* Too large, invalid: producing it again would fail the same way. */
    self->dropped++;
    tw_worker_count(self->w, 0, 0, 1);
    tw_log_error("dropping a record of %s seq %" PRIu64 " refused by the "
                 "producer: %s",
                 f->msg.src, f->msg.seq, rd_kafka_err2str(kerr));
    return TW_OK;
}

/* Produces what is due, frame by frame in arrival order, until the
 * producer pushes back. */
static void s_produce(s_kafka_t *self)
{
    int64_t now = tw_time_mono_ms();
    if (now < self->hold_ms)
        return;
    for (size_t i = 0; i < self->len; i++) {
        s_frame_t *f = self->ring[(self->head + i) % S_MAX_FRAMES];
        if (f->produced >= f->nrec || f->retry_ms > now)
            continue;
        while (f->produced < f->nrec) {
            if (s_produce_one(self, f, f->produced) != TW_OK)
                return;
            f->produced++;
        }
    }
}

/* True while more frames may be read. */
static bool s_want_input(const s_kafka_t *self)
{
    if (self->len >= S_MAX_FRAMES)
        return false;
    if (self->len == 0)
        return true;
    /* The newest frame fully handed over: the producer has room. */
    const s_frame_t *last =
        self->ring[(self->head + self->len - 1) % S_MAX_FRAMES];
    return last->produced >= last->nrec;
}

/* One received frame: into the table, produced at once when it may be;
 * false (stop reading) once no more input is wanted. */
static bool s_on_frame(tw_msg_t *m, tw_rc_t rc, const char *why, void *arg)
{
    (void)why;
    s_kafka_t *self = arg;
    tw_worker_count(self->w, 1, 0, 0);
    if (m->seq == 0) { /* unsequenced control frame: nothing to produce */
        tw_proto_clear(m);
        return s_want_input(self);
    }
    s_frame_t *f = calloc(1, sizeof *f);
    if (!f)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    f->msg = *m;
    f->backoff = S_RETRY_MS;
    f->nrec = rc == TW_OK ? kafka_record_count(m) : 0;
    if (rc != TW_OK || f->nrec == 0) {
        if (rc != TW_OK ||
            (m->id != TW_MSG_STATS_SAMPLE && m->id != TW_MSG_CHAT_BATCH &&
             m->id != TW_MSG_CHAT_TOKENIZED)) {
            tw_worker_count(self->w, 0, 0, 1);
            tw_log_warn("ignored %s frame from %s seq %" PRIu64,
                        rc == TW_ERR_PROTO ? "an undecodable"
                                           : tw_proto_name(m->id),
                        m->src, m->seq);
        }
    }
    self->ring[(self->head + self->len) % S_MAX_FRAMES] = f;
    self->len++;
    s_produce(self);
    return s_want_input(self);
}

/* Reads up to S_ROUND_MAX frames into the table while input is wanted. */
static void s_read_round(s_kafka_t *self)
{
    if (!s_want_input(self))
        return;
    tw_err_t err = {0};
    if (tw_deliver_recv_each(self->rx, S_ROUND_MAX, s_on_frame, self, &err) !=
        TW_OK)
        tw_log_warn("receive: %s", err.msg);
}

/* ---- setup ---- */

/* Sets one producer property; false (logged) when refused. */
static bool s_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) ==
        RD_KAFKA_CONF_OK)
        return true;
    tw_log_error("unable to set kafka property %s: %s", name, errstr);
    return false;
}

/* Creates the producer from [kafka]; NULL (logged) on a config error. */
static rd_kafka_t *s_producer(s_kafka_t *self)
{
    const tw_cfg_kafka_t *c = self->cfg;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char qmax[24];
    snprintf(qmax, sizeof qmax, "%" PRIu32, c->queue_max_messages);
    bool ok = s_set(conf, "bootstrap.servers", c->brokers) &&
              s_set(conf, "client.id", c->client_id) &&
              s_set(conf, "enable.idempotence", "true") &&
              s_set(conf, "acks", "all") &&
              /* never give up on a record: Kafka down means waiting */
              s_set(conf, "message.timeout.ms", "0") &&
              s_set(conf, "queue.buffering.max.messages", qmax) &&
              s_set(conf, "linger.ms", "5") &&
              s_set(conf, "log.queue", "true") &&
              s_set(conf, "security.protocol", c->security_protocol);
    if (ok && strncmp(c->security_protocol, "sasl", 4) == 0)
        ok = s_set(conf, "sasl.mechanisms", c->sasl_mechanism) &&
             s_set(conf, "sasl.username", c->sasl_username) &&
             s_set(conf, "sasl.password", c->sasl_password);
    if (ok && *c->ssl_ca_file)
        ok = s_set(conf, "ssl.ca.location", c->ssl_ca_file);
    if (!ok) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, self);
    rd_kafka_conf_set_log_cb(conf, s_log_cb);
    rd_kafka_conf_set_error_cb(conf, s_error_cb);
    rd_kafka_conf_set_dr_msg_cb(conf, s_dr_cb);
    char errstr[512];
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        tw_log_error("unable to create the kafka producer: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /* Logs come through rd_kafka_poll, in this thread. */
    rd_kafka_set_log_queue(rk, NULL);
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(rk);
    rd_kafka_queue_io_event_enable(q, self->wake[1], "1", 1);
    rd_kafka_queue_destroy(q);
    return rk;
}

/* Serves librdkafka's events and empties the wake-up pipe. */
static void s_poll_kafka(s_kafka_t *self)
{
    char buf[256];
    while (read(self->wake[0], buf, sizeof buf) > 0) {
    }
    rd_kafka_poll(self->rk, 0);
}

/* ---- on the loop ---- */

/* Keeps the timer due when producing may go on: the end of a hold (full
 * queue, registry retry) or the earliest retry of a failed frame; disarmed
 * when nothing waits for time. */
static void s_arm(s_kafka_t *self)
{
    int64_t now = tw_time_mono_ms();
    int64_t due = -1;
    for (size_t i = 0; i < self->len; i++) {
        const s_frame_t *f = self->ring[(self->head + i) % S_MAX_FRAMES];
        if (f->produced >= f->nrec)
            continue;
        int64_t t = f->retry_ms > self->hold_ms ? f->retry_ms : self->hold_ms;
        if (due < 0 || t < due)
            due = t;
    }
    tw_loop_rearm_timer(self->loop, self->timer,
                        due < 0 ? -1 : (due > now ? due - now : 0));
}

/* Serves librdkafka's events, acks what was delivered, produces what is
 * due, reads while the producer has room, then pauses the receiver while
 * input must be held and keeps the timer due. */
static void s_pump(s_kafka_t *self)
{
    s_poll_kafka(self);
    s_settle(self);
    s_produce(self);
    s_read_round(self);
    s_poll_kafka(self);
    s_settle(self);
    tw_deliver_pause(self->rx, !s_want_input(self));
    s_arm(self);
}

static tw_rc_t s_on_rx(tw_deliver_t *rx, void *arg)
{
    (void)rx;
    s_pump(arg);
    return TW_OK;
}

static tw_rc_t s_on_wake(tw_loop_t *loop, void *sock, int fd, short revents,
                         void *arg)
{
    (void)loop;
    (void)sock;
    (void)fd;
    (void)revents;
    s_pump(arg);
    return TW_OK;
}

static tw_rc_t s_on_timer(tw_loop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    s_pump(arg);
    return TW_OK;
}

int main(void)
{
    tw_log_init("tw-kafka");
    signal(SIGPIPE, SIG_IGN);
    tw_err_t err = {0};
    s_kafka_t self = {0};
    self.wake[0] = self.wake[1] = -1;
    tw_rc_t rc = tw_worker_new(&self.w, "kafka", &err);
    if (rc != TW_OK) {
        tw_log_error("%s", err.msg);
        return tw_rc_exit(rc);
    }
    const tw_cfg_t *cfg = tw_worker_cfg(self.w);
    self.cfg = &cfg->kafka;
    self.avro = strcmp(self.cfg->format, "avro") == 0;
    self.topics[KAFKA_TOPIC_VIDEOS] = self.cfg->topic_videos;
    self.topics[KAFKA_TOPIC_CHAT] = self.cfg->topic_chat;
    self.topics[KAFKA_TOPIC_VIEWERS] = self.cfg->topic_viewers;
    self.topics[KAFKA_TOPIC_EVENTS] = self.cfg->topic_events;
    self.ring = calloc(S_MAX_FRAMES, sizeof *self.ring);
    if (!self.ring || pipe2(self.wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        tw_log_error("unable to set up: %s", strerror(errno));
        tw_worker_destroy(&self.w);
        return TW_EXIT_TEMP;
    }
    if (self.avro) {
        kafka_registry_opts_t ro = {
            .url = self.cfg->schema_registry_url,
            .user = self.cfg->schema_registry_user,
            .password = self.cfg->schema_registry_password,
            .timeout_ms = tw_worker_http_timeout_ms(self.w, 10000),
        };
        self.reg = kafka_registry_new(&ro, &err);
        if (!self.reg) {
            tw_log_error("schema registry: %s", err.msg);
            tw_worker_destroy(&self.w);
            return TW_EXIT_TEMP;
        }
    }
    self.rk = s_producer(&self);
    if (!self.rk) {
        kafka_registry_destroy(&self.reg);
        tw_worker_destroy(&self.w);
        return TW_EXIT_USAGE;
    }
    const char *rdir = getenv(TW_ENV_RUNTIME_DIR);
    if (!rdir || !*rdir)
        rdir = cfg->supervisor.runtime_dir;
    char ep[4200];
    snprintf(ep, sizeof ep, "ipc://%s/kafka.sock", rdir);
    rc = tw_deliver_receiver_new(&self.rx, tw_worker_zctx(self.w), ep,
                                 tw_worker_name(self.w),
                                 tw_worker_epoch(self.w), &err);
    if (rc != TW_OK) {
        tw_log_error("cannot bind %s: %s", ep, err.msg);
        rd_kafka_destroy(self.rk);
        kafka_registry_destroy(&self.reg);
        tw_worker_destroy(&self.w);
        return tw_rc_exit(rc);
    }
    tw_log_info("producing %s to %s (%s), topics %s %s %s %s; listening on %s",
                self.cfg->format, self.cfg->brokers,
                self.cfg->security_protocol, self.topics[0], self.topics[1],
                self.topics[2], self.topics[3], ep);
    self.loop = tw_loop_new();
    if (!self.loop)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    self.timer = tw_loop_add_timer(self.loop, 0, 0, s_on_timer, &self);
    if (self.timer < 0)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    tw_loop_rearm_timer(self.loop, self.timer, -1);
    rc = tw_worker_attach(self.w, self.loop);
    if (rc == TW_OK)
        rc = tw_deliver_attach(self.rx, self.loop, s_on_rx, &self);
    if (rc == TW_OK)
        rc = tw_loop_add_fd(self.loop, self.wake[0], ZMQ_POLLIN, s_on_wake,
                            &self);
    if (rc != TW_OK)
        tw_log_fatal(tw_rc_exit(rc), "unable to start the loop: %s",
                     tw_rc_str(rc));
    tw_worker_ready(self.w);
    rc = tw_loop_run(self.loop);
    if (rc != TW_OK)
        tw_log_error("event loop: %s", tw_rc_str(rc));
    /* Stop: wait a little for the reports of what was produced; frames not
     * fully delivered stay unacked and their senders resend them. */
    rd_kafka_flush(self.rk, S_FLUSH_MS);
    s_poll_kafka(&self);
    s_settle(&self);
    tw_log_info("stopping: %" PRIu64 " records delivered, %" PRIu64
                " failed deliveries, %" PRIu64 " records dropped, %zu frames "
                "not delivered",
                self.records, self.failures, self.dropped, self.len);
    /* What is left is not acked: drop it from the producer (its reports
     * come through one last poll, while the frames still exist). */
    self.stopping = true;
    rd_kafka_purge(self.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(self.rk, 0);
    rd_kafka_destroy(self.rk);
    for (size_t i = 0; i < self.len; i++)
        s_frame_free(self.ring[(self.head + i) % S_MAX_FRAMES]);
    free(self.ring);
    for (int i = 0; i < KAFKA_TOPIC_COUNT; i++)
        kafka_avro_destroy(&self.enc[i]);
    kafka_registry_destroy(&self.reg);
    tw_deliver_destroy(&self.rx);
    close(self.wake[0]);
    close(self.wake[1]);
    tw_worker_destroy(&self.w);
    tw_loop_destroy(&self.loop);
    return TW_EXIT_OK;
}
