/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for tree-copy.c on a real file system: what is copied, what never is (symlinks, FIFOs, a symlink where
 * a target would go), only_changed, removal and sizes. */

#undef NDEBUG
#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "tree-copy.h"

static void write_at(int dir_fd, const char *name, const char *text) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);

        assert(fd >= 0);
        assert(write(fd, text, strlen(text)) == (ssize_t) strlen(text));
}

static char *read_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        static char buf[256];
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof(buf) - 1);
        assert(n >= 0);
        buf[n] = '\0';
        return buf;
}

static int open_dir(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert(fd >= 0);
        return fd;
}

static void test_copy(const char *top) {
        _cleanup_free_ char *src = strprintf("%s/src", top), *dst = strprintf("%s/dst", top),
                            *outside = strprintf("%s/outside", top);
        _cleanup_close_ int src_fd = -EBADF, dst_fd = -EBADF, sub_fd = -EBADF;
        TreeCopyOptions o = { .uid = (uid_t) -1, .gid = (gid_t) -1 };
        struct timespec old_times[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
        TreeCopyStats stats;
        struct stat st;

        assert(mkdir(src, 0755) == 0 && mkdir(dst, 0755) == 0 && mkdir(outside, 0755) == 0);
        src_fd = open_dir(src);
        dst_fd = open_dir(dst);
        write_at(src_fd, "table.csv", "a,b\n");
        assert(fchmodat(src_fd, "table.csv", 04755, 0) == 0);
        assert(utimensat(src_fd, "table.csv", old_times, 0) == 0);
        assert(mkdirat(src_fd, "fig", 0750) == 0);
        sub_fd = openat(src_fd, "fig", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert(sub_fd >= 0);
        write_at(sub_fd, "plot.png", "png");
        assert(symlinkat("/etc/passwd", src_fd, "passwd-link") == 0);
        assert(symlinkat(outside, src_fd, "dir-link") == 0);
        assert(mkfifoat(src_fd, "fifo", 0600) == 0);
        /* Where the analysis' "evil" would go, the target already holds a symlink out of the tree. */
        write_at(src_fd, "evil", "overwrite?");
        assert(symlinkat("../outside/victim", dst_fd, "evil") == 0);
        write_at(open_dir(outside), "victim", "safe");

        assert(tree_copy_at(src_fd, dst_fd, &o, &stats) == 0);
        assert(strcmp(read_at(dst_fd, "table.csv"), "a,b\n") == 0);
        assert(fstatat(dst_fd, "table.csv", &st, 0) == 0);
        assert((st.st_mode & 07777) == 0755);                   /* no setuid bit */
        assert(st.st_mtim.tv_sec == 1000000000);
        assert(fstatat(dst_fd, "fig", &st, 0) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0750);
        assert(strcmp(read_at(open_dir(dst), "fig/plot.png"), "png") == 0);
        assert(fstatat(dst_fd, "passwd-link", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        assert(fstatat(dst_fd, "dir-link", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        assert(fstatat(dst_fd, "fifo", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        assert(strcmp(read_at(open_dir(outside), "victim"), "safe") == 0);
        assert(fstatat(dst_fd, "evil", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode));
        assert(stats.files == 2 && stats.skipped == 4 && stats.unchanged == 0);

        /* Copying back: only what changed is written. */
        write_at(sub_fd, "plot.png", "png2");
        o.only_changed = true;
        assert(tree_copy_at(src_fd, dst_fd, &o, &stats) == 0);
        assert(stats.files == 1 && stats.unchanged == 1 && stats.skipped == 4);
        assert(strcmp(read_at(open_dir(dst), "fig/plot.png"), "png2") == 0);
}

static void test_remove_and_size(const char *top) {
        _cleanup_free_ char *outside = strprintf("%s/outside", top);
        _cleanup_close_ int top_fd = open_dir(top), dst_fd = -EBADF;
        uint64_t size;

        dst_fd = openat(top_fd, "dst", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert(dst_fd >= 0);
        /* "a,b\n" + "png2" + "overwrite?" is not there: evil was skipped. */
        assert(tree_size_at(dst_fd, &size) == 0 && size == 8);
        assert(tree_remove_at(top_fd, "dst") == 0);
        assert(faccessat(top_fd, "dst", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        /* The symlink was removed, not what it pointed to. */
        assert(strcmp(read_at(open_dir(outside), "victim"), "safe") == 0);
        assert(tree_remove_at(top_fd, "dst") == 0);
}

/* A working directory that holds the output directory it is copied into ($HOME and ~/.local/state). */
static void test_copy_into_itself(const char *top) {
        _cleanup_free_ char *home = strprintf("%s/home", top), *out = strprintf("%s/home/state/out", top);
        _cleanup_close_ int home_fd = -EBADF, out_fd = -EBADF;
        TreeCopyOptions o = { .uid = (uid_t) -1, .gid = (gid_t) -1 };
        TreeCopyStats stats;
        uint64_t size;

        assert(mkdir(home, 0755) == 0);
        home_fd = open_dir(home);
        write_at(home_fd, "notes.txt", "n");
        assert(mkdirat(home_fd, "state", 0755) == 0);
        assert(mkdir(out, 0755) == 0);
        out_fd = open_dir(out);
        assert(tree_copy_at(home_fd, out_fd, &o, &stats) == 0);
        /* notes.txt and an empty state/ (without out/ in it) */
        assert(stats.files == 1 && stats.skipped == 1);
        assert(faccessat(out_fd, "state/out", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        assert(tree_size_at(out_fd, &size) == 0 && size == 1);
}

/* Deeper than removal descends (4 × TREE_COPY_DEPTH_MAX levels): what an analysis leaves in /tmp is still all
 * removed, a file at the bottom included. */
static void test_remove_deep(const char *top) {
        _cleanup_close_ int top_fd = open_dir(top), fd = -EBADF;
        unsigned levels = 4 * TREE_COPY_DEPTH_MAX * 2 + 7;

        assert(mkdirat(top_fd, "deep", 0755) == 0);
        fd = openat(top_fd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert(fd >= 0);
        for (unsigned i = 0; i < levels; i++) {
                int sub;

                assert(mkdirat(fd, "d", 0755) == 0);
                sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert(sub >= 0);
                close(fd);
                fd = sub;
        }
        write_at(fd, "bottom", "b");
        assert(tree_remove_at(top_fd, "deep") == 0);
        assert(faccessat(top_fd, "deep", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
}

int main(void) {
        char top[] = "/tmp/test-tree-copy-XXXXXX";
        _cleanup_close_ int fd = -EBADF;

        assert(mkdtemp(top));
        test_copy(top);
        test_remove_and_size(top);
        test_copy_into_itself(top);
        test_remove_deep(top);
        fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert(fd >= 0);
        assert(tree_remove_at(AT_FDCWD, top) == 0);
        return 0;
}
