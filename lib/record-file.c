/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stored record of an analysis in its results directory: writing it whole, reading it back. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomic-file.h"
#include "macro.h"
#include "notes.h"
#include "record-file.h"
#include "result-access.h"
#include "samples.h"

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

typedef struct StoreAccess {
        RuntimeScope scope;
        uid_t caller;
} StoreAccess;

static int restrict_to_caller(int fd, void *userdata) {
        const StoreAccess *a = userdata;

        return result_access_restrict(fd, a->scope, a->caller);
}

int record_file_store(int results_fd, RuntimeScope scope, Record *record, char **ret_json, size_t *ret_size) {
        StoreAccess access = {
                .scope = scope,
                .caller = record->caller_uid != RECORD_UNSET ? (uid_t) record->caller_uid : (uid_t) -1,
        };
        _cleanup_free_ char *json = NULL, *name = strprintf("%s.json", record->id);
        size_t size = 0;
        FILE *f;
        int r;

        if (!name)
                return -ENOMEM;
        r = notes_compose(record, &record->notes);
        if (r < 0)
                return r;
        f = open_memstream(&json, &size);
        if (!f)
                return -ENOMEM;
        r = record_write_json(record, f);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        r = write_file_atomic_full_at(results_fd, name, json, size, 0600, restrict_to_caller, &access);
        if (r < 0)
                return r;
        if (ret_json)
                *ret_json = TAKE_PTR(json);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int record_file_store_samples(int results_fd, RuntimeScope scope, const Record *record, const Samples *samples) {
        StoreAccess access = {
                .scope = scope,
                .caller = record->caller_uid != RECORD_UNSET ? (uid_t) record->caller_uid : (uid_t) -1,
        };
        _cleanup_free_ char *data = NULL, *name = strprintf("%s" RECORD_SAMPLES_SUFFIX, record->id);
        size_t size;
        int r;

        if (!name)
                return -ENOMEM;
        r = samples_format(samples, &data, &size);
        if (r < 0)
                return r;
        return write_file_atomic_full_at(results_fd, name, data, size, 0600, restrict_to_caller, &access);
}
