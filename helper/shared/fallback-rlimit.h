/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running a command without a service manager: in a process group of its own, under setrlimit() limits, with
 * a wall-clock timer and a graceful process-group kill, until it and its process group are gone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

typedef struct RlimitSpec {
        char **argv;                    /* argv[0] is an absolute path */
        char **environment;             /* the command's whole environment */
        const char *cwd;
        bool switch_user;               /* become uid/gid (with the account's groups) before executing */
        const char *user_name;
        uid_t uid;
        gid_t gid;
        int stdout_fd;                  /* become the command's stdout and stderr; stdin is /dev/null */
        int stderr_fd;
        uint64_t address_space_max;     /* RLIMIT_AS in bytes; 0: none */
        uint64_t cpu_time_max_sec;      /* RLIMIT_CPU soft limit in seconds; 0: none */
        uint64_t processes_max;         /* RLIMIT_NPROC; 0: none */
        uint64_t timeout_usec;          /* wall clock from the start; 0: none */
        uint64_t kill_grace_usec;       /* between SIGTERM and SIGKILL to the process group */
} RlimitSpec;

typedef struct RlimitOutcome {
        char *error;                    /* why the command could not be executed, or NULL */
        int status;                     /* the wait status of the command's own process */
        bool timed_out;
        int cancel_signal;              /* SIGINT or SIGTERM that made us stop it; 0 if none */
        uint64_t started_at_usec;       /* CLOCK_REALTIME */
        uint64_t runtime_usec;
        uint64_t cpu_usec;              /* user + system time of every process reaped */
        uint64_t max_rss_bytes;         /* the largest ru_maxrss of them */
} RlimitOutcome;

/* Runs spec->argv and waits, in event's loop (whose other sources, such as output followers, keep being
 * dispatched), until the command has ended and its process group is empty. SIGINT and SIGTERM to us stop it
 * gracefully; a second one kills it. Makes us a child subreaper so that orphaned processes of the analysis
 * are reaped and counted here. SIGCHLD, SIGINT and SIGTERM stay blocked afterwards. Returns 0 with *ret (whose
 * error says when the command never ran), or a negative errno when it could not be started at all. */
int rlimit_run(sd_event *event, const RlimitSpec *spec, RlimitOutcome *ret);

/* Frees the fields of o. */
void rlimit_outcome_done(RlimitOutcome *o);
