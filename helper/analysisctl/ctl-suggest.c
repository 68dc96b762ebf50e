/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl suggest: Memory=, CPU=, Tasks= and Runtime= for a profile from its past analyses (the rule of
 * limit-suggest.h, after the VPA recommender's percentile and margin), each with what it would have cost the
 * past (jobstats' "you asked for X and used Y"), printed as a profile drop-in; --write installs it, checked as
 * the generator checks profiles, as one file that can be removed to take it back. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "ctl.h"
#include "efficiency.h"
#include "exit-status.h"
#include "fs-util.h"
#include "json-writer.h"
#include "limit-suggest.h"
#include "log-histogram.h"
#include "log.h"
#include "parse-value.h"
#include "profile-search.h"
#include "profile.h"
#include "strv.h"

/* Sorted after an admin's usual 50-*.conf, so the suggestion wins over them; before 99-*, which stays theirs. */
#define SUGGEST_DROPIN_NAME "90-analysisctl-suggest.conf"

typedef enum SuggestKind {
        SUGGEST_MEMORY,
        SUGGEST_CPU,
        SUGGEST_RUNTIME,
        SUGGEST_TASKS,
        _SUGGEST_KIND_MAX,
} SuggestKind;

typedef struct Suggestion {
        LogHistogram success;           /* of the successful analyses: bytes, percent of one CPU, microseconds,
                                         * tasks */
        bool have;                      /* enough analyses to suggest */
        double p95, max;
        uint64_t value;                 /* bytes, percent, microseconds, tasks */
        uint64_t n_known;               /* analyses with the figure */
        uint64_t n_over;                /* ... above the suggestion */
        uint64_t n_over_stopped;        /* ... of which the current limit stopped anyway */
        uint64_t n_stopped_unknown;     /* stopped at the current limit below the suggestion: whether they would
                                         * have fitted is not known */
} Suggestion;

typedef struct Suggest {
        uint64_t n, n_success;
        uint64_t n_tasks_refused;       /* analyses with forks refused */
        Suggestion s[_SUGGEST_KIND_MAX];
        uint64_t first_usec, last_usec;
} Suggest;

static const char * const suggest_keys[_SUGGEST_KIND_MAX] = {
        [SUGGEST_MEMORY]  = "Memory",
        [SUGGEST_CPU]     = "CPU",
        [SUGGEST_RUNTIME] = "Runtime",
        [SUGGEST_TASKS]   = "Tasks",
};

static const ProfileKey suggest_profile_keys[_SUGGEST_KIND_MAX] = {
        [SUGGEST_MEMORY]  = PROFILE_MEMORY,
        [SUGGEST_CPU]     = PROFILE_CPU,
        [SUGGEST_RUNTIME] = PROFILE_RUNTIME,
        [SUGGEST_TASKS]   = PROFILE_TASKS,
};

/* The figure of kind for r: peak bytes, average CPU in percent of one CPU (the record keeps no CPU peak),
 * runtime, or the task peak; NaN when the record lacks it. */
static double figure(const Record *r, SuggestKind kind) {
        switch (kind) {
        case SUGGEST_MEMORY:
                return r->usage.memory_peak == RECORD_UNSET ? NAN : (double) r->usage.memory_peak;
        case SUGGEST_CPU:
                if (r->usage.cpu_usec == RECORD_UNSET || r->usage.runtime_usec == RECORD_UNSET || r->usage.runtime_usec == 0)
                        return NAN;
                return 100.0 * (double) r->usage.cpu_usec / (double) r->usage.runtime_usec;
        case SUGGEST_RUNTIME:
                return r->usage.runtime_usec == RECORD_UNSET ? NAN : (double) r->usage.runtime_usec;
        case SUGGEST_TASKS:
                return r->usage.tasks_peak == RECORD_UNSET ? NAN : (double) r->usage.tasks_peak;
        default:
                return NAN;
        }
}

static bool stopped_by(const Record *r, SuggestKind kind) {
        EndClass e = end_class_from_record(r);

        return (kind == SUGGEST_MEMORY && e == END_MEMORY) || (kind == SUGGEST_RUNTIME && e == END_TIME) ||
                (kind == SUGGEST_TASKS && e == END_TASKS);
}

/* The most of kind an analysis can use under a suggested value: all of it, but for Tasks= the room the unit keeps
 * for the sandbox's own tasks. */
static double usable(SuggestKind kind, uint64_t value) {
        if (kind == SUGGEST_TASKS)
                return value > SUGGEST_TASKS_RESERVED ? (double) (value - SUGGEST_TASKS_RESERVED) : 0;
        return (double) value;
}

static int collect(const Record *r, const char *dir, void *userdata) {
        Suggest *sg = userdata;
        bool success = end_class_from_record(r) == END_SUCCESS;
        uint64_t t = r->finished_at_usec != RECORD_UNSET ? r->finished_at_usec : r->started_at_usec;

        sg->n++;
        sg->n_success += success;
        if (r->usage.tasks_limit_hits != RECORD_UNSET && r->usage.tasks_limit_hits > 0)
                sg->n_tasks_refused++;
        if (t != RECORD_UNSET) {
                sg->first_usec = MIN(sg->first_usec, t);
                sg->last_usec = MAX(sg->last_usec, t);
        }
        if (success)
                for (SuggestKind k = 0; k < _SUGGEST_KIND_MAX; k++)
                        log_histogram_add(&sg->s[k].success, figure(r, k));
        return 0;
}

/* The second pass: how many past analyses the suggestions would have stopped (or, for CPU, held back). */
static int count_over(const Record *r, const char *dir, void *userdata) {
        Suggest *sg = userdata;

        for (SuggestKind k = 0; k < _SUGGEST_KIND_MAX; k++) {
                Suggestion *s = sg->s + k;
                double v = figure(r, k);

                if (!s->have || isnan(v))
                        continue;
                s->n_known++;
                if (v > usable(k, s->value)) {
                        s->n_over++;
                        s->n_over_stopped += stopped_by(r, k);
                }
                else if (stopped_by(r, k))
                        s->n_stopped_unknown++;
        }
        return 0;
}

static void compute(Suggest *sg, unsigned margin) {
        for (SuggestKind k = 0; k < _SUGGEST_KIND_MAX; k++) {
                Suggestion *s = sg->s + k;
                double v;

                if (s->success.n < SUGGEST_MIN_ANALYSES)
                        continue;
                s->have = true;
                s->p95 = log_histogram_quantile(&s->success, SUGGEST_PERCENTILE);
                s->max = log_histogram_quantile(&s->success, 1);
                v = suggest_value(s->p95, s->max, margin);
                s->value = k == SUGGEST_MEMORY ? suggest_round_bytes(v) :
                           k == SUGGEST_CPU ? suggest_round_cpu_percent(v, cpu_percent_max()) :
                           k == SUGGEST_TASKS ? suggest_round_tasks(ceil(v) + SUGGEST_TASKS_RESERVED) :
                           suggest_round_runtime(v);
        }
}

/* The value as the drop-in has it. */
static const char *format_value(SuggestKind k, uint64_t v, char *buf, size_t n) {
        if (k == SUGGEST_MEMORY)
                return suggest_format_bytes(v, buf, n);
        if (k == SUGGEST_RUNTIME)
                return suggest_format_runtime(v, buf, n);
        snprintf(buf, n, k == SUGGEST_TASKS ? "%" PRIu64 : "%" PRIu64 "%%", v);
        return buf;
}

/* A figure for people. */
static const char *format_human(SuggestKind k, double v, char *buf, size_t n) {
        if (k == SUGGEST_MEMORY)
                return format_bytes((uint64_t) v, buf, n);
        if (k == SUGGEST_RUNTIME)
                return format_duration((uint64_t) v, buf, n);
        if (k == SUGGEST_TASKS)
                snprintf(buf, n, "%.0f task%s", v, v == 1 ? "" : "s");
        else
                snprintf(buf, n, "%.0f%%", v);
        return buf;
}

/* The profile's current value of k, for people. */
static const char *format_current(const Profile *p, SuggestKind k, char *buf, size_t n) {
        const Setting *s = p ? &p->settings[suggest_profile_keys[k]] : NULL;

        if (!s || !s->set)
                snprintf(buf, n, "no limit");
        else if (s->infinity)
                snprintf(buf, n, "infinity");
        else if (k == SUGGEST_MEMORY && s->percent)
                snprintf(buf, n, "%" PRIu64 "%% of RAM", s->number);
        else if (k == SUGGEST_CPU)
                snprintf(buf, n, "%" PRIu64 "%%", s->number);
        else if (k == SUGGEST_TASKS)
                snprintf(buf, n, "%" PRIu64, s->number);
        else
                (void) format_human(k, (double) s->number, buf, n);
        return buf;
}

/* The drop-in and the reasoning before it, as comments. */
static int compose(const char *name, const Profile *p, const Suggest *sg, unsigned margin, const char *path, char **ret) {
        static const char * const used[_SUGGEST_KIND_MAX] = {
                [SUGGEST_MEMORY]  = "peaked at",
                [SUGGEST_CPU]     = "averaged",
                [SUGGEST_RUNTIME] = "ran for",
                [SUGGEST_TASKS]   = "peaked at",
        };
        static const char * const stopped[_SUGGEST_KIND_MAX] = {
                [SUGGEST_MEMORY]  = "would have been killed",
                [SUGGEST_CPU]     = "would have been held back (CPU= throttles, it stops nothing)",
                [SUGGEST_RUNTIME] = "would have been stopped",
                [SUGGEST_TASKS]   = "would have had forks refused",
        };
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        char a[32], b[32], c[32], d[32];

        if (!f)
                return -ENOMEM;
        fprintf(f, "# Suggested by analysisctl suggest %s from %" PRIu64 " past analys%s (%" PRIu64 " successful).\n",
                name, sg->n, sg->n == 1 ? "is" : "es", sg->n_success);
        fprintf(f, "# Rule: the 95th percentile of the successful analyses plus %u%%, never below the largest of them,\n"
                "# rounded up (analysisctl(1), SUGGESTED LIMITS). Take it back: rm %s\n", margin, path);
        for (SuggestKind k = 0; k < _SUGGEST_KIND_MAX; k++) {
                const Suggestion *s = sg->s + k;

                if (!s->have) {
                        fprintf(f, "# %s=: kept at %s: only %" PRIu64 " successful analys%s with the figure, %d needed.\n",
                                suggest_keys[k], format_current(p, k, a, sizeof(a)), s->success.n,
                                s->success.n == 1 ? "is" : "es", SUGGEST_MIN_ANALYSES);
                        continue;
                }
                fprintf(f, "# %s=: you asked for %s; successful analyses %s %s at most (95th percentile %s)",
                        suggest_keys[k], format_current(p, k, a, sizeof(a)), used[k], format_human(k, s->max, b, sizeof(b)),
                        format_human(k, s->p95, c, sizeof(c)));
                if (k == SUGGEST_TASKS)
                        fprintf(f, "; %d more kept for the sandbox's own tasks", SUGGEST_TASKS_RESERVED);
                fputs(".\n", f);
                fprintf(f, "#   %s=%s: %" PRIu64 " of %" PRIu64 " past analyses %s", suggest_keys[k],
                        format_value(k, s->value, d, sizeof(d)), s->n_over, s->n_known, stopped[k]);
                if (s->n_over_stopped > 0)
                        fprintf(f, " (%" PRIu64 " of them were, at the current limit)", s->n_over_stopped);
                if (s->n_stopped_unknown > 0)
                        fprintf(f, "; %" PRIu64 " more were stopped at the current limit and might not have fitted",
                                s->n_stopped_unknown);
                fputs(".\n", f);
        }
        if (sg->n_tasks_refused > 0)
                fprintf(f, "# %" PRIu64 " analys%s had forks refused at the current task limit.\n", sg->n_tasks_refused,
                        sg->n_tasks_refused == 1 ? "is" : "es");
        for (SuggestKind k = 0; k < _SUGGEST_KIND_MAX; k++)
                if (sg->s[k].have) {
                        fputs("[Limits]\n", f);
                        break;
                }
        for (SuggestKind k = 0; k < _SUGGEST_KIND_MAX; k++)
                if (sg->s[k].have)
                        fprintf(f, "%s=%s\n", suggest_keys[k], format_value(k, sg->s[k].value, a, sizeof(a)));
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

typedef struct Check {
        const char *name;
        RuntimeScope scope;
        char **files;           /* the profile's files, the suggested drop-in replaced by a placeholder */
        size_t placeholder;
        ConfigError error;
} Check;

/* Called on the complete temporary file before it takes its name: the profile with it must load as the
 * generator loads it, or nothing is changed. */
static int check_profile(int fd, void *userdata) {
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *self = strprintf("/proc/self/fd/%d", fd);
        Check *ch = userdata;
        char *old;
        int r;

        if (!self)
                return -ENOMEM;
        old = ch->files[ch->placeholder];
        ch->files[ch->placeholder] = self;
        r = profile_load(ch->name, ch->files, ch->scope, &p, &ch->error);
        ch->files[ch->placeholder] = old;
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        return r == CONFIG_LOADED ? 0 : -ENOENT;
}

static const char *basename_of(const char *path) {
        const char *s = strrchr(path, '/');

        return s ? s + 1 : path;
}

static int write_dropin(Ctl *c, const char *name, char * const *files, const char *dir, const char *text) {
        _cleanup_free_ char *dropin_dir = strprintf("%s/%s.ini.d", dir, name), *path = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        Check ch = { .name = name, .scope = c->scope };
        size_t n = 0;
        int r;

        if (!dropin_dir)
                return log_oom();
        path = strprintf("%s/%s", dropin_dir, SUGGEST_DROPIN_NAME);
        if (!path)
                return log_oom();
        /* The main file first, then the drop-ins sorted by name: the new one in its place, an older copy of it
         * left out. */
        ch.placeholder = SIZE_MAX;
        r = 0;
        STRV_FOREACH(f, files) {
                int cmp = f == files ? -1 : strcmp(basename_of(*f), SUGGEST_DROPIN_NAME);

                if (cmp == 0)
                        continue;
                if (cmp > 0 && ch.placeholder == SIZE_MAX) {
                        ch.placeholder = n++;
                        r = strv_extend(&ch.files, "-");
                }
                if (r >= 0)
                        r = strv_extend(&ch.files, *f);
                n++;
                if (r < 0)
                        break;
        }
        if (r >= 0 && ch.placeholder == SIZE_MAX) {
                ch.placeholder = n;
                r = strv_extend(&ch.files, "-");
        }
        if (r < 0)
                return strv_free(ch.files), log_oom();
        r = mkdir_p(dropin_dir, 0755);
        if (r < 0) {
                strv_free(ch.files);
                return log_error_errno(r, "Cannot create %s: %m", dropin_dir);
        }
        dir_fd = open(dropin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                strv_free(ch.files);
                return log_error_errno(errno, "Cannot open %s: %m", dropin_dir);
        }
        r = write_file_atomic_full_at(dir_fd, SUGGEST_DROPIN_NAME, text, strlen(text), 0644, check_profile, &ch);
        strv_free(ch.files);
        if (r == -EBADMSG) {
                _cleanup_free_ char *why = config_error_to_string(&ch.error);

                config_error_clear(&ch.error);
                log_error("Not written: profile '%s' would not load with it (%s), so nothing was changed.", name,
                          strempty(why));
                return -EBADMSG;
        }
        config_error_clear(&ch.error);
        if (r < 0)
                return log_error_errno(r, "Cannot write %s: %m", path);
        return 0;
}

static void write_json(const char *name, const Suggest *sg, unsigned margin, const char *path, const char *text) {
        JsonWriter w = { .f = stdout };
        char a[32];

        json_begin_object(&w);
        json_key(&w, "profile");
        json_string(&w, name);
        json_key(&w, "analyses");
        json_uint(&w, sg->n);
        json_key(&w, "successful");
        json_uint(&w, sg->n_success);
        json_key(&w, "min_analyses");
        json_uint(&w, SUGGEST_MIN_ANALYSES);
        json_key(&w, "margin_percent");
        json_uint(&w, margin);
        json_key(&w, "suggestions");
        json_begin_object(&w);
        for (SuggestKind k = 0; k < _SUGGEST_KIND_MAX; k++) {
                const Suggestion *s = sg->s + k;

                json_key(&w, suggest_keys[k]);
                json_begin_object(&w);
                json_key(&w, "value");
                json_string(&w, s->have ? format_value(k, s->value, a, sizeof(a)) : NULL);
                json_key(&w, "successful_with_figure");
                json_uint(&w, s->success.n);
                json_key(&w, "p95");
                json_double(&w, s->have ? s->p95 : NAN);
                json_key(&w, "max");
                json_double(&w, s->have ? s->max : NAN);
                json_key(&w, "with_figure");
                json_uint(&w, s->n_known);
                json_key(&w, "over");
                json_uint(&w, s->n_over);
                json_key(&w, "over_stopped_at_current_limit");
                json_uint(&w, s->n_over_stopped);
                json_key(&w, "stopped_below_it_at_current_limit");
                json_uint(&w, s->n_stopped_unknown);
                if (k == SUGGEST_TASKS) {
                        json_key(&w, "reserved_for_sandbox");
                        json_uint(&w, SUGGEST_TASKS_RESERVED);
                }
                json_end_object(&w);
        }
        json_end_object(&w);
        json_key(&w, "path");
        json_string(&w, path);
        json_key(&w, "dropin");
        json_string(&w, text);
        json_end_object(&w);
        putchar('\n');
}

int verb_suggest(Ctl *c, char **args) {
        const char *name = args[0];
        _cleanup_strv_free_ char **dirs = NULL, **warnings = NULL, **files = NULL;
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *text = NULL, *path = NULL;
        ConfigError error = {};
        Suggest sg = { .first_usec = UINT64_MAX };
        RecordFilter filter;
        bool enough = false;
        int r;

        if (!profile_name_is_valid(name)) {
                log_error("Invalid profile name '%s': use [a-z0-9_]+.", name);
                return EXIT_SETUP_USAGE;
        }
        if (c->write && c->scope == RUNTIME_SCOPE_SYSTEM && geteuid() != 0) {
                log_error("Only root may install a profile drop-in (--write).");
                return EXIT_SETUP_PERMISSION;
        }
        r = profile_search_dirs(c->scope, &dirs);
        if (r < 0 || strv_length(dirs) == 0)
                return log_error_errno(r < 0 ? r : ENOENT, "Cannot find the profile directories: %m"), EXIT_CTL_FAILURE;
        r = profile_find_and_load(dirs, name, c->scope, &warnings, &files, &p, &error);
        if (r < 0) {
                _cleanup_free_ char *why = config_error_to_string(&error);

                config_error_clear(&error);
                log_warning("Profile '%s' does not load now (%s); suggesting from its records all the same.", name,
                            strempty(why));
        } else if (r != CONFIG_LOADED) {
                log_error("No profile '%s' (%s).", name, r == CONFIG_MASKED ? "masked" : "no such file");
                return EXIT_SETUP_UNKNOWN_PROFILE;
        }
        r = ctl_record_filter(c, &filter);
        if (r != 0)
                return r;
        filter.profile = name;
        for (SuggestKind k = 0; k < _SUGGEST_KIND_MAX; k++)
                log_histogram_init(&sg.s[k].success);
        r = ctl_records_foreach(c, &filter, false, collect, &sg, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot read the records: %m"), EXIT_CTL_FAILURE;
        compute(&sg, c->margin_percent);
        r = ctl_records_foreach(c, &filter, false, count_over, &sg, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot read the records: %m"), EXIT_CTL_FAILURE;
        for (SuggestKind k = 0; k < _SUGGEST_KIND_MAX; k++)
                enough |= sg.s[k].have;
        path = strprintf("%s/%s.ini.d/%s", dirs[0], name, SUGGEST_DROPIN_NAME);
        if (!path || compose(name, p, &sg, c->margin_percent, path, &text) < 0)
                return log_oom(), EXIT_SETUP_UNAVAILABLE;
        if (c->json)
                write_json(name, &sg, c->margin_percent, enough ? path : NULL, enough ? text : NULL);
        else if (enough || !c->write)
                fputs(text, stdout);
        if (!enough) {
                log_error("Too few successful analyses of profile '%s' to suggest anything: %" PRIu64 " of %" PRIu64
                          ", at least %d needed.", name, sg.n_success, sg.n, SUGGEST_MIN_ANALYSES);
                return EXIT_CTL_FAILURE;
        }
        if (!c->write)
                return EXIT_SUCCESS;
        r = write_dropin(c, name, files, dirs[0], text);
        if (r < 0)
                return EXIT_CTL_FAILURE;
        /* We do not reload the manager ourselves: the admin may want to look first, and a reload is theirs to time. */
        fprintf(stderr, "Wrote %s. Make it live with: systemctl%s daemon-reload\n"
                "Take it back by removing that one file and reloading again.\n",
                path, c->scope == RUNTIME_SCOPE_USER ? " --user" : "");
        return EXIT_SUCCESS;
}
