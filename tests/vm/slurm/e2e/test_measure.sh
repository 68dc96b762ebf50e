#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Slurm test cluster (on n1): the measurements issue 12 asks for, each a test that also checks what it measures.
#
# PID limit by a root Prolog and best-effort from inside the job, the cost of sbatch --wait and srun,
# how soon n1 sees a record file written on n2 under several NFS mount options, and the controller
# RPCs of one sbatch, squeue and scancel. Numbers go to the results as notes ("# test: ...").
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

oneTimeSetUp() {
    slurm_make_work
}

e2e_tear_down() {
    : >"$SLURM_CONTROL/pids-max"
}

# A job that forks up to 100 children (each sleeps) and reports how many forks succeeded, then reads
# its job cgroup's pids files.
FORKER='
import os, signal, sys, time
job = "/sys/fs/cgroup" + open("/proc/self/cgroup").read().split(":", 2)[2].strip()
while not os.path.basename(job).startswith("job_"):
    job = os.path.dirname(job)
def read(name):
    try:
        return open(os.path.join(job, name)).read().strip().replace("\n", ",")
    except OSError as e:
        return "unreadable (%s)" % e.strerror
print("pids.max", read("pids.max"))
children, failed = [], 0
for i in range(100):
    try:
        pid = os.fork()
    except OSError as e:
        failed += 1
        continue
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    children.append(pid)
print("forked", len(children), "failed", failed)
print("pids.current", read("pids.current"))
print("pids.peak", read("pids.peak"))
print("pids.events", read("pids.events"))
# Which of the tasks counted against the job limit are the analysis: Slurm keeps its own
# (slurmstepd, the sleep of the extern step) in step_*/slurm and step_extern.
for root, dirs, files in sorted(os.walk(job)):
    if not dirs:
        n = len(open(os.path.join(root, "cgroup.threads")).read().split())
        print("threads", os.path.relpath(root, job), n)
for pid in children:
    os.kill(pid, signal.SIGKILL)
for pid in children:
    os.waitpid(pid, 0)
'

# (b) The best-effort way: without the Prolog, what the job can count of its own tasks. (Runs before
# the Prolog test: once a Prolog enabled pids on the node's slurmstepd scope, every later job there
# has pids.current.)
testBestEffortTaskCountInsideJob() {
    local out
    out=$(as_user srun -w n2 bash -c '
        for i in 1 2 3 4 5; do sleep 20 & done
        cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)
        job=$cg
        while [[ $(basename "$job") != job_* ]]; do job=$(dirname "$job"); done
        echo "tasks: $(find "$job" -name cgroup.procs -exec cat {} + | wc -l)"
        echo "threads: $(find "$job" -name cgroup.threads -exec cat {} + | wc -l)"
        # Slurm keeps its own processes in step_*/slurm and step_extern; the job'"'"'s are under step_*/user.
        echo "user tasks: $(find "$job"/step_*/user -name cgroup.procs -exec cat {} + | wc -l)"
        echo "user threads: $(find "$job"/step_*/user -name cgroup.threads -exec cat {} + | wc -l)"
        for f in pids.current pids.max cgroup.stat; do
            echo "$f: $(tr "\n" " " <"$job/$f" 2>&1)"
        done
        kill $(jobs -p)' 2>&1)
    echo "$out"
    local tasks
    tasks=$(echo "$out" | sed -n 's/^tasks: //p')
    # The 5 sleeps and the bash, and the pipeline doing the counting: at least 6.
    tasks=$(echo "$out" | sed -n 's/^user tasks: //p')
    assertTrue "the job's own tasks, counted in its step_*/user cgroup.procs files: '$tasks' ($out)" "[ '${tasks:-0}' -ge 6 ]"
    e2e_note "inside the job: $(echo "$out" | paste -sd';')"
}

# (a) The exact way: a root Prolog (PrologFlags=Contain) enables the pids controller on the job's
# cgroup and writes pids.max; the kernel then refuses forks beyond it.
testPrologPidsMaxStopsForkBomb() {
    local id out log limit=20
    # Slurm 23.02 and later keep about 15 threads per step in the job (22.05: 4): with 20, slurmstepd's own
    # pthread_create is refused and the job hangs (measured on 24.11). --time ends a job that hangs all the same.
    [[ $(sinfo -V) == *\ 2[0-2].* ]] || limit=50
    echo "$limit" >"$SLURM_CONTROL/pids-max"
    printf '%s\n' "$FORKER" >"$SLURM_WORK/forker.py"
    id=$(as_user sbatch --parsable --wait --time=3 -w n2 -o "$SLURM_WORK/forker-%j.out" --wrap "python3 $SLURM_WORK/forker.py")
    out=$(cat "$SLURM_WORK/forker-$id.out" 2>&1)
    log=$(cat "$SLURM_CONTROL/prolog-$id-n2.log" 2>&1)
    echo "job output: $out"
    echo "prolog log: $log"
    assertEquals "job $id: JobState (Slurm took the cgroup the Prolog made)" COMPLETED "$(slurm_job_field "$id" JobState)"
    assertContains "Prolog log of job $id" "$log" "pids.max written: $limit"
    assertContains "job $id sees pids.max" "$out" "pids.max $limit"
    assertNotContains "job $id: every fork succeeded despite pids.max=$limit" "$out" "forked 100 failed 0"
    assertContains "job $id: pids.events counts the refusals" "$out" "pids.events max "
    assertNotContains "job $id: pids.events max is 0" "$out" "pids.events max 0"
    e2e_note "Prolog: $(echo "$log" | grep -E 'at Prolog time|subtree_control|pids.max' | paste -sd';')"
    e2e_note "job with pids.max=$limit: $(echo "$out" | grep -E '^(forked|pids|threads)' | paste -sd';')"
}

# (c) What one sbatch --wait and one srun of /bin/true cost, seen by the user.
testCostOfTrivialJobs() {
    local i t0 t1 sb=() sr=()
    for i in 1 2 3; do
        t0=$(slurm_now)
        as_user sbatch --wait -o /dev/null --wrap /bin/true >/dev/null
        assertEquals "sbatch --wait /bin/true: status" 0 $?
        t1=$(slurm_now)
        sb+=("$(slurm_diff "$t0" "$t1")")
        t0=$(slurm_now)
        as_user srun /bin/true
        assertEquals "srun /bin/true: status" 0 $?
        t1=$(slurm_now)
        sr+=("$(slurm_diff "$t0" "$t1")")
    done
    e2e_note "sbatch --wait /bin/true: ${sb[*]} s"
    e2e_note "srun /bin/true: ${sr[*]} s"
    t0=$(slurm_now)
    as_user srun -w n2 /bin/true
    t1=$(slurm_now)
    e2e_note "srun -w n2 /bin/true: $(slurm_diff "$t0" "$t1") s"
}

# Polls MOUNT/alice/NAME with stat every 0.1 s until it exists (at most 120 s) and prints how long
# after its mtime (set by the NFS server, n1: the same clock) n1 saw it.
POLLER='
import os, sys, time
path = sys.argv[1]
deadline = time.time() + 120
while time.time() < deadline:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        time.sleep(0.1)
        continue
    print("%.2f" % (time.time() - st.st_mtime_ns / 1e9))
    sys.exit(0)
print("never")
'

# (c) A job on n2 writes a record file (temp file + rename); n1 waits for it with stat polling under
# several mount options of the same export (nosharecache: a mount of its own, options and caches). All
# option sets watch the same file of one job at once, each through its own mount: two jobs in all, not
# two per option set.
testRecordFileSeenFromN1() {
    local opts name id k results=() pollers=()
    local -a options=("vers=4.2" "vers=4.2,lookupcache=positive" "vers=4.2,actimeo=1" "vers=4.2,lookupcache=none")
    local -a seen=()
    for k in "${!options[@]}"; do
        mkdir -p "/mnt/nfs-probe-$k"
        umount "/mnt/nfs-probe-$k" 2>/dev/null
        mount -t nfs -o "${options[$k]},nosharecache" n1:/export/analysis-sandbox "/mnt/nfs-probe-$k"
        assertEquals "mount -o ${options[$k]}" 0 $?
    done
    for _ in 1 2; do
        name=record-$RANDOM.json
        # The polls start (and cache "not there") before the job writes.
        pollers=()
        for k in "${!options[@]}"; do
            python3 -c "$POLLER" "/mnt/nfs-probe-$k/alice/$name" >"$SHUNIT_TMPDIR/seen-$k" &
            pollers+=($!)
        done
        sleep 1
        id=$(as_user sbatch --parsable -w n2 -o /dev/null \
            --wrap "sleep 3; echo '{}' >$SLURM_WORK/.$name.tmp && mv $SLURM_WORK/.$name.tmp $SLURM_WORK/$name")
        wait "${pollers[@]}"
        for k in "${!options[@]}"; do
            seen[k]="${seen[k]:-}${seen[k]:+ }$(cat "$SHUNIT_TMPDIR/seen-$k")"
        done
        slurm_wait_job "$id" 60
    done
    for k in "${!options[@]}"; do
        opts=${options[$k]}
        results+=("$opts: ${seen[k]} s")
        assertNotContains "$opts: n1 never saw the record" "${seen[k]}" never
        umount "/mnt/nfs-probe-$k"
    done
    e2e_note "record written on n2 seen on n1 after (per mount options, 2 trials): $(printf '%s; ' "${results[@]}")"
}

# Prints "total=N": the RPCs sdiag counts for user USER since its last reset.
rpc_counts() {
    sdiag | awk -v u="$1" '
        /^Remote Procedure Call statistics by user/ { sec = 1; next }
        /^Pending RPC/                              { sec = 0 }
        sec && $1 == u { n = $0; sub(/.*count:/, "", n); sub(/ .*/, "", n); total = n }
        END { printf "total=%d", total }'
}

# Prints the RPCs by type that user USER made: sdiag by type counts every user, so the root's own
# sdiag calls (REQUEST_STATS_INFO) are left out.
rpc_types() {
    sdiag | awk '
        /^Remote Procedure Call statistics by message type/ { sec = 1; next }
        /^Remote Procedure Call statistics by user/         { sec = 0 }
        sec == 1 && /count:/ && $1 != "REQUEST_STATS_INFO" { n = $0; sub(/.*count:/, "", n); sub(/ .*/, "", n); printf "%s=%s ", $1, n }'
}

# (d) Controller RPCs of one sbatch, one squeue -u, one scancel, and one sbatch --wait, as sdiag
# counts them (reset before each; counted by user, so slurmd's own RPCs are apart).
testRpcCounts() {
    local id out
    sdiag -r >/dev/null
    id=$(as_user sbatch --parsable --begin=now+1hour -o /dev/null --wrap /bin/true)
    e2e_note "sbatch (held by --begin): user $(rpc_counts "$SLURM_USER"); $(rpc_types)"
    assertNotEquals "sdiag counts no RPC of $SLURM_USER after an sbatch" "total=0" "$(rpc_counts "$SLURM_USER")"
    sdiag -r >/dev/null
    as_user squeue -h -u "$SLURM_USER" >/dev/null
    e2e_note "squeue -u: user $(rpc_counts "$SLURM_USER"); $(rpc_types)"
    sdiag -r >/dev/null
    as_user scancel "$id"
    e2e_note "scancel: user $(rpc_counts "$SLURM_USER"); $(rpc_types)"
    sdiag -r >/dev/null
    out=$(as_user sbatch --wait -o /dev/null --wrap 'sleep 20')
    e2e_note "sbatch --wait of a 20 s job: user $(rpc_counts "$SLURM_USER"); all but sdiag: $(rpc_types)"
    sdiag -r >/dev/null
    as_user srun /bin/true
    e2e_note "srun /bin/true: user $(rpc_counts "$SLURM_USER"); all but sdiag: $(rpc_types)"
    : "$out"
}

. shunit2
