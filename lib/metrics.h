/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The counters analysisctl metrics exposes about ended analyses, per profile (how they ended, the limits they
 * hit, peak memory against the limit as a histogram), the tally that keeps them from going down when gc removes
 * records, and Prometheus' text exposition format. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "efficiency.h"
#include "record.h"

/* The upper bounds of the peak memory / limit histogram's buckets, +Inf last. */
#define METRICS_PEAK_BUCKETS 7
extern const double metrics_peak_bounds[METRICS_PEAK_BUCKETS];

/* Profiles beyond this many, and names that are no valid profile name, are counted as METRICS_OTHER_PROFILE:
 * bounded series whatever records name. */
#define METRICS_PROFILES_MAX 256
#define METRICS_OTHER_PROFILE "_other"

typedef struct ProfileCounts {
        char *profile;
        uint64_t ended[_END_CLASS_MAX];
        uint64_t hits[_LIMIT_KIND_MAX];
        uint64_t peak_buckets[METRICS_PEAK_BUCKETS];    /* per bucket, not cumulative */
        uint64_t peak_count;
        double peak_sum;
} ProfileCounts;

typedef struct MetricsCounts {
        ProfileCounts *profiles;
        size_t n;
} MetricsCounts;

void metrics_counts_done(MetricsCounts *m);

/* Counts record r. Returns 0 or -ENOMEM. */
int metrics_counts_add_record(MetricsCounts *m, const Record *r);

/* Adds every count of src to m. Returns 0 or -ENOMEM. */
int metrics_counts_merge(MetricsCounts *m, const MetricsCounts *src);

/* The tally: the counts of records gc removed, as text ("PROFILE KEY VALUE" lines; KEY such as ended.success,
 * hits.memory, peak.3, peak.count, peak.sum). metrics_tally_parse() adds what it reads to m and refuses a bad
 * line with -EBADMSG. Return 0 or a negative errno. */
int metrics_tally_write(const MetricsCounts *m, FILE *f);
int metrics_tally_parse(MetricsCounts *m, const char *text);

/* Writes a metric's "# HELP" and "# TYPE" lines. */
void metrics_write_header(FILE *f, const char *name, const char *type, const char *help);

/* Writes one sample: name{label="value",...} value. labels alternates names and values and ends with NULL; the
 * values are escaped as the format wants (backslash, double quote, newline). */
void metrics_write_sample(FILE *f, const char *name, double value, ...) _sentinel_;

/* Writes the counters of m: ended analyses, limit hits and the peak memory histogram. */
void metrics_write_counts(FILE *f, const MetricsCounts *m);
