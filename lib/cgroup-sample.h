/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One look at an analysis' cgroup for its samples: the counters, and the row between two looks. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "samples.h"

typedef struct CgroupCounters {
        uint64_t time_usec;             /* when, since the analysis started */
        uint64_t memory_current;        /* the unit's */
        uint64_t memory_peak;           /* the unit's memory.peak (Linux 5.19), SAMPLE_UNSET without */
        uint64_t cpu_usec;              /* the payload leaf's where there is one, else the unit's */
        uint64_t cpu_throttled_usec;    /* the unit's and the leaf's: throttling counts where the quota is */
        uint64_t tasks;                 /* the unit's pids.current */
        uint64_t tasks_peak;            /* the unit's pids.peak (Linux 6.1), SAMPLE_UNSET without */
        uint64_t read_bytes;            /* io.stat of the unit, SAMPLE_UNSET without the io controller */
        uint64_t written_bytes;
        uint64_t oom_kills;             /* memory.events oom_kill of the unit */
        uint64_t fork_refusals;         /* pids.events max of the unit and the leaf (not hierarchical in 6.1) */
        bool payload;                   /* the CPU figures are the payload leaf's */
} CgroupCounters;

/* The files of one analysis' cgroup, kept open between samples: a sample is then one pread() per file, where
 * opening each by its path cost a walk through cgroupfs every time (the sampler's cost per analysis). */
typedef struct CgroupFiles {
        int dir_fd;
        int payload_fd;         /* the payload leaf, once it exists */
        int fds[10];
} CgroupFiles;

/* Sets every file closed. */
void cgroup_files_init(CgroupFiles *f);

/* Opens the unit cgroup's directory. Returns 0, or a negative errno (-ENOENT when it is gone). */
int cgroup_files_open(CgroupFiles *f, const char *unit_cgroup);

/* Reads the counters through f, as cgroup_counters_read() does. Returns 0, or -ENOENT when the cgroup is gone. */
int cgroup_files_read(CgroupFiles *f, CgroupCounters *ret);

/* Closes every file. */
void cgroup_files_close(CgroupFiles *f);

/* Reads the counters of the analysis' unit cgroup (and its "payload" leaf, if any); time_usec is left to the
 * caller. Figures that cannot be read are SAMPLE_UNSET. Returns 0, or a negative errno when the cgroup is gone. */
int cgroup_counters_read(const char *unit_cgroup, CgroupCounters *ret);

/* The row from prev (NULL: the analysis' start, every counter zero) to now: usage as the difference, the peaks as
 * now's, oom-kill and fork-refused where those counts rose. A counter that went down (the CPU figures moved
 * to the payload leaf, which starts from zero) counts from zero. */
void cgroup_counters_row(const CgroupCounters *prev, const CgroupCounters *now, SampleRow *ret);
