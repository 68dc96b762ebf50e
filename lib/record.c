/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The completion record of one analysis, and its JSON form. */

#include <inttypes.h>
#include <time.h>
#include <string.h>

#include "json-reader.h"
#include "json-writer.h"
#include "record.h"

static const RecordLimits limits_unset = { RECORD_UNSET, RECORD_UNSET, RECORD_UNSET, RECORD_UNSET, RECORD_UNSET };

void record_init(Record *r) {
        *r = (Record) {
                .exit_status = -1,
                .limits = limits_unset,
                .profile_limits = limits_unset,
                .usage = {
                        .runtime_usec = RECORD_UNSET,
                        .cpu_usec = RECORD_UNSET,
                        .sandbox_cpu_usec = RECORD_UNSET,
                        .memory_peak = RECORD_UNSET,
                        .oom_kills = RECORD_UNSET,
                        .tasks_limit_hits = RECORD_UNSET,
                        .tasks_peak = RECORD_UNSET,
                        .cpu_throttled_usec = RECORD_UNSET,
                        .disk_used = RECORD_UNSET,
                        .disk_full = -1,
                },
                .started_at_usec = RECORD_UNSET,
                .finished_at_usec = RECORD_UNSET,
                .caller_uid = RECORD_UNSET,
                .slurm_job_id = RECORD_UNSET,
                .host_booted_at_usec = RECORD_UNSET,
        };
}

void record_done(Record *r) {
        free(r->id);
        free(r->unit);
        free(r->profile);
        free(r->invocation_id);
        free(r->isolation);
        free(r->node);
        free(r->slurm_tasks_limit);
        free(r->result);
        free(r->exit_code);
        free(r->signal);
        free(r->output_dir);
        free(r->stdout_file);
        free(r->stderr_file);
        free(r->stderr_tail);
        free(r->error);
        free(r->notes);
        free(r->samples_file);
        free(r->samples_missing);
        free(r->reconstructed);
        record_init(r);
}

/* RFC 3339 in UTC with milliseconds, e.g. "2026-11-26T04:15:00.123Z". */
static void write_timestamp(JsonWriter *w, const char *key, uint64_t usec) {
        char buf[64];
        struct tm tm;
        time_t t;

        json_key(w, key);
        if (usec == RECORD_UNSET) {
                json_null(w);
                return;
        }
        t = (time_t) (usec / 1000000);
        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
                json_null(w);
                return;
        }
        (void) snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03" PRIu64 "Z", (usec % 1000000) / 1000);
        json_string(w, buf);
}

static void write_limits(JsonWriter *w, const char *key, const RecordLimits *l) {
        json_key(w, key);
        json_begin_object(w);
        json_field_uint_or_null(w, "memory_max", l->memory_max);
        json_field_uint_or_null(w, "cpu_quota_percent", l->cpu_quota_percent);
        json_field_uint_or_null(w, "tasks_max", l->tasks_max);
        json_field_seconds_or_null(w, "runtime_max_sec", l->runtime_max_usec);
        json_field_uint_or_null(w, "disk_max", l->disk_max);
        json_end_object(w);
}

/* A reconstructed record names the figures nobody could tell any more, so that null there is never read as
 * "none". */
static void write_missing(JsonWriter *w, const Record *r) {
        const struct {
                const char *name;
                bool missing;
        } figures[] = {
                { "runtime_sec",       r->usage.runtime_usec == RECORD_UNSET       },
                { "cpu_sec",           r->usage.cpu_usec == RECORD_UNSET           },
                { "memory_peak",       r->usage.memory_peak == RECORD_UNSET        },
                { "oom_kills",         r->usage.oom_kills == RECORD_UNSET          },
                { "tasks_limit_hits",  r->usage.tasks_limit_hits == RECORD_UNSET   },
                { "cpu_throttled_sec", r->usage.cpu_throttled_usec == RECORD_UNSET },
                { "disk_used",         r->usage.disk_used == RECORD_UNSET          },
                { "exit_status",       !r->exit_code                               },
        };

        json_key(w, "missing");
        json_begin_array(w);
        for (size_t i = 0; i < ELEMENTSOF(figures); i++)
                if (figures[i].missing)
                        json_string(w, figures[i].name);
        json_end_array(w);
}

void record_write_json_value(const Record *r, JsonWriter *w) {
        json_begin_object(w);
        json_key(w, "id");
        json_string(w, r->id);
        json_key(w, "unit");
        json_string(w, r->unit);
        json_key(w, "profile");
        json_string(w, r->profile);
        json_key(w, "invocation_id");
        json_string(w, r->invocation_id);
        json_key(w, "isolation");
        json_string(w, r->isolation);
        json_field_uint_or_null(w, "slurm_job_id", r->slurm_job_id);
        json_key(w, "node");
        json_string(w, r->node);
        json_key(w, "slurm_tasks_limit");
        json_string(w, r->slurm_tasks_limit);
        json_key(w, "result");
        json_string(w, r->result);
        json_key(w, "exit_code");
        json_string(w, r->exit_code);
        json_key(w, "exit_status");
        if (r->exit_status < 0)
                json_null(w);
        else
                json_int(w, r->exit_status);
        json_key(w, "signal");
        json_string(w, r->signal);
        write_limits(w, "limits", &r->limits);
        write_limits(w, "profile_limits", &r->profile_limits);
        json_key(w, "usage");
        json_begin_object(w);
        json_field_seconds_or_null(w, "runtime_sec", r->usage.runtime_usec);
        json_field_seconds_or_null(w, "cpu_sec", r->usage.cpu_usec);
        json_field_seconds_or_null(w, "sandbox_cpu_sec", r->usage.sandbox_cpu_usec);
        json_field_uint_or_null(w, "memory_peak", r->usage.memory_peak);
        json_field_uint_or_null(w, "oom_kills", r->usage.oom_kills);
        json_field_uint_or_null(w, "tasks_limit_hits", r->usage.tasks_limit_hits);
        json_field_uint_or_null(w, "tasks_peak", r->usage.tasks_peak);
        json_field_seconds_or_null(w, "cpu_throttled_sec", r->usage.cpu_throttled_usec);
        json_field_uint_or_null(w, "disk_used", r->usage.disk_used);
        json_key(w, "disk_full");
        if (r->usage.disk_full < 0)
                json_null(w);
        else
                json_bool(w, r->usage.disk_full);
        json_end_object(w);
        write_timestamp(w, "started_at", r->started_at_usec);
        write_timestamp(w, "finished_at", r->finished_at_usec);
        json_field_uint_or_null(w, "caller_uid", r->caller_uid);
        json_key(w, "output_dir");
        json_string(w, r->output_dir);
        json_key(w, "stdout_file");
        json_string(w, r->stdout_file);
        json_key(w, "stderr_file");
        json_string(w, r->stderr_file);
        json_key(w, "stderr_tail");
        json_string(w, r->stderr_tail);
        json_key(w, "error");
        json_string(w, r->error);
        json_key(w, "notes");
        json_string(w, r->notes);
        json_key(w, "samples");
        json_string(w, r->samples_file);
        json_key(w, "samples_missing");
        json_string(w, r->samples_missing);
        json_key(w, "reconstructed");
        json_string(w, r->reconstructed);
        if (r->reconstructed)
                write_missing(w, r);
        write_timestamp(w, "host_booted_at", r->host_booted_at_usec);
        json_end_object(w);
}

int record_write_json(const Record *r, FILE *f) {
        JsonWriter w = { .f = f };

        record_write_json_value(r, &w);
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}

static int copy_string(const JsonValue *o, const char *key, char **ret) {
        const char *s = json_string_value(json_object_get(o, key));

        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static void read_uint(const JsonValue *o, const char *key, uint64_t *ret) {
        uint64_t v;

        if (json_uint_value(json_object_get(o, key), &v) >= 0)
                *ret = v;
}

static void read_seconds(const JsonValue *o, const char *key, uint64_t *ret) {
        uint64_t v;

        if (json_seconds_value(json_object_get(o, key), &v) >= 0)
                *ret = v;
}

/* The inverse of write_timestamp(): "2026-11-26T04:15:00.123Z". */
static void read_timestamp(const JsonValue *o, const char *key, uint64_t *ret) {
        const char *s = json_string_value(json_object_get(o, key)), *end;
        unsigned ms = 0;
        struct tm tm = {};
        time_t t;

        if (!s)
                return;
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end || (end[0] == '.' && sscanf(end, ".%3u", &ms) != 1) || !strchr(end, 'Z'))
                return;
        t = timegm(&tm);
        if (t < 0)
                return;
        *ret = (uint64_t) t * 1000000 + (uint64_t) ms * 1000;
}

static void read_limits(const JsonValue *o, RecordLimits *l) {
        read_uint(o, "memory_max", &l->memory_max);
        read_uint(o, "cpu_quota_percent", &l->cpu_quota_percent);
        read_uint(o, "tasks_max", &l->tasks_max);
        read_seconds(o, "runtime_max_sec", &l->runtime_max_usec);
        read_uint(o, "disk_max", &l->disk_max);
}

int record_parse_json(const char *data, size_t size, Record *ret, char **ret_reason) {
        _cleanup_(json_value_freep) JsonValue *root = NULL;
        const JsonValue *usage, *status;
        Record r;
        size_t offset = 0;
        uint64_t v;
        int k;

        k = json_parse(data, size, &root, &offset);
        if (k == -ENOMEM)
                return k;
        if (k < 0) {
                *ret_reason = strprintf("not valid JSON (at byte %zu)", offset);
                return -EBADMSG;
        }
        if (root->type != JSON_OBJECT || !json_string_value(json_object_get(root, "id")) ||
            !json_string_value(json_object_get(root, "result"))) {
                *ret_reason = strdup("not an analysis record (no id or result)");
                return -EBADMSG;
        }

        record_init(&r);
        k = copy_string(root, "id", &r.id);
        if (k >= 0) k = copy_string(root, "unit", &r.unit);
        if (k >= 0) k = copy_string(root, "profile", &r.profile);
        if (k >= 0) k = copy_string(root, "invocation_id", &r.invocation_id);
        if (k >= 0) k = copy_string(root, "isolation", &r.isolation);
        if (k >= 0) k = copy_string(root, "node", &r.node);
        if (k >= 0) k = copy_string(root, "slurm_tasks_limit", &r.slurm_tasks_limit);
        if (k >= 0) k = copy_string(root, "result", &r.result);
        if (k >= 0) k = copy_string(root, "exit_code", &r.exit_code);
        if (k >= 0) k = copy_string(root, "signal", &r.signal);
        if (k >= 0) k = copy_string(root, "output_dir", &r.output_dir);
        if (k >= 0) k = copy_string(root, "stdout_file", &r.stdout_file);
        if (k >= 0) k = copy_string(root, "stderr_file", &r.stderr_file);
        if (k >= 0) k = copy_string(root, "stderr_tail", &r.stderr_tail);
        if (k >= 0) k = copy_string(root, "error", &r.error);
        if (k >= 0) k = copy_string(root, "notes", &r.notes);
        if (k >= 0) k = copy_string(root, "samples", &r.samples_file);
        if (k >= 0) k = copy_string(root, "samples_missing", &r.samples_missing);
        if (k >= 0) k = copy_string(root, "reconstructed", &r.reconstructed);
        if (k < 0) {
                record_done(&r);
                return k;
        }
        status = json_object_get(root, "exit_status");
        if (json_uint_value(status, &v) >= 0 && v <= INT32_MAX)
                r.exit_status = (int64_t) v;
        read_limits(json_object_get(root, "limits"), &r.limits);
        read_limits(json_object_get(root, "profile_limits"), &r.profile_limits);
        usage = json_object_get(root, "usage");
        read_seconds(usage, "runtime_sec", &r.usage.runtime_usec);
        read_seconds(usage, "cpu_sec", &r.usage.cpu_usec);
        read_seconds(usage, "sandbox_cpu_sec", &r.usage.sandbox_cpu_usec);
        read_uint(usage, "memory_peak", &r.usage.memory_peak);
        read_uint(usage, "oom_kills", &r.usage.oom_kills);
        read_uint(usage, "tasks_limit_hits", &r.usage.tasks_limit_hits);
        read_uint(usage, "tasks_peak", &r.usage.tasks_peak);
        read_seconds(usage, "cpu_throttled_sec", &r.usage.cpu_throttled_usec);
        read_uint(usage, "disk_used", &r.usage.disk_used);
        status = json_object_get(usage, "disk_full");
        if (status && status->type == JSON_BOOLEAN)
                r.usage.disk_full = status->boolean;
        read_uint(root, "caller_uid", &r.caller_uid);
        read_timestamp(root, "started_at", &r.started_at_usec);
        read_timestamp(root, "finished_at", &r.finished_at_usec);
        read_timestamp(root, "host_booted_at", &r.host_booted_at_usec);
        read_uint(root, "slurm_job_id", &r.slurm_job_id);
        *ret = r;
        return 0;
}
