/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where analyses keep their files, for the system manager and for a user's. */
#pragma once

#include "runtime-scope.h"

typedef struct AnalysisPaths {
        char *spool_dir;        /* requests written by callers: spool/ID/ */
        char *units_dir;        /* what the unit itself keeps while it runs: units/ID/ (root-owned) */
        char *runner_dir;       /* RuntimeDirectory= of the runner: runner/ID/ (the analysis' account) */
        char *results_dir;      /* records and output: results/ID.json, ID.stdout, ID.stderr */
        char *running_dir;      /* on disk beside results/: running/ID while an analysis is owed its record */
} AnalysisPaths;

/* Fills *ret for scope: below /run/analysis-sandbox and /var/lib/analysis-sandbox/{results,running} for the
 * system, below $XDG_RUNTIME_DIR/analysis-sandbox and $XDG_STATE_HOME/analysis-sandbox/{results,running}
 * (default ~/.local/state) for a user. Returns 0, -ENXIO when a user's directories are not known, or -ENOMEM. */
int analysis_paths_get(RuntimeScope scope, AnalysisPaths *ret);

/* Frees the fields. */
void analysis_paths_done(AnalysisPaths *p);

/* The results directory alone (records and output files), which needs neither $XDG_RUNTIME_DIR nor /run:
 * what analysis-run --fallback=rlimit writes to. Returns 0, -ENXIO or -ENOMEM. */
int analysis_results_dir(RuntimeScope scope, char **ret);

/* The state directory for a user: $XDG_STATE_HOME, or ~/.local/state. Returns 0, -ENXIO or -ENOMEM. */
int user_state_home(char **ret);
