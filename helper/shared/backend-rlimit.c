/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rlimit backend of analysis-run (--fallback=rlimit): the analysis run here, by us, without a service
 * manager.
 *
 * submit reads the profile from its files and holds the request to it; wait runs the analysis (fallback_run():
 * setrlimit() limits, a timer, a process-group kill, the record written by us) and, as it runs in this process,
 * stops it on SIGINT and SIGTERM itself. There is no stop() to call from outside. */

#include <stdlib.h>

#include "backend.h"
#include "exit-status.h"
#include "log.h"

struct BackendAnalysis {
        FallbackProfile profile;
        FallbackRequest request;
        int *cancel_signal;
};

static BackendAnalysis *rlimit_free(BackendAnalysis *a) {
        if (!a)
                return NULL;
        fallback_profile_done(&a->profile);
        free(a);
        return NULL;
}

static int rlimit_submit(const BackendConfig *config, const BackendRequest *req, BackendAnalysis **ret) {
        BackendAnalysis *a;
        int r;

        a = calloc(1, sizeof(BackendAnalysis));
        if (!a)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        r = backend_load_profile(req, &a->profile);
        if (r != 0) {
                free(a);
                return r;
        }
        /* The request lives as long as analysis-run's: until after wait(). */
        a->request = (FallbackRequest) { .scope = req->scope, .id = req->id, .request = req->request };
        a->cancel_signal = req->cancel_signal;
        *ret = a;
        return 0;
}

static int rlimit_wait(BackendAnalysis *a, sd_event *event, Record *ret, char **ret_json, size_t *ret_size) {
        return fallback_run(&a->profile, &a->request, event, ret, ret_json, ret_size, a->cancel_signal);
}

const Backend backend_rlimit = {
        .name = "rlimit",
        .features = BACKEND_USER_SCOPE | BACKEND_COPY_WORKDIR,
        .submit = rlimit_submit,
        .wait = rlimit_wait,
        .free = rlimit_free,
};
