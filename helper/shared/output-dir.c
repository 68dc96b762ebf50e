/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An analysis' output directory and private /tmp under the system manager: tmpfs mounts made before it starts,
 * measured and handed to its caller after it ends.
 *
 * Why tmpfs: what an analysis writes there is memory charged to its own cgroup (the kernel charges a tmpfs
 * page to the writer), so MemoryMax= bounds /tmp and Disk= (the mount's size) bounds the output directory,
 * and none of it ever touches the host's disks until the bounded output is handed over. */

#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
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

static int mount_tmp(const char *id) {
        _cleanup_free_ char *path = NULL, *tmp = NULL, *var_tmp = NULL;
        int r;

        r = make_mount_point(TMP_MOUNT_DIR, id, &path);
        if (r < 0)
                return r;
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
                return -errno;
        tmp = strprintf("%s/tmp", path);
        var_tmp = strprintf("%s/var-tmp", path);
        if (!tmp || !var_tmp)
                return -ENOMEM;
        if (mkdir(tmp, 0755) < 0 || chmod(tmp, 01777) < 0 || mkdir(var_tmp, 0755) < 0 || chmod(var_tmp, 01777) < 0)
                return -errno;
        return 0;
}

int output_dir_mount(const char *id, uint64_t size, uid_t uid, gid_t gid, bool with_tmp) {
        _cleanup_free_ char *path = NULL;
        char options[128];
        int r;

        r = make_mount_point(OUTPUT_MOUNT_DIR, id, &path);
        if (r < 0)
                return r;
        /* Inodes are kernel memory too: a million empty files must not be free. */
        (void) snprintf(options, sizeof(options), "size=%" PRIu64 ",nr_inodes=%" PRIu64 ",mode=0700,uid=%u,gid=%u",
                        size, MAX(size / 4096, (uint64_t) 1024), (unsigned) uid, (unsigned) gid);
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
                return -errno;
        return with_tmp ? mount_tmp(id) : 0;
}

int output_dir_measure(const char *id, uint64_t *ret_size, uint64_t *ret_used, bool *ret_full) {
        _cleanup_free_ char *path = strprintf("%s/%s", OUTPUT_MOUNT_DIR, id);
        struct statfs st;

        if (!path)
                return -ENOMEM;
        if (statfs(path, &st) < 0)
                return -errno;
        if ((unsigned long) st.f_type != 0x01021994UL)         /* TMPFS_MAGIC: our mount, not the directory */
                return -ENOENT;
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
        _cleanup_free_ char *output = strprintf("%s/%s", OUTPUT_MOUNT_DIR, id), *tmp = strprintf("%s/%s", TMP_MOUNT_DIR, id);

        if (output)
                unmount_and_remove(output);
        if (tmp)
                unmount_and_remove(tmp);
}
