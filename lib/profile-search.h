/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where profiles and the global configuration are found: search paths, precedence, masking and drop-ins. */
#pragma once

#include <stddef.h>

#include "runtime-scope.h"

/* The profile directories for scope, highest precedence first. $ANALYSIS_SANDBOX_PROFILE_PATH (colon-separated,
 * read with secure_getenv()) replaces them. Returns 0 or a negative errno. */
int profile_search_dirs(RuntimeScope scope, char ***ret);

/* The directories that hold analysis-sandbox.conf: the parent of each profile directory, same order. */
int global_config_search_dirs(char * const *profile_dirs, char ***ret);

/* Lists the distinct NAME of every NAME.ini in dirs, sorted. Invalid names are listed too so that the caller
 * can report them. A directory that cannot be read adds a message to *ret_warnings (which may be NULL then).
 * Returns 0 or -ENOMEM. */
int profile_list_names(char * const *dirs, char ***ret_names, char ***ret_warnings);

/* Finds the file filename (e.g. "default.ini") in dirs, the first directory that has it winning, and its
 * drop-ins filename.d/\*.conf from all dirs (for the same drop-in name, the first directory wins), sorted by
 * file name. *ret_files gets the main file followed by the drop-ins, or is empty when no directory has the
 * main file. Unreadable drop-in directories add to *ret_warnings. Returns 0 or -ENOMEM. */
int config_files_find(char * const *dirs, const char *filename, char ***ret_files, char ***ret_warnings);

/* The entries of each directory of dirs, read once, for a caller that looks up many names in them (the
 * generator: a faccessat() and an opendir() of NAME.ini.d that fails were two system calls per profile). */
typedef struct DirIndex {
        char **dirs;            /* not owned: the caller's, kept while the index is used */
        char ***entries;        /* per directory, its entry names sorted; NULL: unreadable, ask the kernel */
        size_t *n_entries;
        size_t n;
} DirIndex;

/* Reads every directory of dirs into *ret. A directory that cannot be read adds a message to *ret_warnings, as
 * profile_list_names() does, and is looked up without the index. Returns 0 or -ENOMEM. */
int dir_index_build(char * const *dirs, DirIndex *ret, char ***ret_warnings);
void dir_index_done(DirIndex *index);

/* profile_list_names() and config_files_find() from the index: the same results, given the same files. */
int dir_index_profile_names(const DirIndex *index, char ***ret_names);
int dir_index_find(const DirIndex *index, const char *filename, char ***ret_files, char ***ret_warnings);
