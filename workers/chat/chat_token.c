/* chat_token - the chat worker's continuation tokens: which video a token
 * names, and the all-messages token to start from, found where YouTube's
 * own chat frame finds it (the view menu of the /live_chat page that the
 * watch page's full token opens). Since late 2025 the watch page's own
 * menu holds relative tokens that name no video and are refused (HTTP 400);
 * such a token is never sent (docs/chat.md). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "tw_json.h"
#include "tw_log.h"

chat_token_match_t chat_token_match(const char *token, const char *video_id,
                                    int *type)
{
    assert(token);
    assert(video_id);
    if (type)
        *type = 0;
    tw_ytpage_token_t t;
    if (tw_ytpage_token_decode(token, strlen(token), &t) != TW_OK)
        return CHAT_TOKEN_BAD;
    if (type)
        *type = t.chat_type;
    if (!t.video_id[0])
        return CHAT_TOKEN_NONE;
    return strcmp(t.video_id, video_id) == 0 ? CHAT_TOKEN_OURS
                                             : CHAT_TOKEN_OTHER;
}

const char *chat_token_match_str(chat_token_match_t m)
{
    switch (m) {
    case CHAT_TOKEN_OURS:
        return "names this video";
    case CHAT_TOKEN_NONE:
        return "names no video";
    case CHAT_TOKEN_OTHER:
        return "names another video";
    case CHAT_TOKEN_BAD:
        break;
    }
    return "is not a chat token";
}

void chat_token_error_status(const char *body, size_t len, char *out,
                             size_t cap)
{
    assert(out);
    assert(cap > 0);
    out[0] = '\0';
    if (!body || len == 0)
        return;
    tw_json_t *j = tw_json_new();
    if (!j)
        return;
    if (tw_json_parse(j, body, len, NULL) == TW_OK) {
        tw_json_ref_t v =
            tw_json_path(j, tw_json_root(j), "error", "status", NULL);
        size_t n = 0;
        const char *s =
            tw_json_type(j, v) == TW_JSON_STRING ? tw_json_str(j, v, &n) : "";
        /* a status is an upper-case word; anything else is not shown */
        size_t k = 0;
        while (k < n && k + 1 < cap &&
               ((s[k] >= 'A' && s[k] <= 'Z') || s[k] == '_'))
            k++;
        if (k == n) {
            memcpy(out, s, k);
            out[k] = '\0';
        }
    }
    tw_json_destroy(&j);
}

void chat_drift(chat_t *c, const char *source, const char *what)
{
    assert(c);
    assert(source);
    assert(what);
    tw_log_write(TW_LOG_WARN, "format drift: %s: %s (%s)", source, what,
                 c->video_id);
    if (c->w)
        tw_worker_drift(c->w, source, what, 1);
}

/* GETs the /live_chat (replay: /live_chat_replay) page that the full
 * token opens and returns the all-messages token of its view menu when it
 * names this video (caller frees), else NULL. */
static char *s_chat_page(chat_t *c, const char *full, bool replay)
{
    const char *what = replay ? "live_chat_replay" : "live_chat";
    char *esc = tw_http_escape(full);
    if (!esc)
        return NULL;
    size_t n = strlen(esc) + 64;
    char *path = malloc(n);
    if (!path) {
        free(esc);
        return NULL;
    }
    snprintf(path, n, "%s?continuation=%s", what, esc);
    free(esc);
    tw_http_resp_t resp = {0};
    tw_err_t err = {0};
    tw_rc_t rc = tw_ytweb_page(c->http, path, &resp, &err);
    free(path);
    if (rc == TW_OK && resp.body)
        rc = tw_ytpage_parse_html(c->aux, resp.body, resp.body_len, &err);
    tw_http_resp_clear(&resp);
    if (rc != TW_OK) {
        tw_log_write(TW_LOG_WARN, "unable to read the %s page of %s: %s", what,
                     c->video_id, err.msg[0] ? err.msg : tw_rc_str(rc));
        return NULL;
    }
    const tw_ytpage_info_t *info = tw_ytpage_info(c->aux);
    int type = 0;
    chat_token_match_t m =
        info->chat_continuation[0]
            ? chat_token_match(info->chat_continuation, c->video_id, &type)
            : CHAT_TOKEN_BAD;
    if (m == CHAT_TOKEN_OURS && type == 1)
        return strdup(info->chat_continuation);
    if (!info->chat_continuation[0])
        chat_drift(c, what, "page without a chat view menu token");
    else if (m != CHAT_TOKEN_OURS)
        chat_drift(c, what, "chat view menu token names no or another video");
    return NULL;
}

/* Logs once that only a Top chat token could be had. */
static void s_warn_top(chat_t *c)
{
    if (c->top_warned)
        return;
    c->top_warned = true;
    tw_log_write(TW_LOG_WARN,
                 "only a Top chat token names %s: capturing Top chat, so "
                 "messages Top chat hides will be missing",
                 c->video_id);
}

char *chat_token_start(chat_t *c, bool replay)
{
    assert(c);
    c->cont_top = false;
    const tw_ytpage_info_t *info = tw_ytpage_info(c->page);
    const char *tok = info->chat_continuation;
    if (!tok[0] || info->chat_is_replay != replay)
        return NULL;
    int type = 0;
    chat_token_match_t m = chat_token_match(tok, c->video_id, &type);
    if (m != CHAT_TOKEN_OURS) {
        char what[96];
        snprintf(what, sizeof what, "chat token %s: not sent",
                 chat_token_match_str(m));
        chat_drift(c, "watch page", what);
        return NULL;
    }
    if (type == 1)
        return strdup(tok);
    if (!c->aux) {
        c->aux = tw_ytpage_new();
        if (!c->aux)
            return NULL;
    }
    char *all = s_chat_page(c, tok, replay);
    if (all) {
        tw_log_write(TW_LOG_DEBUG, "all-messages token from the %s page",
                     replay ? "live_chat_replay" : "live_chat");
        return all;
    }
    /* the first answer's header may still tell the all-messages token */
    c->cont_top = true;
    return strdup(tok);
}

bool chat_token_upgrade(chat_t *c, const char *body, size_t len)
{
    assert(c);
    if (!c->cont_top)
        return false;
    c->cont_top = false;
    bool done = false;
    if (c->aux && body && len > 0) {
        tw_ytpage_reset(c->aux);
        if (tw_ytpage_parse_json(c->aux, body, len, NULL) == TW_OK) {
            const tw_ytpage_info_t *info = tw_ytpage_info(c->aux);
            int type = 0;
            if (info->chat_continuation[0] &&
                chat_token_match(info->chat_continuation, c->video_id, &type) ==
                    CHAT_TOKEN_OURS &&
                type == 1)
                done = chat_ckpt_set_cont(&c->ck, info->chat_continuation) ==
                       TW_OK;
        }
    }
    if (done)
        tw_log_write(TW_LOG_INFO,
                     "switched %s to the all-messages chat (from the "
                     "first answer's header)",
                     c->video_id);
    else
        s_warn_top(c);
    return done;
}
