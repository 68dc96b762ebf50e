/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl list: the running analyses with their usage and limits, as a table or JSON: the service manager's
 * units, and those of the other backends (Slurm's jobs). */

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "exit-status.h"
#include "json-writer.h"
#include "log.h"
#include "parse-value.h"
#include "time-util.h"

enum { COLUMN_ID, COLUMN_PROFILE, COLUMN_STATE, COLUMN_AGE, COLUMN_MEMORY, COLUMN_MEMORY_MAX, COLUMN_CPU,
       COLUMN_CPU_MAX, COLUMN_TASKS, _COLUMN_MAX };

static const char * const column_titles[_COLUMN_MAX] = {
        "ID", "PROFILE", "STATE", "AGE", "MEMORY", "MEM-MAX", "CPU", "CPU-MAX", "TASKS",
};

typedef char Row[_COLUMN_MAX][64];

static const char *bytes_or(uint64_t v, const char *none, char *buf, size_t n) {
        return v == UINT64_MAX ? none : format_bytes(v, buf, n);
}

static void fill_row(Row row, const AnalysisUnit *u, const UnitUsage *usage, uint64_t now) {
        char a[32];

        snprintf(row[COLUMN_ID], sizeof(row[0]), "%s", u->id);
        snprintf(row[COLUMN_PROFILE], sizeof(row[0]), "%s", u->profile);
        snprintf(row[COLUMN_STATE], sizeof(row[0]), "%s", strcmp(u->active_state, "active") == 0 ? u->sub_state
                                                                                               : u->active_state);
        snprintf(row[COLUMN_AGE], sizeof(row[0]), "%s",
                 usage->started_at_usec > 0 && now > usage->started_at_usec
                         ? format_duration(now - usage->started_at_usec, a, sizeof(a)) : "-");
        snprintf(row[COLUMN_MEMORY], sizeof(row[0]), "%s", bytes_or(usage->memory_current, "-", a, sizeof(a)));
        snprintf(row[COLUMN_MEMORY_MAX], sizeof(row[0]), "%s", bytes_or(usage->memory_max, "none", a, sizeof(a)));
        snprintf(row[COLUMN_CPU], sizeof(row[0]), "%s",
                 usage->cpu_usage_nsec == UINT64_MAX ? "-" : format_duration(usage->cpu_usage_nsec / 1000, a, sizeof(a)));
        if (usage->cpu_percent == UINT64_MAX)
                snprintf(row[COLUMN_CPU_MAX], sizeof(row[0]), "none");
        else
                snprintf(row[COLUMN_CPU_MAX], sizeof(row[0]), "%" PRIu64 "%%", usage->cpu_percent);
        if (usage->tasks_current == UINT64_MAX)
                snprintf(row[COLUMN_TASKS], sizeof(row[0]), "-");
        else if (usage->tasks_max == UINT64_MAX)
                snprintf(row[COLUMN_TASKS], sizeof(row[0]), "%" PRIu64, usage->tasks_current);
        else
                snprintf(row[COLUMN_TASKS], sizeof(row[0]), "%" PRIu64 "/%" PRIu64, usage->tasks_current,
                         usage->tasks_max);
}

static void print_row(const char * const cells[_COLUMN_MAX], const size_t widths[_COLUMN_MAX]) {
        for (size_t i = 0; i + 1 < _COLUMN_MAX; i++)
                printf("%-*s ", (int) widths[i], cells[i]);
        printf("%s\n", cells[_COLUMN_MAX - 1]);
}

static void print_table(Row *rows, size_t n, bool quiet) {
        size_t widths[_COLUMN_MAX];

        for (size_t i = 0; i < _COLUMN_MAX; i++) {
                widths[i] = quiet ? 0 : strlen(column_titles[i]);
                for (size_t j = 0; j < n; j++)
                        if (strlen(rows[j][i]) > widths[i])
                                widths[i] = strlen(rows[j][i]);
        }
        if (!quiet)
                print_row(column_titles, widths);
        for (size_t j = 0; j < n; j++) {
                const char *cells[_COLUMN_MAX];

                for (size_t i = 0; i < _COLUMN_MAX; i++)
                        cells[i] = rows[j][i];
                print_row(cells, widths);
        }
        if (!quiet)
                printf("\n%zu analys%s running.\n", n, n == 1 ? "is" : "es");
}

static void write_json_entry(JsonWriter *w, const AnalysisUnit *u, const UnitUsage *usage, uint64_t now) {
        json_begin_object(w);
        json_key(w, "id");
        json_string(w, u->id);
        json_key(w, "profile");
        json_string(w, u->profile);
        json_key(w, "unit");
        json_string(w, u->unit);
        json_key(w, "active_state");
        json_string(w, u->active_state);
        json_key(w, "sub_state");
        json_string(w, u->sub_state);
        json_key(w, "invocation_id");
        json_string(w, usage->invocation_id);
        json_key(w, "age_sec");
        if (usage->started_at_usec > 0 && now > usage->started_at_usec)
                json_seconds(w, now - usage->started_at_usec);
        else
                json_null(w);
        json_field_uint_or_null(w, "memory_current", usage->memory_current);
        json_field_uint_or_null(w, "memory_max", usage->memory_max);
        json_key(w, "cpu_sec");
        if (usage->cpu_usage_nsec == UINT64_MAX)
                json_null(w);
        else
                json_seconds(w, usage->cpu_usage_nsec / 1000);
        json_field_uint_or_null(w, "cpu_quota_percent", usage->cpu_percent);
        json_field_uint_or_null(w, "tasks_current", usage->tasks_current);
        json_field_uint_or_null(w, "tasks_max", usage->tasks_max);
        json_field_seconds_or_null(w, "runtime_max_sec", usage->runtime_max_usec);
        json_end_object(w);
}

/* A row for an analysis of another backend (Slurm's): its state in that backend's words; no usage, which only
 * the node it runs on could read. */
static void fill_backend_row(Row row, const BackendEntry *e, uint64_t now) {
        char a[32];

        snprintf(row[COLUMN_ID], sizeof(row[0]), "%s", e->id);
        snprintf(row[COLUMN_PROFILE], sizeof(row[0]), "%s", strempty(e->profile));
        snprintf(row[COLUMN_STATE], sizeof(row[0]), "%s", strempty(e->state));
        for (char *p = row[COLUMN_STATE]; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        snprintf(row[COLUMN_AGE], sizeof(row[0]), "%s",
                 e->started_at_usec > 0 && now > e->started_at_usec
                         ? format_duration(now - e->started_at_usec, a, sizeof(a)) : "-");
        snprintf(row[COLUMN_MEMORY], sizeof(row[0]), "-");
        snprintf(row[COLUMN_MEMORY_MAX], sizeof(row[0]), "%s", bytes_or(e->limits.memory_max, "none", a, sizeof(a)));
        snprintf(row[COLUMN_CPU], sizeof(row[0]), "-");
        if (e->limits.cpu_quota_percent == RECORD_UNSET)
                snprintf(row[COLUMN_CPU_MAX], sizeof(row[0]), "none");
        else
                snprintf(row[COLUMN_CPU_MAX], sizeof(row[0]), "%" PRIu64 "%%", e->limits.cpu_quota_percent);
        snprintf(row[COLUMN_TASKS], sizeof(row[0]), "-");
}

static void write_backend_json_entry(JsonWriter *w, const Backend *b, const BackendEntry *e, uint64_t now) {
        json_begin_object(w);
        json_key(w, "id");
        json_string(w, e->id);
        json_key(w, "profile");
        json_string(w, e->profile);
        json_key(w, "unit");
        json_null(w);
        json_key(w, "active_state");
        json_string(w, e->state);
        json_key(w, "sub_state");
        json_null(w);
        json_key(w, "invocation_id");
        json_string(w, e->invocation_id);
        json_key(w, "age_sec");
        if (e->started_at_usec > 0 && now > e->started_at_usec)
                json_seconds(w, now - e->started_at_usec);
        else
                json_null(w);
        json_field_uint_or_null(w, "memory_current", UINT64_MAX);
        json_field_uint_or_null(w, "memory_max", e->limits.memory_max);
        json_key(w, "cpu_sec");
        json_null(w);
        json_field_uint_or_null(w, "cpu_quota_percent", e->limits.cpu_quota_percent);
        json_field_uint_or_null(w, "tasks_current", UINT64_MAX);
        json_field_uint_or_null(w, "tasks_max", e->limits.tasks_max);
        json_field_seconds_or_null(w, "runtime_max_sec", e->limits.runtime_max_usec);
        json_key(w, "backend");
        json_string(w, b->name);
        json_field_uint_or_null(w, "job_id", e->job_id);
        json_key(w, "node");
        json_string(w, e->node);
        json_end_object(w);
}

/* The analyses of the other backends that have not ended (Slurm's: one squeue for all). Returns 0, or a
 * negative errno after logging (what could be listed is kept). */
static int list_backends(Ctl *c, BackendEntry *entries[_BACKEND_KIND_MAX], size_t n_entries[_BACKEND_KIND_MAX]) {
        int ret = 0;

        for (BackendKind k = 0; k < _BACKEND_KIND_MAX; k++) {
                const Backend *b = backend_get(k);
                int r;

                if (!b->list || c->scope != RUNTIME_SCOPE_SYSTEM || !ctl_backend_config(c))
                        continue;
                r = b->list(ctl_backend_config(c), NULL, entries + k, n_entries + k);
                if (r < 0 && r != -ENXIO)
                        ret = r;
        }
        return ret;
}

int verb_list(Ctl *c, char **args) {
        _cleanup_free_ Row *rows = NULL;
        AnalysisUnit *units = NULL;
        BackendEntry *entries[_BACKEND_KIND_MAX] = {};
        size_t n_entries[_BACKEND_KIND_MAX] = {}, n_all = 0;
        JsonWriter w = { .f = stdout };
        uint64_t now = now_usec(CLOCK_REALTIME);
        size_t n = 0, n_rows = 0;
        int r, failed;

        r = ctl_list_units(c, NULL, &units, &n);
        if (r != 0)
                return r;
        failed = list_backends(c, entries, n_entries) < 0;
        for (BackendKind k = 0; k < _BACKEND_KIND_MAX; k++)
                n_all += n_entries[k];
        rows = calloc(n + n_all ?: 1, sizeof(Row));
        if (!rows) {
                analysis_units_free(units, n);
                for (BackendKind k = 0; k < _BACKEND_KIND_MAX; k++)
                        backend_entries_free(entries[k], n_entries[k]);
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        }
        if (c->json)
                json_begin_array(&w);
        for (size_t i = 0; i < n; i++) {
                UnitUsage usage;

                if (!analysis_unit_is_running(units + i))
                        continue;
                /* A unit that went away meanwhile is simply not listed. */
                if (unit_usage_read(c->bus, units[i].unit, &usage, NULL) < 0)
                        continue;
                if (c->json)
                        write_json_entry(&w, units + i, &usage, now);
                else
                        fill_row(rows[n_rows++], units + i, &usage, now);
                unit_usage_done(&usage);
        }
        for (BackendKind k = 0; k < _BACKEND_KIND_MAX; k++) {
                for (size_t i = 0; i < n_entries[k]; i++)
                        if (c->json)
                                write_backend_json_entry(&w, backend_get(k), entries[k] + i, now);
                        else
                                fill_backend_row(rows[n_rows++], entries[k] + i, now);
                backend_entries_free(entries[k], n_entries[k]);
        }
        if (c->json) {
                json_end_array(&w);
                putchar('\n');
        } else
                print_table(rows, n_rows, c->quiet);
        analysis_units_free(units, n);
        return failed ? EXIT_CTL_FAILURE : EXIT_SUCCESS;
}
