/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl report: per profile, how the analyses in a time range ended, how much of their limits they used
 * (median, 95th percentile, maximum: seff's efficiencies across many), the allocation they left unused and those
 * that hit a limit; with --plot, the distributions of peak memory and runtime against the limits as SVG. Any
 * number of records in bounded memory: a fixed log-scale histogram per ratio. */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis-id.h"
#include "ctl.h"
#include "efficiency.h"
#include "exit-status.h"
#include "json-writer.h"
#include "log-histogram.h"
#include "log.h"
#include "parse-value.h"
#include "result-access.h"
#include "svg-chart.h"

/* Beyond this many profiles the rest are counted together, so that memory stays bounded whatever the records
 * name. */
#define REPORT_PROFILES_MAX 256
#define REPORT_OTHER_PROFILES "(other profiles)"
/* The analyses that hit a limit are counted; this many of the latest are named. */
#define REPORT_HITS_SHOWN 10

/* report --plot: two panels a profile (a chart holds SVG_CHART_PANELS_MAX), bars 10% of the limit wide from 0
 * to 150%, the last bar everything above. */
#define PLOT_PROFILES_MAX (SVG_CHART_PANELS_MAX / 2)
#define PLOT_WIDTH 800
#define PLOT_PANEL_HEIGHT 210
#define PLOT_BIN_PERCENT 10
#define PLOT_BINS 16

typedef struct LimitHit {
        char id[ANALYSIS_ID_MAX + 1];
        unsigned limits;                /* bits of LimitKind */
        uint64_t finished_at_usec;
        double ratio[_EFFICIENCY_KIND_MAX];
} LimitHit;

typedef struct ProfileReport {
        char *name;
        uint64_t n;
        uint64_t ended[_END_CLASS_MAX];
        LogHistogram ratio[_EFFICIENCY_KIND_MAX];
        /* Unused allocation: limit minus use, over the runtime, of the analyses where both are known. */
        double memory_byte_usec_allowed, memory_byte_usec_unused;
        double cpu_usec_allowed, cpu_usec_unused;
        uint64_t n_hits;
        uint64_t hits_by_limit[_LIMIT_KIND_MAX];
        LimitHit latest[REPORT_HITS_SHOWN];     /* unordered; finished_at_usec 0: empty */
        uint64_t first_usec, last_usec;
} ProfileReport;

typedef struct Report {
        ProfileReport *profiles;
        size_t n_profiles;
        uint64_t n_records;
} Report;

static void report_done(Report *r) {
        for (size_t i = 0; i < r->n_profiles; i++)
                free(r->profiles[i].name);
        free(r->profiles);
}

static int profile_cmp(const void *a, const void *b) {
        const ProfileReport *x = a, *y = b;

        return strcmp(x->name, y->name);
}

static ProfileReport *report_profile(Report *rep, const char *name) {
        ProfileReport *p;

        if (!name)
                name = "(unknown)";
        for (size_t i = 0; i < rep->n_profiles; i++)
                if (strcmp(rep->profiles[i].name, name) == 0)
                        return rep->profiles + i;
        if (rep->n_profiles >= REPORT_PROFILES_MAX)
                return report_profile(rep, REPORT_OTHER_PROFILES);
        p = realloc(rep->profiles, (rep->n_profiles + 1) * sizeof(ProfileReport));
        if (!p)
                return NULL;
        rep->profiles = p;
        p += rep->n_profiles;
        *p = (ProfileReport) { .first_usec = UINT64_MAX };
        for (EfficiencyKind k = 0; k < _EFFICIENCY_KIND_MAX; k++)
                log_histogram_init(&p->ratio[k]);
        p->name = strdup(name);
        if (!p->name)
                return NULL;
        rep->n_profiles++;
        return p;
}

static void note_hit(ProfileReport *p, const Record *r, unsigned limits, const Efficiency *e) {
        LimitHit *slot = p->latest;
        uint64_t t = r->finished_at_usec != RECORD_UNSET ? r->finished_at_usec : 1;

        for (size_t i = 0; i < REPORT_HITS_SHOWN; i++)
                if (p->latest[i].finished_at_usec < slot->finished_at_usec)
                        slot = p->latest + i;
        if (slot->finished_at_usec > t || strlen(r->id) > ANALYSIS_ID_MAX)
                return;
        *slot = (LimitHit) { .limits = limits, .finished_at_usec = t };
        strcpy(slot->id, r->id);
        for (EfficiencyKind k = 0; k < _EFFICIENCY_KIND_MAX; k++)
                slot->ratio[k] = efficiency_ratio(e, k);
}

static int report_add(const Record *r, const char *dir, void *userdata) {
        Report *rep = userdata;
        ProfileReport *p = report_profile(rep, r->profile);
        uint64_t t = r->finished_at_usec != RECORD_UNSET ? r->finished_at_usec : r->started_at_usec;
        unsigned limits;
        Efficiency e;

        if (!p)
                return -ENOMEM;
        rep->n_records++;
        p->n++;
        p->ended[end_class_from_record(r)]++;
        if (t != RECORD_UNSET) {
                p->first_usec = MIN(p->first_usec, t);
                p->last_usec = MAX(p->last_usec, t);
        }
        efficiency_from_record(r, &e);
        for (EfficiencyKind k = 0; k < _EFFICIENCY_KIND_MAX; k++)
                log_histogram_add(&p->ratio[k], efficiency_ratio(&e, k));
        if (e.used[EFFICIENCY_MEMORY] != RECORD_UNSET && e.allowed[EFFICIENCY_MEMORY] != RECORD_UNSET &&
            r->usage.runtime_usec != RECORD_UNSET) {
                double allowed = (double) e.allowed[EFFICIENCY_MEMORY] * (double) r->usage.runtime_usec;
                double used = (double) e.used[EFFICIENCY_MEMORY] * (double) r->usage.runtime_usec;

                p->memory_byte_usec_allowed += allowed;
                p->memory_byte_usec_unused += MAX(allowed - used, 0.0);
        }
        if (e.used[EFFICIENCY_CPU] != RECORD_UNSET && e.allowed[EFFICIENCY_CPU] != RECORD_UNSET) {
                p->cpu_usec_allowed += (double) e.allowed[EFFICIENCY_CPU];
                p->cpu_usec_unused += MAX((double) e.allowed[EFFICIENCY_CPU] - (double) e.used[EFFICIENCY_CPU], 0.0);
        }
        limits = limits_hit_from_record(r);
        if (limits != 0) {
                p->n_hits++;
                for (LimitKind k = 0; k < _LIMIT_KIND_MAX; k++)
                        if (limits & (1u << k))
                                p->hits_by_limit[k]++;
                note_hit(p, r, limits, &e);
        }
        return 0;
}

static int hit_cmp(const void *a, const void *b) {
        const LimitHit *x = a, *y = b;

        return x->finished_at_usec < y->finished_at_usec ? 1 : x->finished_at_usec > y->finished_at_usec ? -1 : 0;
}

static const char *format_ratio(double v, char *buf, size_t n) {
        if (isnan(v))
                snprintf(buf, n, "-");
        else if (v < 0.1)
                snprintf(buf, n, "%.1f%%", v * 100);
        else
                snprintf(buf, n, "%.0f%%", v * 100);
        return buf;
}

static const char *format_local(uint64_t usec, char *buf, size_t n) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (usec == RECORD_UNSET || usec == UINT64_MAX || !localtime_r(&t, &tm) ||
            strftime(buf, n, "%Y-%m-%d %H:%M", &tm) == 0)
                snprintf(buf, n, "-");
        return buf;
}

static const char *limits_text(unsigned limits, char *buf, size_t n) {
        size_t k = 0;

        buf[0] = '\0';
        for (LimitKind l = 0; l < _LIMIT_KIND_MAX; l++)
                if (limits & (1u << l))
                        k += (size_t) snprintf(buf + k, k < n ? n - k : 0, "%s%s", k ? "," : "", limit_kind_to_string(l));
        return buf;
}

static void print_profile(const ProfileReport *p) {
        static const char * const labels[_EFFICIENCY_KIND_MAX] = {
                [EFFICIENCY_MEMORY]  = "Memory:",
                [EFFICIENCY_CPU]     = "CPU:",
                [EFFICIENCY_RUNTIME] = "Runtime:",
                [EFFICIENCY_TASKS]   = "Tasks:",
        };
        static const char * const of_what[_EFFICIENCY_KIND_MAX] = {
                [EFFICIENCY_MEMORY]  = "peak of the memory limit",
                [EFFICIENCY_CPU]     = "CPU time of quota x runtime",
                [EFFICIENCY_RUNTIME] = "of the time limit",
                [EFFICIENCY_TASKS]   = "task peak of the task limit",
        };
        LimitHit hits[REPORT_HITS_SHOWN];
        char a[32], b[32], c[32];
        size_t n_hits = 0;
        const char *sep = "";

        printf("Profile %s: %" PRIu64 " analys%s, %s to %s\n", p->name, p->n, p->n == 1 ? "is" : "es",
               format_local(p->first_usec, a, sizeof(a)), format_local(p->last_usec, b, sizeof(b)));
        printf("  %-9s", "Ended:");
        for (EndClass e = 0; e < _END_CLASS_MAX; e++) {
                /* The common ones always, so that a zero reads as none rather than as not counted. */
                if (p->ended[e] == 0 && e > END_CANCELLED)
                        continue;
                printf("%s%s %" PRIu64, sep, end_class_to_string(e), p->ended[e]);
                sep = ", ";
        }
        putchar('\n');
        for (EfficiencyKind k = 0; k < _EFFICIENCY_KIND_MAX; k++) {
                const LogHistogram *h = &p->ratio[k];

                if (h->n == 0) {
                        printf("  %-9sno analysis with both figures\n", labels[k]);
                        continue;
                }
                printf("  %-9smedian %s, 95th percentile %s, max %s (%s; %" PRIu64 " analys%s)\n",
                       labels[k], format_ratio(log_histogram_quantile(h, 0.5), a, sizeof(a)),
                       format_ratio(log_histogram_quantile(h, 0.95), b, sizeof(b)),
                       format_ratio(log_histogram_quantile(h, 1), c, sizeof(c)), of_what[k], h->n, h->n == 1 ? "is" : "es");
        }
        if (p->memory_byte_usec_allowed > 0 || p->cpu_usec_allowed > 0) {
                const double gib_h = 1024.0 * 1024 * 1024 * 3600 * 1e6, cpu_h = 3600 * 1e6;

                printf("  %-9s%.1f of %.1f GiB-hours of memory, %.2f of %.2f CPU-hours\n", "Unused:",
                       p->memory_byte_usec_unused / gib_h, p->memory_byte_usec_allowed / gib_h,
                       p->cpu_usec_unused / cpu_h, p->cpu_usec_allowed / cpu_h);
        }
        if (p->n_hits == 0) {
                printf("  %-9snone\n", "Limits:");
                return;
        }
        printf("  %-9s%" PRIu64 " analys%s hit a limit (memory %" PRIu64 ", time %" PRIu64 ", tasks %" PRIu64
               ", disk %" PRIu64 ")%s\n", "Limits:", p->n_hits, p->n_hits == 1 ? "is" : "es",
               p->hits_by_limit[LIMIT_MEMORY], p->hits_by_limit[LIMIT_TIME], p->hits_by_limit[LIMIT_TASKS],
               p->hits_by_limit[LIMIT_DISK], p->n_hits > REPORT_HITS_SHOWN ? ", the latest:" : ":");
        for (size_t i = 0; i < REPORT_HITS_SHOWN; i++)
                if (p->latest[i].finished_at_usec > 0)
                        hits[n_hits++] = p->latest[i];
        qsort(hits, n_hits, sizeof(LimitHit), hit_cmp);
        for (size_t i = 0; i < n_hits; i++) {
                char l[64], m[16], t[16];

                printf("    %s  %-16s %-12s memory %s, runtime %s\n", format_local(hits[i].finished_at_usec, a, sizeof(a)),
                       hits[i].id, limits_text(hits[i].limits, l, sizeof(l)),
                       format_ratio(hits[i].ratio[EFFICIENCY_MEMORY], m, sizeof(m)),
                       format_ratio(hits[i].ratio[EFFICIENCY_RUNTIME], t, sizeof(t)));
        }
}

static void json_time_or_null(JsonWriter *w, const char *key, uint64_t usec) {
        json_key(w, key);
        if (usec == 0 || usec == UINT64_MAX || usec == RECORD_UNSET)
                json_null(w);
        else
                json_seconds(w, usec);
}

static void write_json_profile(JsonWriter *w, const ProfileReport *p) {
        LimitHit hits[REPORT_HITS_SHOWN];
        size_t n_hits = 0;

        json_begin_object(w);
        json_key(w, "profile");
        json_string(w, p->name);
        json_key(w, "analyses");
        json_uint(w, p->n);
        json_time_or_null(w, "first_sec", p->first_usec);
        json_time_or_null(w, "last_sec", p->last_usec);
        json_key(w, "ended");
        json_begin_object(w);
        for (EndClass e = 0; e < _END_CLASS_MAX; e++) {
                json_key(w, end_class_to_string(e));
                json_uint(w, p->ended[e]);
        }
        json_end_object(w);
        json_key(w, "ratios");
        json_begin_object(w);
        for (EfficiencyKind k = 0; k < _EFFICIENCY_KIND_MAX; k++) {
                const LogHistogram *h = &p->ratio[k];

                json_key(w, efficiency_kind_to_string(k));
                json_begin_object(w);
                json_key(w, "analyses");
                json_uint(w, h->n);
                json_key(w, "median");
                json_double(w, log_histogram_quantile(h, 0.5));
                json_key(w, "p95");
                json_double(w, log_histogram_quantile(h, 0.95));
                json_key(w, "max");
                json_double(w, log_histogram_quantile(h, 1));
                json_end_object(w);
        }
        json_end_object(w);
        json_key(w, "unused");
        json_begin_object(w);
        json_key(w, "memory_byte_hours");
        json_double(w, p->memory_byte_usec_unused / 3600e6);
        json_key(w, "memory_byte_hours_allowed");
        json_double(w, p->memory_byte_usec_allowed / 3600e6);
        json_key(w, "cpu_hours");
        json_double(w, p->cpu_usec_unused / 3600e6);
        json_key(w, "cpu_hours_allowed");
        json_double(w, p->cpu_usec_allowed / 3600e6);
        json_end_object(w);
        json_key(w, "limit_hits");
        json_begin_object(w);
        json_key(w, "analyses");
        json_uint(w, p->n_hits);
        for (LimitKind l = 0; l < _LIMIT_KIND_MAX; l++) {
                json_key(w, limit_kind_to_string(l));
                json_uint(w, p->hits_by_limit[l]);
        }
        for (size_t i = 0; i < REPORT_HITS_SHOWN; i++)
                if (p->latest[i].finished_at_usec > 0)
                        hits[n_hits++] = p->latest[i];
        qsort(hits, n_hits, sizeof(LimitHit), hit_cmp);
        json_key(w, "latest");
        json_begin_array(w);
        for (size_t i = 0; i < n_hits; i++) {
                json_begin_object(w);
                json_key(w, "id");
                json_string(w, hits[i].id);
                json_time_or_null(w, "finished_sec", hits[i].finished_at_usec > 1 ? hits[i].finished_at_usec : 0);
                json_key(w, "limits");
                json_begin_array(w);
                for (LimitKind l = 0; l < _LIMIT_KIND_MAX; l++)
                        if (hits[i].limits & (1u << l))
                                json_string(w, limit_kind_to_string(l));
                json_end_array(w);
                for (EfficiencyKind k = 0; k < _EFFICIENCY_KIND_MAX; k++) {
                        json_key(w, efficiency_kind_to_string(k));
                        json_double(w, hits[i].ratio[k]);
                }
                json_end_object(w);
        }
        json_end_array(w);
        json_end_object(w);
        json_end_object(w);
}

/* The distributions are drawn as shares of the limit rather than in bytes and seconds: the analyses of one
 * profile may have run under different limits (a drop-in from suggest --write, a request that asked for less),
 * and a share compares each with the limit it ran under, which is the question (how close do they come, how much
 * is never used). It also gives every panel one x axis, with the limit at 100%, and it is what report's
 * histograms hold. Bars are linear 10% bins: the readers want "most use 20-30%", not a log scale. */
static int build_plot(const Ctl *c, const Report *rep, SvgChart **ret) {
        static const struct {
                EfficiencyKind kind;
                const char *what, *bars, *color;
        } panels[] = {
                { EFFICIENCY_MEMORY,  "peak memory ÷ memory limit", "analyses by memory peak", "#1f77b4" },
                { EFFICIENCY_RUNTIME, "runtime ÷ time limit",       "analyses by runtime",     "#2ca02c" },
        };
        _cleanup_(svg_chart_freep) SvgChart *chart = NULL;
        _cleanup_free_ char *title = NULL;
        size_t n = MIN(rep->n_profiles, (size_t) PLOT_PROFILES_MAX);
        double x[PLOT_BINS];
        int r;

        title = strprintf("Peak memory and runtime against the limits, per profile (%" PRIu64 " analys%s%s)",
                          rep->n_records, rep->n_records == 1 ? "is" : "es", ctl_sees_everyone(c) ? "" : " of yours");
        if (!title)
                return -ENOMEM;
        r = svg_chart_new(title, PLOT_WIDTH, (unsigned) (110 + PLOT_PANEL_HEIGHT * ELEMENTSOF(panels) * MAX(n, (size_t) 1)),
                          &chart);
        if (r < 0)
                return r;
        svg_chart_set_x(chart, "Share of the limit the analysis ran under (%; the last bar: 150% and more)",
                        SVG_UNIT_PLAIN, PLOT_BIN_PERCENT * PLOT_BINS);
        for (size_t i = 0; i < PLOT_BINS; i++)
                x[i] = (double) (i * PLOT_BIN_PERCENT);
        for (size_t i = 0; i < n; i++) {
                const ProfileReport *p = rep->profiles + i;

                for (size_t k = 0; k < ELEMENTSOF(panels); k++) {
                        const LogHistogram *h = &p->ratio[panels[k].kind];
                        _cleanup_free_ char *t = NULL;
                        uint64_t counts[PLOT_BINS];
                        double y[PLOT_BINS];
                        int panel;

                        panel = svg_chart_add_panel(chart, "Analyses", SVG_UNIT_PLAIN, 4);
                        if (panel < 0)
                                return panel;
                        t = strprintf("Profile %s: %s (%" PRIu64 " of %" PRIu64 " analys%s)", p->name, panels[k].what,
                                      h->n, p->n, p->n == 1 ? "is" : "es");
                        if (!t)
                                return -ENOMEM;
                        r = svg_chart_set_panel_title(chart, panel, t);
                        if (r < 0)
                                return r;
                        log_histogram_linear_counts(h, PLOT_BIN_PERCENT / 100.0, counts, PLOT_BINS);
                        for (size_t b = 0; b < PLOT_BINS; b++)
                                y[b] = (double) counts[b];
                        r = svg_chart_add_bars(chart, panel, panels[k].bars, panels[k].color, x, PLOT_BIN_PERCENT, y,
                                               PLOT_BINS);
                        if (r >= 0)
                                r = svg_chart_add_x_limit(chart, panel, "the limit (100%)", "#d62728", 100);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(chart);
        return 0;
}

/* Writes the picture to c->plot, or to standard output for "-". Returns an exit status. */
static int write_plot(const Ctl *c, const Report *rep) {
        _cleanup_(svg_chart_freep) SvgChart *chart = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        r = build_plot(c, rep, &chart);
        if (r < 0)
                return log_oom(), EXIT_CTL_FAILURE;
        if (rep->n_profiles > PLOT_PROFILES_MAX)
                log_warning("The picture shows the first %d of %zu profiles; choose others with --profile=NAME.",
                            PLOT_PROFILES_MAX, rep->n_profiles);
        if (strcmp(c->plot, "-") == 0)
                return svg_chart_write(chart, stdout) < 0 || fflush(stdout) != 0 ? EXIT_CTL_FAILURE : EXIT_SUCCESS;
        f = fopen(c->plot, "we");
        if (!f)
                return log_error_errno(errno, "Cannot create %s: %m", c->plot), EXIT_CTL_FAILURE;
        r = svg_chart_write(chart, f);
        if (r >= 0 && fflush(f) != 0)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Cannot write %s: %m", c->plot), EXIT_CTL_FAILURE;
        return EXIT_SUCCESS;
}

int ctl_record_filter(Ctl *c, RecordFilter *ret) {
        *ret = (RecordFilter) {
                .profile = c->profile,
                .since_usec = c->since_usec,
                .until_usec = c->until_usec,
                .caller = c->caller,
        };
        if (c->caller != (uid_t) -1 && c->caller != getuid() && !ctl_sees_everyone(c)) {
                log_error("Only root and members of the group '%s' may see other users' analyses.", RESULT_ADMIN_GROUP);
                return EXIT_SETUP_PERMISSION;
        }
        return 0;
}

static void warn_skipped(uint64_t skipped) {
        if (skipped > 0)
                log_warning("%" PRIu64 " record%s could not be read and %s left out.", skipped, skipped == 1 ? "" : "s",
                            skipped == 1 ? "was" : "were");
}

int verb_report(Ctl *c, char **args) {
        _cleanup_(report_done) Report rep = {};
        RecordFilter filter;
        uint64_t skipped = 0;
        int r;

        r = ctl_record_filter(c, &filter);
        if (r != 0)
                return r;
        r = ctl_records_foreach(c, &filter, false, report_add, &rep, &skipped);
        if (r < 0)
                return log_error_errno(r, "Cannot read the records in %s: %m", c->paths.results_dir), EXIT_CTL_FAILURE;
        if (rep.n_profiles > 0)
                qsort(rep.profiles, rep.n_profiles, sizeof(ProfileReport), profile_cmp);
        if (c->plot) {
                r = write_plot(c, &rep);
                /* Standard output carries the picture: the text or JSON would make it invalid. */
                if (r != EXIT_SUCCESS || strcmp(c->plot, "-") == 0) {
                        warn_skipped(skipped);
                        return r;
                }
        }
        if (c->json) {
                JsonWriter w = { .f = stdout };

                json_begin_object(&w);
                json_time_or_null(&w, "since_sec", c->since_usec);
                json_time_or_null(&w, "until_sec", c->until_usec);
                json_key(&w, "everyone");
                json_bool(&w, ctl_sees_everyone(c));
                json_key(&w, "analyses");
                json_uint(&w, rep.n_records);
                json_key(&w, "skipped");
                json_uint(&w, skipped);
                json_key(&w, "relative_error");
                json_double(&w, LOG_HISTOGRAM_RELATIVE_ERROR);
                json_key(&w, "profiles");
                json_begin_array(&w);
                for (size_t i = 0; i < rep.n_profiles; i++)
                        write_json_profile(&w, rep.profiles + i);
                json_end_array(&w);
                json_end_object(&w);
                putchar('\n');
                return EXIT_SUCCESS;
        }
        if (!c->quiet)
                printf("%" PRIu64 " analys%s%s%s (ratios within %.0f%%)%s\n\n", rep.n_records, rep.n_records == 1 ? "is" : "es",
                       ctl_sees_everyone(c) ? "" : " of yours", c->profile ? " of that profile" : "",
                       LOG_HISTOGRAM_RELATIVE_ERROR * 100, rep.n_records == 0 ? "." : ":");
        for (size_t i = 0; i < rep.n_profiles; i++) {
                print_profile(rep.profiles + i);
                if (i + 1 < rep.n_profiles)
                        putchar('\n');
        }
        warn_skipped(skipped);
        return EXIT_SUCCESS;
}
