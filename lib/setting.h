/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One typed configuration value: its kinds, strict parsing with a reason on failure, and unit formatting. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum ValueKind {
        VALUE_TEXT,             /* free text shown to people (Description=) */
        VALUE_USER,             /* a user name or numeric UID */
        VALUE_COMMAND,          /* an absolute command line with %i for the analysis id */
        VALUE_BOOLEAN,
        VALUE_MEMORY,           /* bytes with K/M/G/T suffix, or N% of RAM */
        VALUE_CPU,              /* N% of one CPU */
        VALUE_TASKS,            /* a number of processes and threads */
        VALUE_TIMESPAN,         /* a systemd time span */
        VALUE_CPU_WEIGHT,       /* 1..10000, for CPUWeight= and IOWeight= */
        VALUE_PROTECT_SYSTEM,   /* no, yes, full, strict */
        VALUE_PROTECT_HOME,     /* no, yes, read-only, tmpfs */
        VALUE_BANDWIDTH,        /* bytes per second with K/M/G/T suffix (powers of 1000, as systemd's) */
        VALUE_PATHS,            /* absolute paths separated by spaces */
        VALUE_PATH,             /* one absolute path */
        VALUE_BACKEND,          /* where analyses run: systemd or slurm */
        VALUE_NAME,             /* a name of another system (a Slurm partition): A-Z a-z 0-9 _ . - */
        _VALUE_KIND_MAX,
        _VALUE_KIND_INVALID = -EINVAL,
} ValueKind;

typedef enum SettingFlags {
        SETTING_REQUIRED       = 1 << 0,
        SETTING_ALLOW_INFINITY = 1 << 1,   /* "infinity" means no limit */
        SETTING_ALLOW_ZERO     = 1 << 2,   /* 0 is a meaningful limit (e.g. no swap) */
        SETTING_MIN_ONE_SECOND = 1 << 3,
} SettingFlags;

typedef struct Setting {
        bool set;
        bool infinity;
        bool percent;           /* VALUE_MEMORY given as a percentage of RAM */
        uint64_t number;        /* bytes, percent, tasks, microseconds, boolean, weight, bytes per second */
        char *text;             /* normalized text of TEXT, USER, COMMAND, PROTECT_* and PATHS kinds */
        const char *path;       /* the file that set it, and where */
        unsigned line;
} Setting;

/* Parses value as kind into *ret (which must be cleared). On failure returns -EINVAL or -ERANGE and a
 * malloc'ed explanation in *ret_reason, phrased to follow "invalid Key= value 'X': ". An empty value is not
 * handled here: it resets a setting (see config-load.c). */
int setting_parse(ValueKind kind, SettingFlags flags, const char *value, Setting *ret, char **ret_reason);

/* Formats a parsed setting as the value of a systemd directive (bytes, "50%", seconds, "yes", ...). The text
 * kinds are escaped for unit files (% doubled in TEXT). Returns 0 or -ENOMEM. */
int setting_format_for_unit(ValueKind kind, const Setting *s, char **ret);

/* Room for any number setting_unit_value() formats, with the NUL. */
#define SETTING_UNIT_NUMBER_MAX 32

/* The value setting_format_for_unit() makes, without making a copy: the text kept in s, a constant, or a number
 * formatted into buf (valid as long as s and buf are). NULL for a TEXT value holding a '%', which only
 * setting_format_for_unit() can double, and for an unknown kind. */
const char *setting_unit_value(ValueKind kind, const Setting *s, char buf[static SETTING_UNIT_NUMBER_MAX]);

/* Frees what the setting owns and clears it. */
void setting_clear(Setting *s);

/* Copies src into dst (which must be cleared). Returns 0 or -ENOMEM. */
int setting_copy(Setting *dst, const Setting *src);

/* Largest CPU= percentage accepted: 100% per CPU of this machine; more would silently mean no limit. */
unsigned cpu_percent_max(void);
