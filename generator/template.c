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

/* Renders one line (without its newline) into out. Returns 1 if written, 0 if the line is to be dropped. */
static int render_line(const char *line, size_t len, const TemplateVariable *vars, size_t n_vars, FILE *out,
                       char **ret_bad_name) {
        _cleanup_free_ char *rendered = NULL;
        size_t rendered_size = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&rendered, &rendered_size);
        const char *p = line, *end = line + len;

        if (!f)
                return -ENOMEM;
        while (p < end) {
                const char *at = memchr(p, '@', (size_t) (end - p));
                const TemplateVariable *v;
                size_t name_len;

                if (!at) {
                        fwrite(p, 1, (size_t) (end - p), f);
                        break;
                }
                fwrite(p, 1, (size_t) (at - p), f);
                name_len = strspn(at + 1, NAME_CHARS);
                if (name_len == 0 || at + 1 + name_len >= end || at[1 + name_len] != '@') {
                        fputc('@', f);          /* a plain '@', as in an e-mail address */
                        p = at + 1;
                        continue;
                }
                v = find_variable(vars, n_vars, at + 1, name_len);
                if (!v || (v->value && has_control_character(v->value))) {
                        *ret_bad_name = strndup(at + 1, name_len);
                        return -EINVAL;
                }
                if (!v->value)
                        return 0;
                fputs(v->value, f);
                p = at + 2 + name_len;
        }
        if (fflush(f) != 0)
                return -ENOMEM;
        /* An empty value at the end of a line (ExecStart= without Exec=) would leave a trailing space. */
        while (rendered_size > 0 && rendered[rendered_size - 1] == ' ')
                rendered_size--;
        fwrite(rendered, 1, rendered_size, out);
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
