/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl gc: removes the records, output files and output directories of analyses that ended long ago,
 * and spool entries that no unit will ever take (left when analysis-run died between handing over a request
 * and starting its unit). Nothing of a running analysis is touched. */

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis-id.h"
#include "ctl.h"
#include "exit-status.h"
#include "fs-util.h"
#include "log.h"
#include "parse-value.h"
#include "strv.h"
#include "output-dir.h"
#include "time-util.h"
#include "tree-copy.h"

/* A request waits in the spool for the few milliseconds until analysis-run starts its unit; one this old
 * without a running unit is an orphan. */
#define SPOOL_ORPHAN_AGE_USEC (10 * 60 * USEC_PER_SEC)

static const char * const result_suffixes[] = { ".json", ".stdout", ".stderr", ".output", ".samples.csv" };

static uint64_t mtime_usec(const struct stat *st) {
        return (uint64_t) st->st_mtim.tv_sec * USEC_PER_SEC + (uint64_t) st->st_mtim.tv_nsec / 1000;
}

/* The analysis id a results file belongs to ("run42" for "run42.stdout"), or NULL. Leftover temporary files
 * of an interrupted atomic write (".#run42.json.XXXX") count as run42's. */
static char *results_file_id(const char *name) {
        _cleanup_free_ char *base = NULL;
        size_t n;

        if (strncmp(name, ".#", 2) == 0) {
                const char *dot = strrchr(name, '.');

                base = dot > name + 2 ? strndup(name + 2, dot - name - 2) : NULL;
        } else
                base = strdup(name);
        if (!base)
                return NULL;
        n = strlen(base);
        for (size_t i = 0; i < ELEMENTSOF(result_suffixes); i++) {
                size_t k = strlen(result_suffixes[i]);

                if (n > k && strcmp(base + n - k, result_suffixes[i]) == 0) {
                        base[n - k] = '\0';
                        return analysis_id_is_valid(base) ? TAKE_PTR(base) : NULL;
                }
        }
        return NULL;
}

/* The ids of the analyses running now. Returns 0 or an exit status. */
static int running_ids(Ctl *c, char ***ret) {
        _cleanup_strv_free_ char **ids = NULL;
        AnalysisUnit *units = NULL;
        size_t n = 0;
        int r;

        r = ctl_list_units(c, NULL, &units, &n);
        if (r != 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++)
                if (analysis_unit_is_running(units + i))
                        r = strv_extend(&ids, units[i].id);
        analysis_units_free(units, n);
        if (r < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        *ret = TAKE_PTR(ids);
        return 0;
}

/* Removes the files of each id in dir whose newest file is older than cutoff. */
static int gc_results(Ctl *c, const char *dir, char * const *running, uint64_t cutoff, unsigned *ret_removed) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        _cleanup_strv_free_ char **fresh = NULL, **stale = NULL, **gone = NULL;
        unsigned removed = 0;
        int ret = 0, r;

        if (!d)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Cannot open %s: %m", dir);
        /* Two passes: an id is stale only if none of its files is fresh. */
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *id = results_file_id(de->d_name);
                struct stat st;

                if (!id || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (strv_contains(running, id) || mtime_usec(&st) >= cutoff) {
                        if (!strv_contains(fresh, id) && strv_extend(&fresh, id) < 0)
                                return log_oom();
                } else if (!strv_contains(stale, id) && strv_extend(&stale, id) < 0)
                        return log_oom();
        }
        /* Counted before they go, so that analysisctl metrics' counters never fall. Without the tally the
         * records stay. */
        STRV_FOREACH(id, stale)
                if (!strv_contains(fresh, *id) && strv_extend(&gone, *id) < 0)
                        return log_oom();
        r = ctl_metrics_tally_fold(c, dir, gone);
        if (r < 0)
                return log_error_errno(r, "Cannot add the records to be removed to the metrics tally, keeping them: %m");
        rewinddir(d);
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *id = results_file_id(de->d_name);

                if (!id || !strv_contains(gone, id))
                        continue;
                /* The output directory is a tree, removed without following anything in it. */
                r = tree_remove_at(dirfd(d), de->d_name);
                if (r < 0) {
                        ret = log_error_errno(r, "Cannot remove %s/%s: %m", dir, de->d_name);
                        continue;
                }
                log_debug("Removed %s/%s.", dir, de->d_name);
                removed++;
        }
        *ret_removed = removed;
        return ret;
}

static int remove_entry(int dir_fd, const char *name) {
        return remove_flat_dir_at(dir_fd, name);
}

/* analysis-record finish unmounts them; one killed at TimeoutStopSec= left them mounted. */
static int unmount_entry(int dir_fd, const char *name) {
        output_dir_unmount(name);
        return 0;
}

/* Applies action to the directories of dir named after an analysis id that is not running, untouched since
 * cutoff: spool/ID/ and units/ID/ entries, and the mount points of output directories and /tmp. */
static int gc_entries(const char *dir, char * const *running, uint64_t cutoff, int (*action)(int dir_fd, const char *name),
                      unsigned *ret_removed) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        unsigned removed = 0;
        int ret = 0, r;

        /* The system's spool cannot be listed by its members: only root cleans it (see tmpfiles.d too). */
        if (!d)
                return errno == ENOENT || errno == EACCES ? 0 : log_error_errno(errno, "Cannot open %s: %m", dir);
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;

                if (!analysis_id_is_valid(de->d_name) || strv_contains(running, de->d_name) ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
                    mtime_usec(&st) >= cutoff)
                        continue;
                r = action(dirfd(d), de->d_name);
                if (r < 0) {
                        ret = log_error_errno(r, "Cannot remove %s/%s: %m", dir, de->d_name);
                        continue;
                }
                log_debug("Removed %s/%s.", dir, de->d_name);
                removed++;
        }
        *ret_removed = removed;
        return ret;
}

/* The ended analyses of the other backends (Slurm's in SharedDirectory/UID/): each backend knows its files. */
static int gc_backends(Ctl *c, uint64_t cutoff) {
        char span[32];
        int ret = 0;

        if (c->scope != RUNTIME_SCOPE_SYSTEM || !ctl_backend_config(c))
                return 0;
        for (BackendKind k = 0; k < _BACKEND_KIND_MAX; k++) {
                const Backend *b = backend_get(k);
                _cleanup_free_ char *dir = NULL;
                unsigned n = 0;
                int r;

                if (!b->gc)
                        continue;
                r = b->gc(ctl_backend_config(c), cutoff, &n);
                if (r == -ENXIO)
                        continue;
                if (r < 0)
                        ret = r;
                if (!c->quiet && b->results_dir(ctl_backend_config(c), &dir) >= 0)
                        printf("Removed %u ended %s analys%s older than %s from %s.\n", n, b->name, n == 1 ? "is" : "es",
                               format_duration(c->older_than_usec, span, sizeof(span)), dir);
        }
        return ret;
}

/* The output directories' mounts live in PID 1's mount namespace. analysis-sandbox-gc.service runs us in one of
 * its own (ProtectSystem=), where they are copies: unmounting a copy leaves the real mount behind, and
 * the unbindable OUTPUT_MOUNT_DIR is not copied at all. So the mounts are undone in PID 1's namespace, and we
 * go back to ours at once: everything else gc removes stays within the service's sandbox. */
static int gc_mounts(char * const *running, uint64_t orphan_cutoff, unsigned *ret_n) {
        _cleanup_close_ int own_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        unsigned n_output = 0, n_tmp = 0;
        int r, failed = 0;

        if (own_ns < 0)
                return log_error_errno(errno, "Cannot open our own mount namespace: %m");
        r = host_mount_namespace_enter();
        if (r < 0)
                return log_error_errno(r, "Cannot enter the host's mount namespace to unmount what ended analyses left: %m");
        failed |= gc_entries(OUTPUT_MOUNT_DIR, running, orphan_cutoff, unmount_entry, &n_output) < 0;
        failed |= gc_entries(TMP_MOUNT_DIR, running, orphan_cutoff, unmount_entry, &n_tmp) < 0;
        if (setns(own_ns, CLONE_NEWNS) < 0)
                return log_error_errno(errno, "Cannot return to our own mount namespace: %m");
        *ret_n = n_output + n_tmp;
        return failed ? -EIO : 0;
}

int verb_gc(Ctl *c, char **args) {
        _cleanup_strv_free_ char **running = NULL;
        uint64_t now = now_usec(CLOCK_REALTIME), cutoff, orphan_cutoff;
        unsigned n_files = 0, n_spool = 0, n_units = 0, n_mounts = 0;
        char span[32];
        int r, failed = 0;

        if (c->older_than_usec == 0) {
                log_error("gc needs --older-than=SPAN, such as --older-than=30d.");
                return EXIT_SETUP_USAGE;
        }
        cutoff = now > c->older_than_usec ? now - c->older_than_usec : 0;
        orphan_cutoff = now - SPOOL_ORPHAN_AGE_USEC;
        /* Listed before looking at any file: an analysis that starts later writes fresh files. */
        r = running_ids(c, &running);
        if (r != 0)
                return r;
        failed |= gc_results(c, c->paths.results_dir, running, cutoff, &n_files) < 0;
        failed |= gc_entries(c->paths.spool_dir, running, orphan_cutoff, remove_entry, &n_spool) < 0;
        failed |= gc_entries(c->paths.units_dir, running, orphan_cutoff, remove_entry, &n_units) < 0;
        if (c->scope == RUNTIME_SCOPE_SYSTEM && geteuid() == 0)
                failed |= gc_mounts(running, orphan_cutoff, &n_mounts) < 0;
        if (!c->quiet)
                printf("Removed %u file%s older than %s from %s, and %u orphaned spool and %u unit state entr%s.\n",
                       n_files, n_files == 1 ? "" : "s", format_duration(c->older_than_usec, span, sizeof(span)),
                       c->paths.results_dir, n_spool, n_units, n_units == 1 ? "y" : "ies");
        if (!c->quiet && n_mounts > 0)
                printf("Unmounted %u leftover output director%s and /tmp of ended analyses.\n", n_mounts,
                       n_mounts == 1 ? "y" : "ies");
        failed |= gc_backends(c, cutoff) < 0;
        return failed ? EXIT_CTL_FAILURE : EXIT_SUCCESS;
}
