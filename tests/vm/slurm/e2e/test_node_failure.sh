#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Slurm test cluster (on n1): n2 powered off in the middle of an analysis. Runs last: n2 does not come back.
#
# n2 powers itself off at once (sysrq "o": no shutdown, no word to slurmctld) when n1 writes "crash"
# into the control file it polls every second. Measured: when slurmctld notices (node state), and
# what becomes of the job, with the run's SlurmdTimeout.
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

SHARED=$SLURM_SHARE/backend
CONF=/etc/analysis-sandbox/analysis-sandbox.conf.d/50-slurm.conf
USER_DIR=$SHARED/2001

oneTimeSetUp() {
    slurm_make_work
    mkdir -p "$SHARED" "$(dirname "$CONF")" /etc/analysis-sandbox/profiles
    chmod 1777 "$SHARED"
    printf '%s\n' '[Slurm]' "SharedDirectory=$SHARED" >"$CONF"
    printf '%s\n' '[Profile]' 'Description=node failure' '[Limits]' 'Memory=200M' 'CPU=100%' 'Tasks=64' 'Runtime=30min' >/etc/analysis-sandbox/profiles/slurmcrash.ini
    systemctl daemon-reload
}

# The analysis runs through analysis-run on n2 (n1 is busy with a blocker); n2 dies; analysis-run ends with
# a record saying its node stopped under it (the job ended as NODE_FAIL, from squeue, asked about once a
# minute), exit status 71.
testNodePoweredOffMidJob() {
    local id t0 t state node_state last_node='' last_job='' timeline=() timeout blocker pid rc=''
    timeout=$(scontrol show config | sed -n 's/^SlurmdTimeout *= *\([0-9]*\).*/\1/p')
    blocker=$(as_user sbatch --parsable -w n1 -o /dev/null --wrap 'sleep 600')
    slurm_wait_running "$blocker" 60
    (cd "$SLURM_WORK" && runuser -u "$SLURM_USER" -- analysis-run --backend=slurm -p slurmcrash --id=crash1 -- sleep 600 \
        >"$SHUNIT_TMPDIR/crash.out" 2>"$SHUNIT_TMPDIR/crash.err") &
    pid=$!
    for _ in $(seq 1 150); do
        id=$(cat "$USER_DIR/crash1/job" 2>/dev/null)
        [[ -n $id ]] && break
        sleep 0.2
    done
    assertTrue "job $id is not running" "slurm_wait_running $id 60"
    assertEquals "job $id runs on n2" n2 "$(slurm_job_field "$id" NodeList)"
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

    # analysis-run: squeue a minute after the submission, then 15 s for a record that may still come.
    for _ in $(seq 1 240); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        rc=$?
    fi
    e2e_note "analysis-run after n1 said crash: $(slurm_diff "$t0" "$(slurm_now)") s, status ${rc:-still running}"
    # As for a host that stopped under a unit: result host-stopped, an exit status of its own (71).
    assertEquals "analysis-run's status (stderr: $(cat "$SHUNIT_TMPDIR/crash.err"))" 71 "$rc"
    assertEquals "the record's result" host-stopped "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"])' "$USER_DIR/crash1.json" 2>&1)"
    assertEquals "written in the job's place" host-stopped "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reconstructed"])' "$USER_DIR/crash1.json" 2>&1)"
    assertEquals "the record names the node" n2 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["node"])' "$USER_DIR/crash1.json" 2>&1)"
    assertContains "notes" "$(cat "$SHUNIT_TMPDIR/crash.err")" "Lost: its node n2 stopped while the analysis ran (Slurm: NODE_FAIL)"
    scancel "$blocker"
}

oneTimeTearDown() {
    rm -f "$CONF" /etc/analysis-sandbox/profiles/slurmcrash.ini
}

. shunit2
