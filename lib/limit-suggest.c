/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rule of analysisctl suggest: percentile plus margin, never below the largest success, rounded up. */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "limit-suggest.h"
#include "parse-value.h"

double suggest_value(double p95, double max, unsigned margin_percent) {
        double v = p95 * (1.0 + margin_percent / 100.0);

        return v > max ? v : max;
}

uint64_t suggest_round_bytes(double bytes) {
        const uint64_t floor_bytes = UINT64_C(16) << 20;
        uint64_t step;
        int exp2;

        if (!(bytes > (double) floor_bytes))
                return floor_bytes;
        if (bytes >= 0x1p62)
                return UINT64_C(1) << 62;
        (void) frexp(bytes, &exp2);             /* bytes < 2^exp2 */
        step = UINT64_C(1) << (exp2 - 3);       /* a quarter of the power of two below */
        return (uint64_t) ceil(bytes / (double) step) * step;
}

unsigned suggest_round_cpu_percent(double percent, unsigned max_percent) {
        double v = ceil(percent / 10.0) * 10.0;

        if (!(v >= 10))
                v = 10;
        return v > max_percent ? max_percent : (unsigned) v;
}

uint64_t suggest_round_tasks(double tasks) {
        uint64_t step = 5;

        if (!(tasks > 10))
                return 10;
        if (tasks >= 0x1p62)
                return UINT64_C(1) << 62;
        if (tasks <= 20)
                return (uint64_t) ceil(tasks);
        if (tasks >= 100) {
                step = 10;
                for (double top = 1000; tasks >= top; top *= 10)
                        step *= 10;
        }
        return (uint64_t) ceil(tasks / (double) step) * step;
}

uint64_t suggest_round_runtime(double usec) {
        static const struct {
                uint64_t below, step;
        } steps[] = {
                { 60 * USEC_PER_SEC,         10 * USEC_PER_SEC   },
                { 600 * USEC_PER_SEC,        60 * USEC_PER_SEC   },
                { 3600 * USEC_PER_SEC,       300 * USEC_PER_SEC  },
                { 86400 * USEC_PER_SEC,      900 * USEC_PER_SEC  },
                { UINT64_MAX,                3600 * USEC_PER_SEC },
        };

        if (!(usec > 10 * USEC_PER_SEC))
                return 10 * USEC_PER_SEC;
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
                if (usec < (double) steps[i].below)
                        return (uint64_t) ceil(usec / (double) steps[i].step) * steps[i].step;
        return UINT64_MAX;
}

const char *suggest_format_bytes(uint64_t bytes, char *buf, size_t n) {
        static const char suffixes[] = "KMGTPE";

        for (int i = 5; i >= 0; i--) {
                uint64_t unit = UINT64_C(1) << (10 * (i + 1));

                if (bytes >= unit && bytes % unit == 0) {
                        snprintf(buf, n, "%" PRIu64 "%c", bytes / unit, suffixes[i]);
                        return buf;
                }
        }
        snprintf(buf, n, "%" PRIu64, bytes);
        return buf;
}

const char *suggest_format_runtime(uint64_t usec, char *buf, size_t n) {
        static const struct {
                uint64_t usec;
                const char *suffix;
        } units[] = {
                { 86400 * USEC_PER_SEC, "d"   },
                { 3600 * USEC_PER_SEC,  "h"   },
                { 60 * USEC_PER_SEC,    "min" },
                { USEC_PER_SEC,         "s"   },
        };
        uint64_t s = usec - usec % USEC_PER_SEC;
        size_t k = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && s > 0; i++) {
                if (s < units[i].usec)
                        continue;
                k += (size_t) snprintf(buf + k, k < n ? n - k : 0, "%s%" PRIu64 "%s", k ? " " : "", s / units[i].usec,
                                       units[i].suffix);
                s %= units[i].usec;
        }
        if (k == 0)
                snprintf(buf, n, "0");
        return buf;
}
