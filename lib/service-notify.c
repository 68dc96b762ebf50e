/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Telling the service manager about this process over $NOTIFY_SOCKET. */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "macro.h"
#include "service-notify.h"

int service_notify(const char *state) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        size_t length;

        if (!path || !path[0])
                return 0;
        length = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || length >= sizeof(address.sun_path))
                return -EINVAL;
        memcpy(address.sun_path, path, length);
        /* "@": a socket in the abstract namespace, whose name starts with a NUL byte. */
        if (path[0] == '@')
                address.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *) &address,
                   (socklen_t) (offsetof(struct sockaddr_un, sun_path) + length)) < 0)
                return -errno;
        return 1;
}
