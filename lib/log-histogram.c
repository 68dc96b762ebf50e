/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fixed log-scale histogram of positive numbers, for quantiles in bounded memory (after DDSketch, with a fixed
 * range instead of collapsing buckets: the range covers bytes, seconds and ratios alike). */

#include <math.h>
#include <string.h>

#include "log-histogram.h"

static double log_gamma(void) {
        static double g;

        if (g == 0)
                g = log(LOG_HISTOGRAM_GAMMA);
        return g;
}

static unsigned bucket_of(double v) {
        double i;

        if (v <= LOG_HISTOGRAM_MIN)
                return 0;
        i = floor(log(v / LOG_HISTOGRAM_MIN) / log_gamma());
        return i >= LOG_HISTOGRAM_BUCKETS ? LOG_HISTOGRAM_BUCKETS - 1 : (unsigned) i;
}

/* The geometric middle of bucket i: the bucket spans [MIN * GAMMA^i, MIN * GAMMA^(i+1)). */
static double bucket_middle(unsigned i) {
        return LOG_HISTOGRAM_MIN * exp(((double) i + 0.5) * log_gamma());
}

void log_histogram_init(LogHistogram *h) {
        memset(h, 0, sizeof(*h));
        h->min = INFINITY;
        h->max = -INFINITY;
}

void log_histogram_add(LogHistogram *h, double v) {
        if (!isfinite(v) || v < 0)
                return;
        h->n++;
        h->sum += v;
        if (v < h->min)
                h->min = v;
        if (v > h->max)
                h->max = v;
        if (v < LOG_HISTOGRAM_MIN)
                h->n_zero++;
        else
                h->counts[bucket_of(v)]++;
}

double log_histogram_quantile(const LogHistogram *h, double q) {
        uint64_t rank, seen;
        double v;

        if (h->n == 0)
                return NAN;
        if (q >= 1)
                return h->max;
        rank = (uint64_t) ceil(q * (double) h->n);
        if (rank == 0)
                rank = 1;
        seen = h->n_zero;
        if (seen >= rank)
                return h->min;
        for (unsigned i = 0; i < LOG_HISTOGRAM_BUCKETS; i++) {
                seen += h->counts[i];
                if (seen < rank)
                        continue;
                v = bucket_middle(i);
                return v < h->min ? h->min : v > h->max ? h->max : v;
        }
        return h->max;
}

uint64_t log_histogram_count_above(const LogHistogram *h, double v) {
        uint64_t n = 0;

        if (h->n == 0 || v >= h->max)
                return 0;
        if (v < LOG_HISTOGRAM_MIN)
                return h->n - (v < 0 ? 0 : h->n_zero);
        for (unsigned i = bucket_of(v) + 1; i < LOG_HISTOGRAM_BUCKETS; i++)
                n += h->counts[i];
        return n;
}

void log_histogram_linear_counts(const LogHistogram *h, double width, uint64_t *counts, size_t n) {
        if (n == 0)
                return;
        memset(counts, 0, n * sizeof(uint64_t));
        counts[0] = h->n_zero;
        for (unsigned i = 0; i < LOG_HISTOGRAM_BUCKETS; i++) {
                double bin;

                if (h->counts[i] == 0)
                        continue;
                bin = floor(bucket_middle(i) / width);
                counts[bin >= (double) (n - 1) ? n - 1 : (size_t) bin] += h->counts[i];
        }
}
