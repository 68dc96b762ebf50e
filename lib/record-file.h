/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stored record of an analysis in its results directory: writing it whole, reading it back. */
#pragma once

#include <stddef.h>

#include "record.h"
#include "runtime-scope.h"
#include "samples.h"

/* The samples file beside ID.json. */
#define RECORD_SAMPLES_SUFFIX ".samples.csv"

/* Largest record read; records are a few KiB (the stderr tail is bounded). */
#define RECORD_FILE_MAX (1024 * 1024)

/* Reads and parses results_dir/ID.json. Returns 0 with *ret (and, if ret_json is not NULL, the JSON text and
 * its size), -ENOENT when there is none, -EBADMSG with a reason in *ret_reason, or another negative errno. */
int record_file_load(const char *results_dir, const char *id, Record *ret, char **ret_json, size_t *ret_size,
                     char **ret_reason);

/* Composes record's notes and writes it as ID.json in results_fd, the results directory of scope, atomically:
 * a reader finds the whole record or none. It is readable by record->caller_uid, root and the admins only
 * (result_access_restrict()). Returns 0 (with the JSON text and its size, if ret_json is not NULL) or a
 * negative errno. */
int record_file_store(int results_fd, RuntimeScope scope, Record *record, char **ret_json, size_t *ret_size);

/* Writes samples as ID.samples.csv beside the record in results_fd, atomically and as private as the record
 * (the same owner, mode and ACL). Returns 0 or a negative errno. */
int record_file_store_samples(int results_fd, RuntimeScope scope, const Record *record, const Samples *samples);
