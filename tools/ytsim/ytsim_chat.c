/* ytsim_chat - deterministic chat items, the web client's live chat and
 * replay responses, the Data API liveChatMessages answer, and the chat
 * truth files. Every item is a pure function of (seed, video, index), so
 * any position can be served in O(1) and served twice identically. */
#include "ytsim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Chat item kinds; the last two are moderation actions, not items. */
enum {
    K_TEXT,
    K_SUPERCHAT,
    K_STICKER,
    K_MEMBER,
    K_GIFT,
    K_DELETE,
    K_BAN,
    K_PLACEHOLDER, /* "other" item: liveChatPlaceholderItemRenderer */
    K_ENGAGE,      /* "other" item: viewer engagement message */
    K_BANNER,      /* action: addBannerToLiveChatCommand (pinned message) */
    K_REPLACE,     /* action: replaceChatItemAction (2022: by a placeholder;
                      2026: the placeholder before it by the message) */
    K_PENDING,     /* 2026: a placeholder replaced by the next position */
    K_JEWELS,      /* 2026: giftMessageViewModel (Jewels gift) */
};

/* Run types of a message. */
enum { R_TEXT, R_EMOJI, R_CUSTOM };

/* One run of a message. */
typedef struct {
    int type;          /* R_* */
    const char *text;  /* text, or the emoji character(s) */
    const char *name;  /* emoji shortcut (":name:") or NULL */
    const char *label; /* accessibility label / search term */
} s_run_t;

/* A generated chat item. */
typedef struct {
    uint32_t idx;         /* position in the stream */
    int kind;             /* K_* */
    double t;             /* sim time */
    int64_t usec;         /* timestampUsec */
    char id[48];          /* item id */
    uint32_t author;      /* author index */
    char author_id[25];   /* author channel id */
    char author_name[96]; /* author display name */
    int nruns;            /* runs in the message */
    s_run_t runs[10];     /* message runs */
    int amount;           /* index into the amount table */
    int member_months;    /* 0 = not a member */
    bool milestone;       /* membership milestone (has a message) */
    int gift_count;       /* gifted memberships */
    bool redemption;      /* gift redemption rather than purchase */
    uint32_t target;      /* deletion / ban target index */
} s_msg_t;

static const char *s_texts[] = {
    "hello from Brazil!",
    "lol",
    "GG",
    "first time here 👋",
    "W stream",
    "when is the next one?",
    "can you play it again?",
    "this is so good",
    "Ça marche très bien !",
    "¡Qué golazo!",
    "Schöne Grüße aus München",
    "olá pessoal, tudo bem?",
    "Dziękuję za stream",
    "naïve café crème brûlée",
    "Hyvää iltaa kaikille",
    "Jó estét mindenkinek",
    "Chào mọi người",
    "草",
    "こんにちは！",
    "ナイス〜",
    "かわいい",
    "加油！",
    "大家好",
    "太强了",
    "ㅋㅋㅋㅋㅋ",
    "안녕하세요",
    "사랑해요",
    "Привет всем!",
    "лол",
    "Спасибо за стрим",
    "Добрый вечер из Киева",
    "مرحبا",
    "ما شاء الله",
    "السلام عليكم",
    "שלום לכולם",
    "สวัสดีครับ",
    "नमस्ते दोस्तों",
    "Ελληνικά γεια σας",
    "gg 👍🏽",
    "🔥🔥🔥",
    "I ❤️ this song",
    "back\\slash and \"quotes\" <b>not bold</b> & more",
    "50% off & <3",
    "1 + 1 = 2 ✔",
    "wait... what?!",
    "888888",
};
#define N_TEXTS (sizeof s_texts / sizeof s_texts[0])

/* Unicode emoji runs: character, shortcut, label. */
static const char *s_emoji[][3] = {
    {"👏🏿",
     ":clapping_hands_dark_skin_tone:", "clapping hands: dark skin tone"},
    {"👍🏽", ":thumbs_up_medium_skin_tone:", "thumbs up: medium skin tone"},
    {"👨‍👩‍👧‍👦",
     ":family_man_woman_girl_boy:", "family: man, woman, girl, boy"},
    {"🏳️‍🌈", ":rainbow_flag:", "rainbow flag"},
    {"❤️", ":red_heart:", "red heart"},
    {"😂", ":face_with_tears_of_joy:", "face with tears of joy"},
    {"🇯🇵", ":flag_japan:", "flag: Japan"},
    {"🧑🏻‍💻",
     ":technologist_light_skin_tone:", "technologist: light skin tone"},
};
#define N_EMOJI (sizeof s_emoji / sizeof s_emoji[0])

/* Custom (channel or YouTube) emoji: shortcut, label. */
static const char *s_custom[][2] = {
    {":yt:", "yt"},
    {":oops:", "oops"},
    {":hand-pink-waving:", "hand-pink-waving"},
    {":face-blue-smiling:", "face-blue-smiling"},
    {":_kusa:", "_kusa"},
    {":_pien:", "_pien"},
    {":elbowcough:", "elbowcough"},
    {":goodvibes:", "goodvibes"},
};
#define N_CUSTOM (sizeof s_custom / sizeof s_custom[0])

static const char *s_names[] = {
    "Ana Souza",
    "Jürgen Weiß",
    "山田太郎",
    "김민준",
    "Алексей Смирнов",
    "محمد علي",
    "Zoë",
    "ちゃんみ",
    "Łukasz",
    "María José",
    "Nguyễn Văn An",
    "Ελένη",
    "TheRealDeal",
    "@gamer_4821",
    "李小龍",
    "Sigurður",
    "Ayşe",
    "Дарина",
    "ぺこら大好き",
    "Renée O'Connor",
    "João",
    "@user-kq7xz3mp",
};
#define N_NAMES (sizeof s_names / sizeof s_names[0])

/* Super Chat amounts: display, micros, currency, tier colours. */
static const struct {
    const char *text;
    uint64_t micros;
    const char *cur;
} s_amounts[] = {
    {"$5.00", 5000000, "USD"},     {"¥1,000", 1000000000, "JPY"},
    {"€2.00", 2000000, "EUR"},     {"£10.00", 10000000, "GBP"},
    {"₩5,000", 5000000000, "KRW"}, {"$20.00", 20000000, "USD"},
    {"CA$10.00", 10000000, "CAD"}, {"R$25,00", 25000000, "BRL"},
    {"₹100.00", 100000000, "INR"}, {"￥500", 500000000, "JPY"},
    {"A$5.00", 5000000, "AUD"},    {"$100.00", 100000000, "USD"},
};
#define N_AMOUNTS (sizeof s_amounts / sizeof s_amounts[0])

/* The text of viewer engagement messages. */
#define ENGAGE_TEXT                                                            \
    "Welcome to live chat! Remember to guard your privacy and abide by our "   \
    "community guidelines."

/* Time of item i (strictly increasing in i). */
static double s_item_time(const ytsim_stream_t *s, uint32_t i)
{
    double u = ytsim_unit(ytsim_hash3(s->vh, i, 0x71));
    return s->start + ((double)i + u) / s->rate;
}

uint32_t ytsim_chat_total(const ytsim_stream_t *s)
{
    if (!s->has_start || s->rate <= 0 || s->chat_disabled) {
        return 0;
    }
    double n = floor(s->duration * s->rate);
    if (n > 4e9) {
        n = 4e9;
    }
    /* the last item must fall inside the stream */
    uint32_t tot = (uint32_t)n;
    while (tot > 0 && s_item_time(s, tot - 1) >= s->start + s->duration) {
        tot--;
    }
    return tot;
}

uint32_t ytsim_chat_count(const ytsim_scn_t *scn, const ytsim_stream_t *s,
                          double t)
{
    (void)scn;
    if (!s->has_start || s->rate <= 0 || s->chat_disabled || t < s->start) {
        return 0;
    }
    uint32_t tot = ytsim_chat_total(s);
    double x = (t - s->start) * s->rate;
    if (x >= (double)tot) {
        return tot;
    }
    uint32_t k = (uint32_t)floor(x);
    uint32_t n = k;
    if (k < tot && s_item_time(s, k) <= t) {
        n = k + 1;
    }
    return n > tot ? tot : n;
}

static int s_raw_kind(const ytsim_stream_t *s, uint32_t i)
{
    double u = ytsim_unit(ytsim_hash3(s->vh, i, 0x4b));
    const ytsim_mix_t *m = &s->mix;
    double acc = m->text;
    if (u < acc) {
        return K_TEXT;
    }
    if (u < (acc += m->superchat)) {
        return K_SUPERCHAT;
    }
    if (u < (acc += m->sticker)) {
        return K_STICKER;
    }
    if (u < (acc += m->membership)) {
        return K_MEMBER;
    }
    if (u < (acc += m->gift)) {
        return K_GIFT;
    }
    if (m->jewels > 0 && u < (acc += m->jewels)) {
        return K_JEWELS;
    }
    if (i == 0) {
        return K_TEXT;
    }
    if (u < (acc += m->other)) {
        return K_PLACEHOLDER + (int)(ytsim_hash3(s->vh, i, 0x0e) % 4);
    }
    if (u < (acc += m->deletion)) {
        return K_DELETE;
    }
    return K_BAN;
}

static bool s_is_item(int kind)
{
    return kind != K_DELETE && kind != K_BAN && kind != K_BANNER &&
           kind != K_REPLACE;
}

/* The kind of position i. Era 2026 pairs a replaceChatItemAction at j with
 * the item at j - 1, which becomes the placeholder it replaces; a replace
 * without an item before it is a viewer engagement message instead. */
static int s_kind(const ytsim_stream_t *s, uint32_t i)
{
    int k = s_raw_kind(s, i);
    if (s->era < 2026) {
        return k;
    }
    if (k == K_REPLACE) {
        return s_is_item(s_raw_kind(s, i - 1)) ? K_REPLACE : K_ENGAGE;
    }
    if (s_is_item(k) && s_raw_kind(s, i + 1) == K_REPLACE &&
        i + 1 < ytsim_chat_total(s)) {
        return K_PENDING;
    }
    return k;
}

/* True when item i is missing from the replay. */
static bool s_replay_missing(const ytsim_stream_t *s, uint32_t i)
{
    return s->replay_miss > 0 &&
           ytsim_unit(ytsim_hash3(s->vh, i, 0x3e)) < s->replay_miss;
}

static void s_author(const ytsim_stream_t *s, uint32_t a, char *id, char *name,
                     size_t cap)
{
    ytsim_rng_t r = {ytsim_hash3(s->vh >> 20, a, 0xa7)};
    /* authors are shared across a channel's streams: hash without the
     * video part would need the channel; the stream hash is good enough */
    id[0] = 'U';
    id[1] = 'C';
    ytsim_rng_id(&r, id + 2, 22);
    id[23] = "AQgw"[ytsim_rng_next(&r) & 3];
    id[24] = '\0';
    const char *base = s_names[a % N_NAMES];
    if (a < N_NAMES) {
        snprintf(name, cap, "%s", base);
    } else {
        snprintf(name, cap, "%s %u", base, a / (uint32_t)N_NAMES);
    }
}

static void s_item_id(const ytsim_stream_t *s, uint32_t i, char *out,
                      size_t cap)
{
    /* Real ids are base64 of a protobuf wrapping a 26-char key. */
    unsigned char raw[30] = {0x0a, 0x1c, 0x0a, 0x1a};
    ytsim_rng_t r = {ytsim_hash3(s->vh, i, 0x1d)};
    char key[27];
    ytsim_rng_id(&r, key, 26);
    key[0] = 'C';
    memcpy(raw + 4, key, 26);
    ytsim_buf_t b = {0};
    ytsim_buf_b64(&b, raw, 30, false, false);
    snprintf(out, cap, "%s", b.p);
    ytsim_buf_free(&b);
}

static void s_gen(const ytsim_stream_t *s, uint32_t i, int64_t epoch_usec,
                  s_msg_t *m)
{
    memset(m, 0, sizeof *m);
    m->idx = i;
    m->kind = s_kind(s, i);
    m->t = s_item_time(s, i);
    m->usec = epoch_usec + (int64_t)llround(m->t * 1e6);
    ytsim_rng_t r = {ytsim_hash3(s->vh, i, 0x99)};
    s_item_id(s, i, m->id, sizeof m->id);
    m->author = ytsim_rng_below(&r, s->n_authors ? s->n_authors : 1);
    s_author(s, m->author, m->author_id, m->author_name, sizeof m->author_name);
    if (ytsim_rng_below(&r, 4) == 0) {
        static const int months[] = {1, 2, 6, 12, 24};
        m->member_months = months[ytsim_rng_below(&r, 5)];
    }
    int nruns = 1 + (int)ytsim_rng_below(&r, 3);
    if (m->kind == K_STICKER || m->kind == K_GIFT || m->kind == K_PLACEHOLDER ||
        m->kind == K_ENGAGE || m->kind == K_JEWELS) {
        nruns = 0;
    }
    if (m->kind == K_MEMBER) {
        m->milestone = ytsim_rng_below(&r, 5) < 2;
        m->member_months = m->milestone ? 6 : 0;
        nruns = m->milestone ? 1 : 0;
    }
    for (int k = 0; k < nruns; k++) {
        uint32_t p = ytsim_rng_below(&r, 100);
        bool text = p < 70 || m->kind == K_SUPERCHAT;
        if (text && m->nruns > 0 && m->runs[m->nruns - 1].type == R_TEXT) {
            /* two texts in a row are separated by a space run */
            m->runs[m->nruns].type = R_TEXT;
            m->runs[m->nruns++].text = " ";
        }
        s_run_t *run = &m->runs[m->nruns++];
        if (text) {
            run->type = R_TEXT;
            run->text = s_texts[ytsim_rng_below(&r, N_TEXTS)];
        } else if (p < 85) {
            uint32_t e = ytsim_rng_below(&r, N_EMOJI);
            run->type = R_EMOJI;
            run->text = s_emoji[e][0];
            run->name = s_emoji[e][1];
            run->label = s_emoji[e][2];
        } else {
            uint32_t e = ytsim_rng_below(&r, N_CUSTOM);
            run->type = R_CUSTOM;
            run->name = s_custom[e][0];
            run->label = s_custom[e][1];
            /* repeat runs of the same custom emoji are common */
            if (k + 1 < 5 && ytsim_rng_below(&r, 2) == 0) {
                m->runs[m->nruns++] = *run;
            }
        }
    }
    m->amount = (int)ytsim_rng_below(&r, N_AMOUNTS);
    m->gift_count = 1 + (int)ytsim_rng_below(&r, 20);
    m->redemption = ytsim_rng_below(&r, 2) == 0;
    if (m->kind == K_REPLACE && s->era >= 2026) {
        m->target = i - 1;
    } else if (m->kind == K_DELETE || m->kind == K_BAN ||
               m->kind == K_REPLACE) {
        uint32_t back = 1 + ytsim_rng_below(&r, i < 20 ? i : 20);
        m->target = i - back;
        for (int k = 0;
             k < 10 && m->target > 0 && !s_is_item(s_kind(s, m->target)); k++) {
            m->target--;
        }
    }
}

/* ---- writing renderers -------------------------------------------- */

static void s_photo(ytsim_buf_t *b, const char *author_id)
{
    YB(b, "{\"thumbnails\":[{\"url\":\"https://yt3.ggpht.com/ytc/AIdro_");
    ytsim_buf_put(b, author_id + 2, 22);
    YB(b, "=s32-c-k-c0x00ffffff-no-rj\",\"width\":32,\"height\":32},{\"url\":"
          "\"https://yt3.ggpht.com/ytc/AIdro_");
    ytsim_buf_put(b, author_id + 2, 22);
    YB(b, "=s64-c-k-c0x00ffffff-no-rj\",\"width\":64,\"height\":64}]}");
}

static void s_runs(ytsim_buf_t *b, const s_msg_t *m, const char *chan_id)
{
    YB(b, "{\"runs\":[");
    for (int k = 0; k < m->nruns; k++) {
        const s_run_t *run = &m->runs[k];
        if (k) {
            YB(b, ",");
        }
        if (run->type == R_TEXT) {
            YB(b, "{\"text\":");
            ytsim_buf_jstr(b, run->text);
            YB(b, "}");
        } else if (run->type == R_EMOJI) {
            YB(b, "{\"emoji\":{\"emojiId\":");
            ytsim_buf_jstr(b, run->text);
            YB(b, ",\"shortcuts\":[");
            ytsim_buf_jstr(b, run->name);
            YB(b, "],\"searchTerms\":[");
            ytsim_buf_jstr(b, run->label);
            YB(b, "],\"image\":{\"thumbnails\":[{\"url\":\"https://www.youtube."
                  "com/s/gaming/emoji/7ff574f2/emoji_u1f44f.svg\"}],"
                  "\"accessibility\":{\"accessibilityData\":{\"label\":");
            ytsim_buf_jstr(b, run->label);
            YB(b, "}}}}}");
        } else {
            YB(b, "{\"emoji\":{\"emojiId\":\"");
            ytsim_buf_puts(b, chan_id);
            YB(b, "/");
            ytsim_buf_puts(b, run->label);
            YB(b, "\",\"shortcuts\":[");
            ytsim_buf_jstr(b, run->name);
            YB(b, "],\"searchTerms\":[");
            ytsim_buf_jstr(b, run->label);
            YB(b, "],\"image\":{\"thumbnails\":[{\"url\":\"https://yt3.ggpht."
                  "com/emoji/");
            ytsim_buf_puts(b, run->label);
            YB(b, "=w24-h24-c-k-nd\",\"width\":24,\"height\":24},{\"url\":"
                  "\"https://yt3.ggpht.com/emoji/");
            ytsim_buf_puts(b, run->label);
            YB(b, "=w48-h48-c-k-nd\",\"width\":48,\"height\":48}],"
                  "\"accessibility\":{\"accessibilityData\":{\"label\":");
            ytsim_buf_jstr(b, run->label);
            YB(b, "}}},\"isCustomEmoji\":true}}");
        }
    }
    YB(b, "]}");
}

static void s_context_menu(ytsim_buf_t *b, const s_msg_t *m)
{
    YB(b, "\"contextMenuEndpoint\":{\"commandMetadata\":{\"webCommandMetadata"
          "\":{\"ignoreNavigation\":true}},\"liveChatItemContextMenuEndpoint\":"
          "{\"params\":\"Q2g0S0hBb2FR");
    ytsim_buf_put(b, m->id + 8, strlen(m->id) - 8);
    YB(b, "\"}},\"contextMenuAccessibility\":{\"accessibilityData\":{\"label\":"
          "\"Chat actions\"}}");
}

static void s_author_fields(ytsim_buf_t *b, const s_msg_t *m)
{
    YB(b, "\"authorName\":{\"simpleText\":");
    ytsim_buf_jstr(b, m->author_name);
    YB(b, "},\"authorPhoto\":");
    s_photo(b, m->author_id);
    YB(b, ",\"authorExternalChannelId\":\"");
    ytsim_buf_puts(b, m->author_id);
    YB(b, "\"");
}

static void s_badges(ytsim_buf_t *b, const s_msg_t *m)
{
    if (m->member_months == 0) {
        return;
    }
    char label[64];
    if (m->member_months == 1) {
        snprintf(label, sizeof label, "New member");
    } else {
        snprintf(label, sizeof label, "Member (%d months)", m->member_months);
    }
    YB(b, ",\"authorBadges\":[{\"liveChatAuthorBadgeRenderer\":{"
          "\"customThumbnail\":{\"thumbnails\":[{\"url\":\"https://yt3.ggpht."
          "com/badge=s16-c-k\",\"width\":16,\"height\":16},{\"url\":\"https://"
          "yt3.ggpht.com/badge=s32-c-k\",\"width\":32,\"height\":32}]},"
          "\"tooltip\":");
    ytsim_buf_jstr(b, label);
    YB(b, ",\"accessibility\":{\"accessibilityData\":{\"label\":");
    ytsim_buf_jstr(b, label);
    YB(b, "}}}}]");
}

static void s_common_head(ytsim_buf_t *b, const s_msg_t *m)
{
    YB(b, "\"id\":\"");
    ytsim_buf_puts(b, m->id);
    YB(b, "\",\"timestampUsec\":\"");
    ytsim_buf_i64(b, m->usec);
    YB(b, "\"");
}

static void s_timestamp_text(ytsim_buf_t *b, const ytsim_stream_t *s,
                             const s_msg_t *m)
{
    long off = (long)floor(m->t - s->start);
    if (off < 0) {
        off = 0;
    }
    if (off >= 3600) {
        ytsim_buf_printf(b,
                         ",\"timestampText\":{\"simpleText\":\"%ld:%02ld:"
                         "%02ld\"}",
                         off / 3600, off / 60 % 60, off % 60);
    } else {
        ytsim_buf_printf(b, ",\"timestampText\":{\"simpleText\":\"%ld:%02ld\"}",
                         off / 60, off % 60);
    }
}

/* Jewels gifts: text, and the handle shown as the author. */
static const char *s_jewel_texts[] = {
    "sent Gold coin for 10 Jewels",
    "sent Rose for 20 Jewels",
    "sent Heart for 50 Jewels",
    "sent Rocket for 200 Jewels",
};
#define N_JEWEL_TEXTS (sizeof s_jewel_texts / sizeof s_jewel_texts[0])

static const char *s_jewel_text(const s_msg_t *m)
{
    return s_jewel_texts[(uint32_t)m->amount % N_JEWEL_TEXTS];
}

/* "@user-xxxxxxxx" from the author's channel id (ASCII only). */
static void s_jewel_handle(const s_msg_t *m, char *out, size_t cap)
{
    char h[16];
    for (int i = 0; i < 8; i++) {
        char c = m->author_id[2 + i];
        h[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    h[8] = '\0';
    snprintf(out, cap, "@user-%s", h);
}

static void s_jewels(ytsim_buf_t *b, const s_msg_t *m)
{
    char h[32];
    s_jewel_handle(m, h, sizeof h);
    const char *t = s_jewel_text(m);
    YB(b, "{\"giftMessageViewModel\":{\"text\":{\"content\":");
    ytsim_buf_jstr(b, t);
    ytsim_buf_printf(b,
                     ",\"styleRuns\":[{\"startIndex\":0,\"length\":%zu}]},"
                     "\"authorName\":{\"content\":\"%s \",\"styleRuns\":[{"
                     "\"startIndex\":0,\"length\":%zu}]},",
                     strlen(t), h, strlen(h) + 1);
    YB(b, "\"image\":{\"sources\":[{\"clientResource\":{\"imageName\":"
          "\"GIFT\",\"imageColor\":4294901760}}]},\"id\":\"");
    ytsim_buf_puts(b, m->id);
    YB(b, "\",\"imageA11yLabel\":\"Gifts\",\"rendererContext\":{"
          "\"loggingContext\":{\"loggingDirectives\":{\"trackingParams\":"
          "\"CLABEPaeDyITC");
    ytsim_buf_put(b, m->id + 10, 12);
    YB(b, "\",\"visibility\":{\"types\":\"12\"}}}}}}");
}

/* Writes the renderer object {"liveChat...Renderer":{...}} of item m. */
static void s_renderer(ytsim_buf_t *b, const ytsim_scn_t *scn,
                       const ytsim_stream_t *s, const s_msg_t *m, bool replay)
{
    const char *chan_id = scn->chans[s->chan].id;
    const char *chan_title = scn->chans[s->chan].title;
    if (m->kind == K_JEWELS) {
        s_jewels(b, m);
        return;
    }
    switch (m->kind) {
    case K_TEXT:
        YB(b, "{\"liveChatTextMessageRenderer\":{\"message\":");
        s_runs(b, m, chan_id);
        YB(b, ",");
        s_author_fields(b, m);
        YB(b, ",");
        s_context_menu(b, m);
        YB(b, ",");
        s_common_head(b, m);
        s_badges(b, m);
        break;
    case K_SUPERCHAT:
        YB(b, "{\"liveChatPaidMessageRenderer\":{");
        s_common_head(b, m);
        YB(b, ",");
        s_author_fields(b, m);
        YB(b, ",\"purchaseAmountText\":{\"simpleText\":");
        ytsim_buf_jstr(b, s_amounts[m->amount].text);
        YB(b, "},\"message\":");
        s_runs(b, m, chan_id);
        YB(b, ",\"headerBackgroundColor\":4278239141,\"headerTextColor\":"
              "4278190080,\"bodyBackgroundColor\":4280150454,\"bodyTextColor\":"
              "4278190080,\"authorNameTextColor\":2315255808,"
              "\"timestampColor\":2147483648,");
        s_context_menu(b, m);
        s_badges(b, m);
        break;
    case K_STICKER:
        YB(b, "{\"liveChatPaidStickerRenderer\":{");
        s_common_head(b, m);
        YB(b, ",");
        s_context_menu(b, m);
        YB(b, ",");
        s_author_fields(b, m);
        YB(b, ",\"sticker\":{\"thumbnails\":[{\"url\":\"//lh3.googleusercontent"
              ".com/sticker=s104-rwa\",\"width\":104,\"height\":104},{\"url\":"
              "\"//lh3.googleusercontent.com/sticker=s208-rwa\",\"width\":208,"
              "\"height\":208}],\"accessibility\":{\"accessibilityData\":{"
              "\"label\":\"Shiba dog waving a paw\"}}},"
              "\"moneyChipBackgroundColor\":4294953512,\"moneyChipTextColor\":"
              "3741319168,\"purchaseAmountText\":{\"simpleText\":");
        ytsim_buf_jstr(b, s_amounts[m->amount].text);
        YB(b, "},\"stickerDisplayWidth\":104,\"stickerDisplayHeight\":104,"
              "\"backgroundColor\":4294947584,\"authorNameTextColor\":"
              "2315255808");
        break;
    case K_MEMBER:
        YB(b, "{\"liveChatMembershipItemRenderer\":{");
        s_common_head(b, m);
        YB(b, ",");
        if (m->milestone) {
            YB(b, "\"headerPrimaryText\":{\"runs\":[{\"text\":\"Member for \"},"
                  "{\"text\":\"6\"},{\"text\":\" months\"}]},\"headerSubtext\":"
                  "{\"simpleText\":\"Sponsor tier\"},\"message\":");
            s_runs(b, m, chan_id);
        } else {
            YB(b, "\"headerSubtext\":{\"runs\":[{\"text\":\"Welcome to \"},"
                  "{\"text\":");
            ytsim_buf_jstr(b, chan_title);
            YB(b, "},{\"text\":\"!\"}]}");
        }
        YB(b, ",");
        s_author_fields(b, m);
        s_badges(b, m);
        YB(b, ",");
        s_context_menu(b, m);
        break;
    case K_GIFT:
        if (m->redemption) {
            YB(b, "{\"liveChatSponsorshipsGiftRedemptionAnnouncementRenderer\":"
                  "{");
            s_common_head(b, m);
            YB(b, ",");
            s_author_fields(b, m);
            YB(b, ",\"message\":{\"runs\":[{\"text\":\"received a gift "
                  "membership by \",\"italics\":true},{\"text\":\"Ana Souza\","
                  "\"bold\":true,\"italics\":true}]},");
            s_context_menu(b, m);
        } else {
            YB(b, "{\"liveChatSponsorshipsGiftPurchaseAnnouncementRenderer\":"
                  "{");
            s_common_head(b, m);
            YB(b, ",\"authorExternalChannelId\":\"");
            ytsim_buf_puts(b, m->author_id);
            YB(b, "\",\"header\":{\"liveChatSponsorshipsHeaderRenderer\":{"
                  "\"authorName\":{\"simpleText\":");
            ytsim_buf_jstr(b, m->author_name);
            YB(b, "},\"authorPhoto\":");
            s_photo(b, m->author_id);
            ytsim_buf_printf(b,
                             ",\"primaryText\":{\"runs\":[{\"text\":"
                             "\"Gifted \",\"bold\":true},{\"text\":\"%d\","
                             "\"bold\":true},{\"text\":\" \",\"bold\":true},"
                             "{\"text\":",
                             m->gift_count);
            ytsim_buf_jstr(b, chan_title);
            YB(b,
               ",\"bold\":true},{\"text\":\" memberships\",\"bold\":true}]},");
            s_context_menu(b, m);
            YB(b, ",\"image\":{\"thumbnails\":[{\"url\":\"https://www.gstatic."
                  "com/youtube/img/sponsorships/sponsorships_gift_purchase_"
                  "announcement_artwork.png\"}]}}}");
        }
        break;
    case K_PLACEHOLDER:
    case K_PENDING:
        YB(b, "{\"liveChatPlaceholderItemRenderer\":{");
        s_common_head(b, m);
        break;
    case K_ENGAGE:
        YB(b, "{\"liveChatViewerEngagementMessageRenderer\":{");
        s_common_head(b, m);
        YB(b, ",\"icon\":{\"iconType\":\"YOUTUBE_ROUND\"},\"message\":{"
              "\"runs\":[{\"text\":\"" ENGAGE_TEXT "\"}]}");
        break;
    default:
        break;
    }
    if (replay) {
        s_timestamp_text(b, s, m);
    }
    YB(b, ",\"trackingParams\":\"CAEQl98BIhMI");
    ytsim_buf_put(b, m->id + 10, 12);
    YB(b, "\"}}");
}

/* Writes one action (addChatItemAction, or a moderation action), followed
 * by ticker noise for paid items. Returns the number of actions written. */
static int s_action(ytsim_buf_t *b, const ytsim_scn_t *scn,
                    const ytsim_stream_t *s, const s_msg_t *m, int64_t epoch)
{
    if (m->kind == K_DELETE || m->kind == K_BAN) {
        s_msg_t t;
        s_gen(s, m->target, epoch, &t);
        if (s->era >= 2026) {
            ytsim_buf_puts(b, m->kind == K_DELETE
                                  ? "{\"removeChatItemAction\":{"
                                    "\"targetItemId\":\""
                                  : "{\"removeChatItemByAuthorAction\":{"
                                    "\"externalChannelId\":\"");
            ytsim_buf_puts(b, m->kind == K_DELETE ? t.id : t.author_id);
        } else if (m->kind == K_DELETE) {
            YB(b, "{\"markChatItemAsDeletedAction\":{\"deletedStateMessage\":"
                  "{\"runs\":[{\"text\":\"[message deleted]\"}]},"
                  "\"targetItemId\":\"");
            ytsim_buf_puts(b, t.id);
        } else {
            YB(b, "{\"markChatItemsByAuthorAsDeletedAction\":{"
                  "\"deletedStateMessage\":{\"runs\":[{\"text\":\"[message "
                  "deleted]\"}]},\"externalChannelId\":\"");
            ytsim_buf_puts(b, t.author_id);
        }
        YB(b, "\"}}");
        return 1;
    }
    if (m->kind == K_REPLACE && s->era >= 2026) {
        /* the placeholder before is replaced by the real message */
        s_msg_t t;
        s_gen(s, m->target, epoch, &t);
        t.kind = K_TEXT;
        YB(b, "{\"replaceChatItemAction\":{\"targetItemId\":\"");
        ytsim_buf_puts(b, t.id);
        YB(b, "\",\"replacementItem\":");
        s_renderer(b, scn, s, &t, false);
        YB(b, "}}");
        return 1;
    }
    if (m->kind == K_REPLACE) {
        s_msg_t t;
        s_gen(s, m->target, epoch, &t);
        YB(b, "{\"replaceChatItemAction\":{\"targetItemId\":\"");
        ytsim_buf_puts(b, t.id);
        YB(b, "\",\"replacementItem\":{\"liveChatPlaceholderItemRenderer\":{");
        s_common_head(b, &t);
        YB(b, "}}}}");
        return 1;
    }
    if (m->kind == K_BANNER) {
        /* a pinned message: a text renderer that is not a chat item */
        const ytsim_channel_t *c = &scn->chans[s->chan];
        YB(b, "{\"addBannerToLiveChatCommand\":{\"bannerRenderer\":{"
              "\"liveChatBannerRenderer\":{\"header\":{"
              "\"liveChatBannerHeaderRenderer\":{\"icon\":{\"iconType\":"
              "\"KEEP\"},\"text\":{\"runs\":[{\"text\":\"Pinned by \"},{"
              "\"text\":");
        ytsim_buf_jstr(b, c->title);
        YB(b, "}]}}},\"contents\":{\"liveChatTextMessageRenderer\":{"
              "\"message\":");
        s_runs(b, m, c->id);
        YB(b, ",\"authorName\":{\"simpleText\":");
        ytsim_buf_jstr(b, c->title);
        YB(b, "},\"authorPhoto\":");
        s_photo(b, c->id);
        YB(b, ",");
        s_common_head(b, m);
        YB(b, ",\"authorBadges\":[{\"liveChatAuthorBadgeRenderer\":{\"icon\":"
              "{\"iconType\":\"OWNER\"},\"tooltip\":\"Owner\","
              "\"accessibility\":{\"accessibilityData\":{\"label\":"
              "\"Owner\"}}}}],\"authorExternalChannelId\":\"");
        ytsim_buf_puts(b, c->id);
        YB(b, "\"}},\"actionId\":\"");
        ytsim_buf_puts(b, m->id);
        YB(b, "\",\"viewerIsCreator\":false,\"targetId\":\"live-chat-banner\","
              "\"isStackable\":false}}}}");
        return 1;
    }
    YB(b, "{\"addChatItemAction\":{\"item\":");
    s_renderer(b, scn, s, m, false);
    if (m->kind == K_TEXT) {
        YB(b, ",\"clientId\":\"CL");
        ytsim_buf_put(b, m->id + 6, 24);
        YB(b, "\"");
    }
    YB(b, "}}");
    if (m->kind == K_SUPERCHAT || (m->kind == K_MEMBER && !m->milestone)) {
        /* ticker noise: not a chat item */
        YB(b, ",{\"addLiveChatTickerItemAction\":{\"item\":{");
        if (m->kind == K_SUPERCHAT) {
            YB(b, "\"liveChatTickerPaidMessageItemRenderer\":{\"id\":\"");
            ytsim_buf_puts(b, m->id);
            YB(b, "\",\"amount\":{\"simpleText\":");
            ytsim_buf_jstr(b, s_amounts[m->amount].text);
            YB(b, "},\"amountTextColor\":4278190080,\"startBackgroundColor\":"
                  "4280150454,\"endBackgroundColor\":4278239141,"
                  "\"authorPhoto\":");
            s_photo(b, m->author_id);
            YB(b, ",\"durationSec\":120,\"fullDurationSec\":120,"
                  "\"authorExternalChannelId\":\"");
        } else {
            YB(b, "\"liveChatTickerSponsorItemRenderer\":{\"id\":\"");
            ytsim_buf_puts(b, m->id);
            YB(b, "\",\"detailText\":{\"runs\":[{\"text\":\"Member\"}]},"
                  "\"detailTextColor\":4294967295,\"startBackgroundColor\":"
                  "4279213400,\"endBackgroundColor\":4278943811,"
                  "\"sponsorPhoto\":");
            s_photo(b, m->author_id);
            YB(b, ",\"durationSec\":300,\"fullDurationSec\":300,"
                  "\"authorExternalChannelId\":\"");
        }
        ytsim_buf_puts(b, m->author_id);
        YB(b, "\"}},\"durationSec\":\"120\"}}");
        return 2;
    }
    return 1;
}

/* ---- truth --------------------------------------------------------- */

static const char *s_kind_name(const s_msg_t *m)
{
    static const char *names[] = {
        "text",  "superchat", "sticker", "membership", "gift", "deleted", "ban",
        "other", "other",     "banner",  "replace",    "text", "jewels"};
    return names[m->kind];
}

static void s_truth_text(ytsim_buf_t *b, const ytsim_scn_t *scn,
                         const ytsim_stream_t *s, const s_msg_t *m)
{
    /* the message column as expected_chat.jq derives it */
    ytsim_buf_t t = {0};
    if (m->kind == K_GIFT) {
        if (m->redemption) {
            YB(&t, "received a gift membership by Ana Souza");
        } else {
            ytsim_buf_printf(&t, "Gifted %d ", m->gift_count);
            ytsim_buf_puts(&t, scn->chans[s->chan].title);
            YB(&t, " memberships");
        }
    } else if (m->kind == K_ENGAGE) {
        YB(&t, ENGAGE_TEXT);
    } else if (m->kind == K_MEMBER && !m->milestone) {
        YB(&t, "Welcome to ");
        ytsim_buf_puts(&t, scn->chans[s->chan].title);
        YB(&t, "!");
    } else {
        for (int k = 0; k < m->nruns; k++) {
            const s_run_t *run = &m->runs[k];
            ytsim_buf_puts(&t, run->type == R_CUSTOM ? run->name : run->text);
        }
    }
    if (t.p) {
        ytsim_buf_tsv(b, t.p);
    }
    ytsim_buf_free(&t);
}

static void s_truth_row(ytsim_buf_t *b, const ytsim_scn_t *scn,
                        const ytsim_stream_t *s, const s_msg_t *m)
{
    if (m->kind == K_JEWELS) {
        /* like expected_chat.jq: no channel id, timestamp or amount */
        char h[32];
        s_jewel_handle(m, h, sizeof h);
        ytsim_buf_tsv(b, m->id);
        ytsim_buf_printf(b, "\tjewels\t\t%s\t\t\t", h);
        ytsim_buf_tsv(b, s_jewel_text(m));
        YB(b, "\n");
        return;
    }
    ytsim_buf_tsv(b, m->id);
    YB(b, "\t");
    ytsim_buf_puts(b, s_kind_name(m));
    YB(b, "\t");
    if (m->kind != K_PLACEHOLDER && m->kind != K_ENGAGE) {
        ytsim_buf_tsv(b, m->author_id);
        YB(b, "\t");
        ytsim_buf_tsv(b, m->author_name);
    } else {
        YB(b, "\t");
    }
    YB(b, "\t");
    ytsim_buf_i64(b, m->usec);
    YB(b, "\t");
    if (m->kind == K_SUPERCHAT || m->kind == K_STICKER) {
        ytsim_buf_tsv(b, s_amounts[m->amount].text);
    }
    YB(b, "\t");
    s_truth_text(b, scn, s, m);
    YB(b, "\n");
}

static bool s_test_and_set(uint8_t **bits, size_t *bytes, uint32_t i)
{
    size_t need = i / 8 + 1;
    if (need > *bytes) {
        size_t n = *bytes ? *bytes : 1024;
        while (n < need) {
            n *= 2;
        }
        uint8_t *p = realloc(*bits, n);
        if (!p) {
            abort();
        }
        memset(p + *bytes, 0, n - *bytes);
        *bits = p;
        *bytes = n;
    }
    bool was = (*bits)[i / 8] & (1u << (i % 8));
    (*bits)[i / 8] |= (uint8_t)(1u << (i % 8));
    return was;
}

/* Records that m was served by the web client path. A placeholder that is
 * replaced (era 2026) is recorded once with its final content, when either
 * the placeholder or the replacement is served first. */
static void s_truth_served(ytsim_srv_t *srv, ytsim_stream_t *s,
                           const s_msg_t *m)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    if (!scn->truth_chat || s->load) {
        return;
    }
    ytsim_buf_t row = {0};
    s_msg_t t;
    bool pair =
        s->era >= 2026 && (m->kind == K_REPLACE || m->kind == K_PENDING);
    if (pair) {
        if (m->kind == K_REPLACE) {
            s_gen(s, m->target, ytsim_wall_usec(srv, 0), &t);
        } else {
            t = *m;
        }
        t.kind = K_TEXT;
    }
    pthread_mutex_lock(&s->mu);
    bool seen = s_test_and_set(&s->served, &s->served_bytes, m->idx);
    if (pair) {
        if (m->kind == K_REPLACE) {
            seen = s_test_and_set(&s->served, &s->served_bytes, t.idx);
        }
        if (!seen && s->truth) {
            s_truth_row(&row, scn, s, &t);
            fwrite(row.p, 1, row.len, s->truth);
        }
    } else if (!seen) {
        if (s_is_item(m->kind) && s->truth) {
            s_truth_row(&row, scn, s, m);
            fwrite(row.p, 1, row.len, s->truth);
        } else if ((m->kind == K_DELETE || m->kind == K_BAN) && s->truth_del) {
            s_gen(s, m->target, ytsim_wall_usec(srv, 0), &t);
            ytsim_buf_i64(&row, m->usec);
            YB(&row, "\t");
            ytsim_buf_puts(&row, m->kind == K_DELETE ? "delete\t" : "ban\t");
            ytsim_buf_puts(&row, m->kind == K_DELETE ? t.id : t.author_id);
            YB(&row, "\n");
            fwrite(row.p, 1, row.len, s->truth_del);
        }
    }
    pthread_mutex_unlock(&s->mu);
    ytsim_buf_free(&row);
}

void ytsim_chat_truth_open(ytsim_srv_t *srv)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    if (!scn->truth_chat) {
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/truth/chat", ytsim_out(srv));
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/truth/chat_api", ytsim_out(srv));
    mkdir(path, 0755);
    for (size_t i = 0; i < scn->n_streams; i++) {
        ytsim_stream_t *s = &scn->streams[i];
        if (s->load) {
            continue;
        }
        snprintf(path, sizeof path, "%s/truth/chat/%s.tsv", ytsim_out(srv),
                 s->id);
        s->truth = fopen(path, "w");
        snprintf(path, sizeof path, "%s/truth/chat/%s.deleted.tsv",
                 ytsim_out(srv), s->id);
        s->truth_del = fopen(path, "w");
        snprintf(path, sizeof path, "%s/truth/chat_api/%s.tsv", ytsim_out(srv),
                 s->id);
        s->truth_api = fopen(path, "w");
    }
}

void ytsim_chat_truth_close(ytsim_srv_t *srv)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    for (size_t i = 0; i < scn->n_streams; i++) {
        ytsim_stream_t *s = &scn->streams[i];
        pthread_mutex_lock(&s->mu);
        FILE **fs[] = {&s->truth, &s->truth_del, &s->truth_api};
        for (size_t k = 0; k < 3; k++) {
            if (*fs[k]) {
                fclose(*fs[k]);
                *fs[k] = NULL;
            }
        }
        pthread_mutex_unlock(&s->mu);
    }
}

/* ---- tokens -------------------------------------------------------- */

/* Era 2022 tokens are base64url of: 6 bytes that make them start like the
 * real ones ("0ofMyANY" live, "op2w0wRy" replay), the payload (magic, mode,
 * video id, position, check byte) and the real trailer 82 01 02 08 T where
 * T = 1 for all messages ("Live chat") and 4 for "Top chat". */
static const unsigned char s_live_head[6] = {0xd2, 0x87, 0xcc,
                                             0xc8, 0x03, 0x58};
static const unsigned char s_replay_head[6] = {0xa2, 0x9d, 0xb0,
                                               0xd3, 0x04, 0x72};

static bool s_token2022_parse(const unsigned char *p, long n, ytsim_tok_t *o)
{
    if (n != 29 || p[6] != 0x59) {
        return false;
    }
    const unsigned char *q = p + 6;
    unsigned char x = 0xa5;
    for (int i = 0; i < 17; i++) {
        x = (unsigned char)(x * 31 + q[i]);
    }
    if (x != q[17]) {
        return false;
    }
    o->mode = (char)q[1];
    memcpy(o->vid, q + 2, 11);
    o->vid[11] = '\0';
    o->pos = (uint32_t)q[13] << 24 | (uint32_t)q[14] << 16 |
             (uint32_t)q[15] << 8 | q[16];
    o->first = false;
    if (o->mode == 'r') {
        o->mode = 'R';
    }
    return o->mode == 'L' || o->mode == 'T' || o->mode == 'R';
}

/* Era 2026 tokens have the real layout (see docs/ytsim.md): live = field
 * 119693434 { 3: base64url("%3D" padding) of { 1 { 5 { 1: channel id,
 * 2: video id } } 3 { 48687757 { 1: video id } } 4: 1 6: 0 } 6: 1
 * 16 { 1: chat type 3: 2 4: 0 5: 0 } 17: 1 20: usec 21: 0 22: "" }, replay
 * = field 156074452 { 3: the same inner text 8: 1 14 { 1: chat type }
 * 15: 1 }; chat type 1 = all messages, 4 = top chat. ytsim appends its own
 * field 1000 (bytes: 'Y', mode, flags, position (4 bytes, big endian),
 * check byte). The relative tokens are the real ones with field 3 empty. */
#define S_OWN_TAG0 0xc2 /* field 1000, wire type 2: varint 8002 */
#define S_OWN_TAG1 0x3e

static size_t s_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static unsigned char s_own_check(const char *vid, const unsigned char *own)
{
    unsigned char x = 0x3c;
    for (int i = 0; i < 11; i++) {
        x = (unsigned char)(x * 31 + (unsigned char)vid[i]);
    }
    for (int i = 0; i < 7; i++) {
        x = (unsigned char)(x * 31 + own[i]);
    }
    return x;
}

/* Writes base64url of n bytes with "=" padding written as %3D. */
static void s_b64_pct(ytsim_buf_t *b, const unsigned char *p, size_t n)
{
    ytsim_buf_t t = {0};
    ytsim_buf_b64(&t, p, n, true, true);
    for (size_t i = 0; i < t.len; i++) {
        if (t.p[i] == '=') {
            YB(b, "%3D");
        } else {
            ytsim_buf_put(b, t.p + i, 1);
        }
    }
    ytsim_buf_free(&t);
}

static void s_token2026(ytsim_buf_t *b, const char *chan, const char *vid,
                        char mode, uint32_t pos, bool first, uint64_t usec)
{
    bool replay = mode == 'R' || mode == 'r';
    unsigned char type = (mode == 'T' || mode == 'r') ? 4 : 1;
    unsigned char in[80];
    size_t n = 0;
    static const unsigned char h1[] = {0x0a, 0x29, 0x2a, 0x27, 0x0a, 0x18};
    memcpy(in + n, h1, sizeof h1);
    n += sizeof h1;
    memcpy(in + n, chan, 24);
    n += 24;
    in[n++] = 0x12;
    in[n++] = 0x0b;
    memcpy(in + n, vid, 11);
    n += 11;
    static const unsigned char h2[] = {0x1a, 0x13, 0xea, 0xa8, 0xdd,
                                       0xb9, 0x01, 0x0d, 0x0a, 0x0b};
    memcpy(in + n, h2, sizeof h2);
    n += sizeof h2;
    memcpy(in + n, vid, 11);
    n += 11;
    in[n++] = 0x20;
    in[n++] = 0x01;
    if (!replay) {
        in[n++] = 0x30;
        in[n++] = 0x00;
    }
    ytsim_buf_t inner = {0};
    s_b64_pct(&inner, in, n);
    unsigned char msg[256];
    size_t m = 0;
    msg[m++] = 0x1a;
    m += s_varint(msg + m, inner.len);
    memcpy(msg + m, inner.p, inner.len);
    m += inner.len;
    ytsim_buf_free(&inner);
    if (replay) {
        static const unsigned char t[] = {0x40, 0x01, 0x72, 0x02, 0x08};
        memcpy(msg + m, t, sizeof t);
        m += sizeof t;
        msg[m++] = type;
        msg[m++] = 0x78;
        msg[m++] = 0x01;
    } else {
        static const unsigned char t[] = {0x30, 0x01, 0x82, 0x01, 0x08, 0x08};
        memcpy(msg + m, t, sizeof t);
        m += sizeof t;
        msg[m++] = type;
        static const unsigned char u[] = {0x18, 0x02, 0x20, 0x00, 0x28, 0x00,
                                          0x88, 0x01, 0x01, 0xa0, 0x01};
        memcpy(msg + m, u, sizeof u);
        m += sizeof u;
        m += s_varint(msg + m, usec);
        static const unsigned char v[] = {0xa8, 0x01, 0x00, 0xb2, 0x01, 0x00};
        memcpy(msg + m, v, sizeof v);
        m += sizeof v;
    }
    unsigned char own[8] = {'Y', (unsigned char)mode, first ? 1 : 0};
    own[3] = (unsigned char)(pos >> 24);
    own[4] = (unsigned char)(pos >> 16);
    own[5] = (unsigned char)(pos >> 8);
    own[6] = (unsigned char)pos;
    own[7] = s_own_check(vid, own);
    msg[m++] = S_OWN_TAG0;
    msg[m++] = S_OWN_TAG1;
    msg[m++] = sizeof own;
    memcpy(msg + m, own, sizeof own);
    m += sizeof own;
    unsigned char out[300];
    size_t k = 0;
    if (replay) {
        memcpy(out, s_replay_head, 5);
    } else {
        memcpy(out, s_live_head, 5);
    }
    k = 5;
    k += s_varint(out + k, m);
    memcpy(out + k, msg, m);
    k += m;
    s_b64_pct(b, out, k);
}

void ytsim_chat_token(ytsim_buf_t *b, const ytsim_scn_t *scn,
                      const ytsim_stream_t *s, char mode, uint32_t pos,
                      bool first)
{
    /* Both eras use the real full-token layout: tokens of 2019-2025 named
     * channel and video the same way (the menu's relative tokens are what
     * changed in 2025). Field 20 looks like a creation time; derived from
     * the stream only, so answers stay byte-identical. */
    uint64_t usec = 1767225600000000ULL + s->vh % 100000000000000ULL;
    s_token2026(b, scn->chans[s->chan].id, s->id, mode, pos, first, usec);
}

void ytsim_chat_token_relative(ytsim_buf_t *b, bool replay, bool top)
{
    if (!replay) {
        /* the real tokens, the same on every page */
        ytsim_buf_puts(b, top ? "0ofMyAMSGgAwAYIBCAgEGAAgACgBqAEB"
                              : "0ofMyAMSGgAwAYIBCAgBGAAgACgBqAEB");
        return;
    }
    unsigned char p[] = {0xa2, 0x9d, 0xb0, 0xd3, 0x04, 0x0b, 0x1a, 0x00,
                         0x40, 0x01, 0x72, 0x02, 0x08, 0x01, 0x78, 0x01};
    p[13] = top ? 4 : 1;
    s_b64_pct(b, p, sizeof p);
}

/* A protobuf reader over [p, end). */
typedef struct {
    const unsigned char *p;   /* next byte */
    const unsigned char *end; /* end */
} s_pb_t;

static bool s_pb_varint(s_pb_t *r, uint64_t *v)
{
    *v = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (r->p >= r->end) {
            return false;
        }
        unsigned char c = *r->p++;
        *v |= (uint64_t)(c & 0x7f) << sh;
        if (c < 0x80) {
            return true;
        }
    }
    return false;
}

/* Next field: number, wire type, and for wire type 2 the bytes. */
static bool s_pb_next(s_pb_t *r, uint64_t *field, const unsigned char **d,
                      size_t *n)
{
    uint64_t key, v;
    if (!s_pb_varint(r, &key)) {
        return false;
    }
    *field = key >> 3;
    *d = NULL;
    *n = 0;
    switch (key & 7) {
    case 0:
        return s_pb_varint(r, &v);
    case 1:
    case 5: {
        size_t w = (key & 7) == 1 ? 8 : 4;
        if ((size_t)(r->end - r->p) < w) {
            return false;
        }
        r->p += w;
        return true;
    }
    case 2:
        if (!s_pb_varint(r, &v) || v > (uint64_t)(r->end - r->p)) {
            return false;
        }
        *d = r->p;
        *n = (size_t)v;
        r->p += v;
        return true;
    default:
        return false;
    }
}

/* The bytes of field f in [p, p + n) (first occurrence), or NULL. */
static const unsigned char *s_pb_field(const unsigned char *p, size_t n,
                                       uint64_t f, size_t *len)
{
    s_pb_t r = {p, p + n};
    uint64_t fld;
    const unsigned char *d;
    size_t dn;
    while (r.p < r.end) {
        if (!s_pb_next(&r, &fld, &d, &dn)) {
            return NULL;
        }
        if (fld == f && d) {
            *len = dn;
            return d;
        }
    }
    return NULL;
}

/* Decodes base64url text with "%3D" or "=" padding. */
static long s_b64_text(const char *s, size_t n, unsigned char *out, size_t cap)
{
    char tmp[1024];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && s[i + 1] == '3' &&
            (s[i + 2] == 'D' || s[i + 2] == 'd')) {
            i += 2;
            continue;
        }
        if (s[i] == '=') {
            continue;
        }
        if (k + 1 >= sizeof tmp) {
            return -1;
        }
        tmp[k++] = s[i];
    }
    return ytsim_b64_decode(tmp, k, out, cap);
}

static bool s_token2026_parse(const unsigned char *p, long n, ytsim_tok_t *o)
{
    s_pb_t r = {p, p + n};
    uint64_t outer;
    const unsigned char *msg;
    size_t mn;
    if (!s_pb_next(&r, &outer, &msg, &mn) || !msg ||
        (outer != 119693434 && outer != 156074452)) {
        return false;
    }
    bool replay = outer == 156074452;
    size_t tn, cn, an, bn, vn, on;
    const unsigned char *t = s_pb_field(msg, mn, 3, &tn);
    if (!t || tn == 0 || tn > 400) {
        return false; /* a relative token names no video */
    }
    unsigned char in[400];
    long inn = s_b64_text((const char *)t, tn, in, sizeof in);
    if (inn <= 0) {
        return false;
    }
    const unsigned char *a = s_pb_field(in, (size_t)inn, 1, &an);
    const unsigned char *bb = a ? s_pb_field(a, an, 5, &bn) : NULL;
    const unsigned char *v = bb ? s_pb_field(bb, bn, 2, &vn) : NULL;
    if (!v || vn != 11) {
        return false;
    }
    memcpy(o->vid, v, 11);
    o->vid[11] = '\0';
    const unsigned char *ct = s_pb_field(msg, mn, replay ? 14 : 16, &cn);
    unsigned char type = 1;
    if (ct && cn >= 2 && ct[0] == 0x08) {
        type = ct[1];
    }
    if (replay) {
        o->mode = type == 4 ? 'r' : 'R';
    } else {
        o->mode = type == 4 ? 'T' : 'L';
    }
    o->pos = UINT32_MAX;
    o->first = true;
    const unsigned char *own = s_pb_field(msg, mn, 1000, &on);
    if (own) {
        if (on != 8 || own[0] != 'Y' || s_own_check(o->vid, own) != own[7]) {
            return false;
        }
        o->first = own[2] & 1;
        o->pos = (uint32_t)own[3] << 24 | (uint32_t)own[4] << 16 |
                 (uint32_t)own[5] << 8 | own[6];
    }
    return true;
}

bool ytsim_chat_token_parse(const char *tok, ytsim_tok_t *out)
{
    memset(out, 0, sizeof *out);
    size_t n = tok ? strlen(tok) : 0;
    if (n < 30 || n > 600) {
        return false;
    }
    unsigned char p[512];
    long k = s_b64_text(tok, n, p, sizeof p);
    if (k <= 0) {
        return false;
    }
    if (k == 29 && s_token2022_parse(p, k, out)) {
        return true;
    }
    return s_token2026_parse(p, k, out);
}

/* ---- responses ----------------------------------------------------- */

void ytsim_response_context(ytsim_buf_t *b, uint64_t h)
{
    YB(b, "\"responseContext\":{\"serviceTrackingParams\":[{\"service\":"
          "\"CSI\",\"params\":[{\"key\":\"c\",\"value\":\"WEB\"},{\"key\":"
          "\"cver\",\"value\":\"2.20240101.00.00\"},{\"key\":\"yt_li\","
          "\"value\":\"0\"}]}],\"mainAppWebResponseContext\":{\"loggedOut\":"
          "true},\"webResponseContextExtensionData\":{\"hasDecorated\":true,"
          "\"ytConfigData\":{\"visitorData\":\"Cgt");
    char v[12];
    ytsim_rng_t r = {h};
    ytsim_rng_id(&r, v, 11);
    ytsim_buf_puts(b, v);
    YB(b, "KNjS%3D%3D\"}}}");
}

static int s_timeout_ms(ytsim_srv_t *srv, const ytsim_stream_t *s)
{
    double sp = ytsim_speed(srv);
    double ms = sp > 0 ? s->timeout_ms / sp : s->timeout_ms;
    if (ms < 50) {
        ms = 50;
    }
    return (int)ms;
}

static void s_invalidation(ytsim_buf_t *b, ytsim_srv_t *srv,
                           const ytsim_stream_t *s, char mode, uint32_t pos,
                           int timeout_ms)
{
    if (mode == 'T') {
        YB(b, "{\"timedContinuationData\":{\"timeoutMs\":");
        ytsim_buf_i64(b, timeout_ms);
        YB(b, ",\"continuation\":\"");
        ytsim_chat_token(b, ytsim_scn(srv), s, mode, pos, false);
        YB(b, "\"}}");
        return;
    }
    YB(b, "{\"invalidationContinuationData\":{\"invalidationId\":{"
          "\"objectSource\":1056,\"objectId\":\"Y2hhdH4");
    ytsim_buf_puts(b, s->id);
    YB(b, "\",\"topic\":\"chat~");
    ytsim_buf_puts(b, s->id);
    YB(b, "~");
    ytsim_buf_u64(b, s->vh % 10000000);
    YB(b, "\",\"subscribeToGcmTopics\":true,\"protoCreationTimestampMs\":\"");
    ytsim_buf_i64(b, ytsim_wall_usec(srv, ytsim_now(srv)) / 1000);
    YB(b, "\"},\"timeoutMs\":");
    ytsim_buf_i64(b, timeout_ms);
    YB(b, ",\"continuation\":\"");
    ytsim_chat_token(b, ytsim_scn(srv), s, mode, pos, false);
    YB(b, "\"}}");
}

static void s_header2022(ytsim_buf_t *b, const ytsim_scn_t *scn,
                         const ytsim_stream_t *s, bool replay, uint32_t pos,
                         bool top_selected)
{
    YB(b, "\"header\":{\"liveChatHeaderRenderer\":{\"viewSelector\":{"
          "\"sortFilterSubMenuRenderer\":{\"subMenuItems\":[{\"title\":");
    ytsim_buf_puts(b, replay ? "\"Top chat replay\"" : "\"Top chat\"");
    ytsim_buf_puts(b,
                   top_selected ? ",\"selected\":true" : ",\"selected\":false");
    YB(b, ",\"continuation\":{\"reloadContinuationData\":{"
          "\"continuation\":\"");
    ytsim_chat_token(b, scn, s, replay ? 'r' : 'T', pos, false);
    YB(b, "\",\"clickTrackingParams\":\"CDIQxqYCIhMI0PnT9ofQ8QIVZET1BR1eJAnz\"}"
          "},\"accessibility\":{\"accessibilityData\":{\"label\":\"Top chat\"}}"
          ",\"subtitle\":\"Some messages, such as potential spam, may not be "
          "visible\"},{\"title\":");
    ytsim_buf_puts(b, replay ? "\"Live chat replay\"" : "\"Live chat\"");
    ytsim_buf_puts(b,
                   top_selected ? ",\"selected\":false" : ",\"selected\":true");
    YB(b, ",\"continuation\":{\"reloadContinuationData\":{"
          "\"continuation\":\"");
    ytsim_chat_token(b, scn, s, replay ? 'R' : 'L', pos, false);
    YB(b, "\",\"clickTrackingParams\":\"CDAQxqYCIhMI0PnT9ofQ8QIVZET1BR1eJAnz\"}"
          "},\"accessibility\":{\"accessibilityData\":{\"label\":\"Live chat\"}"
          "},\"subtitle\":\"All messages are visible\"}],\"accessibility\":{"
          "\"accessibilityData\":{\"label\":\"Select chat mode\"}},"
          "\"trackingParams\":\"CA8QgdoEIhMI0PnT9ofQ8QIVZET1BR1eJAnz\"}}}}");
}

/* Localized texts of the 2026 chat-view menu: top title, live title, top
 * subtitle, live subtitle, menu label; replay titles. */
static const char *s_menu_text(const ytsim_scn_t *scn, const ytsim_stream_t *s,
                               int k, bool replay)
{
    static const char *en[] = {"Top chat",
                               "Live chat",
                               "Some messages, such as potential spam, may "
                               "not be visible",
                               "All messages are visible",
                               "Live Chat mode selection",
                               "Top chat replay",
                               "Live chat replay"};
    static const char *de[] = {"Top Chat",
                               "Livechat",
                               "Einige Nachrichten (z. B. potenzieller Spam) "
                               "werden eventuell nicht angezeigt",
                               "Alle Nachrichten werden angezeigt",
                               "Auswahl des Livechat-Modus",
                               "Top-Chat-Wiedergabe",
                               "Livechat-Wiedergabe"};
    const char **t = strcmp(scn->chans[s->chan].hl, "de") == 0 ? de : en;
    if (replay && k < 2) {
        k += 5;
    }
    return t[k];
}

static void s_header2026(ytsim_buf_t *b, const ytsim_scn_t *scn,
                         const ytsim_stream_t *s, bool replay, uint32_t pos,
                         bool top_selected)
{
    YB(b, "\"header\":{\"liveChatHeaderRenderer\":{\"viewSelector\":{"
          "\"sortFilterSubMenuRenderer\":{\"subMenuItems\":[");
    for (int k = 0; k < 2; k++) {
        bool top = k == 0;
        YB(b, "{\"title\":");
        ytsim_buf_jstr(b, s_menu_text(scn, s, k, replay));
        ytsim_buf_puts(b, top == top_selected ? ",\"selected\":true"
                                              : ",\"selected\":false");
        YB(b, ",\"continuation\":{\"reloadContinuationData\":{"
              "\"continuation\":\"");
        if (pos == UINT32_MAX) {
            ytsim_chat_token_relative(b, replay, top);
        } else {
            ytsim_chat_token(b, scn, s,
                             top ? (replay ? 'r' : 'T') : (replay ? 'R' : 'L'),
                             pos, true);
        }
        YB(b, "\",\"clickTrackingParams\":\"CFcQxqYCIhMI_7jPp8DgkgMVVR8GAB2M"
              "eR2gygEEQDeXjQ==\"}},\"accessibility\":{\"accessibilityData\":"
              "{\"label\":");
        ytsim_buf_jstr(b, s_menu_text(scn, s, k, replay));
        YB(b, "}},\"subtitle\":");
        ytsim_buf_jstr(b, s_menu_text(scn, s, 2 + k, false));
        YB(b, ",\"trackingParams\":\"CFYQ48AHGAAiEwj_uM-nwOCSAxVVHwYAHYx5HaA=\""
              "}");
        if (top) {
            YB(b, ",");
        }
    }
    YB(b, "],\"accessibility\":{\"accessibilityData\":{\"label\":");
    ytsim_buf_jstr(b, s_menu_text(scn, s, 4, false));
    YB(b, "}},\"trackingParams\":\"CFMQgdoEIhMI_7jPp8DgkgMVVR8GAB2MeR2g\","
          "\"targetId\":\"live-chat-view-selector-sub-menu\"}}}}");
}

void ytsim_chat_header(ytsim_buf_t *b, const ytsim_scn_t *scn,
                       const ytsim_stream_t *s, bool replay, uint32_t pos,
                       bool top_selected)
{
    if (s->era >= 2026) {
        s_header2026(b, scn, s, replay, pos, top_selected);
    } else {
        s_header2022(b, scn, s, replay, pos, top_selected);
    }
}

static int s_error(ytsim_buf_t *b, int code, const char *status,
                   const char *msg)
{
    ytsim_buf_printf(b, "{\"error\":{\"code\":%d,\"message\":", code);
    ytsim_buf_jstr(b, msg);
    YB(b, ",\"errors\":[{\"message\":");
    ytsim_buf_jstr(b, msg);
    ytsim_buf_printf(b,
                     ",\"domain\":\"global\",\"reason\":\"%s\"}],"
                     "\"status\":\"%s\"}}",
                     code == 400 ? "badRequest"
                                 : (code == 403 ? "forbidden" : "notFound"),
                     status);
    return code;
}

uint32_t ytsim_chat_initial_pos(ytsim_srv_t *srv, ytsim_stream_t *s, double t)
{
    uint32_t n = ytsim_chat_count(ytsim_scn(srv), s, t);
    return n > s->backlog ? n - s->backlog : 0;
}

static int s_live(ytsim_srv_t *srv, ytsim_stream_t *s, char mode, uint32_t pos,
                  bool initial, bool header, ytsim_buf_t *b)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    double now = ytsim_now(srv);
    ytsim_state_t st = ytsim_stream_state(s, now);
    int64_t epoch = ytsim_wall_usec(srv, 0);
    uint32_t avail = ytsim_chat_count(scn, s, now);
    uint32_t tot = ytsim_chat_total(s);
    bool ended = st == YTSIM_ST_ENDED;
    YB(b, "{");
    ytsim_response_context(b, s->vh ^ pos);
    if (ended && pos >= tot && !initial) {
        /* the end: no continuationContents at all */
        YB(b, ",\"trackingParams\":\"CAAQ0b4BIhMIsim\"}");
        return 200;
    }
    uint32_t end = avail;
    bool more = false;
    if (end > pos && end - pos > s->max_actions) {
        end = pos + s->max_actions;
        more = true;
    }
    if (end < pos) {
        end = pos;
    }
    int tmo = more ? 100 : s_timeout_ms(srv, s);
    if (!initial) {
        /* count polls that did not wait (half) the timeoutMs given last */
        double rt = ytsim_real(srv);
        pthread_mutex_lock(&s->mu);
        s->polls++;
        if (s->last_poll > 0 && rt - s->last_poll < s->last_timeout * 0.5) {
            s->early_polls++;
        }
        s->last_poll = rt;
        s->last_timeout = tmo / 1000.0;
        pthread_mutex_unlock(&s->mu);
    }
    bool era26 = s->era >= 2026;
    bool sep = false;
    if (initial && !era26) {
        YB(b, ",\"contents\":{\"liveChatRenderer\":{");
    } else {
        YB(b, ",\"continuationContents\":{\"liveChatContinuation\":{");
        if (era26 && (initial || header)) {
            /* 2025+: the chat-view menu with full tokens comes first */
            ytsim_chat_header(b, scn, s, false, pos, mode == 'T');
            sep = true;
        }
    }
    if (!(ended && end >= tot)) {
        /* the last answer of an ended stream has no continuation */
        ytsim_buf_puts(b, sep ? ",\"continuations\":[" : "\"continuations\":[");
        s_invalidation(b, srv, s, mode, end, tmo);
        YB(b, "]");
        sep = true;
    }
    if (end > pos) {
        ytsim_buf_puts(b, sep ? ",\"actions\":[" : "\"actions\":[");
        sep = true;
        s_msg_t m;
        bool first = true;
        for (uint32_t i = pos; i < end; i++) {
            s_gen(s, i, epoch, &m);
            if (mode == 'T' && m.kind == K_TEXT &&
                ytsim_unit(ytsim_hash3(s->vh, i, 0x70)) < 0.1) {
                /* "Top chat" hides some messages, like potential spam;
                 * from 2026 on the truth has them anyway (they were in the
                 * chat), so a capture that stays on Top chat falls short */
                if (era26) {
                    s_truth_served(srv, s, &m);
                }
                continue;
            }
            if (!first) {
                YB(b, ",");
            }
            first = false;
            s_action(b, scn, s, &m, epoch);
            s_truth_served(srv, s, &m);
        }
        YB(b, "]");
    }
    if (initial && !era26) {
        if (sep) {
            YB(b, ",");
        }
        ytsim_chat_header(b, scn, s, false, pos, false);
        YB(b, ",\"trackingParams\":\"CAEQl98BIhMIsim\",\"clientMessages\":{"
              "\"reconnectMessage\":{\"runs\":[{\"text\":\"Chat disconnected. "
              "Attempting to reconnect...\"}]},\"unableToReconnectMessage\":{"
              "\"runs\":[{\"text\":\"Unable to reconnect\"}]},"
              "\"fatalError\":{\"runs\":[{\"text\":\"Unable to connect to "
              "chat\"}]},\"reconnectedMessage\":{\"runs\":[{\"text\":\"Chat "
              "reconnected\"}]},\"genericError\":{\"runs\":[{\"text\":\"Error, "
              "try again.\"}]}},\"viewerName\":\"\"}}");
    } else {
        YB(b, "}}");
    }
    YB(b, ",\"trackingParams\":\"CAAQ0b4BIhMIsim\"}");
    return 200;
}

/* True when position i is served by the replay (items; era 2026 also the
 * replaceChatItemAction), unless missing. */
static bool s_in_replay(const ytsim_stream_t *s, uint32_t i)
{
    int k = s_kind(s, i);
    return (s_is_item(k) || (k == K_REPLACE && s->era >= 2026)) &&
           !s_replay_missing(s, i);
}

/* Next replay position >= i, or tot. */
static uint32_t s_replay_next(const ytsim_stream_t *s, uint32_t i, uint32_t tot)
{
    while (i < tot && !s_in_replay(s, i)) {
        i++;
    }
    return i;
}

uint32_t ytsim_chat_replay_seek(const ytsim_stream_t *s, int64_t off_ms)
{
    uint32_t tot = ytsim_chat_total(s);
    uint32_t lo = 0, hi = tot;
    /* item times increase with the position: binary search */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((s_item_time(s, mid) - s->start) * 1000 < (double)off_ms) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static int s_replay(ytsim_srv_t *srv, ytsim_stream_t *s, uint32_t pos,
                    bool initial, bool header, bool top, ytsim_buf_t *b)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    int64_t epoch = ytsim_wall_usec(srv, 0);
    uint32_t tot = ytsim_chat_total(s);
    uint32_t lim = s->max_actions < 100 ? s->max_actions : 100;
    uint32_t idx[100];
    uint32_t n = 0;
    uint32_t i = s_replay_next(s, pos, tot);
    while (i < tot && n < lim) {
        idx[n++] = i;
        i = s_replay_next(s, i + 1, tot);
    }
    bool era26 = s->era >= 2026;
    YB(b, "{");
    ytsim_response_context(b, s->vh ^ pos ^ 0x77);
    if (era26) {
        YB(b, ",\"continuationContents\":{\"liveChatContinuation\":{");
        if (initial || header) {
            ytsim_chat_header(b, scn, s, true, pos, top);
            YB(b, ",");
        }
        YB(b, "\"continuations\":[");
    } else {
        ytsim_buf_puts(b, initial ? ",\"contents\":{\"liveChatRenderer\":{"
                                    "\"continuations\":["
                                  : ",\"continuationContents\":{"
                                    "\"liveChatContinuation\":{"
                                    "\"continuations\":[");
    }
    char rm = top ? 'r' : 'R';
    if (i < tot) {
        YB(b, "{\"liveChatReplayContinuationData\":{"
              "\"timeUntilLastMessageMsec\":5000,\"continuation\":\"");
        ytsim_chat_token(b, scn, s, rm, i, false);
        YB(b, "\"}},");
    }
    YB(b, "{\"playerSeekContinuationData\":{\"continuation\":\"");
    ytsim_chat_token(b, scn, s, rm, i < tot ? i : tot, false);
    YB(b, "\"}}]");
    if (n > 0) {
        YB(b, ",\"actions\":[");
        s_msg_t m;
        for (uint32_t k = 0; k < n; k++) {
            s_gen(s, idx[k], epoch, &m);
            if (k) {
                YB(b, ",");
            }
            if (m.kind == K_REPLACE) {
                YB(b, "{\"replayChatItemAction\":{\"actions\":[");
                s_action(b, scn, s, &m, epoch);
                YB(b, "],\"videoOffsetTimeMsec\":\"");
            } else {
                YB(b, "{\"replayChatItemAction\":{\"actions\":[{"
                      "\"addChatItemAction\":{\"item\":");
                s_renderer(b, scn, s, &m, true);
                if (m.kind != K_JEWELS) {
                    YB(b, ",\"clientId\":\"CL");
                    ytsim_buf_put(b, m.id + 6, 24);
                    YB(b, "\"");
                }
                YB(b, "}}],\"videoOffsetTimeMsec\":\"");
            }
            double off = (m.t - s->start) * 1000;
            ytsim_buf_i64(b, off < 0 ? 0 : (int64_t)off);
            YB(b, "\"}}");
            s_truth_served(srv, s, &m);
        }
        YB(b, "]");
    }
    if (initial && !era26) {
        YB(b, ",");
        ytsim_chat_header(b, scn, s, true, pos, false);
        YB(b, ",\"isReplay\":true,\"trackingParams\":\"CAEQl98BIhMIsim\"}}");
    } else {
        YB(b, "}}");
    }
    YB(b, ",\"trackingParams\":\"CAAQ0b4BIhMIsim\"}");
    return 200;
}

int ytsim_chat_response(ytsim_srv_t *srv, ytsim_stream_t *s, char mode,
                        uint32_t pos, bool initial, bool header, ytsim_buf_t *b)
{
    double now = ytsim_now(srv);
    ytsim_state_t st = ytsim_stream_state(s, now);
    if (st == YTSIM_ST_DELETED || s->is_private) {
        return s_error(b, 404, "NOT_FOUND", "Requested entity was not found.");
    }
    if (s->members_only) {
        return s_error(b, 403, "PERMISSION_DENIED",
                       "The caller does not have permission");
    }
    if (s->chat_disabled) {
        return s_error(b, 400, "FAILED_PRECONDITION",
                       "Precondition check failed.");
    }
    if (mode == 'R' || mode == 'r') {
        if (st != YTSIM_ST_ENDED) {
            return s_error(b, 400, "FAILED_PRECONDITION",
                           "Precondition check failed.");
        }
        return s_replay(srv, s, pos, initial, header, mode == 'r', b);
    }
    return s_live(srv, s, mode, pos, initial, header, b);
}

/* ---- Data API liveChatMessages ------------------------------------- */

static const char *s_api_type(const s_msg_t *m)
{
    switch (m->kind) {
    case K_TEXT:
        return "textMessageEvent";
    case K_SUPERCHAT:
        return "superChatEvent";
    case K_STICKER:
        return "superStickerEvent";
    case K_MEMBER:
        return m->milestone ? "memberMilestoneChatEvent" : "newSponsorEvent";
    case K_GIFT:
        return m->redemption ? "giftMembershipReceivedEvent"
                             : "membershipGiftingEvent";
    case K_DELETE:
        return "messageDeletedEvent";
    default:
        return "userBannedEvent";
    }
}

static void s_api_item(ytsim_buf_t *b, ytsim_srv_t *srv, ytsim_stream_t *s,
                       const s_msg_t *m, ytsim_buf_t *text)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    char ts[48];
    ytsim_fmt_time(ts, sizeof ts, m->usec, 6, true);
    text->len = 0;
    if (text->p) {
        text->p[0] = '\0';
    }
    for (int k = 0; k < m->nruns; k++) {
        const s_run_t *run = &m->runs[k];
        ytsim_buf_puts(text, run->type == R_CUSTOM ? run->name : run->text);
    }
    if (!text->p) {
        YB(text, "");
    }
    YB(b, "{\"kind\":\"youtube#liveChatMessage\",\"etag\":\"");
    ytsim_buf_put(b, m->id + 4, 27);
    YB(b, "\",\"id\":\"LCC.");
    ytsim_buf_puts(b, m->id);
    YB(b, "\",\"snippet\":{\"type\":\"");
    ytsim_buf_puts(b, s_api_type(m));
    YB(b, "\",\"liveChatId\":\"");
    ytsim_buf_puts(b, s->chat_id);
    YB(b, "\",\"authorChannelId\":\"");
    ytsim_buf_puts(b, m->author_id);
    YB(b, "\",\"publishedAt\":\"");
    ytsim_buf_puts(b, ts);
    YB(b, "\",\"hasDisplayContent\":true,\"displayMessage\":");
    ytsim_buf_jstr(b, text->p);
    switch (m->kind) {
    case K_TEXT:
        YB(b, ",\"textMessageDetails\":{\"messageText\":");
        ytsim_buf_jstr(b, text->p);
        YB(b, "}");
        break;
    case K_SUPERCHAT:
    case K_STICKER:
        ytsim_buf_puts(b, m->kind == K_SUPERCHAT ? ",\"superChatDetails\":{"
                                                 : ",\"superStickerDetails\":{"
                                                   "\"superStickerMetadata\":{"
                                                   "\"stickerId\":\"shiba\","
                                                   "\"altText\":\"Shiba\","
                                                   "\"language\":\"en\"},");
        ytsim_buf_printf(b,
                         "\"amountMicros\":\"%llu\",\"currency\":\"%s\","
                         "\"amountDisplayString\":",
                         (unsigned long long)s_amounts[m->amount].micros,
                         s_amounts[m->amount].cur);
        ytsim_buf_jstr(b, s_amounts[m->amount].text);
        if (m->kind == K_SUPERCHAT) {
            YB(b, ",\"userComment\":");
            ytsim_buf_jstr(b, text->p);
        }
        YB(b, ",\"tier\":2}");
        break;
    case K_MEMBER:
        if (m->milestone) {
            YB(b, ",\"memberMilestoneChatDetails\":{\"memberMonth\":6,"
                  "\"memberLevelName\":\"Sponsor tier\",\"userComment\":");
            ytsim_buf_jstr(b, text->p);
            YB(b, "}");
        } else {
            YB(b, ",\"newSponsorDetails\":{\"memberLevelName\":\"Sponsor "
                  "tier\",\"isUpgrade\":false}");
        }
        break;
    case K_GIFT:
        if (m->redemption) {
            YB(b, ",\"giftMembershipReceivedDetails\":{\"memberLevelName\":"
                  "\"Sponsor tier\",\"gifterChannelId\":\"");
            ytsim_buf_puts(b, m->author_id);
            YB(b, "\"}");
        } else {
            ytsim_buf_printf(b,
                             ",\"membershipGiftingDetails\":{"
                             "\"giftMembershipsCount\":%d,"
                             "\"giftMembershipsLevelName\":\"Sponsor "
                             "tier\"}",
                             m->gift_count);
        }
        break;
    default: {
        s_msg_t t;
        s_gen(s, m->target, ytsim_wall_usec(srv, 0), &t);
        if (m->kind == K_DELETE) {
            YB(b, ",\"messageDeletedDetails\":{\"deletedMessageId\":\"LCC.");
            ytsim_buf_puts(b, t.id);
            YB(b, "\"}");
        } else {
            YB(b, ",\"userBannedDetails\":{\"bannedUserDetails\":{"
                  "\"channelId\":\"");
            ytsim_buf_puts(b, t.author_id);
            YB(b, "\",\"displayName\":");
            ytsim_buf_jstr(b, t.author_name);
            YB(b, "},\"banType\":\"permanent\"}");
        }
    }
    }
    YB(b, "},\"authorDetails\":{\"channelId\":\"");
    ytsim_buf_puts(b, m->author_id);
    YB(b, "\",\"channelUrl\":\"http://www.youtube.com/channel/");
    ytsim_buf_puts(b, m->author_id);
    YB(b, "\",\"displayName\":");
    ytsim_buf_jstr(b, m->author_name);
    YB(b, ",\"profileImageUrl\":\"https://yt3.ggpht.com/ytc/AIdro_");
    ytsim_buf_put(b, m->author_id + 2, 22);
    YB(b, "=s88-c-k-c0x00ffffff-no-rj\",\"isVerified\":false,"
          "\"isChatOwner\":false,");
    ytsim_buf_puts(b, m->member_months ? "\"isChatSponsor\":true,"
                                       : "\"isChatSponsor\":false,");
    YB(b, "\"isChatModerator\":false}}");
    (void)scn;
}

static void s_api_truth(ytsim_srv_t *srv, ytsim_stream_t *s, const s_msg_t *m,
                        const char *text)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    if (!scn->truth_chat || s->load || !s_is_item(m->kind)) {
        return;
    }
    /* columns as expected_chat.jq derives them from a Data API answer */
    static const char *kinds[] = {"text", "superchat", "sticker", "membership",
                                  "gift"};
    ytsim_buf_t row = {0};
    YB(&row, "LCC.");
    ytsim_buf_tsv(&row, m->id);
    YB(&row, "\t");
    ytsim_buf_puts(&row, kinds[m->kind]);
    YB(&row, "\t");
    ytsim_buf_tsv(&row, m->author_id);
    YB(&row, "\t");
    ytsim_buf_tsv(&row, m->author_name);
    YB(&row, "\t");
    ytsim_buf_i64(&row, m->usec);
    YB(&row, "\t");
    if (m->kind == K_SUPERCHAT || m->kind == K_STICKER) {
        ytsim_buf_tsv(&row, s_amounts[m->amount].text);
    }
    YB(&row, "\t");
    if (m->kind == K_TEXT || m->kind == K_SUPERCHAT ||
        (m->kind == K_MEMBER && m->milestone)) {
        ytsim_buf_tsv(&row, text);
    }
    YB(&row, "\n");
    pthread_mutex_lock(&s->mu);
    if (!s_test_and_set(&s->served_api, &s->served_api_bytes, m->idx) &&
        s->truth_api) {
        fwrite(row.p, 1, row.len, s->truth_api);
    }
    pthread_mutex_unlock(&s->mu);
    ytsim_buf_free(&row);
}

int ytsim_chat_api_response(ytsim_srv_t *srv, ytsim_stream_t *s, uint32_t pos,
                            uint32_t max, ytsim_buf_t *b)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    double now = ytsim_now(srv);
    ytsim_state_t st = ytsim_stream_state(s, now);
    uint32_t avail = ytsim_chat_count(scn, s, now);
    uint32_t tot = ytsim_chat_total(s);
    int64_t epoch = ytsim_wall_usec(srv, 0);
    if (st == YTSIM_ST_ENDED && pos >= tot) {
        const char *msg = "The live chat is no longer live.";
        YB(b, "{\"error\":{\"code\":403,\"message\":");
        ytsim_buf_jstr(b, msg);
        YB(b, ",\"errors\":[{\"message\":");
        ytsim_buf_jstr(b, msg);
        YB(b, ",\"domain\":\"youtube.liveChat\",\"reason\":\"liveChatEnded\"}"
              "]}}");
        return 403;
    }
    /* items first: web client noise has no Data API counterpart, so a page
     * of max items may span more positions */
    ytsim_buf_t items = {0};
    ytsim_buf_t text = {0};
    s_msg_t m;
    uint32_t n = 0;
    uint32_t end = pos;
    for (; end < avail && n < max; end++) {
        s_gen(s, end, epoch, &m);
        if (m.kind >= K_PLACEHOLDER) {
            continue;
        }
        if (n++) {
            YB(&items, ",");
        }
        s_api_item(&items, srv, s, &m, &text);
        s_api_truth(srv, s, &m, text.p);
    }
    ytsim_buf_free(&text);
    YB(b, "{\"kind\":\"youtube#liveChatMessageListResponse\",\"etag\":\"");
    char e[28];
    ytsim_rng_t r = {s->vh ^ end};
    ytsim_rng_id(&r, e, 27);
    ytsim_buf_puts(b, e);
    ytsim_buf_printf(b, "\",\"pollingIntervalMillis\":%d,",
                     s_timeout_ms(srv, s));
    if (st == YTSIM_ST_ENDED) {
        char ts[48];
        ytsim_fmt_time(ts, sizeof ts,
                       ytsim_wall_usec(srv, s->start + s->duration), 0, false);
        ytsim_buf_printf(b, "\"offlineAt\":\"%s\",", ts);
    }
    ytsim_buf_printf(b,
                     "\"pageInfo\":{\"totalResults\":%u,"
                     "\"resultsPerPage\":%u},\"nextPageToken\":\"",
                     n, n);
    unsigned char tk[8] = {'G', 'P', 'T', 0};
    tk[4] = (unsigned char)(end >> 24);
    tk[5] = (unsigned char)(end >> 16);
    tk[6] = (unsigned char)(end >> 8);
    tk[7] = (unsigned char)end;
    ytsim_buf_b64(b, tk, 8, true, false);
    YB(b, "\",\"items\":[");
    if (items.p) {
        ytsim_buf_put(b, items.p, items.len);
    }
    ytsim_buf_free(&items);
    YB(b, "]}");
    return 200;
}

bool ytsim_chat_api_token(const char *tok, uint32_t *pos)
{
    unsigned char p[16];
    long n = ytsim_b64_decode(tok, strlen(tok), p, sizeof p);
    if (n != 8 || p[0] != 'G' || p[1] != 'P' || p[2] != 'T') {
        return false;
    }
    *pos = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 |
           p[7];
    return true;
}
