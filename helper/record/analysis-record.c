/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-record: runs inside every analysis unit with full privileges ("+"). "finish" (ExecStopPost=) writes
 * the completion record from systemd's result and the cgroup's counters while the cgroup still exists.
 * "prepare" (ExecStartPre=) checks the caller's spooled request and snapshots it with the profile's facts, in
 * units for a user's manager (and in system units written by an earlier version, until the next
 * daemon-reload); the system manager's runner does that itself (analysis-exec --prepare), which spares every
 * analysis one process spawned by PID 1.
 *
 * It is small, fast C on purpose: TimeoutStopSec= also bounds ExecStopPost=, and under load a slow writer
 * would be killed and leave no record. Its stdout and stderr are the analysis' output files, so it never
 * prints: problems go to syslog, and into the record. */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <syslog.h>
#include <time.h>

#include "analysis-id.h"
#include "analysis-prepare.h"
#include "atomic-file.h"
#include "cgroup-util.h"
#include "config.h"
#include "entry-file.h"
#include "fs-util.h"
#include "journal-send.h"
#include "output-dir.h"
#include "parse-value.h"
#include "paths.h"
#include "profile.h"
#include "record-file.h"
#include "record.h"
#include "record-steps.h"
#include "request.h"
#include "result-access.h"
#include "strv.h"
#include "time-util.h"
#include "tree-copy.h"
#include "unit-state.h"

static const char *arg_verb = NULL;
static const char *arg_id = NULL;
static const char *arg_profile = NULL;
static const char *arg_results_dir = NULL;
static RuntimeScope arg_scope = RUNTIME_SCOPE_SYSTEM;
static uint64_t arg_runtime_max_usec = 0;
static uint64_t arg_kill_grace_usec = 0;
static uint64_t arg_disk_max = 0;

/* The profile named in log messages once known. */
static char log_profile[PROFILE_NAME_MAX + 1];

/* Logs a message tagged ANALYSIS_ID= and ANALYSIS_PROFILE= by us, not only through the unit's LogExtraFields=:
 * journald finds the unit of a sender through /proc, and we exit right after logging. Falls back to syslog
 * where no journald runs. */
static void log_analysis(int priority, const char *format, ...) _printf_(2, 3);
static void log_analysis(int priority, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r >= 0)
                journal_log_analysis(priority, "analysis-record", arg_id, log_profile, "%s", message);
}

static void help(void) {
        printf("%s prepare --profile=NAME --runtime-max=SPAN --kill-grace=SPAN --disk-max=SIZE --results-dir=DIR [--scope=user] ID\n"
               "%s finish --disk-max=SIZE --results-dir=DIR [--scope=user] ID\n\n"
               "Runs inside analysis units (ExecStartPre=, ExecStopPost=): checks and snapshots the request\n"
               "of analysis ID, and writes its completion record. Not meant to be called by hand.\n",
               program_invocation_short_name, program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_PROFILE, ARG_RUNTIME_MAX, ARG_KILL_GRACE, ARG_RESULTS_DIR, ARG_SCOPE, ARG_ACCOUNT,
               ARG_DISK_MAX };
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h'             },
                { "version",     no_argument,       NULL, ARG_VERSION     },
                { "profile",     required_argument, NULL, ARG_PROFILE     },
                { "runtime-max", required_argument, NULL, ARG_RUNTIME_MAX },
                { "kill-grace",  required_argument, NULL, ARG_KILL_GRACE  },
                { "results-dir", required_argument, NULL, ARG_RESULTS_DIR },
                { "scope",       required_argument, NULL, ARG_SCOPE       },
                { "account",     required_argument, NULL, ARG_ACCOUNT     },
                { "disk-max",    required_argument, NULL, ARG_DISK_MAX    },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("analysis-sandbox %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_PROFILE:
                        arg_profile = optarg;
                        break;
                case ARG_RUNTIME_MAX:
                        if (parse_timespan(optarg, &arg_runtime_max_usec) < 0)
                                return -EINVAL;
                        break;
                case ARG_KILL_GRACE:
                        if (parse_timespan(optarg, &arg_kill_grace_usec) < 0)
                                return -EINVAL;
                        break;
                case ARG_RESULTS_DIR:
                        arg_results_dir = optarg;
                        break;
                case ARG_ACCOUNT:
                        /* Units generated before accounts were read off the runner's directory name one. */
                        break;
                case ARG_DISK_MAX:
                        if (parse_memory_limit(optarg, &arg_disk_max) < 0)
                                return -EINVAL;
                        break;
                case ARG_SCOPE:
                        if (strcmp(optarg, "system") == 0)
                                arg_scope = RUNTIME_SCOPE_SYSTEM;
                        else if (strcmp(optarg, "user") == 0)
                                arg_scope = RUNTIME_SCOPE_USER;
                        else
                                return -EINVAL;
                        break;
                default:
                        return -EINVAL;
                }
        if (argc - optind != 2)
                return -EINVAL;
        arg_verb = argv[optind];
        arg_id = argv[optind + 1];
        if (!analysis_id_is_valid(arg_id) || !arg_results_dir || arg_results_dir[0] != '/')
                return -EINVAL;
        if (strcmp(arg_verb, "prepare") == 0 && !arg_profile)
                return -EINVAL;
        return 1;
}

static int open_dir(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

static int run_prepare(const AnalysisPaths *paths) {
        const PrepareOptions options = {
                .id = arg_id,
                .profile = arg_profile,
                .results_dir = arg_results_dir,
                .scope = arg_scope,
                .runtime_max_usec = arg_runtime_max_usec,
                .kill_grace_usec = arg_kill_grace_usec,
                .disk_max = arg_disk_max,
                .account_reads_snapshot = true,
        };
        _cleanup_free_ char *reason = NULL;
        uid_t uid;
        gid_t gid;
        int r;

        r = analysis_prepare(paths, &options, &uid, &gid, &reason);
        if (r < 0)
                log_analysis(LOG_ERR, "Analysis '%s': %s", arg_id, reason ?: strerror(-r));
        return r;
}

/* What the runner left in its status file when it supervised the analysis itself (for a timeout tighter than
 * the profile's): "timeout", or how its child ended, "exited N", "killed SIG", "dumped SIG". The analysis runs
 * under the same account and could write this file too; it can only misreport its own ending, never reach
 * the record file, which is root's. */
typedef struct RunnerStatus {
        bool timeout;
        char exit_code[16];
        char status[16];
        char error[512];        /* "error MESSAGE": why the runner could not run the command */
} RunnerStatus;

static bool load_runner_status(const AnalysisPaths *paths, RunnerStatus *ret) {
        _cleanup_free_ char *path = strprintf("%s/%s/status", paths->runner_dir, arg_id);
        _cleanup_close_ int fd = -EBADF;
        char buf[512];
        ssize_t n;

        if (!path)
                return false;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        *ret = (RunnerStatus) {};
        if (strcmp(buf, "timeout") == 0) {
                ret->timeout = true;
                return true;
        }
        if (strncmp(buf, "error ", 6) == 0) {
                (void) snprintf(ret->error, sizeof(ret->error), "%s", buf + 6);
                return true;
        }
        return sscanf(buf, "%15s %15s", ret->exit_code, ret->status) == 2 &&
               (strcmp(ret->exit_code, "exited") == 0 || strcmp(ret->exit_code, "killed") == 0 ||
                strcmp(ret->exit_code, "dumped") == 0);
}

/* unit_cpu_percent: the unit's quota as it was before take_unit_cpu() lifted it. */
static void read_cgroup_figures(const char *cgroup, uint64_t unit_cpu_percent, Record *r) {
        _cleanup_free_ char *payload = strprintf("%s/payload", cgroup);
        uint64_t v;

        if (cgroup_read_uint(cgroup, "memory.peak", &v) >= 0)
                r->usage.memory_peak = v;
        if (cgroup_read_keyed(cgroup, "memory.events", "oom_kill", &v) >= 0)
                r->usage.oom_kills = v;
        if (cgroup_read_keyed(cgroup, "pids.events", "max", &v) >= 0)
                r->usage.tasks_limit_hits = v;
        if (cgroup_read_keyed(cgroup, "cpu.stat", "usage_usec", &v) >= 0)
                r->usage.cpu_usec = v;
        if (cgroup_read_keyed(cgroup, "cpu.stat", "throttled_usec", &v) >= 0)
                r->usage.cpu_throttled_usec = v;

        /* The unit's own limits are the profile's, as systemd applied them (a percentage of RAM is already
         * bytes here); a payload sub-cgroup carries tighter ones the caller asked for. Its pids.max is also
         * lowered to keep room for the recorder (analysis-exec): the caller's tasks limit comes from the
         * request instead. */
        if (cgroup_read_uint(cgroup, "memory.max", &v) >= 0)
                r->profile_limits.memory_max = v;
        if (cgroup_read_uint(cgroup, "pids.max", &v) >= 0)
                r->profile_limits.tasks_max = v;
        r->profile_limits.cpu_quota_percent = unit_cpu_percent;
        r->limits = r->profile_limits;
        if (payload && cgroup_read_uint(payload, "memory.max", &v) >= 0 && v < r->limits.memory_max)
                r->limits.memory_max = v;
        if (payload && cgroup_read_cpu_percent(payload, &v) >= 0 && v < r->limits.cpu_quota_percent)
                r->limits.cpu_quota_percent = v;
        /* pids.events is not hierarchical in Debian 12's kernel (6.1), unlike memory.events: a fork refused by a
         * tighter limit on the payload leaf is counted there only. */
        if (payload && cgroup_read_keyed(payload, "pids.events", "max", &v) >= 0) {
                if (r->usage.tasks_limit_hits == RECORD_UNSET)
                        r->usage.tasks_limit_hits = v;
                else
                        r->usage.tasks_limit_hits += v;
        }
        /* The analysis' own CPU is its leaf's; the rest of the unit's is the sandbox's (the runner, this
         * recorder so far, and on systemd 255 and later every systemd-executor the manager spawned), which on
         * a short analysis under emulation outweighed the analysis' own. */
        if (payload && r->usage.cpu_usec != RECORD_UNSET &&
            cgroup_read_keyed(payload, "cpu.stat", "usage_usec", &v) >= 0 && v <= r->usage.cpu_usec) {
                r->usage.sandbox_cpu_usec = r->usage.cpu_usec - v;
                r->usage.cpu_usec = v;
        }
        /* Unlike the usage, throttling is counted only where the quota is: add the leaf's. */
        if (payload && cgroup_read_keyed(payload, "cpu.stat", "throttled_usec", &v) >= 0 &&
            r->usage.cpu_throttled_usec != RECORD_UNSET)
                r->usage.cpu_throttled_usec += v;
}

/* The recorder runs in the analysis' cgroup (ExecStopPost=, in its .control leaf), under the analysis' CPU
 * quota and weight, and must finish within the analysis' kill grace (TimeoutStopSec=): fifty analyses
 * stopping at once on a slow host ran it past that, and the record was lost. Once kill_leftovers() has run
 * nothing of the analysis is left to hold back: lift the quota, and weigh the unit as much as anything in its
 * slice. As root only (the unit's own files are root's, not the delegated account's); systemd writes them
 * back when it next realizes the unit's cgroup, which is after it is gone or when a new instance starts. */
static void take_unit_cpu(const char *cgroup) {
        (void) cgroup_write(cgroup, "cpu.max", "max 100000");
        (void) cgroup_write(cgroup, "cpu.weight", "10000");
}

/* Kills every process left in the unit's leaves (the payload, the supervisor, any cgroup the analysis made),
 * all but the recorder's own .control, before the record is made: the counters stay. ExecStopPost= runs
 * once the main process is gone: after a stop (systemctl stop, the time limit), what the analysis left has
 * had its SIGTERM already; otherwise systemd has waited for the cgroup to empty and there is nothing left.
 * What is left competes with the recorder for the unit's CPU (a fork bomb's last processes took it past
 * KillGrace=), and systemd 257 left such processes running after the unit had stopped ("remains running
 * after unit stopped"), taking the CPU of every analysis after them. cgroup.kill (Linux 5.14) kills a leaf
 * whole, forks racing the kill included. */
static void kill_leftovers(const char *cgroup) {
        _cleanup_closedir_ DIR *d = opendir(cgroup);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *leaf = NULL;

                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    strcmp(de->d_name, ".control") == 0)
                        continue;
                leaf = strprintf("%s/%s", cgroup, de->d_name);
                if (leaf)
                        (void) cgroup_write(leaf, "cgroup.kill", "1");
        }
}

static int run_finish(const AnalysisPaths *paths) {
        const RecordTarget target = {
                .paths = paths,
                .id = arg_id,
                .results_dir = arg_results_dir,
                .scope = arg_scope,
        };
        _cleanup_close_ int units_fd = -EBADF, id_fd = -EBADF;
        _cleanup_(unit_state_freep) UnitState *state = NULL;
        _cleanup_(request_freep) Request *request = NULL;
        _cleanup_free_ char *cgroup = NULL;
        const char *service_result = getenv("SERVICE_RESULT");
        uint64_t unit_cpu_percent = RECORD_UNSET;
        RunnerStatus runner;
        Record record;
        int r;

        /* First of all, and the profile's quota read before it is lifted. */
        if (cgroup_self_unit_path(&cgroup) >= 0) {
                if (cgroup_read_cpu_percent(cgroup, &unit_cpu_percent) < 0)
                        unit_cpu_percent = RECORD_UNSET;
                kill_leftovers(cgroup);
                if (arg_scope == RUNTIME_SCOPE_SYSTEM && geteuid() == 0)
                        take_unit_cpu(cgroup);
        }

        record_init(&record);
        record.finished_at_usec = now_usec(CLOCK_REALTIME);
        record.id = strdup(arg_id);
        record.invocation_id = getenv("INVOCATION_ID") ? strdup(getenv("INVOCATION_ID")) : NULL;
        record.result = strdup(service_result ?: "unknown");
        /* Every analysis systemd runs has its own cgroup; analysis-run --fallback=rlimit writes "rlimit". */
        record.isolation = strdup("cgroup");
        record_set_exit(&record, getenv("EXIT_CODE"), getenv("EXIT_STATUS"));

        units_fd = open_dir(paths->units_dir);
        if (units_fd >= 0)
                id_fd = openat(units_fd, arg_id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (id_fd >= 0) {
                _cleanup_free_ char *data = NULL, *why = NULL;
                size_t size;

                /* Only root's (or, for a user manager, the user's) own snapshot is believed. */
                if (entry_file_read_at(id_fd, "state", getuid(), &data, &size, &why) >= 0)
                        (void) unit_state_parse(data, size, &state, &why);
                free(TAKE_PTR(data));
                if (state && state->has_request &&
                    entry_file_read_at(id_fd, "request", getuid(), &data, &size, &why) >= 0)
                        (void) request_parse(data, size, &request, &why);
        }
        if (state) {
                record.profile = strdup(state->profile);
                record.started_at_usec = state->started_at_usec;
                if (state->caller_uid != (uid_t) -1)
                        record.caller_uid = state->caller_uid;
                record.profile_limits.runtime_max_usec = state->runtime_max_usec;
                if (state->error)
                        record.error = strdup(state->error);
                if (record.finished_at_usec > state->started_at_usec)
                        record.usage.runtime_usec = record.finished_at_usec - state->started_at_usec;
        }
        if (!state) {
                _cleanup_(request_freep) Request *spooled = NULL;
                _cleanup_free_ char *why = NULL;
                uid_t caller = (uid_t) -1;
                const char *profile = getenv("ANALYSIS_PROFILE");

                /* prepare never wrote its state (killed at TimeoutStopSec=): the record is still the caller's,
                 * the owner of the request in the spool, as prepare would have found. */
                (void) spooled_request_load(paths, arg_id, &spooled, &caller, &why);
                if (caller != (uid_t) -1)
                        record.caller_uid = caller;
                if (profile && profile_name_is_valid(profile))
                        record.profile = strdup(profile);
        }
        if (record.profile) {
                (void) analysis_unit_name(record.profile, arg_id, &record.unit);
                (void) snprintf(log_profile, sizeof(log_profile), "%s", record.profile);
        }

        if (cgroup) {
                uint64_t runtime = record.profile_limits.runtime_max_usec;

                read_cgroup_figures(cgroup, unit_cpu_percent, &record);
                record.profile_limits.runtime_max_usec = runtime;
                record.limits.runtime_max_usec = runtime;
        }
        if (request) {
                if (request->timeout_usec > 0 && request->timeout_usec < record.limits.runtime_max_usec)
                        record.limits.runtime_max_usec = request->timeout_usec;
                if (request->tasks_max > 0 && request->tasks_max < record.limits.tasks_max)
                        record.limits.tasks_max = request->tasks_max;
        }

        /* The Result systemd reports, refined by what only the cgroup and the runner know. */
        if (load_runner_status(paths, &runner)) {
                if (runner.timeout) {
                        free(record.result);
                        record.result = strdup("timeout");
                } else if (runner.error[0]) {
                        if (!record.error)
                                record.error = strdup(runner.error);
                } else
                        record_set_exit(&record, runner.exit_code, runner.status);
        }
        /* An OOM kill of any process of the analysis, even a child while the main process exited 0,
         * decides the result: exit statuses such as 137 are never taken as proof either way. */
        if (record.usage.oom_kills != RECORD_UNSET && record.usage.oom_kills > 0) {
                free(record.result);
                record.result = strdup("oom-kill");
        } else if (record_cancel_requested(&target) ||
                   (strcmp(record.result, "success") == 0 && record.exit_code &&
                    strcmp(record.exit_code, "killed") == 0 && record_is_stop_signal(record.signal))) {
                /* systemd counts SIGTERM and friends as a clean exit: that is a stop from outside. */
                free(record.result);
                record.result = strdup("cancelled");
        }

        /* The profile's Disk= even where a user's manager cannot enforce it: the notes then say so. */
        record.profile_limits.disk_max = arg_disk_max > 0 ? arg_disk_max : RECORD_UNSET;
        record_measure_output(&target, &record, state && !state->error);

        /* The samples before the record, which names them: they never hold it back (a failure is noted in it). */
        {
                CgroupCounters final;
                bool have_final = cgroup && cgroup_counters_read(cgroup, &final) >= 0;

                r = record_store_samples(&target, have_final ? &final : NULL, &record);
                if (r < 0)
                        log_analysis(LOG_WARNING, "Analysis '%s': %s.", arg_id, strempty(record.samples_missing));
        }

        /* The record first: it takes a few small reads and one small write, where handing the output directory
         * over takes as long as what the analysis left in it, and TimeoutStopSec= (the profile's KillGrace=)
         * bounds this whole command. Should we be killed after this, the unit fails and analysis-recover
         * (OnFailure=) hands the output over and releases the rest; should we be killed before, it writes the
         * record from what systemd kept. */
        r = record_store_final(&target, &record);
        if (r < 0)
                log_analysis(LOG_ERR, "Analysis '%s': cannot write its record to %s: %s", arg_id, arg_results_dir,
                       strerror(-r));
        else
                /* Tagged ANALYSIS_ID= by the unit's LogExtraFields=, so the journal holds the outcome too. */
                log_analysis(LOG_INFO, "Analysis '%s' (profile '%s') ended: %s", arg_id, strempty(record.profile),
                       strempty(record.notes));
        if (r >= 0 && record.output_dir) {
                _cleanup_free_ char *output_dir = strdup(record.output_dir);
                int k;

                r = record_hand_over_or_unname(&target, &record, &k);
                if (k < 0)
                        log_analysis(LOG_ERR, "Analysis '%s': cannot hand its output directory over to %s: %s", arg_id,
                                     strempty(output_dir), strerror(-k));
        }
        /* Only with the record on disk: what the mark, the spool and the snapshot say is needed until then. */
        if (r >= 0)
                record_release(&target);
        record_done(&record);
        return r;
}

int main(int argc, char *argv[]) {
        _cleanup_(analysis_paths_done) AnalysisPaths paths = {};
        int r;

        openlog("analysis-record", LOG_PID, LOG_DAEMON);
        r = parse_argv(argc, argv);
        if (r <= 0) {
                if (r < 0)
                        log_analysis(LOG_ERR, "Invalid arguments, see --help.");
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        if (arg_profile)
                (void) snprintf(log_profile, sizeof(log_profile), "%s", arg_profile);
        /* The tmpfs mounts must outlive this process (prepare) and be undone where they were made (finish). */
        if (arg_scope == RUNTIME_SCOPE_SYSTEM && geteuid() == 0) {
                r = host_mount_namespace_enter();
                if (r < 0) {
                        log_analysis(LOG_ERR, "Analysis '%s': cannot enter the host's mount namespace: %s", arg_id,
                                     strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        r = analysis_paths_get(arg_scope, &paths);
        if (r < 0) {
                log_analysis(LOG_ERR, "Analysis '%s': cannot find its directories: %s", arg_id, strerror(-r));
                return EXIT_FAILURE;
        }
        if (strcmp(arg_verb, "prepare") == 0) {
                /* A stop right after the start (analysisctl stop, Ctrl-C) reaches us with SIGTERM: prepare is
                 * short and finishes first, so that finish has the caller, the profile and the request to write
                 * a record the caller can read. The manager's SIGKILL after TimeoutStopSec= still ends it. */
                sigset_t mask;
                sigemptyset(&mask);
                sigaddset(&mask, SIGTERM);
                sigaddset(&mask, SIGINT);
                (void) sigprocmask(SIG_BLOCK, &mask, NULL);
                r = run_prepare(&paths);
        } else if (strcmp(arg_verb, "finish") == 0)
                r = run_finish(&paths);
        else
                r = -EINVAL;
        if (r < 0 && strcmp(arg_verb, "finish") == 0)
                log_analysis(LOG_ERR, "Analysis '%s': %s failed: %s", arg_id, arg_verb, strerror(-r));
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
