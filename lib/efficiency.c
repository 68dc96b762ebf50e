/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How well an analysis fitted its limits, from its record, and how it ended. */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efficiency.h"
#include "parse-value.h"

static const char * const efficiency_kind_table[_EFFICIENCY_KIND_MAX] = {
        [EFFICIENCY_MEMORY]  = "memory",
        [EFFICIENCY_CPU]     = "cpu",
        [EFFICIENCY_RUNTIME] = "runtime",
        [EFFICIENCY_TASKS]   = "tasks",
};

static const char * const end_class_table[_END_CLASS_MAX] = {
        [END_SUCCESS]      = "success",
        [END_EXIT_CODE]    = "exit-code",
        [END_SIGNAL]       = "signal",
        [END_MEMORY]       = "memory",
        [END_TIME]         = "time",
        [END_TASKS]        = "tasks",
        [END_DISK]         = "disk",
        [END_CANCELLED]    = "cancelled",
        [END_HOST_STOPPED] = "host-stopped",
        [END_NOT_RUN]      = "not-run",
        [END_OTHER]        = "other",
};

static const char * const limit_kind_table[_LIMIT_KIND_MAX] = {
        [LIMIT_MEMORY] = "memory",
        [LIMIT_TIME]   = "time",
        [LIMIT_TASKS]  = "tasks",
        [LIMIT_DISK]   = "disk",
};

const char *efficiency_kind_to_string(EfficiencyKind k) {
        return k >= 0 && k < _EFFICIENCY_KIND_MAX ? efficiency_kind_table[k] : NULL;
}

const char *end_class_to_string(EndClass c) {
        return c >= 0 && c < _END_CLASS_MAX ? end_class_table[c] : NULL;
}

const char *limit_kind_to_string(LimitKind k) {
        return k >= 0 && k < _LIMIT_KIND_MAX ? limit_kind_table[k] : NULL;
}

static uint64_t mul_percent(uint64_t usec, uint64_t percent) {
        /* A quota of 100% over a day is 8.64e10 µs: the product fits in 64 bits up to quotas of ~2e6 %. */
        if (usec == RECORD_UNSET || percent == RECORD_UNSET || (percent > 0 && usec > UINT64_MAX / percent))
                return RECORD_UNSET;
        return usec * percent / 100;
}

void efficiency_from_record(const Record *r, Efficiency *ret) {
        *ret = (Efficiency) {
                .used = {
                        [EFFICIENCY_MEMORY]  = r->usage.memory_peak,
                        [EFFICIENCY_CPU]     = r->usage.cpu_usec,
                        [EFFICIENCY_RUNTIME] = r->usage.runtime_usec,
                        [EFFICIENCY_TASKS]   = r->usage.tasks_peak,
                },
                .allowed = {
                        [EFFICIENCY_MEMORY]  = r->limits.memory_max,
                        [EFFICIENCY_CPU]     = mul_percent(r->usage.runtime_usec, r->limits.cpu_quota_percent),
                        [EFFICIENCY_RUNTIME] = r->limits.runtime_max_usec,
                        [EFFICIENCY_TASKS]   = r->limits.tasks_max,
                },
                .tasks_max = r->limits.tasks_max,
                .tasks_refused = r->usage.tasks_limit_hits,
        };
}

double efficiency_ratio(const Efficiency *e, EfficiencyKind kind) {
        if (e->used[kind] == RECORD_UNSET || e->allowed[kind] == RECORD_UNSET || e->allowed[kind] == 0)
                return NAN;
        return (double) e->used[kind] / (double) e->allowed[kind];
}

static const char *format_figure(EfficiencyKind kind, uint64_t v, char *buf, size_t n) {
        return kind == EFFICIENCY_MEMORY ? format_bytes(v, buf, n) : format_duration(v, buf, n);
}

static const char *format_percent(double ratio, char *buf, size_t n) {
        snprintf(buf, n, ratio < 0.1 ? "%.1f%%" : "%.0f%%", ratio * 100);
        return buf;
}

int efficiency_describe(const Efficiency *e, EfficiencyKind kind, uint64_t cpu_quota_percent, char **ret) {
        static const char * const names[_EFFICIENCY_KIND_MAX] = {
                [EFFICIENCY_MEMORY]  = "memory",
                [EFFICIENCY_CPU]     = "CPU",
                [EFFICIENCY_RUNTIME] = "runtime",
        };
        uint64_t used = e->used[kind], allowed = e->allowed[kind];
        char u[32], a[32], p[16], t[32];
        char *s;

        if (kind == EFFICIENCY_TASKS)
                return efficiency_describe_tasks(e, ret);
        if (used == RECORD_UNSET)
                s = strprintf("%s not recorded", names[kind]);
        else if (allowed == RECORD_UNSET || allowed == 0)
                s = strprintf("%s %s, no limit", names[kind], format_figure(kind, used, u, sizeof(u)));
        else if (kind == EFFICIENCY_CPU)
                s = strprintf("CPU %s of %s (%s: %" PRIu64 "%% quota x %s runtime)", format_duration(used, u, sizeof(u)),
                              format_duration(allowed, a, sizeof(a)),
                              format_percent(efficiency_ratio(e, kind), p, sizeof(p)), cpu_quota_percent,
                              format_duration(e->used[EFFICIENCY_RUNTIME], t, sizeof(t)));
        else
                s = strprintf("%s %s of %s (%s)", names[kind], format_figure(kind, used, u, sizeof(u)),
                              format_figure(kind, allowed, a, sizeof(a)),
                              format_percent(efficiency_ratio(e, kind), p, sizeof(p)));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int efficiency_describe_tasks(const Efficiency *e, char **ret) {
        uint64_t peak = e->used[EFFICIENCY_TASKS];
        char p[16], refused[64] = "";
        char *s;

        if (peak != RECORD_UNSET) {
                if (e->tasks_refused != RECORD_UNSET && e->tasks_refused > 0)
                        (void) snprintf(refused, sizeof(refused), ", %" PRIu64 " fork%s refused", e->tasks_refused,
                                        e->tasks_refused == 1 ? "" : "s");
                if (e->tasks_max == RECORD_UNSET || e->tasks_max == 0)
                        s = strprintf("tasks: peak %" PRIu64 ", no limit%s", peak, refused);
                else
                        s = strprintf("tasks: peak %" PRIu64 " of the limit %" PRIu64 " (%s)%s", peak, e->tasks_max,
                                      format_percent(efficiency_ratio(e, EFFICIENCY_TASKS), p, sizeof(p)), refused);
        } else if (e->tasks_max == RECORD_UNSET && e->tasks_refused == RECORD_UNSET)
                s = strdup("tasks not recorded");
        else if (e->tasks_refused == RECORD_UNSET)
                s = strprintf("tasks: limit %" PRIu64 ", forks refused not recorded (no task peak is recorded)",
                              e->tasks_max);
        else if (e->tasks_max == RECORD_UNSET)
                s = strprintf("tasks: no limit, %" PRIu64 " fork%s refused (no task peak is recorded)", e->tasks_refused,
                              e->tasks_refused == 1 ? "" : "s");
        else if (e->tasks_refused == 0)
                s = strprintf("tasks: limit %" PRIu64 ", never reached (no fork refused; no task peak is recorded)",
                              e->tasks_max);
        else
                s = strprintf("tasks: limit %" PRIu64 " reached, %" PRIu64 " fork%s refused (no task peak is recorded)",
                              e->tasks_max, e->tasks_refused, e->tasks_refused == 1 ? "" : "s");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool streq_ptr(const char *a, const char *b) {
        return a && strcmp(a, b) == 0;
}

EndClass end_class_from_record(const Record *r) {
        if (r->error)
                return END_NOT_RUN;
        if (streq_ptr(r->result, "success"))
                return END_SUCCESS;
        if (streq_ptr(r->result, "oom-kill"))
                return END_MEMORY;
        if (streq_ptr(r->result, "timeout"))
                return END_TIME;
        if (streq_ptr(r->result, "cancelled"))
                return END_CANCELLED;
        if (streq_ptr(r->result, "host-stopped"))
                return END_HOST_STOPPED;
        /* systemd has no Result for these two: the analysis failed on its own, and the counters say why. */
        if (r->usage.tasks_limit_hits != RECORD_UNSET && r->usage.tasks_limit_hits > 0)
                return END_TASKS;
        if (r->usage.disk_full > 0)
                return END_DISK;
        if (streq_ptr(r->exit_code, "exited"))
                return END_EXIT_CODE;
        if (streq_ptr(r->exit_code, "killed") || streq_ptr(r->exit_code, "dumped"))
                return END_SIGNAL;
        return END_OTHER;
}

unsigned limits_hit_from_record(const Record *r) {
        unsigned hits = 0;

        if (streq_ptr(r->result, "oom-kill") || (r->usage.oom_kills != RECORD_UNSET && r->usage.oom_kills > 0))
                hits |= 1u << LIMIT_MEMORY;
        if (streq_ptr(r->result, "timeout"))
                hits |= 1u << LIMIT_TIME;
        if (r->usage.tasks_limit_hits != RECORD_UNSET && r->usage.tasks_limit_hits > 0)
                hits |= 1u << LIMIT_TASKS;
        if (r->usage.disk_full > 0)
                hits |= 1u << LIMIT_DISK;
        return hits;
}
