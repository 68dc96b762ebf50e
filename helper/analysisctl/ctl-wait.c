/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl wait and stop: following an analysis someone else started until it ends, and stopping one. */

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "exit-status.h"
#include "log.h"
#include "record-file.h"
#include "spool.h"
#include "unit-watch.h"

static void on_done(UnitWatch *w, void *userdata) {
        Ctl *c = userdata;

        (void) sd_event_exit(c->event, 0);
}

/* Follows unit until it is inactive or failed with no job. With stop, queues a stop job first (after the
 * matches, so its end cannot be missed). Leaves the unit's InvocationID in invocation. */
static int follow_unit(Ctl *c, const char *unit, bool stop, char invocation[static 33]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(unit_watch_freep) UnitWatch *w = NULL;
        _cleanup_free_ char *what = NULL;
        int r;

        r = unit_watch_new(&w, c->bus, unit, on_done, c);
        if (r < 0)
                return log_error_errno(r, "Cannot watch %s: %m", unit), EXIT_SETUP_UNAVAILABLE;
        /* Keeps the unit, and so its InvocationID, loaded until the record is read. Refused to callers polkit
         * does not allow; following works without it. */
        (void) unit_watch_ref(w, NULL);
        if (stop) {
                r = sd_bus_call_method(c->bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "StopUnit", &error, NULL, "ss", unit,
                                       "replace");
                if (r < 0) {
                        what = strprintf("stop %s", unit);
                        return ctl_bus_error(c, &error, r, what ?: unit);
                }
                if (c->no_block)
                        return 0;
        }
        r = unit_watch_follow(w, &error);
        if (r < 0) {
                what = strprintf("read the state of %s", unit);
                return ctl_bus_error(c, &error, r, what ?: unit);
        }
        if (!unit_watch_is_done(w)) {
                r = sd_event_loop(c->event);
                if (r < 0)
                        return log_error_errno(r, "Event loop failed: %m"), EXIT_SETUP_UNAVAILABLE;
        }
        memcpy(invocation, unit_watch_properties(w)->invocation_id, 33);
        return 0;
}

int verb_wait(Ctl *c, char **args) {
        const char *id = args[0];
        _cleanup_(record_done) Record record;
        _cleanup_free_ char *json = NULL, *why = NULL;
        _cleanup_(analysis_unit_done) AnalysisUnit u = {};
        char invocation[33] = "";
        size_t size = 0;
        int r;

        record_init(&record);
        r = ctl_check_id(id);
        if (r == 0)
                r = ctl_find_unit(c, id, &u);
        if (r != 0)
                return r;
        if (u.unit)
                r = follow_unit(c, u.unit, false, invocation);
        if (r != 0)
                return r;

        r = record_file_load(c->paths.results_dir, id, &record, &json, &size, &why);
        if (r == -ENOENT && !u.unit)
                log_error("No analysis '%s': none is running and %s/%s.json does not exist.", id,
                          c->paths.results_dir, id);
        else if (r == -ENOENT)
                log_error("Analysis %s ended but left no record in %s. See journalctl -u %s.", id,
                          c->paths.results_dir, u.unit);
        else if (r == -EBADMSG)
                log_error("The record %s/%s.json cannot be read: %s", c->paths.results_dir, id, strempty(why));
        else if (r < 0)
                log_error_errno(r, "Cannot read the record %s/%s.json: %m", c->paths.results_dir, id);
        else if (invocation[0] && (!record.invocation_id || strcmp(record.invocation_id, invocation) != 0)) {
                /* A record of an earlier run with the same id must never pass for this one. */
                log_error("The record %s/%s.json belongs to another run of %s (invocation %s, not %s).",
                          c->paths.results_dir, id, id, strempty(record.invocation_id), invocation);
                r = -ESTALE;
        }
        if (r < 0)
                return r == -ENOENT && !u.unit ? EXIT_CTL_NO_SUCH_ANALYSIS :
                       r == -EACCES ? EXIT_SETUP_PERMISSION : EXIT_SETUP_NO_RECORD;
        if (c->json)
                fwrite(json, 1, size, stdout);
        if (!c->quiet) {
                fprintf(stderr, "Analysis %s (profile %s): %s\n", id, strempty(record.profile), strempty(record.notes));
                if (record.output_dir)
                        fprintf(stderr, "Output: %s\n", record.output_dir);
        }
        return exit_status_from_record(&record, 0);
}

int verb_stop(Ctl *c, char **args) {
        const char *id = args[0];
        _cleanup_(analysis_unit_done) AnalysisUnit u = {};
        char invocation[33];
        int r;

        r = ctl_check_id(id);
        if (r == 0)
                r = ctl_find_unit(c, id, &u);
        if (r != 0)
                return r;
        if (!u.unit || !analysis_unit_is_running(&u)) {
                log_error("Analysis %s is not running.", id);
                return EXIT_CTL_NO_SUCH_ANALYSIS;
        }
        /* Noted first, so the record says it was cancelled even if the analysis exits cleanly on SIGTERM.
         * Only the caller who started it (or root) can; for others, a stop by SIGTERM still reads as one. */
        (void) spool_mark_cancelled(&c->paths, id);
        return follow_unit(c, u.unit, true, invocation);
}
