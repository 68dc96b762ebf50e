/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The samples of a Slurm analysis, taken by the runner inside the job. */

#include <string.h>

#include "record-file.h"
#include "slurm-samples.h"
#include "time-util.h"

static int sample(SlurmSamples *s) {
        CgroupCounters now;
        SampleRow row;
        uint64_t realtime = now_usec(CLOCK_REALTIME);

        if (cgroup_counters_read(s->cgroup, &now) < 0)
                return 0;
        now.time_usec = realtime > s->started_at_usec ? realtime - s->started_at_usec : 0;
        cgroup_counters_row(s->have_prev ? &s->prev : NULL, &now, &row);
        s->prev = now;
        s->have_prev = true;
        return samples_builder_add(&s->builder, &row);
}

static int on_sample(sd_event_source *source, uint64_t usec, void *userdata) {
        SlurmSamples *s = userdata;

        (void) sample(s);
        (void) sd_event_source_set_time(source, usec + s->builder.interval_usec);
        return sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
}

int slurm_samples_start(SlurmSamples *s, sd_event *event, const char *cgroup, uint64_t interval_usec) {
        s->started_at_usec = now_usec(CLOCK_REALTIME);
        s->builder.interval_usec = interval_usec;
        if (interval_usec == 0) {
                s->missing = strdup("sampling is off (SampleInterval=0 in analysis-sandbox.conf)");
                return s->missing ? 0 : -ENOMEM;
        }
        s->cgroup = strdup(cgroup);
        if (!s->cgroup)
                return -ENOMEM;
        return sd_event_add_time(event, &s->timer, CLOCK_MONOTONIC, now_usec(CLOCK_MONOTONIC) + interval_usec, 0,
                                 on_sample, s);
}

int slurm_samples_finish(SlurmSamples *s, int dir_fd, const char *dir, Record *record) {
        CgroupCounters final;
        SampleRow last, total;
        int r;

        s->timer = sd_event_source_disable_unref(s->timer);
        free(record->samples_file);
        free(record->samples_missing);
        record->samples_file = record->samples_missing = NULL;
        if (!s->cgroup) {
                record->samples_missing = strdup(s->missing ?: "its job's cgroup could not be found");
                return 0;
        }
        r = samples_builder_flush(&s->builder);
        if (r < 0)
                return r;
        if (cgroup_counters_read(s->cgroup, &final) >= 0) {
                uint64_t before = s->builder.samples.n_rows > 0
                                          ? s->builder.samples.rows[s->builder.samples.n_rows - 1].time_usec : 0;
                uint64_t end = now_usec(CLOCK_REALTIME);

                final.time_usec = MAX(end > s->started_at_usec ? end - s->started_at_usec : 0, before);
                samples_total(&s->builder.samples, &total);
                cgroup_counters_row(s->have_prev ? &s->prev : NULL, &final, &last);
                last.tasks = SAMPLE_UNSET;
                if (record->usage.oom_kills != RECORD_UNSET && record->usage.oom_kills > 0 &&
                    !((total.events | last.events) & SAMPLE_EVENT_OOM_KILL))
                        last.events |= SAMPLE_EVENT_OOM_KILL;
                if (record->usage.tasks_limit_hits != RECORD_UNSET && record->usage.tasks_limit_hits > 0 &&
                    !((total.events | last.events) & SAMPLE_EVENT_FORK_REFUSED))
                        last.events |= SAMPLE_EVENT_FORK_REFUSED;
                if (record->result && strcmp(record->result, "timeout") == 0)
                        last.events |= SAMPLE_EVENT_TIMEOUT;
                samples_place_peak(&s->builder.samples, &last, final.memory_peak);
                r = samples_append(&s->builder.samples, &last);
                if (r < 0)
                        return r;
        }
        if (!s->builder.samples.comment) {
                _cleanup_free_ char *head = NULL;

                r = samples_head_format(record->id, record->profile, s->builder.interval_usec, &head);
                if (r < 0)
                        return r;
                head[strcspn(head, "\n")] = '\0';
                s->builder.samples.comment = TAKE_PTR(head);
        }
        r = record_file_store_samples(dir_fd, RUNTIME_SCOPE_USER, record, &s->builder.samples);
        if (r < 0) {
                record->samples_missing = strprintf("its samples could not be stored: %s", strerror(-r));
                return r;
        }
        record->samples_file = strprintf("%s/%s" RECORD_SAMPLES_SUFFIX, dir, record->id);
        record->usage.tasks_peak = samples_tasks_peak(&s->builder.samples);
        return 0;
}

void slurm_samples_done(SlurmSamples *s) {
        sd_event_source_disable_unref(s->timer);
        free(s->cgroup);
        free(s->missing);
        samples_done(&s->builder.samples);
        *s = (SlurmSamples) {};
}
