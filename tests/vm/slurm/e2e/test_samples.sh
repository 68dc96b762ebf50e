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

. shunit2
