#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): analysis-run starts analyses through systemd, streams their output, waits for them
# over D-Bus and reports each way an analysis can end, in its exit status, its notes and its record.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESULTS_DIR=/var/lib/analysis-sandbox/results
SPOOL_DIR=/run/analysis-sandbox/spool
WORK=$E2E_SCRATCH/run-work

oneTimeSetUp() {
        mkdir -p "$WORK"
        chmod 0777 "$WORK"
        # Small and quick; the time limit leaves room for Python to start under TCG.
        mkdir -p "$E2E_PROFILE_DIR"
        cat >"$E2E_PROFILE_DIR/e2erun.ini" <<'P'
[Profile]
Description=analysis-run end-to-end tests
User=analysis-sandbox
Exec=/bin/sh -c "echo started by hand as %i"
[Limits]
Memory=64M
CPU=100%
Tasks=20
Runtime=20s
KillGrace=3s
P
        systemctl daemon-reload
}

oneTimeTearDown() {
        rm -f "$E2E_PROFILE_DIR/e2erun.ini"
        systemctl daemon-reload
}

# Runs analysis-run with the given arguments from $WORK; leaves $rc, and the output in $stdout_file and
# $stderr_file (and $stdout/$stderr for short output).
run() {
        stdout_file=$SHUNIT_TMPDIR/stdout
        stderr_file=$SHUNIT_TMPDIR/stderr
        (cd "$WORK" && analysis-run "$@") >"$stdout_file" 2>"$stderr_file"
        rc=$?
        stdout=$(head -c 4096 "$stdout_file")
        stderr=$(head -c 4096 "$stderr_file")
}

field() {
        e2e_record_field "$@"
}

record_exists() {
        [ -s "$RESULTS_DIR/$1.json" ]
}

# Waits up to SECONDS for the record of ID.
wait_record() {
        local i
        for ((i = 0; i < $2 * 5; i++)); do
                record_exists "$1" && return 0
                sleep 0.2
        done
        return 1
}

# An id used again: the unit's runner starts the output files afresh a moment after systemd reports the start,
# and analysis-run must show none of what the earlier run left in them. (A race when it is wrong: three runs.)
testEarlierRunsOutputNeverShown() {
        local i
        for i in 1 2 3; do
                run --id=again1 -p e2erun -- /bin/sh -c "seq -f 'EARLIER-RUN-$i %g' 2000"
                assertEquals "run $i: exit status (stderr: $stderr)" 0 "$rc"
                run --id=again1 -p e2erun -- /bin/echo "this run"
                assertEquals "run $i again: exit status (stderr: $stderr)" 0 "$rc"
                assertEquals "run $i again: only this run's output" "this run" "$(cat "$stdout_file")"
        done
}

testSuccess() {
        run --id=ok1 -- /bin/echo hello world
        assertEquals "exit status (stderr: $stderr)" 0 "$rc"
        assertEquals "the analysis' stdout reaches ours" "hello world" "$stdout"
        assertContains "summary" "$stderr" "Analysis ok1 (profile default): Finished: exited with status 0"
        assertEquals "record: result" success "$(field ok1 result)"
        assertEquals "record: exit_code" exited "$(field ok1 exit_code)"
        assertEquals "record: exit_status" 0 "$(field ok1 exit_status)"
        assertEquals "record: unit" analysis@ok1.service "$(field ok1 unit)"
        assertEquals "record: isolation" cgroup "$(field ok1 isolation)"
        assertNotContains "notes: nothing about --fallback=rlimit" "$(field ok1 notes)" "without cgroup isolation"
        # The unit is unreferenced and collected by now; systemd's own journal lines carry its invocation id.
        assertNotEquals "record: invocation_id is systemd's" 0 \
                "$(journalctl -q _PID=1 UNIT=analysis@ok1.service INVOCATION_ID="$(field ok1 invocation_id)" | wc -l)"
        assertEquals "record: profile memory limit" 2147483648 "$(field ok1 limits.memory_max)"
        assertEquals "record: caller" 0 "$(field ok1 caller_uid)"
        assertEquals "the output file" "hello world" "$(cat "$RESULTS_DIR/ok1.stdout")"
        assertFalse "the spool entry is gone" "[ -e $SPOOL_DIR/ok1 ]"
        assertFalse "the unit's state is gone" "[ -e /run/analysis-sandbox/units/ok1 ]"
}

testFallbackUnusedWhereSystemdIs() {
        run --id=fb1 --fallback=rlimit -- /bin/echo via systemd
        assertEquals "exit status (stderr: $stderr)" 0 "$rc"
        assertEquals "record: isolation" cgroup "$(field fb1 isolation)"
        assertEquals "record: unit" analysis@fb1.service "$(field fb1 unit)"
}

testNonZeroExit() {
        run --id=exit3 -- /bin/sh -c 'echo to stderr >&2; exit 3'
        assertEquals "exit status is the analysis' own" 3 "$rc"
        assertContains "stderr reaches ours" "$stderr" "to stderr"
        assertContains "summary" "$stderr" "Failed: exited with status 3"
        assertEquals "record: result" exit-code "$(field exit3 result)"
        assertEquals "record: exit_status" 3 "$(field exit3 exit_status)"
        assertEquals "record: stderr_tail" "to stderr" "$(field exit3 stderr_tail)"
}

testKilledBySignal() {
        run --id=sig1 -- /bin/sh -c 'kill -KILL $$'
        assertEquals "exit status 128+9" 137 "$rc"
        assertEquals "record: result" signal "$(field sig1 result)"
        assertEquals "record: exit_code" killed "$(field sig1 exit_code)"
        assertEquals "record: signal" KILL "$(field sig1 signal)"
        assertContains "summary" "$stderr" "Killed by signal KILL"
}

testCoreDump() {
        # No systemd-coredump in the image: the kernel writes "core" into the working directory.
        run --id=core1 -- /bin/sh -c 'ulimit -c unlimited; kill -SEGV $$'
        assertEquals "exit status 128+11" 139 "$rc"
        assertEquals "record: result" core-dump "$(field core1 result)"
        assertEquals "record: exit_code" dumped "$(field core1 exit_code)"
        assertEquals "record: signal" SEGV "$(field core1 signal)"
        assertContains "summary" "$stderr" "Crashed: killed by signal SEGV with a core dump"
        rm -f "$WORK"/core*
}

testMemoryLimitOfProfile() {
        run --id=oom1 -p e2erun -- python3 "$E2E_ANALYSES/hog.py"
        assertEquals "exit status (stderr: $stderr)" 125 "$rc"
        assertEquals "record: result" oom-kill "$(field oom1 result)"
        assertTrue "record: oom_kills > 0" "[ $(field oom1 usage.oom_kills) -gt 0 ]"
        assertTrue "record: memory_peak near 64 MiB" "[ $(field oom1 usage.memory_peak) -gt $((60 << 20)) ]"
        assertContains "summary" "$stderr" "Killed: memory use reached the 64.0 MiB limit of profile 'e2erun'"
}

testMemoryLimitTightened() {
        run --id=oom2 --memory=32M -- python3 "$E2E_ANALYSES/hog.py"
        assertEquals "exit status (stderr: $stderr)" 125 "$rc"
        assertEquals "record: result" oom-kill "$(field oom2 result)"
        assertEquals "record: limits.memory_max" $((32 << 20)) "$(field oom2 limits.memory_max)"
        assertEquals "record: profile_limits.memory_max" 2147483648 "$(field oom2 profile_limits.memory_max)"
        assertTrue "record: memory_peak below the profile's limit" "[ $(field oom2 usage.memory_peak) -lt $((64 << 20)) ]"
        assertContains "summary" "$stderr" "the 32.0 MiB limit set for this analysis (profile 'default' allows 2.0 GiB)"
}

# A child killed by the OOM killer makes the analysis oom-kill even though the main process exits 0.
testChildOomDecides() {
        run --id=oom3 -p e2erun -- /bin/sh -c "python3 $E2E_ANALYSES/hog.py; exit 0"
        assertEquals "exit status (stderr: $stderr)" 125 "$rc"
        assertEquals "record: result" oom-kill "$(field oom3 result)"
}

testTimeLimitOfProfile() {
        local runtime
        run --id=time1 -p e2erun -- /bin/sleep 60
        assertEquals "exit status" 124 "$rc"
        assertEquals "record: result" timeout "$(field time1 result)"
        runtime=$(field time1 usage.runtime_sec)
        e2e_note "Runtime=20s fired after ${runtime}s"
        assertTrue "stopped after 20 s, not much later (${runtime}s)" \
                "python3 -c 'import sys; sys.exit(not 19.5 <= $runtime <= 30)'"
        assertContains "summary" "$stderr" "Stopped: ran past the 20 s time limit of profile 'e2erun'."
}

testTimeLimitTightened() {
        local runtime
        run --id=time2 --timeout=3s -- /bin/sleep 60
        assertEquals "exit status" 124 "$rc"
        assertEquals "record: result" timeout "$(field time2 result)"
        assertEquals "record: limits.runtime_max_sec" 3.0 "$(field time2 limits.runtime_max_sec)"
        runtime=$(field time2 usage.runtime_sec)
        e2e_note "--timeout=3s fired after ${runtime}s"
        assertTrue "stopped after 3 s, not much later (${runtime}s)" \
                "python3 -c 'import sys; sys.exit(not 2.9 <= $runtime <= 10)'"
        assertContains "summary" "$stderr" "the 3 s time limit set for this analysis (profile 'default' allows 30 min)"
}

testPidLimit() {
        run --id=pids1 -p e2erun -- /bin/sh -c 'for i in $(seq 40); do sleep 2 & done; wait'
        assertNotEquals "the fork failure shows as the shell's own error" 0 "$rc"
        assertTrue "record: tasks_limit_hits > 0" "[ $(field pids1 usage.tasks_limit_hits) -gt 0 ]"
        assertContains "summary names the PID limit" "$stderr" "It hit the limit of 20 tasks"
}

testCpuQuotaEnforced() {
        local cpu throttled runtime sandbox
        run --id=cpu1 --cpu=20% --timeout=6s -- python3 "$E2E_ANALYSES/burn.py"
        cpu=$(field cpu1 usage.cpu_sec)
        throttled=$(field cpu1 usage.cpu_throttled_sec)
        runtime=$(field cpu1 usage.runtime_sec)
        sandbox=$(field cpu1 usage.sandbox_cpu_sec)
        e2e_note "--cpu=20%: cpu ${cpu}s, sandbox ${sandbox}s, throttled ${throttled}s, runtime ${runtime}s"
        assertEquals "record: limits.cpu_quota_percent" 20 "$(field cpu1 limits.cpu_quota_percent)"
        # The analysis' own CPU, from its payload leaf: within its quota over its runtime (the unit's, which
        # adds the runner, the recorder and systemd-executor, was 3.7 s in 7.2 s on systemd 257).
        assertTrue "cpu_sec ${cpu}s is more than 20% of ${runtime}s" \
                "python3 -c 'import sys; sys.exit(not $cpu <= 0.2 * $runtime + 0.3)'"
        assertTrue "sandbox_cpu_sec is a figure ('$sandbox')" "python3 -c 'import sys; sys.exit(not $sandbox >= 0)'"
        assertTrue "throttled for a while (${throttled}s)" "python3 -c 'import sys; sys.exit(not $throttled > 0.5)'"
        assertContains "summary names the quota" "$stderr" "The CPU quota of 20% held it back"
}

testCommandNotFound() {
        run --id=nocmd -- no-such-command-anywhere
        assertEquals "exit status" 127 "$rc"
        assertContains "message" "$stderr" "No such command: no-such-command-anywhere"
        assertFalse "nothing was started" "record_exists nocmd"
}

testUnknownProfile() {
        run --id=noprof -p nosuchprofile -- /bin/true
        assertEquals "exit status" 66 "$rc"
        assertContains "message" "$stderr" "Unknown profile 'nosuchprofile'"
        assertFalse "nothing was spooled" "[ -e $SPOOL_DIR/noprof ]"
}

testBadIds() {
        local id
        for id in .. a/b "" "$(printf 'x%.0s' $(seq 65))" 'a@b' 'a\b' 'a;b' '$(id)' "$(printf 'a\nb')" .hidden; do
                run --id="$id" -- /bin/true
                assertEquals "id '$id': exit status" 64 "$rc"
                assertContains "id '$id': message" "$stderr" "Invalid analysis id"
        done
        assertEquals "nothing was spooled" "" "$(ls -A $SPOOL_DIR)"
}

testDuplicateRunningId() {
        run --detach --id=dup1 -- /bin/sleep 30
        assertEquals "--detach: exit status" 0 "$rc"
        assertEquals "--detach prints the id" dup1 "$stdout"
        e2e_units+=(analysis@dup1.service)
        assertTrue "dup1 is running" "e2e_wait_active analysis@dup1.service 10"
        run --id=dup1 -- /bin/true
        assertEquals "a running id is refused" 75 "$rc"
        assertContains "message" "$stderr" "Analysis dup1 is already running"
}

testRaiseAboveProfileRefused() {
        run --id=raise1 --memory=4G -- /bin/true
        assertEquals "--memory above: exit status" 65 "$rc"
        assertContains "--memory above: names the profile's value" "$stderr" "above the 2.0 GiB limit of profile 'default'"
        run --id=raise2 -p e2erun --timeout=1h -- /bin/true
        assertEquals "--timeout above: exit status" 65 "$rc"
        assertContains "--timeout above: names the profile's value" "$stderr" "above the 20 s time limit of profile 'e2erun'"
        run --id=raise3 -p e2erun --tasks=21 -- /bin/true
        assertEquals "--tasks above: exit status" 65 "$rc"
        run --id=raise4 --cpu=150% -- /bin/true
        assertEquals "--cpu above: exit status" 65 "$rc"
        assertFalse "nothing ran" "record_exists raise1 || record_exists raise2 || record_exists raise3 || record_exists raise4"
}

testCtrlCCancels() {
        local pid
        (cd "$WORK" && exec analysis-run --id=cancel1 -- /bin/sleep 60) >"$SHUNIT_TMPDIR/c.out" 2>"$SHUNIT_TMPDIR/c.err" &
        pid=$!
        assertTrue "cancel1 is running" "e2e_wait_active analysis@cancel1.service 15"
        kill -INT "$pid"
        wait "$pid"
        rc=$?
        assertEquals "exit status 128+SIGINT" 130 "$rc"
        assertEquals "record: result" cancelled "$(field cancel1 result)"
        assertContains "summary" "$(cat "$SHUNIT_TMPDIR/c.err")" "Cancelled: stopped on request"
        assertEquals "the unit is gone" inactive "$(e2e_prop analysis@cancel1.service ActiveState)"
}

testKilledRunnerLeavesAnalysisAndRecord() {
        local pid
        (cd "$WORK" && exec analysis-run --id=orphan1 -- /bin/sh -c 'sleep 4; echo survived') >/dev/null 2>&1 &
        pid=$!
        assertTrue "orphan1 is running" "e2e_wait_active analysis@orphan1.service 15"
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        assertEquals "the analysis goes on" active "$(e2e_prop analysis@orphan1.service ActiveState)"
        assertTrue "the record appears" "wait_record orphan1 30"
        assertEquals "record: result" success "$(field orphan1 result)"
        assertEquals "its output is kept" survived "$(cat "$RESULTS_DIR/orphan1.stdout")"
}

testTenMegabytesStreamedInOrder() {
        local script='import sys
for i in range(200000):
    sys.stdout.write("%08d %s\n" % (i, "x" * 40))
for i in range(20000):
    sys.stderr.write("err %08d\n" % i)'
        python3 -c "$script" >"$SHUNIT_TMPDIR/expected.out" 2>"$SHUNIT_TMPDIR/expected.err"
        run --id=big1 -- python3 -c "$script"
        assertEquals "exit status" 0 "$rc"
        assertEquals "stdout size" 10000000 "$(stat -c %s "$stdout_file")"
        assertTrue "stdout complete and in order" "cmp -s $SHUNIT_TMPDIR/expected.out $stdout_file"
        assertTrue "stderr complete and in order" "grep -v -e '^Analysis big1' -e '^Output: ' $stderr_file | cmp -s $SHUNIT_TMPDIR/expected.err -"
        assertTrue "the kept file is complete" "cmp -s $SHUNIT_TMPDIR/expected.out $RESULTS_DIR/big1.stdout"
}

testNotesFileAndQuiet() {
        run --id=notes1 -q --notes-file="$SHUNIT_TMPDIR/notes.json" -- /bin/true
        assertEquals "exit status" 0 "$rc"
        assertEquals "-q: no summary" "" "$stderr"
        assertTrue "--notes-file is the record" "cmp -s $SHUNIT_TMPDIR/notes.json $RESULTS_DIR/notes1.json"
}

# The default profile has no User=: the analysis runs under an account of its own, named after its id.
testEnvironmentAndDirectory() {
        run --id=env1 -C "$E2E_SCRATCH" -E FOO=bar -- /bin/sh -c 'echo "$FOO $(pwd) $USER $ANALYSIS_ID $(id -u)"'
        assertEquals "exit status" 0 "$rc"
        assertEquals "environment, directory, account, id" "bar $E2E_SCRATCH as-env1 env1" "${stdout% *}"
        assertNotEquals "not the shared account" "$(id -u analysis-sandbox)" "${stdout##* }"
        assertNotEquals "not root" 0 "${stdout##* }"
}

testStartedByHandLeavesRecord() {
        e2e_units+=(analysis-e2erun@byhand1.service)
        systemctl start analysis-e2erun@byhand1.service
        assertTrue "the record appears" "wait_record byhand1 30"
        assertEquals "record: result" success "$(field byhand1 result)"
        assertEquals "record: caller" null "$(field byhand1 caller_uid)"
        assertEquals "Exec= ran with the id" "started by hand as byhand1" "$(cat "$RESULTS_DIR/byhand1.stdout")"
}

testStartedByHandWithoutExec() {
        e2e_units+=(analysis@byhand2.service)
        systemctl start analysis@byhand2.service
        assertTrue "the record appears" "wait_record byhand2 30"
        assertContains "record: error" "$(field byhand2 error)" "profile 'default' has no Exec="
        assertContains "record: notes" "$(field byhand2 notes)" "Not run:"
}

testUserManager() {
        local uid home
        uid=$(e2e_start_user_manager alice)
        home=$(getent passwd alice | cut -d: -f6)
        assertTrue "alice's manager is up" "[ -S /run/user/$uid/bus ]"
        out=$(cd / && runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/$uid \
                analysis-run --user --id=user1 --memory=32M -- /bin/sh -c 'id -un' 2>"$SHUNIT_TMPDIR/user.err")
        rc=$?
        assertEquals "exit status (stderr: $(cat "$SHUNIT_TMPDIR/user.err"))" 0 "$rc"
        assertEquals "runs as alice" alice "$out"
        assertTrue "the record is in alice's state directory" "[ -s $home/.local/state/analysis-sandbox/results/user1.json ]"
        out=$(cd / && runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/$uid \
                analysis-run --user --id=user2 -q --memory=32M -- python3 "$E2E_ANALYSES/hog.py" 2>&1)
        assertEquals "oom-kill under the user manager: exit status ($out)" 125 $?
}

testTwentyAtOnce() {
        local i pids=() rcs=()
        for i in $(seq 1 19); do
                (cd "$WORK" && exec analysis-run -q --id=par$i -- /bin/sh -c "sleep 2; echo ok$i") \
                        >"$SHUNIT_TMPDIR/par$i.out" 2>&1 &
                pids+=($!)
        done
        (cd "$WORK" && exec analysis-run -q --id=par20 --memory=48M -- python3 "$E2E_ANALYSES/hog.py") \
                >"$SHUNIT_TMPDIR/par20.out" 2>&1 &
        pids+=($!)
        for i in "${!pids[@]}"; do
                wait "${pids[$i]}"
                rcs[$i]=$?
        done
        for i in $(seq 1 19); do
                assertEquals "par$i: exit status" 0 "${rcs[$((i - 1))]}"
                assertEquals "par$i: output" "ok$i" "$(cat "$SHUNIT_TMPDIR/par$i.out")"
                assertEquals "par$i: record" success "$(field par$i result)"
        done
        assertEquals "par20: exit status" 125 "${rcs[19]}"
        assertEquals "par20: record" oom-kill "$(field par20 result)"
}

. shunit2
