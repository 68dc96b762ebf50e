/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Steps of writing an analysis' record shared by analysis-record finish and analysis-recover. */

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "output-dir.h"
#include "parse-value.h"
#include "profile.h"
#include "record-file.h"
#include "record-steps.h"
#include "running-mark.h"
#include "samples-file.h"
#include "tree-copy.h"

static int open_dir(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

void record_set_exit(Record *r, const char *exit_code, const char *status) {
        uint64_t v;

        free(r->exit_code);
        free(r->signal);
        r->exit_code = NULL;
        r->signal = NULL;
        r->exit_status = -1;
        if (!exit_code || !status || !exit_code[0])
                return;
        r->exit_code = strdup(exit_code);
        if (strcmp(exit_code, "exited") == 0) {
                if (parse_uint64(status, &v) >= 0 && v <= 255)
                        r->exit_status = (int64_t) v;
        } else
                r->signal = strdup(status);
}

bool record_is_stop_signal(const char *signal) {
        return signal && (strcmp(signal, "TERM") == 0 || strcmp(signal, "INT") == 0 ||
                          strcmp(signal, "HUP") == 0 || strcmp(signal, "PIPE") == 0);
}

bool record_cancel_requested(const RecordTarget *t) {
        _cleanup_free_ char *dir = strprintf("%s/%s", t->paths->spool_dir, t->id);
        struct stat dir_st, st;
        _cleanup_close_ int fd = -EBADF;

        if (!dir)
                return false;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &dir_st) < 0)
                return false;
        return fstatat(fd, "cancel", &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode) &&
               st.st_uid == dir_st.st_uid;
}

void record_measure_output(const RecordTarget *t, Record *record, bool ran) {
        _cleanup_free_ char *name = strprintf("%s.output", t->id);
        uint64_t size, used;
        bool full;

        if (!name)
                return;
        if (t->scope != RUNTIME_SCOPE_SYSTEM) {
                _cleanup_close_ int results_fd = open_dir(t->results_dir);
                _cleanup_close_ int fd = -EBADF;

                if (results_fd >= 0)
                        fd = openat(results_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0 && tree_size_at(fd, &used) >= 0) {
                        record->usage.disk_used = used;
                        record->output_dir = strprintf("%s/%s", t->results_dir, name);
                }
                return;
        }
        if (output_dir_measure(t->id, &size, &used, &full) < 0)
                return;
        record->limits.disk_max = size;
        record->usage.disk_used = used;
        record->usage.disk_full = full;
        /* An analysis refused before it ran wrote nothing: no directory to hand over. */
        if (ran)
                record->output_dir = strprintf("%s/%s", t->results_dir, name);
}

int record_hand_over_output(const RecordTarget *t, const Record *record) {
        _cleanup_close_ int results_fd = -EBADF;
        uid_t caller = record->caller_uid != RECORD_UNSET ? (uid_t) record->caller_uid : (uid_t) -1;
        uint64_t size, used;
        bool full;

        if (t->scope != RUNTIME_SCOPE_SYSTEM || !record->output_dir)
                return 0;
        /* Gone: handed over and unmounted already (by a recorder that stopped right after). */
        if (output_dir_measure(t->id, &size, &used, &full) == -ENOENT)
                return 0;
        results_fd = open_dir(t->results_dir);
        if (results_fd < 0)
                return results_fd;
        return output_dir_hand_over(t->id, results_fd, caller, NULL);
}

int record_hand_over_or_unname(const RecordTarget *t, Record *record, int *ret_hand_over_error) {
        *ret_hand_over_error = record_hand_over_output(t, record);
        if (*ret_hand_over_error >= 0)
                return 0;
        free(record->output_dir);
        record->output_dir = NULL;
        return record_store_final(t, record);
}

int record_store_final(const RecordTarget *t, Record *record) {
        _cleanup_close_ int results_fd = -EBADF;
        int r;

        free(record->stdout_file);
        free(record->stderr_file);
        record->stdout_file = strprintf("%s/%s.stdout", t->results_dir, t->id);
        record->stderr_file = strprintf("%s/%s.stderr", t->results_dir, t->id);
        free(record->stderr_tail);
        record->stderr_tail = NULL;
        if (record->stderr_file)
                (void) read_file_tail(record->stderr_file, RECORD_STDERR_TAIL_MAX, &record->stderr_tail);
        results_fd = open_dir(t->results_dir);
        if (results_fd < 0)
                return results_fd;
        /* Notes anew: a second store (the output directory could not be handed over) says so. */
        free(record->notes);
        record->notes = NULL;
        r = record_file_store(results_fd, t->scope, record, NULL, NULL);
        /* The rename on disk before anything that says the record is done (the running mark's removal). */
        if (r >= 0 && fsync(results_fd) < 0)
                r = -errno;
        return r;
}

void record_release(const RecordTarget *t) {
        _cleanup_close_ int spool_fd = -EBADF, units_fd = -EBADF;

        /* Emptying the output tmpfs and /tmp takes as long as what the analysis left there. */
        if (t->scope == RUNTIME_SCOPE_SYSTEM && geteuid() == 0)
                output_dir_unmount(t->id);
        /* Nothing of the request may outlive the analysis. */
        spool_fd = open_dir(t->paths->spool_dir);
        if (spool_fd >= 0)
                (void) remove_flat_dir_at(spool_fd, t->id);
        units_fd = open_dir(t->paths->units_dir);
        if (units_fd >= 0)
                (void) remove_flat_dir_at(units_fd, t->id);
        (void) running_mark_remove(t->paths->running_dir, t->id);
}

/* SampleInterval= of analysis-sandbox.conf; its default where the file cannot be read. */
static uint64_t sample_interval_usec(RuntimeScope scope) {
        _cleanup_(global_config_freep) GlobalConfig *config = NULL;
        _cleanup_(config_error_clear) ConfigError error = {};

        if (global_config_find_and_load(scope, &config, &error) < 0 ||
            !config->settings[GLOBAL_RECORDS_SAMPLE_INTERVAL].set)
                return SAMPLES_DEFAULT_INTERVAL_USEC;
        return config->settings[GLOBAL_RECORDS_SAMPLE_INTERVAL].number;
}

/* The difference, or zero where the rows already hold more (the CPU figures moved to the payload leaf). */
static uint64_t unsampled(uint64_t final, uint64_t sampled) {
        if (final == SAMPLE_UNSET)
                return SAMPLE_UNSET;
        if (sampled == SAMPLE_UNSET)
                return final;
        return final > sampled ? final - sampled : 0;
}

/* The last row: from the sampler's last row to the end, as the counters at the end tell, with the limits hit
 * that only the record knows (the time limit, a full disk) and those the sampler missed. */
static int add_last_row(Samples *s, const CgroupCounters *final, const Record *record) {
        SampleRow total, last;
        uint64_t before = s->n_rows > 0 ? s->rows[s->n_rows - 1].time_usec : 0;
        unsigned events = 0;

        samples_total(s, &total);
        if (record->usage.oom_kills != RECORD_UNSET && record->usage.oom_kills > 0)
                events |= SAMPLE_EVENT_OOM_KILL;
        if (record->usage.tasks_limit_hits != RECORD_UNSET && record->usage.tasks_limit_hits > 0)
                events |= SAMPLE_EVENT_FORK_REFUSED;
        events &= ~total.events;
        if (record->result && strcmp(record->result, "timeout") == 0)
                events |= SAMPLE_EVENT_TIMEOUT;
        if (record->usage.disk_full > 0)
                events |= SAMPLE_EVENT_DISK_FULL;

        if (!final || record->started_at_usec == RECORD_UNSET || record->finished_at_usec == RECORD_UNSET) {
                /* Nothing measured after the last row: the marks go on it. */
                if (s->n_rows > 0)
                        s->rows[s->n_rows - 1].events |= events;
                return 0;
        }
        sample_row_init(&last);
        last.time_usec = MAX(record->finished_at_usec > record->started_at_usec
                                     ? record->finished_at_usec - record->started_at_usec : 0,
                             before);
        last.span_usec = last.time_usec - before;
        last.memory_bytes = final->memory_current;
        last.events = events;
        samples_place_peak(s, &last, final->memory_peak);
        /* pids.peak (Linux 6.1) counts every fork, where the rows saw only the tasks alive at each look, so it
         * wins where it is higher: a burst fell between two looks. Like the memory peak, it goes into the last
         * row (when it came is not known), so that the highest row is the run's peak, as the record says. */
        if (final->tasks_peak != SAMPLE_UNSET && (total.tasks == SAMPLE_UNSET || final->tasks_peak > total.tasks))
                last.tasks = final->tasks_peak;
        last.cpu_usec = unsampled(final->cpu_usec, total.cpu_usec);
        last.cpu_throttled_usec = unsampled(final->cpu_throttled_usec, total.cpu_throttled_usec);
        last.read_bytes = unsampled(final->read_bytes, total.read_bytes);
        last.written_bytes = unsampled(final->written_bytes, total.written_bytes);
        return samples_append(s, &last);
}

int record_store_samples(const RecordTarget *t, const CgroupCounters *final, Record *record) {
        _cleanup_free_ char *dir = strprintf("%s/%s", t->paths->units_dir, t->id), *why = NULL, *head = NULL;
        _cleanup_close_ int dir_fd = -EBADF, results_fd = -EBADF;
        _cleanup_(samples_done) Samples s = {};
        int r;

        free(record->samples_file);
        free(record->samples_missing);
        record->samples_file = record->samples_missing = NULL;
        if (!dir)
                return -ENOMEM;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = dir_fd < 0 ? -errno : samples_inflight_take(dir_fd, &s, &why);
        if (r == -ENOENT) {
                uint64_t interval = sample_interval_usec(t->scope);

                if (interval == 0) {
                        record->samples_missing = strdup("sampling is off (SampleInterval=0 in analysis-sandbox.conf)");
                        return 0;
                }
                if (!final) {
                        record->samples_missing = strdup("no samples of it were found");
                        return 0;
                }
                /* Ended before the sampler's first look: the last row alone. */
                r = samples_head_format(t->id, record->profile, interval, &head);
                if (r < 0)
                        return r;
                head[strcspn(head, "\n")] = '\0';
                s.comment = TAKE_PTR(head);
        } else if (r < 0) {
                record->samples_missing = strprintf("its samples could not be read: %s", why ?: strerror(-r));
                return r;
        }
        r = add_last_row(&s, final, record);
        if (r >= 0) {
                results_fd = open_dir(t->results_dir);
                r = results_fd < 0 ? results_fd : record_file_store_samples(results_fd, t->scope, record, &s);
        }
        if (r < 0) {
                record->samples_missing = strprintf("its samples could not be stored: %s", strerror(-r));
                return r;
        }
        record->samples_file = strprintf("%s/%s" RECORD_SAMPLES_SUFFIX, t->results_dir, t->id);
        record->usage.tasks_peak = samples_tasks_peak(&s);
        return 0;
}
