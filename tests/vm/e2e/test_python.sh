#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): the Python binding analysis_sandbox, imported by the system's python3, runs
# analyses through analysis-run and analysisctl and reports each outcome as a Completion or an exception.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESULTS_DIR=/var/lib/analysis-sandbox/results
WORK=$E2E_SCRATCH/python-work

oneTimeSetUp() {
        local u
        mkdir -p "$WORK"
        chmod 0777 "$WORK"
        for u in member1 outsider; do
                id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
        done
        usermod -aG analysis member1
}

# Runs the Python code CODE (after "import analysis_sandbox as s") with the system's python3 from $WORK,
# as USER with "-u USER" (default root); leaves $rc, $stdout and $stderr.
py() {
        local user=root
        if [[ $1 == -u ]]; then
                user=$2
                shift 2
        fi
        runuser -u "$user" -- env -C "$WORK" /usr/bin/python3 -c "import analysis_sandbox as s
$1" >"$SHUNIT_TMPDIR/out" 2>"$SHUNIT_TMPDIR/err"
        rc=$?
        stdout=$(cat "$SHUNIT_TMPDIR/out")
        stderr=$(cat "$SHUNIT_TMPDIR/err")
}

field() {
        e2e_record_field "$@"
}

testImportedFromDistPackages() {
        py 'print(s.__file__)'
        assertEquals "import (stderr: $stderr)" 0 "$rc"
        assertEquals "installed where Debian's python3 looks" /usr/lib/python3/dist-packages/analysis_sandbox/__init__.py "$stdout"
}

testRunCapturesOutput() {
        py 'c = s.run(["/bin/sh", "-c", "echo out; echo err >&2"], analysis_id="py-ok1")
print(c.returncode, c.result, c.analysis_id, c.profile, c.limits.memory_max)
print(repr(c.stdout), repr(c.stderr))
print(c.completion_notes)
print(c.usage.runtime_sec is not None, c.finished_at >= c.started_at, c.record["unit"])
print(c.check() is c)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status, result, id, profile, memory limit" "0 success py-ok1 default 2147483648" "$(sed -n 1p <<<"$stdout")"
        assertEquals "stdout and stderr captured apart, no summary" "b'out\n' b'err\n'" "$(sed -n 2p <<<"$stdout")"
        assertContains "notes" "$(sed -n 3p <<<"$stdout")" "Finished: exited with status 0"
        assertEquals "usage, times, raw record" "True True analysis@py-ok1.service" "$(sed -n 4p <<<"$stdout")"
        assertEquals "check() passes a success" True "$(sed -n 5p <<<"$stdout")"
        assertEquals "the notes are the record's" "$(field py-ok1 notes)" "$(sed -n 3p <<<"$stdout")"
}

# The analysis' own status is never taken for a setup error, even when it is one of their numbers.
testFailedAnalysisIsCompletion() {
        py 'c = s.run(["/bin/sh", "-c", "exit 127"], analysis_id="py-exit127")
print(c.returncode, c.result, c.exit_code, c.exit_status)
try:
    c.check()
except s.AnalysisFailed as e:
    print("failed", e.returncode, e.completion is c)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "a Completion with the analysis' status" "127 exit-code exited 127" "$(sed -n 1p <<<"$stdout")"
        assertEquals "check() raises AnalysisFailed" "failed 127 True" "$(sed -n 2p <<<"$stdout")"
}

testMemoryLimit() {
        py "c = s.run(['python3', '$E2E_ANALYSES/hog.py'], memory='64M', analysis_id='py-oom1')
print(c.returncode, c.result, c.limits.memory_max, c.profile_limits.memory_max, c.usage.oom_kills > 0)
print(c.completion_notes)"
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status, result, limits, oom_kills" "125 oom-kill 67108864 2147483648 True" "$(sed -n 1p <<<"$stdout")"
        assertContains "notes name the limit" "$(sed -n 2p <<<"$stdout")" \
                "Killed: memory use reached the 64.0 MiB limit set for this analysis"
}

testTimeout() {
        py 'c = s.run(["/bin/sleep", "60"], timeout=3, analysis_id="py-time1")
print(c.returncode, c.result, c.limits.runtime_max_sec, 2.9 <= c.usage.runtime_sec <= 10)
print(c.completion_notes)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status, result, limit, runtime" "124 timeout 3.0 True" "$(sed -n 1p <<<"$stdout")"
        assertContains "notes name the limit" "$(sed -n 2p <<<"$stdout")" "the 3 s time limit set for this analysis"
}

testEnvironmentAndDirectory() {
        py "c = s.run(['/bin/sh', '-c', 'echo \"\$FOO \$(pwd)\"'], env={'FOO': 'bar baz'}, cwd='$E2E_SCRATCH',
          analysis_id='py-env1')
print(c.stdout.decode(), end='')"
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "env= and cwd= reach the analysis" "bar baz $E2E_SCRATCH" "$stdout"
}

# Prints the exception's class, status and message for a run() with the given arguments.
setup_error_snippet() {
        echo "try:
    s.run($1)
except s.AnalysisError as e:
    print(type(e).__name__, e.returncode)
    print(e.message)
else:
    print('no exception')"
}

testUnknownProfile() {
        py "$(setup_error_snippet '["/bin/true"], profile="nosuchprofile", analysis_id="py-noprof"')"
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "exception and status" "UnknownProfileError 66" "$(sed -n 1p <<<"$stdout")"
        assertContains "analysis-run's message" "$(sed -n 2p <<<"$stdout")" "Unknown profile 'nosuchprofile'"
}

testLimitAboveProfile() {
        py "$(setup_error_snippet '["/bin/true"], memory=4 << 30, analysis_id="py-raise1"')"
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "exception and status" "LimitAboveProfileError 65" "$(sed -n 1p <<<"$stdout")"
        assertContains "names the profile's value" "$(sed -n 2p <<<"$stdout")" "above the 2.0 GiB limit of profile 'default'"
        assertFalse "nothing ran" "[ -e $RESULTS_DIR/py-raise1.json ]"
}

testCommandNotFound() {
        py "$(setup_error_snippet '["no-such-command-anywhere"]')"
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "exception and status" "CommandNotFoundError 127" "$(sed -n 1p <<<"$stdout")"
}

# The unit refused to run the command: an exception, with the record that says why.
testNotRunRaisesWithRecord() {
        py 'try:
    s.run(["/bin/true"], cwd="/root", analysis_id="py-notrun1")
except s.UnavailableError as e:
    print(e.returncode, e.record["id"], e.record["error"] is not None)
    print(e.message)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status 69, the record attached" "69 py-notrun1 True" "$(sed -n 1p <<<"$stdout")"
        assertContains "the message is the record's notes" "$(sed -n 2p <<<"$stdout")" "Not run: cannot change to directory /root"
        assertContains "the message says what to do" "$(sed -n 2p <<<"$stdout")" \
                "the analysis runs as that account, not as its caller: run it from a directory other users can enter"
}

testBusyId() {
        e2e_units+=(analysis@py-busy1.service)
        py "s.start(['/bin/sleep', '30'], analysis_id='py-busy1')
$(setup_error_snippet '["/bin/true"], analysis_id="py-busy1"')"
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "exception and status" "BusyError 75" "$(sed -n 1p <<<"$stdout")"
}

testMemberAndOutsider() {
        # The account's name (as-ID) resolves only with nss-systemd; its UID is from systemd's dynamic range.
        py -u member1 'c = s.run(["/usr/bin/id", "-u"], analysis_id="py-member1")
print(c.returncode, 61184 <= int(c.stdout) <= 65519, c.caller_uid)'
        assertEquals "member: python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "member: runs as an account of its own (DynamicUser=)" "0 True $(id -u member1)" "$stdout"
        py -u outsider "$(setup_error_snippet '["/bin/true"], analysis_id="py-out1"')"
        assertEquals "outsider: python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "outsider: exception and status" "PermissionDeniedError 77" "$(sed -n 1p <<<"$stdout")"
        assertContains "outsider: analysis-run's message" "$(sed -n 2p <<<"$stdout")" \
                "only for root and members of the group 'analysis'"
        assertFalse "outsider: nothing ran" "[ -e $RESULTS_DIR/py-out1.json ]"
}

# A KeyboardInterrupt in run() stops the analysis gracefully instead of leaving it behind.
testInterruptCancels() {
        local pid
        runuser -u member1 -- env -C "$WORK" /usr/bin/python3 -c '
import signal, sys
import analysis_sandbox as s
# A background job of a non-interactive shell starts with SIGINT ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    s.run(["/bin/sleep", "60"], analysis_id="py-int1")
except KeyboardInterrupt:
    sys.exit(3)' >"$SHUNIT_TMPDIR/int.out" 2>&1 &
        pid=$!
        e2e_units+=(analysis@py-int1.service)
        assertTrue "py-int1 is running" "e2e_wait_active analysis@py-int1.service 20"
        # Only python3, not analysis-run: the binding has to pass the stop on itself.
        kill -INT "$(pgrep -P "$pid" -x python3 || echo "$pid")"
        wait "$pid"
        rc=$?
        assertEquals "KeyboardInterrupt reaches the caller ($(cat "$SHUNIT_TMPDIR/int.out"))" 3 "$rc"
        assertEquals "record: result" cancelled "$(field py-int1 result)"
        assertEquals "the unit is stopped" inactive "$(e2e_prop analysis@py-int1.service ActiveState)"
}

testStartAndWait() {
        command -v analysisctl >/dev/null
        assertTrue "analysisctl is installed (start/wait/stop need it)" $?
        e2e_units+=(analysis@py-start1.service)
        py -u member1 'i = s.start(["/bin/sh", "-c", "sleep 2; echo late; echo oops >&2; exit 4"], analysis_id="py-start1", memory="100M")
print(i)
c = s.wait(i)
print(c.returncode, c.result, c.limits.memory_max, repr(c.stdout), repr(c.stderr))
c2 = s.wait(i)
print(c2.invocation_id == c.invocation_id)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "start() returns the id" py-start1 "$(sed -n 1p <<<"$stdout")"
        assertEquals "wait(): status 4 is the analysis', output from the files" \
                "4 exit-code 104857600 b'late\n' b'oops\n'" "$(sed -n 2p <<<"$stdout")"
        assertEquals "wait() on an ended analysis returns its record" True "$(sed -n 3p <<<"$stdout")"
}

testStartAndStop() {
        command -v analysisctl >/dev/null
        assertTrue "analysisctl is installed (start/wait/stop need it)" $?
        e2e_units+=(analysis@py-stop1.service)
        py -u member1 'import time
i = s.start(["/bin/sleep", "60"], analysis_id="py-stop1")
t = time.monotonic()
s.stop(i)
c = s.wait(i)
print(c.result, c.returncode, time.monotonic() - t < 30)
print(c.completion_notes)
try:
    s.stop(i)
except s.NoSuchAnalysisError as e:
    print("stopped twice:", type(e).__name__, e.returncode)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "result cancelled, status 128+TERM, soon" "cancelled 143 True" "$(sed -n 1p <<<"$stdout")"
        assertContains "notes" "$(sed -n 2p <<<"$stdout")" "Cancelled"
        assertEquals "stop() of an ended analysis" "stopped twice: NoSuchAnalysisError 4" "$(sed -n 3p <<<"$stdout")"
}

testWaitUnknownId() {
        py 'try:
    s.wait("py-never-ran")
except s.AnalysisError as e:
    print(type(e).__name__, e.returncode)
try:
    s.wait("a/b")
except s.AnalysisError as e:
    print(type(e).__name__, e.returncode)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "no such analysis" "NoSuchAnalysisError 4" "$(sed -n 1p <<<"$stdout")"
        assertEquals "a bad id" "UsageError 64" "$(sed -n 2p <<<"$stdout")"
}

testUserManager() {
        local uid home
        uid=$(e2e_start_user_manager alice)
        home=$(getent passwd alice | cut -d: -f6)
        assertTrue "alice's manager is up" "[ -S /run/user/$uid/bus ]"
        runuser -u alice -- env -C / XDG_RUNTIME_DIR="/run/user/$uid" /usr/bin/python3 -c "
import analysis_sandbox as s
c = s.run(['/bin/sh', '-c', 'id -un'], user=True, analysis_id='py-user1', memory='32M')
print(c.returncode, c.result, c.stdout.decode().strip(), c.stdout_file)
c = s.run(['python3', '$E2E_ANALYSES/hog.py'], user=True, analysis_id='py-user2', memory='32M')
print(c.returncode, c.result)
i = s.start(['/bin/sh', '-c', 'sleep 1; echo later'], user=True, analysis_id='py-user3')
c = s.wait(i, user=True)
print(c.returncode, c.result, repr(c.stdout))" >"$SHUNIT_TMPDIR/user.out" 2>"$SHUNIT_TMPDIR/user.err"
        rc=$?
        assertEquals "python3 as alice (stderr: $(cat "$SHUNIT_TMPDIR/user.err"))" 0 "$rc"
        assertEquals "runs as alice, record in her state directory" \
                "0 success alice $home/.local/state/analysis-sandbox/results/py-user1.stdout" \
                "$(sed -n 1p "$SHUNIT_TMPDIR/user.out")"
        assertEquals "oom-kill under the user manager" "125 oom-kill" "$(sed -n 2p "$SHUNIT_TMPDIR/user.out")"
        assertEquals "start() and wait() under the user manager" "0 success b'later\\n'" "$(sed -n 3p "$SHUNIT_TMPDIR/user.out")"
}

# ---- The platform runtime's API: isolated_run() and its helpers -------------------------------------

# Makes a fresh directory NAME in $WORK owned by USER and prints its path.
user_dir() {
        local d=$WORK/$1
        rm -rf "$d"
        install -d -o "$2" -g "$2" "$d"
        echo "$d"
}

# A script that reads an input file of its working directory and writes a table and a figure beside it,
# in DIR, owned by USER.
write_table_script() {
        cat >"$1/write_table.py" <<'EOF'
import pathlib
words = len(pathlib.Path("input.txt").read_text().split())
pathlib.Path("table.csv").write_text(f"words\n{words}\n")
pathlib.Path("figures").mkdir()
pathlib.Path("figures/fig1.txt").write_text("plot\n")
print("wrote", words)
EOF
        echo "three little words" >"$1/input.txt"
        chown "$2:" "$1/write_table.py" "$1/input.txt"
}

# What the script wrote into its working directory is there afterwards, as with subprocess.run(cwd=).
testIsolatedRunWritesIntoCwd() {
        local d
        d=$(user_dir iso-cwd member1)
        write_table_script "$d" member1
        py -u member1 "r = s.isolated_run(['python3', 'write_table.py'], cwd='$d', analysis_id='py-iso-cwd1')
print(r.returncode, repr(r.completion_notes), repr(r.stdout), repr(r.stderr), type(r.stdout).__name__)
print(repr(open('$d/table.csv').read()), open('$d/figures/fig1.txt').read().strip())
print(r.output_dir, r.args)"
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status, empty notes, text output" "0 '' 'wrote 3\n' '' str" "$(sed -n 1p <<<"$stdout")"
        assertEquals "the caller reads what it wrote into its cwd" "'words\n3\n' plot" "$(sed -n 2p <<<"$stdout")"
        assertEquals "output_dir, args" "$RESULTS_DIR/py-iso-cwd1.output ['python3', 'write_table.py']" \
                "$(sed -n 3p <<<"$stdout")"
        assertEquals "the table is the caller's" member1 "$(stat -c %U "$d/table.csv")"
        assertEquals "the input is as it was" "three little words" "$(cat "$d/input.txt")"
        assertEquals "the record names the output directory" "$RESULTS_DIR/py-iso-cwd1.output" \
                "$(field py-iso-cwd1 output_dir)"
}

# A plain exit, 0 or not, leaves completion_notes empty: only a limit gives a sentence.
testIsolatedPlainExit() {
        py -u member1 'r = s.isolated_run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], analysis_id="py-iso-exit3")
print(r.returncode, repr(r.completion_notes), repr(r.stdout), repr(r.stderr))
print(r.completion.completion_notes)
r = s.isolated_run(["/bin/true"], analysis_id="py-iso-true")
print(r.returncode, repr(r.completion_notes))'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status 3, no notes, output as str" "3 '' 'out\n' 'err\n'" "$(sed -n 1p <<<"$stdout")"
        assertContains "the record still says how it ended" "$(sed -n 2p <<<"$stdout")" "Failed: exited with status 3"
        assertEquals "success, no notes" "0 ''" "$(sed -n 3p <<<"$stdout")"
}

testIsolatedMemoryLimit() {
        py -u member1 "r = s.isolated_run(['python3', '$E2E_ANALYSES/hog.py'], memory_limit_mb=64, analysis_id='py-iso-oom1')
print(r.returncode, r.completion.result, r.completion.limits.memory_max)
print(r.completion_notes)"
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status 125, oom-kill, 64 MiB" "125 oom-kill 67108864" "$(sed -n 1p <<<"$stdout")"
        assertContains "a sentence names the limit" "$(sed -n 2p <<<"$stdout")" \
                "Killed: memory use reached the 64.0 MiB limit set for this analysis"
}

testIsolatedTimeout() {
        py -u member1 'r = s.isolated_run(["/bin/sleep", "60"], timeout_seconds=3, analysis_id="py-iso-time1")
print(r.returncode, r.completion.result, r.completion.limits.runtime_max_sec)
print(r.completion_notes)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status 124, timeout, 3 s" "124 timeout 3.0" "$(sed -n 1p <<<"$stdout")"
        assertContains "a sentence names the limit" "$(sed -n 2p <<<"$stdout")" "the 3 s time limit set for this analysis"
}

# pids_limit=8 and a command that starts 16 children: the refused fork ends it, and the notes say why.
testIsolatedPidsLimit() {
        py -u member1 'code = """
import subprocess, sys
try:
    children = [subprocess.Popen(["sleep", "10"]) for _ in range(16)]
except OSError as e:
    sys.exit(f"fork refused: {e}")
"""
r = s.isolated_run(["python3", "-c", code], pids_limit=8, analysis_id="py-iso-pids1")
print(r.returncode, r.completion.limits.tasks_max, r.completion.usage.tasks_limit_hits > 0)
print(r.completion_notes)
print(r.stderr.strip())'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status 1, 8 tasks, hits counted" "1 8 True" "$(sed -n 1p <<<"$stdout")"
        assertContains "a sentence names the limit" "$(sed -n 2p <<<"$stdout")" "It hit the limit of 8 tasks"
        assertContains "the command's own error" "$(sed -n 3p <<<"$stdout")" "fork refused"
}

# disk_limit_mb=1 and a command that writes 2 MiB into its output directory: the write fails, the command
# exits by itself, and completion_notes says the directory was full (its results may be incomplete).
testIsolatedDiskFull() {
        py -u member1 'r = s.isolated_run(["/bin/sh", "-c", "head -c 2M /dev/zero > \"$ANALYSIS_OUTPUT_DIR/big\""],
                  disk_limit_mb=1, analysis_id="py-iso-disk1")
c = r.completion
print(r.returncode != 0, c.limits.disk_max, c.usage.disk_full, 0 < c.usage.disk_used <= 1 << 20)
print(r.completion_notes)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "failed, 1 MiB, full, used" "True 1048576 True True" "$(sed -n 1p <<<"$stdout")"
        assertContains "a sentence names the limit" "$(sed -n 2p <<<"$stdout")" "Its output directory was full"
}

# The helpers run under their vendor profiles; cpu_quota is CPUs, memory_limit_mb mebibytes.
testIsolatedHelpersAndUnits() {
        py -u member1 'r = s.run_tool_isolated(["/bin/true"], cpu_quota=0.25, memory_limit_mb=100, analysis_id="py-iso-tool1")
print(r.returncode, r.completion.profile, r.completion.limits.cpu_quota_percent, r.completion.limits.memory_max)
r = s.run_post_process_isolated(["/bin/true"], cpu_quota=1, pids_limit=20, analysis_id="py-iso-post1")
print(r.returncode, r.completion.profile, r.completion.limits.cpu_quota_percent, r.completion.limits.tasks_max)'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "tool: a quarter CPU, 100 MiB" "0 tool 25 104857600" "$(sed -n 1p <<<"$stdout")"
        assertEquals "post_process: one CPU, 20 tasks" "0 post_process 100 20" "$(sed -n 2p <<<"$stdout")"
}

# Tighten only: above the profile's limit is refused before anything runs, per profile.
testIsolatedLimitAboveProfile() {
        local id
        py -u member1 'for f, kw, i in ((s.run_tool_isolated, {"memory_limit_mb": 1024}, "py-iso-up1"),
                   (s.isolated_run, {"cpu_quota": 2.0}, "py-iso-up2"),
                   (s.run_post_process_isolated, {"timeout_seconds": 3600}, "py-iso-up3")):
    try:
        f(["/bin/true"], analysis_id=i, **kw)
    except s.LimitAboveProfileError as e:
        print(type(e).__name__, e.returncode, e.message)
    else:
        print("no exception")'
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertContains "memory above tool's" "$(sed -n 1p <<<"$stdout")" "LimitAboveProfileError 65"
        assertContains "names tool's limit" "$(sed -n 1p <<<"$stdout")" "profile 'tool'"
        assertContains "CPU above default's" "$(sed -n 2p <<<"$stdout")" "LimitAboveProfileError 65"
        assertContains "time above post_process's" "$(sed -n 3p <<<"$stdout")" "LimitAboveProfileError 65"
        for id in py-iso-up1 py-iso-up2 py-iso-up3; do
                assertFalse "$id: nothing ran" "[ -e $RESULTS_DIR/$id.json ]"
        done
}

# A notebook with one cell that prints and writes a file into its working directory, in DIR, owned by USER.
tiny_notebook() {
        cat >"$1/tiny.ipynb" <<'EOF'
{"cells": [{"cell_type": "code", "execution_count": null, "id": "c1", "metadata": {}, "outputs": [],
  "source": ["import pathlib\n", "pathlib.Path('answer.txt').write_text(str(6 * 7))\n", "print(6 * 7)"]}],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5}
EOF
        chown "$2:" "$1/tiny.ipynb"
}

# Jupyter comes into the image with tests/vm/build-image's workload packages; without them this says so.
have_nbconvert() {
        if ! /usr/bin/python3 -c 'import nbconvert, nbclient, ipykernel' 2>/dev/null; then
                e2e_note "SKIPPED: no nbconvert, nbclient and ipykernel in the image: run_notebook_isolated untested"
                return 1
        fi
}

testRunNotebookIsolated() {
        local d
        have_nbconvert || return 0
        d=$(user_dir iso-nb member1)
        tiny_notebook "$d" member1
        py -u member1 "import json
r = s.run_notebook_isolated('$d/tiny.ipynb', timeout_seconds=300, analysis_id='py-iso-nb1')
print(r.returncode, repr(r.completion_notes), r.completion.profile, r.executed_notebook)
if r.returncode:
    raise SystemExit(r.stderr[-2000:])
nb = json.load(open(r.executed_notebook))
print(repr(''.join(nb['cells'][0]['outputs'][0]['text'])), open('$d/answer.txt').read())"
        assertEquals "python3 (stderr: $stderr)" 0 "$rc"
        assertEquals "status, no notes, profile, the executed notebook beside the input" \
                "0 '' notebook_execution $d/tiny.nbconvert.ipynb" "$(sed -n 1p <<<"$stdout")"
        assertEquals "the cell ran: its output, and the file it wrote" "'42\n' 42" "$(sed -n 2p <<<"$stdout")"
        assertEquals "the executed notebook is the caller's" member1 "$(stat -c %U "$d/tiny.nbconvert.ipynb")"
        assertEquals "the input is left as it was" None \
                "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cells"][0]["execution_count"])' "$d/tiny.ipynb")"
}

# Under a user's own manager (user=True): the write-back, a limit's sentence, and a notebook.
testIsolatedUserManager() {
        local uid d
        uid=$(e2e_start_user_manager alice)
        assertTrue "alice's manager is up" "[ -S /run/user/$uid/bus ]"
        d=$(user_dir iso-user alice)
        write_table_script "$d" alice
        runuser -u alice -- env -C / XDG_RUNTIME_DIR="/run/user/$uid" /usr/bin/python3 -c "
import analysis_sandbox as s
r = s.isolated_run(['python3', 'write_table.py'], cwd='$d', user=True, analysis_id='py-iso-user1')
print(r.returncode, repr(r.completion_notes), repr(open('$d/table.csv').read()))
r = s.isolated_run(['python3', '$E2E_ANALYSES/hog.py'], memory_limit_mb=32, user=True, analysis_id='py-iso-user2')
print(r.returncode, bool(r.completion_notes))" >"$SHUNIT_TMPDIR/user.out" 2>"$SHUNIT_TMPDIR/user.err"
        rc=$?
        assertEquals "python3 as alice (stderr: $(cat "$SHUNIT_TMPDIR/user.err"))" 0 "$rc"
        assertEquals "the table comes back under the user manager" "0 '' 'words\n3\n'" \
                "$(sed -n 1p "$SHUNIT_TMPDIR/user.out")"
        assertEquals "a memory limit gives 125 and a sentence" "125 True" "$(sed -n 2p "$SHUNIT_TMPDIR/user.out")"
        assertEquals "the table is alice's" alice "$(stat -c %U "$d/table.csv")"
        have_nbconvert || return 0
        tiny_notebook "$d" alice
        runuser -u alice -- env -C / XDG_RUNTIME_DIR="/run/user/$uid" /usr/bin/python3 -c "
import analysis_sandbox as s
r = s.run_notebook_isolated('$d/tiny.ipynb', '$d/out/run.ipynb', user=True, analysis_id='py-iso-user3')
print(r.returncode, repr(r.completion_notes), r.executed_notebook, r.returncode or open('$d/answer.txt').read())
if r.returncode:
    raise SystemExit(r.stderr[-2000:])" \
                >"$SHUNIT_TMPDIR/user.out" 2>"$SHUNIT_TMPDIR/user.err"
        rc=$?
        assertEquals "notebook as alice (stderr: $(cat "$SHUNIT_TMPDIR/user.err"))" 0 "$rc"
        assertEquals "the notebook ran, written where asked" "0 '' $d/out/run.ipynb 42" \
                "$(sed -n 1p "$SHUNIT_TMPDIR/user.out")"
}

. shunit2
