#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Checks that the Debian package holds exactly what "meson install" installs, so that nothing added to
# the build later (a man page, a completion, a module) is silently missing from the package.
# Needs DEB (the .deb) and BUILDDIR (the meson build it was made from, dh's obj-*), as tools/test passes:
#   DEB=build/deb/analysis-sandbox_0.1_amd64.deb BUILDDIR=build/deb/src/obj-x86_64-linux-gnu tests/test_deb_contents.sh

# What the package may add to "meson install": its own docs (copyright, changelog, README.Debian).
DEB_ONLY=/usr/share/doc/analysis-sandbox/

oneTimeSetUp() {
        : "${DEB:?set DEB to the .deb}" "${BUILDDIR:?set BUILDDIR to the meson build of the .deb}"
        destdir=$SHUNIT_TMPDIR/destdir
        meson install -C "$BUILDDIR" --no-rebuild --destdir "$destdir" >"$SHUNIT_TMPDIR/install.log" 2>&1 ||
                { cat "$SHUNIT_TMPDIR/install.log"; return 1; }

        # "TYPE+MODE PATH [-> TARGET]" for every file and symlink (directories say nothing on their own).
        # dh_installman compresses man pages: the package has NAME.gz where meson installed NAME.
        (cd "$destdir" && find . ! -type d \( -type l -printf '%M /%P -> %l\n' -o -printf '%M /%P\n' \)) |
                sed -E 's|^(-\S+ /usr/share/man/\S+[^z])$|\1.gz|' | LC_ALL=C sort >"$SHUNIT_TMPDIR/meson.list"
        dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $1, $6, $7, $8 }' | sed 's/ *$//' |
                LC_ALL=C sort >"$SHUNIT_TMPDIR/deb-all.list"
        grep -Ev "^\S+ $DEB_ONLY" "$SHUNIT_TMPDIR/deb-all.list" >"$SHUNIT_TMPDIR/deb.list"
        cut -d' ' -f2 "$SHUNIT_TMPDIR/meson.list" | LC_ALL=C sort >"$SHUNIT_TMPDIR/meson.paths"
        cut -d' ' -f2 "$SHUNIT_TMPDIR/deb.list" | LC_ALL=C sort >"$SHUNIT_TMPDIR/deb.paths"
}

test_meson_installs_something() {
        assertTrue "meson install put the generator in place" \
                "grep -q '/system-generators/analysis-generator$' '$SHUNIT_TMPDIR/meson.paths'"
        assertTrue "meson install put the man pages in place" "grep -q '^/usr/share/man/' '$SHUNIT_TMPDIR/meson.paths'"
}

test_package_has_every_installed_file() {
        local missing
        missing=$(LC_ALL=C comm -23 "$SHUNIT_TMPDIR/meson.paths" "$SHUNIT_TMPDIR/deb.paths")
        assertEquals "files meson installs but the package lacks" "" "$missing"
}

test_package_has_nothing_else() {
        local extra
        extra=$(LC_ALL=C comm -13 "$SHUNIT_TMPDIR/meson.paths" "$SHUNIT_TMPDIR/deb.paths")
        assertEquals "files in the package that meson does not install (outside $DEB_ONLY)" "" "$extra"
}

test_modes_and_link_targets_match() {
        local differ
        differ=$(LC_ALL=C comm -3 "$SHUNIT_TMPDIR/meson.list" "$SHUNIT_TMPDIR/deb.list")
        assertEquals "modes or symlink targets that differ (meson, then package, indented)" "" "$differ"
}

test_package_docs() {
        local f
        for f in copyright changelog.gz README.Debian; do
                assertTrue "the package has /usr/share/doc/analysis-sandbox/$f" \
                        "grep -q ' /usr/share/doc/analysis-sandbox/$f$' '$SHUNIT_TMPDIR/deb-all.list'"
        done
}

# debian/changelog names the version by hand: it must follow meson.build's.
test_version_is_the_project_version() {
        local project package
        project=$(meson introspect --projectinfo "$BUILDDIR" | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
        package=$(dpkg-deb -f "$DEB" Version)
        assertEquals "package version (debian/changelog) against meson.build's project version" "$project" "${package%%-*}"
}

test_depends_on_the_libraries() {
        local depends
        depends=$(dpkg-deb -f "$DEB" Depends)
        assertContains "Depends has libinih1 (shlibs): $depends" "$depends" "libinih1"
        assertContains "Depends has libsystemd0 (shlibs): $depends" "$depends" "libsystemd0"
        assertContains "Depends has systemd: $depends" "$depends" "systemd,"
        assertContains "Depends has polkitd: $depends" "$depends" "polkitd"
        if grep -q '^/usr/lib/python3/' "$SHUNIT_TMPDIR/deb.paths"; then
                assertContains "Depends has python3 (the package has a Python module): $depends" "$depends" "python3"
        fi
}

test_maintainer_scripts() {
        local ctl=$SHUNIT_TMPDIR/control
        dpkg-deb -e "$DEB" "$ctl"
        assertContains "postinst runs systemd-sysusers for the snippet" "$(cat "$ctl/postinst")" \
                "systemd-sysusers \${DPKG_ROOT:+--root=\"\$DPKG_ROOT\"} analysis-sandbox.conf"
        assertContains "postinst runs systemd-tmpfiles --create for the snippet" "$(cat "$ctl/postinst")" \
                "--create analysis-sandbox.conf"
        assertContains "postinst reloads the manager" "$(cat "$ctl/postinst")" "systemctl --system daemon-reload"
        sh -n "$ctl/postinst"
        assertEquals "postinst is valid sh" 0 $?
        sh -n "$ctl/postrm"
        assertEquals "postrm is valid sh" 0 $?
}

. shunit2
