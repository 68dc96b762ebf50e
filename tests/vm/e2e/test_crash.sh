#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): the host stops under a running analysis (a hard reset, sysrq b: no sync, no
# shutdown), and the same disk boots again. The analysis gets a record at the next boot that says so, with an
# exit status of its own; an analysis that had its record before keeps it as it was. Two phases: the suite
# runs again after the reset (lib.sh, e2e_reset_host).
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESULTS_DIR=/var/lib/analysis-sandbox/results
RUNNING_DIR=/var/lib/analysis-sandbox/running
WORK=$E2E_SCRATCH/crash-work
# Kept with the results, which e2e_reset_host carries across the reset.
STATE=${E2E_OUT:-/tmp}/test_crash.state

field() {
        e2e_record_field "$@"
}

# Phase 1: one analysis ended (its record is written), one runs; then the host stops.
testAnalysisRunningWhenTheHostStops() {
        local i
        ((E2E_RESETS == 0)) || return 0
        mkdir -p "$WORK"
        chmod 0777 "$WORK"
        (cd "$WORK" && exec analysis-run -q --id=crash0 -- /bin/true)
        assertEquals "crash0 ended before the reset" success "$(field crash0 result)"
        (cd "$WORK" && exec analysis-run -q --detach --id=crash1 -- /bin/sh -c 'echo before; exec sleep 600') >/dev/null
        for i in $(seq 150); do
                [[ $(cat "$RESULTS_DIR/crash1.stdout" 2>/dev/null) == before ]] && break
                sleep 0.2
        done
        assertEquals "crash1 runs" active "$(e2e_prop analysis@crash1.service ActiveState)"
        assertTrue "crash1 has its running mark" "[ -f $RUNNING_DIR/crash1 ]"
        {
                echo "crash0_invocation=$(field crash0 invocation_id)"
                echo "crash1_invocation=$(e2e_prop analysis@crash1.service InvocationID)"
                echo "reset_at=$(date +%s)"
        } >"$STATE"
        e2e_reset_host
}

# Phase 2: after the boot.
testRecordAfterTheHostStopped() {
        local rc booted_at
        ((E2E_RESETS == 1)) || return 0
        # shellcheck source=/dev/null
        . "$STATE"
        assertEquals "the recovery ran at boot" success "$(e2e_prop analysis-sandbox-recover.service Result)"
        assertEquals "crash1: result" host-stopped "$(field crash1 result)"
        assertEquals "crash1: reconstructed" host-stopped "$(field crash1 reconstructed)"
        assertEquals "crash1: the run it was" "$crash1_invocation" "$(field crash1 invocation_id)"
        assertEquals "crash1: profile" default "$(field crash1 profile)"
        assertEquals "crash1: caller" 0 "$(field crash1 caller_uid)"
        booted_at=$(field crash1 host_booted_at)
        assertNotEquals "crash1: when the host came back" null "$booted_at"
        assertTrue "crash1: booted after the reset ($booted_at)" \
                "[ $(date -d "$booted_at" +%s) -ge $((reset_at - 2)) ]"
        assertContains "crash1: notes" "$(field crash1 notes)" "Lost: the host stopped while the analysis ran"
        assertContains "crash1: missing figures named" "$(field crash1 missing)" "memory_peak"
        assertFalse "crash1: no mark left" "[ -e $RUNNING_DIR/crash1 ]"
        assertTrue "crash1: its output file is still there" "[ -f $RESULTS_DIR/crash1.stdout ]"

        timeout 20 analysisctl wait crash1 >/dev/null 2>"$SHUNIT_TMPDIR/wait.err"
        rc=$?
        assertEquals "analysisctl wait: the status of its own ($(cat "$SHUNIT_TMPDIR/wait.err"))" 71 "$rc"
        timeout 20 analysisctl status crash1 >"$SHUNIT_TMPDIR/status.out" 2>&1
        rc=$?
        assertEquals "analysisctl status: ended ($(cat "$SHUNIT_TMPDIR/status.out"))" 3 "$rc"
        assertContains "analysisctl status says so" "$(cat "$SHUNIT_TMPDIR/status.out")" "the host stopped"

        assertEquals "crash0 keeps its own record" "$crash0_invocation" "$(field crash0 invocation_id)"
        assertEquals "crash0: not rebuilt" null "$(field crash0 reconstructed)"
        assertEquals "crash0: result" success "$(field crash0 result)"
        assertEquals "no other mark" "" "$(ls -A "$RUNNING_DIR")"
}

. shunit2
