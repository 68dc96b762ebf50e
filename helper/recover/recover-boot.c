/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-recover boot: the analyses the host stopped under. Each left its running mark (written to disk
 * before it started, removed once its record was complete) with the id of a boot that is over: it gets a
 * record that says so, unless its recorder wrote one and the host stopped before the mark was removed. */

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analysis-id.h"
#include "journal-send.h"
#include "log.h"
#include "record-file.h"
#include "record-steps.h"
#include "recover.h"
#include "running-mark.h"
#include "time-util.h"

/* When this boot began, in CLOCK_REALTIME: CLOCK_BOOTTIME counts from it, suspends included. */
static uint64_t boot_time_usec(void) {
        uint64_t now = now_usec(CLOCK_REALTIME), up = now_usec(CLOCK_BOOTTIME);

        return now > up ? now - up : RECORD_UNSET;
}

static int recover_one(const AnalysisPaths *paths, RuntimeScope scope, const char *id, const UnitState *mark) {
        const RecordTarget target = { .paths = paths, .id = id, .results_dir = paths->results_dir, .scope = scope };
        _cleanup_(record_done) Record record, existing;
        _cleanup_free_ char *why = NULL;
        int r;

        record_init(&record);
        record_init(&existing);
        r = record_file_load(paths->results_dir, id, &existing, NULL, NULL, &why);
        if (r >= 0 && mark->invocation_id[0] && existing.invocation_id &&
            strcmp(existing.invocation_id, mark->invocation_id) == 0) {
                /* Its recorder got that far: the record stands, the rest went with the host. */
                (void) running_mark_remove(paths->running_dir, id);
                return 0;
        }

        record.id = strdup(id);
        record.profile = strdup(mark->profile);
        (void) analysis_unit_name(mark->profile, id, &record.unit);
        record.invocation_id = mark->invocation_id[0] ? strdup(mark->invocation_id) : NULL;
        record.isolation = strdup("cgroup");
        record.result = strdup("host-stopped");
        record.reconstructed = strdup("host-stopped");
        record.host_booted_at_usec = boot_time_usec();
        record.started_at_usec = mark->started_at_usec;
        if (mark->caller_uid != (uid_t) -1)
                record.caller_uid = mark->caller_uid;
        record.profile_limits.runtime_max_usec = mark->runtime_max_usec;
        record.limits = record.profile_limits;
        if (mark->error)
                record.error = strdup(mark->error);
        /* Under a user's manager the output directory is on disk, and what the analysis wrote is there. */
        record_measure_output(&target, &record, !mark->error);
        (void) record_store_samples(&target, NULL, &record);
        r = record_store_final(&target, &record);
        if (r < 0)
                return log_error_errno(r, "Analysis '%s': cannot write its record to %s: %m", id, paths->results_dir);
        journal_log_analysis(LOG_WARNING, RECOVER_IDENTIFIER, id, record.profile, "Analysis '%s' (profile '%s'): %s",
                             id, strempty(record.profile), strempty(record.notes));
        record_release(&target);
        return 0;
}

int recover_boot(const AnalysisPaths *paths, RuntimeScope scope) {
        _cleanup_closedir_ DIR *d = NULL;
        char boot_id[33];
        struct dirent *de;
        unsigned n = 0;
        int r, ret = 0;

        r = current_boot_id(boot_id);
        if (r < 0)
                return log_error_errno(r, "Cannot read the id of this boot: %m");
        d = opendir(paths->running_dir);
        if (!d && errno == ENOENT)
                return 0;
        if (!d)
                return log_error_errno(errno, "Cannot open %s: %m", paths->running_dir);
        while ((de = readdir(d))) {
                _cleanup_(unit_state_freep) UnitState *mark = NULL;

                /* Dot files are the temporary files of a write the host stopped. */
                if (de->d_name[0] == '.') {
                        if (strncmp(de->d_name, ".#", 2) == 0)
                                (void) unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }
                if (!analysis_id_is_valid(de->d_name))
                        continue;
                r = running_mark_read_at(dirfd(d), de->d_name, &mark);
                if (r < 0) {
                        log_error_errno(r, "Cannot read %s/%s, leaving it: %m", paths->running_dir, de->d_name);
                        ret = r;
                        continue;
                }
                /* A mark without a boot is one whose boot could not be read: nothing tells it is over. */
                if (!mark->boot_id[0] || strcmp(mark->boot_id, boot_id) == 0)
                        continue;
                r = recover_one(paths, scope, de->d_name, mark);
                if (r < 0)
                        ret = r;
                else
                        n++;
        }
        if (n > 0)
                log_info("Wrote the records of %u analyses the host stopped under.", n);
        return ret;
}
