/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The request a caller spools for one analysis. */

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "entry-file.h"
#include "parse-value.h"
#include "request.h"
#include "strv.h"

bool environment_assignment_is_valid(const char *s) {
        const char *eq = strchr(s, '=');

        if (!eq || eq == s || isdigit((unsigned char) s[0]))
                return false;
        for (const char *p = s; p < eq; p++)
                if (!isalnum((unsigned char) *p) && *p != '_')
                        return false;
        return true;
}

static int append_number(char **data, size_t *size, const char *key, uint64_t v) {
        char buf[32];

        if (v == 0)
                return 0;
        (void) snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return entry_append(data, size, key, buf);
}

int request_serialize(const Request *r, char **ret_data, size_t *ret_size) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int k;

        data = strdup(REQUEST_MAGIC);
        if (!data)
                return -ENOMEM;
        size = strlen(REQUEST_MAGIC) + 1;
        k = entry_append(&data, &size, "cwd", r->cwd);
        STRV_FOREACH(a, r->argv)
                if (k >= 0)
                        k = entry_append(&data, &size, "arg", *a);
        STRV_FOREACH(e, r->environment)
                if (k >= 0)
                        k = entry_append(&data, &size, "env", *e);
        if (k >= 0)
                k = append_number(&data, &size, "memory_max", r->memory_max);
        if (k >= 0)
                k = append_number(&data, &size, "cpu_percent", r->cpu_percent);
        if (k >= 0)
                k = append_number(&data, &size, "tasks_max", r->tasks_max);
        if (k >= 0)
                k = append_number(&data, &size, "timeout_usec", r->timeout_usec);
        if (k >= 0)
                k = append_number(&data, &size, "disk_max", r->disk_max);
        if (k >= 0)
                k = append_number(&data, &size, "copy_workdir", r->copy_workdir);
        if (k < 0)
                return k;
        *ret_data = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

static int parse_number(const char *key, const char *value, uint64_t max, uint64_t *ret, char **ret_reason) {
        uint64_t v;

        if (parse_uint64(value, &v) < 0 || v == 0 || v > max) {
                *ret_reason = strprintf("bad %s '%.32s'", key, value);
                return -EBADMSG;
        }
        *ret = v;
        return 0;
}

int request_parse(const char *data, size_t size, Request **ret, char **ret_reason) {
        _cleanup_strv_free_ char **entries = NULL;
        _cleanup_(request_freep) Request *r = NULL;
        int k;

        k = entry_data_parse(data, size, REQUEST_MAGIC, &entries, ret_reason);
        if (k < 0)
                return k;
        r = calloc(1, sizeof(Request));
        if (!r)
                return -ENOMEM;

        STRV_FOREACH(e, entries) {
                const char *eq = strchr(*e, '='), *value = eq + 1;
                size_t key_len = (size_t) (eq - *e);
                uint64_t v = 0;

#define KEY_IS(k) (key_len == strlen(k) && strncmp(*e, k, key_len) == 0)
                if (KEY_IS("arg"))
                        k = strv_extend(&r->argv, value);
                else if (KEY_IS("env")) {
                        if (!environment_assignment_is_valid(value)) {
                                *ret_reason = strprintf("bad environment entry '%.64s'", value);
                                return -EBADMSG;
                        }
                        k = strv_extend(&r->environment, value);
                } else if (KEY_IS("cwd")) {
                        if (r->cwd || value[0] != '/') {
                                *ret_reason = strprintf("bad or repeated cwd '%.64s'", value);
                                return -EBADMSG;
                        }
                        r->cwd = strdup(value);
                        k = r->cwd ? 0 : -ENOMEM;
                } else if (KEY_IS("memory_max"))
                        k = parse_number("memory_max", value, UINT64_MAX - 1, &r->memory_max, ret_reason);
                else if (KEY_IS("cpu_percent")) {
                        k = parse_number("cpu_percent", value, 100000, &v, ret_reason);
                        r->cpu_percent = (unsigned) v;
                } else if (KEY_IS("tasks_max"))
                        k = parse_number("tasks_max", value, TASKS_MAX_LIMIT, &r->tasks_max, ret_reason);
                else if (KEY_IS("timeout_usec"))
                        k = parse_number("timeout_usec", value, UINT64_MAX - 1, &r->timeout_usec, ret_reason);
                else if (KEY_IS("disk_max"))
                        k = parse_number("disk_max", value, UINT64_MAX - 1, &r->disk_max, ret_reason);
                else if (KEY_IS("copy_workdir")) {
                        k = parse_number("copy_workdir", value, 1, &v, ret_reason);
                        r->copy_workdir = v == 1;
                }
                else {
                        *ret_reason = strprintf("unknown entry '%.*s'", (int) (key_len > 32 ? 32 : key_len), *e);
                        return -EBADMSG;
                }
#undef KEY_IS
                if (k < 0)
                        return k;
        }

        if (strv_length(r->argv) == 0 || r->argv[0][0] != '/') {
                *ret_reason = strdup("the command must be given as an absolute path");
                return -EBADMSG;
        }
        if (!r->cwd) {
                *ret_reason = strdup("no working directory");
                return -EBADMSG;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

Request *request_free(Request *r) {
        if (!r)
                return NULL;
        strv_free(r->argv);
        strv_free(r->environment);
        free(r->cwd);
        free(r);
        return NULL;
}
