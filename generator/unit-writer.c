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

/* Most values are borrowed (from the profile, or constants) and numbers are formatted into numbers[]: copying
 * each value into a string of its own cost the generator a malloc(), a free() and mostly an asprintf() per
 * variable and unit, a fifth of its instructions. Only what must be made (escaped text, lists, joined drop-ins)
 * is owned. */
typedef struct Variables {
        TemplateVariable vars[VARIABLES_MAX];
        char *owned[VARIABLES_MAX];
        char **owned_lists[VARIABLES_MAX];
        char numbers[VARIABLES_MAX][SETTING_UNIT_NUMBER_MAX];
        size_t n;
} Variables;

static void variables_clear(Variables *v) {
        /* Most values are borrowed: no call for them. */
        for (size_t i = 0; i < v->n; i++) {
                if (v->owned[i])
                        free(v->owned[i]);
                if (v->owned_lists[i])
                        strv_free(v->owned_lists[i]);
        }
        v->n = 0;
}

/* Adds name with value, taking ownership of value (NULL means "leave the line out"). */
static int variables_add(Variables *v, const char *name, char *value) {
        if (v->n >= VARIABLES_MAX) {
                free(value);
                return -E2BIG;
        }
        v->vars[v->n] = (TemplateVariable) { name, value };
        v->owned_lists[v->n] = NULL;
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
        v->owned[v->n] = NULL;
        v->owned_lists[v->n++] = values;
        return 0;
}

/* Adds name with value, which must outlive the rendering (NULL means "leave the line out"). */
static int variables_add_borrowed(Variables *v, const char *name, const char *value) {
        if (v->n >= VARIABLES_MAX)
                return -E2BIG;
        v->vars[v->n] = (TemplateVariable) { name, value };
        v->owned[v->n] = NULL;
        v->owned_lists[v->n++] = NULL;
        return 0;
}

/* Adds @Key@ for every key of schema that goes into target. */
static int variables_add_settings(Variables *v, const ConfigSchema *schema, const Setting *settings,
                                  ConfigTarget target, RuntimeScope scope) {
        int r;

        for (size_t i = 0; i < schema->n_keys; i++) {
                const ConfigKey *k = schema->keys + i;
                bool wanted = settings[i].set && !(k->system_only && scope != RUNTIME_SCOPE_SYSTEM);
                const char *value;

                if (k->target != target)
                        continue;
                if (wanted && k->kind == VALUE_PATHS) {
                        char **paths;

                        /* A list: each line using it is repeated per path (IOReadBandwidthMax=PATH RATE). */
                        r = strv_split(settings[i].text, " ", &paths);
                        if (r < 0)
                                return r;
                        r = variables_add_list(v, k->key, paths);
                } else if (!wanted)
                        r = variables_add_borrowed(v, k->key, NULL);
                else if (v->n < VARIABLES_MAX &&
                         (value = setting_unit_value(k->kind, &settings[i], v->numbers[v->n])))
                        r = variables_add_borrowed(v, k->key, value);
                else {
                        char *made;

                        r = setting_format_for_unit(k->kind, &settings[i], &made);
                        if (r < 0)
                                return r;
                        r = variables_add(v, k->key, made);
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

        r = variables_add_borrowed(v, "SOURCE_PATH", files && files[0] ? files[0] : NULL);
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

        r = variables_add_borrowed(v, "PROFILE", profile_name);
        if (r < 0)
                return r;
        r = variables_add_borrowed(v, "SYSTEM", scope == RUNTIME_SCOPE_SYSTEM ? "" : NULL);
        if (r < 0)
                return r;
        return variables_add_borrowed(v, "USER_MANAGER", scope == RUNTIME_SCOPE_USER ? "" : NULL);
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

/* Where records and output go, as a unit sees it: a constant, or with $XDG_STATE_HOME a new string in *ret_made.
 * systemd 252's %S means $XDG_CONFIG_HOME for a user manager, not the XDG state directory the records belong
 * in, so a user's path is spelled out: the manager's $XDG_STATE_HOME when set, else %h/.local/state (what
 * analysis-run computes the same way). */
static const char *results_dir_for_unit(RuntimeScope scope, char **ret_made) {
        const char *state;

        *ret_made = NULL;
        if (scope == RUNTIME_SCOPE_SYSTEM)
                return "/var/lib/analysis-sandbox/results";
        state = secure_getenv("XDG_STATE_HOME");
        if (state && state[0] == '/')
                return *ret_made = strprintf("%s/analysis-sandbox/results", state);
        return "%h/.local/state/analysis-sandbox/results";
}

int unit_writer_render_service(const Profile *p, RuntimeScope scope, TemplateBuffer *buf, UnitFile *ret, char **ret_bad_name) {
        _cleanup_(variables_clear) Variables v = {};
        _cleanup_free_ char *results_dir_made = NULL;
        const char *results_dir;
        char *name = NULL, *slice = NULL, *output_dir = NULL;
        bool dynamic_user, private_tmpfs;
        int r;

        r = variables_add_unit(&v, p->name, p->files, &profile_schema, p->settings, CONFIG_TARGET_SERVICE, scope);
        if (r < 0)
                return r;
        /* Without Exec= the runner gets no fallback command, but ExecStart= itself must stay. The variable is
         * the one named by the schema's own key. */
        for (size_t i = 0; i < v.n; i++)
                if (v.vars[i].name == profile_schema.keys[PROFILE_EXEC].key && !v.vars[i].value)
                        v.vars[i].value = "";
        r = variables_add_borrowed(&v, "RUNNER", RUNNER_PATH);
        if (r < 0)
                return r;
        r = variables_add_borrowed(&v, "RECORDER", RECORDER_PATH);
        if (r < 0)
                return r;
        r = variables_add_borrowed(&v, "SCOPE", scope == RUNTIME_SCOPE_SYSTEM ? "system" : "user");
        if (r < 0)
                return r;
        /* A user manager runs everything as its user and cannot switch: accounts are the system's business. */
        dynamic_user = scope == RUNTIME_SCOPE_SYSTEM && !p->settings[PROFILE_USER].set;
        r = variables_add_borrowed(&v, "DYNAMIC_USER", dynamic_user ? "" : NULL);
        if (r < 0)
                return r;
        /* DynamicUser= implies PrivateTmp=yes whatever the profile says. */
        private_tmpfs = scope == RUNTIME_SCOPE_SYSTEM && (dynamic_user || p->settings[PROFILE_PRIVATE_TMP].number);
        r = variables_add_borrowed(&v, "PRIVATE_TMPFS_OPTION", private_tmpfs ? "--private-tmp " : "");
        if (r < 0)
                return r;
        results_dir = results_dir_for_unit(scope, &results_dir_made);
        if (!results_dir)
                return -ENOMEM;
        /* Without root to mount a tmpfs, a user's analysis writes straight into its handed-over directory. */
        if (scope == RUNTIME_SCOPE_SYSTEM)
                r = variables_add_borrowed(&v, "OUTPUT_DIR", "/run/analysis-sandbox/output/%i");
        else {
                output_dir = strprintf("%s/%%i.output", results_dir);
                if (!output_dir)
                        return -ENOMEM;
                r = variables_add(&v, "OUTPUT_DIR", output_dir);
        }
        if (r < 0)
                return r;
        r = variables_add_borrowed(&v, "RESULTS_DIR", results_dir);
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
