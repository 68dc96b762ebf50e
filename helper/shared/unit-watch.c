/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting a unit through systemd's D-Bus API and following it until it is done, without races.
 *
 * The pattern is systemd-run's (after its PR 4973): add the matches for JobRemoved and the unit's
 * PropertiesChanged before anything else, then read the state explicitly once; from then on every change
 * reaches us as a signal, in the order systemd made it. What follows the unit from there:
 *
 * - A PropertiesChanged of the Unit interface carries the new values of ActiveState, Job and InvocationID
 *   themselves (all three "emit change" in systemd 252), so they are taken from the signal. Only a signal
 *   that invalidates one of them without its value makes us read everything again (GetAll). The Service
 *   interface's signals say nothing we wait for and are ignored, as systemctl's bus-wait-for-units.c does.
 * - After our job's JobRemoved everything is read again: systemd flushes the unit's pending
 *   PropertiesChanged before JobRemoved (since 240), so this read is belt and braces, but it is once per
 *   analysis and it settles InvocationID, which decides whether the unit ran for us.
 *
 * Signals queued while a read was on its way may be older than the read's reply; they are still applied in
 * the order systemd sent them, and any later change comes with a signal of its own, so every property ends
 * at its latest value. Done needs our JobRemoved first, and every state seen after it is one the unit really
 * went through after our job: an older state can never pass for the end. A watch that follows a unit started
 * by someone else (unit_watch_follow()) has no JobRemoved to settle things, so there a signal that is older
 * than the first read could pass for the end of the run: it reads everything again on every signal.
 *
 * Signals are only sent while someone holds a reference on the unit or has called Subscribe(); a reference
 * taken before the first read (RefUnit) also keeps systemd 252 from collecting the instance between our calls
 * and loading it again from its file for the next one. */

#include <stddef.h>
#include <string.h>

#include "bus-map.h"
#include "parse-value.h"
#include "strv.h"
#include "unit-watch.h"

#define SYSTEMD_DESTINATION "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define MANAGER_INTERFACE "org.freedesktop.systemd1.Manager"
#define UNIT_INTERFACE "org.freedesktop.systemd1.Unit"
#define SERVICE_INTERFACE "org.freedesktop.systemd1.Service"

struct UnitWatch {
        sd_bus *bus;
        char *unit;
        char *path;
        char *job;
        char *job_result;
        bool referenced;
        bool following;         /* no start job of ours to wait for */
        bool read_under_ref;    /* first read made while referenced: every later change comes as a signal */
        bool skip_limits;       /* unit_watch_load() leaves the service limits unread */
        bool done;
        UnitProperties properties;
        sd_bus_slot *job_removed_slot;
        sd_bus_slot *properties_slot;
        UnitWatchDone on_done;
        void *userdata;
};

/* Reads the value of the Unit property name from m (positioned at its variant) into p when it is one we
 * follow. Returns 1 if it was, 0 if it was skipped, or a negative errno. */
static int read_unit_property(sd_bus_message *m, const char *name, UnitProperties *p) {
        const char *s;
        int r;

        if (strcmp(name, "ActiveState") == 0 || strcmp(name, "LoadState") == 0) {
                r = sd_bus_message_read(m, "v", "s", &s);
                if (r < 0)
                        return r;
                (void) snprintf(name[0] == 'A' ? p->active_state : p->load_state, sizeof(p->active_state), "%s", s);
                return 1;
        }
        if (strcmp(name, "Job") == 0) {
                uint32_t id;

                r = sd_bus_message_read(m, "v", "(uo)", &id, &s);
                if (r < 0)
                        return r;
                p->job_pending = id != 0;
                return 1;
        }
        if (strcmp(name, "InvocationID") == 0) {
                r = bus_message_read_id128(m, p->invocation_id);
                return r < 0 ? r : 1;
        }
        r = sd_bus_message_skip(m, "v");
        return r < 0 ? r : 0;
}

/* Reads an a{sv} of Unit properties from m into p. */
static int read_unit_property_dict(sd_bus_message *m, UnitProperties *p) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = read_unit_property(m, name, p);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_unit_properties(UnitWatch *w, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(w->bus, SYSTEMD_DESTINATION, w->path, "org.freedesktop.DBus.Properties", "GetAll",
                               error, &reply, "s", UNIT_INTERFACE);
        if (r < 0)
                return r;
        r = read_unit_property_dict(reply, &w->properties);
        return r < 0 ? r : 0;
}

static void check_done(UnitWatch *w) {
        const UnitProperties *p = &w->properties;

        if (w->done || (!w->job_result && !w->following) || p->job_pending)
                return;
        if (strcmp(p->active_state, "inactive") != 0 && strcmp(p->active_state, "failed") != 0)
                return;
        w->done = true;
        if (w->on_done)
                w->on_done(w, w->userdata);
}

static int refresh(UnitWatch *w) {
        int r = read_unit_properties(w, NULL);

        if (r >= 0)
                check_done(w);
        return r;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitWatch *w = userdata;
        const char *job, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
                return 0;
        if (!w->job || strcmp(job, w->job) != 0)
                return 0;
        free(w->job_result);
        w->job_result = strdup(result);
        /* The one read after the start (see the top of the file): every state applied after it is one the unit
         * went through after our job. */
        (void) refresh(w);
        return 0;
}

static bool is_followed_property(const char *name) {
        return strcmp(name, "ActiveState") == 0 || strcmp(name, "LoadState") == 0 || strcmp(name, "Job") == 0 ||
               strcmp(name, "InvocationID") == 0;
}

/* Applies the values a Unit PropertiesChanged carries. Returns 1 when it invalidated a followed property
 * without sending its value (everything must be read again), 0 when the signal said all, or a negative errno. */
static int apply_properties_changed(UnitWatch *w, sd_bus_message *m) {
        const char *interface, *name;
        bool reread = false;
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0)
                return r;
        if (strcmp(interface, UNIT_INTERFACE) != 0)
                return 0;
        r = read_unit_property_dict(m, &w->properties);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "s", &name)) > 0)
                if (is_followed_property(name))
                        reread = true;
        if (r < 0)
                return r;
        return reread;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitWatch *w = userdata;
        int r;

        if (w->following) {
                (void) refresh(w);
                return 0;
        }
        r = apply_properties_changed(w, m);
        /* A signal we could not read leaves the state unknown: read it, as for an invalidation. */
        if (r != 0)
                (void) refresh(w);
        else
                check_done(w);
        return 0;
}

int unit_watch_new(UnitWatch **ret, sd_bus *bus, const char *unit, UnitWatchDone done, void *userdata) {
        _cleanup_(unit_watch_freep) UnitWatch *w = NULL;
        int r;

        w = calloc(1, sizeof(UnitWatch));
        if (!w)
                return -ENOMEM;
        w->bus = sd_bus_ref(bus);
        w->on_done = done;
        w->userdata = userdata;
        w->unit = strdup(unit);
        if (!w->unit)
                return -ENOMEM;
        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &w->path);
        if (r < 0)
                return r;
        r = sd_bus_match_signal(bus, &w->job_removed_slot, SYSTEMD_DESTINATION, SYSTEMD_PATH, MANAGER_INTERFACE,
                                "JobRemoved", on_job_removed, w);
        if (r < 0)
                return r;
        r = sd_bus_match_signal(bus, &w->properties_slot, SYSTEMD_DESTINATION, w->path,
                                "org.freedesktop.DBus.Properties", "PropertiesChanged", on_properties_changed, w);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

UnitWatch *unit_watch_free(UnitWatch *w) {
        if (!w)
                return NULL;
        /* Sent without waiting for the reply: the caller is done with the unit, and behind a busy manager (50
         * analyses ending at once) the round trip was the last thing analysis-run waited for. The message goes
         * out when the caller flushes the bus; should it not, the manager drops our reference when we leave the
         * bus anyway. */
        if (w->referenced)
                (void) sd_bus_call_method_async(w->bus, NULL, SYSTEMD_DESTINATION, SYSTEMD_PATH, MANAGER_INTERFACE,
                                                "UnrefUnit", NULL, NULL, "s", w->unit);
        sd_bus_slot_unref(w->job_removed_slot);
        sd_bus_slot_unref(w->properties_slot);
        sd_bus_unref(w->bus);
        free(w->unit);
        free(w->path);
        free(w->job);
        free(w->job_result);
        free(w);
        return NULL;
}

/* What one GetAll of the Service interface fills: the limits, and the environment to find Disk= in. */
typedef struct ServiceLimits {
        UnitProperties properties;
        char **environment;
} ServiceLimits;

/* Reads the service limits with one GetAll of the Service interface rather than a Get for each. */
static int read_service_limits(UnitWatch *w, sd_bus_error *error) {
#define FIELD(f) offsetof(ServiceLimits, properties.f)
        static const BusMapEntry limits[] = {
                { "MemoryMax",          BUS_MAP_U64,  FIELD(memory_max)                        },
                { "TasksMax",           BUS_MAP_U64,  FIELD(tasks_max)                         },
                { "CPUQuotaPerSecUSec", BUS_MAP_U64,  FIELD(cpu_quota_per_sec_usec)            },
                { "RuntimeMaxUSec",     BUS_MAP_U64,  FIELD(runtime_max_usec)                  },
                { "DynamicUser",        BUS_MAP_BOOL, FIELD(dynamic_user)                      },
                { "Environment",        BUS_MAP_STRV, offsetof(ServiceLimits, environment)     },
        };
#undef FIELD
        ServiceLimits l = { .properties = w->properties };
        int r;

        r = bus_map_all_properties(w->bus, SYSTEMD_DESTINATION, w->path, SERVICE_INTERFACE, limits,
                                   ELEMENTSOF(limits), &l, error);
        if (r >= 0) {
                STRV_FOREACH(e, l.environment)
                        if (strncmp(*e, "ANALYSIS_DISK_MAX=", 18) == 0)
                                (void) parse_memory_limit(*e + 18, &l.properties.disk_max);
                w->properties = l.properties;
        }
        strv_free(l.environment);
        return r;
}

int unit_watch_load(UnitWatch *w, UnitProperties *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        /* RefUnit loaded the unit already, the same way LoadUnit does (a template instance is instantiated, a
         * missing one reads LoadState=not-found): one round trip through the manager fewer. */
        if (!w->referenced) {
                r = sd_bus_call_method(w->bus, SYSTEMD_DESTINATION, SYSTEMD_PATH, MANAGER_INTERFACE, "LoadUnit",
                                       error, &reply, "s", w->unit);
                if (r < 0)
                        return r;
        }
        r = read_unit_properties(w, error);
        if (r < 0)
                return r;
        w->read_under_ref = w->referenced;
        w->properties.memory_max = w->properties.tasks_max = UINT64_MAX;
        w->properties.cpu_quota_per_sec_usec = w->properties.runtime_max_usec = UINT64_MAX;
        w->properties.disk_max = UINT64_MAX;
        w->properties.dynamic_user = false;
        if (strcmp(w->properties.load_state, "loaded") == 0 && !w->skip_limits) {
                r = read_service_limits(w, error);
                if (r < 0)
                        return r;
        }
        *ret = w->properties;
        return 0;
}

void unit_watch_skip_limits(UnitWatch *w) {
        w->skip_limits = true;
}

int unit_watch_ref(UnitWatch *w, sd_bus_error *error) {
        int r;

        r = sd_bus_call_method(w->bus, SYSTEMD_DESTINATION, SYSTEMD_PATH, MANAGER_INTERFACE, "RefUnit", error, NULL,
                               "s", w->unit);
        if (r < 0)
                return r;
        w->referenced = true;
        return 0;
}

int unit_watch_start(UnitWatch *w, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *job;
        int r;

        r = sd_bus_call_method(w->bus, SYSTEMD_DESTINATION, SYSTEMD_PATH, MANAGER_INTERFACE, "StartUnit", error,
                               &reply, "ss", w->unit, "fail");
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        w->job = strdup(job);
        if (!w->job)
                return -ENOMEM;
        /* Its JobRemoved, if the job is gone already, was queued while we waited for this reply and is
         * dispatched next, now that we know the job. Changes to the unit since unit_watch_load() came as
         * signals if we held a reference then; if not, some may have been sent to nobody: read it once now. */
        if (w->read_under_ref)
                return 0;
        return refresh(w);
}

int unit_watch_follow(UnitWatch *w, sd_bus_error *error) {
        int r;

        w->following = true;
        r = read_unit_properties(w, error);
        if (r < 0)
                return r;
        check_done(w);
        return 0;
}

bool unit_watch_is_done(const UnitWatch *w) {
        return w->done;
}

int unit_watch_stop(UnitWatch *w) {
        return sd_bus_call_method_async(w->bus, NULL, SYSTEMD_DESTINATION, SYSTEMD_PATH, MANAGER_INTERFACE,
                                        "StopUnit", NULL, NULL, "ss", w->unit, "replace");
}

const char *unit_watch_job_result(const UnitWatch *w) {
        return w->job_result;
}

const UnitProperties *unit_watch_properties(const UnitWatch *w) {
        return &w->properties;
}

bool unit_watch_is_referenced(const UnitWatch *w) {
        return w->referenced;
}
