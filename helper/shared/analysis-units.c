/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding analyses among the units a service manager has loaded, and reading what one uses now. */

#include <stdlib.h>
#include <string.h>

#include "analysis-id.h"
#include "analysis-units.h"
#include "bus-map.h"
#include "cgroup-util.h"
#include "macro.h"

#define SYSTEMD_DESTINATION "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"

bool analysis_unit_is_running(const AnalysisUnit *u) {
        return u->job_pending ||
               (strcmp(u->active_state, "inactive") != 0 && strcmp(u->active_state, "failed") != 0);
}

void analysis_unit_done(AnalysisUnit *u) {
        free(u->unit);
        free(u->profile);
        free(u->id);
        free(u->active_state);
        free(u->sub_state);
        *u = (AnalysisUnit) {};
}

void analysis_units_free(AnalysisUnit *units, size_t n) {
        if (!units)
                return;
        for (size_t i = 0; i < n; i++)
                analysis_unit_done(units + i);
        free(units);
}

static int compare_by_id(const void *a, const void *b) {
        const AnalysisUnit *x = a, *y = b;
        int c = strcmp(x->id, y->id);

        return c != 0 ? c : strcmp(x->unit, y->unit);
}

static int append_patterns(sd_bus_message *m, const char *id) {
        _cleanup_free_ char *plain = strprintf("analysis@%s.service", id ?: "*");
        _cleanup_free_ char *profiled = strprintf("analysis-*@%s.service", id ?: "*");

        if (!plain || !profiled)
                return -ENOMEM;
        /* Ids hold no glob characters (analysis_id_is_valid()), so they match only themselves. */
        return sd_bus_message_append(m, "as", 2, plain, profiled);
}

int analysis_units_list(sd_bus *bus, const char *id, AnalysisUnit **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        AnalysisUnit *units = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_new_method_call(bus, &call, SYSTEMD_DESTINATION, SYSTEMD_PATH,
                                           "org.freedesktop.systemd1.Manager", "ListUnitsByPatterns");
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "as", 0);
        if (r >= 0)
                r = append_patterns(call, id);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, call, 0, error, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        if (r < 0)
                return r;
        for (;;) {
                const char *name, *load_state, *active_state, *sub_state;
                _cleanup_free_ char *profile = NULL, *unit_id = NULL;
                AnalysisUnit *grown;
                uint32_t job_id;

                r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL, &load_state, &active_state, &sub_state,
                                        NULL, NULL, &job_id, NULL, NULL);
                if (r <= 0)
                        break;
                /* The patterns also match the templates and odd names: keep only what we would have made. */
                if (strcmp(load_state, "loaded") != 0 || analysis_unit_name_parse(name, &profile, &unit_id) < 0)
                        continue;
                grown = reallocarray(units, n + 1, sizeof(AnalysisUnit));
                if (!grown) {
                        r = -ENOMEM;
                        break;
                }
                units = grown;
                units[n] = (AnalysisUnit) {
                        .unit = strdup(name),
                        .profile = TAKE_PTR(profile),
                        .id = TAKE_PTR(unit_id),
                        .active_state = strdup(active_state),
                        .sub_state = strdup(sub_state),
                        .job_pending = job_id != 0,
                };
                n++;
                if (!units[n - 1].unit || !units[n - 1].active_state || !units[n - 1].sub_state) {
                        r = -ENOMEM;
                        break;
                }
        }
        if (r < 0) {
                analysis_units_free(units, n);
                return r;
        }
        if (n > 1)
                qsort(units, n, sizeof(AnalysisUnit), compare_by_id);
        *ret = units;
        *ret_n = n;
        return 0;
}

/* An analysis' own tighter limits sit on the payload cgroup its runner makes (see analysis-exec.c). */
static void apply_payload_limits(UnitUsage *u) {
        _cleanup_free_ char *payload = strprintf(CGROUP_ROOT "%s/payload", u->control_group);
        uint64_t v;

        if (!payload)
                return;
        if (cgroup_read_uint(payload, "memory.max", &v) >= 0 && v < u->memory_max)
                u->memory_max = v;
        if (cgroup_read_uint(payload, "pids.max", &v) >= 0 && v < u->tasks_max)
                u->tasks_max = v;
        if (cgroup_read_cpu_percent(payload, &v) >= 0 && v < u->cpu_percent)
                u->cpu_percent = v;
}

int unit_usage_read(sd_bus *bus, const char *unit, UnitUsage *ret, sd_bus_error *error) {
        static const BusMapEntry unit_map[] = {
                { "InvocationID",           BUS_MAP_ID128, offsetof(UnitUsage, invocation_id)   },
                { "InactiveExitTimestamp",  BUS_MAP_U64,   offsetof(UnitUsage, started_at_usec) },
        };
        static const BusMapEntry service_map[] = {
                { "ControlGroup",       BUS_MAP_STRING, offsetof(UnitUsage, control_group)    },
                { "MemoryCurrent",      BUS_MAP_U64,    offsetof(UnitUsage, memory_current)   },
                { "CPUUsageNSec",       BUS_MAP_U64,    offsetof(UnitUsage, cpu_usage_nsec)   },
                { "TasksCurrent",       BUS_MAP_U64,    offsetof(UnitUsage, tasks_current)    },
                { "MainPID",            BUS_MAP_U32,    offsetof(UnitUsage, main_pid)         },
                { "MemoryMax",          BUS_MAP_U64,    offsetof(UnitUsage, memory_max)       },
                { "TasksMax",           BUS_MAP_U64,    offsetof(UnitUsage, tasks_max)        },
                { "CPUQuotaPerSecUSec", BUS_MAP_U64,    offsetof(UnitUsage, cpu_percent)      },
                { "RuntimeMaxUSec",     BUS_MAP_U64,    offsetof(UnitUsage, runtime_max_usec) },
        };
        _cleanup_free_ char *path = NULL;
        UnitUsage u = {
                .memory_current = UINT64_MAX,
                .cpu_usage_nsec = UINT64_MAX,
                .tasks_current = UINT64_MAX,
                .memory_max = UINT64_MAX,
                .tasks_max = UINT64_MAX,
                .cpu_percent = UINT64_MAX,
                .runtime_max_usec = UINT64_MAX,
        };
        int r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        r = bus_map_all_properties(bus, SYSTEMD_DESTINATION, path, "org.freedesktop.systemd1.Unit", unit_map,
                                   ELEMENTSOF(unit_map), &u, error);
        if (r >= 0)
                r = bus_map_all_properties(bus, SYSTEMD_DESTINATION, path, "org.freedesktop.systemd1.Service",
                                           service_map, ELEMENTSOF(service_map), &u, error);
        if (r < 0) {
                unit_usage_done(&u);
                return r;
        }
        /* CPUQuotaPerSecUSec is per second of wall time: 10000 µs of it is 1% of one CPU. */
        if (u.cpu_percent != UINT64_MAX)
                u.cpu_percent /= 10000;
        if (u.control_group && u.control_group[0])
                apply_payload_limits(&u);
        *ret = u;
        return 0;
}

void unit_usage_done(UnitUsage *u) {
        free(u->control_group);
        u->control_group = NULL;
}
