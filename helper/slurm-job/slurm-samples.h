/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The samples of a Slurm analysis: the runner inside the job, alive while the command runs, samples the
 * job step's cgroup itself on its event loop, and writes the file beside the record on the shared directory. */
#pragma once

#include <systemd/sd-event.h>

#include "cgroup-sample.h"
#include "record.h"
#include "samples.h"

typedef struct SlurmSamples {
        char *cgroup;
        uint64_t started_at_usec;       /* CLOCK_REALTIME */
        CgroupCounters prev;
        bool have_prev;
        SamplesBuilder builder;
        sd_event_source *timer;
        char *missing;                  /* why there are none, once known */
} SlurmSamples;

/* Starts sampling cgroup every interval_usec (0: sampling is off, noted for the record) from now on. Returns 0
 * or a negative errno. */
int slurm_samples_start(SlurmSamples *s, sd_event *event, const char *cgroup, uint64_t interval_usec);

/* Stops, adds the last row (the counters now, the limits the record says were hit) and writes the file as
 * ID.samples.csv into dir_fd (DIR/ID.samples.csv), the caller's alone as the record; names it in the record,
 * with the highest tasks of its rows as usage.tasks_peak, or says in it why there are none. Returns 0 or a
 * negative errno (the record says so). */
int slurm_samples_finish(SlurmSamples *s, int dir_fd, const char *dir, Record *record);

void slurm_samples_done(SlurmSamples *s);
