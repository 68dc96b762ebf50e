/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small file system helpers. */

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "fs-util.h"
#include "macro.h"

int loop_write(int fd, const void *p, size_t n) {
        const char *q = p;

        while (n > 0) {
                ssize_t k = write(fd, q, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                q += k;
                n -= (size_t) k;
        }
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *slash = p + 1; (slash = strchr(slash, '/')); slash++) {
                *slash = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *slash = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int remove_flat_dir_at(int dir_fd, const char *name) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                (void) close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                                return -errno;
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int read_file_tail(const char *path, size_t max, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        off_t start;
        ssize_t n;
        char *nl;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0 && errno != ENOENT)
                return -errno;
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        buf[0] = '\0';
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                *ret = TAKE_PTR(buf);
                return 0;
        }
        start = st.st_size > (off_t) max ? st.st_size - (off_t) max : 0;
        n = pread(fd, buf, max, start);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        nl = start > 0 ? memchr(buf, '\n', (size_t) n / 2) : NULL;
        if (nl)
                memmove(buf, nl + 1, strlen(nl + 1) + 1);
        *ret = TAKE_PTR(buf);
        return 0;
}

int write_string_atomic_at(int dir_fd, const char *name, const char *s) {
        return write_file_atomic_at(dir_fd, name, s, strlen(s), 0644);
}
