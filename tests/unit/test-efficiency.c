/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for log-histogram.c, efficiency.c, limit-suggest.c, metrics.c and parse_timestamp(): quantiles within
 * their stated error, the efficiency lines, the suggest rule's rounding, the Prometheus text and the tally, and
 * the times report takes. */

#undef NDEBUG
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efficiency.h"
#include "limit-suggest.h"
#include "log-histogram.h"
#include "macro.h"
#include "metrics.h"
#include "parse-value.h"
#include "time-util.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define SEC UINT64_C(1000000)

static int double_cmp(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

static void expect_within(double got, double want, double relative) {
        if (fabs(got - want) > relative * want) {
                fprintf(stderr, "got %.9g, want %.9g within %g\n", got, want, relative);
                assert(false);
        }
}

static void test_histogram_quantiles(void) {
        static LogHistogram h;
        enum { N = 20000 };
        double *v = malloc(N * sizeof(double));
        const double qs[] = { 0.01, 0.25, 0.5, 0.9, 0.95, 0.99 };
        unsigned seed = 42;

        assert(v);
        log_histogram_init(&h);
        assert(isnan(log_histogram_quantile(&h, 0.5)));
        /* Ratios, bytes and microseconds alike: from 1e-4 to 1e12. */
        for (size_t i = 0; i < N; i++) {
                v[i] = exp(((double) rand_r(&seed) / RAND_MAX) * 37.0 - 9.2);
                log_histogram_add(&h, v[i]);
        }
        qsort(v, N, sizeof(double), double_cmp);
        for (size_t i = 0; i < ELEMENTSOF(qs); i++) {
                size_t rank = (size_t) ceil(qs[i] * N);

                expect_within(log_histogram_quantile(&h, qs[i]), v[rank - 1], LOG_HISTOGRAM_RELATIVE_ERROR);
        }
        assert(log_histogram_quantile(&h, 1) == v[N - 1]);
        assert(h.n == N);
        free(v);

        /* Bad values are left out; zero is kept apart and is the minimum. */
        log_histogram_init(&h);
        log_histogram_add(&h, NAN);
        log_histogram_add(&h, -1);
        log_histogram_add(&h, INFINITY);
        assert(h.n == 0);
        log_histogram_add(&h, 0);
        log_histogram_add(&h, 0.5);
        log_histogram_add(&h, 2);
        assert(h.n == 3);
        assert(log_histogram_quantile(&h, 0.1) == 0);
        expect_within(log_histogram_quantile(&h, 0.5), 0.5, LOG_HISTOGRAM_RELATIVE_ERROR);
        assert(log_histogram_quantile(&h, 1) == 2);
        assert(log_histogram_count_above(&h, 1) == 1);
        assert(log_histogram_count_above(&h, 2) == 0);
        assert(log_histogram_count_above(&h, 0.1) == 2);

        /* One value: every quantile is it, exactly (clamped to min and max). */
        log_histogram_init(&h);
        log_histogram_add(&h, 123456789);
        assert(log_histogram_quantile(&h, 0.5) == 123456789);
}

static void base_record(Record *r, const char *result, const char *exit_code, int64_t status) {
        record_init(r);
        r->id = strdup("a1");
        r->profile = strdup("tool");
        r->result = strdup(result);
        r->exit_code = exit_code ? strdup(exit_code) : NULL;
        r->exit_status = status;
        r->limits = r->profile_limits = (RecordLimits) { 512 * MiB, 50, 32, 300 * SEC, 256 * MiB };
        r->usage = (RecordUsage) {
                .runtime_usec = 8 * SEC,
                .cpu_usec = 1200000,
                .sandbox_cpu_usec = 31000,
                .memory_peak = 64 * MiB,
                .oom_kills = 0,
                .tasks_limit_hits = 0,
                .cpu_throttled_usec = 0,
                .disk_used = 0,
                .disk_full = 0,
                .tasks_peak = 8,
        };
}

static void expect_line(const Efficiency *e, EfficiencyKind k, uint64_t quota, const char *want) {
        _cleanup_free_ char *s = NULL;

        if (k == _EFFICIENCY_KIND_MAX)
                assert(efficiency_describe_tasks(e, &s) == 0);
        else
                assert(efficiency_describe(e, k, quota, &s) == 0);
        if (strcmp(s, want) != 0) {
                fprintf(stderr, "got:  %s\nwant: %s\n", s, want);
                assert(false);
        }
}

/* report --plot's bins: 10% wide from 0, the last one open; each value in the bin it falls in when it is away
 * from the edges. */
static void test_histogram_linear_counts(void) {
        static const double v[] = { 0, 0.05, 0.25, 0.26, 0.55, 0.95, 1.25, 1.45, 1.55, 40 };
        static const uint64_t expected[] = { 2, 0, 2, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 2 };
        uint64_t counts[ELEMENTSOF(expected)], one = 7;
        LogHistogram h;

        log_histogram_init(&h);
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                log_histogram_add(&h, v[i]);
        log_histogram_linear_counts(&h, 0.1, counts, ELEMENTSOF(counts));
        for (size_t i = 0; i < ELEMENTSOF(expected); i++)
                assert(counts[i] == expected[i]);
        /* One bin takes everything. */
        log_histogram_linear_counts(&h, 0.1, &one, 1);
        assert(one == ELEMENTSOF(v));
}

static void test_efficiency(void) {
        Efficiency e;
        Record r;

        base_record(&r, "success", "exited", 0);
        efficiency_from_record(&r, &e);
        /* CPU allowed is quota x runtime: 50% of 8 s; the sandbox's own CPU is not the analysis'. */
        assert(e.allowed[EFFICIENCY_CPU] == 4 * SEC);
        assert(e.used[EFFICIENCY_CPU] == 1200000);
        expect_within(efficiency_ratio(&e, EFFICIENCY_CPU), 0.3, 1e-12);
        expect_within(efficiency_ratio(&e, EFFICIENCY_MEMORY), 0.125, 1e-12);
        expect_line(&e, EFFICIENCY_MEMORY, 50, "memory 64.0 MiB of 512.0 MiB (12%)");
        expect_line(&e, EFFICIENCY_CPU, 50, "CPU 1.2 s of 4 s (30%: 50% quota x 8 s runtime)");
        expect_line(&e, EFFICIENCY_RUNTIME, 50, "runtime 8 s of 5 min (2.7%)");
        expect_line(&e, EFFICIENCY_TASKS, 50, "tasks: peak 8 of the limit 32 (25%)");
        expect_within(efficiency_ratio(&e, EFFICIENCY_TASKS), 0.25, 1e-12);
        /* A record without a peak (before usage.tasks_peak, or without samples) says what it has. */
        r.usage.tasks_peak = RECORD_UNSET;
        efficiency_from_record(&r, &e);
        expect_line(&e, EFFICIENCY_TASKS, 50, "tasks: limit 32, never reached (no fork refused; no task peak is recorded)");
        assert(isnan(efficiency_ratio(&e, EFFICIENCY_TASKS)));
        assert(end_class_from_record(&r) == END_SUCCESS);
        assert(limits_hit_from_record(&r) == 0);

        r.usage.tasks_limit_hits = 3;
        r.usage.memory_peak = RECORD_UNSET;
        r.limits.runtime_max_usec = RECORD_UNSET;
        efficiency_from_record(&r, &e);
        expect_line(&e, EFFICIENCY_MEMORY, 50, "memory not recorded");
        expect_line(&e, EFFICIENCY_RUNTIME, 50, "runtime 8 s, no limit");
        expect_line(&e, _EFFICIENCY_KIND_MAX, 50, "tasks: limit 32 reached, 3 forks refused (no task peak is recorded)");
        r.usage.tasks_peak = 32;
        efficiency_from_record(&r, &e);
        expect_line(&e, EFFICIENCY_TASKS, 50, "tasks: peak 32 of the limit 32 (100%), 3 forks refused");
        r.limits.tasks_max = RECORD_UNSET;
        efficiency_from_record(&r, &e);
        expect_line(&e, EFFICIENCY_TASKS, 50, "tasks: peak 32, no limit, 3 forks refused");
        r.limits.tasks_max = 32;
        r.usage.tasks_peak = RECORD_UNSET;
        efficiency_from_record(&r, &e);
        assert(isnan(efficiency_ratio(&e, EFFICIENCY_MEMORY)));
        /* Succeeded all the same: counted as a success that hit the task limit. */
        assert(end_class_from_record(&r) == END_SUCCESS);
        assert(limits_hit_from_record(&r) == 1u << LIMIT_TASKS);
        record_done(&r);

        base_record(&r, "exit-code", "exited", 1);
        r.usage.tasks_limit_hits = 2;
        assert(end_class_from_record(&r) == END_TASKS);
        record_done(&r);
        base_record(&r, "exit-code", "exited", 1);
        r.usage.disk_full = 1;
        assert(end_class_from_record(&r) == END_DISK);
        assert(limits_hit_from_record(&r) == 1u << LIMIT_DISK);
        record_done(&r);
        base_record(&r, "exit-code", "exited", 2);
        assert(end_class_from_record(&r) == END_EXIT_CODE);
        record_done(&r);
        base_record(&r, "oom-kill", "killed", -1);
        assert(end_class_from_record(&r) == END_MEMORY);
        assert(limits_hit_from_record(&r) == 1u << LIMIT_MEMORY);
        record_done(&r);
        base_record(&r, "timeout", "killed", -1);
        assert(end_class_from_record(&r) == END_TIME);
        record_done(&r);
        base_record(&r, "signal", "dumped", -1);
        assert(end_class_from_record(&r) == END_SIGNAL);
        record_done(&r);
        base_record(&r, "host-stopped", NULL, -1);
        assert(end_class_from_record(&r) == END_HOST_STOPPED);
        record_done(&r);
        base_record(&r, "cancelled", "killed", -1);
        assert(end_class_from_record(&r) == END_CANCELLED);
        record_done(&r);
        base_record(&r, "resources", NULL, -1);
        assert(end_class_from_record(&r) == END_OTHER);
        r.error = strdup("no such command");
        assert(end_class_from_record(&r) == END_NOT_RUN);
        record_done(&r);
}

static void test_suggest_rule(void) {
        static const struct {
                double bytes;
                uint64_t want;
                const char *text;
        } sizes[] = {
                { 0,                     16 * MiB,   "16M"   },
                { 1000,                  16 * MiB,   "16M"   },
                { 200.0 * MiB,           224 * MiB,  "224M"  },
                { 256.0 * MiB,           256 * MiB,  "256M"  },
                { 256.0 * MiB + 1,       320 * MiB,  "320M"  },
                { 1.1 * GiB,             1280 * MiB, "1280M" },
                { 1.9 * GiB,             2 * GiB,    "2G"    },
                { 5.0 * GiB,             5 * GiB,    "5G"    },
        };
        static const struct {
                double usec;
                uint64_t want;
                const char *text;
        } runtimes[] = {
                { 0,             10 * SEC,    "10s"     },
                { 41.5 * SEC,    50 * SEC,    "50s"     },
                { 60.0 * SEC,    60 * SEC,    "1min"    },
                { 65.6 * SEC,    120 * SEC,   "2min"    },
                { 601.0 * SEC,   900 * SEC,   "15min"   },
                { 3700.0 * SEC,  4500 * SEC,  "1h 15min" },
                { 90000.0 * SEC, 90000 * SEC, "1d 1h"   },
        };
        char buf[32];

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                uint64_t v = suggest_round_bytes(sizes[i].bytes);

                assert(v == sizes[i].want);
                assert(strcmp(suggest_format_bytes(v, buf, sizeof(buf)), sizes[i].text) == 0);
                /* What it prints, the profile parser reads back as the same size. */
                uint64_t parsed;
                assert(parse_size(buf, &parsed) == 0 && parsed == v);
        }
        for (size_t i = 0; i < ELEMENTSOF(runtimes); i++) {
                uint64_t v = suggest_round_runtime(runtimes[i].usec), parsed;

                assert(v == runtimes[i].want);
                assert(strcmp(suggest_format_runtime(v, buf, sizeof(buf)), runtimes[i].text) == 0);
                assert(parse_timespan(buf, &parsed) == 0 && parsed == v);
        }
        /* Tasks: as is to 20, then steps of 5, 10, 100. */
        static const struct {
                double tasks;
                uint64_t want;
        } tasks[] = {
                { 0, 10 }, { 3, 10 }, { 10, 10 }, { 10.2, 11 }, { 17, 17 }, { 20, 20 }, { 20.5, 25 }, { 21, 25 },
                { 99.1, 100 }, { 100, 100 }, { 101, 110 }, { 999, 1000 }, { 1000, 1000 }, { 1001, 1100 },
                { 12345, 13000 },
        };
        for (size_t i = 0; i < ELEMENTSOF(tasks); i++) {
                uint64_t v = suggest_round_tasks(tasks[i].tasks);

                if (v != tasks[i].want) {
                        fprintf(stderr, "suggest_round_tasks(%g) = %" PRIu64 ", want %" PRIu64 "\n", tasks[i].tasks, v,
                                tasks[i].want);
                        assert(false);
                }
        }
        assert(suggest_round_cpu_percent(0, 400) == 10);
        assert(suggest_round_cpu_percent(57.5, 400) == 60);
        assert(suggest_round_cpu_percent(60, 400) == 60);
        assert(suggest_round_cpu_percent(390.1, 400) == 400);
        assert(suggest_round_cpu_percent(900, 400) == 400);
        /* p95 plus the margin, never below the largest success. */
        expect_within(suggest_value(100, 110, 15), 115, 1e-12);
        expect_within(suggest_value(100, 130, 15), 130, 1e-12);
        expect_within(suggest_value(100, 100, 0), 100, 1e-12);
}

static void test_timestamps(void) {
        /* 2026-12-07 03:04:05 UTC */
        const uint64_t now = UINT64_C(1796612645) * SEC;
        uint64_t t;

        setenv("TZ", "UTC", 1);
        tzset();
        assert(parse_timestamp("now", now, &t) == 0 && t == now);
        assert(parse_timestamp("today", now, &t) == 0 && t == UINT64_C(1796601600) * SEC);
        assert(parse_timestamp("yesterday", now, &t) == 0 && t == UINT64_C(1796515200) * SEC);
        assert(parse_timestamp("tomorrow", now, &t) == 0 && t == UINT64_C(1796688000) * SEC);
        assert(parse_timestamp("2026-12-01", now, &t) == 0 && t == UINT64_C(1796083200) * SEC);
        assert(parse_timestamp("2026-12-01 08:30", now, &t) == 0 && t == UINT64_C(1796113800) * SEC);
        assert(parse_timestamp("2026-12-01 08:30:15", now, &t) == 0 && t == UINT64_C(1796113815) * SEC);
        assert(parse_timestamp("2026-12-01T08:30:15", now, &t) == 0 && t == UINT64_C(1796113815) * SEC);
        assert(parse_timestamp("08:30", now, &t) == 0 && t == UINT64_C(1796632200) * SEC);
        assert(parse_timestamp("-7d", now, &t) == 0 && t == now - 7 * 86400 * SEC);
        assert(parse_timestamp("2h 30min ago", now, &t) == 0 && t == now - 9000 * SEC);
        assert(parse_timestamp("+1h", now, &t) == 0 && t == now + 3600 * SEC);
        assert(parse_timestamp("@1796083200", now, &t) == 0 && t == UINT64_C(1796083200) * SEC);
        assert(parse_timestamp("soon", now, &t) == -EINVAL);
        assert(parse_timestamp("2026-13-01", now, &t) == -EINVAL);
        assert(parse_timestamp("2026-12-01 25:00", now, &t) == -EINVAL);
        assert(parse_timestamp("-", now, &t) == -EINVAL);
        assert(parse_timestamp("-infinity", now, &t) == -EINVAL);
        assert(parse_timestamp("", now, &t) == -EINVAL);
}

static char *metrics_text(const MetricsCounts *m) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert(f);
        metrics_write_counts(f, m);
        assert(fclose(f) == 0);
        return text;
}

static void test_metrics(void) {
        _cleanup_(metrics_counts_done) MetricsCounts m = {}, again = {};
        _cleanup_free_ char *text = NULL, *tally = NULL, *text2 = NULL, *line = NULL;
        size_t size = 0;
        FILE *f;
        Record r;

        base_record(&r, "success", "exited", 0);
        assert(metrics_counts_add_record(&m, &r) == 0);         /* ratio 0.125: bucket le=0.25 */
        r.usage.memory_peak = 512 * MiB;
        assert(metrics_counts_add_record(&m, &r) == 0);         /* ratio 1: le=1 */
        record_done(&r);
        base_record(&r, "oom-kill", "killed", -1);
        free(r.profile);
        r.profile = strdup("we\"ird\\\nname");
        r.usage.memory_peak = 600 * MiB;
        assert(metrics_counts_add_record(&m, &r) == 0);         /* above the limit: only le=+Inf */
        record_done(&r);

        text = metrics_text(&m);
        assert(strstr(text, "# HELP analysis_sandbox_analyses_ended_total "));
        assert(strstr(text, "# TYPE analysis_sandbox_analyses_ended_total counter\n"));
        assert(strstr(text, "# TYPE analysis_sandbox_memory_peak_ratio histogram\n"));
        assert(strstr(text, "analysis_sandbox_analyses_ended_total{profile=\"tool\",result=\"success\"} 2\n"));
        assert(strstr(text, "analysis_sandbox_analyses_ended_total{profile=\"tool\",result=\"memory\"} 0\n"));
        assert(strstr(text, "analysis_sandbox_limit_hits_total{profile=\"_other\",limit=\"memory\"} 1\n"));
        assert(strstr(text, "analysis_sandbox_memory_peak_ratio_bucket{profile=\"tool\",le=\"0.1\"} 0\n"));
        assert(strstr(text, "analysis_sandbox_memory_peak_ratio_bucket{profile=\"tool\",le=\"0.25\"} 1\n"));
        assert(strstr(text, "analysis_sandbox_memory_peak_ratio_bucket{profile=\"tool\",le=\"1\"} 2\n"));
        assert(strstr(text, "analysis_sandbox_memory_peak_ratio_bucket{profile=\"tool\",le=\"+Inf\"} 2\n"));
        assert(strstr(text, "analysis_sandbox_memory_peak_ratio_sum{profile=\"tool\"} 1.125\n"));
        assert(strstr(text, "analysis_sandbox_memory_peak_ratio_count{profile=\"tool\"} 2\n"));
        assert(strstr(text, "le=\"1\"} 0\n"));          /* the weird profile's peak was above its limit */

        /* The tally reads back to the same counters, and adds to what is there. */
        f = open_memstream(&tally, &size);
        assert(f);
        assert(metrics_tally_write(&m, f) == 0);
        assert(fclose(f) == 0);
        assert(metrics_tally_parse(&again, tally) == 0);
        text2 = metrics_text(&again);
        assert(strstr(text2, "analysis_sandbox_analyses_ended_total{profile=\"tool\",result=\"success\"} 2\n"));
        assert(strstr(text2, "analysis_sandbox_memory_peak_ratio_sum{profile=\"tool\"} 1.125\n"));
        assert(metrics_tally_parse(&again, "tool ended.success 5\n") == 0);
        free(text2);
        text2 = metrics_text(&again);
        assert(strstr(text2, "analysis_sandbox_analyses_ended_total{profile=\"tool\",result=\"success\"} 7\n"));
        assert(metrics_tally_parse(&again, "tool ended.nonsense 5\n") == -EBADMSG);
        assert(metrics_tally_parse(&again, "tool ended.success -5\n") == -EBADMSG);
        assert(metrics_tally_parse(&again, "tool ended.success\n") == -EBADMSG);
        assert(metrics_tally_parse(&again, "tool peak.sum nan\n") == -EBADMSG);

        /* A sample without labels. */
        f = open_memstream(&line, &size);
        assert(f);
        metrics_write_sample(f, "x_total", 3, NULL);
        metrics_write_sample(f, "y", 0.5, "a", "b", "c", "q\"b\\s\nn", NULL);
        assert(fclose(f) == 0);
        assert(strcmp(line, "x_total 3\ny{a=\"b\",c=\"q\\\"b\\\\s\\nn\"} 0.5\n") == 0);
}

int main(void) {
        test_histogram_quantiles();
        test_histogram_linear_counts();
        test_efficiency();
        test_suggest_rule();
        test_timestamps();
        test_metrics();
        return 0;
}
