/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The durable note that an analysis is running: running/ID, a copy of its unit state (unit-state.h) with the
 * boot and the run of the unit it belongs to, written to disk (fsync()ed, with its directory) before the
 * analysis starts and removed once its record is complete. Whatever is left of it tells the tools that write a
 * record in place of a recorder that never finished (analysis-record complete, after the unit; analysis-record
 * recover, after the next boot) which analyses are owed one. */
#pragma once

#include "unit-state.h"

/* The kernel's id of the current boot, 32 hex digits (/proc/sys/kernel/random/boot_id without dashes).
 * Returns 0 or a negative errno. */
int current_boot_id(char ret[static 33]);

/* Writes state as dir/id, whole, to disk, making dir if need be (mode 0700). Returns 0 or a negative errno. */
int running_mark_write(const char *dir, const char *id, const UnitState *state);

/* Reads dir_fd/name: only a file owned by the caller's own uid (root, or the user of a user manager) is
 * believed. Returns 0 with *ret, -ENOENT, -EBADMSG, or another negative errno. */
int running_mark_read_at(int dir_fd, const char *name, UnitState **ret);

/* Removes dir/id, and makes the removal durable. Returns 0 (also when there was nothing), or a negative errno. */
int running_mark_remove(const char *dir, const char *id);
