/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-run: runs one analysis with the limits of its profile on a backend (backend.h: a unit of the service
 * manager, a Slurm job, or here with rlimits), streams its output, waits for its record and reports how it
 * ended, in plain words and as JSON. It parses and checks what the caller asks, picks the backend and reports;
 * the backends do the rest. */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>

#include "analysis-id.h"
#include "atomic-file.h"
#include "backend.h"
#include "config.h"
#include "exit-status.h"
#include "log.h"
#include "parse-value.h"
#include "profile.h"
#include "record.h"
#include "request.h"
#include "strv.h"
#include "tree-copy.h"

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
static const Backend *arg_fallback = NULL;      /* --fallback=: where no service manager can be reached */
static uint64_t arg_disk_max = 0;
static bool arg_copy_workdir = false;
static BackendKind arg_backend = _BACKEND_KIND_INVALID;    /* unset: [Backend] Default= */
static char **arg_command = NULL;

typedef struct Run {
        sd_event *event;
        char *id;
        int cancel_signal;
        const Backend *backend;
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
                        arg_fallback = strcmp(optarg, "rlimit") == 0 ? &backend_rlimit : NULL;
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

static void run_done(Run *run) {
        if (run->analysis)
                run->backend->free(run->analysis);
        sd_event_unref(run->event);
        free(run->id);
}

/* SIGINT and SIGTERM while waiting: the backend stops the analysis gracefully, and its record says so. */
static int on_cancel(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
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

static int run_analysis(Run *run) {
        _cleanup_(global_config_freep) GlobalConfig *global = NULL;
        _cleanup_free_ char *cwd = NULL, *command = NULL, *json = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_(record_done) Record record;
        BackendKind kind = arg_backend;
        BackendRequest req;
        Request request;
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
        /* --backend=systemd needs nothing of analysis-sandbox.conf. */
        if (kind != BACKEND_SYSTEMD) {
                r = backend_config_load(LOG_ERR, &global);
                if (r != 0)
                        return r;
                if (kind < 0)
                        kind = backend_kind_from_string(global->settings[GLOBAL_BACKEND_DEFAULT].text);
        }
        run->backend = backend_get(kind);
        r = make_request(cwd, command, &request);
        argv = request.argv;
        if (!run->id || r < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        r = sd_event_default(&run->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create an event loop: %m"), EXIT_SETUP_UNAVAILABLE;
        req = (BackendRequest) {
                .id = run->id,
                .request = &request,
                .profile_name = arg_profile,
                .scope = arg_scope,
                .detach = arg_detach,
                .fallback = arg_fallback,
                .event = run->event,
                .cancel_signal = &run->cancel_signal,
        };

        /* Ctrl-C and SIGTERM stop the analysis gracefully instead of leaving it behind: blocked before it is
         * submitted, so none can come between its start and our handling of them. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        r = backend_check_features(run->backend, &req);
        if (r == 0)
                r = run->backend->submit(&(BackendConfig) { .global = global }, &req, &run->analysis);
        if (r == BACKEND_UNREACHABLE) {
                run->backend = arg_fallback;
                r = backend_check_features(run->backend, &req);
                if (r == 0)
                        r = run->backend->submit(&(BackendConfig) { .global = global }, &req, &run->analysis);
        }
        if (r != 0)
                return r;
        if (arg_detach) {
                printf("%s\n", run->id);
                return EXIT_SUCCESS;
        }
        if (run->backend->stop) {
                (void) sd_event_add_signal(run->event, NULL, SIGINT, on_cancel, run);
                (void) sd_event_add_signal(run->event, NULL, SIGTERM, on_cancel, run);
        }
        r = run->backend->wait(run->analysis, run->event, &record, &json, &json_size);
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
