/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The samples file while its analysis runs: appended to by analysis-sampler, taken by the recorder. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "macro.h"
#include "samples-file.h"

typedef struct DirLock {
        int fd;
} DirLock;

static void dir_unlock(DirLock *l) {
        if (l->fd >= 0)
                (void) flock(l->fd, LOCK_UN);
}

/* flock() on the directory itself: the file is renamed over when rewritten, so it cannot carry the lock. */
static int dir_lock(int dir_fd, DirLock *ret) {
        while (flock(dir_fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return -errno;
        ret->fd = dir_fd;
        return 0;
}

static bool taken(int dir_fd) {
        struct stat st;

        return fstatat(dir_fd, SAMPLES_TAKEN_NAME, &st, AT_SYMLINK_NOFOLLOW) >= 0 || errno != ENOENT;
}

static int write_all(int fd, const char *text, size_t size) {
        while (size > 0) {
                ssize_t n = write(fd, text, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                text += n;
                size -= (size_t) n;
        }
        return 0;
}

int samples_inflight_append(int dir_fd, const char *head, const char *text, size_t size) {
        _cleanup_(dir_unlock) DirLock lock = { -EBADF };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = dir_lock(dir_fd, &lock);
        if (r < 0)
                return r;
        if (taken(dir_fd))
                return -ESTALE;
        fd = openat(dir_fd, SAMPLES_INFLIGHT_NAME, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
                return -EPERM;
        if (st.st_size == 0 && head) {
                r = write_all(fd, head, strlen(head));
                if (r < 0)
                        return r;
        }
        r = write_all(fd, text, size);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        return st.st_size > INT32_MAX ? INT32_MAX : (int) st.st_size;
}

int samples_inflight_replace(int dir_fd, const Samples *s) {
        _cleanup_(dir_unlock) DirLock lock = { -EBADF };
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = samples_format(s, &data, &size);
        if (r < 0)
                return r;
        r = dir_lock(dir_fd, &lock);
        if (r < 0)
                return r;
        if (taken(dir_fd))
                return -ESTALE;
        return write_file_atomic_at(dir_fd, SAMPLES_INFLIGHT_NAME, data, size, 0600);
}

int samples_file_read_at(int dir_fd, const char *name, Samples *ret, char **ret_reason) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        struct stat st;

        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if (st.st_size > SAMPLES_FILE_MAX)
                return -EFBIG;
        data = malloc((size_t) st.st_size + 1);
        if (!data)
                return -ENOMEM;
        while (size < (size_t) st.st_size) {
                ssize_t n = read(fd, data + size, (size_t) st.st_size - size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        return samples_parse(data, size, ret, ret_reason);
}

int samples_inflight_take(int dir_fd, Samples *ret, char **ret_reason) {
        _cleanup_(dir_unlock) DirLock lock = { -EBADF };
        _cleanup_close_ int marker = -EBADF;
        int r;

        r = dir_lock(dir_fd, &lock);
        if (r < 0)
                return r;
        marker = openat(dir_fd, SAMPLES_TAKEN_NAME, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (marker < 0)
                return -errno;
        return samples_file_read_at(dir_fd, SAMPLES_INFLIGHT_NAME, ret, ret_reason);
}
