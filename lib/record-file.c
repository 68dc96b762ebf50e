/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the stored record of an analysis from its results directory. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "macro.h"
#include "record-file.h"

int record_file_load(const char *results_dir, const char *id, Record *ret, char **ret_json, size_t *ret_size,
                     char **ret_reason) {
        _cleanup_free_ char *path = strprintf("%s/%s.json", results_dir, id), *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size = 0;
        int r;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        data = malloc(RECORD_FILE_MAX);
        if (!data)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, data + size, RECORD_FILE_MAX - 1 - size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0 || size + n == RECORD_FILE_MAX - 1) {
                        size += n;
                        break;
                }
                size += n;
        }
        data[size] = '\0';
        r = record_parse_json(data, size, ret, ret_reason);
        if (r < 0)
                return r;
        if (ret_json)
                *ret_json = TAKE_PTR(data);
        if (ret_size)
                *ret_size = size;
        return 0;
}
