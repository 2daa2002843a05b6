/* ctl_svgplot - a small SVG chart writer (see ctl_svgplot.h). */
#include "ctl_svgplot.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN_L   72.0  /* room for y labels */
#define MARGIN_R   24.0  /* right margin */
#define HEAD_H     28.0  /* panel heading */
#define PLOT_H     200.0 /* plotting area height */
#define FOOT_H     36.0  /* x labels under a plot */
#define ROW_H      20.0  /* table row */
#define TITLE_H    64.0  /* page title and subtitle */
#define Y_TICKS    5     /* about this many y steps */
#define BAR_COLOR  "#2f6db5"
#define LINE_COLOR "#d9480f"
#define ID_MAX     32 /* longest element id prefix */

struct ctl_svgplot {
    int width;      /* page width */
    double y;       /* where the next panel starts */
    tw_buf_t *body; /* panels so far */
    char *title;    /* page title (raw) */
    char *subtitle; /* page subtitle (raw), may be NULL */
};

ctl_svgplot_t *ctl_svgplot_new(int width, const char *title,
                               const char *subtitle)
{
    assert(title);
    ctl_svgplot_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->width = width < 200 ? 200 : width;
    self->y = TITLE_H;
    self->body = tw_buf_new();
    self->title = strdup(title);
    self->subtitle = subtitle ? strdup(subtitle) : NULL;
    if (!self->body || !self->title || (subtitle && !self->subtitle))
        ctl_svgplot_destroy(&self);
    return self;
}

void ctl_svgplot_destroy(ctl_svgplot_t **self_p)
{
    assert(self_p);
    ctl_svgplot_t *self = *self_p;
    if (!self)
        return;
    tw_buf_destroy(&self->body);
    free(self->title);
    free(self->subtitle);
    free(self);
    *self_p = NULL;
}

double ctl_svgplot_map(double v, double lo, double hi, double a, double b)
{
    if (!(hi > lo))
        return a;
    return a + (v - lo) * (b - a) / (hi - lo);
}

double ctl_svgplot_nice_max(double max, int ticks, double *step)
{
    if (ticks < 1)
        ticks = 1;
    double st = 1;
    if (max > 0 && isfinite(max)) {
        double raw = max / ticks;
        double p = pow(10, floor(log10(raw)));
        double m = raw / p;
        st = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
        if (st < 1)
            st = 1;
    }
    double top = (max > 0 && isfinite(max)) ? ceil(max / st) * st : st;
    if (top < max) /* rounding at the last digit */
        top += st;
    if (step)
        *step = st;
    return top;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t s_utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        cp == 0xfffe || cp == 0xffff)
        return 0;
    return len;
}

tw_rc_t ctl_svgplot_escape(tw_buf_t *out, const char *s, size_t max_bytes)
{
    assert(out);
    assert(s);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    bool cut = n > max_bytes;
    if (cut)
        n = max_bytes;
    tw_rc_t rc = TW_OK;
    for (size_t i = 0; i < n && rc == TW_OK;) {
        unsigned char c = p[i];
        size_t len = s_utf8_len(p + i, n - i);
        if (len == 0 && cut && n - i < 4 && c >= 0x80) {
            break; /* a character cut by max_bytes */
        }
        if (len == 0) {
            rc = tw_buf_append_str(out, "\xef\xbf\xbd");
            i++;
            continue;
        }
        if (len > 1) {
            rc = tw_buf_append(out, p + i, len);
            i += len;
            continue;
        }
        switch (c) {
        case '&':
            rc = tw_buf_append_str(out, "&amp;");
            break;
        case '<':
            rc = tw_buf_append_str(out, "&lt;");
            break;
        case '>':
            rc = tw_buf_append_str(out, "&gt;");
            break;
        case '"':
            rc = tw_buf_append_str(out, "&quot;");
            break;
        case '\'':
            rc = tw_buf_append_str(out, "&apos;");
            break;
        default:
            rc = tw_buf_append_byte(out,
                                    (c < 0x20 || c == 0x7f) ? ' ' : (char)c);
        }
        i++;
    }
    if (rc == TW_OK && cut)
        rc = tw_buf_append_str(out, "...");
    return rc;
}

static bool s_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= '0' && id[i] <= '9') || id[i] == '-'))
            return false;
    return true;
}

/* Heading text at the current position. */
static tw_rc_t s_heading(ctl_svgplot_t *self, const char *id,
                         const char *heading)
{
    tw_rc_t rc = tw_buf_printf(self->body,
                               "<text id=\"%s-heading\" x=\"%.1f\" y=\"%.1f\" "
                               "class=\"h\">",
                               id, MARGIN_L, self->y + 18);
    if (rc == TW_OK)
        rc = ctl_svgplot_escape(self->body, heading ? heading : "", 200);
    if (rc == TW_OK)
        rc = tw_buf_append_str(self->body, "</text>\n");
    return rc;
}

/* Axes, grid, y labels and x ticks of a time series panel; stores the
 * plotting area and the y maximum. */
static tw_rc_t s_frame(ctl_svgplot_t *self, const ctl_svgplot_series_t *s,
                       ctl_svgplot_area_t *a, double *ymax)
{
    if (!s_id_ok(s->id) || !(s->x_hi > s->x_lo) || !isfinite(s->x_lo) ||
        !isfinite(s->x_hi) || (s->n && (!s->x || !s->v)))
        return TW_ERR_INVALID;
    tw_rc_t rc = s_heading(self, s->id, s->heading);
    a->x = MARGIN_L;
    a->y = self->y + HEAD_H;
    a->w = self->width - MARGIN_L - MARGIN_R;
    a->h = PLOT_H;
    double max = 0;
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->v[i]) && s->v[i] > max)
            max = s->v[i];
    double step;
    *ymax = ctl_svgplot_nice_max(max, Y_TICKS, &step);
    tw_buf_t *b = self->body;
    for (double t = 0; rc == TW_OK && t <= *ymax + step / 2; t += step) {
        double y = ctl_svgplot_map(t, 0, *ymax, a->y + a->h, a->y);
        rc = tw_buf_printf(b,
                           "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
                           "x2=\"%.1f\" y2=\"%.1f\"/><text class=\"yl\" "
                           "x=\"%.1f\" y=\"%.1f\">%.0f</text>\n",
                           a->x, y, a->x + a->w, y, a->x - 6, y + 4, t);
    }
    for (size_t i = 0; rc == TW_OK && i < s->nticks; i++) {
        double tx = s->ticks[i].x;
        if (!(tx >= s->x_lo && tx <= s->x_hi))
            continue;
        double x = ctl_svgplot_map(tx, s->x_lo, s->x_hi, a->x, a->x + a->w);
        rc = tw_buf_printf(b,
                           "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" "
                           "x2=\"%.1f\" y2=\"%.1f\"/><text class=\"xl\" "
                           "x=\"%.1f\" y=\"%.1f\">",
                           x, a->y + a->h, x, a->y + a->h + 5, x,
                           a->y + a->h + 18);
        if (rc == TW_OK)
            rc = ctl_svgplot_escape(b, s->ticks[i].label,
                                    CTL_SVGPLOT_LABEL_SIZE - 1);
        if (rc == TW_OK)
            rc = tw_buf_append_str(b, "</text>\n");
    }
    if (rc == TW_OK)
        rc = tw_buf_printf(
            b, "<path class=\"axis\" d=\"M%.1f %.1fV%.1fH%.1f\"/>\n", a->x,
            a->y, a->y + a->h, a->x + a->w);
    return rc;
}

/* Value i of a series as plotted: non-finite and negative values are 0. */
static double s_value(const ctl_svgplot_series_t *s, size_t i)
{
    return isfinite(s->v[i]) && s->v[i] > 0 ? s->v[i] : 0;
}

/* Ends a panel: on failure drops what it wrote (from mark), else moves
 * below it and tells its plotting area. */
static tw_rc_t s_panel_end(ctl_svgplot_t *self, tw_rc_t rc, size_t mark,
                           const ctl_svgplot_area_t *a,
                           ctl_svgplot_area_t *area)
{
    if (rc != TW_OK) {
        tw_buf_truncate(self->body, mark);
        return rc;
    }
    self->y = a->y + a->h + FOOT_H;
    if (area)
        *area = *a;
    return TW_OK;
}

tw_rc_t ctl_svgplot_bars(ctl_svgplot_t *self, const ctl_svgplot_series_t *s,
                         ctl_svgplot_area_t *area)
{
    assert(self);
    assert(s);
    ctl_svgplot_area_t a;
    double ymax;
    size_t mark = tw_buf_len(self->body);
    tw_rc_t rc = s_frame(self, s, &a, &ymax);
    for (size_t i = 0; rc == TW_OK && i < s->n; i++) {
        double v = s_value(s, i);
        double x0 = ctl_svgplot_map(s->x[i], s->x_lo, s->x_hi, a.x, a.x + a.w);
        double x1 = ctl_svgplot_map(s->x[i] + s->bar_w, s->x_lo, s->x_hi, a.x,
                                    a.x + a.w);
        double w = x1 - x0;
        if (w > 3)
            w -= 1; /* a gap between neighbours */
        if (w < 0.5)
            w = 0.5;
        double h = ctl_svgplot_map(v, 0, ymax, 0, a.h);
        rc = tw_buf_printf(self->body,
                           "<rect id=\"%s-bar-%zu\" class=\"bar\" "
                           "data-x=\"%.0f\" data-v=\"%.0f\" x=\"%.2f\" "
                           "y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n",
                           s->id, i, s->x[i], v, x0, a.y + a.h - h, w, h);
    }
    return s_panel_end(self, rc, mark, &a, area);
}

tw_rc_t ctl_svgplot_line(ctl_svgplot_t *self, const ctl_svgplot_series_t *s,
                         ctl_svgplot_area_t *area)
{
    assert(self);
    assert(s);
    ctl_svgplot_area_t a;
    double ymax;
    size_t mark = tw_buf_len(self->body);
    tw_rc_t rc = s_frame(self, s, &a, &ymax);
    if (rc == TW_OK && s->n > 1)
        rc = tw_buf_printf(self->body,
                           "<polyline id=\"%s-line\" class=\"line\" "
                           "points=\"",
                           s->id);
    for (size_t i = 0; rc == TW_OK && s->n > 1 && i < s->n; i++) {
        double v = s_value(s, i);
        rc = tw_buf_printf(
            self->body, "%s%.2f,%.2f", i ? " " : "",
            ctl_svgplot_map(s->x[i], s->x_lo, s->x_hi, a.x, a.x + a.w),
            ctl_svgplot_map(v, 0, ymax, a.y + a.h, a.y));
    }
    if (rc == TW_OK && s->n > 1)
        rc = tw_buf_append_str(self->body, "\"/>\n");
    for (size_t i = 0; rc == TW_OK && i < s->n; i++) {
        double v = s_value(s, i);
        rc = tw_buf_printf(
            self->body,
            "<circle id=\"%s-pt-%zu\" class=\"pt\" data-x=\"%.0f\" "
            "data-v=\"%.0f\" cx=\"%.2f\" cy=\"%.2f\" r=\"2\"/>\n",
            s->id, i, s->x[i], v,
            ctl_svgplot_map(s->x[i], s->x_lo, s->x_hi, a.x, a.x + a.w),
            ctl_svgplot_map(v, 0, ymax, a.y + a.h, a.y));
    }
    return s_panel_end(self, rc, mark, &a, area);
}

tw_rc_t ctl_svgplot_table(ctl_svgplot_t *self, const char *id,
                          const char *heading, size_t ncols,
                          const char *const *header, const char *const *cells,
                          size_t nrows, const char *empty)
{
    assert(self);
    if (!s_id_ok(id) || ncols == 0 || !header || (nrows && !cells))
        return TW_ERR_INVALID;
    size_t mark = tw_buf_len(self->body);
    tw_rc_t rc = s_heading(self, id, heading);
    double col_w = (self->width - MARGIN_L - MARGIN_R) / (double)ncols;
    double y = self->y + HEAD_H + 14;
    for (size_t r = 0; rc == TW_OK && r <= nrows; r++) {
        const char *const *row = r == 0 ? header : cells + (r - 1) * ncols;
        if (r == 0)
            rc = tw_buf_printf(self->body, "<g id=\"%s-header\" class=\"th\">",
                               id);
        else
            rc = tw_buf_printf(self->body, "<g id=\"%s-row-%zu\">", id, r - 1);
        for (size_t c = 0; rc == TW_OK && c < ncols; c++) {
            rc = tw_buf_printf(self->body, "<text x=\"%.1f\" y=\"%.1f\">",
                               MARGIN_L + c * col_w, y);
            if (rc == TW_OK)
                rc = ctl_svgplot_escape(self->body, row[c] ? row[c] : "", 80);
            if (rc == TW_OK)
                rc = tw_buf_append_str(self->body, "</text>");
        }
        if (rc == TW_OK)
            rc = tw_buf_append_str(self->body, "</g>\n");
        y += ROW_H;
    }
    if (rc == TW_OK && nrows == 0 && empty) {
        rc = tw_buf_printf(self->body,
                           "<text id=\"%s-empty\" x=\"%.1f\" y=\"%.1f\">", id,
                           MARGIN_L, y);
        if (rc == TW_OK)
            rc = ctl_svgplot_escape(self->body, empty, 200);
        if (rc == TW_OK)
            rc = tw_buf_append_str(self->body, "</text>\n");
        y += ROW_H;
    }
    if (rc != TW_OK) {
        tw_buf_truncate(self->body, mark);
        return rc;
    }
    self->y = y;
    return TW_OK;
}

char *ctl_svgplot_finish(ctl_svgplot_t *self, size_t *len)
{
    assert(self);
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return NULL;
    int h = (int)ceil(self->y + 12);
    tw_rc_t rc = tw_buf_printf(
        b,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
        "height=\"%d\" viewBox=\"0 0 %d %d\">\n"
        "<style>text{font-family:sans-serif;font-size:12px;fill:#222}"
        ".t{font-size:18px;font-weight:bold}.h{font-size:14px;"
        "font-weight:bold}.th text{font-weight:bold}"
        ".yl{text-anchor:end}.xl{text-anchor:middle}"
        ".grid{stroke:#e3e3e3;stroke-width:1}.tick{stroke:#555}"
        ".axis{stroke:#555;fill:none}.bar{fill:" BAR_COLOR "}"
        ".line{fill:none;stroke:" LINE_COLOR ";stroke-width:2}"
        ".pt{fill:" LINE_COLOR "}</style>\n"
        "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
        "<title>",
        self->width, h, self->width, h);
    if (rc == TW_OK)
        rc = ctl_svgplot_escape(b, self->title, 300);
    if (rc == TW_OK)
        rc = tw_buf_printf(b,
                           "</title>\n<text id=\"title\" class=\"t\" "
                           "x=\"%.1f\" y=\"26\">",
                           MARGIN_L);
    if (rc == TW_OK)
        rc = ctl_svgplot_escape(b, self->title, 300);
    if (rc == TW_OK)
        rc = tw_buf_printf(b,
                           "</text>\n<text id=\"subtitle\" x=\"%.1f\" "
                           "y=\"48\">",
                           MARGIN_L);
    if (rc == TW_OK && self->subtitle)
        rc = ctl_svgplot_escape(b, self->subtitle, 300);
    if (rc == TW_OK)
        rc = tw_buf_append_str(b, "</text>\n");
    if (rc == TW_OK)
        rc = tw_buf_append(b, tw_buf_data(self->body), tw_buf_len(self->body));
    if (rc == TW_OK)
        rc = tw_buf_append_str(b, "</svg>\n");
    char *out = rc == TW_OK ? tw_buf_steal(b, len) : NULL;
    tw_buf_destroy(&b);
    return out;
}
