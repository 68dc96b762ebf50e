/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing JSON text to a stdio stream: always valid output, whatever bytes the strings hold. */

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json-writer.h"

static void json_before_value(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->depth > 0 && w->need_comma[w->depth])
                fputc(',', w->f);
        if (w->depth > 0)
                w->need_comma[w->depth] = true;
}

void json_begin_object(JsonWriter *w) {
        json_before_value(w);
        fputc('{', w->f);
        if (w->depth + 1 < sizeof(w->need_comma))
                w->depth++;
        w->need_comma[w->depth] = false;
}

void json_end_object(JsonWriter *w) {
        fputc('}', w->f);
        if (w->depth > 0)
                w->depth--;
}

void json_begin_array(JsonWriter *w) {
        json_before_value(w);
        fputc('[', w->f);
        if (w->depth + 1 < sizeof(w->need_comma))
                w->depth++;
        w->need_comma[w->depth] = false;
}

void json_end_array(JsonWriter *w) {
        fputc(']', w->f);
        if (w->depth > 0)
                w->depth--;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not one. */
static size_t utf8_sequence_length(const unsigned char *s, size_t n) {
        size_t len;
        uint32_t c;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0) {
                len = 2;
                c = s[0] & 0x1f;
        } else if ((s[0] & 0xf0) == 0xe0) {
                len = 3;
                c = s[0] & 0x0f;
        } else if ((s[0] & 0xf8) == 0xf0) {
                len = 4;
                c = s[0] & 0x07;
        } else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8. */
        if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
            (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
                return 0;
        return len;
}

void json_string_n(JsonWriter *w, const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s, *end = p + n;

        json_before_value(w);
        fputc('"', w->f);
        while (p < end) {
                size_t len;

                if (*p == '"' || *p == '\\') {
                        fputc('\\', w->f);
                        fputc(*p++, w->f);
                        continue;
                }
                if (*p == '\n') {
                        fputs("\\n", w->f);
                        p++;
                        continue;
                }
                if (*p == '\t') {
                        fputs("\\t", w->f);
                        p++;
                        continue;
                }
                if (*p == 0) {
                        /* Readers built on C strings cannot hold U+0000: write the replacement character. */
                        fputs("\\ufffd", w->f);
                        p++;
                        continue;
                }
                if (*p < 0x20 || *p == 0x7f) {
                        fprintf(w->f, "\\u%04x", *p++);
                        continue;
                }
                len = utf8_sequence_length(p, (size_t) (end - p));
                if (len == 0) {
                        fputs("\\ufffd", w->f);
                        p++;
                        continue;
                }
                fwrite(p, 1, len, w->f);
                p += len;
        }
        fputc('"', w->f);
}

void json_string(JsonWriter *w, const char *s) {
        if (!s)
                json_null(w);
        else
                json_string_n(w, s, strlen(s));
}

void json_key(JsonWriter *w, const char *key) {
        json_string(w, key);
        fputc(':', w->f);
        w->after_key = true;
}

void json_uint(JsonWriter *w, uint64_t v) {
        json_before_value(w);
        fprintf(w->f, "%" PRIu64, v);
}

void json_double(JsonWriter *w, double v) {
        if (!isfinite(v)) {
                json_null(w);
                return;
        }
        json_before_value(w);
        fprintf(w->f, "%.15g", v);
}

void json_int(JsonWriter *w, int64_t v) {
        json_before_value(w);
        fprintf(w->f, "%" PRId64, v);
}

void json_seconds(JsonWriter *w, uint64_t usec) {
        json_before_value(w);
        fprintf(w->f, "%" PRIu64 ".%03" PRIu64, usec / 1000000, (usec % 1000000) / 1000);
}

void json_bool(JsonWriter *w, bool b) {
        json_before_value(w);
        fputs(b ? "true" : "false", w->f);
}

void json_null(JsonWriter *w) {
        json_before_value(w);
        fputs("null", w->f);
}

void json_field_uint_or_null(JsonWriter *w, const char *key, uint64_t v) {
        json_key(w, key);
        if (v == UINT64_MAX)
                json_null(w);
        else
                json_uint(w, v);
}

void json_field_seconds_or_null(JsonWriter *w, const char *key, uint64_t usec) {
        json_key(w, key);
        if (usec == UINT64_MAX)
                json_null(w);
        else
                json_seconds(w, usec);
}
