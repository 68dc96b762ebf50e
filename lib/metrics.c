/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Counters of ended analyses, their tally, and Prometheus' text exposition format (version 0.0.4). */

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"
#include "parse-value.h"
#include "profile.h"

const double metrics_peak_bounds[METRICS_PEAK_BUCKETS] = { 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, INFINITY };

void metrics_counts_done(MetricsCounts *m) {
        for (size_t i = 0; i < m->n; i++)
                free(m->profiles[i].profile);
        free(m->profiles);
        *m = (MetricsCounts) {};
}

static int profile_cmp(const void *a, const void *b) {
        return strcmp(((const ProfileCounts *) a)->profile, ((const ProfileCounts *) b)->profile);
}

static ProfileCounts *counts_for(MetricsCounts *m, const char *profile) {
        ProfileCounts *p;

        for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->profiles[i].profile, profile) == 0)
                        return m->profiles + i;
        if (m->n >= METRICS_PROFILES_MAX)
                return counts_for(m, METRICS_OTHER_PROFILE);
        p = realloc(m->profiles, (m->n + 1) * sizeof(ProfileCounts));
        if (!p)
                return NULL;
        m->profiles = p;
        p += m->n;
        *p = (ProfileCounts) { .profile = strdup(profile) };
        if (!p->profile)
                return NULL;
        m->n++;
        /* Sorted, so that the output is the same whatever order the records came in. */
        qsort(m->profiles, m->n, sizeof(ProfileCounts), profile_cmp);
        for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->profiles[i].profile, profile) == 0)
                        return m->profiles + i;
        return NULL;
}

int metrics_counts_add_record(MetricsCounts *m, const Record *r) {
        /* A record names its profile as its unit did; one that names no valid profile (written by hand, or by
         * something else) is counted with the others, so the tally's lines and the labels stay plain. */
        ProfileCounts *p = counts_for(m, r->profile && profile_name_is_valid(r->profile) ? r->profile : METRICS_OTHER_PROFILE);
        unsigned hits = limits_hit_from_record(r);

        if (!p)
                return -ENOMEM;
        p->ended[end_class_from_record(r)]++;
        for (LimitKind k = 0; k < _LIMIT_KIND_MAX; k++)
                if (hits & (1u << k))
                        p->hits[k]++;
        if (r->usage.memory_peak != RECORD_UNSET && r->limits.memory_max != RECORD_UNSET && r->limits.memory_max > 0) {
                double ratio = (double) r->usage.memory_peak / (double) r->limits.memory_max;
                size_t b = 0;

                while (b + 1 < METRICS_PEAK_BUCKETS && ratio > metrics_peak_bounds[b])
                        b++;
                p->peak_buckets[b]++;
                p->peak_count++;
                p->peak_sum += ratio;
        }
        return 0;
}

int metrics_counts_merge(MetricsCounts *m, const MetricsCounts *src) {
        for (size_t i = 0; i < src->n; i++) {
                const ProfileCounts *s = src->profiles + i;
                ProfileCounts *p = counts_for(m, s->profile);

                if (!p)
                        return -ENOMEM;
                for (size_t k = 0; k < _END_CLASS_MAX; k++)
                        p->ended[k] += s->ended[k];
                for (size_t k = 0; k < _LIMIT_KIND_MAX; k++)
                        p->hits[k] += s->hits[k];
                for (size_t k = 0; k < METRICS_PEAK_BUCKETS; k++)
                        p->peak_buckets[k] += s->peak_buckets[k];
                p->peak_count += s->peak_count;
                p->peak_sum += s->peak_sum;
        }
        return 0;
}

int metrics_tally_write(const MetricsCounts *m, FILE *f) {
        fputs("# analysisctl metrics: the counts of records analysisctl gc removed. PROFILE KEY VALUE\n", f);
        for (size_t i = 0; i < m->n; i++) {
                const ProfileCounts *p = m->profiles + i;
                const char *name = p->profile;

                for (EndClass k = 0; k < _END_CLASS_MAX; k++)
                        if (p->ended[k] > 0)
                                fprintf(f, "%s ended.%s %" PRIu64 "\n", name, end_class_to_string(k), p->ended[k]);
                for (LimitKind k = 0; k < _LIMIT_KIND_MAX; k++)
                        if (p->hits[k] > 0)
                                fprintf(f, "%s hits.%s %" PRIu64 "\n", name, limit_kind_to_string(k), p->hits[k]);
                for (size_t k = 0; k < METRICS_PEAK_BUCKETS; k++)
                        if (p->peak_buckets[k] > 0)
                                fprintf(f, "%s peak.%zu %" PRIu64 "\n", name, k, p->peak_buckets[k]);
                if (p->peak_count > 0)
                        fprintf(f, "%s peak.count %" PRIu64 "\n%s peak.sum %.17g\n", name, p->peak_count, name, p->peak_sum);
        }
        return ferror(f) ? -EIO : 0;
}

/* Finds key (such as "ended.success") in p's counters. Returns the counter, or NULL. */
static uint64_t *tally_counter(ProfileCounts *p, const char *key) {
        if (strncmp(key, "ended.", 6) == 0) {
                for (EndClass k = 0; k < _END_CLASS_MAX; k++)
                        if (strcmp(key + 6, end_class_to_string(k)) == 0)
                                return &p->ended[k];
        } else if (strncmp(key, "hits.", 5) == 0) {
                for (LimitKind k = 0; k < _LIMIT_KIND_MAX; k++)
                        if (strcmp(key + 5, limit_kind_to_string(k)) == 0)
                                return &p->hits[k];
        } else if (strcmp(key, "peak.count") == 0)
                return &p->peak_count;
        else if (strncmp(key, "peak.", 5) == 0 && key[5] >= '0' && key[5] < '0' + METRICS_PEAK_BUCKETS && !key[6])
                return &p->peak_buckets[key[5] - '0'];
        return NULL;
}

int metrics_tally_parse(MetricsCounts *m, const char *text) {
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *profile, *key, *value, *end, *fields = NULL;
                ProfileCounts *p;
                uint64_t *counter, v;

                if (line[0] == '#' || line[0] == '\0')
                        continue;
                profile = strtok_r(line, " ", &fields);
                key = strtok_r(NULL, " ", &fields);
                value = strtok_r(NULL, " ", &fields);
                if (!profile || !key || !value || strtok_r(NULL, " ", &fields))
                        return -EBADMSG;
                if (!profile_name_is_valid(profile) && strcmp(profile, METRICS_OTHER_PROFILE) != 0)
                        return -EBADMSG;
                p = counts_for(m, profile);
                if (!p)
                        return -ENOMEM;
                if (strcmp(key, "peak.sum") == 0) {
                        double d = strtod(value, &end);

                        if (*end || !isfinite(d) || d < 0)
                                return -EBADMSG;
                        p->peak_sum += d;
                        continue;
                }
                counter = tally_counter(p, key);
                if (!counter || parse_uint64(value, &v) < 0)
                        return -EBADMSG;
                *counter += v;
        }
        return 0;
}

void metrics_write_header(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_escaped(FILE *f, const char *s) {
        for (; *s; s++)
                if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '"')
                        fputs("\\\"", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
}

static void write_value(FILE *f, double v) {
        if (isinf(v))
                fputs(v > 0 ? "+Inf" : "-Inf", f);
        else if (isnan(v))
                fputs("NaN", f);
        else if (v == floor(v) && fabs(v) < 1e15)
                fprintf(f, "%.0f", v);
        else
                fprintf(f, "%.17g", v);
}

static void write_sample_va(FILE *f, const char *name, double value, va_list ap) {
        const char *label, *sep = "{";

        fputs(name, f);
        while ((label = va_arg(ap, const char *))) {
                const char *v = va_arg(ap, const char *);

                fprintf(f, "%s%s=\"", sep, label);
                write_escaped(f, v);
                fputc('"', f);
                sep = ",";
        }
        if (sep[0] == ',')
                fputc('}', f);
        fputc(' ', f);
        write_value(f, value);
        fputc('\n', f);
}

void metrics_write_sample(FILE *f, const char *name, double value, ...) {
        va_list ap;

        va_start(ap, value);
        write_sample_va(f, name, value, ap);
        va_end(ap);
}

void metrics_write_counts(FILE *f, const MetricsCounts *m) {
        metrics_write_header(f, "analysis_sandbox_analyses_ended_total", "counter",
                             "Analyses that ended on this host, by profile and how they ended.");
        for (size_t i = 0; i < m->n; i++)
                for (EndClass k = 0; k < _END_CLASS_MAX; k++)
                        metrics_write_sample(f, "analysis_sandbox_analyses_ended_total", (double) m->profiles[i].ended[k],
                                             "profile", m->profiles[i].profile, "result", end_class_to_string(k), NULL);
        metrics_write_header(f, "analysis_sandbox_limit_hits_total", "counter",
                             "Ended analyses that hit a limit, by profile and limit (memory: OOM kill, time: timeout, "
                             "tasks: a refused fork, disk: a full output directory).");
        for (size_t i = 0; i < m->n; i++)
                for (LimitKind k = 0; k < _LIMIT_KIND_MAX; k++)
                        metrics_write_sample(f, "analysis_sandbox_limit_hits_total", (double) m->profiles[i].hits[k],
                                             "profile", m->profiles[i].profile, "limit", limit_kind_to_string(k), NULL);
        metrics_write_header(f, "analysis_sandbox_memory_peak_ratio", "histogram",
                             "Peak memory of ended analyses divided by their memory limit.");
        for (size_t i = 0; i < m->n; i++) {
                const ProfileCounts *p = m->profiles + i;
                uint64_t cumulative = 0;

                for (size_t b = 0; b < METRICS_PEAK_BUCKETS; b++) {
                        char le[32];

                        cumulative += p->peak_buckets[b];
                        if (isinf(metrics_peak_bounds[b]))
                                snprintf(le, sizeof(le), "+Inf");
                        else
                                snprintf(le, sizeof(le), "%g", metrics_peak_bounds[b]);
                        metrics_write_sample(f, "analysis_sandbox_memory_peak_ratio_bucket", (double) cumulative,
                                             "profile", p->profile, "le", le, NULL);
                }
                metrics_write_sample(f, "analysis_sandbox_memory_peak_ratio_sum", p->peak_sum, "profile", p->profile, NULL);
                metrics_write_sample(f, "analysis_sandbox_memory_peak_ratio_count", (double) p->peak_count,
                                     "profile", p->profile, NULL);
        }
}
