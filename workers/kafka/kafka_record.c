/* kafka_record - topics, field tables, records of a frame, JSON. */
#include "kafka_record.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tw_buf.h"

/* yt_videos: exactly the seed's value (upper-case names, as ksqlDB
 * registers them). A hidden count is null, never 0. */
static const kafka_field_t s_videos[] = {
    {"VIDEO_TIMESTAMP", KAFKA_T_STRING, true,
     "snippet.publishedAt, e.g. 2024-05-01T12:00:00Z"},
    {"TITLE", KAFKA_T_STRING, true, "video title"},
    {"DESCRIPTION", KAFKA_T_STRING, true, "video description"},
    {"VIEWS", KAFKA_T_LONG, true, "view count; null when hidden"},
    {"LIKES", KAFKA_T_LONG, true, "like count; null when hidden"},
    {"FAVORITES", KAFKA_T_LONG, true, "favorite count; null when hidden"},
    {"COMMENTS", KAFKA_T_LONG, true, "comment count; null when hidden"},
};

/* yt_chat: the columns of DATA/comments, plus replaces. */
static const kafka_field_t s_chat[] = {
    {"received_at", KAFKA_T_STRING, false, "when tubewatch fetched it"},
    {"published_at", KAFKA_T_STRING, true, "when YouTube says it was posted"},
    {"channel_id", KAFKA_T_STRING, false, "the stream's channel"},
    {"video_id", KAFKA_T_STRING, false, "the stream (also the record key)"},
    {"message_id", KAFKA_T_STRING, false,
     "YouTube's message id (for a deletion: the deleted message's)"},
    {"kind", KAFKA_T_STRING, false,
     "text superchat sticker membership gift jewels deleted other"},
    {"author_channel_id", KAFKA_T_STRING, true, "author's channel"},
    {"author_name", KAFKA_T_STRING, true, "author's display name"},
    {"amount", KAFKA_T_STRING, true, "superchat or sticker amount"},
    {"text", KAFKA_T_STRING, true, "message text"},
    {"tokens", KAFKA_T_STRING, true, "tokens of the text, space-separated"},
    {"replaces", KAFKA_T_BOOL, false,
     "the real message replacing a placeholder with the same id"},
};

/* yt_viewers: the columns of DATA/viewers. */
static const kafka_field_t s_viewers[] = {
    {"sampled_at", KAFKA_T_STRING, false, "sample time"},
    {"channel_id", KAFKA_T_STRING, false, "channel"},
    {"video_id", KAFKA_T_STRING, false, "video (also the record key)"},
    {"concurrent_viewers", KAFKA_T_LONG, true, "concurrent viewers"},
    {"views", KAFKA_T_LONG, true, "view count; null when hidden"},
    {"likes", KAFKA_T_LONG, true, "like count; null when hidden"},
    {"comments", KAFKA_T_LONG, true, "comment count; null when hidden"},
};

/* yt_stream_events: the scanner's stream.event. */
static const kafka_field_t s_events[] = {
    {"video_id", KAFKA_T_STRING, false, "video; empty for quota events"},
    {"channel_id", KAFKA_T_STRING, false, "channel"},
    {"title", KAFKA_T_STRING, false, "title"},
    {"state", KAFKA_T_STRING, false,
     "scheduled live ended cancelled members_only private deleted "
     "unavailable unknown"},
    {"scheduled_start", KAFKA_T_STRING, true, "scheduled start"},
    {"actual_start", KAFKA_T_STRING, true, "actual start"},
    {"actual_end", KAFKA_T_STRING, true, "actual end"},
    {"reason", KAFKA_T_STRING, false, "why, or empty"},
};

#define S_N(a) (sizeof(a) / sizeof((a)[0]))

const kafka_field_t *kafka_record_fields(kafka_topic_t t, size_t *n)
{
    assert(n);
    switch (t) {
    case KAFKA_TOPIC_VIDEOS:
        *n = S_N(s_videos);
        return s_videos;
    case KAFKA_TOPIC_CHAT:
        *n = S_N(s_chat);
        return s_chat;
    case KAFKA_TOPIC_VIEWERS:
        *n = S_N(s_viewers);
        return s_viewers;
    case KAFKA_TOPIC_EVENTS:
        *n = S_N(s_events);
        return s_events;
    default:
        *n = 0;
        return NULL;
    }
}

const char *kafka_record_topic_str(kafka_topic_t t)
{
    static const char *const names[] = {"videos", "chat", "viewers", "events"};
    return (unsigned)t < KAFKA_TOPIC_COUNT ? names[t] : "?";
}

static bool s_has_counts(const tw_msg_stats_sample_t *s)
{
    return s->views.set || s->likes.set || s->favorites.set || s->comments.set;
}

size_t kafka_record_count(const tw_msg_t *m)
{
    assert(m);
    switch (m->id) {
    case TW_MSG_CHAT_BATCH:
        return m->u.chat_batch.items.n;
    case TW_MSG_CHAT_TOKENIZED:
        return m->u.chat_tokenized.items.n;
    case TW_MSG_STATS_SAMPLE:
        return (size_t)s_has_counts(&m->u.stats_sample) +
               (size_t)m->u.stats_sample.concurrent_viewers.set;
    case TW_MSG_STREAM_EVENT:
        return 1;
    default:
        return 0;
    }
}

static kafka_val_t s_str(const char *s)
{
    return (kafka_val_t){.set = s != NULL, .s = s};
}

/* A string that is null when empty. */
static kafka_val_t s_ostr(const char *s)
{
    return (kafka_val_t){.set = s && *s, .s = s};
}

static kafka_val_t s_count(tw_ou64_t v)
{
    kafka_val_t r = {.set = v.set};
    r.n = v.v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v.v;
    return r;
}

/* A time as RFC 3339 in slot k of r; null when us <= 0. */
static kafka_val_t s_time(kafka_record_t *r, int k, int64_t us)
{
    if (us <= 0)
        return (kafka_val_t){.set = false};
    tw_time_format(us, r->times[k]);
    return s_str(r->times[k]);
}

/* snippet.publishedAt's own shape: whole seconds, "Z". */
static kafka_val_t s_published(kafka_record_t *r, int k, tw_oi64_t us)
{
    if (!us.set)
        return (kafka_val_t){.set = false};
    time_t t = (time_t)(us.v / 1000000 - (us.v % 1000000 < 0));
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(r->times[k], sizeof r->times[k],
                                       "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return (kafka_val_t){.set = false};
    return s_str(r->times[k]);
}

/* Joins tokens with ' ' into r->tokens. */
static kafka_val_t s_tokens(kafka_record_t *r, const tw_strs_t *t)
{
    if (!t || t->n == 0)
        return (kafka_val_t){.set = false};
    size_t len = 1;
    for (size_t i = 0; i < t->n; i++)
        len += strlen(t->v[i] ? t->v[i] : "") + 1;
    r->tokens = malloc(len);
    if (!r->tokens)
        abort(); /* STYLE: allocation failure is fatal; we get restarted */
    size_t off = 0;
    for (size_t i = 0; i < t->n; i++) {
        const char *s = t->v[i] ? t->v[i] : "";
        if (i)
            r->tokens[off++] = ' ';
        memcpy(r->tokens + off, s, strlen(s));
        off += strlen(s);
    }
    r->tokens[off] = '\0';
    return s_str(r->tokens);
}

static void s_chat_item(kafka_record_t *r, const char *video,
                        const char *channel, const tw_chat_item_t *it,
                        const tw_strs_t *tokens)
{
    bool del = it->kind == TW_CHAT_KIND_DELETED;
    r->topic = KAFKA_TOPIC_CHAT;
    r->key = video;
    int64_t recv = it->received_usec > 0 ? it->received_usec : tw_time_now_us();
    r->v[0] = s_time(r, 0, recv);
    r->v[1] = s_time(r, 1, it->published_usec);
    r->v[2] = s_str(channel);
    r->v[3] = s_str(video);
    r->v[4] = s_str(del && it->ref_id && *it->ref_id ? it->ref_id : it->id);
    r->v[5] = s_str(tw_proto_chat_kind_str(it->kind));
    r->v[6] = s_ostr(it->author_channel_id);
    r->v[7] = s_ostr(it->author_name);
    r->v[8] = s_ostr(it->amount);
    r->v[9] = del ? (kafka_val_t){.set = false} : s_ostr(it->text);
    r->v[10] = del ? (kafka_val_t){.set = false} : s_tokens(r, tokens);
    r->v[11] = (kafka_val_t){.set = true, .b = it->replaces};
}

void kafka_record_make(const tw_msg_t *m, size_t i, kafka_record_t *r)
{
    assert(m);
    assert(r);
    assert(i < kafka_record_count(m));
    memset(r, 0, sizeof *r);
    switch (m->id) {
    case TW_MSG_CHAT_BATCH: {
        const tw_msg_chat_batch_t *b = &m->u.chat_batch;
        s_chat_item(r, b->video_id, b->channel_id, &b->items.v[i], NULL);
        break;
    }
    case TW_MSG_CHAT_TOKENIZED: {
        const tw_msg_chat_tokenized_t *b = &m->u.chat_tokenized;
        const tw_tok_item_t *t = &b->items.v[i];
        tw_chat_item_t it = tw_proto_chat_item(t);
        s_chat_item(r, b->video_id, b->channel_id, &it, &t->tokens);
        break;
    }
    case TW_MSG_STATS_SAMPLE: {
        const tw_msg_stats_sample_t *s = &m->u.stats_sample;
        r->key = s->video_id;
        r->sampled_at_us = s->sampled_at_us;
        if (i == 0 && s_has_counts(s)) {
            r->topic = KAFKA_TOPIC_VIDEOS;
            r->v[0] = s_published(r, 0, s->published_at_us);
            r->v[1] = s_ostr(s->title);
            r->v[2] = s_str(s->description);
            r->v[3] = s_count(s->views);
            r->v[4] = s_count(s->likes);
            r->v[5] = s_count(s->favorites);
            r->v[6] = s_count(s->comments);
        } else {
            r->topic = KAFKA_TOPIC_VIEWERS;
            r->v[0] = s_time(r, 0,
                             s->sampled_at_us > 0 ? s->sampled_at_us
                                                  : tw_time_now_us());
            r->v[1] = s_str(s->channel_id);
            r->v[2] = s_str(s->video_id);
            r->v[3] = s_count(s->concurrent_viewers);
            r->v[4] = s_count(s->views);
            r->v[5] = s_count(s->likes);
            r->v[6] = s_count(s->comments);
        }
        break;
    }
    case TW_MSG_STREAM_EVENT: {
        const tw_msg_stream_event_t *e = &m->u.stream_event;
        r->topic = KAFKA_TOPIC_EVENTS;
        r->key = e->video_id ? e->video_id : "";
        r->v[0] = s_str(e->video_id ? e->video_id : "");
        r->v[1] = s_str(e->channel_id ? e->channel_id : "");
        r->v[2] = s_str(e->title ? e->title : "");
        r->v[3] = s_str(tw_proto_stream_state_str(e->state));
        r->v[4] = s_time(
            r, 0, e->scheduled_start_us.set ? e->scheduled_start_us.v : 0);
        r->v[5] =
            s_time(r, 1, e->actual_start_us.set ? e->actual_start_us.v : 0);
        r->v[6] = s_time(r, 2, e->actual_end_us.set ? e->actual_end_us.v : 0);
        r->v[7] = s_str(e->reason ? e->reason : "");
        break;
    }
    default:
        break;
    }
    if (!r->key)
        r->key = "";
    /* A required string is never null on the wire. */
    size_t n;
    const kafka_field_t *f = kafka_record_fields(r->topic, &n);
    for (size_t k = 0; k < n; k++)
        if (!f[k].nullable && f[k].type == KAFKA_T_STRING && !r->v[k].set)
            r->v[k] = s_str("");
}

void kafka_record_clear(kafka_record_t *r)
{
    if (!r)
        return;
    free(r->tokens);
    r->tokens = NULL;
}

/* Appends to b; out of memory is fatal (STYLE: the worker is restarted). */
static void s_add(tw_buf_t *b, const void *p, size_t n)
{
    if (tw_buf_append(b, p, n) != TW_OK)
        abort();
}

static void s_addc(tw_buf_t *b, char c)
{
    s_add(b, &c, 1);
}

/* Appends s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static void s_json_str(tw_buf_t *b, const char *s)
{
    s_addc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            s_addc(b, '\\');
            s_addc(b, (char)c);
            p++;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            if (c == '\n')
                s_add(b, "\\n", 2);
            else if (c == '\r')
                s_add(b, "\\r", 2);
            else if (c == '\t')
                s_add(b, "\\t", 2);
            else
                s_add(b, e, 6);
            p++;
        } else if (c < 0x80) {
            s_addc(b, (char)c);
            p++;
        } else {
            size_t n = c >= 0xf0 && c <= 0xf4   ? 4
                       : c >= 0xe0              ? 3
                       : c >= 0xc2 && c <= 0xdf ? 2
                                                : 0;
            uint32_t cp = n == 4 ? c & 7 : n == 3 ? c & 15 : c & 31;
            size_t k = 1;
            for (; n && k < n && (p[k] & 0xc0) == 0x80; k++)
                cp = cp << 6 | (p[k] & 0x3f);
            bool ok = n && k == n && !(n == 3 && cp < 0x800) &&
                      !(n == 4 && (cp < 0x10000 || cp > 0x10ffff)) &&
                      !(cp >= 0xd800 && cp <= 0xdfff);
            if (ok) {
                s_add(b, p, n);
                p += n;
            } else {
                s_add(b, "\xef\xbf\xbd", 3);
                p++;
            }
        }
    }
    s_addc(b, '"');
}

tw_rc_t kafka_record_json(const kafka_record_t *r, char **out, size_t *len,
                          tw_err_t *err)
{
    assert(r);
    assert(out);
    assert(len);
    size_t n;
    const kafka_field_t *f = kafka_record_fields(r->topic, &n);
    tw_buf_t *b = tw_buf_new();
    if (!b) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    s_addc(b, '{');
    for (size_t k = 0; k < n; k++) {
        if (k)
            s_addc(b, ',');
        s_json_str(b, f[k].name);
        s_addc(b, ':');
        const kafka_val_t *v = &r->v[k];
        if (!v->set)
            s_add(b, "null", 4);
        else if (f[k].type == KAFKA_T_STRING)
            s_json_str(b, v->s ? v->s : "");
        else if (f[k].type == KAFKA_T_LONG) {
            char num[24];
            int w = snprintf(num, sizeof num, "%" PRId64, v->n);
            s_add(b, num, (size_t)w);
        } else {
            s_add(b, v->b ? "true" : "false", v->b ? 4 : 5);
        }
    }
    s_addc(b, '}');
    *out = tw_buf_steal(b, len);
    tw_buf_destroy(&b);
    if (!*out) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    return TW_OK;
}
