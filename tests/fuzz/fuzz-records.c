/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: any bytes as a spooled request, a unit state, a JSON record; what parses must survive a
 * round trip. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-reader.h"
#include "macro.h"
#include "record.h"
#include "request.h"
#include "unit-state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request_round_trip(const char *text, size_t size) {
        Request *r = NULL, *again = NULL;
        char *why = NULL, *out = NULL;
        size_t out_size;

        if (request_parse(text, size, &r, &why) == 0) {
                if (request_serialize(r, &out, &out_size) < 0 || request_parse(out, out_size, &again, &why) < 0)
                        abort();
                request_free(again);
        }
        request_free(r);
        free(out);
        free(why);
}

static void state_parse(const char *text, size_t size) {
        UnitState *s = NULL;
        char *why = NULL;

        (void) unit_state_parse(text, size, &s, &why);
        unit_state_free(s);
        free(why);
}

static void record_round_trip(const char *text, size_t size) {
        char *why = NULL, *json = NULL;
        size_t json_size = 0;
        Record r, again;
        FILE *f;

        if (record_parse_json(text, size, &r, &why) == 0) {
                f = open_memstream(&json, &json_size);
                if (!f || record_write_json(&r, f) < 0 || fclose(f) != 0)
                        abort();
                /* What we write, we must read. */
                if (record_parse_json(json, json_size, &again, &why) < 0)
                        abort();
                record_done(&again);
                record_done(&r);
        }
        free(json);
        free(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *) data;
        JsonValue *v = NULL;

        request_round_trip(text, size);
        state_parse(text, size);
        (void) json_parse(text, size, &v, NULL);
        json_value_free(v);
        record_round_trip(text, size);
        return 0;
}
