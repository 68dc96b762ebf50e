/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Before an analysis starts: the caller's spooled request checked and snapshotted with the profile's facts,
 * its output files started afresh, its output directory and /tmp made. Root's work (the system manager's
 * runner, started with "!"), or the user's own (analysis-record prepare, under a user's manager). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "paths.h"
#include "request.h"
#include "runtime-scope.h"

typedef struct PrepareOptions {
        const char *id;
        const char *profile;
        const char *results_dir;
        RuntimeScope scope;
        uint64_t runtime_max_usec;      /* the profile's Runtime= */
        uint64_t kill_grace_usec;       /* the profile's KillGrace= */
        uint64_t disk_max;              /* the profile's Disk=: the output tmpfs' size unless the request asks less */
        /* Units generated before the runner prepared itself read the snapshot as the analysis' account. */
        bool account_reads_snapshot;
} PrepareOptions;

/* Does all of the above in units/ID/ of paths and the results directory, as the caller's credentials allow
 * (mounts only under the system manager, in the caller's current mount namespace). *ret_uid and *ret_gid
 * are the analysis' account. Returns 0; -EPERM when the request is refused (noted in the snapshot, so that
 * the record says why); or another negative errno. On any error *ret_reason says what went wrong. */
int analysis_prepare(const AnalysisPaths *paths, const PrepareOptions *o, uid_t *ret_uid, gid_t *ret_gid,
                     char **ret_reason);

/* Reads and checks the caller's request in spool/ID/. Returns 0 with *ret (NULL when there is no spool
 * directory: started by hand), or -EPERM/-EBADMSG with a reason. *ret_caller is set to the owner of the spool
 * directory as soon as there is one, refused or not. */
int spooled_request_load(const AnalysisPaths *paths, const char *id, Request **ret, uid_t *ret_caller,
                         char **ret_reason);
