/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-recover: writes the records that the recorder of an analysis' unit (analysis-record finish,
 * ExecStopPost=) could not. "unit ID" runs as analysis-sandbox-recover@ID.service, which every analysis unit
 * names in OnFailure=: a recorder that was killed (the kill grace ran out on a slow host, SIGKILL, a crash of
 * ours) fails the unit. "boot" runs as analysis-sandbox-recover.service once per boot, for the analyses the
 * host stopped under. Both run outside the analyses' slice, with the service manager's ordinary budget. */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "analysis-id.h"
#include "config.h"
#include "log.h"
#include "paths.h"
#include "recover.h"

static RuntimeScope arg_scope = RUNTIME_SCOPE_SYSTEM;

static void help(void) {
        printf("%1$s [--user] unit ID\n"
               "%1$s [--user] boot\n\n"
               "Writes the records of analyses whose own unit could not: \"unit\" after analysis unit ID failed\n"
               "(run as analysis-sandbox-recover@ID.service), \"boot\" for the analyses that were running when\n"
               "the host stopped (run as analysis-sandbox-recover.service). See analysis-run(1), RECORDS.\n\n"
               "  -h --help      Show this help\n"
               "     --version  Show the version\n"
               "     --user     The analyses of the calling user's service manager\n",
               program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_USER, ARG_SYSTEM };
        static const struct option options[] = {
                { "help",    no_argument, NULL, 'h'         },
                { "version", no_argument, NULL, ARG_VERSION },
                { "user",    no_argument, NULL, ARG_USER    },
                { "system",  no_argument, NULL, ARG_SYSTEM  },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("analysis-sandbox %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_USER:
                        arg_scope = RUNTIME_SCOPE_USER;
                        break;
                case ARG_SYSTEM:
                        arg_scope = RUNTIME_SCOPE_SYSTEM;
                        break;
                default:
                        return -EINVAL;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(analysis_paths_done) AnalysisPaths paths = {};
        const char *verb;
        int r;

        log_open(LOG_TARGET_STDERR);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        verb = optind < argc ? argv[optind] : NULL;
        if (!verb || !((strcmp(verb, "unit") == 0 && argc - optind == 2) ||
                       (strcmp(verb, "boot") == 0 && argc - optind == 1))) {
                log_error("Expected \"unit ID\" or \"boot\", see --help.");
                return EXIT_FAILURE;
        }
        if (strcmp(verb, "unit") == 0 && !analysis_id_is_valid(argv[optind + 1])) {
                log_error("Invalid analysis id '%s'.", argv[optind + 1]);
                return EXIT_FAILURE;
        }
        if (arg_scope == RUNTIME_SCOPE_SYSTEM && geteuid() != 0) {
                log_error("Only root can write the records of the system's analyses (or use --user).");
                return EXIT_FAILURE;
        }
        r = analysis_paths_get(arg_scope, &paths);
        if (r < 0) {
                log_error_errno(r, "Cannot find the directories of the analyses: %m");
                return EXIT_FAILURE;
        }
        r = strcmp(verb, "unit") == 0 ? recover_unit(&paths, arg_scope, argv[optind + 1])
                                      : recover_boot(&paths, arg_scope);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
