#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Slurm test cluster (on n1): usage over time (issue 20) on the Slurm backend. The runner inside the job samples
# the job's cgroup and writes the samples beside the record on the share, the caller's alone as the record.
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

slurm_backend_setting samples

oneTimeSetUp() {
    slurm_make_work
    slurm_backend_share
    mkdir -p /etc/analysis-sandbox/profiles
    cat >/etc/analysis-sandbox/profiles/slurmsamples.ini <<'EOF2'
[Profile]
Description=Slurm samples tests

[Limits]
Memory=300M
CPU=100%
Tasks=64
Runtime=10min
EOF2
    systemctl daemon-reload
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

# Prints field PATH (python syntax after the record, e.g. '["samples"]') of record ID.
record_field() {
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); v = eval("r" + sys.argv[2]); print("null" if v is None else v)' \
        "$USER_DIR/$1.json" "$2" 2>&1
}

# Usage over time (issue 20): the runner inside the job samples the job's cgroup and writes the samples beside
# the record on the share, the caller's alone as the record; the rows climb with the analysis' memory.
testSamplesBesideTheRecord() {
    local file=$USER_DIR/samples1.samples.csv
    run_alice --backend=slurm -q -p slurmsamples --id=samples1 -- python3 -c '
import time
chunks = []
for _ in range(12):
    chunks.append(b"x" * (12 << 20))
    time.sleep(0.5)
'
    assertEquals "analysis-run (stderr: $(cat "$ERR"))" 0 "$RC"
    assertEquals "the record names them" "$file" "$(record_field samples1 '["samples"]')"
    assertEquals "the caller's alone, as the record" "$(stat -c '%U %a' "$USER_DIR/samples1.json")" "$(stat -c '%U %a' "$file")"
    assertEquals "the first line" "# analysis-sandbox samples v1 id=samples1 profile=slurmsamples interval=1s" "$(head -n 1 "$file")"
    facts=$(python3 - "$file" <<'PY'
import csv, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#")))
mem = [int(r["memory_bytes"]) for r in rows if r["memory_bytes"]]
half = len(mem) // 2
print(len(rows), max(mem) if mem else 0, int(half > 0 and max(mem[half:]) > max(mem[:half])))
PY
)
    read -r rows mem_max climbs <<<"$facts"
    echo "NOTE: rows=$rows mem_max=$mem_max"
    assertTrue "a row a second or so ($rows)" "[ ${rows:-0} -ge 3 ]"
    assertTrue "its memory seen (${mem_max:-0} bytes)" "[ ${mem_max:-0} -ge $((100 << 20)) ]"
    assertEquals "climbing" 1 "$climbs"
}

# report, suggest and plot (issue 20) read the Slurm analyses' records and samples on the share as they read local
# ones: ten analyses of the profile (suggest's least), each peaking near 60 MiB under its 300M.
testReportSuggestPlotFromTheShare() {
    local i json
    for i in $(seq 1 10); do
        run_alice --backend=slurm -p slurmsamples --detach --id=rsp$i -- \
            python3 -c 'import time; b = bytearray(60 << 20); time.sleep(1.5)'
        assertEquals "detach rsp$i (stderr: $(cat "$ERR"))" 0 "$RC"
    done
    for i in $(seq 1 10); do
        as_user analysisctl wait rsp$i >/dev/null 2>&1
        assertEquals "rsp$i: ended well" 0 $?
    done

    json=$SHUNIT_TMPDIR/report.json
    as_user analysisctl report --json --profile=slurmsamples >"$json" 2>"$ERR"
    assertEquals "report (stderr: $(cat "$ERR"))" 0 $?
    facts=$(python3 - "$json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
p = j["profiles"][0]
m = p["ratios"]["memory"]
print(p["profile"], p["ended"]["success"], m["analyses"], "%.2f" % m["median"])
PY
)
    read -r profile successes with_memory median <<<"$facts"
    echo "NOTE: report: $facts"
    assertEquals "report: the profile" slurmsamples "$profile"
    assertTrue "report: the ten from the share, at least ($successes)" "[ ${successes:-0} -ge 10 ]"
    assertTrue "report: their memory ratios ($with_memory)" "[ ${with_memory:-0} -ge 10 ]"
    # 60 MiB of 300 MiB is 0.2: the runner and Python's own memory add a little.
    assertTrue "report: median memory ratio near 0.2 ($median)" \
        "python3 -c 'import sys; sys.exit(not 0.18 <= float(\"$median\") <= 0.35)'"

    as_user analysisctl suggest slurmsamples >"$OUT" 2>"$ERR"
    assertEquals "suggest (stderr: $(cat "$ERR"))" 0 $?
    assertContains "suggest: from the share's analyses" "$(cat "$OUT")" "[Limits]
Memory="
    assertContains "suggest: what was used" "$(cat "$OUT")" "# Memory=: you asked for 300.0 MiB; successful analyses peaked at"

    as_user analysisctl plot rsp1 -o "$SLURM_WORK/rsp1.svg" 2>"$ERR"
    assertEquals "plot (stderr: $(cat "$ERR"))" 0 $?
    assertContains "plot: an SVG" "$(head -c 400 "$SLURM_WORK/rsp1.svg")" "<svg"
    assertContains "plot: the analysis named in its title" "$(cat "$SLURM_WORK/rsp1.svg")" "rsp1"
    assertTrue "plot: its memory curve" "grep -q 'class=\"line\" data-label=\"memory in use\" .* d=\"M[0-9.]*,[0-9.]* L' '$SLURM_WORK/rsp1.svg'"
}

. shunit2
