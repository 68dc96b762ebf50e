/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small strict JSON parser for reading records back: objects, arrays, strings, numbers, true/false/null. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef enum JsonType {
        JSON_NULL,
        JSON_BOOLEAN,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;
struct JsonValue {
        JsonType type;
        bool boolean;
        char *text;             /* JSON_STRING: the decoded string; JSON_NUMBER: the number as written */
        char **keys;            /* JSON_OBJECT */
        JsonValue **items;      /* JSON_OBJECT values, JSON_ARRAY elements */
        size_t n_items;
};

/* Parses exactly one JSON value (with surrounding whitespace) from data. Nesting is limited to 32 levels.
 * Returns 0, -EBADMSG on a syntax error (with the byte offset in *ret_offset if not NULL), -ENOMEM. */
int json_parse(const char *data, size_t size, JsonValue **ret, size_t *ret_offset);

JsonValue *json_value_free(JsonValue *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(JsonValue *, json_value_free);

/* The member key of object v, or NULL (also when v is NULL or not an object). */
const JsonValue *json_object_get(const JsonValue *v, const char *key);

/* The string of v, or NULL if v is not a string. */
const char *json_string_value(const JsonValue *v);

/* Reads a non-negative integer (a number without sign, fraction or exponent). Returns 0, -EINVAL, -ERANGE. */
int json_uint_value(const JsonValue *v, uint64_t *ret);

/* Reads a non-negative decimal number of seconds ("12.345") as microseconds. Returns 0 or -EINVAL. */
int json_seconds_value(const JsonValue *v, uint64_t *ret_usec);
