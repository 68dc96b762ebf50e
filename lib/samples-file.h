/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The samples file while its analysis runs: in the unit's runtime state directory (units/ID/), appended to by
 * analysis-sampler, rewritten when it grows past its bound, and taken by the recorder. Each step holds an
 * flock on the directory, so that a rewrite never races the recorder taking the file. */
#pragma once

#include <stddef.h>

#include "samples.h"

#define SAMPLES_INFLIGHT_NAME "samples.csv"
/* Left by the recorder once it has taken the file: the sampler writes no more for this analysis. */
#define SAMPLES_TAKEN_NAME "samples-taken"

/* Appends text (whole rows) to the in-flight file in dir_fd, creating it with head first when there is none.
 * Returns the file's size after the write, -ESTALE once the recorder has taken the file, or a negative errno. */
int samples_inflight_append(int dir_fd, const char *head, const char *text, size_t size);

/* Replaces the in-flight file with s, atomically. Returns 0, -ESTALE once taken, or a negative errno. */
int samples_inflight_replace(int dir_fd, const Samples *s);

/* Reads the in-flight file into *ret and marks it taken, so the sampler leaves it alone from then on. Returns 0,
 * -ENOENT when there is none (marked taken all the same), -EBADMSG with a reason, or a negative errno. */
int samples_inflight_take(int dir_fd, Samples *ret, char **ret_reason);

/* Reads a samples file of at most SAMPLES_FILE_MAX bytes at dir_fd/name. Returns 0, -EFBIG, or what
 * samples_parse() returns. */
int samples_file_read_at(int dir_fd, const char *name, Samples *ret, char **ret_reason);

/* Larger than any file SAMPLES_ROWS_MAX rows make. */
#define SAMPLES_FILE_MAX (4 * 1024 * 1024)
