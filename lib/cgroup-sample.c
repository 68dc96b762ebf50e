/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One look at an analysis' cgroup for its samples: the counters, and the row between two looks. */

#include <errno.h>
#include <sys/stat.h>

#include "cgroup-sample.h"
#include "cgroup-util.h"
#include "macro.h"

/* One number of a cgroup file, SAMPLE_UNSET when it cannot be read. key: NULL for a file of one number. */
static uint64_t read_figure(const char *cgroup, const char *file, const char *key) {
        uint64_t v;
        int r = key ? cgroup_read_keyed(cgroup, file, key, &v) : cgroup_read_uint(cgroup, file, &v);

        return r >= 0 ? v : SAMPLE_UNSET;
}

static uint64_t add_known(uint64_t a, uint64_t b) {
        if (a == SAMPLE_UNSET)
                return b;
        if (b == SAMPLE_UNSET)
                return a;
        return a + b;
}

int cgroup_counters_read(const char *unit_cgroup, CgroupCounters *ret) {
        _cleanup_free_ char *payload = strprintf("%s/payload", unit_cgroup);
        CgroupCounters c = {};
        uint64_t v = 0, w = 0;
        struct stat st;
        int r;

        if (!payload)
                return -ENOMEM;
        r = cgroup_read_uint(unit_cgroup, "memory.current", &v);
        if (r == -ENOENT || r == -ENODEV)
                return -ENOENT;
        c.memory_current = r >= 0 ? v : SAMPLE_UNSET;
        c.memory_peak = read_figure(unit_cgroup, "memory.peak", NULL);
        c.tasks = read_figure(unit_cgroup, "pids.current", NULL);
        c.oom_kills = read_figure(unit_cgroup, "memory.events", "oom_kill");
        c.fork_refusals = read_figure(unit_cgroup, "pids.events", "max");
        c.cpu_throttled_usec = read_figure(unit_cgroup, "cpu.stat", "throttled_usec");
        r = cgroup_read_io_bytes(unit_cgroup, &v, &w);
        c.read_bytes = r >= 0 ? v : SAMPLE_UNSET;
        c.written_bytes = r >= 0 ? w : SAMPLE_UNSET;

        c.payload = stat(payload, &st) >= 0 && S_ISDIR(st.st_mode) &&
                    cgroup_read_keyed(payload, "cpu.stat", "usage_usec", &v) >= 0;
        if (c.payload) {
                c.cpu_usec = v;
                if (cgroup_read_keyed(payload, "cpu.stat", "throttled_usec", &v) >= 0)
                        c.cpu_throttled_usec = add_known(c.cpu_throttled_usec, v);
                if (cgroup_read_keyed(payload, "pids.events", "max", &v) >= 0)
                        c.fork_refusals = add_known(c.fork_refusals, v);
        } else
                c.cpu_usec = read_figure(unit_cgroup, "cpu.stat", "usage_usec");
        *ret = c;
        return 0;
}

/* now - prev, or now where the counter went down or prev did not know it. */
static uint64_t delta(uint64_t prev, uint64_t now) {
        if (now == SAMPLE_UNSET)
                return SAMPLE_UNSET;
        if (prev == SAMPLE_UNSET || now < prev)
                return now;
        return now - prev;
}

static bool rose(uint64_t prev, uint64_t now) {
        return now != SAMPLE_UNSET && now > 0 && (prev == SAMPLE_UNSET ? true : now > prev);
}

void cgroup_counters_row(const CgroupCounters *prev, const CgroupCounters *now, SampleRow *ret) {
        static const CgroupCounters zero = {};
        SampleRow row;

        if (!prev)
                prev = &zero;
        sample_row_init(&row);
        row.time_usec = now->time_usec;
        row.span_usec = now->time_usec > prev->time_usec ? now->time_usec - prev->time_usec : 0;
        row.memory_bytes = now->memory_current;
        row.tasks = now->tasks;
        row.cpu_usec = prev->payload == now->payload ? delta(prev->cpu_usec, now->cpu_usec) : now->cpu_usec;
        row.cpu_throttled_usec = delta(prev->cpu_throttled_usec, now->cpu_throttled_usec);
        row.read_bytes = delta(prev->read_bytes, now->read_bytes);
        row.written_bytes = delta(prev->written_bytes, now->written_bytes);
        if (rose(prev->oom_kills, now->oom_kills))
                row.events |= SAMPLE_EVENT_OOM_KILL;
        if (rose(prev->fork_refusals, now->fork_refusals))
                row.events |= SAMPLE_EVENT_FORK_REFUSED;
        *ret = row;
}
