/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the verbs of analysisctl share: the parsed options, the connection and the analyses' directories. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "analysis-units.h"
#include "backend.h"
#include "paths.h"
#include "runtime-scope.h"

/* analysisctl's own exit statuses besides analysis-run's (exit-status.h), after systemctl's (LSB) ones. */
enum {
        EXIT_CTL_FAILURE             = 1,       /* a profile is bad, a gc step failed, ... */
        EXIT_CTL_NOT_RUNNING         = 3,       /* status: the analysis has finished */
        EXIT_CTL_NO_SUCH_ANALYSIS    = 4,       /* neither running nor recorded */
};

typedef struct Ctl {
        RuntimeScope scope;
        bool user_without_name;         /* --user with no =NAME: the scope (report's filter needs the '=') */
        bool json;
        bool quiet;
        bool no_block;
        unsigned lines;
        uint64_t older_than_usec;       /* 0: not given */
        const char *profile;            /* report: --profile= */
        uint64_t since_usec;            /* report, suggest: --since= (0: not given) */
        uint64_t until_usec;            /* report, suggest: --until= (UINT64_MAX: not given) */
        uid_t caller;                   /* report, suggest: --user=NAME ((uid_t) -1: not given) */
        unsigned margin_percent;        /* suggest: --margin= */
        bool write;                     /* suggest: --write */
        const char *output;             /* plot: -o FILE (- for stdout); metrics: --output= (NULL: stdout) */
        const char *plot;               /* report: --plot=FILE (- for stdout; NULL: no picture) */
        sd_event *event;
        sd_bus *bus;
        AnalysisPaths paths;
        GlobalConfig *global;           /* analysis-sandbox.conf, for the backends; see ctl_backend_config() */
        bool global_loaded;
        BackendConfig backend_config;
} Ctl;

/* Connects to the service manager of c->scope, once. Returns 0, or an exit status after saying why. */
int ctl_connect(Ctl *c);

/* Says why a bus call about what failed, and returns the exit status for it (77 for a denied permission). */
int ctl_bus_error(const Ctl *c, const sd_bus_error *error, int r, const char *what);

/* Checks id, saying why it is bad. Returns 0 or EXIT_SETUP_USAGE. */
int ctl_check_id(const char *id);

/* Lists the loaded analysis units (of id only, when not NULL) from the manager of c->scope. Returns 0 with
 * *ret and *ret_n (free with analysis_units_free()), or an exit status after saying why. */
int ctl_list_units(Ctl *c, const char *id, AnalysisUnit **ret, size_t *ret_n);

/* Finds the loaded unit of analysis id: the running one, else any. Returns 0 with *ret (all NULL when none
 * is loaded), or an exit status after saying why. Free with analysis_unit_done(). */
int ctl_find_unit(Ctl *c, const char *id, AnalysisUnit *ret);

/* The configuration of the backends whose analyses analysisctl finds besides the service manager's (Slurm's,
 * in SharedDirectory/UID/), from analysis-sandbox.conf, read once. NULL when the file is bad (warned about):
 * then they are left out. */
const BackendConfig *ctl_backend_config(Ctl *c);

/* Finds analysis id among the other backends' analyses (backend.h: those with attach()): one submitted and
 * without a record yet, as *ret_analysis to wait for or stop; else, with *ret_analysis NULL, its record. Returns
 * 0 with *ret_backend, -ENOENT when none has it, or an exit status after saying why. */
int ctl_find_backend_analysis(Ctl *c, const char *id, const Backend **ret_backend, BackendAnalysis **ret_analysis,
                              Record *ret_record, char **ret_json, size_t *ret_size);

/* Loads the record of analysis id, here or another backend's (Slurm's), and its JSON text when ret_json is set.
 * Returns 0, or an exit status after saying why not. Still running: with running_why set, says so with that
 * message (one %s: the id) and returns EXIT_CTL_NOT_RUNNING; else it is an analysis without a record. */
int ctl_load_record(Ctl *c, const char *id, const char *running_why, Record *ret, char **ret_json, size_t *ret_size);

/* Which records ctl_records_foreach() passes on. */
typedef struct RecordFilter {
        const char *profile;            /* NULL: every profile */
        uint64_t since_usec;            /* finished (or, without an end, started) at or after; 0: any */
        uint64_t until_usec;            /* and before; UINT64_MAX: any */
        uid_t caller;                   /* started by this user only; (uid_t) -1: any the caller may see */
} RecordFilter;

/* Called with each record and the directory it is in; a negative errno stops the walk and is returned. */
typedef int (*RecordVisitor)(const Record *r, const char *dir, void *userdata);

/* Whether the caller may see everyone's records: root, the admin group (result-access.h), or anyone in a
 * user's own manager. Members of the analysis group see only the analyses they started (record caller_uid). */
bool ctl_sees_everyone(const Ctl *c);

/* Calls visit with every record the caller may see that passes filter: the results directory of c->scope's
 * manager, then (unless local_only) the other backends' shared directories (Slurm's SharedDirectory/UID/).
 * Records are read one at a time; unreadable or bad ones are counted in *ret_skipped. Returns 0 or a negative
 * errno. */
int ctl_records_foreach(Ctl *c, const RecordFilter *filter, bool local_only, RecordVisitor visit, void *userdata,
                        uint64_t *ret_skipped);

/* The filter of --profile=, --since=, --until= and --user=NAME. Returns 0, or an exit status after saying why
 * (a member asking for another user's analyses). */
int ctl_record_filter(Ctl *c, RecordFilter *ret);

/* Adds the records of ids in results_dir to the metrics tally (ctl-metrics.c) before gc removes them, so that
 * the counters of analysisctl metrics never go down. Returns 0 or a negative errno. */
int ctl_metrics_tally_fold(Ctl *c, const char *results_dir, char * const *ids);

/* The verbs. Each returns the exit status of analysisctl. */
int verb_list(Ctl *c, char **args);
int verb_status(Ctl *c, char **args);
int verb_wait(Ctl *c, char **args);
int verb_stop(Ctl *c, char **args);
int verb_notes(Ctl *c, char **args);
int verb_gc(Ctl *c, char **args);
int verb_profiles(Ctl *c, char **args);
int verb_plot(Ctl *c, char **args);
int verb_report(Ctl *c, char **args);
int verb_suggest(Ctl *c, char **args);
int verb_metrics(Ctl *c, char **args);
