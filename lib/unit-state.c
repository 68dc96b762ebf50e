/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an analysis unit notes when it starts, for its runner and for its record. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "entry-file.h"
#include "parse-value.h"
#include "strv.h"
#include "unit-state.h"

int unit_state_serialize(const UnitState *s, char **ret_data, size_t *ret_size) {
        _cleanup_free_ char *data = strdup(UNIT_STATE_MAGIC);
        size_t size = strlen(UNIT_STATE_MAGIC) + 1;
        char runtime[32], grace[32], started[32], uid[32];
        int r;

        if (!data)
                return -ENOMEM;
        (void) snprintf(runtime, sizeof(runtime), "%" PRIu64, s->runtime_max_usec);
        (void) snprintf(grace, sizeof(grace), "%" PRIu64, s->kill_grace_usec);
        (void) snprintf(started, sizeof(started), "%" PRIu64, s->started_at_usec);
        (void) snprintf(uid, sizeof(uid), "%" PRIu64,
                        s->caller_uid == (uid_t) -1 ? UINT64_MAX : (uint64_t) s->caller_uid);
        r = entry_append(&data, &size, "profile", s->profile);
        if (r >= 0)
                r = entry_append(&data, &size, "runtime_max_usec", runtime);
        if (r >= 0)
                r = entry_append(&data, &size, "kill_grace_usec", grace);
        if (r >= 0)
                r = entry_append(&data, &size, "started_at_usec", started);
        if (r >= 0)
                r = entry_append(&data, &size, "caller_uid", uid);
        if (r >= 0)
                r = entry_append(&data, &size, "has_request", s->has_request ? "1" : "0");
        if (r >= 0 && s->error)
                r = entry_append(&data, &size, "error", s->error);
        if (r >= 0 && s->boot_id[0])
                r = entry_append(&data, &size, "boot_id", s->boot_id);
        if (r >= 0 && s->invocation_id[0])
                r = entry_append(&data, &size, "invocation_id", s->invocation_id);
        if (r < 0)
                return r;
        *ret_data = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

int unit_state_parse(const char *data, size_t size, UnitState **ret, char **ret_reason) {
        _cleanup_strv_free_ char **entries = NULL;
        _cleanup_(unit_state_freep) UnitState *s = NULL;
        const char *profile, *runtime, *grace, *started, *uid, *has_request, *error, *boot_id, *invocation_id;
        uint64_t u;
        int r;

        r = entry_data_parse(data, size, UNIT_STATE_MAGIC, &entries, ret_reason);
        if (r < 0)
                return r;
        profile = entry_get(entries, "profile");
        runtime = entry_get(entries, "runtime_max_usec");
        grace = entry_get(entries, "kill_grace_usec");
        started = entry_get(entries, "started_at_usec");
        uid = entry_get(entries, "caller_uid");
        has_request = entry_get(entries, "has_request");
        error = entry_get(entries, "error");
        boot_id = entry_get(entries, "boot_id");
        invocation_id = entry_get(entries, "invocation_id");
        s = calloc(1, sizeof(UnitState));
        if (!s)
                return -ENOMEM;
        if (!profile || !runtime || !grace || !started || !uid || !has_request ||
            parse_uint64(runtime, &s->runtime_max_usec) < 0 || parse_uint64(grace, &s->kill_grace_usec) < 0 ||
            parse_uint64(started, &s->started_at_usec) < 0 || parse_uint64(uid, &u) < 0) {
                *ret_reason = strdup("incomplete unit state");
                return -EBADMSG;
        }
        s->caller_uid = u == UINT64_MAX ? (uid_t) -1 : (uid_t) u;
        if ((boot_id && strlen(boot_id) >= sizeof(s->boot_id)) ||
            (invocation_id && strlen(invocation_id) >= sizeof(s->invocation_id))) {
                *ret_reason = strdup("malformed boot or invocation id in unit state");
                return -EBADMSG;
        }
        (void) snprintf(s->boot_id, sizeof(s->boot_id), "%s", strempty(boot_id));
        (void) snprintf(s->invocation_id, sizeof(s->invocation_id), "%s", strempty(invocation_id));
        s->has_request = strcmp(has_request, "1") == 0;
        s->profile = strdup(profile);
        s->error = error ? strdup(error) : NULL;
        if (!s->profile || (error && !s->error))
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

UnitState *unit_state_free(UnitState *s) {
        if (!s)
                return NULL;
        free(s->profile);
        free(s->error);
        free(s);
        return NULL;
}
