/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for svg-chart.c's bars: one <rect> per bar above 0, heights in proportion to the values, bars side by
 * side over their x spans, an upright limit where its x is, bad arguments refused, panel titles escaped. */

#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "svg-chart.h"

/* The chart's SVG text in *ret (the caller's, for open_memstream() to update). */
static void write_chart(const SvgChart *c, char **ret) {
        size_t size = 0;
        FILE *f = open_memstream(ret, &size);

        assert(f);
        assert(svg_chart_write(c, f) == 0);
        assert(fclose(f) == 0);
}

/* Reads back the bars as (data-x, data-y, x, width, height), at most n; returns how many. */
static size_t read_bars(const char *svg, double (*ret)[5], size_t n) {
        size_t k = 0;

        for (const char *p = svg; (p = strstr(p, "<rect class=\"bar\"")) && k < n; p++, k++)
                assert(sscanf(p, "<rect class=\"bar\" data-x=\"%lf\" data-y=\"%lf\" x=\"%lf\" y=\"%*f\" width=\"%lf\" "
                                 "height=\"%lf\"", &ret[k][0], &ret[k][1], &ret[k][2], &ret[k][3], &ret[k][4]) == 5);
        return k;
}

static void test_bars(void) {
        static const double x[] = { 0, 10, 20, 30 }, y[] = { 4, 0, 2, 1 };
        _cleanup_(svg_chart_freep) SvgChart *c = NULL;
        _cleanup_free_ char *svg = NULL;
        double bars[8][5], x1, y1, x2, y2;
        const char *l;
        int p;

        assert(svg_chart_new("bars", 800, 400, &c) == 0);
        svg_chart_set_x(c, "Share", SVG_UNIT_PLAIN, 0);
        p = svg_chart_add_panel(c, "Analyses", SVG_UNIT_PLAIN, 1);
        assert(p == 0);
        assert(svg_chart_set_panel_title(c, p, "Profile <a> & b") == 0);
        assert(svg_chart_add_bars(c, p, "counts", "#1f77b4", x, 10, y, ELEMENTSOF(x)) == 0);
        assert(svg_chart_add_x_limit(c, p, "limit", "red", 30) == 0);
        write_chart(c, &svg);

        assert(strstr(svg, "class=\"panel-title\""));
        assert(strstr(svg, "Profile &lt;a&gt; &amp; b</text>"));
        assert(strstr(svg, "<g class=\"bars\" data-label=\"counts\" fill=\"#1f77b4\">"));
        /* The bar of 0 is left out; the others keep their order, data and proportions. */
        assert(read_bars(svg, bars, ELEMENTSOF(bars)) == 3);
        assert(bars[0][0] == 0 && bars[0][1] == 4);
        assert(bars[1][0] == 20 && bars[1][1] == 2);
        assert(bars[2][0] == 30 && bars[2][1] == 1);
        assert(fabs(bars[0][4] - 2 * bars[1][4]) < 0.02);
        assert(fabs(bars[0][4] - 4 * bars[2][4]) < 0.02);
        /* Equal widths, one after the other: the x axis ends at the last bar's right edge. */
        assert(fabs(bars[0][3] - bars[2][3]) < 0.02);
        assert(fabs((bars[2][2] - bars[1][2]) - (bars[1][2] - bars[0][2]) / 2) < 0.02);
        assert(bars[2][2] + bars[2][3] <= 800);
        /* The x limit is upright, at the left edge of the bar that starts there. */
        l = strstr(svg, "<line class=\"limit\" data-label=\"limit\"");
        assert(l);
        assert(sscanf(l, "<line class=\"limit\" data-label=\"limit\" x1=\"%lf\" y1=\"%lf\" x2=\"%lf\" y2=\"%lf\"",
                      &x1, &y1, &x2, &y2) == 4);
        assert(x1 == x2 && y1 < y2);
        assert(fabs(x1 - (bars[2][2] - 0.5)) < 0.1);
}

static void test_bars_refused(void) {
        static const double x[] = { 0 }, y[] = { 1 };
        _cleanup_(svg_chart_freep) SvgChart *c = NULL;

        assert(svg_chart_new("refused", 800, 400, &c) == 0);
        assert(svg_chart_add_bars(c, 0, "no panel", "red", x, 1, y, 1) == -EINVAL);
        assert(svg_chart_set_panel_title(c, 0, "no panel") == -EINVAL);
        assert(svg_chart_add_panel(c, "Analyses", SVG_UNIT_PLAIN, 0) == 0);
        assert(svg_chart_add_bars(c, 0, "no width", "red", x, 0, y, 1) == -EINVAL);
        assert(svg_chart_add_bars(c, 0, "NaN width", "red", x, NAN, y, 1) == -EINVAL);
        for (int i = 1; i < SVG_CHART_PANELS_MAX; i++)
                assert(svg_chart_add_panel(c, "more", SVG_UNIT_PLAIN, 0) == i);
        assert(svg_chart_add_panel(c, "one too many", SVG_UNIT_PLAIN, 0) == -E2BIG);
}

int main(void) {
        test_bars();
        test_bars_refused();
        return 0;
}
