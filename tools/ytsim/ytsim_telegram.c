/* ytsim_telegram - Telegram Bot API: getMe, getUpdates, sendMessage with
 * token and chat checks, HTML / MarkdownV2 validation, the 4096 limit and
 * per-chat / global rate limits; accepted messages go to
 * OUT/received/telegram.jsonl. */
#include "ytsim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Per-chat state. */
typedef struct {
    int64_t id;       /* chat id */
    double last;      /* real time of the last accepted message */
    int64_t next_msg; /* next message_id */
} s_chat_t;

static s_chat_t *s_chats;   /* one per configured chat */
static double s_global[64]; /* ring of recent send times (real s) */
static size_t s_global_n;   /* entries used in the ring */
static size_t s_global_i;   /* next slot */
static int s_polling;       /* getUpdates in progress */
static int64_t s_confirmed; /* highest update_id confirmed by offset */
static FILE *s_log;         /* received/telegram.jsonl */

static void s_reply_error(ytsim_resp_t *rs, int code, const char *desc,
                          int retry_after)
{
    ytsim_buf_t *b = ytsim_resp_json(rs, code);
    ytsim_buf_printf(b,
                     "{\"ok\":false,\"error_code\":%d,\"description\":", code);
    ytsim_buf_jstr(b, desc);
    if (retry_after > 0) {
        ytsim_buf_printf(b, ",\"parameters\":{\"retry_after\":%d}",
                         retry_after);
        ytsim_resp_header(rs, "Retry-After", "%d", retry_after);
    }
    YB(b, "}");
}

static int64_t s_bot_id(const ytsim_scn_t *scn)
{
    return strtoll(scn->tg_token, NULL, 10);
}

static void s_bot_user(ytsim_buf_t *b, const ytsim_scn_t *scn)
{
    ytsim_buf_printf(b,
                     "{\"id\":%lld,\"is_bot\":true,\"first_name\":"
                     "\"ytsim\",\"username\":",
                     (long long)s_bot_id(scn));
    ytsim_buf_jstr(b, scn->tg_username);
}

static void s_chat_obj(ytsim_buf_t *b, int64_t id)
{
    if (id < 0) {
        ytsim_buf_printf(b,
                         "{\"id\":%lld,\"title\":\"ytsim group\","
                         "\"type\":\"%s\"}",
                         (long long)id,
                         id < -1000000000000LL ? "supergroup" : "group");
    } else {
        ytsim_buf_printf(b,
                         "{\"id\":%lld,\"first_name\":\"Sim\","
                         "\"username\":\"sim_user\",\"type\":\"private\"}",
                         (long long)id);
    }
}

/* ---- formatting validation ------------------------------------------ */

/* UTF-16 length of a UTF-8 run. */
static size_t s_u16len(const char *s, size_t n)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xc0) != 0x80) {
            u += c >= 0xf0 ? 2 : 1;
        }
    }
    return u;
}

static bool s_tag_allowed(const char *name)
{
    static const char *ok[] = {"b",   "strong",     "i",          "em",
                               "u",   "ins",        "s",          "strike",
                               "del", "span",       "a",          "code",
                               "pre", "tg-spoiler", "blockquote", "tg-emoji"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (strcmp(ok[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* Parses Telegram HTML; returns true and the visible length in UTF-16
 * units, or false with a description. */
static bool s_html(const char *t, size_t *len, char *err, size_t cap)
{
    char stack[16][16];
    int depth = 0;
    size_t vis = 0;
    size_t n = strlen(t);
    for (size_t i = 0; i < n;) {
        if (t[i] == '<') {
            size_t start = i;
            bool close = t[i + 1] == '/';
            size_t j = i + 1 + close;
            char name[16];
            size_t k = 0;
            while (j < n && ((t[j] >= 'a' && t[j] <= 'z') ||
                             (t[j] >= 'A' && t[j] <= 'Z') || t[j] == '-')) {
                if (k < sizeof name - 1) {
                    name[k++] = (char)(t[j] | 0x20);
                }
                j++;
            }
            name[k] = '\0';
            if (k == 0) {
                snprintf(err, cap,
                         "Unexpected end of name token at byte offset %zu", j);
                return false;
            }
            const char *gt = strchr(t + j, '>');
            if (!gt) {
                snprintf(err, cap,
                         "Can't find end of the tag at byte offset %zu", start);
                return false;
            }
            if (close) {
                if (depth == 0) {
                    snprintf(err, cap, "Unexpected end tag at byte offset %zu",
                             start);
                    return false;
                }
                if (strcmp(stack[depth - 1], name) != 0) {
                    snprintf(err, cap,
                             "Unmatched end tag at byte offset %zu, expected "
                             "\"</%s>\", found \"</%s>\"",
                             start, stack[depth - 1], name);
                    return false;
                }
                depth--;
            } else {
                if (!s_tag_allowed(name)) {
                    snprintf(err, cap,
                             "Unsupported start tag \"%s\" at byte offset %zu",
                             name, start);
                    return false;
                }
                const char *href = strstr(t + j, "href=");
                if (strcmp(name, "a") == 0 && (!href || href > gt)) {
                    snprintf(err, cap,
                             "Can't find end of the tag at byte offset %zu",
                             start);
                    return false;
                }
                if (depth == 16) {
                    snprintf(err, cap, "Too many nested tags");
                    return false;
                }
                snprintf(stack[depth++], sizeof stack[0], "%s", name);
            }
            i = (size_t)(gt - t) + 1;
        } else if (t[i] == '&') {
            size_t j = i + 1;
            while (j < n && j - i < 12 &&
                   ((t[j] >= 'a' && t[j] <= 'z') ||
                    (t[j] >= 'A' && t[j] <= 'Z') ||
                    (t[j] >= '0' && t[j] <= '9') || t[j] == '#')) {
                j++;
            }
            if (j < n && t[j] == ';' && j > i + 1) {
                size_t k = j - i - 1;
                const char *e = t + i + 1;
                bool ok = (k == 2 && (strncmp(e, "lt", 2) == 0 ||
                                      strncmp(e, "gt", 2) == 0)) ||
                          (k == 3 && strncmp(e, "amp", 3) == 0) ||
                          (k == 4 && strncmp(e, "quot", 4) == 0) ||
                          (k > 1 && e[0] == '#');
                if (!ok) {
                    snprintf(err, cap,
                             "Unsupported HTML entity at byte offset %zu", i);
                    return false;
                }
                vis += 1;
                i = j + 1;
            } else {
                vis += 1;
                i++;
            }
        } else {
            size_t j = i;
            while (j < n && t[j] != '<' && t[j] != '&') {
                j++;
            }
            vis += s_u16len(t + i, j - i);
            i = j;
        }
    }
    if (depth > 0) {
        snprintf(err, cap,
                 "Can't find end tag corresponding to start tag \"%s\"",
                 stack[depth - 1]);
        return false;
    }
    *len = vis;
    return true;
}

/* A light MarkdownV2 check: the characters that can never start markup
 * must be escaped outside code. */
static bool s_mdv2(const char *t, size_t *len, char *err, size_t cap)
{
    bool code = false;
    size_t vis = 0;
    size_t n = strlen(t);
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '\\' && i + 1 < n) {
            i++;
            vis++;
            continue;
        }
        if (c == '`') {
            code = !code;
            continue;
        }
        if (!code && strchr(".!-=+#{}>", c)) {
            snprintf(err, cap,
                     "Character '%c' is reserved and must be escaped with "
                     "the preceding '\\'",
                     c);
            return false;
        }
        if (!code && strchr("*_~|", c)) {
            continue;
        }
        if ((c & 0xc0) != 0x80) {
            vis += (unsigned char)c >= 0xf0 ? 2 : 1;
        }
    }
    *len = vis;
    return true;
}

/* ---- methods --------------------------------------------------------- */

static void s_log_open(ytsim_srv_t *srv)
{
    if (!s_log) {
        char path[4096];
        snprintf(path, sizeof path, "%s/received/telegram.jsonl",
                 ytsim_out(srv));
        s_log = fopen(path, "a");
    }
}

static void s_send_message(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *chat = ytsim_param(rq, "chat_id");
    const char *text = ytsim_param(rq, "text");
    const char *pm = ytsim_param(rq, "parse_mode");
    const char *silent = ytsim_param(rq, "disable_notification");
    if (!chat || !*chat) {
        s_reply_error(rs, 400, "Bad Request: chat_id is empty", 0);
        return;
    }
    char *end = NULL;
    long long id = strtoll(chat, &end, 10);
    s_chat_t *c = NULL;
    for (size_t i = 0; *end == '\0' && i < scn->n_tg_chats; i++) {
        if (s_chats[i].id == id) {
            c = &s_chats[i];
        }
    }
    for (size_t i = 0; *end == '\0' && i < scn->n_tg_migrated; i++) {
        if (scn->tg_migrated[2 * i] == id) {
            ytsim_buf_t *b = ytsim_resp_json(rs, 400);
            ytsim_buf_printf(b,
                             "{\"ok\":false,\"error_code\":400,"
                             "\"description\":\"Bad Request: group chat "
                             "was migrated to a supergroup chat\","
                             "\"parameters\":{\"migrate_to_chat_id\":"
                             "%lld}}",
                             (long long)scn->tg_migrated[2 * i + 1]);
            return;
        }
    }
    for (size_t i = 0; *end == '\0' && i < scn->n_tg_blocked; i++) {
        if (scn->tg_blocked[i] == id) {
            s_reply_error(rs, 403, "Forbidden: bot was blocked by the user", 0);
            return;
        }
    }
    if (!c) {
        s_reply_error(rs, 400, "Bad Request: chat not found", 0);
        return;
    }
    if (!text || !*text) {
        s_reply_error(rs, 400, "Bad Request: message text is empty", 0);
        return;
    }
    size_t len = s_u16len(text, strlen(text));
    char err[256];
    bool ok = true;
    if (pm && strcasecmp(pm, "HTML") == 0) {
        ok = s_html(text, &len, err, sizeof err);
    } else if (pm && strcasecmp(pm, "MarkdownV2") == 0) {
        ok = s_mdv2(text, &len, err, sizeof err);
    } else if (pm && *pm && strcasecmp(pm, "Markdown") != 0) {
        s_reply_error(rs, 400, "Bad Request: unsupported parse_mode", 0);
        return;
    }
    if (!ok) {
        char desc[320];
        snprintf(desc, sizeof desc, "Bad Request: can't parse entities: %s",
                 err);
        s_reply_error(rs, 400, desc, 0);
        return;
    }
    if (len == 0) {
        s_reply_error(rs, 400, "Bad Request: message text is empty", 0);
        return;
    }
    if (len > 4096) {
        s_reply_error(rs, 400, "Bad Request: message is too long", 0);
        return;
    }
    double now = ytsim_real(srv);
    int retry = 0;
    int64_t msg_id = 0;
    ytsim_lock(srv);
    double per_chat = scn->tg_chat_per_s > 0 ? 1.0 / scn->tg_chat_per_s : 0;
    if (c->last > 0 && now - c->last < per_chat) {
        retry = (int)ceil(per_chat - (now - c->last));
    }
    size_t gcap = scn->tg_global_per_s < 64 ? (size_t)scn->tg_global_per_s : 64;
    if (!retry && gcap > 0 && s_global_n >= gcap) {
        /* the oldest of the last gcap sends must be a second old */
        size_t oldest = (s_global_i + 64 - gcap) % 64;
        if (now - s_global[oldest] < 1.0) {
            retry = 1;
        }
    }
    if (!retry) {
        c->last = now;
        s_global[s_global_i] = now;
        s_global_i = (s_global_i + 1) % 64;
        if (s_global_n < 64) {
            s_global_n++;
        }
        msg_id = c->next_msg++;
    }
    ytsim_unlock(srv);
    if (retry) {
        char desc[64];
        snprintf(desc, sizeof desc, "Too Many Requests: retry after %d", retry);
        s_reply_error(rs, 429, desc, retry);
        return;
    }
    int64_t date = ytsim_wall_usec(srv, ytsim_now(srv)) / 1000000;
    ytsim_buf_t line = {0};
    char ts[48];
    ytsim_fmt_time(ts, sizeof ts, tw_time_now_us(), 0, false);
    ytsim_buf_printf(&line,
                     "{\"received_at\":\"%s\",\"chat_id\":%lld,"
                     "\"message_id\":%lld,\"parse_mode\":",
                     ts, id, (long long)msg_id);
    ytsim_buf_jstr(&line, pm ? pm : "");
    ytsim_buf_printf(&line, ",\"disable_notification\":%s,\"text\":",
                     silent && strcmp(silent, "true") == 0 ? "true" : "false");
    ytsim_buf_jstr(&line, text);
    YB(&line, "}\n");
    ytsim_lock(srv);
    s_log_open(srv);
    if (s_log) {
        fwrite(line.p, 1, line.len, s_log);
        fflush(s_log);
    }
    ytsim_unlock(srv);
    ytsim_buf_free(&line);
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    ytsim_buf_printf(b,
                     "{\"ok\":true,\"result\":{\"message_id\":%lld,"
                     "\"from\":",
                     (long long)msg_id);
    s_bot_user(b, scn);
    YB(b, "},\"chat\":");
    s_chat_obj(b, id);
    ytsim_buf_printf(b, ",\"date\":%lld,\"text\":", (long long)date);
    ytsim_buf_jstr(b, text);
    YB(b, "}}");
}

static void s_get_updates(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    const char *off = ytsim_param(rq, "offset");
    const char *tmo = ytsim_param(rq, "timeout");
    ytsim_lock(srv);
    if (s_polling > 0) {
        ytsim_unlock(srv);
        s_reply_error(rs, 409,
                      "Conflict: terminated by other getUpdates request; make "
                      "sure that only one bot instance is running",
                      0);
        return;
    }
    s_polling++;
    if (off) {
        int64_t o = strtoll(off, NULL, 10);
        if (o - 1 > s_confirmed) {
            s_confirmed = o - 1;
        }
    }
    int64_t confirmed = s_confirmed;
    ytsim_unlock(srv);
    /* one "/start" update per configured chat, ids 100000001.. */
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    YB(b, "{\"ok\":true,\"result\":[");
    int64_t date = ytsim_wall_usec(srv, 0) / 1000000;
    size_t n = 0;
    for (size_t i = 0; i < scn->n_tg_chats; i++) {
        int64_t uid = 100000001 + (int64_t)i;
        if (uid <= confirmed) {
            continue;
        }
        int64_t cid = scn->tg_chats[i];
        if (n++) {
            YB(b, ",");
        }
        ytsim_buf_printf(b,
                         "{\"update_id\":%lld,\"message\":{\"message_id\":"
                         "%zu,\"from\":{\"id\":%lld,\"is_bot\":false,"
                         "\"first_name\":\"Sim\",\"username\":\"sim_user\","
                         "\"language_code\":\"en\"},\"chat\":",
                         (long long)uid, i + 1,
                         (long long)(cid > 0 ? cid : 664743441));
        s_chat_obj(b, cid);
        ytsim_buf_printf(b,
                         ",\"date\":%lld,\"text\":\"/start\",\"entities\":"
                         "[{\"offset\":0,\"length\":6,\"type\":"
                         "\"bot_command\"}]}}",
                         (long long)date);
    }
    YB(b, "]}");
    if (n == 0 && tmo) {
        /* a short long-poll: never hold a server thread long */
        double w = strtod(tmo, NULL);
        w = w > 1 ? 1 : (w < 0 ? 0 : w);
        struct timespec ts = {(time_t)w, (long)((w - floor(w)) * 1e9)};
        nanosleep(&ts, NULL);
    }
    ytsim_lock(srv);
    s_polling--;
    ytsim_unlock(srv);
}

bool ytsim_telegram_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    ytsim_scn_t *scn = ytsim_scn(srv);
    if (strncmp(rq->path, "/bot", 4) != 0) {
        return false;
    }
    const char *tok = rq->path + 4;
    const char *slash = strchr(tok, '/');
    if (!slash || (size_t)(slash - tok) != strlen(scn->tg_token) ||
        strncmp(tok, scn->tg_token, (size_t)(slash - tok)) != 0) {
        s_reply_error(rs, 401, "Unauthorized", 0);
        return true;
    }
    ytsim_lock(srv);
    if (!s_chats) {
        s_chats = calloc(scn->n_tg_chats + 1, sizeof *s_chats);
        if (!s_chats) {
            abort();
        }
        for (size_t i = 0; i < scn->n_tg_chats; i++) {
            s_chats[i].id = scn->tg_chats[i];
            s_chats[i].next_msg = 1000;
        }
    }
    ytsim_unlock(srv);
    const char *m = slash + 1;
    if (strcasecmp(m, "getMe") == 0) {
        ytsim_buf_t *b = ytsim_resp_json(rs, 200);
        YB(b, "{\"ok\":true,\"result\":");
        s_bot_user(b, scn);
        YB(b, ",\"can_join_groups\":true,\"can_read_all_group_messages\":"
              "false,\"supports_inline_queries\":false}}");
    } else if (strcasecmp(m, "sendMessage") == 0) {
        s_send_message(srv, rq, rs);
    } else if (strcasecmp(m, "getUpdates") == 0) {
        s_get_updates(srv, rq, rs);
    } else {
        s_reply_error(rs, 404, "Not Found", 0);
    }
    return true;
}
