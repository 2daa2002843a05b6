/* ctl_report - `tubewatch report VIDEO [-o FILE.svg]` and `tubewatch report
 * --day DAY -o DIR`: pictures of a stream (chat messages per minute,
 * concurrent viewers, paid items by currency) as SVG, read offline from
 * DATA. Axes are in local time of [supervisor] timezone. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "tw_buf.h"
#include "tw_file.h"
#include "tw_id.h"
#include "tw_rc.h"
#include "tw_report.h"
#include "ctl_svgplot.h"
#include "tw_time.h"

#define FILE_MAX  ((size_t)1 << 30) /* larger TSV files are refused */
#define PATH_SIZE 4200
#define PAGE_W    960
#define MAX_TICKS 10

/* Sorted names of dir accepted by ok(); NULL when dir cannot be read. */
static char **s_list(const char *dir, bool (*ok)(const char *), size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!ok(e->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv)
                break;
            v = nv;
        }
        v[*n] = strdup(e->d_name);
        if (v[*n])
            (*n)++;
    }
    closedir(d);
    if (!v)
        v = calloc(1, sizeof *v);
    for (size_t i = 1; i < *n; i++) /* insertion sort: days are few */
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v;
}

static void s_free_list(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static bool s_is_day(const char *s)
{
    int64_t us;
    return strlen(s) == 10 && tw_time_parse_date(s, &us, NULL) == TW_OK;
}

static bool s_is_dir_name(const char *s)
{
    return tw_id_is_safe(s, 64);
}

/* "VIDEO.tsv" of a valid video id. */
static bool s_is_video_tsv(const char *s)
{
    size_t n = strlen(s);
    if (n != TW_ID_VIDEO_LEN + 4 || strcmp(s + TW_ID_VIDEO_LEN, ".tsv") != 0)
        return false;
    char id[TW_ID_VIDEO_LEN + 1];
    memcpy(id, s, TW_ID_VIDEO_LEN);
    id[TW_ID_VIDEO_LEN] = '\0';
    return tw_id_is_video(id);
}

typedef tw_rc_t (*s_feed_fn)(tw_report_t *, const char *, size_t);

/* Feeds one file; a missing file is fine, an unreadable one is reported
 * and counted. Returns false when out of memory. */
static bool s_feed(tw_report_t *r, const char *path, s_feed_fn fn,
                   unsigned *files, unsigned *unreadable)
{
    char *buf = NULL;
    size_t len = 0;
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = tw_file_read_all(path, FILE_MAX, &buf, &len, &err);
    if (rc == TW_ERR_NOTFOUND)
        return true;
    if (rc != TW_OK) {
        fprintf(stderr, "tubewatch: report: unable to read %s: %s\n", path,
                err.msg[0] ? err.msg : tw_rc_str(rc));
        (*unreadable)++;
        return true;
    }
    (*files)++;
    rc = fn(r, buf, len);
    free(buf);
    return rc == TW_OK;
}

/* Reads every day of video from DATA into r. Returns 0, or an exit code. */
static int s_load(const char *data, const char *video, tw_report_t *r,
                  unsigned *files, unsigned *unreadable)
{
    static const char *const kinds[] = {"comments", "viewers"};
    static const s_feed_fn fns[] = {tw_report_add_comments,
                                    tw_report_add_viewers};
    char path[PATH_SIZE];
    for (size_t k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", data, kinds[k]);
        size_t ndays;
        char **days = s_list(path, s_is_day, &ndays);
        for (size_t d = 0; d < ndays; d++) {
            snprintf(path, sizeof path, "%s/%s/%s", data, kinds[k], days[d]);
            size_t nch;
            char **chs = s_list(path, s_is_dir_name, &nch);
            for (size_t c = 0; c < nch; c++) {
                snprintf(path, sizeof path, "%s/%s/%s/%s/%s.tsv", data,
                         kinds[k], days[d], chs[c], video);
                if (!s_feed(r, path, fns[k], files, unreadable)) {
                    s_free_list(chs, nch);
                    s_free_list(days, ndays);
                    return TW_EXIT_TEMP;
                }
                /* the title lives in that channel's stats file of the day */
                snprintf(path, sizeof path, "%s/stats/%s/%s.tsv", data, days[d],
                         chs[c]);
                unsigned ignored = 0;
                if (k == 1 && !s_feed(r, path, tw_report_add_stats, &ignored,
                                      unreadable)) {
                    s_free_list(chs, nch);
                    s_free_list(days, ndays);
                    return TW_EXIT_TEMP;
                }
            }
            s_free_list(chs, nch);
        }
        s_free_list(days, ndays);
    }
    return 0;
}

/* Writes "HH:MM" (or "MM-DD HH:MM" when long) of us in zone into buf. */
static void s_local_label(const char *zone, int64_t us, bool with_day,
                          char *buf, size_t cap)
{
    int32_t off = 0;
    tw_time_local_offset(zone, us, &off, NULL);
    time_t t = (time_t)(us / 1000000 + off);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, cap, "?");
        return;
    }
    strftime(buf, cap, with_day ? "%m-%d %H:%M" : "%H:%M", &tm);
}

/* X ticks every 1, 2, 5, 10, 15, 30 minutes or 1, 2, 3, 6, 12, 24 hours
 * of local time, at most MAX_TICKS of them. */
static size_t s_ticks(const char *zone, double lo, double hi,
                      ctl_svgplot_tick_t *t)
{
    static const int64_t steps[] = {60,    120,   300,    600,   900,
                                    1800,  3600,  7200,   10800, 21600,
                                    43200, 86400, 172800, 604800};
    int64_t step = 0;
    for (size_t i = 0; i < sizeof steps / sizeof *steps && !step; i++)
        if ((hi - lo) / (double)steps[i] <= MAX_TICKS - 1)
            step = steps[i];
    if (!step)
        step = (int64_t)((hi - lo) / (MAX_TICKS - 1)) + 1;
    int32_t off = 0;
    tw_time_local_offset(zone, (int64_t)lo * 1000000, &off, NULL);
    int64_t local = (int64_t)lo + off;
    int64_t first = (local / step + (local % step != 0)) * step - off;
    bool with_day = hi - lo > 20 * 3600.0;
    size_t n = 0;
    for (int64_t x = first; x <= hi && n < MAX_TICKS + 1; x += step) {
        t[n].x = (double)x;
        s_local_label(zone, x * 1000000, with_day, t[n].label,
                      sizeof t[n].label);
        n++;
    }
    return n;
}

static void s_money_str(const tw_report_money_t *m, char *buf, size_t cap)
{
    int64_t whole = m->total_micros / 1000000;
    int64_t cents = (m->total_micros % 1000000) / 10000;
    int len;
    if (strcmp(m->kind, "jewels") == 0)
        len = snprintf(buf, cap, "%lld", (long long)whole);
    else
        len = snprintf(buf, cap, "%lld.%02lld", (long long)whole,
                       (long long)cents);
    if (m->unreadable && len > 0 && (size_t)len < cap)
        snprintf(buf + len, cap - (size_t)len, " (+%llu unreadable)",
                 (unsigned long long)m->unreadable);
}

/* Builds the SVG of one video; NULL when out of memory or for bad data. */
static char *s_svg(const char *video, const char *zone,
                   const tw_report_result_t *res, size_t *len)
{
    char title[TW_REPORT_TITLE_SIZE + 32];
    snprintf(title, sizeof title, "%s%s%s", res->title[0] ? res->title : "",
             res->title[0] ? " - " : "", video);
    double lo = 0, hi = 0;
    bool have = false;
    if (res->nbins) {
        lo = (double)(res->bin0_us / 1000000);
        hi = lo + (double)res->nbins * (double)(res->bin_us / 1000000);
        have = true;
    }
    if (res->nviewers) {
        double v0 = (double)(res->viewer_us[0] / 1000000);
        double v1 = (double)(res->viewer_us[res->nviewers - 1] / 1000000);
        lo = have && lo < v0 ? lo : v0;
        hi = have && hi > v1 ? hi : v1;
    }
    if (!(hi > lo))
        hi = lo + 60;
    char from[32], to[32];
    s_local_label(zone, (int64_t)lo * 1000000, true, from, sizeof from);
    s_local_label(zone, (int64_t)hi * 1000000, true, to, sizeof to);
    char sub[512];
    snprintf(sub, sizeof sub,
             "channel %s | %s to %s (%s) | %llu messages, %llu deleted | "
             "peak %llu viewers%s",
             res->channel_id[0] ? res->channel_id : "?", from, to, zone,
             (unsigned long long)res->messages,
             (unsigned long long)res->deleted,
             (unsigned long long)res->peak_viewers,
             res->skipped ? " | damaged lines skipped" : "");
    ctl_svgplot_t *p = ctl_svgplot_new(PAGE_W, title, sub);
    if (!p)
        return NULL;
    ctl_svgplot_tick_t ticks[MAX_TICKS + 1];
    size_t nticks = s_ticks(zone, lo, hi, ticks);
    size_t nb = res->nbins, nv = res->nviewers;
    double *x = calloc(nb + nv + 1, sizeof *x);
    double *v = calloc(nb + nv + 1, sizeof *v);
    char *out = NULL;
    if (!x || !v)
        goto done;
    for (size_t i = 0; i < nb; i++) {
        x[i] = (double)((res->bin0_us + (int64_t)i * res->bin_us) / 1000000);
        v[i] = res->bins[i];
    }
    char heading[96];
    int64_t bin_min = res->bin_us / 60000000;
    if (bin_min == 1)
        snprintf(heading, sizeof heading, "Chat messages per minute");
    else
        snprintf(heading, sizeof heading, "Chat messages per %lld minutes",
                 (long long)bin_min);
    ctl_svgplot_series_t s = {
        "chat", heading, x, v, nb, lo, hi, (double)(res->bin_us / 1000000),
        ticks,  nticks};
    if (ctl_svgplot_bars(p, &s, NULL) != TW_OK)
        goto done;
    for (size_t i = 0; i < nv; i++) {
        x[i] = (double)(res->viewer_us[i] / 1000000);
        v[i] = (double)res->viewers[i];
    }
    ctl_svgplot_series_t sv = {
        "viewers",
        nv ? "Concurrent viewers" : "Concurrent viewers (no samples)",
        x,
        v,
        nv,
        lo,
        hi,
        0,
        ticks,
        nticks};
    if (ctl_svgplot_line(p, &sv, NULL) != TW_OK)
        goto done;
    size_t nm = res->nmoney;
    char(*num)[2][48] = calloc(nm + 1, sizeof *num);
    const char **cells = calloc(nm * 4 + 1, sizeof *cells);
    if (num && cells) {
        for (size_t i = 0; i < nm; i++) {
            const tw_report_money_t *m = &res->money[i];
            snprintf(num[i][0], sizeof num[i][0], "%llu",
                     (unsigned long long)m->count);
            s_money_str(m, num[i][1], sizeof num[i][1]);
            cells[i * 4] = m->kind;
            cells[i * 4 + 1] = m->currency;
            cells[i * 4 + 2] = num[i][0];
            cells[i * 4 + 3] = num[i][1];
        }
        static const char *const header[] = {"kind", "currency", "items",
                                             "total"};
        if (ctl_svgplot_table(p, "money", "Super Chats, stickers and Jewels", 4,
                              header, cells, nm, "no paid messages") == TW_OK)
            out = ctl_svgplot_finish(p, len);
    }
    free(num);
    free(cells);
done:
    free(x);
    free(v);
    ctl_svgplot_destroy(&p);
    return out;
}

/* Reports one video; writes the SVG to out_path (NULL: stdout) and its
 * title to *title_out when not NULL. Returns an exit code. */
static int s_report(const tw_cfg_t *cfg, const char *video,
                    const char *out_path, char **title_out)
{
    const char *zone = cfg->supervisor.timezone && cfg->supervisor.timezone[0]
                           ? cfg->supervisor.timezone
                           : "UTC";
    tw_report_t *r = tw_report_new(video);
    if (!r)
        return TW_EXIT_BUG;
    unsigned files = 0, unreadable = 0;
    int code = s_load(cfg->supervisor.data_dir, video, r, &files, &unreadable);
    const tw_report_result_t *res = code ? NULL : tw_report_result(r);
    if (!code && !res)
        code = TW_EXIT_TEMP;
    if (!code && !res->messages && !res->nviewers) {
        fprintf(stderr,
                "tubewatch: report: no chat or viewer rows of video %s in "
                "%s\n",
                video, cfg->supervisor.data_dir);
        code = TW_EXIT_REFUSED;
    }
    char *svg = NULL;
    size_t len = 0;
    if (!code) {
        if (res->skipped)
            fprintf(stderr,
                    "tubewatch: report: %s: %llu damaged lines skipped\n",
                    video, (unsigned long long)res->skipped);
        svg = s_svg(video, zone, res, &len);
        if (!svg)
            code = TW_EXIT_TEMP;
    }
    if (svg && out_path) {
        tw_err_t err = {{0}, 0, 0};
        if (tw_file_write_atomic(out_path, svg, len, 0644, &err) != TW_OK) {
            fprintf(stderr, "tubewatch: report: unable to write %s: %s\n",
                    out_path, err.msg);
            code = TW_EXIT_TEMP;
        }
    } else if (svg && fwrite(svg, 1, len, stdout) != len) {
        code = TW_EXIT_TEMP;
    }
    if (!code && title_out)
        *title_out = strdup(res->title);
    free(svg);
    tw_report_destroy(&r);
    return code;
}

static bool s_has(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

/* --day DAY -o DIR: one SVG per video of that day and DIR/index.html. */
static int s_day(const tw_cfg_t *cfg, const char *day, const char *dir)
{
    char **vids = NULL;
    size_t nv = 0, cap = 0;
    char path[PATH_SIZE];
    static const char *const kinds[] = {"comments", "viewers"};
    for (size_t k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s/%s", cfg->supervisor.data_dir,
                 kinds[k], day);
        size_t nch;
        char **chs = s_list(path, s_is_dir_name, &nch);
        for (size_t c = 0; c < nch; c++) {
            snprintf(path, sizeof path, "%s/%s/%s/%s", cfg->supervisor.data_dir,
                     kinds[k], day, chs[c]);
            size_t nf;
            char **fs = s_list(path, s_is_video_tsv, &nf);
            for (size_t f = 0; f < nf; f++) {
                fs[f][TW_ID_VIDEO_LEN] = '\0';
                if (s_has(vids, nv, fs[f]))
                    continue;
                if (nv == cap) {
                    cap = cap ? cap * 2 : 16;
                    char **v = realloc(vids, cap * sizeof *v);
                    if (!v)
                        return TW_EXIT_TEMP;
                    vids = v;
                }
                vids[nv] = strdup(fs[f]);
                if (vids[nv])
                    nv++;
            }
            s_free_list(fs, nf);
        }
        s_free_list(chs, nch);
    }
    if (!nv) {
        fprintf(stderr, "tubewatch: report: no streams on %s in %s\n", day,
                cfg->supervisor.data_dir);
        free(vids);
        return TW_EXIT_REFUSED;
    }
    tw_err_t err = {{0}, 0, 0};
    if (tw_file_mkdirs(dir, 0755, &err) != TW_OK) {
        fprintf(stderr, "tubewatch: report: unable to create %s: %s\n", dir,
                err.msg);
        s_free_list(vids, nv);
        return TW_EXIT_TEMP;
    }
    tw_buf_t *html = tw_buf_new();
    int code = html ? 0 : TW_EXIT_TEMP;
    if (html)
        tw_buf_printf(html,
                      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                      "<title>tubewatch %s</title></head>\n<body>\n"
                      "<h1>Streams of %s</h1>\n<ul>\n",
                      day, day);
    unsigned done = 0;
    for (size_t i = 0; i < nv && !code; i++) {
        char *title = NULL;
        snprintf(path, sizeof path, "%s/%s.svg", dir, vids[i]);
        int rc = s_report(cfg, vids[i], path, &title);
        if (rc == TW_EXIT_REFUSED)
            continue; /* only damaged rows: nothing to draw */
        if (rc) {
            code = rc;
            break;
        }
        done++;
        tw_buf_printf(html, "<li><a href=\"%s.svg\">%s</a> ", vids[i], vids[i]);
        ctl_svgplot_escape(html, title ? title : "", 200);
        tw_buf_append_str(html, "</li>\n");
        free(title);
        printf("%s\n", path);
    }
    if (!code) {
        tw_buf_append_str(html, "</ul>\n</body></html>\n");
        snprintf(path, sizeof path, "%s/index.html", dir);
        if (tw_file_write_atomic(path, tw_buf_data(html), tw_buf_len(html),
                                 0644, &err) != TW_OK) {
            fprintf(stderr, "tubewatch: report: unable to write %s: %s\n", path,
                    err.msg);
            code = TW_EXIT_TEMP;
        } else {
            printf("%s\n", path);
        }
    }
    if (!code && !done)
        code = TW_EXIT_REFUSED;
    tw_buf_destroy(&html);
    s_free_list(vids, nv);
    return code;
}

int ctl_report_main(ctl_t *ctl, int argc, char **argv)
{
    const char *video = NULL, *out = NULL, *day = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--day") == 0 && i + 1 < argc)
            day = argv[++i];
        else if (argv[i][0] != '-' && !video)
            video = argv[i];
        else
            return ctl_usage_of(argv[0]);
    }
    if ((!video && !day) || (video && day) || (day && !out) || (out && !*out))
        return ctl_usage_of(argv[0]);
    if (video && !tw_id_is_video(video)) {
        fprintf(stderr, "tubewatch: report: invalid video id (want 11 of "
                        "[A-Za-z0-9_-])\n");
        return TW_EXIT_USAGE;
    }
    if (day && !s_is_day(day)) {
        fprintf(stderr, "tubewatch: report: invalid day (want YYYY-MM-DD)\n");
        return TW_EXIT_USAGE;
    }
    const tw_cfg_t *cfg = ctl_cfg(ctl);
    if (!cfg)
        return TW_EXIT_USAGE;
    if (day)
        return s_day(cfg, day, out);
    return s_report(cfg, video, out, NULL);
}
