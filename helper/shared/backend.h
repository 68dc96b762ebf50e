/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ways analysis-run can run an analysis (backends): one small interface, one file per way.
 *
 * A backend takes an analysis from a checked request to its record: submit (or start) it, follow its output
 * and wait for its record, stop it, and find its record later. analysis-run picks one (--backend=,
 * [Backend] Default= of analysis-sandbox.conf, --fallback= where the chosen one cannot be reached) and never
 * branches on which it is: backend-systemd.c (a unit of the service manager), backend-rlimit.c (here, with
 * rlimits, for --fallback=rlimit) and backend-slurm.c (a Slurm batch job). analysisctl handles the service
 * manager's analyses itself (units over D-Bus) and asks the other backends through attach(), list(), gc()
 * and find_record() for the caller's analyses they keep elsewhere. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "fallback-run.h"
#include "profile.h"
#include "record.h"
#include "request.h"
#include "runtime-scope.h"
#include "unit-watch.h"

typedef enum BackendKind {
        BACKEND_SYSTEMD,
        BACKEND_SLURM,
        _BACKEND_KIND_MAX,
        _BACKEND_KIND_INVALID = -EINVAL,
} BackendKind;

/* What a backend can do besides running an analysis and waiting for it; analysis-run refuses the options
 * that need what a backend lacks. */
typedef enum BackendFeature {
        BACKEND_DETACH       = 1 << 0,  /* --detach: submit, print the id, return; analysisctl follows it */
        BACKEND_USER_SCOPE   = 1 << 1,  /* --user */
        BACKEND_COPY_WORKDIR = 1 << 2,  /* --copy-workdir */
} BackendFeature;

/* submit()'s answer when the backend cannot be reached here and BackendRequest.fallback is to run the analysis
 * instead (the service manager is gone, --fallback=rlimit). */
#define BACKEND_UNREACHABLE (-EHOSTDOWN)

/* The site's settings for the backends, from analysis-sandbox.conf (NULL global: not read, --backend=systemd). */
typedef struct BackendConfig {
        const GlobalConfig *global;
} BackendConfig;

typedef struct Backend Backend;

/* One analysis as analysis-run hands it to a backend: checked, with its profile loaded where the backend reads
 * it from its files (profile is NULL for a backend that loads it itself, see backend_load_profile()). */
typedef struct BackendRequest {
        const char *id;
        const FallbackProfile *profile; /* the profile's limits as analysis-generator reads them */
        const Request *request;         /* the caller's command, directory, environment and tighter limits */
        const char *profile_name;
        RuntimeScope scope;
        bool detach;
        const Backend *fallback;        /* --fallback=: where this backend cannot be reached; NULL for none */
        sd_event *event;                /* the loop wait() runs */
        int *cancel_signal;             /* where the signal that cancelled it goes (see Backend.stop) */
} BackendRequest;

/* A backend's handle on one submitted analysis. */
typedef struct BackendAnalysis BackendAnalysis;

/* An analysis of the calling user that a backend keeps and that has no record yet (analysisctl list, status). */
typedef struct BackendEntry {
        char *id;
        char *profile;
        char *state;                    /* the backend's own word: PENDING, RUNNING, ... */
        char *node;                     /* where it runs; NULL while not known */
        uint64_t job_id;                /* the backend's own id of it (Slurm's job id); RECORD_UNSET if none */
        uint64_t started_at_usec;       /* CLOCK_REALTIME; 0 while it has not started */
        char *invocation_id;
        RecordLimits limits;            /* in force for it; RECORD_UNSET where none */
        char *stdout_file;
        char *stderr_file;
} BackendEntry;

struct Backend {
        const char *name;
        unsigned features;              /* BackendFeature */
        /* Checks what the backend needs and submits (or starts) the analysis. Returns 0 with *ret;
         * BACKEND_UNREACHABLE; or, after logging why, an exit status of analysis-run(1): nothing is left
         * behind then. */
        int (*submit)(const BackendConfig *config, const BackendRequest *req, BackendAnalysis **ret);
        /* Copies the analysis' output to our stdout and stderr as it is written (no output for one from
         * attach()) and waits until it has a record (or the backend writes one saying why it has none).
         * Returns 0 with the record and its JSON, or, after logging why, an exit status. */
        int (*wait)(BackendAnalysis *a, sd_event *event, Record *ret, char **ret_json, size_t *ret_size);
        /* Asks the analysis to stop gracefully. Returns 0 or a negative errno. analysis-run calls it on SIGINT
         * and SIGTERM during wait(). NULL for a backend that runs the analysis in this process: its wait()
         * stops it on those signals itself and puts the signal in *BackendRequest.cancel_signal. */
        int (*stop)(BackendAnalysis *a);
        BackendAnalysis *(*free)(BackendAnalysis *a);

        /* For analysisctl, NULL where it handles the backend's analyses itself (systemd, and rlimit, whose
         * records share its results directory). Each returns -ENXIO when the backend is not configured. */

        /* Loads the record of analysis id of the calling user. Returns 0, -ENOENT when there is none (yet),
         * or a negative errno. */
        int (*find_record)(const BackendConfig *config, const char *id, Record *ret, char **ret_json,
                           size_t *ret_size);

        /* Finds analysis id of the calling user, submitted earlier and without a record yet, for wait() and
         * stop(). Returns 0 with *ret, -ENOENT when there is none, or a negative errno after logging. */
        int (*attach)(const BackendConfig *config, const char *id, BackendAnalysis **ret);
        /* The calling user's analyses without a record whose backend still has them (of id only, unless
         * NULL), sorted by id, asking the backend once for all. Returns 0 with *ret and *ret_n (free with
         * backend_entries_free()), or a negative errno after logging. */
        int (*list)(const BackendConfig *config, const char *id, BackendEntry **ret, size_t *ret_n);
        /* Removes the records, output files and directories of the calling user's ended analyses none of whose
         * files changed since cutoff (CLOCK_REALTIME). Returns 0 with the number of analyses removed, or a
         * negative errno after logging (the others are still removed). */
        int (*gc)(const BackendConfig *config, uint64_t cutoff_usec, unsigned *ret_removed);
        /* The directory with the calling user's records (ID.json) and output. */
        int (*results_dir)(const BackendConfig *config, char **ret);
};

extern const Backend backend_systemd;
extern const Backend backend_rlimit;
extern const Backend backend_slurm;

/* "systemd" or "slurm" to its kind, or -EINVAL. */
BackendKind backend_kind_from_string(const char *s);

/* The backend of kind (systemd for an invalid kind). */
const Backend *backend_get(BackendKind kind);

/* Refuses, after saying why, what req asks that backend b cannot do. Returns 0 or EXIT_SETUP_USAGE. */
int backend_check_features(const Backend *b, const BackendRequest *req);

/* Holds req's tighter limits to the profile's as p has them loaded (UINT64_MAX: none): they may only tighten.
 * Returns 0, or -EPERM after saying which one is above. */
int backend_check_limits(const BackendRequest *req, const UnitProperties *p);

/* For a backend with no unit to hold the profile: loads req's profile from its files as analysis-generator
 * does, for req->scope, and holds the request to its limits. Returns 0 with *ret, or an exit status after
 * logging. */
int backend_load_profile(const BackendRequest *req, FallbackProfile *ret);

/* Loads analysis-sandbox.conf as analysis-generator does (strictly: a bad file is an error naming file and
 * line). Returns 0, or an exit status after logging at level (LOG_ERR, or LOG_WARNING for a caller that goes
 * on without it). */
int backend_config_load(int level, GlobalConfig **ret);

void backend_entry_done(BackendEntry *e);
void backend_entries_free(BackendEntry *entries, size_t n);
