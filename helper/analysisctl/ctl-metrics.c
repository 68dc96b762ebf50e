/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl metrics: this host's analyses in Prometheus' text exposition format, for node_exporter's textfile
 * collector (analysis-sandbox-metrics.timer): counters of ended analyses from the records here, never below
 * what analysisctl gc removed (the tally), and gauges of the running ones against their limits. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "ctl.h"
#include "exit-status.h"
#include "fs-util.h"
#include "log.h"
#include "metrics.h"
#include "parse-value.h"
#include "record-file.h"
#include "strv.h"
#include "time-util.h"

#define TALLY_NAME "metrics-tally"
#define TALLY_MAX (1024 * 1024)

/* The tally beside the results directory: /var/lib/analysis-sandbox/metrics-tally. */
static char *tally_dir(const Ctl *c) {
        _cleanup_free_ char *copy = strdup(c->paths.results_dir);

        return copy ? strdup(dirname(copy)) : NULL;
}

static int tally_load(const char *dir, MetricsCounts *m) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, TALLY_NAME), *text = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? 0 : -errno;
        r = read_file_tail(path, TALLY_MAX, &text);
        if (r < 0)
                return r;
        return metrics_tally_parse(m, text);
}

int ctl_metrics_tally_fold(Ctl *c, const char *results_dir, char * const *ids) {
        _cleanup_(metrics_counts_done) MetricsCounts m = {};
        _cleanup_free_ char *dir = tally_dir(c), *text = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        size_t size = 0, n = 0;
        FILE *f;
        int r;

        if (!dir)
                return -ENOMEM;
        STRV_FOREACH(id, ids) {
                _cleanup_free_ char *reason = NULL;
                Record rec;

                r = record_file_load(results_dir, *id, &rec, NULL, NULL, &reason);
                if (r == -ENOENT || r == -EBADMSG)      /* no record (output files alone), or one nobody can count */
                        continue;
                if (r < 0)
                        return r;
                r = metrics_counts_add_record(&m, &rec);
                record_done(&rec);
                if (r < 0)
                        return r;
                n++;
        }
        if (n == 0)
                return 0;
        r = tally_load(dir, &m);
        if (r < 0)
                return r;
        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        r = metrics_tally_write(&m, f);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        return write_file_atomic_at(dir_fd, TALLY_NAME, text, size, 0644);
}

static int count_record(const Record *r, const char *dir, void *userdata) {
        return metrics_counts_add_record(userdata, r);
}

typedef struct RunningProfile {
        char *profile;
        uint64_t n;
        double memory, memory_limit, cpu, cpu_allowed, tasks, tasks_limit;
} RunningProfile;

typedef struct Running {
        RunningProfile *profiles;
        size_t n;
} Running;

static void running_done(Running *r) {
        for (size_t i = 0; i < r->n; i++)
                free(r->profiles[i].profile);
        free(r->profiles);
}

static RunningProfile *running_profile(Running *run, const char *profile) {
        RunningProfile *p;

        for (size_t i = 0; i < run->n; i++)
                if (strcmp(run->profiles[i].profile, profile) == 0)
                        return run->profiles + i;
        if (run->n >= METRICS_PROFILES_MAX)
                return running_profile(run, METRICS_OTHER_PROFILE);
        p = realloc(run->profiles, (run->n + 1) * sizeof(RunningProfile));
        if (!p)
                return NULL;
        run->profiles = p;
        p += run->n;
        *p = (RunningProfile) { .profile = strdup(profile) };
        if (!p->profile)
                return NULL;
        run->n++;
        return p;
}

/* The running analyses of the manager, summed per profile. Returns 0, or an exit status after saying why. */
static int read_running(Ctl *c, Running *run) {
        uint64_t now = now_usec(CLOCK_REALTIME);
        AnalysisUnit *units = NULL;
        size_t n = 0;
        int r;

        r = ctl_list_units(c, NULL, &units, &n);
        if (r != 0)
                return r;
        for (size_t i = 0; i < n && r == 0; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                RunningProfile *p;
                UnitUsage u;

                if (!analysis_unit_is_running(units + i))
                        continue;
                p = running_profile(run, units[i].profile ?: "");
                if (!p) {
                        r = log_oom();
                        break;
                }
                p->n++;
                /* It may have ended since it was listed: counted, without figures. */
                if (unit_usage_read(c->bus, units[i].unit, &u, &error) < 0)
                        continue;
                if (u.memory_current != UINT64_MAX)
                        p->memory += (double) u.memory_current;
                if (u.memory_max != UINT64_MAX)
                        p->memory_limit += (double) u.memory_max;
                if (u.cpu_usage_nsec != UINT64_MAX)
                        p->cpu += (double) u.cpu_usage_nsec / 1e9;
                if (u.cpu_percent != UINT64_MAX && u.started_at_usec > 0 && now > u.started_at_usec)
                        p->cpu_allowed += (double) u.cpu_percent / 100.0 * (double) (now - u.started_at_usec) / 1e6;
                if (u.tasks_current != UINT64_MAX)
                        p->tasks += (double) u.tasks_current;
                if (u.tasks_max != UINT64_MAX)
                        p->tasks_limit += (double) u.tasks_max;
                unit_usage_done(&u);
        }
        analysis_units_free(units, n);
        return r < 0 ? EXIT_SETUP_UNAVAILABLE : 0;
}

static void write_running(FILE *f, const MetricsCounts *m, Running *run) {
        static const struct {
                const char *name;
                const char *help;
                size_t offset;
        } gauges[] = {
                { "analysis_sandbox_running_memory_bytes", "Memory in use by the running analyses, summed per profile.",
                  offsetof(RunningProfile, memory) },
                { "analysis_sandbox_running_memory_limit_bytes", "The memory limits of the running analyses, summed per profile.",
                  offsetof(RunningProfile, memory_limit) },
                { "analysis_sandbox_running_cpu_usage_seconds", "CPU time the running analyses used so far, summed per profile.",
                  offsetof(RunningProfile, cpu) },
                { "analysis_sandbox_running_cpu_allowed_seconds",
                  "CPU time the running analyses' quotas allowed them so far (quota x time running), summed per profile.",
                  offsetof(RunningProfile, cpu_allowed) },
                { "analysis_sandbox_running_tasks", "Tasks of the running analyses, summed per profile.",
                  offsetof(RunningProfile, tasks) },
                { "analysis_sandbox_running_tasks_limit", "The task limits of the running analyses, summed per profile.",
                  offsetof(RunningProfile, tasks_limit) },
        };

        /* Every profile that has ended analyses shows 0 running rather than no series. */
        for (size_t i = 0; i < m->n; i++)
                (void) running_profile(run, m->profiles[i].profile);
        metrics_write_header(f, "analysis_sandbox_analyses_running", "gauge", "Analyses running now, by profile.");
        for (size_t i = 0; i < run->n; i++)
                metrics_write_sample(f, "analysis_sandbox_analyses_running", (double) run->profiles[i].n,
                                     "profile", run->profiles[i].profile, NULL);
        for (size_t g = 0; g < ELEMENTSOF(gauges); g++) {
                metrics_write_header(f, gauges[g].name, "gauge", gauges[g].help);
                for (size_t i = 0; i < run->n; i++)
                        metrics_write_sample(f, gauges[g].name,
                                             *(const double *) ((const char *) (run->profiles + i) + gauges[g].offset),
                                             "profile", run->profiles[i].profile, NULL);
        }
}

int verb_metrics(Ctl *c, char **args) {
        _cleanup_(metrics_counts_done) MetricsCounts m = {};
        _cleanup_(running_done) Running run = {};
        _cleanup_free_ char *dir = tally_dir(c), *text = NULL;
        RecordFilter all = { .until_usec = UINT64_MAX, .caller = (uid_t) -1 };
        bool have_running;
        size_t size = 0;
        FILE *f;
        int r;

        if (!dir)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        r = tally_load(dir, &m);
        if (r < 0) {
                log_error_errno(r, "Cannot read %s/%s: %m. Not writing counters that could go down.", dir, TALLY_NAME);
                return EXIT_CTL_FAILURE;
        }
        /* This host's records only: a Slurm analysis' counts belong to the node it ran on. */
        r = ctl_records_foreach(c, &all, true, count_record, &m, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot read the records in %s: %m", c->paths.results_dir), EXIT_CTL_FAILURE;
        r = read_running(c, &run);
        have_running = r == 0;
        if (!have_running)
                log_warning("Leaving out the running analyses: the service manager could not be asked.");
        f = open_memstream(&text, &size);
        if (!f)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        metrics_write_counts(f, &m);
        if (have_running)
                write_running(f, &m, &run);
        if (fclose(f) != 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        if (c->output && strcmp(c->output, "-") != 0) {
                _cleanup_free_ char *copy = strdup(c->output), *copy2 = strdup(c->output);
                _cleanup_close_ int dir_fd = -EBADF;

                if (!copy || !copy2)
                        return log_oom(), EXIT_SETUP_UNAVAILABLE;
                dir_fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir_fd < 0)
                        return log_error_errno(errno, "Cannot open the directory of %s: %m", c->output), EXIT_CTL_FAILURE;
                /* Atomic: node_exporter reads the file on every scrape and must never see half of it. */
                r = write_file_atomic_at(dir_fd, basename(copy2), text, size, 0644);
                if (r < 0)
                        return log_error_errno(r, "Cannot write %s: %m", c->output), EXIT_CTL_FAILURE;
        } else
                fwrite(text, 1, size, stdout);
        return have_running ? EXIT_SUCCESS : EXIT_CTL_FAILURE;
}
