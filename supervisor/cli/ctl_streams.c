/* ctl_streams - `tubewatch streams [--all] [--json]`: the scanner's stream
 * table (STATE/scanner/streams.tsv), read offline. Ordinary videos (state
 * "video") are shown only with --all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_scan.h"
#include "ctl.h"
#include "tw_rc.h"
#include "tw_time.h"

/* "2026-11-23 13:31Z"-style short time, or "-". */
static const char *s_short(int64_t us, char *buf)
{
    if (!us)
        return "-";
    char ts[TW_TIME_STR_SIZE];
    tw_time_format(us, ts);
    snprintf(buf, 20, "%.10s %.5sZ", ts, ts + 11);
    return buf;
}

static json_t *s_time_json(int64_t us)
{
    char ts[TW_TIME_STR_SIZE];
    return us ? json_string(tw_time_format(us, ts)) : json_null();
}

int ctl_streams_main(ctl_t *ctl, int argc, char **argv)
{
    bool all = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0)
            all = true;
        else
            return ctl_usage_of(argv[0]);
    }
    const tw_cfg_t *cfg = ctl_cfg(ctl);
    if (!cfg)
        return TW_EXIT_USAGE;
    char path[4200];
    if (tw_scan_path(path, sizeof path, cfg->supervisor.state_dir,
                     TW_SCAN_FILE_STREAMS) != TW_OK)
        return TW_EXIT_USAGE;
    tw_scan_stream_t *v = NULL;
    size_t n = 0;
    tw_err_t err = {{0}, 0, 0};
    if (tw_scan_streams_load(path, &v, &n, &err) != TW_OK) {
        fprintf(stderr, "tubewatch: %s: %s\n", path, err.msg);
        return TW_EXIT_TEMP;
    }
    json_t *arr = ctl->json ? json_array() : NULL;
    if (!arr)
        printf("%-11s %-12s %-17s %-17s %-17s %-24s %s\n", "VIDEO", "STATE",
               "SCHEDULED", "STARTED", "ENDED", "CHANNEL", "TITLE");
    for (size_t i = 0; i < n; i++) {
        const tw_scan_stream_t *s = &v[i];
        if (!all && s->state == TW_SCAN_ST_VIDEO)
            continue;
        if (arr) {
            json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "video_id",
                                  s->video_id, "channel_id", s->channel_id,
                                  "state", tw_scan_state_str(s->state), "title",
                                  s->title, "reason", s->reason);
            json_object_set_new(o, "scheduled_start",
                                s_time_json(s->scheduled_us));
            json_object_set_new(o, "actual_start", s_time_json(s->start_us));
            json_object_set_new(o, "actual_end", s_time_json(s->end_us));
            json_object_set_new(o, "chat_not_before",
                                s_time_json(s->spawn_nb_us));
            json_object_set_new(o, "updated_at", s_time_json(s->updated_us));
            json_array_append_new(arr, o);
            continue;
        }
        char a[24], b[24], c[24];
        /* one row per stream: a title's control bytes (newlines, ESC)
         * would forge rows or drive the terminal */
        char title[sizeof s->title];
        snprintf(title, sizeof title, "%s", s->title);
        for (char *p = title; *p; p++)
            if ((*p > 0 && *p < 0x20) || *p == 0x7f)
                *p = ' ';
        printf("%-11s %-12s %-17s %-17s %-17s %-24s %s\n", s->video_id,
               tw_scan_state_str(s->state), s_short(s->scheduled_us, a),
               s_short(s->start_us, b), s_short(s->end_us, c), s->channel_id,
               title);
    }
    if (arr) {
        json_t *o = json_pack("{s:b,s:o}", "ok", 1, "streams", arr);
        ctl_print_json(o);
        json_decref(o);
    }
    free(v);
    return TW_EXIT_OK;
}
