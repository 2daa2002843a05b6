/* tw_ytpage - watch page / player / next / updated_metadata extraction. */
#include "tw_ytpage.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tw_json.h"
#include "tw_strpool.h"

#define MAX_UPCOMING 256
#define MAX_STREAMS  256

struct tw_ytpage {
    tw_json_t *json;                         /* reused tape */
    tw_ytpage_info_t info;                   /* merged result */
    tw_strpool_t pool;                       /* owned strings */
    tw_ytpage_upcoming_t up[MAX_UPCOMING];   /* upcoming videos */
    size_t nup;                              /* entries in up */
    tw_ytpage_stream_t streams[MAX_STREAMS]; /* own upcoming/live entries */
    size_t nstreams;                         /* entries in streams */
    bool live_hint;                          /* a live view count seen */
};

tw_ytpage_t *tw_ytpage_new(void)
{
    tw_ytpage_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->json = tw_json_new();
    if (!self->json) {
        free(self);
        return NULL;
    }
    tw_ytpage_reset(self);
    return self;
}

void tw_ytpage_destroy(tw_ytpage_t **self_p)
{
    assert(self_p);
    tw_ytpage_t *self = *self_p;
    if (!self)
        return;
    tw_strpool_fini(&self->pool);
    tw_json_destroy(&self->json);
    free(self);
    *self_p = NULL;
}

void tw_ytpage_reset(tw_ytpage_t *self)
{
    assert(self);
    tw_strpool_clear(&self->pool);
    self->nup = 0;
    self->nstreams = 0;
    self->live_hint = false;
    self->info = (tw_ytpage_info_t){
        .play_status = "",
        .play_reason = "",
        .video_id = "",
        .title = "",
        .channel_id = "",
        .chat_continuation = "",
        .chat_video_id = "",
        .top_chat_continuation = "",
        .viewers = -1,
        .viewers_text = "",
        .views = -1,
        .likes = -1,
        .poll_delay_ms = -1,
    };
}

const tw_ytpage_info_t *tw_ytpage_info(const tw_ytpage_t *self)
{
    assert(self);
    return &self->info;
}

size_t tw_ytpage_upcoming_count(const tw_ytpage_t *self)
{
    assert(self);
    return self->nup;
}

const tw_ytpage_upcoming_t *tw_ytpage_upcoming(const tw_ytpage_t *self,
                                               size_t i)
{
    assert(self);
    assert(i < self->nup);
    return &self->up[i];
}

size_t tw_ytpage_stream_count(const tw_ytpage_t *self)
{
    assert(self);
    return self->nstreams;
}

const tw_ytpage_stream_t *tw_ytpage_stream(const tw_ytpage_t *self, size_t i)
{
    assert(self);
    assert(i < self->nstreams);
    return &self->streams[i];
}

static const char *s_keep(tw_ytpage_t *self, const char *s, size_t n)
{
    const char *c = tw_strpool_keep(&self->pool, s, n);
    return c ? c : "";
}

/* The string value v (only strings), copied; "" otherwise. */
static const char *s_keep_str(tw_ytpage_t *self, tw_json_ref_t v)
{
    if (tw_json_type(self->json, v) != TW_JSON_STRING)
        return "";
    size_t n;
    const char *s = tw_json_str(self->json, v, &n);
    return s_keep(self, s, n);
}

/* simpleText / runs / plain string text of v, copied. */
static const char *s_keep_txt(tw_ytpage_t *self, tw_json_ref_t v)
{
    const tw_json_t *j = self->json;
    if (tw_json_type(j, v) == TW_JSON_STRING)
        return s_keep_str(self, v);
    if (tw_json_type(j, v) != TW_JSON_OBJECT)
        return "";
    tw_json_ref_t st = tw_json_get(j, v, "simpleText");
    if (st)
        return s_keep_str(self, st);
    tw_json_ref_t runs = tw_json_get(j, v, "runs");
    size_t total = 0, n;
    for (tw_json_ref_t r = tw_json_first(j, runs); r; r = tw_json_next(j, r))
        if (tw_json_type(j, tw_json_get(j, r, "text")) == TW_JSON_STRING) {
            tw_json_str(j, tw_json_get(j, r, "text"), &n);
            total += n;
        }
    char *buf = malloc(total + 1);
    if (!buf)
        return "";
    size_t pos = 0;
    for (tw_json_ref_t r = tw_json_first(j, runs); r; r = tw_json_next(j, r)) {
        tw_json_ref_t t = tw_json_get(j, r, "text");
        if (tw_json_type(j, t) == TW_JSON_STRING) {
            const char *s = tw_json_str(j, t, &n);
            memcpy(buf + pos, s, n);
            pos += n;
        }
    }
    const char *out = s_keep(self, buf, pos);
    free(buf);
    return out;
}

/* Unix seconds in a string or number -> µs; 0 when invalid. */
static int64_t s_unix_usec(const tw_json_t *j, tw_json_ref_t v)
{
    int64_t secs;
    if (tw_json_int64(j, v, &secs) != TW_OK || secs <= 0 ||
        secs > INT64_MAX / 1000000)
        return 0;
    return secs * 1000000;
}

static tw_ytpage_play_t s_play(const tw_json_t *j, tw_json_ref_t status)
{
    static const struct {
        const char *name;      /* status text */
        tw_ytpage_play_t play; /* class */
    } map[] = {
        {"OK", TW_YTPAGE_PLAY_OK},
        {"LIVE_STREAM_OFFLINE", TW_YTPAGE_PLAY_OFFLINE},
        {"LOGIN_REQUIRED", TW_YTPAGE_PLAY_LOGIN_REQUIRED},
        {"UNPLAYABLE", TW_YTPAGE_PLAY_UNPLAYABLE},
        {"ERROR", TW_YTPAGE_PLAY_ERROR},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (tw_json_str_eq(j, status, map[i].name))
            return map[i].play;
    return TW_YTPAGE_PLAY_OTHER;
}

/* True when ASCII-case-folded text contains needle. */
static bool s_has_word(const char *text, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return false;
}

/* A members-only video: LOGIN_REQUIRED (up to 2025) or UNPLAYABLE (2026)
 * with the channel-membership offer as error screen, or a reason that says
 * so in English. */
static bool s_members_only(const tw_json_t *j, tw_json_ref_t ps,
                           tw_ytpage_play_t play, const char *reason)
{
    if (play != TW_YTPAGE_PLAY_LOGIN_REQUIRED &&
        play != TW_YTPAGE_PLAY_UNPLAYABLE)
        return false;
    if (tw_json_path(j, ps, "errorScreen",
                     "playerLegacyDesktopYpcOfferRenderer", NULL))
        return true;
    return s_has_word(reason, "members-only") ||
           s_has_word(reason, "members only") ||
           s_has_word(reason, "join this channel");
}

/* Player response parts at the root: playabilityStatus, videoDetails,
 * microformat. */
static void s_player(tw_ytpage_t *self, tw_json_ref_t root)
{
    const tw_json_t *j = self->json;
    tw_ytpage_info_t *in = &self->info;
    tw_json_ref_t ps = tw_json_get(j, root, "playabilityStatus");
    if (tw_json_type(j, ps) == TW_JSON_OBJECT) {
        tw_json_ref_t st = tw_json_get(j, ps, "status");
        in->play = s_play(j, st);
        in->play_status = s_keep_str(self, st);
        tw_json_ref_t reason = tw_json_get(j, ps, "reason");
        if (!reason)
            reason = tw_json_path(j, ps, "errorScreen",
                                  "playerErrorMessageRenderer", "reason", NULL);
        in->play_reason = s_keep_txt(self, reason);
        in->members_only = s_members_only(j, ps, in->play, in->play_reason);
        tw_json_ref_t ls = tw_json_path(j, ps, "liveStreamability",
                                        "liveStreamabilityRenderer", NULL);
        int64_t ms;
        if (tw_json_int64(j, tw_json_get(j, ls, "pollDelayMs"), &ms) == TW_OK)
            in->poll_delay_ms = ms;
        tw_json_ref_t slate = tw_json_path(j, ls, "offlineSlate",
                                           "liveStreamOfflineSlateRenderer",
                                           "scheduledStartTime", NULL);
        int64_t us = s_unix_usec(j, slate);
        if (us)
            in->scheduled_start_usec = us;
    }
    tw_json_ref_t vd = tw_json_get(j, root, "videoDetails");
    bool upcoming = false, is_live = false, live_content = false;
    bool have_vd = tw_json_type(j, vd) == TW_JSON_OBJECT;
    if (have_vd) {
        tw_json_ref_t v = tw_json_get(j, vd, "videoId");
        if (v)
            in->video_id = s_keep_str(self, v);
        v = tw_json_get(j, vd, "title");
        if (v)
            in->title = s_keep_str(self, v);
        v = tw_json_get(j, vd, "channelId");
        if (v)
            in->channel_id = s_keep_str(self, v);
        upcoming = tw_json_is_true(j, tw_json_get(j, vd, "isUpcoming"));
        is_live = tw_json_is_true(j, tw_json_get(j, vd, "isLive"));
        live_content = tw_json_is_true(j, tw_json_get(j, vd, "isLiveContent"));
        uint64_t views;
        if (tw_json_u64(j, tw_json_get(j, vd, "viewCount"), &views) == TW_OK &&
            views <= INT64_MAX)
            in->views = (int64_t)views;
    }
    tw_json_ref_t mf =
        tw_json_path(j, root, "microformat", "playerMicroformatRenderer", NULL);
    tw_json_ref_t lbd = tw_json_get(j, mf, "liveBroadcastDetails");
    if (!*in->channel_id) {
        tw_json_ref_t v = tw_json_get(j, mf, "externalChannelId");
        if (v)
            in->channel_id = s_keep_str(self, v);
    }
    if (!*in->title) {
        tw_json_ref_t v = tw_json_get(j, mf, "title");
        if (v)
            in->title = s_keep_txt(self, v);
    }
    bool live_now = tw_json_is_true(j, tw_json_get(j, lbd, "isLiveNow"));
    int64_t start = tw_json_time_us(j, tw_json_get(j, lbd, "startTimestamp"));
    int64_t end = tw_json_time_us(j, tw_json_get(j, lbd, "endTimestamp"));
    if (!have_vd && !lbd && !ps)
        return;
    if (upcoming) {
        in->state = TW_YTPAGE_STATE_UPCOMING;
        if (!in->scheduled_start_usec && start)
            in->scheduled_start_usec = start;
    } else {
        if (start)
            in->start_usec = start;
        if (end)
            in->end_usec = end;
        if (live_now || (is_live && !end))
            in->state = TW_YTPAGE_STATE_LIVE;
        else if (end || (lbd && !live_now))
            in->state = TW_YTPAGE_STATE_ENDED;
        else if (have_vd && !live_content)
            in->state = TW_YTPAGE_STATE_VOD;
        else if (have_vd && live_content)
            in->state = TW_YTPAGE_STATE_ENDED;
    }
}

static int s_b64(unsigned c)
{
    if (c >= 'A' && c <= 'Z')
        return (int)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (int)(c - 'a' + 26);
    if (c >= '0' && c <= '9')
        return (int)(c - '0' + 52);
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

static int s_hex(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* Decodes base64 (standard or URL alphabet, '=' padding optional, any
 * character possibly %XX-escaped) into out (room for len bytes). False on
 * a character outside the alphabet, data after padding or a dangling
 * 6-bit group. */
static bool s_b64_decode(const char *s, size_t len, unsigned char *out,
                         size_t *nout)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0, digits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3)
                return false;
            int hi = s_hex((unsigned char)s[i + 1]);
            int lo = s_hex((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (unsigned)(hi * 16 + lo);
            i += 2;
        }
        if (c == '=') {
            pad++;
            continue;
        }
        int v = s_b64(c);
        if (v < 0 || pad)
            return false;
        digits++;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (digits % 4 == 1 || pad > 2)
        return false;
    *nout = n;
    return true;
}

/* One protobuf field read from a buffer. */
typedef struct {
    uint64_t field;          /* field number */
    int wire;                /* wire type: 0, 1, 2 or 5 */
    uint64_t num;            /* varint value (wire 0) */
    const unsigned char *at; /* bytes (wire 2) */
    size_t len;              /* their length */
} s_pb_t;

static bool s_pb_varint(const unsigned char *b, size_t n, size_t *pos,
                        uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= n)
            return false;
        unsigned char c = b[(*pos)++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Reads the field at *pos; false at the end or on malformed data. */
static bool s_pb_next(const unsigned char *b, size_t n, size_t *pos, s_pb_t *f)
{
    uint64_t key;
    if (*pos >= n || !s_pb_varint(b, n, pos, &key))
        return false;
    f->field = key >> 3;
    f->wire = (int)(key & 7);
    f->at = NULL;
    f->len = 0;
    f->num = 0;
    if (f->field == 0 || f->field > 0x1fffffff)
        return false;
    switch (f->wire) {
    case 0:
        return s_pb_varint(b, n, pos, &f->num);
    case 1:
    case 5: {
        size_t w = f->wire == 1 ? 8 : 4;
        if (n - *pos < w)
            return false;
        *pos += w;
        return true;
    }
    case 2: {
        uint64_t l;
        if (!s_pb_varint(b, n, pos, &l) || l > n - *pos)
            return false;
        f->at = b + *pos;
        f->len = (size_t)l;
        *pos += (size_t)l;
        return true;
    }
    default:
        return false;
    }
}

/* True when b[0..n) is a sequence of well-formed fields. */
static bool s_pb_valid(const unsigned char *b, size_t n)
{
    size_t pos = 0;
    s_pb_t f;
    while (pos < n)
        if (!s_pb_next(b, n, &pos, &f))
            return false;
    return true;
}

/* The first field number `field` of wire type `wire` in a valid message;
 * false when absent. */
static bool s_pb_get(const unsigned char *b, size_t n, uint64_t field, int wire,
                     s_pb_t *out)
{
    size_t pos = 0;
    s_pb_t f;
    while (pos < n && s_pb_next(b, n, &pos, &f))
        if (f.field == field && f.wire == wire) {
            *out = f;
            return true;
        }
    return false;
}

/* Follows length-delimited fields (0-terminated list) through valid
 * sub-messages; false when one is missing or malformed. */
static bool s_pb_path(const unsigned char *b, size_t n, s_pb_t *out,
                      const uint64_t *fields)
{
    s_pb_t f = {.at = b, .len = n};
    for (; *fields; fields++) {
        if (!s_pb_valid(f.at, f.len) || !s_pb_get(f.at, f.len, *fields, 2, &f))
            return false;
    }
    *out = f;
    return true;
}

static bool s_id_chars(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s_b64(s[i]) < 0 || s[i] == '+' || s[i] == '/')
            return false;
    return true;
}

/* Copies f as a video id (11 URL-safe characters) into out. */
static bool s_take_video(const s_pb_t *f, char *out, size_t cap)
{
    if (f->len != 11 || f->len >= cap || !s_id_chars(f->at, f->len))
        return false;
    memcpy(out, f->at, f->len);
    out[f->len] = '\0';
    return true;
}

/* Copies f as a channel id ("UC" + 22 URL-safe characters) into out. */
static bool s_take_channel(const s_pb_t *f, char *out, size_t cap)
{
    if (f->len != 24 || f->len >= cap || memcmp(f->at, "UC", 2) != 0 ||
        !s_id_chars(f->at, f->len))
        return false;
    memcpy(out, f->at, f->len);
    out[f->len] = '\0';
    return true;
}

/* Longest token accepted; real ones are below 1 KiB. */
#define MAX_TOKEN_LEN 65536

tw_rc_t tw_ytpage_token_decode(const char *token, size_t len,
                               tw_ytpage_token_t *out)
{
    assert(token || len == 0);
    assert(out);
    memset(out, 0, sizeof *out);
    if (len == 0 || len > MAX_TOKEN_LEN)
        return TW_ERR_PARSE;
    /* Both the token and the text in its field 3 decode into buf. */
    unsigned char *buf = malloc(2 * len);
    if (!buf)
        return TW_ERR_NOMEM;
    unsigned char *inner = buf + len;
    tw_rc_t rc = TW_ERR_PARSE;
    size_t n, nin;
    s_pb_t wrap, f;
    size_t pos = 0;
    /* The token is one length-delimited field (119693434 live, 156074452
     * replay) holding the chat request. */
    if (!s_b64_decode(token, len, buf, &n) || !s_pb_valid(buf, n) ||
        !s_pb_next(buf, n, &pos, &wrap) || wrap.wire != 2 || pos != n ||
        !s_pb_valid(wrap.at, wrap.len))
        goto out;
    /* Chat type: field 1 of field 16 (live) or of field 14 (replay). */
    if (s_pb_get(wrap.at, wrap.len, 16, 2, &f) ||
        s_pb_get(wrap.at, wrap.len, 14, 2, &f)) {
        s_pb_t t;
        if (s_pb_valid(f.at, f.len) && s_pb_get(f.at, f.len, 1, 0, &t) &&
            (t.num == 1 || t.num == 4))
            out->chat_type = (int)t.num;
    }
    /* Field 3: base64 text of the video/channel message; empty in the
     * relative tokens of 2025+. */
    if (!s_pb_get(wrap.at, wrap.len, 3, 2, &f) || f.len == 0) {
        rc = TW_OK;
        goto out;
    }
    if (!s_b64_decode((const char *)f.at, f.len, inner, &nin) ||
        !s_pb_valid(inner, nin))
        goto out;
    rc = TW_OK;
    /* 2019+: 1.5 = {1: channel, 2: video}; older: 1.1.1 (live) or 1.3.1
     * (replay) = video, 1.2.1 = channel; 2021+ also 3.48687757.1 = video. */
    static const uint64_t p_pair[] = {1, 5, 0}, p_live[] = {1, 1, 0},
                          p_replay[] = {1, 3, 0}, p_chan[] = {1, 2, 0},
                          p_alt[] = {3, 48687757, 0};
    s_pb_t v;
    if (s_pb_path(inner, nin, &f, p_pair) && s_pb_valid(f.at, f.len)) {
        if (s_pb_get(f.at, f.len, 1, 2, &v))
            s_take_channel(&v, out->channel_id, sizeof out->channel_id);
        if (s_pb_get(f.at, f.len, 2, 2, &v))
            s_take_video(&v, out->video_id, sizeof out->video_id);
    }
    const uint64_t *const vids[] = {p_live, p_replay, p_alt};
    for (size_t i = 0; i < 3 && !out->video_id[0]; i++)
        if (s_pb_path(inner, nin, &f, vids[i]) && s_pb_valid(f.at, f.len) &&
            s_pb_get(f.at, f.len, 1, 2, &v))
            s_take_video(&v, out->video_id, sizeof out->video_id);
    if (!out->channel_id[0] && s_pb_path(inner, nin, &f, p_chan) &&
        s_pb_valid(f.at, f.len) && s_pb_get(f.at, f.len, 1, 2, &v))
        s_take_channel(&v, out->channel_id, sizeof out->channel_id);
out:
    if (rc != TW_OK)
        memset(out, 0, sizeof *out);
    free(buf);
    return rc;
}

int tw_ytpage_chat_type(const char *token, size_t len)
{
    assert(token || len == 0);
    tw_ytpage_token_t tok;
    if (tw_ytpage_token_decode(token, len, &tok) == TW_OK && tok.chat_type)
        return tok.chat_type;
    /* Not a well-formed token: look for the chat-type field near the end,
     * as tokens up to 2024 carried it. */
    unsigned char out[4096];
    size_t nout = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (len > 4 * sizeof out)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)token[i];
        if (c == '%' && i + 2 < len) {
            char hex[3] = {token[i + 1], token[i + 2], 0};
            c = (unsigned)strtoul(hex, NULL, 16);
            i += 2;
        }
        if (c == '=')
            break;
        int v = s_b64(c);
        if (v < 0)
            return 0;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (nout == sizeof out)
                return 0;
            out[nout++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* The chat type is field 1 of a small sub-message: field 16 (82 01 L)
     * in live tokens, field 14 (72 L) in replay tokens. Older tokens end
     * with it ("82 01 02 08 04"); newer ones add fields after it ("82 01 06
     * 08 01 18 01 20 00 a8 01 01"). The last match wins. */
    for (size_t i = nout; i-- > 0;) {
        size_t at;
        if (i >= 2 && out[i - 2] == 0x82 && out[i - 1] == 0x01)
            at = i; /* L at out[i] */
        else if (i >= 1 && out[i - 1] == 0x72)
            at = i;
        else
            continue;
        size_t l = out[at];
        if (l < 2 || l > 16 || at + 1 + l > nout || out[at + 1] != 0x08)
            continue;
        if (out[at + 2] == 0x01)
            return 1;
        if (out[at + 2] == 0x04)
            return 4;
    }
    return 0;
}

static tw_json_ref_t s_reload_token(const tw_json_t *j, tw_json_ref_t item)
{
    tw_json_ref_t c = tw_json_get(j, item, "continuation");
    tw_json_ref_t k = tw_json_first(j, c);
    if (tw_json_type(j, c) != TW_JSON_OBJECT || !k)
        return 0;
    return tw_json_get(j, k + 1, "continuation");
}

/* The chat tokens of one document that name a video. */
typedef struct {
    tw_json_ref_t all;      /* first type 1 token */
    tw_json_ref_t top;      /* first type 4 token */
    tw_json_ref_t initial;  /* continuations[0] of the chat renderer */
    int initial_type;       /* its chat type */
    char all_video[16];     /* video named by all */
    char initial_video[16]; /* video named by initial */
} s_chat_t;

/* Decodes the token string tok; true when it names a video (the page's own
 * when known), with *t filled. */
static bool s_named(tw_ytpage_t *self, tw_json_ref_t tok, tw_ytpage_token_t *t)
{
    const tw_json_t *j = self->json;
    if (tw_json_type(j, tok) != TW_JSON_STRING)
        return false;
    size_t n;
    const char *s = tw_json_str(j, tok, &n);
    if (tw_ytpage_token_decode(s, n, t) != TW_OK || !t->video_id[0])
        return false;
    return !*self->info.video_id ||
           strcmp(self->info.video_id, t->video_id) == 0;
}

/* Notes the header menu items' tokens: by decoded chat type, never by
 * title or position (titles are localized). */
static void s_submenu(tw_ytpage_t *self, tw_json_ref_t items, s_chat_t *c)
{
    const tw_json_t *j = self->json;
    for (tw_json_ref_t e = tw_json_first(j, items); e; e = tw_json_next(j, e)) {
        tw_json_ref_t tok = s_reload_token(j, e);
        tw_ytpage_token_t t;
        if (!s_named(self, tok, &t))
            continue;
        if (t.chat_type == 1 && !c->all) {
            c->all = tok;
            memcpy(c->all_video, t.video_id, sizeof c->all_video);
        } else if (t.chat_type == 4 && !c->top) {
            c->top = tok;
        }
    }
}

/* Notes continuations[0] of a liveChatRenderer / liveChatContinuation. */
static void s_initial(tw_ytpage_t *self, tw_json_ref_t v, s_chat_t *c)
{
    const tw_json_t *j = self->json;
    if (c->initial)
        return;
    tw_json_ref_t first = tw_json_at(j, tw_json_get(j, v, "continuations"), 0);
    tw_json_ref_t ck = tw_json_first(j, first);
    if (!ck || tw_json_type(j, first) != TW_JSON_OBJECT)
        return;
    tw_json_ref_t tok = tw_json_get(j, ck + 1, "continuation");
    tw_ytpage_token_t t;
    if (!s_named(self, tok, &t))
        return;
    c->initial = tok;
    c->initial_type = t.chat_type;
    memcpy(c->initial_video, t.video_id, sizeof c->initial_video);
}

/* Merges what one document offered: a type 1 token beats any other; a
 * later document's token replaces an earlier one of the same rank. */
static void s_chat_merge(tw_ytpage_t *self, const s_chat_t *c)
{
    tw_ytpage_info_t *in = &self->info;
    tw_json_ref_t tok = c->all ? c->all : c->initial;
    int type = c->all ? 1 : c->initial_type;
    const char *vid = c->all ? c->all_video : c->initial_video;
    int old_rank = in->chat_type == 1 ? 2 : *in->chat_continuation ? 1 : 0;
    if (tok && (type == 1 ? 2 : 1) >= old_rank) {
        in->chat_continuation = s_keep_str(self, tok);
        in->chat_type = type;
        in->chat_video_id = s_keep(self, vid, strlen(vid));
    }
    if (c->top)
        in->top_chat_continuation = s_keep_str(self, c->top);
    else if (c->initial && c->initial_type == 4)
        in->top_chat_continuation = s_keep_str(self, c->initial);
}

static void s_view_count(tw_ytpage_t *self, tw_json_ref_t vvc, bool viewership)
{
    const tw_json_t *j = self->json;
    tw_ytpage_info_t *in = &self->info;
    if (tw_json_type(j, vvc) != TW_JSON_OBJECT)
        return;
    bool live = tw_json_is_true(j, tw_json_get(j, vvc, "isLive")) || viewership;
    const char *text = s_keep_txt(self, tw_json_get(j, vvc, "viewCount"));
    uint64_t n;
    bool exact = false;
    if (tw_json_u64(j, tw_json_get(j, vvc, "originalViewCount"), &n) == TW_OK) {
        exact = true;
    } else {
        exact = tw_ytpage_exact_count(text, strlen(text), &n);
    }
    if (exact && n > INT64_MAX)
        exact = false;
    if (live) {
        self->live_hint = true;
        in->viewers_text = text;
        in->viewers = exact ? (int64_t)n : -1;
    } else if (exact && in->views < 0) {
        in->views = (int64_t)n;
    }
}

static void s_like_text(tw_ytpage_t *self, tw_json_ref_t text)
{
    const tw_json_t *j = self->json;
    tw_json_ref_t st = tw_json_get(j, text, "simpleText");
    uint64_t n;
    size_t len;
    const char *s = tw_json_str(j, st, &len);
    if (s && tw_json_type(j, st) == TW_JSON_STRING &&
        tw_ytpage_exact_count(s, len, &n) && n <= INT64_MAX) {
        self->info.likes = (int64_t)n;
        return;
    }
    tw_json_ref_t label = tw_json_path(j, text, "accessibility",
                                       "accessibilityData", "label", NULL);
    s = tw_json_str(j, label, &len);
    if (s && tw_json_type(j, label) == TW_JSON_STRING) {
        /* "1,234 likes" / "高評価 5 件": skip to the first digit. */
        size_t i = 0;
        while (i < len && (s[i] < '0' || s[i] > '9'))
            i++;
        if (i < len && tw_ytpage_exact_count(s + i, len - i, &n) &&
            n <= INT64_MAX)
            self->info.likes = (int64_t)n;
    }
}

/* Likes of a LIKE buttonViewModel: exact title, else the first number of
 * the accessibility text. */
static void s_like_view_model(tw_ytpage_t *self, tw_json_ref_t v)
{
    const tw_json_t *j = self->json;
    static const char *const fields[] = {"title", "accessibilityText"};
    for (size_t f = 0; f < 2; f++) {
        tw_json_ref_t t = tw_json_get(j, v, fields[f]);
        size_t len;
        const char *s = tw_json_str(j, t, &len);
        if (!s || tw_json_type(j, t) != TW_JSON_STRING)
            continue;
        size_t i = 0;
        if (f == 1)
            while (i < len && (s[i] < '0' || s[i] > '9'))
                i++;
        uint64_t n;
        if (i < len && tw_ytpage_exact_count(s + i, len - i, &n) &&
            n <= INT64_MAX) {
            self->info.likes = (int64_t)n;
            return;
        }
    }
}

static bool s_ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static void s_video_renderer(tw_ytpage_t *self, tw_json_ref_t r)
{
    const tw_json_t *j = self->json;
    tw_json_ref_t id = tw_json_get(j, r, "videoId");
    tw_json_ref_t st =
        tw_json_path(j, r, "upcomingEventData", "startTime", NULL);
    int64_t us = s_unix_usec(j, st);
    if (!us || tw_json_type(j, id) != TW_JSON_STRING)
        return;
    size_t n;
    const char *s = tw_json_str(j, id, &n);
    for (size_t i = 0; i < self->nup; i++)
        if (strlen(self->up[i].video_id) == n &&
            memcmp(self->up[i].video_id, s, n) == 0)
            return;
    if (self->nup < MAX_UPCOMING) {
        self->up[self->nup].video_id = s_keep(self, s, n);
        self->up[self->nup].start_usec = us;
        self->nup++;
    }
}

/* True for a duration badge text: "6:35", "1:28:08". */
static bool s_is_duration(const char *s, size_t n)
{
    size_t i = 0, groups = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == 0)
        return false;
    while (i < n) {
        if (s[i] != ':' || n - i < 3 || s[i + 1] < '0' || s[i + 1] > '9' ||
            s[i + 2] < '0' || s[i + 2] > '9')
            return false;
        i += 3;
        groups++;
    }
    return groups >= 1 && groups <= 2;
}

static bool s_video_id_ok(const char *s, size_t n)
{
    return s && n == 11 && s_id_chars((const unsigned char *)s, n);
}

/* True when owner (a browseId) names another channel than the page's. */
static bool s_foreign(const tw_json_t *j, tw_json_ref_t owner,
                      const char *channel)
{
    size_t n;
    const char *s = tw_json_str(j, owner, &n);
    if (!s || tw_json_type(j, owner) != TW_JSON_STRING || !*channel)
        return false;
    return strlen(channel) != n || memcmp(channel, s, n) != 0;
}

static void s_stream_add(tw_ytpage_t *self, const char *id, size_t n,
                         int64_t start, bool live, bool confirmed)
{
    for (size_t i = 0; i < self->nstreams; i++)
        if (strlen(self->streams[i].video_id) == n &&
            memcmp(self->streams[i].video_id, id, n) == 0)
            return;
    if (self->nstreams == MAX_STREAMS)
        return;
    self->streams[self->nstreams++] = (tw_ytpage_stream_t){
        .video_id = s_keep(self, id, n),
        .start_usec = start,
        .live = live,
        .confirmed_state = confirmed,
    };
}

/* A videoRenderer / gridVideoRenderer of the grid: upcoming when it has
 * upcomingEventData or an UPCOMING time overlay, live with a LIVE overlay
 * or a live-now badge. */
static void s_grid_video(tw_ytpage_t *self, tw_json_ref_t r,
                         const char *channel)
{
    const tw_json_t *j = self->json;
    size_t n;
    tw_json_ref_t idv = tw_json_get(j, r, "videoId");
    const char *id = tw_json_str(j, idv, &n);
    if (tw_json_type(j, idv) != TW_JSON_STRING || !s_video_id_ok(id, n))
        return;
    static const char *const bylines[] = {"ownerText", "shortBylineText",
                                          "longBylineText"};
    for (size_t i = 0; i < 3; i++) {
        tw_json_ref_t runs =
            tw_json_get(j, tw_json_get(j, r, bylines[i]), "runs");
        tw_json_ref_t owner =
            tw_json_path(j, tw_json_at(j, runs, 0), "navigationEndpoint",
                         "browseEndpoint", "browseId", NULL);
        if (s_foreign(j, owner, channel))
            return;
    }
    int64_t start = s_unix_usec(
        j, tw_json_path(j, r, "upcomingEventData", "startTime", NULL));
    bool upcoming = start != 0, live = false;
    tw_json_ref_t ovs = tw_json_get(j, r, "thumbnailOverlays");
    for (tw_json_ref_t o = tw_json_first(j, ovs); o; o = tw_json_next(j, o)) {
        tw_json_ref_t st = tw_json_path(
            j, o, "thumbnailOverlayTimeStatusRenderer", "style", NULL);
        if (tw_json_str_eq(j, st, "UPCOMING"))
            upcoming = true;
        else if (tw_json_str_eq(j, st, "LIVE"))
            live = true;
    }
    tw_json_ref_t badges = tw_json_get(j, r, "badges");
    for (tw_json_ref_t b = tw_json_first(j, badges); b; b = tw_json_next(j, b))
        if (tw_json_str_eq(
                j, tw_json_path(j, b, "metadataBadgeRenderer", "style", NULL),
                "BADGE_STYLE_TYPE_LIVE_NOW"))
            live = true;
    if (live || upcoming)
        s_stream_add(self, id, n, live ? 0 : start, live, true);
}

/* A lockupViewModel of the grid (2026): live with a LIVE-style thumbnail
 * badge; a badge text that is not a duration ("Anstehend", "Upcoming")
 * makes an upcoming candidate; a duration is a past video. */
static void s_grid_lockup(tw_ytpage_t *self, tw_json_ref_t r,
                          const char *channel)
{
    const tw_json_t *j = self->json;
    size_t n;
    tw_json_ref_t type = tw_json_get(j, r, "contentType");
    if (type && !tw_json_str_eq(j, type, "LOCKUP_CONTENT_TYPE_VIDEO"))
        return;
    tw_json_ref_t idv = tw_json_get(j, r, "contentId");
    const char *id = tw_json_str(j, idv, &n);
    if (tw_json_type(j, idv) != TW_JSON_STRING || !s_video_id_ok(id, n))
        return;
    tw_json_ref_t owner = tw_json_path(
        j, r, "metadata", "lockupMetadataViewModel", "image",
        "decoratedAvatarViewModel", "rendererContext", "commandContext",
        "onTap", "innertubeCommand", "browseEndpoint", "browseId", NULL);
    if (s_foreign(j, owner, channel))
        return;
    bool live = false, candidate = false, upcoming_style = false;
    tw_json_ref_t ovs = tw_json_path(j, r, "contentImage", "thumbnailViewModel",
                                     "overlays", NULL);
    for (tw_json_ref_t o = tw_json_first(j, ovs); o; o = tw_json_next(j, o)) {
        tw_json_ref_t ok = tw_json_first(j, o);
        if (!ok || tw_json_type(j, o) != TW_JSON_OBJECT)
            continue;
        tw_json_ref_t badges = tw_json_get(j, ok + 1, "badges");
        for (tw_json_ref_t b = tw_json_first(j, badges); b;
             b = tw_json_next(j, b)) {
            tw_json_ref_t tb = tw_json_get(j, b, "thumbnailBadgeViewModel");
            tw_json_ref_t style = tw_json_get(j, tb, "badgeStyle");
            size_t sn, tn;
            const char *ss = tw_json_str(j, style, &sn);
            if (ss && tw_json_type(j, style) == TW_JSON_STRING) {
                if (s_ends_with(ss, sn, "_LIVE"))
                    live = true;
                else if (s_ends_with(ss, sn, "_UPCOMING"))
                    upcoming_style = true;
            }
            tw_json_ref_t text = tw_json_get(j, tb, "text");
            const char *ts = tw_json_str(j, text, &tn);
            if (ts && tw_json_type(j, text) == TW_JSON_STRING && tn &&
                !s_is_duration(ts, tn))
                candidate = true;
        }
    }
    if (live)
        s_stream_add(self, id, n, 0, true, true);
    else if (candidate || upcoming_style)
        s_stream_add(self, id, n, 0, false, upcoming_style);
}

/* Lists the upcoming and live entries of the selected channel tab's grid
 * (and of browse continuation items), skipping shelves and entries that
 * name another channel. */
static void s_streams(tw_ytpage_t *self, tw_json_ref_t root)
{
    const tw_json_t *j = self->json;
    tw_ytpage_info_t *in = &self->info;
    tw_json_ref_t md =
        tw_json_path(j, root, "metadata", "channelMetadataRenderer", NULL);
    tw_json_ref_t ext = tw_json_get(j, md, "externalId");
    const char *channel = "";
    if (tw_json_type(j, ext) == TW_JSON_STRING) {
        channel = s_keep_str(self, ext);
        if (!*in->channel_id)
            in->channel_id = channel;
    }
    tw_json_ref_t grids[64];
    size_t ngrids = 0;
    tw_json_ref_t tabs = tw_json_path(
        j, root, "contents", "twoColumnBrowseResultsRenderer", "tabs", NULL);
    for (tw_json_ref_t t = tw_json_first(j, tabs); t; t = tw_json_next(j, t)) {
        tw_json_ref_t tr = tw_json_get(j, t, "tabRenderer");
        if (!tw_json_is_true(j, tw_json_get(j, tr, "selected")))
            continue;
        tw_json_ref_t c = tw_json_get(j, tr, "content");
        if (c && ngrids < 64)
            grids[ngrids++] = c;
        tw_json_ref_t url = tw_json_path(j, tr, "endpoint", "commandMetadata",
                                         "webCommandMetadata", "url", NULL);
        size_t un;
        const char *u = tw_json_str(j, url, &un);
        if (u && tw_json_type(j, url) == TW_JSON_STRING &&
            s_ends_with(u, un, "/streams") && in->kind == TW_YTPAGE_KIND_OTHER)
            in->kind = TW_YTPAGE_KIND_STREAMS;
    }
    tw_json_ref_t acts = tw_json_get(j, root, "onResponseReceivedActions");
    for (tw_json_ref_t a = tw_json_first(j, acts); a && ngrids < 64;
         a = tw_json_next(j, a)) {
        tw_json_ref_t items = tw_json_path(
            j, a, "appendContinuationItemsAction", "continuationItems", NULL);
        if (!items)
            items = tw_json_path(j, a, "reloadContinuationItemsCommand",
                                 "continuationItems", NULL);
        if (items)
            grids[ngrids++] = items;
    }
    static const char *const names[] = {
        "videoRenderer",          "gridVideoRenderer", "lockupViewModel",
        "richSectionRenderer",    "shelfRenderer",     "reelShelfRenderer",
        "horizontalListRenderer", "richShelfRenderer",
    };
    uint64_t mask = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        mask |= 1ULL << strlen(names[i]);
    for (size_t g = 0; g < ngrids; g++) {
        tw_json_ref_t end = tw_json_skip(j, grids[g]);
        for (tw_json_ref_t k = tw_json_scan_keys(j, grids[g], mask);
             k && k < end; k = tw_json_scan_keys(j, k + 1, mask)) {
            tw_json_ref_t v = k + 1;
            if (tw_json_str_eq(j, k, "videoRenderer") ||
                tw_json_str_eq(j, k, "gridVideoRenderer")) {
                s_grid_video(self, v, channel);
            } else if (tw_json_str_eq(j, k, "lockupViewModel")) {
                s_grid_lockup(self, v, channel);
            } else {
                bool shelf = false;
                for (size_t i = 3; i < sizeof names / sizeof names[0]; i++)
                    shelf = shelf || tw_json_str_eq(j, k, names[i]);
                if (shelf) /* other channels' or other kinds of videos */
                    k = tw_json_skip(j, v) - 1;
            }
        }
    }
}

/* Pre-order scan of the whole document for the renderers of interest. */
static void s_scan(tw_ytpage_t *self)
{
    const tw_json_t *j = self->json;
    tw_ytpage_info_t *in = &self->info;
    bool chat_done = false, likes_done = false;
    s_chat_t chat = {0};
    tw_json_ref_t viewership_end = 0;
    uint64_t mask = 0;
    static const char *const names[] = {
        "videoViewCountRenderer", "sortFilterSubMenuRenderer",
        "liveChatRenderer",       "toggleButtonRenderer",
        "updateViewershipAction", "updateToggleButtonTextAction",
        "updateTitleAction",      "videoRenderer",
        "gridVideoRenderer",      "compactVideoRenderer",
        "videoOwnerRenderer",     "sentimentBarRenderer",
        "likeCountEntity",        "buttonViewModel",
        "liveChatContinuation",
    };
    bool likes_exact_entity = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        mask |= 1ULL << strlen(names[i]);
    for (tw_json_ref_t k = tw_json_scan_keys(j, 1, mask); k;
         k = tw_json_scan_keys(j, k + 1, mask)) {
        tw_json_ref_t v = k + 1;
        if (tw_json_str_eq(j, k, "videoViewCountRenderer")) {
            s_view_count(self, v, k < viewership_end);
        } else if (tw_json_str_eq(j, k, "updateViewershipAction")) {
            viewership_end = tw_json_skip(j, v);
        } else if (tw_json_str_eq(j, k, "sortFilterSubMenuRenderer")) {
            s_submenu(self, tw_json_get(j, v, "subMenuItems"), &chat);
        } else if (tw_json_str_eq(j, k, "liveChatRenderer")) {
            if (!chat_done && tw_json_type(j, v) == TW_JSON_OBJECT) {
                chat_done = true;
                in->chat_is_replay =
                    tw_json_is_true(j, tw_json_get(j, v, "isReplay"));
            }
            s_initial(self, v, &chat);
        } else if (tw_json_str_eq(j, k, "liveChatContinuation")) {
            s_initial(self, v, &chat);
        } else if (tw_json_str_eq(j, k, "toggleButtonRenderer")) {
            if (!likes_done &&
                tw_json_str_eq(
                    j, tw_json_path(j, v, "defaultIcon", "iconType", NULL),
                    "LIKE")) {
                likes_done = true;
                s_like_text(self, tw_json_get(j, v, "defaultText"));
            }
        } else if (tw_json_str_eq(j, k, "updateToggleButtonTextAction")) {
            if (tw_json_str_eq(j, tw_json_get(j, v, "buttonId"),
                               "TOGGLE_BUTTON_ID_TYPE_LIKE"))
                s_like_text(self, tw_json_get(j, v, "defaultText"));
        } else if (tw_json_str_eq(j, k, "sentimentBarRenderer")) {
            /* tooltip "153 / 2": exact likes / dislikes. */
            tw_json_ref_t tt = tw_json_get(j, v, "tooltip");
            size_t n;
            const char *s = tw_json_str(j, tt, &n);
            uint64_t likes;
            if (s && tw_json_type(j, tt) == TW_JSON_STRING) {
                size_t e = 0;
                while (e < n && s[e] != ' ' && s[e] != '/')
                    e++;
                if (in->likes < 0 && tw_ytpage_exact_count(s, e, &likes) &&
                    likes <= INT64_MAX)
                    in->likes = (int64_t)likes;
            }
        } else if (tw_json_str_eq(j, k, "likeCountEntity")) {
            /* frameworkUpdates (2023+): the exact count as digits. */
            uint64_t likes;
            if (!likes_exact_entity &&
                tw_json_u64(j,
                            tw_json_get(j, v, "likeCountIfIndifferentNumber"),
                            &likes) == TW_OK &&
                likes <= INT64_MAX) {
                in->likes = (int64_t)likes;
                likes_exact_entity = true;
                likes_done = true;
            }
        } else if (tw_json_str_eq(j, k, "buttonViewModel")) {
            /* likeButtonViewModel (2023+): title "1.2K", accessibilityText
             * "like this video along with 1,234 other people". */
            if (!likes_done &&
                tw_json_str_eq(j, tw_json_get(j, v, "iconName"), "LIKE")) {
                likes_done = true;
                s_like_view_model(self, v);
            }
        } else if (tw_json_str_eq(j, k, "updateTitleAction")) {
            const char *t = s_keep_txt(self, tw_json_get(j, v, "title"));
            if (*t)
                in->title = t;
        } else if (tw_json_str_eq(j, k, "videoOwnerRenderer")) {
            if (!*in->channel_id) {
                tw_json_ref_t id =
                    tw_json_path(j, v, "navigationEndpoint", "browseEndpoint",
                                 "browseId", NULL);
                in->channel_id = s_keep_str(self, id);
            }
        } else {
            size_t n;
            const char *s = tw_json_str(j, k, &n);
            if (s_ends_with(s, n, "ideoRenderer"))
                s_video_renderer(self, v);
        }
    }
    s_chat_merge(self, &chat);
    /* The page's own video, if listed as upcoming. */
    for (size_t i = 0; i < self->nup; i++)
        if (*in->video_id && strcmp(self->up[i].video_id, in->video_id) == 0 &&
            !in->scheduled_start_usec)
            in->scheduled_start_usec = self->up[i].start_usec;
    if (in->state == TW_YTPAGE_STATE_UNKNOWN && self->live_hint &&
        in->viewers >= 0)
        in->state = TW_YTPAGE_STATE_LIVE;
}

/* Watch and chat documents by their top-level keys; a channel /streams
 * tab is recognized by s_streams. */
static void s_kind(tw_ytpage_t *self, tw_json_ref_t root)
{
    const tw_json_t *j = self->json;
    tw_ytpage_info_t *in = &self->info;
    if (in->kind != TW_YTPAGE_KIND_OTHER)
        return;
    if (tw_json_get(j, root, "videoDetails") ||
        tw_json_path(j, root, "contents", "twoColumnWatchNextResults", NULL))
        in->kind = TW_YTPAGE_KIND_WATCH;
    else if (tw_json_path(j, root, "continuationContents",
                          "liveChatContinuation", NULL) ||
             tw_json_path(j, root, "contents", "liveChatRenderer", NULL))
        in->kind = TW_YTPAGE_KIND_LIVE_CHAT;
}

tw_rc_t tw_ytpage_parse_json(tw_ytpage_t *self, const char *buf, size_t len,
                             tw_err_t *err)
{
    assert(self);
    tw_rc_t rc = tw_json_parse(self->json, buf, len, err);
    if (rc != TW_OK)
        return rc;
    tw_json_ref_t root = tw_json_root(self->json);
    s_kind(self, root);
    s_player(self, root);
    s_scan(self);
    s_streams(self, root);
    return TW_OK;
}

/* First occurrence of needle[0..nlen) in hay[0..len), or NULL. */
static const char *s_find(const char *hay, size_t len, const char *needle,
                          size_t nlen)
{
    if (nlen == 0 || len < nlen)
        return NULL;
    const char *end = hay + len - nlen + 1;
    for (const char *p = hay; p < end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (!p)
            return NULL;
        if (memcmp(p, needle, nlen) == 0)
            return p;
    }
    return NULL;
}

/* End of the balanced JSON object starting at p ('{'), or NULL. */
static const char *s_extent(const char *p, const char *end)
{
    int depth = 0;
    bool in_str = false;
    for (; p < end; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\')
                p++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
            if (depth == 0)
                return p + 1;
            if (depth < 0)
                return NULL;
        }
    }
    return NULL;
}

tw_rc_t tw_ytpage_extract(const char *html, size_t len, const char *name,
                          const char **json, size_t *json_len)
{
    assert(html || len == 0);
    assert(name);
    assert(json);
    assert(json_len);
    size_t nlen = strlen(name);
    const char *end = html + len, *p = html;
    while (p < end) {
        const char *hit = s_find(p, (size_t)(end - p), name, nlen);
        if (!hit)
            break;
        const char *q = hit + nlen;
        p = q;
        if (q < end && *q == '"')
            q++;
        if (q < end && *q == ']')
            q++;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n'))
            q++;
        if (q >= end || *q != '=')
            continue;
        q++;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n'))
            q++;
        if (q >= end || *q != '{')
            continue;
        const char *e = s_extent(q, end);
        if (!e)
            return TW_ERR_PARSE;
        *json = q;
        *json_len = (size_t)(e - q);
        return TW_OK;
    }
    return TW_ERR_NOTFOUND;
}

tw_rc_t tw_ytpage_parse_html(tw_ytpage_t *self, const char *html, size_t len,
                             tw_err_t *err)
{
    assert(self);
    assert(html || len == 0);
    tw_ytpage_reset(self);
    static const char *const vars[] = {"ytInitialPlayerResponse",
                                       "ytInitialData"};
    int found = 0;
    for (size_t i = 0; i < 2; i++) {
        const char *json;
        size_t jlen;
        tw_rc_t rc = tw_ytpage_extract(html, len, vars[i], &json, &jlen);
        if (rc == TW_ERR_NOTFOUND)
            continue;
        if (rc != TW_OK) {
            tw_err_set(err, "unterminated %s object", vars[i]);
            return rc;
        }
        tw_err_t jerr = {0};
        rc = tw_ytpage_parse_json(self, json, jlen, &jerr);
        if (rc != TW_OK) {
            tw_err_set(err, "%s: %s", vars[i], jerr.msg);
            return rc;
        }
        found++;
    }
    if (!found) {
        tw_err_set(err, "no ytInitialPlayerResponse or ytInitialData");
        return TW_ERR_NOTFOUND;
    }
    return TW_OK;
}

bool tw_ytpage_exact_count(const char *text, size_t len, uint64_t *out)
{
    assert(text || len == 0);
    assert(out);
    size_t i = 0;
    while (i < len && text[i] == ' ')
        i++;
    if (i >= len || text[i] < '0' || text[i] > '9')
        return false;
    uint64_t v = 0;
    size_t group = 0; /* digits since the last separator */
    bool sep = false; /* a separator was seen */
    for (; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= '0' && c <= '9') {
            if (v > (UINT64_MAX - (c - '0')) / 10)
                return false;
            v = v * 10 + (c - '0');
            group++;
            continue;
        }
        /* Thousands separators: , . ' space, U+00A0, U+202F. */
        size_t skip = 0;
        if (c == ',' || c == '.' || c == '\'' || c == ' ')
            skip = 1;
        else if (c == 0xc2 && i + 1 < len && (unsigned char)text[i + 1] == 0xa0)
            skip = 2;
        else if (c == 0xe2 && i + 2 < len &&
                 (unsigned char)text[i + 1] == 0x80 &&
                 (unsigned char)text[i + 2] == 0xaf)
            skip = 3;
        if (skip && i + skip < len && text[i + skip] >= '0' &&
            text[i + skip] <= '9') {
            if (sep && group != 3)
                return false;
            if (!sep && group > 3)
                return false;
            /* The group after a separator must have exactly 3 digits. */
            size_t d = 0;
            while (i + skip + d < len && text[i + skip + d] >= '0' &&
                   text[i + skip + d] <= '9')
                d++;
            if (d != 3)
                return false;
            sep = true;
            group = 0;
            i += skip - 1;
            continue;
        }
        break;
    }
    if (sep && group != 3)
        return false;
    /* What follows must not be a magnitude suffix ("1.2K", "3万"). */
    size_t k = i;
    while (k < len && (text[k] == ' ' || (unsigned char)text[k] == 0xc2 ||
                       (unsigned char)text[k] == 0xa0))
        k++;
    if (k < len) {
        unsigned char c = (unsigned char)text[k];
        if (c == 'K' || c == 'k' || c == 'M' || c == 'B' || c == 'm' ||
            c == 'b')
            if (k + 1 >= len || text[k + 1] == ' ' || text[k + 1] == '+' ||
                (c == 'M' && text[k + 1] == 'i') ||
                (c == 'm' && text[k + 1] == 'i') ||
                (c == 'M' && text[k + 1] == 'n') ||
                (c == 'm' && text[k + 1] == 'n') ||
                (c == 'M' && text[k + 1] == 'd') ||
                (c == 'k' && text[k + 1] == 'r') || text[k + 1] == '.')
                return false;
        /* 万 (e4 b8 87), 千 (e5 8d 83), 億 (e5 84 84), 만 (eb a7 8c),
         * 천 (ec b2 9c), 억 (ec 96 b5). */
        static const char *const cjk[] = {
            "\xe4\xb8\x87", "\xe5\x8d\x83", "\xe5\x84\x84", "\xeb\xa7\x8c",
            "\xec\xb2\x9c", "\xec\x96\xb5", "\xe4\xba\xbf"};
        for (size_t m = 0; m < sizeof cjk / sizeof cjk[0]; m++)
            if (len - k >= 3 && memcmp(text + k, cjk[m], 3) == 0)
                return false;
    }
    *out = v;
    return true;
}

const char *tw_ytpage_kind_str(tw_ytpage_kind_t kind)
{
    switch (kind) {
    case TW_YTPAGE_KIND_OTHER:
        return "other";
    case TW_YTPAGE_KIND_WATCH:
        return "watch";
    case TW_YTPAGE_KIND_STREAMS:
        return "streams";
    case TW_YTPAGE_KIND_LIVE_CHAT:
        return "live_chat";
    }
    return "?";
}

const char *tw_ytpage_state_str(tw_ytpage_state_t state)
{
    switch (state) {
    case TW_YTPAGE_STATE_UNKNOWN:
        return "unknown";
    case TW_YTPAGE_STATE_UPCOMING:
        return "upcoming";
    case TW_YTPAGE_STATE_LIVE:
        return "live";
    case TW_YTPAGE_STATE_ENDED:
        return "ended";
    case TW_YTPAGE_STATE_VOD:
        return "vod";
    }
    return "?";
}

const char *tw_ytpage_play_str(tw_ytpage_play_t play)
{
    switch (play) {
    case TW_YTPAGE_PLAY_NONE:
        return "none";
    case TW_YTPAGE_PLAY_OK:
        return "OK";
    case TW_YTPAGE_PLAY_OFFLINE:
        return "LIVE_STREAM_OFFLINE";
    case TW_YTPAGE_PLAY_LOGIN_REQUIRED:
        return "LOGIN_REQUIRED";
    case TW_YTPAGE_PLAY_UNPLAYABLE:
        return "UNPLAYABLE";
    case TW_YTPAGE_PLAY_ERROR:
        return "ERROR";
    case TW_YTPAGE_PLAY_OTHER:
        return "other";
    }
    return "?";
}
