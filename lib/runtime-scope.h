/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which service manager we work for: the system one, or a user's. */
#pragma once

#include <errno.h>

typedef enum RuntimeScope {
        RUNTIME_SCOPE_SYSTEM,
        RUNTIME_SCOPE_USER,
        _RUNTIME_SCOPE_MAX,
        _RUNTIME_SCOPE_INVALID = -EINVAL,
} RuntimeScope;
