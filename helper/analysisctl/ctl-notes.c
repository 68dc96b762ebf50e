/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* analysisctl notes: the stored record of a finished analysis (here, or of another backend such as Slurm), as
 * notes or as JSON. */

#include <stdio.h>

#include "ctl.h"
#include "exit-status.h"
#include "log.h"

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
        _cleanup_free_ char *json = NULL;
        size_t size = 0;
        int r;

        record_init(&record);
        r = ctl_check_id(id);
        if (r != 0)
                return r;
        r = ctl_load_record(c, id, NULL, &record, &json, &size);
        if (r != 0)
                return r;
        return print_notes(c, id, &record, json, size);
}
