#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): misbehaving analyses leave a service outside analysis.slice running and responsive.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CANARY=e2e-canary.service
PORT=7357

oneTimeSetUp() {
    systemd-run --quiet --unit="$CANARY" --property=Type=exec /usr/bin/python3 "$E2E_ANALYSES/canary.py" serve "$PORT"
    # Ready once it answers.
    local i
    for ((i = 0; i < 50; i++)); do
        probe 0.1 >/dev/null 2>&1 && break
        sleep 0.2
    done
}

oneTimeTearDown() {
    systemctl stop "$CANARY" 2>/dev/null
    # Fails when the canary did not fail: nothing to reset then.
    systemctl reset-failed "$CANARY" 2>/dev/null
    return 0
}

probe() {
    python3 "$E2E_ANALYSES/canary.py" probe "$PORT" "$1"
}

stress_profile() {
    local exec=$1 memory=$2 cpu=$3 tasks=$4
    cat <<EOF
[Profile]
Description=Misbehaving analyses of the end-to-end tests
User=analysis-sandbox
Exec=$exec
[Limits]
Memory=$memory
CPU=$cpu
Tasks=$tasks
Runtime=2min
KillGrace=3s
EOF
}

testCanaryIsOutsideAnalysisSlice() {
    assertEquals "$CANARY: ActiveState" active "$(e2e_prop "$CANARY" ActiveState)"
    assertEquals "$CANARY: Slice" system.slice "$(e2e_prop "$CANARY" Slice)"
}

# A memory hog that is OOM-killed again and again, a fork bomb at its PID limit and two busy loops,
# all at once in analysis.slice, while the canary is pinged.
testCanaryResponsiveWhileAnalysesMisbehave() {
    local before during pid count lost max median i unit
    before=$(probe 3)
    read -r count lost max median <<<"$before"
    e2e_note "canary before: $count pings, $lost lost, max ${max} ms, median ${median} ms"
    assertEquals "canary pings lost before the stress (count lost max median: $before)" 0 "$lost"
    pid=$(e2e_prop "$CANARY" MainPID)

    e2e_write_profile e2estresshog "$(stress_profile "/usr/bin/python3 $E2E_ANALYSES/hog.py" 64M 100% 20)"
    e2e_write_profile e2estressbomb "$(stress_profile "/usr/bin/python3 $E2E_ANALYSES/forkbomb.py" 256M 100% 32)"
    e2e_write_profile e2estressburn "$(stress_profile "/usr/bin/python3 $E2E_ANALYSES/burn.py" 64M 100% 8)"
    e2e_start analysis-e2estressbomb@s.service
    e2e_start analysis-e2estressburn@s.service
    for i in 1 2 3; do
        e2e_start "analysis-e2estresshog@s$i.service"
    done
    during=$(probe 8)
    read -r count lost max median <<<"$during"
    e2e_note "canary during: $count pings, $lost lost, max ${max} ms, median ${median} ms"

    for i in 1 2 3; do
        unit=analysis-e2estresshog@s$i.service
        e2e_wait_inactive "$unit" 30
        assertEquals "$unit: Result" oom-kill "$(e2e_prop "$unit" Result)"
    done
    assertEquals "analysis-e2estressbomb@s.service: ActiveState" active "$(e2e_prop analysis-e2estressbomb@s.service ActiveState)"
    assertEquals "analysis-e2estressburn@s.service: ActiveState" active "$(e2e_prop analysis-e2estressburn@s.service ActiveState)"

    assertEquals "$CANARY after the stress: ActiveState" active "$(e2e_prop "$CANARY" ActiveState)"
    assertEquals "$CANARY after the stress: MainPID (restarted?)" "$pid" "$(e2e_prop "$CANARY" MainPID)"
    assertEquals "canary pings lost during the stress (count lost max median: $during)" 0 "$lost"
    assertTrue "canary answered no ping during the stress ($during)" "[ '$count' -gt 20 ]"
    # Under software emulation a ping normally takes a few ms; a canary starved by the analyses
    # would take seconds.
    assertTrue "canary's slowest answer during the stress took ${max} ms (limit 1000 ms)" \
        "awk -v m='$max' 'BEGIN { exit !(m >= 0 && m < 1000) }'"
}

. shunit2
