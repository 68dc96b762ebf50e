/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: any bytes as a profile file, through the parser, the checks and the unit writer. */

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs-util.h"
#include "profile.h"
#include "unit-writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

/* The parser reads files (as the generator does), so each input becomes one. */
static int write_input(const uint8_t *data, size_t size) {
        int fd;

        if (!path[0]) {
                char dir[] = "/tmp/fuzz-profile.XXXXXX";

                if (!mkdtemp(dir))
                        abort();
                (void) snprintf(path, sizeof(path), "%s/fuzz.ini", dir);
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                abort();
        return close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *files[] = { path, NULL };

        (void) write_input(data, size);
        for (RuntimeScope scope = 0; scope < _RUNTIME_SCOPE_MAX; scope++) {
                ConfigError error = {};
                Profile *p = NULL;
                int r = profile_load("fuzz", files, scope, &p, &error);

                if (r == CONFIG_LOADED) {
                        TemplateBuffer service_text = {}, slice_text = {};
                        UnitFile service = {}, slice = {};
                        char *bad = NULL;

                        /* A profile that passed every check must always render: anything else is a bug. */
                        if (unit_writer_render_service(p, scope, &service_text, &service, &bad) < 0 ||
                            unit_writer_render_profile_slice(p, scope, &slice_text, &slice, &bad) < 0)
                                abort();
                        /* No value may reach the unit with a line break of its own. */
                        if (strstr(service.content, "\n\n\n"))
                                abort();
                        unit_file_clear(&service);
                        unit_file_clear(&slice);
                        template_buffer_done(&service_text);
                        template_buffer_done(&slice_text);
                        free(bad);
                }
                profile_free(p);
                config_error_clear(&error);
        }
        return 0;
}
