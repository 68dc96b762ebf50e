/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The caller's side of the spool: handing a request to an analysis unit, and asking it to note a cancel. */
#pragma once

#include "paths.h"
#include "request.h"

/* Creates spool/ID/ (mode 0700) with the request in it, written atomically. A leftover spool/ID/ of ours
 * (from a run whose unit never started) is replaced; one of another user is refused with -EEXIST.
 * Returns 0 or a negative errno. */
int spool_submit(const AnalysisPaths *paths, const char *id, const Request *request);

/* Marks spool/ID/ cancelled, so the record says the caller stopped it. Returns 0 or a negative errno. */
int spool_mark_cancelled(const AnalysisPaths *paths, const char *id);

/* Removes spool/ID/ (when the unit could not be started). */
int spool_remove(const AnalysisPaths *paths, const char *id);
