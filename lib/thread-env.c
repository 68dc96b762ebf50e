/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The thread counts of numerical libraries, from an analysis' CPU quota.
 *
 * OpenBLAS, MKL, OpenMP and numexpr start one thread per CPU of the machine, not of the quota: on a large host
 * a CPU=100% analysis would start dozens of threads that the quota then throttles onto one CPU, and that count
 * against Tasks=. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "thread-env.h"

const char * const thread_env_names[] = {
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "BLIS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        /* numexpr refuses NUMEXPR_NUM_THREADS above this, and warns without it. */
        "NUMEXPR_MAX_THREADS",
        "NUMBA_NUM_THREADS",
        "RAYON_NUM_THREADS",
        NULL,
};

unsigned thread_count_for_quota(uint64_t percent, unsigned ncpus) {
        uint64_t n;

        if (percent == 0 || percent == UINT64_MAX)
                return 0;
        n = (percent + 99) / 100;
        if (ncpus > 0 && n > ncpus)
                n = ncpus;
        return n > 0 ? (unsigned) n : 1;
}

int thread_env_apply(unsigned threads) {
        char value[16];

        if (threads == 0)
                return 0;
        (void) snprintf(value, sizeof(value), "%u", threads);
        for (const char * const *name = thread_env_names; *name; name++)
                if (setenv(*name, value, 0) < 0)
                        return -errno;
        return 0;
}
