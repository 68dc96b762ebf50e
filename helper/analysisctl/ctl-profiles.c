/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl profiles: every profile on the search path as it takes effect after drop-ins, each value with
 * the file and line it came from (after systemd-analyze cat-config), and the errors of bad profiles with the
 * same file:line messages as analysis-generator --validate. */

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "exit-status.h"
#include "json-writer.h"
#include "log.h"
#include "parse-value.h"
#include "profile-search.h"
#include "profile.h"
#include "strv.h"

/* One profile (or the global configuration) as loaded. */
typedef struct Shown {
        const char *name;               /* NULL for analysis-sandbox.conf */
        const ConfigSchema *schema;
        char **files;
        const Setting *settings;
        ConfigLoadState state;
        const ConfigError *error;       /* set when it could not be loaded */
} Shown;

/* The value as systemd gets it; for people, sizes, bandwidths and time spans also in their usual units. */
static int format_value(const ConfigKey *k, const Setting *s, char **ret_value, char *human, size_t n) {
        human[0] = '\0';
        if (!s->infinity && k->kind == VALUE_MEMORY && !s->percent)
                (void) format_bytes(s->number, human, n);
        else if (!s->infinity && k->kind == VALUE_TIMESPAN)
                (void) format_duration(s->number, human, n);
        else if (!s->infinity && k->kind == VALUE_BANDWIDTH)
                (void) format_bandwidth(s->number, human, n);
        if (k->kind == VALUE_TEXT && s->text) {
                *ret_value = strdup(s->text);
                return *ret_value ? 0 : -ENOMEM;
        }
        return setting_format_for_unit(k->kind, s, ret_value);
}

static void print_error(const ConfigError *e) {
        _cleanup_free_ char *text = config_error_to_string(e);

        fprintf(stderr, "%s\n", text ?: "Out of memory.");
}

static int print_shown(const Shown *p) {
        _cleanup_free_ char *service = NULL, *slice = NULL;
        const char *section = NULL;

        if (p->name) {
                if (profile_service_template_name(p->name, &service) < 0 || profile_slice_name(p->name, &slice) < 0)
                        return -ENOMEM;
                printf("# Profile '%s': %s in %s\n", p->name, service, slice);
        } else
                printf("# analysis-sandbox.conf: analysis.slice, the cap on all analyses together\n");
        if (p->error) {
                printf("# BAD: not generated, see the error above\n\n");
                return 0;
        }
        if (p->state == CONFIG_MASKED) {
                printf("# masked by %s\n\n", p->files[0]);
                return 0;
        }
        STRV_FOREACH(f, p->files)
                printf("# %s %s\n", f == p->files ? "from" : "    ", *f);
        if (!p->files || !p->files[0])
                printf("# no file: built-in defaults\n");
        for (size_t i = 0; i < p->schema->n_keys; i++) {
                const ConfigKey *k = p->schema->keys + i;
                const Setting *s = p->settings + i;
                _cleanup_free_ char *value = NULL, *line = NULL;
                char human[32], where[32];

                if (!s->set)
                        continue;
                if (!section || strcmp(section, k->section) != 0)
                        printf("[%s]\n", k->section);
                section = k->section;
                if (format_value(k, s, &value, human, sizeof(human)) < 0)
                        return -ENOMEM;
                if (s->path)
                        (void) snprintf(where, sizeof(where), ":%u", s->line);
                line = strprintf("%s=%s", k->key, value);
                if (!line)
                        return -ENOMEM;
                printf("%-40s # %s%s%s%s\n", line, human, human[0] ? ", " : "", s->path ?: "built-in default",
                       s->path ? where : "");
        }
        putchar('\n');
        return 0;
}

static void write_json_shown(JsonWriter *w, const Shown *p) {
        json_begin_object(w);
        json_key(w, "name");
        json_string(w, p->name);
        json_key(w, "files");
        json_begin_array(w);
        STRV_FOREACH(f, p->files)
                json_string(w, *f);
        json_end_array(w);
        json_key(w, "masked");
        json_bool(w, !p->error && p->state == CONFIG_MASKED);
        json_key(w, "error");
        if (p->error) {
                json_begin_object(w);
                json_key(w, "file");
                json_string(w, p->error->path);
                json_key(w, "line");
                if (p->error->line > 0)
                        json_uint(w, p->error->line);
                else
                        json_null(w);
                json_key(w, "message");
                json_string(w, p->error->message);
                json_end_object(w);
        } else
                json_null(w);
        json_key(w, "settings");
        json_begin_array(w);
        for (size_t i = 0; !p->error && p->state == CONFIG_LOADED && i < p->schema->n_keys; i++) {
                const ConfigKey *k = p->schema->keys + i;
                const Setting *s = p->settings + i;
                _cleanup_free_ char *value = NULL;
                char human[32];

                if (!s->set || format_value(k, s, &value, human, sizeof(human)) < 0)
                        continue;
                json_begin_object(w);
                json_key(w, "section");
                json_string(w, k->section);
                json_key(w, "key");
                json_string(w, k->key);
                json_key(w, "value");
                json_string(w, value);
                json_key(w, "file");
                json_string(w, s->path);
                json_key(w, "line");
                if (s->path)
                        json_uint(w, s->line);
                else
                        json_null(w);
                json_end_object(w);
        }
        json_end_array(w);
        json_end_object(w);
}

static int show(Ctl *c, JsonWriter *w, const Shown *p) {
        if (p->error)
                print_error(p->error);
        if (c->json) {
                write_json_shown(w, p);
                return 0;
        }
        return print_shown(p);
}

int verb_profiles(Ctl *c, char **args) {
        _cleanup_strv_free_ char **dirs = NULL, **names = NULL, **warnings = NULL, **global_dirs = NULL;
        _cleanup_strv_free_ char **global_files = NULL;
        _cleanup_(global_config_freep) GlobalConfig *global = NULL;
        _cleanup_(config_error_clear) ConfigError global_error = {};
        JsonWriter w = { .f = stdout };
        bool failed = false;
        int r;

        r = profile_search_dirs(c->scope, &dirs);
        if (r >= 0)
                r = profile_list_names(dirs, &names, &warnings);
        if (r >= 0)
                r = global_config_search_dirs(dirs, &global_dirs);
        if (r >= 0)
                r = config_files_find(global_dirs, "analysis-sandbox.conf", &global_files, &warnings);
        if (r < 0)
                return log_oom(), EXIT_CTL_FAILURE;
        if (c->json)
                json_begin_array(&w);

        r = global_config_load(global_files, &global, &global_error);
        if (r == -ENOMEM)
                return log_oom(), EXIT_CTL_FAILURE;
        failed |= r < 0;
        r = show(c, &w, &(Shown) {
                .schema = &global_schema,
                .files = global ? global->files : global_files,
                .settings = global ? global->settings : NULL,
                .error = r < 0 ? &global_error : NULL,
        });
        if (r < 0)
                return log_oom(), EXIT_CTL_FAILURE;

        STRV_FOREACH(name, names) {
                _cleanup_strv_free_ char **files = NULL;
                _cleanup_(profile_freep) Profile *p = NULL;
                _cleanup_(config_error_clear) ConfigError error = {};

                r = profile_find_and_load(dirs, *name, c->scope, &warnings, &files, &p, &error);
                if (r == -ENOMEM)
                        return log_oom(), EXIT_CTL_FAILURE;
                if (r == CONFIG_MISSING)
                        continue;
                failed |= r < 0;
                r = show(c, &w, &(Shown) {
                        .name = *name,
                        .schema = &profile_schema,
                        .files = p ? p->files : files,
                        .settings = p ? p->settings : NULL,
                        .state = r < 0 ? CONFIG_LOADED : (ConfigLoadState) r,
                        .error = r < 0 ? &error : NULL,
                });
                if (r < 0)
                        return log_oom(), EXIT_CTL_FAILURE;
        }
        if (c->json) {
                json_end_array(&w);
                putchar('\n');
        }
        STRV_FOREACH(warning, warnings)
                log_warning("%s", *warning);
        return failed ? EXIT_CTL_FAILURE : EXIT_SUCCESS;
}
