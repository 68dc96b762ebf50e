/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing a file so that readers see the old content or the whole new content, never a part. */

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "fs-util.h"
#include "macro.h"
#include "time-util.h"

/* The suffixes of temporary names: random once per process, then counted up, as a getrandom() per file was
 * one of the generator's few system calls per unit beyond the floor's. O_EXCL makes a name that is taken
 * harmless; the only way to meet one is a forked child that goes on with its parent's sequence, and a
 * collision draws a fresh random start. */
static uint64_t temporary_suffix(bool fresh) {
        static uint64_t next;
        static bool seeded;

        if (!seeded || fresh) {
                if (getrandom(&next, sizeof(next), GRND_NONBLOCK) != sizeof(next))
                        next ^= ((uint64_t) getpid() << 32) ^ now_usec(CLOCK_MONOTONIC);
                seeded = true;
        }
        return next++;
}

/* The process' umask, read once: umask() can only be read by setting it. The programs sharing this code never
 * change theirs after starting. */
static mode_t process_umask(void) {
        static mode_t mask;
        static bool known;

        if (!known) {
                mask = umask(0077);
                (void) umask(mask);
                known = true;
        }
        return mask;
}

/* Room for a temporary name: ".#", a name the kernel accepts, '.', 16 hex digits and the NUL. */
#define TEMPORARY_NAME_MAX (2 + NAME_MAX + 1 + 16 + 1)

/* Writes ".#NAME.XXXXXXXXXXXXXXXX" into tmp, by hand: the generator names two files per profile, and
 * asprintf() was most of the instructions writing one cost it. */
static void temporary_name(const char *name, size_t len, uint64_t suffix, char tmp[static TEMPORARY_NAME_MAX]) {
        char *p = tmp;

        *p++ = '.';
        *p++ = '#';
        p = mempcpy(p, name, len);
        *p++ = '.';
        for (int shift = 60; shift >= 0; shift -= 4)
                *p++ = "0123456789abcdef"[(suffix >> shift) & 0xf];
        *p = '\0';
}

/* Creates ".#NAME.XXXXXXXXXXXXXXXX" exclusively with mode, so concurrent writers (two generators racing, say)
 * never share a temporary file. Its name goes to tmp. */
static int open_temporary_at(int dir_fd, const char *name, mode_t mode, char tmp[static TEMPORARY_NAME_MAX]) {
        size_t len = strlen(name);
        bool collided = false;

        /* Longer than the kernel takes: what openat() would say of the temporary name. */
        if (len > NAME_MAX)
                return -ENAMETOOLONG;
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                int fd;

                temporary_name(name, len, temporary_suffix(collided), tmp);
                fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
                if (fd >= 0)
                        return fd;
                if (errno != EEXIST)
                        return -errno;
                collided = true;
        }
        return -EEXIST;
}

int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode) {
        return write_file_atomic_full_at(dir_fd, name, data, size, mode, NULL, NULL);
}

int write_file_atomic_full_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode,
                              int (*before_rename)(int fd, void *userdata), void *userdata) {
        char tmp[TEMPORARY_NAME_MAX];
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!name || !*name || strchr(name, '/'))
                return -EINVAL;
        /* Created with its final mode; only where the umask took bits away is it set again explicitly. */
        fd = open_temporary_at(dir_fd, name, mode & 07777, tmp);
        if (fd < 0)
                return fd;
        r = loop_write(fd, data, size);
        if (r >= 0 && (mode & process_umask()) != 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && before_rename)
                r = before_rename(fd, userdata);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}
