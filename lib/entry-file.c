/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small files of NUL-terminated "key=value" entries behind a magic first entry. */

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "entry-file.h"
#include "macro.h"
#include "strv.h"

int entry_data_parse(const char *data, size_t size, const char *magic, char ***ret_entries, char **ret_reason) {
        _cleanup_strv_free_ char **entries = calloc(1, sizeof(char *));
        size_t magic_len = strlen(magic);
        const char *p = data, *end = data + size;
        int r;

        if (!entries)
                return -ENOMEM;
        if (size < magic_len + 1 || memcmp(data, magic, magic_len) != 0 || data[magic_len] != '\0') {
                *ret_reason = strprintf("not a %s file", magic);
                return -EBADMSG;
        }
        if (data[size - 1] != '\0') {
                *ret_reason = strdup("truncated: the last entry does not end in NUL");
                return -EBADMSG;
        }
        for (p += magic_len + 1; p < end; p += strlen(p) + 1) {
                if (!strchr(p, '=')) {
                        *ret_reason = strprintf("entry without '=': '%.64s'", p);
                        return -EBADMSG;
                }
                r = strv_extend(&entries, p);
                if (r < 0)
                        return r;
        }
        *ret_entries = TAKE_PTR(entries);
        return 0;
}

int entry_file_read_at(int dir_fd, const char *name, uid_t owner, char **ret_data, size_t *ret_size,
                       char **ret_reason) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t total = 0;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = -errno;

                *ret_reason = strprintf("cannot open %s: %s", name,
                                        r == -ELOOP ? "it is a symlink" : strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) {
                *ret_reason = strprintf("%s is not a regular file", name);
                return -EBADMSG;
        }
        if (owner != (uid_t) -1 && st.st_uid != owner) {
                *ret_reason = strprintf("%s is owned by UID %u, not %u", name, (unsigned) st.st_uid, (unsigned) owner);
                return -EPERM;
        }
        if (owner != (uid_t) -1 && (st.st_mode & 0022)) {
                *ret_reason = strprintf("%s is writable by others (mode %04o)", name, (unsigned) (st.st_mode & 07777));
                return -EPERM;
        }
        if (st.st_size > ENTRY_FILE_SIZE_MAX) {
                *ret_reason = strprintf("%s is too large (%lld bytes)", name, (long long) st.st_size);
                return -EFBIG;
        }
        data = malloc((size_t) st.st_size + 1);
        if (!data)
                return -ENOMEM;
        /* Read at most what fstat() promised, plus one byte to notice a file that grew meanwhile. */
        for (;;) {
                ssize_t n = read(fd, data + total, (size_t) st.st_size + 1 - total);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                total += (size_t) n;
                if (total > (size_t) st.st_size) {
                        *ret_reason = strprintf("%s changed while being read", name);
                        return -EBUSY;
                }
        }
        *ret_data = TAKE_PTR(data);
        *ret_size = total;
        return 0;
}

int entry_append(char **data, size_t *size, const char *key, const char *value) {
        size_t k = strlen(key), v = strlen(value);
        char *grown = realloc(*data, *size + k + 1 + v + 1);

        if (!grown)
                return -ENOMEM;
        memcpy(grown + *size, key, k);
        grown[*size + k] = '=';
        memcpy(grown + *size + k + 1, value, v + 1);
        *data = grown;
        *size += k + 1 + v + 1;
        return 0;
}

const char *entry_get(char * const *entries, const char *key) {
        size_t n = strlen(key);

        STRV_FOREACH(e, entries)
                if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}
