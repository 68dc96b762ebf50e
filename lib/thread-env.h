/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The thread counts of numerical libraries, from an analysis' CPU quota. */
#pragma once

#include <stdint.h>

/* The variables set: OpenMP, OpenBLAS, MKL, BLIS, Apple's vecLib, numexpr, Numba and Rayon (polars). */
extern const char * const thread_env_names[];

/* Threads for a quota of percent of one CPU: whole CPUs rounded up, at least 1, at most ncpus; 0 for no
 * quota (UINT64_MAX or 0), where the libraries' own default (one per CPU) is right. */
unsigned thread_count_for_quota(uint64_t percent, unsigned ncpus);

/* Sets each variable of thread_env_names to threads unless the environment already has it (the caller's
 * choice wins). Does nothing for 0. Returns 0 or -ENOMEM. */
int thread_env_apply(unsigned threads);
