#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Slurm test cluster (on n1): n2 powered off in the middle of a job. Runs last: n2 does not come back.
#
# n2 powers itself off at once (sysrq "o": no shutdown, no word to slurmctld) when n1 writes "crash"
# into the control file it polls every second. Measured: when slurmctld notices (node state), and
# what becomes of the job, with the run's SlurmdTimeout.
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

oneTimeSetUp() {
    slurm_make_work
}

testNodePoweredOffMidJob() {
    local id t0 t state node_state last_node='' last_job='' timeline=() timeout
    timeout=$(scontrol show config | sed -n 's/^SlurmdTimeout *= *\([0-9]*\).*/\1/p')
    id=$(as_user sbatch --parsable --no-requeue -w n2 -o "$SLURM_WORK/crash-%j.out" --wrap 'sleep 600')
    assertTrue "job $id is not running" "slurm_wait_running $id 60"
    sleep 2
    t0=$(slurm_now)
    echo crash >"$SLURM_CONTROL/n2.command"
    while :; do
        t=$(slurm_diff "$t0" "$(slurm_now)")
        node_state=$(slurm_node_field State n2)
        state=$(slurm_job_field "$id" JobState)
        if [[ $node_state != "$last_node" ]]; then
            timeline+=("${t}s node $node_state")
            last_node=$node_state
        fi
        if [[ $state != "$last_job" ]]; then
            timeline+=("${t}s job $state")
            last_job=$state
        fi
        [[ $state != RUNNING && $state != COMPLETING && $node_state == DOWN* ]] && break
        if awk -v t="$t" -v m="$((timeout * 6 + 120))" 'BEGIN { exit !(t > m) }'; then
            break
        fi
        sleep 0.5
    done
    e2e_note "SlurmdTimeout=${timeout}s; after n1 said crash: $(printf '%s; ' "${timeline[@]}")"
    e2e_note "job $id: JobState=$(slurm_job_field "$id" JobState) Reason=$(slurm_job_field "$id" Reason) ExitCode=$(slurm_job_field "$id" ExitCode); n2: Reason=$(scontrol -o show node n2 | sed -n 's/.* Reason=\(.*\)/\1/p')"
    e2e_note "jobcomp: $(grep "JobId=$id " /var/log/slurm/jobcomp.log | grep -o 'JobState=[^ ]*')"
    assertEquals "job $id: JobState after n2 died" NODE_FAIL "$(slurm_job_field "$id" JobState)"
    assertContains "n2: State after it died" "$(slurm_node_field State n2)" DOWN
}

. shunit2
