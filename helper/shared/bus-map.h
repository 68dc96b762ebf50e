/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a set of D-Bus properties of one object and interface into a struct, from a table. */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

typedef enum BusMapType {
        BUS_MAP_U64,            /* 't' into uint64_t */
        BUS_MAP_U32,            /* 'u' into uint32_t */
        BUS_MAP_STRING,         /* 's' or 'o' into a malloc'ed char * (the previous value is freed) */
        BUS_MAP_ID128,          /* 'ay' of 16 bytes into char[33] as hex; empty for an empty array */
        BUS_MAP_BOOL,           /* 'b' into bool */
        BUS_MAP_STRV,           /* 'as' into a malloc'ed char ** (the previous value is freed) */
} BusMapType;

typedef struct BusMapEntry {
        const char *name;
        BusMapType type;
        size_t offset;
} BusMapEntry;

/* Calls GetAll(interface) on path of service and stores each property named in map at base + offset.
 * Properties not in map are skipped; those the object lacks keep their value. Returns 0 or a negative errno
 * (with *error set by the peer, if error is not NULL). */
int bus_map_all_properties(sd_bus *bus, const char *service, const char *path, const char *interface,
                           const BusMapEntry *map, size_t n_map, void *base, sd_bus_error *error);

/* Reads a variant holding an "ay" id128 (such as InvocationID) from m into ret as hex; an empty array or one
 * of another size gives "". Returns 0 or a negative errno. */
int bus_message_read_id128(sd_bus_message *m, char ret[static 33]);
