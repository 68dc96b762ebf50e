/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for atomic-file.c: complete replacement, no temporary files left, refusal of bad names. */

#undef NDEBUG
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "atomic-file.h"
#include "macro.h"

static char *read_all(int dir_fd, const char *name) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
        static char buf[65536];
        ssize_t n;

        assert(fd >= 0);
        n = read(fd, buf, sizeof(buf) - 1);
        assert(n >= 0);
        buf[n] = '\0';
        return buf;
}

static size_t count_entries(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        return n;
}

static void test_write_and_replace(const char *dir, int dir_fd) {
        struct stat st;

        assert(write_file_atomic_at(dir_fd, "unit.service", "first\n", 6, 0644) == 0);
        assert(strcmp(read_all(dir_fd, "unit.service"), "first\n") == 0);
        assert(write_file_atomic_at(dir_fd, "unit.service", "second\n", 7, 0640) == 0);
        assert(strcmp(read_all(dir_fd, "unit.service"), "second\n") == 0);
        assert(fstatat(dir_fd, "unit.service", &st, 0) == 0);
        assert((st.st_mode & 07777) == 0640);
        assert(count_entries(dir) == 1);
}

/* The mode asked for is the mode written, whatever the umask (which is read once per process). */
static void test_mode_despite_umask(int dir_fd) {
        mode_t old = umask(0077);
        struct stat st;

        assert(write_file_atomic_at(dir_fd, "masked", "x\n", 2, 0644) == 0);
        assert(fstatat(dir_fd, "masked", &st, 0) == 0);
        assert((st.st_mode & 07777) == 0644);
        assert(unlinkat(dir_fd, "masked", 0) == 0);
        (void) umask(old);
}

static void test_bad_names(int dir_fd) {
        assert(write_file_atomic_at(dir_fd, "", "x", 1, 0644) == -EINVAL);
        assert(write_file_atomic_at(dir_fd, "a/b", "x", 1, 0644) == -EINVAL);
        assert(write_file_atomic_at(dir_fd, NULL, "x", 1, 0644) == -EINVAL);
        assert(write_file_atomic_at(-1, "x", "x", 1, 0644) == -EBADF);
}

/* Writers racing on one name: a reader only ever sees one whole version, never a mix or a part. */
static void test_concurrent_writers(const char *dir, int dir_fd) {
        static char a[32768], b[32768];
        pid_t pids[8];

        memset(a, 'a', sizeof(a));
        memset(b, 'b', sizeof(b));
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                pids[i] = fork();
                assert(pids[i] >= 0);
                if (pids[i] == 0) {
                        for (int k = 0; k < 50; k++)
                                if (write_file_atomic_at(dir_fd, "race", i % 2 ? a : b, sizeof(a), 0644) < 0)
                                        _exit(1);
                        _exit(0);
                }
        }
        for (int k = 0; k < 200; k++) {
                _cleanup_close_ int fd = openat(dir_fd, "race", O_RDONLY | O_CLOEXEC);
                static char buf[sizeof(a) + 1];
                ssize_t n, total = 0;

                if (fd < 0)
                        continue;
                while ((n = read(fd, buf + total, sizeof(buf) - (size_t) total)) > 0)
                        total += n;
                assert(total == sizeof(a));
                assert(memcmp(buf, a, sizeof(a)) == 0 || memcmp(buf, b, sizeof(b)) == 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                int status;

                assert(waitpid(pids[i], &status, 0) == pids[i]);
                assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        assert(count_entries(dir) == 2);        /* unit.service and race: no temporary file left */
}

int main(void) {
        char dir[] = "/tmp/test-atomic-file.XXXXXX";
        _cleanup_close_ int dir_fd = -EBADF;

        assert(mkdtemp(dir));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert(dir_fd >= 0);

        test_mode_despite_umask(dir_fd);
        test_write_and_replace(dir, dir_fd);
        test_bad_names(dir_fd);
        test_concurrent_writers(dir, dir_fd);

        assert(unlinkat(dir_fd, "unit.service", 0) == 0);
        assert(unlinkat(dir_fd, "race", 0) == 0);
        assert(rmdir(dir) == 0);
        return 0;
}
