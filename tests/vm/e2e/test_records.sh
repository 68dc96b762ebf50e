#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): every analysis gets exactly one record, whatever stops its recorder. A recorder that
# never finishes (here: an ExecStopPost= before it that outlasts the kill grace, as a slow host makes it) fails
# the unit, and analysis-recover (OnFailure=) writes the record from what systemd kept; a unit that fails after
# its record was written keeps that record. Callers waiting through a daemon-reexec get theirs.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESULTS_DIR=/var/lib/analysis-sandbox/results
RUNNING_DIR=/var/lib/analysis-sandbox/running
SPOOL_DIR=/run/analysis-sandbox/spool
WORK=$E2E_SCRATCH/records-work

oneTimeSetUp() {
        mkdir -p "$WORK"
        chmod 0777 "$WORK"
}

field() {
        e2e_record_field "$@"
}

# Profile e2erec with a kill grace of 2 s, and UNIT_TEXT as a drop-in of its units.
write_profile_and_unit_dropin() {
        local dir=/etc/systemd/system/analysis-e2erec@.service.d
        mkdir -p "$dir"
        printf '%s\n' "$1" >"$dir/50-e2e-records.conf"
        e2e_files+=("$dir/50-e2e-records.conf")
        e2e_write_profile e2erec "[Profile]
Description=Records
User=analysis-sandbox
[Limits]
Memory=128M
CPU=100%
Tasks=20
Runtime=1min
KillGrace=2s"
}

# The recorder never runs: stop-post times out in the command before it. The record comes from
# analysis-recover, with the analysis' own exit (success, not the unit's Result=timeout, which is the
# recorder's), its output handed over, and nothing left behind; analysis-run, analysisctl wait and status all
# answer with it.
testRecorderThatNeverFinishesStillGivesARecord() {
        local rc start elapsed
        write_profile_and_unit_dropin "[Service]
ExecStopPost=
ExecStopPost=/bin/sleep 60"
        start=$(date +%s)
        (cd "$WORK" && exec analysis-run -p e2erec --id=rec1 -- \
                /bin/sh -c 'echo partial; echo kept >"$ANALYSIS_OUTPUT_DIR/table.csv"') \
                >"$SHUNIT_TMPDIR/rec1.out" 2>"$SHUNIT_TMPDIR/rec1.err"
        rc=$?
        elapsed=$(($(date +%s) - start))
        e2e_note "analysis-run answered after ${elapsed}s: $(tail -n 2 "$SHUNIT_TMPDIR/rec1.err" | tr '\n' ' ')"
        assertEquals "analysis-run: the analysis' own exit status ($(cat "$SHUNIT_TMPDIR/rec1.err"))" 0 "$rc"
        assertEquals "the unit failed at the stop-post timeout" timeout "$(e2e_prop analysis-e2erec@rec1.service Result)"
        assertEquals "reconstructed" unit-failed "$(field rec1 reconstructed)"
        assertEquals "result" success "$(field rec1 result)"
        assertEquals "exit status" 0 "$(field rec1 exit_status)"
        assertEquals "invocation of the run" "$(e2e_prop analysis-e2erec@rec1.service InvocationID)" "$(field rec1 invocation_id)"
        assertContains "the notes say so" "$(field rec1 notes)" "Its recorder could not finish"
        assertContains "the record names what is missing" "$(field rec1 missing)" "oom_kills"
        assertNotEquals "CPU from what systemd kept" null "$(field rec1 usage.cpu_sec)"
        e2e_note "memory_peak=$(field rec1 usage.memory_peak) cpu_sec=$(field rec1 usage.cpu_sec) missing=$(field rec1 missing)"
        if [[ $(systemctl --version | awk 'NR==1 {print $2}') -ge 257 ]]; then
                assertNotEquals "systemd 257 keeps MemoryPeak after the stop" null "$(field rec1 usage.memory_peak)"
        fi
        assertEquals "its memory limit" 134217728 "$(field rec1 limits.memory_max)"
        assertEquals "stdout" partial "$(cat "$RESULTS_DIR/rec1.stdout")"
        assertEquals "output directory handed over" kept "$(cat "$RESULTS_DIR/rec1.output/table.csv" 2>&1)"
        assertFalse "no running mark left" "[ -e $RUNNING_DIR/rec1 ]"
        assertFalse "no spool entry left" "[ -e $SPOOL_DIR/rec1 ]"
        assertFalse "output tmpfs unmounted" "mountpoint -q /run/analysis-sandbox/mounts/rec1"
        assertEquals "one record, logged once" 1 \
                "$(journalctl -q -o cat ANALYSIS_ID=rec1 SYSLOG_IDENTIFIER=analysis-recover | grep -c 'recorder could not finish')"

        timeout 20 analysisctl wait rec1 >/dev/null 2>"$SHUNIT_TMPDIR/wait.err"
        rc=$?
        assertEquals "analysisctl wait ($(cat "$SHUNIT_TMPDIR/wait.err"))" 0 "$rc"
        timeout 20 analysisctl status rec1 >"$SHUNIT_TMPDIR/status.out" 2>&1
        rc=$?
        assertEquals "analysisctl status: ended ($(cat "$SHUNIT_TMPDIR/status.out"))" 3 "$rc"
        assertContains "status shows the rebuilt record" "$(cat "$SHUNIT_TMPDIR/status.out")" "Its recorder could not finish"

        # A failing analysis keeps its own status; the unit's Result= is its exit already.
        (cd "$WORK" && exec analysis-run -q -p e2erec --id=rec1b -- /bin/sh -c 'exit 3') 2>"$SHUNIT_TMPDIR/rec1b.err"
        rc=$?
        assertEquals "analysis-run: exit status 3 ($(cat "$SHUNIT_TMPDIR/rec1b.err"))" 3 "$rc"
        assertEquals "rec1b: result" exit-code "$(field rec1b result)"
        assertEquals "rec1b: reconstructed" unit-failed "$(field rec1b reconstructed)"
        timeout 20 analysisctl wait rec1b >/dev/null 2>&1
        rc=$?
        assertEquals "analysisctl wait rec1b" 3 "$rc"
        # A tighter time limit is the runner's: its note of it went with the unit, the runtime tells.
        (cd "$WORK" && exec analysis-run -q -p e2erec --timeout=2s --id=rec1c -- /bin/sleep 30) 2>"$SHUNIT_TMPDIR/rec1c.err"
        rc=$?
        assertEquals "analysis-run --timeout=2s: 124 ($(cat "$SHUNIT_TMPDIR/rec1c.err"))" 124 "$rc"
        assertEquals "rec1c: result" timeout "$(field rec1c result)"
        assertEquals "rec1c: reconstructed" unit-failed "$(field rec1c reconstructed)"
}

# The same under a user's own manager: the user's analysis-sandbox-recover@ writes the record in the user's
# state directory.
testUserManagerRecorderThatNeverFinishes() {
        local uid home dir rc
        uid=$(e2e_start_user_manager bob)
        home=$(getent passwd bob | cut -d: -f6)
        dir=$home/.config/systemd/user/analysis@.service.d
        runuser -u bob -- mkdir -p "$dir" "$home/.config/analysis-sandbox/profiles"
        printf '[Service]\nExecStopPost=\nExecStopPost=/bin/sleep 60\nTimeoutStopSec=2\n' \
                | runuser -u bob -- tee "$dir/50-e2e-records.conf" >/dev/null
        runuser -u bob -- env XDG_RUNTIME_DIR=/run/user/$uid systemctl --user daemon-reload
        (cd / && runuser -u bob -- env XDG_RUNTIME_DIR=/run/user/$uid \
                analysis-run --user -q --id=urec1 -- /bin/sh -c 'echo mine; exit 4') 2>"$SHUNIT_TMPDIR/urec1.err"
        rc=$?
        rm -rf "$dir"
        runuser -u bob -- env XDG_RUNTIME_DIR=/run/user/$uid systemctl --user daemon-reload
        assertEquals "analysis-run --user: the analysis' exit status ($(cat "$SHUNIT_TMPDIR/urec1.err"))" 4 "$rc"
        assertEquals "reconstructed in bob's results" unit-failed \
                "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reconstructed"])' \
                        "$home/.local/state/analysis-sandbox/results/urec1.json" 2>&1)"
        assertEquals "owned by bob" bob "$(stat -c %U "$home/.local/state/analysis-sandbox/results/urec1.json")"
        assertFalse "no mark left" "[ -e $home/.local/state/analysis-sandbox/running/urec1 ]"
}

# A unit that fails after its recorder finished (a command after it times out) keeps the recorder's record:
# analysis-recover changes nothing.
testUnitFailingAfterTheRecordKeepsIt() {
        local rc
        write_profile_and_unit_dropin "[Service]
ExecStopPost=/bin/sleep 60"
        (cd "$WORK" && exec analysis-run -q -p e2erec --id=rec2 -- /bin/sh -c 'exit 0') 2>"$SHUNIT_TMPDIR/rec2.err"
        rc=$?
        assertEquals "analysis-run ($(cat "$SHUNIT_TMPDIR/rec2.err"))" 0 "$rc"
        assertEquals "the unit failed after the record" failed "$(e2e_prop analysis-e2erec@rec2.service ActiveState)"
        assertEquals "the recorder's record" null "$(field rec2 reconstructed)"
        assertEquals "result" success "$(field rec2 result)"
        assertNotEquals "with the cgroup's figures" null "$(field rec2 usage.memory_peak)"
        assertFalse "no running mark left" "[ -e $RUNNING_DIR/rec2 ]"
}

# The record comes first: where handing a large output directory over outlasts the kill grace (1 s here, as
# a slow host makes any grace too short), the recorder's record stands, analysis-recover finishes the hand-over,
# and analysis-run returns only once the output is all there. (Under emulation a recorder of three at once
# sometimes does not get as far as the record in 1 s: analysis-recover writes it then, which the notes say.)
testSlowHandOverIsFinishedByRecovery() {
        local i rc pids=() n
        e2e_write_profile e2eslow "[Profile]
Description=Slow hand-over
User=analysis-sandbox
[Limits]
Memory=256M
CPU=100%
Tasks=20
Runtime=2min
KillGrace=1s"
        for i in 1 2 3; do
                (cd "$WORK" && exec analysis-run -q -p e2eslow --id=slow$i -- /usr/bin/python3 -c '
import os
d = os.environ["ANALYSIS_OUTPUT_DIR"]
for i in range(3000):
    with open(f"{d}/part-{i:05}.csv", "w") as f:
        f.write("x,y\n" * 20)
') 2>"$SHUNIT_TMPDIR/slow$i.err" &
                pids+=($!)
        done
        for i in 1 2 3; do
                wait "${pids[$((i - 1))]}"
                rc=$?
                n=$(find "$RESULTS_DIR/slow$i.output" -name 'part-*.csv' 2>/dev/null | wc -l)
                assertEquals "slow$i: exit status ($(cat "$SHUNIT_TMPDIR/slow$i.err"))" 0 "$rc"
                assertEquals "slow$i: every file handed over when analysis-run returned" 3000 "$n"
                assertEquals "slow$i: result" success "$(field slow$i result)"
                assertEquals "slow$i: the record of this run" "$(e2e_prop analysis-e2eslow@slow$i.service InvocationID)" \
                        "$(field slow$i invocation_id)"
                assertFalse "slow$i: no mark left" "[ -e $RUNNING_DIR/slow$i ]"
                assertFalse "slow$i: output tmpfs unmounted" "mountpoint -q /run/analysis-sandbox/mounts/slow$i"
                e2e_note "slow$i: unit $(e2e_prop analysis-e2eslow@slow$i.service Result), record by $(
                        [[ $(field slow$i reconstructed) == null ]] && echo the recorder || echo analysis-recover)"
        done
}

# While analyses run, a mark on disk says each is owed a record; the record removes it.
testRunningMarkIsOnDiskWhileItRuns() {
        local i
        (cd "$WORK" && exec analysis-run -q --detach --id=mark1 -- /bin/sh -c 'echo started; sleep 5') >/dev/null 2>&1
        for i in $(seq 100); do
                [[ $(cat "$RESULTS_DIR/mark1.stdout" 2>/dev/null) == started ]] && break
                sleep 0.2
        done
        assertEquals "the analysis runs" active "$(e2e_prop analysis@mark1.service ActiveState)"
        assertTrue "mark while it runs" "[ -f $RUNNING_DIR/mark1 ]"
        assertEquals "readable by root only" 600 "$(stat -c %a "$RUNNING_DIR/mark1")"
        assertContains "names its run" "$(tr '\0' '\n' <"$RUNNING_DIR/mark1")" \
                "invocation_id=$(e2e_prop analysis@mark1.service InvocationID)"
        timeout 60 analysisctl wait mark1 >/dev/null 2>&1
        assertEquals "analysisctl wait" 0 $?
        assertFalse "no mark once recorded" "[ -e $RUNNING_DIR/mark1 ]"
}

# systemd re-executing itself (as a Debian upgrade of systemd does) while callers wait: every one gets its
# record and its exit status.
testCallersWaitThroughDaemonReexec() {
        local i pids=() rc
        for i in 1 2 3 4 5 6; do
                (cd "$WORK" && exec analysis-run -q --id=reexec$i -- /bin/sh -c "sleep 8; exit $i") \
                        >/dev/null 2>"$SHUNIT_TMPDIR/reexec$i.err" &
                pids+=($!)
        done
        sleep 3
        systemctl daemon-reexec
        sleep 1
        systemctl daemon-reexec
        for i in 1 2 3 4 5 6; do
                wait "${pids[$((i - 1))]}"
                rc=$?
                assertEquals "reexec$i: exit status ($(cat "$SHUNIT_TMPDIR/reexec$i.err"))" "$i" "$rc"
                assertEquals "reexec$i: record" exit-code "$(field reexec$i result)"
        done
}

. shunit2
