/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl: lists, inspects, waits for and stops analyses, shows their records, removes old ones, and
 * shows the profiles as they take effect. The verbs live in ctl-*.c. */

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis-id.h"
#include "config.h"
#include "ctl.h"
#include "exit-status.h"
#include "log.h"
#include "parse-value.h"
#include "profile.h"
#include "record-file.h"
#include "time-util.h"

typedef struct Verb {
        const char *name;
        unsigned min_args;
        unsigned max_args;
        int (*run)(Ctl *c, char **args);
} Verb;

static const Verb verbs[] = {
        { "list",     0, 0, verb_list     },
        { "status",   1, 1, verb_status   },
        { "wait",     1, 1, verb_wait     },
        { "stop",     1, 1, verb_stop     },
        { "notes",    1, 1, verb_notes    },
        { "gc",       0, 0, verb_gc       },
        { "profiles", 0, 0, verb_profiles },
        { "plot",     1, 1, verb_plot     },
        { "report",   0, 0, verb_report   },
        { "suggest",  1, 1, verb_suggest  },
        { "metrics",  0, 0, verb_metrics  },
};

static void help(void) {
        printf("%s [OPTIONS...] COMMAND ...\n\n"
               "Watches and manages analyses run by analysis-run or systemctl start.\n\n"
               "Commands:\n"
               "  list                  List running analyses with their usage and limits (default)\n"
               "  status ID             Show an analysis: state, limits, usage, last output or record\n"
               "  wait ID               Wait for an analysis to end and show its notes\n"
               "  stop ID               Stop an analysis gracefully; its record says cancelled\n"
               "  notes ID              Show the record of a finished analysis\n"
               "  gc --older-than=SPAN  Remove records and output older than SPAN\n"
               "  profiles              Show every profile as it takes effect, and where it comes from\n"
               "  plot ID -o FILE.svg   Draw an ended analysis' memory and CPU over time against its limits\n"
               "  report                Per profile: how analyses ended, how much of their limits they used\n"
               "  suggest PROFILE       Suggest the profile's limits from its past analyses, as a drop-in\n"
               "  metrics               Print the host's analyses as Prometheus metrics\n\n"
               "Options:\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "     --system           Use the system's service manager (default)\n"
               "     --user             Use the calling user's service manager\n"
               "     --user=NAME        report, suggest: only the analyses NAME started\n"
               "     --json             Print JSON (list, status, wait, notes, profiles, report, suggest)\n"
               "  -q --quiet            Print less: no summary for wait, no header for list\n"
               "     --no-block         stop: do not wait for the analysis to end\n"
               "  -n --lines=N          status: lines of output to show (default: 10)\n"
               "     --older-than=SPAN  gc: age of the records to remove, such as 30d\n"
               "     --profile=NAME     report: only this profile's analyses\n"
               "     --since=TIME       report, suggest: analyses that ended at or after TIME\n"
               "                        (2026-12-01, \"2026-12-01 08:00\", today, yesterday, -7d)\n"
               "     --until=TIME       report, suggest: analyses that ended before TIME\n"
               "     --margin=PERCENT   suggest: room above the 95th percentile (default: 15%%)\n"
               "     --write            suggest: install the drop-in (root; then daemon-reload)\n"
               "     --plot=FILE        report: also draw each profile's peak memory and runtime against\n"
               "                        its limits as SVG (- for standard output, instead of the text)\n"
               "  -o --output=FILE      plot: the SVG file to write (- for standard output);\n"
               "                        metrics: write FILE atomically instead of printing\n\n"
               "See analysisctl(1).\n",
               program_invocation_short_name);
}

/* A user name or numeric UID. Returns 0 or -ESRCH. */
static int parse_user(const char *s, uid_t *ret) {
        struct passwd *pw = getpwnam(s);
        uint64_t uid;

        if (pw) {
                *ret = pw->pw_uid;
                return 0;
        }
        if (parse_uint64(s, &uid) >= 0 && uid < UINT32_MAX) {
                *ret = (uid_t) uid;
                return 0;
        }
        return -ESRCH;
}

static int parse_argv(int argc, char *argv[], Ctl *c) {
        enum {
                ARG_VERSION = 0x100, ARG_SYSTEM, ARG_USER, ARG_JSON, ARG_NO_BLOCK, ARG_OLDER_THAN, ARG_PROFILE,
                ARG_SINCE, ARG_UNTIL, ARG_MARGIN, ARG_WRITE, ARG_PLOT,
        };
        static const struct option options[] = {
                { "help",       no_argument,       NULL, 'h'            },
                { "version",    no_argument,       NULL, ARG_VERSION    },
                { "system",     no_argument,       NULL, ARG_SYSTEM     },
                /* --user alone is the user's manager, as systemctl's; --user=NAME filters by caller. */
                { "user",       optional_argument, NULL, ARG_USER       },
                { "json",       no_argument,       NULL, ARG_JSON       },
                { "quiet",      no_argument,       NULL, 'q'            },
                { "no-block",   no_argument,       NULL, ARG_NO_BLOCK   },
                { "lines",      required_argument, NULL, 'n'            },
                { "older-than", required_argument, NULL, ARG_OLDER_THAN },
                { "profile",    required_argument, NULL, ARG_PROFILE    },
                { "since",      required_argument, NULL, ARG_SINCE      },
                { "until",      required_argument, NULL, ARG_UNTIL      },
                { "margin",     required_argument, NULL, ARG_MARGIN     },
                { "write",      no_argument,       NULL, ARG_WRITE      },
                { "output",     required_argument, NULL, 'o'            },
                { "plot",       required_argument, NULL, ARG_PLOT       },
                {}
        };
        uint64_t n;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "hqn:o:", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("analysis-sandbox %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_SYSTEM:
                        c->scope = RUNTIME_SCOPE_SYSTEM;
                        break;
                case ARG_USER:
                        if (!optarg) {
                                c->scope = RUNTIME_SCOPE_USER;
                                c->user_without_name = true;
                                break;
                        }
                        r = parse_user(optarg, &c->caller);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --user '%s': no such user.", optarg);
                        break;
                case ARG_PROFILE:
                        if (!profile_name_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --profile '%s': a profile name is [a-z0-9_]+.",
                                                       optarg);
                        c->profile = optarg;
                        break;
                case ARG_SINCE:
                case ARG_UNTIL:
                        if (parse_timestamp(optarg, now_usec(CLOCK_REALTIME),
                                            opt == ARG_SINCE ? &c->since_usec : &c->until_usec) < 0)
                                return log_error_errno(EINVAL, "Invalid --%s '%s': expected a time such as 2026-12-01, "
                                                       "\"2026-12-01 08:00:00\", today, yesterday or -7d.",
                                                       opt == ARG_SINCE ? "since" : "until", optarg);
                        break;
                case ARG_MARGIN:
                        /* "20%" or "20". */
                        if (parse_percent(optarg, 1000, &c->margin_percent) >= 0)
                                break;
                        if (parse_uint64(optarg, &n) >= 0 && n <= 1000) {
                                c->margin_percent = (unsigned) n;
                                break;
                        }
                        return log_error_errno(EINVAL, "Invalid --margin '%s': expected 0%% to 1000%%.", optarg);
                case ARG_WRITE:
                        c->write = true;
                        break;
                case ARG_JSON:
                        c->json = true;
                        break;
                case 'q':
                        c->quiet = true;
                        break;
                case ARG_NO_BLOCK:
                        c->no_block = true;
                        break;
                case 'n':
                        if (parse_uint64(optarg, &n) < 0 || n > 10000)
                                return log_error_errno(EINVAL, "Invalid --lines '%s': expected 0 to 10000.", optarg);
                        c->lines = (unsigned) n;
                        break;
                case 'o':
                        c->output = optarg;
                        break;
                case ARG_PLOT:
                        c->plot = optarg;
                        break;
                case ARG_OLDER_THAN:
                        if (parse_timespan(optarg, &c->older_than_usec) < 0 ||
                            c->older_than_usec == USEC_INFINITY)
                                return log_error_errno(EINVAL, "Invalid --older-than '%s': expected a time span such "
                                                       "as 30d or 12h.", optarg);
                        break;
                default:
                        return -EINVAL;
                }
        return 1;
}

static int dispatch(Ctl *c, int argc, char *argv[]) {
        const char *name = optind < argc ? argv[optind] : "list";
        unsigned n_args = optind < argc ? (unsigned) (argc - optind - 1) : 0;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const Verb *v = verbs + i;

                if (strcmp(v->name, name) != 0)
                        continue;
                if (n_args < v->min_args || n_args > v->max_args) {
                        log_error(v->min_args == 0 ? "'%s' takes no arguments." :
                                  v->run == verb_suggest ? "'%s' takes one profile name." : "'%s' takes one analysis id.", name);
                        if (v->run == verb_report && c->user_without_name && n_args == 1)
                                log_error("To report the analyses of user '%s', write --user=%s: --user alone means "
                                          "the analyses of your own service manager.", argv[optind + 1], argv[optind + 1]);
                        return EXIT_SETUP_USAGE;
                }
                return v->run(c, optind < argc ? argv + optind + 1 : argv + argc);
        }
        log_error("Unknown command '%s'. See --help.", name);
        return EXIT_SETUP_USAGE;
}

int ctl_check_id(const char *id) {
        if (analysis_id_is_valid(id))
                return 0;
        log_error("Invalid analysis id '%s': use 1 to %d characters of A-Z, a-z, 0-9, '_', '.', ':' and '-', "
                  "not starting with '.'.", id, ANALYSIS_ID_MAX);
        return EXIT_SETUP_USAGE;
}

int ctl_connect(Ctl *c) {
        int r;

        if (c->bus)
                return 0;
        r = sd_event_default(&c->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create an event loop: %m"), EXIT_SETUP_UNAVAILABLE;
        r = c->scope == RUNTIME_SCOPE_SYSTEM ? sd_bus_open_system(&c->bus) : sd_bus_open_user(&c->bus);
        if (r < 0) {
                log_error_errno(r, "Cannot reach the %s service manager: %m.",
                                c->scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user's");
                return EXIT_SETUP_UNAVAILABLE;
        }
        r = sd_bus_attach_event(c->bus, c->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach to the bus: %m"), EXIT_SETUP_UNAVAILABLE;
        return 0;
}

int ctl_bus_error(const Ctl *c, const sd_bus_error *error, int r, const char *what) {
        const char *message = error && error->message ? error->message : strerror(-r);

        if (exit_status_from_bus_error(error, r) == EXIT_SETUP_PERMISSION) {
                log_error("Permission denied to %s: %s%s", what, message,
                          c->scope == RUNTIME_SCOPE_SYSTEM ? " (this needs root or membership in the analysis group)" : "");
                return EXIT_SETUP_PERMISSION;
        }
        log_error("Failed to %s: %s", what, message);
        return EXIT_SETUP_UNAVAILABLE;
}

int ctl_list_units(Ctl *c, const char *id, AnalysisUnit **ret, size_t *ret_n) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = ctl_connect(c);
        if (r != 0)
                return r;
        r = analysis_units_list(c->bus, id, ret, ret_n, &error);
        if (r < 0)
                return ctl_bus_error(c, &error, r, "list the analysis units");
        return 0;
}

int ctl_find_unit(Ctl *c, const char *id, AnalysisUnit *ret) {
        AnalysisUnit *units = NULL;
        size_t n = 0, pick = 0, n_running = 0;
        int r;

        r = ctl_list_units(c, id, &units, &n);
        if (r != 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (analysis_unit_is_running(units + i) && n_running++ == 0)
                        pick = i;
        if (n_running > 1) {
                log_error("Analysis id %s is running in %zu units at once (%s, %s, ...): stop all but one.", id,
                          n_running, units[0].unit, units[1].unit);
                analysis_units_free(units, n);
                return EXIT_SETUP_BUSY;
        }
        *ret = (AnalysisUnit) {};
        if (n > 0) {
                *ret = units[pick];
                units[pick] = (AnalysisUnit) {};
        }
        analysis_units_free(units, n);
        return 0;
}

const BackendConfig *ctl_backend_config(Ctl *c) {
        if (!c->global_loaded) {
                c->global_loaded = true;
                if (backend_config_load(LOG_WARNING, &c->global) != 0)
                        log_warning("Showing only the analyses of the %s service manager.",
                                    c->scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user's");
                c->backend_config = (BackendConfig) { .global = c->global };
        }
        return c->global ? &c->backend_config : NULL;
}

int ctl_find_backend_analysis(Ctl *c, const char *id, const Backend **ret_backend, BackendAnalysis **ret_analysis,
                              Record *ret_record, char **ret_json, size_t *ret_size) {
        /* A user's manager and its analyses are the user's own business, not the site's backends'. */
        if (c->scope != RUNTIME_SCOPE_SYSTEM || !ctl_backend_config(c))
                return -ENOENT;
        for (BackendKind k = 0; k < _BACKEND_KIND_MAX; k++) {
                const Backend *b = backend_get(k);
                _cleanup_free_ char *dir = NULL;
                int r;

                if (!b->attach)
                        continue;
                r = b->find_record(ctl_backend_config(c), id, ret_record, ret_json, ret_size);
                if (r >= 0) {
                        *ret_backend = b;
                        *ret_analysis = NULL;
                        return 0;
                }
                if (r == -ENXIO)
                        continue;
                if (r != -ENOENT) {
                        (void) b->results_dir(ctl_backend_config(c), &dir);
                        log_error_errno(r, "Cannot read the record %s/%s.json: %m", strempty(dir), id);
                        return r == -EACCES ? EXIT_SETUP_PERMISSION : EXIT_SETUP_NO_RECORD;
                }
                r = b->attach(ctl_backend_config(c), id, ret_analysis);
                if (r >= 0) {
                        *ret_backend = b;
                        return 0;
                }
                if (r != -ENOENT && r != -ENXIO)
                        return r == -ENOMEM ? EXIT_SETUP_UNAVAILABLE : EXIT_SETUP_NO_RECORD;
        }
        return -ENOENT;
}

int ctl_load_record(Ctl *c, const char *id, const char *running_why, Record *ret, char **ret_json, size_t *ret_size) {
        _cleanup_free_ char *json = NULL, *why = NULL;
        size_t size = 0;
        int r;

        r = record_file_load(c->paths.results_dir, id, ret, &json, &size, &why);
        if (r == -ENOENT) {
                const Backend *b = NULL;
                BackendAnalysis *a = NULL;

                /* Not here: maybe another backend's (Slurm's) analysis has one. */
                r = ctl_find_backend_analysis(c, id, &b, &a, ret, &json, &size);
                if (r > 0)
                        return r;
                if (a) {
                        b->free(a);
                        if (running_why) {
                                log_error(running_why, id);
                                return EXIT_CTL_NOT_RUNNING;
                        }
                        r = -ENOENT;
                }
        }
        if (r == -ENOENT) {
                log_error("No record of analysis '%s' in %s (still running, never run, or removed by gc).", id,
                          c->paths.results_dir);
                return EXIT_CTL_NO_SUCH_ANALYSIS;
        }
        if (r == -EBADMSG) {
                log_error("The record %s/%s.json cannot be read: %s", c->paths.results_dir, id, strempty(why));
                return EXIT_SETUP_NO_RECORD;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot read the record %s/%s.json: %m", c->paths.results_dir, id);
                return r == -EACCES ? EXIT_SETUP_PERMISSION : EXIT_SETUP_NO_RECORD;
        }
        if (ret_json) {
                *ret_json = TAKE_PTR(json);
                *ret_size = size;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        Ctl c = {
                .scope = RUNTIME_SCOPE_SYSTEM,
                .lines = 10,
                .until_usec = UINT64_MAX,
                .caller = (uid_t) -1,
                .margin_percent = 15,
        };
        int r;

        log_open(LOG_TARGET_STDERR);
        r = parse_argv(argc, argv, &c);
        if (r <= 0)
                return r < 0 ? EXIT_SETUP_USAGE : EXIT_SUCCESS;
        r = analysis_paths_get(c.scope, &c.paths);
        if (r < 0) {
                log_error_errno(r, "Cannot find the directories of the user's analyses ($XDG_RUNTIME_DIR and $HOME): %m");
                return EXIT_SETUP_UNAVAILABLE;
        }
        r = dispatch(&c, argc, argv);
        sd_bus_flush_close_unref(c.bus);
        sd_event_unref(c.event);
        analysis_paths_done(&c.paths);
        global_config_free(c.global);
        return r;
}
