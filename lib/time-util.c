/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading clocks in microseconds. */

#include "parse-value.h"
#include "time-util.h"

uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}
