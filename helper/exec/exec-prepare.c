/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runner's root part. Under the system manager the unit starts the runner with "!": as root, inside the
 * unit's sandbox (its mount namespace, NoNewPrivileges=, system call filters), with the analysis' account made
 * but not taken. The runner does what a separate ExecStartPre=+ command used to (check and snapshot the
 * request, mount the output directory) and then becomes the account itself, before it reads anything the
 * analysis could have written. That spares every analysis a process spawned by PID 1, the costliest step of
 * starting one (a fork of the manager and a mount namespace of its own): see bench/README.md. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "exec-prepare.h"
#include "journal-send.h"
#include "macro.h"
#include "output-dir.h"
#include "paths.h"

int runner_prepare(const PrepareOptions *o, bool private_tmp, uid_t *ret_uid, gid_t *ret_gid) {
        _cleanup_(analysis_paths_done) AnalysisPaths paths = {};
        _cleanup_close_ int own_ns_fd = -EBADF;
        _cleanup_free_ char *reason = NULL;
        int r;

        if (geteuid() != 0) {
                journal_log_analysis(LOG_ERR, "analysis-exec", o->id, o->profile,
                                     "Analysis '%s': --prepare needs root: the unit must start the runner with \"!\"",
                                     o->id);
                return -EPERM;
        }
        own_ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (own_ns_fd < 0) {
                r = -errno;
                journal_log_analysis(LOG_ERR, "analysis-exec", o->id, o->profile,
                                     "Analysis '%s': cannot open its mount namespace: %s", o->id, strerror(-r));
                return r;
        }
        /* The unit's namespace has /var and /run read-only, and mounts made here must outlive the analysis
         * for analysis-record finish to measure and hand over: the work is done in the host's namespace. */
        r = host_mount_namespace_enter();
        if (r < 0) {
                journal_log_analysis(LOG_ERR, "analysis-exec", o->id, o->profile,
                                     "Analysis '%s': cannot enter the host's mount namespace: %s", o->id, strerror(-r));
                return r;
        }
        r = analysis_paths_get(RUNTIME_SCOPE_SYSTEM, &paths);
        if (r >= 0)
                r = analysis_prepare(&paths, o, ret_uid, ret_gid, &reason);
        else
                reason = strprintf("cannot find its directories: %s", strerror(-r));
        if (r >= 0) {
                r = output_dir_attach(own_ns_fd, o->id, private_tmp);
                if (r < 0)
                        reason = strprintf("cannot bind its output directory and /tmp into its namespace: %s",
                                           strerror(-r));
        }
        if (r < 0)
                journal_log_analysis(LOG_ERR, "analysis-exec", o->id, o->profile, "Analysis '%s': %s", o->id,
                                     reason ?: strerror(-r));
        return r;
}

int runner_become_account(uid_t uid, gid_t gid) {
        if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                return -errno;
        /* Leaving root clears every capability; make sure nothing of it is left to regain. */
        if (uid != 0 && (setresuid(0, 0, 0) >= 0 || geteuid() != uid))
                return -EPERM;
        return 0;
}
