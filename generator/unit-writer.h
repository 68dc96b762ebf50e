/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Turns a loaded profile and the global configuration into the text of their units. */
#pragma once

#include "profile.h"
#include "runtime-scope.h"
#include "template.h"

typedef struct UnitFile {
        char *name;             /* e.g. "analysis-tool@.service" */
        const char *content;    /* in the buffer it was rendered into: valid until that renders again */
        size_t size;
} UnitFile;

/* Frees the name and clears the fields (the content belongs to its buffer). */
void unit_file_clear(UnitFile *u);

/* Renders the service template of profile p for scope into buf (replacing what it held). Returns 0, -ENOMEM, or -EINVAL with the offending
 * placeholder in *ret_bad_name (a bug in the template, or a value no check should have let through). */
int unit_writer_render_service(const Profile *p, RuntimeScope scope, TemplateBuffer *buf, UnitFile *ret, char **ret_bad_name);

/* Renders analysis-NAME.slice for profile p. Returns as unit_writer_render_service(). */
int unit_writer_render_profile_slice(const Profile *p, RuntimeScope scope, TemplateBuffer *buf, UnitFile *ret, char **ret_bad_name);

/* Renders analysis.slice from the global configuration. Returns as unit_writer_render_service(). */
int unit_writer_render_root_slice(const GlobalConfig *c, RuntimeScope scope, TemplateBuffer *buf, UnitFile *ret, char **ret_bad_name);
