/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for request.c, unit-state.c and entry-file.c: what a caller spools reads back exactly; anything
 * else is refused with a reason. */

#undef NDEBUG
#include <assert.h>
#include <string.h>

#include "entry-file.h"
#include "macro.h"
#include "request.h"
#include "strv.h"
#include "unit-state.h"

static void test_round_trip(void) {
        char *argv[] = { (char *) "/usr/bin/python3", (char *) "-c", (char *) "print('a b\nc')", (char *) "", NULL };
        char *env[] = { (char *) "FOO=bar=baz", (char *) "EMPTY=", NULL };
        Request r = {
                .argv = argv, .cwd = (char *) "/srv/x", .environment = env,
                .memory_max = 1 << 20, .cpu_percent = 50, .tasks_max = 7, .timeout_usec = 3000000,
                .disk_max = 20 << 20, .copy_workdir = true,
        };
        _cleanup_(request_freep) Request *back = NULL;
        _cleanup_free_ char *data = NULL, *why = NULL;
        size_t size;

        assert(request_serialize(&r, &data, &size) == 0);
        assert(request_parse(data, size, &back, &why) == 0);
        assert(strv_length(back->argv) == 4 && strcmp(back->argv[2], "print('a b\nc')") == 0 && !back->argv[3][0]);
        assert(strv_length(back->environment) == 2 && strcmp(back->environment[0], "FOO=bar=baz") == 0);
        assert(strcmp(back->cwd, "/srv/x") == 0);
        assert(back->memory_max == 1 << 20 && back->cpu_percent == 50 && back->tasks_max == 7 &&
               back->timeout_usec == 3000000 && back->disk_max == 20 << 20 && back->copy_workdir);
}

static void expect_refused(const char *data, size_t size) {
        _cleanup_(request_freep) Request *r = NULL;
        _cleanup_free_ char *why = NULL;

        assert(request_parse(data, size, &r, &why) == -EBADMSG);
        assert(why && !r);
}

#define M REQUEST_MAGIC "\0"
static void test_refused(void) {
        expect_refused("", 0);
        expect_refused("other-magic\0arg=/bin/true\0cwd=/\0", 30);
        expect_refused(M "arg=/bin/true\0cwd=/", sizeof(M "arg=/bin/true\0cwd=/") - 1);      /* no final NUL */
        expect_refused(M "arg=/bin/true\0", sizeof(M "arg=/bin/true\0") - 1);                 /* no cwd */
        expect_refused(M "arg=true\0cwd=/\0", sizeof(M "arg=true\0cwd=/\0") - 1);             /* relative */
        expect_refused(M "cwd=/\0", sizeof(M "cwd=/\0") - 1);                                 /* no command */
        expect_refused(M "arg=/bin/true\0cwd=tmp\0", sizeof(M "arg=/bin/true\0cwd=tmp\0") - 1);
        expect_refused(M "arg=/bin/true\0cwd=/\0cwd=/\0", sizeof(M "arg=/bin/true\0cwd=/\0cwd=/\0") - 1);
        expect_refused(M "arg=/bin/true\0cwd=/\0env=1X=y\0", sizeof(M "arg=/bin/true\0cwd=/\0env=1X=y\0") - 1);
        expect_refused(M "arg=/bin/true\0cwd=/\0env=noequals\0", sizeof(M "arg=/bin/true\0cwd=/\0env=noequals\0") - 1);
        expect_refused(M "arg=/bin/true\0cwd=/\0memory_max=-1\0", sizeof(M "arg=/bin/true\0cwd=/\0memory_max=-1\0") - 1);
        expect_refused(M "arg=/bin/true\0cwd=/\0copy_workdir=2\0", sizeof(M "arg=/bin/true\0cwd=/\0copy_workdir=2\0") - 1);
        expect_refused(M "arg=/bin/true\0cwd=/\0tasks_max=0\0", sizeof(M "arg=/bin/true\0cwd=/\0tasks_max=0\0") - 1);
        expect_refused(M "arg=/bin/true\0cwd=/\0user=root\0", sizeof(M "arg=/bin/true\0cwd=/\0user=root\0") - 1);
        expect_refused(M "arg=/bin/true\0cwd=/\0noequals\0", sizeof(M "arg=/bin/true\0cwd=/\0noequals\0") - 1);
}

static void test_unit_state(void) {
        UnitState s = { .profile = (char *) "tool", .runtime_max_usec = 5, .kill_grace_usec = 6,
                        .started_at_usec = 7, .caller_uid = (uid_t) -1, .has_request = true,
                        .error = (char *) "refused" };
        _cleanup_(unit_state_freep) UnitState *back = NULL;
        _cleanup_free_ char *data = NULL, *why = NULL;
        size_t size;

        assert(unit_state_serialize(&s, &data, &size) == 0);
        assert(unit_state_parse(data, size, &back, &why) == 0);
        assert(strcmp(back->profile, "tool") == 0 && back->runtime_max_usec == 5 && back->kill_grace_usec == 6);
        assert(back->started_at_usec == 7 && back->caller_uid == (uid_t) -1 && back->has_request);
        assert(strcmp(back->error, "refused") == 0);
}

static void test_entry_helpers(void) {
        char *entries[] = { (char *) "a=1", (char *) "ab=2", (char *) "b==", NULL };

        assert(strcmp(entry_get(entries, "a"), "1") == 0);
        assert(strcmp(entry_get(entries, "ab"), "2") == 0);
        assert(strcmp(entry_get(entries, "b"), "=") == 0);
        assert(!entry_get(entries, "c"));
        assert(environment_assignment_is_valid("A_1=x"));
        assert(!environment_assignment_is_valid("=x") && !environment_assignment_is_valid("A-B=x"));
}

int main(void) {
        test_round_trip();
        test_refused();
        test_unit_state();
        test_entry_helpers();
        return 0;
}
