/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The caller's side of the spool: handing a request to an analysis unit, and asking it to note a cancel. */

#include <fcntl.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "fs-util.h"
#include "macro.h"
#include "spool.h"

/* O_PATH: the system's spool grants its group write and search but not read (no listing of others' entries),
 * and opening a directory for reading would need read permission. */
static int open_spool(const AnalysisPaths *paths, bool create) {
        int fd;

        fd = open(paths->spool_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                /* A user's spool lives in $XDG_RUNTIME_DIR; the system's is made by tmpfiles.d. */
                int r = mkdir_p(paths->spool_dir, 0700);

                if (r < 0)
                        return r;
                fd = open(paths->spool_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        return fd < 0 ? -errno : fd;
}

int spool_submit(const AnalysisPaths *paths, const char *id, const Request *request) {
        _cleanup_close_ int spool_fd = -EBADF, dir_fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t size;
        int r;

        spool_fd = open_spool(paths, true);
        if (spool_fd < 0)
                return spool_fd;
        if (fstatat(spool_fd, id, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
                        return -EEXIST;
                r = remove_flat_dir_at(spool_fd, id);
                if (r < 0)
                        return r;
        }
        if (mkdirat(spool_fd, id, 0700) < 0)
                return -errno;
        dir_fd = openat(spool_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        r = request_serialize(request, &data, &size);
        if (r >= 0)
                r = write_file_atomic_at(dir_fd, "request", data, size, 0600);
        if (r < 0)
                (void) remove_flat_dir_at(spool_fd, id);
        return r;
}

int spool_mark_cancelled(const AnalysisPaths *paths, const char *id) {
        _cleanup_close_ int spool_fd = -EBADF, dir_fd = -EBADF, fd = -EBADF;
        struct stat st;

        spool_fd = open_spool(paths, false);
        if (spool_fd < 0)
                return spool_fd;
        dir_fd = openat(spool_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        fd = openat(dir_fd, "cancel", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        /* The unit honours a marker only from the owner of the request; root marks on the owner's behalf. */
        if (geteuid() == 0 && fstat(dir_fd, &st) >= 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
                return -errno;
        return 0;
}

int spool_remove(const AnalysisPaths *paths, const char *id) {
        _cleanup_close_ int spool_fd = open_spool(paths, false);

        if (spool_fd < 0)
                return spool_fd == -ENOENT ? 0 : spool_fd;
        return remove_flat_dir_at(spool_fd, id);
}

int spool_watch_output_fresh(const AnalysisPaths *paths, const char *id) {
        _cleanup_free_ char *path = strprintf("%s/%s", paths->spool_dir, id);
        _cleanup_close_ int fd = -EBADF;

        if (!path)
                return -ENOMEM;
        fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (inotify_add_watch(fd, path, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int spool_output_fresh_seen(int watch_fd, bool *seen) {
        /* Aligned as struct inotify_event needs; room for many events with short names. */
        char buffer[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        while (!*seen) {
                ssize_t n = read(watch_fd, buffer, sizeof(buffer));

                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                for (char *p = buffer; p < buffer + n; ) {
                        const struct inotify_event *e = (const struct inotify_event *) p;

                        if (e->len > 0 && strcmp(e->name, SPOOL_OUTPUT_FRESH) == 0)
                                *seen = true;
                        p += sizeof(struct inotify_event) + e->len;
                }
        }
        return 1;
}
