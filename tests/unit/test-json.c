/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for json-writer.c and json-reader.c: escaping, invalid UTF-8, round trips, strict parsing. */

#undef NDEBUG
#include <assert.h>
#include <string.h>

#include "json-reader.h"
#include "json-writer.h"
#include "macro.h"

static char *write_string(const char *s, size_t n) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        JsonWriter w = { .f = f };

        assert(f);
        json_string_n(&w, s, n);
        assert(fclose(f) == 0);
        return text;
}

static void test_escaping(void) {
        static const struct {
                const char *in;
                size_t n;
                const char *out;
        } cases[] = {
                { "plain", 5, "\"plain\"" },
                { "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
                { "line\nnext\ttab", 13, "\"line\\nnext\\ttab\"" },
                { "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
                { "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
                { "\xff", 1, "\"\\ufffd\"" },                   /* not UTF-8 at all */
                { "\xc3", 1, "\"\\ufffd\"" },                   /* truncated sequence */
                { "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" },       /* overlong '/' */
                { "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" }, /* a surrogate */
                { "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = write_string(cases[i].in, cases[i].n);

                if (strcmp(out, cases[i].out) != 0) {
                        fprintf(stderr, "case %zu: got %s want %s\n", i, out, cases[i].out);
                        assert(false);
                }
        }
}

/* Whatever bytes go in, the output parses back. */
static void test_always_valid(void) {
        char bytes[256];

        for (int i = 0; i < 256; i++)
                bytes[i] = (char) i;
        for (size_t start = 0; start < 256; start += 7) {
                _cleanup_free_ char *out = write_string(bytes + start, 256 - start);
                _cleanup_(json_value_freep) JsonValue *v = NULL;

                assert(json_parse(out, strlen(out), &v, NULL) == 0);
                assert(v->type == JSON_STRING);
        }
}

static void test_object_round_trip(void) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        JsonWriter w = { .f = f };
        uint64_t u;

        json_begin_object(&w);
        json_key(&w, "name");
        json_string(&w, "x\ny");
        json_key(&w, "n");
        json_uint(&w, UINT64_MAX);
        json_key(&w, "inner");
        json_begin_object(&w);
        json_key(&w, "t");
        json_seconds(&w, 1500000);
        json_key(&w, "none");
        json_null(&w);
        json_end_object(&w);
        json_key(&w, "b");
        json_bool(&w, true);
        json_end_object(&w);
        assert(fclose(f) == 0);
        assert(strcmp(text, "{\"name\":\"x\\ny\",\"n\":18446744073709551615,\"inner\":{\"t\":1.500,\"none\":null},\"b\":true}") == 0);

        assert(json_parse(text, strlen(text), &v, NULL) == 0);
        assert(strcmp(json_string_value(json_object_get(v, "name")), "x\ny") == 0);
        assert(json_uint_value(json_object_get(v, "n"), &u) == 0 && u == UINT64_MAX);
        assert(json_seconds_value(json_object_get(json_object_get(v, "inner"), "t"), &u) == 0 && u == 1500000);
        assert(json_object_get(json_object_get(v, "inner"), "none")->type == JSON_NULL);
        assert(json_object_get(v, "b")->boolean);
        assert(!json_object_get(v, "missing"));
}

static void test_parse_errors(void) {
        static const char * const bad[] = {
                "", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "\"unterminated",
                "\"bad \\x escape\"", "\"\\u12\"", "\"\\ud800\"", "\"\\u0000\"", "01", "1.", "-", "1e", "tru",
                "nul", "{} {}", "\"ctrl \x01\"", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                JsonValue *v = NULL;

                if (json_parse(bad[i], strlen(bad[i]), &v, NULL) != -EBADMSG) {
                        fprintf(stderr, "accepted: %s\n", bad[i]);
                        assert(false);
                }
                assert(!v);
        }
}

static void test_parse_values(void) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        const char *text = " [ 0, -1.5e3, \"\\u00e9\\ud83d\\ude00\\/\", true, false, null, {} ] ";

        assert(json_parse(text, strlen(text), &v, NULL) == 0);
        assert(v->type == JSON_ARRAY && v->n_items == 7);
        assert(strcmp(v->items[1]->text, "-1.5e3") == 0);
        assert(strcmp(v->items[2]->text, "\xc3\xa9\xf0\x9f\x98\x80/") == 0);
        assert(v->items[6]->type == JSON_OBJECT && v->items[6]->n_items == 0);
}

int main(void) {
        test_escaping();
        test_always_valid();
        test_object_round_trip();
        test_parse_errors();
        test_parse_values();
        return 0;
}
