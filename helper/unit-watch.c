/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting a unit through systemd's D-Bus API and following it until it is done, without races.
 *
 * The pattern is systemd-run's (after its PR 4973): add the matches for JobRemoved and the unit's
 * PropertiesChanged before anything else, then read the state explicitly, and after every change signal read
 * everything again (a signal says that something changed, not all that did). */

#include <string.h>

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
        bool done;
        UnitProperties properties;
        sd_bus_slot *job_removed_slot;
        sd_bus_slot *properties_slot;
        UnitWatchDone on_done;
        void *userdata;
};

static int read_unit_properties(UnitWatch *w, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        UnitProperties *p = &w->properties;
        int r;

        r = sd_bus_call_method(w->bus, SYSTEMD_DESTINATION, w->path, "org.freedesktop.DBus.Properties", "GetAll",
                               error, &reply, "s", UNIT_INTERFACE);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name, *s;

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        return r;
                if (strcmp(name, "ActiveState") == 0 || strcmp(name, "LoadState") == 0) {
                        r = sd_bus_message_read(reply, "v", "s", &s);
                        if (r < 0)
                                return r;
                        (void) snprintf(name[0] == 'A' ? p->active_state : p->load_state, sizeof(p->active_state),
                                        "%s", s);
                } else if (strcmp(name, "Job") == 0) {
                        uint32_t id;

                        r = sd_bus_message_read(reply, "v", "(uo)", &id, &s);
                        if (r < 0)
                                return r;
                        p->job_pending = id != 0;
                } else if (strcmp(name, "InvocationID") == 0) {
                        const uint8_t *bytes;
                        size_t n;

                        r = sd_bus_message_enter_container(reply, 'v', "ay");
                        if (r < 0)
                                return r;
                        r = sd_bus_message_read_array(reply, 'y', (const void **) &bytes, &n);
                        if (r < 0)
                                return r;
                        p->invocation_id[0] = '\0';
                        for (size_t i = 0; i < n && i < 16; i++)
                                (void) snprintf(p->invocation_id + 2 * i, 3, "%02x", bytes[i]);
                        r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                return r;
                } else {
                        r = sd_bus_message_skip(reply, "v");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
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
        /* systemd flushes the unit's pending PropertiesChanged before JobRemoved (since 240), but reading
         * again here costs little and covers everything. */
        (void) refresh(w);
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        (void) refresh(userdata);
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
        if (w->referenced)
                (void) sd_bus_call_method(w->bus, SYSTEMD_DESTINATION, SYSTEMD_PATH, MANAGER_INTERFACE, "UnrefUnit",
                                          NULL, NULL, "s", w->unit);
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

static int get_service_u64(UnitWatch *w, const char *name, uint64_t *ret, sd_bus_error *error) {
        return sd_bus_get_property_trivial(w->bus, SYSTEMD_DESTINATION, w->path, SERVICE_INTERFACE, name, error,
                                           't', ret);
}

int unit_watch_load(UnitWatch *w, UnitProperties *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(w->bus, SYSTEMD_DESTINATION, SYSTEMD_PATH, MANAGER_INTERFACE, "LoadUnit", error,
                               &reply, "s", w->unit);
        if (r < 0)
                return r;
        r = read_unit_properties(w, error);
        if (r < 0)
                return r;
        w->properties.memory_max = w->properties.tasks_max = UINT64_MAX;
        w->properties.cpu_quota_per_sec_usec = w->properties.runtime_max_usec = UINT64_MAX;
        if (strcmp(w->properties.load_state, "loaded") == 0) {
                r = get_service_u64(w, "MemoryMax", &w->properties.memory_max, error);
                if (r >= 0)
                        r = get_service_u64(w, "TasksMax", &w->properties.tasks_max, error);
                if (r >= 0)
                        r = get_service_u64(w, "CPUQuotaPerSecUSec", &w->properties.cpu_quota_per_sec_usec, error);
                if (r >= 0)
                        r = get_service_u64(w, "RuntimeMaxUSec", &w->properties.runtime_max_usec, error);
                if (r < 0)
                        return r;
        }
        *ret = w->properties;
        return 0;
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
        /* The job may be gone already (its JobRemoved was queued while we waited for this reply and is
         * dispatched next), and the unit may have changed meanwhile: read it once now. */
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
