/* chat_page - what a watch page (or youtubei next/player answer) means for
 * the chat worker: capture, wait for the chat to open, or report the stream
 * as members-only, private, deleted, chat-disabled or never live. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chat.h"

/* True when text contains any of the NULL-terminated needles (ASCII case
 * folded). */
static bool s_has_any(const char *text, const char *const *needles)
{
    for (; *needles; needles++) {
        size_t n = strlen(*needles);
        for (const char *p = text; *p; p++)
            if (strncasecmp(p, *needles, n) == 0)
                return true;
    }
    return false;
}

static void s_report(chat_page_result_t *out, tw_stream_state_t state,
                     const char *what, const char *reason)
{
    out->verdict = CHAT_PAGE_REPORT;
    out->state = state;
    snprintf(out->reason, sizeof out->reason, "%s%s%s", what,
             reason && *reason ? ": " : "", reason ? reason : "");
}

void chat_page_classify(const tw_ytpage_info_t *info, chat_page_result_t *out)
{
    assert(info);
    assert(out);
    memset(out, 0, sizeof *out);
    static const char *const members[] = {"member", "join this channel", NULL};
    static const char *const priv[] = {"private", NULL};
    static const char *const gone[] = {"removed", "deleted", "terminated",
                                       "no longer available", NULL};
    const char *why = info->play_reason;
    switch (info->play) {
    case TW_YTPAGE_PLAY_ERROR:
        if (s_has_any(why, priv))
            s_report(out, TW_STREAM_STATE_PRIVATE, "private", why);
        else if (s_has_any(why, gone))
            s_report(out, TW_STREAM_STATE_DELETED, "deleted", why);
        else
            s_report(out, TW_STREAM_STATE_UNAVAILABLE, "unavailable", why);
        return;
    case TW_YTPAGE_PLAY_LOGIN_REQUIRED:
    case TW_YTPAGE_PLAY_UNPLAYABLE:
        if (s_has_any(why, members)) {
            s_report(out, TW_STREAM_STATE_MEMBERS_ONLY, "members-only", why);
            return;
        }
        if (!info->chat_continuation[0]) {
            s_report(out, TW_STREAM_STATE_UNAVAILABLE, "unavailable", why);
            return;
        }
        break; /* e.g. an age gate that still shows the chat */
    default:
        break;
    }
    if (info->chat_continuation[0]) {
        out->verdict = info->chat_is_replay ? CHAT_PAGE_ENDED : CHAT_PAGE_CHAT;
        return;
    }
    switch (info->state) {
    case TW_YTPAGE_STATE_UPCOMING:
        out->verdict = CHAT_PAGE_WAIT; /* the chat opens before the start */
        return;
    case TW_YTPAGE_STATE_LIVE:
        s_report(out, TW_STREAM_STATE_UNAVAILABLE, "chat disabled",
                 "live without a live chat");
        return;
    case TW_YTPAGE_STATE_ENDED:
        out->verdict = CHAT_PAGE_ENDED;
        return;
    case TW_YTPAGE_STATE_VOD:
        s_report(out, TW_STREAM_STATE_UNAVAILABLE, "not a live stream", NULL);
        return;
    case TW_YTPAGE_STATE_UNKNOWN:
        break;
    }
    out->verdict = CHAT_PAGE_RETRY;
}
