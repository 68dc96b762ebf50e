/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sending one structured message to the journal over its native socket, without linking libsystemd. */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "journal-send.h"
#include "macro.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define FIELDS_MAX 16

int journal_send(int priority, const char *identifier, char * const *fields, const char *message) {
        static const struct sockaddr_un address = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        _cleanup_close_ int fd = -EBADF;
        char priority_field[32], length[8];
        struct iovec iov[4 + 2 * FIELDS_MAX + 4];
        uint64_t n = strlen(message);
        size_t k = 0, i = 0;

        (void) snprintf(priority_field, sizeof(priority_field), "PRIORITY=%d\n", priority);
        iov[k++] = (struct iovec) { priority_field, strlen(priority_field) };
        iov[k++] = (struct iovec) { (char *) "SYSLOG_IDENTIFIER=", 18 };
        iov[k++] = (struct iovec) { (char *) identifier, strlen(identifier) };
        iov[k++] = (struct iovec) { (char *) "\n", 1 };
        for (; fields && fields[i] && i < FIELDS_MAX; i++) {
                /* A value with a newline would need the binary form; ours never have one, so refuse. */
                if (strchr(fields[i], '\n') || !strchr(fields[i], '='))
                        return -EINVAL;
                iov[k++] = (struct iovec) { fields[i], strlen(fields[i]) };
                iov[k++] = (struct iovec) { (char *) "\n", 1 };
        }
        /* MESSAGE in the binary form (name, newline, 64-bit little-endian length, data, newline): whatever it
         * holds, it cannot break the framing. */
        for (size_t b = 0; b < sizeof(length); b++)
                length[b] = (char) ((n >> (8 * b)) & 0xff);
        iov[k++] = (struct iovec) { (char *) "MESSAGE\n", 8 };
        iov[k++] = (struct iovec) { length, sizeof(length) };
        iov[k++] = (struct iovec) { (char *) message, n };
        iov[k++] = (struct iovec) { (char *) "\n", 1 };

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendmsg(fd, &(struct msghdr) {
                            .msg_name = (void *) &address,
                            .msg_namelen = sizeof(address),
                            .msg_iov = iov,
                            .msg_iovlen = k,
                    }, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

void journal_log_analysis(int priority, const char *identifier, const char *id, const char *profile,
                          const char *format, ...) {
        _cleanup_free_ char *message = NULL, *id_field = NULL, *profile_field = NULL;
        char *fields[3] = {};
        size_t n = 0;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0)
                return;
        id_field = id ? strprintf("ANALYSIS_ID=%s", id) : NULL;
        profile_field = profile && profile[0] ? strprintf("ANALYSIS_PROFILE=%s", profile) : NULL;
        if (id_field)
                fields[n++] = id_field;
        if (profile_field)
                fields[n++] = profile_field;
        if (journal_send(priority, identifier, fields, message) < 0)
                syslog(priority, "%s", message);
}
