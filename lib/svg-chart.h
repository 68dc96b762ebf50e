/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Charts as SVG, with no library: panels stacked over one x axis, each with its y axis, title, lines, bars
 * (histograms), limit lines and a legend; marks across all panels. Readable at 800 px wide; opens in any browser. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "macro.h"

/* How the numbers of an axis are shown: the unit is chosen from the axis' range. */
typedef enum SvgUnit {
        SVG_UNIT_PLAIN,         /* as they are, with the label's own unit */
        SVG_UNIT_BYTES,         /* B, KiB, MiB, GiB, TiB */
        SVG_UNIT_SECONDS,       /* s, min, h */
        _SVG_UNIT_MAX,
} SvgUnit;

typedef struct SvgChart SvgChart;

/* A chart of width x height pixels with a title (plain text, escaped here). Returns 0 or -ENOMEM. */
int svg_chart_new(const char *title, unsigned width, unsigned height, SvgChart **ret);

/* Frees the chart; accepts NULL and returns NULL. */
SvgChart *svg_chart_free(SvgChart *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(SvgChart *, svg_chart_free);

/* The x axis of every panel: its label ("Time since start") and unit. x_max 0: from the data. */
void svg_chart_set_x(SvgChart *c, const char *label, SvgUnit unit, double x_max);

/* Adds a panel below the others, with its y axis from 0 to at least y_max (more if its data or limits need
 * it). Returns its index, or -ENOMEM / -E2BIG (at most SVG_CHART_PANELS_MAX). */
#define SVG_CHART_PANELS_MAX 32
int svg_chart_add_panel(SvgChart *c, const char *y_label, SvgUnit unit, double y_max);

/* Gives a panel a title, written above it (plain text, escaped here). Returns 0, -EINVAL or -ENOMEM. */
int svg_chart_set_panel_title(SvgChart *c, int panel, const char *title);

/* Adds a line through n points (x[i], y[i]) to a panel, named in the legend. color: an SVG color. Returns 0,
 * -EINVAL or -ENOMEM. */
int svg_chart_add_line(SvgChart *c, int panel, const char *label, const char *color, const double *x,
                       const double *y, size_t n);

/* Adds n bars to a panel, named in the legend: bar i spans x[i] to x[i] + width and rises from 0 to y[i] (a
 * histogram's bucket and its count). Bars of height 0 are not drawn. Returns 0, -EINVAL or -ENOMEM. */
int svg_chart_add_bars(SvgChart *c, int panel, const char *label, const char *color, const double *x, double width,
                       const double *y, size_t n);

/* Adds a dashed horizontal line at y (a limit) to a panel, named in the legend. Returns 0, -EINVAL or -ENOMEM. */
int svg_chart_add_limit(SvgChart *c, int panel, const char *label, const char *color, double y);

/* Adds a dashed vertical line at x (a limit on the x axis, as in a histogram of shares of it) to a panel, named
 * in the legend. Returns 0, -EINVAL or -ENOMEM. */
int svg_chart_add_x_limit(SvgChart *c, int panel, const char *label, const char *color, double x);

/* Adds a vertical mark across every panel at x, labelled at its top (an event). Returns 0 or -ENOMEM. */
int svg_chart_add_mark(SvgChart *c, double x, const char *label, const char *color);

/* Writes the chart as a standalone SVG document. Each line is a <path> with class "line" and data-label, its
 * points in order, and each bar a <rect> with class "bar", data-x and data-y (its data), so that a test can read them
 * back. Returns 0 or -EIO. */
int svg_chart_write(const SvgChart *c, FILE *f);
