/* tw_id - validation of YouTube ids and of names that become path
 * components, and parsing of channel and video URLs. */
#include "tw_id.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

static bool s_idchar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool s_handlechar(char c)
{
    return s_idchar(c) || c == '.';
}

bool tw_id_is_safe_n(const char *s, size_t len, size_t max_len)
{
    assert(s || len == 0);
    if (len == 0 || len > max_len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!s_idchar(s[i]))
            return false;
    }
    return true;
}

bool tw_id_is_safe(const char *s, size_t max_len)
{
    assert(s);
    size_t len = strnlen(s, max_len + 1);
    return tw_id_is_safe_n(s, len, max_len);
}

bool tw_id_is_video(const char *s)
{
    assert(s);
    return strnlen(s, TW_ID_VIDEO_LEN + 1) == TW_ID_VIDEO_LEN &&
           tw_id_is_safe_n(s, TW_ID_VIDEO_LEN, TW_ID_VIDEO_LEN);
}

bool tw_id_is_channel(const char *s)
{
    assert(s);
    return strnlen(s, TW_ID_CHANNEL_LEN + 1) == TW_ID_CHANNEL_LEN &&
           s[0] == 'U' && s[1] == 'C' &&
           tw_id_is_safe_n(s, TW_ID_CHANNEL_LEN, TW_ID_CHANNEL_LEN);
}

static bool s_is_handle_n(const char *s, size_t len)
{
    if (len < 4 || len > TW_ID_HANDLE_MAX || s[0] != '@')
        return false;
    for (size_t i = 1; i < len; i++) {
        if (!s_handlechar(s[i]))
            return false;
    }
    return true;
}

bool tw_id_is_handle(const char *s)
{
    assert(s);
    return s_is_handle_n(s, strnlen(s, TW_ID_HANDLE_MAX + 1));
}

/* Skips an optional scheme and a youtube host; returns the path (starting
 * at '/'), or NULL when in is not a YouTube URL. *short_host is set for
 * youtu.be. */
static const char *s_url_path(const char *in, bool *short_host)
{
    const char *p = in;
    if (strncasecmp(p, "https://", 8) == 0)
        p += 8;
    else if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    static const char *const hosts[] = {"www.youtube.com", "youtube.com",
                                        "m.youtube.com",   "music.youtube.com",
                                        "youtu.be",        "www.youtu.be"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t hl = strlen(hosts[i]);
        if (strncasecmp(p, hosts[i], hl) == 0 &&
            (p[hl] == '/' || p[hl] == '\0' || p[hl] == '?')) {
            *short_host = strstr(hosts[i], "youtu.be") != NULL;
            return p + hl;
        }
    }
    return NULL;
}

/* Length of the path segment at s (up to '/', '?', '#' or the end). */
static size_t s_segment(const char *s)
{
    return strcspn(s, "/?#");
}

/* Checks that what follows a parsed segment is only a path tail, a query
 * or a fragment. */
static bool s_tail_ok(const char *s)
{
    return *s == '\0' || *s == '/' || *s == '?' || *s == '#';
}

static tw_rc_t s_copy(char *out, size_t cap, const char *s, size_t len,
                      tw_err_t *err)
{
    if (len + 1 > cap) {
        tw_err_set(err, "output buffer too small for an id");
        return TW_ERR_INVALID;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return TW_OK;
}

tw_rc_t tw_id_parse_channel(const char *in, char *out, size_t cap,
                            tw_id_kind_t *kind, tw_err_t *err)
{
    assert(in);
    assert(out);
    if (tw_id_is_channel(in)) {
        if (kind)
            *kind = TW_ID_CHANNEL;
        return s_copy(out, cap, in, strlen(in), err);
    }
    if (tw_id_is_handle(in)) {
        if (kind)
            *kind = TW_ID_HANDLE;
        return s_copy(out, cap, in, strlen(in), err);
    }
    bool short_host = false;
    const char *path = s_url_path(in, &short_host);
    if (!path || short_host || *path != '/') {
        tw_err_set(err, "not a channel id (UC...), handle (@name) or YouTube "
                        "channel URL");
        return TW_ERR_INVALID;
    }
    path++;
    size_t len = s_segment(path);
    if (len == 7 && strncmp(path, "channel", 7) == 0 && path[7] == '/') {
        const char *id = path + 8;
        size_t idl = s_segment(id);
        if (idl == TW_ID_CHANNEL_LEN && id[0] == 'U' && id[1] == 'C' &&
            tw_id_is_safe_n(id, idl, TW_ID_CHANNEL_LEN) &&
            s_tail_ok(id + idl)) {
            if (kind)
                *kind = TW_ID_CHANNEL;
            return s_copy(out, cap, id, idl, err);
        }
        tw_err_set(err, "the /channel/ URL does not hold a valid channel id");
        return TW_ERR_INVALID;
    }
    if (len > 0 && path[0] == '@') {
        if (s_is_handle_n(path, len) && s_tail_ok(path + len)) {
            if (kind)
                *kind = TW_ID_HANDLE;
            return s_copy(out, cap, path, len, err);
        }
        tw_err_set(err, "the URL does not hold a valid handle (@ + 3-30 of "
                        "A-Z a-z 0-9 . _ -)");
        return TW_ERR_INVALID;
    }
    if ((len == 1 && path[0] == 'c') ||
        (len == 4 && strncmp(path, "user", 4) == 0)) {
        tw_err_set(err, "legacy /c/ and /user/ URLs are not supported; use "
                        "the channel id or @handle");
        return TW_ERR_INVALID;
    }
    tw_err_set(err, "the URL is not a channel URL (/channel/UC... or "
                    "/@handle)");
    return TW_ERR_INVALID;
}

/* Finds the value of query parameter name in query (after '?'); stores its
 * length. Returns NULL when absent. */
static const char *s_query_param(const char *query, const char *name,
                                 size_t *len)
{
    size_t nl = strlen(name);
    const char *p = query;
    while (*p && *p != '#') {
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            *len = strcspn(p + nl + 1, "&#");
            return p + nl + 1;
        }
        p += strcspn(p, "&#");
        if (*p == '&')
            p++;
    }
    return NULL;
}

tw_rc_t tw_id_parse_video(const char *in, char *out, size_t cap, tw_err_t *err)
{
    assert(in);
    assert(out);
    if (tw_id_is_video(in))
        return s_copy(out, cap, in, TW_ID_VIDEO_LEN, err);
    bool short_host = false;
    const char *path = s_url_path(in, &short_host);
    const char *id = NULL;
    size_t idl = 0;
    if (path && *path == '/') {
        path++;
        size_t len = s_segment(path);
        if (short_host) {
            id = path;
            idl = len;
        } else if (len == 5 && strncmp(path, "watch", 5) == 0 &&
                   path[5] == '?') {
            id = s_query_param(path + 6, "v", &idl);
        } else if (((len == 4 && strncmp(path, "live", 4) == 0) ||
                    (len == 6 && strncmp(path, "shorts", 6) == 0) ||
                    (len == 5 && strncmp(path, "embed", 5) == 0)) &&
                   path[len] == '/') {
            id = path + len + 1;
            idl = s_segment(id);
        }
    }
    if (id && idl == TW_ID_VIDEO_LEN &&
        tw_id_is_safe_n(id, idl, TW_ID_VIDEO_LEN) &&
        (s_tail_ok(id + idl) || id[idl] == '&'))
        return s_copy(out, cap, id, idl, err);
    tw_err_set(err, "not a video id (11 of A-Z a-z 0-9 _ -) or YouTube video "
                    "URL");
    return TW_ERR_INVALID;
}
