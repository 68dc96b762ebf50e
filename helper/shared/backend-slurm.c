/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Slurm backend of analysis-run: an analysis as a Slurm batch job, its files in the shared directory.
 *
 * Everything of analysis ID of the user with UID lives in SharedDirectory/UID/ (0700, the user's own: Slurm
 * runs the job as the user who submitted it, not as the profile's account): ID/ holds the request, the record
 * skeleton and the job's own log; ID.stdout, ID.stderr, ID.output/ and, at the end, ID.json sit beside it as
 * in a local results directory. The job runs analysis-slurm-job, which runs the command under the exact time
 * limit and writes ID.json; we follow the output files and wait for ID.json by polling (no inotify event
 * arrives for what another NFS client writes), asking squeue about once a minute whether the job still
 * exists. */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "analysis-id.h"
#include "atomic-file.h"
#include "backend.h"
#include "config.h"
#include "exit-status.h"
#include "fs-util.h"
#include "log.h"
#include "output-follow.h"
#include "parse-value.h"
#include "record-file.h"
#include "strv.h"
#include "time-util.h"
#include "tree-copy.h"

/* Polling the record: from POLL_MIN, growing by half each time, to POLL_MAX. */
#define POLL_MIN_USEC (200 * UINT64_C(1000))
#define POLL_MAX_USEC (2 * USEC_PER_SEC)
/* At most one squeue a minute per analysis: three controller RPCs (FINDINGS.md (d)). */
#define SQUEUE_INTERVAL_USEC (60 * USEC_PER_SEC)
/* After a stop, ours or another process' (its cancel marker): squeue this soon, not at the next minute. */
#define STOPPED_SQUEUE_DELAY_USEC (5 * USEC_PER_SEC)
/* How long a job squeue no longer lists as alive may take to show its record (NFS, the runner's last write). */
#define GONE_GRACE_USEC (15 * USEC_PER_SEC)
/* Slurm's --time above our own limit: the runner stops the analysis exactly, Slurm only if the runner fails. */
#define TIME_MARGIN_SEC 60

struct BackendAnalysis {
        char *id;
        char *user_dir;         /* SharedDirectory/UID */
        int user_fd;
        uint64_t job_id;
        char *stdout_file;
        char *stderr_file;
        Record skeleton;        /* what the job starts from, for a record written by us */
        int cancel_signal;
        bool cancelled;         /* we asked Slurm to cancel it */
        bool cancelled_pending; /* ... while it was still pending: it never runs, our record says so */
        /* while waiting */
        sd_event *event;
        sd_event_source *timer;
        OutputFollow *out;
        OutputFollow *err;
        uint64_t poll_usec;
        uint64_t next_squeue_usec;
        uint64_t gone_since_usec;       /* 0: squeue still lists it alive */
        char *gone_state;
        Record *record;
        char **json;
        size_t *json_size;
        int status;
        bool attached;          /* by slurm_attach() for analysisctl: no output copied */
};

static BackendAnalysis *slurm_free(BackendAnalysis *a) {
        if (!a)
                return NULL;
        output_follow_free(a->out);
        output_follow_free(a->err);
        if (a->user_fd >= 0)
                (void) close(a->user_fd);
        record_done(&a->skeleton);
        free(a->id);
        free(a->user_dir);
        free(a->stdout_file);
        free(a->stderr_file);
        free(a->gone_state);
        free(a);
        return NULL;
}

/* Finds name in $PATH. Returns 0 with the path, or -ENOENT. */
static int find_program(const char *name, char **ret) {
        _cleanup_strv_free_ char **dirs = NULL;
        int r;

        r = strv_split(getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin", ":", &dirs);
        if (r < 0)
                return r;
        STRV_FOREACH(d, dirs) {
                _cleanup_free_ char *p = strprintf("%s/%s", *d, name);

                if (!p)
                        return -ENOMEM;
                if ((*d)[0] == '/' && access(p, X_OK) >= 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

static int read_memfd(int fd, char **ret) {
        struct stat st;
        char *buf;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return -errno;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        n = pread(fd, buf, (size_t) st.st_size, 0);
        if (n < 0) {
                free(buf);
                return -errno;
        }
        buf[n] = '\0';
        /* One line of a tool's answer reads better without its newline. */
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        *ret = buf;
        return 0;
}

/* Runs argv (argv[0] found in $PATH) with stdin /dev/null, and returns its stdout, stderr and wait status.
 * Returns 0, -ENOENT when there is no such program, or a negative errno. */
static int run_capture(char **argv, char **ret_out, char **ret_err, int *ret_status) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int out_fd = -EBADF, err_fd = -EBADF;
        int status, r;
        pid_t pid;

        r = find_program(argv[0], &path);
        if (r < 0)
                return r;
        out_fd = memfd_create("slurm-stdout", MFD_CLOEXEC);
        err_fd = memfd_create("slurm-stderr", MFD_CLOEXEC);
        if (out_fd < 0 || err_fd < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null_fd = open("/dev/null", O_RDONLY | O_NOCTTY);
                sigset_t none;

                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
                    dup2(err_fd, STDERR_FILENO) < 0)
                        _exit(127);
                execv(path, argv);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        r = read_memfd(out_fd, ret_out);
        if (r < 0)
                return r;
        r = read_memfd(err_fd, ret_err);
        if (r < 0) {
                free(*ret_out);
                return r;
        }
        *ret_status = status;
        return 0;
}

static uint64_t tighter(uint64_t requested, uint64_t profile) {
        return requested > 0 && (profile == RECORD_UNSET || requested < profile) ? requested : profile;
}

/* Takes away what an earlier analysis with the same id left, once it has its record. Returns 0, -EBUSY when
 * that one has none yet (it may still be queued or running), or a negative errno. */
static int remove_previous(int user_fd, const char *id) {
        static const char * const suffixes[] = { ".stdout", ".stderr", ".json" };
        _cleanup_free_ char *json = strprintf("%s.json", id), *output = strprintf("%s.output", id);
        struct stat st;
        int r;

        if (!json || !output)
                return -ENOMEM;
        if (fstatat(user_fd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstatat(user_fd, json, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? -EBUSY : -errno;
        r = tree_remove_at(user_fd, id);
        if (r >= 0)
                r = tree_remove_at(user_fd, output);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(suffixes); i++) {
                _cleanup_free_ char *name = strprintf("%s%s", id, suffixes[i]);

                if (!name)
                        return -ENOMEM;
                if (unlinkat(user_fd, name, 0) < 0 && errno != ENOENT)
                        r = -errno;
        }
        return r;
}

/* Undoes a submission that did not happen: nothing is left half-submitted. */
static void remove_submission(BackendAnalysis *a) {
        _cleanup_free_ char *output = strprintf("%s.output", a->id), *out = strprintf("%s.stdout", a->id),
                            *err = strprintf("%s.stderr", a->id);

        (void) tree_remove_at(a->user_fd, a->id);
        if (output)
                (void) tree_remove_at(a->user_fd, output);
        if (out)
                (void) unlinkat(a->user_fd, out, 0);
        if (err)
                (void) unlinkat(a->user_fd, err, 0);
}

/* SharedDirectory/UID, made 0700 if missing; refused unless it is ours and closed to others. Returns 0 or an
 * exit status after logging. */
static int open_user_dir(const Setting *shared, BackendAnalysis *a) {
        _cleanup_close_ int shared_fd = -EBADF;
        char uid[32];
        struct stat st;

        shared_fd = open(shared->text, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (shared_fd < 0)
                return log_error_errno(errno, "Cannot use [Slurm] SharedDirectory=%s (%s:%u): %m. It must be a "
                                       "directory every Slurm node mounts.", shared->text, strempty(shared->path),
                                       shared->line), EXIT_SETUP_UNAVAILABLE;
        (void) snprintf(uid, sizeof(uid), "%u", (unsigned) getuid());
        if (mkdirat(shared_fd, uid, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create %s/%s for your analyses ([Slurm] SharedDirectory= of "
                                       "%s:%u): %m", shared->text, uid, strempty(shared->path), shared->line),
                       errno == EACCES || errno == EPERM ? EXIT_SETUP_PERMISSION : EXIT_SETUP_UNAVAILABLE;
        a->user_dir = strprintf("%s/%s", shared->text, uid);
        if (!a->user_dir)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        a->user_fd = openat(shared_fd, uid, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (a->user_fd < 0 || fstat(a->user_fd, &st) < 0)
                return log_error_errno(errno, "Cannot open %s: %m", a->user_dir), EXIT_SETUP_UNAVAILABLE;
        /* The records and output of one caller are that caller's only. */
        if (st.st_uid != getuid() || (st.st_mode & 0077) != 0) {
                log_error("Refusing %s for your analyses: it is owned by UID %u with mode %04o; it must be yours "
                          "with mode 0700.", a->user_dir, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
                return EXIT_SETUP_PERMISSION;
        }
        return 0;
}

/* ID/, ID.output/, empty ID.stdout and ID.stderr, the request and the record skeleton. Returns 0 or an exit
 * status after logging. */
static int write_submission(BackendAnalysis *a, const BackendRequest *req) {
        _cleanup_free_ char *output = strprintf("%s.output", a->id), *out = strprintf("%s.stdout", a->id),
                            *err = strprintf("%s.stderr", a->id), *data = NULL, *json = NULL;
        _cleanup_close_ int id_fd = -EBADF, fd = -EBADF;
        Request request;
        size_t size = 0;
        FILE *f;
        int r;

        if (!output || !out || !err)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        if (mkdirat(a->user_fd, a->id, 0700) < 0 || mkdirat(a->user_fd, output, 0700) < 0)
                return log_error_errno(errno, "Cannot create the directories of analysis %s in %s: %m", a->id,
                                       a->user_dir), EXIT_SETUP_UNAVAILABLE;
        id_fd = openat(a->user_fd, a->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (id_fd < 0)
                return log_error_errno(errno, "Cannot open %s/%s: %m", a->user_dir, a->id), EXIT_SETUP_UNAVAILABLE;
        for (int i = 0; i < 2; i++) {
                fd = openat(a->user_fd, i == 0 ? out : err, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return log_error_errno(errno, "Cannot create %s/%s: %m", a->user_dir, i == 0 ? out : err),
                               EXIT_SETUP_UNAVAILABLE;
                fd = safe_close(fd);
        }
        /* --copy-workdir: the copy is made here, as the caller, and the job runs in it; analysis-run copies
         * back what changed when the record is in, as on the local backend. */
        if (req->request->copy_workdir) {
                _cleanup_close_ int src_fd = open(req->request->cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                                    dst_fd = openat(a->user_fd, output, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                r = src_fd < 0 || dst_fd < 0 ? -errno
                                             : tree_copy_at(src_fd, dst_fd,
                                                            &(TreeCopyOptions) { .uid = (uid_t) -1, .gid = (gid_t) -1 }, NULL);
                if (r < 0)
                        return log_error_errno(r, "Cannot copy the working directory %s into %s/%s: %m",
                                               req->request->cwd, a->user_dir, output), EXIT_SETUP_UNAVAILABLE;
                request = *req->request;
                request.cwd = a->skeleton.output_dir;
        }
        r = request_serialize(req->request->copy_workdir ? &request : req->request, &data, &size);
        if (r >= 0)
                r = write_file_atomic_at(id_fd, "request", data, size, 0600);
        if (r < 0)
                return log_error_errno(r, "Cannot write the request of analysis %s to %s/%s: %m", a->id, a->user_dir,
                                       a->id), EXIT_SETUP_UNAVAILABLE;
        f = open_memstream(&json, &size);
        if (!f)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        r = record_write_json(&a->skeleton, f);
        if (fclose(f) != 0 || r < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        r = write_file_atomic_at(id_fd, "record.json", json, size, 0600);
        if (r < 0)
                return log_error_errno(r, "Cannot write %s/%s/record.json: %m", a->user_dir, a->id),
                       EXIT_SETUP_UNAVAILABLE;
        return 0;
}

/* The record every field of which the job only fills in: who, what, under which limits, where. */
static int make_skeleton(BackendAnalysis *a, const BackendRequest *req) {
        const RecordLimits *p = &req->profile->limits;
        uint8_t bytes[16];
        char invocation_id[33];
        Record *r = &a->skeleton;

        if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
                return -errno;
        id128_to_string(bytes, invocation_id);
        r->id = strdup(a->id);
        r->profile = strdup(req->profile->profile->name);
        r->invocation_id = strdup(invocation_id);
        r->isolation = strdup("slurm");
        /* A record is only read back with a result; the runner replaces it. */
        r->result = strdup("submitted");
        r->stdout_file = strprintf("%s/%s.stdout", a->user_dir, a->id);
        r->stderr_file = strprintf("%s/%s.stderr", a->user_dir, a->id);
        r->output_dir = strprintf("%s/%s.output", a->user_dir, a->id);
        r->caller_uid = getuid();
        r->profile_limits = *p;
        r->limits = (RecordLimits) {
                .memory_max = tighter(req->request->memory_max, p->memory_max),
                .cpu_quota_percent = tighter(req->request->cpu_percent, p->cpu_quota_percent),
                .tasks_max = tighter(req->request->tasks_max, p->tasks_max),
                .runtime_max_usec = tighter(req->request->timeout_usec, p->runtime_max_usec),
                .disk_max = RECORD_UNSET,       /* Slurm bounds no directory on the share: the notes say so */
        };
        a->stdout_file = strdup(r->stdout_file ?: "");
        a->stderr_file = strdup(r->stderr_file ?: "");
        return r->id && r->profile && r->invocation_id && r->isolation && r->result && r->stdout_file && r->stderr_file &&
               r->output_dir && a->stdout_file && a->stderr_file ? 0 : -ENOMEM;
}

/* sbatch's arguments: the limits as Slurm's options, and the runner as the job. */
static int sbatch_argv(const BackendAnalysis *a, const BackendConfig *config, const Profile *profile,
                       uint64_t kill_grace_usec, char ***ret) {
        /* The profile's [Slurm] Partition= before the site's. */
        const Setting *partition = profile->settings[PROFILE_SLURM_PARTITION].set
                                           ? &profile->settings[PROFILE_SLURM_PARTITION]
                                           : &config->global->settings[GLOBAL_SLURM_PARTITION];
        const Setting *account = &profile->settings[PROFILE_SLURM_ACCOUNT], *qos = &profile->settings[PROFILE_SLURM_QOS];
        const RecordLimits *l = &a->skeleton.limits;
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        r = strv_extend(&argv, "sbatch");
        if (r >= 0) r = strv_extend(&argv, "--parsable");
        /* A requeued job would run the analysis twice and write a second record. */
        if (r >= 0) r = strv_extend(&argv, "--no-requeue");
        if (r >= 0) r = strv_consume(&argv, strprintf("--job-name=analysis-%s", a->id));
        if (r >= 0) r = strv_consume(&argv, strprintf("--chdir=%s/%s", a->user_dir, a->id));
        if (r >= 0) r = strv_consume(&argv, strprintf("--output=%s/%s/job.log", a->user_dir, a->id));
        if (r >= 0 && l->memory_max != RECORD_UNSET)
                r = strv_consume(&argv, strprintf("--mem=%" PRIu64 "K", (l->memory_max + 1023) / 1024));
        if (r >= 0 && l->cpu_quota_percent != RECORD_UNSET)
                r = strv_consume(&argv, strprintf("--cpus-per-task=%" PRIu64, (l->cpu_quota_percent + 99) / 100));
        if (r >= 0 && l->runtime_max_usec != RECORD_UNSET) {
                uint64_t sec = (l->runtime_max_usec + kill_grace_usec + USEC_PER_SEC - 1) / USEC_PER_SEC + TIME_MARGIN_SEC;

                r = strv_consume(&argv, strprintf("--time=%" PRIu64 ":%02" PRIu64, sec / 60, sec % 60));
        }
        /* For our Prolog on the node, which makes the task limit exact (slurm-prolog.in). */
        if (r >= 0 && l->tasks_max != RECORD_UNSET)
                r = strv_consume(&argv, strprintf("--comment=analysis-sandbox:tasks=%" PRIu64, l->tasks_max));
        if (r >= 0 && partition->set)
                r = strv_consume(&argv, strprintf("--partition=%s", partition->text));
        if (r >= 0 && account->set)
                r = strv_consume(&argv, strprintf("--account=%s", account->text));
        if (r >= 0 && qos->set)
                r = strv_consume(&argv, strprintf("--qos=%s", qos->text));
        /* The id and the directory are safe inside single quotes: neither can hold one (analysis_id_is_valid(),
         * VALUE_PATH). exec: the runner is the batch step's process, so scancel --batch reaches it. */
        if (r >= 0)
                r = strv_consume(&argv, strprintf("--wrap=exec %s --kill-grace=%" PRIu64 " '%s' '%s'",
                                                  SLURM_RUNNER_PATH, kill_grace_usec, a->user_dir, a->id));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(argv);
        return 0;
}

static int slurm_submit(const BackendConfig *config, const BackendRequest *req, BackendAnalysis **ret) {
        const Setting *shared = &config->global->settings[GLOBAL_SLURM_SHARED_DIRECTORY];
        _cleanup_free_ char *sbatch = NULL, *out = NULL, *err = NULL;
        _cleanup_close_ int id_fd = -EBADF;
        _cleanup_strv_free_ char **argv = NULL;
        BackendAnalysis *a = NULL;
        uint64_t job_id;
        int status, r;

        if (!shared->set) {
                log_error("The Slurm backend needs [Slurm] SharedDirectory= in analysis-sandbox.conf: a directory "
                          "every Slurm node mounts, for requests, output and records.");
                return EXIT_SETUP_UNAVAILABLE;
        }
        r = find_program("sbatch", &sbatch);
        if (r == -ENOENT) {
                log_error("Cannot submit analysis %s to Slurm: no sbatch in $PATH (%s). Install Slurm's client "
                          "commands (slurm-client) on this host.", req->id, strempty(getenv("PATH")));
                return EXIT_SETUP_UNAVAILABLE;
        }
        if (r < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;

        a = calloc(1, sizeof(BackendAnalysis));
        if (!a)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        a->user_fd = -EBADF;
        record_init(&a->skeleton);
        a->id = strdup(req->id);
        if (!a->id) {
                slurm_free(a);
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        }
        r = open_user_dir(shared, a);
        if (r != 0) {
                slurm_free(a);
                return r;
        }
        r = remove_previous(a->user_fd, a->id);
        if (r == -EBUSY) {
                log_error("Analysis %s is already submitted: %s/%s exists and has no record yet.", a->id, a->user_dir,
                          a->id);
                slurm_free(a);
                return EXIT_SETUP_BUSY;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot remove the files of the earlier analysis %s from %s: %m", a->id, a->user_dir);
                slurm_free(a);
                return EXIT_SETUP_UNAVAILABLE;
        }
        r = make_skeleton(a, req);
        if (r < 0) {
                slurm_free(a);
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        }
        r = write_submission(a, req);
        if (r == 0) {
                r = sbatch_argv(a, config, req->profile->profile, req->profile->kill_grace_usec, &argv);
                if (r < 0) {
                        log_oom();
                        r = EXIT_SETUP_UNAVAILABLE;
                }
        }
        if (r == 0) {
                r = run_capture(argv, &out, &err, &status);
                if (r < 0) {
                        log_error_errno(r, "Cannot run %s: %m", sbatch);
                        r = EXIT_SETUP_UNAVAILABLE;
                } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !out[0]) {
                        log_error("Slurm refused analysis %s: %s", a->id, err && err[0] ? err : "sbatch failed");
                        r = EXIT_SETUP_UNAVAILABLE;
                } else {
                        /* --parsable: "JOBID" or "JOBID;CLUSTER". */
                        out[strcspn(out, ";")] = '\0';
                        if (parse_uint64(out, &job_id) < 0) {
                                log_error("sbatch answered '%s' for analysis %s, not a job id.", out, a->id);
                                r = EXIT_SETUP_UNAVAILABLE;
                        }
                }
        }
        if (r != 0) {
                remove_submission(a);
                slurm_free(a);
                return r;
        }
        a->job_id = job_id;
        a->skeleton.slurm_job_id = job_id;
        log_debug("Analysis %s is Slurm job %" PRIu64 ".", a->id, job_id);
        /* For analysisctl later: which job this is. A failure here loses nothing the record will not say. */
        id_fd = openat(a->user_fd, a->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (id_fd >= 0) {
                char text[32];

                (void) snprintf(text, sizeof(text), "%" PRIu64 "\n", job_id);
                (void) write_file_atomic_at(id_fd, "job", text, strlen(text), 0600);
        }
        *ret = a;
        return 0;
}

/* Slurm's word for the job ("RUNNING", "NODE_FAIL", ...) and its node (or NULL), or NULL when it no longer
 * knows the job (MinJobAge after its end). Returns 0 or a negative errno when squeue could not be asked. */
static int squeue_state(uint64_t job_id, char **ret, char **ret_node) {
        _cleanup_free_ char *out = NULL, *err = NULL, *job = strprintf("%" PRIu64, job_id);
        char *argv[] = { (char *) "squeue", (char *) "-h", (char *) "-t", (char *) "all", (char *) "-o", (char *) "%T %N",
                         (char *) "-j", job, NULL };
        char *space;
        int status, r;

        if (!job)
                return -ENOMEM;
        r = run_capture(argv, &out, &err, &status);
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                /* "Invalid job id specified": gone. Anything else: the controller could not be asked. */
                if (err && strstr(err, "Invalid job id")) {
                        *ret = NULL;
                        if (ret_node)
                                *ret_node = NULL;
                        return 0;
                }
                log_debug("squeue for job %" PRIu64 " failed: %s", job_id, strempty(err));
                return -EIO;
        }
        out[strcspn(out, "\n")] = '\0';
        space = strchr(out, ' ');
        if (space)
                *space++ = '\0';
        if (ret_node) {
                *ret_node = space && space[0] ? strdup(space) : NULL;
                if (space && space[0] && !*ret_node)
                        return -ENOMEM;
        }
        *ret = out[0] ? TAKE_PTR(out) : NULL;
        return 0;
}

static bool state_is_alive(const char *state) {
        static const char * const alive[] = { "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED",
                                              "REQUEUED", "RESIZING", "SIGNALING", "STAGE_OUT", NULL };

        return state && strv_contains((char **) alive, state);
}

/* The job ended without a record (its node failed, it was cancelled, its runner was killed): the record
 * says so, written by us. One we cancelled says it was cancelled. */
/* Whether a process of ours stopped the analysis (analysisctl stop --no-block, the first analysis-run): its
 * cancel marker ID/cancel. The directory is opened by its path first: over NFS that makes the client fetch
 * its attributes again (close-to-open) instead of answering from a cached "no such file". */
static bool cancel_marker_exists(BackendAnalysis *a) {
        _cleanup_free_ char *marker = strprintf("%s/cancel", a->id);
        _cleanup_close_ int id_fd = openat(a->user_fd, a->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        return marker && id_fd >= 0 && faccessat(a->user_fd, marker, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

static int write_vanished_record(BackendAnalysis *a) {
        Record *r = &a->skeleton;
        bool node_failed;

        if (cancel_marker_exists(a))
                a->cancelled = true;
        r->finished_at_usec = now_usec(CLOCK_REALTIME);
        free(r->result);
        /* Slurm's word for a job whose node stopped under it (crashed, reset, lost): as for a host that stopped
         * under a unit (analysis-recover), with an exit status of its own. */
        node_failed = !a->cancelled && a->gone_state && strcmp(a->gone_state, "NODE_FAIL") == 0;
        r->result = strdup(a->cancelled ? "cancelled" : node_failed ? "host-stopped" : "resources");
        if (!r->result)
                return -ENOMEM;
        if (node_failed) {
                r->reconstructed = strdup("host-stopped");
                if (!r->reconstructed)
                        return -ENOMEM;
        } else if (!a->cancelled) {
                r->error = a->gone_state
                        ? strprintf("Slurm job %" PRIu64 " ended as %s without writing a record (its node failed, it was "
                                    "cancelled, or its runner was killed)", a->job_id, a->gone_state)
                        : strprintf("Slurm job %" PRIu64 " is gone without writing a record (its node failed, it was "
                                    "cancelled, or its runner was killed)", a->job_id);
                if (!r->error)
                        return -ENOMEM;
        }
        (void) read_file_tail(r->stderr_file, RECORD_STDERR_TAIL_MAX, &r->stderr_tail);
        return record_file_store(a->user_fd, RUNTIME_SCOPE_USER, r, NULL, NULL);
}

static void finish(BackendAnalysis *a, int status) {
        a->status = status;
        (void) sd_event_exit(a->event, 0);
}

static int on_poll(sd_event_source *source, uint64_t usec, void *userdata) {
        BackendAnalysis *a = userdata;
        _cleanup_free_ char *reason = NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        (void) output_follow_reopen(a->out);
        (void) output_follow_reopen(a->err);
        /* NFS keeps a failed lookup of ID.json ("no such file") until the directory's cached attributes time out,
         * 30 s and more with the default mount options (FINDINGS.md (c)). Opening the directory by its path makes
         * the client fetch them again (close-to-open), which drops that cached answer when the directory changed. */
        int dir_fd = open(a->user_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd >= 0)
                (void) close(dir_fd);
        /* A job cancelled while it was pending never runs: its record is ours to write. */
        if (a->cancelled_pending) {
                _cleanup_free_ char *json = strprintf("%s.json", a->id);

                if (json && faccessat(a->user_fd, json, F_OK, 0) < 0 && errno == ENOENT &&
                    write_vanished_record(a) < 0)
                        log_warning("Cannot write the record of the cancelled analysis %s in %s.", a->id, a->user_dir);
        }
        r = record_file_load(a->user_dir, a->id, a->record, a->json, a->json_size, &reason);
        if (r >= 0) {
                /* The runner wrote the record after the command's last output: one more open sees all of it. */
                (void) output_follow_reopen(a->out);
                (void) output_follow_reopen(a->err);
                finish(a, 0);
                return 0;
        }
        if (r != -ENOENT) {
                log_error_errno(r, "Cannot read the record of analysis %s in %s: %s", a->id, a->user_dir,
                                reason ?: strerror(-r));
                finish(a, EXIT_SETUP_NO_RECORD);
                return 0;
        }
        if (a->gone_since_usec > 0 && now - a->gone_since_usec >= GONE_GRACE_USEC) {
                r = write_vanished_record(a);
                if (r < 0) {
                        log_error_errno(r, "Slurm job %" PRIu64 " of analysis %s is gone without a record, and none "
                                        "could be written in %s: %m", a->job_id, a->id, a->user_dir);
                        finish(a, EXIT_SETUP_NO_RECORD);
                        return 0;
                }
                return on_poll(source, usec, userdata);
        }
        if (!a->cancelled && a->gone_since_usec == 0 && cancel_marker_exists(a)) {
                a->cancelled = true;
                a->next_squeue_usec = MIN(a->next_squeue_usec, now + STOPPED_SQUEUE_DELAY_USEC);
        }
        if (a->gone_since_usec == 0 && now >= a->next_squeue_usec) {
                _cleanup_free_ char *state = NULL, *node = NULL;

                a->next_squeue_usec = now + SQUEUE_INTERVAL_USEC;
                r = squeue_state(a->job_id, &state, &node);
                if (r >= 0 && !state_is_alive(state)) {
                        log_debug("Slurm job %" PRIu64 " is %s and analysis %s has no record yet.", a->job_id,
                                  strempty(state), a->id);
                        a->gone_since_usec = now;
                        a->gone_state = TAKE_PTR(state);
                        if (node && !a->skeleton.node)
                                a->skeleton.node = TAKE_PTR(node);
                }
        }
        a->poll_usec = MIN(a->poll_usec + a->poll_usec / 2, POLL_MAX_USEC);
        (void) sd_event_source_set_time(source, now + a->poll_usec);
        (void) sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        return 0;
}

static int slurm_wait(BackendAnalysis *a, sd_event *event, Record *ret, char **ret_json, size_t *ret_size) {
        _cleanup_(sd_event_source_disable_unrefp) sd_event_source *timer = NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        /* Followed by polling: inotify sees no writes made on another NFS client (the node). */
        r = output_follow_new(&a->out, event, a->stdout_file, a->attached ? -EBADF : STDOUT_FILENO);
        if (r >= 0)
                r = output_follow_new(&a->err, event, a->stderr_file, a->attached ? -EBADF : STDERR_FILENO);
        if (r < 0)
                return log_error_errno(r, "Cannot follow the output files of analysis %s in %s: %m", a->id,
                                       a->user_dir), EXIT_SETUP_UNAVAILABLE;
        a->event = event;
        a->record = ret;
        a->json = ret_json;
        a->json_size = ret_size;
        a->poll_usec = POLL_MIN_USEC;
        a->next_squeue_usec = now + SQUEUE_INTERVAL_USEC;
        a->status = EXIT_SETUP_NO_RECORD;
        r = sd_event_add_time(event, &timer, CLOCK_MONOTONIC, now + a->poll_usec, 0, on_poll, a);
        a->timer = timer;
        if (r >= 0)
                r = sd_event_loop(event);
        a->timer = NULL;
        if (r < 0)
                return log_error_errno(r, "Cannot wait for analysis %s: %m", a->id), EXIT_SETUP_UNAVAILABLE;
        return a->status;
}

/* Runs scancel with args and the job id. Returns 0, or -EIO when scancel failed. */
static int scancel(BackendAnalysis *a, const char *arg1, const char *arg2) {
        _cleanup_free_ char *out = NULL, *err = NULL, *job = strprintf("%" PRIu64, a->job_id);
        char *argv[5] = { (char *) "scancel" };
        size_t n = 1;
        int status, r;

        if (!job)
                return -ENOMEM;
        if (arg1)
                argv[n++] = (char *) arg1;
        if (arg2)
                argv[n++] = (char *) arg2;
        argv[n] = job;
        r = run_capture(argv, &out, &err, &status);
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                log_debug("scancel of job %" PRIu64 " failed: %s", a->job_id, strempty(err));
                return -EIO;
        }
        return 0;
}

/* Cancels the analysis: the cancel marker first (a runner starting after it does not run the analysis), then
 * a job still pending is cancelled outright and its record is ours; a running one gets SIGTERM to the batch
 * step's process, our runner, which stops the analysis as its time limit would (TERM, KillGrace, KILL) and
 * records "cancelled". A plain scancel would have slurmstepd kill the runner too after KillWait. */
static int slurm_stop(BackendAnalysis *a) {
        _cleanup_close_ int id_fd = openat(a->user_fd, a->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *state = NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        r = id_fd < 0 ? -errno : write_string_atomic_at(id_fd, "cancel", "");
        if (r < 0)
                log_warning_errno(r, "Cannot write the cancel marker %s/%s/cancel: %m", a->user_dir, a->id);
        a->cancelled = true;
        r = squeue_state(a->job_id, &state, NULL);
        if (r >= 0 && state && strcmp(state, "PENDING") == 0 && scancel(a, "--state=PENDING", NULL) >= 0)
                a->cancelled_pending = true;
        else
                r = scancel(a, "--batch", "--signal=TERM");
        /* Look again soon, not at the next minute: a runner killed early leaves no record. */
        a->next_squeue_usec = now + STOPPED_SQUEUE_DELAY_USEC;
        a->poll_usec = POLL_MIN_USEC;
        if (a->timer)
                (void) sd_event_source_set_time(a->timer, now + POLL_MIN_USEC);
        return a->cancelled_pending ? 0 : r;
}

static int slurm_find_record(const BackendConfig *config, const char *id, Record *ret, char **ret_json,
                             size_t *ret_size) {
        const Setting *shared = &config->global->settings[GLOBAL_SLURM_SHARED_DIRECTORY];
        _cleanup_free_ char *dir = NULL, *reason = NULL;

        if (!shared->set)
                return -ENXIO;
        dir = strprintf("%s/%u", shared->text, (unsigned) getuid());
        if (!dir)
                return -ENOMEM;
        return record_file_load(dir, id, ret, ret_json, ret_size, &reason);
}

/* submit() as analysis-run calls it: the profile read from its files and the request held to it here, as no
 * unit holds the profile for a Slurm job. */
static int slurm_submit_with_profile(const BackendConfig *config, const BackendRequest *req, BackendAnalysis **ret) {
        _cleanup_(fallback_profile_done) FallbackProfile profile = {};
        BackendRequest with_profile = *req;
        int r;

        r = backend_load_profile(req, &profile);
        if (r != 0)
                return r;
        with_profile.profile = &profile;
        return slurm_submit(config, &with_profile, ret);
}

/* For analysisctl: the calling user's Slurm analyses found again in SharedDirectory/UID. */

/* SharedDirectory/UID of the calling user. Returns 0, -ENXIO without [Slurm] SharedDirectory=, or -ENOMEM. */
static int slurm_results_dir(const BackendConfig *config, char **ret) {
        const Setting *shared = config->global ? &config->global->settings[GLOBAL_SLURM_SHARED_DIRECTORY] : NULL;

        if (!shared || !shared->set)
                return -ENXIO;
        *ret = strprintf("%s/%u", shared->text, (unsigned) getuid());
        return *ret ? 0 : -ENOMEM;
}

/* The job id analysis-run noted in ID/job. Returns 0, -ENOENT or -EBADMSG. */
static int read_job_id(const char *user_dir, const char *id, uint64_t *ret) {
        _cleanup_free_ char *path = strprintf("%s/%s/job", user_dir, id), *text = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) < 0)
                return -errno;
        r = read_file_tail(path, 64, &text);
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = '\0';
        return parse_uint64(text, ret) < 0 ? -EBADMSG : 0;
}

static int slurm_attach(const BackendConfig *config, const char *id, BackendAnalysis **ret) {
        _cleanup_free_ char *dir = NULL, *id_dir = NULL, *reason = NULL;
        BackendAnalysis *a;
        int r;

        r = slurm_results_dir(config, &dir);
        if (r < 0)
                return r;
        a = calloc(1, sizeof(BackendAnalysis));
        if (!a)
                return log_oom();
        a->user_fd = -EBADF;
        a->attached = true;
        record_init(&a->skeleton);
        a->id = strdup(id);
        a->user_dir = TAKE_PTR(dir);
        id_dir = a->id && a->user_dir ? strprintf("%s/%s", a->user_dir, id) : NULL;
        if (!id_dir) {
                slurm_free(a);
                return log_oom();
        }
        /* What analysis-run wrote before submitting it: without it, there is no such analysis of ours. */
        r = record_file_load(id_dir, "record", &a->skeleton, NULL, NULL, &reason);
        if (r >= 0)
                r = read_job_id(a->user_dir, id, &a->job_id);
        if (r == -ENOENT || r == -ENOTDIR) {
                slurm_free(a);
                return -ENOENT;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot read what analysis-run left of analysis %s in %s (record.json, job): %s",
                                id, id_dir, reason ?: strerror(-r));
                slurm_free(a);
                return r;
        }
        a->skeleton.slurm_job_id = a->job_id;
        a->user_fd = open(a->user_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        a->stdout_file = strdup(strempty(a->skeleton.stdout_file));
        a->stderr_file = strdup(strempty(a->skeleton.stderr_file));
        if (a->user_fd < 0 || !a->stdout_file || !a->stderr_file) {
                r = a->user_fd < 0 ? -errno : -ENOMEM;
                log_error_errno(r, "Cannot open %s: %m", a->user_dir);
                slurm_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

/* squeue's elapsed time ("M:SS", "H:MM:SS", "D-HH:MM:SS") in seconds, or 0. */
static uint64_t parse_elapsed(const char *s) {
        uint64_t days = 0, parts[3] = {}, n = 0;
        const char *p = s, *dash = strchr(s, '-');
        char *end;

        if (dash) {
                days = strtoull(s, &end, 10);
                if (end != dash)
                        return 0;
                p = dash + 1;
        }
        for (;;) {
                if (n == 3 || !isdigit((unsigned char) *p))
                        return 0;
                parts[n++] = strtoull(p, &end, 10);
                if (*end == '\0')
                        break;
                if (*end != ':')
                        return 0;
                p = end + 1;
        }
        /* The last part is seconds; "M:SS" has no hours. */
        return days * 86400 + (n == 3 ? parts[0] * 3600 + parts[1] * 60 + parts[2]
                                      : n == 2 ? parts[0] * 60 + parts[1] : parts[0]);
}

/* One squeue for all of the caller's jobs Slurm still knows: three controller RPCs (FINDINGS.md (d)). Fills
 * the state, node and start of each entry by its job id. Returns 0 or a negative errno after logging. */
static int squeue_fill(BackendEntry *entries, size_t n) {
        _cleanup_free_ char *out = NULL, *err = NULL, *uid = strprintf("%u", (unsigned) getuid());
        char *argv[] = { (char *) "squeue", (char *) "-h", (char *) "-t", (char *) "all", (char *) "-u", uid,
                         (char *) "-o", (char *) "%i|%T|%N|%M", NULL };
        uint64_t now = now_usec(CLOCK_REALTIME);
        char *line, *save = NULL;
        int status, r;

        if (!uid)
                return log_oom();
        r = run_capture(argv, &out, &err, &status);
        if (r == -ENOENT)
                return log_error_errno(r, "Cannot ask Slurm about your analyses: no squeue in $PATH (%s).",
                                       strempty(getenv("PATH")));
        if (r < 0)
                return log_error_errno(r, "Cannot run squeue: %m");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_error_errno(EIO, "squeue failed: %s", err && err[0] ? err : "no reason given");
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *fields[4] = {}, *p = line;
                uint64_t job;

                for (size_t i = 0; i < ELEMENTSOF(fields) && p; i++) {
                        fields[i] = p;
                        p = strchr(p, '|');
                        if (p)
                                *p++ = '\0';
                }
                if (!fields[3] || parse_uint64(fields[0], &job) < 0)
                        continue;
                for (size_t i = 0; i < n; i++) {
                        uint64_t elapsed = parse_elapsed(fields[3]);

                        if (entries[i].job_id != job)
                                continue;
                        free(entries[i].state);
                        entries[i].state = strdup(fields[1]);
                        free(entries[i].node);
                        entries[i].node = fields[2][0] && strcmp(fields[2], "(null)") != 0 ? strdup(fields[2]) : NULL;
                        entries[i].started_at_usec = elapsed > 0 ? now - elapsed * USEC_PER_SEC : 0;
                        if (!entries[i].state)
                                return log_oom();
                }
        }
        return 0;
}

static int entry_compare(const void *x, const void *y) {
        return strcmp(((const BackendEntry *) x)->id, ((const BackendEntry *) y)->id);
}

static int slurm_list(const BackendConfig *config, const char *id, BackendEntry **ret, size_t *ret_n) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        BackendEntry *entries = NULL;
        size_t n = 0, n_alive = 0;
        int r;

        r = slurm_results_dir(config, &dir);
        if (r < 0)
                return r == -ENOMEM ? log_oom() : r;
        d = opendir(dir);
        if (!d && errno != ENOENT)
                return log_error_errno(errno, "Cannot open %s: %m", dir);
        for (struct dirent *de; d && (de = readdir(d));) {
                _cleanup_free_ char *json = strprintf("%s.json", de->d_name), *id_dir = NULL, *reason = NULL;
                _cleanup_(record_done) Record skeleton;
                BackendEntry *grown, *e;
                struct stat st;
                uint64_t job;

                record_init(&skeleton);
                if (!json)
                        return backend_entries_free(entries, n), log_oom();
                /* An analysis not yet recorded: ID/ without ID.json. */
                if (!analysis_id_is_valid(de->d_name) || (id && strcmp(id, de->d_name) != 0) ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
                    fstatat(dirfd(d), json, &st, AT_SYMLINK_NOFOLLOW) >= 0 ||
                    read_job_id(dir, de->d_name, &job) < 0)
                        continue;
                id_dir = strprintf("%s/%s", dir, de->d_name);
                if (!id_dir || record_file_load(id_dir, "record", &skeleton, NULL, NULL, &reason) < 0)
                        continue;
                grown = reallocarray(entries, n + 1, sizeof(BackendEntry));
                if (!grown)
                        return backend_entries_free(entries, n), log_oom();
                entries = grown;
                e = entries + n++;
                *e = (BackendEntry) {
                        .id = strdup(de->d_name),
                        .profile = TAKE_PTR(skeleton.profile),
                        .job_id = job,
                        .invocation_id = TAKE_PTR(skeleton.invocation_id),
                        .limits = skeleton.limits,
                        .stdout_file = TAKE_PTR(skeleton.stdout_file),
                        .stderr_file = TAKE_PTR(skeleton.stderr_file),
                };
                if (!e->id)
                        return backend_entries_free(entries, n), log_oom();
        }
        /* Nothing waiting for a record: nothing to ask the controller. */
        if (n > 0) {
                r = squeue_fill(entries, n);
                if (r < 0)
                        return backend_entries_free(entries, n), r;
        }
        /* Those Slurm no longer has as alive ended without a record (yet): analysisctl wait writes theirs. */
        for (size_t i = 0; i < n; i++) {
                if (state_is_alive(entries[i].state))
                        entries[n_alive++] = entries[i];
                else
                        backend_entry_done(entries + i);
        }
        if (n_alive > 0)
                qsort(entries, n_alive, sizeof(BackendEntry), entry_compare);
        *ret = entries;
        *ret_n = n_alive;
        return 0;
}

/* The newest modification time of name in dir_fd, into *newest; missing is fine. */
static void note_mtime(int dir_fd, const char *name, uint64_t *newest) {
        struct stat st;
        uint64_t t;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return;
        t = (uint64_t) st.st_mtim.tv_sec * USEC_PER_SEC + (uint64_t) st.st_mtim.tv_nsec / 1000;
        if (t > *newest)
                *newest = t;
}

static int slurm_gc(const BackendConfig *config, uint64_t cutoff_usec, unsigned *ret_removed) {
        static const char * const suffixes[] = { "", ".json", ".stdout", ".stderr", ".output", ".samples.csv" };
        _cleanup_free_ char *dir = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **stale = NULL;
        unsigned removed = 0;
        int ret = 0, r;

        r = slurm_results_dir(config, &dir);
        if (r < 0)
                return r == -ENOMEM ? log_oom() : r;
        d = opendir(dir);
        if (!d && errno != ENOENT)
                return log_error_errno(errno, "Cannot open %s: %m", dir);
        /* Only analyses with a record: one without may be queued or running (a re-run with the same id takes
         * the old record away before it is submitted). */
        for (struct dirent *de; d && (de = readdir(d));) {
                size_t len = strlen(de->d_name);
                _cleanup_free_ char *id = NULL;
                uint64_t newest = 0;

                if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
                        continue;
                id = strndup(de->d_name, len - 5);
                if (!id)
                        return log_oom();
                if (!analysis_id_is_valid(id))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                        _cleanup_free_ char *name = strprintf("%s%s", id, suffixes[i]);

                        if (!name)
                                return log_oom();
                        note_mtime(dirfd(d), name, &newest);
                }
                if (newest < cutoff_usec && strv_consume(&stale, TAKE_PTR(id)) < 0)
                        return log_oom();
        }
        STRV_FOREACH(id, stale) {
                /* The record last (suffixes[1]): a gc cut short leaves an analysis with its record, found and
                 * removed next time. */
                for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                        _cleanup_free_ char *name = strprintf("%s%s", *id, suffixes[(i + 2) % ELEMENTSOF(suffixes)]);

                        if (!name)
                                return log_oom();
                        r = tree_remove_at(dirfd(d), name);
                        if (r < 0) {
                                ret = log_error_errno(r, "Cannot remove %s/%s: %m", dir, name);
                                break;
                        }
                }
                if (r >= 0) {
                        log_debug("Removed analysis %s from %s.", *id, dir);
                        removed++;
                }
        }
        *ret_removed = removed;
        return ret;
}

const Backend backend_slurm = {
        .name = "slurm",
        .features = BACKEND_DETACH | BACKEND_COPY_WORKDIR,
        .submit = slurm_submit_with_profile,
        .wait = slurm_wait,
        .stop = slurm_stop,
        .find_record = slurm_find_record,
        .free = slurm_free,
        .attach = slurm_attach,
        .list = slurm_list,
        .gc = slurm_gc,
        .results_dir = slurm_results_dir,
};
