/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sending one structured message to the journal over its native socket, without linking libsystemd. */
#pragma once

#include "macro.h"

/* Sends message with PRIORITY=priority, SYSLOG_IDENTIFIER=identifier and the extra "FIELD=value" strings
 * of fields (NULL-terminated, may be NULL). Fields set by the sender hold even when journald can no longer
 * tell which unit the sender belonged to (it finds that through /proc, and a process that exits right after
 * logging is gone by then). Returns 0, or a negative errno (e.g. -ENOENT where no journald runs). */
int journal_send(int priority, const char *identifier, char * const *fields, const char *message);

/* journal_send() of a message about analysis id (and its profile, when known) tagged ANALYSIS_ID= and
 * ANALYSIS_PROFILE=, formatted like printf(); syslog(3) where no journald runs. For the programs that run
 * inside analysis units, whose stdout and stderr are the analysis' own output files. */
void journal_log_analysis(int priority, const char *identifier, const char *id, const char *profile,
                          const char *format, ...) _printf_(5, 6);
