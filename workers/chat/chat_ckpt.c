/* chat_ckpt - the chat worker's checkpoint: a small "key value" text file
 * replaced atomically after every journaled batch. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "tw_file.h"
#include "tw_id.h"
#include "tw_time.h"

/* Biggest checkpoint accepted (tokens are a few hundred bytes). */
#define S_MAX_FILE (64 * 1024)

void chat_ckpt_clear(chat_ckpt_t *ck)
{
    assert(ck);
    free(ck->continuation);
    memset(ck, 0, sizeof *ck);
}

tw_rc_t chat_ckpt_set_cont(chat_ckpt_t *ck, const char *token)
{
    assert(ck);
    char *copy = NULL;
    if (token) {
        copy = strdup(token);
        if (!copy)
            return TW_ERR_NOMEM;
    }
    free(ck->continuation);
    ck->continuation = copy;
    return TW_OK;
}

/* True when s holds only characters seen in continuation tokens. */
static bool s_token_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || strchr("_-%=+/.", c);
        if (!ok)
            return false;
    }
    return true;
}

tw_rc_t chat_ckpt_save(const char *path, const chat_ckpt_t *ck, tw_err_t *err)
{
    assert(path);
    assert(ck);
    const char *cont = ck->continuation ? ck->continuation : "";
    if (!s_token_ok(cont, strlen(cont))) {
        tw_err_set(err, "continuation has unexpected characters");
        return TW_ERR_INVALID;
    }
    size_t cap = strlen(cont) + 512;
    char *buf = malloc(cap);
    if (!buf)
        return TW_ERR_NOMEM;
    int n = snprintf(buf, cap,
                     "tubewatch-chat-checkpoint 1\n"
                     "video %s\nchannel %s\nphase %s\ncontinuation %s\n"
                     "last_usec %" PRId64 "\nitems %" PRIu64 "\n"
                     "deleted %" PRIu64 "\nreplay_items %" PRIu64 "\n"
                     "saved_usec %" PRId64 "\n",
                     ck->video_id, ck->channel_id,
                     ck->phase == CHAT_PHASE_REPLAY ? "replay" : "live", cont,
                     ck->last_usec, ck->items, ck->deleted, ck->replay_items,
                     tw_time_now_us());
    tw_rc_t rc = TW_ERR_INTERNAL;
    if (n > 0 && (size_t)n < cap)
        rc = tw_file_write_atomic_at("chat/ckpt", path, buf, (size_t)n, 0600,
                                     err);
    free(buf);
    return rc;
}

/* Parses one "key value" line into ck; false when malformed. */
static bool s_line(chat_ckpt_t *ck, char *line)
{
    char *sp = strchr(line, ' ');
    if (!sp)
        return false;
    *sp = '\0';
    const char *k = line, *v = sp + 1;
    char *end = NULL;
    if (strcmp(k, "video") == 0) {
        if (!tw_id_is_video(v))
            return false;
        snprintf(ck->video_id, sizeof ck->video_id, "%s", v);
    } else if (strcmp(k, "channel") == 0) {
        if (*v && !tw_id_is_safe(v, sizeof ck->channel_id - 1))
            return false;
        snprintf(ck->channel_id, sizeof ck->channel_id, "%s", v);
    } else if (strcmp(k, "phase") == 0) {
        if (strcmp(v, "live") == 0)
            ck->phase = CHAT_PHASE_LIVE;
        else if (strcmp(v, "replay") == 0)
            ck->phase = CHAT_PHASE_REPLAY;
        else
            return false;
    } else if (strcmp(k, "continuation") == 0) {
        if (!s_token_ok(v, strlen(v)))
            return false;
        if (*v && chat_ckpt_set_cont(ck, v) != TW_OK)
            return false;
    } else if (strcmp(k, "last_usec") == 0) {
        ck->last_usec = strtoll(v, &end, 10);
    } else if (strcmp(k, "saved_usec") == 0) {
        ck->saved_usec = strtoll(v, &end, 10);
    } else if (strcmp(k, "items") == 0) {
        ck->items = strtoull(v, &end, 10);
    } else if (strcmp(k, "deleted") == 0) {
        ck->deleted = strtoull(v, &end, 10);
    } else if (strcmp(k, "replay_items") == 0) {
        ck->replay_items = strtoull(v, &end, 10);
    } /* unknown keys: written by a newer version, ignored */
    return !end || *end == '\0';
}

tw_rc_t chat_ckpt_parse(const char *data, size_t len, chat_ckpt_t *ck,
                        tw_err_t *err)
{
    assert(data || len == 0);
    assert(ck);
    memset(ck, 0, sizeof *ck);
    char *copy = malloc(len + 1);
    if (!copy)
        return TW_ERR_NOMEM;
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    const char *magic = "tubewatch-chat-checkpoint 1\n";
    size_t mlen = strlen(magic);
    bool ok =
        len >= mlen && memcmp(copy, magic, mlen) == 0 && strlen(copy) == len;
    char *save = NULL;
    for (char *line = ok ? strtok_r(copy + mlen, "\n", &save) : NULL;
         ok && line; line = strtok_r(NULL, "\n", &save))
        ok = s_line(ck, line);
    free(copy);
    if (!ok || !ck->video_id[0]) {
        chat_ckpt_clear(ck);
        tw_err_set(err, "not a valid chat checkpoint");
        return TW_ERR_PARSE;
    }
    return TW_OK;
}

tw_rc_t chat_ckpt_load(const char *path, chat_ckpt_t *ck, tw_err_t *err)
{
    assert(path);
    assert(ck);
    memset(ck, 0, sizeof *ck);
    char *data = NULL;
    size_t len = 0;
    tw_rc_t rc = tw_file_read_all(path, S_MAX_FILE, &data, &len, err);
    if (rc != TW_OK)
        return rc;
    rc = chat_ckpt_parse(data, len, ck, NULL);
    free(data);
    if (rc == TW_ERR_PARSE)
        tw_err_set(err, "%s: not a valid chat checkpoint", path);
    return rc;
}
