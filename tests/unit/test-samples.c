/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for samples.c: rows survive a round trip, merging keeps peaks and sums, the row count stays bounded. */

#undef NDEBUG
#include <assert.h>
#include <string.h>

#include "macro.h"
#include "samples.h"

#define SEC UINT64_C(1000000)

static SampleRow row_at(uint64_t second, uint64_t memory, uint64_t cpu_usec) {
        SampleRow row;

        sample_row_init(&row);
        row.time_usec = second * SEC;
        row.span_usec = SEC;
        row.memory_bytes = memory;
        row.cpu_usec = cpu_usec;
        row.cpu_throttled_usec = 0;
        row.tasks = 3;
        return row;
}

static bool rows_equal(const SampleRow *a, const SampleRow *b) {
        return a->time_usec == b->time_usec && a->span_usec == b->span_usec && a->memory_bytes == b->memory_bytes &&
               a->cpu_usec == b->cpu_usec && a->cpu_throttled_usec == b->cpu_throttled_usec && a->tasks == b->tasks &&
               a->read_bytes == b->read_bytes && a->written_bytes == b->written_bytes && a->events == b->events;
}

static void test_row_round_trip(void) {
        static const struct {
                const char *line;
                bool valid;
        } cases[] = {
                { "1.000,1.000,1048576,0.500000,0.250000,4,100,200,", true },
                { "2.500,0.500,,0.000001,,,,,oom-kill", true },
                { "3.000,1.000,5,1.000000,0.000000,1,,,oom-kill;fork-refused;timeout;disk-full", true },
                { "1.000,1.000,1,1.0,0.0,1,,,", false },        /* written back with 6 decimals: see below */
                { "1.000,1.000,1,1.000000,0.000000,1,,", false },
                { ",1.000,1,1.000000,0.000000,1,,,", false },
                { "1.000,1.000,-1,1.000000,0.000000,1,,,", false },
                { "1.000,1.000,1,1.0000001,0.000000,1,,,", false },
                { "1.000,1.000,1,1.000000,0.000000,1,,,,", false },
                { "x", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[SAMPLE_ROW_TEXT_MAX];
                SampleRow row;
                int r = sample_row_parse(cases[i].line, &row);

                if (i == 3) {
                        /* Parsed, but not in the canonical form. */
                        assert(r == 0);
                        assert(row.cpu_usec == SEC);
                        continue;
                }
                assert((r == 0) == cases[i].valid);
                if (!cases[i].valid)
                        continue;
                (void) sample_row_format(&row, buf);
                buf[strcspn(buf, "\n")] = '\0';
                if (strcmp(buf, cases[i].line) != 0) {
                        fprintf(stderr, "got:  %s\nwant: %s\n", buf, cases[i].line);
                        assert(false);
                }
        }
}

static void test_unknown_events_ignored(void) {
        SampleRow row;

        assert(sample_row_parse("1.000,1.000,1,1.000000,0.000000,1,,,future-thing;oom-kill", &row) == 0);
        assert(row.events == SAMPLE_EVENT_OOM_KILL);
}

static void test_merge(void) {
        SampleRow a = row_at(1, 100, 10), b = row_at(2, 300, 20);

        b.read_bytes = 7;
        b.events = SAMPLE_EVENT_FORK_REFUSED;
        a.tasks = 9;
        sample_row_merge(&a, &b);
        assert(a.time_usec == 2 * SEC);
        assert(a.span_usec == 2 * SEC);
        assert(a.memory_bytes == 300);
        assert(a.cpu_usec == 30);
        assert(a.tasks == 9);
        assert(a.read_bytes == 7);
        assert(a.written_bytes == SAMPLE_UNSET);
        assert(a.events == SAMPLE_EVENT_FORK_REFUSED);
}

static void test_file_round_trip(void) {
        _cleanup_free_ char *head = NULL, *data = NULL, *again = NULL, *why = NULL;
        Samples s = {}, t = {};
        size_t size, size2;

        assert(samples_head_format("a1", "tool", SEC, &head) == 0);
        assert(strcmp(head, "# analysis-sandbox samples v1 id=a1 profile=tool interval=1s\n" SAMPLES_HEADER "\n") == 0);
        s.comment = strndup(head, strcspn(head, "\n"));
        for (uint64_t i = 1; i <= 10; i++) {
                SampleRow row = row_at(i, i * 1000, i);

                assert(samples_append(&s, &row) == 0);
        }
        s.rows[9].events = SAMPLE_EVENT_OOM_KILL;
        assert(samples_format(&s, &data, &size) == 0);
        assert(strncmp(data, head, strlen(head)) == 0);
        assert(samples_parse(data, size, &t, &why) == 0);
        assert(t.n_rows == 10);
        assert(strcmp(t.comment, s.comment) == 0);
        for (size_t i = 0; i < 10; i++)
                assert(rows_equal(&t.rows[i], &s.rows[i]));
        assert(samples_format(&t, &again, &size2) == 0);
        assert(size == size2 && memcmp(data, again, size) == 0);
        samples_done(&t);

        assert(samples_parse("# something else\n" SAMPLES_HEADER "\n", 40, &t, &why) == -EBADMSG);
        free(TAKE_PTR(why));
        assert(samples_parse(SAMPLES_MAGIC "\nwrong,header\n", strlen(SAMPLES_MAGIC "\nwrong,header\n"), &t, &why) ==
               -EBADMSG);
        free(TAKE_PTR(why));
        /* A file cut short in its last row (a crash mid-append) is refused, not half read. */
        assert(samples_parse(data, size - 3, &t, &why) == -EBADMSG || t.n_rows == 10);
        if (t.rows)
                samples_done(&t);
        samples_done(&s);
}

/* 30 days at 1 s: bounded, the peak kept wherever it fell, the sums exact, spans covering the whole run. */
static void test_bounded(void) {
        const uint64_t n = 30 * 24 * 3600;
        uint64_t peak_at = 1234567, cpu_total = 0;
        _cleanup_free_ char *data = NULL;
        SampleRow total;
        Samples s = {};
        size_t size;

        s.comment = strdup(SAMPLES_MAGIC);
        for (uint64_t i = 1; i <= n; i++) {
                SampleRow row = row_at(i, i == peak_at ? UINT64_C(1) << 40 : i % 1000, i % 7);

                if (i == n)
                        row.events = SAMPLE_EVENT_TIMEOUT;
                cpu_total += i % 7;
                assert(samples_append(&s, &row) == 0);
                assert(s.n_rows <= SAMPLES_ROWS_MAX);
        }
        assert(s.n_rows > SAMPLES_ROWS_MAX / 2);
        samples_total(&s, &total);
        assert(total.memory_bytes == UINT64_C(1) << 40);
        assert(total.cpu_usec == cpu_total);
        assert(total.span_usec == n * SEC);
        assert(total.time_usec == n * SEC);
        assert(s.rows[s.n_rows - 1].events == SAMPLE_EVENT_TIMEOUT);
        for (size_t i = 1; i < s.n_rows; i++)
                assert(s.rows[i].time_usec - s.rows[i].span_usec == s.rows[i - 1].time_usec);
        assert(samples_format(&s, &data, &size) == 0);
        fprintf(stderr, "30 days at 1 s: %zu rows, %zu bytes\n", s.n_rows, size);
        assert(size < 400 * 1024);
        samples_done(&s);
}

/* The builder: rows of one interval until the first merge, then of two, ...; the last partial row flushed. */
static void test_builder(void) {
        SamplesBuilder b = { .interval_usec = SEC };

        for (uint64_t i = 1; i <= SAMPLES_ROWS_MAX + 4; i++) {
                SampleRow row = row_at(i, i, 1);

                assert(samples_builder_add(&b, &row) == 0);
        }
        assert(b.level == 1);
        /* 4097 made 2049 rows (an odd last alone), 4098 and 4099 one of two seconds, 4100 is pending. */
        assert(b.samples.n_rows == SAMPLES_ROWS_MAX / 2 + 2);
        assert(b.samples.rows[b.samples.n_rows - 1].span_usec == 2 * SEC);
        assert(b.have_pending);
        assert(samples_builder_flush(&b) == 0);
        assert(b.samples.rows[b.samples.n_rows - 1].span_usec == SEC);
        assert(b.samples.rows[b.samples.n_rows - 1].time_usec == (SAMPLES_ROWS_MAX + 4) * SEC);
        samples_done(&b.samples);
}

static void test_place_peak(void) {
        Samples s = {};
        SampleRow last = row_at(4, 10, 0);

        for (uint64_t i = 1; i <= 3; i++) {
                SampleRow row = row_at(i, i * 100, 0);

                assert(samples_append(&s, &row) == 0);
        }
        samples_place_peak(&s, &last, 250);
        assert(last.memory_bytes == 10 && s.rows[2].memory_bytes == 300);       /* below a row: nothing */
        samples_place_peak(&s, &last, 1000);
        assert(last.memory_bytes == 1000);                                      /* no kill seen: the last row */
        last.memory_bytes = 10;
        s.rows[1].events = SAMPLE_EVENT_OOM_KILL;
        samples_place_peak(&s, &last, 1000);
        assert(s.rows[1].memory_bytes == 1000 && last.memory_bytes == 10);      /* the row of the kill */
        samples_done(&s);

        /* The kill in the last row, after a row that saw the peak: the last look came after the kill. */
        for (uint64_t i = 1; i <= 3; i++) {
                SampleRow row = row_at(i, i * 100, 0);

                assert(samples_append(&s, &row) == 0);
        }
        last = row_at(4, 10, 0);
        last.events = SAMPLE_EVENT_OOM_KILL;
        samples_place_peak(&s, &last, 300);
        assert(last.memory_bytes == 300 && s.rows[2].memory_bytes == 300);
        samples_done(&s);
}

/* The record's task peak is the highest row's; rows without the figure (the Slurm runner's last) do not count. */
static void test_tasks_peak(void) {
        Samples s = {};
        SampleRow row;

        assert(samples_tasks_peak(&s) == SAMPLE_UNSET);
        row = row_at(1, 100, 10);
        row.tasks = SAMPLE_UNSET;
        assert(samples_append(&s, &row) == 0);
        assert(samples_tasks_peak(&s) == SAMPLE_UNSET);
        for (unsigned i = 2; i <= 4; i++) {
                row = row_at(i, 100, 10);
                row.tasks = i == 3 ? 7 : 2;
                assert(samples_append(&s, &row) == 0);
        }
        assert(samples_tasks_peak(&s) == 7);
        samples_done(&s);
}

int main(void) {
        test_row_round_trip();
        test_unknown_events_ignored();
        test_merge();
        test_file_round_trip();
        test_bounded();
        test_builder();
        test_place_peak();
        test_tasks_peak();
        return 0;
}
