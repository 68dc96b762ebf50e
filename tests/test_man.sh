#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests that every man page renders with man -l, without warnings from groff, and names its program.
# Needs MAN_DIR (where meson built the pages) and MAN_PAGES (their names) from meson.

test_every_page_renders() {
        local name page text warnings
        for name in $MAN_PAGES; do
                page=$MAN_DIR/$name
                assertTrue "$name was built" "[ -s $page ]"
                text=$(MANWIDTH=100 man -l "$page" 2>/dev/null)
                warnings=$(MANWIDTH=100 man --warnings -l "$page" 2>&1 >/dev/null)
                assertEquals "$(basename "$page"): no warnings" "" "$warnings"
                # As lintian renders it: only the page's own first line may ask for tbl.
                warnings=$(MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
                assertEquals "$(basename "$page"): no warnings as lintian renders it" "" "$warnings"
                assertContains "$(basename "$page"): a NAME section" "$text" "NAME"
                assertContains "$(basename "$page"): names itself" "$text" "$(basename "$page" | sed 's/\.[1-8]$//')"
        done
}

. shunit2
