/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an analysis unit notes when it starts (from its profile and the caller's request) for its runner and
 * for the record written when it stops: a snapshot, so a daemon-reload with an edited profile in between
 * cannot change the story. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

#define UNIT_STATE_MAGIC "analysis-sandbox-unit-state-1"

typedef struct UnitState {
        char *profile;
        uint64_t runtime_max_usec;      /* the profile's Runtime= */
        uint64_t kill_grace_usec;       /* the profile's KillGrace= */
        uint64_t started_at_usec;       /* CLOCK_REALTIME */
        uid_t caller_uid;               /* owner of the spooled request, (uid_t) -1 without one */
        bool has_request;               /* a validated request sits beside the state */
        char *error;                    /* why the spooled request was refused, or NULL */
        /* Where the state is also the durable note that the analysis runs (running-mark.h): which boot and
         * which run of the unit; empty where not known (a state written by an earlier version). */
        char boot_id[33];
        char invocation_id[33];
} UnitState;

int unit_state_serialize(const UnitState *s, char **ret_data, size_t *ret_size);

/* Returns 0 with *ret, or -EBADMSG with a reason, or -ENOMEM. */
int unit_state_parse(const char *data, size_t size, UnitState **ret, char **ret_reason);

UnitState *unit_state_free(UnitState *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitState *, unit_state_free);
