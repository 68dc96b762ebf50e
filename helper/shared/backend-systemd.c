/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The systemd backend of analysis-run: an analysis as an instance of its profile's unit, started and followed
 * over D-Bus.
 *
 * submit spools the request (spool/ID/) and starts the unit, whose runner (or, under a user's manager,
 * analysis-record prepare) checks and takes it; wait follows the output files the unit writes, once the unit
 * says they are this run's, and the unit until it is done, and reads the record the unit wrote; stop notes the
 * cancel in the spool and queues a stop job. Where the service manager cannot be
 * reached, submit says BACKEND_UNREACHABLE when --fallback= names a backend to run the analysis instead. */

#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>

#include "analysis-id.h"
#include "backend.h"
#include "exit-status.h"
#include "fs-util.h"
#include "log.h"
#include "output-follow.h"
#include "paths.h"
#include "recover-watch.h"
#include "record-file.h"
#include "spool.h"
#include "unit-watch.h"

struct BackendAnalysis {
        RuntimeScope scope;
        const char *profile;
        sd_event *event;
        sd_bus *bus;
        UnitWatch *watch;
        RecoverWatch *recover;  /* analysis-recover of a unit that failed, until it is done */
        AnalysisPaths paths;
        char *id;
        char *unit;
        char invocation_before[33];
        OutputFollow *out;
        OutputFollow *err;
        int fresh_watch_fd;     /* inotify on spool/ID/ for SPOOL_OUTPUT_FRESH, or negative */
        sd_event_source *fresh_watch;
        bool output_fresh;
        bool cancel_noted;
};

static BackendAnalysis *systemd_free(BackendAnalysis *a) {
        if (!a)
                return NULL;
        output_follow_free(a->out);
        output_follow_free(a->err);
        sd_event_source_disable_unref(a->fresh_watch);
        safe_close(a->fresh_watch_fd);
        recover_watch_free(a->recover);
        unit_watch_free(a->watch);
        sd_bus_flush_close_unref(a->bus);
        sd_event_unref(a->event);
        analysis_paths_done(&a->paths);
        free(a->id);
        free(a->unit);
        free(a);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(BackendAnalysis *, systemd_free);

static int setup_error(const BackendAnalysis *a, const sd_bus_error *e, int r, const char *what, const char *unit) {
        if (exit_status_from_bus_error(e, r) == EXIT_SETUP_PERMISSION) {
                log_error("Permission denied to %s %s: %s%s", what, unit, e->message ?: strerror(-r),
                          a->scope == RUNTIME_SCOPE_SYSTEM
                                  ? " (running analyses needs root or membership in the analysis group; or use --user)"
                                  : "");
                return EXIT_SETUP_PERMISSION;
        }
        log_error("Failed to %s %s: %s", what, unit, e && e->message ? e->message : strerror(-r));
        return EXIT_SETUP_UNAVAILABLE;
}

static void on_recover_done(UnitWatch *w, void *userdata) {
        BackendAnalysis *a = userdata;

        (void) sd_event_exit(a->event, 0);
}

/* A failed unit may have its record written (or completed) by analysis-recover: done once that is too. */
static void on_unit_done(UnitWatch *w, void *userdata) {
        BackendAnalysis *a = userdata;
        int r;

        if (!a->recover && recover_may_follow(unit_watch_properties(w)->active_state)) {
                r = recover_watch_new(&a->recover, a->bus, a->event, a->id, on_recover_done, a);
                if (r >= 0 && !recover_watch_is_done(a->recover))
                        return;
                if (r < 0)
                        log_internal(LOG_DEBUG, r, "Cannot follow the recovery of %s, reading its record now: %m", a->id);
        }
        (void) sd_event_exit(a->event, 0);
}

static int systemd_stop(BackendAnalysis *a) {
        if (!a->cancel_noted) {
                /* Noted first, so the record says it was cancelled rather than stopped by someone. */
                (void) spool_mark_cancelled(&a->paths, a->id);
                a->cancel_noted = true;
        }
        return unit_watch_stop(a->watch);
}

static void open_outputs(BackendAnalysis *a) {
        _cleanup_free_ char *out = strprintf("%s/%s.stdout", a->paths.results_dir, a->id);
        _cleanup_free_ char *err = strprintf("%s/%s.stderr", a->paths.results_dir, a->id);

        if (!a->out && out)
                (void) output_follow_new(&a->out, a->event, out, STDOUT_FILENO);
        if (!a->err && err)
                (void) output_follow_new(&a->err, a->event, err, STDERR_FILENO);
}

/* Whether the unit has started the output files afresh. Until then they may hold the output of an earlier
 * run with the same id: under the system manager the start job completes when the runner is executed, and
 * the runner truncates them a moment later. Without a watch (it could not be set up) they are taken as they
 * are, as before there was one. */
static bool output_fresh(BackendAnalysis *a) {
        if (a->fresh_watch_fd < 0)
                return true;
        return spool_output_fresh_seen(a->fresh_watch_fd, &a->output_fresh) > 0;
}

static int on_fresh_watch(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        BackendAnalysis *a = userdata;

        if (output_fresh(a)) {
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                open_outputs(a);
        }
        return 0;
}

/* Waits for the start job, follows the output, and waits for the unit to be done. */
static int wait_for_unit(BackendAnalysis *a) {
        int r;

        while (!unit_watch_job_result(a->watch)) {
                r = sd_event_run(a->event, UINT64_MAX);
                if (r < 0)
                        return log_error_errno(r, "Event loop failed: %m");
        }
        if (a->invocation_before[0] &&
            strcmp(a->invocation_before, unit_watch_properties(a->watch)->invocation_id) == 0) {
                log_error("Analysis %s is already running (%s).", a->id, a->unit);
                return EXIT_SETUP_BUSY;
        }
        if (output_fresh(a))
                open_outputs(a);
        else {
                r = sd_event_add_io(a->event, &a->fresh_watch, a->fresh_watch_fd, EPOLLIN, on_fresh_watch, a);
                if (r < 0)
                        return log_error_errno(r, "Cannot watch %s/%s: %m", a->paths.spool_dir, a->id);
        }
        r = sd_event_loop(a->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        /* A unit that never got as far as starting them wrote nothing to them: what they hold is not this run's. */
        if (output_fresh(a))
                open_outputs(a);
        if (a->out)
                (void) output_follow_drain(a->out);
        if (a->err)
                (void) output_follow_drain(a->err);
        return 0;
}

static int read_record(BackendAnalysis *a, Record *ret, char **ret_json, size_t *ret_size) {
        _cleanup_free_ char *why = NULL;
        const char *invocation = unit_watch_properties(a->watch)->invocation_id;
        int r;

        r = record_file_load(a->paths.results_dir, a->id, ret, ret_json, ret_size, &why);
        if (r == -ENOENT) {
                log_error("Analysis %s ended (%s, start job '%s') but left no record at %s/%s.json. See journalctl -u %s.",
                          a->id, unit_watch_properties(a->watch)->active_state,
                          strempty(unit_watch_job_result(a->watch)), a->paths.results_dir, a->id, a->unit);
                return EXIT_SETUP_NO_RECORD;
        }
        if (r < 0) {
                log_error("The record %s/%s.json of analysis %s cannot be read: %s", a->paths.results_dir, a->id,
                          a->id, r == -EBADMSG ? strempty(why) : strerror(-r));
                return EXIT_SETUP_NO_RECORD;
        }
        /* A record of an earlier run with the same id must never pass for this one. */
        if (!ret->invocation_id || strcmp(ret->invocation_id, invocation) != 0) {
                log_error("The record %s/%s.json belongs to another run of %s (invocation %s, not %s).",
                          a->paths.results_dir, a->id, a->id, strempty(ret->invocation_id), invocation);
                record_done(ret);
                free(*ret_json);
                *ret_json = NULL;
                return EXIT_SETUP_NO_RECORD;
        }
        return 0;
}

static int systemd_wait(BackendAnalysis *a, sd_event *event, Record *ret, char **ret_json, size_t *ret_size) {
        int r;

        r = wait_for_unit(a);
        if (r != 0)
                return r < 0 ? EXIT_SETUP_UNAVAILABLE : r;
        return read_record(a, ret, ret_json, ret_size);
}

/* No service manager can be reached: refuse, unless --fallback= names a backend to run the analysis instead. */
static int no_manager(const BackendRequest *req, const char *why) {
        if (!req->fallback) {
                log_error("Cannot reach the %s service manager (%s): analysis-run needs systemd to isolate the "
                          "analysis. --fallback=rlimit runs it here instead, without cgroup isolation and with only "
                          "approximate limits (see analysis-run(1)).",
                          req->scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user's", why);
                return EXIT_SETUP_UNAVAILABLE;
        }
        if (req->detach) {
                log_error("Cannot reach the %s service manager (%s), and --detach needs one: with --fallback=%s "
                          "analysis-run supervises the analysis itself.",
                          req->scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user's", why, req->fallback->name);
                return EXIT_SETUP_UNAVAILABLE;
        }
        log_debug("No %s service manager (%s): running the analysis with --fallback=%s.",
                  req->scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user's", why, req->fallback->name);
        return BACKEND_UNREACHABLE;
}

static bool bus_error_is_no_manager(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

static int systemd_submit(const BackendConfig *config, const BackendRequest *req, BackendAnalysis **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(systemd_freep) BackendAnalysis *a = NULL;
        UnitProperties props;
        int r;

        a = calloc(1, sizeof(BackendAnalysis));
        if (!a)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        a->fresh_watch_fd = -EBADF;
        a->scope = req->scope;
        a->profile = req->profile_name;
        a->event = sd_event_ref(req->event);
        a->id = strdup(req->id);
        if (!a->id || analysis_unit_name(req->profile_name, a->id, &a->unit) < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        r = analysis_paths_get(a->scope, &a->paths);
        if (r == -ENXIO && a->scope == RUNTIME_SCOPE_USER && !secure_getenv("XDG_RUNTIME_DIR"))
                return no_manager(req, "$XDG_RUNTIME_DIR is not set");
        if (r < 0) {
                log_error_errno(r, "Cannot find the directories of the user's analyses ($XDG_RUNTIME_DIR and $HOME): %m");
                return EXIT_SETUP_UNAVAILABLE;
        }

        r = a->scope == RUNTIME_SCOPE_SYSTEM ? sd_bus_open_system(&a->bus) : sd_bus_open_user(&a->bus);
        if (r < 0)
                return no_manager(req, strerror(-r));
        r = sd_bus_attach_event(a->bus, a->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach to the bus: %m"), EXIT_SETUP_UNAVAILABLE;

        r = unit_watch_new(&a->watch, a->bus, a->unit, on_unit_done, a);
        if (r < 0)
                return log_error_errno(r, "Cannot watch %s: %m", a->unit), EXIT_SETUP_UNAVAILABLE;
        /* The reference first, so systemd 252 does not collect the instance after each of our calls and load it
         * again for the next (7 times per analysis, measured). Where it is refused (polkit says no, no such
         * profile) the checks below run without it and say what is wrong exactly as they always did; the
         * reference is then asked for again just before the start, whose refusal is the message. */
        r = unit_watch_ref(a->watch, &error);
        if (r < 0)
                sd_bus_error_free(&error);
        /* Nothing to hold to the profile's limits, and an id that would fit an account anyway. */
        if (req->request->memory_max == 0 && req->request->cpu_percent == 0 && req->request->tasks_max == 0 &&
            req->request->timeout_usec == 0 && req->request->disk_max == 0 && analysis_id_fits_account(a->id))
                unit_watch_skip_limits(a->watch);
        r = unit_watch_load(a->watch, &props, &error);
        if (r < 0 && bus_error_is_no_manager(&error))
                return no_manager(req, error.message ?: error.name);
        if (r < 0)
                return setup_error(a, &error, r, "load", a->unit);
        if (strcmp(props.load_state, "not-found") == 0 || strcmp(props.load_state, "masked") == 0) {
                log_error("Unknown profile '%s': no %s (is there a %s.ini? analysis-generator --validate tells).",
                          req->profile_name, a->unit, req->profile_name);
                return EXIT_SETUP_UNKNOWN_PROFILE;
        }
        if (strcmp(props.load_state, "loaded") != 0) {
                log_error("%s cannot be loaded (%s): see systemctl status %s.", a->unit, props.load_state, a->unit);
                return EXIT_SETUP_UNAVAILABLE;
        }
        if (strcmp(props.active_state, "inactive") != 0 && strcmp(props.active_state, "failed") != 0) {
                log_error("Analysis %s is already running (%s is %s).", a->id, a->unit, props.active_state);
                return EXIT_SETUP_BUSY;
        }
        if (props.dynamic_user && !analysis_id_fits_account(a->id)) {
                log_error("Invalid analysis id '%s' for profile '%s', whose analyses each run under an account of "
                          "their own named after the id: use 1 to %d characters of A-Z, a-z, 0-9, '_' and '-'.",
                          a->id, req->profile_name, ANALYSIS_ID_ACCOUNT_MAX);
                return EXIT_SETUP_USAGE;
        }
        r = backend_check_limits(req, &props);
        if (r < 0)
                return EXIT_SETUP_ABOVE_PROFILE;
        memcpy(a->invocation_before, props.invocation_id, sizeof(a->invocation_before));

        if (a->scope == RUNTIME_SCOPE_USER)
                (void) mkdir_p(a->paths.results_dir, 0700);
        r = spool_submit(&a->paths, a->id, req->request);
        if (r == -EEXIST) {
                log_error("Analysis id %s is taken: %s/%s belongs to another user.", a->id, a->paths.spool_dir, a->id);
                return EXIT_SETUP_BUSY;
        }
        if ((r == -EACCES || r == -EPERM) && a->scope == RUNTIME_SCOPE_SYSTEM) {
                log_error("Permission denied to run analyses through the system manager: %s is only for root and "
                          "members of the group 'analysis' (or run under your own manager with --user).",
                          a->paths.spool_dir);
                return EXIT_SETUP_PERMISSION;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot hand the analysis to its unit through %s/%s: %m", a->paths.spool_dir, a->id);
                return r == -EACCES || r == -EPERM ? EXIT_SETUP_PERMISSION : EXIT_SETUP_UNAVAILABLE;
        }

        /* Before the start: the unit may say so, and be gone with its spool, before we look. */
        a->fresh_watch_fd = spool_watch_output_fresh(&a->paths, a->id);
        if (a->fresh_watch_fd < 0)
                log_internal(LOG_DEBUG, a->fresh_watch_fd, "Cannot watch %s/%s, following the output files at once: %m",
                                a->paths.spool_dir, a->id);

        r = unit_watch_is_referenced(a->watch) ? 0 : unit_watch_ref(a->watch, &error);
        if (r >= 0)
                r = unit_watch_start(a->watch, &error);
        if (r < 0) {
                (void) spool_remove(&a->paths, a->id);
                return setup_error(a, &error, r, "start", a->unit);
        }
        *ret = TAKE_PTR(a);
        return 0;
}

const Backend backend_systemd = {
        .name = "systemd",
        .features = BACKEND_DETACH | BACKEND_USER_SCOPE | BACKEND_COPY_WORKDIR,
        .submit = systemd_submit,
        .wait = systemd_wait,
        .stop = systemd_stop,
        .free = systemd_free,
};
