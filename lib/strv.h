/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string arrays. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Frees every string and the array; returns NULL. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Number of strings in l (NULL counts as empty). */
size_t strv_length(char * const *l);

/* Appends a copy of s; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);

/* Appends s itself, taking ownership (freed on failure); returns 0 or -ENOMEM. */
int strv_consume(char ***l, char *s);

/* As strv_consume(), for a caller that keeps the length of l in *n (updated): appending n strings one by one
 * costs n, not n²/2. */
int strv_consume_at(char ***l, size_t *n, char *s);

/* Whether s is one of the strings of l. */
bool strv_contains(char * const *l, const char *s);

/* Sorts l in place with strcmp(). */
void strv_sort(char **l);

/* Sorts l in place with strcmp() and drops (frees) the duplicates. */
void strv_sort_uniq(char **l);

/* Splits s at every character of separators, dropping empty parts. */
int strv_split(const char *s, const char *separators, char ***ret);

#define STRV_FOREACH(s, l) for (char * const *s = (l); s && *s; s++)

/* A copy of l with its first string replaced by first. Returns NULL when out of memory. */
char **strv_copy_replacing_first(char * const *l, const char *first);
