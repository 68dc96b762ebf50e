/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exit statuses of analysis-run (and of analysisctl wait), documented in analysis-run(1). */
#pragma once

#include <systemd/sd-bus.h>

#include "record.h"

enum {
        EXIT_ANALYSIS_TIMEOUT        = 124,     /* ran past its time limit (as timeout(1)) */
        EXIT_ANALYSIS_OOM            = 125,     /* killed at its memory limit */
        EXIT_SIGNAL_BASE             = 128,     /* + signal number: killed by a signal (as the shell) */
        EXIT_ANALYSIS_HOST_STOPPED   = 71,      /* the host stopped under it: crash, reset, power loss (EX_OSERR) */

        EXIT_SETUP_USAGE             = 64,      /* bad option or id (EX_USAGE) */
        EXIT_SETUP_ABOVE_PROFILE     = 65,      /* a limit above the profile's (EX_DATAERR) */
        EXIT_SETUP_UNKNOWN_PROFILE   = 66,      /* no such profile (EX_NOINPUT) */
        EXIT_SETUP_UNAVAILABLE       = 69,      /* no service manager, bus error, unit failed to start */
        EXIT_SETUP_NO_RECORD         = 70,      /* ended without a valid record (EX_SOFTWARE) */
        EXIT_COPY_BACK               = 74,      /* ran, but --copy-workdir could not copy its files back (EX_IOERR) */
        EXIT_SETUP_BUSY              = 75,      /* the id is already running (EX_TEMPFAIL) */
        EXIT_SETUP_PERMISSION        = 77,      /* not allowed (EX_NOPERM) */
        EXIT_SETUP_NO_COMMAND        = 127,     /* no such command (as the shell) */
};

/* The exit status for the outcome a record describes. cancel_signal is the signal that made us cancel
 * (0 if none). */
int exit_status_from_record(const Record *r, int cancel_signal);

/* The number of a signal named without "SIG" ("KILL"), or 0. */
int signal_from_name(const char *name);

/* The exit status for a call to the service manager that failed with r and error: EXIT_SETUP_PERMISSION
 * when polkit or the bus denied it, EXIT_SETUP_UNAVAILABLE otherwise. */
int exit_status_from_bus_error(const sd_bus_error *error, int r);
