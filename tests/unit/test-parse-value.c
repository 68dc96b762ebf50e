/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for parse-value.c: sizes, percentages, time spans and booleans in systemd's syntax. */

#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "parse-value.h"

#define KiB UINT64_C(1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)
#define SEC USEC_PER_SEC

typedef struct {
        const char *input;
        int r;
        uint64_t value;
} Case;

static void test_parse_size(void) {
        static const Case cases[] = {
                { "0", 0, 0 },
                { "4096", 0, 4096 },
                { "1K", 0, KiB },
                { "2G", 0, 2 * GiB },
                { "2GB", 0, 2 * GiB },
                { "1.5G", 0, GiB + GiB / 2 },
                { "0.5K", 0, 512 },
                { "512M", 0, 512 * MiB },
                { "1T", 0, TiB },
                { "3 G", 0, 3 * GiB },
                { "100B", 0, 100 },
                { "1.0000000000000000000001K", 0, KiB },
                { "15E", 0, UINT64_C(15) << 60 },
                { "16E", -ERANGE, 0 },
                { "18446744073709551615", 0, UINT64_MAX },
                { "18446744073709551616", -ERANGE, 0 },
                { "99999999999999999999G", -ERANGE, 0 },
                { "", -EINVAL, 0 },
                { "G", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "-1G", -EINVAL, 0 },
                { "+1G", -EINVAL, 0 },
                { "2Q", -EINVAL, 0 },
                { "2g", -EINVAL, 0 },
                { "2GiB", -EINVAL, 0 },
                { "2G ", -EINVAL, 0 },
                { "1.", -EINVAL, 0 },
                { ".5G", -EINVAL, 0 },
                { "1..5G", -EINVAL, 0 },
                { "0x10", -EINVAL, 0 },
                { "1G512M", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 12345;
                int r = parse_size(cases[i].input, &v);

                if (r != cases[i].r || (r == 0 && v != cases[i].value)) {
                        fprintf(stderr, "parse_size(\"%s\") = %d, %" PRIu64 "; want %d, %" PRIu64 "\n",
                                cases[i].input, r, v, cases[i].r, cases[i].value);
                        assert(false);
                }
                if (r < 0)
                        assert(v == 12345);     /* written only on success */
        }
}

/* systemd's IO*BandwidthMax= reads suffixes as powers of 1000. */
static void test_parse_bandwidth(void) {
        static const Case cases[] = {
                { "1", 0, 1 },
                { "1000", 0, 1000 },
                { "1K", 0, 1000 },
                { "50M", 0, UINT64_C(50000000) },
                { "50MB", 0, UINT64_C(50000000) },
                { "1.5M", 0, UINT64_C(1500000) },
                { "2G", 0, UINT64_C(2000000000) },
                { "1T", 0, UINT64_C(1000000000000) },
                { "18E", 0, UINT64_C(18000000000000000000) },
                { "19E", -ERANGE, 0 },
                { "", -EINVAL, 0 },
                { "M", -EINVAL, 0 },
                { "-1M", -EINVAL, 0 },
                { "50m", -EINVAL, 0 },
                { "50MiB", -EINVAL, 0 },
                { "50M/s", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 12345;
                int r = parse_bandwidth(cases[i].input, &v);

                if (r != cases[i].r || (r == 0 && v != cases[i].value)) {
                        fprintf(stderr, "parse_bandwidth(\"%s\") = %d, %" PRIu64 "; want %d, %" PRIu64 "\n",
                                cases[i].input, r, v, cases[i].r, cases[i].value);
                        assert(false);
                }
                if (r < 0)
                        assert(v == 12345);
        }
}

static void test_parse_timespan(void) {
        static const Case cases[] = {
                { "30", 0, 30 * SEC },
                { "30s", 0, 30 * SEC },
                { "30sec", 0, 30 * SEC },
                { "2 seconds", 0, 2 * SEC },
                { "30min", 0, 1800 * SEC },
                { "5m", 0, 300 * SEC },
                { "1h 30min", 0, 5400 * SEC },
                { "1h30min", 0, 5400 * SEC },
                { "1.5h", 0, 5400 * SEC },
                { "1500ms", 0, 1500000 },
                { "1.5s", 0, 1500000 },
                { "250us", 0, 250 },
                { "2d", 0, 2 * 86400 * SEC },
                { "1w", 0, 604800 * SEC },
                { "1M", 0, 2629800 * SEC },
                { "1y", 0, 31557600 * SEC },
                { "  10min  ", 0, 600 * SEC },
                { "infinity", 0, USEC_INFINITY },
                { "0", 0, 0 },
                { "", -EINVAL, 0 },
                { "min", -EINVAL, 0 },
                { "-5s", -EINVAL, 0 },
                { "5 parsecs", -EINVAL, 0 },
                { "5mins", -EINVAL, 0 },
                { "5 s s", -EINVAL, 0 },
                { "1.s", -EINVAL, 0 },
                { "99999999999999y", -ERANGE, 0 },
                { "18446744073709551616us", -ERANGE, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 12345;
                int r = parse_timespan(cases[i].input, &v);

                if (r != cases[i].r || (r == 0 && v != cases[i].value)) {
                        fprintf(stderr, "parse_timespan(\"%s\") = %d, %" PRIu64 "; want %d, %" PRIu64 "\n",
                                cases[i].input, r, v, cases[i].r, cases[i].value);
                        assert(false);
                }
        }
}

static void test_parse_percent(void) {
        static const Case cases[] = {
                { "0%", 0, 0 },
                { "100%", 0, 100 },
                { "150%", 0, 150 },
                { "200%", 0, 200 },
                { "201%", -ERANGE, 0 },
                { "100000%", -ERANGE, 0 },
                { "99999999999999999999999%", -ERANGE, 0 },
                { "100", -EINVAL, 0 },
                { "%", -EINVAL, 0 },
                { "-5%", -EINVAL, 0 },
                { "12.5%", -EINVAL, 0 },
                { "5 %", -EINVAL, 0 },
                { "", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                unsigned v = 7;
                int r = parse_percent(cases[i].input, 200, &v);

                if (r != cases[i].r || (r == 0 && v != cases[i].value)) {
                        fprintf(stderr, "parse_percent(\"%s\") = %d, %u; want %d, %" PRIu64 "\n", cases[i].input,
                                r, v, cases[i].r, cases[i].value);
                        assert(false);
                }
        }
}

static void test_parse_uint64(void) {
        uint64_t v;

        assert(parse_uint64("0", &v) == 0 && v == 0);
        assert(parse_uint64("18446744073709551615", &v) == 0 && v == UINT64_MAX);
        assert(parse_uint64("18446744073709551616", &v) == -ERANGE);
        assert(parse_uint64("", &v) == -EINVAL);
        assert(parse_uint64(" 1", &v) == -EINVAL);
        assert(parse_uint64("1 ", &v) == -EINVAL);
        assert(parse_uint64("+1", &v) == -EINVAL);
        assert(parse_uint64("-1", &v) == -EINVAL);
        assert(parse_uint64(NULL, &v) == -EINVAL);
}

static void test_parse_boolean(void) {
        static const char * const yes[] = { "1", "yes", "YES", "y", "true", "True", "t", "on" };
        static const char * const no[] = { "0", "no", "n", "false", "FALSE", "f", "off" };
        static const char * const bad[] = { "", "2", "yess", "enable", " yes", "nope" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                assert(parse_boolean(yes[i]) == 1);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                assert(parse_boolean(no[i]) == 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert(parse_boolean(bad[i]) == -EINVAL);
}

static void test_format_seconds(void) {
        static const struct {
                uint64_t usec;
                const char *text;
        } cases[] = {
                { 0, "0" },
                { 1800 * SEC, "1800" },
                { 1500000, "1.5" },
                { 1, "0.000001" },
                { 10 * SEC + 250000, "10.25" },
                { UINT64_MAX - 1, "18446744073709.551614" },
                { USEC_INFINITY, "infinity" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = NULL;
                uint64_t back;

                assert(format_seconds(cases[i].usec, &s) == 0);
                assert(strcmp(s, cases[i].text) == 0);
                /* What we write, we (and systemd) read back as the same value. */
                assert(parse_timespan(s, &back) == 0 && back == cases[i].usec);
        }
}

static void test_format_uint64(void) {
        static const struct {
                uint64_t v;
                const char *text;
        } cases[] = {
                { 0, "0" },
                { 7, "7" },
                { 2147483648, "2147483648" },
                { UINT64_MAX, "18446744073709551615" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[DECIMAL_UINT64_MAX];
                char *end = format_uint64(cases[i].v, buf);

                assert(strcmp(buf, cases[i].text) == 0);
                assert(end == buf + strlen(cases[i].text) && *end == '\0');
        }
}

static void test_format_bytes(void) {
        char buf[32];

        assert(strcmp(format_bytes(900, buf, sizeof(buf)), "900 B") == 0);
        assert(strcmp(format_bytes(2 * GiB, buf, sizeof(buf)), "2.0 GiB") == 0);
        assert(strcmp(format_bytes(512 * MiB, buf, sizeof(buf)), "512.0 MiB") == 0);
        assert(strcmp(format_bytes(1536, buf, sizeof(buf)), "1.5 KiB") == 0);
}

static void test_format_bandwidth(void) {
        char buf[32];

        assert(strcmp(format_bandwidth(900, buf, sizeof(buf)), "900 B/s") == 0);
        assert(strcmp(format_bandwidth(UINT64_C(50000000), buf, sizeof(buf)), "50.0 MB/s") == 0);
        assert(strcmp(format_bandwidth(UINT64_C(1500000), buf, sizeof(buf)), "1.5 MB/s") == 0);
        assert(strcmp(format_bandwidth(UINT64_C(2000000000), buf, sizeof(buf)), "2.0 GB/s") == 0);
}

int main(void) {
        test_parse_size();
        test_parse_bandwidth();
        test_parse_timespan();
        test_parse_percent();
        test_parse_uint64();
        test_parse_boolean();
        test_format_seconds();
        test_format_uint64();
        test_format_bytes();
        test_format_bandwidth();
        return 0;
}
