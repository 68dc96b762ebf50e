/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may read what an analysis leaves behind (record, output files): root, the admins, and its caller.
 *
 * The record and the output files sit in one directory shared by every caller, written by root: a POSIX ACL
 * entry per file lets its caller read it, as journald does for users' journal files. The ACL is written as the
 * kernel's extended attribute (include/uapi/linux/posix_acl_xattr.h), which needs no library. */

#include <endian.h>
#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "result-access.h"

#define ACL_XATTR_VERSION 2
#define ACL_TAG_USER_OBJ  0x01
#define ACL_TAG_USER      0x02
#define ACL_TAG_GROUP_OBJ 0x04
#define ACL_TAG_MASK      0x10
#define ACL_TAG_OTHER     0x20
#define ACL_UNDEFINED_ID  UINT32_MAX
#define ACL_READ 4
#define ACL_WRITE 2

struct acl_xattr_entry {
        uint16_t tag;
        uint16_t perm;
        uint32_t id;
} __attribute__((packed));

struct acl_xattr {
        uint32_t version;
        struct acl_xattr_entry entries[5];
} __attribute__((packed));

static struct acl_xattr_entry acl_entry(uint16_t tag, uint16_t perm, uint32_t id) {
        return (struct acl_xattr_entry) { htole16(tag), htole16(perm), htole32(id) };
}

gid_t result_admin_gid(void) {
        struct group *g = getgrnam(RESULT_ADMIN_GROUP);

        return g ? g->gr_gid : 0;
}

int result_access_restrict(int fd, RuntimeScope scope, uid_t caller) {
        /* The entries in the order the kernel requires: owner, named users, owning group, mask, others. */
        struct acl_xattr acl = {
                .version = htole32(ACL_XATTR_VERSION),
                .entries = {
                        acl_entry(ACL_TAG_USER_OBJ, ACL_READ | ACL_WRITE, ACL_UNDEFINED_ID),
                        acl_entry(ACL_TAG_USER, ACL_READ, (uint32_t) caller),
                        acl_entry(ACL_TAG_GROUP_OBJ, ACL_READ, ACL_UNDEFINED_ID),
                        acl_entry(ACL_TAG_MASK, ACL_READ, ACL_UNDEFINED_ID),
                        acl_entry(ACL_TAG_OTHER, 0, ACL_UNDEFINED_ID),
                },
        };

        if (scope != RUNTIME_SCOPE_SYSTEM || geteuid() != 0)
                return fchmod(fd, 0600) < 0 ? -errno : 0;
        if (fchown(fd, 0, result_admin_gid()) < 0 || fchmod(fd, 0640) < 0)
                return -errno;
        if (caller == (uid_t) -1 || caller == 0)
                return 0;
        return fsetxattr(fd, "system.posix_acl_access", &acl, sizeof(acl), 0) < 0 ? -errno : 0;
}
