/* tw_chatmap - parsed chat items to chat.batch items. */
#include "tw_chatmap.h"

#include <assert.h>
#include <string.h>

/* Kind of a chat.batch item for a parser kind; false for events that are
 * not forwarded. */
static bool s_kind(tw_ytchat_kind_t k, tw_chat_kind_t *out)
{
    switch (k) {
    case TW_YTCHAT_TEXT:
        *out = TW_CHAT_KIND_TEXT;
        return true;
    case TW_YTCHAT_SUPERCHAT:
        *out = TW_CHAT_KIND_SUPERCHAT;
        return true;
    case TW_YTCHAT_STICKER:
        *out = TW_CHAT_KIND_STICKER;
        return true;
    case TW_YTCHAT_MEMBERSHIP:
        *out = TW_CHAT_KIND_MEMBERSHIP;
        return true;
    case TW_YTCHAT_GIFT:
        *out = TW_CHAT_KIND_GIFT;
        return true;
    case TW_YTCHAT_JEWELS:
        *out = TW_CHAT_KIND_JEWELS;
        return true;
    case TW_YTCHAT_OTHER:
        *out = TW_CHAT_KIND_OTHER;
        return true;
    case TW_YTCHAT_DELETED:
        *out = TW_CHAT_KIND_DELETED;
        return true;
    case TW_YTCHAT_AUTHOR_DELETED:
        break;
    }
    return false;
}

bool tw_chatmap_id_ok(const char *id)
{
    assert(id);
    size_t n = strlen(id);
    if (n == 0 || n > 256)
        return false;
    for (size_t i = 0; i < n; i++)
        if (id[i] <= ' ' || id[i] > '~' || id[i] == '\\')
            return false;
    return true;
}

/* Returns s, or a copy clipped to TW_CHATMAP_TEXT_MAX bytes at a UTF-8
 * boundary kept in pool ("" when out of memory). */
static char *s_clip(const char *s, tw_strpool_t *pool)
{
    size_t n = strlen(s);
    if (n <= TW_CHATMAP_TEXT_MAX)
        return (char *)s;
    n = TW_CHATMAP_TEXT_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    const char *cp = tw_strpool_keep(pool, s, n);
    return (char *)(cp ? cp : "");
}

tw_chatmap_result_t tw_chatmap_item(const tw_ytchat_item_t *it,
                                    int64_t received_usec, tw_strpool_t *pool,
                                    tw_chat_item_t *out)
{
    assert(it);
    assert(pool);
    assert(out);
    tw_chat_kind_t kind;
    if (!s_kind(it->kind, &kind))
        return TW_CHATMAP_EVENT;
    bool is_del = kind == TW_CHAT_KIND_DELETED;
    const char *id = is_del ? it->ref_id : it->id;
    if (!tw_chatmap_id_ok(id))
        return TW_CHATMAP_BAD_ID;
    memset(out, 0, sizeof *out);
    out->id = (char *)id;
    out->kind = kind;
    out->published_usec = it->timestamp_usec;
    out->received_usec = received_usec;
    out->author_channel_id = (char *)it->author_channel_id;
    out->author_name = s_clip(it->author_name, pool);
    out->amount = (char *)it->amount;
    out->currency = (char *)it->currency;
    out->text = s_clip(it->message, pool);
    out->ref_id = (char *)(is_del ? it->ref_id : "");
    out->replaces = !is_del && it->replaces;
    return TW_CHATMAP_OK;
}
