/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysis-sampler: samples every running analysis' cgroup each SampleInterval= (analysis-sandbox.conf) into
 * its samples file, which the recorder takes when the analysis ends (analysis-sampler(8)).
 *
 * One process for the host (analysis-sandbox-sampler.service, which every analysis unit Wants=), not one per
 * analysis: the runner executes the command and leaves no process to sample with, it runs as the analysis'
 * own account (which could then write its own samples), and a process per analysis would add to what every
 * analysis costs to start. It runs as root outside analysis.slice, like analysis-recover, and writes only
 * into the units' root-owned state directories. It exits once no analysis has run for a while; the next
 * analysis' Wants= starts it again. */

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "analysis-id.h"
#include "cgroup-sample.h"
#include "cgroup-util.h"
#include "config.h"
#include "entry-file.h"
#include "log.h"
#include "parse-value.h"
#include "paths.h"
#include "profile.h"
#include "samples-file.h"
#include "time-util.h"
#include "unit-state.h"

static RuntimeScope arg_scope = RUNTIME_SCOPE_SYSTEM;
static uint64_t arg_interval_usec = UINT64_MAX;        /* UINT64_MAX: analysis-sandbox.conf's */
static uint64_t arg_idle_exit_usec = 60 * UINT64_C(1000000);
static const char *arg_cgroup_root = NULL;

/* One analysis being sampled. */
typedef struct Tracked {
        char *id;
        char *profile;
        char *cgroup;
        char *head;                     /* the file's first two lines */
        uint64_t started_at_usec;       /* CLOCK_REALTIME */
        CgroupFiles files;              /* its cgroup's files, open from the first sample on */
        int state_fd;                   /* its state directory (units/ID), where the samples file is */
        CgroupCounters prev;
        bool have_prev;
        SampleRow pending;              /* samples not yet written: rows span interval << level */
        bool have_pending;
        size_t rows;                    /* in the file */
        unsigned level;
        bool done;                      /* taken by the recorder, or its state directory is gone */
        bool seen;                      /* in this scan */
} Tracked;

static Tracked *tracked;
static size_t n_tracked;

static void tracked_done(Tracked *t) {
        cgroup_files_close(&t->files);
        t->state_fd = safe_close(t->state_fd);
        free(t->id);
        free(t->profile);
        free(t->cgroup);
        free(t->head);
        *t = (Tracked) {};
}

static void help(void) {
        printf("%s [--user] [--interval=SPAN] [--idle-exit=SPAN]\n\n"
               "Samples the cgroup of every running analysis into its samples file (analysis-sampler(8)).\n"
               "Runs as analysis-sandbox-sampler.service, which every analysis unit wants.\n\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n"
               "     --user            The analyses of the calling user's service manager\n"
               "     --interval=SPAN   Instead of SampleInterval= of analysis-sandbox.conf\n"
               "     --idle-exit=SPAN  Exit after this long without analyses (default 60s; 0: never)\n",
               program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_USER, ARG_SYSTEM, ARG_INTERVAL, ARG_IDLE_EXIT, ARG_CGROUP_ROOT };
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h'             },
                { "version",     no_argument,       NULL, ARG_VERSION     },
                { "user",        no_argument,       NULL, ARG_USER        },
                { "system",      no_argument,       NULL, ARG_SYSTEM      },
                { "interval",    required_argument, NULL, ARG_INTERVAL    },
                { "idle-exit",   required_argument, NULL, ARG_IDLE_EXIT   },
                { "cgroup-root", required_argument, NULL, ARG_CGROUP_ROOT },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("analysis-sandbox %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_USER:
                        arg_scope = RUNTIME_SCOPE_USER;
                        break;
                case ARG_SYSTEM:
                        arg_scope = RUNTIME_SCOPE_SYSTEM;
                        break;
                case ARG_INTERVAL:
                        if (parse_timespan(optarg, &arg_interval_usec) < 0 || arg_interval_usec == UINT64_MAX)
                                return log_error("Invalid --interval= value '%s'.", optarg), -EINVAL;
                        break;
                case ARG_IDLE_EXIT:
                        if (parse_timespan(optarg, &arg_idle_exit_usec) < 0)
                                return log_error("Invalid --idle-exit= value '%s'.", optarg), -EINVAL;
                        break;
                case ARG_CGROUP_ROOT:
                        /* Undocumented: where the bench puts its stand-in analyses. */
                        arg_cgroup_root = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error("No arguments expected, see --help."), -EINVAL;
        return 1;
}

/* analysis.slice of our manager: the system's, or the one below user@UID.service in our own cgroup path. */
static int find_root(char **ret) {
        _cleanup_free_ char *self = NULL;
        char *p;
        int r;

        if (arg_cgroup_root) {
                *ret = strdup(arg_cgroup_root);
                return *ret ? 0 : -ENOMEM;
        }
        if (arg_scope == RUNTIME_SCOPE_SYSTEM) {
                *ret = strdup(CGROUP_ROOT "/analysis.slice");
                return *ret ? 0 : -ENOMEM;
        }
        r = cgroup_self_unit_path(&self);
        if (r < 0)
                return r;
        p = strstr(self, "/user@");
        if (!p || !(p = strstr(p, ".service")))
                return -ENOMEDIUM;
        p[strlen(".service")] = '\0';
        *ret = strprintf("%s/analysis.slice", self);
        return *ret ? 0 : -ENOMEM;
}

static int open_state_dir(const AnalysisPaths *paths, const char *id) {
        _cleanup_free_ char *dir = strprintf("%s/%s", paths->units_dir, id);
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (!dir)
                return -ENOMEM;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Only the unit's own directory, as its recorder reads it: root's (or, under a user's manager, ours). */
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        return TAKE_FD(fd);
}

/* The start and profile from the unit's snapshot, and what a file from an earlier run of this sampler holds. */
static int tracked_start(const AnalysisPaths *paths, Tracked *t, uint64_t interval) {
        _cleanup_(unit_state_freep) UnitState *state = NULL;
        _cleanup_free_ char *data = NULL, *why = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_(samples_done) Samples old = {};
        size_t size;
        int r;

        dir_fd = open_state_dir(paths, t->id);
        if (dir_fd < 0)
                return dir_fd;
        r = cgroup_files_open(&t->files, t->cgroup);
        if (r < 0)
                return r;
        r = entry_file_read_at(dir_fd, "state", geteuid(), &data, &size, &why);
        if (r >= 0)
                r = unit_state_parse(data, size, &state, &why);
        if (r < 0)
                return r;
        t->started_at_usec = state->started_at_usec;
        t->profile = strdup(state->profile);
        if (!t->profile)
                return -ENOMEM;
        r = samples_head_format(t->id, t->profile, interval, &t->head);
        if (r < 0)
                return r;
        /* Restarted while the analysis ran: go on from the rows written, as if the gap were one long sample. */
        if (samples_file_read_at(dir_fd, SAMPLES_INFLIGHT_NAME, &old, NULL) >= 0 && old.n_rows > 0) {
                SampleRow total;

                samples_total(&old, &total);
                t->rows = old.n_rows;
                while ((interval << (t->level + 1)) <= old.rows[old.n_rows - 1].span_usec && t->level < 40)
                        t->level++;
                t->prev = (CgroupCounters) {
                        .time_usec = total.time_usec,
                        .cpu_usec = total.cpu_usec,
                        .cpu_throttled_usec = total.cpu_throttled_usec,
                        .read_bytes = total.read_bytes,
                        .written_bytes = total.written_bytes,
                        .oom_kills = SAMPLE_UNSET,
                        .fork_refusals = SAMPLE_UNSET,
                };
                t->have_prev = true;
        }
        t->state_fd = TAKE_FD(dir_fd);
        return 0;
}

/* Writes the pending row; past SAMPLES_ROWS_MAX rows the file is rewritten with neighbours merged, and later
 * rows span twice as long: each sample costs O(1) on average, and the file stays bounded. */
static int tracked_flush(Tracked *t) {
        char text[SAMPLE_ROW_TEXT_MAX];
        int dir_fd = t->state_fd;
        size_t n;
        int r;

        /* Kept open: once its recorder has removed the directory, creating the file in it fails (ENOENT). */
        n = sample_row_format(&t->pending, text);
        r = samples_inflight_append(dir_fd, t->head, text, n);
        if (r < 0)
                return r;
        t->have_pending = false;
        t->rows++;
        if (t->rows >= SAMPLES_ROWS_MAX) {
                _cleanup_(samples_done) Samples s = {};

                r = samples_file_read_at(dir_fd, SAMPLES_INFLIGHT_NAME, &s, NULL);
                if (r < 0)
                        return r;
                samples_compact(&s);
                r = samples_inflight_replace(dir_fd, &s);
                if (r < 0)
                        return r;
                t->rows = s.n_rows;
                t->level++;
        }
        return 0;
}

static void tracked_sample(Tracked *t, uint64_t interval) {
        CgroupCounters now;
        SampleRow row;
        uint64_t realtime = now_usec(CLOCK_REALTIME);
        int r;

        if (cgroup_files_read(&t->files, &now) < 0)
                return;
        now.time_usec = realtime > t->started_at_usec ? realtime - t->started_at_usec : 0;
        if (t->have_prev && t->prev.oom_kills == SAMPLE_UNSET) {
                /* Counts unknown after a restart: taken as they are now, no event made up. */
                t->prev.oom_kills = now.oom_kills;
                t->prev.fork_refusals = now.fork_refusals;
                t->prev.payload = now.payload;
        }
        cgroup_counters_row(t->have_prev ? &t->prev : NULL, &now, &row);
        /* Until the runner has made the payload leaf and moved into it, the analysis has not started: the unit's
         * CPU then is the sandbox's own (seconds of it on systemd 257 under emulation: the executor, the
         * runner's set-up), which the record does not count as the analysis' either. The row that first sees
         * the leaf takes all of the leaf's; a unit that never gets one (no task limit anywhere) has its CPU in
         * the recorder's last row, which brings the rows up to the record. */
        if (!now.payload)
                row.cpu_usec = 0;
        t->prev = now;
        t->have_prev = true;
        if (t->have_pending)
                sample_row_merge(&t->pending, &row);
        else
                t->pending = row;
        t->have_pending = true;
        if (!samples_row_due(&t->pending, interval, t->level))
                return;
        r = tracked_flush(t);
        if (r == -ESTALE || r == -ENOENT)
                t->done = true;
        else if (r < 0)
                log_warning_errno(r, "Analysis '%s': cannot write its samples, trying again at the next sample: %m",
                                  t->id);
}

static Tracked *tracked_find_or_add(const char *id, const char *cgroup) {
        Tracked *t;

        for (size_t i = 0; i < n_tracked; i++)
                if (strcmp(tracked[i].id, id) == 0)
                        return &tracked[i];
        t = reallocarray(tracked, n_tracked + 1, sizeof(Tracked));
        if (!t)
                return NULL;
        tracked = t;
        t = &tracked[n_tracked];
        *t = (Tracked) { .id = strdup(id), .cgroup = strdup(cgroup), .state_fd = -EBADF };
        cgroup_files_init(&t->files);
        if (!t->id || !t->cgroup) {
                tracked_done(t);
                return NULL;
        }
        n_tracked++;
        return t;
}

/* analysis.slice/analysis-PROFILE.slice/analysis[-PROFILE]@ID.service: every analysis unit's cgroup. */
static size_t scan(const AnalysisPaths *paths, const char *root, uint64_t interval) {
        _cleanup_closedir_ DIR *top = opendir(root);
        struct dirent *de;
        size_t units = 0;

        for (size_t i = 0; i < n_tracked; i++)
                tracked[i].seen = false;
        while (top && (de = readdir(top))) {
                _cleanup_free_ char *slice = NULL;
                _cleanup_closedir_ DIR *d = NULL;
                struct dirent *ue;
                size_t len = strlen(de->d_name);

                if (de->d_type != DT_DIR || len < 7 || strcmp(de->d_name + len - 6, ".slice") != 0)
                        continue;
                slice = strprintf("%s/%s", root, de->d_name);
                d = slice ? opendir(slice) : NULL;
                while (d && (ue = readdir(d))) {
                        _cleanup_free_ char *profile = NULL, *id = NULL, *cgroup = NULL;
                        Tracked *t;

                        if (ue->d_type != DT_DIR || analysis_unit_name_parse(ue->d_name, &profile, &id) < 0)
                                continue;
                        units++;
                        cgroup = strprintf("%s/%s", slice, ue->d_name);
                        t = cgroup ? tracked_find_or_add(id, cgroup) : NULL;
                        if (!t) {
                                log_oom();
                                continue;
                        }
                        t->seen = true;
                        if (t->done)
                                continue;
                        /* Not yet started (its runner has not written the snapshot): the next tick. */
                        if (!t->head && tracked_start(paths, t, interval) < 0) {
                                free(t->head);
                                free(t->profile);
                                t->head = t->profile = NULL;
                                cgroup_files_close(&t->files);
                                continue;
                        }
                        tracked_sample(t, interval);
                }
        }
        /* Forget the analyses whose cgroup is gone. */
        for (size_t i = 0; i < n_tracked;)
                if (!tracked[i].seen) {
                        tracked_done(&tracked[i]);
                        tracked[i] = tracked[--n_tracked];
                } else
                        i++;
        return units;
}

static uint64_t load_interval(void) {
        _cleanup_(global_config_freep) GlobalConfig *config = NULL;
        _cleanup_(config_error_clear) ConfigError error = {};
        _cleanup_free_ char *text = NULL;
        int r;

        r = global_config_find_and_load(arg_scope, &config, &error);
        if (r < 0) {
                text = config_error_to_string(&error);
                log_warning("%s: using SampleInterval=1s.", text ?: "analysis-sandbox.conf");
                return SAMPLES_DEFAULT_INTERVAL_USEC;
        }
        return config->settings[GLOBAL_RECORDS_SAMPLE_INTERVAL].set
                       ? config->settings[GLOBAL_RECORDS_SAMPLE_INTERVAL].number
                       : SAMPLES_DEFAULT_INTERVAL_USEC;
}

int main(int argc, char *argv[]) {
        _cleanup_(analysis_paths_done) AnalysisPaths paths = {};
        _cleanup_free_ char *root = NULL;
        uint64_t interval, idle_since;
        struct timespec next;
        int r;

        log_open(LOG_TARGET_STDERR);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        interval = arg_interval_usec != UINT64_MAX ? arg_interval_usec : load_interval();
        if (interval == 0) {
                log_info("Sampling is off (SampleInterval=0 in analysis-sandbox.conf).");
                return EXIT_SUCCESS;
        }
        /* A dozen files stay open per running analysis: the soft limit of 1024 would cap them at about 80. */
        {
                struct rlimit rl;

                if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                        rl.rlim_cur = rl.rlim_max;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
        }
        r = analysis_paths_get(arg_scope, &paths);
        if (r < 0) {
                log_error_errno(r, "Cannot find the directories of the analyses: %m");
                return EXIT_FAILURE;
        }
        r = find_root(&root);
        if (r < 0) {
                log_error_errno(r, "Cannot find the analyses' cgroup (analysis.slice): %m");
                return EXIT_FAILURE;
        }

        idle_since = now_usec(CLOCK_MONOTONIC);
        (void) clock_gettime(CLOCK_MONOTONIC, &next);
        for (;;) {
                uint64_t now;

                if (scan(&paths, root, interval) > 0)
                        idle_since = now_usec(CLOCK_MONOTONIC);
                now = now_usec(CLOCK_MONOTONIC);
                if (arg_idle_exit_usec > 0 && now - idle_since >= arg_idle_exit_usec) {
                        log_debug("No analysis for a while, exiting; the next one starts us again.");
                        break;
                }
                /* Ticks on a fixed grid: a slow scan does not stretch the interval. */
                next.tv_nsec += (long) ((interval % 1000000) * 1000);
                next.tv_sec += (time_t) (interval / 1000000) + next.tv_nsec / 1000000000;
                next.tv_nsec %= 1000000000;
                if ((uint64_t) next.tv_sec * 1000000 + (uint64_t) next.tv_nsec / 1000 < now)
                        (void) clock_gettime(CLOCK_MONOTONIC, &next);
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
                        ;
        }
        for (size_t i = 0; i < n_tracked; i++)
                tracked_done(&tracked[i]);
        free(tracked);
        return EXIT_SUCCESS;
}
