/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copying a directory tree that an untrusted analysis wrote: regular files and directories only, never through
 * a symlink, each file written whole. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Deepest directory level copied; deeper ones are skipped (each level holds a file descriptor open). */
#define TREE_COPY_DEPTH_MAX 32

typedef struct TreeCopyOptions {
        uid_t uid;              /* owner of what is created, or (uid_t) -1 to leave it to the caller's own */
        gid_t gid;
        mode_t dir_mode;        /* of created directories; 0 keeps the source's permission bits */
        bool only_changed;      /* skip a file whose target is a regular file of the same size and mtime */
} TreeCopyOptions;

typedef struct TreeCopyStats {
        uint64_t files;         /* regular files written */
        uint64_t bytes;
        uint64_t unchanged;     /* skipped by only_changed */
        uint64_t skipped;       /* symlinks, devices, sockets, FIFOs, too deep, or a target that is not a
                                 * regular file or directory */
} TreeCopyStats;

/* Copies the contents of directory src_fd into directory dst_fd (which may hold files already). Files keep
 * their permission bits (without setuid, setgid and sticky) and modification times; each is written to a
 * temporary name and renamed into place. Nothing is followed: a symlink in the source or where a target would
 * go is skipped and counted, and so is dst_fd itself where the source holds it. Returns 0 with *ret_stats, or the first negative errno (ENOSPC, EIO, ...). */
int tree_copy_at(int src_fd, int dst_fd, const TreeCopyOptions *options, TreeCopyStats *ret_stats);

/* Removes name in dir_fd and everything below it without following symlinks; missing is fine. Returns 0 or a
 * negative errno. */
int tree_remove_at(int dir_fd, const char *name);

/* Makes name in dir_fd a new empty directory with mode, removing whatever was there first (tree_remove_at()).
 * Returns its file descriptor or a negative errno. */
int tree_make_fresh_at(int dir_fd, const char *name, mode_t mode);

/* Adds up the sizes of the regular files below dir_fd (not following symlinks). Returns 0 or a negative errno. */
int tree_size_at(int dir_fd, uint64_t *ret);
