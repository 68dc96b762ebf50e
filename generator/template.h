/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fills the @NAME@ placeholders of a unit template. */
#pragma once

#include <stddef.h>

typedef struct TemplateVariable {
        const char *name;
        const char *value;      /* NULL: every line that uses the variable is left out */
        char * const *values;   /* instead of value, a list: a line that uses the variable is written once per
                                 * item (and left out for an empty list); at most one list per line */
} TemplateVariable;

/* A text that grows as it is rendered into. The generator keeps one for all its units, so rendering a unit
 * allocates nothing once the buffer has reached the size of the largest unit. */
typedef struct TemplateParsed TemplateParsed;
typedef struct TemplateValue TemplateValue;

typedef struct TemplateBuffer {
        char *data;             /* NUL-terminated after a successful render */
        size_t size;            /* without the NUL */
        size_t allocated;
        TemplateParsed *parsed; /* each template rendered into this buffer, parsed once (template.c) */
        TemplateValue *values;  /* what a rendering found out about each variable's value (template.c) */
        size_t n_values;
} TemplateBuffer;

/* Frees the buffer's memory and clears it. */
void template_buffer_done(TemplateBuffer *b);

/* Renders template into b, replacing what b held: lines starting with "##" are dropped, each @NAME@ is replaced
 * by its variable's value, a line using a variable whose value is NULL is dropped, and a line using a list
 * variable is repeated for each item. Returns 0; -EINVAL with the name in *ret_bad_name when a placeholder has no
 * variable, a value holds a control character (which could end the line and start a directive of its own) or a
 * line uses two lists; -ENOMEM. On failure b's content is undefined. The template is parsed once per buffer and
 * known by its address afterwards, and so are the variables' names: neither may change while b is used with
 * them (the generator's are compiled in). */
int template_render_into(TemplateBuffer *b, const char *template, const TemplateVariable *vars, size_t n_vars,
                         char **ret_bad_name);

/* As template_render_into(), into a new string returned in *ret. */
int template_render(const char *template, const TemplateVariable *vars, size_t n_vars, char **ret,
                    char **ret_bad_name);
