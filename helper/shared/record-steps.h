/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The steps of writing an analysis' record that the unit's own recorder (analysis-record finish) and the tools
 * that stand in for it (analysis-recover) share: the exit, the output directory, the record file, and
 * removing what the analysis left once its record is complete. */
#pragma once

#include <stdbool.h>

#include "cgroup-sample.h"
#include "paths.h"
#include "record.h"
#include "runtime-scope.h"

typedef struct RecordTarget {
        const AnalysisPaths *paths;
        const char *id;
        const char *results_dir;
        RuntimeScope scope;
} RecordTarget;

/* Sets the record's exit from systemd's words: "exited" with a status, or "killed"/"dumped" with a signal. */
void record_set_exit(Record *r, const char *exit_code, const char *status);

/* Whether a signal is one systemd counts as a clean exit (TERM, INT, HUP, PIPE): a stop from outside. */
bool record_is_stop_signal(const char *signal);

/* Whether the caller asked for a stop: spool/ID/cancel, owned by whoever owns spool/ID. */
bool record_cancel_requested(const RecordTarget *t);

/* Measures the output directory and names it in the record where it is to be handed over (ran: the analysis
 * ran, so there is something to hand over). Under a user's manager the analysis wrote into it directly. */
void record_measure_output(const RecordTarget *t, Record *record, bool ran);

/* Hands the output directory over to the caller, where the record names one and the system manager's tmpfs
 * still holds it. Returns 0 (also when there is nothing to do) or a negative errno. */
int record_hand_over_output(const RecordTarget *t, const Record *record);

/* Hands the output directory over (record_hand_over_output()); where that fails, the record is stored again
 * without naming it, as a record must not point at a directory that is not there. Sets *ret_hand_over_error to
 * the hand-over's error (0 if none) for the caller to log. Returns 0, or the second store's negative errno. */
int record_hand_over_or_unname(const RecordTarget *t, Record *record, int *ret_hand_over_error);

/* Reads the end of stderr into the record and writes the record into the results directory, whole or not at
 * all. Returns 0 or a negative errno. */
int record_store_final(const RecordTarget *t, Record *record);

/* Once the record is complete: unmounts the output directory and /tmp, and removes the running mark, the spool
 * entry and the unit's snapshot, in that order (the mark last of the durable, so that whatever stops us
 * leaves the work for analysis-recover). */
void record_release(const RecordTarget *t);

/* Takes the samples analysis-sampler kept while the analysis ran (units/ID/samples.csv), adds the last row (from
 * final, the cgroup's counters as the analysis ended, where known) with the limits hit that the record knows,
 * and stores them beside the record, as private as it, naming them in record->samples_file and setting
 * record->usage.tasks_peak to their highest row (left unset on any failure). Where there are
 * none, or they cannot be stored, record->samples_missing says why: the record never waits on them. Returns 0,
 * or a negative errno for the caller to log. */
int record_store_samples(const RecordTarget *t, const CgroupCounters *final, Record *record);
