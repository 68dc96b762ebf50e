/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reads one INI file with inih, with line numbers, strict limits and the reason for the first error kept. */

#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ini-file.h"

/* Debian's inih is built with 200-byte lines (the buffer holds 197 characters plus "\r\n\0"). */
#define INI_LINE_MAX 200

void config_error_clear(ConfigError *e) {
        free(e->path);
        free(e->message);
        *e = (ConfigError) {};
}

char *config_error_to_string(const ConfigError *e) {
        if (e->path && e->line > 0)
                return strprintf("%s:%u: %s", e->path, e->line, strempty(e->message));
        if (e->path)
                return strprintf("%s: %s", e->path, strempty(e->message));
        return strdup(strempty(e->message));
}

int config_error_set(ConfigError *e, const char *path, unsigned line, const char *format, ...) {
        va_list ap;
        char *message;

        if (!e || e->message)
                return -EINVAL;
        va_start(ap, format);
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        va_end(ap);
        e->message = message;
        e->path = path ? strdup(path) : NULL;
        e->line = line;
        return -EINVAL;
}

typedef struct IniReader {
        const char *data;       /* the whole file, read at once */
        size_t size;
        size_t pos;
        const char *path;
        unsigned line;
        IniAssignmentHandler handler;
        void *userdata;
        ConfigError *error;
        int r;
} IniReader;

/* Whether a ';' follows a space or a tab in s. One strchr() per ';' rather than two strstr() per line: most
 * lines of a profile have none. */
static bool semicolon_after_blank(const char *s) {
        for (const char *p = strchr(s, ';'); p; p = strchr(p + 1, ';'))
                if (p > s && (p[-1] == ' ' || p[-1] == '\t'))
                        return true;
        return false;
}

/* inih's line source. inih calls it once per physical line, so counting calls gives the line number its
 * handler callback lacks (Debian builds inih without INI_HANDLER_LINENO). It also refuses what inih would
 * silently mangle: NUL bytes, over-long lines (inih would split them), indented continuation lines and
 * inline comments (which would cut a value such as Exec=/bin/sh -c "a ; b"). */
static char *ini_reader_read_line(char *buf, int size, void *stream) {
        IniReader *reader = stream;
        const char *start = reader->data + reader->pos, *nl;
        const char *content;
        size_t n = MIN(reader->size - reader->pos, (size_t) size - 1);

        if (reader->r < 0)
                return NULL;
        nl = memchr(start, '\n', n);
        if (nl)
                n = (size_t) (nl - start) + 1;
        if (memchr(start, '\0', n)) {
                reader->r = config_error_set(reader->error, reader->path, reader->line + 1,
                                             "file contains a NUL byte, not a text profile");
                return NULL;
        }
        if (n == 0)
                return NULL;
        memcpy(buf, start, n);
        buf[n] = '\0';
        reader->pos += n;
        reader->line++;
        if (buf[n - 1] != '\n' && n == (size_t) size - 1 && reader->pos < reader->size) {
                reader->r = config_error_set(reader->error, reader->path, reader->line,
                                             "line longer than %d bytes", INI_LINE_MAX - 3);
                return NULL;
        }
        content = buf + strspn(buf, " \t");
        if (content != buf && !strchr(";#\r\n", *content)) {
                reader->r = config_error_set(reader->error, reader->path, reader->line,
                                             "indented line: continuation lines are not supported");
                return NULL;
        }
        if (!strchr(";#[", *content) && semicolon_after_blank(content)) {
                reader->r = config_error_set(reader->error, reader->path, reader->line,
                                             "';' after a space starts a comment and would cut this value; "
                                             "put comments on their own line");
                return NULL;
        }
        return buf;
}

static int ini_reader_handle(void *userdata, const char *section, const char *key, const char *value) {
        IniReader *reader = userdata;
        int r;

        if (reader->r < 0)
                return 0;
        if (!*section) {
                reader->r = config_error_set(reader->error, reader->path, reader->line,
                                             "assignment to '%s' outside of any section", key);
                return 0;
        }
        r = reader->handler(section, key, value, reader->line, reader->userdata, reader->error);
        if (r < 0) {
                reader->r = r;
                return 0;
        }
        return 1;
}

static bool stat_is_dev_null(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

int ini_file_parse(const char *path, IniAssignmentHandler handler, void *userdata, ConfigError *error) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        size_t allocated, size = 0;
        IniReader reader;
        struct stat st;
        int r;

        /* O_NONBLOCK so that a FIFO planted in a profile directory cannot block the generator at boot. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT)
                        return INI_FILE_MISSING;
                r = -errno;
                config_error_set(error, path, 0, "cannot open: %s", strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                config_error_set(error, path, 0, "cannot stat: %s", strerror(-r));
                return r;
        }
        if (stat_is_dev_null(&st))
                return INI_FILE_MASKED;
        if (!S_ISREG(st.st_mode))
                return config_error_set(error, path, 0, "not a regular file");
        if (st.st_size == 0)
                return INI_FILE_MASKED;
        if (st.st_size > INI_FILE_SIZE_MAX)
                return config_error_set(error, path, 0, "file too large (%lld bytes, at most %d)",
                                        (long long) st.st_size, INI_FILE_SIZE_MAX);
        /* Read whole with plain read()s: stdio would add an fcntl() to clear O_NONBLOCK (meaningless for the
         * regular file this is), one in fdopen(), an fstat() of its own and a read() that hears of the end,
         * per profile. One byte more than its size, to notice a file that grew since fstat(). */
        allocated = (size_t) st.st_size + 1;
        data = malloc(allocated);
        if (!data)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, data + size, allocated - size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        config_error_set(error, path, 0, "read error: %s", strerror(-r));
                        return r;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                /* A regular file reads short only at its end: no second read() to hear so. */
                if (size < allocated)
                        break;
                if (size == allocated) {
                        char *grown;

                        if (allocated > INI_FILE_SIZE_MAX)
                                return config_error_set(error, path, 0, "file too large (more than %d bytes)",
                                                        INI_FILE_SIZE_MAX);
                        allocated = MIN(allocated * 2, (size_t) INI_FILE_SIZE_MAX + 1);
                        grown = realloc(data, allocated);
                        if (!grown)
                                return -ENOMEM;
                        data = grown;
                }
        }

        reader = (IniReader) {
                .data = data,
                .size = size,
                .path = path,
                .handler = handler,
                .userdata = userdata,
                .error = error,
        };
        r = ini_parse_stream(ini_reader_read_line, &reader, ini_reader_handle, &reader);
        if (reader.r < 0)
                return reader.r;
        if (r > 0)
                return config_error_set(error, path, (unsigned) r,
                                        "syntax error: expected '[Section]' or 'Key=Value'");
        if (r < 0)
                return -ENOMEM;
        return INI_FILE_PARSED;
}
