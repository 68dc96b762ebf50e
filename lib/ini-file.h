/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reads one INI file with inih, with line numbers, strict limits and the reason for the first error kept. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

/* Longest profile file accepted; profiles are a few hundred bytes, anything near this is a mistake. */
#define INI_FILE_SIZE_MAX (64 * 1024)

/* Where a configuration error was found and why. line is 0 when the error concerns the whole file. */
typedef struct ConfigError {
        char *path;
        unsigned line;
        char *message;
} ConfigError;

/* Frees the fields (not the struct itself) and zeroes them. */
void config_error_clear(ConfigError *e);

/* Records the first error only: later calls are ignored. Returns -EINVAL for convenient tail calls. */
int config_error_set(ConfigError *e, const char *path, unsigned line, const char *format, ...) _printf_(4, 5);

/* The error as people read it: "PATH:LINE: MESSAGE", "PATH: MESSAGE" without a line, or "MESSAGE". Returns a
 * malloc'ed string, or NULL when out of memory. */
char *config_error_to_string(const ConfigError *e);

/* Called for each Key=Value with the section it is in and its line. Returns 0, or a negative errno after
 * setting *error (parsing goes on to the end of the file but only the first error is kept). */
typedef int (*IniAssignmentHandler)(const char *section, const char *key, const char *value, unsigned line,
                                    void *userdata, ConfigError *error);

typedef enum IniFileState {
        INI_FILE_PARSED,
        INI_FILE_MASKED,          /* empty, or a symlink to /dev/null */
        INI_FILE_MISSING,
} IniFileState;

/* Opens path without following a final symlink into anything but a regular file or /dev/null, checks its size,
 * and feeds every assignment to handler. Returns an IniFileState on success, or a negative errno with *error set
 * (syntax errors, an oversized or binary file, an unreadable file). */
int ini_file_parse(const char *path, IniAssignmentHandler handler, void *userdata, ConfigError *error);
