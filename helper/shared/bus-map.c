/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a set of D-Bus properties of one object and interface into a struct, from a table. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis-id.h"
#include "bus-map.h"
#include "strv.h"
#include "macro.h"

static const BusMapEntry *map_find(const BusMapEntry *map, size_t n_map, const char *name) {
        for (size_t i = 0; i < n_map; i++)
                if (strcmp(map[i].name, name) == 0)
                        return map + i;
        return NULL;
}

int bus_message_read_id128(sd_bus_message *m, char ret[static 33]) {
        const uint8_t *bytes;
        size_t n;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "ay");
        if (r < 0)
                return r;
        r = sd_bus_message_read_array(m, 'y', (const void **) &bytes, &n);
        if (r < 0)
                return r;
        if (n == 16)
                id128_to_string(bytes, ret);
        else
                ret[0] = '\0';
        return sd_bus_message_exit_container(m);
}

static int read_value(sd_bus_message *m, const BusMapEntry *e, void *base) {
        void *p = (char *) base + e->offset;
        const char *type, *s;
        int r;

        r = sd_bus_message_peek_type(m, NULL, &type);
        if (r < 0)
                return r;
        switch (e->type) {
        case BUS_MAP_U64:
                return sd_bus_message_read(m, "v", "t", (uint64_t *) p);
        case BUS_MAP_U32:
                return sd_bus_message_read(m, "v", "u", (uint32_t *) p);
        case BUS_MAP_STRING: {
                char *copy;

                r = sd_bus_message_read(m, "v", type[0] == 'o' ? "o" : "s", &s);
                if (r < 0)
                        return r;
                copy = strdup(s);
                if (!copy)
                        return -ENOMEM;
                free(*(char **) p);
                *(char **) p = copy;
                return 0;
        }
        case BUS_MAP_ID128:
                return bus_message_read_id128(m, p);
        case BUS_MAP_BOOL: {
                int b;

                r = sd_bus_message_read(m, "v", "b", &b);
                if (r >= 0)
                        *(bool *) p = b;
                return r;
        }
        case BUS_MAP_STRV: {
                char **strv = NULL;

                r = sd_bus_message_enter_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_read_strv(m, &strv);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0) {
                        strv_free(strv);
                        return r;
                }
                strv_free(*(char ***) p);
                *(char ***) p = strv;
                return 0;
        }
        }
        return -EINVAL;
}

int bus_map_all_properties(sd_bus *bus, const char *service, const char *path, const char *interface,
                           const BusMapEntry *map, size_t n_map, void *base, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, service, path, "org.freedesktop.DBus.Properties", "GetAll", error, &reply, "s",
                               interface);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const BusMapEntry *e;
                const char *name;

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        return r;
                e = map_find(map, n_map, name);
                r = e ? read_value(reply, e, base) : sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : 0;
}
