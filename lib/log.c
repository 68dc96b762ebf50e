/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging for the top level of programs (library code returns errors instead). */

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static int kmsg_fd = -EBADF;
static int max_level = LOG_INFO;

void log_open(LogTarget target) {
        const char *e = secure_getenv("SYSTEMD_LOG_LEVEL");

        if (e && strcmp(e, "debug") == 0)
                max_level = LOG_DEBUG;
        /* systemd's own variable, so "SYSTEMD_LOG_TARGET=console" works as it does for systemd's generators. */
        e = secure_getenv("SYSTEMD_LOG_TARGET");
        if (e && (strcmp(e, "console") == 0 || strcmp(e, "stderr") == 0))
                target = LOG_TARGET_STDERR;
        else if (e && strcmp(e, "kmsg") == 0)
                target = LOG_TARGET_KMSG;
        kmsg_fd = safe_close(kmsg_fd);
        if (target == LOG_TARGET_KMSG && !isatty(STDERR_FILENO))
                kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

/* One write() per record: dprintf() cannot be used, glibc's lseek() on /dev/kmsg fails with EINVAL. */
static bool log_to_kmsg(int level, const char *message) {
        char record[2200];
        int n;

        if (kmsg_fd < 0)
                return false;
        n = snprintf(record, sizeof(record), "<%d>%s[%d]: %s\n", level, program_invocation_short_name,
                     (int) getpid(), message);
        if (n < 0)
                return false;
        if ((size_t) n >= sizeof(record))
                n = sizeof(record) - 1;
        return write(kmsg_fd, record, (size_t) n) == n;
}

int log_internal(int level, int error, const char *format, ...) {
        int saved_errno = errno;
        char message[2048];
        va_list ap;

        if (error < 0)
                error = -error;
        if (level <= max_level) {
                errno = error;
                va_start(ap, format);
                (void) vsnprintf(message, sizeof(message), format, ap);
                va_end(ap);
                if (!log_to_kmsg(level, message))
                        (void) fprintf(stderr, "%s\n", message);
        }
        errno = saved_errno;
        return -error;
}
