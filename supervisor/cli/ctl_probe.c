/* ctl_probe - `tubewatch probe VIDEO|URL`: a one-shot self-test of chat
 * capture against the configured web base URL ([youtube] web_base_url), the
 * same way chat@VIDEO reads chat: the watch page (state, the chat token it
 * offers, decoded), the /live_chat (/live_chat_replay) page when that token
 * is a Top-chat one, then one get_live_chat(_replay) poll (items parsed,
 * unknown actions and renderers). Exit 0 when chat can be read, 1 when it
 * cannot (with the reason), 100 on usage or config errors, 111 when YouTube
 * cannot be reached. The first thing to run when YouTube changes. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "tw_http.h"
#include "tw_id.h"
#include "tw_rc.h"
#include "tw_ytchat.h"
#include "tw_ytpage.h"
#include "tw_ytweb.h"

/* What one probe found; printed as text or JSON. */
typedef struct {
    json_t *out;       /* the JSON report */
    bool text;         /* print text lines as it goes */
    char reason[1024]; /* why chat cannot be read, "" when it can */
} s_probe_t;

/* Exit code of a failed request: YouTube said no (4xx) -> 1; rate limits,
 * timeouts, 5xx and no answer -> 111 (try later). */
static int s_http_exit(long status)
{
    if (status >= 400 && status < 500 && status != 408 && status != 429)
        return TW_EXIT_REFUSED;
    return TW_EXIT_TEMP;
}

static const char *s_type_str(int type)
{
    return type == 1 ? "live" : type == 4 ? "top" : "unknown";
}

static void s_line(s_probe_t *p, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_line(s_probe_t *p, const char *label, const char *fmt, ...)
{
    if (!p->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("%-12s ", label);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* Describes a token (type, video it names) into the report under key and
 * as a text line; returns its decoded facts. */
static tw_ytpage_token_t s_token(s_probe_t *p, const char *key,
                                 const char *label, const char *token,
                                 const char *from)
{
    tw_ytpage_token_t t;
    if (tw_ytpage_token_decode(token, strlen(token), &t) != TW_OK)
        memset(&t, 0, sizeof t);
    json_t *o = json_object();
    json_object_set_new(o, "continuation", json_string(token));
    json_object_set_new(o, "chat_type", json_string(s_type_str(t.chat_type)));
    json_object_set_new(o, "video_id", json_string(t.video_id));
    json_object_set_new(o, "from", json_string(from));
    json_object_set_new(p->out, key, o);
    s_line(p, label, "%s chat token naming %s (from %s, %zu chars)",
           s_type_str(t.chat_type), t.video_id[0] ? t.video_id : "no video",
           from, strlen(token));
    return t;
}

/* GETs a page; parses it into page. Returns 0, or the exit code. */
static int s_get_page(s_probe_t *p, tw_http_t *http, const char *path,
                      tw_ytpage_t *page, char *version, size_t vcap)
{
    tw_http_resp_t resp = {0};
    tw_err_t err = {0};
    tw_rc_t rc = tw_ytweb_page(http, path, &resp, &err);
    if (rc != TW_OK) {
        snprintf(p->reason, sizeof p->reason, "GET %.120s: %s (HTTP %ld)", path,
                 err.msg[0] ? err.msg : tw_rc_str(rc), resp.status);
        int code = s_http_exit(resp.status);
        tw_http_resp_clear(&resp);
        return code;
    }
    if (version)
        tw_ytweb_client_version(resp.body ? resp.body : "", resp.body_len,
                                version, vcap);
    rc = tw_ytpage_parse_html(page, resp.body ? resp.body : "", resp.body_len,
                              &err);
    tw_http_resp_clear(&resp);
    if (rc != TW_OK) {
        snprintf(p->reason, sizeof p->reason,
                 "%.120s: no page data (%s): a consent or error page, or a "
                 "new page format",
                 path, err.msg[0] ? err.msg : tw_rc_str(rc));
        return TW_EXIT_REFUSED;
    }
    return 0;
}

/* One poll with token; fills the report. Returns 0 or the exit code. */
static int s_poll(s_probe_t *p, tw_http_t *http, const char *version,
                  const char *token, bool replay)
{
    const char *endpoint =
        replay ? "live_chat/get_live_chat_replay" : "live_chat/get_live_chat";
    tw_http_resp_t resp = {0};
    tw_err_t err = {0};
    tw_rc_t rc =
        tw_ytweb_innertube(http, version, endpoint, "continuation", token,
                           replay ? ",\"currentPlayerState\":"
                                    "{\"playerOffsetMs\":\"0\"}"
                                  : NULL,
                           &resp, &err);
    json_t *o = json_object();
    json_object_set_new(p->out, "poll", o);
    json_object_set_new(o, "endpoint", json_string(endpoint));
    json_object_set_new(o, "http_status", json_integer(resp.status));
    if (rc != TW_OK) {
        snprintf(p->reason, sizeof p->reason, "%s: HTTP %ld: %s", endpoint,
                 resp.status, err.msg[0] ? err.msg : tw_rc_str(rc));
        s_line(p, "poll", "%s", p->reason);
        int code = s_http_exit(resp.status);
        tw_http_resp_clear(&resp);
        return code;
    }
    tw_ytchat_t *chat = tw_ytchat_new();
    if (!chat) {
        tw_http_resp_clear(&resp);
        snprintf(p->reason, sizeof p->reason, "out of memory");
        return TW_EXIT_TEMP;
    }
    rc = tw_ytchat_parse(chat, resp.body ? resp.body : "", resp.body_len, &err);
    int code = 0;
    if (rc != TW_OK) {
        snprintf(p->reason, sizeof p->reason, "%s answer: %s", endpoint,
                 err.msg[0] ? err.msg : tw_rc_str(rc));
        s_line(p, "poll", "%s", p->reason);
        code = TW_EXIT_REFUSED;
    } else {
        size_t counts[TW_YTCHAT_AUTHOR_DELETED + 1] = {0};
        size_t n = tw_ytchat_count(chat);
        for (size_t i = 0; i < n; i++)
            counts[tw_ytchat_item(chat, i)->kind]++;
        json_t *kinds = json_object();
        char summary[256] = "";
        size_t used = 0;
        for (int k = 0; k <= TW_YTCHAT_AUTHOR_DELETED; k++) {
            if (!counts[k])
                continue;
            const char *name = tw_ytchat_kind_str((tw_ytchat_kind_t)k);
            json_object_set_new(kinds, name,
                                json_integer((json_int_t)counts[k]));
            int w = snprintf(summary + used, sizeof summary - used, "%s%zu %s",
                             used ? ", " : "", counts[k], name);
            if (w > 0 && (size_t)w < sizeof summary - used)
                used += (size_t)w;
        }
        json_object_set_new(o, "items", json_integer((json_int_t)n));
        json_object_set_new(o, "kinds", kinds);
        const tw_ytchat_cont_t *cont = tw_ytchat_continuation(chat);
        json_object_set_new(o, "continuation",
                            json_string(tw_ytchat_cont_str(cont->kind)));
        json_t *unk = json_array();
        size_t nu = tw_ytchat_unknown_count(chat);
        for (size_t i = 0; i < nu; i++) {
            const tw_ytchat_unknown_t *u = tw_ytchat_unknown(chat, i);
            json_t *e = json_object();
            json_object_set_new(e, "name", json_string(u->name));
            json_object_set_new(e, "path", json_string(u->path));
            json_object_set_new(e, "count", json_integer(u->count));
            json_array_append_new(unk, e);
        }
        json_object_set_new(o, "unknown", unk);
        s_line(p, "poll", "HTTP %ld, %zu items%s%s%s, next: %s", resp.status, n,
               n ? " (" : "", summary, n ? ")" : "",
               tw_ytchat_cont_str(cont->kind));
        for (size_t i = 0; i < nu; i++) {
            const tw_ytchat_unknown_t *u = tw_ytchat_unknown(chat, i);
            s_line(p, "unknown", "%s x%u at %s", u->name, u->count, u->path);
        }
        if (cont->kind == TW_YTCHAT_CONT_NONE && n == 0) {
            snprintf(p->reason, sizeof p->reason,
                     "%s answered neither items nor a continuation", endpoint);
            code = TW_EXIT_REFUSED;
        }
    }
    tw_ytchat_destroy(&chat);
    tw_http_resp_clear(&resp);
    return code;
}

static int s_run(s_probe_t *p, tw_http_t *http, const char *vid)
{
    json_object_set_new(p->out, "video_id", json_string(vid));
    tw_ytpage_t *page = tw_ytpage_new();
    if (!page) {
        snprintf(p->reason, sizeof p->reason, "out of memory");
        return TW_EXIT_TEMP;
    }
    char version[48];
    snprintf(version, sizeof version, "%s", TW_YTWEB_CLIENT_VERSION);
    char path[96];
    snprintf(path, sizeof path, "watch?v=%s", vid);
    int code = s_get_page(p, http, path, page, version, sizeof version);
    if (code != 0) {
        s_line(p, "page", "%s", p->reason);
        tw_ytpage_destroy(&page);
        return code;
    }
    const tw_ytpage_info_t *in = tw_ytpage_info(page);
    const char *state =
        in->members_only ? "members_only" : tw_ytpage_state_str(in->state);
    json_object_set_new(p->out, "state", json_string(state));
    json_object_set_new(p->out, "playability", json_string(in->play_status));
    json_object_set_new(p->out, "channel_id", json_string(in->channel_id));
    json_object_set_new(p->out, "title", json_string(in->title));
    s_line(p, "page", "%s, playability %s, channel %s: %s", state,
           in->play_status[0] ? in->play_status : "-",
           in->channel_id[0] ? in->channel_id : "-", in->title);
    if (in->members_only || !in->chat_continuation[0]) {
        snprintf(p->reason, sizeof p->reason, "%s",
                 in->members_only
                     ? "members-only: chat needs a member's account"
                     : "the page offers no chat token that names the video "
                       "(chat off, not started, or a new page format)");
        tw_ytpage_destroy(&page);
        return TW_EXIT_REFUSED;
    }
    bool replay = in->chat_is_replay;
    char *token = strdup(in->chat_continuation);
    if (!token) {
        snprintf(p->reason, sizeof p->reason, "out of memory");
        tw_ytpage_destroy(&page);
        return TW_EXIT_TEMP;
    }
    tw_ytpage_token_t t =
        s_token(p, "page_token", "page token", token, "liveChatRenderer");
    if (strcmp(t.video_id, vid) != 0) {
        snprintf(p->reason, sizeof p->reason,
                 "the page's chat token names %s, not %s",
                 t.video_id[0] ? t.video_id : "no video", vid);
        code = TW_EXIT_REFUSED;
    } else if (t.chat_type != 1) {
        /* a Top-chat token: the chat page's menu has the all-messages one */
        const char *what = replay ? "live_chat_replay" : "live_chat";
        char *esc = tw_http_escape(token);
        size_t n = strlen(what) + (esc ? strlen(esc) : 0) + 32;
        char *cpath = malloc(n);
        tw_ytpage_t *cp = tw_ytpage_new();
        if (!esc || !cpath || !cp) {
            snprintf(p->reason, sizeof p->reason, "out of memory");
            code = TW_EXIT_TEMP;
        } else {
            snprintf(cpath, n, "%s?continuation=%s", what, esc);
            code = s_get_page(p, http, cpath, cp, NULL, 0);
            const tw_ytpage_info_t *ci = tw_ytpage_info(cp);
            if (code == 0 && ci->chat_type == 1 &&
                strcmp(ci->chat_video_id, vid) == 0) {
                free(token);
                token = strdup(ci->chat_continuation);
                if (!token) {
                    snprintf(p->reason, sizeof p->reason, "out of memory");
                    code = TW_EXIT_TEMP;
                } else {
                    s_token(p, "chat_token", "chat token", token, what);
                }
            } else if (code == 0) {
                s_line(p, "chat token",
                       "%s page has no all-messages token "
                       "for %s: Top chat only",
                       what, vid);
            } else {
                s_line(p, "chat page", "%s", p->reason);
                p->reason[0] = '\0';
                code = 0; /* the first poll's header may still help */
            }
        }
        free(esc);
        free(cpath);
        tw_ytpage_destroy(&cp);
    }
    if (code == 0 && token)
        code = s_poll(p, http, version, token, replay);
    free(token);
    tw_ytpage_destroy(&page);
    return code;
}

int ctl_probe_main(ctl_t *ctl, int argc, char **argv)
{
    if (argc != 2)
        return ctl_usage_of(argv[0]);
    char vid[16];
    tw_err_t err = {0};
    if (tw_id_parse_video(argv[1], vid, sizeof vid, &err) != TW_OK) {
        fprintf(stderr, "tubewatch: probe: %s\n",
                err.msg[0] ? err.msg : "not a video id or URL");
        return TW_EXIT_USAGE;
    }
    const tw_cfg_t *cfg = ctl_cfg(ctl);
    if (!cfg)
        return TW_EXIT_USAGE;
    const tw_cfg_youtube_t *yt = &cfg->youtube;
    tw_http_opts_t o = {
        .base_url = yt->web_base_url,
        .user_agent = yt->user_agent && *yt->user_agent ? yt->user_agent : NULL,
        .timeout_ms = yt->http_timeout_ms < UINT32_MAX
                          ? (uint32_t)yt->http_timeout_ms
                          : UINT32_MAX,
        .max_retries = 1,
        .follow_redirects = 1};
    tw_http_t *http = tw_http_new(&o);
    if (!http) {
        fprintf(stderr, "tubewatch: probe: out of memory\n");
        return TW_EXIT_TEMP;
    }
    s_probe_t p = {.out = json_object(), .text = !ctl->json};
    s_line(&p, "probe", "%s at %s", vid, yt->web_base_url);
    int code = s_run(&p, http, vid);
    json_object_set_new(p.out, "chat_readable", json_boolean(code == 0));
    if (code != 0)
        json_object_set_new(p.out, "reason", json_string(p.reason));
    if (ctl->json)
        ctl_print_json(p.out);
    else if (code == 0)
        printf("%-12s chat can be read\n", "result");
    else
        printf("%-12s chat cannot be read: %s\n", "result", p.reason);
    json_decref(p.out);
    tw_http_destroy(&http);
    return code;
}
