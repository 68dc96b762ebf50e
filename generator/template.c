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

static bool has_control_character(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < ' ' || *s == 0x7f)
                        return true;
        return false;
}

static bool variable_has_control_character(const TemplateVariable *v) {
        if (v->values) {
                for (char * const *item = v->values; *item; item++)
                        if (has_control_character(*item))
                                return true;
                return false;
        }
        return v->value && has_control_character(v->value);
}

/* One rendering: the variables, and what is known of each value (checked once per rendering, when first used,
 * rather than at each of its placeholders). */
typedef struct Render {
        const TemplateVariable *vars;
        size_t n_vars;
        uint8_t *checked;       /* per variable: 0 not yet, 1 fine, 2 holds a control character */
} Render;

/* The '@'s of one line as render_line() found them, so that write_line() need not look each up again. */
#define LINE_PLACEHOLDERS_MAX 16

typedef struct Placeholder {
        const TemplateVariable *var;    /* NULL: a plain '@' */
        size_t len;                     /* including both '@' */
} Placeholder;

/* A template as lines and the places of their '@'s, found once for all the units rendered from it (the
 * generator renders the same two templates for every profile: finding lines, '@'s and names each time was
 * most of its instructions). Which '@' starts a placeholder depends on the template alone. */
typedef struct TemplateAt {
        size_t offset;          /* in its line */
        size_t name_len;        /* 0: a plain '@' */
        size_t hint;            /* the variable's index the last time, tried first */
} TemplateAt;

typedef struct TemplateLine {
        size_t start, len;      /* without the newline */
        size_t first_at, n_ats;
} TemplateLine;

struct TemplateParsed {
        const char *template;
        TemplateLine *lines;
        size_t n_lines;
        TemplateAt *ats;
        size_t n_ats;
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

                free(t->lines);
                free(t->ats);
                free(t);
                t = next;
        }
        return NULL;
}

static int template_parse(const char *template, TemplateParsed **ret) {
        TemplateParsed *t = calloc(1, sizeof(TemplateParsed));
        size_t lines_allocated = 0, ats_allocated = 0;

        if (!t)
                return -ENOMEM;
        t->template = template;
        for (const char *line = template; *line;) {
                const char *nl = strchrnul(line, '\n'), *p, *at;
                TemplateLine *l;

                if (strncmp(line, "##", 2) == 0) {
                        line = *nl ? nl + 1 : nl;
                        continue;
                }
                if (t->n_lines == lines_allocated) {
                        TemplateLine *grown = reallocarray(t->lines, lines_allocated * 2 + 64, sizeof(TemplateLine));

                        if (!grown)
                                return template_parsed_free(t), -ENOMEM;
                        t->lines = grown;
                        lines_allocated = lines_allocated * 2 + 64;
                }
                l = t->lines + t->n_lines++;
                *l = (TemplateLine) { .start = (size_t) (line - template), .len = (size_t) (nl - line), .first_at = t->n_ats };
                for (p = line; (at = memchr(p, '@', (size_t) (nl - p))); ) {
                        size_t name_len = placeholder_name_len(at, nl);

                        if (t->n_ats == ats_allocated) {
                                TemplateAt *grown = reallocarray(t->ats, ats_allocated * 2 + 64, sizeof(TemplateAt));

                                if (!grown)
                                        return template_parsed_free(t), -ENOMEM;
                                t->ats = grown;
                                ats_allocated = ats_allocated * 2 + 64;
                        }
                        t->ats[t->n_ats++] = (TemplateAt) { .offset = (size_t) (at - line), .name_len = name_len,
                                                            .hint = SIZE_MAX };
                        l->n_ats++;
                        p = at + (name_len > 0 ? name_len + 2 : 1);
                }
                line = *nl ? nl + 1 : nl;
        }
        *ret = t;
        return 0;
}

/* The variable of the placeholder named by the n characters at name, tried at *hint first. Returns 1 with
 * *ret_var, or -EINVAL with the name in *ret_bad_name for an unknown one or a value holding a control
 * character. */
static int resolve_placeholder(const char *name, size_t n, size_t *hint, const Render *render,
                               const TemplateVariable **ret_var, char **ret_bad_name) {
        const TemplateVariable *v = NULL;

        if (*hint < render->n_vars && strncmp(render->vars[*hint].name, name, n) == 0 &&
            render->vars[*hint].name[n] == '\0')
                v = render->vars + *hint;
        else {
                v = find_variable(render->vars, render->n_vars, name, n);
                if (v)
                        *hint = (size_t) (v - render->vars);
        }
        if (v && render->checked[v - render->vars] == 0)
                render->checked[v - render->vars] = variable_has_control_character(v) ? 2 : 1;
        if (!v || render->checked[v - render->vars] == 2) {
                *ret_bad_name = strndup(name, n);
                return -EINVAL;
        }
        *ret_var = v;
        return 1;
}

/* Finds the variable of the placeholder at "@" p (within end). Returns 1 with *ret_var and *ret_len (the
 * placeholder's length including both '@'), 0 if p starts no placeholder (a plain '@'), or -EINVAL with the
 * name in *ret_bad_name for an unknown one or a value holding a control character. */
static int find_placeholder(const char *p, const char *end, const Render *render, const TemplateVariable **ret_var,
                            size_t *ret_len, char **ret_bad_name) {
        size_t name_len = placeholder_name_len(p, end), hint = SIZE_MAX;
        int r;

        if (name_len == 0)
                return 0;
        r = resolve_placeholder(p + 1, name_len, &hint, render, ret_var, ret_bad_name);
        if (r < 0)
                return r;
        *ret_len = name_len + 2;
        return 1;
}

void template_buffer_done(TemplateBuffer *b) {
        free(b->data);
        template_parsed_free(b->parsed);
        *b = (TemplateBuffer) {};
}

/* Makes room for n more bytes and the NUL. */
static int buffer_reserve(TemplateBuffer *b, size_t n) {
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

        r = buffer_reserve(b, n);
        if (r < 0)
                return r;
        memcpy(b->data + b->size, s, n);
        b->size += n;
        return 0;
}

/* Writes the line from line to end (without its newline) into b, with the newline; list's placeholders stand for
 * item. The first n_found '@'s are those render_line() found. */
static int write_line(const char *line, const char *end, const Render *render, const Placeholder *found,
                      size_t n_found, const TemplateVariable *list, const char *item, TemplateBuffer *b,
                      char **ret_bad_name) {
        const TemplateVariable *v;
        size_t placeholder_len, k = 0;
        const char *p, *at;
        int r;

        for (p = line; p < end; k++) {
                at = memchr(p, '@', (size_t) (end - p));
                if (!at)
                        at = end;
                r = buffer_append(b, p, (size_t) (at - p));
                if (r < 0)
                        return r;
                if (at == end)
                        break;
                if (k < n_found) {
                        v = found[k].var;
                        placeholder_len = found[k].len;
                        r = !!v;
                } else
                        r = find_placeholder(at, end, render, &v, &placeholder_len, ret_bad_name);
                if (r < 0)
                        return r;
                if (r == 0) {
                        r = buffer_append(b, "@", 1);   /* a plain '@', as in an e-mail address */
                        p = at + 1;
                } else {
                        const char *value = v == list ? item : v->value;

                        r = buffer_append(b, value, strlen(value));
                        p = at + placeholder_len;
                }
                if (r < 0)
                        return r;
        }
        return buffer_append(b, "\n", 1);
}

/* Renders one line (without its newline) into b, or nothing when one of its variables is unset, or once per item
 * of the list it uses. Returns 1 when the line was written (with its newline), 0 when it was left out. */
static int render_line(const char *line, size_t len, TemplateAt *ats, size_t n_ats, const Render *render,
                       TemplateBuffer *b, char **ret_bad_name) {
        Placeholder found[LINE_PLACEHOLDERS_MAX];
        const char *end = line + len, *at;
        const TemplateVariable *v, *list = NULL;
        size_t placeholder_len, n_found = 0;
        int r;

        /* First decide whether the line is written at all and where it ends, then write it. */
        for (size_t k = 0; k < n_ats; k++) {
                at = line + ats[k].offset;
                placeholder_len = ats[k].name_len + 2;
                r = ats[k].name_len == 0 ? 0 : resolve_placeholder(at + 1, ats[k].name_len, &ats[k].hint, render, &v,
                                                                   ret_bad_name);
                if (r < 0)
                        return r;
                if (n_found < LINE_PLACEHOLDERS_MAX)
                        found[n_found++] = r > 0 ? (Placeholder) { .var = v, .len = placeholder_len } : (Placeholder) { .len = 1 };
                if (r > 0 && v->values) {
                        /* Two lists would make a product of lines no template needs. */
                        if (list && list != v) {
                                *ret_bad_name = strdup(v->name);
                                return -EINVAL;
                        }
                        list = v;
                        if (!v->values[0])
                                return 0;
                        continue;
                }
                if (r > 0 && !v->value)
                        return 0;
                /* An empty value ending the line (ExecStart= without Exec=) must not leave trailing spaces. */
                if (r > 0 && at + placeholder_len == end && !v->value[0]) {
                        end = at;
                        while (end > line && end[-1] == ' ')
                                end--;
                        break;
                }
        }
        if (!list) {
                r = write_line(line, end, render, found, n_found, NULL, NULL, b, ret_bad_name);
                return r < 0 ? r : 1;
        }
        for (char * const *item = list->values; *item; item++) {
                r = write_line(line, end, render, found, n_found, list, *item, b, ret_bad_name);
                if (r < 0)
                        return r;
        }
        return 1;
}

int template_render_into(TemplateBuffer *b, const char *template, const TemplateVariable *vars, size_t n_vars,
                         char **ret_bad_name) {
        _cleanup_free_ uint8_t *checked = calloc(n_vars + 1, 1);
        Render render = { .vars = vars, .n_vars = n_vars, .checked = checked };
        int r;

        if (!checked)
                return -ENOMEM;

        TemplateParsed *t;

        if (!checked)
                return -ENOMEM;
        for (t = b->parsed; t && t->template != template; t = t->next)
                ;
        if (!t) {
                r = template_parse(template, &t);
                if (r < 0)
                        return r;
                t->next = b->parsed;
                b->parsed = t;
        }

        b->size = 0;
        r = buffer_reserve(b, 0);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t->n_lines; i++) {
                const TemplateLine *l = t->lines + i;

                /* A template without placeholders has no ats at all (NULL): no offset into it then. */
                r = render_line(template + l->start, l->len, l->n_ats > 0 ? t->ats + l->first_at : NULL, l->n_ats,
                                &render, b, ret_bad_name);
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
