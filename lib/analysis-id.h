/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Analysis ids: what is valid, new unique ones, and the unit name of an analysis. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define ANALYSIS_ID_MAX 64

/* Whether id is 1 to 64 characters of [A-Za-z0-9_.:-] not starting with a dot. These characters need no
 * escaping in a unit name, and the id doubles as a file name. */
bool analysis_id_is_valid(const char *id);

/* Longest id of an analysis that runs under an account of its own ("as-ID", DynamicUser=): systemd 252 takes
 * only strict user names there, at most 31 characters of [A-Za-z0-9_-] not starting with a digit or '-'. */
#define ANALYSIS_ID_ACCOUNT_MAX 28

/* Whether id can name such an account: 1 to 28 characters of [A-Za-z0-9_-]. */
bool analysis_id_fits_account(const char *id);

/* A new id from the time and 32 random bits, e.g. "20261126-041500-3fa9c2d1". Returns 0 or a negative errno. */
int analysis_id_generate(char **ret);

/* "analysis@ID.service" for profile default, "analysis-PROFILE@ID.service" otherwise. Returns 0 or -ENOMEM. */
int analysis_unit_name(const char *profile, const char *id, char **ret);

/* The inverse of analysis_unit_name(): the profile and id of an analysis unit name. Returns 0, -EINVAL when
 * unit is not an analysis unit, or -ENOMEM. */
int analysis_unit_name_parse(const char *unit, char **ret_profile, char **ret_id);

/* The 16 bytes of an id128 (systemd's invocation ids) as 32 lowercase hex digits and a NUL. */
void id128_to_string(const uint8_t bytes[static 16], char ret[static 33]);
