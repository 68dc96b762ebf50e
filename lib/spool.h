/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The caller's side of the spool: handing a request to an analysis unit, and asking it to note a cancel. */
#pragma once

#include <stdbool.h>

#include "paths.h"
#include "request.h"

/* What the unit leaves in spool/ID/ once it has taken the request and started the output files afresh. Only
 * then may the caller follow them: until then they may hold an earlier run's output under the same id (the
 * system manager's runner does this after systemd reports the unit started). */
#define SPOOL_OUTPUT_FRESH "output-fresh"

/* Creates spool/ID/ (mode 0700) with the request in it, written atomically. A leftover spool/ID/ of ours
 * (from a run whose unit never started) is replaced; one of another user is refused with -EEXIST.
 * Returns 0 or a negative errno. */
int spool_submit(const AnalysisPaths *paths, const char *id, const Request *request);

/* Marks spool/ID/ cancelled, so the record says the caller stopped it. Returns 0 or a negative errno. */
int spool_mark_cancelled(const AnalysisPaths *paths, const char *id);

/* Removes spool/ID/ (when the unit could not be started). */
int spool_remove(const AnalysisPaths *paths, const char *id);

/* Starts watching spool/ID/ (made by spool_submit()) for SPOOL_OUTPUT_FRESH, before the unit starts, so that
 * its creation is seen even if the unit ends, and removes spool/ID/, before the caller looks. Returns an
 * inotify descriptor to poll for reading, or a negative errno. */
int spool_watch_output_fresh(const AnalysisPaths *paths, const char *id);

/* Reads what watch_fd has queued, without waiting: 1 once SPOOL_OUTPUT_FRESH was created (then and on
 * every later call), 0 if not yet, or a negative errno. *seen holds the answer between calls (start false). */
int spool_output_fresh_seen(int watch_fd, bool *seen);
