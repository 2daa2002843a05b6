/* tw_ytpage - watch page / player / next / updated_metadata extraction. */
#include "tw_ytpage.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tw_json.h"
#include "tw_strpool.h"

#define MAX_UPCOMING 256

struct tw_ytpage {
    tw_json_t *json;                       /* reused tape */
    tw_ytpage_info_t info;                 /* merged result */
    tw_strpool_t pool;                     /* owned strings */
    tw_ytpage_upcoming_t up[MAX_UPCOMING]; /* upcoming videos */
    size_t nup;                            /* entries in up */
    bool live_hint;                        /* a live view count seen */
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
    self->live_hint = false;
    self->info = (tw_ytpage_info_t){
        .play_status = "",
        .play_reason = "",
        .video_id = "",
        .title = "",
        .channel_id = "",
        .chat_continuation = "",
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

int tw_ytpage_chat_type(const char *token, size_t len)
{
    assert(token || len == 0);
    /* URL-unescape then base64-decode; only the last bytes matter. */
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

/* Picks the all-messages chat among subMenuItems: by the chat-type field in
 * the tokens, else the second item (YouTube lists Top chat first). */
static void s_submenu(tw_ytpage_t *self, tw_json_ref_t items)
{
    const tw_json_t *j = self->json;
    tw_json_ref_t all = 0, top = 0, nth[2] = {0, 0};
    int nall = 0, ntop = 0;
    uint32_t i = 0;
    for (tw_json_ref_t e = tw_json_first(j, items); e;
         e = tw_json_next(j, e), i++) {
        tw_json_ref_t tok = s_reload_token(j, e);
        if (tw_json_type(j, tok) != TW_JSON_STRING)
            continue;
        if (i < 2)
            nth[i] = tok;
        size_t n;
        const char *s = tw_json_str(j, tok, &n);
        int type = tw_ytpage_chat_type(s, n);
        if (type == 1) {
            all = tok;
            nall++;
        } else if (type == 4) {
            top = tok;
            ntop++;
        }
    }
    /* Trust the token field only when it tells the two apart unambiguously
     * (a foreign token could end in those bytes by chance). */
    if (nall != 1 || ntop != 1) {
        all = nth[1] ? nth[1] : nth[0];
        top = nth[1] ? nth[0] : 0;
    }
    if (all)
        self->info.chat_continuation = s_keep_str(self, all);
    if (top)
        self->info.top_chat_continuation = s_keep_str(self, top);
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

/* Pre-order scan of the whole document for the renderers of interest. */
static void s_scan(tw_ytpage_t *self)
{
    const tw_json_t *j = self->json;
    tw_ytpage_info_t *in = &self->info;
    bool submenu_done = false, chat_done = false, likes_done = false;
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
            if (!submenu_done) {
                s_submenu(self, tw_json_get(j, v, "subMenuItems"));
                submenu_done = *in->chat_continuation != '\0';
            }
        } else if (tw_json_str_eq(j, k, "liveChatRenderer")) {
            if (!chat_done && tw_json_type(j, v) == TW_JSON_OBJECT) {
                chat_done = true;
                in->chat_is_replay =
                    tw_json_is_true(j, tw_json_get(j, v, "isReplay"));
            }
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
    /* Fall back to the initial chat continuation of liveChatRenderer. */
    if (!*in->chat_continuation) {
        for (tw_json_ref_t k = tw_json_scan_keys(j, 1, 1ULL << 16); k;
             k = tw_json_scan_keys(j, k + 1, 1ULL << 16)) {
            if (!tw_json_str_eq(j, k, "liveChatRenderer"))
                continue;
            tw_json_ref_t c =
                tw_json_at(j, tw_json_get(j, k + 1, "continuations"), 0);
            tw_json_ref_t ck = tw_json_first(j, c);
            if (ck && tw_json_type(j, c) == TW_JSON_OBJECT)
                in->chat_continuation =
                    s_keep_str(self, tw_json_get(j, ck + 1, "continuation"));
            break;
        }
    }
    /* The page's own video, if listed as upcoming. */
    for (size_t i = 0; i < self->nup; i++)
        if (*in->video_id && strcmp(self->up[i].video_id, in->video_id) == 0 &&
            !in->scheduled_start_usec)
            in->scheduled_start_usec = self->up[i].start_usec;
    if (in->state == TW_YTPAGE_STATE_UNKNOWN && self->live_hint &&
        in->viewers >= 0)
        in->state = TW_YTPAGE_STATE_LIVE;
}

tw_rc_t tw_ytpage_parse_json(tw_ytpage_t *self, const char *buf, size_t len,
                             tw_err_t *err)
{
    assert(self);
    tw_rc_t rc = tw_json_parse(self->json, buf, len, err);
    if (rc != TW_OK)
        return rc;
    tw_json_ref_t root = tw_json_root(self->json);
    s_player(self, root);
    s_scan(self);
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
