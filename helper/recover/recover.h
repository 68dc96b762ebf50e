/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-recover: the records no recorder wrote. */
#pragma once

#include "paths.h"
#include "runtime-scope.h"

#define RECOVER_IDENTIFIER "analysis-recover"

/* After analysis unit of id failed (OnFailure=): completes what its recorder left undone, or writes the record
 * in its place from what systemd kept. Returns 0 or a negative errno, after logging. */
int recover_unit(const AnalysisPaths *paths, RuntimeScope scope, const char *id);

/* After a boot: a record for every analysis that was running when the host stopped. Returns 0, or a negative
 * errno when some could not be written, after logging each. */
int recover_boot(const AnalysisPaths *paths, RuntimeScope scope);
