/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding analyses among the units a service manager has loaded, and reading what one uses now. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct AnalysisUnit {
        char *unit;
        char *profile;
        char *id;
        char *active_state;
        char *sub_state;
        bool job_pending;
} AnalysisUnit;

typedef struct UnitUsage {
        char invocation_id[33];         /* hex; empty when the unit never ran */
        char *control_group;            /* below /sys/fs/cgroup, e.g. "/analysis.slice/.../analysis@x.service" */
        uint64_t started_at_usec;       /* CLOCK_REALTIME when it left "inactive"; 0 if never */
        uint64_t memory_current;        /* UINT64_MAX: unknown */
        uint64_t cpu_usage_nsec;
        uint64_t tasks_current;
        uint32_t main_pid;
        /* In force: the unit's limit, or the analysis' own tighter one (on its payload cgroup). UINT64_MAX: none. */
        uint64_t memory_max;
        uint64_t tasks_max;
        uint64_t cpu_percent;
        uint64_t runtime_max_usec;
} UnitUsage;

/* Whether the unit is running: not inactive or failed, or a job is queued for it. */
bool analysis_unit_is_running(const AnalysisUnit *u);

/* Lists the analysis units the manager on bus has loaded, only those of analysis id when id is not NULL,
 * sorted by id. Returns 0 with *ret and *ret_n, or a negative errno (with *error set by the manager). */
int analysis_units_list(sd_bus *bus, const char *id, AnalysisUnit **ret, size_t *ret_n, sd_bus_error *error);

/* Frees the fields of one unit and clears it. */
void analysis_unit_done(AnalysisUnit *u);

/* Frees n units and the array. */
void analysis_units_free(AnalysisUnit *units, size_t n);

/* Reads the state and usage of unit now, and the limits in force from its cgroup. Returns 0 or a negative
 * errno (with *error set by the manager). */
int unit_usage_read(sd_bus *bus, const char *unit, UnitUsage *ret, sd_bus_error *error);

/* Frees the fields. */
void unit_usage_done(UnitUsage *u);
