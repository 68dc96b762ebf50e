/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-recover unit ID: after an analysis unit failed. Its recorder either wrote the record and was
 * stopped before it handed the output over and cleaned up (then this finishes that), or never wrote it (then
 * this writes it from what systemd kept: the Result and exit of the unit in $MONITOR_*, the figures systemd
 * caches when it removes the cgroup, the unit's own snapshot of its start). */

#include <fcntl.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "analysis-id.h"
#include "analysis-prepare.h"
#include "bus-map.h"
#include "cgroup-util.h"
#include "entry-file.h"
#include "journal-send.h"
#include "log.h"
#include "record-file.h"
#include "record-steps.h"
#include "recover.h"
#include "request.h"
#include "running-mark.h"
#include "time-util.h"
#include "unit-state.h"

/* What systemd still has of the unit after it stopped. UINT64_MAX where it has nothing: CPUUsageNSec is cached
 * when the cgroup is removed since systemd 252, MemoryPeak since 257 (256 lost it again); neither OOM kills nor
 * refused forks are kept before 259. */
typedef struct UnitFacts {
        char *active_state;
        char *control_group;
        uint64_t cpu_usage_nsec;
        uint64_t memory_peak;
        uint64_t memory_max;
        uint64_t tasks_max;
        uint64_t cpu_quota_per_sec_usec;
        uint64_t exec_main_exit_usec;
        uint64_t active_enter_usec;
        uint64_t runtime_max_usec;
} UnitFacts;

static void unit_facts_done(UnitFacts *f) {
        free(f->active_state);
        free(f->control_group);
}

static int read_unit_facts(RuntimeScope scope, const char *unit, UnitFacts *ret) {
#define FIELD(f) offsetof(UnitFacts, f)
        static const BusMapEntry unit_map[] = {
                { "ActiveState",            BUS_MAP_STRING, FIELD(active_state)           },
                { "ActiveEnterTimestamp",   BUS_MAP_U64,    FIELD(active_enter_usec)      },
        };
        static const BusMapEntry service_map[] = {
                { "CPUUsageNSec",           BUS_MAP_U64,    FIELD(cpu_usage_nsec)         },
                { "MemoryPeak",             BUS_MAP_U64,    FIELD(memory_peak)            },
                { "MemoryMax",              BUS_MAP_U64,    FIELD(memory_max)             },
                { "TasksMax",               BUS_MAP_U64,    FIELD(tasks_max)              },
                { "CPUQuotaPerSecUSec",     BUS_MAP_U64,    FIELD(cpu_quota_per_sec_usec) },
                { "ExecMainExitTimestamp",  BUS_MAP_U64,    FIELD(exec_main_exit_usec)    },
                { "ControlGroup",           BUS_MAP_STRING, FIELD(control_group)          },
                { "RuntimeMaxUSec",         BUS_MAP_U64,    FIELD(runtime_max_usec)       },
        };
#undef FIELD
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = scope == RUNTIME_SCOPE_SYSTEM ? sd_bus_open_system(&bus) : sd_bus_open_user(&bus);
        if (r < 0)
                return r;
        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        r = bus_map_all_properties(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit", unit_map,
                                   ELEMENTSOF(unit_map), ret, NULL);
        if (r < 0)
                return r;
        return bus_map_all_properties(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Service",
                                      service_map, ELEMENTSOF(service_map), ret, NULL);
}

/* systemd 257 leaves what survived the final SIGKILL of a unit running after the unit has stopped ("remains
 * running after unit stopped"; a fork bomb's last forks, when the recorder never got to kill them): nothing of
 * an analysis may outlive its unit, and the next analyses would share the CPU with it. */
static void kill_remains(const UnitFacts *facts) {
        _cleanup_free_ char *path = NULL;
        uint64_t populated;

        if (!facts->control_group || facts->control_group[0] != '/' || strstr(facts->control_group, "/.."))
                return;
        path = strprintf("/sys/fs/cgroup%s", facts->control_group);
        if (!path || cgroup_read_keyed(path, "cgroup.events", "populated", &populated) < 0 || populated == 0)
                return;
        if (cgroup_write(path, "cgroup.kill", "1") >= 0)
                log_notice("Killed what was left in %s after its unit had stopped.", path);
}

static bool state_is_running(const char *s) {
        return s && (strcmp(s, "active") == 0 || strcmp(s, "activating") == 0 || strcmp(s, "deactivating") == 0 ||
                     strcmp(s, "reloading") == 0);
}

/* The unit's snapshot of its start: the durable mark, or the one in /run (the same facts, written by an
 * earlier version without the mark). Only root's (the user's) own files are believed. */
static UnitState *load_state(const AnalysisPaths *paths, const char *id, Request **ret_request) {
        _cleanup_close_ int running_fd = -EBADF, units_fd = -EBADF, id_fd = -EBADF;
        _cleanup_free_ char *data = NULL, *why = NULL;
        UnitState *state = NULL;
        size_t size;

        running_fd = open(paths->running_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        units_fd = open(paths->units_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (units_fd >= 0)
                id_fd = openat(units_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (running_fd >= 0)
                (void) running_mark_read_at(running_fd, id, &state);
        if (!state && id_fd >= 0 && entry_file_read_at(id_fd, "state", geteuid(), &data, &size, &why) >= 0)
                (void) unit_state_parse(data, size, &state, &why);
        free(TAKE_PTR(data));
        if (state && state->has_request && id_fd >= 0 &&
            entry_file_read_at(id_fd, "request", geteuid(), &data, &size, &why) >= 0)
                (void) request_parse(data, size, ret_request, &why);
        return state;
}

/* Whether the unit's RuntimeMaxSec= had run out when its main process ended (it counts from activation). */
static bool ran_out_of_time(const UnitFacts *f) {
        return f->runtime_max_usec != UINT64_MAX && f->active_enter_usec > 0 && f->exec_main_exit_usec > 0 &&
               f->exec_main_exit_usec != UINT64_MAX && f->exec_main_exit_usec >= f->active_enter_usec &&
               f->exec_main_exit_usec - f->active_enter_usec >= f->runtime_max_usec;
}

/* The unit's Result names how the unit ended, which is the recorder's failure where the analysis itself
 * ended otherwise: a recorder killed at the kill grace turns "success" into "timeout", one killed by a signal
 * into "signal". The main process' own end is the analysis' story then: its exit; or, killed by a stop
 * signal before its time limit, a stop from outside, as the recorder says "cancelled" of it. */
static const char *analysis_result(const char *unit_result, const char *exit_code, const char *exit_status,
                                   const UnitFacts *facts) {
        bool exited = exit_code && strcmp(exit_code, "exited") == 0;
        bool killed = exit_code && strcmp(exit_code, "killed") == 0;
        bool recorder_failure;

        if (!unit_result)
                return "unknown";
        recorder_failure = strcmp(unit_result, "timeout") == 0 || strcmp(unit_result, "signal") == 0 ||
                           strcmp(unit_result, "core-dump") == 0 || strcmp(unit_result, "exit-code") == 0;
        if (exited && recorder_failure)
                return exit_status && strcmp(exit_status, "0") == 0 ? "success" : "exit-code";
        if (killed && recorder_failure && record_is_stop_signal(exit_status) && !ran_out_of_time(facts))
                return "cancelled";
        return unit_result;
}

static void apply_limits(Record *record, const UnitFacts *facts, const UnitState *state, const Request *request) {
        if (facts->memory_max != UINT64_MAX)
                record->profile_limits.memory_max = facts->memory_max;
        if (facts->tasks_max != UINT64_MAX)
                record->profile_limits.tasks_max = facts->tasks_max;
        if (facts->cpu_quota_per_sec_usec != UINT64_MAX)
                record->profile_limits.cpu_quota_percent = facts->cpu_quota_per_sec_usec / 10000;
        if (state)
                record->profile_limits.runtime_max_usec = state->runtime_max_usec;
        record->limits = record->profile_limits;
        if (!request)
                return;
        if (request->memory_max > 0 && request->memory_max < record->limits.memory_max)
                record->limits.memory_max = request->memory_max;
        if (request->cpu_percent > 0 && request->cpu_percent < record->limits.cpu_quota_percent)
                record->limits.cpu_quota_percent = request->cpu_percent;
        if (request->tasks_max > 0 && request->tasks_max < record->limits.tasks_max)
                record->limits.tasks_max = request->tasks_max;
        if (request->timeout_usec > 0 && request->timeout_usec < record->limits.runtime_max_usec)
                record->limits.runtime_max_usec = request->timeout_usec;
}

static int hand_over(const RecordTarget *t, Record *record) {
        _cleanup_free_ char *output_dir = NULL;
        int r, k;

        if (!record->output_dir)
                return 0;
        output_dir = strdup(record->output_dir);
        r = record_hand_over_or_unname(t, record, &k);
        if (k < 0)
                journal_log_analysis(LOG_ERR, RECOVER_IDENTIFIER, t->id, record->profile,
                                     "Analysis '%s': cannot hand its output directory over to %s: %s", t->id,
                                     strempty(output_dir), strerror(-k));
        if (r < 0)
                return log_error_errno(r, "Analysis '%s': cannot write its record: %m", t->id);
        return 0;
}

int recover_unit(const AnalysisPaths *paths, RuntimeScope scope, const char *id) {
        const RecordTarget target = { .paths = paths, .id = id, .results_dir = paths->results_dir, .scope = scope };
        const char *invocation = getenv("MONITOR_INVOCATION_ID"), *unit_env = getenv("MONITOR_UNIT");
        _cleanup_(request_freep) Request *request = NULL;
        _cleanup_(unit_state_freep) UnitState *state = NULL;
        _cleanup_(record_done) Record record, existing;
        _cleanup_(unit_facts_done) UnitFacts facts = {
                .cpu_usage_nsec = UINT64_MAX, .memory_peak = UINT64_MAX, .memory_max = UINT64_MAX,
                .tasks_max = UINT64_MAX, .cpu_quota_per_sec_usec = UINT64_MAX,
        };
        _cleanup_free_ char *unit = NULL, *why = NULL;
        bool newer_run = false;
        int r;

        record_init(&record);
        record_init(&existing);
        state = load_state(paths, id, &request);
        /* Started by hand (no $MONITOR_*): the run the mark names. */
        if (!invocation || strlen(invocation) != 32)
                invocation = state && state->invocation_id[0] ? state->invocation_id : NULL;
        if (!invocation) {
                log_info("Analysis '%s': no run of it is owed a record.", id);
                return 0;
        }
        if (unit_env) {
                _cleanup_free_ char *unit_profile = NULL, *unit_id = NULL;

                if (analysis_unit_name_parse(unit_env, &unit_profile, &unit_id) < 0 || strcmp(unit_id, id) != 0) {
                        log_error("Analysis '%s': $MONITOR_UNIT=%s is not one of its units.", id, unit_env);
                        return -EINVAL;
                }
                unit = strdup(unit_env);
        } else if (state)
                (void) analysis_unit_name(state->profile, id, &unit);
        if (!unit) {
                log_error("Analysis '%s': its unit is not known ($MONITOR_UNIT is not set and it left no state).", id);
                return -EINVAL;
        }
        r = read_unit_facts(scope, unit, &facts);
        if (r < 0)
                log_warning_errno(r, "Analysis '%s': cannot read what systemd kept of %s, writing the record without it: %m",
                                  id, unit);
        if (state_is_running(facts.active_state)) {
                log_info("Analysis '%s': %s is %s, its own recorder will write the record.", id, unit,
                         facts.active_state);
                return 0;
        }
        kill_remains(&facts);
        /* The id was taken again meanwhile: that run owns the spool, the output and the mark. */
        if (state && state->invocation_id[0] && strcmp(state->invocation_id, invocation) != 0)
                newer_run = true;

        r = record_file_load(paths->results_dir, id, &existing, NULL, NULL, &why);
        if (r >= 0 && existing.invocation_id && strcmp(existing.invocation_id, invocation) == 0) {
                if (newer_run)
                        return 0;
                /* The recorder wrote it and was stopped after: what it left is ours to finish. */
                r = hand_over(&target, &existing);
                if (r < 0)
                        return r;
                record_release(&target);
                journal_log_analysis(LOG_INFO, RECOVER_IDENTIFIER, id, existing.profile,
                                     "Analysis '%s': finished handing over what its recorder left.", id);
                return 0;
        }

        record.id = strdup(id);
        record.unit = strdup(unit);
        record.invocation_id = strdup(invocation);
        record.isolation = strdup("cgroup");
        record.reconstructed = strdup("unit-failed");
        record_set_exit(&record, getenv("MONITOR_EXIT_CODE"), getenv("MONITOR_EXIT_STATUS"));
        record.result = strdup(analysis_result(getenv("MONITOR_SERVICE_RESULT"), getenv("MONITOR_EXIT_CODE"),
                                               getenv("MONITOR_EXIT_STATUS"), &facts));
        if (newer_run)
                unit_state_free(TAKE_PTR(state));
        if (state) {
                record.profile = strdup(state->profile);
                record.started_at_usec = state->started_at_usec;
                if (state->caller_uid != (uid_t) -1)
                        record.caller_uid = state->caller_uid;
                if (state->error)
                        record.error = strdup(state->error);
        } else {
                _cleanup_(request_freep) Request *spooled = NULL;
                _cleanup_free_ char *refusal = NULL;
                uid_t caller = (uid_t) -1;

                _cleanup_free_ char *unit_id = NULL;

                (void) analysis_unit_name_parse(unit, &record.profile, &unit_id);
                (void) spooled_request_load(paths, id, &spooled, &caller, &refusal);
                if (caller != (uid_t) -1)
                        record.caller_uid = caller;
        }
        record.finished_at_usec = facts.exec_main_exit_usec > 0 && facts.exec_main_exit_usec != UINT64_MAX
                                          ? facts.exec_main_exit_usec
                                          : now_usec(CLOCK_REALTIME);
        if (record.started_at_usec != RECORD_UNSET && record.finished_at_usec > record.started_at_usec)
                record.usage.runtime_usec = record.finished_at_usec - record.started_at_usec;
        /* The unit's, the sandbox's own work included: only its cgroup could tell the two apart. */
        if (facts.cpu_usage_nsec != UINT64_MAX)
                record.usage.cpu_usec = facts.cpu_usage_nsec / 1000;
        if (facts.memory_peak != UINT64_MAX)
                record.usage.memory_peak = facts.memory_peak;
        apply_limits(&record, &facts, state, request);
        /* A time limit tighter than the profile's (--timeout) is the runner's to enforce, and the note it left
         * of doing so was in its runtime directory, which went with the unit: that it ran as long tells. */
        if (request && request->timeout_usec > 0 && strcmp(record.result, "oom-kill") != 0 &&
            record.usage.runtime_usec != RECORD_UNSET && record.usage.runtime_usec >= request->timeout_usec) {
                free(record.result);
                record.result = strdup("timeout");
        }
        if (strcmp(record.result, "oom-kill") != 0 && !newer_run && record_cancel_requested(&target)) {
                free(record.result);
                record.result = strdup("cancelled");
        }
        if (!newer_run)
                record_measure_output(&target, &record, state && !state->error);

        (void) record_store_samples(&target, NULL, &record);
        r = record_store_final(&target, &record);
        if (r < 0)
                return log_error_errno(r, "Analysis '%s': cannot write its record to %s: %m", id, paths->results_dir);
        journal_log_analysis(LOG_WARNING, RECOVER_IDENTIFIER, id, record.profile,
                             "Analysis '%s' (profile '%s') ended, and its recorder could not finish: %s", id,
                             strempty(record.profile), strempty(record.notes));
        if (newer_run)
                return 0;
        r = hand_over(&target, &record);
        if (r < 0)
                return r;
        record_release(&target);
        return 0;
}
