/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl plot: an ended analysis' memory and CPU over time against its limits, from its samples file, as
 * an SVG picture (lib/svg-chart.c). Read with the caller's own rights, as notes and status read the record. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "exit-status.h"
#include "log.h"
#include "samples-file.h"
#include "svg-chart.h"

#define PLOT_WIDTH 800
#define PLOT_HEIGHT 560

static const char * const event_words[] = { "oom-kill", "fork-refused", "timeout", "disk-full" };

static int build_chart(const Record *record, const Samples *s, SvgChart **ret) {
        _cleanup_(svg_chart_freep) SvgChart *chart = NULL;
        _cleanup_free_ double *x = calloc(s->n_rows + 1, sizeof(double)), *mem = calloc(s->n_rows + 1, sizeof(double)),
                              *cpu = calloc(s->n_rows + 1, sizeof(double)),
                              *throttled = calloc(s->n_rows + 1, sizeof(double));
        _cleanup_free_ char *title = strprintf("Analysis %s (profile %s): memory and CPU over time", record->id,
                                                record->profile ?: "unknown");
        size_t n_mem = 0, n_cpu = 0;
        int r, p_mem, p_cpu;

        if (!x || !mem || !cpu || !throttled || !title)
                return -ENOMEM;
        r = svg_chart_new(title, PLOT_WIDTH, PLOT_HEIGHT, &chart);
        if (r < 0)
                return r;
        svg_chart_set_x(chart, "Time since the analysis started", SVG_UNIT_SECONDS, 0);
        p_mem = svg_chart_add_panel(chart, "Memory", SVG_UNIT_BYTES, 0);
        p_cpu = svg_chart_add_panel(chart, "CPU (CPUs)", SVG_UNIT_PLAIN, 1);
        if (p_mem < 0 || p_cpu < 0)
                return p_mem < 0 ? p_mem : p_cpu;

        /* One point per row, at the end of its span: the highest memory seen in it, the CPU used per second. */
        for (size_t i = 0; i < s->n_rows; i++) {
                const SampleRow *row = &s->rows[i];
                double t = (double) row->time_usec / 1e6, span = (double) row->span_usec / 1e6;

                if (row->memory_bytes != SAMPLE_UNSET) {
                        x[n_mem] = t;
                        mem[n_mem++] = (double) row->memory_bytes;
                }
                if (row->cpu_usec != SAMPLE_UNSET && span > 0) {
                        cpu[n_cpu] = (double) row->cpu_usec / 1e6 / span;
                        throttled[n_cpu] = row->cpu_throttled_usec != SAMPLE_UNSET
                                ? (double) row->cpu_throttled_usec / 1e6 / span : 0;
                        n_cpu++;
                }
        }
        r = svg_chart_add_line(chart, p_mem, "memory in use", "#1f77b4", x, mem, n_mem);
        if (r < 0)
                return r;
        n_cpu = 0;
        for (size_t i = 0; i < s->n_rows; i++)
                if (s->rows[i].cpu_usec != SAMPLE_UNSET && s->rows[i].span_usec > 0)
                        x[n_cpu++] = (double) s->rows[i].time_usec / 1e6;
        r = svg_chart_add_line(chart, p_cpu, "CPU used", "#2ca02c", x, cpu, n_cpu);
        if (r >= 0)
                r = svg_chart_add_line(chart, p_cpu, "CPU throttled", "#ff7f0e", x, throttled, n_cpu);
        if (r < 0)
                return r;
        if (record->limits.memory_max != RECORD_UNSET && record->limits.memory_max != UINT64_MAX) {
                r = svg_chart_add_limit(chart, p_mem, "memory limit", "#d62728", (double) record->limits.memory_max);
                if (r < 0)
                        return r;
        }
        if (record->limits.cpu_quota_percent != RECORD_UNSET && record->limits.cpu_quota_percent != UINT64_MAX) {
                r = svg_chart_add_limit(chart, p_cpu, "CPU quota", "#d62728",
                                        (double) record->limits.cpu_quota_percent / 100.0);
                if (r < 0)
                        return r;
        }
        /* The limits hit, where they were hit. */
        for (size_t i = 0; i < s->n_rows; i++) {
                char label[64] = "";

                if (!s->rows[i].events)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(event_words); k++)
                        if (s->rows[i].events & (1u << k))
                                (void) snprintf(label + strlen(label), sizeof(label) - strlen(label), "%s%s",
                                                label[0] ? ", " : "", event_words[k]);
                r = svg_chart_add_mark(chart, (double) s->rows[i].time_usec / 1e6, label, "#d62728");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(chart);
        return 0;
}

int verb_plot(Ctl *c, char **args) {
        const char *id = args[0];
        _cleanup_(svg_chart_freep) SvgChart *chart = NULL;
        _cleanup_(record_done) Record record;
        _cleanup_(samples_done) Samples s = {};
        _cleanup_free_ char *why = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        record_init(&record);
        r = ctl_check_id(id);
        if (r != 0)
                return r;
        if (!c->output) {
                log_error("plot needs -o FILE.svg (or -o - for standard output).");
                return EXIT_SETUP_USAGE;
        }
        r = ctl_load_record(c, id, "Analysis '%s' is still running: its samples are plotted once it has ended.",
                            &record, NULL, NULL);
        if (r != 0)
                return r;
        if (!record.samples_file) {
                log_error("Analysis '%s' has no samples: %s.", id,
                          record.samples_missing ?: "its record is from a version without them");
                return EXIT_CTL_FAILURE;
        }
        r = samples_file_read_at(AT_FDCWD, record.samples_file, &s, &why);
        if (r < 0) {
                if (r == -EBADMSG)
                        log_error("The samples %s cannot be read: %s", record.samples_file, strempty(why));
                else
                        log_error_errno(r, "Cannot read the samples %s: %m", record.samples_file);
                return r == -EACCES ? EXIT_SETUP_PERMISSION : EXIT_CTL_FAILURE;
        }
        r = build_chart(&record, &s, &chart);
        if (r < 0)
                return log_oom(), EXIT_CTL_FAILURE;
        if (strcmp(c->output, "-") == 0)
                return svg_chart_write(chart, stdout) < 0 || fflush(stdout) != 0 ? EXIT_CTL_FAILURE : EXIT_SUCCESS;
        f = fopen(c->output, "we");
        if (!f) {
                log_error_errno(errno, "Cannot create %s: %m", c->output);
                return EXIT_CTL_FAILURE;
        }
        r = svg_chart_write(chart, f);
        if (r >= 0 && fflush(f) != 0)
                r = -errno;
        if (r < 0) {
                log_error_errno(r, "Cannot write %s: %m", c->output);
                return EXIT_CTL_FAILURE;
        }
        if (!c->quiet)
                printf("Wrote %s: %zu samples of analysis %s.\n", c->output, s.n_rows, id);
        return EXIT_SUCCESS;
}
