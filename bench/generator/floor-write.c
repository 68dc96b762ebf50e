/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The floor of the generator benchmark: writes the files a manifest lists, of the sizes it gives, atomically and
 * with nothing else, so the generator's cost can be read against the least any generator writing them must pay.
 *
 * Usage: floor-write MANIFEST OUTDIR [INPUTDIR]
 * MANIFEST has one "SIZE NAME" line per file (bench/generator/run takes it from the generator's own output).
 * With INPUTDIR, every file in it is read first, as a generator must read its inputs (the second floor).
 * Every file is written as the project writes files (README "Conventions"): a temporary file created
 * exclusively, the data, fsync(), rename() over the name. The content is filler: only sizes matter here. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"

/* Ample for any unit file the generator writes (its template is a few KiB). */
#define FILE_SIZE_MAX 65536

static int write_one(int dir_fd, const char *name, const char *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        char tmp[NAME_MAX + 1];

        if ((size_t) snprintf(tmp, sizeof(tmp), ".#%s", name) >= sizeof(tmp))
                return -ENAMETOOLONG;
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < size;) {
                ssize_t k = write(fd, data + done, size - done);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) k;
        }
        if (fsync(fd) < 0 || renameat(dir_fd, tmp, dir_fd, name) < 0)
                return -errno;
        return 0;
}

/* Reads every file of dir to its end, as plainly as possible. Returns 0 or a negative errno. */
static int read_inputs(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        char buf[65536];

        if (!d)
                return -errno;
        while ((errno = 0, de = readdir(d))) {
                _cleanup_close_ int fd = -EBADF;
                ssize_t n;

                if (de->d_type != DT_REG)
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return -errno;
                while ((n = read(fd, buf, sizeof(buf))) > 0)
                        ;
                if (n < 0)
                        return -errno;
        }
        return errno > 0 ? -errno : 0;
}

static int run(const char *manifest, const char *dest, const char *inputs) {
        _cleanup_free_ char *filler = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        size_t line_size = 0;
        unsigned n_line = 0;
        int r;

        if (inputs) {
                r = read_inputs(inputs);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", inputs, strerror(-r));
                        return -EINVAL;
                }
        }
        filler = malloc(FILE_SIZE_MAX);
        if (!filler)
                return -ENOMEM;
        memset(filler, '#', FILE_SIZE_MAX);
        f = fopen(manifest, "re");
        if (!f)
                return -errno;
        dir_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;

        while (getline(&line, &line_size, f) > 0) {
                char *end, *name;
                uintmax_t size;

                n_line++;
                errno = 0;
                size = strtoumax(line, &end, 10);
                if (errno != 0 || end == line || *end != ' ' || size > FILE_SIZE_MAX) {
                        fprintf(stderr, "%s:%u: expected 'SIZE NAME' with SIZE at most %d\n", manifest, n_line,
                                FILE_SIZE_MAX);
                        return -EINVAL;
                }
                name = end + 1;
                name[strcspn(name, "\n")] = '\0';
                if (!*name || strchr(name, '/')) {
                        fprintf(stderr, "%s:%u: invalid file name '%s'\n", manifest, n_line, name);
                        return -EINVAL;
                }
                r = write_one(dir_fd, name, filler, (size_t) size);
                if (r < 0) {
                        fprintf(stderr, "%s/%s: %s\n", dest, name, strerror(-r));
                        return r;
                }
        }
        return ferror(f) ? -EIO : 0;
}

int main(int argc, char *argv[]) {
        int r;

        if (argc != 3 && argc != 4) {
                fprintf(stderr, "usage: %s MANIFEST OUTDIR [INPUTDIR]\n", program_invocation_short_name);
                return EXIT_FAILURE;
        }
        r = run(argv[1], argv[2], argc == 4 ? argv[3] : NULL);
        if (r < 0 && r != -EINVAL)
                fprintf(stderr, "%s: %s\n", program_invocation_short_name, strerror(-r));
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
