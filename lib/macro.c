/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The few functions behind macro.h. */

#include <stdarg.h>
#include <stdio.h>

#include "macro.h"

char *strprintf(const char *format, ...) {
        va_list ap;
        char *s;
        int n;

        va_start(ap, format);
        n = vasprintf(&s, format, ap);
        va_end(ap);
        return n < 0 ? NULL : s;
}
