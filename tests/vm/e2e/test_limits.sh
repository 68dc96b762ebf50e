#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): an analysis runs with its profile's limits, and breaching one ends it the documented way.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The small profile every test here starts from; tests replace Exec= and the limits they probe. KillGrace=
# is the default, 10 s: it also bounds the recorder (ExecStopPost=), and on a busy emulated host 3 s was not
# always enough for it to write the record (analysis-recover then writes one without the cgroup's figures,
# which the fork bomb's test reads). Nothing here ignores SIGTERM, so no stop waits for it.
small_profile() {
    local exec=$1 runtime=${2:-1min}
    cat <<EOF
[Profile]
Description=Small profile of the end-to-end tests
User=analysis-sandbox
Exec=$exec
[Limits]
Memory=64M
CPU=50%
Tasks=20
Runtime=$runtime
KillGrace=10s
[Slice]
Memory=256M
CPU=100%
Tasks=200
EOF
}

testExecRunsAsProfileUserWithId() {
    local unit=analysis-e2ehello@run7.service out=$E2E_SCRATCH/out/hello-run7
    rm -f "$out"
    e2e_write_profile e2ehello "$(small_profile "/bin/sh -c \"id -un > $E2E_SCRATCH/out/hello-%i\"")"
    e2e_start "$unit"
    assertEquals "systemctl start $unit: status" 0 $?
    assertTrue "$unit did not end within 30 s" "e2e_wait_inactive $unit 30"
    assertTrue "$unit wrote no $out (%i not expanded, or Exec= not run)" "[ -s '$out' ]"
    assertEquals "account the analysis ran as" analysis-sandbox "$(cat "$out" 2>/dev/null)"
    assertEquals "$unit: Result" success "$(e2e_prop "$unit" Result)"
}

# The profile's [Limits] as systemd sees them and as the kernel enforces them.
testProfileLimitsInUnitAndCgroup() {
    local unit=analysis-e2esmall@limits.service cg slice_cg
    e2e_write_profile e2esmall "$(small_profile "/bin/sleep 60")"
    e2e_start "$unit"
    assertTrue "$unit is not active" "e2e_wait_active $unit 10"

    assertEquals "$unit: Slice" analysis-e2esmall.slice "$(e2e_prop "$unit" Slice)"
    assertEquals "$unit: MemoryMax (Memory=64M)" 67108864 "$(e2e_prop "$unit" MemoryMax)"
    assertEquals "$unit: MemorySwapMax" 0 "$(e2e_prop "$unit" MemorySwapMax)"
    assertEquals "$unit: CPUQuotaPerSecUSec (CPU=50%)" 500ms "$(e2e_prop "$unit" CPUQuotaPerSecUSec)"
    assertEquals "$unit: TasksMax (Tasks=20)" 20 "$(e2e_prop "$unit" TasksMax)"
    assertEquals "$unit: RuntimeMaxUSec (Runtime=1min)" 1min "$(e2e_prop "$unit" RuntimeMaxUSec)"
    assertEquals "$unit: TimeoutStopUSec (KillGrace=10s)" 10s "$(e2e_prop "$unit" TimeoutStopUSec)"
    assertEquals "$unit: KillMode" control-group "$(e2e_prop "$unit" KillMode)"
    assertEquals "$unit: OOMPolicy" stop "$(e2e_prop "$unit" OOMPolicy)"
    assertEquals "$unit: User" analysis-sandbox "$(e2e_prop "$unit" User)"

    cg=$(e2e_cgroup_dir "$unit")
    assertEquals "$unit: cgroup" "$E2E_CGROUP_ROOT/analysis.slice/analysis-e2esmall.slice/$unit" "$cg"
    assertEquals "$cg/memory.max" 67108864 "$(cat "$cg/memory.max")"
    assertEquals "$cg/memory.swap.max" 0 "$(cat "$cg/memory.swap.max")"
    assertEquals "$cg/cpu.max" "50000 100000" "$(cat "$cg/cpu.max")"
    assertEquals "$cg/pids.max" 20 "$(cat "$cg/pids.max")"

    # [Slice]: all analyses of the profile together.
    slice_cg=$E2E_CGROUP_ROOT/analysis.slice/analysis-e2esmall.slice
    assertEquals "$slice_cg/memory.max (Slice Memory=256M)" 268435456 "$(cat "$slice_cg/memory.max")"
    assertEquals "$slice_cg/cpu.max (Slice CPU=100%)" "100000 100000" "$(cat "$slice_cg/cpu.max")"
    assertEquals "$slice_cg/pids.max (Slice Tasks=200)" 200 "$(cat "$slice_cg/pids.max")"
    # analysis.slice: the global caps of analysis-sandbox.conf (Tasks=4096 in the vendor file).
    assertEquals "analysis.slice/pids.max" 4096 "$(cat "$E2E_CGROUP_ROOT/analysis.slice/pids.max")"
}

testMemoryHogIsOomKilled() {
    local unit=analysis-e2ehog@m1.service took
    e2e_write_profile e2ehog "$(small_profile "/usr/bin/python3 $E2E_ANALYSES/hog.py")"
    e2e_start "$unit"
    assertTrue "$unit did not end within 60 s" "e2e_wait_inactive $unit 60"
    assertEquals "$unit: Result after touching 512 MiB with Memory=64M" oom-kill "$(e2e_prop "$unit" Result)"
    assertEquals "$unit: ActiveState" failed "$(e2e_prop "$unit" ActiveState)"
    took=$(e2e_usec_between "$unit" ExecMainStartTimestampMonotonic InactiveEnterTimestampMonotonic)
    e2e_note "oom-kill after $(e2e_sec "$took") s; main process $(e2e_prop "$unit" ExecMainCode)/$(e2e_prop "$unit" ExecMainStatus)"
}

testSleeperTimesOutAtRuntime() {
    local unit=analysis-e2esleep@t1.service ran
    # Runtime= is also the start's timeout: 6 s, where 3 s ran out before the start on a loaded emulated host.
    e2e_write_profile e2esleep "$(small_profile "/bin/sleep 600" 6s)"
    e2e_start "$unit"
    assertTrue "$unit did not end within 40 s" "e2e_wait_inactive $unit 40"
    assertEquals "$unit: Result with Runtime=6s" timeout "$(e2e_prop "$unit" Result)"
    # RuntimeMaxSec= counts from the moment the unit became active until systemd starts stopping it.
    ran=$(e2e_usec_between "$unit" ActiveEnterTimestampMonotonic ActiveExitTimestampMonotonic)
    e2e_note "stopped after $(e2e_sec "$ran") s of Runtime=6s"
    assertTrue "$unit ran $(e2e_sec "$ran") s, less than Runtime=6s" "[ $ran -ge 6000000 ]"
    assertTrue "$unit ran $(e2e_sec "$ran") s, far more than Runtime=6s" "[ $ran -lt 8000000 ]"
}

# systemd does not act on pids.max: the fork bomb keeps running, held at the limit, until stopped.
testForkBombHeldAtPidLimit() {
    local unit=analysis-e2ebomb@f1.service cg max current peak=0 i refused took t0
    e2e_write_profile e2ebomb "$(small_profile "/usr/bin/python3 $E2E_ANALYSES/forkbomb.py")"
    e2e_start "$unit"
    assertTrue "$unit is not active" "e2e_wait_active $unit 10"
    cg=$(e2e_cgroup_dir "$unit")
    assertEquals "$cg/pids.max" 20 "$(cat "$cg/pids.max")"
    # The unit is active once its runner is executed; the runner makes the leaf a moment later.
    for ((i = 0; i < 150; i++)); do
        [ -f "$cg/payload/pids.max" ] && break
        sleep 0.2
    done
    # The analysis itself runs in the payload leaf, two tasks short of the unit's limit: the room where
    # systemd 257 forks the recorder (ExecStopPost=) while the bomb's processes are still dying.
    max=$(cat "$cg/payload/pids.max")
    assertEquals "$cg/payload/pids.max" 18 "$max"
    # And the least CPU weight: after the stop, the recorder beside the bomb's last processes gets the unit's quota.
    assertEquals "$cg/payload/cpu.weight" 1 "$(cat "$cg/payload/cpu.weight" 2>&1)"
    for ((i = 0; i < 50; i++)); do
        current=$(cat "$cg/pids.current" 2>/dev/null) || break
        ((current > peak)) && peak=$current
        sleep 0.1
    done
    refused=$(awk '$1 == "max" { print $2 }' "$cg/payload/pids.events")
    e2e_note "pids.current peaked at $peak of the payload's pids.max $max; $refused forks refused"
    assertTrue "pids.current reached $peak, above the payload's pids.max $max" "[ $peak -le $max ]"
    assertTrue "the fork bomb never reached the limit (peak $peak)" "[ $peak -ge $((max - 2)) ]"
    assertTrue "pids.events shows no refused fork ('$refused')" "[ '${refused:-0}' -gt 0 ]"
    assertEquals "$unit while held at the limit: ActiveState" active "$(e2e_prop "$unit" ActiveState)"

    t0=$(date +%s%N)
    systemctl stop "$unit"
    assertEquals "systemctl stop $unit: status" 0 $?
    took=$((($(date +%s%N) - t0) / 1000))
    e2e_note "stopped in $(e2e_sec "$took") s"
    assertEquals "$unit after stop: ActiveState" inactive "$(e2e_prop "$unit" ActiveState)"
    assertEquals "$unit after stop: Result (the recorder could be spawned)" success "$(e2e_prop "$unit" Result)"
    assertEquals "record: result" cancelled "$(e2e_record_field f1 result)"
    assertEquals "record: the profile's tasks limit" 20 "$(e2e_record_field f1 limits.tasks_max)"
    assertTrue "record: tasks_limit_hits > 0 ($(e2e_record_field f1 usage.tasks_limit_hits))" \
        "[[ $(e2e_record_field f1 usage.tasks_limit_hits) -gt 0 ]]"
    assertFalse "$cg still exists after stop" "[ -d '$cg' ]"
    assertEquals "processes of analysis-sandbox left after stop" "" "$(pgrep -u analysis-sandbox -a)"
}

. shunit2
