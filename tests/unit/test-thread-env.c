/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for thread-env.c: thread counts from CPU quotas, and the caller's own settings left alone. */

#undef NDEBUG
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "thread-env.h"

static void test_count(void) {
        static const struct { uint64_t percent; unsigned ncpus, want; } cases[] = {
                { 100, 64, 1 },
                { 150, 64, 2 },
                { 50, 64, 1 },
                { 1, 64, 1 },
                { 200, 64, 2 },
                { 201, 64, 3 },
                { 800, 4, 4 },                  /* never more than the CPUs it may run on */
                { UINT64_MAX, 64, 0 },          /* no quota: the libraries' own default */
                { 0, 64, 0 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert(thread_count_for_quota(cases[i].percent, cases[i].ncpus) == cases[i].want);
}

static void test_apply(void) {
        assert(setenv("OMP_NUM_THREADS", "7", 1) == 0);
        assert(unsetenv("OPENBLAS_NUM_THREADS") == 0);
        assert(thread_env_apply(2) == 0);
        assert(strcmp(getenv("OMP_NUM_THREADS"), "7") == 0);
        for (const char * const *n = thread_env_names + 1; *n; n++)
                assert(strcmp(getenv(*n), "2") == 0);
        assert(unsetenv("MKL_NUM_THREADS") == 0);
        assert(thread_env_apply(0) == 0);
        assert(!getenv("MKL_NUM_THREADS"));
}

int main(void) {
        test_count();
        test_apply();
        return 0;
}
