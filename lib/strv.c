/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string arrays. */

#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char * const *l) {
        size_t n = 0;

        STRV_FOREACH(s, l)
                n++;
        return n;
}

int strv_consume_at(char ***l, size_t *n, char *s) {
        char **grown;

        if (!s)
                return -ENOMEM;
        grown = realloc(*l, sizeof(char *) * (*n + 2));
        if (!grown) {
                free(s);
                return -ENOMEM;
        }
        grown[(*n)++] = s;
        grown[*n] = NULL;
        *l = grown;
        return 0;
}

int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);

        return strv_consume_at(l, &n, s);
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s));
}

bool strv_contains(char * const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (strcmp(*i, s) == 0)
                        return true;
        return false;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

void strv_sort(char **l) {
        size_t n = strv_length(l);

        if (n > 1)
                qsort(l, n, sizeof(char *), compare_strings);
}

void strv_sort_uniq(char **l) {
        size_t n = strv_length(l), k = 0;

        strv_sort(l);
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && strcmp(l[k - 1], l[i]) == 0) {
                        free(l[i]);
                        continue;
                }
                l[k++] = l[i];
        }
        if (l)
                l[k] = NULL;
}

int strv_split(const char *s, const char *separators, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (const char *p = s; *p;) {
                size_t n;

                p += strspn(p, separators);
                n = strcspn(p, separators);
                if (n == 0)
                        break;
                r = strv_consume(&l, strndup(p, n));
                if (r < 0)
                        return r;
                p += n;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

char **strv_copy_replacing_first(char * const *l, const char *first) {
        _cleanup_strv_free_ char **copy = calloc(1, sizeof(char *));

        if (!copy)
                return NULL;
        for (size_t i = 0; l && l[i]; i++)
                if (strv_extend(&copy, i == 0 ? first : l[i]) < 0)
                        return NULL;
        return TAKE_PTR(copy);
}
