#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Slurm test cluster (on n1): analysis-run --backend=slurm, the first slice of the Slurm backend (issue 12).
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

slurm_backend_setting backend

oneTimeSetUp() {
    slurm_make_work
    slurm_backend_share
    mkdir -p /etc/analysis-sandbox/profiles
    cat >/etc/analysis-sandbox/profiles/slurmtest.ini <<'EOF'
[Profile]
Description=Slurm backend tests

[Limits]
Memory=300M
CPU=50%
Tasks=64
Runtime=10min
KillGrace=2s
EOF
    systemctl daemon-reload
    write_conf '[Slurm]' "SharedDirectory=$SHARED"
}

e2e_set_up() {
    write_conf '[Slurm]' "SharedDirectory=$SHARED"
}

# Runs analysis-run as alice in her work directory; stdout, stderr and status in $OUT, $ERR, $RC.
run_alice() {
    OUT=$SHUNIT_TMPDIR/out ERR=$SHUNIT_TMPDIR/err
    as_user analysis-run "$@" >"$OUT" 2>"$ERR"
    RC=$?
}

# Prints field PATH (python syntax after the record, e.g. '["usage"]["oom_kills"]') of record ID.
record_field() {
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); v = eval("r" + sys.argv[2]); print("null" if v is None else v)' \
        "$USER_DIR/$1.json" "$2" 2>&1
}

testSuccessOutputAndRecord() {
    run_alice --backend=slurm -p slurmtest --id=ok1 -- sh -c 'echo hello; echo oops >&2; echo bye'
    assertEquals "status (stderr: $(cat "$ERR"))" 0 "$RC"
    assertEquals "stdout" "hello
bye" "$(cat "$OUT")"
    assertContains "stderr: the analysis' own" "$(cat "$ERR")" "oops"
    assertContains "stderr: notes" "$(cat "$ERR")" "Analysis ok1 (profile slurmtest): Finished: exited with status 0"
    assertContains "stderr: notes name the job" "$(cat "$ERR")" "It ran as Slurm job"
    assertContains "stderr: notes say the quota was rounded" "$(cat "$ERR")" "CPU quota of 50% was rounded up to 1 whole CPU"
    assertContains "stderr: output directory" "$(cat "$ERR")" "Output: $USER_DIR/ok1.output"
    assertEquals "isolation" slurm "$(record_field ok1 '["isolation"]')"
    assertEquals "result" success "$(record_field ok1 '["result"]')"
    assertEquals "exit_status" 0 "$(record_field ok1 '["exit_status"]')"
    local job node
    job=$(record_field ok1 '["slurm_job_id"]')
    node=$(record_field ok1 '["node"]')
    assertTrue "slurm_job_id is a number ($job)" "[[ $job =~ ^[0-9]+$ ]]"
    assertTrue "node is n1 or n2 ($node)" "[[ $node == n1 || $node == n2 ]]"
    assertEquals "scontrol: the job's node" "$node" "$(slurm_job_field "$job" NodeList)"
    assertEquals "memory limit in the record" 314572800 "$(record_field ok1 '["limits"]["memory_max"]')"
    assertTrue "memory_peak from the cgroup" "[[ $(record_field ok1 '["usage"]["memory_peak"]') -gt 0 ]]"
    assertEquals "oom_kills from the cgroup" 0 "$(record_field ok1 '["usage"]["oom_kills"]')"
    assertEquals "caller_uid" "$ALICE_UID" "$(record_field ok1 '["caller_uid"]')"
    assertEquals "SharedDirectory/UID: owner and mode" "alice 700" "$(stat -c '%U %a' "$USER_DIR")"
    assertEquals "record: owner and mode" "alice 600" "$(stat -c '%U %a' "$USER_DIR/ok1.json")"
    assertEquals "stdout file: mode" "600" "$(stat -c '%a' "$USER_DIR/ok1.stdout")"
    e2e_note "job $job on $node: $(record_field ok1 '["notes"]')"
}

# Output reaches the caller while the analysis still runs, not only at its end.
testOutputStreamedWhileRunning() {
    local out=$SHUNIT_TMPDIR/stream err=$SHUNIT_TMPDIR/stream.err pid rc seen=no
    (cd "$SLURM_WORK" && runuser -u "$SLURM_USER" -- analysis-run --backend=slurm -p slurmtest --id=stream1 -- \
        sh -c 'echo first; sleep 20; echo second' >"$out" 2>"$err") &
    pid=$!
    for _ in $(seq 1 150); do
        if grep -q first "$out" 2>/dev/null; then
            seen=yes
            break
        fi
        sleep 0.2
    done
    assertEquals "'first' streamed before the analysis ended" yes "$seen"
    assertFalse "no record yet while it runs" "[[ -e $USER_DIR/stream1.json ]]"
    wait "$pid"
    rc=$?
    assertEquals "status (stderr: $(cat "$err"))" 0 "$rc"
    assertEquals "stdout" "first
second" "$(cat "$out")"
}

# With n1 busy the job lands on n2: output and record cross NFS from another node.
testOnTheOtherNode() {
    local blocker
    blocker=$(as_user sbatch --parsable -w n1 -o /dev/null --wrap 'sleep 120')
    slurm_wait_running "$blocker" 60
    assertEquals "blocker on n1 is running" RUNNING "$(slurm_job_field "$blocker" JobState)"
    run_alice --backend=slurm -p slurmtest --id=other1 -- sh -c 'echo from; hostname; exit 4'
    scancel "$blocker"
    assertEquals "status (stderr: $(cat "$ERR"))" 4 "$RC"
    assertEquals "stdout" "from
n2" "$(cat "$OUT")"
    assertEquals "node" n2 "$(record_field other1 '["node"]')"
    assertEquals "exit_status" 4 "$(record_field other1 '["exit_status"]')"
}

testExitCode() {
    run_alice --backend=slurm -p slurmtest --id=exit3 -- sh -c 'exit 3'
    assertEquals "status (stderr: $(cat "$ERR"))" 3 "$RC"
    assertEquals "result" exit-code "$(record_field exit3 '["result"]')"
    assertEquals "exit_status" 3 "$(record_field exit3 '["exit_status"]')"
    assertContains "notes" "$(cat "$ERR")" "Failed: exited with status 3"
}

# Slurm itself would say OUT_OF_MEMORY and lose the exit status; the record keeps both.
testOomWithExitZero() {
    run_alice --backend=slurm -p slurmtest --memory=60M --id=oom0 -- sh -c 'head -c 300M /dev/zero | tail; exit 0'
    assertEquals "status (stderr: $(cat "$ERR"))" 125 "$RC"
    assertEquals "result" oom-kill "$(record_field oom0 '["result"]')"
    assertEquals "exit_status kept" 0 "$(record_field oom0 '["exit_status"]')"
    assertTrue "oom_kills >= 1" "[[ $(record_field oom0 '["usage"]["oom_kills"]') -ge 1 ]]"
    assertEquals "memory limit" 62914560 "$(record_field oom0 '["limits"]["memory_max"]')"
    assertContains "notes" "$(cat "$ERR")" "Killed: memory use reached"
}

testTimeLimit() {
    local runtime
    run_alice --backend=slurm -p slurmtest --timeout=3s --id=slow1 -- sleep 60
    assertEquals "status (stderr: $(cat "$ERR"))" 124 "$RC"
    assertEquals "result" timeout "$(record_field slow1 '["result"]')"
    runtime=$(record_field slow1 '["usage"]["runtime_sec"]')
    e2e_note "timeout 3s: runtime_sec $runtime"
    assertTrue "runtime 3 s up to the grace ($runtime)" "python3 -c 'import sys; sys.exit(not 2.9 <= $runtime <= 6)'"
    assertContains "notes" "$(cat "$ERR")" "Stopped: ran past"
}

# The Slurm record has exactly the fields of the local backend's record for the same analysis.
testRecordShapeMatchesLocal() {
    local keys_local keys_slurm
    analysis-run -q -p slurmtest --id=shape-local --notes-file="$SHUNIT_TMPDIR/local.json" -- /bin/true
    assertEquals "local run: status" 0 "$?"
    run_alice --backend=slurm -q -p slurmtest --id=shape-slurm -- /bin/true
    assertEquals "slurm run: status (stderr: $(cat "$ERR"))" 0 "$RC"
    keys() {
        python3 -c '
import json, sys
def walk(v, p):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from walk(x, p + "." + k)
    else:
        yield p
print("\n".join(sorted(walk(json.load(open(sys.argv[1])), ""))))' "$1"
    }
    keys_local=$(keys "$SHUNIT_TMPDIR/local.json")
    keys_slurm=$(keys "$USER_DIR/shape-slurm.json")
    assertEquals "the same fields" "$keys_local" "$keys_slurm"
    assertEquals "local: isolation" cgroup "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["isolation"])' "$SHUNIT_TMPDIR/local.json")"
    assertEquals "local: slurm_job_id" null "$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["slurm_job_id"]))' "$SHUNIT_TMPDIR/local.json")"
    assertEquals "same profile limits" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["profile_limits"]["memory_max"])' "$SHUNIT_TMPDIR/local.json")" \
        "$(record_field shape-slurm '["profile_limits"]["memory_max"]')"
}

# [Backend] Default=slurm sends analyses to Slurm without --backend; --backend=systemd still runs one here.
testDefaultFromConf() {
    write_conf '[Backend]' 'Default=slurm' '[Slurm]' "SharedDirectory=$SHARED" 'Partition=main'
    run_alice -p slurmtest --id=default1 -- /bin/true
    assertEquals "status (stderr: $(cat "$ERR"))" 0 "$RC"
    assertEquals "isolation" slurm "$(record_field default1 '["isolation"]')"
    analysis-run -q -p slurmtest --backend=systemd --id=default-local --notes-file="$SHUNIT_TMPDIR/d.json" -- /bin/true
    assertEquals "--backend=systemd: status" 0 "$?"
    assertEquals "--backend=systemd: isolation" cgroup \
        "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["isolation"])' "$SHUNIT_TMPDIR/d.json")"
}

# A job that ends without a record (here its runner is killed) still ends with one, written by analysis-run
# after squeue (asked once a minute) no longer lists the job as alive.
testJobWithoutRecordGetsOne() {
    local pid job start
    start=$SECONDS
    (cd "$SLURM_WORK" && runuser -u "$SLURM_USER" -- analysis-run --backend=slurm -p slurmtest --id=lost1 -- \
        sh -c 'echo started; exec sleep 300' >"$SHUNIT_TMPDIR/lost.out" 2>"$SHUNIT_TMPDIR/lost.err") &
    pid=$!
    for _ in $(seq 1 100); do
        job=$(cat "$USER_DIR/lost1/job" 2>/dev/null)
        [[ -n $job ]] && break
        sleep 0.2
    done
    slurm_wait_running "$job" 60
    # RUNNING is not yet the batch step: on a loaded host the Prolog still ran, and a signal to the batch step
    # sent then was lost (the analysis ran its 300 s). The analysis' first line says the runner runs it.
    for _ in $(seq 1 300); do
        grep -q started "$USER_DIR/lost1.stdout" 2>/dev/null && break
        sleep 0.2
    done
    assertContains "the analysis started" "$(cat "$USER_DIR/lost1.stdout" 2>&1)" started
    scancel --batch --signal=KILL "$job"
    wait "$pid"
    RC=$?
    e2e_note "job $job: record written by analysis-run $((SECONDS - start)) s after the start"
    assertEquals "status (stderr: $(cat "$SHUNIT_TMPDIR/lost.err"))" 69 "$RC"
    assertContains "error in the record" "$(record_field lost1 '["error"]')" "Slurm job $job ended as"
    assertEquals "slurm_job_id" "$job" "$(record_field lost1 '["slurm_job_id"]')"
    assertContains "notes" "$(cat "$SHUNIT_TMPDIR/lost.err")" "without writing a record"
}

testBadConfiguration() {
    write_conf '[Backend]' 'Default=kubernetes'
    run_alice -p slurmtest --id=bad1 -- /bin/true
    assertEquals "Default=kubernetes: status" 69 "$RC"
    assertContains "Default=kubernetes: file and line" "$(cat "$ERR")" "$CONF:2"
    assertContains "Default=kubernetes: reason" "$(cat "$ERR")" "expected systemd or slurm"

    write_conf '[Slurm]' 'SharedDirectory=relative/dir'
    run_alice --backend=slurm -p slurmtest --id=bad2 -- /bin/true
    assertEquals "relative SharedDirectory=: status" 69 "$RC"
    assertContains "relative SharedDirectory=: message" "$(cat "$ERR")" "$CONF:2"

    write_conf '[Slurm]' 'SharedDirectory=/srv/no-such-dir'
    run_alice --backend=slurm -p slurmtest --id=bad3 -- /bin/true
    assertEquals "missing SharedDirectory=: status" 69 "$RC"
    assertContains "missing SharedDirectory=: message" "$(cat "$ERR")" "SharedDirectory=/srv/no-such-dir ($CONF:2)"

    write_conf '[Backend]' 'Default=slurm'
    run_alice -p slurmtest --id=bad4 -- /bin/true
    assertEquals "no SharedDirectory=: status" 69 "$RC"
    assertContains "no SharedDirectory=: message" "$(cat "$ERR")" "needs [Slurm] SharedDirectory="
}

testNoSbatch() {
    OUT=$SHUNIT_TMPDIR/out ERR=$SHUNIT_TMPDIR/err
    (cd "$SLURM_WORK" && runuser -u "$SLURM_USER" -- env PATH=/nonexistent /usr/bin/analysis-run --backend=slurm \
        -p slurmtest --id=nosbatch -- /bin/true >"$OUT" 2>"$ERR")
    RC=$?
    assertEquals "status (stderr: $(cat "$ERR"))" 69 "$RC"
    assertContains "message" "$(cat "$ERR")" "no sbatch in \$PATH"
    assertFalse "nothing submitted" "[[ -e $USER_DIR/nosbatch ]]"
}

testSubmissionRefused() {
    write_conf '[Slurm]' "SharedDirectory=$SHARED" 'Partition=nosuchpartition'
    run_alice --backend=slurm -p slurmtest --id=refused1 -- /bin/true
    assertEquals "status (stderr: $(cat "$ERR"))" 69 "$RC"
    assertContains "message" "$(cat "$ERR")" "Slurm refused analysis refused1"
    assertContains "sbatch's reason" "$(cat "$ERR")" "partition"
    assertFalse "nothing left half-submitted" "[[ -e $USER_DIR/refused1 || -e $USER_DIR/refused1.stdout ]]"
}

oneTimeTearDown() {
    rm -f "$CONF" /etc/analysis-sandbox/profiles/slurmtest.ini
}

. shunit2
