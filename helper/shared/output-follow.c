/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Following a growing output file and copying what is added to one of our own file descriptors.
 *
 * The unit writes the analysis' output to files (StandardOutput=append:), not to us: so it is complete even
 * when we are killed, and never passes the journal's rate limits. We read those files as they grow. */

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "fs-util.h"
#include "output-follow.h"

struct OutputFollow {
        char *path;
        int in_fd;
        int out_fd;
        bool out_broken;        /* our reader went away (EPIPE): keep following, stop copying */
        sd_event_source *inotify;
};

int output_follow_drain(OutputFollow *f) {
        char buf[65536];

        for (;;) {
                ssize_t n = read(f->in_fd, buf, sizeof(buf));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                if (!f->out_broken && loop_write(f->out_fd, buf, (size_t) n) < 0)
                        f->out_broken = true;
        }
}

static int on_inotify(sd_event_source *s, const struct inotify_event *event, void *userdata) {
        (void) output_follow_drain(userdata);
        return 0;
}

int output_follow_new(OutputFollow **ret, sd_event *event, const char *path, int out_fd) {
        _cleanup_(output_follow_freep) OutputFollow *f = NULL;
        int r;

        f = calloc(1, sizeof(OutputFollow));
        if (!f)
                return -ENOMEM;
        f->in_fd = -EBADF;
        f->out_fd = out_fd;
        f->path = strdup(path);
        if (!f->path)
                return -ENOMEM;
        f->in_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (f->in_fd < 0)
                return -errno;
        /* Watch before the first read, so nothing written in between goes unnoticed. */
        r = sd_event_add_inotify(event, &f->inotify, path, IN_MODIFY, on_inotify, f);
        if (r < 0)
                return r;
        r = output_follow_drain(f);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}

int output_follow_reopen(OutputFollow *f) {
        off_t pos = lseek(f->in_fd, 0, SEEK_CUR);
        int fd;

        if (pos < 0)
                return -errno;
        /* NFS's close-to-open consistency: an open() fetches the file's current attributes, so what another
         * client appended becomes readable; the descriptor held since before would still see the old size. */
        fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (lseek(fd, pos, SEEK_SET) < 0) {
                int r = -errno;

                (void) close(fd);
                return r;
        }
        (void) close(f->in_fd);
        f->in_fd = fd;
        return output_follow_drain(f);
}

OutputFollow *output_follow_free(OutputFollow *f) {
        if (!f)
                return NULL;
        free(f->path);
        sd_event_source_disable_unref(f->inotify);
        if (f->in_fd >= 0)
                (void) close(f->in_fd);
        free(f);
        return NULL;
}
