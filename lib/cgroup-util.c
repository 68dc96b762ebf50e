/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading and writing cgroup v2 interface files. */

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "cgroup-util.h"
#include "macro.h"
#include "parse-value.h"

static int read_small_file(const char *dir, const char *file, char *buf, size_t size) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, file);
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

int cgroup_self_unit_path(char **ret) {
        char buf[4096], *line, *end;
        int r;

        r = read_small_file("/proc/self", "cgroup", buf, sizeof(buf));
        if (r < 0)
                return r;
        /* The cgroup v2 entry is "0::/path". */
        for (line = buf; line && *line; line = end ? end + 1 : NULL) {
                end = strchr(line, '\n');
                if (end)
                        *end = '\0';
                if (strncmp(line, "0::/", 4) == 0) {
                        size_t n = strlen(line + 3);

                        if (n >= 9 && strcmp(line + 3 + n - 9, "/.control") == 0)
                                line[3 + n - 9] = '\0';
                        *ret = strprintf(CGROUP_ROOT "%s", strcmp(line + 3, "/") == 0 ? "" : line + 3);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -ENOMEDIUM;
}

int cgroup_read_uint(const char *dir, const char *file, uint64_t *ret) {
        char buf[64];
        int r;

        r = read_small_file(dir, file, buf, sizeof(buf));
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        if (strcmp(buf, "max") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        return parse_uint64(buf, ret);
}

int cgroup_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret) {
        char buf[4096];
        size_t n = strlen(key);
        int r;

        r = read_small_file(dir, file, buf, sizeof(buf));
        if (r < 0)
                return r;
        for (char *line = buf; *line;) {
                char *end = strchr(line, '\n');

                if (end)
                        *end = '\0';
                if (strncmp(line, key, n) == 0 && line[n] == ' ')
                        return parse_uint64(line + n + 1, ret);
                if (!end)
                        break;
                line = end + 1;
        }
        return -ENOENT;
}

int cgroup_read_cpu_percent(const char *dir, uint64_t *ret) {
        char buf[64], *space;
        uint64_t quota, period;
        int r;

        r = read_small_file(dir, "cpu.max", buf, sizeof(buf));
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        space = strchr(buf, ' ');
        if (!space)
                return -EBADMSG;
        *space = '\0';
        if (parse_uint64(space + 1, &period) < 0 || period == 0)
                return -EBADMSG;
        if (strcmp(buf, "max") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (parse_uint64(buf, &quota) < 0)
                return -EBADMSG;
        /* Round to the nearest percent: systemd stores the quota per second and rounds it to the period. */
        *ret = (quota * 100 + period / 2) / period;
        return 0;
}

int cgroup_write(const char *dir, const char *file, const char *value) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, file);
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(value);
        ssize_t k;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        k = write(fd, value, n);
        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EIO;
}

int cgroup_read_io_bytes(const char *dir, uint64_t *ret_read, uint64_t *ret_written) {
        char buf[8192];
        uint64_t rbytes = 0, wbytes = 0;
        char *save = NULL;
        int r;

        r = read_small_file(dir, "io.stat", buf, sizeof(buf));
        if (r < 0)
                return r;
        /* One line per device: "8:0 rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
        for (char *word = strtok_r(buf, " \n", &save); word; word = strtok_r(NULL, " \n", &save)) {
                uint64_t v;

                if (strncmp(word, "rbytes=", 7) == 0 && parse_uint64(word + 7, &v) >= 0)
                        rbytes += v;
                else if (strncmp(word, "wbytes=", 7) == 0 && parse_uint64(word + 7, &v) >= 0)
                        wbytes += v;
        }
        *ret_read = rbytes;
        *ret_written = wbytes;
        return 0;
}
