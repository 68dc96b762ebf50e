/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where profiles and the global configuration are found: search paths, precedence, masking and drop-ins. */

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "macro.h"
#include "profile-search.h"
#include "strv.h"

static const char * const system_profile_dirs[] = {
        SYSCONFDIR "/analysis-sandbox/profiles",
        "/run/analysis-sandbox/profiles",
        VENDORDIR "/profiles",
};

static bool has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);

        return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Drops "." and empty components and resolves ".." lexically in the absolute path p, in place. */
static void path_normalize(char *p) {
        char *out = p;

        for (const char *in = p; *in;) {
                size_t n;

                in += strspn(in, "/");
                n = strcspn(in, "/");
                if (n == 0)
                        break;
                if (n == 1 && in[0] == '.')
                        ;
                else if (n == 2 && in[0] == '.' && in[1] == '.') {
                        while (out > p && *--out != '/')
                                ;
                } else {
                        *out++ = '/';
                        memmove(out, in, n);
                        out += n;
                }
                in += n;
        }
        if (out == p)
                *out++ = '/';
        *out = '\0';
}

/* Makes *p absolute (from the working directory) and normalized, as systemd wants SourcePath=. */
static int path_make_absolute_cwd(char **p) {
        _cleanup_free_ char *cwd = NULL;
        char *abs;

        if ((*p)[0] != '/') {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return -errno;
                if (asprintf(&abs, "%s/%s", cwd, *p) < 0)
                        return -ENOMEM;
                free(*p);
                *p = abs;
        }
        path_normalize(*p);
        return 0;
}

static int add_warning(char ***warnings, const char *dir, int error) {
        char *m;

        if (!warnings)
                return 0;
        if (asprintf(&m, "%s: cannot read directory: %s, ignoring it", dir, strerror(error)) < 0)
                return -ENOMEM;
        return strv_consume(warnings, m);
}

int profile_search_dirs(RuntimeScope scope, char ***ret) {
        _cleanup_strv_free_ char **dirs = NULL;
        const char *e;
        int r;

        e = secure_getenv("ANALYSIS_SANDBOX_PROFILE_PATH");
        if (e) {
                r = strv_split(e, ":", &dirs);
                if (r < 0)
                        return r;
                /* Units name their source with SourcePath=, which systemd wants absolute. */
                for (char **d = dirs; *d; d++) {
                        r = path_make_absolute_cwd(d);
                        if (r < 0)
                                return r;
                }
                *ret = TAKE_PTR(dirs);
                return 0;
        }

        if (scope == RUNTIME_SCOPE_USER) {
                const char *config_home = secure_getenv("XDG_CONFIG_HOME"), *home = secure_getenv("HOME");
                char *d = NULL;

                /* The XDG base directory spec says relative values are to be ignored. */
                if (config_home && config_home[0] == '/')
                        r = asprintf(&d, "%s/analysis-sandbox/profiles", config_home);
                else if (home && home[0] == '/')
                        r = asprintf(&d, "%s/.config/analysis-sandbox/profiles", home);
                else
                        r = 0;
                if (r < 0)
                        return -ENOMEM;
                if (d) {
                        r = strv_consume(&dirs, d);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(system_profile_dirs); i++) {
                r = strv_extend(&dirs, system_profile_dirs[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(dirs);
        return 0;
}

int global_config_search_dirs(char * const *profile_dirs, char ***ret) {
        _cleanup_strv_free_ char **dirs = NULL;
        int r;

        dirs = calloc(1, sizeof(char *));
        if (!dirs)
                return -ENOMEM;
        STRV_FOREACH(d, profile_dirs) {
                const char *slash = strrchr(*d, '/');
                char *parent;

                /* "profiles/" and "/profiles" have no usable parent. */
                while (slash && slash > *d && slash[1] == '\0')
                        slash = memrchr(*d, '/', (size_t) (slash - *d));
                if (!slash || slash == *d)
                        continue;
                parent = strndup(*d, (size_t) (slash - *d));
                if (!parent)
                        return -ENOMEM;
                r = strv_consume(&dirs, parent);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(dirs);
        return 0;
}

/* Appends to *names (of length *n) every entry of dir ending in suffix, without the suffix unless keep_suffix.
 * A name found in several directories is appended each time: the caller sorts and drops duplicates once, as
 * checking each name against all earlier ones costs n²/2 comparisons (16 M instructions at 1000 profiles). */
static int list_dir_suffix(const char *dir, const char *suffix, bool keep_suffix, char ***names, size_t *n,
                           char ***warnings) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        d = opendir(dir);
        if (!d)
                return errno == ENOENT || errno == ENOTDIR ? 0 : add_warning(warnings, dir, errno);
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *name = NULL;

                if (de->d_name[0] == '.' || !has_suffix(de->d_name, suffix))
                        continue;
                name = keep_suffix ? strdup(de->d_name)
                                   : strndup(de->d_name, strlen(de->d_name) - strlen(suffix));
                if (!name)
                        return -ENOMEM;
                r = strv_consume_at(names, n, TAKE_PTR(name));
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return add_warning(warnings, dir, errno);
        return 0;
}

int profile_list_names(char * const *dirs, char ***ret_names, char ***ret_warnings) {
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        size_t n = 0;
        int r;

        if (!names)
                return -ENOMEM;
        STRV_FOREACH(d, dirs) {
                r = list_dir_suffix(*d, ".ini", false, &names, &n, ret_warnings);
                if (r < 0)
                        return r;
        }
        strv_sort_uniq(names);
        *ret_names = TAKE_PTR(names);
        return 0;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(const char * const *) a, *(const char * const *) b);
}

/* Whether dir i of dirs has an entry name (any kind, a dangling symlink too): from the index where it has the
 * directory's listing, else by asking the kernel. */
static bool dir_has_entry(char * const *dirs, const DirIndex *index, size_t i, const char *name) {
        _cleanup_free_ char *path = NULL;

        if (index && index->entries[i])
                return bsearch(&name, index->entries[i], index->n_entries[i], sizeof(char *), compare_names);
        path = strjoin(dirs[i], "/", name, NULL);
        if (!path)
                return true;    /* the caller's own allocation fails next and says so */
        return faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

static int find_files(char * const *dirs, const DirIndex *index, const char *filename, char ***ret_files,
                      char ***ret_warnings) {
        /* The drop-in names are listed only where there are any: most profiles have none. */
        _cleanup_strv_free_ char **files = calloc(1, sizeof(char *)), **dropin_names = NULL;
        _cleanup_free_ char *dropin_dir_name = strjoin(filename, ".d", NULL);
        size_t n_dropins = 0;
        int r;

        if (!files || !dropin_dir_name)
                return -ENOMEM;

        for (size_t i = 0; dirs[i]; i++) {
                /* Any directory entry counts, even a dangling symlink: it shadows lower directories and its
                 * problem is reported when it is read. */
                if (!dir_has_entry(dirs, index, i, filename))
                        continue;
                r = strv_consume(&files, strjoin(dirs[i], "/", filename, NULL));
                if (r < 0)
                        return r;
                break;
        }
        if (strv_length(files) == 0) {
                *ret_files = TAKE_PTR(files);
                return 0;
        }

        for (size_t i = 0; dirs[i]; i++) {
                _cleanup_free_ char *dropin_dir = NULL;

                /* Most profiles have no drop-ins: the index spares an opendir() that fails. */
                if (index && index->entries[i] && !dir_has_entry(dirs, index, i, dropin_dir_name))
                        continue;
                dropin_dir = strjoin(dirs[i], "/", dropin_dir_name, NULL);
                if (!dropin_dir)
                        return -ENOMEM;
                r = list_dir_suffix(dropin_dir, ".conf", true, &dropin_names, &n_dropins, ret_warnings);
                if (r < 0)
                        return r;
        }
        strv_sort_uniq(dropin_names);
        STRV_FOREACH(name, dropin_names)
                STRV_FOREACH(d, dirs) {
                        _cleanup_free_ char *path = NULL;

                        path = strjoin(*d, "/", dropin_dir_name, "/", *name, NULL);
                        if (!path)
                                return -ENOMEM;
                        if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        r = strv_consume(&files, TAKE_PTR(path));
                        if (r < 0)
                                return r;
                        break;
                }
        *ret_files = TAKE_PTR(files);
        return 0;
}

int config_files_find(char * const *dirs, const char *filename, char ***ret_files, char ***ret_warnings) {
        return find_files(dirs, NULL, filename, ret_files, ret_warnings);
}

int dir_index_build(char * const *dirs, DirIndex *ret, char ***ret_warnings) {
        DirIndex index = { .dirs = (char **) dirs, .n = strv_length(dirs) };
        int r;

        index.entries = calloc(index.n + 1, sizeof(char **));
        index.n_entries = calloc(index.n + 1, sizeof(size_t));
        if (!index.entries || !index.n_entries) {
                dir_index_done(&index);
                return -ENOMEM;
        }
        for (size_t i = 0; i < index.n; i++) {
                _cleanup_closedir_ DIR *d = opendir(dirs[i]);
                struct dirent *de;

                if (!d && (errno == ENOENT || errno == ENOTDIR)) {
                        /* Known to hold nothing. */
                        index.entries[i] = calloc(1, sizeof(char *));
                        if (!index.entries[i]) {
                                dir_index_done(&index);
                                return -ENOMEM;
                        }
                        continue;
                }
                if (!d) {
                        /* Not indexed: every lookup asks the kernel, as without an index. */
                        r = add_warning(ret_warnings, dirs[i], errno);
                        if (r < 0) {
                                dir_index_done(&index);
                                return r;
                        }
                        continue;
                }
                index.entries[i] = calloc(1, sizeof(char *));
                while (index.entries[i] && (errno = 0, de = readdir(d))) {
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        r = strv_consume_at(&index.entries[i], &index.n_entries[i], strdup(de->d_name));
                        if (r < 0) {
                                dir_index_done(&index);
                                return r;
                        }
                }
                if (!index.entries[i]) {
                        dir_index_done(&index);
                        return -ENOMEM;
                }
                if (errno != 0) {
                        r = add_warning(ret_warnings, dirs[i], errno);
                        strv_free(index.entries[i]);
                        index.entries[i] = NULL;
                        index.n_entries[i] = 0;
                        if (r < 0) {
                                dir_index_done(&index);
                                return r;
                        }
                        continue;
                }
                qsort(index.entries[i], index.n_entries[i], sizeof(char *), compare_names);
        }
        *ret = index;
        return 0;
}

void dir_index_done(DirIndex *index) {
        for (size_t i = 0; index->entries && i < index->n; i++)
                strv_free(index->entries[i]);
        free(index->entries);
        free(index->n_entries);
        *index = (DirIndex) {};
}

int dir_index_profile_names(const DirIndex *index, char ***ret_names) {
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        size_t n = 0;
        int r;

        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < index->n; i++) {
                if (!index->entries[i]) {
                        /* Unreadable, and already warned about. */
                        r = list_dir_suffix(index->dirs[i], ".ini", false, &names, &n, NULL);
                        if (r < 0)
                                return r;
                        continue;
                }
                STRV_FOREACH(e, index->entries[i]) {
                        if ((*e)[0] == '.' || !has_suffix(*e, ".ini"))
                                continue;
                        r = strv_consume_at(&names, &n, strndup(*e, strlen(*e) - strlen(".ini")));
                        if (r < 0)
                                return r;
                }
        }
        strv_sort_uniq(names);
        *ret_names = TAKE_PTR(names);
        return 0;
}

int dir_index_find(const DirIndex *index, const char *filename, char ***ret_files, char ***ret_warnings) {
        return find_files(index->dirs, index, filename, ret_files, ret_warnings);
}
