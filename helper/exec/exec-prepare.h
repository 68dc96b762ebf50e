/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runner's root part, under the system manager: preparing the analysis, then becoming its account. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "analysis-prepare.h"

/* Checks and snapshots the request in the host's mount namespace (analysis_prepare()), and brings the output
 * directory (and, with private_tmp, /tmp and /var/tmp) into this process' own. *ret_uid and *ret_gid are the
 * analysis' account. Logs why it failed. Returns 0, -EPERM when the request is refused, or another negative
 * errno. */
int runner_prepare(const PrepareOptions *o, bool private_tmp, uid_t *ret_uid, gid_t *ret_gid);

/* Becomes uid:gid for good, keeping the supplementary groups systemd set (the account's own). Returns 0 or a
 * negative errno. */
int runner_become_account(uid_t uid, gid_t gid);
