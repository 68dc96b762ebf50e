/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rule analysisctl suggest applies to a profile's past analyses (analysisctl(1), SUGGESTED LIMITS): the 95th
 * percentile of the successful ones plus a margin, never below the largest successful one, rounded up to a value
 * people read at a glance, in the profile syntax. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Fewer successful analyses than this and nothing is suggested: a 95th percentile of a handful is their maximum. */
#define SUGGEST_MIN_ANALYSES 10

/* The percentile the rule starts from, after the VPA recommender's target. */
#define SUGGEST_PERCENTILE 0.95

/* max(p95 * (1 + margin_percent / 100), max). */
double suggest_value(double p95, double max, unsigned margin_percent);

/* Bytes rounded up to three significant bits (1, 1.25, 1.5, 1.75 times a power of two: 384M, 1.25G), at least
 * 16 MiB. */
uint64_t suggest_round_bytes(double bytes);

/* A CPU percentage rounded up to a multiple of 10, at least 10, at most max_percent. */
unsigned suggest_round_cpu_percent(double percent, unsigned max_percent);

/* A runtime rounded up: to 10 s below a minute, a minute below 10 min, 5 min below an hour, 15 min below a day,
 * an hour above. At least 10 s. */
uint64_t suggest_round_runtime(double usec);

/* Tasks a unit keeps for the sandbox's own processes above what the analysis may use: analysis-exec gives the
 * payload the unit's pids.max less 2 (the recorder systemd forks into the unit, and one more) less 1 for the
 * supervisor when there is one (payload_tasks_max() in helper/exec/analysis-exec.c). A suggested Tasks= adds
 * them to the peak, or the analysis would meet its limit that many tasks early. */
#define SUGGEST_TASKS_RESERVED 3

/* A task count rounded up to a readable number: as is up to 20, then to a multiple of 5 below 100, of 10 below
 * 1000, of 100 below 10000, and so on. At least 10. */
uint64_t suggest_round_tasks(double tasks);

/* A byte count from suggest_round_bytes() as a Memory= value: "384M", "2G", "1280M". Returns buf. */
const char *suggest_format_bytes(uint64_t bytes, char *buf, size_t n);

/* A runtime from suggest_round_runtime() as a Runtime= value: "40s", "5min", "1h 15min", "2d 3h". Returns buf. */
const char *suggest_format_runtime(uint64_t usec, char *buf, size_t n);
