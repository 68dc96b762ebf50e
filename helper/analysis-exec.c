/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-exec: the in-unit runner, ExecStart= of every analysis unit; runs the analysis' command. */

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "log.h"

static void help(void) {
        printf("%s [--] [COMMAND [ARG...]]\n\n"
               "Runs inside an analysis unit (analysis@.service and its siblings) and executes the\n"
               "analysis' command: COMMAND, which the unit passes from its profile's Exec=.\n\n"
               "  -h --help       Show this help\n"
               "     --version    Show the version\n\n"
               "Not meant to be called by hand; see analysis-sandbox.profile(5).\n",
               program_invocation_short_name);
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                { "help",    no_argument, NULL, 'h'         },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        const char *id = getenv("ANALYSIS_ID"), *profile = getenv("ANALYSIS_PROFILE");
        int c;

        log_open(LOG_TARGET_STDERR);
        /* "+" stops at the first non-option, so the command's own options are left alone. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("analysis-sandbox %s\n", PROJECT_VERSION);
                        return EXIT_SUCCESS;
                default:
                        return EX_USAGE;
                }

        if (optind >= argc) {
                log_error("Analysis '%s' has no command: profile '%s' has no Exec= and none was given. "
                          "Set Exec= in the profile, or start the analysis with analysis-run.",
                          id ?: "?", profile ?: "?");
                return EX_CONFIG;
        }
        execv(argv[optind], argv + optind);
        log_error_errno(errno, "Analysis '%s': cannot execute %s: %m", id ?: "?", argv[optind]);
        return errno == ENOENT ? 127 : 126;
}
