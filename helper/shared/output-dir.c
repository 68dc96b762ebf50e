/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An analysis' output directory and private /tmp under the system manager: made on tmpfs before it starts,
 * measured and handed to its caller after it ends.
 *
 * Why tmpfs: what an analysis writes there is memory charged to its own cgroup (the kernel charges a tmpfs
 * page to the writer), so MemoryMax= bounds /tmp and Disk= (the mount's size) bounds the output directory,
 * and none of it ever touches the host's disks until the bounded output is handed over.
 *
 * Why the mounts are laid out as they are: every mount made in PID 1's mount namespace used to cost more than
 * the mount itself. It propagated into the namespace of every running analysis (and of every service with a
 * sandbox); each analysis that started later copied it into its own namespace and, with ProtectSystem=,
 * remounted it read-only there, one system call each; and the root helpers, which systemd 252 also gives a
 * namespace, copied it again. All of that serializes on the kernel's mount lock: with 50 analyses at once
 * (two tmpfs each, then) starting one took 50 s and a finish ran past TimeoutStopSec= and left no record. So:
 *
 * - /tmp needs no mount of its own: MemoryMax= bounds it through the charge whatever file system holds it.
 *   The /tmp and /var/tmp of every analysis are directories on one tmpfs that all of them share, mounted once,
 *   and removed file by file when the analysis ends (tree_remove_at(), whatever their depth).
 * - The output directory needs a tmpfs of its own, as only a mount's size can bound it (tmpfs has no quotas
 *   before Linux 6.6). Those mounts live below OUTPUT_MOUNT_DIR, a tmpfs mounted unbindable: a mount below it
 *   propagates nowhere (no peer), and systemd builds each namespace by bind-mounting "/" recursively into
 *   /run/systemd/unit-root, which leaves unbindable mounts and everything below them out, so no analysis'
 *   namespace holds, or remounts, another's output.
 * - The runner brings its own output directory and /tmp into its namespace, which systemd made before they
 *   existed (output_dir_attach()): detached copies of the mounts (open_tree(OPEN_TREE_CLONE)) taken in the
 *   host's namespace, attached in its own (move_mount()). That is what BindPaths= did when a separate
 *   ExecStartPre= made the mounts; a mount below an unbindable one is itself private, so it may be copied.
 * - The kernel still copies every mount into a new namespace before systemd replaces its root, hidden below
 *   it and not told of a later unmount: that copy pins the tmpfs. So an output tmpfs is emptied before it
 *   is unmounted, and what stays pinned until those analyses end is an empty superblock.  */

#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"
#include "output-dir.h"
#include "result-access.h"

int host_mount_namespace_enter(void) {
        _cleanup_close_ int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return setns(fd, CLONE_NEWNS) < 0 ? -errno : 0;
}

/* Unmounts whatever is stacked on path and removes the directory. */
static void unmount_and_remove(const char *path) {
        for (unsigned i = 0; i < 8 && umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) >= 0; i++)
                ;
        (void) rmdir(path);
}

static int make_mount_point(const char *parent, const char *id, char **ret) {
        _cleanup_free_ char *path = strprintf("%s/%s", parent, id);
        int r;

        if (!path)
                return -ENOMEM;
        /* Traversable, not listable: an analysis reaches its own directory by name, and only its own. */
        r = mkdir_p(parent, 0711);
        if (r < 0)
                return r;
        unmount_and_remove(path);
        if (mkdir(path, 0700) < 0)
                return -errno;
        *ret = TAKE_PTR(path);
        return 0;
}

/* Opens path, a tmpfs of its own (with options, then made unbindable if so asked), mounting it first if this is
 * the first analysis since boot and mount_it. Concurrent prepares take turns on a lock on the parent, so it is
 * mounted once. Without mount_it, returns the directory whatever it is. */
static int own_tmpfs_open(const char *path, const char *options, bool unbindable, bool mount_it) {
        _cleanup_free_ char *parent = strprintf("%s/..", path);
        _cleanup_close_ int parent_fd = -EBADF, fd = -EBADF;
        struct stat parent_st, st;
        int r;

        if (!parent)
                return -ENOMEM;
        r = mkdir_p(path, 0711);
        if (r < 0)
                return r;
        parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0)
                return -errno;
        if (mount_it && flock(parent_fd, LOCK_EX) < 0)
                return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(parent_fd, &parent_st) < 0 || fstat(fd, &st) < 0)
                return -errno;
        /* /run is a tmpfs too: a mount of its own is told by its device. */
        if (st.st_dev != parent_st.st_dev || !mount_it)
                return TAKE_FD(fd);
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
                return -errno;
        if (unbindable && mount(NULL, path, NULL, MS_UNBINDABLE, NULL) < 0) {
                r = -errno;
                (void) umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
                return r;
        }
        /* The descriptor opened before is of the directory now hidden below the mount. */
        fd = safe_close(fd);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : TAKE_FD(fd);
}

/* TMP_MOUNT_DIR, the tmpfs that holds the /tmp and /var/tmp of every analysis. Its size is tmpfs' default, half
 * the RAM, for all analyses together; each one is bounded by its own MemoryMax=. */
static int shared_tmp_open(bool mount_it) {
        return own_tmpfs_open(TMP_MOUNT_DIR, "mode=0711", false, mount_it);
}

/* OUTPUT_MOUNT_DIR: only mount points, root's alone (systemd binds them as root). */
static int output_mounts_open(bool mount_it) {
        return own_tmpfs_open(OUTPUT_MOUNT_DIR, "mode=0700,size=4m", true, mount_it);
}

static int make_tmp(const char *id) {
        _cleanup_close_ int shared_fd = -EBADF, id_fd = -EBADF;

        shared_fd = shared_tmp_open(true);
        if (shared_fd < 0)
                return shared_fd;
        /* Root's alone: systemd binds tmp/ and var-tmp/ over the analysis' /tmp and /var/tmp, and no analysis
         * reaches another's by this path. */
        id_fd = tree_make_fresh_at(shared_fd, id, 0700);
        if (id_fd < 0)
                return id_fd;
        if (mkdirat(id_fd, "tmp", 0755) < 0 || fchmodat(id_fd, "tmp", 01777, 0) < 0 ||
            mkdirat(id_fd, "var-tmp", 0755) < 0 || fchmodat(id_fd, "var-tmp", 01777, 0) < 0)
                return -errno;
        return 0;
}

int output_dir_mount(const char *id, uint64_t size, uid_t uid, gid_t gid, bool with_tmp) {
        _cleanup_close_ int mounts_fd = -EBADF;
        _cleanup_free_ char *path = NULL, *visible = NULL;
        char options[128];
        int r;

        mounts_fd = output_mounts_open(true);
        if (mounts_fd < 0)
                return mounts_fd;
        r = make_mount_point(OUTPUT_MOUNT_DIR, id, &path);
        if (r < 0)
                return r;
        /* Where the unit binds it, and the analysis finds it (ANALYSIS_OUTPUT_DIR); an older version mounted
         * the tmpfs itself there. */
        r = make_mount_point(OUTPUT_DIR, id, &visible);
        if (r < 0)
                return r;
        /* Inodes are kernel memory too: a million empty files must not be free. */
        (void) snprintf(options, sizeof(options), "size=%" PRIu64 ",nr_inodes=%" PRIu64 ",mode=0700,uid=%u,gid=%u",
                        size, MAX(size / 4096, (uint64_t) 1024), (unsigned) uid, (unsigned) gid);
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
                return -errno;
        return with_tmp ? make_tmp(id) : 0;
}

/* A detached copy of the mount at path, which belongs to no namespace until attached: the only kind of mount
 * that can move from one namespace to another. Private: a copy of a shared mount (the host's /run is shared,
 * and so TMP_MOUNT_DIR) would join its peer group, and every analysis' /tmp would be a peer of every other's
 * and the host's, each mount event there propagated to all of them; BindPaths= made them slaves. */
static int detached_private_copy(const char *path) {
        struct mount_attr attr = { .propagation = MS_PRIVATE };
        _cleanup_close_ int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int output_dir_attach(int ns_fd, const char *id, bool with_tmp) {
        _cleanup_free_ char *output = strprintf("%s/%s", OUTPUT_MOUNT_DIR, id), *visible = strprintf("%s/%s", OUTPUT_DIR, id),
                            *tmp = strprintf("%s/%s/tmp", TMP_MOUNT_DIR, id), *var_tmp = strprintf("%s/%s/var-tmp", TMP_MOUNT_DIR, id);
        _cleanup_close_ int output_fd = -EBADF, tmp_fd = -EBADF, var_tmp_fd = -EBADF;

        if (!output || !visible || !tmp || !var_tmp)
                return -ENOMEM;
        output_fd = detached_private_copy(output);
        if (output_fd < 0)
                return output_fd;
        if (with_tmp) {
                tmp_fd = detached_private_copy(tmp);
                if (tmp_fd < 0)
                        return tmp_fd;
                var_tmp_fd = detached_private_copy(var_tmp);
                if (var_tmp_fd < 0)
                        return var_tmp_fd;
        }
        if (setns(ns_fd, CLONE_NEWNS) < 0)
                return -errno;
        if (move_mount(output_fd, "", AT_FDCWD, visible, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        if (with_tmp && (move_mount(tmp_fd, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
                         move_mount(var_tmp_fd, "", AT_FDCWD, "/var/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0))
                return -errno;
        return 0;
}

/* Whether name in dir_fd is a mount point (of another file system than dir_fd's, both being tmpfs here). */
static bool is_mount_point_at(int dir_fd, const char *name) {
        struct stat dir_st, st;

        return fstat(dir_fd, &dir_st) >= 0 && fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
               S_ISDIR(st.st_mode) && st.st_dev != dir_st.st_dev;
}

int output_dir_measure(const char *id, uint64_t *ret_size, uint64_t *ret_used, bool *ret_full) {
        _cleanup_close_ int mounts_fd = output_mounts_open(false);
        _cleanup_close_ int fd = -EBADF;
        struct statfs st;

        if (mounts_fd < 0)
                return mounts_fd;
        /* Our mount, not the directory below it on OUTPUT_MOUNT_DIR's own tmpfs. */
        if (!is_mount_point_at(mounts_fd, id))
                return -ENOENT;
        fd = openat(mounts_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstatfs(fd, &st) < 0)
                return -errno;
        *ret_size = (uint64_t) st.f_blocks * (uint64_t) st.f_bsize;
        *ret_used = (uint64_t) (st.f_blocks - st.f_bfree) * (uint64_t) st.f_bsize;
        *ret_full = st.f_bfree == 0 || st.f_ffree == 0;
        return 0;
}

int output_dir_hand_over(const char *id, int results_fd, uid_t caller, TreeCopyStats *ret_stats) {
        _cleanup_free_ char *source = strprintf("%s/%s", OUTPUT_MOUNT_DIR, id), *name = strprintf("%s.output", id),
                            *tmp = strprintf(".#%s.output.new", id);
        _cleanup_close_ int src_fd = -EBADF, dst_fd = -EBADF;
        TreeCopyOptions options = { .uid = 0, .gid = result_admin_gid() };
        mode_t top_mode = 0750;
        int r;

        if (!source || !name || !tmp)
                return -ENOMEM;
        if (caller != (uid_t) -1) {
                struct passwd *pw = getpwuid(caller);

                options = (TreeCopyOptions) { .uid = caller, .gid = pw ? pw->pw_gid : (gid_t) caller };
                top_mode = 0700;
        }
        src_fd = open(source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (src_fd < 0)
                return -errno;
        dst_fd = tree_make_fresh_at(results_fd, tmp, 0700);
        if (dst_fd < 0)
                return dst_fd;
        r = tree_copy_at(src_fd, dst_fd, &options, ret_stats);
        if (r >= 0 && (fchown(dst_fd, options.uid, options.gid) < 0 || fchmod(dst_fd, top_mode) < 0))
                r = -errno;
        if (r >= 0)
                r = tree_remove_at(results_fd, name);
        if (r >= 0 && renameat(results_fd, tmp, results_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) tree_remove_at(results_fd, tmp);
        return r;
}

void output_dir_unmount(const char *id) {
        _cleanup_free_ char *mounted = strprintf("%s/%s", OUTPUT_MOUNT_DIR, id),
                            *visible = strprintf("%s/%s", OUTPUT_DIR, id), *tmp = strprintf("%s/%s", TMP_MOUNT_DIR, id);
        _cleanup_close_ int mounts_fd = -EBADF, shared_fd = -EBADF;

        mounts_fd = output_mounts_open(false);
        if (mounts_fd >= 0 && mounted && is_mount_point_at(mounts_fd, id)) {
                /* Emptied first: copies hidden in the namespaces of analyses started meanwhile keep the
                 * tmpfs itself (see the top of this file), not what it held. The mount point itself is busy. */
                (void) tree_remove_at(mounts_fd, id);
                unmount_and_remove(mounted);
        } else if (mounted)
                (void) rmdir(mounted);
        if (visible)
                unmount_and_remove(visible);
        shared_fd = shared_tmp_open(false);
        if (shared_fd < 0)
                return;
        /* A /tmp of its own mounted there by an older version. */
        if (tmp)
                for (unsigned i = 0; i < 8 && umount2(tmp, MNT_DETACH | UMOUNT_NOFOLLOW) >= 0; i++)
                        ;
        (void) tree_remove_at(shared_fd, id);
}
