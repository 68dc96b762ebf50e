/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing a file so that readers see the old content or the whole new content, never a part. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Writes size bytes of data to name in dir_fd with mode: into a new temporary file in the same directory, created
 * with mode (whatever the umask), fsync()ed, then renamed over name. On failure nothing is left behind. Returns 0 or a negative errno. */
int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode);

/* The same, calling before_rename(fd, userdata) on the complete temporary file (to set its owner or ACL) before
 * it takes name's place; its error undoes everything. */
int write_file_atomic_full_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode,
                              int (*before_rename)(int fd, void *userdata), void *userdata);
