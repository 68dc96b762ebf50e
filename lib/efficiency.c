/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How well an analysis fitted its limits, from its record, and how it ended. */

#include <math.h>
#include <string.h>

#include "efficiency.h"

static const char * const efficiency_kind_table[_EFFICIENCY_KIND_MAX] = {
        [EFFICIENCY_MEMORY]  = "memory",
        [EFFICIENCY_CPU]     = "cpu",
        [EFFICIENCY_RUNTIME] = "runtime",
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
                },
                .allowed = {
                        [EFFICIENCY_MEMORY]  = r->limits.memory_max,
                        [EFFICIENCY_CPU]     = mul_percent(r->usage.runtime_usec, r->limits.cpu_quota_percent),
                        [EFFICIENCY_RUNTIME] = r->limits.runtime_max_usec,
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
