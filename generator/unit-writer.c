/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Turns a loaded profile and the global configuration into the text of their units. */

#include <string.h>

#include "config.h"
#include "strv.h"
#include "template.h"
#include "templates.h"
#include "unit-writer.h"

/* Room for one variable per schema key plus the generator's own facts. */
#define VARIABLES_MAX (_PROFILE_KEY_MAX + 24)

typedef struct Variables {
        TemplateVariable vars[VARIABLES_MAX];
        char *owned[VARIABLES_MAX];
        char **owned_lists[VARIABLES_MAX];
        size_t n;
} Variables;

static void variables_clear(Variables *v) {
        for (size_t i = 0; i < v->n; i++) {
                free(v->owned[i]);
                strv_free(v->owned_lists[i]);
        }
        *v = (Variables) {};
}

/* Adds name with value, taking ownership of value (NULL means "leave the line out"). */
static int variables_add(Variables *v, const char *name, char *value) {
        if (v->n >= VARIABLES_MAX) {
                free(value);
                return -E2BIG;
        }
        v->vars[v->n] = (TemplateVariable) { name, value };
        v->owned[v->n++] = value;
        return 0;
}

/* Adds name as a list (each line using it is repeated per item), taking ownership of values. */
static int variables_add_list(Variables *v, const char *name, char **values) {
        if (v->n >= VARIABLES_MAX) {
                strv_free(values);
                return -E2BIG;
        }
        v->vars[v->n] = (TemplateVariable) { .name = name, .values = values };
        v->owned_lists[v->n++] = values;
        return 0;
}

static int variables_add_copy(Variables *v, const char *name, const char *value) {
        char *copy = NULL;

        if (value) {
                copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
        }
        return variables_add(v, name, copy);
}

/* Adds @Key@ for every key of schema that goes into target. */
static int variables_add_settings(Variables *v, const ConfigSchema *schema, const Setting *settings,
                                  ConfigTarget target, RuntimeScope scope) {
        int r;

        for (size_t i = 0; i < schema->n_keys; i++) {
                const ConfigKey *k = schema->keys + i;
                bool wanted = settings[i].set && !(k->system_only && scope != RUNTIME_SCOPE_SYSTEM);
                char *value = NULL;

                if (k->target != target)
                        continue;
                if (wanted && k->kind == VALUE_PATHS) {
                        char **paths;

                        /* A list: each line using it is repeated per path (IOReadBandwidthMax=PATH RATE). */
                        r = strv_split(settings[i].text, " ", &paths);
                        if (r < 0)
                                return r;
                        r = variables_add_list(v, k->key, paths);
                } else {
                        if (wanted) {
                                r = setting_format_for_unit(k->kind, &settings[i], &value);
                                if (r < 0)
                                        return r;
                        }
                        r = variables_add(v, k->key, value);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Adds @SOURCE_PATH@ and @DROPINS@ from the files a unit was made from. */
static int variables_add_sources(Variables *v, char * const *files) {
        _cleanup_free_ char *dropins = NULL;
        int r;

        r = variables_add_copy(v, "SOURCE_PATH", files && files[0] ? files[0] : NULL);
        if (r < 0)
                return r;
        if (files && files[0])
                STRV_FOREACH(f, files + 1) {
                        char *joined;

                        if (asprintf(&joined, "%s%s%s", strempty(dropins), dropins ? " " : "", *f) < 0)
                                return -ENOMEM;
                        free(dropins);
                        dropins = joined;
                }
        return variables_add(v, "DROPINS", TAKE_PTR(dropins));
}

static int variables_add_common(Variables *v, const char *profile_name, RuntimeScope scope) {
        int r;

        r = variables_add_copy(v, "PROFILE", profile_name);
        if (r < 0)
                return r;
        r = variables_add_copy(v, "SYSTEM", scope == RUNTIME_SCOPE_SYSTEM ? "" : NULL);
        if (r < 0)
                return r;
        return variables_add_copy(v, "USER_MANAGER", scope == RUNTIME_SCOPE_USER ? "" : NULL);
}

/* The variables every unit has: @PROFILE@, @SYSTEM@, @USER_MANAGER@, @SOURCE_PATH@, @DROPINS@, and the keys for target. */
static int variables_add_unit(Variables *v, const char *profile_name, char * const *files, const ConfigSchema *schema,
                              const Setting *settings, ConfigTarget target, RuntimeScope scope) {
        int r;

        r = variables_add_common(v, profile_name, scope);
        if (r < 0)
                return r;
        r = variables_add_sources(v, files);
        if (r < 0)
                return r;
        return variables_add_settings(v, schema, settings, target, scope);
}

static int render(const char *template, const Variables *v, char *name, TemplateBuffer *buf, UnitFile *ret,
                  char **ret_bad_name) {
        _cleanup_free_ char *owned_name = name;
        int r;

        if (!owned_name)
                return -ENOMEM;
        r = template_render_into(buf, template, v->vars, v->n, ret_bad_name);
        if (r < 0)
                return r;
        *ret = (UnitFile) { TAKE_PTR(owned_name), buf->data, buf->size };
        return 0;
}

void unit_file_clear(UnitFile *u) {
        free(u->name);
        *u = (UnitFile) {};
}

/* Where records and output go, as a unit sees it. systemd 252's %S means $XDG_CONFIG_HOME for a user
 * manager, not the XDG state directory the records belong in, so a user's path is spelled out: the
 * manager's $XDG_STATE_HOME when set, else %h/.local/state (what analysis-run computes the same way). */
static int results_dir_for_unit(RuntimeScope scope, char **ret) {
        const char *state = secure_getenv("XDG_STATE_HOME");

        if (scope == RUNTIME_SCOPE_SYSTEM)
                *ret = strdup("/var/lib/analysis-sandbox/results");
        else if (state && state[0] == '/')
                *ret = strprintf("%s/analysis-sandbox/results", state);
        else
                *ret = strdup("%h/.local/state/analysis-sandbox/results");
        return *ret ? 0 : -ENOMEM;
}

int unit_writer_render_service(const Profile *p, RuntimeScope scope, TemplateBuffer *buf, UnitFile *ret, char **ret_bad_name) {
        _cleanup_(variables_clear) Variables v = {};
        _cleanup_free_ char *results_dir = NULL;
        char *name = NULL, *slice = NULL, *output_dir;
        bool dynamic_user, private_tmpfs;
        int r;

        r = variables_add_unit(&v, p->name, p->files, &profile_schema, p->settings, CONFIG_TARGET_SERVICE, scope);
        if (r < 0)
                return r;
        /* Without Exec= the runner gets no fallback command, but ExecStart= itself must stay. */
        for (size_t i = 0; i < v.n; i++)
                if (strcmp(v.vars[i].name, "Exec") == 0 && !v.vars[i].value) {
                        v.owned[i] = strdup("");
                        if (!v.owned[i])
                                return -ENOMEM;
                        v.vars[i].value = v.owned[i];
                }
        r = variables_add_copy(&v, "RUNNER", RUNNER_PATH);
        if (r < 0)
                return r;
        r = variables_add_copy(&v, "RECORDER", RECORDER_PATH);
        if (r < 0)
                return r;
        r = variables_add_copy(&v, "SCOPE", scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user");
        if (r < 0)
                return r;
        /* A user manager runs everything as its user and cannot switch: accounts are the system's business. */
        dynamic_user = scope == RUNTIME_SCOPE_SYSTEM && !p->settings[PROFILE_USER].set;
        r = variables_add_copy(&v, "DYNAMIC_USER", dynamic_user ? "" : NULL);
        if (r < 0)
                return r;
        /* DynamicUser= implies PrivateTmp=yes whatever the profile says. */
        private_tmpfs = scope == RUNTIME_SCOPE_SYSTEM && (dynamic_user || p->settings[PROFILE_PRIVATE_TMP].number);
        r = variables_add_copy(&v, "PRIVATE_TMPFS_OPTION", private_tmpfs ? "--private-tmp " : "");
        if (r < 0)
                return r;
        r = results_dir_for_unit(scope, &results_dir);
        if (r < 0)
                return r;
        /* Without root to mount a tmpfs, a user's analysis writes straight into its handed-over directory. */
        output_dir = scope == RUNTIME_SCOPE_SYSTEM ? strdup("/run/analysis-sandbox/output/%i")
                                                   : strprintf("%s/%%i.output", results_dir);
        if (!output_dir)
                return -ENOMEM;
        r = variables_add(&v, "OUTPUT_DIR", output_dir);
        if (r < 0)
                return r;
        r = variables_add(&v, "RESULTS_DIR", TAKE_PTR(results_dir));
        if (r < 0)
                return r;
        r = profile_slice_name(p->name, &slice);
        if (r < 0)
                return r;
        r = variables_add(&v, "SLICE", slice);
        if (r < 0)
                return r;
        r = profile_service_template_name(p->name, &name);
        if (r < 0)
                return r;
        return render(template_service, &v, name, buf, ret, ret_bad_name);
}

int unit_writer_render_profile_slice(const Profile *p, RuntimeScope scope, TemplateBuffer *buf, UnitFile *ret, char **ret_bad_name) {
        _cleanup_(variables_clear) Variables v = {};
        char *name = NULL;
        int r;

        r = variables_add_unit(&v, p->name, p->files, &profile_schema, p->settings, CONFIG_TARGET_SLICE, scope);
        if (r < 0)
                return r;
        r = profile_slice_name(p->name, &name);
        if (r < 0)
                return r;
        return render(template_profile_slice, &v, name, buf, ret, ret_bad_name);
}

int unit_writer_render_root_slice(const GlobalConfig *c, RuntimeScope scope, TemplateBuffer *buf, UnitFile *ret, char **ret_bad_name) {
        _cleanup_(variables_clear) Variables v = {};
        int r;

        r = variables_add_unit(&v, NULL, c->files, &global_schema, c->settings, CONFIG_TARGET_SLICE, scope);
        if (r < 0)
                return r;
        return render(template_root_slice, &v, strdup("analysis.slice"), buf, ret, ret_bad_name);
}
