/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests for template.c: placeholders, dropped lines, and values that could inject a directive. */

#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "template.h"

static void expect(const char *template, const TemplateVariable *vars, size_t n, const char *want) {
        _cleanup_free_ char *out = NULL, *bad = NULL;

        assert(template_render(template, vars, n, &out, &bad) == 0);
        assert(strcmp(out, want) == 0);
        assert(!bad);
}

static void test_substitution(void) {
        const TemplateVariable vars[] = { { "Memory", "2G" }, { "PROFILE", "tool" }, { "EMPTY", "" } };

        expect("MemoryMax=@Memory@\n", vars, 3, "MemoryMax=2G\n");
        expect("A=@PROFILE@-@PROFILE@\n", vars, 3, "A=tool-tool\n");
        expect("ExecStart=/x -- @EMPTY@\n", vars, 3, "ExecStart=/x --\n");
        expect("no newline at end @Memory@", vars, 3, "no newline at end 2G\n");
        expect("\n\n", vars, 3, "\n\n");
        expect("", vars, 3, "");
}

static void test_dropped_lines(void) {
        const TemplateVariable vars[] = { { "User", NULL }, { "SYSTEM", "" }, { "Memory", "1" } };

        expect("## comment\nA=1\n", vars, 3, "A=1\n");
        expect("User=@User@\nB=2\n", vars, 3, "B=2\n");
        expect("@SYSTEM@ProtectClock=yes\n", vars, 3, "ProtectClock=yes\n");
        expect("M=@Memory@ U=@User@\nC=3\n", vars, 3, "C=3\n");
        expect("# not a template comment\n", vars, 3, "# not a template comment\n");
}

static void test_plain_at_signs(void) {
        const TemplateVariable vars[] = { { "X", "1" } };

        expect("analysis@.service\n", vars, 1, "analysis@.service\n");
        expect("a@b.c @ @@ @X@\n", vars, 1, "a@b.c @ @@ 1\n");
        expect("trailing@\n", vars, 1, "trailing@\n");
}

static void test_lists(void) {
        char *paths[] = { (char *) "/", (char *) "/srv", NULL }, *none[] = { NULL };
        const TemplateVariable vars[] = {
                { "Paths", NULL, paths }, { "Rate", "5" }, { "Unset", NULL }, { "Empty", NULL, none },
        };

        expect("R=@Paths@ @Rate@\nB=2\n", vars, 4, "R=/ 5\nR=/srv 5\nB=2\n");
        expect("R=@Paths@:@Paths@\n", vars, 4, "R=/:/\nR=/srv:/srv\n");
        expect("R=@Paths@ @Unset@\nB=2\n", vars, 4, "B=2\n");
        expect("R=@Empty@ @Rate@\nB=2\n", vars, 4, "B=2\n");
}

static void test_errors(void) {
        const TemplateVariable vars[] = { { "Bad", "x\nExecStartPre=+/bin/sh" }, { "Tab", "a\tb" } };
        _cleanup_free_ char *out = NULL, *bad = NULL, *bad2 = NULL, *bad3 = NULL;

        assert(template_render("A=@Unknown@\n", vars, 2, &out, &bad) == -EINVAL);
        assert(bad && strcmp(bad, "Unknown") == 0);
        assert(!out);
        assert(template_render("A=@Bad@\n", vars, 2, &out, &bad2) == -EINVAL);
        assert(strcmp(bad2, "Bad") == 0);
        assert(template_render("A=@Tab@\n", vars, 2, &out, &bad3) == -EINVAL);
        assert(!out);
}

static void test_list_errors(void) {
        char *bad_items[] = { (char *) "/", (char *) "/x\nExecStartPre=+/bin/sh", NULL };
        char *paths[] = { (char *) "/", NULL };
        const TemplateVariable vars[] = { { "Bad", NULL, bad_items }, { "A", NULL, paths }, { "B", NULL, paths } };
        _cleanup_free_ char *out = NULL, *bad = NULL, *bad2 = NULL;

        assert(template_render("R=@Bad@\n", vars, 3, &out, &bad) == -EINVAL);
        assert(bad && strcmp(bad, "Bad") == 0);
        assert(!out);
        assert(template_render("R=@A@ @B@\n", vars, 3, &out, &bad2) == -EINVAL);
        assert(bad2 && strcmp(bad2, "B") == 0);
        assert(!out);
}

/* One buffer, two templates, each rendered again with other values and the variables in another order: what
 * is remembered between renderings (the parsed template, each placeholder's variable) must not leak into the
 * next one. */
static void test_buffer_reuse(void) {
        static const char service[] = "## dropped\nA=@A@\nplain\nplain too\nB=@B@ @A@\n";
        static const char slice[] = "S=@B@\n";
        const TemplateVariable first[] = { { "A", "1" }, { "B", "2" } };
        const TemplateVariable second[] = { { "B", "two" }, { "X", "x" }, { "A", NULL } };
        const TemplateVariable third[] = { { "A", "a\tb" }, { "B", "3" } };
        _cleanup_(template_buffer_done) TemplateBuffer b = {};
        _cleanup_free_ char *bad = NULL;

        assert(template_render_into(&b, service, first, 2, NULL) == 0);
        assert(strcmp(b.data, "A=1\nplain\nplain too\nB=2 1\n") == 0 && b.size == strlen(b.data));
        assert(template_render_into(&b, slice, first, 2, NULL) == 0);
        assert(strcmp(b.data, "S=2\n") == 0);
        assert(template_render_into(&b, service, second, 3, NULL) == 0);
        assert(strcmp(b.data, "plain\nplain too\n") == 0);
        assert(template_render_into(&b, slice, second, 3, NULL) == 0);
        assert(strcmp(b.data, "S=two\n") == 0);
        assert(template_render_into(&b, service, third, 2, &bad) == -EINVAL);
        assert(bad && strcmp(bad, "A") == 0);
        assert(template_render_into(&b, service, first, 2, NULL) == 0);
        assert(strcmp(b.data, "A=1\nplain\nplain too\nB=2 1\n") == 0);
}

/* A placeholder left unreached when the variables change (its line was dropped before it) must not be looked
 * up where it was under the old ones once it is reached again. */
static void test_names_change(void) {
        static const char template[] = "L=@U@ @X@\n";
        static const char U[] = "U", X[] = "X", Y[] = "Y";
        TemplateVariable old[] = { { X, "1" }, { U, "u" } };
        TemplateVariable new[] = { { U, NULL }, { Y, "y" }, { X, "2" } };
        _cleanup_(template_buffer_done) TemplateBuffer b = {};

        assert(template_render_into(&b, template, old, 2, NULL) == 0);
        assert(strcmp(b.data, "L=u 1\n") == 0);
        assert(template_render_into(&b, template, new, 3, NULL) == 0);
        assert(strcmp(b.data, "") == 0);
        new[0].value = "v";
        assert(template_render_into(&b, template, new, 3, NULL) == 0);
        assert(strcmp(b.data, "L=v 2\n") == 0);
}

int main(void) {
        test_substitution();
        test_dropped_lines();
        test_plain_at_signs();
        test_lists();
        test_errors();
        test_list_errors();
        test_buffer_reuse();
        test_names_change();
        return 0;
}
