/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Before an analysis starts: checking and snapshotting its request, starting its output afresh, making its
 * output directory and /tmp. See analysis-prepare.h. */

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis-prepare.h"
#include "atomic-file.h"
#include "entry-file.h"
#include "fs-util.h"
#include "macro.h"
#include "output-dir.h"
#include "result-access.h"
#include "running-mark.h"
#include "spool.h"
#include "time-util.h"
#include "tree-copy.h"
#include "unit-state.h"

static int open_dir(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

int spooled_request_load(const AnalysisPaths *paths, const char *id, Request **ret, uid_t *ret_caller,
                         char **ret_reason) {
        _cleanup_close_ int spool_fd = -EBADF, dir_fd = -EBADF;
        _cleanup_free_ char *data = NULL, *why = NULL;
        struct stat st;
        size_t size;
        int r;

        spool_fd = open_dir(paths->spool_dir);
        if (spool_fd == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (spool_fd < 0) {
                *ret_reason = strprintf("cannot open %s: %s", paths->spool_dir, strerror(-spool_fd));
                return spool_fd;
        }
        /* O_NOFOLLOW: a symlink planted in place of the directory must not lead us elsewhere. */
        dir_fd = openat(spool_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0 && errno == ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (dir_fd < 0) {
                r = -errno;
                *ret_reason = strprintf("cannot open the spool directory: %s",
                                        r == -ENOTDIR || r == -ELOOP ? "it is not a directory" : strerror(-r));
                return r;
        }
        if (fstat(dir_fd, &st) < 0)
                return -errno;
        /* Even a refused request's record is for whoever made the spool directory to read. */
        *ret_caller = st.st_uid;
        if (st.st_mode & 0022) {
                *ret_reason = strprintf("the spool directory is writable by others (mode %04o)",
                                        (unsigned) (st.st_mode & 07777));
                return -EPERM;
        }
        /* The request must belong to whoever made the directory: nobody else can swap it in. */
        r = entry_file_read_at(dir_fd, "request", st.st_uid, &data, &size, &why);
        if (r < 0) {
                *ret_reason = strprintf("the spooled request was refused: %s", strempty(why));
                return r;
        }
        r = request_parse(data, size, ret, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_reason = strprintf("the spooled request was refused: %s", strempty(why));
                return r;
        }
        return 0;
}

/* Starts systemd's output file name empty and readable by caller, root and the admins only. */
static int restrict_output_file(int dir_fd, const char *name, RuntimeScope scope, uid_t caller) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        int r;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        /* The access first: an earlier run's output must not be readable for an instant by the wrong caller. */
        r = result_access_restrict(fd, scope, caller);
        if (r < 0)
                return r;
        return ftruncate(fd, 0) < 0 ? -errno : 0;
}

static int write_state(int units_fd, const UnitState *state) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = unit_state_serialize(state, &data, &size);
        if (r < 0)
                return r;
        return write_file_atomic_at(units_fd, "state", data, size, 0640);
}

/* Notes on disk that this run of the unit is owed a record, before anything of the analysis runs: should the
 * host stop under it, analysis-record recover writes the record at the next boot. Not a reason to refuse the
 * analysis (a full disk fails its output files as well, and the record then says so): it only loses that. */
static void note_running(const AnalysisPaths *paths, const char *id, UnitState *state) {
        const char *invocation = getenv("INVOCATION_ID");

        if (current_boot_id(state->boot_id) < 0)
                state->boot_id[0] = '\0';
        (void) snprintf(state->invocation_id, sizeof(state->invocation_id), "%s",
                        invocation && strlen(invocation) == 32 ? invocation : "");
        (void) running_mark_write(paths->running_dir, id, state);
}

/* The account the analysis runs as: whoever systemd made its runner's RuntimeDirectory= for, which is the
 * profile's User= or the account DynamicUser= made for this very analysis (and has already made before
 * anything of the unit runs). */
static int analysis_account(const AnalysisPaths *paths, const char *id, uid_t *ret_uid, gid_t *ret_gid) {
        _cleanup_free_ char *path = strprintf("%s/%s", paths->runner_dir, id);
        struct stat st;

        if (!path)
                return -ENOMEM;
        if (lstat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        *ret_uid = st.st_uid;
        *ret_gid = st.st_gid;
        return 0;
}

static int prepare_results(int results_fd, const PrepareOptions *o, uid_t caller) {
        _cleanup_free_ char *stdout_name = strprintf("%s.stdout", o->id), *stderr_name = strprintf("%s.stderr", o->id),
                            *record_name = strprintf("%s.json", o->id), *output_name = strprintf("%s.output", o->id),
                            *samples_name = strprintf("%s.samples.csv", o->id);
        int r;

        if (!stdout_name || !stderr_name || !record_name || !output_name)
                return -ENOMEM;
        /* systemd created the output files for this very unit (StandardOutput=append:); start them empty, and
         * take away the record and output of an earlier run with this id. */
        r = restrict_output_file(results_fd, stdout_name, o->scope, caller);
        if (r >= 0)
                r = restrict_output_file(results_fd, stderr_name, o->scope, caller);
        if (r < 0)
                return r;
        if (unlinkat(results_fd, record_name, 0) < 0 && errno != ENOENT)
                return -errno;
        if (samples_name && unlinkat(results_fd, samples_name, 0) < 0 && errno != ENOENT)
                return -errno;
        r = tree_remove_at(results_fd, output_name);
        if (r < 0)
                return r;
        /* A user's manager has no root to mount a tmpfs: the analysis writes straight into this directory. */
        if (o->scope != RUNTIME_SCOPE_SYSTEM && mkdirat(results_fd, output_name, 0700) < 0)
                return -errno;
        return 0;
}

/* Tells the caller, who may be waiting to follow the output files, that they are this run's now. */
static int mark_output_fresh(const AnalysisPaths *paths, const char *id) {
        _cleanup_close_ int spool_fd = -EBADF, dir_fd = -EBADF, fd = -EBADF;

        spool_fd = open_dir(paths->spool_dir);
        if (spool_fd < 0)
                return spool_fd;
        /* O_NOFOLLOW at every step: the directory is the caller's, and so is whatever it planted there. */
        dir_fd = openat(spool_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        fd = openat(dir_fd, SPOOL_OUTPUT_FRESH, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
        return fd < 0 ? -errno : 0;
}

/* units/ID/, fresh: root's (or the user's), readable by the account where it reads the snapshot itself. */
static int make_snapshot_dir(const AnalysisPaths *paths, const PrepareOptions *o, gid_t account_gid) {
        _cleanup_close_ int units_fd = -EBADF, id_fd = -EBADF;
        int r;

        r = mkdir_p(paths->units_dir, 0755);
        if (r < 0)
                return r;
        units_fd = open_dir(paths->units_dir);
        if (units_fd < 0)
                return units_fd;
        /* A unit that never reached ExecStopPost (start-limit-hit) may have left its directory behind. */
        r = remove_flat_dir_at(units_fd, o->id);
        if (r < 0)
                return r;
        if (mkdirat(units_fd, o->id, 0700) < 0)
                return -errno;
        id_fd = openat(units_fd, o->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (id_fd < 0)
                return -errno;
        if (geteuid() != 0) {
                if (fchmod(id_fd, 0755) < 0)
                        return -errno;
        } else if (o->account_reads_snapshot) {
                /* The request may hold secrets in its environment: readable by root and the account, by no
                 * other caller. setgid, so the files written into it get that group too. */
                if (fchown(id_fd, 0, account_gid) < 0 || fchmod(id_fd, 02750) < 0)
                        return -errno;
        }
        return TAKE_FD(id_fd);
}

int analysis_prepare(const AnalysisPaths *paths, const PrepareOptions *o, uid_t *ret_uid, gid_t *ret_gid,
                     char **ret_reason) {
        _cleanup_close_ int id_fd = -EBADF, results_fd = -EBADF;
        _cleanup_(request_freep) Request *request = NULL;
        _cleanup_free_ char *refusal = NULL;
        UnitState state = {
                .profile = (char *) o->profile,
                .runtime_max_usec = o->runtime_max_usec,
                .kill_grace_usec = o->kill_grace_usec,
                .started_at_usec = now_usec(CLOCK_REALTIME),
                .caller_uid = (uid_t) -1,
        };
        uid_t account_uid = getuid();
        gid_t account_gid = getgid();
        int r;

        if (o->scope == RUNTIME_SCOPE_SYSTEM) {
                r = analysis_account(paths, o->id, &account_uid, &account_gid);
                if (r < 0) {
                        *ret_reason = strprintf("cannot tell its account from %s/%s: %s", paths->runner_dir, o->id,
                                                strerror(-r));
                        return r;
                }
        }
        *ret_uid = account_uid;
        *ret_gid = account_gid;
        id_fd = make_snapshot_dir(paths, o, account_gid);
        if (id_fd < 0) {
                *ret_reason = strprintf("cannot make %s/%s: %s", paths->units_dir, o->id, strerror(-id_fd));
                return id_fd;
        }

        r = spooled_request_load(paths, o->id, &request, &state.caller_uid, &refusal);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !refusal) {
                refusal = strprintf("cannot read the spooled request: %s", strerror(-r));
                if (!refusal)
                        return -ENOMEM;
        }
        results_fd = open_dir(o->results_dir);
        if (results_fd >= 0)
                r = prepare_results(results_fd, o, state.caller_uid);
        else
                r = results_fd;
        if (r < 0) {
                *ret_reason = strprintf("cannot start its output afresh in %s: %s", o->results_dir, strerror(-r));
                return r;
        }
        if (request || refusal)
                (void) mark_output_fresh(paths, o->id);
        if (!refusal && o->scope == RUNTIME_SCOPE_SYSTEM) {
                uint64_t disk = o->disk_max;

                if (request && request->disk_max > 0 && request->disk_max < disk)
                        disk = request->disk_max;
                r = output_dir_mount(o->id, disk, account_uid, account_gid, true);
                if (r < 0) {
                        *ret_reason = strprintf("cannot mount its output directory and /tmp: %s", strerror(-r));
                        return r;
                }
        }
        if (refusal) {
                state.error = refusal;
                note_running(paths, o->id, &state);
                (void) write_state(id_fd, &state);
                *ret_reason = TAKE_PTR(refusal);
                return -EPERM;
        }
        if (request) {
                _cleanup_free_ char *data = NULL;
                size_t size;

                r = request_serialize(request, &data, &size);
                if (r >= 0)
                        r = write_file_atomic_at(id_fd, "request", data, size, 0640);
                if (r < 0) {
                        *ret_reason = strprintf("cannot snapshot its request: %s", strerror(-r));
                        return r;
                }
                state.has_request = true;
        }
        note_running(paths, o->id, &state);
        r = write_state(id_fd, &state);
        if (r < 0)
                *ret_reason = strprintf("cannot write %s/%s/state: %s", paths->units_dir, o->id, strerror(-r));
        return r;
}
