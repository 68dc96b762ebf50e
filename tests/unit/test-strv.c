/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for strv.c: appending with a known length, sorting with duplicates dropped. */

#undef NDEBUG
#include <assert.h>
#include <string.h>

#include "macro.h"
#include "strv.h"

static char **make(const char * const *items, size_t n) {
        char **l = NULL;
        size_t len = 0;

        for (size_t i = 0; i < n; i++)
                assert(strv_consume_at(&l, &len, strdup(items[i])) == 0);
        assert(len == n);
        assert(strv_length(l) == n);
        return l;
}

static void expect_sort_uniq(const char * const *in, size_t n_in, const char * const *want, size_t n_want) {
        _cleanup_strv_free_ char **l = make(in, n_in);

        strv_sort_uniq(l);
        assert(strv_length(l) == n_want);
        for (size_t i = 0; i < n_want; i++)
                assert(strcmp(l[i], want[i]) == 0);
}

static void test_sort_uniq(void) {
        static const struct {
                const char *in[6];
                size_t n_in;
                const char *want[6];
                size_t n_want;
        } cases[] = {
                { { "b", "a", "c" },                      3, { "a", "b", "c" },      3 },
                { { "tool", "default", "tool" },          3, { "default", "tool" },  2 },
                { { "x", "x", "x", "x" },                 4, { "x" },                1 },
                { { "b", "a", "b", "a", "c", "a" },       6, { "a", "b", "c" },      3 },
                { { "only" },                             1, { "only" },             1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_sort_uniq(cases[i].in, cases[i].n_in, cases[i].want, cases[i].n_want);
}

static void test_empty(void) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t n = 0;

        strv_sort_uniq(NULL);
        strv_sort_uniq(l);
        assert(strv_length(l) == 0);
        assert(strv_consume_at(&l, &n, NULL) == -ENOMEM);
        assert(n == 0);
}

int main(void) {
        test_sort_uniq();
        test_empty();
        return 0;
}
