/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Completion notes: one or two plain sentences saying how an analysis ended, from its record. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "notes.h"
#include "parse-value.h"

/* "the 2.0 GiB limit of profile 'default'", or, when the analysis had a tighter one of its own,
 * "the 64.0 MiB limit set for this analysis (profile 'default' allows 2.0 GiB)". */
static void describe_limit(FILE *f, const Record *r, const char *limit, const char *profile_limit,
                           const char *noun) {
        if (profile_limit && strcmp(limit, profile_limit) != 0)
                fprintf(f, "the %s %s set for this analysis (profile '%s' allows %s)", limit, noun,
                        strempty(r->profile), profile_limit);
        else
                fprintf(f, "the %s %s of profile '%s'", limit, noun, strempty(r->profile));
}

static void describe_runtime(FILE *f, const Record *r) {
        char d[32];

        if (r->usage.runtime_usec != RECORD_UNSET)
                fprintf(f, " after %s", format_duration(r->usage.runtime_usec, d, sizeof(d)));
}

static void describe_usage(FILE *f, const Record *r) {
        char b[32], d[32];

        if (r->usage.memory_peak == RECORD_UNSET && r->usage.cpu_usec == RECORD_UNSET)
                return;
        fputs(" (", f);
        if (r->usage.memory_peak != RECORD_UNSET)
                fprintf(f, "peak memory %s", format_bytes(r->usage.memory_peak, b, sizeof(b)));
        if (r->usage.memory_peak != RECORD_UNSET && r->usage.cpu_usec != RECORD_UNSET)
                fputs(", ", f);
        if (r->usage.cpu_usec != RECORD_UNSET)
                fprintf(f, "CPU %s", format_duration(r->usage.cpu_usec, d, sizeof(d)));
        fputc(')', f);
}

/* "2026-12-06 23:59:01 UTC" */
static const char *format_utc(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                (void) snprintf(buf, size, "an unknown time");
        return buf;
}

static bool result_is(const Record *r, const char *word) {
        return r->result && strcmp(r->result, word) == 0;
}

static void compose_main_sentence(FILE *f, const Record *r) {
        char limit[32], profile_limit[32], peak[32];

        if (r->error) {
                fprintf(f, "Not run: %s.", r->error);
                return;
        }
        if (result_is(r, "host-stopped")) {
                char booted[64];

                if (r->node)
                        fprintf(f, "Lost: its node %s stopped while the analysis ran (Slurm: NODE_FAIL)", r->node);
                else
                        fputs("Lost: the host stopped while the analysis ran (a crash, a reset or a power loss)", f);
                if (r->host_booted_at_usec != RECORD_UNSET)
                        fprintf(f, " and booted again at %s", format_utc(r->host_booted_at_usec, booted, sizeof(booted)));
                fputs("; how far it got is not known: see its output files.", f);
                return;
        }
        if (result_is(r, "oom-kill")) {
                fputs("Killed: memory use reached ", f);
                if (r->limits.memory_max != RECORD_UNSET)
                        describe_limit(f, r, format_bytes(r->limits.memory_max, limit, sizeof(limit)),
                                       r->profile_limits.memory_max != RECORD_UNSET
                                               ? format_bytes(r->profile_limits.memory_max, profile_limit,
                                                              sizeof(profile_limit))
                                               : NULL,
                                       "limit");
                else
                        fprintf(f, "the memory limit of profile '%s'", strempty(r->profile));
                if (r->usage.memory_peak != RECORD_UNSET)
                        fprintf(f, " (peak %s)", format_bytes(r->usage.memory_peak, peak, sizeof(peak)));
                describe_runtime(f, r);
                fputc('.', f);
        } else if (result_is(r, "timeout")) {
                fputs("Stopped: ran past ", f);
                if (r->limits.runtime_max_usec != RECORD_UNSET)
                        describe_limit(f, r, format_duration(r->limits.runtime_max_usec, limit, sizeof(limit)),
                                       r->profile_limits.runtime_max_usec != RECORD_UNSET
                                               ? format_duration(r->profile_limits.runtime_max_usec, profile_limit,
                                                                 sizeof(profile_limit))
                                               : NULL,
                                       "time limit");
                else
                        fprintf(f, "the time limit of profile '%s'", strempty(r->profile));
                fputc('.', f);
        } else if (result_is(r, "cancelled")) {
                fputs("Cancelled: stopped on request", f);
                describe_runtime(f, r);
                fputc('.', f);
        } else if (r->exit_code && strcmp(r->exit_code, "dumped") == 0) {
                fprintf(f, "Crashed: killed by signal %s with a core dump", strempty(r->signal));
                describe_runtime(f, r);
                fputc('.', f);
        } else if (r->exit_code && strcmp(r->exit_code, "killed") == 0) {
                fprintf(f, "Killed by signal %s", strempty(r->signal));
                describe_runtime(f, r);
                fputc('.', f);
        } else if (r->exit_code && strcmp(r->exit_code, "exited") == 0 && r->exit_status == 0) {
                fputs("Finished: exited with status 0", f);
                describe_runtime(f, r);
                describe_usage(f, r);
                fputc('.', f);
        } else if (r->exit_code && strcmp(r->exit_code, "exited") == 0) {
                fprintf(f, "Failed: exited with status %" PRId64, r->exit_status);
                describe_runtime(f, r);
                describe_usage(f, r);
                fputc('.', f);
        } else if (r->reconstructed)
                fprintf(f, "Ended: systemd reported '%s'.", strempty(r->result));
        else
                fprintf(f, "Not run: systemd reported '%s' before the analysis started.", strempty(r->result));
}

/* Said of every record its unit's recorder did not write: it is what was left to know, not the whole story. */
static void compose_reconstructed_sentence(FILE *f, const Record *r) {
        const char *missing[3];
        size_t n = 0;

        if (!r->reconstructed || strcmp(r->reconstructed, "unit-failed") != 0)
                return;
        fputs(" Its recorder could not finish (see journalctl -u ", f);
        fputs(r->unit ?: "its unit", f);
        fputs("): this record was rebuilt from what systemd kept", f);
        /* Named one by one: systemd 257 keeps the memory peak, 252 does not. */
        if (r->usage.memory_peak == RECORD_UNSET)
                missing[n++] = "its memory peak";
        if (r->usage.oom_kills == RECORD_UNSET)
                missing[n++] = "OOM kills";
        if (r->usage.tasks_limit_hits == RECORD_UNSET)
                missing[n++] = "refused forks";
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s", i == 0 ? ", without what only the analysis' cgroup knew (" : i + 1 == n ? " and " : ", ",
                        missing[i]);
        if (n > 0)
                fputc(')', f);
        fputc('.', f);
}

/* Without systemd (analysis-run --fallback=rlimit) the limits are setrlimit() approximations of the cgroup
 * ones, and nothing of the profile's [Sandbox] applies: the notes say so every time, naming each limit that
 * was only approximated and how going over it shows. */
static void compose_rlimit_sentences(FILE *f, const Record *r) {
        const char *sep = "";
        char b[32];

        if (r->exit_code && strcmp(r->exit_code, "exited") != 0 && r->signal && strcmp(r->signal, "XCPU") == 0)
                fputs(" It used up its CPU time limit.", f);
        fputs(" It ran without cgroup isolation or the profile's sandboxing (--fallback=rlimit: no systemd)", f);
        if (r->limits.memory_max == RECORD_UNSET && r->limits.cpu_quota_percent == RECORD_UNSET &&
            r->profile_limits.tasks_max == RECORD_UNSET) {
                fputc('.', f);
                return;
        }
        fputs(", so its limits were only approximated: ", f);
        if (r->limits.memory_max != RECORD_UNSET) {
                fprintf(f, "memory as %s of address space per process (going over fails allocations; an OOM kill "
                        "cannot be told)", format_bytes(r->limits.memory_max, b, sizeof(b)));
                sep = ", ";
        }
        if (r->limits.cpu_quota_percent != RECORD_UNSET && r->limits.runtime_max_usec != RECORD_UNSET) {
                fprintf(f, "%sCPU as CPU time per process (the time limit times %" PRIu64 "%%, no throttling)", sep,
                        r->limits.cpu_quota_percent);
                sep = ", ";
        } else if (r->limits.cpu_quota_percent != RECORD_UNSET) {
                fprintf(f, "%sCPU not at all (no time limit to derive CPU time from)", sep);
                sep = ", ";
        }
        if (r->limits.tasks_max != RECORD_UNSET)
                fprintf(f, "%stasks as %" PRIu64 " processes of the whole user (RLIMIT_NPROC)", sep, r->limits.tasks_max);
        else if (r->profile_limits.tasks_max != RECORD_UNSET)
                fprintf(f, "%stasks not at all (RLIMIT_NPROC does not bind root)", sep);
        fputc('.', f);
        if (r->usage.memory_peak != RECORD_UNSET)
                fputs(" Peak memory is that of the largest single process (ru_maxrss).", f);
}

/* On Slurm (analysis-run --backend=slurm) the job runs as the caller, Slurm bounds memory and whole CPUs, our
 * runner in the job the time, and the task limit either the kernel (pids.max, set by our Prolog) or, where the
 * Prolog is not installed, our runner by counting; Slurm bounds no output directory. */
static void compose_slurm_sentences(FILE *f, const Record *r) {
        char b[32];

        if (r->started_at_usec == RECORD_UNSET && r->result && strcmp(r->result, "cancelled") == 0) {
                fputs(" It was cancelled while Slurm job ", f);
                if (r->slurm_job_id != RECORD_UNSET)
                        fprintf(f, "%" PRIu64, r->slurm_job_id);
                else
                        fputs("(unknown)", f);
                fputs(" was still pending.", f);
                return;
        }
        fputs(" It ran as Slurm job ", f);
        if (r->slurm_job_id != RECORD_UNSET)
                fprintf(f, "%" PRIu64, r->slurm_job_id);
        else
                fputs("(unknown)", f);
        if (r->node)
                fprintf(f, " on node %s", r->node);
        fputs(", as the caller rather than the profile's account", f);
        if (r->limits.cpu_quota_percent != RECORD_UNSET && r->limits.cpu_quota_percent % 100 != 0)
                fprintf(f, "; its CPU quota of %" PRIu64 "%% was rounded up to %" PRIu64 " whole CPU%s", r->limits.cpu_quota_percent,
                        (r->limits.cpu_quota_percent + 99) / 100, r->limits.cpu_quota_percent > 100 ? "s" : "");
        /* An exact limit (the Prolog's pids.max) holds as it does on this host: the notes say nothing of it. */
        if (r->limits.tasks_max != RECORD_UNSET && r->slurm_tasks_limit) {
                if (strcmp(r->slurm_tasks_limit, "exact") != 0)
                        fprintf(f, "; its limit of %" PRIu64 " tasks was enforced only best effort (no pids.max on the node: "
                                "analysis-sandbox's Slurm Prolog is not installed there), by counting its tasks every 0.1 s "
                                "and stopping it at the limit", r->limits.tasks_max);
        } else if (r->profile_limits.tasks_max != RECORD_UNSET)
                fputs("; its task limit was not enforced", f);
        if (r->limits.disk_max == RECORD_UNSET && r->profile_limits.disk_max != RECORD_UNSET)
                fprintf(f, "; its output directory was not bounded by Disk= (%s): Slurm cannot enforce it",
                        format_bytes(r->profile_limits.disk_max, b, sizeof(b)));
        fputc('.', f);
}

int notes_compose(const Record *r, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        char d[32];

        if (!f)
                return -ENOMEM;
        compose_main_sentence(f, r);
        compose_reconstructed_sentence(f, r);
        /* systemd has no Result for the PID limit: a refused fork() shows only as the program's own error. */
        if (r->usage.tasks_limit_hits != RECORD_UNSET && r->usage.tasks_limit_hits > 0 && r->slurm_tasks_limit &&
            strcmp(r->slurm_tasks_limit, "best-effort") == 0) {
                /* Nothing refuses a fork there: the runner stopped the analysis when it counted too many. */
                fputs(" It was stopped on going past its limit of ", f);
                if (r->limits.tasks_max != RECORD_UNSET)
                        fprintf(f, "%" PRIu64 " tasks", r->limits.tasks_max);
                else
                        fputs("its tasks", f);
                fputc('.', f);
        } else if (r->usage.tasks_limit_hits != RECORD_UNSET && r->usage.tasks_limit_hits > 0) {
                fputs(" It hit the limit of ", f);
                if (r->limits.tasks_max != RECORD_UNSET)
                        fprintf(f, "%" PRIu64 " tasks", r->limits.tasks_max);
                else
                        fputs("its tasks", f);
                fprintf(f, ": %" PRIu64 " attempt%s to start a process or thread failed.", r->usage.tasks_limit_hits,
                        r->usage.tasks_limit_hits == 1 ? "" : "s");
        }
        /* Nor for a full output directory: the analysis saw ENOSPC and handled it as it would. */
        if (r->usage.disk_full > 0) {
                char used[32], max[32];

                fputs(" Its output directory was full", f);
                if (r->limits.disk_max != RECORD_UNSET)
                        fprintf(f, " (%s of its Disk= limit of %s)",
                                format_bytes(r->usage.disk_used != RECORD_UNSET ? r->usage.disk_used : r->limits.disk_max,
                                             used, sizeof(used)),
                                format_bytes(r->limits.disk_max, max, sizeof(max)));
                fputs(": writes past it failed.", f);
        }
        /* A user's manager and --fallback=rlimit cannot mount a tmpfs: said where the analysis wrote anything. */
        if (r->limits.disk_max == RECORD_UNSET && r->profile_limits.disk_max != RECORD_UNSET &&
            r->usage.disk_used != RECORD_UNSET && r->usage.disk_used > 0 &&
            !(r->isolation && strcmp(r->isolation, "slurm") == 0)) {
                char max[32];

                fprintf(f, " Its output directory was not bounded by Disk= (%s): only the system's service manager "
                        "can enforce it.", format_bytes(r->profile_limits.disk_max, max, sizeof(max)));
        }
        if (r->usage.cpu_throttled_usec != RECORD_UNSET && r->usage.cpu_throttled_usec >= 100000) {
                fputs(" The CPU quota", f);
                if (r->limits.cpu_quota_percent != RECORD_UNSET)
                        fprintf(f, " of %" PRIu64 "%%", r->limits.cpu_quota_percent);
                fprintf(f, " held it back for %s.", format_duration(r->usage.cpu_throttled_usec, d, sizeof(d)));
        }
        if (r->isolation && strcmp(r->isolation, "rlimit") == 0)
                compose_rlimit_sentences(f, r);
        if (r->isolation && strcmp(r->isolation, "slurm") == 0 && !r->error)
                compose_slurm_sentences(f, r);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}
