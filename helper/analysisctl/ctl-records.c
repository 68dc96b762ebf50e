/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading many records one at a time, as report, suggest and metrics do: every record of the results directory
 * and of the other backends' shared directories (Slurm's) that the caller may see and the filter lets through,
 * in memory that does not grow with their number. */

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis-id.h"
#include "ctl.h"
#include "log.h"
#include "parse-value.h"
#include "record-file.h"
#include "result-access.h"

bool ctl_sees_everyone(const Ctl *c) {
        _cleanup_free_ gid_t *groups = NULL;
        gid_t admin = result_admin_gid();
        int n;

        if (c->scope != RUNTIME_SCOPE_SYSTEM || geteuid() == 0)
                return true;
        if (admin == 0)
                return false;
        if (getegid() == admin)
                return true;
        n = getgroups(0, NULL);
        if (n <= 0 || !(groups = calloc((size_t) n, sizeof(gid_t))))
                return false;
        n = getgroups(n, groups);
        for (int i = 0; i < n; i++)
                if (groups[i] == admin)
                        return true;
        return false;
}

typedef struct Scan {
        const RecordFilter *filter;
        bool everyone;
        uid_t self;
        RecordVisitor visit;
        void *userdata;
        char *buf;
        size_t size;
        uint64_t n_skipped;
} Scan;

static bool filter_passes(const Scan *s, const Record *r) {
        const RecordFilter *f = s->filter;
        uint64_t t = r->finished_at_usec != RECORD_UNSET ? r->finished_at_usec : r->started_at_usec;

        /* A member sees only the analyses they started: their records carry an ACL entry for them, and one that
         * reaches them otherwise (a copy, a group-readable Slurm directory) is still not theirs to report. */
        if (!s->everyone && r->caller_uid != (uint64_t) s->self)
                return false;
        if (f->caller != (uid_t) -1 && r->caller_uid != (uint64_t) f->caller)
                return false;
        if (f->profile && (!r->profile || strcmp(r->profile, f->profile) != 0))
                return false;
        if ((f->since_usec > 0 || f->until_usec != UINT64_MAX) &&
            (t == RECORD_UNSET || t < f->since_usec || t >= f->until_usec))
                return false;
        return true;
}

/* Reads name in dir_fd into s->buf, which grows to the largest record read. Returns 0 or a negative errno. */
static int read_record_file(Scan *s, int dir_fd, const char *name, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        size_t size = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size >= RECORD_FILE_MAX)
                return -EBADMSG;
        if ((size_t) st.st_size + 1 > s->size) {
                char *b = realloc(s->buf, (size_t) st.st_size + 1);

                if (!b)
                        return -ENOMEM;
                s->buf = b;
                s->size = (size_t) st.st_size + 1;
        }
        while (size < s->size - 1) {
                ssize_t n = read(fd, s->buf + size, s->size - 1 - size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        s->buf[size] = '\0';
        *ret_size = size;
        return 0;
}

static int scan_dir(Scan *s, const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);

        if (!d)
                return errno == ENOENT || errno == EACCES ? 0 : -errno;
        for (struct dirent *de; (de = readdir(d));) {
                size_t len = strlen(de->d_name), size = 0;
                _cleanup_free_ char *reason = NULL;
                char id[ANALYSIS_ID_MAX + 1];
                Record r;
                int k;

                /* ID.json; not the temporary files of a write in progress (".#ID.json.XXXX"). */
                if (len <= 5 || len - 5 > ANALYSIS_ID_MAX || strcmp(de->d_name + len - 5, ".json") != 0)
                        continue;
                memcpy(id, de->d_name, len - 5);
                id[len - 5] = '\0';
                if (!analysis_id_is_valid(id))
                        continue;
                k = read_record_file(s, dirfd(d), de->d_name, &size);
                if (k == -ENOMEM)
                        return k;
                if (k == -EACCES || k == -ENOENT)       /* another caller's, or removed by gc meanwhile */
                        continue;
                if (k < 0) {
                        s->n_skipped++;
                        continue;
                }
                k = record_parse_json(s->buf, size, &r, &reason);
                if (k == -ENOMEM)
                        return k;
                if (k < 0) {
                        s->n_skipped++;
                        continue;
                }
                if (filter_passes(s, &r))
                        k = s->visit(&r, dir, s->userdata);
                record_done(&r);
                if (k < 0)
                        return k;
        }
        return 0;
}

/* The other backends' directories: SharedDirectory/UID/ of every user for those who see everyone, else the
 * caller's own. */
static int scan_shared(Ctl *c, Scan *s) {
        const BackendConfig *config;
        const Setting *shared;
        _cleanup_closedir_ DIR *d = NULL;
        int r;

        if (c->scope != RUNTIME_SCOPE_SYSTEM || !(config = ctl_backend_config(c)))
                return 0;
        shared = &config->global->settings[GLOBAL_SLURM_SHARED_DIRECTORY];
        if (!shared->set)
                return 0;
        if (!s->everyone) {
                _cleanup_free_ char *own = strprintf("%s/%u", shared->text, (unsigned) s->self);

                return own ? scan_dir(s, own) : -ENOMEM;
        }
        d = opendir(shared->text);
        if (!d)
                return errno == ENOENT || errno == EACCES ? 0 : -errno;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *dir = NULL;
                uint64_t uid;

                if (parse_uint64(de->d_name, &uid) < 0)
                        continue;
                dir = strprintf("%s/%s", shared->text, de->d_name);
                if (!dir)
                        return -ENOMEM;
                r = scan_dir(s, dir);
                if (r < 0)
                        return r;
        }
        return 0;
}

int ctl_records_foreach(Ctl *c, const RecordFilter *filter, bool local_only, RecordVisitor visit, void *userdata,
                        uint64_t *ret_skipped) {
        Scan s = {
                .filter = filter,
                .everyone = ctl_sees_everyone(c),
                .self = getuid(),
                .visit = visit,
                .userdata = userdata,
        };
        int r;

        r = scan_dir(&s, c->paths.results_dir);
        if (r >= 0 && !local_only)
                r = scan_shared(c, &s);
        free(s.buf);
        if (r < 0)
                return r;
        if (ret_skipped)
                *ret_skipped = s.n_skipped;
        return 0;
}
