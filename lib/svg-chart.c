/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Charts as SVG, with no library: panels stacked over one x axis, lines, bars, limit lines, marks and legends. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "svg-chart.h"

#define MARGIN_LEFT 84.0
#define MARGIN_RIGHT 24.0
#define MARGIN_TOP 56.0
#define MARGIN_BOTTOM 52.0
#define PANEL_GAP 34.0
/* Room for a panel's title as well as the x ticks of the panel above it. */
#define PANEL_GAP_TITLED 54.0
#define FONT "font-family=\"DejaVu Sans, Verdana, sans-serif\""

typedef struct SvgLine {
        int panel;
        char *label;
        char *color;
        double *x, *y;          /* n points; NULL for a limit */
        size_t n;
        double bar_width;       /* > 0: the points are bars' left edges and heights */
        bool vertical;          /* a limit at x = limit rather than y = limit */
        double limit;
} SvgLine;

typedef struct SvgMark {
        double x;
        char *label;
        char *color;
} SvgMark;

typedef struct SvgPanel {
        char *y_label;
        char *title;            /* NULL: none */
        SvgUnit unit;
        double y_max;
} SvgPanel;

struct SvgChart {
        char *title;
        unsigned width, height;
        char *x_label;
        SvgUnit x_unit;
        double x_max;
        SvgPanel panels[SVG_CHART_PANELS_MAX];
        size_t n_panels;
        SvgLine *lines;
        size_t n_lines;
        SvgMark *marks;
        size_t n_marks;
};

int svg_chart_new(const char *title, unsigned width, unsigned height, SvgChart **ret) {
        SvgChart *c = calloc(1, sizeof(SvgChart));

        if (!c)
                return -ENOMEM;
        c->title = strdup(title);
        c->x_label = strdup("");
        if (!c->title || !c->x_label) {
                svg_chart_free(c);
                return -ENOMEM;
        }
        c->width = width;
        c->height = height;
        *ret = c;
        return 0;
}

SvgChart *svg_chart_free(SvgChart *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_lines; i++) {
                free(c->lines[i].label);
                free(c->lines[i].color);
                free(c->lines[i].x);
                free(c->lines[i].y);
        }
        for (size_t i = 0; i < c->n_marks; i++) {
                free(c->marks[i].label);
                free(c->marks[i].color);
        }
        for (size_t i = 0; i < c->n_panels; i++) {
                free(c->panels[i].y_label);
                free(c->panels[i].title);
        }
        free(c->lines);
        free(c->marks);
        free(c->title);
        free(c->x_label);
        free(c);
        return NULL;
}

void svg_chart_set_x(SvgChart *c, const char *label, SvgUnit unit, double x_max) {
        char *copy = strdup(label);

        if (copy) {
                free(c->x_label);
                c->x_label = copy;
        }
        c->x_unit = unit;
        c->x_max = x_max;
}

int svg_chart_add_panel(SvgChart *c, const char *y_label, SvgUnit unit, double y_max) {
        SvgPanel *p;

        if (c->n_panels >= SVG_CHART_PANELS_MAX)
                return -E2BIG;
        p = &c->panels[c->n_panels];
        p->y_label = strdup(y_label);
        if (!p->y_label)
                return -ENOMEM;
        p->unit = unit;
        p->y_max = y_max;
        return (int) c->n_panels++;
}

int svg_chart_set_panel_title(SvgChart *c, int panel, const char *title) {
        char *copy;

        if (panel < 0 || (size_t) panel >= c->n_panels)
                return -EINVAL;
        copy = strdup(title);
        if (!copy)
                return -ENOMEM;
        free(c->panels[panel].title);
        c->panels[panel].title = copy;
        return 0;
}

static SvgLine *add_line(SvgChart *c, int panel, const char *label, const char *color) {
        SvgLine *lines, *l;

        if (panel < 0 || (size_t) panel >= c->n_panels)
                return NULL;
        lines = reallocarray(c->lines, c->n_lines + 1, sizeof(SvgLine));
        if (!lines)
                return NULL;
        c->lines = lines;
        l = &c->lines[c->n_lines];
        *l = (SvgLine) { .panel = panel, .label = strdup(label), .color = strdup(color) };
        if (!l->label || !l->color) {
                free(l->label);
                free(l->color);
                return NULL;
        }
        c->n_lines++;
        return l;
}

int svg_chart_add_line(SvgChart *c, int panel, const char *label, const char *color, const double *x,
                       const double *y, size_t n) {
        SvgLine *l;

        if (panel < 0 || (size_t) panel >= c->n_panels)
                return -EINVAL;
        l = add_line(c, panel, label, color);
        if (!l)
                return -ENOMEM;
        l->x = malloc(MAX(n, (size_t) 1) * sizeof(double));
        l->y = malloc(MAX(n, (size_t) 1) * sizeof(double));
        if (!l->x || !l->y)
                return -ENOMEM;
        if (n > 0) {
                memcpy(l->x, x, n * sizeof(double));
                memcpy(l->y, y, n * sizeof(double));
        }
        l->n = n;
        return 0;
}

int svg_chart_add_bars(SvgChart *c, int panel, const char *label, const char *color, const double *x, double width,
                       const double *y, size_t n) {
        int r;

        if (!(width > 0))
                return -EINVAL;
        r = svg_chart_add_line(c, panel, label, color, x, y, n);
        if (r < 0)
                return r;
        c->lines[c->n_lines - 1].bar_width = width;
        return 0;
}

int svg_chart_add_limit(SvgChart *c, int panel, const char *label, const char *color, double y) {
        SvgLine *l;

        if (panel < 0 || (size_t) panel >= c->n_panels)
                return -EINVAL;
        l = add_line(c, panel, label, color);
        if (!l)
                return -ENOMEM;
        l->limit = y;
        return 0;
}

int svg_chart_add_x_limit(SvgChart *c, int panel, const char *label, const char *color, double x) {
        int r;

        r = svg_chart_add_limit(c, panel, label, color, x);
        if (r < 0)
                return r;
        c->lines[c->n_lines - 1].vertical = true;
        return 0;
}

int svg_chart_add_mark(SvgChart *c, double x, const char *label, const char *color) {
        SvgMark *marks = reallocarray(c->marks, c->n_marks + 1, sizeof(SvgMark));

        if (!marks)
                return -ENOMEM;
        c->marks = marks;
        marks[c->n_marks] = (SvgMark) { .x = x, .label = strdup(label), .color = strdup(color) };
        if (!marks[c->n_marks].label || !marks[c->n_marks].color) {
                free(marks[c->n_marks].label);
                free(marks[c->n_marks].color);
                return -ENOMEM;
        }
        c->n_marks++;
        return 0;
}

static void put_escaped(FILE *f, const char *s) {
        for (; *s; s++)
                switch (*s) {
                case '&':
                        fputs("&amp;", f);
                        break;
                case '<':
                        fputs("&lt;", f);
                        break;
                case '>':
                        fputs("&gt;", f);
                        break;
                case '"':
                        fputs("&quot;", f);
                        break;
                default:
                        if ((unsigned char) *s >= 0x20)
                                fputc(*s, f);
                }
}

/* A step of 1, 2 or 5 times a power of ten that cuts range into about `ticks` parts. */
static double nice_step(double range, unsigned ticks) {
        double raw = range / ticks, power = 1;

        if (raw <= 0)
                return 1;
        while (power * 10 <= raw)
                power *= 10;
        while (power > raw)
                power /= 10;
        if (raw <= power)
                return power;
        if (raw <= 2 * power)
                return 2 * power;
        if (raw <= 5 * power)
                return 5 * power;
        return 10 * power;
}

/* The divisor and name of the unit numbers of up to max are shown in. */
static double unit_divisor(SvgUnit unit, double max, const char **ret_name) {
        static const char * const bytes[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double d = 1;

        switch (unit) {
        case SVG_UNIT_BYTES:
                for (size_t i = 0; i < ELEMENTSOF(bytes); i++, d *= 1024)
                        if (max / d < 1024 || i == ELEMENTSOF(bytes) - 1) {
                                *ret_name = bytes[i];
                                return d;
                        }
                break;
        case SVG_UNIT_SECONDS:
                if (max >= 7200) {
                        *ret_name = "h";
                        return 3600;
                }
                if (max >= 180) {
                        *ret_name = "min";
                        return 60;
                }
                *ret_name = "s";
                return 1;
        default:
                break;
        }
        *ret_name = NULL;
        return 1;
}

static void put_number(FILE *f, double v) {
        char buf[32];

        (void) snprintf(buf, sizeof(buf), "%.6g", v);
        fputs(buf, f);
}

typedef struct Frame {
        double left, right, top, bottom;        /* pixels */
        double x_max, y_max;                    /* data at the right and top edges */
} Frame;

static double px_x(const Frame *fr, double x) {
        return fr->left + (fr->x_max > 0 ? x / fr->x_max : 0) * (fr->right - fr->left);
}

static double px_y(const Frame *fr, double y) {
        return fr->bottom - (fr->y_max > 0 ? y / fr->y_max : 0) * (fr->bottom - fr->top);
}

static double data_x_max(const SvgChart *c) {
        double m = c->x_max;

        if (m > 0)
                return m;
        for (size_t i = 0; i < c->n_lines; i++) {
                if (c->lines[i].vertical)
                        m = MAX(m, c->lines[i].limit);
                for (size_t k = 0; k < c->lines[i].n; k++)
                        m = MAX(m, c->lines[i].x[k] + c->lines[i].bar_width);
        }
        for (size_t i = 0; i < c->n_marks; i++)
                m = MAX(m, c->marks[i].x);
        return m > 0 ? m : 1;
}

static double data_y_max(const SvgChart *c, size_t panel) {
        double m = c->panels[panel].y_max;

        for (size_t i = 0; i < c->n_lines; i++) {
                const SvgLine *l = &c->lines[i];

                if ((size_t) l->panel != panel)
                        continue;
                if (!l->x && !l->vertical)
                        m = MAX(m, l->limit);
                for (size_t k = 0; k < l->n; k++)
                        m = MAX(m, l->y[k]);
        }
        return m > 0 ? m * 1.08 : 1;
}

/* A histogram's tallest bars are often at the left, under the legend: a panel with bars is scaled so that they
 * stay below it. Returns the factor for the y axis' top. */
static double bar_headroom(const SvgChart *c, size_t panel, double panel_height) {
        size_t n_legend = 0;
        bool bars = false;
        double room;

        for (size_t i = 0; i < c->n_lines; i++)
                if ((size_t) c->lines[i].panel == panel) {
                        n_legend++;
                        bars = bars || c->lines[i].bar_width > 0;
                }
        room = panel_height - (16.0 * (double) n_legend + 12);
        return bars && room > panel_height / 3 ? panel_height / room : 1;
}

static void write_axis_label(FILE *f, const char *label, const char *unit_name) {
        put_escaped(f, label);
        if (unit_name) {
                fputs(" (", f);
                put_escaped(f, unit_name);
                fputc(')', f);
        }
}

static void write_panel(const SvgChart *c, size_t p, const Frame *fr, bool last, FILE *f) {
        const SvgPanel *panel = &c->panels[p];
        const char *y_unit, *x_unit;
        double y_div = unit_divisor(panel->unit, fr->y_max, &y_unit);
        double x_div = unit_divisor(c->x_unit, fr->x_max, &x_unit);
        double step, legend_y = fr->top + 18;
        size_t n_legend = 0;

        fprintf(f, "<g class=\"panel\" data-label=\"");
        put_escaped(f, panel->y_label);
        fprintf(f, "\">\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fcfcfc\" stroke=\"#888\"/>\n",
                fr->left, fr->top, fr->right - fr->left, fr->bottom - fr->top);
        if (panel->title) {
                fprintf(f, "<text class=\"panel-title\" x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\" " FONT ">",
                        fr->left, fr->top - 8);
                put_escaped(f, panel->title);
                fputs("</text>\n", f);
        }

        /* y ticks and grid, in the unit chosen for the range */
        step = nice_step(fr->y_max / y_div, 4);
        for (double v = 0; v * y_div <= fr->y_max * 1.0001; v += step) {
                double y = px_y(fr, v * y_div);

                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", fr->left, y,
                        fr->right, y);
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\" " FONT ">", fr->left - 6,
                        y + 4);
                put_number(f, v);
                fputs("</text>\n", f);
        }
        fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\" " FONT ">",
                fr->left - 58, (fr->top + fr->bottom) / 2);
        write_axis_label(f, panel->y_label, y_unit);
        fputs("</text>\n", f);

        /* x ticks on every panel, the x label below the last */
        step = nice_step(fr->x_max / x_div, 8);
        for (double v = 0; v * x_div <= fr->x_max * 1.0001; v += step) {
                double x = px_x(fr, v * x_div);

                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n", x, fr->bottom, x,
                        fr->bottom + 4);
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" " FONT ">", x,
                        fr->bottom + 17);
                put_number(f, v);
                fputs("</text>\n", f);
        }
        if (last) {
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\" " FONT ">",
                        (fr->left + fr->right) / 2, fr->bottom + 38);
                write_axis_label(f, c->x_label, x_unit);
                fputs("</text>\n", f);
        }

        for (size_t i = 0; i < c->n_lines; i++) {
                const SvgLine *l = &c->lines[i];

                if ((size_t) l->panel != p)
                        continue;
                if (!l->x) {
                        double y = px_y(fr, l->limit), x = px_x(fr, l->limit);

                        fprintf(f, "<line class=\"limit\" data-label=\"");
                        put_escaped(f, l->label);
                        if (l->vertical)
                                fprintf(f, "\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"", x, fr->top, x,
                                        fr->bottom);
                        else
                                fprintf(f, "\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"", fr->left, y,
                                        fr->right, y);
                        put_escaped(f, l->color);
                        fputs("\" stroke-width=\"2\" stroke-dasharray=\"8 5\"/>\n", f);
                        continue;
                }
                if (l->bar_width > 0) {
                        fprintf(f, "<g class=\"bars\" data-label=\"");
                        put_escaped(f, l->label);
                        fputs("\" fill=\"", f);
                        put_escaped(f, l->color);
                        fputs("\">\n", f);
                        for (size_t k = 0; k < l->n; k++) {
                                double x0 = px_x(fr, l->x[k]), x1 = px_x(fr, l->x[k] + l->bar_width), y = px_y(fr, l->y[k]);

                                if (!(l->y[k] > 0))
                                        continue;
                                /* A pixel's gap between neighbours, so that equal bars read as separate buckets. */
                                fputs("<rect class=\"bar\" data-x=\"", f);
                                put_number(f, l->x[k]);
                                fputs("\" data-y=\"", f);
                                put_number(f, l->y[k]);
                                fprintf(f, "\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n", x0 + 0.5, y,
                                        MAX(x1 - x0 - 1, 0.5), fr->bottom - y);
                        }
                        fputs("</g>\n", f);
                        continue;
                }
                fprintf(f, "<path class=\"line\" data-label=\"");
                put_escaped(f, l->label);
                fputs("\" fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke=\"", f);
                put_escaped(f, l->color);
                fputs("\" d=\"", f);
                for (size_t k = 0; k < l->n; k++)
                        fprintf(f, "%s%.2f,%.2f", k == 0 ? "M" : " L", px_x(fr, l->x[k]), px_y(fr, l->y[k]));
                fputs("\"/>\n", f);
        }

        /* The legend, top left (curves that climb to a limit end top right), on a box of its own so that the lines under it do not hide its words. */
        for (size_t i = 0; i < c->n_lines; i++)
                n_legend += (size_t) c->lines[i].panel == p;
        if (n_legend > 0)
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"188\" height=\"%.1f\" fill=\"white\" "
                           "fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n",
                        fr->left + 6, fr->top + 4, 16.0 * (double) n_legend + 4);
        for (size_t i = 0; i < c->n_lines; i++) {
                const SvgLine *l = &c->lines[i];

                if ((size_t) l->panel != p)
                        continue;
                if (l->bar_width > 0) {
                        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"24\" height=\"10\" fill=\"", fr->left + 12,
                                legend_y - 9);
                        put_escaped(f, l->color);
                        fputs("\"/>\n", f);
                } else {
                        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"", fr->left + 12,
                                legend_y - 4, fr->left + 36, legend_y - 4);
                        put_escaped(f, l->color);
                        fprintf(f, "\" stroke-width=\"2\"%s/>\n", l->x ? "" : " stroke-dasharray=\"8 5\"");
                }
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" " FONT ">", fr->left + 42, legend_y);
                put_escaped(f, l->label);
                fputs("</text>\n", f);
                legend_y += 16;
        }
        fputs("</g>\n", f);
}

int svg_chart_write(const SvgChart *c, FILE *f) {
        double x_max = data_x_max(c);
        double gap = PANEL_GAP, panel_height;
        Frame first = {}, last = {};

        for (size_t p = 0; p < c->n_panels; p++)
                if (c->panels[p].title)
                        gap = PANEL_GAP_TITLED;
        panel_height = c->n_panels > 0
                ? (c->height - MARGIN_TOP - MARGIN_BOTTOM - gap * (double) (c->n_panels - 1)) / (double) c->n_panels
                : 0;

        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\">\n"
                   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                c->width, c->height, c->width, c->height);
        fprintf(f, "<text x=\"%.1f\" y=\"28\" font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\" " FONT ">",
                c->width / 2.0);
        put_escaped(f, c->title);
        fputs("</text>\n", f);
        for (size_t p = 0; p < c->n_panels; p++) {
                Frame fr = {
                        .left = MARGIN_LEFT,
                        .right = c->width - MARGIN_RIGHT,
                        .top = MARGIN_TOP + (double) p * (panel_height + gap),
                        .x_max = x_max,
                        .y_max = data_y_max(c, p),
                };

                fr.bottom = fr.top + panel_height;
                fr.y_max *= bar_headroom(c, p, panel_height);
                write_panel(c, p, &fr, p + 1 == c->n_panels, f);
                if (p == 0)
                        first = fr;
                last = fr;
        }
        for (size_t i = 0; i < c->n_marks && c->n_panels > 0; i++) {
                double x = px_x(&first, c->marks[i].x);

                fprintf(f, "<g class=\"mark\" data-label=\"");
                put_escaped(f, c->marks[i].label);
                fprintf(f, "\">\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"", x, first.top, x, last.bottom);
                put_escaped(f, c->marks[i].color);
                fputs("\" stroke-width=\"2\"/>\n", f);
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\" fill=\"", x - 4, first.top - 6);
                put_escaped(f, c->marks[i].color);
                fputs("\" " FONT ">", f);
                put_escaped(f, c->marks[i].label);
                fputs("</text>\n</g>\n", f);
        }
        fputs("</svg>\n", f);
        return ferror(f) ? -EIO : 0;
}
