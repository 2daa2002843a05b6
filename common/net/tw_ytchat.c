/* tw_ytchat - live chat extraction on top of the tw_json tape: a pre-order
 * scan for the few keys that matter, the rest is skipped. */
#include "tw_ytchat.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tw_json.h"
#include "tw_time.h"
#include "tw_ytpage.h"

#define MAX_UNKNOWN 64

/* One block of the string arena; blocks never move. */
typedef struct s_block {
    struct s_block *next; /* older block */
    size_t cap;           /* bytes in data */
    size_t used;          /* bytes handed out */
    char data[];          /* storage */
} s_block_t;

struct tw_ytchat {
    tw_json_t *json;                          /* tape of the document */
    s_block_t *blocks;                        /* string arena, newest first */
    tw_ytchat_item_t *items;                  /* parsed items */
    size_t nitems;                            /* items in use */
    size_t cap;                               /* items allocated */
    tw_ytchat_cont_t cont;                    /* continuation */
    bool api;                                 /* Data API document */
    tw_ytchat_unknown_t unknown[MAX_UNKNOWN]; /* unknown names */
    size_t nunknown;                          /* entries in unknown */
    bool nomem;                               /* an allocation failed */
};

/* Known innertube item renderers and their kinds. */
static const struct {
    const char *name;      /* renderer key */
    tw_ytchat_kind_t kind; /* kind */
} s_renderers[] = {
    {"liveChatTextMessageRenderer", TW_YTCHAT_TEXT},
    {"liveChatPaidMessageRenderer", TW_YTCHAT_SUPERCHAT},
    {"liveChatPaidStickerRenderer", TW_YTCHAT_STICKER},
    {"liveChatMembershipItemRenderer", TW_YTCHAT_MEMBERSHIP},
    {"liveChatLegacyPaidMessageRenderer", TW_YTCHAT_MEMBERSHIP},
    {"liveChatSponsorshipsGiftPurchaseAnnouncementRenderer", TW_YTCHAT_GIFT},
    {"liveChatSponsorshipsGiftRedemptionAnnouncementRenderer", TW_YTCHAT_GIFT},
    {"giftMessageViewModel", TW_YTCHAT_JEWELS},
    {"liveChatPlaceholderItemRenderer", TW_YTCHAT_OTHER},
    {"liveChatViewerEngagementMessageRenderer", TW_YTCHAT_OTHER},
    {"liveChatModeChangeMessageRenderer", TW_YTCHAT_OTHER},
    {"liveChatDonationAnnouncementRenderer", TW_YTCHAT_OTHER},
    {"liveChatPurchasedProductMessageRenderer", TW_YTCHAT_OTHER},
    {"liveChatAutoModMessageRenderer", TW_YTCHAT_OTHER},
    {"liveChatModerationMessageRenderer", TW_YTCHAT_OTHER},
    {"liveChatBannerRedirectRenderer", TW_YTCHAT_OTHER},
    {"liveChatCallForQuestionsRenderer", TW_YTCHAT_OTHER},
};

/* Actions and commands known to carry no chat row (or handled). */
static const char *const s_actions[] = {
    "addChatItemAction",
    "addLiveChatTickerItemAction",
    "markChatItemAsDeletedAction",
    "markChatItemsByAuthorAsDeletedAction",
    "replaceChatItemAction",
    "replayChatItemAction",
    "addBannerToLiveChatCommand",
    "removeBannerForLiveChatCommand",
    "updateLiveChatPollAction",
    "showLiveChatActionPanelAction",
    "closeLiveChatActionPanelAction",
    "showLiveChatTooltipCommand",
    "showLiveChatDialogAction",
    "addLiveChatTextMessageFromTemplateAction",
    "liveChatReportModerationStateCommand",
    "removeChatItemAction",
    "removeChatItemByAuthorAction",
    "addToastAction",
    "updateDateTextAction",
    "updateDescriptionAction",
    "updateTitleAction",
    "updateToggleButtonTextAction",
    "updateViewershipAction",
};

/* Data API event types and their kinds. */
static const struct {
    const char *name;      /* snippet.type */
    tw_ytchat_kind_t kind; /* kind */
} s_api_kinds[] = {
    {"textMessageEvent", TW_YTCHAT_TEXT},
    {"superChatEvent", TW_YTCHAT_SUPERCHAT},
    {"superStickerEvent", TW_YTCHAT_STICKER},
    {"newSponsorEvent", TW_YTCHAT_MEMBERSHIP},
    {"memberMilestoneChatEvent", TW_YTCHAT_MEMBERSHIP},
    {"membershipGiftingEvent", TW_YTCHAT_GIFT},
    {"giftMembershipReceivedEvent", TW_YTCHAT_GIFT},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

tw_ytchat_t *tw_ytchat_new(void)
{
    tw_ytchat_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->json = tw_json_new();
    if (!self->json) {
        free(self);
        return NULL;
    }
    return self;
}

void tw_ytchat_destroy(tw_ytchat_t **self_p)
{
    assert(self_p);
    tw_ytchat_t *self = *self_p;
    if (!self)
        return;
    tw_json_destroy(&self->json);
    while (self->blocks) {
        s_block_t *b = self->blocks;
        self->blocks = b->next;
        free(b);
    }
    free(self->items);
    free(self);
    *self_p = NULL;
}

/* Empties the arena, keeping only its newest block. */
static void s_arena_reset(tw_ytchat_t *self)
{
    s_block_t *b = self->blocks;
    if (!b)
        return;
    while (b->next) {
        s_block_t *old = b->next;
        b->next = old->next;
        free(old);
    }
    b->used = 0;
}

/* Returns n bytes of arena storage, or NULL (and sets nomem). */
static char *s_alloc(tw_ytchat_t *self, size_t n)
{
    s_block_t *b = self->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = 64 * 1024;
        if (b && b->cap > cap)
            cap = b->cap;
        while (cap < n)
            cap *= 2;
        s_block_t *nb = malloc(sizeof *nb + cap);
        if (!nb) {
            self->nomem = true;
            return NULL;
        }
        nb->cap = cap;
        nb->used = 0;
        nb->next = b;
        self->blocks = nb;
        b = nb;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

static const char *s_dup(tw_ytchat_t *self, const char *s, size_t n)
{
    if (n == 0)
        return "";
    char *p = s_alloc(self, n + 1);
    if (!p)
        return "";
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* v unless it is absent, null or false (jq's `//`). */
static tw_json_ref_t s_alt(const tw_json_t *j, tw_json_ref_t v)
{
    tw_json_type_t t = tw_json_type(j, v);
    return t == TW_JSON_NONE || t == TW_JSON_NULL || t == TW_JSON_FALSE ? 0 : v;
}

/* The text of a scalar as jq's tostring prints it; "" for null, containers
 * and absent values. */
static const char *s_scalar(const tw_json_t *j, tw_json_ref_t v, size_t *len)
{
    switch (tw_json_type(j, v)) {
    case TW_JSON_STRING:
    case TW_JSON_NUMBER:
        return tw_json_str(j, v, len);
    case TW_JSON_TRUE:
        *len = 4;
        return "true";
    case TW_JSON_FALSE:
        *len = 5;
        return "false";
    default:
        *len = 0;
        return "";
    }
}

static const char *s_scalar_dup(tw_ytchat_t *self, tw_json_ref_t v)
{
    size_t n;
    const char *s = s_scalar(self->json, v, &n);
    return s_dup(self, s, n);
}

/* The piece of text one run contributes. */
static const char *s_run(const tw_json_t *j, tw_json_ref_t run, size_t *len)
{
    *len = 0;
    if (tw_json_type(j, run) != TW_JSON_OBJECT)
        return "";
    tw_json_ref_t t = 0, e = 0;
    for (tw_json_ref_t k = tw_json_first(j, run); k;
         k = tw_json_next_key(j, k)) {
        size_t n;
        const char *s = tw_json_str(j, k, &n);
        if (n == 4 && !t && memcmp(s, "text", 4) == 0)
            t = k + 1;
        else if (n == 5 && !e && memcmp(s, "emoji", 5) == 0)
            e = k + 1;
    }
    if (t)
        return s_scalar(j, t, len);
    if (tw_json_type(j, e) != TW_JSON_OBJECT)
        return "";
    if (tw_json_is_true(j, tw_json_get(j, e, "isCustomEmoji"))) {
        tw_json_ref_t sc = tw_json_get(j, e, "shortcuts");
        tw_json_ref_t first = s_alt(j, tw_json_at(j, sc, 0));
        if (first)
            return s_scalar(j, first, len);
    }
    return s_scalar(j, tw_json_get(j, e, "emojiId"), len);
}

/* jq's txt: string, simpleText or concatenated runs. */
static const char *s_txt(tw_ytchat_t *self, tw_json_ref_t v)
{
    const tw_json_t *j = self->json;
    tw_json_type_t ty = tw_json_type(j, v);
    if (ty != TW_JSON_OBJECT)
        return s_scalar_dup(self, v);
    tw_json_ref_t st = tw_json_get(j, v, "simpleText");
    if (st)
        return s_scalar_dup(self, st);
    tw_json_ref_t runs = tw_json_get(j, v, "runs");
    if (tw_json_type(j, runs) != TW_JSON_ARRAY)
        return "";
    size_t total = 0, n;
    for (tw_json_ref_t r = tw_json_first(j, runs); r; r = tw_json_next(j, r)) {
        s_run(j, r, &n);
        total += n;
    }
    if (total == 0)
        return "";
    char *out = s_alloc(self, total + 1);
    if (!out)
        return "";
    char *o = out;
    for (tw_json_ref_t r = tw_json_first(j, runs); r; r = tw_json_next(j, r)) {
        const char *s = s_run(j, r, &n);
        memcpy(o, s, n);
        o += n;
    }
    *o = '\0';
    return out;
}

static tw_ytchat_item_t *s_push(tw_ytchat_t *self, tw_ytchat_kind_t kind)
{
    if (self->nitems == self->cap) {
        size_t ncap = self->cap ? self->cap * 2 : 256;
        tw_ytchat_item_t *it = realloc(self->items, ncap * sizeof *it);
        if (!it) {
            self->nomem = true;
            return NULL;
        }
        self->items = it;
        self->cap = ncap;
    }
    tw_ytchat_item_t *item = &self->items[self->nitems++];
    *item = (tw_ytchat_item_t){
        .kind = kind,
        .id = "",
        .ref_id = "",
        .author_channel_id = "",
        .author_name = "",
        .timestamp = "",
        .amount = "",
        .amount_micros = -1,
        .message = "",
        .renderer = "",
    };
    return item;
}

/* Counts an unknown name; the path is computed for its first occurrence. */
static void s_unknown(tw_ytchat_t *self, tw_json_ref_t key)
{
    size_t n;
    const char *name = tw_json_str(self->json, key, &n);
    for (size_t i = 0; i < self->nunknown; i++) {
        tw_ytchat_unknown_t *u = &self->unknown[i];
        if (strlen(u->name) == n && memcmp(u->name, name, n) == 0) {
            u->count++;
            return;
        }
    }
    if (self->nunknown == MAX_UNKNOWN)
        return;
    char path[512];
    tw_json_path_of(self->json, key, path, sizeof path);
    tw_ytchat_unknown_t *u = &self->unknown[self->nunknown++];
    u->name = s_dup(self, name, n);
    u->path = s_dup(self, path, strlen(path));
    u->count = 1;
}

/* The text of a view model's {content: "..."} field, or "" (jq's
 * `.x.content // ""`). */
static const char *s_content(tw_ytchat_t *self, tw_json_ref_t obj,
                             const char *key)
{
    const tw_json_t *j = self->json;
    return s_scalar_dup(self,
                        s_alt(j, tw_json_path(j, obj, key, "content", NULL)));
}

/* A giftMessageViewModel (Jewels gift): id, author from authorName.content
 * without trailing white space, message from text.content; it carries no
 * channel id, timestamp or amount. */
static void s_gift_vm(tw_ytchat_t *self, tw_ytchat_item_t *it, tw_json_ref_t r)
{
    const tw_json_t *j = self->json;
    it->id = s_scalar_dup(self, s_alt(j, tw_json_get(j, r, "id")));
    const char *name = s_content(self, r, "authorName");
    size_t n = strlen(name);
    while (n > 0 && strchr(" \t\n\r\f\v", name[n - 1]))
        n--;
    it->author_name = s_dup(self, name, n);
    it->message = s_content(self, r, "text");
}

/* One chat item object {RENDERER: {...}}: the item of an addChatItemAction
 * or the replacementItem of a replaceChatItemAction. Returns the new item or
 * NULL when there is none. */
static tw_ytchat_item_t *s_add_item(tw_ytchat_t *self, tw_json_ref_t item)
{
    const tw_json_t *j = self->json;
    tw_json_ref_t k = tw_json_first(j, item);
    if (tw_json_type(j, item) != TW_JSON_OBJECT || !k)
        return NULL;
    size_t klen;
    const char *kname = tw_json_str(j, k, &klen);
    tw_ytchat_kind_t kind = TW_YTCHAT_OTHER;
    bool known = false;
    for (size_t i = 0; i < ARRAY_LEN(s_renderers); i++) {
        if (strlen(s_renderers[i].name) == klen &&
            memcmp(s_renderers[i].name, kname, klen) == 0) {
            kind = s_renderers[i].kind;
            known = true;
            break;
        }
    }
    if (!known)
        s_unknown(self, k);
    tw_json_ref_t r = k + 1;
    if (tw_json_type(j, r) != TW_JSON_OBJECT)
        return NULL;
    tw_ytchat_item_t *it = s_push(self, kind);
    if (!it)
        return NULL;
    it->renderer = s_dup(self, kname, klen);
    if (kind == TW_YTCHAT_JEWELS) {
        s_gift_vm(self, it, r);
        return it;
    }
    /* One pass over the renderer's keys (first occurrence of each). */
    tw_json_ref_t id = 0, chan = 0, name = 0, ts = 0, amount = 0, msg = 0,
                  sub = 0, header = 0;
    for (tw_json_ref_t f = tw_json_first(j, r); f; f = tw_json_next_key(j, f)) {
        size_t n;
        const char *fk = tw_json_str(j, f, &n);
        tw_json_ref_t *slot = NULL;
        switch (n) {
        case 2:
            slot = memcmp(fk, "id", 2) == 0 ? &id : NULL;
            break;
        case 6:
            slot = memcmp(fk, "header", 6) == 0 ? &header : NULL;
            break;
        case 7:
            slot = memcmp(fk, "message", 7) == 0 ? &msg : NULL;
            break;
        case 10:
            slot = memcmp(fk, "authorName", 10) == 0 ? &name : NULL;
            break;
        case 13:
            if (memcmp(fk, "timestampUsec", 13) == 0)
                slot = &ts;
            else if (memcmp(fk, "headerSubtext", 13) == 0)
                slot = &sub;
            break;
        case 18:
            slot = memcmp(fk, "purchaseAmountText", 18) == 0 ? &amount : NULL;
            break;
        case 23:
            slot =
                memcmp(fk, "authorExternalChannelId", 23) == 0 ? &chan : NULL;
            break;
        default:
            break;
        }
        if (slot && !*slot)
            *slot = f + 1;
    }
    it->id = s_scalar_dup(self, s_alt(j, id));
    it->author_channel_id = s_scalar_dup(self, s_alt(j, chan));
    tw_json_ref_t hdr =
        header ? tw_json_get(j, header, "liveChatSponsorshipsHeaderRenderer")
               : 0;
    name = s_alt(j, name);
    if (!name)
        name = tw_json_get(j, hdr, "authorName");
    it->author_name = s_txt(self, name);
    ts = s_alt(j, ts);
    it->timestamp = s_scalar_dup(self, ts);
    int64_t usec;
    if (tw_json_int64(j, ts, &usec) == TW_OK)
        it->timestamp_usec = usec;
    amount = s_alt(j, amount);
    if (amount) {
        it->amount = s_txt(self, amount);
        tw_ytchat_parse_amount(it->amount, it->currency, &it->amount_micros);
    }
    msg = s_alt(j, msg);
    if (!msg)
        msg = s_alt(j, sub);
    if (!msg)
        msg = tw_json_get(j, hdr, "primaryText");
    it->message = s_txt(self, msg);
    return it;
}

/* A deletion event with the string field `key` of action v. */
static void s_add_event(tw_ytchat_t *self, tw_ytchat_kind_t kind,
                        const char *renderer, tw_json_ref_t v, const char *key)
{
    tw_ytchat_item_t *it = s_push(self, kind);
    if (!it)
        return;
    it->renderer = renderer;
    const char *val = s_scalar_dup(self, tw_json_get(self->json, v, key));
    if (kind == TW_YTCHAT_DELETED)
        it->ref_id = val;
    else
        it->author_channel_id = val;
}

/* The first non-clickTrackingParams key of an action object, or 0. */
static tw_json_ref_t s_action_key(const tw_json_t *j, tw_json_ref_t action)
{
    for (tw_json_ref_t k = tw_json_first(j, action); k;
         k = tw_json_next_key(j, k)) {
        if (!tw_json_str_eq(j, k, "clickTrackingParams"))
            return k;
    }
    return 0;
}

static void s_check_action(tw_ytchat_t *self, tw_json_ref_t action)
{
    const tw_json_t *j = self->json;
    if (tw_json_type(j, action) != TW_JSON_OBJECT)
        return;
    tw_json_ref_t k = s_action_key(j, action);
    if (!k)
        return;
    size_t n;
    const char *name = tw_json_str(j, k, &n);
    for (size_t i = 0; i < ARRAY_LEN(s_actions); i++)
        if (strlen(s_actions[i]) == n && memcmp(s_actions[i], name, n) == 0)
            return;
    s_unknown(self, k);
}

static void s_continuations(tw_ytchat_t *self, tw_json_ref_t arr)
{
    const tw_json_t *j = self->json;
    static const struct {
        const char *name;           /* key */
        tw_ytchat_cont_kind_t kind; /* kind */
    } conts[] = {
        {"invalidationContinuationData", TW_YTCHAT_CONT_INVALIDATION},
        {"timedContinuationData", TW_YTCHAT_CONT_TIMED},
        {"reloadContinuationData", TW_YTCHAT_CONT_RELOAD},
        {"liveChatReplayContinuationData", TW_YTCHAT_CONT_REPLAY},
        {"playerSeekContinuationData", TW_YTCHAT_CONT_SEEK},
    };
    for (tw_json_ref_t e = tw_json_first(j, arr); e; e = tw_json_next(j, e)) {
        tw_json_ref_t k = tw_json_first(j, e);
        if (tw_json_type(j, e) != TW_JSON_OBJECT || !k)
            continue;
        tw_json_ref_t v = k + 1;
        size_t n;
        const char *name = tw_json_str(j, k, &n);
        size_t i;
        for (i = 0; i < ARRAY_LEN(conts); i++)
            if (strlen(conts[i].name) == n &&
                memcmp(conts[i].name, name, n) == 0)
                break;
        if (i == ARRAY_LEN(conts)) {
            s_unknown(self, k);
            continue;
        }
        const char *token =
            s_scalar_dup(self, tw_json_get(j, v, "continuation"));
        if (conts[i].kind == TW_YTCHAT_CONT_SEEK) {
            if (!*self->cont.seek_token)
                self->cont.seek_token = token;
            if (self->cont.kind == TW_YTCHAT_CONT_NONE)
                self->cont.kind = TW_YTCHAT_CONT_SEEK;
            continue;
        }
        if (self->cont.kind != TW_YTCHAT_CONT_NONE &&
            self->cont.kind != TW_YTCHAT_CONT_SEEK)
            continue;
        self->cont.kind = conts[i].kind;
        self->cont.token = token;
        int64_t ms;
        tw_json_ref_t t = tw_json_get(j, v, "timeoutMs");
        if (!t)
            t = tw_json_get(j, v, "timeUntilLastMessageMsec");
        if (tw_json_int64(j, t, &ms) == TW_OK)
            self->cont.timeout_ms = ms;
    }
}

#define KEYLEN(s) (sizeof(s) - 1)

static void s_walk_innertube(tw_ytchat_t *self)
{
    const tw_json_t *j = self->json;
    tw_json_ref_t root = tw_json_root(j);
    /* A bare action array or a single action. */
    if (tw_json_type(j, root) == TW_JSON_ARRAY) {
        for (tw_json_ref_t e = tw_json_first(j, root); e;
             e = tw_json_next(j, e))
            s_check_action(self, e);
    } else {
        tw_json_ref_t k = s_action_key(j, root);
        size_t n;
        const char *name = tw_json_str(j, k, &n);
        if (name && n > 6 &&
            (memcmp(name + n - 6, "Action", 6) == 0 ||
             (n > 7 && memcmp(name + n - 7, "Command", 7) == 0)))
            s_check_action(self, root);
    }
    const uint64_t mask =
        1ULL << KEYLEN("addChatItemAction") |
        1ULL << KEYLEN("replaceChatItemAction") |
        1ULL << KEYLEN("removeChatItemAction") |
        1ULL << KEYLEN("removeChatItemByAuthorAction") |
        1ULL << KEYLEN("markChatItemAsDeletedAction") |
        1ULL << KEYLEN("markChatItemsByAuthorAsDeletedAction") |
        1ULL << KEYLEN("continuations") | 1ULL << KEYLEN("actions");
    size_t n;
    for (tw_json_ref_t k = tw_json_scan_keys(j, 1, mask); k;
         k = tw_json_scan_keys(j, k + 1, mask)) {
        const char *name = tw_json_str(j, k, &n);
        tw_json_ref_t v = k + 1;
#define S_IS(lit) (n == KEYLEN(lit) && memcmp(name, lit, n) == 0)
        if (S_IS("addChatItemAction")) {
            s_add_item(self, tw_json_get(j, v, "item"));
        } else if (S_IS("replaceChatItemAction")) {
            /* The real message replacing a placeholder under the same id. */
            tw_ytchat_item_t *it =
                s_add_item(self, tw_json_get(j, v, "replacementItem"));
            if (it) {
                it->replaces = true;
                it->ref_id = s_scalar_dup(
                    self, s_alt(j, tw_json_get(j, v, "targetItemId")));
            }
        } else if (S_IS("markChatItemAsDeletedAction") ||
                   S_IS("removeChatItemAction")) {
            s_add_event(self, TW_YTCHAT_DELETED,
                        S_IS("removeChatItemAction")
                            ? "removeChatItemAction"
                            : "markChatItemAsDeletedAction",
                        v, "targetItemId");
        } else if (S_IS("markChatItemsByAuthorAsDeletedAction") ||
                   S_IS("removeChatItemByAuthorAction")) {
            s_add_event(self, TW_YTCHAT_AUTHOR_DELETED,
                        S_IS("removeChatItemByAuthorAction")
                            ? "removeChatItemByAuthorAction"
                            : "markChatItemsByAuthorAsDeletedAction",
                        v, "externalChannelId");
        } else if (S_IS("continuations")) {
            if (self->cont.kind == TW_YTCHAT_CONT_NONE)
                s_continuations(self, v);
        } else if (S_IS("actions")) {
            if (tw_json_type(j, v) == TW_JSON_ARRAY) {
                for (tw_json_ref_t e = tw_json_first(j, v); e;
                     e = tw_json_next(j, e))
                    s_check_action(self, e);
            }
        }
#undef S_IS
    }
}

static void s_walk_api(tw_ytchat_t *self)
{
    const tw_json_t *j = self->json;
    tw_json_ref_t root = tw_json_root(j);
    self->api = true;
    tw_json_ref_t tok = tw_json_get(j, root, "nextPageToken");
    tw_json_ref_t poll = tw_json_get(j, root, "pollingIntervalMillis");
    tw_json_ref_t off = tw_json_get(j, root, "offlineAt");
    if (tok) {
        self->cont.kind = TW_YTCHAT_CONT_API;
        self->cont.token = s_scalar_dup(self, tok);
    }
    int64_t v;
    if (tw_json_int64(j, poll, &v) == TW_OK)
        self->cont.timeout_ms = v;
    size_t n;
    const char *s = tw_json_str(j, off, &n);
    if (s && tw_json_type(j, off) == TW_JSON_STRING &&
        tw_ytchat_parse_time(s, n, &v))
        self->cont.offline_at_usec = v;
    tw_json_ref_t items = tw_json_get(j, root, "items");
    for (tw_json_ref_t e = tw_json_first(j, items); e; e = tw_json_next(j, e)) {
        if (tw_json_type(j, e) != TW_JSON_OBJECT)
            continue;
        tw_json_ref_t sn = tw_json_get(j, e, "snippet");
        tw_json_ref_t ad = tw_json_get(j, e, "authorDetails");
        tw_json_ref_t type = tw_json_get(j, sn, "type");
        tw_ytchat_kind_t kind = TW_YTCHAT_OTHER;
        for (size_t i = 0; i < ARRAY_LEN(s_api_kinds); i++)
            if (tw_json_str_eq(j, type, s_api_kinds[i].name))
                kind = s_api_kinds[i].kind;
        tw_ytchat_item_t *it = s_push(self, kind);
        if (!it)
            return;
        it->renderer = s_scalar_dup(self, type);
        it->id = s_scalar_dup(self, s_alt(j, tw_json_get(j, e, "id")));
        tw_json_ref_t ch = s_alt(j, tw_json_get(j, ad, "channelId"));
        if (!ch)
            ch = s_alt(j, tw_json_get(j, sn, "authorChannelId"));
        it->author_channel_id = s_scalar_dup(self, ch);
        it->author_name =
            s_scalar_dup(self, s_alt(j, tw_json_get(j, ad, "displayName")));
        tw_json_ref_t pub = s_alt(j, tw_json_get(j, sn, "publishedAt"));
        s = tw_json_str(j, pub, &n);
        if (s && tw_json_type(j, pub) == TW_JSON_STRING &&
            tw_ytchat_parse_time(s, n, &v)) {
            char num[24];
            int len = snprintf(num, sizeof num, "%" PRId64, v);
            it->timestamp = s_dup(self, num, (size_t)len);
            it->timestamp_usec = v;
        }
        tw_json_ref_t details = tw_json_get(j, sn, "superChatDetails");
        tw_json_ref_t amount =
            s_alt(j, tw_json_get(j, details, "amountDisplayString"));
        if (!amount) {
            details = tw_json_get(j, sn, "superStickerDetails");
            amount = s_alt(j, tw_json_get(j, details, "amountDisplayString"));
        }
        if (amount) {
            it->amount = s_scalar_dup(self, amount);
            tw_ytchat_parse_amount(it->amount, it->currency,
                                   &it->amount_micros);
            tw_json_ref_t cur = tw_json_get(j, details, "currency");
            s = tw_json_str(j, cur, &n);
            if (s && n == 3) {
                memcpy(it->currency, s, 3);
                it->currency[3] = '\0';
            }
            uint64_t micros;
            if (tw_json_u64(j, tw_json_get(j, details, "amountMicros"),
                            &micros) == TW_OK &&
                micros <= INT64_MAX)
                it->amount_micros = (int64_t)micros;
        }
        tw_json_ref_t msg = s_alt(
            j, tw_json_path(j, sn, "textMessageDetails", "messageText", NULL));
        if (!msg)
            msg = s_alt(j, tw_json_path(j, sn, "superChatDetails",
                                        "userComment", NULL));
        if (!msg)
            msg = s_alt(j, tw_json_path(j, sn, "memberMilestoneChatDetails",
                                        "userComment", NULL));
        it->message = s_scalar_dup(self, msg);
        /* Moderation events also become events like innertube ones. */
        if (tw_json_str_eq(j, type, "messageDeletedEvent")) {
            tw_json_ref_t id = tw_json_path(j, sn, "messageDeletedDetails",
                                            "deletedMessageId", NULL);
            const char *ref = s_scalar_dup(self, id);
            it = s_push(self, TW_YTCHAT_DELETED);
            if (it) {
                it->renderer = "messageDeletedEvent";
                it->ref_id = ref;
            }
        } else if (tw_json_str_eq(j, type, "userBannedEvent")) {
            tw_json_ref_t id =
                tw_json_path(j, sn, "userBannedDetails", "bannedUserDetails",
                             "channelId", NULL);
            const char *ref = s_scalar_dup(self, id);
            it = s_push(self, TW_YTCHAT_AUTHOR_DELETED);
            if (it) {
                it->renderer = "userBannedEvent";
                it->author_channel_id = ref;
            }
        }
    }
}

static bool s_is_api(const tw_json_t *j);

/* Extracts the items of the document just parsed. */
static void s_walk(tw_ytchat_t *self)
{
    if (s_is_api(self->json))
        s_walk_api(self);
    else
        s_walk_innertube(self);
}

static bool s_is_api(const tw_json_t *j)
{
    tw_json_ref_t root = tw_json_root(j);
    if (tw_json_type(j, root) != TW_JSON_OBJECT)
        return false;
    tw_json_ref_t kind = tw_json_get(j, root, "kind");
    if (kind)
        return tw_json_str_eq(j, kind, "youtube#liveChatMessageListResponse");
    /* Bodies stripped of their envelope still hold API messages. */
    tw_json_ref_t first = tw_json_at(j, tw_json_get(j, root, "items"), 0);
    return tw_json_str_eq(j, tw_json_get(j, first, "kind"),
                          "youtube#liveChatMessage");
}

tw_rc_t tw_ytchat_parse(tw_ytchat_t *self, const char *buf, size_t len,
                        tw_err_t *err)
{
    assert(self);
    assert(buf || len == 0);
    s_arena_reset(self);
    self->nitems = 0;
    self->nunknown = 0;
    self->api = false;
    self->nomem = false;
    self->cont = (tw_ytchat_cont_t){TW_YTCHAT_CONT_NONE, "", -1, "", 0};
    /* A page (live_chat, live_chat_replay, watch; maybe with HTTP headers
     * in front): its ytInitialData. Anything else is parsed as JSON. */
    size_t ws = 0;
    while (ws < len && (buf[ws] == ' ' || buf[ws] == '\n' || buf[ws] == '\r' ||
                        buf[ws] == '\t'))
        ws++;
    bool page = false;
    if (ws < len && buf[ws] != '\0' && !strchr("{[\"-0123456789tfn", buf[ws])) {
        const char *json;
        size_t jlen;
        if (tw_ytpage_extract(buf, len, "ytInitialData", &json, &jlen) ==
            TW_OK) {
            tw_err_t jerr = {0};
            tw_rc_t rc = tw_json_parse(self->json, json, jlen, &jerr);
            if (rc != TW_OK) {
                tw_err_set(err, "ytInitialData at byte %zu: %s",
                           (size_t)(json - buf), jerr.msg);
                return rc;
            }
            page = true;
        }
    }
    if (page) {
        s_walk(self);
    } else {
        /* One document, or several in a row (yt-dlp's live_chat.json has
         * one record a line): each is walked in turn. */
        size_t off = 0, used = 0, ndoc = 0;
        while (off < len) {
            tw_err_t derr = {0};
            tw_rc_t rc = tw_json_parse_first(self->json, buf + off, len - off,
                                             &used, &derr);
            if (rc != TW_OK) {
                self->nitems = 0;
                if (ndoc == 0)
                    tw_err_set(err, "%s", derr.msg);
                else
                    tw_err_set(err, "document %zu (at byte %zu): %s", ndoc + 1,
                               off, derr.msg);
                return rc;
            }
            s_walk(self);
            ndoc++;
            off += used;
        }
        if (ndoc == 0) {
            tw_err_set(err, "JSON: empty input");
            return TW_ERR_PARSE;
        }
    }
    if (self->nomem) {
        tw_err_set(err, "out of memory while extracting chat items");
        self->nitems = 0;
        return TW_ERR_NOMEM;
    }
    return TW_OK;
}

size_t tw_ytchat_count(const tw_ytchat_t *self)
{
    assert(self);
    return self->nitems;
}

const tw_ytchat_item_t *tw_ytchat_item(const tw_ytchat_t *self, size_t i)
{
    assert(self);
    assert(i < self->nitems);
    return &self->items[i];
}

const tw_ytchat_cont_t *tw_ytchat_continuation(const tw_ytchat_t *self)
{
    assert(self);
    return &self->cont;
}

bool tw_ytchat_is_api(const tw_ytchat_t *self)
{
    assert(self);
    return self->api;
}

size_t tw_ytchat_unknown_count(const tw_ytchat_t *self)
{
    assert(self);
    return self->nunknown;
}

const tw_ytchat_unknown_t *tw_ytchat_unknown(const tw_ytchat_t *self, size_t i)
{
    assert(self);
    assert(i < self->nunknown);
    return &self->unknown[i];
}

void tw_ytchat_tsv_escape(FILE *out, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        const char *esc;
        switch (c) {
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\\':
            esc = "\\\\";
            break;
        default:
            continue;
        }
        fwrite(s + start, 1, i - start, out);
        fwrite(esc, 1, 2, out);
        start = i + 1;
    }
    fwrite(s + start, 1, len - start, out);
}

static void s_field(FILE *out, const char *s, bool last)
{
    tw_ytchat_tsv_escape(out, s, strlen(s));
    fputc(last ? '\n' : '\t', out);
}

tw_rc_t tw_ytchat_write_tsv(const tw_ytchat_t *self, FILE *out)
{
    assert(self);
    assert(out);
    for (size_t i = 0; i < self->nitems; i++) {
        const tw_ytchat_item_t *it = &self->items[i];
        if (it->kind > TW_YTCHAT_OTHER)
            continue;
        s_field(out, it->id, false);
        s_field(out, tw_ytchat_kind_str(it->kind), false);
        s_field(out, it->author_channel_id, false);
        s_field(out, it->author_name, false);
        s_field(out, it->timestamp, false);
        s_field(out, it->amount, false);
        s_field(out, it->message, true);
    }
    return ferror(out) ? TW_ERR_IO : TW_OK;
}

tw_rc_t tw_ytchat_print_tsv(FILE *out, const char *buf, size_t len,
                            tw_err_t *err)
{
    assert(out);
    tw_ytchat_t *self = tw_ytchat_new();
    if (!self) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    tw_rc_t rc = tw_ytchat_parse(self, buf, len, err);
    if (rc == TW_OK) {
        rc = tw_ytchat_write_tsv(self, out);
        if (rc != TW_OK)
            tw_err_set(err, "unable to write TSV");
    }
    tw_ytchat_destroy(&self);
    return rc;
}

const char *tw_ytchat_kind_str(tw_ytchat_kind_t kind)
{
    switch (kind) {
    case TW_YTCHAT_TEXT:
        return "text";
    case TW_YTCHAT_SUPERCHAT:
        return "superchat";
    case TW_YTCHAT_STICKER:
        return "sticker";
    case TW_YTCHAT_MEMBERSHIP:
        return "membership";
    case TW_YTCHAT_GIFT:
        return "gift";
    case TW_YTCHAT_JEWELS:
        return "jewels";
    case TW_YTCHAT_OTHER:
        return "other";
    case TW_YTCHAT_DELETED:
        return "deleted";
    case TW_YTCHAT_AUTHOR_DELETED:
        return "author_deleted";
    }
    return "?";
}

const char *tw_ytchat_cont_str(tw_ytchat_cont_kind_t kind)
{
    switch (kind) {
    case TW_YTCHAT_CONT_NONE:
        return "none";
    case TW_YTCHAT_CONT_INVALIDATION:
        return "invalidation";
    case TW_YTCHAT_CONT_TIMED:
        return "timed";
    case TW_YTCHAT_CONT_RELOAD:
        return "reload";
    case TW_YTCHAT_CONT_REPLAY:
        return "replay";
    case TW_YTCHAT_CONT_SEEK:
        return "seek";
    case TW_YTCHAT_CONT_API:
        return "api";
    }
    return "?";
}

bool tw_ytchat_parse_time(const char *s, size_t len, int64_t *usec)
{
    assert(s || len == 0);
    assert(usec);
    return tw_time_parse_n(s, len, usec, NULL) == TW_OK;
}

/* Currency symbols and prefixes, longest first where they share a start. */
static const struct {
    const char *sym;  /* as written in amount texts */
    const char *code; /* ISO 4217 */
} s_currencies[] = {
    {"CA$", "CAD"},    {"A$", "AUD"},      {"AU$", "AUD"},
    {"NZ$", "NZD"},    {"MX$", "MXN"},     {"HK$", "HKD"},
    {"NT$", "TWD"},    {"R$", "BRL"},      {"US$", "USD"},
    {"SG$", "SGD"},    {"$", "USD"},       {"\u20ac", "EUR"},
    {"\u00a3", "GBP"}, {"\uffe5", "JPY"},  {"\u00a5", "JPY"},
    {"\u20a9", "KRW"}, {"\u20b9", "INR"},  {"\u20b1", "PHP"},
    {"\u20aa", "ILS"}, {"\u20ab", "VND"},  {"\u20bd", "RUB"},
    {"\u20ba", "TRY"}, {"z\u0142", "PLN"}, {"K\u010d", "CZK"},
};

void tw_ytchat_parse_amount(const char *text, char code[4], int64_t *micros)
{
    assert(text);
    assert(code);
    assert(micros);
    code[0] = '\0';
    *micros = -1;
    size_t len = strlen(text);
    const char *num = text, *nend = text + len;
    /* Three upper-case letters (prefix or suffix) name the code itself. */
    if (len >= 3 && text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'A' &&
        text[1] <= 'Z' && text[2] >= 'A' && text[2] <= 'Z' &&
        (len == 3 || text[3] == ' ' || (text[3] >= '0' && text[3] <= '9'))) {
        memcpy(code, text, 3);
        code[3] = '\0';
        num = text + 3;
    } else {
        for (size_t i = 0; i < ARRAY_LEN(s_currencies); i++) {
            size_t n = strlen(s_currencies[i].sym);
            if (len >= n && memcmp(text, s_currencies[i].sym, n) == 0) {
                memcpy(code, s_currencies[i].code, 4);
                num = text + n;
                break;
            }
            if (len >= n &&
                memcmp(text + len - n, s_currencies[i].sym, n) == 0) {
                memcpy(code, s_currencies[i].code, 4);
                nend = text + len - n;
                break;
            }
        }
    }
    while (num < nend && (*num == ' ' || (unsigned char)*num == 0xc2))
        num++; /* also the first byte of a no-break space */
    while (nend > num && (nend[-1] == ' ' || (unsigned char)nend[-1] == 0xa0 ||
                          (unsigned char)nend[-1] == 0xc2))
        nend--;
    if (num >= nend)
        return;
    /* The decimal separator is the last '.' or ',' followed by 1-2 digits;
     * any other separators group thousands. */
    const char *dec = NULL;
    for (const char *p = nend - 1; p >= num && p >= nend - 3; p--) {
        if (*p == '.' || *p == ',') {
            dec = p;
            break;
        }
    }
    if (dec && nend - dec - 1 == 3)
        dec = NULL;
    int64_t whole = 0, frac = 0;
    int fdigits = 0;
    for (const char *p = num; p < nend; p++) {
        if (p == dec)
            continue;
        if (*p >= '0' && *p <= '9') {
            if (dec && p > dec) {
                frac = frac * 10 + (*p - '0');
                fdigits++;
            } else {
                if (whole > INT64_MAX / 10000000)
                    return;
                whole = whole * 10 + (*p - '0');
            }
        } else if (*p == ',' || *p == '.' || *p == ' ' || *p == '\'') {
            continue;
        } else {
            return;
        }
    }
    while (fdigits < 6) {
        frac *= 10;
        fdigits++;
    }
    *micros = whole * 1000000 + frac;
}
