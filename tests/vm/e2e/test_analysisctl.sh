#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): analysisctl lists, inspects, waits for and stops analyses started by analysis-run
# --detach or by systemctl start, shows their records, and removes old ones; the journal tags each analysis.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESULTS_DIR=/var/lib/analysis-sandbox/results
SPOOL_DIR=/run/analysis-sandbox/spool
UNITS_DIR=/run/analysis-sandbox/units
WORK=$E2E_SCRATCH/ctl-work

oneTimeSetUp() {
        mkdir -p "$WORK"
        chmod 0777 "$WORK"
        id ctlmember >/dev/null 2>&1 || useradd -m -s /bin/bash ctlmember
        id ctloutsider >/dev/null 2>&1 || useradd -m -s /bin/bash ctloutsider
        usermod -aG analysis ctlmember
        mkdir -p "$E2E_PROFILE_DIR"
        cat >"$E2E_PROFILE_DIR/e2ectl.ini" <<'P'
[Profile]
Description=analysisctl end-to-end tests
User=analysis-sandbox
Exec=/bin/sh -c "echo started by hand as %i; sleep 2"
[Limits]
Memory=256M
CPU=100%
Tasks=40
Runtime=60s
KillGrace=3s
P
        systemctl daemon-reload
}

oneTimeTearDown() {
        rm -f "$E2E_PROFILE_DIR/e2ectl.ini"
        systemctl daemon-reload
}

# Runs a command (as root, or as USER with "as USER") from $WORK; leaves $rc, $stdout and $stderr.
run() {
        (cd "$WORK" && "$@") >"$SHUNIT_TMPDIR/out" 2>"$SHUNIT_TMPDIR/err"
        rc=$?
        stdout=$(cat "$SHUNIT_TMPDIR/out")
        stderr=$(cat "$SHUNIT_TMPDIR/err")
}

as() {
        local user=$1
        shift
        run runuser -u "$user" -- "$@"
}

# Starts an analysis of profile e2ectl in the background through analysis-run --detach; remembers its unit.
detach() {
        local id=$1
        shift
        e2e_units+=("analysis-e2ectl@$id.service")
        run analysis-run --detach -p e2ectl --id="$id" "$@"
}

field() {
        e2e_record_field "$@"
}

# Prints FIELD of the JSON document on stdin, dotted for nested ones; [N] indexes a list.
json_field() {
        python3 -c '
import json, sys
v = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    v = v[int(part)] if part.isdigit() else v[part]
print("null" if v is None else v)' "$1"
}

testDetachThenWait() {
        detach ctl-w1 -- /bin/sh -c 'sleep 2; echo done; exit 3'
        assertEquals "--detach: exit status ($stderr)" 0 "$rc"
        assertEquals "--detach prints the id" ctl-w1 "$stdout"
        run analysisctl wait --json ctl-w1
        assertEquals "wait: the analysis' exit status ($stderr)" 3 "$rc"
        assertContains "wait: the summary names the analysis and profile" "$stderr" "Analysis ctl-w1 (profile e2ectl):"
        assertEquals "wait --json: the record" exit-code "$(echo "$stdout" | json_field result)"
        assertEquals "wait --json: the record on stdout is the stored one" "$(cat "$RESULTS_DIR/ctl-w1.json")" "$stdout"
        assertEquals "the output went to the results" "done" "$(cat "$RESULTS_DIR/ctl-w1.stdout")"
        # Long after the end, and after systemd may have unloaded the unit, wait still tells.
        run analysisctl wait -q ctl-w1
        assertEquals "wait on a finished analysis: exit status" 3 "$rc"
        assertEquals "wait -q: no summary" "" "$stderr"
}

testWaitGivesEachOutcome() {
        detach ctl-oom --memory=64M -- python3 "$E2E_ANALYSES/hog.py"
        detach ctl-time --timeout=3s -- /bin/sleep 60
        detach ctl-sig -- /bin/sh -c 'kill -SEGV $$'
        run analysisctl wait ctl-oom
        assertEquals "oom-kill: exit status ($stderr)" 125 "$rc"
        assertContains "oom-kill: the notes" "$stderr" "memory use reached the 64.0 MiB limit"
        run analysisctl wait ctl-time
        assertEquals "timeout: exit status ($stderr)" 124 "$rc"
        run analysisctl wait ctl-sig
        assertEquals "signal: exit status ($stderr)" $((128 + 11)) "$rc"
}

testWaitForSystemctlStart() {
        local invocation
        e2e_units+=(analysis-e2ectl@ctl-hand.service)
        systemctl start --no-block analysis-e2ectl@ctl-hand.service
        e2e_wait_active analysis-e2ectl@ctl-hand.service 30
        invocation=$(systemctl show -P InvocationID analysis-e2ectl@ctl-hand.service)
        run analysisctl wait ctl-hand
        assertEquals "wait for an analysis started by systemctl: exit status ($stderr)" 0 "$rc"
        assertEquals "its output" "started by hand as ctl-hand" "$(cat "$RESULTS_DIR/ctl-hand.stdout")"
        assertEquals "the record is the run waited for" "$invocation" "$(field ctl-hand invocation_id)"
}

testUnknownAndBadIds() {
        local verb
        for verb in wait notes status stop; do
                run analysisctl "$verb" ctl-nosuch
                assertEquals "$verb of an unknown analysis: exit status" 4 "$rc"
                assertContains "$verb: the message names the id" "$stderr" "ctl-nosuch"
                run analysisctl "$verb" 'a/b'
                assertEquals "$verb of a bad id: exit status" 64 "$rc"
        done
        run analysisctl frobnicate
        assertEquals "unknown verb: exit status" 64 "$rc"
        assertContains "unknown verb: message" "$stderr" "Unknown command 'frobnicate'"
}

testStopIsGracefulAndRecorded() {
        local unit=analysis-e2ectl@ctl-stop1.service
        detach ctl-stop1 -- /bin/sleep 60
        e2e_wait_active "$unit" 30
        run analysisctl stop ctl-stop1
        assertEquals "stop: exit status ($stderr)" 0 "$rc"
        assertEquals "stop waits for the end" inactive "$(e2e_prop "$unit" ActiveState)"
        assertEquals "the record says cancelled" cancelled "$(field ctl-stop1 result)"
        run analysisctl wait ctl-stop1
        assertEquals "wait after stop: SIGTERM's status" 143 "$rc"
        run analysisctl stop ctl-stop1
        assertEquals "stop of a finished analysis: exit status" 4 "$rc"

        # An analysis that exits 0 on SIGTERM still reads as cancelled: stop leaves a marker first.
        detach ctl-stop2 -- /bin/sh -c 'trap "exit 0" TERM; sleep 60 & wait'
        e2e_wait_active analysis-e2ectl@ctl-stop2.service 30
        sleep 1
        run analysisctl stop ctl-stop2
        assertEquals "stop of a SIGTERM-trapping analysis: exit status ($stderr)" 0 "$rc"
        assertEquals "its record says cancelled" cancelled "$(field ctl-stop2 result)"
}

testListShowsUsageAndLimits() {
        local json
        detach ctl-l1 -- /bin/sleep 30
        detach ctl-l2 --memory=100M --tasks=10 --cpu=50% -- /bin/sleep 30
        e2e_wait_active analysis-e2ectl@ctl-l1.service 30
        e2e_wait_active analysis-e2ectl@ctl-l2.service 30
        sleep 1
        run analysisctl list
        assertEquals "list: exit status ($stderr)" 0 "$rc"
        assertContains "list: header" "$stdout" "ID"
        assertContains "list: ctl-l1" "$stdout" "ctl-l1"
        assertContains "list: the count" "$stdout" "analyses running."
        assertContains "list: the tightened memory limit" "$(echo "$stdout" | grep ctl-l2)" "100.0 MiB"
        json=$(analysisctl list --json)
        assertEquals "list --json: the profile" e2ectl \
                "$(echo "$json" | python3 -c 'import json,sys; print([a["profile"] for a in json.load(sys.stdin) if a["id"]=="ctl-l1"][0])')"
        assertEquals "list --json: the tightened memory limit" 104857600 \
                "$(echo "$json" | python3 -c 'import json,sys; print([a["memory_max"] for a in json.load(sys.stdin) if a["id"]=="ctl-l2"][0])')"
        assertEquals "list --json: the tightened tasks limit" 10 \
                "$(echo "$json" | python3 -c 'import json,sys; print([a["tasks_max"] for a in json.load(sys.stdin) if a["id"]=="ctl-l2"][0])')"
        assertEquals "list --json: the tightened CPU quota" 50 \
                "$(echo "$json" | python3 -c 'import json,sys; print([a["cpu_quota_percent"] for a in json.load(sys.stdin) if a["id"]=="ctl-l2"][0])')"
        assertEquals "list --json: the profile's memory limit for the other" 268435456 \
                "$(echo "$json" | python3 -c 'import json,sys; print([a["memory_max"] for a in json.load(sys.stdin) if a["id"]=="ctl-l1"][0])')"
        assertTrue "list --json: memory in use" \
                "echo '$json' | python3 -c 'import json,sys; sys.exit(not all(a[\"memory_current\"] > 0 for a in json.load(sys.stdin)))'"
        analysisctl stop ctl-l1
        analysisctl stop ctl-l2
        run analysisctl list --json
        assertNotContains "list: a stopped analysis is gone" "$stdout" "ctl-l1"
}

testStatusRunningThenFinished() {
        detach ctl-st1 -- /bin/sh -c 'echo line1; echo line2; echo oops >&2; sleep 30'
        e2e_wait_active analysis-e2ectl@ctl-st1.service 30
        sleep 1
        run analysisctl status ctl-st1
        assertEquals "status of a running analysis: exit status ($stderr)" 0 "$rc"
        assertContains "status: the unit" "$stdout" "analysis-e2ectl@ctl-st1.service"
        assertContains "status: the cgroup" "$stdout" "/analysis.slice/analysis-e2ectl.slice/analysis-e2ectl@ctl-st1.service"
        assertContains "status: the limits" "$stdout" "memory 256.0 MiB"
        assertContains "status: the last output" "$stdout" "line2"
        assertContains "status: the last errors" "$stdout" "oops"
        assertEquals "status --json: running" True "$(analysisctl status --json ctl-st1 | json_field running)"
        analysisctl stop ctl-st1
        run analysisctl status ctl-st1
        assertEquals "status of a finished analysis: exit status" 3 "$rc"
        assertContains "status: the result" "$stdout" "Result: cancelled"
        assertContains "status: the notes" "$stdout" "$(field ctl-st1 notes)"
        assertEquals "status --json: the record" cancelled "$(analysisctl status --json ctl-st1 | json_field record.result)"
}

testNotesShowTheRecord() {
        run analysis-run -q -p e2ectl --id=ctl-n1 -- /bin/true
        run analysisctl notes ctl-n1
        assertEquals "notes: exit status" 0 "$rc"
        assertEquals "notes: the sentences" "Analysis ctl-n1 (profile e2ectl): $(field ctl-n1 notes)" "$stdout"
        run analysisctl notes --json ctl-n1
        assertEquals "notes --json: the stored record" "$(cat "$RESULTS_DIR/ctl-n1.json")" "$stdout"
}

testGcRemovesOnlyOldFiles() {
        local f
        run analysis-run -q -p e2ectl --id=ctl-gc-old -- /bin/true
        run analysis-run -q -p e2ectl --id=ctl-gc-new -- /bin/true
        detach ctl-gc-run -- /bin/sleep 30
        e2e_wait_active analysis-e2ectl@ctl-gc-run.service 30
        for f in "$RESULTS_DIR"/ctl-gc-old.* "$RESULTS_DIR"/ctl-gc-run.*; do
                touch -d '40 days ago' "$f"
        done
        # Left by an analysis-run killed between handing over its request and starting the unit.
        mkdir -m 0700 "$SPOOL_DIR/ctl-gc-orphan" "$UNITS_DIR/ctl-gc-orphan"
        touch -d '1 hour ago' "$SPOOL_DIR/ctl-gc-orphan" "$UNITS_DIR/ctl-gc-orphan"
        mkdir -m 0700 "$SPOOL_DIR/ctl-gc-young"
        run analysisctl gc --older-than=30d
        assertEquals "gc: exit status ($stderr)" 0 "$rc"
        # The record, its samples, the two output files and the output directory.
        assertContains "gc: what it did" "$stdout" "Removed 5 files older than"
        assertFalse "gc: the old record is gone" "[ -e $RESULTS_DIR/ctl-gc-old.json ]"
        assertFalse "gc: the old samples are gone" "[ -e $RESULTS_DIR/ctl-gc-old.samples.csv ]"
        assertFalse "gc: the old output is gone" "[ -e $RESULTS_DIR/ctl-gc-old.stdout ]"
        assertFalse "gc: the old output directory is gone" "[ -e $RESULTS_DIR/ctl-gc-old.output ]"
        assertTrue "gc: the running analysis' output directory stays mounted" \
                "mountpoint -q /run/analysis-sandbox/mounts/ctl-gc-run"
        assertTrue "gc: the new record stays" "[ -e $RESULTS_DIR/ctl-gc-new.json ]"
        assertTrue "gc: files of a running analysis stay" "[ -e $RESULTS_DIR/ctl-gc-run.stdout ]"
        assertFalse "gc: the orphaned spool entry is gone" "[ -e $SPOOL_DIR/ctl-gc-orphan ]"
        assertFalse "gc: the orphaned unit state is gone" "[ -e $UNITS_DIR/ctl-gc-orphan ]"
        assertTrue "gc: a young spool entry stays" "[ -e $SPOOL_DIR/ctl-gc-young ]"
        assertTrue "gc: the running analysis' spool entry stays" "[ -e $SPOOL_DIR/ctl-gc-run ]"
        rmdir "$SPOOL_DIR/ctl-gc-young"
        run analysisctl gc
        assertEquals "gc without --older-than: exit status" 64 "$rc"
        as ctlmember analysisctl gc --older-than=1s
        assertNotEquals "gc by a member: refused" 0 "$rc"
        assertTrue "gc by a member: nothing removed" "[ -e $RESULTS_DIR/ctl-gc-new.json ]"
}

testGcTimerShippedDisabled() {
        assertEquals "the timer is disabled" disabled "$(systemctl is-enabled analysis-sandbox-gc.timer)"
        run systemctl start analysis-sandbox-gc.service
        assertEquals "the gc service runs ($stderr)" 0 "$rc"
        assertEquals "its result" success "$(e2e_prop analysis-sandbox-gc.service Result)"
}

# What a finish killed at TimeoutStopSec= leaves behind: its output tmpfs mounted, its /tmp directory. The
# service runs gc in a mount namespace of its own, where that mount is only a copy, or not there at all.
testGcServiceUnmountsLeftovers() {
        local mounted=/run/analysis-sandbox/mounts/ctl-gc-left tmp=/run/analysis-sandbox/tmp/ctl-gc-left
        run analysis-run -q -p e2ectl --id=ctl-gc-mounts -- /bin/true
        mkdir -p "$mounted" "$tmp/tmp"
        mount -t tmpfs -o size=1M tmpfs "$mounted"
        echo left >"$mounted/file"
        touch -d '1 hour ago' "$mounted" "$tmp"
        run systemctl start analysis-sandbox-gc.service
        assertEquals "the gc service runs ($stderr)" 0 "$rc"
        assertFalse "the gc service unmounted the leftover output directory" "mountpoint -q $mounted"
        assertFalse "the gc service removed its mount point" "[ -e $mounted ]"
        assertFalse "the gc service removed the leftover /tmp" "[ -e $tmp ]"
        if mountpoint -q "$mounted"; then
                umount "$mounted"
        fi
}

testMembersAndOutsiders() {
        e2e_units+=(analysis-e2ectl@ctl-m1.service analysis-e2ectl@ctl-m2.service)
        as ctlmember analysis-run --detach -p e2ectl --id=ctl-m1 -- /bin/sleep 2
        assertEquals "a member detaches ($stderr)" 0 "$rc"
        as ctlmember analysisctl wait ctl-m1
        assertEquals "a member waits ($stderr)" 0 "$rc"
        as ctlmember analysis-run --detach -p e2ectl --id=ctl-m2 -- /bin/sh -c 'trap "exit 0" TERM; sleep 60 & wait'
        e2e_wait_active analysis-e2ectl@ctl-m2.service 30
        sleep 1
        as ctloutsider analysisctl stop ctl-m2
        assertEquals "an outsider cannot stop it" 77 "$rc"
        assertContains "an outsider is told why" "$stderr" "Permission denied"
        as ctlmember analysisctl stop ctl-m2
        assertEquals "its member stops it ($stderr)" 0 "$rc"
        assertEquals "the member's marker makes it cancelled" cancelled "$(field ctl-m2 result)"
        as ctloutsider analysisctl list
        assertEquals "anyone may list" 0 "$rc"
}

testJournalFindsAnAnalysis() {
        # journald tags a line with the unit's fields only while its sender lives (it looks the sender's
        # cgroup up in /proc), so the sender here lingers a little after logging; logger(1) would not.
        run analysis-run -q -p e2ectl --id=ctl-j1 -- python3 -c \
                'import syslog, time; syslog.openlog("e2e-analysis"); syslog.syslog("hello from ctl-j1"); time.sleep(1)'
        assertEquals "the analysis ran ($stderr)" 0 "$rc"
        journalctl --sync
        assertContains "ANALYSIS_ID= finds what the analysis logged" \
                "$(journalctl -q -b ANALYSIS_ID=ctl-j1 --no-pager)" "hello from ctl-j1"
        assertContains "ANALYSIS_ID= finds its outcome" \
                "$(journalctl -q -b ANALYSIS_ID=ctl-j1 --no-pager)" "Analysis 'ctl-j1' (profile 'e2ectl') ended:"
        assertContains "ANALYSIS_PROFILE= too" "$(journalctl -q -b ANALYSIS_PROFILE=e2ectl --no-pager)" "ctl-j1"
}

testUserManager() {
        local uid
        uid=$(e2e_start_user_manager ctlalice)
        run runuser -u ctlalice -- env -C / XDG_RUNTIME_DIR=/run/user/$uid \
                analysis-run --user --detach --id=ctl-u1 -- /bin/sh -c 'sleep 1; exit 5'
        assertEquals "--user --detach ($stderr)" 0 "$rc"
        run runuser -u ctlalice -- env -C / XDG_RUNTIME_DIR=/run/user/$uid analysisctl --user wait ctl-u1
        assertEquals "analysisctl --user wait: exit status ($stderr)" 5 "$rc"
        run runuser -u ctlalice -- env -C / XDG_RUNTIME_DIR=/run/user/$uid analysisctl --user notes ctl-u1
        assertContains "analysisctl --user notes" "$stdout" "Analysis ctl-u1 (profile default)"
        loginctl disable-linger ctlalice
}

. shunit2
