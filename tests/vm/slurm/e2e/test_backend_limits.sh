#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Slurm test cluster (on n1): the Slurm backend's limits, cancel and waiting (issue 12), through analysis-run.
#
# The PID limit both ways (the cluster's Prolog is the one the package ships, node/prolog; .testbed/prolog-off
# turns it off), cancel while pending and while running, the waiter on a share mounted with NFS's default
# options, --copy-workdir, --user, Disk=, two whole-node analyses on two nodes, and a record equal value by
# value to the local backend's.
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

slurm_backend_setting backend
# n2 has this name for the share itself (node/run); here the test mounts the export there with default options.
DEFAULTS_MOUNT=$SLURM_SHARE-defaults

oneTimeSetUp() {
    slurm_make_work
    slurm_backend_share
    mkdir -p /etc/analysis-sandbox/profiles
    cat >/etc/analysis-sandbox/profiles/slurmlimits.ini <<'EOF'
[Profile]
Description=Slurm backend limit tests

[Limits]
Memory=300M
CPU=100%
Tasks=64
Runtime=10min
KillGrace=3s
Disk=10M
EOF
    # The same with a short Runtime=: a job whose slurmstepd died under pids.max ends at Slurm's time limit
    # (Runtime= plus a minute), not 11 minutes later.
    sed 's/^Runtime=.*/Runtime=1min/' /etc/analysis-sandbox/profiles/slurmlimits.ini \
        >/etc/analysis-sandbox/profiles/slurmpids.ini
    systemctl daemon-reload
}

e2e_set_up() {
    write_conf '[Slurm]' "SharedDirectory=$SHARED"
    rm -f "$SLURM_CONTROL/prolog-off"
}

e2e_tear_down() {
    rm -f "$SLURM_CONTROL/prolog-off"
    # Blockers a failed test may have left.
    scancel -u "$SLURM_USER" -n blocker 2>/dev/null
    true
}

# Runs analysis-run as alice in her work directory; stdout, stderr and status in $OUT, $ERR, $RC.
run_alice() {
    OUT=$SHUNIT_TMPDIR/out ERR=$SHUNIT_TMPDIR/err
    as_user analysis-run "$@" >"$OUT" 2>"$ERR"
    RC=$?
}

# Starts analysis-run as alice in the background; its PID (analysis-run's own) in $BG_PID, its shell's in
# $BG_JOB; stdout and stderr in $SHUNIT_TMPDIR/NAME.out and .err.
start_alice() {
    local name=$1 pidfile=$SLURM_WORK/.$1.pid
    shift
    rm -f "$pidfile"
    (cd "$SLURM_WORK" && runuser -u "$SLURM_USER" -- sh -c 'echo $$ >"$0" && exec analysis-run "$@"' \
        "$pidfile" "$@" >"$SHUNIT_TMPDIR/$name.out" 2>"$SHUNIT_TMPDIR/$name.err") &
    BG_JOB=$!
    for _ in $(seq 1 50); do
        [[ -s $pidfile ]] && break
        sleep 0.1
    done
    BG_PID=$(cat "$pidfile")
    assertTrue "analysis-run's PID ('$BG_PID')" "[[ '$BG_PID' =~ ^[0-9]+$ ]]"
}

# Waits up to SECONDS for analysis ID's job id file and prints the job id.
job_of() {
    local id=$1 dir=${3:-$USER_DIR} job=''
    for _ in $(seq 1 $((${2:-30} * 5))); do
        job=$(cat "$dir/$id/job" 2>/dev/null)
        [[ -n $job ]] && break
        sleep 0.2
    done
    echo "$job"
}

# Prints field PATH (python syntax after the record, e.g. '["usage"]["oom_kills"]') of record ID.
record_field() {
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); v = eval("r" + sys.argv[2]); print("null" if v is None else v)' \
        "${3:-$USER_DIR}/$1.json" "$2" 2>&1
}

# Occupies node NODE with a job of alice's (named "blocker"); prints its id.
block_node() {
    local id
    id=$(as_user sbatch --parsable -J blocker -w "$1" -o /dev/null --wrap 'sleep 120')
    slurm_wait_running "$id" 60
    echo "$id"
}

# Forks up to 100 children that sleep, counting the forks the kernel refused, then waits for them.
FORKER='
import os, sys, time
children, failed = [], 0
for i in range(100):
    try:
        pid = os.fork()
    except OSError:
        failed += 1
        continue
    if pid == 0:
        time.sleep(int(sys.argv[1]))
        os._exit(0)
    children.append(pid)
print("forked", len(children), "failed", failed, flush=True)
for pid in children:
    os.waitpid(pid, 0)
'

# The cluster's Prolog (the package's) sets pids.max for the job: the kernel refuses forks past --tasks.
testTasksExactWithProlog() {
    local forked failed job env_file
    printf '%s\n' "$FORKER" >"$SLURM_WORK/forker.py"
    local spare=0
    # Slurm 23.02 and later: the Prolog leaves 3 tasks spare for slurmstepd's threads (meson.build), and Slurm's
    # own tasks were 31 in a batch job where the Prolog counts the 32 of an srun step: the analysis may take 4
    # more (measured on 24.11: 23 children).
    [[ $(sinfo -V) == *\ 2[0-2].* ]] || spare=4
    run_alice --backend=slurm -p slurmpids --tasks=20 --id=pids-exact -- python3 "$SLURM_WORK/forker.py" 2
    assertEquals "status (stderr: $(cat "$ERR"))" 0 "$RC"
    forked=$(sed -n 's/^forked \([0-9]*\) failed.*/\1/p' "$OUT")
    failed=$(sed -n 's/.* failed \([0-9]*\)$/\1/p' "$OUT")
    job=$(record_field pids-exact '["slurm_job_id"]')
    e2e_note "--tasks=20 with the Prolog: $(cat "$OUT"); tasks_limit_hits $(record_field pids-exact '["usage"]["tasks_limit_hits"]'); $(journalctl -q -t analysis-sandbox-prolog -o cat | grep "job $job:" | tail -n1)"
    # python itself is one of the 20: at most 19 children; Slurm's own tasks may vary by one or two.
    assertTrue "forks refused past the limit (forked '$forked')" "[[ -n '$forked' && $forked -le $((19 + spare)) && $forked -ge 14 ]]"
    assertTrue "refusals seen by the analysis ('$failed')" "[[ -n '$failed' && $failed -ge $((81 - spare)) ]]"
    assertEquals "slurm_tasks_limit" exact "$(record_field pids-exact '["slurm_tasks_limit"]')"
    assertEquals "limits.tasks_max" 20 "$(record_field pids-exact '["limits"]["tasks_max"]')"
    assertTrue "tasks_limit_hits from pids.events" "[[ $(record_field pids-exact '["usage"]["tasks_limit_hits"]') -ge $((81 - spare)) ]]"
    assertNotContains "notes: an exact limit needs no word" "$(cat "$ERR")" "enforced"
    assertContains "notes: where it ran" "$(cat "$ERR")" "It ran as Slurm job $job on node"
    assertContains "notes: the refused forks" "$(cat "$ERR")" "It hit the limit of 20 tasks"
    # What slurmd gave the Prolog (node/prolog keeps it): the comment, without asking slurmctld.
    local files=("$SLURM_CONTROL/prolog-env-$job-"*)
    env_file=${files[0]}
    e2e_note "Prolog environment of job $job: $(grep -E '^SLURM_(JOB_COMMENT|JOB_WORK_DIR|JOB_NAME|SCRIPT_CONTEXT)=' "$env_file" | paste -sd' ')"
    assertContains "the Prolog had the job's comment" "$(cat "$env_file")" "SLURM_JOB_COMMENT=analysis-sandbox:tasks=20"
}

# Without the Prolog the runner counts the analysis' tasks and stops it past the limit.
testTasksBestEffortWithoutProlog() {
    touch "$SLURM_CONTROL/prolog-off"
    printf '%s\n' "$FORKER" >"$SLURM_WORK/forker.py"
    run_alice --backend=slurm -p slurmlimits --tasks=20 --id=pids-best -- python3 "$SLURM_WORK/forker.py" 30
    e2e_note "--tasks=20 without the Prolog: status $RC, $(cat "$OUT"); runtime $(record_field pids-best '["usage"]["runtime_sec"]') s"
    assertEquals "status: killed (stderr: $(cat "$ERR"))" 137 "$RC"
    assertEquals "slurm_tasks_limit" best-effort "$(record_field pids-best '["slurm_tasks_limit"]')"
    assertEquals "result" signal "$(record_field pids-best '["result"]')"
    assertEquals "signal" KILL "$(record_field pids-best '["signal"]')"
    assertEquals "tasks_limit_hits" 1 "$(record_field pids-best '["usage"]["tasks_limit_hits"]')"
    assertTrue "stopped long before its children's 30 s" \
        "python3 -c 'import sys; sys.exit(not $(record_field pids-best '["usage"]["runtime_sec"]') < 20)'"
    assertContains "notes: stopped" "$(cat "$ERR")" "It was stopped on going past its limit of 20 tasks"
    assertContains "notes: best effort" "$(cat "$ERR")" "its limit of 20 tasks was enforced only best effort"

    # Below the limit nothing is stopped.
    run_alice --backend=slurm -p slurmlimits --tasks=20 --id=pids-below -- sh -c 'for i in 1 2 3 4 5; do sleep 2 & done; wait; echo done'
    assertEquals "below the limit: status (stderr: $(cat "$ERR"))" 0 "$RC"
    assertEquals "below the limit: stdout" "done" "$(cat "$OUT")"
    assertEquals "below the limit: tasks_limit_hits" 0 "$(record_field pids-below '["usage"]["tasks_limit_hits"]')"
    assertEquals "below the limit: slurm_tasks_limit" best-effort "$(record_field pids-below '["slurm_tasks_limit"]')"
}

# Ctrl-C while the job waits for a node: Slurm cancels it and analysis-run writes its record.
testCancelWhilePending() {
    local b1 b2 job state rc
    b1=$(block_node n1)
    b2=$(block_node n2)
    start_alice pend --backend=slurm -p slurmlimits --id=pend1 -- sh -c 'echo ran'
    job=$(job_of pend1 30)
    sleep 2
    state=$(slurm_job_field "$job" JobState)
    assertEquals "job $job pends while both nodes are busy" PENDING "$state"
    kill -INT "$BG_PID"
    wait "$BG_JOB"
    rc=$?
    scancel "$b1" "$b2"
    e2e_note "cancel while pending: status $rc; job $job $(slurm_job_field "$job" JobState)"
    assertEquals "status: 130 (stderr: $(cat "$SHUNIT_TMPDIR/pend.err"))" 130 "$rc"
    assertEquals "result" cancelled "$(record_field pend1 '["result"]')"
    assertEquals "started_at: never" null "$(record_field pend1 '["started_at"]')"
    assertEquals "error: none" null "$(record_field pend1 '["error"]')"
    assertEquals "slurm_job_id" "$job" "$(record_field pend1 '["slurm_job_id"]')"
    assertEquals "Slurm: the job is cancelled" CANCELLED "$(slurm_job_field "$job" JobState)"
    assertEquals "it never ran" "" "$(cat "$SHUNIT_TMPDIR/pend.out")"
    assertContains "notes" "$(cat "$SHUNIT_TMPDIR/pend.err")" "Cancelled: stopped on request. It was cancelled while Slurm job $job was still pending."
}

# SIGTERM while it runs: the runner stops the analysis gracefully (TERM first) and records it cancelled.
testCancelWhileRunning() {
    local job rc
    start_alice runc --backend=slurm -p slurmlimits --timeout=90s --id=run1 -- \
        sh -c 'trap "echo got TERM; exit 7" TERM; echo started; while :; do sleep 0.2; done'
    for _ in $(seq 1 300); do
        grep -q started "$SHUNIT_TMPDIR/runc.out" 2>/dev/null && break
        sleep 0.2
    done
    assertContains "it runs" "$(cat "$SHUNIT_TMPDIR/runc.out")" started
    job=$(job_of run1 5)
    kill -TERM "$BG_PID"
    wait "$BG_JOB"
    rc=$?
    e2e_note "cancel while running: status $rc, runtime $(record_field run1 '["usage"]["runtime_sec"]') s"
    assertEquals "status: 143 (stderr: $(cat "$SHUNIT_TMPDIR/runc.err"))" 143 "$rc"
    assertEquals "result" cancelled "$(record_field run1 '["result"]')"
    assertEquals "stopped gracefully: its TERM trap ran" "started
got TERM" "$(cat "$SHUNIT_TMPDIR/runc.out")"
    assertEquals "exit_status of its trap" 7 "$(record_field run1 '["exit_status"]')"
    assertContains "notes" "$(cat "$SHUNIT_TMPDIR/runc.err")" "Cancelled: stopped on request"
    assertNotEquals "started_at" null "$(record_field run1 '["started_at"]')"
    slurm_wait_job "$job" 30
    assertEquals "Slurm: the job completed (the runner ended it)" COMPLETED "$(slurm_job_field "$job" JobState)"
}

# The share mounted on the submitting side with NFS's default options (negative lookup cache, acdirmin 30 s):
# the record written on n2 is still seen within seconds.
testWaiterUnderDefaultNfsOptions() {
    local blocker end mtime delay dir=$DEFAULTS_MOUNT/backend/$ALICE_UID
    mkdir -p "$DEFAULTS_MOUNT"
    mount -t nfs -o vers=4.2,nosharecache n1:/export/analysis-sandbox "$DEFAULTS_MOUNT"
    assertEquals "default mount: lookupcache" "" "$(grep " $DEFAULTS_MOUNT " /proc/mounts | grep -o 'lookupcache=[a-z]*')"
    write_conf '[Slurm]' "SharedDirectory=$DEFAULTS_MOUNT/backend"
    blocker=$(block_node n1)
    run_alice --backend=slurm -p slurmlimits --id=nfs1 -- sh -c 'sleep 3; echo written'
    end=$(date +%s.%N)
    scancel "$blocker"
    assertEquals "status (stderr: $(cat "$ERR"))" 0 "$RC"
    assertEquals "stdout" written "$(cat "$OUT")"
    assertEquals "ran on n2" n2 "$(record_field nfs1 '["node"]' "$dir")"
    mtime=$(python3 -c 'import os, sys; print("%.3f" % os.stat(sys.argv[1]).st_mtime)' "$dir/nfs1.json")
    delay=$(slurm_diff "$mtime" "$end")
    e2e_note "record written on n2, seen through a default-options mount after $delay s"
    assertTrue "record seen within 5 s of its writing ($delay s)" "python3 -c 'import sys; sys.exit(not $delay < 5)'"
    umount "$DEFAULTS_MOUNT"
}

# --copy-workdir: the job runs in a copy of the caller's directory in ID.output; what it wrote comes back.
testCopyWorkdir() {
    local wd=$SLURM_WORK/copywd
    rm -rf "$wd"
    as_user mkdir -p "$wd"
    echo input-data | as_user tee "$wd/input.txt" >/dev/null
    OUT=$SHUNIT_TMPDIR/out ERR=$SHUNIT_TMPDIR/err
    (cd "$wd" && runuser -u "$SLURM_USER" -- analysis-run --backend=slurm -p slurmlimits --copy-workdir --id=copy1 -- \
        sh -c 'cat input.txt; pwd; echo result >out.txt' >"$OUT" 2>"$ERR")
    RC=$?
    assertEquals "status (stderr: $(cat "$ERR"))" 0 "$RC"
    assertEquals "stdout: the input, and where it ran" "input-data
$USER_DIR/copy1.output" "$(cat "$OUT")"
    assertEquals "out.txt copied back" result "$(cat "$wd/out.txt" 2>&1)"
    assertEquals "out.txt: the caller's" alice "$(stat -c %U "$wd/out.txt")"
}

testUserRefused() {
    run_alice --backend=slurm --user -p slurmlimits --id=user1 -- /bin/true
    assertEquals "status" 64 "$RC"
    assertContains "message" "$(cat "$ERR")" "--user has no meaning there"
    assertFalse "nothing submitted" "[[ -e $USER_DIR/user1 ]]"
}

# Disk= bounds no directory on the share: the record says null, the notes say so.
testDiskNotEnforced() {
    run_alice --backend=slurm -p slurmlimits --id=disk1 -- sh -c 'head -c 2M /dev/zero >"$ANALYSIS_OUTPUT_DIR/f"'
    assertEquals "status (stderr: $(cat "$ERR"))" 0 "$RC"
    assertEquals "limits.disk_max" null "$(record_field disk1 '["limits"]["disk_max"]')"
    assertEquals "profile_limits.disk_max" 10485760 "$(record_field disk1 '["profile_limits"]["disk_max"]')"
    assertEquals "disk_used" 2097152 "$(record_field disk1 '["usage"]["disk_used"]')"
    assertContains "notes" "$(cat "$ERR")" "its output directory was not bounded by Disk= (10.0 MiB): Slurm cannot enforce it"
}

# Two analyses that each need a whole node (CPU=100%: the node's one CPU) run at once on the two nodes.
testWholeNodeAnalysesOnDifferentNodes() {
    local rc1 rc2 n1 n2
    start_alice whole1 --backend=slurm -p slurmlimits --id=whole1 -- sh -c 'sleep 10; hostname'
    local j1=$BG_JOB
    start_alice whole2 --backend=slurm -p slurmlimits --id=whole2 -- sh -c 'sleep 10; hostname'
    local j2=$BG_JOB
    wait "$j1"
    rc1=$?
    wait "$j2"
    rc2=$?
    assertEquals "first: status (stderr: $(cat "$SHUNIT_TMPDIR/whole1.err"))" 0 "$rc1"
    assertEquals "second: status (stderr: $(cat "$SHUNIT_TMPDIR/whole2.err"))" 0 "$rc2"
    n1=$(record_field whole1 '["node"]')
    n2=$(record_field whole2 '["node"]')
    e2e_note "whole-node analyses on $n1 and $n2"
    assertNotEquals "on different nodes" "$n1" "$n2"
    assertEquals "first: its node's name" "$n1" "$(cat "$SHUNIT_TMPDIR/whole1.out")"
    assertEquals "second: its node's name" "$n2" "$(cat "$SHUNIT_TMPDIR/whole2.out")"
    assertTrue "they overlapped in time" "python3 -c '
import json, sys
a = json.load(open(\"$USER_DIR/whole1.json\")); b = json.load(open(\"$USER_DIR/whole2.json\"))
sys.exit(not (a[\"started_at\"] < b[\"finished_at\"] and b[\"started_at\"] < a[\"finished_at\"]))'"
}

# The same analysis on both backends: every field they share has the same value, except those that name the
# run itself (id, paths, times, usage figures) and those Slurm cannot hold (Disk=).
testRecordValuesMatchLocal() {
    local diff
    analysis-run -q -p slurmlimits --tasks=30 --memory=200M --id=values-local --notes-file="$SHUNIT_TMPDIR/local.json" -- sh -c 'exit 3'
    assertEquals "local run: status" 3 "$?"
    run_alice --backend=slurm -q -p slurmlimits --tasks=30 --memory=200M --id=values-slurm -- sh -c 'exit 3'
    assertEquals "slurm run: status (stderr: $(cat "$ERR"))" 3 "$RC"
    diff=$(python3 - "$SHUNIT_TMPDIR/local.json" "$USER_DIR/values-slurm.json" <<'EOF'
import json, sys
local, slurm = (json.load(open(p)) for p in sys.argv[1:])
# Differ by nature: the run's own names, paths and times, the caller (root here, alice there), measured usage,
# the backend's own fields, and the limits only a service manager enforces (Disk=: null on Slurm).
skip = {"id", "unit", "invocation_id", "isolation", "slurm_job_id", "node", "slurm_tasks_limit", "started_at",
        "finished_at", "output_dir", "stdout_file", "stderr_file", "notes", "caller_uid", "usage", "stderr_tail",
        "samples"}
def flat(v, p=""):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from flat(x, p + "." + k if p else k)
    else:
        yield p, v
a, b = dict(flat(local)), dict(flat(slurm))
out = []
for k in sorted(set(a) | set(b)):
    if k.split(".")[0] in skip or k == "limits.disk_max":
        continue
    if a.get(k, "<missing>") != b.get(k, "<missing>"):
        out.append("%s: local %r, slurm %r" % (k, a.get(k, "<missing>"), b.get(k, "<missing>")))
print("; ".join(out))
EOF
)
    assertEquals "fields that differ" "" "$diff"
    assertEquals "usage has the same keys" \
        "$(python3 -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))["usage"]))' "$SHUNIT_TMPDIR/local.json")" \
        "$(python3 -c 'import json,sys; print(sorted(json.load(open(sys.argv[1]))["usage"]))' "$USER_DIR/values-slurm.json")"
}

oneTimeTearDown() {
    rm -f "$CONF" /etc/analysis-sandbox/profiles/slurmlimits.ini "$SLURM_CONTROL/prolog-off"
    umount "$DEFAULTS_MOUNT" 2>/dev/null
    true
}

. shunit2
