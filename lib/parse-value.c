/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict parsers for the value syntaxes profiles share with systemd: sizes, percentages, time spans, booleans. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <inttypes.h>

#include "macro.h"

#include "parse-value.h"

#define WHITESPACE " \t"

/* isdigit() without its locale table: a call per character (__ctype_b_loc()) in every number of every
 * profile. */
static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool add_overflows(uint64_t a, uint64_t b, uint64_t *ret) {
        return __builtin_add_overflow(a, b, ret);
}

static bool mul_overflows(uint64_t a, uint64_t b, uint64_t *ret) {
        return __builtin_mul_overflow(a, b, ret);
}

typedef struct Decimal {
        uint64_t whole;
        uint64_t frac;          /* the digits after the point, as an integer */
        uint64_t frac_scale;    /* 10^(number of digits kept after the point) */
} Decimal;

/* Reads "DIGITS[.DIGITS]" at *p and advances *p past it. Returns 0, -EINVAL when there is no number, -ERANGE
 * when the integer part does not fit in 64 bits. */
static int parse_decimal(const char **p, Decimal *ret) {
        const char *s = *p;
        Decimal d = { .frac_scale = 1 };

        if (!is_digit(*s))
                return -EINVAL;
        for (; is_digit(*s); s++)
                if (mul_overflows(d.whole, 10, &d.whole) || add_overflows(d.whole, (uint64_t) (*s - '0'), &d.whole))
                        return -ERANGE;
        if (*s == '.') {
                s++;
                if (!is_digit(*s))
                        return -EINVAL;
                for (; is_digit(*s); s++)
                        /* Digits beyond the 18th place cannot change any result we compute. */
                        if (d.frac_scale < UINT64_C(1000000000000000000)) {
                                d.frac = d.frac * 10 + (uint64_t) (*s - '0');
                                d.frac_scale *= 10;
                        }
        }
        *p = s;
        *ret = d;
        return 0;
}

/* Returns d * multiplier in *ret, the fraction rounded down. Returns 0 or -ERANGE. */
static int decimal_scale(const Decimal *d, uint64_t multiplier, uint64_t *ret) {
        uint64_t result, frac_part;

        if (mul_overflows(d->whole, multiplier, &result))
                return -ERANGE;
        /* frac < frac_scale <= 10^18: split the multiplier so no intermediate product overflows. */
        frac_part = d->frac * (multiplier / d->frac_scale) +
                    (d->frac * (multiplier % d->frac_scale)) / d->frac_scale;
        if (add_overflows(result, frac_part, &result))
                return -ERANGE;
        *ret = result;
        return 0;
}

int parse_uint64(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || !is_digit(*s))
                return -EINVAL;
        for (; *s; s++) {
                if (!is_digit(*s))
                        return -EINVAL;
                if (mul_overflows(v, 10, &v) || add_overflows(v, (uint64_t) (*s - '0'), &v))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

/* Parses a number with an optional suffix K, M, G, T, P or E meaning base^1 to base^6, then an optional B. */
static int parse_size_with_base(const char *s, uint64_t base, uint64_t *ret) {
        static const char suffixes[] = "KMGTPE";
        const char *p = s, *suffix;
        uint64_t factor = 1;
        Decimal d;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_decimal(&p, &d);
        if (r < 0)
                return r;
        p += strspn(p, WHITESPACE);
        if (*p && (suffix = strchr(suffixes, *p))) {
                for (const char *q = suffixes; q <= suffix; q++)
                        factor *= base;
                p++;
        }
        if (*p == 'B')
                p++;
        if (*p)
                return -EINVAL;
        return decimal_scale(&d, factor, ret);
}

int parse_size(const char *s, uint64_t *ret) {
        return parse_size_with_base(s, 1024, ret);
}

int parse_bandwidth(const char *s, uint64_t *ret) {
        return parse_size_with_base(s, 1000, ret);
}

int parse_percent(const char *s, unsigned max_percent, unsigned *ret) {
        size_t n;
        uint64_t v;
        char digits[21];
        int r;

        if (!s)
                return -EINVAL;
        n = strlen(s);
        if (n < 2 || s[n - 1] != '%' || n - 1 >= sizeof(digits))
                return n >= sizeof(digits) + 1 && s[n - 1] == '%' ? -ERANGE : -EINVAL;
        memcpy(digits, s, n - 1);
        digits[n - 1] = '\0';
        r = parse_uint64(digits, &v);
        if (r < 0)
                return r;
        if (v > max_percent)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int parse_timespan(const char *s, uint64_t *ret_usec) {
        /* Order matters: the first prefix that matches wins, so longer spellings come first (systemd's order). */
        static const struct {
                const char *suffix;
                uint64_t usec;
        } table[] = {
                { "seconds", USEC_PER_SEC },
                { "second", USEC_PER_SEC },
                { "sec", USEC_PER_SEC },
                { "s", USEC_PER_SEC },
                { "minutes", 60 * USEC_PER_SEC },
                { "minute", 60 * USEC_PER_SEC },
                { "min", 60 * USEC_PER_SEC },
                { "months", 2629800 * USEC_PER_SEC },
                { "month", 2629800 * USEC_PER_SEC },
                { "M", 2629800 * USEC_PER_SEC },
                { "msec", 1000 },
                { "ms", 1000 },
                { "m", 60 * USEC_PER_SEC },
                { "hours", 3600 * USEC_PER_SEC },
                { "hour", 3600 * USEC_PER_SEC },
                { "hr", 3600 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC },
                { "days", 86400 * USEC_PER_SEC },
                { "day", 86400 * USEC_PER_SEC },
                { "d", 86400 * USEC_PER_SEC },
                { "weeks", 604800 * USEC_PER_SEC },
                { "week", 604800 * USEC_PER_SEC },
                { "w", 604800 * USEC_PER_SEC },
                { "years", 31557600 * USEC_PER_SEC },
                { "year", 31557600 * USEC_PER_SEC },
                { "y", 31557600 * USEC_PER_SEC },
                { "usec", 1 },
                { "us", 1 },
                { "μs", 1 },
        };
        const char *p = s;
        uint64_t total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        p += strspn(p, WHITESPACE);
        if (strcmp(p, "infinity") == 0) {
                *ret_usec = USEC_INFINITY;
                return 0;
        }
        for (;;) {
                uint64_t multiplier = USEC_PER_SEC, v;
                Decimal d;
                int r;

                p += strspn(p, WHITESPACE);
                if (!*p)
                        break;
                r = parse_decimal(&p, &d);
                if (r < 0)
                        return r;
                p += strspn(p, WHITESPACE);
                for (size_t i = 0; i < ELEMENTSOF(table); i++)
                        if (p[0] == table[i].suffix[0] && strncmp(p, table[i].suffix, strlen(table[i].suffix)) == 0) {
                                multiplier = table[i].usec;
                                p += strlen(table[i].suffix);
                                break;
                        }
                /* A unit must be followed by a space, a digit or the end: "5mins" is refused. */
                if (*p && !is_digit(*p) && !strchr(WHITESPACE, *p))
                        return -EINVAL;
                r = decimal_scale(&d, multiplier, &v);
                if (r < 0)
                        return r;
                if (add_overflows(total, v, &total) || total == USEC_INFINITY)
                        return -ERANGE;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret_usec = total;
        return 0;
}

int parse_boolean(const char *s) {
        static const char * const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char * const no[] = { "0", "no", "n", "false", "f", "off" };

        char first;

        if (!s)
                return -EINVAL;
        /* The first character rules out most words without a call (every profile has a few booleans). */
        first = (char) tolower((unsigned char) s[0]);
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (first == yes[i][0] && strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (first == no[i][0] && strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

char *format_uint64(uint64_t v, char *buf) {
        char digits[DECIMAL_UINT64_MAX];
        size_t n = 0;

        /* By hand, not snprintf(): the generator formats a dozen numbers per profile, and printf's machinery
         * was a tenth of its instructions. */
        do {
                digits[n++] = (char) ('0' + v % 10);
                v /= 10;
        } while (v > 0);
        while (n > 0)
                *buf++ = digits[--n];
        *buf = '\0';
        return buf;
}

const char *format_seconds_buf(uint64_t usec, char buf[static FORMAT_SECONDS_MAX]) {
        uint64_t frac = usec % USEC_PER_SEC;
        char *p;

        if (usec == USEC_INFINITY)
                return strcpy(buf, "infinity");
        p = format_uint64(usec / USEC_PER_SEC, buf);
        if (frac == 0)
                return buf;
        /* Six digits after the point, then the trailing zeros dropped: 1500000 is "1.5". */
        *p++ = '.';
        for (uint64_t scale = USEC_PER_SEC / 10; scale > 0 && frac > 0; scale /= 10) {
                *p++ = (char) ('0' + frac / scale);
                frac %= scale;
        }
        *p = '\0';
        return buf;
}

int format_seconds(uint64_t usec, char **ret) {
        char buf[FORMAT_SECONDS_MAX];

        *ret = strdup(format_seconds_buf(usec, buf));
        return *ret ? 0 : -ENOMEM;
}

/* value in base-1000 or base-1024 steps with one decimal: "2.0 GiB", "50.0 MB/s"; below one step, whole units. */
static const char *format_scaled(uint64_t value, unsigned base, const char * const units[static 7], char *buf, size_t n) {
        double v = (double) value;
        size_t i;

        if (value < base) {
                (void) snprintf(buf, n, "%" PRIu64 " %s", value, units[0]);
                return buf;
        }
        for (i = 1, v /= base; v >= base && i + 1 < 7; i++)
                v /= base;
        (void) snprintf(buf, n, "%.1f %s", v, units[i]);
        return buf;
}

const char *format_bytes(uint64_t bytes, char *buf, size_t n) {
        static const char * const units[7] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

        return format_scaled(bytes, 1024, units, buf, n);
}

const char *format_bandwidth(uint64_t bytes_per_sec, char *buf, size_t n) {
        static const char * const units[7] = { "B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s", "EB/s" };

        return format_scaled(bytes_per_sec, 1000, units, buf, n);
}

const char *format_duration(uint64_t usec, char *buf, size_t n) {
        uint64_t s = usec / USEC_PER_SEC;

        if (usec < USEC_PER_SEC)
                (void) snprintf(buf, n, "%" PRIu64 " ms", usec / 1000);
        else if (usec < 10 * USEC_PER_SEC && usec % USEC_PER_SEC >= 100000)
                (void) snprintf(buf, n, "%" PRIu64 ".%" PRIu64 " s", s, (usec % USEC_PER_SEC) / 100000);
        else if (s < 60)
                (void) snprintf(buf, n, "%" PRIu64 " s", s);
        else if (s < 3600)
                (void) snprintf(buf, n, s % 60 ? "%" PRIu64 " min %" PRIu64 " s" : "%" PRIu64 " min", s / 60, s % 60);
        else
                (void) snprintf(buf, n, (s % 3600) / 60 ? "%" PRIu64 " h %" PRIu64 " min" : "%" PRIu64 " h",
                                s / 3600, (s % 3600) / 60);
        return buf;
}

uint64_t physical_memory(void) {
        /* Read once (a sysinfo() each time otherwise): every Memory= percentage of every profile asks. */
        static uint64_t total = 0;

        if (total == 0) {
                long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);

                total = pages > 0 && page_size > 0 ? (uint64_t) pages * (uint64_t) page_size : UINT64_MAX;
        }
        return total;
}

int parse_memory_limit(const char *s, uint64_t *ret) {
        unsigned percent;
        uint64_t total;
        int r;

        if (!strchr(s, '%'))
                return parse_size(s, ret);
        r = parse_percent(s, 100, &percent);
        if (r < 0)
                return r;
        total = physical_memory();
        if (total == UINT64_MAX)
                return -ERANGE;
        *ret = total / 100 * percent;
        return 0;
}
