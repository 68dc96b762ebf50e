/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The completion record of one analysis: what happened, under which limits, using how much. Written as JSON
 * by the unit when it stops, read back by analysis-run. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "json-writer.h"
#include "macro.h"

/* Marks a figure or limit that is unknown or absent (written as null). */
#define RECORD_UNSET UINT64_MAX

/* How much of the end of stderr a record keeps. */
#define RECORD_STDERR_TAIL_MAX 2048

typedef struct RecordLimits {
        uint64_t memory_max;            /* bytes */
        uint64_t cpu_quota_percent;     /* of one CPU */
        uint64_t tasks_max;
        uint64_t runtime_max_usec;
        uint64_t disk_max;              /* bytes of the output directory; unset where not enforced */
} RecordLimits;

typedef struct RecordUsage {
        uint64_t runtime_usec;
        uint64_t cpu_usec;              /* the analysis' own: its payload leaf where it has one */
        uint64_t sandbox_cpu_usec;      /* the unit's less the analysis': runner, recorder, systemd-executor */
        uint64_t memory_peak;           /* bytes */
        uint64_t oom_kills;
        uint64_t tasks_limit_hits;      /* refused forks (pids.events max) */
        uint64_t cpu_throttled_usec;
        uint64_t disk_used;             /* bytes in the output directory when the analysis ended */
        int disk_full;                  /* the output directory was full (writes failed): 1, 0, or -1 unknown */
        uint64_t tasks_peak;            /* the most tasks seen at once, from the samples (record-steps.h) */
} RecordUsage;

typedef struct Record {
        char *id;
        char *unit;
        char *profile;
        char *invocation_id;
        char *isolation;        /* "cgroup" (a systemd unit), "rlimit" (analysis-run --fallback=rlimit) or "slurm" (a
                                 * Slurm job); NULL: unknown */
        uint64_t slurm_job_id;  /* the Slurm job that ran it; RECORD_UNSET for the other backends */
        char *node;             /* the Slurm node it ran on, or NULL */
        char *slurm_tasks_limit;        /* on Slurm, how the task limit held: "exact" (the job cgroup's pids.max,
                                         * set by our Prolog) or "best-effort" (counted by the runner); NULL */
        char *result;           /* systemd's Result word, or "cancelled" */
        char *exit_code;        /* "exited", "killed", "dumped", or NULL */
        int64_t exit_status;    /* -1: none */
        char *signal;           /* "KILL", ... or NULL */
        RecordLimits limits;            /* in force for this analysis */
        RecordLimits profile_limits;    /* the profile's, which the limits may tighten */
        RecordUsage usage;
        uint64_t started_at_usec;       /* CLOCK_REALTIME; RECORD_UNSET if unknown */
        uint64_t finished_at_usec;
        uint64_t caller_uid;            /* RECORD_UNSET when started without analysis-run */
        char *output_dir;       /* the output directory handed to the caller, or NULL */
        char *stdout_file;
        char *stderr_file;
        char *stderr_tail;
        char *error;            /* why the analysis could not be run as requested, or NULL */
        char *notes;
        char *samples_file;     /* its usage over time (samples.h), beside the record, or NULL */
        char *samples_missing;  /* without samples_file: why there are none, in a sentence */
        /* Who wrote the record, where the unit's own recorder could not: NULL (the recorder did), "unit-failed"
         * (analysis-record complete, after the unit, from what systemd kept of it) or "host-stopped"
         * (analysis-record recover, after the boot that followed a crash, a reset or a power loss). */
        char *reconstructed;
        uint64_t host_booted_at_usec;   /* "host-stopped": when the host booted again (CLOCK_REALTIME) */
} Record;

/* Sets every number to RECORD_UNSET (exit_status to -1) and every string to NULL. */
void record_init(Record *r);

/* Frees the strings; the record can be initialized again. */
void record_done(Record *r);

/* Writes r as one JSON object and a newline. Returns 0 or -EIO. */
int record_write_json(const Record *r, FILE *f);

/* Writes r as a JSON object value into w (e.g. inside a larger document). */
void record_write_json_value(const Record *r, JsonWriter *w);

/* Reads a record from JSON. Unknown fields are ignored, so newer writers stay readable. Returns 0, -EBADMSG
 * with *ret_reason, or -ENOMEM. */
int record_parse_json(const char *data, size_t size, Record *ret, char **ret_reason);
