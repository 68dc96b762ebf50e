/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting a unit through systemd's D-Bus API and following it until it is done, without races. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct UnitWatch UnitWatch;

/* Called once, when the unit is done: its start job has finished and it is inactive or failed with no job. */
typedef void (*UnitWatchDone)(UnitWatch *w, void *userdata);

typedef struct UnitProperties {
        char load_state[32];
        char active_state[32];
        char invocation_id[33];         /* hex; empty when the unit never ran */
        bool job_pending;
        /* Service limits as systemd has them loaded (UINT64_MAX: none). */
        uint64_t memory_max;
        uint64_t tasks_max;
        uint64_t cpu_quota_per_sec_usec;
        uint64_t runtime_max_usec;
        /* Of the unit's Environment=: the profile's Disk= (ANALYSIS_DISK_MAX; UINT64_MAX: none). */
        uint64_t disk_max;
        bool dynamic_user;              /* DynamicUser=: an account of its own, named after the id */
} UnitProperties;

/* Creates a watch on unit over bus (attached to event) and adds the signal matches first, so that nothing
 * that happens after this call can be missed. Returns 0 or a negative errno. */
int unit_watch_new(UnitWatch **ret, sd_bus *bus, const char *unit, UnitWatchDone done, void *userdata);

UnitWatch *unit_watch_free(UnitWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitWatch *, unit_watch_free);

/* Loads the unit (a template instance is instantiated) and reads its state and service limits. Take the
 * reference (unit_watch_ref()) first where the caller may: see there. */
int unit_watch_load(UnitWatch *w, UnitProperties *ret, sd_bus_error *error);

/* Makes unit_watch_load() leave the service limits (and DynamicUser) unread, as UINT64_MAX and false, for a
 * caller with nothing to hold to them: the Service interface's GetAll is the largest reply the manager builds
 * for us, about 200 properties, and each one waits its turn in the manager. */
void unit_watch_skip_limits(UnitWatch *w);

/* Takes a reference on the unit (RefUnit) so systemd keeps it, and its Result, until we let go: a collected
 * unit would be reloaded fresh and read Result=success. Dropped by unit_watch_free() or with the bus. Taken
 * before unit_watch_load(), it also keeps systemd from collecting and reloading the instance between our
 * calls, and lets unit_watch_start() skip a read. A caller that may not (polkit) calls it later, before
 * unit_watch_start(). */
int unit_watch_ref(UnitWatch *w, sd_bus_error *error);

/* Queues the start job. Returns 0 or a negative errno with *error set by systemd (e.g. permission denied). */
int unit_watch_start(UnitWatch *w, sd_bus_error *error);

/* Follows the unit as it is, started by someone else: reads its state now, and the watch is done once the unit
 * is inactive or failed with no job pending (at once if it is so already). Returns 0 or a negative errno. */
int unit_watch_follow(UnitWatch *w, sd_bus_error *error);

/* Whether the watch is done (the done callback has been called). */
bool unit_watch_is_done(const UnitWatch *w);

/* Queues a stop job without waiting for it. */
int unit_watch_stop(UnitWatch *w);

/* The start job's result ("done", "failed", ...), or NULL while it runs. */
const char *unit_watch_job_result(const UnitWatch *w);

/* The latest properties read. */
const UnitProperties *unit_watch_properties(const UnitWatch *w);

/* Whether unit_watch_ref() succeeded. */
bool unit_watch_is_referenced(const UnitWatch *w);
