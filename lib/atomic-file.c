/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing a file so that readers see the old content or the whole new content, never a part. */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "fs-util.h"
#include "macro.h"

/* Creates ".#NAME.XXXXXXXXXXXXXXXX" exclusively, a fresh random suffix per try so concurrent writers (two
 * generators racing, say) never share a temporary file. */
static int open_temporary_at(int dir_fd, const char *name, char **ret_tmp) {
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                _cleanup_free_ char *tmp = NULL;
                uint64_t suffix;
                int fd;

                if (getrandom(&suffix, sizeof(suffix), GRND_NONBLOCK) != sizeof(suffix))
                        suffix = ((uint64_t) getpid() << 32) ^ (uint64_t) attempt ^ (uint64_t) (uintptr_t) &suffix;
                if (asprintf(&tmp, ".#%s.%016llx", name, (unsigned long long) suffix) < 0)
                        return -ENOMEM;
                fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
                if (fd >= 0) {
                        *ret_tmp = TAKE_PTR(tmp);
                        return fd;
                }
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!name || !*name || strchr(name, '/'))
                return -EINVAL;
        fd = open_temporary_at(dir_fd, name, &tmp);
        if (fd < 0)
                return fd;
        r = loop_write(fd, data, size);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}
