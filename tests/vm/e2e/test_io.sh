#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): analysis.slice's I/O weight, and a profile's ReadBandwidth=/WriteBandwidth= as
# io.max of the analysis and as the time a real disk transfer takes; a user manager gets neither.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# On the root file system (a real disk, unlike /run and the tmpfs an analysis may get for /tmp), left
# writable by ProtectSystem=full.
IO_DIR=/srv/analysis-e2e-io
# The transfers: 4 MiB in direct I/O, so the page cache neither absorbs the writes nor serves the reads.
IO_BLOCKS=64
IO_BYTES=$((IO_BLOCKS * 65536))

oneTimeSetUp() {
    mkdir -p "$IO_DIR/out"
    chmod 1777 "$IO_DIR/out"
    dd if=/dev/urandom of="$IO_DIR/data" bs=64k count="$IO_BLOCKS" status=none
    chmod 0644 "$IO_DIR/data"
    sync
}

oneTimeTearDown() {
    rm -rf "$IO_DIR"
}

# A profile running COMMAND, with LIMITS (more [Limits] lines) below the usual ones. User= is spelled out
# so the analysis may write in $IO_DIR/out whatever account the vendor profiles use.
io_profile() {
    local exec=$1 limits=${2:-}
    cat <<EOF
[Profile]
Description=I/O profile of the end-to-end tests
User=analysis-sandbox
Exec=$exec
[Limits]
Memory=128M
CPU=100%
Tasks=20
Runtime=2min
KillGrace=3s
$limits
EOF
}

# The MAJ:MIN of the whole disk behind PATH: what systemd resolves IO*BandwidthMax=PATH to.
whole_disk_of() {
    local dev
    dev=$(mountpoint -d "$(stat -c %m "$1")")
    [[ -e /sys/dev/block/$dev/partition ]] && dev=$(cat "/sys/dev/block/$dev/../dev")
    echo "$dev"
}

# Runs analysis ID of PROFILE (whose Exec= is a dd of IO_BYTES) to its end and leaves in $took the
# microseconds dd itself took for the transfer, as it reported on stderr ("... copied, 8.2 s, 512 kB/s").
run_transfer() {
    local unit stderr=/var/lib/analysis-sandbox/results/$2.stderr
    unit=$(e2e_unit "$1" "$2")
    took=0
    rm -f "/var/lib/analysis-sandbox/results/$2".*
    e2e_units+=("$unit")
    timeout 90 systemctl start --wait "$unit"
    assertEquals "$unit: systemctl start --wait" 0 $?
    assertEquals "$unit: result in its record" success "$(e2e_record_field "$2" result)"
    took=$(sed -n 's/.* copied, \([0-9.e+-]*\) s,.*/\1/p' "$stderr" | awk '{ printf "%d", $1 * 1000000 }')
    assertNotNull "$unit: dd's report in $stderr: $(cat "$stderr" 2>/dev/null)" "$took"
}

# Asserts that the capped transfer (CAPPED microseconds) took as long as CAP_RATE bytes per second allow, and
# that the uncapped one (FREE) was at least twice as fast, so the cap, not the disk, made the difference.
assert_throttled() {
    local what=$1 free=${2:-0} capped=${3:-0} cap_rate=$4 expected
    expected=$((IO_BYTES * 1000000 / cap_rate))
    e2e_note "4 MiB of direct ${what}s: $(e2e_sec "$free") s uncapped, $(e2e_sec "$capped") s capped at $cap_rate B/s" \
        "(expected $(e2e_sec "$expected") s)"
    # The throttle lets the first slice (100 ms of budget) through at once, and rounds: 85% is a cap that holds.
    assertTrue "capped $what took $(e2e_sec "$capped") s, less than the $(e2e_sec "$expected") s the cap allows" \
        "[ $capped -ge $((expected * 85 / 100)) ]"
    assertTrue "uncapped $what took $(e2e_sec "$free") s, not half the capped $(e2e_sec "$capped") s: the disk is too slow to tell" \
        "[ $((free * 2)) -le $capped ]"
}

testAnalysisSliceHasLowIoWeight() {
    local unit=analysis-e2eio@weight.service weight
    e2e_write_profile e2eio "$(io_profile "/bin/sleep 60")"
    e2e_start "$unit"
    assertTrue "$unit is not active" "e2e_wait_active $unit 10"

    assertEquals "analysis.slice: IOWeight (vendor analysis-sandbox.conf)" 20 "$(e2e_prop analysis.slice IOWeight)"
    assertTrue "the io controller is not enabled for analysis.slice" \
        "grep -qw io $E2E_CGROUP_ROOT/cgroup.subtree_control"
    weight=$(head -n 1 "$E2E_CGROUP_ROOT/analysis.slice/io.weight")
    assertEquals "analysis.slice/io.weight" "default 20" "$weight"
    assertEquals "system.slice/io.weight: the host's services keep the default" "default 100" \
        "$(head -n 1 "$E2E_CGROUP_ROOT/system.slice/io.weight")"
    e2e_note "scheduler of the root disk: $(cat "/sys/dev/block/$(whole_disk_of /)/queue/scheduler" 2>/dev/null)"
}

testBandwidthCapsInUnitAndIoMax() {
    local unit=analysis-e2eiocap@limits.service cg dev
    e2e_write_profile e2eiocap "$(io_profile "/bin/sleep 60" "ReadBandwidth=2M
WriteBandwidth=1M")"
    e2e_start "$unit"
    assertTrue "$unit is not active" "e2e_wait_active $unit 10"

    assertEquals "$unit: IOReadBandwidthMax" "/ 2000000" "$(e2e_prop "$unit" IOReadBandwidthMax)"
    assertEquals "$unit: IOWriteBandwidthMax" "/ 1000000" "$(e2e_prop "$unit" IOWriteBandwidthMax)"
    cg=$(e2e_cgroup_dir "$unit")
    dev=$(whole_disk_of /)
    assertNotNull "the root disk's MAJ:MIN" "$dev"
    assertEquals "$cg/io.max: the root disk capped" "$dev rbps=2000000 wbps=1000000 riops=max wiops=max" \
        "$(cat "$cg/io.max")"
}

# The cap in action: 4 MiB written at WriteBandwidth=512K take 8 s, several times as long as uncapped.
testWriteIsThrottled() {
    local cmd="/bin/dd if=/dev/zero of=$IO_DIR/out/%i bs=64k count=$IO_BLOCKS oflag=direct" free took
    e2e_write_profile e2eiofree "$(io_profile "$cmd")"
    e2e_write_profile e2eiowrite "$(io_profile "$cmd" "WriteBandwidth=512K")"

    run_transfer e2eiofree w1
    free=$took
    run_transfer e2eiowrite w2
    assertEquals "capped write: all of it written" "$IO_BYTES" "$(stat -c %s "$IO_DIR/out/w2" 2>/dev/null)"
    assert_throttled write "$free" "$took" 512000
}

testReadIsThrottled() {
    local cmd="/bin/dd if=$IO_DIR/data of=/dev/null bs=64k iflag=direct" free took
    e2e_write_profile e2eiofree "$(io_profile "$cmd")"
    e2e_write_profile e2eioread "$(io_profile "$cmd" "ReadBandwidth=512K
WriteBandwidth=50M")"

    run_transfer e2eiofree r1
    free=$took
    run_transfer e2eioread r2
    assert_throttled read "$free" "$took" 512000
}

# user@.service delegates no io controller: the user's units carry no io settings and still start.
testUserManagerLeavesIoOut() {
    local uid home gen out rc
    uid=$(e2e_start_user_manager iouser)
    assertNotNull "iouser's manager is up" "$uid"
    home=$(getent passwd iouser | cut -d: -f6)
    runuser -u iouser -- mkdir -p "$home/.config/analysis-sandbox/profiles"
    io_profile "/bin/true" "ReadBandwidth=1M
WriteBandwidth=1M" | runuser -u iouser -- tee "$home/.config/analysis-sandbox/profiles/e2eiou.ini" >/dev/null
    runuser -u iouser -- env XDG_RUNTIME_DIR="/run/user/$uid" systemctl --user daemon-reload
    gen=/run/user/$uid/systemd/generator
    assertTrue "the user's generator made analysis-e2eiou@.service" "[ -f $gen/analysis-e2eiou@.service ]"
    assertEquals "the user's unit: no IO*BandwidthMax=" "" "$(grep '^IO' "$gen/analysis-e2eiou@.service")"
    assertEquals "the user's analysis.slice: no IOWeight=" "" "$(grep '^IO' "$gen/analysis.slice")"
    assertEquals "the user's analysis.slice keeps CPUWeight=" "CPUWeight=20" "$(grep '^CPUWeight=' "$gen/analysis.slice")"

    out=$(cd / && runuser -u iouser -- env XDG_RUNTIME_DIR="/run/user/$uid" analysis-run --user -p e2eiou -q \
        --id=iou1 -- /bin/dd if=/dev/zero of="$IO_DIR/out/iou1" bs=64k count="$IO_BLOCKS" oflag=direct 2>&1)
    rc=$?
    assertEquals "an analysis of the profile under the user manager: exit status ($out)" 0 "$rc"
    assertEquals "it wrote all of it" "$IO_BYTES" "$(stat -c %s "$IO_DIR/out/iou1" 2>/dev/null)"
    rm -f "$home/.config/analysis-sandbox/profiles/e2eiou.ini"
    loginctl disable-linger iouser
}

. shunit2
