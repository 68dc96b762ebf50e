/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Analysis ids: what is valid, new unique ones, and the unit name of an analysis. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "analysis-id.h"

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-"

bool analysis_id_is_valid(const char *id) {
        size_t n;

        if (!id)
                return false;
        n = strlen(id);
        return n >= 1 && n <= ANALYSIS_ID_MAX && id[0] != '.' && strspn(id, ID_CHARS) == n;
}

int analysis_id_generate(char **ret) {
        uint32_t random_bits;
        struct tm tm;
        time_t now = time(NULL);
        char stamp[32];

        if (getrandom(&random_bits, sizeof(random_bits), 0) != sizeof(random_bits))
                return -errno;
        if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
                return -EINVAL;
        return asprintf(ret, "%s-%08x", stamp, random_bits) < 0 ? -ENOMEM : 0;
}

int analysis_unit_name(const char *profile, const char *id, char **ret) {
        int n;

        if (strcmp(profile, "default") == 0)
                n = asprintf(ret, "analysis@%s.service", id);
        else
                n = asprintf(ret, "analysis-%s@%s.service", profile, id);
        return n < 0 ? -ENOMEM : 0;
}
