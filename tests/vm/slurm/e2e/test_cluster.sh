#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Slurm test cluster (on n1): the two-node cluster works as the Slurm backend needs it to.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

oneTimeSetUp() {
    slurm_make_work
}

testBothNodesIdle() {
    local states
    states=$(sinfo -h -N -o '%N %t' | sort -u | paste -sd' ')
    assertEquals "sinfo -N: node states" "n1 idle n2 idle" "$states"
    assertEquals "n1: cgroup v2 task plugin" "cgroup/v2" "$(scontrol show config | sed -n 's/^CgroupPlugin *= *//p')"
}

testProjectInstalledOnBothNodes() {
    local out
    out=$(as_user srun -N2 sh -c 'analysis-run --help >/dev/null && analysisctl --help >/dev/null && hostname' 2>&1)
    assertEquals "analysis-run and analysisctl run on both nodes ($out)" "n1 n2" "$(echo "$out" | sort | paste -sd' ')"
}

testSrunRunsOnBothNodes() {
    local out rc
    out=$(as_user srun -N2 hostname 2>"$SHUNIT_TMPDIR/err")
    rc=$?
    assertEquals "srun -N2 hostname: status (stderr: $(cat "$SHUNIT_TMPDIR/err"))" 0 "$rc"
    assertEquals "srun -N2 hostname: hosts" "n1 n2" "$(echo "$out" | sort | paste -sd' ')"
}

# The NFS share is what carries records and output from the node to the submitting host.
testBatchJobOnN2WritesShareN1Reads() {
    local id rc file=$SLURM_WORK/written-on-n2
    rm -f "$file"
    id=$(as_user sbatch --parsable --wait -w n2 -o /dev/null --wrap "hostname >$file.tmp && mv $file.tmp $file")
    rc=$?
    assertEquals "sbatch --wait -w n2: status" 0 "$rc"
    # sbatch --wait returns once the job's processes have ended; the controller may still say COMPLETING
    # (the epilog and the node's release) for a moment: its final state is what is checked.
    slurm_wait_job "$id" 30
    assertEquals "job $id: JobState" COMPLETED "$(slurm_job_field "$id" JobState)"
    assertEquals "job $id: NodeList" n2 "$(slurm_job_field "$id" NodeList)"
    assertEquals "$file read on n1" n2 "$(cat "$file" 2>&1)"
    assertEquals "$file owner" "$SLURM_USER" "$(stat -c %U "$file" 2>&1)"
}

# A job that breaches --mem is OOM-killed by the kernel in its cgroup, and Slurm says so even though
# the batch script itself exits 0.
testMemLimitOomIsOutOfMemory() {
    local id rc
    id=$(as_user sbatch --parsable --wait -w n2 --mem=60M -o "$SLURM_WORK/oom-%j.out" \
        --wrap 'head -c 300M /dev/zero | tail; exit 0')
    rc=$?
    e2e_note "sbatch --wait of the OOM job: status $rc"
    assertEquals "job $id: JobState" OUT_OF_MEMORY "$(slurm_job_field "$id" JobState)"
    assertEquals "job $id: ExitCode" 0:125 "$(slurm_job_field "$id" ExitCode)"
    assertContains "jobcomp record of job $id" "$(grep "JobId=$id " /var/log/slurm/jobcomp.log)" "JobState=OUT_OF_MEMORY"
}

# What the runner inside the job must read for an exact record: the job's and the step's memory.peak,
# memory.events and cpu.stat, from inside, as the job's user.
testCgroupFilesReadableInJob() {
    local out
    out=$(as_user srun -w n2 --mem=100M bash -c '
        cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)
        echo "self $cg"
        d=$cg
        while [[ $d == */*_slurmstepd.scope/* ]]; do
            level=$(basename "$d")
            for f in memory.peak memory.events cpu.stat memory.max pids.current pids.max; do
                if v=$(head -n1 "$d/$f" 2>/dev/null); then
                    echo "$level $f readable: $v"
                else
                    echo "$level $f unreadable"
                fi
            done
            echo "$level controllers: $(cat "$d/cgroup.controllers")"
            d=$(dirname "$d")
        done' 2>&1)
    echo "$out"
    local job step
    job=$(echo "$out" | sed -n 's/^\(job_[0-9]*\) .*/\1/p' | head -n1)
    step=$(echo "$out" | sed -n 's/^\(step_[0-9]*\) .*/\1/p' | head -n1)
    assertNotNull "a job_ID level above the task's cgroup ($out)" "$job"
    assertNotNull "a step_N level above the task's cgroup ($out)" "$step"
    local level f
    for level in "$job" "$step"; do
        for f in memory.peak memory.events cpu.stat; do
            assertContains "$level/$f readable from inside the job" "$out" "$level $f readable"
        done
    done
    assertContains "the --mem (100M) as memory.max at some level" "$out" "memory.max readable: 104857600"
    e2e_note "job cgroup: $(echo "$out" | grep "^$job controllers")"
    e2e_note "pids files: $(echo "$out" | grep ' pids\.' | paste -sd';')"
}

. shunit2
