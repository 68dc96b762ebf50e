/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-generator: the systemd generator that turns resource profiles into analysis units and slices. */

#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <string.h>

#include "atomic-file.h"
#include "config.h"
#include "log.h"
#include "profile-search.h"
#include "profile.h"
#include "strv.h"
#include "unit-writer.h"

typedef enum Action {
        ACTION_GENERATE,
        ACTION_DRY_RUN,
        ACTION_VALIDATE,
} Action;

static Action arg_action = ACTION_GENERATE;
static const char *arg_dest = NULL;
static RuntimeScope arg_scope = RUNTIME_SCOPE_SYSTEM;

typedef struct Generator {
        int dest_fd;            /* -EBADF unless generating */
        TemplateBuffer text;    /* every unit is rendered into this one buffer, written out, and forgotten */
        unsigned n_generated;
        unsigned n_failed;
} Generator;

static void generator_done(Generator *g) {
        template_buffer_done(&g->text);
}

static void help(void) {
        printf("%s [OPTIONS...] [NORMAL_DIR [EARLY_DIR LATE_DIR]]\n\n"
               "Generates analysis units and slices from resource profiles (systemd.generator(7)).\n\n"
               "  -h --help       Show this help\n"
               "     --version    Show the version\n"
               "     --dry-run    Print the units that would be written instead of writing them\n"
               "     --validate   Check every profile on the search path; exit non-zero on any error\n\n"
               "$SYSTEMD_SCOPE=user generates for a user manager. $ANALYSIS_SANDBOX_PROFILE_PATH\n"
               "(colon-separated) replaces the profile search path.\n"
               "See analysis-generator(8) and analysis-sandbox.profile(5).\n",
               program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_DRY_RUN, ARG_VALIDATE };
        static const struct option options[] = {
                { "help",     no_argument, NULL, 'h'          },
                { "version",  no_argument, NULL, ARG_VERSION  },
                { "dry-run",  no_argument, NULL, ARG_DRY_RUN  },
                { "validate", no_argument, NULL, ARG_VALIDATE },
                {}
        };
        const char *scope;
        int c, n_dirs;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("analysis-sandbox %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_DRY_RUN:
                        arg_action = ACTION_DRY_RUN;
                        break;
                case ARG_VALIDATE:
                        arg_action = ACTION_VALIDATE;
                        break;
                default:
                        return -EINVAL;
                }

        n_dirs = argc - optind;
        if (arg_action == ACTION_GENERATE) {
                if (n_dirs != 1 && n_dirs != 3)
                        return log_error_errno(EINVAL, "Expected 1 or 3 output directories, got %d.", n_dirs);
                /* systemd passes normal, early and late; analysis units belong in the normal one. */
                arg_dest = argv[optind];
        } else if (n_dirs != 0)
                return log_error_errno(EINVAL, "--dry-run and --validate take no directory.");

        scope = getenv("SYSTEMD_SCOPE");
        if (!scope || strcmp(scope, "system") == 0)
                arg_scope = RUNTIME_SCOPE_SYSTEM;
        else if (strcmp(scope, "user") == 0)
                arg_scope = RUNTIME_SCOPE_USER;
        else
                return log_error_errno(EINVAL, "Unknown $SYSTEMD_SCOPE '%s': expected 'system' or 'user'.", scope);
        return 1;
}

static void log_config_error(const ConfigError *e, const char *what) {
        _cleanup_free_ char *text = config_error_to_string(e);

        log_error("%s, %s", text ?: "Out of memory", what);
}

/* Writes (or with --dry-run prints) one unit. */
static int generator_emit(Generator *g, const UnitFile *u) {
        int r;

        switch (arg_action) {
        case ACTION_DRY_RUN:
                printf("# %s\n%s\n", u->name, u->content);
                return 0;
        case ACTION_GENERATE:
                r = write_file_atomic_at(g->dest_fd, u->name, u->content, u->size, 0644);
                if (r < 0)
                        return log_error_errno(r, "Failed to write %s/%s: %m", arg_dest, u->name);
                return 0;
        default:
                return 0;
        }
}

static int generator_emit_rendered(Generator *g, int r, const UnitFile *u, char *bad_name, const char *what) {
        if (r == -EINVAL)
                return log_error_errno(r, "Cannot render %s: placeholder @%s@ has no valid value.", what,
                                       strempty(bad_name));
        if (r < 0)
                return log_error_errno(r, "Cannot render %s: %m", what);
        return generator_emit(g, u);
}

/* What the messages about a profile that cannot be generated end with. Made only for such a message: most
 * profiles need none. */
static const char *skipping_profile(const char *name, char **what) {
        if (!*what)
                *what = strprintf("skipping profile '%s'", name);
        return *what ?: "skipping the profile";
}

static int generate_profile(Generator *g, const DirIndex *index, const char *name, char ***warnings) {
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_(config_error_clear) ConfigError error = {};
        _cleanup_free_ char *what = NULL, *bad_name = NULL;
        UnitFile service = {}, slice = {};
        int r;

        r = profile_find_and_load_indexed(index, name, arg_scope, warnings, &files, &p, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                log_config_error(&error, skipping_profile(name, &what));
                g->n_failed++;
                return 0;
        }
        if (r == CONFIG_MASKED) {
                log_debug("Profile '%s' is masked by %s, skipping it.", name, files[0]);
                return 0;
        }
        if (r == CONFIG_MISSING)
                return 0;
        if (arg_action == ACTION_VALIDATE) {
                g->n_generated++;
                return 0;
        }

        r = unit_writer_render_profile_slice(p, arg_scope, &g->text, &slice, &bad_name);
        r = generator_emit_rendered(g, r, &slice, bad_name, r < 0 ? skipping_profile(name, &what) : NULL);
        unit_file_clear(&slice);
        if (r >= 0) {
                r = unit_writer_render_service(p, arg_scope, &g->text, &service, &bad_name);
                r = generator_emit_rendered(g, r, &service, bad_name, r < 0 ? skipping_profile(name, &what) : NULL);
                unit_file_clear(&service);
        }
        if (r < 0)
                g->n_failed++;
        else
                g->n_generated++;
        return 0;
}

static int generate_root_slice(Generator *g, char * const *profile_dirs, char ***warnings) {
        _cleanup_strv_free_ char **dirs = NULL, **files = NULL;
        _cleanup_(global_config_freep) GlobalConfig *c = NULL;
        _cleanup_(config_error_clear) ConfigError error = {};
        _cleanup_free_ char *bad_name = NULL;
        UnitFile slice = {};
        int r;

        r = global_config_search_dirs(profile_dirs, &dirs);
        if (r < 0)
                return log_oom();
        r = config_files_find(dirs, "analysis-sandbox.conf", &files, warnings);
        if (r < 0)
                return log_oom();
        r = global_config_load(files, &c, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                /* Bad caps must not leave analyses uncapped: fall back to the safe built-in ones. */
                log_config_error(&error, "using the built-in caps for analysis.slice");
                g->n_failed++;
                r = global_config_load(NULL, &c, NULL);
                if (r < 0)
                        return log_oom();
        }
        if (arg_action == ACTION_VALIDATE)
                return 0;
        r = unit_writer_render_root_slice(c, arg_scope, &g->text, &slice, &bad_name);
        r = generator_emit_rendered(g, r, &slice, bad_name, "analysis.slice");
        unit_file_clear(&slice);
        return r;
}

static int run(int argc, char *argv[]) {
        _cleanup_strv_free_ char **dirs = NULL, **names = NULL, **warnings = NULL;
        _cleanup_close_ int dest_fd = -EBADF;
        _cleanup_(generator_done) Generator g = { .dest_fd = -EBADF };
        _cleanup_(dir_index_done) DirIndex index = {};
        int r;

        log_open(LOG_TARGET_STDERR);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        if (arg_action == ACTION_GENERATE)
                log_open(LOG_TARGET_KMSG);

        if (arg_action == ACTION_GENERATE) {
                dest_fd = open(arg_dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dest_fd < 0)
                        return log_error_errno(errno, "Failed to open output directory %s: %m", arg_dest);
                g.dest_fd = dest_fd;
        }

        r = profile_search_dirs(arg_scope, &dirs);
        if (r < 0)
                return log_oom();
        /* Each directory is read once; a profile's file and drop-in directory are looked up in that. */
        r = dir_index_build(dirs, &index, &warnings);
        if (r < 0)
                return log_oom();
        r = dir_index_profile_names(&index, &names);
        if (r < 0)
                return log_oom();

        /* The root slice first: every profile slice nests in it. */
        r = generate_root_slice(&g, dirs, &warnings);
        if (r < 0 && arg_action == ACTION_GENERATE)
                return r;
        STRV_FOREACH(name, names) {
                r = generate_profile(&g, &index, *name, &warnings);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(w, warnings)
                log_warning("%s", *w);

        if (arg_action == ACTION_VALIDATE)
                return g.n_failed > 0 ? -EINVAL : 0;
        /* Other profiles still work when one is bad; fail only when none could be generated. */
        if (g.n_failed > 0 && g.n_generated == 0)
                return -EINVAL;
        return 0;
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
