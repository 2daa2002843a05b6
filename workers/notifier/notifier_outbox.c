/* notifier_outbox - per-chat journals, rate limits and error handling of
 * the notifier's Telegram sends. */
#include "notifier_outbox.h"

#include <assert.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_buf.h"
#include "tw_file.h"
#include "tw_journal.h"
#include "tw_log.h"
#include "tw_time.h"
#include "tw_tsv.h"

/* Record payload: u8 version (1) | key | '\0' | text. */
#define S_REC_VERSION 1

/* One part waiting to be sent. */
typedef struct {
    uint64_t id;  /* journal record id */
    uint64_t seq; /* outbox-wide order of arrival */
    char *key;    /* dedup key ("" none) */
    char *text;   /* plain text */
    bool plain;   /* send without parse_mode (after an entity error) */
    bool noted;   /* its key is in sent.tsv */
} s_item_t;

/* One recipient. */
typedef struct {
    char *name;            /* chat id as configured: the journal's name */
    char *target;          /* chat id to send to (after migrations) */
    tw_journal_t *j;       /* its journal */
    s_item_t *q;           /* queue: q[head .. n) pending */
    size_t head;           /* first pending */
    size_t n;              /* end of queue */
    size_t cap;            /* allocated */
    int64_t next_ms;       /* per-chat bucket: earliest next send */
    int64_t paused_ms;     /* paused (429, backoff) until */
    int64_t last_send_ms;  /* last send, 0 never */
    int64_t gone_until_us; /* disabled until (wall clock), 0 = enabled */
    uint64_t done_upto;    /* highest id sent or dropped */
    uint64_t trimmed_upto; /* highest id trimmed from the journal */
    uint64_t full_drops;   /* oldest parts dropped since it was last empty */
    char **held;           /* keys of done parts not yet trimmed */
    size_t nheld;          /* how many */
    char **sent;           /* keys of the parts sent last, oldest first
                              (sent.tsv): a cause redelivered after its
                              message was sent and trimmed */
    size_t nsent;          /* how many (at most o.sent_keep) */
    char reason[300];      /* why it was disabled */
} s_chat_t;

struct notifier_outbox {
    char *dir;                     /* outbox directory */
    notifier_outbox_opts_t o;      /* settings with defaults applied */
    notifier_send_fn *send;        /* sender */
    void *arg;                     /* its argument */
    s_chat_t *chats;               /* recipients */
    size_t nchats;                 /* how many */
    uint64_t seq;                  /* next arrival number */
    int64_t global_next_ms;        /* global bucket: earliest next send */
    int64_t global_paused_ms;      /* global pause (429, 401, outage) */
    uint32_t backoff_ms;           /* current outage backoff, 0 none */
    notifier_outbox_stats_t stats; /* counters */
};

static tw_rc_t s_cap(notifier_outbox_t *self, s_chat_t *c, tw_err_t *err);

/* ---- names ---- */

/* Journal file name of a chat id: [A-Za-z0-9_-] kept, others %XX. */
static char *s_file_name(const char *dir, const char *chat)
{
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return NULL;
    tw_rc_t rc = tw_buf_printf(b, "%s/", dir);
    for (const unsigned char *p = (const unsigned char *)chat;
         *p && rc == TW_OK; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
            rc = tw_buf_append_byte(b, (char)*p);
        else
            rc = tw_buf_printf(b, "%%%02X", *p);
    }
    if (rc == TW_OK)
        rc = tw_buf_append_str(b, ".journal");
    char *out = rc == TW_OK ? tw_buf_steal(b, NULL) : NULL;
    tw_buf_destroy(&b);
    return out;
}

static int s_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Chat id of a journal file name, or NULL when it is not one of ours. */
static char *s_chat_of_file(const char *name)
{
    size_t n = strlen(name);
    if (n <= 8 || strcmp(name + n - 8, ".journal") != 0)
        return NULL;
    n -= 8;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '%' && i + 2 < n + 1 && s_hex(name[i + 1]) >= 0 &&
            s_hex(name[i + 2]) >= 0) {
            out[k++] = (char)(s_hex(name[i + 1]) * 16 + s_hex(name[i + 2]));
            i += 2;
        } else {
            out[k++] = name[i];
        }
    }
    out[k] = '\0';
    if (k == 0 || strlen(out) != k) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- chat state file (chats.tsv): name target gone_until_us reason ---- */

static tw_rc_t s_save_chats(notifier_outbox_t *self, tw_err_t *err)
{
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return TW_ERR_NOMEM;
    tw_rc_t rc = tw_buf_append_str(b, "# tubewatch notifier chats v1\n");
    for (size_t i = 0; i < self->nchats && rc == TW_OK; i++) {
        const s_chat_t *c = &self->chats[i];
        if (strcmp(c->name, c->target) == 0 && c->gone_until_us == 0)
            continue;
        rc = tw_tsv_escape(b, c->name, strlen(c->name));
        if (rc == TW_OK)
            rc = tw_buf_append_byte(b, '\t');
        if (rc == TW_OK)
            rc = tw_tsv_escape(b, c->target, strlen(c->target));
        if (rc == TW_OK)
            rc = tw_buf_printf(b, "\t%" PRId64 "\t", c->gone_until_us);
        if (rc == TW_OK)
            rc = tw_tsv_escape(b, c->reason, strlen(c->reason));
        if (rc == TW_OK)
            rc = tw_buf_append_byte(b, '\n');
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/chats.tsv", self->dir);
    if (rc == TW_OK)
        rc = tw_file_write_atomic_at("notifier/chats", path, tw_buf_data(b),
                                     tw_buf_len(b), 0600, err);
    tw_buf_destroy(&b);
    return rc;
}

static s_chat_t *s_find(const notifier_outbox_t *self, const char *name)
{
    for (size_t i = 0; i < self->nchats; i++)
        if (strcmp(self->chats[i].name, name) == 0)
            return &self->chats[i];
    return NULL;
}

static s_chat_t *s_add_chat(notifier_outbox_t *self, const char *name)
{
    s_chat_t *nc = realloc(self->chats, (self->nchats + 1) * sizeof *nc);
    if (!nc)
        return NULL;
    self->chats = nc;
    s_chat_t *c = &nc[self->nchats];
    memset(c, 0, sizeof *c);
    c->name = strdup(name);
    c->target = strdup(name);
    if (!c->name || !c->target) {
        free(c->name);
        free(c->target);
        return NULL;
    }
    self->nchats++;
    return c;
}

static void s_load_chats(notifier_outbox_t *self)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/chats.tsv", self->dir);
    char *data = NULL;
    size_t len = 0;
    if (tw_file_read_all(path, 1 << 20, &data, &len, NULL) != TW_OK)
        return;
    size_t off = 0;
    const char *line;
    size_t ll;
    while (tw_tsv_next_line(data, len, &off, &line, &ll, NULL)) {
        if (ll == 0 || line[0] == '#')
            continue;
        tw_tsv_field_t f[4];
        if (tw_tsv_split(line, ll, f, 4) != 4)
            continue;
        tw_buf_t *nb = tw_buf_new(), *tb = tw_buf_new(), *rb = tw_buf_new();
        char num[24] = "";
        if (f[2].len < sizeof num)
            memcpy(num, f[2].ptr, f[2].len);
        if (nb && tb && rb &&
            tw_tsv_unescape(nb, f[0].ptr, f[0].len, NULL) == TW_OK &&
            tw_tsv_unescape(tb, f[1].ptr, f[1].len, NULL) == TW_OK &&
            tw_tsv_unescape(rb, f[3].ptr, f[3].len, NULL) == TW_OK &&
            tw_buf_len(nb) > 0 && tw_buf_len(tb) > 0) {
            s_chat_t *c = s_find(self, tw_buf_data(nb));
            if (!c)
                c = s_add_chat(self, tw_buf_data(nb));
            char *t = strdup(tw_buf_data(tb));
            if (c && t) {
                free(c->target);
                c->target = t;
                t = NULL;
                c->gone_until_us = strtoll(num, NULL, 10);
                snprintf(c->reason, sizeof c->reason, "%s", tw_buf_data(rb));
            }
            free(t);
        }
        tw_buf_destroy(&nb);
        tw_buf_destroy(&tb);
        tw_buf_destroy(&rb);
    }
    free(data);
}

/* ---- sent keys (sent.tsv): chat id, key; oldest first per chat ---- */

static tw_rc_t s_save_sent(notifier_outbox_t *self, tw_err_t *err)
{
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return TW_ERR_NOMEM;
    tw_rc_t rc = tw_buf_append_str(b, "# tubewatch notifier sent v1\n");
    for (size_t i = 0; i < self->nchats && rc == TW_OK; i++) {
        const s_chat_t *c = &self->chats[i];
        for (size_t k = 0; k < c->nsent && rc == TW_OK; k++) {
            rc = tw_tsv_escape(b, c->name, strlen(c->name));
            if (rc == TW_OK)
                rc = tw_buf_append_byte(b, '\t');
            if (rc == TW_OK)
                rc = tw_tsv_escape(b, c->sent[k], strlen(c->sent[k]));
            if (rc == TW_OK)
                rc = tw_buf_append_byte(b, '\n');
        }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/sent.tsv", self->dir);
    if (rc == TW_OK)
        rc = tw_file_write_atomic_at("notifier/sent", path, tw_buf_data(b),
                                     tw_buf_len(b), 0600, err);
    tw_buf_destroy(&b);
    return rc;
}

/* True when key is among c's sent keys. */
static bool s_in_sent(const s_chat_t *c, const char *key)
{
    for (size_t i = 0; i < c->nsent; i++)
        if (strcmp(c->sent[i], key) == 0)
            return true;
    return false;
}

/* Appends key to c's sent keys, the oldest dropped beyond sent_keep. */
static tw_rc_t s_sent_push(notifier_outbox_t *self, s_chat_t *c,
                           const char *key)
{
    char *k = strdup(key);
    if (!k)
        return TW_ERR_NOMEM;
    if (c->nsent == self->o.sent_keep) {
        free(c->sent[0]);
        memmove(c->sent, c->sent + 1, (c->nsent - 1) * sizeof *c->sent);
        c->nsent--;
    }
    char **sk = realloc(c->sent, (c->nsent + 1) * sizeof *sk);
    if (!sk) {
        free(k);
        return TW_ERR_NOMEM;
    }
    c->sent = sk;
    c->sent[c->nsent++] = k;
    return TW_OK;
}

static void s_load_sent(notifier_outbox_t *self)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/sent.tsv", self->dir);
    char *data = NULL;
    size_t len = 0;
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = tw_file_read_all(path, 16 << 20, &data, &len, &err);
    if (rc == TW_ERR_NOTFOUND)
        return; /* nothing sent yet */
    if (rc != TW_OK) {
        tw_log_warn("outbox: sent.tsv not read, the keys of sent messages are "
                    "lost (a redelivered cause may send its message again): "
                    "%s",
                    err.msg);
        return;
    }
    size_t off = 0;
    const char *line;
    size_t ll;
    tw_buf_t *nb = tw_buf_new(), *kb = tw_buf_new();
    while (nb && kb && tw_tsv_next_line(data, len, &off, &line, &ll, NULL)) {
        if (ll == 0 || line[0] == '#')
            continue;
        tw_tsv_field_t f[2];
        if (tw_tsv_split(line, ll, f, 2) != 2)
            continue;
        tw_buf_clear(nb);
        tw_buf_clear(kb);
        if (tw_tsv_unescape(nb, f[0].ptr, f[0].len, NULL) != TW_OK ||
            tw_tsv_unescape(kb, f[1].ptr, f[1].len, NULL) != TW_OK ||
            tw_buf_len(nb) == 0 || tw_buf_len(kb) == 0)
            continue;
        s_chat_t *c = s_find(self, tw_buf_data(nb));
        if (!c)
            c = s_add_chat(self, tw_buf_data(nb));
        if (!c || s_sent_push(self, c, tw_buf_data(kb)) != TW_OK)
            break;
    }
    tw_buf_destroy(&nb);
    tw_buf_destroy(&kb);
    free(data);
}

/* ---- queue ---- */

static tw_rc_t s_push(notifier_outbox_t *self, s_chat_t *c, uint64_t id,
                      const char *key, const char *text, size_t tlen)
{
    if (c->n == c->cap) {
        if (c->head > 0) {
            memmove(c->q, c->q + c->head, (c->n - c->head) * sizeof *c->q);
            c->n -= c->head;
            c->head = 0;
        }
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 8;
            s_item_t *q = realloc(c->q, cap * sizeof *q);
            if (!q)
                return TW_ERR_NOMEM;
            c->q = q;
            c->cap = cap;
        }
    }
    s_item_t *it = &c->q[c->n];
    memset(it, 0, sizeof *it);
    it->id = id;
    it->seq = self->seq++;
    it->key = strdup(key);
    it->text = malloc(tlen + 1);
    if (!it->key || !it->text) {
        free(it->key);
        free(it->text);
        return TW_ERR_NOMEM;
    }
    memcpy(it->text, text, tlen);
    it->text[tlen] = '\0';
    c->n++;
    return TW_OK;
}

static void s_pop(s_chat_t *c)
{
    assert(c->head < c->n);
    free(c->q[c->head].key);
    free(c->q[c->head].text);
    c->head++;
    if (c->head == c->n) {
        c->head = c->n = 0;
        c->full_drops = 0;
    }
}

typedef struct {
    notifier_outbox_t *self; /* outbox */
    s_chat_t *c;             /* chat being replayed */
} s_replay_t;

static tw_rc_t s_replay_one(void *arg, uint64_t id, const void *data,
                            size_t len)
{
    s_replay_t *r = arg;
    const char *p = data;
    if (len < 2 || p[0] != S_REC_VERSION) {
        tw_log_warn("outbox %s: record %" PRIu64 " of unknown format skipped",
                    r->c->name, id);
        return TW_OK;
    }
    const char *key = p + 1;
    const char *nul = memchr(key, '\0', len - 1);
    if (!nul) {
        tw_log_warn("outbox %s: record %" PRIu64 " malformed, skipped",
                    r->c->name, id);
        return TW_OK;
    }
    const char *text = nul + 1;
    size_t tlen = len - (size_t)(text - p);
    tw_rc_t rc = s_push(r->self, r->c, id, key, text, tlen);
    if (rc == TW_OK)
        r->self->stats.replayed++;
    return rc;
}

static tw_rc_t s_open_journal(notifier_outbox_t *self, s_chat_t *c,
                              tw_err_t *err)
{
    char *path = s_file_name(self->dir, c->name);
    if (!path)
        return TW_ERR_NOMEM;
    tw_rc_t rc = tw_journal_open(&c->j, path, err);
    free(path);
    if (rc != TW_OK)
        return rc;
    if (tw_journal_repaired(c->j) > 0)
        tw_log_warn("outbox %s: %" PRIu64 " bytes of torn tail cut off",
                    c->name, tw_journal_repaired(c->j));
    s_replay_t r = {self, c};
    rc = tw_journal_foreach(c->j, s_replay_one, &r, err);
    return rc == TW_OK ? s_cap(self, c, err) : rc;
}

tw_rc_t notifier_outbox_open(notifier_outbox_t **self_p, const char *dir,
                             const notifier_outbox_opts_t *opts,
                             notifier_send_fn *send, void *arg, tw_err_t *err)
{
    assert(self_p);
    assert(dir);
    assert(send);
    *self_p = NULL;
    tw_rc_t rc = tw_file_mkdirs(dir, 0700, err);
    if (rc != TW_OK)
        return rc;
    notifier_outbox_t *self = calloc(1, sizeof *self);
    if (!self)
        return TW_ERR_NOMEM;
    self->dir = strdup(dir);
    if (!self->dir) {
        free(self);
        return TW_ERR_NOMEM;
    }
    if (opts)
        self->o = *opts;
    notifier_outbox_opts_t *o = &self->o;
    if (o->chat_rate <= 0)
        o->chat_rate = 1;
    if (o->global_rate <= 0)
        o->global_rate = 30;
    if (o->chat_margin_ms == 0)
        o->chat_margin_ms = 25;
    if (o->backoff_min_ms == 0)
        o->backoff_min_ms = 1000;
    if (o->backoff_max_ms == 0)
        o->backoff_max_ms = 60000;
    if (o->bad_token_ms == 0)
        o->bad_token_ms = 600000;
    if (o->gone_ms == 0)
        o->gone_ms = 6LL * 3600 * 1000;
    if (o->max_text == 0)
        o->max_text = TW_TELEGRAM_MAX_TEXT;
    if (o->sent_keep == 0)
        o->sent_keep = 512;
    if (o->max_queue == 0)
        o->max_queue = NOTIFIER_OUTBOX_MAX_QUEUE;
    self->send = send;
    self->arg = arg;
    s_load_chats(self);
    s_load_sent(self);
    DIR *d = opendir(dir);
    if (!d) {
        tw_err_set(err, "unable to read %s", dir);
        notifier_outbox_destroy(&self);
        return TW_ERR_IO;
    }
    struct dirent *de;
    rc = TW_OK;
    while (rc == TW_OK && (de = readdir(d)) != NULL) {
        if (strstr(de->d_name, ".tmp."))
            continue;
        char *name = s_chat_of_file(de->d_name);
        if (!name)
            continue;
        s_chat_t *c = s_find(self, name);
        if (!c)
            c = s_add_chat(self, name);
        free(name);
        if (!c) {
            rc = TW_ERR_NOMEM;
            break;
        }
        if (!c->j)
            rc = s_open_journal(self, c, err);
    }
    closedir(d);
    if (rc != TW_OK) {
        notifier_outbox_destroy(&self);
        return rc;
    }
    *self_p = self;
    return TW_OK;
}

void notifier_outbox_destroy(notifier_outbox_t **self_p)
{
    assert(self_p);
    notifier_outbox_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nchats; i++) {
        s_chat_t *c = &self->chats[i];
        while (c->head < c->n)
            s_pop(c);
        for (size_t k = 0; k < c->nheld; k++)
            free(c->held[k]);
        free(c->held);
        for (size_t k = 0; k < c->nsent; k++)
            free(c->sent[k]);
        free(c->sent);
        free(c->q);
        free(c->name);
        free(c->target);
        tw_journal_destroy(&c->j);
    }
    free(self->chats);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

static bool s_gone(const s_chat_t *c)
{
    return c->gone_until_us != 0 && tw_time_now_us() < c->gone_until_us;
}

bool notifier_outbox_chat_disabled(const notifier_outbox_t *self,
                                   const char *chat_id)
{
    assert(self);
    assert(chat_id);
    const s_chat_t *c = s_find(self, chat_id);
    return c && s_gone(c);
}

/* True when a part with this key is queued, or sent (trimmed or not, as
 * long as it is among the last sent_keep keys of the chat). */
static bool s_has_key(const s_chat_t *c, const char *key)
{
    if (s_in_sent(c, key))
        return true;
    for (size_t i = c->head; i < c->n; i++)
        if (strcmp(c->q[i].key, key) == 0)
            return true;
    for (size_t i = 0; i < c->nheld; i++)
        if (strcmp(c->held[i], key) == 0)
            return true;
    return false;
}

tw_rc_t notifier_outbox_add(notifier_outbox_t *self, const char *chat_id,
                            const char *text, const char *key, tw_err_t *err)
{
    assert(self);
    assert(chat_id);
    assert(text);
    if (!key)
        key = "";
    if (!*chat_id || !*text)
        return TW_ERR_INVALID;
    s_chat_t *c = s_find(self, chat_id);
    if (!c)
        c = s_add_chat(self, chat_id);
    if (!c)
        return TW_ERR_NOMEM;
    if (s_gone(c)) {
        self->stats.dropped++;
        tw_log_warn("chat %s is disabled (%s): message dropped", c->name,
                    c->reason);
        return TW_OK;
    }
    tw_rc_t rc = TW_OK;
    if (!c->j)
        rc = s_open_journal(self, c, err);
    size_t len = strlen(text);
    size_t off = 0;
    tw_buf_t *rec = tw_buf_new();
    if (!rec)
        return TW_ERR_NOMEM;
    /* parts are keyed KEY, KEY#2, KEY#3...: a cause redelivered after a
     * failure half-way through queues only the parts that are missing */
    char pkey[512];
    for (int part = 1; rc == TW_OK && off < len; part++) {
        size_t n = tw_telegram_split(text + off, len - off, self->o.max_text);
        if (part == 1)
            snprintf(pkey, sizeof pkey, "%s", key);
        else
            snprintf(pkey, sizeof pkey, "%s#%d", key, part);
        if (*key && s_has_key(c, pkey)) {
            self->stats.dups++;
            off += n;
            continue;
        }
        /* a part of blanks only is not worth a message (nor accepted) */
        bool blank = true;
        for (size_t i = 0; i < n && blank; i++)
            blank = text[off + i] == ' ' || text[off + i] == '\n';
        if (!blank) {
            tw_buf_clear(rec);
            rc = tw_buf_append_byte(rec, S_REC_VERSION);
            if (rc == TW_OK)
                rc = tw_buf_append(rec, *key ? pkey : "",
                                   strlen(*key ? pkey : "") + 1);
            if (rc == TW_OK)
                rc = tw_buf_append(rec, text + off, n);
            uint64_t id = 0;
            if (rc == TW_OK)
                rc = tw_journal_append(c->j, tw_buf_data(rec), tw_buf_len(rec),
                                       &id, err);
            if (rc == TW_OK)
                rc = s_push(self, c, id, *key ? pkey : "", text + off, n);
            if (rc == TW_OK)
                self->stats.queued++;
        }
        off += n;
    }
    tw_buf_destroy(&rec);
    if (rc == TW_OK)
        rc = s_cap(self, c, err);
    return rc;
}

size_t notifier_outbox_pending(const notifier_outbox_t *self)
{
    assert(self);
    size_t n = 0;
    for (size_t i = 0; i < self->nchats; i++)
        n += self->chats[i].n - self->chats[i].head;
    return n;
}

void notifier_outbox_stats(const notifier_outbox_t *self,
                           notifier_outbox_stats_t *stats)
{
    assert(self);
    assert(stats);
    *stats = self->stats;
}

/* Earliest time chat c may send, given its bucket and the pauses. */
static int64_t s_due(const notifier_outbox_t *self, const s_chat_t *c)
{
    int64_t t = c->next_ms;
    if (c->paused_ms > t)
        t = c->paused_ms;
    if (self->global_next_ms > t)
        t = self->global_next_ms;
    if (self->global_paused_ms > t)
        t = self->global_paused_ms;
    return t;
}

int64_t notifier_outbox_timeout_ms(const notifier_outbox_t *self,
                                   int64_t now_ms)
{
    assert(self);
    int64_t best = -1;
    for (size_t i = 0; i < self->nchats; i++) {
        const s_chat_t *c = &self->chats[i];
        if (c->head == c->n)
            continue;
        int64_t d = s_due(self, c) - now_ms;
        if (d < 0)
            d = 0;
        if (best < 0 || d < best)
            best = d;
    }
    return best;
}

/* Trims c's journal up to what was sent or dropped; the keys held for it
 * go once the trim is on disk (a failed one keeps them, and is tried again
 * at the next call). */
static tw_rc_t s_trim(s_chat_t *c, tw_err_t *err)
{
    if (c->done_upto > c->trimmed_upto) {
        tw_rc_t rc = tw_journal_trim(c->j, c->done_upto, err);
        if (rc != TW_OK)
            return rc;
        c->trimmed_upto = c->done_upto;
    }
    for (size_t i = 0; i < c->nheld; i++)
        free(c->held[i]);
    c->nheld = 0;
    return TW_OK;
}

/* Drops the head part; trims the journal up to it now, or at the next
 * notifier_outbox_commit when trims are deferred (its key is kept until
 * then, so a redelivered cause is still recognised). */
static tw_rc_t s_done(notifier_outbox_t *self, s_chat_t *c, tw_err_t *err)
{
    s_item_t *it = &c->q[c->head];
    c->done_upto = it->id;
    if (self->o.defer_trim && *it->key) {
        char **h = realloc(c->held, (c->nheld + 1) * sizeof *h);
        if (!h)
            return TW_ERR_NOMEM;
        c->held = h;
        c->held[c->nheld++] = it->key;
        it->key = NULL;
    }
    s_pop(c);
    return self->o.defer_trim ? TW_OK : s_trim(c, err);
}

/* Keeps at most max_queue parts queued for c: the oldest beyond go as if
 * sent (trimmed now, or at the next commit with defer_trim). Logged on the
 * first drop since the queue was last empty and then every 100th. */
static tw_rc_t s_cap(notifier_outbox_t *self, s_chat_t *c, tw_err_t *err)
{
    size_t n = c->n - c->head;
    if (n <= self->o.max_queue)
        return TW_OK;
    size_t drop = n - self->o.max_queue;
    tw_rc_t rc = TW_OK;
    bool trim = self->o.defer_trim;
    self->o.defer_trim = true; /* one trim for all of them below */
    for (size_t i = 0; i < drop && rc == TW_OK; i++)
        rc = s_done(self, c, err);
    self->o.defer_trim = trim;
    if (rc == TW_OK && !trim)
        rc = s_trim(c, err);
    self->stats.dropped += drop;
    self->stats.overflowed += drop;
    uint64_t before = c->full_drops;
    c->full_drops += drop;
    if (before == 0 || before / 100 != c->full_drops / 100)
        tw_log_warn("chat %s: outbox full (%zu queued, outbox_max): oldest "
                    "message(s) dropped, %" PRIu64 " since it was last "
                    "empty, %" PRIu64 " in all",
                    c->name, self->o.max_queue, c->full_drops,
                    self->stats.overflowed);
    return rc;
}

tw_rc_t notifier_outbox_commit(notifier_outbox_t *self, tw_err_t *err)
{
    assert(self);
    tw_rc_t rc = TW_OK;
    for (size_t i = 0; i < self->nchats && rc == TW_OK; i++)
        rc = s_trim(&self->chats[i], err);
    return rc;
}

/* The chat can never receive: drop everything queued for it. */
static tw_rc_t s_disable(notifier_outbox_t *self, s_chat_t *c,
                         const tw_telegram_result_t *res, tw_err_t *err)
{
    size_t n = c->n - c->head;
    c->gone_until_us = tw_time_now_us() + self->o.gone_ms * 1000;
    snprintf(c->reason, sizeof c->reason, "%d %s", res->error_code,
             res->description);
    tw_log_error("chat %s: %s: disabled for %" PRId64 " s, %zu queued "
                 "message(s) dropped",
                 c->name, c->reason, self->o.gone_ms / 1000, n);
    self->stats.dropped += n;
    tw_rc_t rc = TW_OK;
    while (c->head < c->n && rc == TW_OK)
        rc = s_done(self, c, err);
    if (rc == TW_OK)
        rc = s_save_chats(self, err);
    return rc;
}

static uint32_t s_jitter(uint32_t ms)
{
    /* half fixed, half random: keeps retries of chats apart */
    return ms / 2 + (uint32_t)(tw_time_now_us() % (ms / 2 + 1));
}

/* Handles the reply to the head part of c. */
static tw_rc_t s_result(notifier_outbox_t *self, s_chat_t *c, int64_t now_ms,
                        const tw_telegram_result_t *res, tw_err_t *err)
{
    s_item_t *it = &c->q[c->head];
    switch (res->status) {
    case TW_TELEGRAM_OK:
        self->stats.sent++;
        self->backoff_ms = 0;
        bool was_gone = c->gone_until_us != 0;
        if (was_gone) {
            c->gone_until_us = 0;
            c->reason[0] = '\0';
            tw_log_info("chat %s: reachable again", c->name);
        }
        /* the part is done first: a failed save of chats.tsv must not
         * leave a sent part queued (it would be sent again after an exit) */
        tw_rc_t rc = s_done(self, c, err);
        if (rc == TW_OK && was_gone) {
            tw_err_t cerr = {{0}, 0, 0};
            if (s_save_chats(self, &cerr) != TW_OK)
                tw_log_warn("chat %s: reachable again, not saved yet (the "
                            "next save of chats.tsv writes it): %s",
                            c->name, cerr.msg);
        }
        return rc;
    case TW_TELEGRAM_RETRY:
        self->stats.retried++;
        if (res->retry_after_ms > 0) {
            self->stats.limited++;
            /* a chat idle for longer than its interval cannot have hit
             * its own limit: the whole bot is being limited */
            int64_t interval = (int64_t)(1000.0 / self->o.chat_rate);
            bool global =
                c->last_send_ms == 0 || now_ms - c->last_send_ms > interval * 2;
            if (global)
                self->global_paused_ms = now_ms + res->retry_after_ms;
            else
                c->paused_ms = now_ms + res->retry_after_ms;
            tw_log_warn("chat %s: %s: pausing %s for %" PRId64 " ms", c->name,
                        res->description, global ? "all chats" : "this chat",
                        res->retry_after_ms);
        } else {
            self->backoff_ms =
                self->backoff_ms == 0
                    ? self->o.backoff_min_ms
                    : (self->backoff_ms * 2 > self->o.backoff_max_ms
                           ? self->o.backoff_max_ms
                           : self->backoff_ms * 2);
            uint32_t wait = s_jitter(self->backoff_ms);
            self->global_paused_ms = now_ms + wait;
            tw_log_warn("chat %s: %s: retrying in %u ms", c->name,
                        res->description, wait);
        }
        return TW_OK;
    case TW_TELEGRAM_MIGRATED: {
        char id[32];
        snprintf(id, sizeof id, "%" PRId64, res->migrate_to);
        if (strcmp(id, c->target) == 0) {
            /* migrated to itself: resending would loop */
            self->stats.dropped++;
            tw_log_error("chat %s: %s to the same id, message dropped", c->name,
                         res->description);
            return s_done(self, c, err);
        }
        char *t = strdup(id);
        if (!t)
            return TW_ERR_NOMEM;
        tw_log_warn("chat %s migrated to %s: resending there (update "
                    "chat_ids in the config)",
                    c->target, id);
        free(c->target);
        c->target = t;
        self->stats.migrated++;
        return s_save_chats(self, err);
    }
    case TW_TELEGRAM_ENTITIES:
        if (!it->plain) {
            tw_log_warn("chat %s: %s: resending without formatting", c->name,
                        res->description);
            it->plain = true;
            return TW_OK;
        }
        /* even plain text was refused */
        __attribute__((fallthrough));
    case TW_TELEGRAM_REJECTED:
        self->stats.dropped++;
        tw_log_error("chat %s: message refused (%d %s), dropped", c->name,
                     res->error_code, res->description);
        return s_done(self, c, err);
    case TW_TELEGRAM_CHAT_GONE:
        return s_disable(self, c, res, err);
    case TW_TELEGRAM_BAD_TOKEN:
    default:
        self->global_paused_ms = now_ms + self->o.bad_token_ms;
        tw_log_error("telegram: %d %s: the bot token is refused; sending "
                     "paused for %u s (messages kept)",
                     res->error_code, res->description,
                     self->o.bad_token_ms / 1000);
        return TW_OK;
    }
}

tw_rc_t notifier_outbox_run(notifier_outbox_t *self, int64_t now_ms, int max,
                            int *sent, tw_err_t *err)
{
    assert(self);
    int tried = 0;
    tw_rc_t rc = TW_OK;
    while (tried < max && rc == TW_OK) {
        /* the due chat whose head arrived first */
        s_chat_t *best = NULL;
        for (size_t i = 0; i < self->nchats; i++) {
            s_chat_t *c = &self->chats[i];
            if (c->head == c->n || s_due(self, c) > now_ms)
                continue;
            if (!best || c->q[c->head].seq < best->q[best->head].seq)
                best = c;
        }
        if (!best)
            break;
        s_item_t *it = &best->q[best->head];
        if (*it->key && !it->noted) {
            /* the key outlives the trim: written before the first try, so
             * a crash between Telegram's ok and the trim (which resends
             * the part once) is the only window, as without the file */
            tw_rc_t nrc = TW_OK;
            tw_err_t serr = {{0}, 0, 0};
            if (!s_in_sent(best, it->key)) {
                nrc = s_sent_push(self, best, it->key);
                if (nrc == TW_OK) {
                    nrc = s_save_sent(self, &serr);
                    if (nrc != TW_OK) /* not on disk: not known as sent */
                        free(best->sent[--best->nsent]);
                }
            }
            if (nrc == TW_ERR_NOMEM)
                return nrc;
            if (nrc != TW_OK) {
                /* not sent until the key is on disk: retried later */
                self->global_paused_ms = now_ms + self->o.backoff_min_ms;
                tw_log_warn("outbox: unable to save sent.tsv (sending "
                            "paused): %s",
                            serr.msg);
                break;
            }
            it->noted = true;
        }
        char *html = NULL;
        if (!it->plain) {
            html = tw_telegram_escape_html(it->text, strlen(it->text));
            if (!html)
                return TW_ERR_NOMEM;
        }
        tw_telegram_result_t res;
        memset(&res, 0, sizeof res);
        tw_rc_t src = self->send(self->arg, best->target,
                                 html ? html : it->text, html != NULL, &res);
        free(html);
        if (src != TW_OK) {
            memset(&res, 0, sizeof res);
            res.status = TW_TELEGRAM_RETRY;
            snprintf(res.description, sizeof res.description, "%s",
                     tw_rc_str(src));
        }
        tried++;
        /* the buckets: one message per interval per chat and globally */
        best->last_send_ms = now_ms;
        best->next_ms = now_ms + (int64_t)(1000.0 / self->o.chat_rate) +
                        self->o.chat_margin_ms;
        self->global_next_ms =
            now_ms + (int64_t)(1000.0 / self->o.global_rate + 0.999);
        rc = s_result(self, best, now_ms, &res, err);
        if (res.status == TW_TELEGRAM_MIGRATED ||
            (res.status == TW_TELEGRAM_ENTITIES && best->head < best->n))
            best->next_ms = now_ms; /* resend at once */
    }
    if (sent)
        *sent = tried;
    return rc;
}
