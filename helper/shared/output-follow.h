/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Following a growing output file and copying what is added to one of our own file descriptors. */
#pragma once

#include <systemd/sd-event.h>

#include "macro.h"

typedef struct OutputFollow OutputFollow;

/* Opens path and copies whatever it holds, and whatever is appended later (inotify on event), to out_fd.
 * Returns 0 or a negative errno (-ENOENT when the file does not exist). */
int output_follow_new(OutputFollow **ret, sd_event *event, const char *path, int out_fd);

/* Copies everything up to the current end of the file. Returns 0 or a negative errno. */
int output_follow_drain(OutputFollow *f);

/* Opens the file again at the same position and copies what was added: for a file written on another NFS
 * client, whose additions a descriptor opened earlier may not see. Returns 0 or a negative errno. */
int output_follow_reopen(OutputFollow *f);

OutputFollow *output_follow_free(OutputFollow *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(OutputFollow *, output_follow_free);
