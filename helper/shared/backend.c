/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table of analysis-run's backends (see backend.h) and what the backends share: the checks of a request
 * against what a backend can do and against its profile, and analysis-sandbox.conf. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config-load.h"
#include "exit-status.h"
#include "log.h"
#include "macro.h"
#include "parse-value.h"
#include "profile-search.h"
#include "strv.h"

static const char * const backend_names[_BACKEND_KIND_MAX] = {
        [BACKEND_SYSTEMD] = "systemd",
        [BACKEND_SLURM]   = "slurm",
};

static const Backend * const backends[_BACKEND_KIND_MAX] = {
        [BACKEND_SYSTEMD] = &backend_systemd,
        [BACKEND_SLURM]   = &backend_slurm,
};

BackendKind backend_kind_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(backend_names); i++)
                if (s && strcmp(s, backend_names[i]) == 0)
                        return (BackendKind) i;
        return _BACKEND_KIND_INVALID;
}

const Backend *backend_get(BackendKind kind) {
        return kind >= 0 && kind < _BACKEND_KIND_MAX ? backends[kind] : &backend_systemd;
}

int backend_check_features(const Backend *b, const BackendRequest *req) {
        const char *option = NULL;

        if (req->scope != RUNTIME_SCOPE_SYSTEM && !(b->features & BACKEND_USER_SCOPE)) {
                log_error("--backend=%s runs the analysis as a job of the caller, not under a service manager: "
                          "--user has no meaning there (leave it out).", b->name);
                return EXIT_SETUP_USAGE;
        }
        if (req->detach && !(b->features & BACKEND_DETACH))
                option = "--detach";
        else if (req->request->copy_workdir && !(b->features & BACKEND_COPY_WORKDIR))
                option = "--copy-workdir";
        if (!option)
                return 0;
        log_error("--backend=%s cannot be combined with %s yet.", b->name, option);
        return EXIT_SETUP_USAGE;
}

/* Per-analysis limits may only tighten what the profile's unit has. */
int backend_check_limits(const BackendRequest *req, const UnitProperties *p) {
        const Request *q = req->request;
        char want[32], have[32];

        if (q->memory_max > 0 && p->memory_max != UINT64_MAX && q->memory_max > p->memory_max)
                return log_error_errno(EPERM, "--memory=%s refused: above the %s limit of profile '%s'.",
                                       format_bytes(q->memory_max, want, sizeof(want)),
                                       format_bytes(p->memory_max, have, sizeof(have)), req->profile_name);
        if (q->cpu_percent > 0 && p->cpu_quota_per_sec_usec != UINT64_MAX &&
            (uint64_t) q->cpu_percent * 10000 > p->cpu_quota_per_sec_usec)
                return log_error_errno(EPERM, "--cpu=%u%% refused: above the %" PRIu64 "%% limit of profile '%s'.",
                                       q->cpu_percent, p->cpu_quota_per_sec_usec / 10000, req->profile_name);
        if (q->tasks_max > 0 && p->tasks_max != UINT64_MAX && q->tasks_max > p->tasks_max)
                return log_error_errno(EPERM, "--tasks=%" PRIu64 " refused: above the limit of %" PRIu64
                                       " tasks of profile '%s'.", q->tasks_max, p->tasks_max, req->profile_name);
        if (q->timeout_usec > 0 && p->runtime_max_usec != UINT64_MAX && q->timeout_usec > p->runtime_max_usec)
                return log_error_errno(EPERM, "--timeout=%s refused: above the %s time limit of profile '%s'.",
                                       format_duration(q->timeout_usec, want, sizeof(want)),
                                       format_duration(p->runtime_max_usec, have, sizeof(have)), req->profile_name);
        if (q->disk_max > 0 && p->disk_max != UINT64_MAX && q->disk_max > p->disk_max)
                return log_error_errno(EPERM, "--disk=%s refused: above the %s Disk= limit of profile '%s'.",
                                       format_bytes(q->disk_max, want, sizeof(want)),
                                       format_bytes(p->disk_max, have, sizeof(have)), req->profile_name);
        return 0;
}

/* The limits backend_check_limits() holds a request to, read from the profile itself where no unit has them
 * (without systemd, on another backend). Disk= is not enforced there: no limit to hold --disk to. */
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

int backend_load_profile(const BackendRequest *req, FallbackProfile *ret) {
        UnitProperties props;
        int r;

        r = fallback_profile_load(req->scope, req->profile_name, ret);
        if (r != 0)
                return r;
        props = profile_properties(ret);
        if (backend_check_limits(req, &props) < 0) {
                fallback_profile_done(ret);
                return EXIT_SETUP_ABOVE_PROFILE;
        }
        return 0;
}

int backend_config_load(int level, GlobalConfig **ret) {
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
                log_internal(level, 0, "%s: cannot choose or configure the backend.", text ?: "analysis-sandbox.conf");
                return EXIT_SETUP_UNAVAILABLE;
        }
        return 0;
}

void backend_entry_done(BackendEntry *e) {
        free(e->id);
        free(e->profile);
        free(e->state);
        free(e->node);
        free(e->invocation_id);
        free(e->stdout_file);
        free(e->stderr_file);
        *e = (BackendEntry) {};
}

void backend_entries_free(BackendEntry *entries, size_t n) {
        for (size_t i = 0; i < n; i++)
                backend_entry_done(entries + i);
        free(entries);
}
