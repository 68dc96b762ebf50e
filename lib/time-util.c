/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading clocks in microseconds, and points in time as people write them. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse-value.h"
#include "time-util.h"

uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* Midnight in local time, days after the day of now. */
static int local_midnight(uint64_t now, int days, uint64_t *ret) {
        time_t t = (time_t) (now / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&t, &tm))
                return -EINVAL;
        tm.tm_mday += days;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = (uint64_t) t * USEC_PER_SEC;
        return 0;
}

static bool has_suffix(const char *s, const char *suffix, size_t *ret_len) {
        size_t n = strlen(s), m = strlen(suffix);

        if (n <= m || strcmp(s + n - m, suffix) != 0)
                return false;
        *ret_len = n - m;
        return true;
}

static int relative(const char *span, uint64_t now, bool before, uint64_t *ret) {
        uint64_t usec;

        if (parse_timespan(span, &usec) < 0 || usec == USEC_INFINITY)
                return -EINVAL;
        if (before)
                *ret = usec > now ? 0 : now - usec;
        else
                *ret = usec > UINT64_MAX - now ? UINT64_MAX : now + usec;
        return 0;
}

int parse_timestamp(const char *s, uint64_t now, uint64_t *ret_usec) {
        static const char * const formats[] = {
                "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
        };
        static const char * const clock_formats[] = { "%H:%M:%S", "%H:%M" };
        _cleanup_free_ char *span = NULL;
        size_t n;
        uint64_t v;

        if (strcmp(s, "now") == 0) {
                *ret_usec = now;
                return 0;
        }
        if (strcmp(s, "today") == 0)
                return local_midnight(now, 0, ret_usec);
        if (strcmp(s, "yesterday") == 0)
                return local_midnight(now, -1, ret_usec);
        if (strcmp(s, "tomorrow") == 0)
                return local_midnight(now, 1, ret_usec);
        if (s[0] == '-' || s[0] == '+')
                return relative(s + 1, now, s[0] == '-', ret_usec);
        if (has_suffix(s, " ago", &n)) {
                span = strndup(s, n);
                return span ? relative(span, now, true, ret_usec) : -ENOMEM;
        }
        if (s[0] == '@') {
                if (parse_uint64(s + 1, &v) < 0 || v > UINT64_MAX / USEC_PER_SEC)
                        return -EINVAL;
                *ret_usec = v * USEC_PER_SEC;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(formats) + ELEMENTSOF(clock_formats); i++) {
                bool clock_only = i >= ELEMENTSOF(formats);
                struct tm tm = {};
                const char *end;
                time_t t;

                if (clock_only) {
                        time_t today = (time_t) (now / USEC_PER_SEC);

                        if (!localtime_r(&today, &tm))
                                return -EINVAL;
                        tm.tm_sec = 0;
                        end = strptime(s, clock_formats[i - ELEMENTSOF(formats)], &tm);
                } else
                        end = strptime(s, formats[i], &tm);
                if (!end || *end)
                        continue;
                tm.tm_isdst = -1;
                t = mktime(&tm);
                if (t == (time_t) -1 || t < 0)
                        return -EINVAL;
                *ret_usec = (uint64_t) t * USEC_PER_SEC;
                return 0;
        }
        return -EINVAL;
}
