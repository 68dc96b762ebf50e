/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One look at an analysis' cgroup for its samples: the counters, and the row between two looks. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-sample.h"
#include "macro.h"
#include "parse-value.h"

/* The files read per sample: the unit's, then the payload leaf's. */
enum {
        FILE_MEMORY_CURRENT,
        FILE_MEMORY_PEAK,
        FILE_PIDS_CURRENT,
        FILE_PIDS_PEAK,
        FILE_MEMORY_EVENTS,
        FILE_PIDS_EVENTS,
        FILE_CPU_STAT,
        FILE_IO_STAT,
        _FILE_UNIT_MAX,
        FILE_PAYLOAD_CPU_STAT = _FILE_UNIT_MAX,
        FILE_PAYLOAD_PIDS_EVENTS,
        _FILE_MAX,
};

static const char * const file_names[_FILE_MAX] = {
        [FILE_MEMORY_CURRENT]      = "memory.current",
        [FILE_MEMORY_PEAK]         = "memory.peak",
        [FILE_PIDS_CURRENT]        = "pids.current",
        [FILE_PIDS_PEAK]           = "pids.peak",
        [FILE_MEMORY_EVENTS]       = "memory.events",
        [FILE_PIDS_EVENTS]         = "pids.events",
        [FILE_CPU_STAT]            = "cpu.stat",
        [FILE_IO_STAT]             = "io.stat",
        [FILE_PAYLOAD_CPU_STAT]    = "cpu.stat",
        [FILE_PAYLOAD_PIDS_EVENTS] = "pids.events",
};

_Static_assert(_FILE_MAX == ELEMENTSOF(((CgroupFiles *) NULL)->fds), "CgroupFiles holds every file");

void cgroup_files_init(CgroupFiles *f) {
        *f = (CgroupFiles) { .dir_fd = -EBADF, .payload_fd = -EBADF };
        for (size_t i = 0; i < ELEMENTSOF(f->fds); i++)
                f->fds[i] = -EBADF;
}

int cgroup_files_open(CgroupFiles *f, const char *unit_cgroup) {
        cgroup_files_init(f);
        f->dir_fd = open(unit_cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return f->dir_fd < 0 ? -errno : 0;
}

void cgroup_files_close(CgroupFiles *f) {
        for (size_t i = 0; i < ELEMENTSOF(f->fds); i++)
                f->fds[i] = safe_close(f->fds[i]);
        f->payload_fd = safe_close(f->payload_fd);
        f->dir_fd = safe_close(f->dir_fd);
}

/* File i's text into buf; -ENOENT where the cgroup (or the controller) has no such file. */
static int read_file(CgroupFiles *f, unsigned i, char *buf, size_t size) {
        int dir = i >= _FILE_UNIT_MAX ? f->payload_fd : f->dir_fd;
        ssize_t n;

        if (dir < 0)
                return -ENOENT;
        if (f->fds[i] < 0) {
                f->fds[i] = openat(dir, file_names[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (f->fds[i] < 0)
                        return -errno;
        }
        /* cgroup files are seq_files: a read at offset 0 makes their text anew. */
        n = pread(f->fds[i], buf, size - 1, 0);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

/* "123\n" or "max" (SAMPLE_UNSET) */
static uint64_t text_uint(const char *text) {
        char copy[DECIMAL_UINT64_MAX];
        size_t n = strcspn(text, " \n");
        uint64_t v;

        if (n == 0 || n >= sizeof(copy))
                return SAMPLE_UNSET;
        memcpy(copy, text, n);
        copy[n] = '\0';
        return parse_uint64(copy, &v) >= 0 && v != SAMPLE_UNSET ? v : SAMPLE_UNSET;
}

/* The value of "key N" in a flat keyed file. */
static uint64_t text_keyed(const char *text, const char *key) {
        size_t n = strlen(key);

        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');

                if (strncmp(line, key, n) == 0 && line[n] == ' ')
                        return text_uint(line + n + 1);
                line = nl ? nl + 1 : NULL;
        }
        return SAMPLE_UNSET;
}

static uint64_t figure(CgroupFiles *f, unsigned i, const char *key) {
        char buf[1024];

        if (read_file(f, i, buf, sizeof(buf)) < 0)
                return SAMPLE_UNSET;
        return key ? text_keyed(buf, key) : text_uint(buf);
}

/* Two keys of one flat keyed file, from one read: cpu.stat's text is made anew (and its counters flushed) at each. */
static void figures(CgroupFiles *f, unsigned i, const char *key_a, uint64_t *ret_a, const char *key_b, uint64_t *ret_b) {
        char buf[1024];

        *ret_a = *ret_b = SAMPLE_UNSET;
        if (read_file(f, i, buf, sizeof(buf)) < 0)
                return;
        *ret_a = text_keyed(buf, key_a);
        *ret_b = text_keyed(buf, key_b);
}

/* rbytes= and wbytes= of every device in io.stat, added up. */
static void io_bytes(CgroupFiles *f, uint64_t *ret_read, uint64_t *ret_written) {
        char buf[8192];
        uint64_t r = 0, w = 0;

        *ret_read = *ret_written = SAMPLE_UNSET;
        if (read_file(f, FILE_IO_STAT, buf, sizeof(buf)) < 0)
                return;
        for (const char *p = buf; *p; p++) {
                uint64_t v;

                if (p != buf && p[-1] != ' ')
                        continue;
                if (strncmp(p, "rbytes=", 7) == 0 && (v = text_uint(p + 7)) != SAMPLE_UNSET)
                        r += v;
                else if (strncmp(p, "wbytes=", 7) == 0 && (v = text_uint(p + 7)) != SAMPLE_UNSET)
                        w += v;
        }
        *ret_read = r;
        *ret_written = w;
}

static uint64_t add_known(uint64_t a, uint64_t b) {
        if (a == SAMPLE_UNSET)
                return b;
        if (b == SAMPLE_UNSET)
                return a;
        return a + b;
}

int cgroup_files_read(CgroupFiles *f, CgroupCounters *ret) {
        CgroupCounters c = {};
        uint64_t unit_cpu_usec, payload_throttled_usec;
        char buf[64];
        int r;

        r = read_file(f, FILE_MEMORY_CURRENT, buf, sizeof(buf));
        /* A removed cgroup's open files read ENODEV. */
        if (r == -ENOENT || r == -ENODEV)
                return -ENOENT;
        c.memory_current = r >= 0 ? text_uint(buf) : SAMPLE_UNSET;
        c.memory_peak = figure(f, FILE_MEMORY_PEAK, NULL);
        c.tasks = figure(f, FILE_PIDS_CURRENT, NULL);
        c.tasks_peak = figure(f, FILE_PIDS_PEAK, NULL);
        c.oom_kills = figure(f, FILE_MEMORY_EVENTS, "oom_kill");
        c.fork_refusals = figure(f, FILE_PIDS_EVENTS, "max");
        figures(f, FILE_CPU_STAT, "throttled_usec", &c.cpu_throttled_usec, "usage_usec", &unit_cpu_usec);
        io_bytes(f, &c.read_bytes, &c.written_bytes);

        /* The payload leaf appears once the runner made it: looked for until then. */
        if (f->payload_fd < 0)
                f->payload_fd = openat(f->dir_fd, "payload", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        figures(f, FILE_PAYLOAD_CPU_STAT, "usage_usec", &c.cpu_usec, "throttled_usec", &payload_throttled_usec);
        c.payload = c.cpu_usec != SAMPLE_UNSET;
        if (c.payload) {
                c.cpu_throttled_usec = add_known(c.cpu_throttled_usec, payload_throttled_usec);
                c.fork_refusals = add_known(c.fork_refusals, figure(f, FILE_PAYLOAD_PIDS_EVENTS, "max"));
        } else
                c.cpu_usec = unit_cpu_usec;
        *ret = c;
        return 0;
}

int cgroup_counters_read(const char *unit_cgroup, CgroupCounters *ret) {
        CgroupFiles f;
        int r;

        r = cgroup_files_open(&f, unit_cgroup);
        if (r >= 0)
                r = cgroup_files_read(&f, ret);
        cgroup_files_close(&f);
        return r == -ENOTDIR ? -ENOENT : r;
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
