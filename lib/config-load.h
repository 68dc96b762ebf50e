/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loads a schema's settings from a main file and its drop-ins, in order, with systemd's override rules. */
#pragma once

#include <stddef.h>

#include "ini-file.h"
#include "setting.h"

/* Which unit a key's value ends up in. */
typedef enum ConfigTarget {
        CONFIG_TARGET_NONE,
        CONFIG_TARGET_SERVICE,
        CONFIG_TARGET_SLICE,
} ConfigTarget;

typedef struct ConfigKey {
        const char *section;
        const char *key;
        ValueKind kind;
        SettingFlags flags;
        const char *default_value;      /* used when the files leave the key unset; NULL for none */
        ConfigTarget target;
        bool system_only;               /* left out of units for a user manager */
} ConfigKey;

typedef struct ConfigSchema {
        const ConfigKey *keys;
        size_t n_keys;
} ConfigSchema;

typedef enum ConfigLoadState {
        CONFIG_LOADED,
        CONFIG_MASKED,          /* the main file is empty or a symlink to /dev/null */
        CONFIG_MISSING,         /* the main file vanished (or none was given) */
} ConfigLoadState;

/* Applies files[0] (the main file) and then each drop-in over settings (an array of schema->n_keys cleared
 * Settings). Later files override earlier ones; an empty value resets a key; a key set twice within one file,
 * an unknown section or key and a bad value are errors. Then required keys are checked and defaults filled in.
 * Masked or vanished drop-ins are skipped. Returns a ConfigLoadState, or a negative errno with *error set. */
int config_load(const ConfigSchema *schema, char * const *files, Setting *settings, ConfigError *error);

/* Fills unset keys with their defaults, or fails naming path when a required key is unset. Returns 0, or a
 * negative errno with *error set. */
int config_apply_defaults(const ConfigSchema *schema, const char *path, Setting *settings, ConfigError *error);

/* Returns the index of section/key in schema, or -ENOENT. */
int config_schema_find(const ConfigSchema *schema, const char *section, const char *key);
