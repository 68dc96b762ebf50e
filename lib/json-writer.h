/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing JSON text to a stdio stream: always valid output, whatever bytes the strings hold. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool need_comma[16];
        bool after_key;
} JsonWriter;

void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);

/* Writes "key": before the next value. */
void json_key(JsonWriter *w, const char *key);

/* Writes s as a JSON string; invalid UTF-8 becomes U+FFFD, so the output always parses. NULL writes null. */
void json_string(JsonWriter *w, const char *s);
void json_string_n(JsonWriter *w, const char *s, size_t n);
void json_uint(JsonWriter *w, uint64_t v);
void json_int(JsonWriter *w, int64_t v);
/* Seconds with millisecond precision from microseconds. */
void json_seconds(JsonWriter *w, uint64_t usec);
void json_bool(JsonWriter *w, bool b);
/* A number with up to 15 significant digits; null for NaN and infinities, which JSON cannot hold. */
void json_double(JsonWriter *w, double v);

/* "key": v, or "key": null for UINT64_MAX (unknown or unlimited). */
void json_field_uint_or_null(JsonWriter *w, const char *key, uint64_t v);

/* "key": seconds from usec, or "key": null for UINT64_MAX. */
void json_field_seconds_or_null(JsonWriter *w, const char *key, uint64_t usec);
void json_null(JsonWriter *w);
