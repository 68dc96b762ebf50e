/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where analyses keep their files, for the system manager and for a user's. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "paths.h"

int user_state_home(char **ret) {
        const char *state = secure_getenv("XDG_STATE_HOME"), *home = secure_getenv("HOME");

        /* The XDG base directory spec says relative values are to be ignored. */
        if (state && state[0] == '/')
                *ret = strdup(state);
        else if (home && home[0] == '/')
                *ret = strprintf("%s/.local/state", strcmp(home, "/") == 0 ? "" : home);
        else
                return -ENXIO;
        return *ret ? 0 : -ENOMEM;
}

int analysis_results_dir(RuntimeScope scope, char **ret) {
        _cleanup_free_ char *state = NULL;
        int r;

        if (scope == RUNTIME_SCOPE_SYSTEM)
                *ret = strdup("/var/lib/analysis-sandbox/results");
        else {
                r = user_state_home(&state);
                if (r < 0)
                        return r;
                *ret = strprintf("%s/analysis-sandbox/results", state);
        }
        return *ret ? 0 : -ENOMEM;
}

int analysis_paths_get(RuntimeScope scope, AnalysisPaths *ret) {
        AnalysisPaths p = {};
        const char *runtime;
        int r;

        if (scope == RUNTIME_SCOPE_SYSTEM)
                runtime = "/run";
        else {
                runtime = secure_getenv("XDG_RUNTIME_DIR");
                if (!runtime || runtime[0] != '/')
                        return -ENXIO;
        }
        r = analysis_results_dir(scope, &p.results_dir);
        if (r < 0)
                return r;
        p.spool_dir = strprintf("%s/analysis-sandbox/spool", runtime);
        p.units_dir = strprintf("%s/analysis-sandbox/units", runtime);
        p.runner_dir = strprintf("%s/analysis-sandbox/runner", runtime);
        /* results/ is STATE/analysis-sandbox/results: running/ is its sibling, on the same disk. */
        p.running_dir = p.results_dir ? strprintf("%.*s/running", (int) (strrchr(p.results_dir, '/') - p.results_dir),
                                                  p.results_dir) : NULL;
        if (!p.spool_dir || !p.units_dir || !p.runner_dir || !p.results_dir || !p.running_dir) {
                analysis_paths_done(&p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

void analysis_paths_done(AnalysisPaths *p) {
        free(p->spool_dir);
        free(p->units_dir);
        free(p->runner_dir);
        free(p->results_dir);
        free(p->running_dir);
        *p = (AnalysisPaths) {};
}
