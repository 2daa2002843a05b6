/* tw-tokenizer - the stateless middle of the chat pipeline (docs/pipeline.md):
 * a tw_deliver receiver on ipc://RUNTIME/tokenizer.sock taking chat.batch
 * frames, tokenizing each item's text (tw_tokenize with [worker.tokenizer]) and
 * forwarding chat.tokenized through a tw_deliver sender to
 * ipc://RUNTIME/writer.sock. An upstream frame is acked only once the writer
 * acked everything forwarded for it: forwarded seq -> upstream (src, epoch,
 * seq) is kept in memory only; if the tokenizer dies its senders resend and the
 * writer drops what it already stored. Without credit toward the writer nothing
 * is read upstream (back-pressure). chat.tokenized and stats.sample frames are
 * forwarded unchanged. With [kafka] enabled every forwarded frame also goes to
 * ipc://RUNTIME/ kafka.sock, and an upstream frame is acked once both acked it.
 * Exit codes: 0 stopped, 100 bad config, 111 temporary failure. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_deliver.h"
#include "tw_file.h"
#include "tw_log.h"
#include "tw_proto.h"
#include "tw_time.h"
#include "tw_tokenize.h"
#include "tw_worker.h"

/* Upstream frames read per loop turn at most (fairness with acks). */
#define S_ROUND_MAX 64
/* On stop: how long to wait for the writer's acks. */
#define S_DRAIN_MS 3000

/* One upstream frame waiting for the writer's ack of out_seq. */
typedef struct {
    uint64_t out_seq;               /* our seq toward the writer */
    uint64_t out_seq2;              /* our seq toward the kafka worker */
    char src[TW_PROTO_SRC_MAX + 1]; /* upstream sender */
    uint64_t epoch;                 /* its incarnation */
    uint64_t seq;                   /* its seq */
} s_ref_t;

/* The worker. */
typedef struct {
    tw_worker_t *w;       /* supervisor link */
    tw_deliver_t *rx;     /* receiver on tokenizer.sock */
    tw_deliver_t *tx;     /* sender to writer.sock */
    tw_deliver_t *tx2;    /* sender to kafka.sock, NULL without [kafka] */
    tw_tokenizer_t *tok;  /* the tokenizer */
    s_ref_t *refs;        /* ring of upstream frames awaiting acks */
    size_t head;          /* first used slot */
    size_t len;           /* used slots */
    size_t cap;           /* slots */
    uint64_t last_out;    /* highest seq sent to the writer */
    uint64_t last_out2;   /* highest seq sent to the kafka worker */
    bool have_cur;        /* cur is being forwarded */
    tw_msg_t cur;         /* upstream frame being forwarded */
    tw_tok_item_t *items; /* its tokenized items (strings borrowed) */
    char **tok_blocks;    /* per item: owned block of token pointers */
    size_t n_items;       /* items of cur */
    size_t sent;          /* items already forwarded */
    size_t chunk;         /* items per frame (halved on TOOBIG) */
    uint64_t n_bad;       /* frames not forwardable */
    uint64_t n_cut;       /* items whose tokens were cut */
} s_tok_t;

/* Appends an upstream reference to the ring. */
static void s_ref_push(s_tok_t *self, const tw_msg_t *m)
{
    if (self->len == self->cap) {
        size_t n = self->cap ? self->cap * 2 : 512;
        s_ref_t *p = malloc(n * sizeof *p);
        if (!p)
            tw_log_fatal(TW_EXIT_TEMP, "out of memory");
        for (size_t i = 0; i < self->len; i++)
            p[i] = self->refs[(self->head + i) % self->cap];
        free(self->refs);
        self->refs = p;
        self->head = 0;
        self->cap = n;
    }
    s_ref_t *r = &self->refs[(self->head + self->len) % self->cap];
    r->out_seq = self->last_out;
    r->out_seq2 = self->last_out2;
    snprintf(r->src, sizeof r->src, "%s", m->src);
    r->epoch = m->epoch;
    r->seq = m->seq;
    self->len++;
}

/* Acks upstream every frame whose forwarded frames the writer acked. */
static void s_ack_upstream(s_tok_t *self)
{
    uint64_t unacked = tw_deliver_unacked(self->tx);
    uint64_t done = self->last_out >= unacked ? self->last_out - unacked : 0;
    uint64_t done2 = UINT64_MAX;
    if (self->tx2) {
        unacked = tw_deliver_unacked(self->tx2);
        done2 = self->last_out2 >= unacked ? self->last_out2 - unacked : 0;
    }
    while (self->len > 0) {
        s_ref_t *r = &self->refs[self->head];
        if (r->out_seq > done || r->out_seq2 > done2)
            break;
        self->head = (self->head + 1) % self->cap;
        self->len--;
        /* acks are cumulative: only the last of a run of one src */
        if (self->len > 0) {
            const s_ref_t *n = &self->refs[self->head];
            if (n->out_seq <= done && n->out_seq2 <= done2 &&
                strcmp(n->src, r->src) == 0 && n->epoch == r->epoch)
                continue;
        }
        tw_err_t err = {0};
        tw_rc_t rc = tw_deliver_ack(self->rx, r->src, r->epoch, r->seq, &err);
        if (rc != TW_OK)
            tw_log_warn("ack %s %" PRIu64 ":%" PRIu64 ": %s", r->src, r->epoch,
                        r->seq, err.msg);
    }
}

/* Frees the current frame and its tokens. */
static void s_cur_free(s_tok_t *self)
{
    for (size_t i = 0; i < self->n_items; i++)
        free(self->tok_blocks[i]);
    free(self->tok_blocks);
    free(self->items);
    self->tok_blocks = NULL;
    self->items = NULL;
    self->n_items = 0;
    tw_proto_clear(&self->cur);
    self->have_cur = false;
}

/* Copies the tokens of text into one owned block: char *v[n] followed by
 * the NUL-terminated strings. */
static void s_tokenize(s_tok_t *self, const char *text, tw_strs_t *out,
                       char **block)
{
    out->v = NULL;
    out->n = 0;
    *block = NULL;
    const tw_token_t *toks = NULL;
    size_t n = 0;
    tw_rc_t rc = tw_tokenizer_tokens(self->tok, text ? text : "",
                                     text ? strlen(text) : 0, &toks, &n);
    if (rc != TW_OK)
        tw_log_fatal(TW_EXIT_TEMP, "tokenizer: out of memory");
    if (n == 0)
        return;
    if (n > TW_PROTO_MAX_ARRAY) {
        if (self->n_cut++ < 10)
            tw_log_warn("an item has %zu tokens; keeping the first %d", n,
                        TW_PROTO_MAX_ARRAY);
        n = TW_PROTO_MAX_ARRAY;
    }
    size_t bytes = n * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += toks[i].len + 1;
    char *b = malloc(bytes);
    if (!b)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    char **v = (char **)(void *)b;
    char *p = b + n * sizeof(char *);
    for (size_t i = 0; i < n; i++) {
        memcpy(p, toks[i].text, toks[i].len);
        p[toks[i].len] = '\0';
        v[i] = p;
        p += toks[i].len + 1;
    }
    out->v = v;
    out->n = n;
    *block = b;
}

/* Takes a decoded chat.batch as the current frame and tokenizes it. */
static void s_cur_start(s_tok_t *self, tw_msg_t *m)
{
    self->cur = *m;
    self->have_cur = true;
    const tw_chat_item_list_t *l = &m->u.chat_batch.items;
    self->n_items = l->n;
    self->items = calloc(l->n ? l->n : 1, sizeof *self->items);
    self->tok_blocks = calloc(l->n ? l->n : 1, sizeof *self->tok_blocks);
    if (!self->items || !self->tok_blocks)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    for (size_t i = 0; i < l->n; i++) {
        const tw_chat_item_t *c = &l->v[i];
        tw_tok_item_t *t = &self->items[i];
        t->id = c->id;
        t->kind = c->kind;
        t->published_usec = c->published_usec;
        t->received_usec = c->received_usec;
        t->author_channel_id = c->author_channel_id;
        t->author_name = c->author_name;
        t->amount = c->amount;
        t->currency = c->currency;
        t->text = c->text;
        t->ref_id = c->ref_id;
        t->replaces = c->replaces;
        if (c->kind != TW_CHAT_KIND_DELETED)
            s_tokenize(self, c->text, &t->tokens, &self->tok_blocks[i]);
    }
    self->sent = 0;
    self->chunk = l->n ? l->n : 1;
}

/* True when both outputs have credit. */
static bool s_can_send(const s_tok_t *self)
{
    return tw_deliver_can_send(self->tx) &&
           (!self->tx2 || tw_deliver_can_send(self->tx2));
}

/* Sends out to the writer and, when configured, to the kafka worker;
 * returns the writer's answer (call only when s_can_send). */
static tw_rc_t s_send(s_tok_t *self, tw_msg_t *out, tw_err_t *err)
{
    tw_msg_t copy = *out; /* send restamps the envelope */
    tw_rc_t rc = tw_deliver_send(self->tx, out, err);
    if (rc != TW_OK)
        return rc;
    self->last_out = out->seq;
    if (self->tx2) {
        tw_err_t err2 = {0};
        tw_rc_t rc2 = tw_deliver_send(self->tx2, &copy, &err2);
        if (rc2 == TW_OK)
            self->last_out2 = copy.seq;
        else
            tw_log_error("not forwarded to the kafka worker: %s", err2.msg);
    }
    return TW_OK;
}

/* Forwards what is left of the current frame while credit lasts; when all
 * of it went out, records the upstream reference and frees it. */
static void s_cur_forward(s_tok_t *self)
{
    tw_msg_t *in = &self->cur;
    while (self->have_cur) {
        if (!s_can_send(self))
            return;
        tw_msg_t out = {.id = TW_MSG_CHAT_TOKENIZED};
        out.u.chat_tokenized.video_id = in->u.chat_batch.video_id;
        out.u.chat_tokenized.channel_id = in->u.chat_batch.channel_id;
        size_t k = self->n_items - self->sent;
        if (k > self->chunk)
            k = self->chunk;
        out.u.chat_tokenized.items.v = self->items + self->sent;
        out.u.chat_tokenized.items.n = k;
        tw_err_t err = {0};
        tw_rc_t rc = s_send(self, &out, &err);
        if (rc == TW_ERR_TOOBIG && k > 1) {
            self->chunk = k / 2;
            continue;
        }
        if (rc == TW_ERR_AGAIN)
            return;
        if (rc == TW_OK) {
            tw_worker_count(self->w, 0, 1, 0);
        } else {
            /* one item too big to ever be stored: say so, go on */
            tw_log_error("dropping %zu item(s) of %s seq %" PRIu64 ": %s", k,
                         in->src, in->seq, err.msg);
            tw_worker_count(self->w, 0, 0, 1);
        }
        self->sent += k;
        if (self->sent >= self->n_items) {
            s_ref_push(self, in);
            s_cur_free(self);
        }
    }
}

/* Forwards a frame unchanged (chat.tokenized, stats.sample). */
static bool s_forward_raw(s_tok_t *self, tw_msg_t *m)
{
    tw_msg_t out = *m; /* send restamps the envelope of the copy */
    tw_err_t err = {0};
    tw_rc_t rc = s_send(self, &out, &err);
    if (rc == TW_ERR_AGAIN)
        return false;
    if (rc == TW_OK) {
        tw_worker_count(self->w, 0, 1, 0);
    } else {
        tw_log_error("dropping %s from %s: %s", tw_proto_name(m->id), m->src,
                     err.msg);
        tw_worker_count(self->w, 0, 0, 1);
    }
    return true;
}

/* True while upstream frames may be read: nothing waits to be forwarded
 * and the writer (and the kafka worker, when configured) give credit. */
static bool s_want_in(const s_tok_t *self)
{
    return !self->have_cur && s_can_send(self);
}

/* One upstream frame: forwarded (tokenized) or dropped. */
static bool s_on_frame(tw_msg_t *m, tw_rc_t rc, const char *why, void *arg)
{
    (void)why;
    s_tok_t *self = arg;
    tw_worker_count(self->w, 1, 0, 0);
    if (m->seq == 0) {
        tw_proto_clear(m);
        return s_want_in(self);
    }
    if (rc == TW_OK && m->id == TW_MSG_CHAT_BATCH) {
        s_cur_start(self, m);
        s_cur_forward(self);
        return s_want_in(self);
    }
    if (rc == TW_OK &&
        (m->id == TW_MSG_CHAT_TOKENIZED || m->id == TW_MSG_STATS_SAMPLE)) {
        /* credit was checked before: AGAIN cannot happen here */
        s_forward_raw(self, m);
    } else {
        if (self->n_bad++ < 20 || self->n_bad % 1000 == 0)
            tw_log_warn(
                "dropped %s frame from %s seq %" PRIu64 " (%" PRIu64 " so far)",
                rc == TW_ERR_PROTO ? "undecodable" : tw_proto_name(m->id),
                m->src, m->seq, self->n_bad);
        tw_worker_count(self->w, 0, 0, 1);
    }
    s_ref_push(self, m); /* acked once what came before is acked */
    tw_proto_clear(m);
    return s_want_in(self);
}

/* Reads upstream frames while there is credit toward the writer. */
static void s_read_round(s_tok_t *self)
{
    if (!s_want_in(self))
        return;
    tw_err_t err = {0};
    tw_rc_t rc =
        tw_deliver_recv_each(self->rx, S_ROUND_MAX, s_on_frame, self, &err);
    if (rc != TW_OK)
        tw_log_warn("receive: %s", err.msg);
}

/* After input or acks: acks upstream what the writer has, forwards what
 * waits, reads more while credit lasts; input pauses without credit. */
static tw_rc_t s_work(tw_deliver_t *d, void *arg)
{
    (void)d;
    s_tok_t *self = arg;
    s_ack_upstream(self);
    if (self->have_cur)
        s_cur_forward(self);
    s_read_round(self);
    s_ack_upstream(self);
    tw_deliver_pause(self->rx, !s_want_in(self));
    return TW_OK;
}

/* The stop-word dir when the config says "": the installed share dir
 * relative to this program (PREFIX/libexec/tubewatch ->
 * PREFIX/share/tubewatch/stopwords), or the repo's data/stopwords when
 * running from the build tree (BUILD/libexec/tubewatch -> BUILD/../data);
 * NULL leaves the choice to tw_tokenize (its compiled-in share dir). */
static const char *s_stopwords_dir(const char *cfg_dir, char *buf, size_t cap)
{
    if (cfg_dir && *cfg_dir)
        return cfg_dir;
    static const char *const rel[] = {"../../share/tubewatch/stopwords",
                                      "../../../data/stopwords"};
    char *dir = tw_file_exe_relative_dir(rel, sizeof rel / sizeof rel[0]);
    if (!dir || strlen(dir) >= cap) {
        free(dir);
        return NULL;
    }
    memcpy(buf, dir, strlen(dir) + 1);
    free(dir);
    return buf;
}

/* Builds the tokenizer from [worker.tokenizer] in *t (logging why not):
 * TW_ERR_CONFIG for a config error, TW_ERR_NOMEM. */
static tw_rc_t s_make_tokenizer(const tw_cfg_t *cfg, tw_tokenizer_t **t)
{
    const tw_cfg_tokenizer_t *c = &cfg->tokenizer;
    tw_tokenizer_opts_t o = {0};
    o.language_list = (const char *const *)c->languages.v;
    o.n_language_list = c->languages.len;
    if (!o.language_list)
        o.languages = "";
    char dirbuf[PATH_MAX];
    o.stopword_dir = s_stopwords_dir(c->stopwords_dir, dirbuf, sizeof dirbuf);
    o.extra_stopword_files = (const char *const *)c->stopword_files.v;
    o.n_extra_stopword_files = c->stopword_files.len;
    o.stem_languages = c->stem;
    if (tw_tokenizer_mode_parse(c->urls, &o.url_mode) != TW_OK ||
        tw_tokenizer_mode_parse(c->mentions, &o.mention_mode) != TW_OK) {
        tw_log_error("urls/mentions must be keep, drop or text");
        return TW_ERR_CONFIG;
    }
    tw_err_t err = {0};
    tw_rc_t rc = tw_tokenizer_new(t, &o, &err);
    if (rc != TW_OK)
        tw_log_error("tokenizer: %s", err.msg);
    else
        tw_log_info("%zu stop words from %s", tw_tokenizer_stopword_count(*t),
                    o.stopword_dir ? o.stopword_dir : "the share dir");
    return rc;
}

int main(void)
{
    tw_log_init("tw-tokenizer");
    signal(SIGPIPE, SIG_IGN);
    tw_err_t err = {0};
    s_tok_t self = {0};
    tw_rc_t rc = tw_worker_new(&self.w, "tokenizer", &err);
    if (rc != TW_OK) {
        tw_log_error("%s", err.msg);
        return tw_rc_exit(rc);
    }
    const tw_cfg_t *cfg = tw_worker_cfg(self.w);
    rc = s_make_tokenizer(cfg, &self.tok);
    if (rc != TW_OK) {
        tw_worker_destroy(&self.w);
        return tw_rc_exit(rc);
    }
    const char *rdir = getenv(TW_ENV_RUNTIME_DIR);
    if (!rdir || !*rdir)
        rdir = cfg->supervisor.runtime_dir;
    char in_ep[4200], out_ep[4200];
    snprintf(in_ep, sizeof in_ep, "ipc://%s/tokenizer.sock", rdir);
    snprintf(out_ep, sizeof out_ep, "ipc://%s/writer.sock", rdir);
    void *zctx = tw_worker_zctx(self.w);
    tw_deliver_opts_t so = {0};
    so.endpoint = out_ep;
    so.src = tw_worker_name(self.w);
    so.epoch = tw_worker_epoch(self.w);
    rc = tw_deliver_sender_new(&self.tx, zctx, &so, &err);
    const tw_cfg_worker_t *kw = tw_cfg_worker(cfg, "kafka");
    if (rc == TW_OK && kw && kw->enabled) {
        char kafka_ep[4200];
        snprintf(kafka_ep, sizeof kafka_ep, "ipc://%s/kafka.sock", rdir);
        tw_deliver_opts_t ko = so;
        ko.endpoint = kafka_ep;
        rc = tw_deliver_sender_new(&self.tx2, zctx, &ko, &err);
        if (rc == TW_OK)
            tw_log_info("also forwarding to %s", kafka_ep);
    }
    if (rc == TW_OK)
        rc = tw_deliver_receiver_new(&self.rx, zctx, in_ep, so.src, so.epoch,
                                     &err);
    if (rc != TW_OK) {
        tw_log_error("sockets: %s", err.msg);
        tw_deliver_destroy(&self.tx);
        tw_deliver_destroy(&self.tx2);
        tw_tokenizer_destroy(&self.tok);
        tw_worker_destroy(&self.w);
        return tw_rc_exit(rc);
    }
    tw_log_info("listening on %s, forwarding to %s", in_ep, out_ep);
    tw_loop_t *loop = tw_loop_new();
    if (!loop)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    rc = tw_worker_attach(self.w, loop);
    if (rc == TW_OK)
        rc = tw_deliver_attach(self.rx, loop, s_work, &self);
    if (rc == TW_OK)
        rc = tw_deliver_attach(self.tx, loop, s_work, &self);
    if (rc == TW_OK && self.tx2)
        rc = tw_deliver_attach(self.tx2, loop, s_work, &self);
    if (rc != TW_OK)
        tw_log_fatal(tw_rc_exit(rc), "unable to start the loop: %s",
                     tw_rc_str(rc));
    tw_worker_ready(self.w);
    rc = tw_loop_run(loop);
    if (rc != TW_OK)
        tw_log_error("event loop: %s", tw_rc_str(rc));
    /* Stop: no more input; wait a little for the writer's acks so the
     * upstream senders need not resend what is already stored. */
    if (self.have_cur)
        s_cur_free(&self);
    if (tw_deliver_drain(self.tx, S_DRAIN_MS, NULL) != TW_OK)
        tw_log_warn("%zu frames not acked by the writer at stop",
                    tw_deliver_unacked(self.tx));
    if (self.tx2 && tw_deliver_drain(self.tx2, S_DRAIN_MS, NULL) != TW_OK)
        tw_log_warn("%zu frames not acked by the kafka worker at stop",
                    tw_deliver_unacked(self.tx2));
    s_ack_upstream(&self);
    tw_deliver_destroy(&self.rx);
    tw_deliver_destroy(&self.tx);
    tw_deliver_destroy(&self.tx2);
    tw_tokenizer_destroy(&self.tok);
    free(self.refs);
    tw_worker_destroy(&self.w);
    tw_loop_destroy(&loop);
    return TW_EXIT_OK;
}
