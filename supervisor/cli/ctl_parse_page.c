/* ctl_parse_page - `tubewatch parse-page FILE...`: prints one JSON object
 * per saved YouTube page (watch, /@handle/live, /@handle/streams,
 * /live_chat, or bare ytInitialData / ytInitialPlayerResponse / youtubei
 * JSON): kind, video, channel, state, scheduled start, the chat token
 * capture would send first, viewers, likes and the channel's upcoming and
 * live streams. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "tw_file.h"
#include "tw_rc.h"
#include "tw_time.h"
#include "tw_ytpage.h"

/* Larger than any page; a bigger file is not a page. */
#define MAX_PAGE_BYTES (64u * 1024 * 1024)

/* A string, or null when empty (or not UTF-8). */
static json_t *s_str_or_null(const char *s)
{
    json_t *v = s && *s ? json_string(s) : NULL;
    return v ? v : json_null();
}

/* RFC 3339 UTC, without the fraction when it is zero. */
static json_t *s_time_or_null(int64_t us)
{
    if (us <= 0)
        return json_null();
    char buf[TW_TIME_STR_SIZE];
    tw_time_format(us, buf);
    char *frac = strstr(buf, ".000000Z");
    if (frac)
        strcpy(frac, "Z");
    return json_string(buf);
}

static json_t *s_count_or_null(int64_t n)
{
    return n >= 0 ? json_integer(n) : json_null();
}

/* The state column: members_only and unavailable from the playability,
 * else the broadcast state; null for ordinary videos and pages that do
 * not tell. */
static json_t *s_state(const tw_ytpage_info_t *in)
{
    if (in->members_only)
        return json_string("members_only");
    switch (in->play) {
    case TW_YTPAGE_PLAY_ERROR:
    case TW_YTPAGE_PLAY_UNPLAYABLE:
    case TW_YTPAGE_PLAY_LOGIN_REQUIRED:
        return json_string("unavailable");
    default:
        break;
    }
    switch (in->state) {
    case TW_YTPAGE_STATE_UPCOMING:
        return json_string("upcoming");
    case TW_YTPAGE_STATE_LIVE:
        return json_string("live");
    case TW_YTPAGE_STATE_ENDED:
        return json_string("ended");
    default:
        return json_null();
    }
}

static json_t *s_chat(const tw_ytpage_info_t *in)
{
    if (!*in->chat_continuation)
        return json_null();
    const char *type = in->chat_type == 1   ? "live"
                       : in->chat_type == 4 ? "top"
                                            : NULL;
    return json_pack("{s:s, s:o, s:s}", "continuation", in->chat_continuation,
                     "chat_type", type ? json_string(type) : json_null(),
                     "video_id", in->chat_video_id);
}

/* The object describing the page parsed into page. */
static json_t *s_describe(const char *path, tw_ytpage_t *page)
{
    const tw_ytpage_info_t *in = tw_ytpage_info(page);
    char *copy = strdup(path);
    json_t *file = s_str_or_null(copy ? basename(copy) : path);
    free(copy);
    /* A /live_chat page has no videoDetails: its token names the video. */
    const char *video = *in->video_id ? in->video_id : in->chat_video_id;
    const char *channel = in->channel_id;
    tw_ytpage_token_t tok;
    if (!*channel && *in->chat_continuation &&
        tw_ytpage_token_decode(in->chat_continuation,
                               strlen(in->chat_continuation), &tok) == TW_OK)
        channel = tok.channel_id;
    json_t *streams = json_array();
    for (size_t i = 0; i < tw_ytpage_stream_count(page); i++) {
        const tw_ytpage_stream_t *s = tw_ytpage_stream(page, i);
        json_array_append_new(
            streams, json_pack("{s:s, s:s}", "video_id", s->video_id, "state",
                               s->live ? "live" : "upcoming"));
    }
    return json_pack(
        "{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "file", file,
        "kind", tw_ytpage_kind_str(in->kind), "video_id", s_str_or_null(video),
        "channel_id", s_str_or_null(channel), "state", s_state(in),
        "scheduled_start", s_time_or_null(in->scheduled_start_usec), "chat",
        s_chat(in), "concurrent_viewers", s_count_or_null(in->viewers), "likes",
        s_count_or_null(in->likes), "streams", streams);
}

/* Parses buf as JSON when it starts with '{' (after blanks and a BOM),
 * else as an HTML page. */
static tw_rc_t s_parse(tw_ytpage_t *page, const char *buf, size_t len,
                       tw_err_t *err)
{
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
                       buf[i] == '\n'))
        i++;
    if (i < len && buf[i] == '{') {
        tw_ytpage_reset(page);
        return tw_ytpage_parse_json(page, buf + i, len - i, err);
    }
    return tw_ytpage_parse_html(page, buf, len, err);
}

int ctl_parse_page_main(ctl_t *ctl, int argc, char **argv)
{
    (void)ctl;
    if (argc < 2)
        return ctl_usage_of(argv[0]);
    tw_ytpage_t *page = tw_ytpage_new();
    if (!page) {
        fprintf(stderr, "tubewatch: unable to parse pages: out of memory\n");
        return tw_rc_exit(TW_ERR_NOMEM);
    }
    int status = TW_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        char *buf = NULL;
        size_t len = 0;
        tw_err_t err = {0};
        tw_rc_t rc =
            tw_file_read_all(argv[i], MAX_PAGE_BYTES, &buf, &len, &err);
        if (rc != TW_OK) {
            fprintf(stderr, "tubewatch: unable to read %s: %s\n", argv[i],
                    err.msg[0] ? err.msg : tw_rc_str(rc));
            status = tw_rc_exit(rc);
            continue;
        }
        rc = s_parse(page, buf, len, &err);
        free(buf);
        if (rc != TW_OK) {
            fprintf(stderr, "tubewatch: unable to parse %s: %s\n", argv[i],
                    err.msg[0] ? err.msg : tw_rc_str(rc));
            if (status == TW_EXIT_OK)
                status = ctl_parse_exit(rc);
            continue;
        }
        json_t *o = s_describe(argv[i], page);
        if (!o) {
            fprintf(stderr, "tubewatch: unable to describe %s: out of memory\n",
                    argv[i]);
            status = tw_rc_exit(TW_ERR_NOMEM);
            continue;
        }
        ctl_print_json(o);
        json_decref(o);
    }
    tw_ytpage_destroy(&page);
    if (fflush(stdout) != 0)
        status = TW_EXIT_TEMP;
    return status;
}
