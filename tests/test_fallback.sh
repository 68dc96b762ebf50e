#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests analysis-run without systemd: failing closed by default, and --fallback=rlimit running the analysis
# itself (limits, timeout, process-group kill, cancel, record and notes). It needs no systemd: the analyses run
# for --user with $XDG_RUNTIME_DIR pointing at an empty directory, so no user manager can be reached even on a
# host that has one; the system-scope tests run as root in a mount namespace with a tmpfs over /var/lib, so
# the host's own /var/lib is never touched.
# Needs ANALYSIS_RUN from meson; perl and python3.

# shellcheck source=tests/for-other-users.sh
. "$(dirname "${BASH_SOURCE[0]}")/for-other-users.sh"

oneTimeSetUp() {
        profiles="$SHUNIT_TMPDIR/profiles"
        mkdir -p "$profiles" "$SHUNIT_TMPDIR/runtime" "$SHUNIT_TMPDIR/work"
        write_profile "$profiles/default.ini" 64M 100% 20 1min 2s
        write_profile "$profiles/tiny.ini" 32M 50% 5 30s 1s
        write_profile "$profiles/half.ini" 50% 100% 20 1min 2s
        mkdir -p "$SHUNIT_TMPDIR/bad"
        write_profile "$SHUNIT_TMPDIR/bad/default.ini" 3X 100% 20 1min 2s
        # Whatever the host has, the analyses under test find no user manager.
        unset DBUS_SESSION_BUS_ADDRESS
}

setUp() {
        state=$(mktemp -d "$SHUNIT_TMPDIR/state.XXXXXX")
        results="$state/analysis-sandbox/results"
}

write_profile() {  # PATH MEMORY CPU TASKS RUNTIME KILLGRACE
        printf '[Profile]\nDescription=Test\nUser=nobody\n[Limits]\nMemory=%s\nCPU=%s\nTasks=%s\nRuntime=%s\nKillGrace=%s\n' \
                "$2" "$3" "$4" "$5" "$6" >"$1"
}

# Runs analysis-run --user in the scratch state; stdout, stderr and status land in $stdout, $stderr, $status,
# the wall-clock time in milliseconds in $elapsed_ms.
run_user() {  # ARGS...
        local start
        start=$(date +%s%N)
        (cd "$SHUNIT_TMPDIR/work" &&
                ANALYSIS_SANDBOX_PROFILE_PATH=${PROFILE_PATH:-$profiles} XDG_STATE_HOME=$state \
                XDG_RUNTIME_DIR=$SHUNIT_TMPDIR/runtime "$ANALYSIS_RUN" --user "$@") \
                >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        status=$?
        elapsed_ms=$((($(date +%s%N) - start) / 1000000))
        stdout=$(cat "$SHUNIT_TMPDIR/stdout")
        stderr=$(cat "$SHUNIT_TMPDIR/stderr")
}

# Prints one field of a record, as JSON ("null" for null). FIELD is a path such as usage.memory_peak.
field() {  # JSON_FILE FIELD
        python3 - "$1" "$2" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2].split("."):
    value = value[key]
print(value if isinstance(value, str) else json.dumps(value))
PY
}

# Whether analysis-run can run for the system here without touching the host: root, no system bus, unshare.
can_run_system() {
        [ "$(id -u)" = 0 ] && [ ! -S /run/dbus/system_bus_socket ] && unshare -m true 2>/dev/null
}

# Runs analysis-run --system as root in a private mount namespace with a tmpfs over /var/lib, and copies its
# results into $results; status and output as run_user.
run_system() {  # ARGS...
        mkdir -p "$results"
        ANALYSIS_SANDBOX_PROFILE_PATH=$profiles unshare -m --propagation private /bin/sh -c '
                mount -t tmpfs tmpfs /var/lib || exit 99
                "$0" "$@"
                rc=$?
                cp /var/lib/analysis-sandbox/results/* "'"$results"'/" 2>/dev/null
                exit $rc' "$ANALYSIS_RUN" --system "$@" >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        status=$?
        stdout=$(cat "$SHUNIT_TMPDIR/stdout")
        stderr=$(cat "$SHUNIT_TMPDIR/stderr")
}

test_without_the_flag_it_fails_closed() {
        run_user --id=closed -- sh -c 'echo ran >"$0"' "$SHUNIT_TMPDIR/ran-closed"
        assertEquals "no user manager: exit status" 69 "$status"
        assertContains "no user manager: names the manager" "$stderr" "Cannot reach the user's service manager"
        assertContains "no user manager: names the way out" "$stderr" "--fallback=rlimit"
        assertFalse "no user manager: the command did not run" "[ -e '$SHUNIT_TMPDIR/ran-closed' ]"
        assertFalse "no user manager: no record" "[ -e '$results/closed.json' ]"

        if [ -S /run/dbus/system_bus_socket ]; then
                echo "(this host has a system bus: the system-scope half of this test is left out)"
                return
        fi
        "$ANALYSIS_RUN" -- true >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        status=$?
        stderr=$(cat "$SHUNIT_TMPDIR/stderr")
        assertEquals "no system bus: exit status" 69 "$status"
        assertContains "no system bus: names the manager" "$stderr" "Cannot reach the system service manager"
        assertContains "no system bus: names the way out" "$stderr" "--fallback=rlimit"
}

test_bad_fallback_value() {
        run_user --fallback=chroot -- true
        assertEquals "exit status" 64 "$status"
        assertContains "message" "$stderr" "Invalid --fallback 'chroot': expected 'rlimit' or 'none'."
}

test_success_streams_output_and_keeps_it() {
        run_user --fallback=rlimit --id=ok -- sh -c 'echo out-line; echo err-line >&2'
        assertEquals "exit status" 0 "$status"
        assertContains "stdout streamed" "$stdout" "out-line"
        assertContains "stderr streamed" "$stderr" "err-line"
        assertEquals "stdout file" "out-line" "$(cat "$results/ok.stdout")"
        assertEquals "stderr file" "err-line" "$(cat "$results/ok.stderr")"
        assertEquals "result" success "$(field "$results/ok.json" result)"
        assertEquals "exit_code" exited "$(field "$results/ok.json" exit_code)"
        assertEquals "exit_status" 0 "$(field "$results/ok.json" exit_status)"
        assertContains "summary" "$stderr" "Analysis ok (profile default): Finished: exited with status 0"
}

test_exit_code() {
        run_user --fallback=rlimit --id=three -- sh -c 'exit 3'
        assertEquals "exit status" 3 "$status"
        assertEquals "result" exit-code "$(field "$results/three.json" result)"
        assertEquals "exit_status" 3 "$(field "$results/three.json" exit_status)"
        assertContains "notes" "$(field "$results/three.json" notes)" "Failed: exited with status 3"
}

test_no_xdg_runtime_dir_needed() {
        (cd "$SHUNIT_TMPDIR/work" && unset XDG_RUNTIME_DIR &&
                ANALYSIS_SANDBOX_PROFILE_PATH=$profiles XDG_STATE_HOME=$state \
                "$ANALYSIS_RUN" --user --fallback=rlimit --id=noxdg -- echo fine) \
                >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        status=$?
        assertEquals "exit status" 0 "$status"
        assertEquals "stdout" fine "$(cat "$SHUNIT_TMPDIR/stdout")"
        assertEquals "record" success "$(field "$results/noxdg.json" result)"
}

test_record_fields_and_notes() {
        local json="$results/rec.json" notes
        run_user --fallback=rlimit --id=rec --memory=48M -- sh -c 'echo to-stderr >&2; exit 0'
        assertEquals "exit status" 0 "$status"
        assertEquals "id" rec "$(field "$json" id)"
        assertEquals "unit: none" null "$(field "$json" unit)"
        assertEquals "profile" default "$(field "$json" profile)"
        assertEquals "isolation" rlimit "$(field "$json" isolation)"
        assertEquals "no samples" null "$(field "$json" samples)"
        assertContains "and why" "$(field "$json" samples_missing)" "no cgroup to sample"
        assertTrue "invocation_id is 32 hex digits: $(field "$json" invocation_id)" \
                "[[ '$(field "$json" invocation_id)' =~ ^[0-9a-f]{32}$ ]]"
        assertEquals "limits.memory_max (--memory)" 50331648 "$(field "$json" limits.memory_max)"
        assertEquals "profile_limits.memory_max" 67108864 "$(field "$json" profile_limits.memory_max)"
        assertEquals "limits.cpu_quota_percent" 100 "$(field "$json" limits.cpu_quota_percent)"
        assertEquals "limits.runtime_max_sec" 60.0 "$(field "$json" limits.runtime_max_sec)"
        assertEquals "profile_limits.tasks_max" 20 "$(field "$json" profile_limits.tasks_max)"
        assertEquals "usage.oom_kills: cannot be known" null "$(field "$json" usage.oom_kills)"
        assertEquals "usage.tasks_limit_hits: cannot be known" null "$(field "$json" usage.tasks_limit_hits)"
        assertTrue "usage.memory_peak is a number above 0" "[ '$(field "$json" usage.memory_peak)' -gt 0 ]"
        assertNotEquals "usage.runtime_sec" null "$(field "$json" usage.runtime_sec)"
        assertNotEquals "started_at" null "$(field "$json" started_at)"
        assertEquals "caller_uid" "$(id -u)" "$(field "$json" caller_uid)"
        assertEquals "stdout_file" "$results/rec.stdout" "$(field "$json" stdout_file)"
        assertEquals "stderr_tail" "to-stderr" "$(field "$json" stderr_tail | tr -d '\n')"
        assertEquals "error" null "$(field "$json" error)"
        notes=$(field "$json" notes)
        assertContains "notes: no cgroup isolation" "$notes" \
                "It ran without cgroup isolation or the profile's sandboxing (--fallback=rlimit: no systemd), so its limits were only approximated:"
        assertContains "notes: memory approximated" "$notes" "memory as 48.0 MiB of address space per process"
        assertContains "notes: CPU approximated" "$notes" "CPU as CPU time per process (the time limit times 100%, no throttling)"
        assertContains "notes: peak memory approximated" "$notes" "Peak memory is that of the largest single process (ru_maxrss)."
        if [ "$(id -u)" = 0 ]; then
                assertEquals "limits.tasks_max as root: none" null "$(field "$json" limits.tasks_max)"
                assertContains "notes: tasks as root" "$notes" "tasks not at all (RLIMIT_NPROC does not bind root)"
        else
                assertEquals "limits.tasks_max" 20 "$(field "$json" limits.tasks_max)"
                assertContains "notes: tasks" "$notes" "tasks as 20 processes of the whole user (RLIMIT_NPROC)"
        fi
        assertContains "summary is the notes" "$stderr" "Analysis rec (profile default): $notes"

        run_user --fallback=rlimit --id=rec2 --notes-file="$SHUNIT_TMPDIR/notes.json" -- true
        assertEquals "--notes-file: exit status" 0 "$status"
        assertEquals "--notes-file is the record" "$(cat "$results/rec2.json")" "$(cat "$SHUNIT_TMPDIR/notes.json")"
}

test_memory_hog_fails_and_notes_say_approximated() {
        local notes
        run_user --fallback=rlimit --id=hog --memory=64M -- perl -e '$n = shift; $x = "a" x $n; print "survived\n"' 268435456
        assertNotEquals "exit status: not success" 0 "$status"
        assertNotEquals "exit status: never claimed as an OOM kill" 125 "$status"
        assertNotContains "it did not get its memory" "$stdout" "survived"
        assertContains "the allocation failed" "$stderr" "Out of memory"
        assertEquals "result: the program's own failure" exit-code "$(field "$results/hog.json" result)"
        assertEquals "limits.memory_max" 67108864 "$(field "$results/hog.json" limits.memory_max)"
        notes=$(field "$results/hog.json" notes)
        assertContains "notes: memory only approximated" "$notes" \
                "memory as 64.0 MiB of address space per process (going over fails allocations; an OOM kill cannot be told)"

        run_user --fallback=rlimit --id=fits --memory=64M -- perl -e '$n = shift; $x = "a" x $n; print "survived\n"' 8388608
        assertEquals "within the limit: exit status" 0 "$status"
        assertContains "within the limit: it ran" "$stdout" "survived"
}

test_percent_memory_is_resolved_against_ram() {
        local total_kib
        total_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
        run_user --fallback=rlimit --id=half -p half -- true
        assertEquals "exit status" 0 "$status"
        assertEquals "memory_max: 50% of physical memory" $((total_kib * 1024 / 100 * 50)) \
                "$(field "$results/half.json" limits.memory_max)"
}

test_timeout_kills_the_process_group() {
        local pidfile="$SHUNIT_TMPDIR/grandchild.pid" grandchild
        run_user --fallback=rlimit --id=slow --timeout=2s -- sh -c 'sleep 60 & echo $! >"$0"; sleep 60' "$pidfile"
        assertEquals "exit status" 124 "$status"
        assertEquals "result" timeout "$(field "$results/slow.json" result)"
        assertEquals "limits.runtime_max_sec" 2.0 "$(field "$results/slow.json" limits.runtime_max_sec)"
        assertContains "notes" "$(field "$results/slow.json" notes)" \
                "Stopped: ran past the 2 s time limit set for this analysis (profile 'default' allows 1 min)."
        assertTrue "stopped at the limit, within the grace: ${elapsed_ms} ms" "[ $elapsed_ms -ge 1900 ] && [ $elapsed_ms -lt 4000 ]"
        grandchild=$(cat "$pidfile")
        assertFalse "the background grandchild $grandchild is gone" "kill -0 $grandchild 2>/dev/null"
}

test_timeout_sigkill_after_the_grace() {
        local pidfile="$SHUNIT_TMPDIR/stubborn.pid" stubborn
        # SIGTERM ignored (and inherited by sleep): only the SIGKILL after KillGrace=2s ends it.
        run_user --fallback=rlimit --id=stubborn --timeout=2s -- \
                sh -c 'trap "" TERM; sleep 60 & echo $! >"$0"; wait' "$pidfile"
        assertEquals "exit status" 124 "$status"
        assertEquals "result" timeout "$(field "$results/stubborn.json" result)"
        assertEquals "killed" KILL "$(field "$results/stubborn.json" signal)"
        assertTrue "SIGKILL after the 2 s grace: ${elapsed_ms} ms" "[ $elapsed_ms -ge 3900 ] && [ $elapsed_ms -lt 6500 ]"
        stubborn=$(cat "$pidfile")
        assertFalse "the grandchild $stubborn is gone" "kill -0 $stubborn 2>/dev/null"
}

test_the_rest_of_the_group_goes_when_the_command_ends() {
        local pidfile="$SHUNIT_TMPDIR/left.pid" left
        run_user --fallback=rlimit --id=left -- sh -c 'sleep 60 & echo $! >"$0"; exit 0' "$pidfile"
        assertEquals "exit status" 0 "$status"
        assertTrue "done at once: ${elapsed_ms} ms" "[ $elapsed_ms -lt 2000 ]"
        left=$(cat "$pidfile")
        assertFalse "the left-behind $left is gone" "kill -0 $left 2>/dev/null"
}

test_cpu_time_limit() {
        # 10 s × 10% = 1 s of CPU time, then SIGXCPU: well before the time limit even on a busy machine.
        run_user --fallback=rlimit --id=spin --timeout=10s --cpu=10 -- sh -c 'while :; do :; done'
        assertEquals "exit status: 128+SIGXCPU" 152 "$status"
        assertEquals "signal" XCPU "$(field "$results/spin.json" signal)"
        assertContains "notes" "$(field "$results/spin.json" notes)" "It used up its CPU time limit."
        assertContains "notes: CPU approximated" "$(field "$results/spin.json" notes)" \
                "CPU as CPU time per process (the time limit times 10%, no throttling)"
}

test_tasks_limit() {
        local notes
        if [ "$(id -u)" != 0 ]; then
                run_user --fallback=rlimit --id=forks -p tiny -- sh -c 'for i in 1 2 3 4 5 6 7 8 9; do sleep 5 & done; wait'
        elif can_run_system; then
                # As root for the system: the analysis runs as the profile's User=nobody, whom RLIMIT_NPROC binds.
                run_system --fallback=rlimit --id=forks -p tiny -C / -- \
                        /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9; do sleep 5 & done; wait'
        else
                startSkipping
        fi
        assertNotEquals "exit status: the fork failed" 0 "$status"
        assertContains "the fork was refused" "$stderr" "fork"
        assertEquals "limits.tasks_max" 5 "$(field "$results/forks.json" limits.tasks_max)"
        notes=$(field "$results/forks.json" notes)
        assertContains "notes: tasks approximated" "$notes" "tasks as 5 processes of the whole user (RLIMIT_NPROC)"
}

test_system_scope_runs_as_the_profile_user() {
        can_run_system || startSkipping
        run_system --fallback=rlimit --id=who -C / -- /bin/sh -c 'id -un; echo "$HOME $USER"'
        assertEquals "exit status" 0 "$status"
        assertEquals "ran as User=nobody" "nobody
/nonexistent nobody" "$stdout"
        assertEquals "record" success "$(field "$results/who.json" result)"

        run_system --fallback=rlimit --id=nodir -C /root -- /bin/true
        assertEquals "unreachable directory: exit status" 69 "$status"
        assertContains "unreachable directory: message" "$stderr" \
                "Not run: cannot change to directory /root as user nobody: Permission denied."
}

test_system_scope_needs_root() {
        local run_copy profiles_copy
        { [ "$(id -u)" = 0 ] && [ ! -S /run/dbus/system_bus_socket ]; } || startSkipping
        # The vendor profiles, which nobody can read; our scratch directory it cannot.
        run_copy=$(copy_for_other_users "$ANALYSIS_RUN")
        profiles_copy=$(copy_for_other_users "$VENDOR_PROFILES_DIR")
        ANALYSIS_SANDBOX_PROFILE_PATH=$profiles_copy setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$run_copy" --fallback=rlimit -C / -- /bin/true >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        status=$?
        rm -rf "$(dirname "$run_copy")" "$(dirname "$profiles_copy")"
        stderr=$(cat "$SHUNIT_TMPDIR/stderr")
        assertEquals "exit status" 77 "$status"
        assertContains "message" "$stderr" "without systemd, only root can run analyses for the system"
}

test_cancel() {
        local pid
        (cd "$SHUNIT_TMPDIR/work" &&
                ANALYSIS_SANDBOX_PROFILE_PATH=$profiles XDG_STATE_HOME=$state XDG_RUNTIME_DIR=$SHUNIT_TMPDIR/runtime \
                exec "$ANALYSIS_RUN" --user --fallback=rlimit --id=cancel -- sleep 60) \
                >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr" &
        pid=$!
        sleep 1
        kill -INT $pid
        wait $pid
        status=$?
        assertEquals "SIGINT: exit status" 130 "$status"
        assertEquals "SIGINT: result" cancelled "$(field "$results/cancel.json" result)"
        assertContains "SIGINT: notes" "$(field "$results/cancel.json" notes)" "Cancelled: stopped on request"

        (cd "$SHUNIT_TMPDIR/work" &&
                ANALYSIS_SANDBOX_PROFILE_PATH=$profiles XDG_STATE_HOME=$state XDG_RUNTIME_DIR=$SHUNIT_TMPDIR/runtime \
                exec "$ANALYSIS_RUN" --user --fallback=rlimit --id=term -- sleep 60) \
                >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr" &
        pid=$!
        sleep 1
        kill -TERM $pid
        wait $pid
        status=$?
        assertEquals "SIGTERM: exit status" 143 "$status"
        assertEquals "SIGTERM: result" cancelled "$(field "$results/term.json" result)"
}

test_bad_profile() {
        PROFILE_PATH=$SHUNIT_TMPDIR/bad run_user --fallback=rlimit -- true
        assertEquals "bad profile: exit status" 66 "$status"
        assertContains "bad profile: file, line and reason" "$stderr" \
                "$SHUNIT_TMPDIR/bad/default.ini:5: invalid Memory= value '3X'"
        assertContains "bad profile: which profile" "$stderr" "profile 'default' cannot be used."

        run_user --fallback=rlimit -p nosuch -- true
        assertEquals "unknown profile: exit status" 66 "$status"
        assertContains "unknown profile: message" "$stderr" "Unknown profile 'nosuch': no such file (searched $profiles)."
}

test_limits_above_the_profile() {
        run_user --fallback=rlimit --memory=1G -- true
        assertEquals "exit status" 65 "$status"
        assertContains "message" "$stderr" "--memory=1.0 GiB refused: above the 64.0 MiB limit of profile 'default'."
}

test_no_such_command() {
        run_user --fallback=rlimit -- no-such-command-here
        assertEquals "exit status" 127 "$status"
        assertContains "message" "$stderr" "No such command: no-such-command-here"
}

test_detach_needs_a_manager() {
        run_user --fallback=rlimit --detach -- true
        assertEquals "exit status" 69 "$status"
        assertContains "message" "$stderr" "--detach needs one"
}

# The output directory is a plain one in the results directory, Disk= is not enforced, and the thread counts
# follow the quota (tiny: 50% gives 1) unless the caller sets them.
test_output_directory_and_threads() {
        run_user -p tiny --id=outdir --fallback=rlimit -E MKL_NUM_THREADS=3 -- \
                sh -c 'echo "a,b" >"$ANALYSIS_OUTPUT_DIR/table.csv"; echo "$OMP_NUM_THREADS $MKL_NUM_THREADS"'
        assertEquals "exit status (stderr: $stderr)" 0 "$status"
        assertEquals "threads from the quota; the caller's own value" "1 3" "$stdout"
        assertEquals "the table" "a,b" "$(cat "$results/outdir.output/table.csv")"
        assertEquals "record: output_dir" "$results/outdir.output" "$(field "$results/outdir.json" output_dir)"
        assertEquals "record: Disk= not enforced" null "$(field "$results/outdir.json" limits.disk_max)"
        assertEquals "record: disk_used" 4 "$(field "$results/outdir.json" usage.disk_used)"
        assertContains "analysis-run names the output directory" "$stderr" "Output: $results/outdir.output"
        assertEquals "the record is private" 600 "$(stat -c %a "$results/outdir.json")"
}

# --copy-workdir: the analysis works in a copy, and what it created or changed comes back.
test_copy_workdir() {
        echo input >"$SHUNIT_TMPDIR/work/in.txt"
        run_user --id=copy --fallback=rlimit --copy-workdir -- \
                sh -c 'cat in.txt; echo new >out.txt; pwd'
        assertEquals "exit status (stderr: $stderr)" 0 "$status"
        assertContains "it read its input" "$stdout" input
        assertContains "it ran in the copy" "$stdout" "$results/copy.output"
        assertEquals "its file came back" new "$(cat "$SHUNIT_TMPDIR/work/out.txt")"
        rm -f "$SHUNIT_TMPDIR/work/in.txt" "$SHUNIT_TMPDIR/work/out.txt"
}

test_copy_workdir_needs_to_wait() {
        run_user --id=copydetach --detach --copy-workdir -- true
        assertEquals "exit status" 64 "$status"
        assertContains "message" "$stderr" "cannot be combined with --detach"
}

# shellcheck source=/dev/null
. shunit2
