/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-slurm-job: the Slurm backend's runner inside the job; runs one analysis and writes its record.
 *
 * analysis-run --backend=slurm submits "exec analysis-slurm-job --kill-grace=USEC DIR ID" as the batch job.
 * DIR/ID/ holds the request and the record skeleton analysis-run wrote. The command runs as
 * --fallback=rlimit runs it (fallback-rlimit.c: its own process group, the exact wall-clock limit with
 * SIGTERM, the grace and SIGKILL) but without rlimits: Slurm's job cgroup bounds memory and CPUs, and the task
 * limit is the kernel's where our Prolog set pids.max, ours by counting otherwise (slurm-tasks.c). SIGTERM
 * (analysis-run's scancel --batch) cancels it gracefully. When it has ended, the figures come from the step's
 * cgroup (memory.peak, memory.events, cpu.stat: exact, unlike Slurm's sampled MaxRSS), and the record goes to
 * DIR/ID.json atomically, where analysis-run waits for it. An analysis cancelled before its job started
 * (DIR/ID/cancel exists) is not run at all.
 *
 * Usage: analysis-slurm-job --kill-grace=USEC DIR ID */

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "analysis-id.h"
#include "cgroup-util.h"
#include "entry-file.h"
#include "fallback-rlimit.h"
#include "fallback-run.h"
#include "fs-util.h"
#include "log.h"
#include "parse-value.h"
#include "profile.h"
#include "record-file.h"
#include "request.h"
#include "slurm-samples.h"
#include "slurm-tasks.h"
#include "strv.h"
#include "thread-env.h"
#include "time-util.h"
#include "tree-copy.h"

/* The step's cgroup, whose memory.max is the job's --mem: our own minus the task_N level Slurm puts each task
 * in (.../job_J/step_batch/user/task_0 → .../user). */
static int step_cgroup(char **ret) {
        _cleanup_free_ char *path = NULL;
        char *slash;
        int r;

        r = cgroup_self_unit_path(&path);
        if (r < 0)
                return r;
        slash = strrchr(path, '/');
        if (slash && strncmp(slash + 1, "task_", 5) == 0)
                *slash = '\0';
        *ret = TAKE_PTR(path);
        return 0;
}

/* Exact figures from the cgroup; an OOM kill of any process of it, even with exit status 0, decides the
 * result (Slurm would lose the exit status; the local backend's analysis-record does the same). */
static void read_cgroup(Record *record) {
        _cleanup_free_ char *cgroup = NULL;
        uint64_t v;

        if (step_cgroup(&cgroup) < 0)
                return;
        if (cgroup_read_uint(cgroup, "memory.peak", &v) >= 0)
                record->usage.memory_peak = v;
        if (cgroup_read_keyed(cgroup, "cpu.stat", "usage_usec", &v) >= 0)
                record->usage.cpu_usec = v;
        if (cgroup_read_keyed(cgroup, "memory.events", "oom_kill", &v) >= 0) {
                record->usage.oom_kills = v;
                if (v > 0 && !record->error) {
                        free(record->result);
                        record->result = strdup("oom-kill");
                }
        }
}

/* SampleInterval= of the node's analysis-sandbox.conf; its default where the file cannot be read. */
static uint64_t sample_interval_usec(void) {
        _cleanup_(global_config_freep) GlobalConfig *config = NULL;
        _cleanup_(config_error_clear) ConfigError error = {};

        if (global_config_find_and_load(RUNTIME_SCOPE_SYSTEM, &config, &error) < 0 ||
            !config->settings[GLOBAL_RECORDS_SAMPLE_INTERVAL].set)
                return SAMPLES_DEFAULT_INTERVAL_USEC;
        return config->settings[GLOBAL_RECORDS_SAMPLE_INTERVAL].number;
}

static int read_inputs(int dir_fd, const char *dir, const char *id, Record *ret_record, Request **ret_request) {
        _cleanup_free_ char *name = strprintf("%s/record.json", id), *req = strprintf("%s/request", id), *data = NULL,
                            *reason = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size = 0;
        int r;

        if (!name || !req)
                return log_oom();
        r = entry_file_read_at(dir_fd, req, getuid(), &data, &size, &reason);
        if (r >= 0)
                r = request_parse(data, size, ret_request, &reason);
        if (r < 0)
                return log_error_errno(r, "Cannot read the request %s/%s: %s", dir, req, reason ?: strerror(-r));
        free(data);
        data = NULL;
        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open %s/%s: %m", dir, name);
        data = malloc(RECORD_FILE_MAX);
        if (!data)
                return log_oom();
        {
                ssize_t n = read(fd, data, RECORD_FILE_MAX);

                if (n < 0)
                        return log_error_errno(errno, "Cannot read %s/%s: %m", dir, name);
                size = (size_t) n;
        }
        r = record_parse_json(data, size, ret_record, &reason);
        if (r < 0)
                return log_error_errno(r, "Cannot parse %s/%s: %s", dir, name, reason ?: strerror(-r));
        return 0;
}

static int run(const char *dir, const char *id, uint64_t kill_grace_usec) {
        _cleanup_(request_freep) Request *request = NULL;
        _cleanup_(record_done) Record record;
        _cleanup_close_ int dir_fd = -EBADF, out_fd = -EBADF, err_fd = -EBADF;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        RlimitOutcome outcome = {};
        _cleanup_(slurm_tasks_done) SlurmTasks tasks = {};
        _cleanup_(slurm_samples_done) SlurmSamples samples = {};
        const char *job = getenv("SLURM_JOB_ID"), *node = getenv("SLURMD_NODENAME");
        struct passwd *pw = getpwuid(getuid());
        char host[256];
        int r;

        record_init(&record);
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return log_error_errno(errno, "Cannot open %s: %m", dir);
        r = read_inputs(dir_fd, dir, id, &record, &request);
        if (r < 0)
                return r;
        if (!record.stdout_file || !record.stderr_file || !record.output_dir || !record.invocation_id ||
            !record.profile || strcmp(record.id, id) != 0)
                return log_error_errno(EBADMSG, "%s/%s/record.json lacks what the job needs.", dir, id);
        if (job)
                (void) parse_uint64(job, &record.slurm_job_id);
        if (!node && gethostname(host, sizeof(host)) >= 0) {
                host[sizeof(host) - 1] = '\0';
                node = host;
        }
        record.node = node ? strdup(node) : NULL;

        out_fd = open(record.stdout_file, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        err_fd = open(record.stderr_file, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (out_fd < 0 || err_fd < 0)
                return log_error_errno(errno, "Cannot open the output files of analysis %s in %s: %m", id, dir);
        r = fallback_build_environment(&(FallbackRequest) { .scope = RUNTIME_SCOPE_USER, .id = id, .request = request },
                                       record.profile, pw, record.invocation_id, record.output_dir,
                                       thread_count_for_quota(record.limits.cpu_quota_percent,
                                                              (unsigned) MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L)),
                                       &env);
        if (r < 0)
                return log_oom();
        r = sd_event_new(&event);
        if (r < 0)
                return log_error_errno(r, "Cannot make an event loop: %m");

        /* analysis-run asked to cancel it while the job was still pending, and scancel came too late. */
        {
                _cleanup_free_ char *marker = strprintf("%s/cancel", id);

                if (!marker)
                        return log_oom();
                if (faccessat(dir_fd, marker, F_OK, 0) >= 0) {
                        free(record.result);
                        record.result = strdup("cancelled");
                        record.finished_at_usec = now_usec(CLOCK_REALTIME);
                        if (!record.result)
                                return log_oom();
                        r = record_file_store(dir_fd, RUNTIME_SCOPE_USER, &record, NULL, NULL);
                        if (r < 0)
                                return log_error_errno(r, "Cannot write the record of analysis %s to %s: %m", id, dir);
                        return 0;
                }
        }

        r = slurm_tasks_init(&tasks, record.limits.tasks_max);
        if (r < 0)
                return log_oom();
        if (record.limits.tasks_max != RECORD_UNSET && tasks.job_cgroup) {
                record.slurm_tasks_limit = strdup(tasks.exact ? "exact" : "best-effort");
                if (!record.slurm_tasks_limit)
                        return log_oom();
                r = slurm_tasks_watch(&tasks, event);
                if (r < 0)
                        return log_error_errno(r, "Cannot watch the tasks of analysis %s: %m", id);
        }

        /* Sampled from here on, on this process' event loop, as analysis-sampler samples a local analysis. */
        {
                _cleanup_free_ char *cgroup = NULL;

                if (step_cgroup(&cgroup) >= 0) {
                        r = slurm_samples_start(&samples, event, cgroup, sample_interval_usec());
                        if (r < 0)
                                return log_error_errno(r, "Cannot sample analysis %s: %m", id);
                }
        }

        r = rlimit_run(event, &(RlimitSpec) {
                                .argv = request->argv,
                                .environment = env,
                                .cwd = request->cwd,
                                .stdout_fd = out_fd,
                                .stderr_fd = err_fd,
                                .timeout_usec = record.limits.runtime_max_usec != RECORD_UNSET
                                                        ? record.limits.runtime_max_usec : 0,
                                .kill_grace_usec = kill_grace_usec,
                        }, &outcome);
        if (r < 0)
                return log_error_errno(r, "Cannot run analysis %s: %m", id);
        out_fd = safe_close(out_fd);
        err_fd = safe_close(err_fd);

        record.started_at_usec = outcome.started_at_usec;
        record.finished_at_usec = now_usec(CLOCK_REALTIME);
        free(record.result);
        record.result = NULL;
        r = fallback_fill_outcome(&record, &outcome);
        if (r >= 0 && !outcome.error) {
                record.usage.runtime_usec = outcome.runtime_usec;
                record.usage.cpu_usec = outcome.cpu_usec;
                record.usage.memory_peak = outcome.max_rss_bytes;
                read_cgroup(&record);
                if (record.slurm_tasks_limit)
                        record.usage.tasks_limit_hits = slurm_tasks_limit_hits(&tasks);
        }
        rlimit_outcome_done(&outcome);
        if (r < 0 || !record.result)
                return log_oom();
        (void) read_file_tail(record.stderr_file, RECORD_STDERR_TAIL_MAX, &record.stderr_tail);
        {
                _cleanup_close_ int fd = open(record.output_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                uint64_t used;

                if (fd >= 0 && tree_size_at(fd, &used) >= 0)
                        record.usage.disk_used = used;
        }
        /* The samples before the record, which names them; a failure is said in the record, never fatal. */
        r = slurm_samples_finish(&samples, dir_fd, dir, &record);
        if (r < 0)
                log_warning_errno(r, "Cannot store the samples of analysis %s in %s: %m", id, dir);
        r = record_file_store(dir_fd, RUNTIME_SCOPE_USER, &record, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot write the record of analysis %s to %s: %m", id, dir);
        return 0;
}

int main(int argc, char *argv[]) {
        uint64_t kill_grace_usec = 10 * USEC_PER_SEC;

        log_open(LOG_TARGET_STDERR);
        if (argc != 4 || strncmp(argv[1], "--kill-grace=", 13) != 0 ||
            parse_uint64(argv[1] + 13, &kill_grace_usec) < 0 || !analysis_id_is_valid(argv[3])) {
                log_error("Usage: %s --kill-grace=USEC DIR ID (run by analysis-run --backend=slurm as a Slurm job)",
                          program_invocation_short_name);
                return EXIT_FAILURE;
        }
        /* A reader of our output files going away must not take us along. */
        (void) signal(SIGPIPE, SIG_IGN);
        /* Slurm calls the job running, and a stop may send SIGTERM, before we reach the command: blocked from
         * the first instruction, a cancel waits for rlimit_run() to take it, instead of killing us without a
         * record. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        return run(argv[2], argv[3], kill_grace_usec) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
