/* Fuzz target: a report's reading of the writer's TSV files (comments,
 * viewers, stats) and the SVG built from whatever it kept. The first byte
 * chooses how the rest is split between the three files. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tw_report.h"
#include "../supervisor/cli/ctl_svgplot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    size_t a = n * (data[0] & 15) / 15, b = a + (n - a) * (data[0] >> 4) / 15;
    tw_report_t *r = tw_report_new("video000001");
    if (!r)
        return 0;
    tw_report_add_comments(r, in, a);
    tw_report_add_viewers(r, in + a, b - a);
    tw_report_add_stats(r, in + b, n - b);
    const tw_report_result_t *res = tw_report_result(r);
    if (res) {
        assert(res->nbins <= TW_REPORT_MAX_BINS + 1);
        uint64_t sum = 0;
        for (size_t i = 0; i < res->nbins; i++)
            sum += res->bins[i];
        assert(sum == res->messages);
        double *x = calloc(res->nviewers + 1, sizeof *x);
        double *v = calloc(res->nviewers + 1, sizeof *v);
        ctl_svgplot_t *p = ctl_svgplot_new(600, res->title, res->channel_id);
        if (x && v && p && res->nviewers) {
            for (size_t i = 0; i < res->nviewers; i++) {
                x[i] = (double)(res->viewer_us[i] / 1000000);
                v[i] = (double)res->viewers[i];
            }
            ctl_svgplot_series_t s = {"viewers",
                                      res->title,
                                      x,
                                      v,
                                      res->nviewers,
                                      x[0],
                                      x[res->nviewers - 1] + 1,
                                      0,
                                      NULL,
                                      0};
            ctl_svgplot_line(p, &s, NULL);
            char *svg = ctl_svgplot_finish(p, NULL);
            assert(!svg || !strstr(svg, "<script"));
            free(svg);
        }
        ctl_svgplot_destroy(&p);
        free(x);
        free(v);
    }
    tw_report_destroy(&r);
    return 0;
}
