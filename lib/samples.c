/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An analysis' usage over time: the rows of its samples file, reading and writing them, and keeping their
 * number bounded. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse-value.h"
#include "samples.h"

static const char * const event_words[] = {
        "oom-kill",
        "fork-refused",
        "timeout",
        "disk-full",
};

void sample_row_init(SampleRow *row) {
        *row = (SampleRow) {
                .time_usec = 0,
                .span_usec = 0,
                .memory_bytes = SAMPLE_UNSET,
                .cpu_usec = SAMPLE_UNSET,
                .cpu_throttled_usec = SAMPLE_UNSET,
                .tasks = SAMPLE_UNSET,
                .read_bytes = SAMPLE_UNSET,
                .written_bytes = SAMPLE_UNSET,
        };
}

static void merge_max(uint64_t *a, uint64_t b) {
        if (*a == SAMPLE_UNSET || (b != SAMPLE_UNSET && b > *a))
                *a = b;
}

static void merge_sum(uint64_t *a, uint64_t b) {
        if (*a == SAMPLE_UNSET)
                *a = b;
        else if (b != SAMPLE_UNSET)
                *a = b > UINT64_MAX - 1 - *a ? UINT64_MAX - 1 : *a + b;
}

void sample_row_merge(SampleRow *row, const SampleRow *next) {
        row->time_usec = MAX(row->time_usec, next->time_usec);
        row->span_usec += next->span_usec;
        merge_max(&row->memory_bytes, next->memory_bytes);
        merge_sum(&row->cpu_usec, next->cpu_usec);
        merge_sum(&row->cpu_throttled_usec, next->cpu_throttled_usec);
        merge_max(&row->tasks, next->tasks);
        merge_sum(&row->read_bytes, next->read_bytes);
        merge_sum(&row->written_bytes, next->written_bytes);
        row->events |= next->events;
}

/* Seconds with `digits` decimals (3: milliseconds, 6: microseconds); empty when unknown. */
static char *put_seconds(char *p, uint64_t usec, int digits) {
        if (usec == SAMPLE_UNSET)
                return p;
        if (digits == 3)
                return p + sprintf(p, "%" PRIu64 ".%03" PRIu64, usec / 1000000, (usec % 1000000) / 1000);
        return p + sprintf(p, "%" PRIu64 ".%06" PRIu64, usec / 1000000, usec % 1000000);
}

static char *put_uint(char *p, uint64_t v) {
        if (v == SAMPLE_UNSET)
                return p;
        return p + sprintf(p, "%" PRIu64, v);
}

size_t sample_row_format(const SampleRow *row, char buf[static SAMPLE_ROW_TEXT_MAX]) {
        char *p = buf;
        bool first = true;

        p = put_seconds(p, row->time_usec, 3);
        *p++ = ',';
        p = put_seconds(p, row->span_usec, 3);
        *p++ = ',';
        p = put_uint(p, row->memory_bytes);
        *p++ = ',';
        p = put_seconds(p, row->cpu_usec, 6);
        *p++ = ',';
        p = put_seconds(p, row->cpu_throttled_usec, 6);
        *p++ = ',';
        p = put_uint(p, row->tasks);
        *p++ = ',';
        p = put_uint(p, row->read_bytes);
        *p++ = ',';
        p = put_uint(p, row->written_bytes);
        *p++ = ',';
        for (size_t i = 0; i < ELEMENTSOF(event_words); i++)
                if (row->events & (1u << i)) {
                        if (!first)
                                *p++ = ';';
                        p = stpcpy(p, event_words[i]);
                        first = false;
                }
        *p++ = '\n';
        *p = '\0';
        return (size_t) (p - buf);
}

/* "12.345" (at most 6 decimals) as microseconds; "" as unknown. */
static int parse_seconds_field(const char *s, size_t n, uint64_t *ret) {
        uint64_t whole = 0, frac = 0;
        size_t i = 0, digits = 0;

        if (n == 0) {
                *ret = SAMPLE_UNSET;
                return 0;
        }
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
                if (whole > (UINT64_MAX / 1000000 - 9) / 10)
                        return -EBADMSG;
                whole = whole * 10 + (uint64_t) (s[i] - '0');
        }
        if (i == 0)
                return -EBADMSG;
        if (i < n) {
                if (s[i++] != '.')
                        return -EBADMSG;
                for (; i < n; i++, digits++) {
                        if (s[i] < '0' || s[i] > '9' || digits >= 6)
                                return -EBADMSG;
                        frac = frac * 10 + (uint64_t) (s[i] - '0');
                }
                if (digits == 0)
                        return -EBADMSG;
        }
        for (; digits < 6; digits++)
                frac *= 10;
        *ret = whole * 1000000 + frac;
        return 0;
}

static int parse_uint_field(const char *s, size_t n, uint64_t *ret) {
        char buf[DECIMAL_UINT64_MAX];

        if (n == 0) {
                *ret = SAMPLE_UNSET;
                return 0;
        }
        if (n >= sizeof(buf))
                return -EBADMSG;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return parse_uint64(buf, ret) < 0 || *ret == SAMPLE_UNSET ? -EBADMSG : 0;
}

static unsigned parse_events_field(const char *s, size_t n) {
        unsigned events = 0;

        while (n > 0) {
                const char *semi = memchr(s, ';', n);
                size_t len = semi ? (size_t) (semi - s) : n;

                for (size_t i = 0; i < ELEMENTSOF(event_words); i++)
                        if (strlen(event_words[i]) == len && memcmp(event_words[i], s, len) == 0)
                                events |= 1u << i;
                if (!semi)
                        break;
                n -= len + 1;
                s = semi + 1;
        }
        return events;
}

int sample_row_parse(const char *line, SampleRow *ret) {
        const char *fields[9];
        size_t lengths[9], n = 0;
        const char *p = line;
        SampleRow row;
        int r;

        for (;;) {
                const char *comma = strchr(p, ',');

                if (n == ELEMENTSOF(fields))
                        return -EBADMSG;
                fields[n] = p;
                lengths[n++] = comma ? (size_t) (comma - p) : strlen(p);
                if (!comma)
                        break;
                p = comma + 1;
        }
        if (n != ELEMENTSOF(fields))
                return -EBADMSG;
        sample_row_init(&row);
        r = parse_seconds_field(fields[0], lengths[0], &row.time_usec);
        if (r >= 0)
                r = parse_seconds_field(fields[1], lengths[1], &row.span_usec);
        if (r >= 0 && (row.time_usec == SAMPLE_UNSET || row.span_usec == SAMPLE_UNSET))
                r = -EBADMSG;
        if (r >= 0)
                r = parse_uint_field(fields[2], lengths[2], &row.memory_bytes);
        if (r >= 0)
                r = parse_seconds_field(fields[3], lengths[3], &row.cpu_usec);
        if (r >= 0)
                r = parse_seconds_field(fields[4], lengths[4], &row.cpu_throttled_usec);
        if (r >= 0)
                r = parse_uint_field(fields[5], lengths[5], &row.tasks);
        if (r >= 0)
                r = parse_uint_field(fields[6], lengths[6], &row.read_bytes);
        if (r >= 0)
                r = parse_uint_field(fields[7], lengths[7], &row.written_bytes);
        if (r < 0)
                return r;
        row.events = parse_events_field(fields[8], lengths[8]);
        *ret = row;
        return 0;
}

int samples_head_format(const char *id, const char *profile, uint64_t interval_usec, char **ret) {
        char interval[64];

        if (interval_usec % 1000000 == 0)
                (void) snprintf(interval, sizeof(interval), "%" PRIu64 "s", interval_usec / 1000000);
        else
                (void) snprintf(interval, sizeof(interval), "%" PRIu64 "ms", interval_usec / 1000);
        *ret = strprintf(SAMPLES_MAGIC " id=%s profile=%s interval=%s\n" SAMPLES_HEADER "\n", id,
                         profile ?: "-", interval);
        return *ret ? 0 : -ENOMEM;
}

static int reason(char **ret_reason, const char *text) {
        if (ret_reason)
                *ret_reason = strdup(text);
        return -EBADMSG;
}

int samples_parse(const char *data, size_t size, Samples *ret, char **ret_reason) {
        Samples s = {};
        const char *p = data, *end = data + size;
        unsigned line = 0;
        int r;

        if (memchr(data, '\0', size))
                return reason(ret_reason, "not a text file");
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
                _cleanup_free_ char *text = strndup(p, len);

                if (!text) {
                        samples_done(&s);
                        return -ENOMEM;
                }
                p = nl ? nl + 1 : end;
                line++;
                if (line == 1) {
                        if (strncmp(text, SAMPLES_MAGIC, strlen(SAMPLES_MAGIC)) != 0 ||
                            (text[strlen(SAMPLES_MAGIC)] != ' ' && text[strlen(SAMPLES_MAGIC)] != '\0'))
                                return reason(ret_reason, "not an analysis-sandbox samples file (v1)");
                        s.comment = TAKE_PTR(text);
                        continue;
                }
                if (line == 2) {
                        if (strcmp(text, SAMPLES_HEADER) != 0) {
                                samples_done(&s);
                                return reason(ret_reason, "unexpected header line");
                        }
                        continue;
                }
                if (text[0] == '#' || text[0] == '\0')
                        continue;
                if (s.n_rows == s.n_allocated) {
                        size_t n = MAX(s.n_allocated * 2, (size_t) 64);
                        SampleRow *rows = reallocarray(s.rows, n, sizeof(SampleRow));

                        if (!rows) {
                                samples_done(&s);
                                return -ENOMEM;
                        }
                        s.rows = rows;
                        s.n_allocated = n;
                }
                r = sample_row_parse(text, &s.rows[s.n_rows]);
                /* A last row without its newline is one cut short (a crash while appending): left out. */
                if (r < 0 && !nl)
                        break;
                if (r < 0) {
                        samples_done(&s);
                        if (ret_reason)
                                *ret_reason = strprintf("line %u: not a samples row", line);
                        return r;
                }
                s.n_rows++;
        }
        if (line < 2) {
                samples_done(&s);
                return reason(ret_reason, "no header line");
        }
        *ret = s;
        return 0;
}

int samples_format(const Samples *s, char **ret, size_t *ret_size) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&data, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s\n%s\n", s->comment ?: SAMPLES_MAGIC, SAMPLES_HEADER);
        for (size_t i = 0; i < s->n_rows; i++) {
                char buf[SAMPLE_ROW_TEXT_MAX];

                (void) sample_row_format(&s->rows[i], buf);
                fputs(buf, f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

void samples_compact(Samples *s) {
        size_t n = 0;

        for (size_t i = 0; i < s->n_rows; i += 2) {
                SampleRow row = s->rows[i];

                if (i + 1 < s->n_rows)
                        sample_row_merge(&row, &s->rows[i + 1]);
                s->rows[n++] = row;
        }
        s->n_rows = n;
}

int samples_append(Samples *s, const SampleRow *row) {
        if (s->n_rows == s->n_allocated) {
                size_t n = MAX(s->n_allocated * 2, (size_t) 64);
                SampleRow *rows = reallocarray(s->rows, n, sizeof(SampleRow));

                if (!rows)
                        return -ENOMEM;
                s->rows = rows;
                s->n_allocated = n;
        }
        s->rows[s->n_rows++] = *row;
        if (s->n_rows > SAMPLES_ROWS_MAX)
                samples_compact(s);
        return 0;
}

void samples_total(const Samples *s, SampleRow *ret) {
        sample_row_init(ret);
        for (size_t i = 0; i < s->n_rows; i++)
                sample_row_merge(ret, &s->rows[i]);
}

uint64_t samples_tasks_peak(const Samples *s) {
        uint64_t peak = SAMPLE_UNSET;

        for (size_t i = 0; i < s->n_rows; i++)
                if (s->rows[i].tasks != SAMPLE_UNSET && (peak == SAMPLE_UNSET || s->rows[i].tasks > peak))
                        peak = s->rows[i].tasks;
        return peak;
}

void samples_place_peak(Samples *s, SampleRow *last, uint64_t peak) {
        SampleRow total;

        if (peak == SAMPLE_UNSET)
                return;
        /* The kill came at the limit, where the peak is, whatever the looks around it saw (the recorder's last
         * look comes after the kill, when the memory is gone). */
        for (size_t i = 0; i < s->n_rows; i++)
                if (s->rows[i].events & SAMPLE_EVENT_OOM_KILL) {
                        merge_max(&s->rows[i].memory_bytes, peak);
                        return;
                }
        if (last->events & SAMPLE_EVENT_OOM_KILL) {
                merge_max(&last->memory_bytes, peak);
                return;
        }
        samples_total(s, &total);
        merge_max(&total.memory_bytes, last->memory_bytes);
        if (total.memory_bytes != SAMPLE_UNSET && peak <= total.memory_bytes)
                return;
        last->memory_bytes = peak;
}

void samples_done(Samples *s) {
        free(s->comment);
        free(s->rows);
        *s = (Samples) {};
}

bool samples_row_due(const SampleRow *pending, uint64_t interval_usec, unsigned level) {
        return pending->events != 0 || pending->span_usec + interval_usec / 2 >= (interval_usec << level);
}

int samples_builder_flush(SamplesBuilder *b) {
        size_t before = b->samples.n_rows;
        int r;

        if (!b->have_pending)
                return 0;
        r = samples_append(&b->samples, &b->pending);
        if (r < 0)
                return r;
        b->have_pending = false;
        if (b->samples.n_rows <= before)
                b->level++;
        return 0;
}

int samples_builder_add(SamplesBuilder *b, const SampleRow *row) {
        if (b->have_pending)
                sample_row_merge(&b->pending, row);
        else
                b->pending = *row;
        b->have_pending = true;
        if (!samples_row_due(&b->pending, b->interval_usec, b->level))
                return 0;
        return samples_builder_flush(b);
}
