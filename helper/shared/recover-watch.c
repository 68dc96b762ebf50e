/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Following the recovery of a failed analysis unit's record. */

#include <string.h>

#include "macro.h"
#include "recover-watch.h"

#define RECOVER_POLL_USEC (1000 * 1000)

struct RecoverWatch {
        UnitWatch *watch;
        sd_event_source *timer;
};

bool recover_may_follow(const char *active_state) {
        return active_state && strcmp(active_state, "failed") == 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        RecoverWatch *w = userdata;

        if (unit_watch_is_done(w->watch))
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        /* Reads the state again; calls done if it is so now. */
        (void) unit_watch_follow(w->watch, NULL);
        if (!unit_watch_is_done(w->watch))
                (void) sd_event_source_set_time_relative(s, RECOVER_POLL_USEC);
        return 0;
}

int recover_watch_new(RecoverWatch **ret, sd_bus *bus, sd_event *event, const char *id, UnitWatchDone done,
                      void *userdata) {
        _cleanup_(recover_watch_freep) RecoverWatch *w = NULL;
        _cleanup_free_ char *unit = strprintf("analysis-sandbox-recover@%s.service", id);
        int r;

        if (!unit)
                return -ENOMEM;
        w = calloc(1, sizeof(RecoverWatch));
        if (!w)
                return -ENOMEM;
        /* Its changes are signalled to us only as a subscriber: callers may not take a reference on it
         * (polkit allows that on analysis units only). Allowed to everyone. */
        (void) sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        r = unit_watch_new(&w->watch, bus, unit, done, userdata);
        if (r < 0)
                return r;
        r = unit_watch_follow(w->watch, NULL);
        if (r < 0)
                return r;
        if (!unit_watch_is_done(w->watch)) {
                r = sd_event_add_time_relative(event, &w->timer, CLOCK_MONOTONIC, RECOVER_POLL_USEC, 0, on_timer, w);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(w);
        return 0;
}

bool recover_watch_is_done(const RecoverWatch *w) {
        return unit_watch_is_done(w->watch);
}

RecoverWatch *recover_watch_free(RecoverWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->timer);
        unit_watch_free(w->watch);
        free(w);
        return NULL;
}
