/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sending one structured message to the journal over its native socket, without linking libsystemd. */
#pragma once

/* Sends message with PRIORITY=priority, SYSLOG_IDENTIFIER=identifier and the extra "FIELD=value" strings
 * of fields (NULL-terminated, may be NULL). Fields set by the sender hold even when journald can no longer
 * tell which unit the sender belonged to (it finds that through /proc, and a process that exits right after
 * logging is gone by then). Returns 0, or a negative errno (e.g. -ENOENT where no journald runs). */
int journal_send(int priority, const char *identifier, char * const *fields, const char *message);
