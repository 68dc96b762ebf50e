/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fixed log-scale histogram of positive numbers: quantiles of any number of values in a few tens of KiB, each
 * within a stated relative error. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Each bucket spans a factor of LOG_HISTOGRAM_GAMMA; a quantile is reported as its bucket's geometric middle, so it
 * is within sqrt(GAMMA) - 1 (under 1%) of the true value. Values below MIN count as MIN, above MAX as MAX. */
#define LOG_HISTOGRAM_GAMMA 1.02
#define LOG_HISTOGRAM_RELATIVE_ERROR 0.01
#define LOG_HISTOGRAM_MIN 1e-9
#define LOG_HISTOGRAM_MAX 1e15
/* ceil(ln(MAX / MIN) / ln(GAMMA)) */
#define LOG_HISTOGRAM_BUCKETS 2791

typedef struct LogHistogram {
        uint64_t n;                     /* values added, zeros included */
        uint64_t n_zero;                /* values of 0 (and below MIN), kept apart: a log scale has no room for them */
        double min, max;                /* exact, of the values added */
        double sum;
        uint32_t counts[LOG_HISTOGRAM_BUCKETS];
} LogHistogram;

/* Clears h. */
void log_histogram_init(LogHistogram *h);

/* Adds v (negative values, NaN and infinities are ignored). */
void log_histogram_add(LogHistogram *h, double v);

/* The q-quantile (0 < q <= 1; nearest rank) of the values added, within LOG_HISTOGRAM_RELATIVE_ERROR and never
 * outside [min, max]; q = 1 gives the exact maximum. NaN when h is empty. */
double log_histogram_quantile(const LogHistogram *h, double q);

/* The number of values added that are above v, counted by bucket: exact for values more than one bucket away
 * from v. */
uint64_t log_histogram_count_above(const LogHistogram *h, double v);

/* Counts the values added into n linear bins of the given width from 0: bin i holds [i * width, (i + 1) * width),
 * the last bin everything above as well. A bucket goes whole to the bin of its geometric middle, so a value
 * within LOG_HISTOGRAM_RELATIVE_ERROR of a bin's edge may be counted in its neighbour. Zeros go to bin 0. */
void log_histogram_linear_counts(const LogHistogram *h, double width, uint64_t *counts, size_t n);
