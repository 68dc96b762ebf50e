/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The few functions behind macro.h. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

char *strjoin(const char *first, ...) {
        va_list ap;
        size_t n = 0;
        char *s, *p;

        va_start(ap, first);
        for (const char *x = first; x; x = va_arg(ap, const char *))
                n += strlen(x);
        va_end(ap);
        s = malloc(n + 1);
        if (!s)
                return NULL;
        p = s;
        va_start(ap, first);
        for (const char *x = first; x; x = va_arg(ap, const char *))
                p = stpcpy(p, x);
        va_end(ap);
        return s;
}
