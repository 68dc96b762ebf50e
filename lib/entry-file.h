/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small files of NUL-terminated "key=value" entries behind a magic first entry: how the caller hands an
 * analysis to its unit, and how the unit passes its own facts from start to stop. NUL cannot occur in an
 * argument, an environment entry or a path, so no quoting is needed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Largest entry file accepted (a command line with its environment fits many times over). */
#define ENTRY_FILE_SIZE_MAX (1024 * 1024)

/* Splits data into its entries after checking the magic. Returns 0 with a NULL-terminated array of
 * "key=value" strings, or -EBADMSG with a reason in *ret_reason (bad magic, entry without '=', data not
 * ending in NUL), or -ENOMEM. */
int entry_data_parse(const char *data, size_t size, const char *magic, char ***ret_entries, char **ret_reason);

/* Reads the entry file name in dir_fd, refusing symlinks (O_NOFOLLOW), anything but a regular file, more
 * than ENTRY_FILE_SIZE_MAX bytes, and (if owner is not (uid_t) -1) a file not owned by owner or writable by
 * group or others. Returns 0 with the data and its size, or a negative errno with a reason. */
int entry_file_read_at(int dir_fd, const char *name, uid_t owner, char **ret_data, size_t *ret_size,
                       char **ret_reason);

/* Appends "key=value\0" to the growing buffer *data of *size bytes. Returns 0 or -ENOMEM. */
int entry_append(char **data, size_t *size, const char *key, const char *value);

/* Looks up key in entries: the value of the first entry "key=...", or NULL. */
const char *entry_get(char * const *entries, const char *key);
