/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One typed configuration value: its kinds, strict parsing with a reason on failure, and unit formatting. */

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "parse-value.h"
#include "setting.h"
#include "strv.h"

/* Longest user name useradd accepts on Debian. */
#define USER_NAME_MAX 32

unsigned cpu_percent_max(void) {
        /* Read once: glibc reads /sys/devices/system/cpu/possible on every call, which was three of the
         * generator's system calls per profile. */
        static long n = 0;

        if (n == 0)
                n = sysconf(_SC_NPROCESSORS_CONF);
        return 100 * (unsigned) (n > 0 ? n : 1);
}

static int reason(char **ret_reason, int r, const char *format, ...) _printf_(3, 4);
static int reason(char **ret_reason, int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        if (vasprintf(ret_reason, format, ap) < 0)
                *ret_reason = NULL;
        va_end(ap);
        return r;
}

/* Control characters would end the unit line early; a backslash could join the next line or start an
 * escape, so a value could smuggle in a directive of its own. */
static int check_plain_text(const char *value, char **ret_reason) {
        for (const char *p = value; *p; p++) {
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return reason(ret_reason, -EINVAL, "control characters are not allowed");
                if (*p == '\\')
                        return reason(ret_reason, -EINVAL, "backslashes are not allowed");
        }
        return 0;
}

static int parse_user(const char *value, Setting *ret, char **ret_reason) {
        uint64_t uid;
        size_t n = strlen(value);

        if (parse_uint64(value, &uid) == 0) {
                if (uid >= UINT32_MAX - 1)
                        return reason(ret_reason, -ERANGE, "UID out of range");
        } else {
                if (n > USER_NAME_MAX)
                        return reason(ret_reason, -EINVAL, "user names have at most %d characters", USER_NAME_MAX);
                if (!(islower((unsigned char) value[0]) || value[0] == '_') ||
                    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
                        return reason(ret_reason, -EINVAL,
                                      "expected a user name ([a-z_][a-z0-9_-]*) or a numeric UID");
        }
        ret->text = strdup(value);
        return ret->text ? 0 : -ENOMEM;
}

/* ExecStart= gets this value verbatim after the runner's "--", so it must be a plain absolute command line:
 * no prefix such as '+' (which would run it as root), balanced quotes, and no specifier but %i, %I and %%. */
static int parse_command(const char *value, Setting *ret, char **ret_reason) {
        char quote = 0;
        int r;

        r = check_plain_text(value, ret_reason);
        if (r < 0)
                return r;
        if (value[0] != '/')
                return reason(ret_reason, -EINVAL, "the command must start with an absolute path");
        for (const char *p = value; *p; p++) {
                if (*p == '%') {
                        p++;
                        if (!*p || !strchr("iI%", *p))
                                return reason(ret_reason, -EINVAL,
                                              "only the specifiers %%i, %%I and %%%% are allowed");
                } else if (quote && *p == quote)
                        quote = 0;
                else if (!quote && (*p == '"' || *p == '\''))
                        quote = *p;
        }
        if (quote)
                return reason(ret_reason, -EINVAL, "unbalanced %c quote", quote);
        ret->text = strdup(value);
        return ret->text ? 0 : -ENOMEM;
}

/* Returns in *ret path with "//" collapsed and no trailing "/". "." and ".." are refused rather than resolved:
 * a path is taken as written. */
static int path_normalize(const char *path, char **ret, char **ret_reason) {
        _cleanup_free_ char *normal = malloc(strlen(path) + 2);
        size_t n = 0;

        if (!normal)
                return -ENOMEM;
        if (path[0] != '/')
                return reason(ret_reason, -EINVAL, "'%s' is not an absolute path", path);
        for (const char *p = path; *p;) {
                size_t c;

                p += strspn(p, "/");
                c = strcspn(p, "/");
                if (c == 0)
                        break;
                if (strncmp(p, ".", c) == 0 || strncmp(p, "..", c) == 0)
                        return reason(ret_reason, -EINVAL, "'%s': \".\" and \"..\" are not allowed in a path", path);
                normal[n++] = '/';
                memcpy(normal + n, p, c);
                n += c;
                p += c;
        }
        if (n == 0)
                normal[n++] = '/';
        normal[n] = '\0';
        *ret = TAKE_PTR(normal);
        return 0;
}

/* Spaces separate the items, so a path cannot hold one; "%" would start a systemd specifier and quotes would
 * be unquoted by systemd. The normalized paths are kept joined by single spaces. */
static int parse_paths(const char *value, Setting *ret, char **ret_reason) {
        _cleanup_strv_free_ char **items = NULL, **paths = NULL;
        _cleanup_free_ char *joined = NULL;
        size_t n = 0;
        int r;

        r = check_plain_text(value, ret_reason);
        if (r < 0)
                return r;
        for (const char *p = value; *p; p++)
                if (strchr("%\"'", *p))
                        return reason(ret_reason, -EINVAL, "'%c' is not allowed in a path", *p);
        r = strv_split(value, " ", &items);
        if (r < 0)
                return r;
        if (strv_length(items) == 0)
                return reason(ret_reason, -EINVAL, "expected absolute paths separated by spaces");
        STRV_FOREACH(item, items) {
                char *normal = NULL;

                r = path_normalize(*item, &normal, ret_reason);
                if (r < 0)
                        return r;
                if (strv_contains(paths, normal)) {
                        r = reason(ret_reason, -EINVAL, "'%s' is listed twice", normal);
                        free(normal);
                        return r;
                }
                r = strv_consume(&paths, normal);
                if (r < 0)
                        return r;
                n += strlen(normal) + 1;
        }
        joined = malloc(n);
        if (!joined)
                return -ENOMEM;
        joined[0] = '\0';
        STRV_FOREACH(path, paths) {
                if (path != paths)
                        strcat(joined, " ");
                strcat(joined, *path);
        }
        ret->text = TAKE_PTR(joined);
        return 0;
}

/* One path, as an item of parse_paths() is: no space, '%' or quote, normalized. */
static int parse_path(const char *value, Setting *ret, char **ret_reason) {
        int r;

        r = check_plain_text(value, ret_reason);
        if (r < 0)
                return r;
        for (const char *p = value; *p; p++)
                if (strchr("%\"' \t", *p))
                        return reason(ret_reason, -EINVAL, "'%c' is not allowed in the path", *p);
        return path_normalize(value, &ret->text, ret_reason);
}

static int parse_name(const char *value, Setting *ret, char **ret_reason) {
        size_t n = strlen(value);

        if (n == 0 || n > 64 ||
            strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n || value[0] == '-')
                return reason(ret_reason, -EINVAL, "expected 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-', "
                              "not starting with '-'");
        ret->text = strdup(value);
        return ret->text ? 0 : -ENOMEM;
}

static int parse_backend(const char *value, Setting *ret, char **ret_reason) {
        if (strcmp(value, "systemd") != 0 && strcmp(value, "slurm") != 0)
                return reason(ret_reason, -EINVAL, "expected systemd or slurm");
        ret->text = strdup(value);
        return ret->text ? 0 : -ENOMEM;
}

static int parse_choice(const char *value, const char * const *choices, Setting *ret, char **ret_reason) {
        int b = parse_boolean(value);

        if (b >= 0)
                value = b ? "yes" : "no";
        for (const char * const *c = choices; *c; c++)
                if (strcmp(value, *c) == 0) {
                        ret->text = strdup(*c);
                        return ret->text ? 0 : -ENOMEM;
                }
        return reason(ret_reason, -EINVAL, "expected one of %s, %s, %s or %s", choices[0], choices[1],
                      choices[2], choices[3]);
}

static int parse_number_or_infinity(ValueKind kind, SettingFlags flags, const char *value, Setting *ret,
                                    char **ret_reason) {
        int r;

        if (strcmp(value, "infinity") == 0) {
                if (!(flags & SETTING_ALLOW_INFINITY))
                        return reason(ret_reason, -EINVAL, "an analysis must have a finite limit");
                ret->infinity = true;
                return 0;
        }

        switch (kind) {
        case VALUE_MEMORY: {
                unsigned percent;

                if (strchr(value, '%')) {
                        r = parse_percent(value, 100, &percent);
                        if (r < 0)
                                return reason(ret_reason, r, "a percentage of RAM must be an integer from 1%% to 100%%");
                        ret->percent = true;
                        ret->number = percent;
                } else {
                        r = parse_size(value, &ret->number);
                        if (r == -ERANGE)
                                return reason(ret_reason, r, "size does not fit in 64 bits");
                        if (r < 0)
                                return reason(ret_reason, r,
                                              "expected bytes with an optional K, M, G or T suffix, or a percentage of RAM such as 50%%");
                }
                break;
        }
        case VALUE_CPU: {
                unsigned percent, max = cpu_percent_max();

                r = parse_percent(value, UINT32_MAX, &percent);
                if (r < 0 && r != -ERANGE)
                        return reason(ret_reason, r, "expected a percentage of one CPU such as 100%%");
                if (r == -ERANGE || percent > max)
                        return reason(ret_reason, -ERANGE,
                                      "more than the %u%% this machine's %u CPUs can give, which would mean no limit",
                                      max, max / 100);
                ret->number = percent;
                break;
        }
        case VALUE_TASKS:
                r = parse_uint64(value, &ret->number);
                if (r == -EINVAL)
                        return reason(ret_reason, r, "expected a number of tasks");
                if (r == -ERANGE || ret->number > TASKS_MAX_LIMIT)
                        return reason(ret_reason, -ERANGE, "at most %" PRIu64 " tasks", TASKS_MAX_LIMIT);
                break;
        case VALUE_TIMESPAN:
                r = parse_timespan(value, &ret->number);
                if (r == -ERANGE)
                        return reason(ret_reason, r, "time span too long");
                if (r < 0)
                        return reason(ret_reason, r, "expected a time span such as 30s, 10min or 1h 30min");
                if (ret->number == USEC_INFINITY) {
                        ret->number = 0;
                        return parse_number_or_infinity(kind, flags, "infinity", ret, ret_reason);
                }
                if ((flags & SETTING_MIN_ONE_SECOND) && ret->number < USEC_PER_SEC && ret->number > 0)
                        return reason(ret_reason, -ERANGE, "must be at least 1s");
                break;
        case VALUE_CPU_WEIGHT:
                r = parse_uint64(value, &ret->number);
                if (r < 0 || ret->number < 1 || ret->number > 10000)
                        return reason(ret_reason, r < 0 ? r : -ERANGE, "expected a weight from 1 to 10000");
                break;
        case VALUE_BANDWIDTH:
                r = parse_bandwidth(value, &ret->number);
                if (r == -ERANGE)
                        return reason(ret_reason, r, "bandwidth does not fit in 64 bits");
                if (r < 0)
                        return reason(ret_reason, r,
                                      "expected bytes per second with an optional K, M, G or T suffix (powers of 1000) such as 50M");
                break;
        default:
                return -EINVAL;
        }

        if (ret->number == 0 && !(flags & SETTING_ALLOW_ZERO))
                return reason(ret_reason, -ERANGE, "zero is not a usable limit");
        return 0;
}

int setting_parse(ValueKind kind, SettingFlags flags, const char *value, Setting *ret, char **ret_reason) {
        static const char * const protect_system[] = { "no", "yes", "full", "strict", NULL };
        static const char * const protect_home[] = { "no", "yes", "read-only", "tmpfs", NULL };
        Setting s = {};
        int r;

        switch (kind) {
        case VALUE_TEXT:
                r = check_plain_text(value, ret_reason);
                if (r >= 0) {
                        s.text = strdup(value);
                        r = s.text ? 0 : -ENOMEM;
                }
                break;
        case VALUE_USER:
                r = parse_user(value, &s, ret_reason);
                break;
        case VALUE_COMMAND:
                r = parse_command(value, &s, ret_reason);
                break;
        case VALUE_BOOLEAN:
                r = parse_boolean(value);
                if (r < 0)
                        r = reason(ret_reason, r, "expected yes or no");
                else {
                        s.number = (uint64_t) r;
                        r = 0;
                }
                break;
        case VALUE_PROTECT_SYSTEM:
                r = parse_choice(value, protect_system, &s, ret_reason);
                break;
        case VALUE_PROTECT_HOME:
                r = parse_choice(value, protect_home, &s, ret_reason);
                break;
        case VALUE_PATHS:
                r = parse_paths(value, &s, ret_reason);
                break;
        case VALUE_PATH:
                r = parse_path(value, &s, ret_reason);
                break;
        case VALUE_BACKEND:
                r = parse_backend(value, &s, ret_reason);
                break;
        case VALUE_NAME:
                r = parse_name(value, &s, ret_reason);
                break;
        default:
                r = parse_number_or_infinity(kind, flags, value, &s, ret_reason);
        }
        if (r < 0) {
                setting_clear(&s);
                return r;
        }
        s.set = true;
        *ret = s;
        return 0;
}

/* Doubles every '%' so systemd does not read specifiers in text shown to people. */
static char *escape_specifiers(const char *s) {
        size_t n = 0;
        char *ret, *q;

        for (const char *p = s; *p; p++)
                n += *p == '%' ? 2 : 1;
        ret = malloc(n + 1);
        if (!ret)
                return NULL;
        for (q = ret; *s; s++) {
                if (*s == '%')
                        *q++ = '%';
                *q++ = *s;
        }
        *q = '\0';
        return ret;
}

_Static_assert(SETTING_UNIT_NUMBER_MAX >= FORMAT_SECONDS_MAX && SETTING_UNIT_NUMBER_MAX >= DECIMAL_UINT64_MAX + 1,
               "a number with its '%' or a time span in seconds fits in SETTING_UNIT_NUMBER_MAX");

const char *setting_unit_value(ValueKind kind, const Setting *s, char buf[static SETTING_UNIT_NUMBER_MAX]) {
        if (s->infinity)
                return "infinity";
        switch (kind) {
        case VALUE_TEXT:
                return strchr(s->text, '%') ? NULL : s->text;
        case VALUE_USER:
        case VALUE_COMMAND:
        case VALUE_PROTECT_SYSTEM:
        case VALUE_PROTECT_HOME:
        case VALUE_PATHS:
        case VALUE_PATH:
        case VALUE_BACKEND:
        case VALUE_NAME:
                return s->text;
        case VALUE_BOOLEAN:
                return s->number ? "yes" : "no";
        case VALUE_MEMORY:
                if (s->percent)
                        strcpy(format_uint64(s->number, buf), "%");
                else
                        (void) format_uint64(s->number, buf);
                return buf;
        case VALUE_CPU:
                strcpy(format_uint64(s->number, buf), "%");
                return buf;
        case VALUE_TASKS:
        case VALUE_CPU_WEIGHT:
        case VALUE_BANDWIDTH:
                (void) format_uint64(s->number, buf);
                return buf;
        case VALUE_TIMESPAN:
                return format_seconds_buf(s->number, buf);
        default:
                return NULL;
        }
}

int setting_format_for_unit(ValueKind kind, const Setting *s, char **ret) {
        char buf[SETTING_UNIT_NUMBER_MAX];
        const char *value;

        if (kind == VALUE_TEXT && !s->infinity)
                *ret = escape_specifiers(s->text);
        else {
                value = setting_unit_value(kind, s, buf);
                if (!value)
                        return -EINVAL;
                *ret = strdup(value);
        }
        return *ret ? 0 : -ENOMEM;
}

void setting_clear(Setting *s) {
        free(s->text);
        *s = (Setting) {};
}

int setting_copy(Setting *dst, const Setting *src) {
        *dst = *src;
        if (src->text) {
                dst->text = strdup(src->text);
                if (!dst->text)
                        return -ENOMEM;
        }
        return 0;
}
