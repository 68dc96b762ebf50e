/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The task limit of an analysis inside its Slurm job (see slurm-tasks.h).
 *
 * Slurm 22.05 keeps its own tasks (slurmstepd's threads) in step_STEP/slurm and step_extern, the job's in
 * step_STEP/user/task_N: only step_STEP/user and below, step_extern excepted, counts for the analysis
 * (tests/vm/slurm/FINDINGS.md (b)).
 * Every cgroup.threads and cgroup.procs there is world-readable; nothing there is writable by the job's user,
 * so the best-effort way stops the analysis by signalling its processes, not through cgroup.kill. */

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-util.h"
#include "config.h"
#include "macro.h"
#include "slurm-tasks.h"
#include "time-util.h"

#define WATCH_INTERVAL_USEC (100 * UINT64_C(1000))

typedef int (*LineFunc)(const char *line, void *userdata);

/* Calls f for every line of file in dir_fd. Returns 0 or a negative errno. */
static int for_each_line_at(int dir_fd, const char *file, LineFunc f, void *userdata) {
        _cleanup_fclose_ FILE *fp = NULL;
        char line[64];
        int fd;

        fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        fp = fdopen(fd, "re");
        if (!fp) {
                (void) close(fd);
                return -errno;
        }
        while (fgets(line, sizeof(line), fp)) {
                int r;

                line[strcspn(line, "\n")] = '\0';
                r = f(line, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Calls f for every line of file in dir_fd and in every cgroup below it. Gone cgroups are skipped: tasks come
 * and go while we walk. */
static void walk_cgroups_at(int dir_fd, const char *file, LineFunc f, void *userdata) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd;

        (void) for_each_line_at(dir_fd, file, f, userdata);
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                (void) close(fd);
                return;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int sub = -EBADF;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sub >= 0)
                        walk_cgroups_at(sub, file, f, userdata);
        }
}

/* Calls f for every line of file in every step_STEP/user cgroup of the job (but step_extern) and below. */
static void walk_job_user_cgroups(const char *job_cgroup, const char *file, LineFunc f, void *userdata) {
        _cleanup_(closedirp) DIR *d = opendir(job_cgroup);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *user = NULL;
                _cleanup_close_ int fd = -EBADF;

                /* step_extern holds what Slurm adopts into the job (its own sleep, ssh sessions): not the
                 * analysis. */
                if (de->d_type != DT_DIR || strncmp(de->d_name, "step_", 5) != 0 || strcmp(de->d_name, "step_extern") == 0)
                        continue;
                user = strprintf("%s/user", de->d_name);
                if (!user)
                        return;
                fd = openat(dirfd(d), user, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0)
                        walk_cgroups_at(fd, file, f, userdata);
        }
}

static int count_line(const char *line, void *userdata) {
        uint64_t *n = userdata;

        if (line[0])
                (*n)++;
        return 0;
}

static int kill_line(const char *line, void *userdata) {
        unsigned *killed = userdata;
        char *end;
        long pid;

        errno = 0;
        pid = strtol(line, &end, 10);
        if (errno != 0 || end == line || *end || pid <= 1 || pid == (long) getpid())
                return 0;
        if (kill((pid_t) pid, SIGKILL) >= 0)
                (*killed)++;
        return 0;
}

int slurm_tasks_init(SlurmTasks *t, uint64_t tasks_max) {
        _cleanup_free_ char *path = NULL;
        uint64_t max;
        char *slash;
        int r;

        *t = (SlurmTasks) { .tasks_max = tasks_max };
        r = cgroup_self_unit_path(&path);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        /* .../job_N/step_batch/user/task_0 → .../job_N */
        while ((slash = strrchr(path, '/')) && strncmp(slash + 1, "job_", 4) != 0)
                *slash = '\0';
        if (!slash)
                return 0;
        t->job_cgroup = TAKE_PTR(path);
        /* Our Prolog's number, not just any: a pids.max of the site's own would hold the job to something else.
         * The Prolog adds Slurm's own tasks, which it knows by the Slurm version: one of two numbers. */
        t->exact = tasks_max != UINT64_MAX && cgroup_read_uint(t->job_cgroup, "pids.max", &max) >= 0 &&
                   (max == tasks_max + SLURM_TASKS_OVERHEAD || max == tasks_max + SLURM_TASKS_OVERHEAD_2302);
        return 0;
}

static int on_watch(sd_event_source *source, uint64_t usec, void *userdata) {
        SlurmTasks *t = userdata;
        uint64_t n = 0;

        walk_job_user_cgroups(t->job_cgroup, "cgroup.threads", count_line, &n);
        /* Our own thread is in step_batch/user/task_0 too; the analysis is the rest. */
        n = n > 0 ? n - 1 : 0;
        t->peak = MAX(t->peak, n);
        if (n > t->tasks_max) {
                t->stopped = true;
                /* A fork bomb forks while we kill: again until no process of the job's steps but us is left. */
                for (int i = 0; i < 100; i++) {
                        unsigned killed = 0;

                        walk_job_user_cgroups(t->job_cgroup, "cgroup.procs", kill_line, &killed);
                        if (killed == 0)
                                break;
                        (void) usleep(10000);
                }
                return sd_event_source_set_enabled(source, SD_EVENT_OFF);
        }
        (void) sd_event_source_set_time(source, usec + WATCH_INTERVAL_USEC);
        return sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
}

int slurm_tasks_watch(SlurmTasks *t, sd_event *event) {
        if (t->exact || !t->job_cgroup || t->tasks_max == UINT64_MAX)
                return 0;
        return sd_event_add_time(event, &t->timer, CLOCK_MONOTONIC, now_usec(CLOCK_MONOTONIC) + WATCH_INTERVAL_USEC,
                                 0, on_watch, t);
}

uint64_t slurm_tasks_limit_hits(const SlurmTasks *t) {
        uint64_t v;

        if (t->exact)
                return t->job_cgroup && cgroup_read_keyed(t->job_cgroup, "pids.events", "max", &v) >= 0 ? v : 0;
        return t->stopped ? 1 : 0;
}

void slurm_tasks_done(SlurmTasks *t) {
        sd_event_source_disable_unref(t->timer);
        free(t->job_cgroup);
        *t = (SlurmTasks) {};
}
