#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): real analyses (numpy and pandas, a notebook executed by Jupyter, tables written for
# the caller) run as a member of `analysis` and under --user; their results are private, bounded on disk, and
# their thread variables follow the CPU quota.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MEMBER=wlmember
OTHER=wlother
SYSTEM_RESULTS=/var/lib/analysis-sandbox/results
# The member's working directory: its own, readable by the analyses (which run as other accounts).
WORK=$E2E_SCRATCH/workloads
# A profile allowing two CPUs (the vendor ones allow at most one), for the system manager and the member's.
CPU_PROFILE='[Profile]
Description=Workloads end-to-end tests: two CPUs
[Limits]
Memory=512M
CPU=200%
Tasks=100
Runtime=2min'
THREAD_VARS=(OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS NUMEXPR_NUM_THREADS NUMEXPR_MAX_THREADS
        BLIS_NUM_THREADS VECLIB_MAXIMUM_THREADS NUMBA_NUM_THREADS RAYON_NUM_THREADS)

oneTimeSetUp() {
        local u
        for u in "$MEMBER" "$OTHER"; do
                id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
                usermod -aG analysis "$u"
        done
        MEMBER_HOME=$(getent passwd "$MEMBER" | cut -d: -f6)
        MEMBER_UID=$(e2e_start_user_manager "$MEMBER")
        mkdir -p "$WORK"
        chown "$MEMBER:$MEMBER" "$WORK"
        chmod 0755 "$WORK"
        mkdir -p "$E2E_PROFILE_DIR"
        printf '%s\n' "$CPU_PROFILE" >"$E2E_PROFILE_DIR/e2ewl.ini"
        systemctl daemon-reload
        as_member mkdir -p "$MEMBER_HOME/.config/analysis-sandbox/profiles"
        printf '%s\n' "$CPU_PROFILE" | as_member tee "$MEMBER_HOME/.config/analysis-sandbox/profiles/e2ewl.ini" >/dev/null
        as_member XDG_RUNTIME_DIR="/run/user/$MEMBER_UID" systemctl --user daemon-reload

        # A real computation: a matrix product, a DataFrame groupby, the table written for the caller.
        as_member tee "$WORK/stats.py" >/dev/null <<'PY'
import os
import numpy as np
import pandas as pd

rng = np.random.default_rng(42)
a = rng.standard_normal((300, 300))
gram = a @ a.T
print("matrix", "ok" if np.isclose(np.trace(gram), (a * a).sum()) else "wrong")
df = pd.DataFrame({"group": np.repeat(["a", "b", "c"], 1000), "value": np.arange(3000, dtype=float)})
means = df.groupby("group")["value"].agg(["count", "mean"])
means.to_csv(os.path.join(os.environ["ANALYSIS_OUTPUT_DIR"], "means.csv"))
print(means.to_csv(), end="")
PY
        # A script that reads its input from its working directory and writes its table there.
        as_member tee "$WORK/table.py" >/dev/null <<'PY'
import csv

with open("input.csv") as f:
    rows = list(csv.reader(f))
with open("table.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["name", "total"])
    for name, *values in rows:
        w.writerow([name, sum(int(v) for v in values)])
PY
        printf 'x,1,2,3\ny,10,20,30\n' | as_member tee "$WORK/input.csv" >/dev/null
        # A notebook whose second cell needs the first one's state: executed top to bottom in one kernel.
        as_member tee "$WORK/squares.ipynb" >/dev/null <<'NB'
{
 "cells": [
  {"cell_type": "code", "execution_count": null, "id": "sum-squares", "metadata": {}, "outputs": [],
   "source": ["squares = [i * i for i in range(10)]\n", "print(sum(squares))"]},
  {"cell_type": "code", "execution_count": null, "id": "last-square", "metadata": {}, "outputs": [],
   "source": ["squares[-1] + 19"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
NB
}

oneTimeTearDown() {
        rm -f "$E2E_PROFILE_DIR/e2ewl.ini"
        systemctl daemon-reload
        loginctl disable-linger "$MEMBER"
        return 0
}

# Runs a command as the member, from its working directory.
as_member() {
        runuser -u "$MEMBER" -- env -C "$WORK" "$@"
}

# Starts analysis-run in the background as the member from its working directory, through the system
# manager (MODE "system") or the member's own manager (MODE "user"); member_result ID collects it. The
# slow analyses of the two modes run at once: the VM has two CPUs and each analysis a quota of one.
member_start() {
        local mode=$1 id=$2 manager=()
        shift 2
        [[ $mode == user ]] && manager=(--user)
        rm -f "$SHUNIT_TMPDIR/$id.rc"
        (
                t0=$(date +%s%N)
                as_member XDG_RUNTIME_DIR="/run/user/$MEMBER_UID" analysis-run "${manager[@]}" --id="$id" "$@" \
                        >"$SHUNIT_TMPDIR/$id.out" 2>"$SHUNIT_TMPDIR/$id.err"
                echo "$? $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" \
                        >"$SHUNIT_TMPDIR/$id.rc.tmp"
                mv "$SHUNIT_TMPDIR/$id.rc.tmp" "$SHUNIT_TMPDIR/$id.rc"
        ) &
}

# Waits for the analysis-run of analysis ID started by member_start; leaves $rc, $stdout, $stderr and
# $elapsed (seconds).
member_result() {
        local id=$1
        wait
        read -r rc elapsed <"$SHUNIT_TMPDIR/$id.rc"
        stdout=$(cat "$SHUNIT_TMPDIR/$id.out")
        stderr=$(cat "$SHUNIT_TMPDIR/$id.err")
}

# Runs analysis-run as the member with ID and the rest as its arguments (see member_start) and waits for it.
member_run() {
        member_start "$@"
        member_result "$2"
}

# Runs a command as USER; leaves $rc, $stdout and $stderr.
run_as() {
        local user=$1
        shift
        runuser -u "$user" -- env -C / "$@" >"$SHUNIT_TMPDIR/out" 2>"$SHUNIT_TMPDIR/err"
        rc=$?
        stdout=$(cat "$SHUNIT_TMPDIR/out")
        stderr=$(cat "$SHUNIT_TMPDIR/err")
}

# The results directory of MODE.
results_dir() {
        if [[ $1 == user ]]; then
                echo "$MEMBER_HOME/.local/state/analysis-sandbox/results"
        else
                echo "$SYSTEM_RESULTS"
        fi
}

# Prints fields KEY... of the record of analysis ID under MODE, one a line, dotted for nested ones; null
# prints "null", booleans "true"/"false", a missing record or field nothing. (One python3 for them all:
# it takes a second to start under TCG.)
fields() {
        local mode=$1 id=$2
        shift 2
        python3 - "$(results_dir "$mode")/$id.json" "$@" 2>/dev/null <<'PY'
import json, sys
record = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    value = record
    for part in key.split("."):
        value = value[part]
    print(json.dumps(value) if value is None or isinstance(value, bool) else str(value).replace("\n", " "))
PY
}

field() {
        fields "$@"
}

# Prints the value of variable NAME in the env(1) output on stdin.
env_value() {
        sed -n "s/^$1=//p"
}

# A numpy/pandas analysis succeeds; the table it wrote to $ANALYSIS_OUTPUT_DIR is the caller's to read.
check_numpy_pandas() {
        local mode=$1 id=$2 out
        member_result "$id"
        e2e_note "numpy/pandas analysis ($mode): ${elapsed} s"
        assertEquals "$mode: exit status (stderr: $stderr)" 0 "$rc"
        assertContains "$mode: the matrix product" "$stdout" "matrix ok"
        assertContains "$mode: the groupby" "$stdout" "b,1000,1499.5"
        assertEquals "$mode: record: result" success "$(field "$mode" "$id" result)"
        out=$(field "$mode" "$id" output_dir)
        assertEquals "$mode: record: output_dir" "$(results_dir "$mode")/$id.output" "$out"
        assertContains "$mode: analysis-run says where the output is" "$stderr" "Output: $out"
        assertEquals "$mode: the output directory belongs to the caller" "$MEMBER" "$(stat -c %U "$out" 2>&1)"
        run_as "$MEMBER" cat "$out/means.csv"
        assertEquals "$mode: the caller reads the table (stderr: $stderr)" 0 "$rc"
        assertEquals "$mode: the table" "group,count,mean
a,1000,499.5
b,1000,1499.5
c,1000,2499.5" "$stdout"
}

testNumpyPandas() {
        member_start system wl-np-sys -- python3 stats.py
        member_start user wl-np-user -- python3 stats.py
        check_numpy_pandas system wl-np-sys
        check_numpy_pandas user wl-np-user
}

# Jupyter executes a notebook top to bottom under notebook_execution: its kernel needs a writable runtime
# directory and loopback (the kernel's ZeroMQ sockets are TCP on 127.0.0.1).
check_notebook() {
        local mode=$1 id=$2 out
        member_result "$id"
        e2e_note "notebook ($mode): ${elapsed} s"
        assertEquals "$mode: exit status (stdout: $stdout; stderr: $stderr)" 0 "$rc"
        assertEquals "$mode: record: profile" notebook_execution "$(field "$mode" "$id" profile)"
        out=$(field "$mode" "$id" output_dir)
        run_as "$MEMBER" python3 -c '
import json, sys
nb = json.load(open(sys.argv[1]))
for cell in nb["cells"]:
    for o in cell["outputs"]:
        text = o.get("text") or o.get("data", {}).get("text/plain", "")
        print(cell["execution_count"], o["output_type"], "".join(text).strip())' \
                "$out/executed.ipynb"
        assertEquals "$mode: the caller reads the executed notebook (stderr: $stderr)" 0 "$rc"
        assertEquals "$mode: each cell ran once, in order, in one kernel" "1 stream 285
2 execute_result 100" "$stdout"
}

testNotebook() {
        local mode nbconvert='exec jupyter nbconvert --to notebook --execute --output-dir="$ANALYSIS_OUTPUT_DIR" --output=executed squares.ipynb'
        for mode in system user; do
                member_start "$mode" "wl-nb-$mode" -p notebook_execution -- /bin/sh -c "$nbconvert"
        done
        check_notebook system wl-nb-system
        check_notebook user wl-nb-user
}

# analysis-run --copy-workdir: the analysis reads its input from a copy of the working directory and the
# table it writes there is copied back for the caller; nothing else there changes.
copy_workdir() {
        local mode=$1 id=$2 before
        rm -f "$WORK/table.csv"
        before=$(cd "$WORK" && ls -l --time-style=+%s.%N input.csv stats.py)
        member_run "$mode" "$id" --copy-workdir -- python3 table.py
        assertEquals "exit status (stderr: $stderr)" 0 "$rc"
        run_as "$MEMBER" cat "$WORK/table.csv"
        assertEquals "the caller reads the table in its working directory (stderr: $stderr)" 0 "$rc"
        assertEquals "the table" "name,total
x,6
y,60" "$(tr -d '\r' <<<"$stdout")"
        assertEquals "the table belongs to the caller" "$MEMBER" "$(stat -c %U "$WORK/table.csv" 2>&1)"
        assertEquals "the files the analysis did not change are as they were" "$before" \
                "$(cd "$WORK" && ls -l --time-style=+%s.%N input.csv stats.py)"
}

testCopyWorkdirAsMember() {
        copy_workdir system wl-copy-sys
}

testCopyWorkdirUnderUser() {
        copy_workdir user wl-copy-user
}

# Another member of `analysis` reads neither the table in the output directory, nor the record, nor the
# analysis' output; the caller reads all three.
privacy() {
        local mode=$1 id=$2 out file results
        results=$(results_dir "$mode")
        member_run "$mode" "$id" -- /bin/sh -c 'echo secret-output; echo secret-table >"$ANALYSIS_OUTPUT_DIR/table.csv"'
        assertEquals "exit status (stderr: $stderr)" 0 "$rc"
        out=$(field "$mode" "$id" output_dir)
        assertTrue "the record names the output directory ($out)" "[ -d '$out' ]"
        for file in "$out/table.csv" "$results/$id.json" "$results/$id.stdout"; do
                run_as "$MEMBER" cat "$file"
                assertEquals "the caller reads $file (stderr: $stderr)" 0 "$rc"
                run_as "$OTHER" cat "$file"
                assertNotEquals "$OTHER cannot read $file" 0 "$rc"
                assertNotContains "$OTHER sees nothing of $file" "$stdout" secret
        done
        run_as "$OTHER" ls "$out"
        assertNotEquals "$OTHER cannot list the output directory" 0 "$rc"
}

testOtherUserCannotReadAsMember() {
        privacy system wl-priv-sys
}

testOtherUserCannotReadUnderUser() {
        privacy user wl-priv-user
}

# Writing past --disk=20M into the output directory, and 100 MB into /tmp: the VM's disk barely notices,
# and the record says the output directory was full.
testDiskBound() {
        local before after drop out limit=$((20 << 20)) disk_max disk_full disk_used memory_peak notes
        sync
        before=$(df -B1 --output=avail / | tail -n1)
        member_run system wl-disk --disk=20M -- /bin/sh -c '
dd if=/dev/zero of=/tmp/big bs=1M count=100 status=none; echo "tmp=$?"
dd if=/dev/zero of="$ANALYSIS_OUTPUT_DIR/big" bs=1M count=100 status=none; s=$?; echo "output=$s"; exit $s'
        sync
        after=$(df -B1 --output=avail / | tail -n1)
        drop=$((before - after))
        e2e_note "root filesystem: $((drop >> 20)) MiB less free after writing 100 MiB to /tmp and 100 MiB past a 20 MiB disk bound"
        assertEquals "the analysis' write failed: its exit status (stdout: $stdout; stderr: $stderr)" 1 "$rc"
        assertContains "/tmp took 100 MB (a tmpfs of the analysis' own)" "$stdout" "tmp=0"
        assertContains "the output directory did not" "$stdout" "output=1"
        assertTrue "the root filesystem lost $drop bytes, more than the 20 MiB bound and 16 MiB of slack" \
                "[ $drop -lt $((limit + (16 << 20))) ]"
        { read -r disk_max; read -r disk_full; read -r disk_used; read -r memory_peak; read -r notes; read -r out; } \
                < <(fields system wl-disk limits.disk_max usage.disk_full usage.disk_used usage.memory_peak notes output_dir)
        assertEquals "record: limits.disk_max" "$limit" "$disk_max"
        assertEquals "record: usage.disk_full" true "$disk_full"
        assertTrue "record: usage.disk_used near the bound ($disk_used)" \
                "[ '$disk_used' -gt $((19 << 20)) ] && [ '$disk_used' -le $limit ]"
        # /tmp is charged to the analysis' memory.
        assertTrue "record: usage.memory_peak counts the 100 MB in /tmp ($memory_peak)" \
                "[ '$memory_peak' -ge $((100 << 20)) ]"
        assertContains "the notes say why and name the limit" "$notes" \
                "Its output directory was full (20.0 MiB of its Disk= limit of 20.0 MiB)"
        assertContains "so does analysis-run's summary" "$stderr" "Its output directory was full"
        # Room on the VM's disk for the suites after this one.
        if [[ $out == "$SYSTEM_RESULTS/wl-disk.output" ]]; then
                rm -rf "$out"
        fi
}

# A user's own manager has no root to mount a bounded output directory: the record and notes say so.
testDiskNotBoundUnderUser() {
        member_run user wl-disk-user --disk=20M -- /bin/sh -c 'echo small >"$ANALYSIS_OUTPUT_DIR/f"'
        assertEquals "exit status (stderr: $stderr)" 0 "$rc"
        local disk_max notes
        { read -r disk_max; read -r notes; } < <(fields user wl-disk-user limits.disk_max notes)
        assertEquals "record: limits.disk_max" null "$disk_max"
        # Matched here, not in assertTrue's string: the notes hold an apostrophe.
        local says=no
        [[ $notes == *"not bounded by Disk="* ]] && says=yes
        assertEquals "the notes say the disk bound is not enforced ($notes)" yes "$says"
}

# The thread variables follow the CPU quota, rounded up to whole CPUs (the VM has 2), unless the caller
# sets one.
thread_variables() {
        local mode=$1 id=$2 var
        member_run "$mode" "$id-150" -p e2ewl --cpu=150% -- /usr/bin/env
        assertEquals "--cpu=150%: exit status (stderr: $stderr)" 0 "$rc"
        for var in "${THREAD_VARS[@]}"; do
                assertEquals "--cpu=150%: $var" 2 "$(env_value "$var" <<<"$stdout")"
        done
        member_run "$mode" "$id-50" -p e2ewl --cpu=50% --setenv=OMP_NUM_THREADS=7 -- /usr/bin/env
        assertEquals "--cpu=50%: exit status (stderr: $stderr)" 0 "$rc"
        assertEquals "--cpu=50% --setenv=OMP_NUM_THREADS=7: the caller's value wins" 7 \
                "$(env_value OMP_NUM_THREADS <<<"$stdout")"
        for var in "${THREAD_VARS[@]:1}"; do
                assertEquals "--cpu=50%: $var" 1 "$(env_value "$var" <<<"$stdout")"
        done
}

testThreadVariablesAsMember() {
        thread_variables system wl-threads-sys
}

testThreadVariablesUnderUser() {
        thread_variables user wl-threads-user
}

. shunit2
