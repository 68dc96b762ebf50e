/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The benchmark's stopwatch: starts a command N times at once, reports each copy's wall time, peak RSS and CPU.
 *
 * Wall time counts from the common start; peak RSS and CPU time come from wait4(). This is the measuring end of
 * the benchmark payload in the test VM.
 *
 * Usage: timed-exec [-n N] [-o FILE] -- COMMAND [ARG...]
 * Prints (to FILE, or else to stdout, which the copies share) one line per copy, in start order:
 * "WALL_USEC MAXRSS_KIB USER_USEC SYS_USEC STATUS", where STATUS is the exit status, or 128+N for a signal.
 * Exits 0 when every copy could be started and waited for.
 * Compiled on the host by bench/run and copied into the payload: the image has no GNU time, and a C parent adds
 * nothing of its own to what it measures (python's subprocess would, under TCG). */

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"

#define COPIES_MAX 1000

typedef struct Copy {
        pid_t pid;
        uint64_t wall_usec;
        long maxrss_kib;
        uint64_t user_usec;
        uint64_t sys_usec;
        int status;
} Copy;

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static uint64_t timeval_usec(const struct timeval *tv) {
        return (uint64_t) tv->tv_sec * 1000000 + (uint64_t) tv->tv_usec;
}

/* Starts n copies of argv and waits for all of them, filling copies[]. Returns 0 or a negative errno. */
static int run_copies(char **argv, unsigned n, Copy *copies) {
        uint64_t start = now_usec();
        unsigned n_started = 0;
        int r = 0;

        for (unsigned i = 0; i < n; i++) {
                pid_t pid = fork();

                if (pid < 0) {
                        r = -errno;
                        break;
                }
                if (pid == 0) {
                        execvp(argv[0], argv);
                        fprintf(stderr, "timed-exec: cannot execute %s: %m\n", argv[0]);
                        _exit(127);
                }
                copies[i].pid = pid;
                n_started++;
        }

        for (unsigned done = 0; done < n_started;) {
                struct rusage ru;
                int status;
                pid_t pid = wait4(-1, &status, 0, &ru);
                uint64_t end = now_usec();

                if (pid < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (unsigned i = 0; i < n_started; i++)
                        if (copies[i].pid == pid) {
                                copies[i] = (Copy) {
                                        .pid = pid,
                                        .wall_usec = end - start,
                                        .maxrss_kib = ru.ru_maxrss,
                                        .user_usec = timeval_usec(&ru.ru_utime),
                                        .sys_usec = timeval_usec(&ru.ru_stime),
                                        .status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                                };
                                done++;
                                break;
                        }
        }
        return r;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ Copy *copies = NULL;
        _cleanup_fclose_ FILE *report = NULL;
        const char *report_path = NULL;
        unsigned long n = 1;
        char *end;
        int c, r;

        while ((c = getopt(argc, argv, "+n:o:")) >= 0)
                switch (c) {
                case 'n':
                        errno = 0;
                        n = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || n == 0 || n > COPIES_MAX) {
                                fprintf(stderr, "timed-exec: invalid -n '%s': expected 1 to %d\n", optarg,
                                        COPIES_MAX);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'o':
                        report_path = optarg;
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (optind >= argc) {
                fprintf(stderr, "usage: timed-exec [-n N] [-o FILE] -- COMMAND [ARG...]\n");
                return EXIT_FAILURE;
        }
        if (report_path) {
                /* Opened before the copies start, so a bad path costs no run. */
                report = fopen(report_path, "we");
                if (!report) {
                        fprintf(stderr, "timed-exec: cannot open %s: %m\n", report_path);
                        return EXIT_FAILURE;
                }
        }

        copies = calloc(n, sizeof(Copy));
        if (!copies)
                return EXIT_FAILURE;
        r = run_copies(argv + optind, (unsigned) n, copies);
        for (unsigned long i = 0; i < n; i++)
                if (copies[i].pid > 0)
                        fprintf(report ?: stdout, "%llu %ld %llu %llu %d\n",
                                (unsigned long long) copies[i].wall_usec, copies[i].maxrss_kib,
                                (unsigned long long) copies[i].user_usec, (unsigned long long) copies[i].sys_usec,
                                copies[i].status);
        if (r < 0) {
                fprintf(stderr, "timed-exec: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
