/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table of analysis-run's backends (see backend.h). */

#include <string.h>

#include "backend.h"
#include "macro.h"

static const char * const backend_names[_BACKEND_KIND_MAX] = {
        [BACKEND_SYSTEMD] = "systemd",
        [BACKEND_SLURM]   = "slurm",
};

BackendKind backend_kind_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(backend_names); i++)
                if (s && strcmp(s, backend_names[i]) == 0)
                        return (BackendKind) i;
        return _BACKEND_KIND_INVALID;
}

const Backend *backend_get(BackendKind kind) {
        return kind == BACKEND_SLURM ? &backend_slurm : NULL;
}
