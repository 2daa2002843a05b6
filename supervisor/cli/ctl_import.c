/* ctl_import - `tubewatch import FILE... --video ID [--channel UC...]`:
 * stores saved chat (yt-dlp's *.live_chat.json, get_live_chat(_replay)
 * answers, live_chat pages, Data API liveChatMessages answers) through the
 * running tokenizer and writer into DATA/comments, exactly as chat@VIDEO
 * would have (docs/import.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tw_scan.h"
#include "ctl.h"
#include "tw_chatmap.h"
#include "tw_deliver.h"
#include "tw_file.h"
#include "tw_id.h"
#include "tw_rc.h"
#include "tw_time.h"
#include "tw_ytchat.h"

/* Larger than any saved chat; a bigger file is not one. */
#define S_MAX_FILE_BYTES (256u * 1024 * 1024)
/* Items per chat.batch frame, as chat@VIDEO sends them. */
#define S_BATCH_MAX 1000

/* One import run. */
typedef struct {
    ctl_t *ctl;              /* CLI state */
    char video[16];          /* --video */
    char channel[TW_ID_MAX]; /* --channel, or from the stream table */
    tw_deliver_t *tx;        /* sender to the tokenizer */
    uint64_t acked;          /* last tw_deliver_acked seen */
    int64_t progress_ms;     /* last ack progress (monotonic) */
    int stall_ms;            /* give up after this long without an ack */
} s_import_t;

/* What one file gave. */
typedef struct {
    size_t items;     /* items parsed (chat rows and events) */
    size_t sent;      /* chat items sent, deletions included */
    size_t deletions; /* deletions among them */
    size_t skipped;   /* not sent: author deletions, unusable ids */
} s_counts_t;

/* Reads and parses path into chat; prints why not. TW_OK or the rc. */
static tw_rc_t s_parse(tw_ytchat_t *chat, const char *path, char **buf)
{
    size_t len = 0;
    tw_err_t err = {0};
    *buf = NULL;
    tw_rc_t rc = tw_file_read_all(path, S_MAX_FILE_BYTES, buf, &len, &err);
    if (rc == TW_OK)
        rc = tw_ytchat_parse(chat, *buf, len, &err);
    if (rc != TW_OK)
        fprintf(stderr, "tubewatch: import: unable to read %s: %s\n", path,
                err.msg[0] ? err.msg : tw_rc_str(rc));
    return rc;
}

/* The channel of video from the scanner's stream table; false if absent. */
static bool s_channel_from_streams(const tw_cfg_t *cfg, const char *video,
                                   char *out, size_t cap)
{
    char path[4200];
    if (tw_scan_path(path, sizeof path, cfg->supervisor.state_dir,
                     TW_SCAN_FILE_STREAMS) != TW_OK)
        return false;
    tw_scan_stream_t *v = NULL;
    size_t n = 0;
    tw_err_t err = {0};
    bool found = false;
    if (tw_scan_streams_load(path, &v, &n, &err) == TW_OK) {
        for (size_t i = 0; i < n && !found; i++) {
            if (strcmp(v[i].video_id, video) == 0 &&
                tw_id_is_channel(v[i].channel_id)) {
                snprintf(out, cap, "%s", v[i].channel_id);
                found = true;
            }
        }
    }
    free(v);
    return found;
}

/* Checks that the tokenizer listens on path; returns 0, or 111 after
 * saying whether tubewatchd or only the tokenizer is missing. */
static int s_check_pipeline(s_import_t *im, const char *path)
{
    int e = ctl_socket_probe(path);
    if (e == 0)
        return TW_EXIT_OK;
    json_t *reply = NULL;
    int code =
        ctl_request(im->ctl, json_pack("{s:s}", "cmd", "version"), &reply);
    json_decref(reply);
    if (code == TW_EXIT_OK)
        fprintf(stderr,
                "tubewatch: import: the tokenizer is not running (%s: %s); "
                "see tubewatch status\n",
                path, e == ENOENT ? "no socket" : strerror(e));
    fprintf(stderr, "tubewatch: import: nothing imported\n");
    return code == TW_EXIT_USAGE ? TW_EXIT_USAGE : TW_EXIT_TEMP;
}

/* Handles acks and timers for up to ms. Returns false (after saying so)
 * when frames stayed unacked for stall_ms without any ack, or the link
 * failed. */
static bool s_pump(s_import_t *im, int ms)
{
    tw_err_t err = {0};
    tw_rc_t rc = tw_deliver_drain(im->tx, ms, &err);
    if (rc != TW_OK && rc != TW_ERR_TIMEOUT) {
        fprintf(stderr, "tubewatch: import: delivery failed: %s\n",
                err.msg[0] ? err.msg : tw_rc_str(rc));
        return false;
    }
    int64_t now = tw_time_mono_ms();
    uint64_t acked = tw_deliver_acked(im->tx);
    if (acked != im->acked || tw_deliver_unacked(im->tx) == 0) {
        im->acked = acked;
        im->progress_ms = now;
        return true;
    }
    if (now - im->progress_ms < im->stall_ms)
        return true;
    fprintf(stderr,
            "tubewatch: import: no ack from the pipeline for %d ms (%zu "
            "batches unacked); is the writer running? see tubewatch "
            "status\n",
            im->stall_ms, tw_deliver_unacked(im->tx));
    return false;
}

/* Sends items[0..n) as one chat.batch (halves when too big); returns an
 * exit code. */
static int s_send(s_import_t *im, tw_chat_item_t *items, size_t n)
{
    if (n == 0)
        return TW_EXIT_OK;
    while (!tw_deliver_can_send(im->tx))
        if (!s_pump(im, 200))
            return TW_EXIT_TEMP;
    if (tw_deliver_unacked(im->tx) == 0)
        im->progress_ms = tw_time_mono_ms();
    tw_msg_t msg = {.id = TW_MSG_CHAT_BATCH};
    msg.u.chat_batch.video_id = im->video;
    msg.u.chat_batch.channel_id = im->channel;
    msg.u.chat_batch.items.v = items;
    msg.u.chat_batch.items.n = n;
    tw_err_t err = {0};
    tw_rc_t rc = tw_deliver_send(im->tx, &msg, &err);
    if (rc == TW_ERR_TOOBIG && n > 1) {
        int code = s_send(im, items, n / 2);
        return code != TW_EXIT_OK ? code : s_send(im, items + n / 2, n - n / 2);
    }
    if (rc != TW_OK) {
        fprintf(stderr, "tubewatch: import: unable to send chat.batch: %s\n",
                err.msg[0] ? err.msg : tw_rc_str(rc));
        return TW_EXIT_TEMP;
    }
    return TW_EXIT_OK;
}

/* Sends every item of the parsed file in chat, then waits until all of it
 * is acked durable. Returns an exit code; fills *cnt. */
static int s_import_items(s_import_t *im, const tw_ytchat_t *chat,
                          s_counts_t *cnt)
{
    size_t total = tw_ytchat_count(chat);
    memset(cnt, 0, sizeof *cnt);
    cnt->items = total;
    tw_chat_item_t *items = calloc(S_BATCH_MAX, sizeof *items);
    if (!items) {
        fprintf(stderr, "tubewatch: import: out of memory\n");
        return TW_EXIT_TEMP;
    }
    tw_strpool_t pool = {0};
    int64_t now = tw_time_now_us();
    size_t n = 0;
    int code = TW_EXIT_OK;
    for (size_t i = 0; i < total && code == TW_EXIT_OK; i++) {
        tw_chat_item_t *o = &items[n];
        if (tw_chatmap_item(tw_ytchat_item(chat, i), now, &pool, o) !=
            TW_CHATMAP_OK) {
            cnt->skipped++;
            continue;
        }
        n++;
        cnt->sent++;
        if (o->kind == TW_CHAT_KIND_DELETED)
            cnt->deletions++;
        if (n == S_BATCH_MAX) {
            code = s_send(im, items, n);
            n = 0;
            tw_strpool_clear(&pool);
        }
    }
    if (code == TW_EXIT_OK)
        code = s_send(im, items, n);
    tw_strpool_fini(&pool);
    free(items);
    while (code == TW_EXIT_OK && tw_deliver_unacked(im->tx) > 0)
        if (!s_pump(im, 200))
            code = TW_EXIT_TEMP;
    return code;
}

/* Prints the summary line of one file. */
static void s_summary(const s_import_t *im, const char *path,
                      const s_counts_t *c)
{
    if (im->ctl->json) {
        json_t *o = json_pack(
            "{s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "file", path, "video_id",
            im->video, "channel_id", im->channel, "items", (json_int_t)c->items,
            "sent", (json_int_t)c->sent, "deletions", (json_int_t)c->deletions,
            "skipped", (json_int_t)c->skipped);
        ctl_print_json(o);
        json_decref(o);
    } else {
        printf("%s: %zu items read, %zu sent (deletions: %zu), %zu skipped; "
               "all durable\n",
               path, c->items, c->sent, c->deletions, c->skipped);
    }
    fflush(stdout);
}

/* Parses the arguments into im and files; returns 0 or 100. */
static int s_args(s_import_t *im, int argc, char **argv, const char **files,
                  int *nfiles)
{
    const char *video = NULL, *channel = NULL;
    bool dashdash = false;
    *nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && strcmp(a, "--") == 0) {
            dashdash = true;
        } else if (!dashdash && strcmp(a, "--video") == 0 && i + 1 < argc) {
            video = argv[++i];
        } else if (!dashdash && strcmp(a, "--channel") == 0 && i + 1 < argc) {
            channel = argv[++i];
        } else if (!dashdash && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tubewatch: import: unknown option '%s'\n", a);
            return ctl_usage_of(argv[0]);
        } else {
            files[(*nfiles)++] = a;
        }
    }
    if (!video || *nfiles == 0)
        return ctl_usage_of(argv[0]);
    tw_err_t err = {0};
    if (tw_id_parse_video(video, im->video, sizeof im->video, &err) != TW_OK) {
        fprintf(stderr, "tubewatch: import: bad --video '%s': %s\n", video,
                err.msg);
        return TW_EXIT_USAGE;
    }
    if (channel && !tw_id_is_channel(channel)) {
        fprintf(stderr,
                "tubewatch: import: bad --channel '%s': want a channel id, "
                "UC and 22 characters of [A-Za-z0-9_-]\n",
                channel);
        return TW_EXIT_USAGE;
    }
    if (channel)
        snprintf(im->channel, sizeof im->channel, "%s", channel);
    return TW_EXIT_OK;
}

int ctl_import_main(ctl_t *ctl, int argc, char **argv)
{
    s_import_t im = {.ctl = ctl, .stall_ms = ctl->timeout_ms};
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files)
        return tw_rc_exit(TW_ERR_NOMEM);
    int nfiles = 0;
    int code = s_args(&im, argc, argv, files, &nfiles);
    const tw_cfg_t *cfg = NULL;
    if (code == TW_EXIT_OK) {
        cfg = ctl_cfg(ctl);
        if (!cfg)
            code = TW_EXIT_USAGE;
    }
    if (code == TW_EXIT_OK && !im.channel[0] &&
        !s_channel_from_streams(cfg, im.video, im.channel, sizeof im.channel)) {
        fprintf(stderr,
                "tubewatch: import: the channel of %s is not in the "
                "scanner's stream table: give --channel UC...\n",
                im.video);
        code = TW_EXIT_USAGE;
    }
    tw_ytchat_t *chat = tw_ytchat_new();
    if (!chat)
        code = tw_rc_exit(TW_ERR_NOMEM);
    /* Every file must parse before anything is sent: a bad file among
     * several stores nothing. */
    for (int i = 0; i < nfiles && code == TW_EXIT_OK; i++) {
        char *buf = NULL;
        tw_rc_t rc = s_parse(chat, files[i], &buf);
        free(buf);
        if (rc != TW_OK) {
            fprintf(stderr, "tubewatch: import: nothing imported\n");
            code = ctl_parse_exit(rc);
        }
    }
    char sock[4200];
    if (code == TW_EXIT_OK &&
        (size_t)snprintf(sock, sizeof sock, "%s/tokenizer.sock",
                         cfg->supervisor.runtime_dir) >= sizeof sock) {
        fprintf(stderr, "tubewatch: import: runtime_dir too long\n");
        code = TW_EXIT_USAGE;
    }
    if (code == TW_EXIT_OK)
        code = s_check_pipeline(&im, sock);
    if (code == TW_EXIT_OK) {
        /* A name of its own per run: two imports never share a routing
         * id, and a new epoch starts a fresh sequence at the receiver. */
        char src[64], endpoint[4300];
        snprintf(src, sizeof src, "import@%s.%ld", im.video, (long)getpid());
        snprintf(endpoint, sizeof endpoint, "ipc://%s", sock);
        tw_deliver_opts_t o = {.endpoint = endpoint, .src = src};
        tw_err_t err = {0};
        if (tw_deliver_sender_new(&im.tx, NULL, &o, &err) != TW_OK) {
            fprintf(stderr, "tubewatch: import: unable to connect to %s: %s\n",
                    sock, err.msg);
            code = TW_EXIT_TEMP;
        }
    }
    for (int i = 0; i < nfiles && code == TW_EXIT_OK; i++) {
        char *buf = NULL;
        s_counts_t cnt;
        if (s_parse(chat, files[i], &buf) != TW_OK) {
            code = TW_EXIT_TEMP; /* it parsed a moment ago: changed */
        } else {
            code = s_import_items(&im, chat, &cnt);
            if (code == TW_EXIT_OK)
                s_summary(&im, files[i], &cnt);
        }
        free(buf);
        if (code != TW_EXIT_OK)
            fprintf(stderr,
                    "tubewatch: import: %s and the files after it may not "
                    "be stored (completely); importing them again stores "
                    "only what is missing\n",
                    files[i]);
    }
    tw_deliver_destroy(&im.tx);
    tw_ytchat_destroy(&chat);
    free(files);
    return code;
}
