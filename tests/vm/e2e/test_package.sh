#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM, "run-vm-tests --deb"): the Debian package, installed with dpkg before boot, works as
# installed: the generator ran at boot, the account, group and directories exist, analysis-run and analysisctl
# run, the polkit rule lets members in, the man pages render, the gc timer is disabled, the completions are
# there; then reinstall, remove, purge and install again on the running system.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself. The tests run in the order
# written here: the last ones remove and reinstall the package.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGE=analysis-sandbox
# run-vm-tests --deb puts the .deb it installed beside the suites.
DEB_DIR=$(dirname "${BASH_SOURCE[0]}")/package
RESULTS_DIR=/var/lib/analysis-sandbox/results
RULE=/usr/share/polkit-1/rules.d/50-analysis-sandbox.rules

oneTimeSetUp() {
    BOOT_STATE=${E2E_BOOT_STATE:?}
    DEB=$(ls "$DEB_DIR"/${PACKAGE}_*.deb 2>/dev/null | head -n1)
    id pkgmember >/dev/null 2>&1 || useradd -m -s /bin/bash pkgmember
    usermod -aG analysis pkgmember
}

# Prints "MODE USER GROUP" of PATH.
owner_mode() {
    stat -c '%a %U %G' "$1" 2>&1
}

testPackageIsInstalled() {
    local status files
    status=$(dpkg-query -W -f='${Status} ${Version}' "$PACKAGE" 2>&1)
    assertContains "dpkg-query -W $PACKAGE" "$status" "install ok installed"
    e2e_note "installed: $status"
    files=$(dpkg -L "$PACKAGE")
    assertContains "dpkg -L lists the generator" "$files" "/system-generators/analysis-generator"
    assertContains "dpkg -L lists analysis-run" "$files" "/usr/bin/analysis-run"
    assertTrue "the package's files are intact (dpkg --verify)" "dpkg --verify $PACKAGE"
    assertNotNull "the .deb travelled with the payload to $DEB_DIR" "$DEB"
}

# The package was unpacked into the image before boot, so the generator ran at boot, not on a reload.
testGeneratorRanAtBoot() {
    local generators finish
    generators=$(cat "$BOOT_STATE/generators-start-usec")
    finish=$(cat "$BOOT_STATE/boot-finish-usec")
    assertTrue "generators ran at ${generators}us, before boot finished at ${finish}us" \
        "[ '$generators' -gt 0 ] && [ '$generators' -lt '$finish' ]"
    assertContains "analysis@.service at boot came from the generator" \
        "$(cat "$BOOT_STATE/cat-analysis@x.service")" "# $E2E_GENERATOR_DIR/analysis@.service"
    assertEquals "analysis@x.service: LoadState" loaded "$(e2e_prop analysis@x.service LoadState)"
    assertEquals "analysis-tool@x.service: LoadState" loaded "$(e2e_prop analysis-tool@x.service LoadState)"
    assertEquals "analysis.slice: LoadState" loaded "$(e2e_prop analysis.slice LoadState)"
}

testAccountGroupAndDirectories() {
    local passwd
    passwd=$(getent passwd analysis-sandbox)
    assertContains "the account analysis-sandbox exists: '$passwd'" "$passwd" ":/nonexistent:/usr/sbin/nologin"
    assertTrue "analysis-sandbox is a system account (uid < 1000): '$passwd'" \
        "[ '$(id -u analysis-sandbox 2>/dev/null || echo 65534)' -lt 1000 ]"
    assertNotNull "the group analysis exists" "$(getent group analysis)"
    assertEquals "/run/analysis-sandbox" "755 root root" "$(owner_mode /run/analysis-sandbox)"
    assertEquals "/run/analysis-sandbox/spool" "1730 root analysis" "$(owner_mode /run/analysis-sandbox/spool)"
    assertEquals "/run/analysis-sandbox/units" "711 root root" "$(owner_mode /run/analysis-sandbox/units)"
    assertEquals "/var/lib/analysis-sandbox" "755 root root" "$(owner_mode /var/lib/analysis-sandbox)"
    assertEquals "$RESULTS_DIR" "755 root root" "$(owner_mode "$RESULTS_DIR")"
}

testAnalysisRunLeavesRecord() {
    local out rc
    out=$(cd / && analysis-run --id=pkg-root -- /bin/true 2>&1)
    rc=$?
    assertEquals "analysis-run -- /bin/true as root: exit status (output: $out)" 0 "$rc"
    assertTrue "record $RESULTS_DIR/pkg-root.json" "[ -s '$RESULTS_DIR/pkg-root.json' ]"
    assertEquals "record: result" success "$(e2e_record_field pkg-root result)"
    assertEquals "record: unit" analysis@pkg-root.service "$(e2e_record_field pkg-root unit)"
}

# A member of the group analysis runs an analysis through the system manager: the polkit rule the package
# put in place lets it start the unit.
testPolkitRuleLetsMembersRun() {
    local out rc
    assertTrue "$RULE is installed" "[ -f '$RULE' ]"
    out=$(cd / && runuser -u pkgmember -- analysis-run --id=pkg-member -- /bin/true 2>&1)
    rc=$?
    assertEquals "analysis-run as a member of 'analysis': exit status (output: $out)" 0 "$rc"
    assertEquals "member's record: result" success "$(e2e_record_field pkg-member result)"
    # polkitd is started on demand (D-Bus activation): the member's start request woke it.
    assertTrue "polkitd answered the request" "systemctl -q is-active polkit.service"
}

testAnalysisctlReadsTheRecord() {
    local out rc
    out=$(analysisctl notes pkg-root 2>&1)
    rc=$?
    assertEquals "analysisctl notes pkg-root: exit status (output: $out)" 0 "$rc"
    assertContains "analysisctl notes pkg-root names the analysis" "$out" "pkg-root"
}

# Every man page the package ships (not a list kept here: a new page is checked once it is packaged).
testManPagesRender() {
    local page text warnings n=0
    while read -r page; do
        # One rendering gives both (groff under emulation takes seconds a page).
        text=$(MANWIDTH=80 man --warnings -l "$page" 2>"$SHUNIT_TMPDIR/man-warnings" | col -b)
        warnings=$(cat "$SHUNIT_TMPDIR/man-warnings")
        assertContains "man -l $page renders its NAME section" "$text" "NAME"
        assertEquals "man -l $page: no warnings" "" "$warnings"
        n=$((n + 1))
    done < <(dpkg -L "$PACKAGE" | grep '^/usr/share/man/man./.*\.gz$')
    assertTrue "the package ships man pages ($n found)" "[ $n -ge 4 ]"
    text=$(MANWIDTH=80 man analysisctl 2>&1 | col -b)
    assertContains "man analysisctl finds the page by name" "$text" "SYNOPSIS"
}

testGcTimerShippedDisabled() {
    assertEquals "analysis-sandbox-gc.timer: is-enabled" disabled "$(systemctl is-enabled analysis-sandbox-gc.timer 2>&1)"
    assertEquals "analysis-sandbox-gc.timer: ActiveState" inactive "$(e2e_prop analysis-sandbox-gc.timer ActiveState)"
    assertEquals "analysis-sandbox-gc.service: LoadState" loaded "$(e2e_prop analysis-sandbox-gc.service LoadState)"
}

testBashCompletionsInstalled() {
    local c
    for c in analysis-run analysisctl; do
        assertTrue "bash completion for $c" "[ -s /usr/share/bash-completion/completions/$c ]"
    done
}

# The Python binding, once the package ships it (dh_python3 then adds python3 to Depends and byte-compiles it).
testPythonModuleImports() {
    local out rc
    if ! dpkg -L "$PACKAGE" | grep -q '/dist-packages/analysis_sandbox/__init__.py$'; then
        e2e_note "the package ships no Python module"
        return 0
    fi
    out=$(cd / && python3 -c 'import analysis_sandbox; print(analysis_sandbox.__file__)' 2>&1)
    rc=$?
    assertEquals "python3 -c 'import analysis_sandbox' (output: $out)" 0 "$rc"
    assertContains "analysis_sandbox comes from the package" "$out" "/usr/lib/python3/dist-packages/analysis_sandbox/"
}

# Reinstalling on the running system: the postinst reloads the manager, so the generator runs again. (The
# manager keeps GeneratorsStartTimestamp across a reload; a generated file removed beforehand tells instead:
# a reload empties the generator directory and the generator writes every file anew.)
testReinstallReloadsManager() {
    local probe=$E2E_GENERATOR_DIR/analysis-tool@.service out rc
    assertTrue "$probe exists before the reinstall" "[ -f '$probe' ]"
    rm -f "$probe"
    out=$(dpkg -i "$DEB" 2>&1)
    rc=$?
    assertEquals "dpkg -i $DEB (output: $out)" 0 "$rc"
    assertTrue "the postinst reloaded the manager: the generator wrote $probe again" "[ -f '$probe' ]"
    assertEquals "analysis@x.service after reinstall: LoadState" loaded "$(e2e_prop analysis@x.service LoadState)"
}

# Remove drops the units (the postrm reloads); purge removes the state but keeps the admin's profiles.
testRemoveAndPurge() {
    local out rc
    mkdir -p "$E2E_PROFILE_DIR"
    printf '[Profile]\nDescription=kept on purge\n[Limits]\nMemory=64M\n' >"$E2E_PROFILE_DIR/admin.ini"
    out=$(dpkg -r "$PACKAGE" 2>&1)
    rc=$?
    assertEquals "dpkg -r (output: $out)" 0 "$rc"
    assertEquals "analysis@x.service after remove: LoadState" not-found "$(e2e_prop analysis@x.service LoadState)"
    assertFalse "no analysis units left in $E2E_GENERATOR_DIR" "ls $E2E_GENERATOR_DIR/analysis* >/dev/null 2>&1"
    assertTrue "remove keeps the records" "[ -s '$RESULTS_DIR/pkg-root.json' ]"

    out=$(dpkg --purge "$PACKAGE" 2>&1)
    rc=$?
    assertEquals "dpkg --purge (output: $out)" 0 "$rc"
    assertFalse "purge removes /var/lib/analysis-sandbox" "[ -e /var/lib/analysis-sandbox ]"
    assertFalse "purge removes /run/analysis-sandbox" "[ -e /run/analysis-sandbox ]"
    assertTrue "purge keeps the admin's profile" "[ -f '$E2E_PROFILE_DIR/admin.ini' ]"
    assertEquals "dpkg-query after purge" "" "$(dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null)"
    rm -f "$E2E_PROFILE_DIR/admin.ini"
}

# Installing on the running system from nothing: the postinst makes the directories, the units come back.
testInstallOnRunningSystem() {
    local out rc
    out=$(dpkg -i "$DEB" 2>&1)
    rc=$?
    assertEquals "dpkg -i $DEB after purge (output: $out)" 0 "$rc"
    assertEquals "/run/analysis-sandbox/spool after install" "1730 root analysis" \
        "$(owner_mode /run/analysis-sandbox/spool)"
    assertEquals "$RESULTS_DIR after install" "755 root root" "$(owner_mode "$RESULTS_DIR")"
    assertEquals "analysis@x.service after install: LoadState" loaded "$(e2e_prop analysis@x.service LoadState)"
    out=$(cd / && analysis-run --id=pkg-again -- /bin/true 2>&1)
    rc=$?
    assertEquals "analysis-run after reinstall: exit status (output: $out)" 0 "$rc"
    assertEquals "record after reinstall: result" success "$(e2e_record_field pkg-again result)"
}

. shunit2
