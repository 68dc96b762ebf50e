/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading and writing cgroup v2 interface files. */
#pragma once

#include <stdint.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The cgroup v2 directory of the calling process, e.g. "/sys/fs/cgroup/analysis.slice/.../x.service". A
 * trailing "/.control" (where systemd puts the control processes of a delegated unit) is dropped, so the
 * result is the unit's own cgroup. Returns 0, -ENOMEDIUM without a cgroup v2 entry, or a negative errno. */
int cgroup_self_unit_path(char **ret);

/* Reads a file holding one number, or "max" (returned as UINT64_MAX). Returns 0 or a negative errno. */
int cgroup_read_uint(const char *dir, const char *file, uint64_t *ret);

/* Reads the value of key from a flat keyed file such as memory.events or cpu.stat. Returns 0, -ENOENT when
 * the key is missing, or a negative errno. */
int cgroup_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret);

/* Reads cpu.max as a percentage of one CPU, UINT64_MAX for "max". Returns 0 or a negative errno. */
int cgroup_read_cpu_percent(const char *dir, uint64_t *ret);

/* Writes value to dir/file. Returns 0 or a negative errno. */
int cgroup_write(const char *dir, const char *file, const char *value);

/* Adds up rbytes= and wbytes= of every device in io.stat. Returns 0, or a negative errno (-ENOENT without the
 * io controller). */
int cgroup_read_io_bytes(const char *dir, uint64_t *ret_read, uint64_t *ret_written);
