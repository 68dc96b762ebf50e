/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fills the @NAME@ placeholders of a unit template. */
#pragma once

#include <stddef.h>

typedef struct TemplateVariable {
        const char *name;
        const char *value;      /* NULL: every line that uses the variable is left out */
} TemplateVariable;

/* Renders template: lines starting with "##" are dropped, each @NAME@ is replaced by its variable's value, and a
 * line using a variable whose value is NULL is dropped. Returns 0 with the text in *ret; -EINVAL with the name in
 * *ret_bad_name when a placeholder has no variable or a value holds a control character (which could end the
 * line and start a directive of its own); -ENOMEM. */
int template_render(const char *template, const TemplateVariable *vars, size_t n_vars, char **ret,
                    char **ret_bad_name);
