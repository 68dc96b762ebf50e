/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-run: runs one analysis as an instance of its profile's unit, streams its output, waits for it over
 * D-Bus and reports how it ended, in plain words and as JSON. */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "analysis-id.h"
#include "atomic-file.h"
#include "backend.h"
#include "config.h"
#include "exit-status.h"
#include "fallback-run.h"
#include "fs-util.h"
#include "log.h"
#include "output-follow.h"
#include "parse-value.h"
#include "paths.h"
#include "profile-search.h"
#include "profile.h"
#include "record-file.h"
#include "record.h"
#include "request.h"
#include "spool.h"
#include "strv.h"
#include "tree-copy.h"
#include "unit-watch.h"

static const char *arg_profile = "default";
static const char *arg_id = NULL;
static const char *arg_chdir = NULL;
static char **arg_environment = NULL;
static RuntimeScope arg_scope = RUNTIME_SCOPE_SYSTEM;
static uint64_t arg_memory_max = 0;
static unsigned arg_cpu_percent = 0;
static uint64_t arg_tasks_max = 0;
static uint64_t arg_timeout_usec = 0;
static bool arg_detach = false;
static bool arg_quiet = false;
static const char *arg_notes_file = NULL;
static bool arg_fallback_rlimit = false;
static uint64_t arg_disk_max = 0;
static bool arg_copy_workdir = false;
static BackendKind arg_backend = _BACKEND_KIND_INVALID;    /* unset: [Backend] Default= */
static char **arg_command = NULL;

typedef struct Run {
        sd_event *event;
        sd_bus *bus;
        UnitWatch *watch;
        AnalysisPaths paths;
        char *id;
        char *unit;
        char invocation_before[33];
        OutputFollow *out;
        OutputFollow *err;
        int cancel_signal;
        const Backend *backend;         /* for the backends behind backend.h */
        BackendAnalysis *analysis;
} Run;

static void help(void) {
        printf("%s [OPTIONS...] [--] COMMAND [ARG...]\n\n"
               "Runs COMMAND as an analysis: in its own systemd unit, with the limits of a profile.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "  -p --profile=NAME      Profile to run under (default: default)\n"
               "     --id=ID             Analysis id (default: a new unique one)\n"
               "  -C --chdir=DIR         Working directory (default: the current one)\n"
               "  -E --setenv=NAME=VALUE Set an environment variable (NAME alone passes ours on)\n"
               "     --memory=SIZE       Memory limit for this analysis, at most the profile's\n"
               "     --cpu=PERCENT       CPU quota for this analysis (50%% of one CPU), at most the profile's\n"
               "     --tasks=N           Process and thread limit, at most the profile's\n"
               "     --timeout=SPAN      Time limit, at most the profile's\n"
               "     --disk=SIZE         Size limit of its output directory, at most the profile's\n"
               "     --copy-workdir      Run in a copy of the working directory; copy back what it wrote\n"
               "     --system            Use the system's service manager (default)\n"
               "     --user              Use the calling user's service manager\n"
               "     --detach            Start the analysis, print its id and return at once\n"
               "     --notes-file=PATH   Also write the JSON record to PATH\n"
               "     --fallback=rlimit   Without systemd, run the analysis here with rlimits (no cgroups)\n"
               "     --backend=NAME      Run it with systemd (here) or slurm (as a Slurm job)\n"
               "  -q --quiet             Print no summary\n\n"
               "See analysis-run(1).\n",
               program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100, ARG_ID, ARG_MEMORY, ARG_CPU, ARG_TASKS, ARG_TIMEOUT, ARG_SYSTEM, ARG_USER,
                ARG_DETACH, ARG_NOTES_FILE, ARG_FALLBACK, ARG_DISK, ARG_COPY_WORKDIR, ARG_BACKEND,
        };
        static const struct option options[] = {
                { "help",       no_argument,       NULL, 'h'            },
                { "version",    no_argument,       NULL, ARG_VERSION    },
                { "profile",    required_argument, NULL, 'p'            },
                { "id",         required_argument, NULL, ARG_ID         },
                { "chdir",      required_argument, NULL, 'C'            },
                { "setenv",     required_argument, NULL, 'E'            },
                { "memory",     required_argument, NULL, ARG_MEMORY     },
                { "cpu",        required_argument, NULL, ARG_CPU        },
                { "tasks",      required_argument, NULL, ARG_TASKS      },
                { "timeout",    required_argument, NULL, ARG_TIMEOUT    },
                { "disk",       required_argument, NULL, ARG_DISK       },
                { "copy-workdir", no_argument,     NULL, ARG_COPY_WORKDIR },
                { "system",     no_argument,       NULL, ARG_SYSTEM     },
                { "user",       no_argument,       NULL, ARG_USER       },
                { "detach",     no_argument,       NULL, ARG_DETACH     },
                { "notes-file", required_argument, NULL, ARG_NOTES_FILE },
                { "fallback",   required_argument, NULL, ARG_FALLBACK   },
                { "backend",    required_argument, NULL, ARG_BACKEND    },
                { "quiet",      no_argument,       NULL, 'q'            },
                {}
        };
        int c, r;

        /* "+": options after COMMAND belong to COMMAND. */
        while ((c = getopt_long(argc, argv, "+hp:C:E:q", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("analysis-sandbox %s\n", PROJECT_VERSION);
                        return 0;
                case 'p':
                        if (!profile_name_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid profile name '%s': only a-z, 0-9 and _ are allowed.",
                                                       optarg);
                        arg_profile = optarg;
                        break;
                case ARG_ID:
                        if (!analysis_id_is_valid(optarg))
                                return log_error_errno(EINVAL,
                                                       "Invalid analysis id '%s': use 1 to %d characters of A-Z, a-z, 0-9, "
                                                       "'_', '.', ':' and '-', not starting with '.'.",
                                                       optarg, ANALYSIS_ID_MAX);
                        arg_id = optarg;
                        break;
                case 'C':
                        arg_chdir = optarg;
                        break;
                case 'E':
                        if (strchr(optarg, '=')) {
                                if (!environment_assignment_is_valid(optarg))
                                        return log_error_errno(EINVAL, "Invalid environment assignment '%s'.", optarg);
                                r = strv_extend(&arg_environment, optarg);
                        } else {
                                const char *v = getenv(optarg);
                                _cleanup_free_ char *a = strprintf("%s=%s", optarg, strempty(v));

                                if (!a)
                                        return log_oom();
                                if (!v || !environment_assignment_is_valid(a))
                                        return log_error_errno(EINVAL, "Cannot pass on '%s': not set here.", optarg);
                                r = strv_extend(&arg_environment, a);
                        }
                        if (r < 0)
                                return log_oom();
                        break;
                case ARG_MEMORY:
                        if (parse_size(optarg, &arg_memory_max) < 0 || arg_memory_max == 0)
                                return log_error_errno(EINVAL, "Invalid --memory '%s': expected bytes with an optional "
                                                       "K, M, G or T suffix.", optarg);
                        break;
                case ARG_CPU: {
                        _cleanup_free_ char *with_percent = strchr(optarg, '%') ? strdup(optarg)
                                                                                : strprintf("%s%%", optarg);

                        if (!with_percent)
                                return log_oom();
                        if (parse_percent(with_percent, 100000, &arg_cpu_percent) < 0 || arg_cpu_percent == 0)
                                return log_error_errno(EINVAL, "Invalid --cpu '%s': expected a percentage of one CPU "
                                                       "such as 50%%.", optarg);
                        break;
                }
                case ARG_TASKS:
                        if (parse_uint64(optarg, &arg_tasks_max) < 0 || arg_tasks_max == 0 ||
                            arg_tasks_max > TASKS_MAX_LIMIT)
                                return log_error_errno(EINVAL, "Invalid --tasks '%s'.", optarg);
                        break;
                case ARG_TIMEOUT:
                        if (parse_timespan(optarg, &arg_timeout_usec) < 0 || arg_timeout_usec == 0 ||
                            arg_timeout_usec == USEC_INFINITY)
                                return log_error_errno(EINVAL, "Invalid --timeout '%s': expected a time span such as "
                                                       "30s or 10min.", optarg);
                        break;
                case ARG_DISK:
                        if (parse_size(optarg, &arg_disk_max) < 0 || arg_disk_max == 0)
                                return log_error_errno(EINVAL, "Invalid --disk '%s': expected bytes with an optional "
                                                       "K, M, G or T suffix.", optarg);
                        break;
                case ARG_COPY_WORKDIR:
                        arg_copy_workdir = true;
                        break;
                case ARG_SYSTEM:
                        arg_scope = RUNTIME_SCOPE_SYSTEM;
                        break;
                case ARG_USER:
                        arg_scope = RUNTIME_SCOPE_USER;
                        break;
                case ARG_DETACH:
                        arg_detach = true;
                        break;
                case ARG_NOTES_FILE:
                        arg_notes_file = optarg;
                        break;
                case ARG_FALLBACK:
                        if (strcmp(optarg, "rlimit") != 0 && strcmp(optarg, "none") != 0)
                                return log_error_errno(EINVAL, "Invalid --fallback '%s': expected 'rlimit' or 'none'.",
                                                       optarg);
                        arg_fallback_rlimit = strcmp(optarg, "rlimit") == 0;
                        break;
                case ARG_BACKEND:
                        arg_backend = backend_kind_from_string(optarg);
                        if (arg_backend < 0)
                                return log_error_errno(EINVAL, "Invalid --backend '%s': expected 'systemd' or 'slurm'.",
                                                       optarg);
                        break;
                case 'q':
                        arg_quiet = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind >= argc)
                return log_error_errno(EINVAL, "No command given. See --help.");
        if (arg_detach && arg_copy_workdir)
                return log_error_errno(EINVAL, "--copy-workdir needs analysis-run to wait for the analysis to copy its "
                                       "files back: it cannot be combined with --detach.");
        arg_command = argv + optind;
        return 1;
}

/* The directory the analysis runs in, made absolute. */
static int working_directory(char **ret) {
        _cleanup_free_ char *cwd = getcwd(NULL, 0);

        if (arg_chdir && arg_chdir[0] == '/')
                *ret = strdup(arg_chdir);
        else if (!cwd)
                return log_error_errno(errno, "Cannot get the current directory: %m");
        else if (arg_chdir)
                *ret = strprintf("%s/%s", cwd, arg_chdir);
        else
                *ret = TAKE_PTR(cwd);
        return *ret ? 0 : log_oom();
}

/* Finds the command as the shell would, in our $PATH; a name with a slash is relative to the working
 * directory. The unit runs it by absolute path: its own PATH may differ. */
static int resolve_command(const char *cwd, char **ret) {
        const char *name = arg_command[0], *path = getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin";
        _cleanup_strv_free_ char **dirs = NULL;
        int r;

        if (strchr(name, '/')) {
                _cleanup_free_ char *abs = name[0] == '/' ? strdup(name) : strprintf("%s/%s", cwd, name);
                struct stat st;

                if (!abs)
                        return log_oom();
                if (stat(abs, &st) < 0 || S_ISDIR(st.st_mode) || access(abs, X_OK) < 0)
                        return -ENOENT;
                *ret = TAKE_PTR(abs);
                return 0;
        }
        r = strv_split(path, ":", &dirs);
        if (r < 0)
                return log_oom();
        STRV_FOREACH(d, dirs) {
                _cleanup_free_ char *candidate = strprintf("%s/%s", *d, name);
                struct stat st;

                if (!candidate)
                        return log_oom();
                if ((*d)[0] == '/' && stat(candidate, &st) >= 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) >= 0) {
                        *ret = TAKE_PTR(candidate);
                        return 0;
                }
        }
        return -ENOENT;
}

/* Per-analysis limits may only tighten what the profile's unit has. */
static int check_limits(const UnitProperties *p) {
        char want[32], have[32];

        if (arg_memory_max > 0 && p->memory_max != UINT64_MAX && arg_memory_max > p->memory_max)
                return log_error_errno(EPERM, "--memory=%s refused: above the %s limit of profile '%s'.",
                                       format_bytes(arg_memory_max, want, sizeof(want)),
                                       format_bytes(p->memory_max, have, sizeof(have)), arg_profile);
        if (arg_cpu_percent > 0 && p->cpu_quota_per_sec_usec != UINT64_MAX &&
            (uint64_t) arg_cpu_percent * 10000 > p->cpu_quota_per_sec_usec)
                return log_error_errno(EPERM, "--cpu=%u%% refused: above the %" PRIu64 "%% limit of profile '%s'.",
                                       arg_cpu_percent, p->cpu_quota_per_sec_usec / 10000, arg_profile);
        if (arg_tasks_max > 0 && p->tasks_max != UINT64_MAX && arg_tasks_max > p->tasks_max)
                return log_error_errno(EPERM, "--tasks=%" PRIu64 " refused: above the limit of %" PRIu64
                                       " tasks of profile '%s'.", arg_tasks_max, p->tasks_max, arg_profile);
        if (arg_timeout_usec > 0 && p->runtime_max_usec != UINT64_MAX && arg_timeout_usec > p->runtime_max_usec)
                return log_error_errno(EPERM, "--timeout=%s refused: above the %s time limit of profile '%s'.",
                                       format_duration(arg_timeout_usec, want, sizeof(want)),
                                       format_duration(p->runtime_max_usec, have, sizeof(have)), arg_profile);
        if (arg_disk_max > 0 && p->disk_max != UINT64_MAX && arg_disk_max > p->disk_max)
                return log_error_errno(EPERM, "--disk=%s refused: above the %s Disk= limit of profile '%s'.",
                                       format_bytes(arg_disk_max, want, sizeof(want)),
                                       format_bytes(p->disk_max, have, sizeof(have)), arg_profile);
        return 0;
}

static int setup_error(const sd_bus_error *e, int r, const char *what, const char *unit) {
        if (exit_status_from_bus_error(e, r) == EXIT_SETUP_PERMISSION) {
                log_error("Permission denied to %s %s: %s%s", what, unit, e->message ?: strerror(-r),
                          arg_scope == RUNTIME_SCOPE_SYSTEM
                                  ? " (running analyses needs root or membership in the analysis group; or use --user)"
                                  : "");
                return EXIT_SETUP_PERMISSION;
        }
        log_error("Failed to %s %s: %s", what, unit, e && e->message ? e->message : strerror(-r));
        return EXIT_SETUP_UNAVAILABLE;
}

static void run_done(Run *run) {
        output_follow_free(run->out);
        output_follow_free(run->err);
        unit_watch_free(run->watch);
        sd_bus_flush_close_unref(run->bus);
        sd_event_unref(run->event);
        analysis_paths_done(&run->paths);
        free(run->id);
        free(run->unit);
}

static int on_backend_cancel(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Run *run = userdata;
        int r;

        if (run->cancel_signal != 0 || !run->analysis)
                return 0;
        run->cancel_signal = (int) si->ssi_signo;
        log_notice("Cancelling analysis %s...", run->id);
        r = run->backend->stop(run->analysis);
        if (r < 0)
                log_warning_errno(r, "Cannot ask %s to stop analysis %s: %m; waiting for it to end.", run->backend->name,
                                  run->id);
        return 0;
}

static void on_unit_done(UnitWatch *w, void *userdata) {
        Run *run = userdata;

        (void) sd_event_exit(run->event, 0);
}

static int on_cancel(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Run *run = userdata;

        if (run->cancel_signal == 0) {
                log_notice("Cancelling analysis %s...", run->id);
                /* Noted first, so the record says it was cancelled rather than stopped by someone. */
                (void) spool_mark_cancelled(&run->paths, run->id);
        }
        run->cancel_signal = (int) si->ssi_signo;
        (void) unit_watch_stop(run->watch);
        return 0;
}

static void open_outputs(Run *run) {
        _cleanup_free_ char *out = strprintf("%s/%s.stdout", run->paths.results_dir, run->id);
        _cleanup_free_ char *err = strprintf("%s/%s.stderr", run->paths.results_dir, run->id);

        if (!run->out && out)
                (void) output_follow_new(&run->out, run->event, out, STDOUT_FILENO);
        if (!run->err && err)
                (void) output_follow_new(&run->err, run->event, err, STDERR_FILENO);
}

/* Waits for the start job, follows the output, and waits for the unit to be done. */
static int wait_for_unit(Run *run) {
        int r;

        while (!unit_watch_job_result(run->watch)) {
                r = sd_event_run(run->event, UINT64_MAX);
                if (r < 0)
                        return log_error_errno(r, "Event loop failed: %m");
        }
        /* The start job completes after the ExecStartPre= step that starts the output files afresh. */
        open_outputs(run);
        if (run->invocation_before[0] &&
            strcmp(run->invocation_before, unit_watch_properties(run->watch)->invocation_id) == 0) {
                log_error("Analysis %s is already running (%s).", run->id, run->unit);
                return EXIT_SETUP_BUSY;
        }
        r = sd_event_loop(run->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        if (run->out)
                (void) output_follow_drain(run->out);
        if (run->err)
                (void) output_follow_drain(run->err);
        return 0;
}

static int read_record(Run *run, Record *ret, char **ret_json, size_t *ret_size) {
        _cleanup_free_ char *why = NULL;
        const char *invocation = unit_watch_properties(run->watch)->invocation_id;
        int r;

        r = record_file_load(run->paths.results_dir, run->id, ret, ret_json, ret_size, &why);
        if (r == -ENOENT) {
                log_error("Analysis %s ended (%s, start job '%s') but left no record at %s/%s.json. See journalctl -u %s.",
                          run->id, unit_watch_properties(run->watch)->active_state,
                          strempty(unit_watch_job_result(run->watch)), run->paths.results_dir, run->id, run->unit);
                return EXIT_SETUP_NO_RECORD;
        }
        if (r < 0) {
                log_error("The record %s/%s.json of analysis %s cannot be read: %s", run->paths.results_dir, run->id,
                          run->id, r == -EBADMSG ? strempty(why) : strerror(-r));
                return EXIT_SETUP_NO_RECORD;
        }
        /* A record of an earlier run with the same id must never pass for this one. */
        if (!ret->invocation_id || strcmp(ret->invocation_id, invocation) != 0) {
                log_error("The record %s/%s.json belongs to another run of %s (invocation %s, not %s).",
                          run->paths.results_dir, run->id, run->id, strempty(ret->invocation_id), invocation);
                record_done(ret);
                free(*ret_json);
                *ret_json = NULL;
                return EXIT_SETUP_NO_RECORD;
        }
        return 0;
}

static int write_notes_file(const char *json, size_t size) {
        _cleanup_free_ char *dir = strdup(arg_notes_file), *base = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        char *slash;
        int r;

        if (!dir)
                return log_oom();
        slash = strrchr(dir, '/');
        base = strdup(slash ? slash + 1 : dir);
        if (!base)
                return log_oom();
        if (slash == dir)
                dir[1] = '\0';
        else if (slash)
                *slash = '\0';
        dir_fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return log_error_errno(errno, "Cannot open the directory of --notes-file=%s: %m", arg_notes_file);
        r = write_file_atomic_at(dir_fd, base, json, size, 0644);
        if (r < 0)
                return log_error_errno(r, "Cannot write --notes-file=%s: %m", arg_notes_file);
        return 0;
}

/* --copy-workdir: what the analysis created or changed in its copy of the working directory goes back there,
 * copied by us, as the caller, so it can land nowhere the caller could not write itself. */
static int copy_back(const Record *record, const char *cwd) {
        _cleanup_close_ int src_fd = -EBADF, dst_fd = -EBADF;
        TreeCopyOptions options = { .uid = (uid_t) -1, .gid = (gid_t) -1, .only_changed = true };
        TreeCopyStats stats = {};
        int r;

        if (!record->output_dir)
                return log_error_errno(ENOENT, "Analysis %s left no output directory to copy back into %s.",
                                       record->id, cwd);
        src_fd = open(record->output_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (src_fd < 0)
                return log_error_errno(errno, "Cannot open the output directory %s: %m", record->output_dir);
        dst_fd = open(cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dst_fd < 0)
                return log_error_errno(errno, "Cannot open %s to copy the analysis' files back: %m", cwd);
        r = tree_copy_at(src_fd, dst_fd, &options, &stats);
        if (r < 0)
                return log_error_errno(r, "Cannot copy the files of analysis %s back into %s (%" PRIu64
                                       " copied): %m", record->id, cwd, stats.files);
        if (stats.skipped > 0)
                log_warning("Copying back into %s skipped %" PRIu64 " entries that are not regular files or "
                            "directories, or whose place holds something else.", cwd, stats.skipped);
        return 0;
}

/* Hands the record on (--notes-file), prints its notes and returns the exit status for it. */
static int report(Run *run, const Record *record, const char *json, size_t json_size, const char *cwd) {
        int r;

        if (arg_notes_file && write_notes_file(json, json_size) < 0)
                return EXIT_SETUP_UNAVAILABLE;
        if (!arg_quiet) {
                fprintf(stderr, "Analysis %s (profile %s): %s\n", run->id, arg_profile, strempty(record->notes));
                if (record->output_dir)
                        fprintf(stderr, "Output: %s\n", record->output_dir);
        }
        /* An analysis that never ran has nothing to give back (and no output directory). The record is out
         * already: a failed copy says so with a status of its own, not by hiding how the analysis ended. */
        if (arg_copy_workdir && !record->error) {
                r = copy_back(record, cwd);
                if (r < 0)
                        return EXIT_COPY_BACK;
        }
        return exit_status_from_record(record, run->cancel_signal);
}

/* The caller's request: the command by its absolute path, its arguments as given, and our options. The argv
 * is a copy for the caller to free. Returns 0 or -ENOMEM. */
static int make_request(const char *cwd, const char *command, Request *ret) {
        *ret = (Request) {
                .argv = strv_copy_replacing_first(arg_command, command),
                .cwd = (char *) cwd,
                .environment = arg_environment,
                .memory_max = arg_memory_max,
                .cpu_percent = arg_cpu_percent,
                .tasks_max = arg_tasks_max,
                .timeout_usec = arg_timeout_usec,
                .disk_max = arg_disk_max,
                .copy_workdir = arg_copy_workdir,
        };
        return ret->argv ? 0 : -ENOMEM;
}

/* The limits check_limits() holds a request to, read from the profile itself where no unit has them (without
 * systemd, on another backend). Disk= is not enforced there: no limit to hold --disk to. */
static UnitProperties profile_properties(const FallbackProfile *p) {
        return (UnitProperties) {
                .memory_max = p->limits.memory_max,
                .tasks_max = p->limits.tasks_max,
                .cpu_quota_per_sec_usec = p->limits.cpu_quota_percent != RECORD_UNSET
                                                  ? p->limits.cpu_quota_percent * 10000 : UINT64_MAX,
                .runtime_max_usec = p->limits.runtime_max_usec,
                .disk_max = UINT64_MAX,
        };
}

/* Where no unit holds the profile (without systemd, on another backend): reads it, holds the request to its
 * limits and makes the request. Returns 0 or an exit status after logging. */
static int profile_request(RuntimeScope scope, const char *cwd, const char *command, FallbackProfile *profile,
                           Request *ret) {
        UnitProperties props;
        int r;

        r = fallback_profile_load(scope, arg_profile, profile);
        if (r != 0)
                return r;
        props = profile_properties(profile);
        if (check_limits(&props) < 0)
                return EXIT_SETUP_ABOVE_PROFILE;
        return make_request(cwd, command, ret) < 0 ? (log_oom(), EXIT_SETUP_UNAVAILABLE) : 0;
}

/* No service manager can be reached: refuse, unless --fallback=rlimit lets us run the analysis ourselves. */
static int no_manager(Run *run, const char *cwd, const char *command, const char *why) {
        _cleanup_(fallback_profile_done) FallbackProfile profile = {};
        _cleanup_free_ char *json = NULL;
        _cleanup_(record_done) Record record;
        Request request = {};
        size_t json_size = 0;
        int r;

        record_init(&record);
        if (!arg_fallback_rlimit) {
                log_error("Cannot reach the %s service manager (%s): analysis-run needs systemd to isolate the "
                          "analysis. --fallback=rlimit runs it here instead, without cgroup isolation and with only "
                          "approximate limits (see analysis-run(1)).",
                          arg_scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user's", why);
                return EXIT_SETUP_UNAVAILABLE;
        }
        if (arg_detach) {
                log_error("Cannot reach the %s service manager (%s), and --detach needs one: with --fallback=rlimit "
                          "analysis-run supervises the analysis itself.",
                          arg_scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user's", why);
                return EXIT_SETUP_UNAVAILABLE;
        }
        log_debug("No %s service manager (%s): running the analysis with --fallback=rlimit.",
                  arg_scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user's", why);
        r = profile_request(arg_scope, cwd, command, &profile, &request);
        if (r != 0)
                return r;
        if (!run->event && sd_event_default(&run->event) < 0) {
                strv_free(request.argv);
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        }
        r = fallback_run(&profile, &(FallbackRequest) { .scope = arg_scope, .id = run->id, .request = &request },
                         run->event, &record, &json, &json_size, &run->cancel_signal);
        strv_free(request.argv);
        if (r != 0)
                return r;
        return report(run, &record, json, json_size, cwd);
}

/* Loads analysis-sandbox.conf as analysis-generator does (strictly: a bad file is an error naming file and
 * line). Returns 0 or an exit status after logging. */
static int load_global_config(GlobalConfig **ret) {
        _cleanup_strv_free_ char **profile_dirs = NULL, **dirs = NULL, **files = NULL, **warnings = NULL;
        _cleanup_(config_error_clear) ConfigError error = {};
        _cleanup_free_ char *text = NULL;
        int r;

        r = profile_search_dirs(RUNTIME_SCOPE_SYSTEM, &profile_dirs);
        if (r >= 0)
                r = global_config_search_dirs(profile_dirs, &dirs);
        if (r >= 0)
                r = config_files_find(dirs, "analysis-sandbox.conf", &files, &warnings);
        if (r < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        STRV_FOREACH(w, warnings)
                log_warning("%s", *w);
        r = global_config_load(files, ret, &error);
        if (r == -ENOMEM)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        if (r < 0) {
                text = config_error_to_string(&error);
                log_error("%s: cannot choose or configure the backend.", text ?: "analysis-sandbox.conf");
                return EXIT_SETUP_UNAVAILABLE;
        }
        return 0;
}

/* An analysis on a backend behind backend.h (Slurm): the profile read here, the limits checked, the request
 * handed over, its output followed and its record reported. */
static int run_on_backend(Run *run, const Backend *backend, const GlobalConfig *global, const char *cwd,
                          const char *command) {
        _cleanup_(fallback_profile_done) FallbackProfile profile = {};
        _cleanup_free_ char *json = NULL;
        _cleanup_(record_done) Record record;
        BackendAnalysis *analysis = NULL;
        Request request = {};
        size_t json_size = 0;
        sigset_t mask;
        int r;

        record_init(&record);
        if (arg_scope != RUNTIME_SCOPE_SYSTEM) {
                log_error("--backend=%s runs the analysis as a %s job of the caller, not under a service manager: "
                          "--user has no meaning there (leave it out).", backend->name, backend->name);
                return EXIT_SETUP_USAGE;
        }
        if (arg_detach) {
                log_error("--backend=%s runs the analysis as a job of the caller; it cannot be combined with --detach yet.",
                          backend->name);
                return EXIT_SETUP_USAGE;
        }
        r = profile_request(RUNTIME_SCOPE_SYSTEM, cwd, command, &profile, &request);
        if (r != 0)
                return r;
        r = backend->submit(&(BackendConfig) { .global = global },
                            &(BackendRequest) { .id = run->id, .profile = &profile, .request = &request }, &analysis);
        strv_free(request.argv);
        if (r != 0)
                return r;

        /* Ctrl-C and SIGTERM ask the backend to stop the analysis; its record then says so. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        run->backend = backend;
        run->analysis = analysis;
        (void) sd_event_add_signal(run->event, NULL, SIGINT, on_backend_cancel, run);
        (void) sd_event_add_signal(run->event, NULL, SIGTERM, on_backend_cancel, run);
        r = backend->wait(analysis, run->event, &record, &json, &json_size);
        run->analysis = NULL;
        backend->free(analysis);
        if (r != 0)
                return r;
        return report(run, &record, json, json_size, cwd);
}

static bool bus_error_is_no_manager(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

static int run_analysis(Run *run) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *cwd = NULL, *command = NULL, *json = NULL;
        _cleanup_(record_done) Record record;
        Request request = {};
        UnitProperties props;
        size_t json_size = 0;
        sigset_t mask;
        int r;

        record_init(&record);
        r = working_directory(&cwd);
        if (r < 0)
                return EXIT_SETUP_USAGE;
        r = resolve_command(cwd, &command);
        if (r == -ENOENT) {
                log_error("No such command: %s", arg_command[0]);
                return EXIT_SETUP_NO_COMMAND;
        }
        if (r < 0)
                return EXIT_SETUP_USAGE;

        run->id = arg_id ? strdup(arg_id) : NULL;
        if (!arg_id && analysis_id_generate(&run->id) < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        if (arg_backend != BACKEND_SYSTEMD) {
                _cleanup_(global_config_freep) GlobalConfig *global = NULL;
                BackendKind kind;

                r = load_global_config(&global);
                if (r != 0)
                        return r;
                kind = arg_backend >= 0 ? arg_backend : backend_kind_from_string(global->settings[GLOBAL_BACKEND_DEFAULT].text);
                if (backend_get(kind)) {
                        if (!run->id)
                                return log_oom(), EXIT_SETUP_UNAVAILABLE;
                        r = sd_event_default(&run->event);
                        if (r < 0)
                                return log_error_errno(r, "Cannot create an event loop: %m"), EXIT_SETUP_UNAVAILABLE;
                        return run_on_backend(run, backend_get(kind), global, cwd, command);
                }
        }
        if (!run->id || analysis_unit_name(arg_profile, run->id, &run->unit) < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        r = analysis_paths_get(arg_scope, &run->paths);
        if (r == -ENXIO && arg_scope == RUNTIME_SCOPE_USER && !secure_getenv("XDG_RUNTIME_DIR"))
                return no_manager(run, cwd, command, "$XDG_RUNTIME_DIR is not set");
        if (r < 0) {
                log_error_errno(r, "Cannot find the directories of the user's analyses ($XDG_RUNTIME_DIR and $HOME): %m");
                return EXIT_SETUP_UNAVAILABLE;
        }

        r = sd_event_default(&run->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create an event loop: %m"), EXIT_SETUP_UNAVAILABLE;
        r = arg_scope == RUNTIME_SCOPE_SYSTEM ? sd_bus_open_system(&run->bus) : sd_bus_open_user(&run->bus);
        if (r < 0)
                return no_manager(run, cwd, command, strerror(-r));
        r = sd_bus_attach_event(run->bus, run->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach to the bus: %m"), EXIT_SETUP_UNAVAILABLE;

        r = unit_watch_new(&run->watch, run->bus, run->unit, on_unit_done, run);
        if (r < 0)
                return log_error_errno(r, "Cannot watch %s: %m", run->unit), EXIT_SETUP_UNAVAILABLE;
        /* The reference first, so systemd 252 does not collect the instance after each of our calls and load it
         * again for the next (7 times per analysis, measured). Where it is refused (polkit says no, no such
         * profile) the checks below run without it and say what is wrong exactly as they always did; the
         * reference is then asked for again just before the start, whose refusal is the message. */
        r = unit_watch_ref(run->watch, &error);
        if (r < 0)
                sd_bus_error_free(&error);
        r = unit_watch_load(run->watch, &props, &error);
        if (r < 0 && bus_error_is_no_manager(&error))
                return no_manager(run, cwd, command, error.message ?: error.name);
        if (r < 0)
                return setup_error(&error, r, "load", run->unit);
        if (strcmp(props.load_state, "not-found") == 0 || strcmp(props.load_state, "masked") == 0) {
                log_error("Unknown profile '%s': no %s (is there a %s.ini? analysis-generator --validate tells).",
                          arg_profile, run->unit, arg_profile);
                return EXIT_SETUP_UNKNOWN_PROFILE;
        }
        if (strcmp(props.load_state, "loaded") != 0) {
                log_error("%s cannot be loaded (%s): see systemctl status %s.", run->unit, props.load_state, run->unit);
                return EXIT_SETUP_UNAVAILABLE;
        }
        if (strcmp(props.active_state, "inactive") != 0 && strcmp(props.active_state, "failed") != 0) {
                log_error("Analysis %s is already running (%s is %s).", run->id, run->unit, props.active_state);
                return EXIT_SETUP_BUSY;
        }
        if (props.dynamic_user && !analysis_id_fits_account(run->id)) {
                log_error("Invalid analysis id '%s' for profile '%s', whose analyses each run under an account of "
                          "their own named after the id: use 1 to %d characters of A-Z, a-z, 0-9, '_' and '-'.",
                          run->id, arg_profile, ANALYSIS_ID_ACCOUNT_MAX);
                return EXIT_SETUP_USAGE;
        }
        r = check_limits(&props);
        if (r < 0)
                return EXIT_SETUP_ABOVE_PROFILE;
        memcpy(run->invocation_before, props.invocation_id, sizeof(run->invocation_before));

        if (arg_scope == RUNTIME_SCOPE_USER)
                (void) mkdir_p(run->paths.results_dir, 0700);
        r = make_request(cwd, command, &request);
        if (r < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        r = spool_submit(&run->paths, run->id, &request);
        strv_free(request.argv);
        if (r == -EEXIST) {
                log_error("Analysis id %s is taken: %s/%s belongs to another user.", run->id, run->paths.spool_dir, run->id);
                return EXIT_SETUP_BUSY;
        }
        if ((r == -EACCES || r == -EPERM) && arg_scope == RUNTIME_SCOPE_SYSTEM) {
                log_error("Permission denied to run analyses through the system manager: %s is only for root and "
                          "members of the group 'analysis' (or run under your own manager with --user).",
                          run->paths.spool_dir);
                return EXIT_SETUP_PERMISSION;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot hand the analysis to its unit through %s/%s: %m", run->paths.spool_dir, run->id);
                return r == -EACCES || r == -EPERM ? EXIT_SETUP_PERMISSION : EXIT_SETUP_UNAVAILABLE;
        }

        /* Ctrl-C and SIGTERM stop the analysis gracefully instead of leaving it behind. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) sd_event_add_signal(run->event, NULL, SIGINT, on_cancel, run);
        (void) sd_event_add_signal(run->event, NULL, SIGTERM, on_cancel, run);

        r = unit_watch_is_referenced(run->watch) ? 0 : unit_watch_ref(run->watch, &error);
        if (r >= 0)
                r = unit_watch_start(run->watch, &error);
        if (r < 0) {
                (void) spool_remove(&run->paths, run->id);
                return setup_error(&error, r, "start", run->unit);
        }
        if (arg_detach) {
                printf("%s\n", run->id);
                return EXIT_SUCCESS;
        }

        r = wait_for_unit(run);
        if (r != 0)
                return r < 0 ? EXIT_SETUP_UNAVAILABLE : r;
        r = read_record(run, &record, &json, &json_size);
        if (r != 0)
                return r;
        return report(run, &record, json, json_size, cwd);
}

int main(int argc, char *argv[]) {
        Run run = {};
        int r;

        log_open(LOG_TARGET_STDERR);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_SETUP_USAGE : EXIT_SUCCESS;
        r = run_analysis(&run);
        run_done(&run);
        strv_free(arg_environment);
        return r;
}
