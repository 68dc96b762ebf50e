/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-exec: the in-unit runner, ExecStart= of every analysis unit. Under the system manager it starts as
 * root and first checks and snapshots the caller's request itself (--prepare, exec-prepare.c); under a user's
 * manager analysis-record prepare has done that. As the profile's account, it takes the command, directory,
 * environment and tighter limits from that snapshot (or the profile's Exec= after "--" when nobody spooled
 * one), applies the limits, and executes the command. */

#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>

#include "analysis-id.h"
#include "atomic-file.h"
#include "cgroup-util.h"
#include "config.h"
#include "entry-file.h"
#include "exec-prepare.h"
#include "log.h"
#include "parse-value.h"
#include "request.h"
#include "strv.h"
#include "thread-env.h"
#include "time-util.h"
#include "tree-copy.h"
#include "unit-state.h"

/* systemd's own exit codes for the same failures (systemd.exec(5)), so they read the same in the journal. */
#define EXIT_CHDIR 200
#define EXIT_EXEC 203
#define EXIT_USER 217
#define EXIT_CGROUP 219
/* The exit status of the runner when it stopped the analysis at its own (tighter) time limit. */
#define EXIT_RUNNER_TIMEOUT 124

static const char *arg_state_dir = NULL;
static const char *arg_status_dir = NULL;
static bool arg_prepare = false;
static bool arg_private_tmp = false;
static PrepareOptions arg_prepare_options = { .scope = RUNTIME_SCOPE_SYSTEM };

static void help(void) {
        printf("%s [--prepare --profile=NAME --runtime-max=SPAN --kill-grace=SPAN --disk-max=SIZE\n"
               "    --results-dir=DIR [--private-tmp]] [--state-dir=DIR] [--status-dir=DIR] [--] [COMMAND [ARG...]]\n\n"
               "Runs inside an analysis unit (analysis@.service and its siblings) and executes the\n"
               "analysis' command: the one its caller spooled, or else COMMAND, the profile's Exec=.\n\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n"
               "     --prepare         Start as root (ExecStart=!): check and snapshot the request of\n"
               "                       $ANALYSIS_ID, mount its output directory, then become its account\n"
               "     --profile=NAME --runtime-max=SPAN --kill-grace=SPAN --disk-max=SIZE --results-dir=DIR\n"
               "                       The profile's facts, for --prepare\n"
               "     --private-tmp     With --prepare: /tmp and /var/tmp of its own, on a shared tmpfs\n"
               "     --state-dir=DIR   Where the checked request is snapshotted\n"
               "     --status-dir=DIR  Where to note how the analysis ended when this runner supervises it\n\n"
               "Not meant to be called by hand; see analysis-sandbox.profile(5).\n",
               program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_STATE_DIR, ARG_STATUS_DIR, ARG_PREPARE, ARG_PROFILE, ARG_RUNTIME_MAX,
               ARG_KILL_GRACE, ARG_DISK_MAX, ARG_RESULTS_DIR, ARG_PRIVATE_TMP };
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h'             },
                { "version",     no_argument,       NULL, ARG_VERSION     },
                { "state-dir",   required_argument, NULL, ARG_STATE_DIR   },
                { "status-dir",  required_argument, NULL, ARG_STATUS_DIR  },
                { "prepare",     no_argument,       NULL, ARG_PREPARE     },
                { "profile",     required_argument, NULL, ARG_PROFILE     },
                { "runtime-max", required_argument, NULL, ARG_RUNTIME_MAX },
                { "kill-grace",  required_argument, NULL, ARG_KILL_GRACE  },
                { "disk-max",    required_argument, NULL, ARG_DISK_MAX    },
                { "results-dir", required_argument, NULL, ARG_RESULTS_DIR },
                { "private-tmp", no_argument,       NULL, ARG_PRIVATE_TMP },
                {}
        };
        PrepareOptions *p = &arg_prepare_options;
        int c;

        /* "+" stops at the first non-option, so the command's own options are left alone. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("analysis-sandbox %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_STATE_DIR:
                        arg_state_dir = optarg;
                        break;
                case ARG_STATUS_DIR:
                        arg_status_dir = optarg;
                        break;
                case ARG_PREPARE:
                        arg_prepare = true;
                        break;
                case ARG_PROFILE:
                        p->profile = optarg;
                        break;
                case ARG_RUNTIME_MAX:
                        if (parse_timespan(optarg, &p->runtime_max_usec) < 0)
                                return log_error_errno(EINVAL, "Invalid --runtime-max=%s", optarg);
                        break;
                case ARG_KILL_GRACE:
                        if (parse_timespan(optarg, &p->kill_grace_usec) < 0)
                                return log_error_errno(EINVAL, "Invalid --kill-grace=%s", optarg);
                        break;
                case ARG_DISK_MAX:
                        if (parse_memory_limit(optarg, &p->disk_max) < 0)
                                return log_error_errno(EINVAL, "Invalid --disk-max=%s", optarg);
                        break;
                case ARG_RESULTS_DIR:
                        p->results_dir = optarg;
                        break;
                case ARG_PRIVATE_TMP:
                        arg_private_tmp = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (arg_prepare) {
                p->id = getenv("ANALYSIS_ID");
                if (!p->id || !analysis_id_is_valid(p->id))
                        return log_error_errno(EINVAL, "--prepare: $ANALYSIS_ID is missing or not a valid id");
                if (!p->profile || !p->results_dir || p->results_dir[0] != '/')
                        return log_error_errno(EINVAL, "--prepare needs --profile= and an absolute --results-dir=");
        }
        return 1;
}

/* Notes how the analysis ended, for analysis-record finish (see RunnerStatus there). */
static void write_status(const char *format, ...) _printf_(1, 2);
static void write_status(const char *format, ...) {
        _cleanup_close_ int fd = -EBADF;
        char buf[512];
        va_list ap;

        if (!arg_status_dir)
                return;
        va_start(ap, format);
        (void) vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        fd = open(arg_status_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                (void) write_file_atomic_at(fd, "status", buf, strlen(buf), 0644);
}

/* Logs why the analysis cannot run, notes it for the record, and returns status. */
static int fail(int status, int error, const char *format, ...) _printf_(3, 4);
static int fail(int status, int error, const char *format, ...) {
        char message[400];
        va_list ap;

        errno = error;
        va_start(ap, format);
        (void) vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);
        log_error("%s", message);
        /* The output files are the analysis' own; "systemctl status" and "journalctl -u" are where an admin
         * who started the unit by hand looks, so the reason goes to the journal too. */
        syslog(LOG_ERR, "%s", message);
        write_status("error %s", message);
        return status;
}

/* Reads a file analysis-record prepare wrote: root's (the system manager) or our own (a user manager). */
static int read_prepared(int dir_fd, const char *name, char **ret_data, size_t *ret_size, char **ret_reason) {
        int r;

        r = entry_file_read_at(dir_fd, name, 0, ret_data, ret_size, ret_reason);
        if (r == -EPERM && getuid() != 0) {
                free(*ret_reason);
                *ret_reason = NULL;
                r = entry_file_read_at(dir_fd, name, getuid(), ret_data, ret_size, ret_reason);
        }
        return r;
}

static int load_request(Request **ret, UnitState **ret_state) {
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *data = NULL, *why = NULL;
        _cleanup_(unit_state_freep) UnitState *state = NULL;
        size_t size;
        int r;

        *ret = NULL;
        *ret_state = NULL;
        if (!arg_state_dir)
                return 0;
        dir_fd = open(arg_state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Cannot open %s: %m", arg_state_dir);
        r = read_prepared(dir_fd, "state", &data, &size, &why);
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                r = unit_state_parse(data, size, &state, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s/state: %s", arg_state_dir, why ?: strerror(-r));
        if (state->has_request) {
                free(TAKE_PTR(data));
                free(TAKE_PTR(why));
                r = read_prepared(dir_fd, "request", &data, &size, &why);
                if (r >= 0)
                        r = request_parse(data, size, ret, &why);
                if (r < 0)
                        return log_error_errno(r, "Cannot read %s/request: %s", arg_state_dir, why ?: strerror(-r));
        }
        *ret_state = TAKE_PTR(state);
        return 0;
}

/* Room in the unit kept for the control processes systemd spawns into it: the recorder, and one more. The
 * supervisor, when there is one, takes another. */
#define SANDBOX_TASKS 2

/* The payload's pids.max: the caller's, if tighter, and never more than the unit's less the sandbox's own
 * tasks. systemd 257 forks a control process (ExecStopPost=, the recorder) straight into the unit's cgroup
 * (CLONE_INTO_CGROUP, with systemd-executor since 255), which pids.max is charged for; and on a stop it
 * starts ExecStopPost= as soon as the main process is gone, while a fork bomb's other processes still fork.
 * An analysis allowed the whole of the unit's pids.max made that fork fail ("Failed to spawn executor":
 * Result=resources and no record). systemd 252 forked in its own cgroup and moved the child, which pids.max
 * does not refuse.
 * Returns 0 when nothing needs a limit (the unit has none and the caller asked for none). */
static uint64_t payload_tasks_max(const char *unit, const Request *request, bool supervised) {
        uint64_t unit_max, reserved = SANDBOX_TASKS + (supervised ? 1 : 0), max = 0;

        if (cgroup_read_uint(unit, "pids.max", &unit_max) >= 0 && unit_max != UINT64_MAX)
                max = unit_max > reserved ? unit_max - reserved : 1;
        if (request && request->tasks_max > 0 && (max == 0 || request->tasks_max < max))
                max = request->tasks_max;
        return max;
}

/* The payload leaf's cpu.weight, against the unit's other leaves (.control, where systemd runs the recorder, and
 * the supervisor): the least there is. Alone it runs as fast as before (a weight only splits what siblings
 * contend for), beside the recorder it leaves it the unit's quota. After a stop, systemd 257 starts the
 * recorder (ExecStopPost=) as soon as the main process is gone, and a fork bomb's processes, forked after the
 * stop's SIGTERM, shared the unit's quota with it as equals: eighteen of them left it a nineteenth, and under
 * emulation it had not even started when KillGrace= ran out (no record from it, the bomb left running). */
#define PAYLOAD_CPU_WEIGHT "1"

/* Whether the payload leaf carries something the caller asked for (not only the room kept for the sandbox). */
static bool payload_required(const Request *request, bool supervised) {
        return supervised ||
                (request && (request->memory_max > 0 || request->tasks_max > 0 || request->cpu_percent > 0));
}

/* Tighter limits than the profile's go on a leaf cgroup of the unit, "payload", where the command runs; so
 * does the room kept for the sandbox's own tasks (payload_tasks_max()).
 *
 * Why here and not in systemd: for a template instance systemd 252 cannot take RuntimeMaxSec= at run time,
 * a drop-in needs root and a daemon-reload, and SetUnitProperties() would have to be granted to callers
 * through polkit, which cannot tell lowering a limit from raising it. The unit has Delegate=yes instead, so
 * its cgroup belongs to this runner's account: it can create leaves and limit them, but never touch the
 * unit's own limits (the profile's), which stay root's. An analysis that deliberately moves itself out of
 * the leaf can shed the tighter limits, never the profile's. */
static int setup_payload_cgroup(const Request *request, bool supervised, char **ret_payload) {
        _cleanup_free_ char *unit = NULL, *payload = NULL, *supervisor = NULL;
        char controllers[256] = "", value[64];
        uint64_t tasks_max;
        int r;

        r = cgroup_self_unit_path(&unit);
        if (r < 0)
                return log_error_errno(r, "Cannot find this analysis' cgroup: %m");
        tasks_max = payload_tasks_max(unit, request, supervised);
        if (!payload_required(request, supervised) && tasks_max == 0) {
                *ret_payload = NULL;
                return 0;
        }
        payload = strprintf("%s/payload", unit);
        supervisor = strprintf("%s/supervisor", unit);
        if (!payload || !supervisor)
                return log_oom();
        if (mkdir(payload, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create %s: %m", payload);
        if (supervised && mkdir(supervisor, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create %s: %m", supervisor);
        /* A cgroup that passes controllers on may hold no process itself: leave the unit's cgroup first. */
        r = cgroup_write(supervised ? supervisor : payload, "cgroup.procs", "0");
        if (r < 0)
                return log_error_errno(r, "Cannot move into %s: %m", supervised ? supervisor : payload);

        if (request && request->memory_max > 0)
                strcat(controllers, "+memory ");
        if (tasks_max > 0)
                strcat(controllers, "+pids ");
        if (request && request->cpu_percent > 0)
                strcat(controllers, "+cpu ");
        if (controllers[0]) {
                controllers[strlen(controllers) - 1] = '\0';
                r = cgroup_write(unit, "cgroup.subtree_control", controllers);
                if (r < 0)
                        return log_error_errno(r, "Cannot enable '%s' for %s: %m", controllers, payload);
        }
        if (request && request->memory_max > 0) {
                (void) snprintf(value, sizeof(value), "%" PRIu64, request->memory_max);
                r = cgroup_write(payload, "memory.max", value);
                if (r < 0)
                        return log_error_errno(r, "Cannot set memory.max of %s: %m", payload);
        }
        if (tasks_max > 0) {
                (void) snprintf(value, sizeof(value), "%" PRIu64, tasks_max);
                r = cgroup_write(payload, "pids.max", value);
                if (r < 0)
                        return log_error_errno(r, "Cannot set pids.max of %s: %m", payload);
        }
        /* Where the unit has the cpu controller: without a quota of the caller's it is enabled here on its own,
         * and a unit without it (no CPU= in the profile and none in analysis.slice) needs no weight. */
        if ((request && request->cpu_percent > 0) || cgroup_write(unit, "cgroup.subtree_control", "+cpu") >= 0) {
                r = cgroup_write(payload, "cpu.weight", PAYLOAD_CPU_WEIGHT);
                if (r < 0)
                        return log_error_errno(r, "Cannot set cpu.weight of %s: %m", payload);
        }
        if (request && request->cpu_percent > 0) {
                /* The same period systemd uses for CPUQuota=. */
                (void) snprintf(value, sizeof(value), "%u 100000", request->cpu_percent * 1000);
                r = cgroup_write(payload, "cpu.max", value);
                if (r < 0)
                        return log_error_errno(r, "Cannot set cpu.max of %s: %m", payload);
        }
        *ret_payload = TAKE_PTR(payload);
        return 0;
}

static void signal_payload(const char *payload, int sig) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *path = strprintf("%s/cgroup.procs", payload);
        int pid;

        if (!path)
                return;
        f = fopen(path, "re");
        if (!f)
                return;
        while (fscanf(f, "%d", &pid) == 1)
                (void) kill(pid, sig);
}

/* Ends the way the child ended, so systemd sees the same exit status or signal. */
_Noreturn static void mirror_child(int status) {
        if (WIFEXITED(status)) {
                write_status("exited %d", WEXITSTATUS(status));
                _exit(WEXITSTATUS(status));
        }
        if (WIFSIGNALED(status)) {
                int sig = WTERMSIG(status);
                struct rlimit no_core = {};
                sigset_t all;

                write_status("%s %s", WCOREDUMP(status) ? "dumped" : "killed", strempty(sigabbrev_np(sig)));
                /* The child's core dump is the one that matters; this process has nothing to dump. */
                (void) setrlimit(RLIMIT_CORE, &no_core);
                (void) signal(sig, SIG_DFL);
                sigfillset(&all);
                (void) sigprocmask(SIG_UNBLOCK, &all, NULL);
                (void) raise(sig);
                _exit(128 + sig);
        }
        _exit(EXIT_FAILURE);
}

/* Waits for pid until deadline (CLOCK_MONOTONIC µs). Returns 1 with *ret_status when it ended, 0 on deadline. */
static int wait_until(pid_t pid, uint64_t deadline, const sigset_t *mask, int *ret_status) {
        for (;;) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                struct timespec ts;

                if (waitpid(pid, ret_status, WNOHANG) == pid)
                        return 1;
                if (now >= deadline)
                        return 0;
                ts.tv_sec = (time_t) ((deadline - now) / USEC_PER_SEC);
                ts.tv_nsec = (long) ((deadline - now) % USEC_PER_SEC) * 1000;
                /* SIGTERM from a stop reaches the whole cgroup, the command included: just keep waiting. */
                (void) sigtimedwait(mask, NULL, &ts);
        }
}

/* Runs the command as a child in the payload cgroup and stops it at the request's time limit: SIGTERM to all
 * of it, the profile's grace, then SIGKILL (cgroup.kill). */
_Noreturn static void supervise(char **argv, const char *payload, uint64_t timeout_usec, uint64_t grace_usec) {
        sigset_t mask;
        int status;
        pid_t pid;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);

        pid = fork();
        if (pid < 0) {
                log_error_errno(errno, "Cannot fork: %m");
                _exit(EXIT_EXEC);
        }
        if (pid == 0) {
                (void) sigprocmask(SIG_UNBLOCK, &mask, NULL);
                if (cgroup_write(payload, "cgroup.procs", "0") < 0)
                        _exit(EXIT_CGROUP);
                execv(argv[0], argv);
                _exit(fail(EXIT_EXEC, errno, "cannot execute %s: %m", argv[0]));
        }

        if (wait_until(pid, now_usec(CLOCK_MONOTONIC) + timeout_usec, &mask, &status))
                mirror_child(status);
        write_status("timeout");
        log_error("Stopping the analysis: it ran past its time limit of %" PRIu64 " s.", timeout_usec / USEC_PER_SEC);
        signal_payload(payload, SIGTERM);
        if (!wait_until(pid, now_usec(CLOCK_MONOTONIC) + grace_usec, &mask, &status)) {
                (void) cgroup_write(payload, "cgroup.kill", "1");
                (void) waitpid(pid, &status, 0);
        }
        _exit(EXIT_RUNNER_TIMEOUT);
}

/* An account of the analysis' own (DynamicUser=) has no home, and systemd sets no $HOME for it; a shared one
 * may name one that does not exist (/nonexistent). Python's expanduser(), IPython, Jupyter's runtime directory
 * and matplotlib's cache all need one they can write: a fresh one in the analysis' private /tmp. */
static int ensure_home(void) {
        const char *home = getenv("HOME");
        const char *tmp = getenv("TMPDIR") ?: "/tmp";
        _cleanup_free_ char *path = NULL;

        if (home && home[0] == '/' && access(home, W_OK) >= 0)
                return 0;
        path = strprintf("%s/home", tmp);
        if (!path)
                return -ENOMEM;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        return setenv("HOME", path, 1) < 0 ? -errno : 0;
}

/* CPUs this process may run on (its affinity, which AllowedCPUs= and cpusets narrow), at least 1. */
static unsigned usable_cpus(void) {
        cpu_set_t set;

        if (sched_getaffinity(0, sizeof(set), &set) < 0)
                return 1;
        return CPU_COUNT(&set) > 0 ? (unsigned) CPU_COUNT(&set) : 1;
}

/* Sets the thread counts of the numerical libraries from the quota in force: the request's when it tightened
 * the profile's, else the unit's own cpu.max. */
static int apply_thread_counts(const Request *request) {
        _cleanup_free_ char *unit = NULL;
        uint64_t percent = UINT64_MAX;

        if (request && request->cpu_percent > 0)
                percent = request->cpu_percent;
        else if (cgroup_self_unit_path(&unit) >= 0)
                (void) cgroup_read_cpu_percent(unit, &percent);
        return thread_env_apply(thread_count_for_quota(percent, usable_cpus()));
}

/* What to do about a working directory the analysis' account cannot enter or read, after the message. */
static const char *workdir_hint(const char *cwd, int error) {
        if (strncmp(cwd, "/tmp/", 5) == 0 || strncmp(cwd, "/var/tmp/", 9) == 0)
                return " (analyses have a /tmp and /var/tmp of their own, see PrivateTmp=)";
        /* Debian 13 makes new home directories private (0700): the commonest case. */
        if (error == EACCES)
                return " (the analysis runs as that account, not as its caller: run it from a directory other "
                       "users can enter, not a private home directory)";
        return "";
}

/* analysis-run --copy-workdir: the analysis works in a copy of its directory inside its output directory, so
 * what it writes there reaches its caller (who copies it back) and nothing of the caller's is writable. */
static int enter_workdir_copy(const Request *request) {
        _cleanup_close_ int src_fd = -EBADF, dst_fd = -EBADF;
        const char *output = getenv("ANALYSIS_OUTPUT_DIR");
        TreeCopyOptions options = { .uid = (uid_t) -1, .gid = (gid_t) -1 };
        int r;

        if (!output)
                return fail(EXIT_CHDIR, 0, "cannot copy the working directory: no $ANALYSIS_OUTPUT_DIR");
        src_fd = open(request->cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src_fd < 0)
                return fail(EXIT_CHDIR, errno, "cannot open directory %s as user %s: %m%s", request->cwd,
                            strempty(getenv("USER")), workdir_hint(request->cwd, errno));
        dst_fd = open(output, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dst_fd < 0)
                return fail(EXIT_CHDIR, errno, "cannot open the output directory %s: %m", output);
        r = tree_copy_at(src_fd, dst_fd, &options, NULL);
        if (r == -ENOSPC || r == -EDQUOT)
                return fail(EXIT_CHDIR, -r, "cannot copy the working directory %s into the output directory: it holds "
                            "more than the analysis' Disk= limit", request->cwd);
        if (r < 0)
                return fail(EXIT_CHDIR, -r, "cannot copy the working directory %s into the output directory: %m",
                            request->cwd);
        if (chdir(output) < 0)
                return fail(EXIT_CHDIR, errno, "cannot change to directory %s: %m", output);
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(request_freep) Request *request = NULL;
        _cleanup_(unit_state_freep) UnitState *state = NULL;
        _cleanup_free_ char *payload = NULL;
        const char *id = getenv("ANALYSIS_ID"), *profile = getenv("ANALYSIS_PROFILE");
        char **command;
        bool supervised;
        sigset_t stop_signals;
        uid_t account_uid = (uid_t) -1;
        gid_t account_gid = (gid_t) -1;
        int r;

        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGINT);

        log_open(LOG_TARGET_STDERR);
        openlog("analysis-exec", LOG_PID, LOG_USER);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EX_USAGE : EXIT_SUCCESS;

        if (arg_prepare) {
                /* A stop right after the start (analysisctl stop, Ctrl-C) must not cut the preparation short:
                 * analysis-record finish needs the caller, the profile and the request it leaves. */
                (void) sigprocmask(SIG_BLOCK, &stop_signals, NULL);
                r = runner_prepare(&arg_prepare_options, arg_private_tmp, &account_uid, &account_gid);
                if (r < 0)
                        return EXIT_FAILURE;
        }
        r = load_request(&request, &state);
        if (r < 0)
                return fail(EX_CONFIG, -r, "cannot read the checked request in %s: %m", strempty(arg_state_dir));
        if (arg_prepare) {
                /* The snapshot is root's: read while still root, and nothing of root's is left after it. */
                r = runner_become_account(account_uid, account_gid);
                if (r < 0)
                        return fail(EXIT_USER, -r, "cannot become the analysis' account (uid %u): %m",
                                    (unsigned) account_uid);
                /* A stop that came meanwhile ends the runner here, before the command starts. */
                (void) sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);
        }
        command = request ? request->argv : argv + optind;
        if (!command[0])
                return fail(EX_CONFIG, 0,
                            "analysis '%s' has no command: profile '%s' has no Exec= and none was given "
                            "(set Exec= in the profile, or start the analysis with analysis-run)",
                            id ?: "?", profile ?: "?");
        (void) ensure_home();
        if (!request) {
                if (apply_thread_counts(NULL) < 0) {
                        log_oom();
                        return EXIT_EXEC;
                }
                if (setup_payload_cgroup(NULL, false, &payload) < 0)
                        log_warning("Analysis '%s' runs without room kept in its cgroup for the recorder: a fork "
                                    "bomb may cost its record.", strempty(id));
                execv(command[0], command);
                return fail(EXIT_EXEC, errno, "cannot execute %s: %m", command[0]);
        }

        if (request->copy_workdir) {
                r = enter_workdir_copy(request);
                if (r != 0)
                        return r;
        } else if (chdir(request->cwd) < 0)
                return fail(EXIT_CHDIR, errno, "cannot change to directory %s as user %s: %m%s", request->cwd,
                            strempty(getenv("USER")), workdir_hint(request->cwd, errno));
        STRV_FOREACH(e, request->environment)
                if (putenv(*e) < 0) {
                        log_oom();
                        return EXIT_EXEC;
                }
        /* After the caller's environment, whose own thread counts win. */
        if (apply_thread_counts(request) < 0) {
                log_oom();
                return EXIT_EXEC;
        }

        supervised = request->timeout_usec > 0 && state && request->timeout_usec < state->runtime_max_usec;
        r = setup_payload_cgroup(request, supervised, &payload);
        if (r < 0 && payload_required(request, supervised))
                return fail(EXIT_CGROUP, -r, "cannot apply the limits of this analysis to its cgroup: %m");
        if (r < 0)
                log_warning("Analysis '%s' runs without room kept in its cgroup for the recorder: a fork bomb may "
                            "cost its record.", strempty(id));
        if (supervised)
                supervise(command, payload, request->timeout_usec, state->kill_grace_usec);

        execv(command[0], command);
        return fail(EXIT_EXEC, errno, "cannot execute %s: %m", command[0]);
}
