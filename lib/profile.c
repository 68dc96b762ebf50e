/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource profiles and the global configuration: their keys, and loading one merged from its files. */

#include <string.h>

#include "profile-search.h"
#include "profile.h"
#include "strv.h"

#define SERVICE CONFIG_TARGET_SERVICE
#define SLICE CONFIG_TARGET_SLICE
#define NONE CONFIG_TARGET_NONE

/* Every key a profile may set. The template placeholder for a key is @Key@ (see templates/), so this table and
 * the templates together are the whole mapping from profile to units. */
static const ConfigKey profile_keys[_PROFILE_KEY_MAX] = {
        [PROFILE_DESCRIPTION]     = { "Profile", "Description",    VALUE_TEXT,           SETTING_REQUIRED,       NULL,        SERVICE },
        [PROFILE_USER]            = { "Profile", "User",           VALUE_USER,           0,                      NULL,        SERVICE, true },
        [PROFILE_EXEC]            = { "Profile", "Exec",           VALUE_COMMAND,        0,                      NULL,        SERVICE },
        [PROFILE_ALLOW_ROOT]      = { "Profile", "AllowRoot",      VALUE_BOOLEAN,        0,                      "no",        NONE },
        [PROFILE_MEMORY]          = { "Limits",  "Memory",         VALUE_MEMORY,         SETTING_REQUIRED,       NULL,        SERVICE },
        [PROFILE_SWAP]            = { "Limits",  "Swap",           VALUE_MEMORY,         SETTING_ALLOW_ZERO,     "0",         SERVICE },
        [PROFILE_CPU]             = { "Limits",  "CPU",            VALUE_CPU,            SETTING_REQUIRED,       NULL,        SERVICE },
        [PROFILE_TASKS]           = { "Limits",  "Tasks",          VALUE_TASKS,          SETTING_REQUIRED,       NULL,        SERVICE },
        [PROFILE_RUNTIME]         = { "Limits",  "Runtime",        VALUE_TIMESPAN,       SETTING_REQUIRED,       NULL,        SERVICE },
        [PROFILE_KILL_GRACE]      = { "Limits",  "KillGrace",      VALUE_TIMESPAN,       SETTING_MIN_ONE_SECOND, "10s",       SERVICE },
        [PROFILE_DISK]            = { "Limits",  "Disk",           VALUE_MEMORY,         0,                      "1G",        SERVICE },
        /* A user manager gets no io controller (user@.service in 252 delegates pids memory cpu). */
        [PROFILE_READ_BANDWIDTH]  = { "Limits",  "ReadBandwidth",  VALUE_BANDWIDTH,      SETTING_ALLOW_INFINITY, NULL,        SERVICE, true },
        [PROFILE_WRITE_BANDWIDTH] = { "Limits",  "WriteBandwidth", VALUE_BANDWIDTH,      SETTING_ALLOW_INFINITY, NULL,        SERVICE, true },
        [PROFILE_BANDWIDTH_PATHS] = { "Limits",  "BandwidthPaths", VALUE_PATHS,          0,                      "/",         SERVICE, true },
        [PROFILE_SLICE_MEMORY]    = { "Slice",   "Memory",         VALUE_MEMORY,         SETTING_ALLOW_INFINITY, NULL,        SLICE },
        [PROFILE_SLICE_CPU]       = { "Slice",   "CPU",            VALUE_CPU,            SETTING_ALLOW_INFINITY, NULL,        SLICE },
        [PROFILE_SLICE_TASKS]     = { "Slice",   "Tasks",          VALUE_TASKS,          SETTING_ALLOW_INFINITY, NULL,        SLICE },
        [PROFILE_PROTECT_SYSTEM]  = { "Sandbox", "ProtectSystem",  VALUE_PROTECT_SYSTEM, 0,                      "full",      SERVICE, true },
        [PROFILE_PROTECT_HOME]    = { "Sandbox", "ProtectHome",    VALUE_PROTECT_HOME,   0,                      "read-only", SERVICE, true },
        [PROFILE_PRIVATE_TMP]     = { "Sandbox", "PrivateTmp",     VALUE_BOOLEAN,        0,                      "yes",       SERVICE, true },
        [PROFILE_PRIVATE_DEVICES] = { "Sandbox", "PrivateDevices", VALUE_BOOLEAN,        0,                      "yes",       SERVICE, true },
        [PROFILE_PRIVATE_NETWORK] = { "Sandbox", "PrivateNetwork", VALUE_BOOLEAN,        0,                      "no",        SERVICE, true },
        /* What only the Slurm backend knows (sbatch --partition, --account, --qos). No unit uses them. */
        [PROFILE_SLURM_PARTITION] = { "Slurm",   "Partition",      VALUE_NAME,           0,                      NULL,        NONE },
        [PROFILE_SLURM_ACCOUNT]   = { "Slurm",   "Account",        VALUE_NAME,           0,                      NULL,        NONE },
        [PROFILE_SLURM_QOS]       = { "Slurm",   "QOS",            VALUE_NAME,           0,                      NULL,        NONE },
};

/* analysis-sandbox.conf: caps on all analyses together. The defaults keep the rest of the host alive even
 * when every profile is busy: analyses as a whole get at most 80% of RAM and a fifth of the CPU and I/O weight
 * of a default unit when the CPU or a disk is contended. */
static const ConfigKey global_keys[_GLOBAL_KEY_MAX] = {
        [GLOBAL_SLICE_MEMORY]     = { "Slice", "Memory",    VALUE_MEMORY,     SETTING_ALLOW_INFINITY, "80%",  SLICE },
        [GLOBAL_SLICE_CPU]        = { "Slice", "CPU",       VALUE_CPU,        SETTING_ALLOW_INFINITY, NULL,   SLICE },
        [GLOBAL_SLICE_TASKS]      = { "Slice", "Tasks",     VALUE_TASKS,      SETTING_ALLOW_INFINITY, "4096", SLICE },
        [GLOBAL_SLICE_CPU_WEIGHT] = { "Slice", "CPUWeight", VALUE_CPU_WEIGHT, 0,                      "20",   SLICE },
        [GLOBAL_SLICE_IO_WEIGHT]  = { "Slice", "IOWeight",  VALUE_CPU_WEIGHT, 0,                      "20",   SLICE, true },
        /* Where analysis-run runs analyses (analysis-run --backend= overrides it), and the Slurm backend's
         * site settings. No unit uses them. */
        [GLOBAL_BACKEND_DEFAULT]        = { "Backend", "Default",         VALUE_BACKEND, 0, "systemd", NONE },
        [GLOBAL_SLURM_SHARED_DIRECTORY] = { "Slurm",   "SharedDirectory", VALUE_PATH,    0, NULL,      NONE },
        [GLOBAL_SLURM_PARTITION]        = { "Slurm",   "Partition",       VALUE_NAME,    0, NULL,      NONE },
        /* How often analysis-sampler samples every running analysis; 0 turns sampling off. */
        [GLOBAL_RECORDS_SAMPLE_INTERVAL] = { "Records", "SampleInterval", VALUE_TIMESPAN, SETTING_ALLOW_ZERO, "1s", NONE },
};

const ConfigSchema profile_schema = { profile_keys, ELEMENTSOF(profile_keys) };
const ConfigSchema global_schema = { global_keys, ELEMENTSOF(global_keys) };

bool profile_name_is_valid(const char *name) {
        const char *p;

        /* A loop, not strspn(): glibc builds a table for a set this large on every call, for every profile. */
        for (p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return p > name && p - name <= PROFILE_NAME_MAX;
}

static bool user_is_root(const char *user) {
        return strcmp(user, "root") == 0 || strcmp(user, "0") == 0;
}

/* Checks what no single key can: the account policy. */
static int profile_verify(const Profile *p, RuntimeScope scope, ConfigError *error) {
        const Setting *user = &p->settings[PROFILE_USER];

        /* A user manager always runs units as its own user, so User= only matters to the system manager, and
         * without it every analysis gets an account of its own (DynamicUser=). */
        if (scope != RUNTIME_SCOPE_SYSTEM || !user->set)
                return 0;
        /* Analyses are untrusted code; root must be asked for explicitly. */
        if (user_is_root(user->text) && !p->settings[PROFILE_ALLOW_ROOT].number)
                return config_error_set(error, user->path, user->line,
                                        "User=%s refused: analyses run as root only with AllowRoot=yes", user->text);
        return 0;
}

int profile_load(const char *name, char * const *files, RuntimeScope scope, Profile **ret, ConfigError *error) {
        _cleanup_(profile_freep) Profile *p = NULL;
        int r;

        if (!profile_name_is_valid(name))
                return config_error_set(error, files ? files[0] : NULL, 0,
                                        "invalid profile name '%s': only a-z, 0-9 and _ are allowed, at most %d characters",
                                        name, PROFILE_NAME_MAX);
        p = calloc(1, sizeof(Profile));
        if (!p)
                return -ENOMEM;
        p->name = strdup(name);
        if (!p->name)
                return -ENOMEM;
        STRV_FOREACH(f, files) {
                r = strv_extend(&p->files, *f);
                if (r < 0)
                        return r;
        }

        r = config_load(&profile_schema, p->files, p->settings, error);
        if (r != CONFIG_LOADED)
                return r;
        r = profile_verify(p, scope, error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return CONFIG_LOADED;
}

static int find_and_load(char * const *dirs, const DirIndex *index, const char *name, RuntimeScope scope,
                         char ***warnings, char ***ret_files, Profile **ret, ConfigError *error) {
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_free_ char *filename = strjoin(name, ".ini", NULL);
        int r;

        if (!filename)
                return -ENOMEM;
        r = index ? dir_index_find(index, filename, &files, warnings) : config_files_find(dirs, filename, &files, warnings);
        if (r < 0)
                return r;
        r = profile_load(name, files, scope, ret, error);
        if (ret_files)
                *ret_files = TAKE_PTR(files);
        return r;
}

int profile_find_and_load(char * const *dirs, const char *name, RuntimeScope scope, char ***warnings,
                          char ***ret_files, Profile **ret, ConfigError *error) {
        return find_and_load(dirs, NULL, name, scope, warnings, ret_files, ret, error);
}

int profile_find_and_load_indexed(const DirIndex *index, const char *name, RuntimeScope scope, char ***warnings,
                                  char ***ret_files, Profile **ret, ConfigError *error) {
        return find_and_load(index->dirs, index, name, scope, warnings, ret_files, ret, error);
}

Profile *profile_free(Profile *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(p->settings); i++)
                setting_clear(&p->settings[i]);
        strv_free(p->files);
        free(p->name);
        free(p);
        return NULL;
}

int global_config_load(char * const *files, GlobalConfig **ret, ConfigError *error) {
        _cleanup_(global_config_freep) GlobalConfig *c = NULL;
        int r;

        c = calloc(1, sizeof(GlobalConfig));
        if (!c)
                return -ENOMEM;
        STRV_FOREACH(f, files) {
                r = strv_extend(&c->files, *f);
                if (r < 0)
                        return r;
        }
        r = config_load(&global_schema, c->files, c->settings, error);
        if (r < 0)
                return r;
        if (r != CONFIG_LOADED) {
                /* No file, or masked: the built-in defaults apply. */
                r = config_apply_defaults(&global_schema, NULL, c->settings, error);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int global_config_find_and_load(RuntimeScope scope, GlobalConfig **ret, ConfigError *error) {
        _cleanup_strv_free_ char **profile_dirs = NULL, **dirs = NULL, **files = NULL, **warnings = NULL;
        int r;

        r = profile_search_dirs(scope, &profile_dirs);
        if (r >= 0)
                r = global_config_search_dirs(profile_dirs, &dirs);
        if (r >= 0)
                r = config_files_find(dirs, "analysis-sandbox.conf", &files, &warnings);
        if (r < 0)
                return r;
        return global_config_load(files, ret, error);
}

GlobalConfig *global_config_free(GlobalConfig *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(c->settings); i++)
                setting_clear(&c->settings[i]);
        strv_free(c->files);
        free(c);
        return NULL;
}

int profile_service_template_name(const char *name, char **ret) {
        *ret = strcmp(name, "default") == 0 ? strdup("analysis@.service") : strjoin("analysis-", name, "@.service", NULL);
        return *ret ? 0 : -ENOMEM;
}

int profile_slice_name(const char *name, char **ret) {
        *ret = strjoin("analysis-", name, ".slice", NULL);
        return *ret ? 0 : -ENOMEM;
}
