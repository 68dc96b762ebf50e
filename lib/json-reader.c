/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small strict JSON parser for reading records back. */

#include <string.h>

#include "json-reader.h"
#include "parse-value.h"

#define DEPTH_MAX 32

typedef struct Parser {
        const char *p, *end, *start;
} Parser;

static int parse_value(Parser *ps, unsigned depth, JsonValue **ret);

static void skip_whitespace(Parser *ps) {
        while (ps->p < ps->end && strchr(" \t\r\n", *ps->p) && *ps->p)
                ps->p++;
}

static bool consume_literal(Parser *ps, const char *literal) {
        size_t n = strlen(literal);

        if ((size_t) (ps->end - ps->p) < n || memcmp(ps->p, literal, n) != 0)
                return false;
        ps->p += n;
        return true;
}

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int parse_hex4(Parser *ps, uint32_t *ret) {
        uint32_t v = 0;

        if (ps->end - ps->p < 4)
                return -EBADMSG;
        for (int i = 0; i < 4; i++) {
                int d = hex_digit(*ps->p++);

                if (d < 0)
                        return -EBADMSG;
                v = (v << 4) | (uint32_t) d;
        }
        *ret = v;
        return 0;
}

static void put_utf8(char **q, uint32_t c) {
        if (c < 0x80)
                *(*q)++ = (char) c;
        else if (c < 0x800) {
                *(*q)++ = (char) (0xc0 | (c >> 6));
                *(*q)++ = (char) (0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
                *(*q)++ = (char) (0xe0 | (c >> 12));
                *(*q)++ = (char) (0x80 | ((c >> 6) & 0x3f));
                *(*q)++ = (char) (0x80 | (c & 0x3f));
        } else {
                *(*q)++ = (char) (0xf0 | (c >> 18));
                *(*q)++ = (char) (0x80 | ((c >> 12) & 0x3f));
                *(*q)++ = (char) (0x80 | ((c >> 6) & 0x3f));
                *(*q)++ = (char) (0x80 | (c & 0x3f));
        }
}

/* Decodes a string at ps->p (just after the opening quote). A \u0000 escape is refused: C strings could not
 * hold it and nothing we write produces it. */
static int parse_string(Parser *ps, char **ret) {
        const char *start = ps->p;
        _cleanup_free_ char *s = NULL;
        char *q;
        int r;

        /* Decoded text is never longer than the encoded text. */
        while (ps->p < ps->end && *ps->p != '"') {
                if (*ps->p == '\\')
                        ps->p++;
                ps->p++;
        }
        if (ps->p >= ps->end)
                return -EBADMSG;
        s = malloc((size_t) (ps->p - start) + 1);
        if (!s)
                return -ENOMEM;
        ps->p = start;
        for (q = s; *ps->p != '"';) {
                unsigned char c = (unsigned char) *ps->p++;

                if (c < 0x20)
                        return -EBADMSG;
                if (c != '\\') {
                        *q++ = (char) c;
                        continue;
                }
                c = (unsigned char) *ps->p++;
                switch (c) {
                case '"': case '\\': case '/':
                        *q++ = (char) c;
                        break;
                case 'b': *q++ = '\b'; break;
                case 'f': *q++ = '\f'; break;
                case 'n': *q++ = '\n'; break;
                case 'r': *q++ = '\r'; break;
                case 't': *q++ = '\t'; break;
                case 'u': {
                        uint32_t cp, low;

                        r = parse_hex4(ps, &cp);
                        if (r < 0)
                                return r;
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if (!consume_literal(ps, "\\u") || parse_hex4(ps, &low) < 0 ||
                                    low < 0xdc00 || low > 0xdfff)
                                        return -EBADMSG;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                        } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0)
                                return -EBADMSG;
                        put_utf8(&q, cp);
                        break;
                }
                default:
                        return -EBADMSG;
                }
        }
        ps->p++;
        *q = '\0';
        *ret = TAKE_PTR(s);
        return 0;
}

static int parse_number(Parser *ps, char **ret) {
        const char *start = ps->p;

        if (ps->p < ps->end && *ps->p == '-')
                ps->p++;
        if (ps->p >= ps->end || !strchr("0123456789", *ps->p) || !*ps->p)
                return -EBADMSG;
        if (*ps->p == '0')
                ps->p++;
        else
                while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
                        ps->p++;
        if (ps->p < ps->end && *ps->p == '.') {
                ps->p++;
                if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
                        return -EBADMSG;
                while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
                        ps->p++;
        }
        if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
                ps->p++;
                if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
                        ps->p++;
                if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
                        return -EBADMSG;
                while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
                        ps->p++;
        }
        *ret = strndup(start, (size_t) (ps->p - start));
        return *ret ? 0 : -ENOMEM;
}

static int append_item(JsonValue *v, char *key, JsonValue *item) {
        JsonValue **items = realloc(v->items, sizeof(JsonValue *) * (v->n_items + 1));
        char **keys;

        if (!items)
                return -ENOMEM;
        v->items = items;
        if (v->type == JSON_OBJECT) {
                keys = realloc(v->keys, sizeof(char *) * (v->n_items + 1));
                if (!keys)
                        return -ENOMEM;
                v->keys = keys;
                v->keys[v->n_items] = key;
        }
        v->items[v->n_items++] = item;
        return 0;
}

static int parse_container(Parser *ps, unsigned depth, JsonValue *v) {
        char close = v->type == JSON_OBJECT ? '}' : ']';
        int r;

        skip_whitespace(ps);
        if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                return 0;
        }
        for (;;) {
                _cleanup_free_ char *key = NULL;
                _cleanup_(json_value_freep) JsonValue *item = NULL;

                skip_whitespace(ps);
                if (v->type == JSON_OBJECT) {
                        if (ps->p >= ps->end || *ps->p != '"')
                                return -EBADMSG;
                        ps->p++;
                        r = parse_string(ps, &key);
                        if (r < 0)
                                return r;
                        skip_whitespace(ps);
                        if (ps->p >= ps->end || *ps->p != ':')
                                return -EBADMSG;
                        ps->p++;
                }
                r = parse_value(ps, depth + 1, &item);
                if (r < 0)
                        return r;
                r = append_item(v, key, item);
                if (r < 0)
                        return r;
                TAKE_PTR(key);
                TAKE_PTR(item);
                skip_whitespace(ps);
                if (ps->p >= ps->end)
                        return -EBADMSG;
                if (*ps->p == close) {
                        ps->p++;
                        return 0;
                }
                if (*ps->p != ',')
                        return -EBADMSG;
                ps->p++;
        }
}

static int parse_value(Parser *ps, unsigned depth, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        int r = 0;

        if (depth > DEPTH_MAX)
                return -EBADMSG;
        skip_whitespace(ps);
        if (ps->p >= ps->end)
                return -EBADMSG;
        v = calloc(1, sizeof(JsonValue));
        if (!v)
                return -ENOMEM;

        switch (*ps->p) {
        case '{':
        case '[':
                v->type = *ps->p == '{' ? JSON_OBJECT : JSON_ARRAY;
                ps->p++;
                r = parse_container(ps, depth, v);
                break;
        case '"':
                v->type = JSON_STRING;
                ps->p++;
                r = parse_string(ps, &v->text);
                break;
        case 't':
        case 'f':
                v->type = JSON_BOOLEAN;
                v->boolean = *ps->p == 't';
                if (!consume_literal(ps, v->boolean ? "true" : "false"))
                        r = -EBADMSG;
                break;
        case 'n':
                v->type = JSON_NULL;
                if (!consume_literal(ps, "null"))
                        r = -EBADMSG;
                break;
        default:
                v->type = JSON_NUMBER;
                r = parse_number(ps, &v->text);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int json_parse(const char *data, size_t size, JsonValue **ret, size_t *ret_offset) {
        Parser ps = { data, data + size, data };
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        int r;

        r = parse_value(&ps, 0, &v);
        if (r >= 0) {
                skip_whitespace(&ps);
                if (ps.p != ps.end)
                        r = -EBADMSG;
        }
        if (r < 0) {
                if (ret_offset)
                        *ret_offset = (size_t) (ps.p - ps.start);
                return r;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

JsonValue *json_value_free(JsonValue *v) {
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n_items; i++) {
                json_value_free(v->items[i]);
                if (v->keys)
                        free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        free(v->text);
        free(v);
        return NULL;
}

const JsonValue *json_object_get(const JsonValue *v, const char *key) {
        if (!v || v->type != JSON_OBJECT)
                return NULL;
        /* Last one wins for duplicate keys, as in most parsers. */
        for (size_t i = v->n_items; i > 0; i--)
                if (strcmp(v->keys[i - 1], key) == 0)
                        return v->items[i - 1];
        return NULL;
}

const char *json_string_value(const JsonValue *v) {
        return v && v->type == JSON_STRING ? v->text : NULL;
}

int json_uint_value(const JsonValue *v, uint64_t *ret) {
        if (!v || v->type != JSON_NUMBER)
                return -EINVAL;
        return parse_uint64(v->text, ret);
}

int json_seconds_value(const JsonValue *v, uint64_t *ret_usec) {
        if (!v || v->type != JSON_NUMBER || v->text[0] == '-' || strpbrk(v->text, "eE"))
                return -EINVAL;
        return parse_timespan(v->text, ret_usec) < 0 ? -EINVAL : 0;
}
