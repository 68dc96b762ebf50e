/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for record.c and notes.c: the JSON record survives a round trip; each outcome reads right. */

#undef NDEBUG
#include <assert.h>
#include <string.h>

#include "macro.h"
#include "notes.h"
#include "record.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

static void base_record(Record *r, const char *result, const char *exit_code, int64_t status, const char *signal) {
        record_init(r);
        r->id = strdup("a1");
        r->profile = strdup("default");
        r->result = strdup(result);
        r->exit_code = exit_code ? strdup(exit_code) : NULL;
        r->exit_status = status;
        r->signal = signal ? strdup(signal) : NULL;
        r->limits = r->profile_limits = (RecordLimits) { 2 * GiB, 100, 100, 1800 * UINT64_C(1000000), GiB };
        r->usage = (RecordUsage) {
                .runtime_usec = 41 * UINT64_C(1000000),
                .cpu_usec = 3 * UINT64_C(1000000),
                .sandbox_cpu_usec = RECORD_UNSET,
                .memory_peak = 2 * GiB,
        };
}

static void expect_notes(Record *r, const char *want) {
        _cleanup_free_ char *notes = NULL;

        assert(notes_compose(r, &notes) == 0);
        if (strcmp(notes, want) != 0) {
                fprintf(stderr, "got:  %s\nwant: %s\n", notes, want);
                assert(false);
        }
        record_done(r);
}

static void test_notes(void) {
        Record r;

        base_record(&r, "oom-kill", "killed", -1, "KILL");
        r.usage.oom_kills = 1;
        expect_notes(&r, "Killed: memory use reached the 2.0 GiB limit of profile 'default' (peak 2.0 GiB) after 41 s.");

        base_record(&r, "oom-kill", "killed", -1, "KILL");
        r.limits.memory_max = 64 * MiB;
        r.usage.memory_peak = 64 * MiB;
        expect_notes(&r, "Killed: memory use reached the 64.0 MiB limit set for this analysis (profile 'default' allows "
                         "2.0 GiB) (peak 64.0 MiB) after 41 s.");

        base_record(&r, "timeout", "killed", -1, "TERM");
        expect_notes(&r, "Stopped: ran past the 30 min time limit of profile 'default'.");

        base_record(&r, "success", "exited", 0, NULL);
        r.usage.memory_peak = 12 * MiB;
        expect_notes(&r, "Finished: exited with status 0 after 41 s (peak memory 12.0 MiB, CPU 3 s).");

        base_record(&r, "exit-code", "exited", 2, NULL);
        r.usage.tasks_limit_hits = 3;
        r.usage.memory_peak = RECORD_UNSET;
        r.usage.cpu_usec = RECORD_UNSET;
        expect_notes(&r, "Failed: exited with status 2 after 41 s. It hit the limit of 100 tasks: 3 attempts to start a "
                         "process or thread failed.");

        base_record(&r, "exit-code", "exited", 1, NULL);
        r.usage.memory_peak = RECORD_UNSET;
        r.usage.cpu_usec = RECORD_UNSET;
        r.limits.disk_max = 20 * MiB;
        r.usage.disk_used = 20 * MiB;
        r.usage.disk_full = 1;
        expect_notes(&r, "Failed: exited with status 1 after 41 s. Its output directory was full (20.0 MiB of its Disk= "
                         "limit of 20.0 MiB): writes past it failed.");

        /* A user's manager: Disk= only reported. */
        base_record(&r, "success", "exited", 0, NULL);
        r.usage.memory_peak = RECORD_UNSET;
        r.usage.cpu_usec = RECORD_UNSET;
        r.limits.disk_max = RECORD_UNSET;
        r.usage.disk_used = 6;
        expect_notes(&r, "Finished: exited with status 0 after 41 s. Its output directory was not bounded by Disk= "
                         "(1.0 GiB): only the system's service manager can enforce it.");

        base_record(&r, "signal", "killed", -1, "SEGV");
        expect_notes(&r, "Killed by signal SEGV after 41 s.");

        base_record(&r, "core-dump", "dumped", -1, "ABRT");
        expect_notes(&r, "Crashed: killed by signal ABRT with a core dump after 41 s.");

        base_record(&r, "cancelled", "killed", -1, "TERM");
        r.limits.cpu_quota_percent = 50;
        r.usage.cpu_throttled_usec = 4100000;
        expect_notes(&r, "Cancelled: stopped on request after 41 s. The CPU quota of 50% held it back for 4.1 s.");

        base_record(&r, "exit-code", "exited", 78, NULL);
        r.error = strdup("analysis 'x' has no command");
        expect_notes(&r, "Not run: analysis 'x' has no command.");

        base_record(&r, "start-limit-hit", NULL, -1, NULL);
        expect_notes(&r, "Not run: systemd reported 'start-limit-hit' before the analysis started.");
}

/* analysis-run --fallback=rlimit: the notes say every time what ran without cgroups, and how. */
static void test_notes_rlimit(void) {
        Record r;

        base_record(&r, "exit-code", "exited", 1, NULL);
        r.isolation = strdup("rlimit");
        r.limits.memory_max = 64 * MiB;
        r.limits.tasks_max = 10;
        r.usage.memory_peak = 12 * MiB;
        expect_notes(&r, "Failed: exited with status 1 after 41 s (peak memory 12.0 MiB, CPU 3 s). It ran without cgroup "
                         "isolation or the profile's sandboxing (--fallback=rlimit: no systemd), so its limits were only "
                         "approximated: memory as 64.0 MiB of address space per process (going over fails allocations; "
                         "an OOM kill cannot be told), CPU as CPU time per process (the time limit times 100%, no "
                         "throttling), tasks as 10 processes of the whole user (RLIMIT_NPROC). Peak memory is that of "
                         "the largest single process (ru_maxrss).");

        /* As root RLIMIT_NPROC binds nothing: no tasks limit in force, and the notes say why. */
        base_record(&r, "signal", "killed", -1, "XCPU");
        r.isolation = strdup("rlimit");
        r.limits.tasks_max = RECORD_UNSET;
        r.limits.runtime_max_usec = RECORD_UNSET;
        r.profile_limits.runtime_max_usec = RECORD_UNSET;
        r.usage.memory_peak = RECORD_UNSET;
        expect_notes(&r, "Killed by signal XCPU after 41 s. It used up its CPU time limit. It ran without cgroup "
                         "isolation or the profile's sandboxing (--fallback=rlimit: no systemd), so its limits were only "
                         "approximated: memory as 2.0 GiB of address space per process (going over fails allocations; "
                         "an OOM kill cannot be told), CPU not at all (no time limit to derive CPU time from), tasks not "
                         "at all (RLIMIT_NPROC does not bind root).");

        /* The systemd path says nothing more. */
        base_record(&r, "success", "exited", 0, NULL);
        r.isolation = strdup("cgroup");
        expect_notes(&r, "Finished: exited with status 0 after 41 s (peak memory 2.0 GiB, CPU 3 s).");
}

static void test_notes_slurm(void) {
        Record r;

        base_record(&r, "success", "exited", 0, NULL);
        r.isolation = strdup("slurm");
        r.slurm_job_id = 17;
        r.node = strdup("n2");
        r.limits.cpu_quota_percent = 150;
        expect_notes(&r, "Finished: exited with status 0 after 41 s (peak memory 2.0 GiB, CPU 3 s). It ran as Slurm job 17 "
                         "on node n2, as the caller rather than the profile's account; its CPU quota of 150% was rounded "
                         "up to 2 whole CPUs; its task limit was not enforced.");

        /* The task limit both ways, and Disk=, which Slurm cannot enforce. */
        base_record(&r, "success", "exited", 0, NULL);
        r.isolation = strdup("slurm");
        r.slurm_job_id = 17;
        r.limits.tasks_max = 64;
        r.slurm_tasks_limit = strdup("exact");
        r.limits.disk_max = RECORD_UNSET;
        r.profile_limits.disk_max = MiB;
        expect_notes(&r, "Finished: exited with status 0 after 41 s (peak memory 2.0 GiB, CPU 3 s). It ran as Slurm job 17, "
                         "as the caller rather than the profile's account; its output directory was not bounded by Disk= "
                         "(1.0 MiB): Slurm cannot enforce it.");
        base_record(&r, "signal", "killed", -1, "KILL");
        r.isolation = strdup("slurm");
        r.slurm_job_id = 17;
        r.limits.tasks_max = 64;
        r.usage.tasks_limit_hits = 1;
        r.slurm_tasks_limit = strdup("best-effort");
        expect_notes(&r, "Killed by signal KILL after 41 s. It was stopped on going past its limit of 64 tasks. It ran "
                         "as Slurm job 17, as the caller rather than the profile's account; its limit of 64 tasks was "
                         "enforced only best effort (no pids.max on the node: analysis-sandbox's Slurm Prolog is not "
                         "installed there), by counting its tasks every 0.1 s and stopping it at the limit.");

        /* Cancelled before it started: the helper's record. */
        base_record(&r, "cancelled", NULL, -1, NULL);
        r.isolation = strdup("slurm");
        r.slurm_job_id = 17;
        r.usage.runtime_usec = RECORD_UNSET;
        r.started_at_usec = RECORD_UNSET;
        expect_notes(&r, "Cancelled: stopped on request. It was cancelled while Slurm job 17 was still pending.");

        /* A job that vanished: only why it has no outcome. */
        base_record(&r, "resources", NULL, -1, NULL);
        r.isolation = strdup("slurm");
        r.error = strdup("Slurm job 17 ended as NODE_FAIL without writing a record");
        expect_notes(&r, "Not run: Slurm job 17 ended as NODE_FAIL without writing a record.");
}

/* Records written where the unit's recorder could not (analysis-recover). */
static void test_notes_reconstructed(void) {
        Record r;

        /* After a crash: the boot it came back in, and nothing made up. */
        base_record(&r, "host-stopped", NULL, -1, NULL);
        r.reconstructed = strdup("host-stopped");
        r.host_booted_at_usec = 1765065541 * UINT64_C(1000000);
        expect_notes(&r, "Lost: the host stopped while the analysis ran (a crash, a reset or a power loss) and booted "
                         "again at 2025-12-06 23:59:01 UTC; how far it got is not known: see its output files.");

        /* A Slurm job whose node failed. */
        base_record(&r, "host-stopped", NULL, -1, NULL);
        r.reconstructed = strdup("host-stopped");
        r.isolation = strdup("slurm");
        r.node = strdup("n2");
        r.slurm_job_id = 17;
        expect_notes(&r, "Lost: its node n2 stopped while the analysis ran (Slurm: NODE_FAIL); how far it got is not "
                         "known: see its output files. It ran as Slurm job 17 on node n2, as the caller rather than "
                         "the profile's account; its task limit was not enforced.");

        /* The recorder killed on systemd 252: no cgroup figures, and the notes say which are missing. */
        base_record(&r, "success", "exited", 0, NULL);
        r.unit = strdup("analysis@a1.service");
        r.reconstructed = strdup("unit-failed");
        r.usage.memory_peak = RECORD_UNSET;
        r.usage.oom_kills = RECORD_UNSET;
        r.usage.tasks_limit_hits = RECORD_UNSET;
        expect_notes(&r, "Finished: exited with status 0 after 41 s (CPU 3 s). Its recorder could not finish (see "
                         "journalctl -u analysis@a1.service): this record was rebuilt from what systemd kept, without "
                         "what only the analysis' cgroup knew (its memory peak, OOM kills and refused forks).");

        /* On systemd 257 the memory peak is kept: it is not named as missing. */
        base_record(&r, "oom-kill", "killed", -1, "KILL");
        r.unit = strdup("analysis@a1.service");
        r.reconstructed = strdup("unit-failed");
        r.usage.oom_kills = RECORD_UNSET;
        r.usage.tasks_limit_hits = RECORD_UNSET;
        expect_notes(&r, "Killed: memory use reached the 2.0 GiB limit of profile 'default' (peak 2.0 GiB) after 41 s. "
                         "Its recorder could not finish (see journalctl -u analysis@a1.service): this record was rebuilt "
                         "from what systemd kept, without what only the analysis' cgroup knew (OOM kills and refused "
                         "forks).");

        /* A Result that names no exit: said as systemd said it, never as "not run". */
        base_record(&r, "signal", NULL, -1, NULL);
        r.unit = strdup("analysis@a1.service");
        r.reconstructed = strdup("unit-failed");
        r.usage.oom_kills = 0;
        expect_notes(&r, "Ended: systemd reported 'signal'. Its recorder could not finish (see journalctl -u "
                         "analysis@a1.service): this record was rebuilt from what systemd kept.");
}

static void test_round_trip(void) {
        _cleanup_free_ char *text = NULL, *why = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        Record r, back;

        base_record(&r, "oom-kill", "killed", -1, "KILL");
        r.invocation_id = strdup("0123456789abcdef0123456789abcdef");
        r.isolation = strdup("rlimit");
        r.stderr_tail = strdup("bad byte \xff and a \"quote\"\n");
        r.usage.oom_kills = 2;
        r.caller_uid = 1000;
        r.limits.tasks_max = RECORD_UNSET;
        r.started_at_usec = 1764130500123456;
        r.output_dir = strdup("/var/lib/analysis-sandbox/results/a1.output");
        r.usage.disk_used = 4096;
        r.usage.disk_full = 1;
        r.usage.cpu_usec = 1500000;
        r.usage.sandbox_cpu_usec = 250000;
        r.usage.tasks_peak = 7;
        assert(f && record_write_json(&r, f) == 0 && fclose(f) == 0);
        assert(strstr(text, "\"tasks_limit_hits\":0,\"tasks_peak\":7,"));
        assert(strstr(text, "\"disk_full\":true"));
        assert(strstr(text, "\"cpu_sec\":1.500,\"sandbox_cpu_sec\":0.250,"));
        assert(strstr(text, "\"started_at\":\"2025-11-26T04:15:00.123Z\""));
        assert(strstr(text, "\"tasks_max\":null"));
        assert(strstr(text, "\"slurm_job_id\":null,\"node\":null"));

        assert(record_parse_json(text, size, &back, &why) == 0);
        assert(strcmp(back.id, "a1") == 0 && strcmp(back.result, "oom-kill") == 0);
        assert(strcmp(back.invocation_id, r.invocation_id) == 0);
        assert(strstr(text, "\"isolation\":\"rlimit\""));
        assert(strcmp(back.isolation, "rlimit") == 0);
        assert(strcmp(back.stderr_tail, "bad byte \xef\xbf\xbd and a \"quote\"\n") == 0);
        assert(back.exit_status == -1 && strcmp(back.signal, "KILL") == 0);
        assert(back.limits.memory_max == 2 * GiB && back.limits.tasks_max == RECORD_UNSET);
        assert(back.limits.runtime_max_usec == 1800 * UINT64_C(1000000));
        assert(back.usage.runtime_usec == 41 * UINT64_C(1000000) && back.usage.oom_kills == 2);
        assert(back.usage.cpu_usec == 1500000 && back.usage.sandbox_cpu_usec == 250000);
        assert(back.usage.tasks_peak == 7);
        assert(back.caller_uid == 1000);
        assert(back.started_at_usec == 1764130500123000 && back.finished_at_usec == RECORD_UNSET);
        assert(strcmp(back.output_dir, r.output_dir) == 0);
        assert(back.limits.disk_max == GiB && back.usage.disk_used == 4096 && back.usage.disk_full == 1);
        assert(back.slurm_job_id == RECORD_UNSET && !back.node && !back.slurm_tasks_limit);
        assert(strstr(text, "\"samples\":null,\"samples_missing\":null"));
        record_done(&r);
        record_done(&back);

        /* Samples beside the record, or why there are none. */
        base_record(&r, "success", "exited", 0, NULL);
        r.samples_file = strdup("/var/lib/analysis-sandbox/results/a1.samples.csv");
        free(text);
        text = NULL;
        f = open_memstream(&text, &size);
        assert(f && record_write_json(&r, f) == 0 && fclose(f) == 0);
        assert(strstr(text, "\"samples\":\"/var/lib/analysis-sandbox/results/a1.samples.csv\",\"samples_missing\":null"));
        assert(record_parse_json(text, size, &back, &why) == 0);
        assert(strcmp(back.samples_file, r.samples_file) == 0 && !back.samples_missing);
        record_done(&back);
        free(r.samples_file);
        r.samples_file = NULL;
        r.samples_missing = strdup("sampling is off (SampleInterval=0 in analysis-sandbox.conf)");
        free(text);
        text = NULL;
        f = open_memstream(&text, &size);
        assert(f && record_write_json(&r, f) == 0 && fclose(f) == 0);
        assert(record_parse_json(text, size, &back, &why) == 0);
        assert(!back.samples_file && strcmp(back.samples_missing, r.samples_missing) == 0);
        record_done(&r);
        record_done(&back);

        /* The Slurm backend's fields. */
        base_record(&r, "success", "exited", 0, NULL);
        r.slurm_job_id = 4242;
        r.node = strdup("n2");
        r.slurm_tasks_limit = strdup("best-effort");
        r.usage.tasks_peak = RECORD_UNSET;
        free(text);
        text = NULL;
        f = open_memstream(&text, &size);
        assert(f && record_write_json(&r, f) == 0 && fclose(f) == 0);
        assert(record_parse_json(text, size, &back, &why) == 0);
        assert(back.slurm_job_id == 4242 && strcmp(back.node, "n2") == 0);
        assert(strstr(text, "\"sandbox_cpu_sec\":null") && back.usage.sandbox_cpu_usec == RECORD_UNSET);
        /* Unknown is null, and a record written before the field reads as unknown. */
        assert(strstr(text, "\"tasks_peak\":null") && back.usage.tasks_peak == RECORD_UNSET);
        assert(strcmp(back.slurm_tasks_limit, "best-effort") == 0);
        record_done(&r);
        record_done(&back);

        /* A reconstructed record names what it lacks; an ordinary one has no such list. */
        assert(!strstr(text, "\"missing\"") && strstr(text, "\"reconstructed\":null"));
        base_record(&r, "host-stopped", NULL, -1, NULL);
        r.reconstructed = strdup("host-stopped");
        r.usage = (RecordUsage) { RECORD_UNSET, RECORD_UNSET, RECORD_UNSET, RECORD_UNSET, RECORD_UNSET, RECORD_UNSET,
                                  RECORD_UNSET, 4096, -1, RECORD_UNSET };
        r.host_booted_at_usec = 1765065541 * UINT64_C(1000000);
        free(text);
        text = NULL;
        f = open_memstream(&text, &size);
        assert(f && record_write_json(&r, f) == 0 && fclose(f) == 0);
        assert(strstr(text, "\"reconstructed\":\"host-stopped\",\"missing\":[\"runtime_sec\",\"cpu_sec\",\"memory_peak\","
                            "\"oom_kills\",\"tasks_limit_hits\",\"cpu_throttled_sec\",\"exit_status\"],"
                            "\"host_booted_at\":\"2025-12-06T23:59:01.000Z\""));
        assert(record_parse_json(text, size, &back, &why) == 0);
        assert(strcmp(back.reconstructed, "host-stopped") == 0 && strcmp(back.result, "host-stopped") == 0);
        record_done(&r);
        record_done(&back);

        assert(record_parse_json("{\"id\":\"x\"}", 10, &back, &why) == -EBADMSG);
        free(why);
        why = NULL;
        assert(record_parse_json("{\"id\":", 6, &back, &why) == -EBADMSG);
}

int main(void) {
        test_notes();
        test_notes_rlimit();
        test_notes_slurm();
        test_notes_reconstructed();
        test_round_trip();
        return 0;
}
