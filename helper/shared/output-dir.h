/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An analysis' output directory and private /tmp under the system manager: tmpfs mounts made before it starts,
 * measured and handed to its caller after it ends. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tree-copy.h"

/* OUTPUT_DIR/ID is ANALYSIS_OUTPUT_DIR as the analysis sees it: on the host an empty directory, in the analysis'
 * namespace the bind of OUTPUT_MOUNT_DIR/ID, its tmpfs. OUTPUT_MOUNT_DIR is a small tmpfs of its own, root's,
 * mounted unbindable (see output-dir.c for why). TMP_MOUNT_DIR is one tmpfs for all analyses, where
 * TMP_MOUNT_DIR/ID holds the tmp/ and var-tmp/ that the unit binds over /tmp and /var/tmp. */
#define OUTPUT_DIR "/run/analysis-sandbox/output"
#define OUTPUT_MOUNT_DIR "/run/analysis-sandbox/mounts"
#define TMP_MOUNT_DIR "/run/analysis-sandbox/tmp"

/* Joins the mount namespace of PID 1. The runner (ExecStart=!) runs in the unit's namespace, and an
 * ExecStopPost=+ command of a unit with a sandbox in a namespace of its own (systemd 252 sets one up even for
 * "+" commands): a mount made there would be gone with it. Returns 0 or a negative errno. */
int host_mount_namespace_enter(void);

/* Mounts a tmpfs of size bytes (at most size / 4 KiB inodes) owned by uid:gid, mode 0700, at
 * OUTPUT_MOUNT_DIR/id (mounting that first if need be), makes OUTPUT_DIR/id, and when with_tmp makes TMP_MOUNT_DIR/id (root's, mode 0700) with tmp/ and var-tmp/
 * (mode 1777) on the shared tmpfs, mounting that first if need be. Leftovers of an earlier run are removed
 * first. Returns 0 or a negative errno. */
int output_dir_mount(const char *id, uint64_t size, uid_t uid, gid_t gid, bool with_tmp);

/* Brings the output tmpfs of id (and, with_tmp, its /tmp and /var/tmp) from the current mount namespace, where
 * output_dir_mount() made them, into the one of ns_fd, at OUTPUT_DIR/id, /tmp and /var/tmp, and stays there:
 * what BindPaths= does for a unit whose namespace exists before them. Returns 0 or a negative errno. */
int output_dir_attach(int ns_fd, const char *id, bool with_tmp);

/* What statfs() says of OUTPUT_MOUNT_DIR/id: its size, the bytes in use, and whether it is full (no block or
 * no inode left, so the analysis' last write failed). Returns 0 or a negative errno (-ENOENT: not mounted). */
int output_dir_measure(const char *id, uint64_t *ret_size, uint64_t *ret_used, bool *ret_full);

/* Copies OUTPUT_MOUNT_DIR/id to ID.output in results_fd, whole or not at all: owned by caller (and its group),
 * mode 0700, or by root and the admin group, mode 0750, for (uid_t) -1. Returns 0 or a negative errno. */
int output_dir_hand_over(const char *id, int results_fd, uid_t caller, TreeCopyStats *ret_stats);

/* Empties and unmounts the output tmpfs of id, removes its mount point, OUTPUT_DIR/id and its /tmp and /var/tmp;
 * what is not there is fine. */
void output_dir_unmount(const char *id);
