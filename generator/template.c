/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fills the @NAME@ placeholders of a unit template. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "template.h"

static bool is_name_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static const TemplateVariable *find_variable(const TemplateVariable *vars, size_t n, const char *name, size_t len) {
        /* The first character rules out most of the 30-odd variables without a call. */
        for (size_t i = 0; i < n; i++)
                if (vars[i].name[0] == name[0] && strncmp(vars[i].name, name, len) == 0 && vars[i].name[len] == '\0')
                        return vars + i;
        return NULL;
}

/* Whether s can go into a unit line: no control character, which could end the line and start a directive of
 * its own. Its length goes to *ret_len. */
static bool text_is_plain(const char *s, size_t *ret_len) {
        const char *p;

        for (p = s; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return false;
        *ret_len = (size_t) (p - s);
        return true;
}

static bool variable_is_plain(const TemplateVariable *v, size_t *ret_len) {
        size_t len;

        *ret_len = 0;
        if (v->values) {
                for (char * const *item = v->values; *item; item++)
                        if (!text_is_plain(*item, &len))
                                return false;
                return true;
        }
        return !v->value || text_is_plain(v->value, ret_len);
}

/* What one rendering knows of each variable's value, found when it is first used rather than at each of its
 * placeholders. Kept in the buffer, so a rendering allocates nothing. */
typedef struct TemplateValue {
        bool checked;
        bool plain;             /* no control character */
        size_t len;             /* of value (not of a list's items) */
} TemplateValue;

/* A template as the generator renders it for every profile: runs of lines without placeholders, copied whole,
 * and lines with placeholders, with where each one is. Found once for all the units rendered from the template:
 * finding lines, '@'s and names again for each unit was most of the generator's instructions. Which '@' starts
 * a placeholder depends on the template alone; a plain '@' (an e-mail address) is text like any other. */
typedef struct TemplatePlaceholder {
        size_t offset;          /* of its first '@' in the line */
        size_t name_len;
        size_t hint;            /* the variable's index the last time, tried first */
} TemplatePlaceholder;

typedef struct TemplatePiece {
        size_t start, len;      /* in the template */
        size_t first, n;        /* its placeholders. n == 0: lines copied as they are, newlines included;
                                 * otherwise one line without its newline */
} TemplatePiece;

struct TemplateParsed {
        const char *template;
        TemplatePiece *pieces;
        size_t n_pieces;
        TemplatePlaceholder *placeholders;
        size_t n_placeholders;
        const char **names;     /* of the variables at the last rendering, in their order */
        size_t n_names;
        TemplateParsed *next;
};

/* The length of the placeholder name after the '@' at p (within end), 0 if p starts no placeholder. */
static size_t placeholder_name_len(const char *p, const char *end) {
        size_t name_len = 0;

        /* A plain loop, not strspn(): glibc builds a table for a set this large on every call. */
        while (p + 1 + name_len < end && is_name_char(p[1 + name_len]))
                name_len++;
        if (name_len == 0 || p + 1 + name_len >= end || p[1 + name_len] != '@')
                return 0;
        return name_len;
}

static TemplateParsed *template_parsed_free(TemplateParsed *t) {
        while (t) {
                TemplateParsed *next = t->next;

                free(t->pieces);
                free(t->placeholders);
                free(t->names);
                free(t);
                t = next;
        }
        return NULL;
}

/* Makes room for one more element in *array (of *n, *allocated elements of size). */
static int grow(void *array, size_t n, size_t *allocated, size_t size) {
        void *grown;

        if (n < *allocated)
                return 0;
        grown = reallocarray(*(void **) array, *allocated * 2 + 32, size);
        if (!grown)
                return -ENOMEM;
        *(void **) array = grown;
        *allocated = *allocated * 2 + 32;
        return 0;
}

/* Adds the template's line from line to nl (its newline, or the end) to t. */
static int template_parse_line(TemplateParsed *t, const char *line, const char *nl, size_t *pieces_allocated,
                               size_t *placeholders_allocated) {
        size_t first = t->n_placeholders, start = (size_t) (line - t->template);
        TemplatePiece *last = t->n_pieces > 0 ? t->pieces + t->n_pieces - 1 : NULL;
        const char *p, *at;
        int r;

        for (p = line; (at = memchr(p, '@', (size_t) (nl - p))); ) {
                size_t name_len = placeholder_name_len(at, nl);

                if (name_len == 0) {
                        p = at + 1;
                        continue;
                }
                r = grow(&t->placeholders, t->n_placeholders, placeholders_allocated, sizeof(TemplatePlaceholder));
                if (r < 0)
                        return r;
                t->placeholders[t->n_placeholders++] = (TemplatePlaceholder) {
                        .offset = (size_t) (at - line), .name_len = name_len, .hint = SIZE_MAX };
                p = at + name_len + 2;
        }
        if (t->n_placeholders == first && *nl == '\n') {
                /* A plain line: part of the run of plain lines it follows, if it follows one. */
                if (last && last->n == 0 && last->start + last->len == start) {
                        last->len += (size_t) (nl + 1 - line);
                        return 0;
                }
                r = grow(&t->pieces, t->n_pieces, pieces_allocated, sizeof(TemplatePiece));
                if (r < 0)
                        return r;
                t->pieces[t->n_pieces++] = (TemplatePiece) { .start = start, .len = (size_t) (nl + 1 - line) };
                return 0;
        }
        /* A line with placeholders, or the last line when it has no newline (rendered with one). */
        r = grow(&t->pieces, t->n_pieces, pieces_allocated, sizeof(TemplatePiece));
        if (r < 0)
                return r;
        t->pieces[t->n_pieces++] = (TemplatePiece) {
                .start = start, .len = (size_t) (nl - line), .first = first, .n = t->n_placeholders - first };
        return 0;
}

static int template_parse(const char *template, TemplateParsed **ret) {
        TemplateParsed *t = calloc(1, sizeof(TemplateParsed));
        size_t pieces_allocated = 0, placeholders_allocated = 0;
        int r;

        if (!t)
                return -ENOMEM;
        t->template = template;
        for (const char *line = template; *line;) {
                const char *nl = strchrnul(line, '\n');

                if (strncmp(line, "##", 2) != 0) {
                        r = template_parse_line(t, line, nl, &pieces_allocated, &placeholders_allocated);
                        if (r < 0)
                                return template_parsed_free(t), r;
                }
                line = *nl ? nl + 1 : nl;
        }
        *ret = t;
        return 0;
}

/* One rendering: the variables, and what is known of their values. */
typedef struct Render {
        const TemplateVariable *vars;
        size_t n_vars;
        TemplateValue *values;
        bool same_names;        /* the variables are named as at the last rendering of the template */
} Render;

/* Whether vars are the variables of t's last rendering, same names in the same order. The generator renders
 * each template with the same variables for every profile, so each placeholder's variable is then where it was
 * found last time, without comparing names again (a strncmp() per placeholder). Names are compared by address,
 * as templates are known by theirs. When they differ, the names are remembered and every placeholder is looked
 * up afresh. Returns 1 for the same names, 0 for others, -ENOMEM. */
static int template_parsed_same_names(TemplateParsed *t, const TemplateVariable *vars, size_t n_vars) {
        const char **names;
        size_t i;

        for (i = 0; i < n_vars && i < t->n_names && t->names[i] == vars[i].name; i++)
                ;
        if (i == n_vars && i == t->n_names)
                return 1;
        names = reallocarray(t->names, n_vars ?: 1, sizeof(const char *));
        if (!names)
                return -ENOMEM;
        for (i = 0; i < n_vars; i++)
                names[i] = vars[i].name;
        t->names = names;
        t->n_names = n_vars;
        for (i = 0; i < t->n_placeholders; i++)
                t->placeholders[i].hint = SIZE_MAX;
        return 0;
}

/* The variable of the placeholder named by the n characters at name, tried at *hint first. Returns 0 with
 * *ret_var, or -EINVAL with the name in *ret_bad_name for an unknown one or a value holding a control
 * character. */
static int resolve_placeholder(const char *name, size_t n, size_t *hint, const Render *render,
                               const TemplateVariable **ret_var, char **ret_bad_name) {
        const TemplateVariable *v = NULL;
        TemplateValue *value;

        if (*hint < render->n_vars &&
            (render->same_names ||
             (strncmp(render->vars[*hint].name, name, n) == 0 && render->vars[*hint].name[n] == '\0')))
                v = render->vars + *hint;
        else {
                v = find_variable(render->vars, render->n_vars, name, n);
                if (v)
                        *hint = (size_t) (v - render->vars);
        }
        if (!v) {
                *ret_bad_name = strndup(name, n);
                return -EINVAL;
        }
        value = render->values + (v - render->vars);
        if (!value->checked) {
                value->plain = variable_is_plain(v, &value->len);
                value->checked = true;
        }
        if (!value->plain) {
                *ret_bad_name = strndup(name, n);
                return -EINVAL;
        }
        *ret_var = v;
        return 0;
}

void template_buffer_done(TemplateBuffer *b) {
        free(b->data);
        free(b->values);
        template_parsed_free(b->parsed);
        *b = (TemplateBuffer) {};
}

/* Makes room for n more bytes and the NUL. */
static int buffer_grow(TemplateBuffer *b, size_t n) {
        size_t need = b->size + n + 1, a;
        char *grown;

        if (need < n)
                return -ENOMEM;
        if (need <= b->allocated)
                return 0;
        a = b->allocated > 0 ? b->allocated : 4096;
        while (a < need) {
                if (a > SIZE_MAX / 2)
                        return -ENOMEM;
                a *= 2;
        }
        grown = realloc(b->data, a);
        if (!grown)
                return -ENOMEM;
        b->data = grown;
        b->allocated = a;
        return 0;
}

static int buffer_append(TemplateBuffer *b, const char *s, size_t n) {
        int r;

        if (n >= b->allocated - b->size) {
                r = buffer_grow(b, n);
                if (r < 0)
                        return r;
        }
        memcpy(b->data + b->size, s, n);
        b->size += n;
        return 0;
}

static int render_line(const char *line, size_t len, TemplatePlaceholder *placeholders, size_t n,
                       const Render *render, const TemplateVariable *list, const char *item, TemplateBuffer *b,
                       char **ret_bad_name);

/* Renders the line once per item of list, the first list it uses. Returns as render_line(). */
static int render_list_line(const char *line, size_t len, TemplatePlaceholder *placeholders, size_t n,
                            const Render *render, const TemplateVariable *list, TemplateBuffer *b,
                            char **ret_bad_name) {
        int r = 0;

        for (char * const *item = list->values; *item; item++) {
                r = render_line(line, len, placeholders, n, render, list, *item, b, ret_bad_name);
                if (r <= 0)
                        return r;       /* an unset variable leaves the line out for every item */
        }
        return r;
}

/* Renders one line (without its newline) into b, with the newline, list's placeholders standing for item; or
 * nothing when one of its variables is unset; or, for a line using a list not yet known (list NULL), once per
 * item of that list. The line is written as its placeholders are resolved and taken back when one turns out
 * unset: one pass, as most lines are written. Returns 1 when the line was written, 0 when it was left out. */
static int render_line(const char *line, size_t len, TemplatePlaceholder *placeholders, size_t n,
                       const Render *render, const TemplateVariable *list, const char *item, TemplateBuffer *b,
                       char **ret_bad_name) {
        const char *p = line, *end = line + len;
        size_t start = b->size;
        int r;

        for (size_t k = 0; k < n; k++) {
                const char *at = line + placeholders[k].offset, *text_end = at, *value;
                const TemplateVariable *v;
                size_t value_len;

                r = resolve_placeholder(at + 1, placeholders[k].name_len, &placeholders[k].hint, render, &v,
                                        ret_bad_name);
                if (r < 0)
                        return r;
                if (v->values && v != list) {
                        /* Two lists would make a product of lines no template needs. */
                        if (list) {
                                *ret_bad_name = strdup(v->name);
                                return -EINVAL;
                        }
                        b->size = start;
                        return render_list_line(line, len, placeholders, n, render, v, b, ret_bad_name);
                }
                if (v == list) {
                        value = item;
                        value_len = strlen(item);
                } else if (!v->value) {
                        b->size = start;
                        return 0;
                } else {
                        value = v->value;
                        value_len = render->values[placeholders[k].hint].len;
                        /* An empty value ending the line (ExecStart= without Exec=) must not leave trailing
                         * spaces. */
                        if (value_len == 0 && at + placeholders[k].name_len + 2 == end)
                                while (text_end > p && text_end[-1] == ' ')
                                        text_end--;
                }
                r = buffer_append(b, p, (size_t) (text_end - p));
                if (r < 0)
                        return r;
                r = buffer_append(b, value, value_len);
                if (r < 0)
                        return r;
                p = at + placeholders[k].name_len + 2;
        }
        r = buffer_append(b, p, (size_t) (end - p));
        if (r < 0)
                return r;
        r = buffer_append(b, "\n", 1);
        return r < 0 ? r : 1;
}

int template_render_into(TemplateBuffer *b, const char *template, const TemplateVariable *vars, size_t n_vars,
                         char **ret_bad_name) {
        Render render = { .vars = vars, .n_vars = n_vars };
        TemplateParsed *t;
        int r;

        for (t = b->parsed; t && t->template != template; t = t->next)
                ;
        if (!t) {
                r = template_parse(template, &t);
                if (r < 0)
                        return r;
                t->next = b->parsed;
                b->parsed = t;
        }
        r = template_parsed_same_names(t, vars, n_vars);
        if (r < 0)
                return r;
        render.same_names = r > 0;
        if (n_vars > b->n_values) {
                TemplateValue *grown = reallocarray(b->values, n_vars, sizeof(TemplateValue));

                if (!grown)
                        return -ENOMEM;
                b->values = grown;
                b->n_values = n_vars;
        }
        render.values = b->values;
        if (n_vars > 0)
                memset(render.values, 0, n_vars * sizeof(TemplateValue));

        b->size = 0;
        r = buffer_grow(b, 0);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t->n_pieces; i++) {
                const TemplatePiece *piece = t->pieces + i;

                if (piece->n == 0)
                        r = buffer_append(b, template + piece->start, piece->len);
                else
                        r = render_line(template + piece->start, piece->len, t->placeholders + piece->first,
                                        piece->n, &render, NULL, NULL, b, ret_bad_name);
                if (r < 0)
                        return r;
        }
        b->data[b->size] = '\0';
        return 0;
}

int template_render(const char *template, const TemplateVariable *vars, size_t n_vars, char **ret,
                    char **ret_bad_name) {
        _cleanup_(template_buffer_done) TemplateBuffer b = {};
        int r;

        r = template_render_into(&b, template, vars, n_vars, ret_bad_name);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(b.data);
        return 0;
}
