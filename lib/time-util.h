/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading clocks in microseconds. */
#pragma once

#include <stdint.h>
#include <time.h>

/* The time of clock (CLOCK_REALTIME, CLOCK_MONOTONIC, ...) in microseconds. */
uint64_t now_usec(clockid_t clock);

/* Parses a point in time as journalctl's --since does, in local time: "YYYY-MM-DD", "YYYY-MM-DD HH:MM",
 * "YYYY-MM-DD HH:MM:SS" (also with a 'T' between date and time), "HH:MM[:SS]" (today), "now", "today",
 * "yesterday", "tomorrow", "-SPAN" or "SPAN ago" (before now_usec), "+SPAN" (after it), "@SECONDS" (since the
 * epoch), where SPAN is a time span such as 7d or "2h 30min". Returns 0 with *ret_usec (CLOCK_REALTIME), or
 * -EINVAL. */
int parse_timestamp(const char *s, uint64_t now_usec, uint64_t *ret_usec);
