/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The durable note that an analysis is running. */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "entry-file.h"
#include "fs-util.h"
#include "running-mark.h"

int current_boot_id(char ret[static 33]) {
        _cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char buf[64];
        ssize_t n;
        size_t k = 0;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        for (ssize_t i = 0; i < n && k < 32; i++)
                if ((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'a' && buf[i] <= 'f'))
                        ret[k++] = buf[i];
        if (k != 32)
                return -EBADMSG;
        ret[k] = '\0';
        return 0;
}

static int open_dir(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

int running_mark_write(const char *dir, const char *id, const UnitState *state) {
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        size_t size;
        int r;

        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        dir_fd = open_dir(dir);
        if (dir_fd < 0)
                return dir_fd;
        r = unit_state_serialize(state, &data, &size);
        if (r < 0)
                return r;
        /* The file is fsync()ed before its rename; the rename itself is on disk only once the directory is. */
        r = write_file_atomic_at(dir_fd, id, data, size, 0600);
        if (r < 0)
                return r;
        return fsync(dir_fd) < 0 ? -errno : 0;
}

int running_mark_read_at(int dir_fd, const char *name, UnitState **ret) {
        _cleanup_free_ char *data = NULL, *why = NULL;
        size_t size;
        int r;

        r = entry_file_read_at(dir_fd, name, geteuid(), &data, &size, &why);
        if (r < 0)
                return r;
        return unit_state_parse(data, size, ret, &why);
}

int running_mark_remove(const char *dir, const char *id) {
        _cleanup_close_ int dir_fd = open_dir(dir);

        if (dir_fd == -ENOENT)
                return 0;
        if (dir_fd < 0)
                return dir_fd;
        if (unlinkat(dir_fd, id, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return fsync(dir_fd) < 0 ? -errno : 0;
}
