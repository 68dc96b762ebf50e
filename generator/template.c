/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fills the @NAME@ placeholders of a unit template. */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "template.h"

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"

static const TemplateVariable *find_variable(const TemplateVariable *vars, size_t n, const char *name, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0)
                        return vars + i;
        return NULL;
}

static bool has_control_character(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < ' ' || *s == 0x7f)
                        return true;
        return false;
}

/* Finds the variable of the placeholder at "@" p (within end). Returns 1 with *ret_var and *ret_len (the
 * placeholder's length including both '@'), 0 if p starts no placeholder (a plain '@'), or -EINVAL with the
 * name in *ret_bad_name for an unknown one or a value holding a control character. */
static int find_placeholder(const char *p, const char *end, const TemplateVariable *vars, size_t n_vars,
                            const TemplateVariable **ret_var, size_t *ret_len, char **ret_bad_name) {
        size_t name_len = strspn(p + 1, NAME_CHARS);
        const TemplateVariable *v;

        if (name_len == 0 || p + 1 + name_len >= end || p[1 + name_len] != '@')
                return 0;
        v = find_variable(vars, n_vars, p + 1, name_len);
        if (!v || (v->value && has_control_character(v->value))) {
                *ret_bad_name = strndup(p + 1, name_len);
                return -EINVAL;
        }
        *ret_var = v;
        *ret_len = name_len + 2;
        return 1;
}

/* Renders one line (without its newline) into out, or nothing when one of its variables is unset. Two passes
 * over the line (decide, then write) keep the output a single stream: this runs for every line of every unit. */
static int render_line(const char *line, size_t len, const TemplateVariable *vars, size_t n_vars, FILE *out,
                       char **ret_bad_name) {
        const char *end = line + len, *p, *at;
        const TemplateVariable *v;
        size_t placeholder_len;
        int r;

        for (p = line; (at = memchr(p, '@', (size_t) (end - p))); p = at + (r > 0 ? placeholder_len : 1)) {
                r = find_placeholder(at, end, vars, n_vars, &v, &placeholder_len, ret_bad_name);
                if (r < 0)
                        return r;
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
        for (p = line; p < end;) {
                at = memchr(p, '@', (size_t) (end - p));
                if (!at) {
                        fwrite(p, 1, (size_t) (end - p), out);
                        break;
                }
                fwrite(p, 1, (size_t) (at - p), out);
                r = find_placeholder(at, end, vars, n_vars, &v, &placeholder_len, ret_bad_name);
                if (r == 0) {
                        fputc('@', out);        /* a plain '@', as in an e-mail address */
                        p = at + 1;
                        continue;
                }
                fputs(v->value, out);
                p = at + placeholder_len;
        }
        fputc('\n', out);
        return 1;
}

int template_render(const char *template, const TemplateVariable *vars, size_t n_vars, char **ret,
                    char **ret_bad_name) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        _cleanup_fclose_ FILE *out = open_memstream(&text, &size);
        int r;

        if (!out)
                return -ENOMEM;
        for (const char *line = template; *line;) {
                size_t len = strcspn(line, "\n");

                if (strncmp(line, "##", 2) != 0) {
                        r = render_line(line, len, vars, n_vars, out, ret_bad_name);
                        if (r < 0)
                                return r;
                }
                line += len;
                if (*line == '\n')
                        line++;
        }
        if (fflush(out) != 0 || ferror(out))
                return -ENOMEM;
        fclose(TAKE_PTR(out));
        *ret = TAKE_PTR(text);
        return 0;
}
