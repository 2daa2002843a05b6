/* ctl_channels - `tubewatch channels add|rm|ls`: edits the scanner's
 * channels file (cfg [worker.scanner] channels_file) atomically. The
 * scanner notices the change within a second (it watches the file's mtime;
 * SIGHUP forces a re-read), so no daemon request is needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tw_scan.h"
#include "ctl.h"
#include "tw_buf.h"
#include "tw_file.h"
#include "tw_id.h"
#include "tw_tsv.h"
#include "tw_rc.h"

/* The reference a line holds ("UC..."/"@handle"), or "" for a blank,
 * comment or bad line. */
static void s_line_ref(const char *line, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    tw_scan_chan_ref_t *refs = NULL;
    size_t n = 0;
    if (tw_scan_channels_parse(line, len, &refs, &n, NULL, NULL) == TW_OK &&
        n == 1)
        snprintf(out, cap, "%s", refs[0].ref);
    free(refs);
}

static int s_ls(ctl_t *ctl, const char *path)
{
    tw_scan_chan_ref_t *refs = NULL;
    size_t n = 0, nbad = 0;
    tw_err_t err = {{0}, 0, 0};
    if (tw_scan_channels_load(path, &refs, &n, &nbad, &err) != TW_OK) {
        fprintf(stderr, "tubewatch: %s: %s\n", path, err.msg);
        return TW_EXIT_TEMP;
    }
    const tw_cfg_t *cfg = ctl_cfg(ctl);
    char hpath[4200];
    tw_scan_handle_t *hs = NULL;
    size_t nh = 0;
    if (tw_scan_path(hpath, sizeof hpath, cfg->supervisor.state_dir,
                     TW_SCAN_FILE_HANDLES) == TW_OK)
        tw_scan_handles_load(hpath, &hs, &nh, NULL);
    json_t *arr = ctl->json ? json_array() : NULL;
    if (!ctl->json)
        printf("%-32s %s\n", "CHANNEL", "ID");
    for (size_t i = 0; i < n; i++) {
        const char *id = refs[i].kind == TW_ID_CHANNEL
                             ? refs[i].ref
                             : tw_scan_handles_find(hs, nh, refs[i].ref);
        if (arr)
            json_array_append_new(arr, json_pack("{s:s,s:s?,s:i}", "ref",
                                                 refs[i].ref, "channel_id", id,
                                                 "line", refs[i].line));
        else
            printf("%-32s %s\n", refs[i].ref, id ? id : "(not resolved yet)");
    }
    if (arr) {
        json_t *o = json_pack("{s:b,s:o,s:i}", "ok", 1, "channels", arr,
                              "bad_lines", (json_int_t)nbad);
        ctl_print_json(o);
        json_decref(o);
    } else if (nbad) {
        fprintf(stderr, "tubewatch: %s: %zu bad line(s) ignored: %s\n", path,
                nbad, err.msg);
    }
    free(refs);
    free(hs);
    return TW_EXIT_OK;
}

/* Rewrites the file: add appends refs not yet listed, rm drops the lines
 * holding them. Comments and other lines are kept as they are. */
static int s_edit(ctl_t *ctl, const char *path, bool add, int argc, char **argv)
{
    char want[64][TW_ID_MAX];
    int nwant = 0;
    for (int i = 0; i < argc; i++) {
        tw_err_t err = {{0}, 0, 0};
        if (nwant == 64) {
            fprintf(stderr, "tubewatch: at most 64 channels at once\n");
            return TW_EXIT_USAGE;
        }
        if (tw_id_parse_channel(argv[i], want[nwant], TW_ID_MAX, NULL, &err) !=
            TW_OK) {
            fprintf(stderr, "tubewatch: '%s': %s\n", argv[i], err.msg);
            return TW_EXIT_USAGE;
        }
        nwant++;
    }
    char *data = NULL;
    size_t len = 0;
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = tw_file_read_all(path, TW_SCAN_FILE_MAX, &data, &len, &err);
    if (rc != TW_OK && rc != TW_ERR_NOTFOUND) {
        fprintf(stderr, "tubewatch: %s: %s\n", path, err.msg);
        return TW_EXIT_TEMP;
    }
    mode_t mode = 0644;
    struct stat st;
    if (stat(path, &st) == 0)
        mode = st.st_mode & 07777;
    bool found[64] = {false};
    tw_buf_t *out = tw_buf_new();
    if (!out) {
        free(data);
        return TW_EXIT_BUG;
    }
    size_t off = 0, ll;
    const char *line;
    int changed = 0;
    while (data && tw_tsv_next_line(data, len, &off, &line, &ll, NULL)) {
        char ref[TW_ID_MAX];
        s_line_ref(line, ll, ref, sizeof ref);
        bool drop = false;
        for (int k = 0; ref[0] && k < nwant; k++)
            if (strcmp(ref, want[k]) == 0) {
                found[k] = true;
                drop = !add;
            }
        if (drop) {
            changed++;
            continue;
        }
        tw_buf_append(out, line, ll);
        tw_buf_append_byte(out, '\n');
    }
    int code = TW_EXIT_OK;
    json_t *done = json_array();
    for (int k = 0; k < nwant; k++) {
        bool dup = false;
        for (int j = 0; j < k; j++)
            dup |= strcmp(want[j], want[k]) == 0;
        if (dup)
            continue;
        if (add && !found[k]) {
            tw_buf_printf(out, "%s\n", want[k]);
            changed++;
            json_array_append_new(done, json_string(want[k]));
            if (!ctl->json)
                printf("added %s\n", want[k]);
        } else if (add) {
            if (!ctl->json)
                printf("%s is already listed\n", want[k]);
        } else if (!found[k]) {
            fprintf(stderr, "tubewatch: %s is not listed in %s\n", want[k],
                    path);
            code = TW_EXIT_REFUSED;
        } else {
            json_array_append_new(done, json_string(want[k]));
            if (!ctl->json)
                printf("removed %s\n", want[k]);
        }
    }
    if (changed && tw_file_write_atomic(path, tw_buf_data(out), tw_buf_len(out),
                                        mode, &err) != TW_OK) {
        fprintf(stderr, "tubewatch: unable to write %s: %s\n", path, err.msg);
        code = TW_EXIT_TEMP;
    }
    if (ctl->json) {
        json_t *o = json_pack("{s:b,s:o,s:s}", "ok", code == TW_EXIT_OK,
                              add ? "added" : "removed", done, "file", path);
        ctl_print_json(o);
        json_decref(o);
    } else {
        json_decref(done);
        if (changed && code == TW_EXIT_OK)
            printf("%s updated; the scanner reloads it within a second\n",
                   path);
    }
    tw_buf_destroy(&out);
    free(data);
    return code;
}

int ctl_channels_main(ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2)
        return ctl_usage_of(argv[0]);
    const tw_cfg_t *cfg = ctl_cfg(ctl);
    if (!cfg)
        return TW_EXIT_USAGE;
    const char *path = cfg->scanner.channels_file;
    if (strcmp(argv[1], "ls") == 0 && argc == 2)
        return s_ls(ctl, path);
    if (strcmp(argv[1], "add") == 0 && argc > 2)
        return s_edit(ctl, path, true, argc - 2, argv + 2);
    if (strcmp(argv[1], "rm") == 0 && argc > 2)
        return s_edit(ctl, path, false, argc - 2, argv + 2);
    return ctl_usage_of(argv[0]);
}
