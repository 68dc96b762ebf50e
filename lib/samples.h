/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An analysis' usage over time: the rows of its samples file (CSV, analysis-run(1), SAMPLES), reading and
 * writing them, and keeping their number bounded by merging neighbours. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A figure not known in a row (written as an empty field). */
#define SAMPLE_UNSET UINT64_MAX

/* The first line of every samples file begins so; the header line follows it. */
#define SAMPLES_MAGIC "# analysis-sandbox samples v1"
#define SAMPLES_HEADER "time_sec,span_sec,memory_bytes,cpu_sec,cpu_throttled_sec,tasks,read_bytes,written_bytes,events"

/* SampleInterval='s default (analysis-sandbox.conf). */
#define SAMPLES_DEFAULT_INTERVAL_USEC UINT64_C(1000000)

/* Past this many rows, neighbours are merged pairwise: 30 days at 1 s end as 2048 to 4096 rows of 16 to 32
 * min, about 250 KiB. */
#define SAMPLES_ROWS_MAX 4096

/* The moments a limit was hit, as the events column names them. */
typedef enum SampleEvent {
        SAMPLE_EVENT_OOM_KILL     = 1 << 0,     /* "oom-kill": memory.events oom_kill rose */
        SAMPLE_EVENT_FORK_REFUSED = 1 << 1,     /* "fork-refused": pids.events max rose */
        SAMPLE_EVENT_TIMEOUT      = 1 << 2,     /* "timeout": the time limit stopped it */
        SAMPLE_EVENT_DISK_FULL    = 1 << 3,     /* "disk-full": its output directory was full */
        _SAMPLE_EVENT_ALL         = (1 << 4) - 1,
} SampleEvent;

typedef struct SampleRow {
        uint64_t time_usec;             /* the end of the row's span, since the analysis started */
        uint64_t span_usec;
        uint64_t memory_bytes;          /* the highest memory.current seen in the span */
        uint64_t cpu_usec;              /* used in the span */
        uint64_t cpu_throttled_usec;    /* throttled in the span */
        uint64_t tasks;                 /* the most seen in the span */
        uint64_t read_bytes;            /* in the span */
        uint64_t written_bytes;
        unsigned events;                /* SampleEvent flags */
} SampleRow;

typedef struct Samples {
        char *comment;          /* the first line, without its newline */
        SampleRow *rows;
        size_t n_rows;
        size_t n_allocated;
} Samples;

/* Sets every figure unknown and no event. */
void sample_row_init(SampleRow *row);

/* Folds the row that follows into *row: the later end, the spans and usage added up, the higher peaks, the
 * events of both. A figure one of them does not know is the other's. */
void sample_row_merge(SampleRow *row, const SampleRow *next);

/* Room for any row sample_row_format() writes, with the newline and NUL. */
#define SAMPLE_ROW_TEXT_MAX 256

/* Writes row as one CSV line with its newline into buf (SAMPLE_ROW_TEXT_MAX bytes). Returns its length. */
size_t sample_row_format(const SampleRow *row, char buf[static SAMPLE_ROW_TEXT_MAX]);

/* Parses one CSV line (without its newline). Unknown event words are ignored. Returns 0 or -EBADMSG. */
int sample_row_parse(const char *line, SampleRow *ret);

/* The first two lines of a samples file: "# analysis-sandbox samples v1 id=ID profile=P interval=1s" and the
 * header, into a new string. Returns 0 or -ENOMEM. */
int samples_head_format(const char *id, const char *profile, uint64_t interval_usec, char **ret);

/* Reads a whole samples file (the magic, the header, the rows). Returns 0, -EBADMSG with a reason in
 * *ret_reason (may be NULL), or -ENOMEM. */
int samples_parse(const char *data, size_t size, Samples *ret, char **ret_reason);

/* Writes s as a samples file into a new string. Returns 0 or -ENOMEM. */
int samples_format(const Samples *s, char **ret, size_t *ret_size);

/* Adds a row at the end, and merges neighbours pairwise when that makes more than SAMPLES_ROWS_MAX rows.
 * Returns 0 or -ENOMEM. */
int samples_append(Samples *s, const SampleRow *row);

/* Merges neighbours pairwise (1+2, 3+4, ...; an odd last row stays alone). */
void samples_compact(Samples *s);

/* The rows added up (spans, CPU, bytes) and the highest peaks, in one row; events of all. */
void samples_total(const Samples *s, SampleRow *ret);

/* The most tasks of any row (the record's usage.tasks_peak), or SAMPLE_UNSET when no row has the figure. */
uint64_t samples_tasks_peak(const Samples *s);

/* The whole run's peak (memory.peak) goes into the first row marked oom-kill, last (the row about to be added)
 * included: the kill came at the peak. Without a kill, where it is above every row's memory (it fell between
 * two samples), into last. */
void samples_place_peak(Samples *s, SampleRow *last, uint64_t peak);

/* Frees the rows and the comment. */
void samples_done(Samples *s);

/* Rows made in memory from samples taken every interval, as the sampler writes them into its file: a row
 * spans interval << level, and each time the rows are merged pairwise the level goes up by one. */
typedef struct SamplesBuilder {
        Samples samples;
        uint64_t interval_usec;
        unsigned level;
        SampleRow pending;
        bool have_pending;
} SamplesBuilder;

/* Folds the row of one sample in; a row is added once the samples pending span a whole row (or one hit a
 * limit). Returns 0 or -ENOMEM. */
int samples_builder_add(SamplesBuilder *b, const SampleRow *row);

/* Adds what is pending as a last, shorter row. Returns 0 or -ENOMEM. */
int samples_builder_flush(SamplesBuilder *b);

/* Whether the pending row of a level is due: it spans interval << level, within half an interval (samples
 * are taken on a tick that drifts a little against the analysis' clock), or it marks a limit hit. */
bool samples_row_due(const SampleRow *pending, uint64_t interval_usec, unsigned level);
