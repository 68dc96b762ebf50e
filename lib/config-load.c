/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loads a schema's settings from a main file and its drop-ins, in order, with systemd's override rules. */

#include <string.h>

#include "config-load.h"
#include "strv.h"

typedef struct ConfigLoader {
        const ConfigSchema *schema;
        Setting *settings;
        const char *path;
        unsigned *assigned_at;  /* per key: the line of this file that set it, 0 if none */
        bool known_section;
} ConfigLoader;

int config_schema_find(const ConfigSchema *schema, const char *section, const char *key) {
        /* The first character rules out most keys without a call. */
        for (size_t i = 0; i < schema->n_keys; i++)
                if (schema->keys[i].key[0] == key[0] && strcmp(schema->keys[i].key, key) == 0 &&
                    strcmp(schema->keys[i].section, section) == 0)
                        return (int) i;
        return -ENOENT;
}

static bool schema_has_section(const ConfigSchema *schema, const char *section) {
        for (size_t i = 0; i < schema->n_keys; i++)
                if (strcmp(schema->keys[i].section, section) == 0)
                        return true;
        return false;
}

static int config_loader_assign(const char *section, const char *key, const char *value, unsigned line,
                                void *userdata, ConfigError *error) {
        ConfigLoader *loader = userdata;
        _cleanup_free_ char *why = NULL;
        Setting parsed = {};
        int i, r;

        i = config_schema_find(loader->schema, section, key);
        if (i < 0 && !schema_has_section(loader->schema, section))
                return config_error_set(error, loader->path, line, "unknown section [%s]", section);
        if (i < 0)
                return config_error_set(error, loader->path, line, "unknown key %s= in section [%s]", key,
                                        section);
        if (loader->assigned_at[i] > 0)
                return config_error_set(error, loader->path, line, "%s= in [%s] already set on line %u", key,
                                        section, loader->assigned_at[i]);
        loader->assigned_at[i] = line;

        if (!*value) {
                /* As in unit files: an empty assignment resets the key, so a drop-in can remove a limit. */
                setting_clear(&loader->settings[i]);
                return 0;
        }
        r = setting_parse(loader->schema->keys[i].kind, loader->schema->keys[i].flags, value, &parsed, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return config_error_set(error, loader->path, line, "invalid %s= value '%s': %s", key, value,
                                        strempty(why));
        parsed.path = loader->path;
        parsed.line = line;
        setting_clear(&loader->settings[i]);
        loader->settings[i] = parsed;
        return 0;
}

static int config_load_file(const ConfigSchema *schema, const char *path, Setting *settings, ConfigError *error) {
        _cleanup_free_ unsigned *assigned_at = calloc(schema->n_keys, sizeof(unsigned));
        ConfigLoader loader = {
                .schema = schema,
                .settings = settings,
                .path = path,
                .assigned_at = assigned_at,
        };

        if (!assigned_at)
                return -ENOMEM;
        return ini_file_parse(path, config_loader_assign, &loader, error);
}

int config_apply_defaults(const ConfigSchema *schema, const char *path, Setting *settings, ConfigError *error) {
        int r;

        for (size_t i = 0; i < schema->n_keys; i++) {
                const ConfigKey *k = schema->keys + i;
                _cleanup_free_ char *why = NULL;

                if (settings[i].set)
                        continue;
                if (k->flags & SETTING_REQUIRED)
                        return config_error_set(error, path, 0, "missing required key %s= in section [%s]",
                                                k->key, k->section);
                if (!k->default_value)
                        continue;
                r = setting_parse(k->kind, k->flags, k->default_value, &settings[i], &why);
                if (r < 0)      /* a bad built-in default is a bug, not a user error */
                        return r == -ENOMEM ? r : -EBADMSG;
        }
        return 0;
}

int config_load(const ConfigSchema *schema, char * const *files, Setting *settings, ConfigError *error) {
        int r;

        if (strv_length(files) == 0)
                return CONFIG_MISSING;
        r = config_load_file(schema, files[0], settings, error);
        if (r < 0)
                return r;
        if (r == INI_FILE_MASKED)
                return CONFIG_MASKED;
        if (r == INI_FILE_MISSING)
                return CONFIG_MISSING;
        STRV_FOREACH(dropin, files + 1) {
                r = config_load_file(schema, *dropin, settings, error);
                if (r < 0)
                        return r;
        }

        r = config_apply_defaults(schema, files[0], settings, error);
        if (r < 0)
                return r;
        return CONFIG_LOADED;
}
