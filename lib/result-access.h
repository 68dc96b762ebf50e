/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may read what an analysis leaves behind (record, output files): root, the admins, and its caller. */
#pragma once

#include <sys/types.h>

#include "runtime-scope.h"

/* The group of the admins who may read every analysis' results: Debian's "adm", which reads the logs too. */
#define RESULT_ADMIN_GROUP "adm"

/* The admin group's GID, or 0 (root's) where there is no such group. */
gid_t result_admin_gid(void);

/* Makes the file fd readable by root, the admin group and caller only: for the system's results owner root,
 * group adm, mode 0640 and an ACL entry granting caller read access (none for (uid_t) -1 or root). A user's
 * results are the user's alone: mode 0600. Returns 0 or a negative errno. */
int result_access_restrict(int fd, RuntimeScope scope, uid_t caller);
