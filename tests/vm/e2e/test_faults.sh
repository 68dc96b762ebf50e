#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): faults and load: reloads and profile edits mid-run, fifty analyses at once, a full
# results disk, analysis-run killed early. Every analysis still ends with a correct record, or none at all
# and a clear error; nothing is left half-written.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESULTS_DIR=/var/lib/analysis-sandbox/results
SPOOL_DIR=/run/analysis-sandbox/spool
WORK=$E2E_SCRATCH/faults-work
CANARY=e2e-faults-canary.service
PORT=7391

oneTimeSetUp() {
        mkdir -p "$WORK"
        chmod 0777 "$WORK"
        systemd-run --quiet --unit="$CANARY" --property=Type=exec /usr/bin/python3 "$E2E_ANALYSES/canary.py" serve "$PORT"
        sleep 1
}

oneTimeTearDown() {
        systemctl stop "$CANARY" 2>/dev/null
}

field() {
        e2e_record_field "$@"
}

testReloadAndEditWhileRunning() {
        local i pids=()
        e2e_write_profile e2efault "[Profile]
Description=Faults
User=analysis-sandbox
[Limits]
Memory=64M
CPU=100%
Tasks=20
Runtime=1min"
        for i in 1 2 3; do
                (cd "$WORK" && exec analysis-run -q -p e2efault --id=reload$i -- /bin/sh -c 'sleep 6; echo done') \
                        >"$SHUNIT_TMPDIR/reload$i.out" 2>&1 &
                pids+=($!)
        done
        sleep 3
        sed -i 's/^Memory=64M/Memory=48M/' "$E2E_PROFILE_DIR/e2efault.ini"
        systemctl daemon-reload
        systemctl daemon-reload
        for i in 1 2 3; do
                wait "${pids[$((i - 1))]}"
                assertEquals "reload$i: exit status ($(cat "$SHUNIT_TMPDIR/reload$i.out"))" 0 $?
                assertEquals "reload$i: output" "done" "$(cat "$SHUNIT_TMPDIR/reload$i.out")"
                assertEquals "reload$i: record" success "$(field reload$i result)"
                assertEquals "reload$i: record of the same unit" "analysis-e2efault@reload$i.service" "$(field reload$i unit)"
        done
}

# Fifty analysis-run processes at once: successes, OOM kills and timeouts, each with a correct record, no
# helper hanging, and the canary outside analysis.slice answering throughout.
testFiftyAtOnce() {
        local i kind pids=() kinds=() rc probe count lost max
        python3 "$E2E_ANALYSES/canary.py" probe "$PORT" 60 >"$SHUNIT_TMPDIR/probe" 2>&1 &
        probe=$!
        for i in $(seq 1 50); do
                case $((i % 5)) in
                0) kind=oom-kill
                   set -- --memory=32M -- python3 "$E2E_ANALYSES/hog.py" ;;
                1) kind=timeout
                   set -- --timeout=3s -- /bin/sleep 60 ;;
                *) kind=success
                   set -- -- /bin/sh -c "sleep 1; echo ok$i" ;;
                esac
                kinds+=("$kind")
                (cd "$WORK" && exec timeout -s KILL 300 analysis-run -q --id=fifty$i "$@") >/dev/null 2>&1 &
                pids+=($!)
        done
        for i in $(seq 1 50); do
                wait "${pids[$((i - 1))]}"
                rc=$?
                kind=${kinds[$((i - 1))]}
                assertNotEquals "fifty$i: analysis-run hung (killed after 300 s)" 137 "$rc"
                assertEquals "fifty$i: record ($kind expected)" "$kind" "$(field fifty$i result)"
        done
        wait "$probe"
        read -r count lost max _ < <(tail -n 1 "$SHUNIT_TMPDIR/probe")
        e2e_note "canary during 50 analyses: $count pings, $lost lost, max ${max} ms"
        assertEquals "canary pings lost ($(tail -n 1 "$SHUNIT_TMPDIR/probe"))" 0 "$lost"
}

# A full results disk: no record can be written; analysis-run says so, and no partial file is left.
testResultsDiskFull() {
        local rc
        mount -t tmpfs -o size=64k tmpfs "$RESULTS_DIR"
        head -c 60k /dev/zero >"$RESULTS_DIR/filler" 2>/dev/null
        (cd "$WORK" && analysis-run --id=full1 -- /bin/sh -c 'head -c 100000 /dev/zero') >/dev/null 2>"$SHUNIT_TMPDIR/full.err"
        rc=$?
        journalctl --sync
        assertEquals "exit status: no record" 70 "$rc"
        assertContains "analysis-run says there is no record" "$(cat "$SHUNIT_TMPDIR/full.err")" "left no record"
        assertContains "the journal says why" "$(journalctl -q -b -t analysis-record --no-pager)" \
                "cannot write its record to $RESULTS_DIR: No space left on device"
        assertEquals "no record, not even a partial one" "" "$(cd "$RESULTS_DIR" && ls -A | grep -e json -e '^\.#')"
        umount "$RESULTS_DIR"
}

# analysis-run killed just after it handed over its request: either the unit started (then it ends with a
# record) or it did not (then the spool entry is an orphan, which analysisctl gc removes once it is old);
# the id can be used again either way.
testKilledRightAfterStart() {
        local pid i
        (cd "$WORK" && exec analysis-run --id=early1 -- /bin/sh -c 'sleep 1; echo survived') >/dev/null 2>&1 &
        pid=$!
        for i in $(seq 1 50); do
                [ -e "$SPOOL_DIR/early1" ] && break
                sleep 0.05
        done
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        for i in $(seq 1 100); do
                [ -s "$RESULTS_DIR/early1.json" ] && break
                [ "$(systemctl show -P ActiveState analysis@early1.service)" = inactive ] && [ $i -gt 10 ] && break
                sleep 0.2
        done
        if [ -s "$RESULTS_DIR/early1.json" ]; then
                assertEquals "the record" success "$(field early1 result)"
                assertFalse "no spool entry left" "[ -e $SPOOL_DIR/early1 ]"
        else
                e2e_note "analysis-run died before the unit started: its spool entry is an orphan"
                assertTrue "the orphaned spool entry" "[ -e $SPOOL_DIR/early1 ]"
                touch -d '1 hour ago' "$SPOOL_DIR/early1"
                analysisctl -q gc --older-than=30d
                assertFalse "analysisctl gc removes the orphan" "[ -e $SPOOL_DIR/early1 ]"
        fi
        (cd "$WORK" && analysis-run -q --id=early1 -- /bin/true) >/dev/null 2>&1
        assertEquals "the id can be used again" 0 $?
        assertFalse "no spool entry left after the rerun" "[ -e $SPOOL_DIR/early1 ]"
}

# The same before the unit could start, deterministically: a request handed over and never started.
testOrphanedRequestIsCollected() {
        mkdir -m 0700 "$SPOOL_DIR/orphan1"
        printf 'analysis-sandbox-request-1\0cwd=/\0arg=/bin/true\0' >"$SPOOL_DIR/orphan1/request"
        analysisctl -q gc --older-than=30d
        assertTrue "a fresh request is left alone (its caller may be about to start it)" "[ -e $SPOOL_DIR/orphan1 ]"
        touch -d '11 minutes ago' "$SPOOL_DIR/orphan1"
        analysisctl -q gc --older-than=30d
        assertFalse "an old one without a unit is removed" "[ -e $SPOOL_DIR/orphan1 ]"
}

# analysis-run killed while it waits: the analysis goes on, writes its record, and analysisctl wait picks
# it up with the exit status analysis-run would have given.
testKilledWhileWaiting() {
        local pid rc
        (cd "$WORK" && exec analysis-run --id=late1 -- /bin/sh -c 'sleep 3; echo survived; exit 7') >/dev/null 2>&1 &
        pid=$!
        e2e_wait_active analysis@late1.service 30
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        analysisctl wait late1 2>"$SHUNIT_TMPDIR/late1.err"
        rc=$?
        assertEquals "analysisctl wait: the analysis' exit status ($(cat "$SHUNIT_TMPDIR/late1.err"))" 7 "$rc"
        assertEquals "the output is complete" survived "$(cat "$RESULTS_DIR/late1.stdout")"
        assertEquals "the record" exit-code "$(field late1 result)"
        assertFalse "no spool entry left" "[ -e $SPOOL_DIR/late1 ]"
}

. shunit2
