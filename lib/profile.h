/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource profiles and the global configuration: their keys, and loading one merged from its files. */
#pragma once

#include <stdbool.h>

#include "config-load.h"
#include "profile-search.h"
#include "runtime-scope.h"

/* Indexes into profile_schema.keys and Profile.settings; the order of the table in profile.c. */
typedef enum ProfileKey {
        PROFILE_DESCRIPTION,
        PROFILE_USER,
        PROFILE_EXEC,
        PROFILE_ALLOW_ROOT,
        PROFILE_MEMORY,
        PROFILE_SWAP,
        PROFILE_CPU,
        PROFILE_TASKS,
        PROFILE_RUNTIME,
        PROFILE_KILL_GRACE,
        PROFILE_DISK,
        PROFILE_READ_BANDWIDTH,
        PROFILE_WRITE_BANDWIDTH,
        PROFILE_BANDWIDTH_PATHS,
        PROFILE_SLICE_MEMORY,
        PROFILE_SLICE_CPU,
        PROFILE_SLICE_TASKS,
        PROFILE_PROTECT_SYSTEM,
        PROFILE_PROTECT_HOME,
        PROFILE_PRIVATE_TMP,
        PROFILE_PRIVATE_DEVICES,
        PROFILE_PRIVATE_NETWORK,
        PROFILE_SLURM_PARTITION,
        PROFILE_SLURM_ACCOUNT,
        PROFILE_SLURM_QOS,
        _PROFILE_KEY_MAX,
        _PROFILE_KEY_INVALID = -EINVAL,
} ProfileKey;

typedef enum GlobalKey {
        GLOBAL_SLICE_MEMORY,
        GLOBAL_SLICE_CPU,
        GLOBAL_SLICE_TASKS,
        GLOBAL_SLICE_CPU_WEIGHT,
        GLOBAL_SLICE_IO_WEIGHT,
        GLOBAL_BACKEND_DEFAULT,
        GLOBAL_SLURM_SHARED_DIRECTORY,
        GLOBAL_SLURM_PARTITION,
        GLOBAL_RECORDS_SAMPLE_INTERVAL,
        _GLOBAL_KEY_MAX,
        _GLOBAL_KEY_INVALID = -EINVAL,
} GlobalKey;

extern const ConfigSchema profile_schema;
extern const ConfigSchema global_schema;

/* The account analyses of a profile without User= run as where systemd cannot give each its own
 * (analysis-run --fallback=rlimit as root). */
#define PROFILE_FALLBACK_ACCOUNT "analysis-sandbox"

/* Longest profile name accepted, so unit names stay far below systemd's 256 characters. */
#define PROFILE_NAME_MAX 64

typedef struct Profile {
        char *name;
        char **files;           /* the main file, then the drop-ins in the order applied */
        Setting settings[_PROFILE_KEY_MAX];
} Profile;

typedef struct GlobalConfig {
        char **files;           /* may be empty: then every key has its default */
        Setting settings[_GLOBAL_KEY_MAX];
} GlobalConfig;

/* Whether name is a valid profile name: [a-z0-9_]+, at most PROFILE_NAME_MAX characters. A dash is refused
 * because systemd reads it as slice nesting. */
bool profile_name_is_valid(const char *name);

/* Loads profile name from files (the main file first, then drop-ins) and checks it as a whole for scope.
 * Returns a ConfigLoadState with *ret set only for CONFIG_LOADED, or a negative errno with *error set. */
int profile_load(const char *name, char * const *files, RuntimeScope scope, Profile **ret, ConfigError *error);

/* Finds profile name's file and drop-ins in dirs (profile-search.c) and loads it as profile_load() does.
 * Directories that cannot be read add to *warnings. With ret_files, the files found (maybe none) are returned
 * whatever the outcome. Returns what profile_load() returns, or -ENOMEM. */
int profile_find_and_load(char * const *dirs, const char *name, RuntimeScope scope, char ***warnings,
                          char ***ret_files, Profile **ret, ConfigError *error);

/* The same, looking the files up in an index of the directories (profile-search.h). */
int profile_find_and_load_indexed(const DirIndex *index, const char *name, RuntimeScope scope, char ***warnings,
                                  char ***ret_files, Profile **ret, ConfigError *error);

/* Frees the profile; accepts NULL and returns NULL. */
Profile *profile_free(Profile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Profile *, profile_free);

/* Loads the global configuration from files (may be empty). Returns 0 with *ret set, or a negative errno with
 * *error set. */
int global_config_load(char * const *files, GlobalConfig **ret, ConfigError *error);

/* Finds analysis-sandbox.conf and its drop-ins for scope (profile-search.c) and loads them as
 * global_config_load() does; directories that cannot be read are passed over. */
int global_config_find_and_load(RuntimeScope scope, GlobalConfig **ret, ConfigError *error);

GlobalConfig *global_config_free(GlobalConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(GlobalConfig *, global_config_free);

/* The unit names for a profile: "analysis@.service" for default, "analysis-NAME@.service" otherwise, and
 * "analysis-NAME.slice". Return 0 or -ENOMEM. */
int profile_service_template_name(const char *name, char **ret);
int profile_slice_name(const char *name, char **ret);
