/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Copying a directory tree that an untrusted analysis wrote: regular files and directories only, never through
 * a symlink, each file written whole.
 *
 * Every step is relative to a directory file descriptor and opens with O_NOFOLLOW, so a tree that changes
 * under us (a directory swapped for a symlink) can make us skip an entry, never leave the tree. */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"
#include "tree-copy.h"

static int open_dir_at(int dir_fd, const char *name) {
        int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

/* A directory stream of our own over dir_fd, from its first entry; dir_fd stays open and ours to close. */
static int open_dir_stream(int dir_fd, DIR **ret) {
        int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        /* The duplicate shares its position with dir_fd, which an earlier walk may have left at the end. */
        rewinddir(d);
        *ret = d;
        return 0;
}

/* One copy in progress. */
typedef struct TreeCopy {
        const TreeCopyOptions *options;
        TreeCopyStats stats;
        /* The top of the target, which the source must not hold: a working directory that contains the output
         * directory it is copied into ($HOME, and a user's results below ~/.local/state) would be copied into
         * itself again and again. */
        dev_t target_dev;
        ino_t target_ino;
} TreeCopy;

static int copy_data(int in_fd, int out_fd, uint64_t *bytes) {
        char buf[64 * 1024];

        for (;;) {
                ssize_t n = read(in_fd, buf, sizeof(buf));
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                r = loop_write(out_fd, buf, (size_t) n);
                if (r < 0)
                        return r;
                *bytes += (uint64_t) n;
        }
}

static bool same_file_content(int dst_fd, const char *name, const struct stat *src) {
        struct stat st;

        return fstatat(dst_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode) &&
               st.st_size == src->st_size && st.st_mtim.tv_sec == src->st_mtim.tv_sec &&
               st.st_mtim.tv_nsec == src->st_mtim.tv_nsec;
}

/* A symlink, FIFO or anything else where the file would go: not ours to replace. */
static bool target_is_foreign(int dst_fd, const char *name) {
        struct stat st;

        return fstatat(dst_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && !S_ISREG(st.st_mode);
}

static int copy_file_at(int src_dir, int dst_dir, const char *name, const struct stat *st, TreeCopy *c) {
        const TreeCopyOptions *o = c->options;
        TreeCopyStats *stats = &c->stats;
        _cleanup_close_ int in_fd = -EBADF, out_fd = -EBADF;
        _cleanup_free_ char *tmp = NULL;
        struct timespec times[2];
        int r;

        if (o->only_changed && same_file_content(dst_dir, name, st)) {
                stats->unchanged++;
                return 0;
        }
        if (target_is_foreign(dst_dir, name)) {
                stats->skipped++;
                return 0;
        }
        /* O_NONBLOCK: had it become a FIFO since the stat, the open must not hang; fstat tells below. */
        in_fd = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (in_fd < 0 && (errno == ELOOP || errno == ENXIO)) {
                stats->skipped++;
                return 0;
        }
        if (in_fd < 0)
                return -errno;
        tmp = strprintf(".#%s.copy", name);
        if (!tmp)
                return -ENOMEM;
        (void) unlinkat(dst_dir, tmp, 0);
        out_fd = openat(dst_dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out_fd < 0)
                return -errno;
        r = copy_data(in_fd, out_fd, &stats->bytes);
        if (r >= 0 && o->uid != (uid_t) -1 && fchown(out_fd, o->uid, o->gid) < 0)
                r = -errno;
        if (r >= 0 && fchmod(out_fd, st->st_mode & 0777) < 0)
                r = -errno;
        times[0] = st->st_atim;
        times[1] = st->st_mtim;
        if (r >= 0 && futimens(out_fd, times) < 0)
                r = -errno;
        if (r >= 0 && renameat(dst_dir, tmp, dst_dir, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dst_dir, tmp, 0);
                return r;
        }
        stats->files++;
        return 0;
}

static int copy_dir_at(int src_fd, int dst_fd, TreeCopy *c, unsigned depth);

static int copy_subdir_at(int src_dir, int dst_dir, const char *name, const struct stat *st, TreeCopy *c,
                          unsigned depth) {
        _cleanup_close_ int src_fd = -EBADF, dst_fd = -EBADF;
        const TreeCopyOptions *o = c->options;
        TreeCopyStats *stats = &c->stats;
        mode_t mode = o->dir_mode ? o->dir_mode : (st->st_mode & 0777);
        bool created;
        int r;

        if (depth >= TREE_COPY_DEPTH_MAX || (st->st_dev == c->target_dev && st->st_ino == c->target_ino)) {
                stats->skipped++;
                return 0;
        }
        src_fd = open_dir_at(src_dir, name);
        if (src_fd == -ELOOP || src_fd == -ENOTDIR) {
                stats->skipped++;
                return 0;
        }
        if (src_fd < 0)
                return src_fd;
        created = mkdirat(dst_dir, name, 0700) >= 0;
        if (!created && errno != EEXIST)
                return -errno;
        dst_fd = open_dir_at(dst_dir, name);
        if (dst_fd == -ELOOP || dst_fd == -ENOTDIR) {
                stats->skipped++;
                return 0;
        }
        if (dst_fd < 0)
                return dst_fd;
        if (created && o->uid != (uid_t) -1 && fchown(dst_fd, o->uid, o->gid) < 0)
                return -errno;
        /* Writable for us while we fill it, whatever the source says; its own mode once done. */
        if (created && fchmod(dst_fd, mode | 0700) < 0)
                return -errno;
        r = copy_dir_at(src_fd, dst_fd, c, depth + 1);
        if (r < 0)
                return r;
        return created && fchmod(dst_fd, mode) < 0 ? -errno : 0;
}

static int copy_dir_at(int src_fd, int dst_fd, TreeCopy *c, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = open_dir_stream(src_fd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (errno = 0, de = readdir(d)); ) {
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(src_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (S_ISREG(st.st_mode))
                        r = copy_file_at(src_fd, dst_fd, de->d_name, &st, c);
                else if (S_ISDIR(st.st_mode))
                        r = copy_subdir_at(src_fd, dst_fd, de->d_name, &st, c, depth);
                else {
                        c->stats.skipped++;
                        r = 0;
                }
                if (r < 0)
                        return r;
        }
        return errno > 0 ? -errno : 0;
}

int tree_copy_at(int src_fd, int dst_fd, const TreeCopyOptions *options, TreeCopyStats *ret_stats) {
        TreeCopy c = { .options = options };
        struct stat st;
        int r;

        if (fstat(dst_fd, &st) < 0)
                return -errno;
        c.target_dev = st.st_dev;
        c.target_ino = st.st_ino;
        r = copy_dir_at(src_fd, dst_fd, &c, 0);
        if (ret_stats)
                *ret_stats = c.stats;
        return r;
}

/* Empties dir_fd. A directory too deep to descend into (each level holds a descriptor) is moved up into
 * park_fd, the top of the tree being removed, under a free name, and counted in *parked: the caller goes over
 * the top again until nothing was parked, so a tree of any depth is removed in the end. Under an analysis'
 * /tmp, which is removed file by file, a tree deeper than we descend must not be a way to leave memory
 * behind. */
static int remove_contents(int dir_fd, unsigned depth, int park_fd, unsigned *parked) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = open_dir_stream(dir_fd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (errno = 0, de = readdir(d)); ) {
                _cleanup_close_ int sub = -EBADF;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (unlinkat(dir_fd, de->d_name, 0) >= 0 || errno == ENOENT)
                        continue;
                if (errno != EISDIR && errno != EPERM)
                        return -errno;
                if (depth >= 4 * TREE_COPY_DEPTH_MAX) {
                        static unsigned counter;
                        char name[32];

                        for (;;) {
                                (void) snprintf(name, sizeof(name), ".#deep.%u", counter++);
                                if (renameat(dir_fd, de->d_name, park_fd, name) >= 0)
                                        break;
                                if (errno != EEXIST && errno != ENOTEMPTY)
                                        return -errno;
                        }
                        (*parked)++;
                        continue;
                }
                sub = open_dir_at(dir_fd, de->d_name);
                if (sub < 0)
                        return sub;
                r = remove_contents(sub, depth + 1, park_fd, parked);
                if (r < 0)
                        return r;
                if (unlinkat(dir_fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                        return -errno;
        }
        return errno > 0 ? -errno : 0;
}

int tree_remove_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        unsigned parked;
        int r;

        if (unlinkat(dir_fd, name, 0) >= 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        fd = open_dir_at(dir_fd, name);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        do {
                parked = 0;
                r = remove_contents(fd, 0, fd, &parked);
                if (r < 0)
                        return r;
        } while (parked > 0);
        return unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int tree_make_fresh_at(int dir_fd, const char *name, mode_t mode) {
        int r;

        r = tree_remove_at(dir_fd, name);
        if (r < 0)
                return r;
        if (mkdirat(dir_fd, name, mode) < 0)
                return -errno;
        return open_dir_at(dir_fd, name);
}

static int size_of_dir(int dir_fd, unsigned depth, uint64_t *total) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = open_dir_stream(dir_fd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (errno = 0, de = readdir(d)); ) {
                _cleanup_close_ int sub = -EBADF;
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISREG(st.st_mode))
                        *total += (uint64_t) st.st_size;
                if (!S_ISDIR(st.st_mode) || depth >= TREE_COPY_DEPTH_MAX)
                        continue;
                sub = open_dir_at(dir_fd, de->d_name);
                if (sub < 0)
                        continue;
                r = size_of_dir(sub, depth + 1, total);
                if (r < 0)
                        return r;
        }
        return errno > 0 ? -errno : 0;
}

int tree_size_at(int dir_fd, uint64_t *ret) {
        uint64_t total = 0;
        int r;

        r = size_of_dir(dir_fd, 0, &total);
        if (r < 0)
                return r;
        *ret = total;
        return 0;
}
