#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): usage over time (issue 20, part 1). analysis-sampler samples every running analysis
# each second; the recorder stores the samples beside the record, as private as it, and the record names them.
# A memory hog's rows climb to its limit and end with an OOM kill; a CPU-bound analysis under a quota uses
# about the quota per second and is throttled; the time limit is marked; --user too; SampleInterval=0 turns
# sampling off and the record says so.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESULTS_DIR=/var/lib/analysis-sandbox/results
CONF_DROPIN=/etc/analysis-sandbox/analysis-sandbox.conf.d/50-e2e-samples.conf
WORK=$E2E_SCRATCH/samples-work

oneTimeSetUp() {
        mkdir -p "$WORK"
        chmod 0777 "$WORK"
        id smpmember >/dev/null 2>&1 || useradd -m -s /bin/bash smpmember
        usermod -aG analysis smpmember
}

e2e_tear_down() {
        if [[ -e $CONF_DROPIN ]]; then
                rm -f "$CONF_DROPIN"
                # It reads the file when it starts: the next analysis starts it again with the default.
                systemctl stop analysis-sandbox-sampler.service
        fi
}

field() {
        e2e_record_field "$@"
}

write_profile() {
        e2e_write_profile e2esmp "[Profile]
Description=Samples
User=analysis-sandbox
[Limits]
Memory=${1:-128M}
CPU=${2:-100%}
Tasks=20
Runtime=2min"
}

# Prints facts about the samples file FILE as shell assignments: rows, the memory column's first-half and
# second-half maxima, the last row's events, the CPU share (cpu_sec / span_sec) of the middle rows (median),
# throttling in all, the most tasks, and whether the spans join up.
samples_facts() {
        python3 - "$1" <<'PY'
import csv, statistics, sys
path = sys.argv[1]
with open(path) as f:
    first = f.readline()
    rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
def num(row, key):
    return float(row[key]) if row[key] != "" else 0.0
mem = [num(r, "memory_bytes") for r in rows]
half = len(rows) // 2
middle = rows[1:-1] or rows
shares = [num(r, "cpu_sec") / num(r, "span_sec") for r in middle if num(r, "span_sec") > 0]
joined = all(abs(num(rows[i], "time_sec") - num(rows[i], "span_sec") - num(rows[i - 1], "time_sec")) < 0.002
             for i in range(1, len(rows)))
print(f"first_line='{first.strip()}'")
print(f"rows={len(rows)}")
print(f"mem_first_half={int(max(mem[:half] or [0]))}")
print(f"mem_second_half={int(max(mem[half:] or [0]))}")
print(f"mem_max={int(max(mem or [0]))}")
print(f"last_events='{rows[-1]['events'] if rows else ''}'")
print(f"all_events='{';'.join(r['events'] for r in rows if r['events'])}'")
print(f"cpu_share={statistics.median(shares) if shares else 0:.2f}")
print(f"throttled={sum(num(r, 'cpu_throttled_sec') for r in rows):.3f}")
print(f"cpu_sum={sum(num(r, 'cpu_sec') for r in rows):.3f}")
print(f"tasks_max={int(max(num(r, 'tasks') for r in rows)) if rows else 0}")
print(f"joined={1 if joined else 0}")
oom = [i for i, r in enumerate(rows) if "oom-kill" in r["events"].split(";")]
# The kill row holds the peak; every row after it (the sampler's looks while the unit stops, the recorder's
# last) sees the memory gone. How many such rows there are depends on how long stopping took.
print(f"oom_row_from_end={'ok' if oom and all(m < 0.5 * max(mem) for m in mem[oom[0] + 1:]) else 'no'}")
print(f"oom_row_memory={int(num(rows[oom[0]], 'memory_bytes')) if oom else 0}")
PY
}

# The sampler runs as root outside analysis.slice, started by the analyses' Wants=.
testSamplerRunsOutsideTheAnalyses() {
        local rc cg
        write_profile
        (cd "$WORK" && exec analysis-run -q -p e2esmp --id=smp0 -- /bin/sleep 2) 2>"$SHUNIT_TMPDIR/smp0.err"
        rc=$?
        assertEquals "analysis-run ($(cat "$SHUNIT_TMPDIR/smp0.err"))" 0 "$rc"
        assertEquals "the analysis' Wants= started the sampler" active \
                "$(e2e_prop analysis-sandbox-sampler.service ActiveState)"
        cg=$(e2e_prop analysis-sandbox-sampler.service ControlGroup)
        assertNotContains "outside analysis.slice ($cg)" "$cg" analysis.slice
        assertEquals "as root" root "$(ps -o user= -p "$(e2e_prop analysis-sandbox-sampler.service MainPID)")"
        assertEquals "the record names the samples" "$RESULTS_DIR/smp0.samples.csv" "$(field smp0 samples)"
        assertEquals "none missing" null "$(field smp0 samples_missing)"
        eval "$(samples_facts "$RESULTS_DIR/smp0.samples.csv")"
        assertContains "the first line says what it is" "$first_line" "# analysis-sandbox samples v1 id=smp0 profile=e2esmp interval=1s"
        assertTrue "a row per second or so ($rows)" "[ $rows -ge 2 ]"
        assertEquals "the spans join up" 1 "$joined"
        assertFalse "nothing left in the unit's state directory" "[ -e /run/analysis-sandbox/units/smp0 ]"
}

# A hog that climbs to its 128M limit: the rows climb, the last one says oom-kill, pandas' read_csv takes it.
testMemoryClimbsToTheLimit() {
        local rc
        write_profile 128M
        (cd "$WORK" && exec analysis-run -q -p e2esmp --id=smp1 -- python3 -c '
import time
chunks = []
while True:
    chunks.append(b"x" * (6 << 20))
    time.sleep(0.25)
') 2>"$SHUNIT_TMPDIR/smp1.err"
        rc=$?
        assertEquals "analysis-run: the memory limit ($(cat "$SHUNIT_TMPDIR/smp1.err"))" 125 "$rc"
        assertEquals "result" oom-kill "$(field smp1 result)"
        eval "$(samples_facts "$RESULTS_DIR/smp1.samples.csv")"
        e2e_note "rows=$rows mem_first_half=$mem_first_half mem_second_half=$mem_second_half mem_max=$mem_max last_events=$last_events"
        assertTrue "several rows ($rows)" "[ $rows -ge 3 ]"
        assertTrue "memory climbs ($mem_first_half, then $mem_second_half)" "[ $mem_second_half -gt $mem_first_half ]"
        assertTrue "up to the limit ($mem_max of 134217728)" "[ $mem_max -ge $((134217728 * 8 / 10)) ]"
        # Marked in the row where the sampler saw the kill, else (a kill after its last look) by the recorder
        # in the last row; the peak at the limit is in that row.
        assertContains "an oom-kill mark, the memory gone after it ($all_events)" "$oom_row_from_end" "ok"
        assertTrue "the peak in the row of the kill ($oom_row_memory)" "[ ${oom_row_memory:-0} -ge $((134217728 * 9 / 10)) ]"
        # The picture of it, drawn by analysisctl plot, brought back with the results (README shows one).
        if [[ -n ${E2E_OUT:-} ]]; then
                analysisctl plot smp1 -o "$E2E_OUT/samples-smp1.svg" >/dev/null
                assertEquals "analysisctl plot" 0 $?
                cp "$RESULTS_DIR/smp1.samples.csv" "$RESULTS_DIR/smp1.json" "$E2E_OUT/" 2>/dev/null
        fi
        if python3 -c 'import pandas' 2>/dev/null; then
                assertEquals "pandas reads it" "$rows" \
                        "$(python3 -c "import pandas, sys; print(len(pandas.read_csv(sys.argv[1], comment='#')))" \
                                "$RESULTS_DIR/smp1.samples.csv" 2>&1)"
        fi
}

# Two busy processes under a 50% quota: about half a CPU-second per second, throttled, two tasks or more,
# and the time limit marked.
testCpuUnderAQuota() {
        local rc
        write_profile 128M 50%
        (cd "$WORK" && exec analysis-run -q -p e2esmp --timeout=8s --id=smp2 -- python3 "$E2E_ANALYSES/burn.py") \
                2>"$SHUNIT_TMPDIR/smp2.err"
        rc=$?
        assertEquals "analysis-run: the time limit ($(cat "$SHUNIT_TMPDIR/smp2.err"))" 124 "$rc"
        eval "$(samples_facts "$RESULTS_DIR/smp2.samples.csv")"
        e2e_note "rows=$rows cpu_share=$cpu_share throttled=$throttled tasks_max=$tasks_max last_events=$last_events"
        # At most the quota per second. Not "about" it: on a loaded emulated host the vCPU runs less than
        # the wall clock (0.33 of a second per second seen, throttled all the same); that the rows hold all
        # the CPU is checked against the record instead.
        assertTrue "at most the quota per second ($cpu_share)" "awk 'BEGIN { exit !($cpu_share > 0 && $cpu_share <= 0.65) }'"
        assertTrue "the rows add up to the record's CPU ($cpu_sum of $(field smp2 usage.cpu_sec) s)" \
                "awk 'BEGIN { r = $(field smp2 usage.cpu_sec); exit !($cpu_sum >= 0.75 * r && $cpu_sum <= 1.25 * r + 0.05) }'"
        assertTrue "throttled ($throttled s)" "awk 'BEGIN { exit !($throttled > 0) }'"
        assertTrue "two tasks or more ($tasks_max)" "[ $tasks_max -ge 2 ]"
        assertContains "a timeout mark at the end" "$last_events" timeout
}

# Five sleeping children of one shell for 3 s: six processes at once, seen by the sampler. The record's
# usage.tasks_peak is the highest row of the samples file (pids.peak, where the kernel has it and it is
# higher, goes into the last row), and analysisctl status sets it against the task limit.
testTasksPeak() {
        local rc peak status
        write_profile
        (cd "$WORK" && exec analysis-run -q -p e2esmp --id=smp5 -- /bin/bash -c \
                'for i in 1 2 3 4 5; do sleep 3 & done; wait') 2>"$SHUNIT_TMPDIR/smp5.err"
        rc=$?
        assertEquals "analysis-run ($(cat "$SHUNIT_TMPDIR/smp5.err"))" 0 "$rc"
        eval "$(samples_facts "$RESULTS_DIR/smp5.samples.csv")"
        peak=$(field smp5 usage.tasks_peak)
        e2e_note "rows=$rows tasks_max=$tasks_max tasks_peak=$peak pids.peak=$([ -e /sys/fs/cgroup/system.slice/pids.peak ] && echo yes || echo no) kernel=$(uname -r)"
        assertEquals "the record's peak is the samples' highest row" "$tasks_max" "$peak"
        assertTrue "at least the six processes it ran at once ($peak)" "[ ${peak:-0} -ge 6 ]"
        assertTrue "within the limit of 20 ($peak)" "[ ${peak:-99} -le 20 ]"
        status=$(analysisctl status smp5 2>&1)
        assertContains "analysisctl status sets it against the limit ($status)" "$status" "tasks: peak $peak of the limit 20"
        assertEquals "analysisctl status --json has it" "$peak" \
                "$(analysisctl status --json smp5 | python3 -c 'import json, sys; print(json.load(sys.stdin)["efficiency"]["tasks"]["peak"])' 2>&1)"
}

# A member's analysis: the samples are as private as the record (owner, group, mode, ACL), the member reads them.
testPrivacyIsTheRecords() {
        local rc
        write_profile
        (cd "$WORK" && exec runuser -u smpmember -- analysis-run -q -p e2esmp --id=smp3 -- /bin/sleep 2) \
                2>"$SHUNIT_TMPDIR/smp3.err"
        rc=$?
        assertEquals "analysis-run as a member ($(cat "$SHUNIT_TMPDIR/smp3.err"))" 0 "$rc"
        assertEquals "owner, group and mode as the record's" "$(stat -c '%U %G %a' "$RESULTS_DIR/smp3.json")" \
                "$(stat -c '%U %G %a' "$RESULTS_DIR/smp3.samples.csv")"
        assertEquals "the ACL as the record's" \
                "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "system.posix_acl_access").hex())' "$RESULTS_DIR/smp3.json")" \
                "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "system.posix_acl_access").hex())' "$RESULTS_DIR/smp3.samples.csv")"
        assertTrue "the member reads them" "runuser -u smpmember -- head -n 1 $RESULTS_DIR/smp3.samples.csv"
        assertFalse "another user does not" "runuser -u nobody -- head -n 1 $RESULTS_DIR/smp3.samples.csv 2>/dev/null"
        # analysisctl gc removes them with the record.
        touch -h -d '40 days ago' "$RESULTS_DIR"/smp3.*
        analysisctl gc --older-than=30d >/dev/null 2>&1
        assertFalse "gc removed the record" "[ -e $RESULTS_DIR/smp3.json ]"
        assertFalse "gc removed the samples" "[ -e $RESULTS_DIR/smp3.samples.csv ]"
}

# Under a user's own manager: the user's sampler, the samples in the user's results directory, the user's alone.
testUserManager() {
        local uid home rc file
        uid=$(e2e_start_user_manager smpuser)
        home=$(getent passwd smpuser | cut -d: -f6)
        (cd / && runuser -u smpuser -- env XDG_RUNTIME_DIR=/run/user/$uid \
                analysis-run --user -q --id=usmp1 -- /bin/sleep 3) 2>"$SHUNIT_TMPDIR/usmp1.err"
        rc=$?
        assertEquals "analysis-run --user ($(cat "$SHUNIT_TMPDIR/usmp1.err"))" 0 "$rc"
        file=$home/.local/state/analysis-sandbox/results/usmp1.samples.csv
        assertEquals "the record names them" "$file" \
                "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["samples"])' "${file%.samples.csv}.json" 2>&1)"
        assertEquals "the user's alone, as the record" "$(stat -c '%U %a' "${file%.samples.csv}.json")" "$(stat -c '%U %a' "$file")"
        eval "$(samples_facts "$file")"
        e2e_note "rows=$rows"
        assertTrue "sampled by the user's sampler ($rows rows)" "[ $rows -ge 2 ]"
        assertEquals "the user's sampler ran" active \
                "$(runuser -u smpuser -- env XDG_RUNTIME_DIR=/run/user/$uid systemctl --user show -P ActiveState analysis-sandbox-sampler.service)"
}

# SampleInterval=0: no sampler, no samples, and the record says why.
testSamplingOff() {
        local rc
        write_profile
        mkdir -p "$(dirname "$CONF_DROPIN")"
        printf '[Records]\nSampleInterval=0\n' >"$CONF_DROPIN"
        systemctl stop analysis-sandbox-sampler.service
        (cd "$WORK" && exec analysis-run -q -p e2esmp --id=smp4 -- /bin/sleep 2) 2>"$SHUNIT_TMPDIR/smp4.err"
        rc=$?
        assertEquals "analysis-run ($(cat "$SHUNIT_TMPDIR/smp4.err"))" 0 "$rc"
        assertEquals "no samples" null "$(field smp4 samples)"
        assertContains "the record says why" "$(field smp4 samples_missing)" "SampleInterval=0"
        assertFalse "no file" "[ -e $RESULTS_DIR/smp4.samples.csv ]"
        assertNotEquals "the sampler exited at once" active "$(e2e_prop analysis-sandbox-sampler.service ActiveState)"
}

. shunit2
