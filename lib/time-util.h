/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading clocks in microseconds. */
#pragma once

#include <stdint.h>
#include <time.h>

/* The time of clock (CLOCK_REALTIME, CLOCK_MONOTONIC, ...) in microseconds. */
uint64_t now_usec(clockid_t clock);
