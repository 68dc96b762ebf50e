/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-run --fallback=rlimit: one analysis run without a service manager, from its profile to its record.
 *
 * Where no systemd can be reached (a container, a laptop without systemd) and the caller asked for it, the
 * profile is read here as analysis-generator reads it, its limits become setrlimit() limits and a timer
 * (fallback-rlimit.c), the output goes to the same files, followed as in the systemd path, and the record is
 * written by us rather than by the unit, with "isolation": "rlimit" and notes that say what that means. */

#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "analysis-id.h"
#include "exit-status.h"
#include "fallback-rlimit.h"
#include "fallback-run.h"
#include "fs-util.h"
#include "log.h"
#include "output-follow.h"
#include "parse-value.h"
#include "paths.h"
#include "profile-search.h"
#include "record-file.h"
#include "result-access.h"
#include "strv.h"
#include "thread-env.h"
#include "tree-copy.h"
#include "time-util.h"

/* The PATH systemd gives services (systemd.exec(5)). */
#define SERVICE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"

static uint64_t setting_or_unset(const Setting *s) {
        return s->set && !s->infinity ? s->number : RECORD_UNSET;
}

int fallback_profile_load(RuntimeScope scope, const char *name, FallbackProfile *ret) {
        _cleanup_strv_free_ char **dirs = NULL, **warnings = NULL;
        _cleanup_(config_error_clear) ConfigError error = {};
        _cleanup_free_ char *joined = NULL, *text = NULL;
        _cleanup_(profile_freep) Profile *p = NULL;
        const Setting *memory;
        int r;

        r = profile_search_dirs(scope, &dirs);
        if (r < 0)
                return log_error_errno(r, "Cannot search for profile '%s': %m", name), EXIT_SETUP_UNAVAILABLE;
        r = profile_find_and_load(dirs, name, scope, &warnings, NULL, &p, &error);
        STRV_FOREACH(w, warnings)
                log_warning("%s", *w);
        if (r == -ENOMEM)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        if (r < 0) {
                text = config_error_to_string(&error);
                log_error("%s: profile '%s' cannot be used.", text ?: "Out of memory", name);
                return EXIT_SETUP_UNKNOWN_PROFILE;
        }
        if (r != CONFIG_LOADED) {
                STRV_FOREACH(d, dirs) {
                        char *j = strprintf("%s%s%s", strempty(joined), joined ? ", " : "", *d);

                        if (!j)
                                return log_oom(), EXIT_SETUP_UNAVAILABLE;
                        free(joined);
                        joined = j;
                }
                log_error("Unknown profile '%s': %s (searched %s).", name,
                          r == CONFIG_MASKED ? "it is masked" : "no such file", strempty(joined));
                return EXIT_SETUP_UNKNOWN_PROFILE;
        }

        memory = &p->settings[PROFILE_MEMORY];
        *ret = (FallbackProfile) {
                .limits = {
                        .memory_max = setting_or_unset(memory),
                        .cpu_quota_percent = setting_or_unset(&p->settings[PROFILE_CPU]),
                        .tasks_max = setting_or_unset(&p->settings[PROFILE_TASKS]),
                        .runtime_max_usec = setting_or_unset(&p->settings[PROFILE_RUNTIME]),
                        /* Only reported: Disk= needs systemd's help (a tmpfs), see fallback_run(). */
                        .disk_max = setting_or_unset(&p->settings[PROFILE_DISK]),
                },
                .kill_grace_usec = p->settings[PROFILE_KILL_GRACE].number,
        };
        /* As systemd resolves MemoryMax=N%: against the machine's physical memory. */
        if (memory->set && memory->percent && physical_memory() != RECORD_UNSET)
                ret->limits.memory_max = physical_memory() / 100 * memory->number;
        if (p->settings[PROFILE_DISK].percent && physical_memory() != RECORD_UNSET)
                ret->limits.disk_max = physical_memory() / 100 * p->settings[PROFILE_DISK].number;
        ret->profile = TAKE_PTR(p);
        return 0;
}

void fallback_profile_done(FallbackProfile *p) {
        profile_free(p->profile);
        *p = (FallbackProfile) {};
}

static uint64_t tighter(uint64_t requested, uint64_t profile) {
        return requested > 0 && (profile == RECORD_UNSET || requested < profile) ? requested : profile;
}

/* RLIMIT_CPU in whole seconds for a quota over a time limit: what the quota would allow in that time, at
 * least a second; 0 when there is no time limit to derive it from. */
static uint64_t cpu_time_seconds(const RecordLimits *l) {
        uint64_t seconds;

        if (l->runtime_max_usec == RECORD_UNSET || l->cpu_quota_percent == RECORD_UNSET)
                return 0;
        seconds = (l->runtime_max_usec + USEC_PER_SEC - 1) / USEC_PER_SEC;
        if (seconds > UINT64_MAX / 100 / (l->cpu_quota_percent + 1))
                return 0;
        seconds = (seconds * l->cpu_quota_percent + 99) / 100;
        return seconds > 0 ? seconds : 1;
}

/* A service's environment (systemd.exec(5)): PATH, LANG, the account's HOME, USER, LOGNAME and SHELL, the
 * unit's ANALYSIS_ID, ANALYSIS_PROFILE and ANALYSIS_OUTPUT_DIR, INVOCATION_ID, the thread counts; then the
 * caller's -E assignments over them. */
int fallback_build_environment(const FallbackRequest *req, const char *profile, const struct passwd *pw,
                               const char *invocation_id, const char *output_dir, unsigned threads, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        const char *lang = getenv("LANG");
        int r;

        r = strv_consume(&env, strprintf("PATH=%s", SERVICE_PATH));
        if (r >= 0 && lang)
                r = strv_consume(&env, strprintf("LANG=%s", lang));
        if (r >= 0 && pw) {
                r = strv_consume(&env, strprintf("HOME=%s", pw->pw_dir));
                if (r >= 0)
                        r = strv_consume(&env, strprintf("USER=%s", pw->pw_name));
                if (r >= 0)
                        r = strv_consume(&env, strprintf("LOGNAME=%s", pw->pw_name));
                if (r >= 0)
                        r = strv_consume(&env, strprintf("SHELL=%s", pw->pw_shell));
        }
        if (r >= 0)
                r = strv_consume(&env, strprintf("INVOCATION_ID=%s", invocation_id));
        if (r >= 0)
                r = strv_consume(&env, strprintf("ANALYSIS_ID=%s", req->id));
        if (r >= 0)
                r = strv_consume(&env, strprintf("ANALYSIS_PROFILE=%s", profile));
        if (r >= 0)
                r = strv_consume(&env, strprintf("ANALYSIS_OUTPUT_DIR=%s", output_dir));
        /* As analysis-exec does in a unit: the thread counts of the numerical libraries follow the quota. */
        for (const char * const *name = thread_env_names; r >= 0 && threads > 0 && *name; name++)
                r = strv_consume(&env, strprintf("%s=%u", *name, threads));
        if (r < 0)
                return r;
        STRV_FOREACH(a, req->request->environment) {
                size_t n = strcspn(*a, "=") + 1;

                for (char **e = env; *e; e++)
                        if (strncmp(*e, *a, n) == 0) {
                                free(*e);
                                /* Drop it, keeping the order of the rest. */
                                memmove(e, e + 1, (strv_length(e + 1) + 1) * sizeof(char *));
                                break;
                        }
                r = strv_extend(&env, *a);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

/* 128 random bits in hex, like systemd's invocation ids: the record's mark of this very run. */
static int make_invocation_id(char ret[static 33]) {
        uint8_t bytes[16];

        if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
                return -errno;
        id128_to_string(bytes, ret);
        return 0;
}

/* Opens results/ID.stdout and ID.stderr for the command, empty, and takes away an earlier record. The lock on
 * the stdout file is held as long as any process of the analysis has it open: it tells a second run with the
 * same id that this one is still going. Returns 0, or an exit status after logging. */
static int open_outputs(int results_fd, const char *results_dir, RuntimeScope scope, const char *id, int *ret_stdout,
                        int *ret_stderr) {
        _cleanup_free_ char *out = strprintf("%s.stdout", id), *err = strprintf("%s.stderr", id),
                            *json = strprintf("%s.json", id);
        _cleanup_close_ int out_fd = -EBADF, err_fd = -EBADF;
        const int flags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;

        if (!out || !err || !json)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        out_fd = openat(results_fd, out, flags, 0644);
        if (out_fd >= 0 && flock(out_fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK) {
                        log_error("Analysis %s is already running (another analysis-run --fallback=rlimit writes "
                                  "%s/%s).", id, results_dir, out);
                        return EXIT_SETUP_BUSY;
                }
                out_fd = safe_close(out_fd);
        }
        if (out_fd >= 0)
                err_fd = openat(results_fd, err, flags, 0644);
        if (out_fd < 0 || err_fd < 0 || ftruncate(out_fd, 0) < 0 || ftruncate(err_fd, 0) < 0 ||
            result_access_restrict(out_fd, scope, getuid()) < 0 || result_access_restrict(err_fd, scope, getuid()) < 0 ||
            (unlinkat(results_fd, json, 0) < 0 && errno != ENOENT)) {
                log_error_errno(errno, "Cannot create the output files of analysis %s in %s: %m", id, results_dir);
                return errno == EACCES || errno == EPERM ? EXIT_SETUP_PERMISSION : EXIT_SETUP_UNAVAILABLE;
        }
        *ret_stdout = TAKE_FD(out_fd);
        *ret_stderr = TAKE_FD(err_fd);
        return 0;
}

/* How it ended, in the words systemd uses for a service (systemd.exec(5), $SERVICE_RESULT and $EXIT_CODE). An
 * OOM kill cannot be told apart without a cgroup: RLIMIT_AS makes allocations fail instead, and a kill by the
 * kernel's OOM killer looks like any SIGKILL. So "oom-kill" is never claimed here. */
int fallback_fill_outcome(Record *r, const RlimitOutcome *o) {
        const char *result;
        int status = o->status;

        if (o->error) {
                r->error = strdup(o->error);
                r->result = strdup("exit-code");
                return r->error && r->result ? 0 : -ENOMEM;
        }
        if (WIFEXITED(status)) {
                r->exit_code = strdup("exited");
                r->exit_status = WEXITSTATUS(status);
                result = WEXITSTATUS(status) == 0 ? "success" : "exit-code";
        } else {
                r->exit_code = strdup(WCOREDUMP(status) ? "dumped" : "killed");
                r->signal = strdup(strempty(sigabbrev_np(WTERMSIG(status))));
                result = WCOREDUMP(status) ? "core-dump" : "signal";
                if (!r->signal)
                        return -ENOMEM;
        }
        if (o->timed_out)
                result = "timeout";
        else if (o->cancel_signal > 0)
                result = "cancelled";
        r->result = strdup(result);
        return r->exit_code && r->result ? 0 : -ENOMEM;
}

/* The account the analysis runs as: the profile's User= when we are root for the system scope (as its unit
 * would), ourselves otherwise. Returns 0, or an exit status after logging. */
static int find_account(const FallbackProfile *p, const FallbackRequest *req, struct passwd **ret, bool *ret_switch) {
        const Setting *user = &p->profile->settings[PROFILE_USER];
        const char *name;
        struct passwd *pw;
        uint64_t uid;

        *ret_switch = false;
        if (req->scope != RUNTIME_SCOPE_SYSTEM) {
                *ret = getpwuid(getuid());
                return 0;
        }
        if (geteuid() != 0) {
                log_error("Permission denied: without systemd, only root can run analyses for the system (to run "
                          "them as the profile's account and write /var/lib/analysis-sandbox/results). Use --user.");
                return EXIT_SETUP_PERMISSION;
        }
        /* Without systemd there are no accounts made per analysis (DynamicUser=): a profile without User= runs
         * its analyses as the shared account the package creates. */
        name = user->set ? user->text : PROFILE_FALLBACK_ACCOUNT;
        errno = 0;
        pw = parse_uint64(name, &uid) >= 0 ? getpwuid((uid_t) uid) : getpwnam(name);
        if (!pw) {
                log_error("No account '%s' (User= of profile '%s') on this machine.", name, p->profile->name);
                return EXIT_SETUP_UNAVAILABLE;
        }
        *ret = pw;
        *ret_switch = pw->pw_uid != 0;
        return 0;
}

/* RESULTS/ID.output, fresh, owned by the account the analysis runs as; with --copy-workdir a copy of the working
 * directory, which then becomes the analysis' own. Disk= is not enforced: no tmpfs without systemd's help.
 * Returns 0 or an exit status after logging. */
static int make_output_dir(int results_fd, const FallbackRequest *req, const struct passwd *pw, char **ret_path,
                           char **ret_cwd) {
        _cleanup_free_ char *name = strprintf("%s.output", req->id), *results_dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = analysis_results_dir(req->scope, &results_dir);
        if (r < 0 || !name)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        fd = tree_make_fresh_at(results_fd, name, 0700);
        r = fd < 0 ? fd : 0;
        if (r >= 0 && req->request->copy_workdir) {
                _cleanup_close_ int src_fd = open(req->request->cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                r = src_fd < 0 ? -errno
                               : tree_copy_at(src_fd, fd, &(TreeCopyOptions) { .uid = (uid_t) -1, .gid = (gid_t) -1 }, NULL);
                if (r < 0)
                        return log_error_errno(r, "Cannot copy the working directory %s into %s/%s: %m",
                                               req->request->cwd, results_dir, name), EXIT_SETUP_UNAVAILABLE;
        }
        if (r >= 0 && pw && pw->pw_uid != geteuid() && fchown(fd, pw->pw_uid, pw->pw_gid) < 0)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Cannot make the output directory %s/%s: %m", results_dir, name),
                       EXIT_SETUP_UNAVAILABLE;
        *ret_path = strprintf("%s/%s", results_dir, name);
        *ret_cwd = strdup(req->request->copy_workdir ? *ret_path : req->request->cwd);
        return *ret_path && *ret_cwd ? 0 : (log_oom(), EXIT_SETUP_UNAVAILABLE);
}

int fallback_run(const FallbackProfile *p, const FallbackRequest *req, sd_event *event, Record *ret_record,
                 char **ret_json, size_t *ret_json_size, int *ret_cancel_signal) {
        _cleanup_free_ char *results_dir = NULL, *json = NULL, *user_name = NULL, *output_dir = NULL, *cwd = NULL;
        _cleanup_(output_follow_freep) OutputFollow *out = NULL, *err = NULL;
        _cleanup_close_ int results_fd = -EBADF, stdout_fd = -EBADF, stderr_fd = -EBADF;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_(record_done) Record record;
        RlimitOutcome outcome = {};
        struct passwd *pw = NULL;
        char invocation_id[33];
        bool switch_user, as_root;
        RlimitSpec spec;
        size_t json_size = 0;
        int r;

        record_init(&record);
        r = find_account(p, req, &pw, &switch_user);
        if (r != 0)
                return r;
        if (pw) {
                user_name = strdup(pw->pw_name);
                if (!user_name)
                        return log_oom(), EXIT_SETUP_UNAVAILABLE;
        }
        /* RLIMIT_NPROC binds no process of root (nor one with CAP_SYS_RESOURCE): then it is left out, and the
         * notes say so. */
        as_root = switch_user ? pw->pw_uid == 0 : geteuid() == 0;

        r = analysis_results_dir(req->scope, &results_dir);
        if (r < 0)
                return log_error_errno(r, "Cannot find the results directory of the user's analyses ($XDG_STATE_HOME "
                                       "or $HOME): %m"), EXIT_SETUP_UNAVAILABLE;
        r = mkdir_p(results_dir, req->scope == RUNTIME_SCOPE_SYSTEM ? 0755 : 0700);
        if (r >= 0) {
                results_fd = open(results_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = results_fd < 0 ? -errno : 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot create %s: %m", results_dir),
                       r == -EACCES || r == -EPERM ? EXIT_SETUP_PERMISSION : EXIT_SETUP_UNAVAILABLE;
        r = open_outputs(results_fd, results_dir, req->scope, req->id, &stdout_fd, &stderr_fd);
        if (r != 0)
                return r;

        record.id = strdup(req->id);
        record.profile = strdup(p->profile->name);
        record.isolation = strdup("rlimit");
        record.stdout_file = strprintf("%s/%s.stdout", results_dir, req->id);
        record.stderr_file = strprintf("%s/%s.stderr", results_dir, req->id);
        r = make_invocation_id(invocation_id);
        if (r < 0)
                return log_error_errno(r, "Cannot make an invocation id: %m"), EXIT_SETUP_UNAVAILABLE;
        record.invocation_id = strdup(invocation_id);
        /* No cgroup to read, and no one to read it while the command runs but this process, which only waits:
         * the record says so rather than guess from /proc. */
        record.samples_missing = strdup("without systemd (--fallback=rlimit) there is no cgroup to sample: no usage "
                                        "over time");
        if (!record.id || !record.profile || !record.isolation || !record.stdout_file || !record.stderr_file ||
            !record.invocation_id || !record.samples_missing)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        record.caller_uid = getuid();
        record.profile_limits = p->limits;
        record.limits = (RecordLimits) {
                .memory_max = tighter(req->request->memory_max, p->limits.memory_max),
                .cpu_quota_percent = tighter(req->request->cpu_percent, p->limits.cpu_quota_percent),
                .tasks_max = as_root ? RECORD_UNSET : tighter(req->request->tasks_max, p->limits.tasks_max),
                .runtime_max_usec = tighter(req->request->timeout_usec, p->limits.runtime_max_usec),
                .disk_max = RECORD_UNSET,       /* no tmpfs to bound it without systemd */
        };
        r = make_output_dir(results_fd, req, pw, &output_dir, &cwd);
        if (r != 0)
                return r;
        record.output_dir = strdup(output_dir);
        if (!record.output_dir)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        r = fallback_build_environment(req, p->profile->name, pw, invocation_id, output_dir,
                              thread_count_for_quota(record.limits.cpu_quota_percent,
                                                     (unsigned) MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L)),
                              &env);
        if (r < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;

        /* A reader of our output that goes away must not take the supervisor with it: the analysis would go
         * on without its time limit (output-follow.c stops copying on EPIPE). The command gets SIG_DFL back. */
        (void) signal(SIGPIPE, SIG_IGN);
        /* The command writes to the files, and we follow them as in the systemd path: the files are complete
         * even if we are killed, and nothing passes through a pipe that could fill up. */
        r = output_follow_new(&out, event, record.stdout_file, STDOUT_FILENO);
        if (r >= 0)
                r = output_follow_new(&err, event, record.stderr_file, STDERR_FILENO);
        if (r < 0)
                return log_error_errno(r, "Cannot follow the output files of analysis %s: %m", req->id),
                       EXIT_SETUP_UNAVAILABLE;

        spec = (RlimitSpec) {
                .argv = req->request->argv,
                .environment = env,
                .cwd = cwd,
                .switch_user = switch_user,
                .user_name = user_name,
                .uid = pw ? pw->pw_uid : getuid(),
                .gid = pw ? pw->pw_gid : getgid(),
                .stdout_fd = stdout_fd,
                .stderr_fd = stderr_fd,
                .address_space_max = record.limits.memory_max != RECORD_UNSET ? record.limits.memory_max : 0,
                .cpu_time_max_sec = cpu_time_seconds(&record.limits),
                .processes_max = record.limits.tasks_max != RECORD_UNSET ? record.limits.tasks_max : 0,
                .timeout_usec = record.limits.runtime_max_usec != RECORD_UNSET ? record.limits.runtime_max_usec : 0,
                .kill_grace_usec = p->kill_grace_usec,
        };
        log_debug("Running analysis %s without systemd: RLIMIT_AS=%" PRIu64 " RLIMIT_CPU=%" PRIu64 " RLIMIT_NPROC=%"
                  PRIu64 " timeout=%" PRIu64 "us grace=%" PRIu64 "us", req->id, spec.address_space_max,
                  spec.cpu_time_max_sec, spec.processes_max, spec.timeout_usec, spec.kill_grace_usec);
        r = rlimit_run(event, &spec, &outcome);
        /* Our copies: the command's processes hold their own, and with them the lock. */
        stdout_fd = safe_close(stdout_fd);
        stderr_fd = safe_close(stderr_fd);
        (void) output_follow_drain(out);
        (void) output_follow_drain(err);
        if (r < 0)
                return log_error_errno(r, "Cannot run analysis %s: %m", req->id), EXIT_SETUP_UNAVAILABLE;

        record.started_at_usec = outcome.started_at_usec;
        record.finished_at_usec = now_usec(CLOCK_REALTIME);
        r = fallback_fill_outcome(&record, &outcome);
        if (r >= 0 && !outcome.error) {
                record.usage.runtime_usec = outcome.runtime_usec;
                record.usage.cpu_usec = outcome.cpu_usec;
                record.usage.memory_peak = outcome.max_rss_bytes;
        }
        *ret_cancel_signal = outcome.cancel_signal;
        rlimit_outcome_done(&outcome);
        if (r < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        (void) read_file_tail(record.stderr_file, RECORD_STDERR_TAIL_MAX, &record.stderr_tail);
        {
                _cleanup_close_ int fd = open(output_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                uint64_t used;

                if (fd >= 0 && tree_size_at(fd, &used) >= 0)
                        record.usage.disk_used = used;
        }

        r = record_file_store(results_fd, req->scope, &record, &json, &json_size);
        if (r < 0) {
                log_error_errno(r, "Cannot write the record of analysis %s to %s: %m", req->id, results_dir);
                return EXIT_SETUP_NO_RECORD;
        }
        *ret_record = record;
        record_init(&record);
        *ret_json = TAKE_PTR(json);
        *ret_json_size = json_size;
        return 0;
}
