/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The task limit of an analysis inside its Slurm job: exact where our Prolog set pids.max on the job's cgroup,
 * otherwise counted by the runner, which stops the analysis when it goes past the limit (best effort). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct SlurmTasks {
        char *job_cgroup;       /* .../job_N, or NULL when we are not in a Slurm job's cgroup */
        uint64_t tasks_max;
        bool exact;             /* the kernel holds the job to pids.max = tasks_max + our Prolog's overhead */
        bool stopped;           /* best effort: we stopped the analysis at the limit */
        uint64_t peak;          /* best effort: the most tasks of the analysis counted */
        sd_event_source *timer;
} SlurmTasks;

/* Finds our job's cgroup and whether its pids.max is the one our Prolog writes for tasks_max. Returns 0 (with
 * t->job_cgroup NULL when we run outside a job's cgroup) or -ENOMEM. */
int slurm_tasks_init(SlurmTasks *t, uint64_t tasks_max);

/* Best effort only (not t->exact): counts the analysis' tasks every 0.1 s in event's loop and kills every
 * process of the job's steps but ours once there are more than tasks_max. Returns 0 or a negative errno. */
int slurm_tasks_watch(SlurmTasks *t, sd_event *event);

/* The refused forks (pids.events max of the job) when exact, 1 when we stopped the analysis, 0 otherwise. */
uint64_t slurm_tasks_limit_hits(const SlurmTasks *t);

void slurm_tasks_done(SlurmTasks *t);
