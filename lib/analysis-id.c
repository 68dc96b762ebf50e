/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Analysis ids: what is valid, new unique ones, and the unit name of an analysis. */

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "analysis-id.h"
#include "macro.h"
#include "profile.h"

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-"

bool analysis_id_is_valid(const char *id) {
        size_t n;

        if (!id)
                return false;
        n = strlen(id);
        return n >= 1 && n <= ANALYSIS_ID_MAX && id[0] != '.' && strspn(id, ID_CHARS) == n;
}

bool analysis_id_fits_account(const char *id) {
        size_t n = id ? strlen(id) : 0;

        return n >= 1 && n <= ANALYSIS_ID_ACCOUNT_MAX &&
               strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
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

int analysis_unit_name_parse(const char *unit, char **ret_profile, char **ret_id) {
        _cleanup_free_ char *profile = NULL, *id = NULL;
        const char *at = strchr(unit, '@'), *suffix;
        size_t n = strlen(unit);

        if (!at || strncmp(unit, "analysis", 8) != 0 || n < 8 + 1 + 8 || strcmp(unit + n - 8, ".service") != 0)
                return -EINVAL;
        suffix = unit + n - 8;
        if (suffix <= at)
                return -EINVAL;
        /* "analysis-default@" is not a name analysis_unit_name() makes: default is plain "analysis@". */
        if (at == unit + 8)
                profile = strdup("default");
        else if (unit[8] == '-')
                profile = strndup(unit + 9, at - unit - 9);
        else
                return -EINVAL;
        id = strndup(at + 1, suffix - at - 1);
        if (!profile || !id)
                return -ENOMEM;
        if (!analysis_id_is_valid(id) || !profile_name_is_valid(profile) ||
            (at != unit + 8 && strcmp(profile, "default") == 0))
                return -EINVAL;
        *ret_profile = TAKE_PTR(profile);
        *ret_id = TAKE_PTR(id);
        return 0;
}

void id128_to_string(const uint8_t bytes[static 16], char ret[static 33]) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < 16; i++) {
                ret[2 * i] = hex[bytes[i] >> 4];
                ret[2 * i + 1] = hex[bytes[i] & 15];
        }
        ret[32] = '\0';
}
