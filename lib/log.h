/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging for the top level of programs (library code returns errors instead). */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_STDERR,
        LOG_TARGET_KMSG,        /* /dev/kmsg, for generators; falls back to stderr */
} LogTarget;

/* Chooses where messages go. LOG_TARGET_KMSG is honoured only when /dev/kmsg can be opened and stderr is not a
 * terminal (systemd.generator(7)). $SYSTEMD_LOG_TARGET=console|kmsg overrides target, and
 * $SYSTEMD_LOG_LEVEL=debug enables debug messages, as for systemd's own programs. */
void log_open(LogTarget target);

/* Logs at level; with error != 0, errno is set to |error| for %m. Returns -|error| (or 0 when error is 0). */
int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_error_errno(error, ...) log_internal(LOG_ERR, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_internal(LOG_WARNING, (error), __VA_ARGS__)
#define log_oom() log_internal(LOG_ERR, ENOMEM, "Out of memory.")
