/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Following analysis-sandbox-recover@ID.service, which an analysis unit starts when it fails (OnFailure=):
 * its recorder may have been stopped before the record was written or complete, and analysis-recover then
 * writes or completes it. A caller reads the record of a failed unit only once that is done. */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "unit-watch.h"

typedef struct RecoverWatch RecoverWatch;

/* Whether an analysis unit that ended in active_state may still have its record written by analysis-recover. */
bool recover_may_follow(const char *active_state);

/* Follows the recovery of analysis id over bus: done is called once it is inactive or failed with no job, at
 * once if it is so already (systemd queues its job before it says that the analysis unit failed, so a
 * recovery is never missed). Besides the unit's signals, its state is read again every second on event: a
 * caller must never wait for ever on a signal that went astray. Returns 0 or a negative errno. */
int recover_watch_new(RecoverWatch **ret, sd_bus *bus, sd_event *event, const char *id, UnitWatchDone done,
                      void *userdata);

bool recover_watch_is_done(const RecoverWatch *w);

RecoverWatch *recover_watch_free(RecoverWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(RecoverWatch *, recover_watch_free);
