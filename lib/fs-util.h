/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small file system helpers. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Writes all n bytes of p to fd, retrying on EINTR and short writes. Returns 0 or a negative errno. */
int loop_write(int fd, const void *p, size_t n);

/* Creates path and its missing parents with mode. Returns 0 or a negative errno. */
int mkdir_p(const char *path, mode_t mode);

/* Removes the entries of the directory name in dir_fd (not recursing into subdirectories, which our
 * directories never hold) and then the directory itself; missing is fine. Returns 0 or a negative errno. */
int remove_flat_dir_at(int dir_fd, const char *name);

/* Reads the last at most max bytes of path, starting after a newline when one is in the first half of that
 * window, so a tail starts on a line. Returns 0 with a NUL-terminated buffer (empty for a missing file). */
int read_file_tail(const char *path, size_t max, char **ret);

/* Writes the NUL-terminated string s to name in dir_fd atomically with mode 0644. */
int write_string_atomic_at(int dir_fd, const char *name, const char *s);
