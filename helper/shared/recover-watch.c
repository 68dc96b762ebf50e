/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Following the recovery of a failed analysis unit's record. */

#include <string.h>

#include "macro.h"
#include "recover-watch.h"

bool recover_may_follow(const char *active_state) {
        return active_state && strcmp(active_state, "failed") == 0;
}

int recover_watch_new(UnitWatch **ret, sd_bus *bus, const char *id, UnitWatchDone done, void *userdata) {
        _cleanup_(unit_watch_freep) UnitWatch *w = NULL;
        _cleanup_free_ char *unit = strprintf("analysis-sandbox-recover@%s.service", id);
        int r;

        if (!unit)
                return -ENOMEM;
        /* Its changes are signalled to us only as a subscriber: callers may not take a reference on it
         * (polkit allows that on analysis units only). Allowed to everyone. */
        (void) sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        r = unit_watch_new(&w, bus, unit, done, userdata);
        if (r < 0)
                return r;
        r = unit_watch_follow(w, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}
