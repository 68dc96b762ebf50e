/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exit statuses of analysis-run (and of analysisctl wait), documented in analysis-run(1). */

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "exit-status.h"

int signal_from_name(const char *name) {
        if (!name)
                return 0;
        for (int sig = 1; sig < NSIG; sig++) {
                const char *abbrev = sigabbrev_np(sig);

                if (abbrev && strcmp(abbrev, name) == 0)
                        return sig;
        }
        return 0;
}

static bool result_is(const Record *r, const char *word) {
        return r->result && strcmp(r->result, word) == 0;
}

int exit_status_from_record(const Record *r, int cancel_signal) {
        int sig;

        if (r->error)
                return EXIT_SETUP_UNAVAILABLE;
        if (result_is(r, "host-stopped"))
                return EXIT_ANALYSIS_HOST_STOPPED;
        if (result_is(r, "oom-kill"))
                return EXIT_ANALYSIS_OOM;
        if (result_is(r, "timeout"))
                return EXIT_ANALYSIS_TIMEOUT;
        if (result_is(r, "cancelled"))
                return EXIT_SIGNAL_BASE + (cancel_signal > 0 ? cancel_signal : SIGTERM);
        if (r->exit_code && strcmp(r->exit_code, "exited") == 0 && r->exit_status >= 0)
                return (int) r->exit_status;
        sig = signal_from_name(r->signal);
        if (sig > 0)
                return EXIT_SIGNAL_BASE + sig;
        return EXIT_SETUP_UNAVAILABLE;
}

int exit_status_from_bus_error(const sd_bus_error *error, int r) {
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                   "org.freedesktop.DBus.Error.AuthFailed") || r == -EACCES || r == -EPERM)
                return EXIT_SETUP_PERMISSION;
        return EXIT_SETUP_UNAVAILABLE;
}
