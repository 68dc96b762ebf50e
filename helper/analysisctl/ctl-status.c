/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl status: one analysis, running (state, limits, usage so far, last output) or finished (its
 * record), for people or as JSON; a unit of the service manager's or another backend's (a Slurm job). */

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "efficiency.h"
#include "exit-status.h"
#include "fs-util.h"
#include "json-writer.h"
#include "log.h"
#include "parse-value.h"
#include "record-file.h"
#include "time-util.h"

#define OUTPUT_TAIL_MAX (64 * 1024)

typedef struct Status {
        const char *id;
        AnalysisUnit unit;              /* unit.unit is NULL when no unit is loaded */
        bool running;
        bool have_usage;
        UnitUsage usage;
        bool have_record;
        Record record;
        char *stdout_file;
        char *stderr_file;
        char *stdout_tail;
        char *stderr_tail;
        const Backend *backend;         /* another backend's analysis (Slurm's), not a unit's */
        bool have_entry;
        BackendEntry entry;             /* such an analysis while it has not ended */
        char *results_dir;              /* where its record is, when it is another backend's */
} Status;

static void status_done(Status *s) {
        analysis_unit_done(&s->unit);
        if (s->have_usage)
                unit_usage_done(&s->usage);
        record_done(&s->record);
        free(s->stdout_file);
        free(s->stderr_file);
        free(s->stdout_tail);
        free(s->stderr_tail);
        backend_entry_done(&s->entry);
        free(s->results_dir);
}

/* The start of the last n lines of text (a trailing newline does not start a line). */
static const char *last_lines(const char *text, unsigned n) {
        const char *p = text + strlen(text);

        if (p > text && p[-1] == '\n')
                p--;
        while (p > text) {
                if (p[-1] == '\n' && n-- <= 1)
                        return p;
                p--;
        }
        return n == 0 ? p + strlen(p) : text;
}

static void print_timestamp(const char *label, uint64_t usec) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        char buf[64];
        struct tm tm;

        if (usec == RECORD_UNSET || usec == 0 || !localtime_r(&t, &tm) ||
            strftime(buf, sizeof(buf), "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                return;
        printf("%12s: %s\n", label, buf);
}

static void print_limits(uint64_t memory, uint64_t cpu_percent, uint64_t tasks, uint64_t runtime) {
        char b[32];

        printf("%12s: memory %s, CPU ", "Limits", memory == UINT64_MAX ? "none" : format_bytes(memory, b, sizeof(b)));
        if (cpu_percent == UINT64_MAX)
                fputs("none", stdout);
        else
                printf("%" PRIu64 "%%", cpu_percent);
        if (tasks == UINT64_MAX)
                fputs(", tasks none", stdout);
        else
                printf(", %" PRIu64 " tasks", tasks);
        printf(", time %s\n", runtime == UINT64_MAX ? "none" : format_duration(runtime, b, sizeof(b)));
}

/* seff's lines: each figure against its limit. */
static void print_efficiency(const Record *r) {
        Efficiency e;
        char *lines[_EFFICIENCY_KIND_MAX] = {};
        size_t n = 0;

        efficiency_from_record(r, &e);
        for (EfficiencyKind k = 0; k < _EFFICIENCY_KIND_MAX; k++)
                if (efficiency_describe(&e, k, r->limits.cpu_quota_percent, &lines[n]) >= 0)
                        n++;
        for (size_t i = 0; i < n; i++) {
                printf("%12s  %s\n", i == 0 ? "Efficiency:" : "", lines[i]);
                free(lines[i]);
        }
}

static void write_json_efficiency(JsonWriter *w, const Record *r) {
        Efficiency e;

        efficiency_from_record(r, &e);
        json_key(w, "efficiency");
        json_begin_object(w);
        for (EfficiencyKind k = 0; k < _EFFICIENCY_KIND_MAX; k++) {
                if (k == EFFICIENCY_TASKS)
                        continue;       /* below, with the forks refused */
                json_key(w, efficiency_kind_to_string(k));
                json_begin_object(w);
                if (k == EFFICIENCY_MEMORY) {
                        json_field_uint_or_null(w, "used_bytes", e.used[k]);
                        json_field_uint_or_null(w, "allowed_bytes", e.allowed[k]);
                } else {
                        json_field_seconds_or_null(w, "used_sec", e.used[k]);
                        json_field_seconds_or_null(w, "allowed_sec", e.allowed[k]);
                }
                json_key(w, "ratio");
                json_double(w, efficiency_ratio(&e, k));
                json_end_object(w);
        }
        json_key(w, "tasks");
        json_begin_object(w);
        /* null for a record without a peak (older, or without samples): never a guess. */
        json_field_uint_or_null(w, "peak", e.used[EFFICIENCY_TASKS]);
        json_field_uint_or_null(w, "max", e.tasks_max);
        json_field_uint_or_null(w, "refused", e.tasks_refused);
        json_key(w, "ratio");
        json_double(w, efficiency_ratio(&e, EFFICIENCY_TASKS));
        json_end_object(w);
        json_end_object(w);
}

static void print_tail(const char *path, const char *tail, unsigned lines) {
        const char *start;

        if (lines == 0 || !tail || !tail[0])
                return;
        start = last_lines(tail, lines);
        printf("\n-- %s (last %u lines) --\n%s", path, lines, start);
        if (start[0] && start[strlen(start) - 1] != '\n')
                putchar('\n');
}

static void print_human(const Status *s, const char *results_dir, unsigned lines) {
        uint64_t now = now_usec(CLOCK_REALTIME);
        char a[32], b[32], c[32];

        char state[32];

        snprintf(state, sizeof(state), "%s", strempty(s->entry.state));
        for (char *p = state; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        printf("%s analysis %s (profile %s) - %s\n", s->running ? "●" : "○", s->id,
               s->unit.profile ?: s->entry.profile ?: s->record.profile ?: "?",
               s->have_entry ? state :
               s->running ? (strcmp(s->unit.active_state, "active") == 0 ? s->unit.sub_state : s->unit.active_state)
                          : s->have_record ? s->record.result ?: "finished" : "not running");
        if (s->unit.unit)
                printf("%12s: %s (%s, %s)\n", "Unit", s->unit.unit, s->unit.active_state, s->unit.sub_state);
        if (s->have_entry) {
                printf("%12s: %s job %" PRIu64 " (%s)", "Job", s->backend->name, s->entry.job_id, strempty(s->entry.state));
                if (s->entry.node)
                        printf(" on %s", s->entry.node);
                putchar('\n');
                print_timestamp("Started", s->entry.started_at_usec);
                if (s->entry.started_at_usec > 0 && now > s->entry.started_at_usec)
                        printf("%12s: %s\n", "Running for", format_duration(now - s->entry.started_at_usec, a, sizeof(a)));
                print_limits(s->entry.limits.memory_max, s->entry.limits.cpu_quota_percent, s->entry.limits.tasks_max,
                             s->entry.limits.runtime_max_usec);
        }
        if (s->running && s->have_usage) {
                print_timestamp("Started", s->usage.started_at_usec);
                if (s->usage.started_at_usec > 0 && now > s->usage.started_at_usec)
                        printf("%12s: %s\n", "Running for", format_duration(now - s->usage.started_at_usec, a, sizeof(a)));
                if (s->usage.control_group)
                        printf("%12s: %s\n", "CGroup", s->usage.control_group);
                print_limits(s->usage.memory_max, s->usage.cpu_percent, s->usage.tasks_max, s->usage.runtime_max_usec);
                printf("%12s: memory %s, CPU %s", "Usage",
                       s->usage.memory_current == UINT64_MAX ? "-" : format_bytes(s->usage.memory_current, a, sizeof(a)),
                       s->usage.cpu_usage_nsec == UINT64_MAX ? "-" : format_duration(s->usage.cpu_usage_nsec / 1000, b, sizeof(b)));
                if (s->usage.tasks_current != UINT64_MAX)
                        printf(", %" PRIu64 " tasks", s->usage.tasks_current);
                putchar('\n');
                if (s->usage.main_pid > 0)
                        printf("%12s: %" PRIu32 "\n", "Main PID", s->usage.main_pid);
        }
        if (!s->running && s->have_record) {
                const Record *r = &s->record;

                printf("%12s: %s", "Result", strempty(r->result));
                if (r->exit_code)
                        printf(" (%s%s%s)", r->exit_code, r->signal ? " SIG" : "", r->signal ?: "");
                putchar('\n');
                if (r->notes)
                        printf("%12s: %s\n", "Notes", r->notes);
                if (r->error)
                        printf("%12s: %s\n", "Error", r->error);
                print_timestamp("Started", r->started_at_usec);
                print_timestamp("Finished", r->finished_at_usec);
                print_limits(r->limits.memory_max, r->limits.cpu_quota_percent, r->limits.tasks_max,
                             r->limits.runtime_max_usec);
                printf("%12s: runtime %s, peak memory %s, CPU %s\n", "Usage",
                       r->usage.runtime_usec == RECORD_UNSET ? "-" : format_duration(r->usage.runtime_usec, a, sizeof(a)),
                       r->usage.memory_peak == RECORD_UNSET ? "-" : format_bytes(r->usage.memory_peak, b, sizeof(b)),
                       r->usage.cpu_usec == RECORD_UNSET ? "-" : format_duration(r->usage.cpu_usec, c, sizeof(c)));
                print_efficiency(r);
                if (r->caller_uid != RECORD_UNSET)
                        printf("%12s: %" PRIu64 "\n", "Caller UID", r->caller_uid);
                if (r->slurm_job_id != RECORD_UNSET)
                        printf("%12s: slurm job %" PRIu64 " on %s\n", "Job", r->slurm_job_id, strempty(r->node));
                printf("%12s: %s/%s.json\n", "Record", s->results_dir ?: results_dir, s->id);
                if (r->output_dir)
                        printf("%12s: %s", "Output dir", r->output_dir);
                if (r->output_dir && r->usage.disk_used != RECORD_UNSET)
                        printf(" (%s%s)", format_bytes(r->usage.disk_used, b, sizeof(b)),
                               r->usage.disk_full > 0 ? ", full" : "");
                if (r->output_dir)
                        putchar('\n');
        }
        printf("%12s: %s\n%12s  %s\n", "Output", s->stdout_file, "", s->stderr_file);
        if (s->unit.unit)
                printf("%12s: journalctl -u %s\n", "Log", s->unit.unit);
        print_tail(s->stdout_file, s->stdout_tail, lines);
        print_tail(s->stderr_file, s->stderr_tail, lines);
}

static void write_json(const Status *s, unsigned lines) {
        JsonWriter w = { .f = stdout };
        uint64_t now = now_usec(CLOCK_REALTIME);

        json_begin_object(&w);
        json_key(&w, "id");
        json_string(&w, s->id);
        json_key(&w, "profile");
        json_string(&w, s->unit.profile ?: s->entry.profile ?: s->record.profile);
        json_key(&w, "unit");
        json_string(&w, s->unit.unit);
        json_key(&w, "running");
        json_bool(&w, s->running);
        json_key(&w, "active_state");
        json_string(&w, s->have_entry ? s->entry.state : s->unit.active_state);
        json_key(&w, "sub_state");
        json_string(&w, s->unit.sub_state);
        if (s->backend) {
                json_key(&w, "backend");
                json_string(&w, s->backend->name);
        }
        if (s->have_entry) {
                json_field_uint_or_null(&w, "job_id", s->entry.job_id);
                json_key(&w, "node");
                json_string(&w, s->entry.node);
                json_key(&w, "invocation_id");
                json_string(&w, s->entry.invocation_id);
                json_key(&w, "cgroup");
                json_null(&w);
                json_key(&w, "age_sec");
                if (s->entry.started_at_usec > 0 && now > s->entry.started_at_usec)
                        json_seconds(&w, now - s->entry.started_at_usec);
                else
                        json_null(&w);
                json_key(&w, "limits");
                json_begin_object(&w);
                json_field_uint_or_null(&w, "memory_max", s->entry.limits.memory_max);
                json_field_uint_or_null(&w, "cpu_quota_percent", s->entry.limits.cpu_quota_percent);
                json_field_uint_or_null(&w, "tasks_max", s->entry.limits.tasks_max);
                json_field_seconds_or_null(&w, "runtime_max_sec", s->entry.limits.runtime_max_usec);
                json_end_object(&w);
                json_key(&w, "usage");
                json_begin_object(&w);
                json_field_uint_or_null(&w, "memory_current", UINT64_MAX);
                json_key(&w, "cpu_sec");
                json_null(&w);
                json_field_uint_or_null(&w, "tasks_current", UINT64_MAX);
                json_end_object(&w);
        }
        if (s->running && s->have_usage) {
                json_key(&w, "invocation_id");
                json_string(&w, s->usage.invocation_id);
                json_key(&w, "cgroup");
                json_string(&w, s->usage.control_group);
                json_key(&w, "age_sec");
                if (s->usage.started_at_usec > 0 && now > s->usage.started_at_usec)
                        json_seconds(&w, now - s->usage.started_at_usec);
                else
                        json_null(&w);
                json_key(&w, "limits");
                json_begin_object(&w);
                json_field_uint_or_null(&w, "memory_max", s->usage.memory_max);
                json_field_uint_or_null(&w, "cpu_quota_percent", s->usage.cpu_percent);
                json_field_uint_or_null(&w, "tasks_max", s->usage.tasks_max);
                json_field_seconds_or_null(&w, "runtime_max_sec", s->usage.runtime_max_usec);
                json_end_object(&w);
                json_key(&w, "usage");
                json_begin_object(&w);
                json_field_uint_or_null(&w, "memory_current", s->usage.memory_current);
                json_key(&w, "cpu_sec");
                if (s->usage.cpu_usage_nsec == UINT64_MAX)
                        json_null(&w);
                else
                        json_seconds(&w, s->usage.cpu_usage_nsec / 1000);
                json_field_uint_or_null(&w, "tasks_current", s->usage.tasks_current);
                json_end_object(&w);
        }
        json_key(&w, "stdout_file");
        json_string(&w, s->stdout_file);
        json_key(&w, "stderr_file");
        json_string(&w, s->stderr_file);
        json_key(&w, "stdout_tail");
        json_string(&w, lines > 0 && s->stdout_tail ? last_lines(s->stdout_tail, lines) : NULL);
        json_key(&w, "stderr_tail");
        json_string(&w, lines > 0 && s->stderr_tail ? last_lines(s->stderr_tail, lines) : NULL);
        json_key(&w, "record");
        if (!s->running && s->have_record)
                record_write_json_value(&s->record, &w);
        else
                json_null(&w);
        if (!s->running && s->have_record)
                write_json_efficiency(&w, &s->record);
        json_end_object(&w);
        putchar('\n');
}

/* Another backend's analysis of id that has not ended (Slurm's, as squeue has it), into s. Returns 0, or
 * -ENOENT when none has one. */
static int find_backend_entry(Ctl *c, Status *s) {
        if (c->scope != RUNTIME_SCOPE_SYSTEM || !ctl_backend_config(c))
                return -ENOENT;
        for (BackendKind k = 0; k < _BACKEND_KIND_MAX; k++) {
                const Backend *b = backend_get(k);
                BackendEntry *entries = NULL;
                size_t n = 0;

                if (!b->list || b->list(ctl_backend_config(c), s->id, &entries, &n) < 0)
                        continue;
                if (n > 0) {
                        s->backend = b;
                        s->have_entry = true;
                        s->entry = entries[0];
                        entries[0] = (BackendEntry) {};
                }
                backend_entries_free(entries, n);
                if (s->have_entry)
                        return 0;
        }
        return -ENOENT;
}

/* Another backend's record of id (Slurm's), into s. Returns 0, -ENOENT, or an exit status after saying why. */
static int find_backend_record(Ctl *c, Status *s) {
        BackendAnalysis *a = NULL;
        int r;

        r = ctl_find_backend_analysis(c, s->id, &s->backend, &a, &s->record, NULL, NULL);
        if (r != 0)
                return r;
        /* Without a record, a itself: submitted, not ended, and no longer known to the backend (analysisctl wait
         * writes its record). */
        s->have_record = !a;
        if (a)
                s->backend->free(a);
        return s->backend->results_dir(ctl_backend_config(c), &s->results_dir) < 0 ? log_oom(), EXIT_SETUP_UNAVAILABLE : 0;
}

int verb_status(Ctl *c, char **args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(status_done) Status s = { .id = args[0] };
        _cleanup_free_ char *why = NULL;
        int r;

        record_init(&s.record);
        r = ctl_check_id(s.id);
        if (r == 0)
                r = ctl_find_unit(c, s.id, &s.unit);
        if (r != 0)
                return r;
        s.running = s.unit.unit && analysis_unit_is_running(&s.unit);
        /* Not running here: another backend's (Slurm's) running analysis comes before a record here. */
        if (!s.running && find_backend_entry(c, &s) >= 0)
                s.running = true;
        if (s.running && !s.have_entry) {
                r = unit_usage_read(c->bus, s.unit.unit, &s.usage, &error);
                if (r < 0) {
                        _cleanup_free_ char *what = strprintf("read the state of %s", s.unit.unit);

                        return ctl_bus_error(c, &error, r, what ?: s.unit.unit);
                }
                s.have_usage = true;
        } else if (!s.running) {
                r = record_file_load(c->paths.results_dir, s.id, &s.record, NULL, NULL, &why);
                if (r == -ENOENT && !s.unit.unit) {
                        r = find_backend_record(c, &s);
                        if (r > 0)
                                return r;
                        if (r < 0) {
                                log_error("No analysis '%s': none is running and %s/%s.json does not exist.", s.id,
                                          c->paths.results_dir, s.id);
                                return EXIT_CTL_NO_SUCH_ANALYSIS;
                        }
                } else {
                        if (r < 0 && r != -ENOENT)
                                log_warning("The record %s/%s.json cannot be read: %s", c->paths.results_dir, s.id,
                                            r == -EBADMSG ? strempty(why) : strerror(-r));
                        s.have_record = r >= 0;
                }
        }
        if (s.have_entry) {
                s.stdout_file = strdup(strempty(s.entry.stdout_file));
                s.stderr_file = strdup(strempty(s.entry.stderr_file));
        } else if (s.backend) {
                s.stdout_file = strprintf("%s/%s.stdout", s.results_dir ?: "", s.id);
                s.stderr_file = strprintf("%s/%s.stderr", s.results_dir ?: "", s.id);
        } else {
                s.stdout_file = strprintf("%s/%s.stdout", c->paths.results_dir, s.id);
                s.stderr_file = strprintf("%s/%s.stderr", c->paths.results_dir, s.id);
        }
        if (!s.stdout_file || !s.stderr_file)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        if (c->lines > 0) {
                (void) read_file_tail(s.stdout_file, OUTPUT_TAIL_MAX, &s.stdout_tail);
                (void) read_file_tail(s.stderr_file, OUTPUT_TAIL_MAX, &s.stderr_tail);
        }
        if (c->json)
                write_json(&s, c->lines);
        else
                print_human(&s, c->paths.results_dir, c->lines);
        /* As systemctl status: 0 while it runs, 3 once it has ended. */
        return s.running ? EXIT_SUCCESS : EXIT_CTL_NOT_RUNNING;
}
