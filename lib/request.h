/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The request a caller spools for one analysis: the command, its directory and environment, and the limits
 * that tighten the profile's for this analysis only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define REQUEST_MAGIC "analysis-sandbox-request-1"

typedef struct Request {
        char **argv;            /* argv[0] is an absolute path */
        char *cwd;              /* absolute */
        char **environment;     /* NAME=VALUE entries */
        uint64_t memory_max;    /* bytes; 0 leaves the profile's limit */
        unsigned cpu_percent;   /* of one CPU; 0 leaves the profile's */
        uint64_t tasks_max;     /* 0 leaves the profile's */
        uint64_t timeout_usec;  /* 0 leaves the profile's */
        uint64_t disk_max;      /* bytes of its output directory; 0 leaves the profile's Disk= */
        bool copy_workdir;      /* run in a copy of cwd inside the output directory */
} Request;

/* Encodes r as entry-file data. Returns 0 or -ENOMEM. */
int request_serialize(const Request *r, char **ret_data, size_t *ret_size);

/* Decodes and checks a request. Returns 0 with *ret, or -EBADMSG with a reason, or -ENOMEM. */
int request_parse(const char *data, size_t size, Request **ret, char **ret_reason);

/* Whether s is NAME=VALUE with NAME a valid environment variable name. */
bool environment_assignment_is_valid(const char *s);

Request *request_free(Request *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Request *, request_free);
