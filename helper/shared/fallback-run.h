/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-run --fallback=rlimit: one analysis run without a service manager, from its profile to its record. */
#pragma once

#include <pwd.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "fallback-rlimit.h"
#include "profile.h"
#include "record.h"
#include "request.h"
#include "runtime-scope.h"

typedef struct FallbackProfile {
        Profile *profile;
        RecordLimits limits;            /* the profile's; a percentage Memory= resolved against physical RAM */
        uint64_t kill_grace_usec;
} FallbackProfile;

/* Loads profile name from the same search path and drop-ins as analysis-generator, for scope. Returns 0, or
 * after logging why, the exit status for it (66 for an unknown or bad profile). */
int fallback_profile_load(RuntimeScope scope, const char *name, FallbackProfile *ret);

void fallback_profile_done(FallbackProfile *p);

typedef struct FallbackRequest {
        RuntimeScope scope;
        const char *id;
        const Request *request;         /* what the caller asks, as it would be spooled for a unit */
} FallbackRequest;

/* Runs the analysis itself (see fallback-rlimit.h), streaming its output files to our stdout and stderr, and
 * writes its record with "isolation": "rlimit" to the scope's results directory. Returns 0 with *ret_record,
 * its JSON and the signal that cancelled it (0 if none), or, after logging why, an exit status of
 * analysis-run(1). */
int fallback_run(const FallbackProfile *p, const FallbackRequest *req, sd_event *event, Record *ret_record,
                 char **ret_json, size_t *ret_json_size, int *ret_cancel_signal);

/* The environment a service of the profile gets (systemd.exec(5)): PATH, LANG, pw's HOME, USER, LOGNAME and
 * SHELL, INVOCATION_ID, ANALYSIS_ID, ANALYSIS_PROFILE, ANALYSIS_OUTPUT_DIR, the thread counts (threads > 0),
 * then the request's assignments over them. Also used by the Slurm runner. Returns 0 or -ENOMEM. */
int fallback_build_environment(const FallbackRequest *req, const char *profile, const struct passwd *pw,
                               const char *invocation_id, const char *output_dir, unsigned threads, char ***ret);

/* Fills the record's result, exit_code, exit_status, signal (or error) from how the command ended, in the
 * words systemd uses for a service; never "oom-kill" (the caller decides that from a cgroup, if it has one).
 * Returns 0 or -ENOMEM. */
int fallback_fill_outcome(Record *r, const RlimitOutcome *o);
