/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How well an analysis fitted its limits, from its record: what it used against what it was allowed (after
 * Slurm's seff), and how it ended, in the few classes a report counts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

typedef enum EfficiencyKind {
        EFFICIENCY_MEMORY,      /* memory peak / memory limit */
        EFFICIENCY_CPU,         /* the analysis' own CPU time / (CPU quota x runtime) */
        EFFICIENCY_RUNTIME,     /* runtime / time limit */
        EFFICIENCY_TASKS,       /* task peak / task limit */
        _EFFICIENCY_KIND_MAX,
        _EFFICIENCY_KIND_INVALID = -EINVAL,
} EfficiencyKind;

typedef struct Efficiency {
        /* Per kind: used and allowed, in bytes, microseconds or tasks; RECORD_UNSET where the record does not
         * tell. */
        uint64_t used[_EFFICIENCY_KIND_MAX];
        uint64_t allowed[_EFFICIENCY_KIND_MAX];
        /* The task limit (allowed[EFFICIENCY_TASKS]) and the forks it refused. */
        uint64_t tasks_max;
        uint64_t tasks_refused;
} Efficiency;

/* How an analysis ended, as report counts it. */
typedef enum EndClass {
        END_SUCCESS,
        END_EXIT_CODE,          /* exited with a status other than 0 */
        END_SIGNAL,             /* killed by a signal of its own or another's, core dump or not */
        END_MEMORY,             /* the memory limit (an OOM kill) */
        END_TIME,               /* the time limit */
        END_TASKS,              /* failed with forks refused at the task limit */
        END_DISK,               /* failed with its output directory full */
        END_CANCELLED,
        END_HOST_STOPPED,       /* the host (or Slurm node) stopped under it */
        END_NOT_RUN,            /* refused or failed before it started */
        END_OTHER,              /* any other systemd Result */
        _END_CLASS_MAX,
        _END_CLASS_INVALID = -EINVAL,
} EndClass;

/* The limits an analysis can hit, as metrics and report name them. */
typedef enum LimitKind {
        LIMIT_MEMORY,
        LIMIT_TIME,
        LIMIT_TASKS,
        LIMIT_DISK,
        _LIMIT_KIND_MAX,
        _LIMIT_KIND_INVALID = -EINVAL,
} LimitKind;

/* Fills *ret from r. */
void efficiency_from_record(const Record *r, Efficiency *ret);

/* used / allowed of kind, or NaN when either is unknown or nothing was allowed (no limit). */
double efficiency_ratio(const Efficiency *e, EfficiencyKind kind);

const char *efficiency_kind_to_string(EfficiencyKind k);
const char *end_class_to_string(EndClass c);
const char *limit_kind_to_string(LimitKind k);

/* One efficiency line as analysisctl status prints it, after seff: "memory 64.2 MiB of 64.0 MiB (100%)", "CPU 1.2 s
 * of 4.0 s (30%: 50% quota x 8.0 s)", "runtime 8.0 s of 5 min (2.7%)", the tasks line of
 * efficiency_describe_tasks(), or what can be said when a figure is unknown ("memory 12.0 MiB, no limit").
 * Returns 0 with a malloc'ed string, or -ENOMEM. */
int efficiency_describe(const Efficiency *e, EfficiencyKind kind, uint64_t cpu_quota_percent, char **ret);

/* The tasks line: "tasks: peak 7 of the limit 32 (22%)", with the forks refused at the limit if any; for a record
 * without a peak (written before usage.tasks_peak, or without samples), the limit and the forks refused, and
 * that no peak is recorded. Returns 0 or -ENOMEM. */
int efficiency_describe_tasks(const Efficiency *e, char **ret);

/* How r ended. */
EndClass end_class_from_record(const Record *r);

/* A bit (1 << LimitKind) for every limit r hit: an OOM kill, the time limit, a refused fork, a full output
 * directory. */
unsigned limits_hit_from_record(const Record *r);
