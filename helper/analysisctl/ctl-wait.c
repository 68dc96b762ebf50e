/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl wait and stop: following an analysis someone else started until it ends, and stopping one; as a
 * unit of the service manager, or on another backend (backend.h: Slurm). */

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "exit-status.h"
#include "log.h"
#include "record-file.h"
#include "recover-watch.h"
#include "spool.h"
#include "unit-watch.h"

typedef struct Follow {
        Ctl *ctl;
        const char *id;
        RecoverWatch *recover;  /* analysis-recover of a unit that failed, until it is done */
} Follow;

static void on_recover_done(UnitWatch *w, void *userdata) {
        Follow *f = userdata;

        (void) sd_event_exit(f->ctl->event, 0);
}

/* A failed unit may have its record written (or completed) by analysis-recover: done once that is too. */
static void on_done(UnitWatch *w, void *userdata) {
        Follow *f = userdata;
        int r;

        if (!f->recover && recover_may_follow(unit_watch_properties(w)->active_state)) {
                r = recover_watch_new(&f->recover, f->ctl->bus, f->ctl->event, f->id, on_recover_done, f);
                if (r >= 0 && !recover_watch_is_done(f->recover))
                        return;
        }
        (void) sd_event_exit(f->ctl->event, 0);
}

static bool follow_is_done(const Follow *f, const UnitWatch *w) {
        return unit_watch_is_done(w) && (!f->recover || recover_watch_is_done(f->recover));
}

/* Follows unit until it is inactive or failed with no job. With stop, queues a stop job first (after the
 * matches, so its end cannot be missed). Leaves the unit's InvocationID in invocation. */
static int follow_unit(Ctl *c, const char *id, const char *unit, bool stop, char invocation[static 33]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(unit_watch_freep) UnitWatch *w = NULL;
        _cleanup_(recover_watch_freep) RecoverWatch *recover = NULL;
        _cleanup_free_ char *what = NULL;
        Follow f = { .ctl = c, .id = id };
        int r;

        r = unit_watch_new(&w, c->bus, unit, on_done, &f);
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
        if (!follow_is_done(&f, w))
                r = sd_event_loop(c->event);
        recover = f.recover;
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), EXIT_SETUP_UNAVAILABLE;
        memcpy(invocation, unit_watch_properties(w)->invocation_id, 33);
        return 0;
}

/* Prints what wait prints for a record and returns the exit status for it. */
static int print_ended(Ctl *c, const char *id, const Record *record, const char *json, size_t size) {
        if (c->json)
                fwrite(json, 1, size, stdout);
        if (!c->quiet) {
                fprintf(stderr, "Analysis %s (profile %s): %s\n", id, strempty(record->profile), strempty(record->notes));
                if (record->output_dir)
                        fprintf(stderr, "Output: %s\n", record->output_dir);
        }
        return exit_status_from_record(record, 0);
}

/* Waits for the record of an analysis of another backend (Slurm's), found by ctl_find_backend_analysis(). */
static int wait_backend(Ctl *c, const char *id, const Backend *b, BackendAnalysis *a, Record *record, char **json,
                        size_t *size) {
        int r;

        r = c->event ? 0 : sd_event_default(&c->event);
        if (r < 0) {
                b->free(a);
                return log_error_errno(r, "Cannot create an event loop: %m"), EXIT_SETUP_UNAVAILABLE;
        }
        r = b->wait(a, c->event, record, json, size);
        b->free(a);
        return r;
}

int verb_wait(Ctl *c, char **args) {
        const char *id = args[0];
        _cleanup_(record_done) Record record, other_record;
        _cleanup_free_ char *json = NULL, *other_json = NULL, *why = NULL;
        _cleanup_(analysis_unit_done) AnalysisUnit u = {};
        const Backend *other = NULL;
        BackendAnalysis *analysis = NULL;
        char invocation[33] = "";
        size_t size = 0, other_size = 0;
        int r;

        record_init(&record);
        record_init(&other_record);
        r = ctl_check_id(id);
        if (r == 0)
                r = ctl_find_unit(c, id, &u);
        if (r != 0)
                return r;
        if (u.unit)
                r = follow_unit(c, id, u.unit, false, invocation);
        else {
                /* Not a unit here: an analysis submitted to another backend (Slurm) and not ended yet comes
                 * before a record here, which comes before that backend's record. */
                r = ctl_find_backend_analysis(c, id, &other, &analysis, &other_record, &other_json, &other_size);
                if (r == -ENOENT)
                        r = 0;
                if (r == 0 && analysis) {
                        r = wait_backend(c, id, other, analysis, &record, &json, &size);
                        return r != 0 ? r : print_ended(c, id, &record, json, size);
                }
        }
        if (r != 0)
                return r;

        r = record_file_load(c->paths.results_dir, id, &record, &json, &size, &why);
        if (r == -ENOENT && other)
                return print_ended(c, id, &other_record, other_json, other_size);
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
        return print_ended(c, id, &record, json, size);
}

/* stop for an analysis of another backend (Slurm's): asks it to stop, and unless --no-block waits for its
 * record, as for a unit. */
static int stop_backend(Ctl *c, const char *id) {
        _cleanup_(record_done) Record record;
        _cleanup_free_ char *json = NULL;
        const Backend *b = NULL;
        BackendAnalysis *a = NULL;
        size_t size = 0;
        int r;

        record_init(&record);
        r = ctl_find_backend_analysis(c, id, &b, &a, &record, &json, &size);
        if (r > 0)
                return r;
        if (r < 0 || !a) {
                log_error("Analysis %s is not running.", id);
                return EXIT_CTL_NO_SUCH_ANALYSIS;
        }
        r = b->stop(a);
        if (r < 0) {
                log_error_errno(r, "Cannot ask %s to stop analysis %s: %m", b->name, id);
                b->free(a);
                return EXIT_SETUP_UNAVAILABLE;
        }
        if (c->no_block) {
                b->free(a);
                return 0;
        }
        r = wait_backend(c, id, b, a, &record, &json, &size);
        return r == 0 ? EXIT_SUCCESS : r;
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
        if (!u.unit || !analysis_unit_is_running(&u))
                return stop_backend(c, id);
        /* Noted first, so the record says it was cancelled even if the analysis exits cleanly on SIGTERM.
         * Only the caller who started it (or root) can; for others, a stop by SIGTERM still reads as one. */
        (void) spool_mark_cancelled(&c->paths, id);
        return follow_unit(c, id, u.unit, true, invocation);
}
