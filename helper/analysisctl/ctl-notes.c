/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl notes: the stored record of a finished analysis (here, or of another backend such as Slurm), as
 * notes or as JSON. */

#include <stdio.h>

#include "ctl.h"
#include "exit-status.h"
#include "log.h"
#include "record-file.h"

static int print_notes(Ctl *c, const char *id, const Record *record, const char *json, size_t size) {
        if (c->json)
                fwrite(json, 1, size, stdout);
        else
                printf("Analysis %s (profile %s): %s\n", id, strempty(record->profile), strempty(record->notes));
        return EXIT_SUCCESS;
}

int verb_notes(Ctl *c, char **args) {
        const char *id = args[0];
        _cleanup_(record_done) Record record;
        _cleanup_free_ char *json = NULL, *why = NULL;
        size_t size = 0;
        int r;

        record_init(&record);
        r = ctl_check_id(id);
        if (r != 0)
                return r;
        r = record_file_load(c->paths.results_dir, id, &record, &json, &size, &why);
        if (r == -ENOENT) {
                const Backend *b = NULL;
                BackendAnalysis *a = NULL;

                /* Not here: maybe another backend's (Slurm's) analysis has one. */
                r = ctl_find_backend_analysis(c, id, &b, &a, &record, &json, &size);
                if (r > 0)
                        return r;
                if (a)
                        b->free(a);
                if (r == 0 && !a)
                        return print_notes(c, id, &record, json, size);
                r = -ENOENT;
        }
        if (r == -ENOENT) {
                log_error("No record of analysis '%s' in %s (still running, never run, or removed by gc).", id,
                          c->paths.results_dir);
                return EXIT_CTL_NO_SUCH_ANALYSIS;
        }
        if (r == -EBADMSG) {
                log_error("The record %s/%s.json cannot be read: %s", c->paths.results_dir, id, strempty(why));
                return EXIT_SETUP_NO_RECORD;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot read the record %s/%s.json: %m", c->paths.results_dir, id);
                return r == -EACCES ? EXIT_SETUP_PERMISSION : EXIT_SETUP_NO_RECORD;
        }
        return print_notes(c, id, &record, json, size);
}
