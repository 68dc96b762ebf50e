/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ways analysis-run can run an analysis (backends): one small interface, one file per way.
 *
 * A backend takes an analysis from a checked request to its record: submit (or start) it, follow its output
 * and wait for its record, stop it, and find its record later. analysis-run picks one (--backend=,
 * [Backend] Default= of analysis-sandbox.conf) and never branches on which it is.
 *
 * Today only Slurm (backend-slurm.c) is behind this interface. The systemd path (analysis-run.c with
 * unit-watch.c) and --fallback=rlimit (fallback-run.c, fallback-rlimit.c) predate it and will move behind it
 * as backend-systemd.c and backend-rlimit.c: submit = spool_submit() + unit_watch_start() (resp.
 * fallback_run() up to rlimit_run()), wait = wait_for_unit() + read_record() (resp. the rest of
 * fallback_run()), stop = the cancel marker + StopUnit (resp. the process-group kill), find_record =
 * record_file_load() in the scope's results directory. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "fallback-run.h"
#include "profile.h"
#include "record.h"
#include "request.h"

typedef enum BackendKind {
        BACKEND_SYSTEMD,
        BACKEND_SLURM,
        _BACKEND_KIND_MAX,
        _BACKEND_KIND_INVALID = -EINVAL,
} BackendKind;

/* The site's settings for the backends, from analysis-sandbox.conf. */
typedef struct BackendConfig {
        const GlobalConfig *global;
} BackendConfig;

/* One analysis as analysis-run hands it to a backend: checked, with its profile loaded. */
typedef struct BackendRequest {
        const char *id;
        const FallbackProfile *profile; /* the profile's limits as analysis-generator reads them */
        const Request *request;         /* the caller's command, directory, environment and tighter limits */
} BackendRequest;

/* A backend's handle on one submitted analysis. */
typedef struct BackendAnalysis BackendAnalysis;

typedef struct Backend {
        const char *name;
        /* Checks what the backend needs and submits (or starts) the analysis. Returns 0 with *ret, or, after
         * logging why, an exit status of analysis-run(1); nothing is left behind then. */
        int (*submit)(const BackendConfig *config, const BackendRequest *req, BackendAnalysis **ret);
        /* Copies the analysis' output to our stdout and stderr as it is written and waits until it has a
         * record (or the backend writes one saying why it has none). Returns 0 with the record and its JSON,
         * or, after logging why, an exit status. */
        int (*wait)(BackendAnalysis *a, sd_event *event, Record *ret, char **ret_json, size_t *ret_size);
        /* Asks the analysis to stop gracefully. Returns 0 or a negative errno. */
        int (*stop)(BackendAnalysis *a);
        /* Loads the record of analysis id of the calling user. Returns 0, -ENOENT when there is none (yet), or
         * a negative errno. */
        int (*find_record)(const BackendConfig *config, const char *id, Record *ret, char **ret_json,
                           size_t *ret_size);
        BackendAnalysis *(*free)(BackendAnalysis *a);
} Backend;

extern const Backend backend_slurm;

/* "systemd" or "slurm" to its kind, or -EINVAL. */
BackendKind backend_kind_from_string(const char *s);

/* The backend of kind, or NULL for those not behind this interface yet (systemd). */
const Backend *backend_get(BackendKind kind);
