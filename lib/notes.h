/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Completion notes: one or two plain sentences saying how an analysis ended, from its record. */
#pragma once

#include "record.h"

/* Composes the notes for r (which needs result, the limits and the usage; the notes field is not read).
 * Returns 0 with a malloc'ed string, or -ENOMEM. */
int notes_compose(const Record *r, char **ret);
