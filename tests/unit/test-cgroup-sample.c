/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for cgroup-sample.c on a made-up cgroup directory: each file's figure lands in its own field, the
 * payload leaf's CPU is the analysis', and the row between two looks has the differences and the limit hits. */

#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup-sample.h"
#include "macro.h"

static void put(const char *dir, const char *file, const char *text) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, file);
        FILE *f = fopen(path, "we");

        assert(f);
        fputs(text, f);
        assert(fclose(f) == 0);
}

static void test_counters_and_row(void) {
        char dir[] = "/tmp/test-cgroup-sample-XXXXXX";
        _cleanup_free_ char *payload = NULL, *cmd = NULL;
        CgroupCounters a, b;
        SampleRow row;

        assert(mkdtemp(dir));
        put(dir, "memory.current", "1000\n");
        put(dir, "memory.peak", "5000\n");
        put(dir, "pids.current", "3\n");
        put(dir, "memory.events", "low 0\nhigh 0\nmax 7\noom 1\noom_kill 0\n");
        put(dir, "pids.events", "max 0\n");
        put(dir, "cpu.stat", "usage_usec 900\nuser_usec 800\nsystem_usec 100\nnr_periods 4\nnr_throttled 1\nthrottled_usec 50\n");
        put(dir, "io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n");
        assert(cgroup_counters_read(dir, &a) == 0);
        assert(a.memory_current == 1000 && a.memory_peak == 5000 && a.tasks == 3);
        assert(a.oom_kills == 0 && a.fork_refusals == 0);
        assert(a.cpu_usec == 900 && a.cpu_throttled_usec == 50 && !a.payload);
        assert(a.read_bytes == 101 && a.written_bytes == 202);

        payload = strprintf("%s/payload", dir);
        assert(payload && mkdir(payload, 0755) == 0);
        put(payload, "cpu.stat", "usage_usec 700\nthrottled_usec 20\n");
        put(payload, "pids.events", "max 2\n");
        put(dir, "memory.events", "oom_kill 1\n");
        put(dir, "memory.current", "3000\n");
        assert(cgroup_counters_read(dir, &b) == 0);
        assert(b.payload && b.cpu_usec == 700 && b.cpu_throttled_usec == 70 && b.fork_refusals == 2);
        a.time_usec = 1000000;
        b.time_usec = 2000000;
        cgroup_counters_row(&a, &b, &row);
        assert(row.time_usec == 2000000 && row.span_usec == 1000000);
        assert(row.memory_bytes == 3000 && row.tasks == 3);
        assert(row.cpu_usec == 700);    /* moved to the payload leaf, which counts from zero */
        assert(row.cpu_throttled_usec == 20 && row.read_bytes == 0);
        assert(row.events == (SAMPLE_EVENT_OOM_KILL | SAMPLE_EVENT_FORK_REFUSED));
        cgroup_counters_row(NULL, &a, &row);
        assert(row.span_usec == 1000000 && row.cpu_usec == 900 && row.events == 0);

        cmd = strprintf("rm -rf '%s'", dir);
        assert(cmd && system(cmd) == 0);
}

int main(void) {
        test_counters_and_row();
        return 0;
}
