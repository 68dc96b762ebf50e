/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running a command without a service manager: in a process group of its own, under setrlimit() limits, with
 * a wall-clock timer and a graceful process-group kill, until it and its process group are gone.
 *
 * This is what analysis-run --fallback=rlimit does where no systemd can be reached. It imitates the unit
 * (KillMode=control-group, RuntimeMaxSec=, TimeoutStopSec=, NoNewPrivileges=, StandardInput=null) as far as a
 * process can without cgroups: the process group stands in for the cgroup, and a process that leaves it
 * (setsid()) escapes the kill. */

#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "fallback-rlimit.h"
#include "log.h"
#include "macro.h"
#include "parse-value.h"
#include "time-util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* How often the process group is checked for being empty while it is being stopped: its last process may
 * be reaped by a parent of its own rather than by us, and then no SIGCHLD tells us. */
#define GROUP_POLL_USEC (50 * UINT64_C(1000))

/* Which step of starting the command failed, as the child tells its parent through the error pipe. */
typedef enum ChildStep {
        CHILD_STEP_SETUP,
        CHILD_STEP_USER,
        CHILD_STEP_CHDIR,
        CHILD_STEP_RLIMIT,
        CHILD_STEP_EXEC,
} ChildStep;

typedef struct ChildError {
        int step;
        int error;
} ChildError;

typedef struct Supervisor {
        const RlimitSpec *spec;
        sd_event *event;
        pid_t pid;              /* the command's process, and its process group */
        bool main_done;
        bool stopping;
        RlimitOutcome *outcome;
        sd_event_source *kill_timer;
        sd_event_source *poll_timer;
} Supervisor;

/* In the child: reports the failed step to the parent and exits. */
_Noreturn static void child_fail(int error_fd, ChildStep step) {
        ChildError e = { .step = step, .error = errno };

        (void) !write(error_fd, &e, sizeof(e));
        _exit(127);
}

/* Lowers a limit, never raises one: where our own hard limit is already lower, it stays. */
static int set_limit(int resource, uint64_t soft, uint64_t hard) {
        struct rlimit now, rl = { .rlim_cur = (rlim_t) soft, .rlim_max = (rlim_t) hard };

        if (getrlimit(resource, &now) >= 0 && now.rlim_max != RLIM_INFINITY) {
                if (rl.rlim_max > now.rlim_max)
                        rl.rlim_max = now.rlim_max;
                if (rl.rlim_cur > rl.rlim_max)
                        rl.rlim_cur = rl.rlim_max;
        }
        return setrlimit(resource, &rl);
}

/* In the child, between fork() and execve(): only what is safe there. */
_Noreturn static void child_exec(const RlimitSpec *spec, int error_fd) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;
        int null_fd;

        /* What the command inherits is what a service gets: default signal handling, nothing blocked. */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        /* Its own process group, so the timeout, the end of the command and a cancel reach its children too;
         * and Ctrl-C on our terminal reaches us only, to stop it gracefully. */
        if (setpgid(0, 0) < 0)
                child_fail(error_fd, CHILD_STEP_SETUP);

        null_fd = open("/dev/null", O_RDONLY | O_NOCTTY);
        if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(spec->stdout_fd, STDOUT_FILENO) < 0 ||
            dup2(spec->stderr_fd, STDERR_FILENO) < 0)
                child_fail(error_fd, CHILD_STEP_SETUP);
        /* Nothing of ours but stdin, stdout and stderr reaches the command (the error pipe closes on exec). */
        (void) close_range(3U, ~0U, CLOSE_RANGE_CLOEXEC);

        /* As root we run the analysis as the profile's account (User=), as its unit would: never as root unless
         * the profile says AllowRoot=yes, which the caller checked. Groups first, while we may still. */
        if (spec->switch_user &&
            (initgroups(spec->user_name, spec->gid) < 0 || setresgid(spec->gid, spec->gid, spec->gid) < 0 ||
             setresuid(spec->uid, spec->uid, spec->uid) < 0))
                child_fail(error_fd, CHILD_STEP_USER);
        /* Limits after the switch: lowering them needs no privilege, and initgroups() (NSS, malloc) must not
         * run under a small RLIMIT_AS. They are hard limits, so the command cannot raise them (the CPU one leaves
         * one second between SIGXCPU and SIGKILL). */
        if (spec->address_space_max > 0 && set_limit(RLIMIT_AS, spec->address_space_max, spec->address_space_max) < 0)
                child_fail(error_fd, CHILD_STEP_RLIMIT);
        if (spec->cpu_time_max_sec > 0 && set_limit(RLIMIT_CPU, spec->cpu_time_max_sec, spec->cpu_time_max_sec + 1) < 0)
                child_fail(error_fd, CHILD_STEP_RLIMIT);
        if (spec->processes_max > 0 && set_limit(RLIMIT_NPROC, spec->processes_max, spec->processes_max) < 0)
                child_fail(error_fd, CHILD_STEP_RLIMIT);
        /* NoNewPrivileges=yes: no setuid binary or file capability gives the analysis more than it has. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(error_fd, CHILD_STEP_SETUP);
        if (chdir(spec->cwd) < 0)
                child_fail(error_fd, CHILD_STEP_CHDIR);

        execve(spec->argv[0], spec->argv, spec->environment);
        child_fail(error_fd, CHILD_STEP_EXEC);
}

static char *describe_child_error(const RlimitSpec *spec, const ChildError *e) {
        const char *why = strerror(e->error);
        char b[32];

        switch (e->step) {
        case CHILD_STEP_USER:
                return strprintf("cannot switch to user %s: %s", spec->user_name, why);
        case CHILD_STEP_CHDIR:
                return strprintf("cannot change to directory %s%s%s: %s", spec->cwd,
                                 spec->switch_user ? " as user " : "", spec->switch_user ? spec->user_name : "", why);
        case CHILD_STEP_RLIMIT:
                return strprintf("cannot set its resource limits: %s", why);
        case CHILD_STEP_EXEC:
                if (e->error == ENOMEM && spec->address_space_max > 0)
                        return strprintf("cannot execute %s: %s (the %s address-space limit leaves too little to "
                                         "start it)", spec->argv[0], why,
                                         format_bytes(spec->address_space_max, b, sizeof(b)));
                if (e->error == EAGAIN && spec->processes_max > 0)
                        return strprintf("cannot execute %s: %s (the user already has %" PRIu64 " processes or more, "
                                         "which RLIMIT_NPROC counts against this analysis)", spec->argv[0], why,
                                         spec->processes_max);
                return strprintf("cannot execute %s: %s", spec->argv[0], why);
        default:
                return strprintf("cannot set up the process of the analysis: %s", why);
        }
}

/* Whether any process is left in the command's process group. */
static bool group_is_empty(const Supervisor *s) {
        return kill(-s->pid, 0) < 0 && errno == ESRCH;
}

static void check_done(Supervisor *s) {
        if (s->main_done && group_is_empty(s))
                (void) sd_event_exit(s->event, 0);
}

/* Reaps every child that has ended: the command's process, and (as subreaper) any orphan of the analysis. */
static void reap(Supervisor *s) {
        for (;;) {
                struct rusage ru;
                int status;
                pid_t pid = wait4(-1, &status, WNOHANG, &ru);

                if (pid <= 0)
                        break;
                s->outcome->cpu_usec += (uint64_t) ru.ru_utime.tv_sec * USEC_PER_SEC + (uint64_t) ru.ru_utime.tv_usec +
                                        (uint64_t) ru.ru_stime.tv_sec * USEC_PER_SEC + (uint64_t) ru.ru_stime.tv_usec;
                /* Linux gives ru_maxrss in KiB. */
                if ((uint64_t) ru.ru_maxrss * 1024 > s->outcome->max_rss_bytes)
                        s->outcome->max_rss_bytes = (uint64_t) ru.ru_maxrss * 1024;
                if (pid == s->pid) {
                        s->outcome->status = status;
                        s->main_done = true;
                        s->outcome->runtime_usec = now_usec(CLOCK_MONOTONIC) - s->outcome->runtime_usec;
                }
        }
}

static int on_kill_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Supervisor *s = userdata;

        log_debug("Killing what is left of process group %d after the grace.", (int) s->pid);
        (void) kill(-s->pid, SIGKILL);
        return 0;
}

static int on_poll_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Supervisor *s = userdata;

        reap(s);
        check_done(s);
        (void) sd_event_source_set_time(source, usec + GROUP_POLL_USEC);
        (void) sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        return 0;
}

/* As systemd stops a unit: SIGTERM (and SIGCONT, for stopped processes) to all of it, SIGKILL after the grace. */
static void stop_group(Supervisor *s) {
        uint64_t now;

        if (s->stopping)
                return;
        s->stopping = true;
        (void) kill(-s->pid, SIGTERM);
        (void) kill(-s->pid, SIGCONT);
        if (sd_event_now(s->event, CLOCK_MONOTONIC, &now) < 0)
                now = now_usec(CLOCK_MONOTONIC);
        (void) sd_event_add_time(s->event, &s->kill_timer, CLOCK_MONOTONIC, now + s->spec->kill_grace_usec, 0,
                                 on_kill_timer, s);
        (void) sd_event_add_time(s->event, &s->poll_timer, CLOCK_MONOTONIC, now + GROUP_POLL_USEC, 0, on_poll_timer, s);
}

static int on_sigchld(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        Supervisor *s = userdata;

        reap(s);
        /* When the command's own process ends, the rest of the analysis goes too (KillMode=control-group). */
        if (s->main_done && !group_is_empty(s))
                stop_group(s);
        check_done(s);
        return 0;
}

static int on_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        Supervisor *s = userdata;

        if (s->main_done)
                return 0;
        s->outcome->timed_out = true;
        stop_group(s);
        return 0;
}

static int on_cancel(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        Supervisor *s = userdata;

        if (s->outcome->cancel_signal == 0) {
                log_notice("Cancelling the analysis: SIGTERM to its process group, SIGKILL after the grace.");
                s->outcome->cancel_signal = (int) si->ssi_signo;
                stop_group(s);
                return 0;
        }
        /* Asked twice: no more grace. */
        (void) kill(-s->pid, SIGKILL);
        return 0;
}

int rlimit_run(sd_event *event, const RlimitSpec *spec, RlimitOutcome *ret) {
        _cleanup_close_ int error_read = -EBADF, error_write = -EBADF;
        sd_event_source *chld = NULL, *sigint = NULL, *sigterm = NULL, *timer = NULL;
        RlimitOutcome outcome = {};
        Supervisor s = { .spec = spec, .event = event, .outcome = &outcome };
        ChildError child_error;
        sigset_t mask;
        ssize_t n;
        int fds[2], r;

        /* Orphans of the analysis become our children, so they are reaped (and their usage counted) here. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return -errno;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        error_read = fds[0];
        error_write = fds[1];

        outcome.started_at_usec = now_usec(CLOCK_REALTIME);
        outcome.runtime_usec = now_usec(CLOCK_MONOTONIC);       /* the start, until the command ends */
        s.pid = fork();
        if (s.pid < 0)
                return -errno;
        if (s.pid == 0)
                child_exec(spec, error_write);
        /* Also here, so that no kill(-pid) can come before the group exists. */
        (void) setpgid(s.pid, s.pid);
        error_write = safe_close(error_write);

        /* execve() closes the pipe; a report on it means the command never ran. */
        do
                n = read(error_read, &child_error, sizeof(child_error));
        while (n < 0 && errno == EINTR);
        if (n == sizeof(child_error)) {
                int status;

                (void) waitpid(s.pid, &status, 0);
                outcome.error = describe_child_error(spec, &child_error);
                if (!outcome.error)
                        return -ENOMEM;
                outcome.runtime_usec = 0;
                *ret = outcome;
                return 0;
        }

        r = sd_event_add_signal(event, &chld, SIGCHLD, on_sigchld, &s);
        if (r >= 0)
                r = sd_event_add_signal(event, &sigint, SIGINT, on_cancel, &s);
        if (r >= 0)
                r = sd_event_add_signal(event, &sigterm, SIGTERM, on_cancel, &s);
        if (r >= 0 && spec->timeout_usec > 0)
                r = sd_event_add_time(event, &timer, CLOCK_MONOTONIC, outcome.runtime_usec + spec->timeout_usec, 0,
                                      on_timeout, &s);
        if (r < 0) {
                /* Never leave the analysis running unsupervised. */
                (void) kill(-s.pid, SIGKILL);
                (void) waitpid(s.pid, NULL, 0);
        } else {
                /* It may have ended before the SIGCHLD source existed. */
                reap(&s);
                check_done(&s);
                r = sd_event_loop(event);
        }
        sd_event_source_disable_unref(chld);
        sd_event_source_disable_unref(sigint);
        sd_event_source_disable_unref(sigterm);
        sd_event_source_disable_unref(timer);
        sd_event_source_disable_unref(s.kill_timer);
        sd_event_source_disable_unref(s.poll_timer);
        if (r < 0) {
                rlimit_outcome_done(&outcome);
                return r;
        }
        *ret = outcome;
        return 0;
}

void rlimit_outcome_done(RlimitOutcome *o) {
        free(o->error);
        *o = (RlimitOutcome) {};
}
