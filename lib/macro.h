/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small macros shared by every program: cleanup attributes and friends. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _sentinel_ __attribute__((sentinel))

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Returns the value of a pointer variable and sets the variable to NULL, so a cleanup handler leaves it alone. */
#define TAKE_PTR(p)                              \
        ({                                       \
                __typeof__(p) _ptr_ = (p);       \
                (p) = NULL;                      \
                _ptr_;                           \
        })

#define TAKE_FD(fd)                              \
        ({                                       \
                int _fd_ = (fd);                 \
                (fd) = -EBADF;                   \
                _fd_;                            \
        })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)          \
        static inline void func##p(type *p) {            \
                if (*p)                                  \
                        func(*p);                        \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes fd if valid, keeps errno intact, returns -EBADF for assignment. */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved_errno = errno;
                (void) close(fd);
                errno = saved_errno;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        (void) safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* asprintf() that returns the string, or NULL when out of memory. */
char *strprintf(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* The strings up to the NULL, joined into a new one; NULL when out of memory. Where a name is put together for
 * every profile: a tenth of what strprintf() costs. */
char *strjoin(const char *first, ...) _sentinel_;
