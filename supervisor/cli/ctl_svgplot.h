/* ctl_svgplot - a small SVG chart writer: a page of stacked panels (bars
 * over time, a line over time, a table), each data element with a stable id
 * and data-x/data-v attributes so the picture can be checked against the
 * data. Pure: takes arrays, returns SVG text; no I/O. */
#ifndef CTL_SVGPLOT_H
#define CTL_SVGPLOT_H

#include <stddef.h>

#include "tw_buf.h"
#include "tw_rc.h"

#define CTL_SVGPLOT_LABEL_SIZE 32 /* room for a tick label and its NUL */

/* The plotting area of a panel in SVG user units (= PNG pixels at 96 dpi). */
typedef struct {
    double x; /* left edge */
    double y; /* top edge */
    double w; /* width */
    double h; /* height */
} ctl_svgplot_area_t;

/* A tick of the x axis. */
typedef struct {
    double x;                           /* position in data units */
    char label[CTL_SVGPLOT_LABEL_SIZE]; /* text under the tick ("14:30") */
} ctl_svgplot_tick_t;

/* A time series panel: n points (x[i], v[i]) with x increasing, drawn over
 * the data range [x_lo, x_hi]; the y axis runs from 0 to a round maximum
 * above the largest value (values are counts: its step is at least 1). */
typedef struct {
    const char *id;      /* element id prefix ("chat"); [a-z0-9-] */
    const char *heading; /* panel heading (escaped here) */
    const double *x;     /* x of each point (bars: bin start) */
    const double *v;     /* value of each point, >= 0 */
    size_t n;            /* points */
    double x_lo;         /* left end of the x axis */
    double x_hi;         /* right end of the x axis (> x_lo) */
    double bar_w;        /* bars: width of one bin in x units */
    const ctl_svgplot_tick_t
        *ticks;    /* x ticks (outside [x_lo, x_hi] ignored) */
    size_t nticks; /* number of ticks */
} ctl_svgplot_series_t;

/* An SVG page under construction. */
typedef struct ctl_svgplot ctl_svgplot_t;

/* Returns a new page width units wide (>= 200) with a title and an optional
 * subtitle (both escaped here), or NULL when out of memory. */
ctl_svgplot_t *ctl_svgplot_new(int width, const char *title,
                               const char *subtitle);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void ctl_svgplot_destroy(ctl_svgplot_t **self_p);
/* Adds a bar chart panel: one <rect id="ID-bar-I" data-x data-v> per point.
 * Stores the plotting area in *area (if not NULL). TW_ERR_INVALID for a bad
 * id or x range, TW_ERR_NOMEM. */
tw_rc_t ctl_svgplot_bars(ctl_svgplot_t *self, const ctl_svgplot_series_t *s,
                         ctl_svgplot_area_t *area);
/* Adds a line chart panel: <polyline id="ID-line"> and one
 * <circle id="ID-pt-I" data-x data-v> per point. Errors as ctl_svgplot_bars. */
tw_rc_t ctl_svgplot_line(ctl_svgplot_t *self, const ctl_svgplot_series_t *s,
                         ctl_svgplot_area_t *area);
/* Adds a table panel: a heading, a header row of ncols cells and nrows
 * rows of ncols cells (row-major); row r is <g id="ID-row-R">. With no
 * rows, `empty` is shown instead. Cells are escaped here. */
tw_rc_t ctl_svgplot_table(ctl_svgplot_t *self, const char *id,
                          const char *heading, size_t ncols,
                          const char *const *header, const char *const *cells,
                          size_t nrows, const char *empty);
/* Returns the finished SVG document (caller frees) and its length in *len
 * (if not NULL), or NULL when out of memory. The page stays usable. */
char *ctl_svgplot_finish(ctl_svgplot_t *self, size_t *len);

/* Maps v from [lo, hi] onto [a, b] linearly (a when hi <= lo). */
double ctl_svgplot_map(double v, double lo, double hi, double a, double b);
/* Returns the top of a y axis for values up to max: the smallest multiple
 * of a 1-2-5 step that is >= max, giving at most about `ticks` steps; the
 * step (>= 1) goes to *step (if not NULL). max <= 0 gives 1. */
double ctl_svgplot_nice_max(double max, int ticks, double *step);
/* Appends s to out as XML character data or attribute text: & < > " '
 * escaped, control bytes and invalid UTF-8 replaced (space, U+FFFD), at
 * most max_bytes input bytes ("..." marks a cut). TW_ERR_NOMEM. */
tw_rc_t ctl_svgplot_escape(tw_buf_t *out, const char *s, size_t max_bytes);

#endif
