#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests analysis-generator as a program: arguments, --dry-run, --validate, logging, the vendor profiles, races.
# Needs GENERATOR, RUNNER, RUNNER_PATH and VENDOR_PROFILES_DIR from meson.

# shellcheck source=tests/for-other-users.sh
. "$(dirname "${BASH_SOURCE[0]}")/for-other-users.sh"

oneTimeSetUp() {
        good="$SHUNIT_TMPDIR/good/profiles"
        mkdir -p "$good"
        write_profile "$good/alpha.ini" 1G
        write_profile "$good/beta.ini" 2G
        bad="$SHUNIT_TMPDIR/bad/profiles"
        mkdir -p "$bad"
        write_profile "$bad/fine.ini" 1G
        write_profile "$bad/broken.ini" 3X
}

setUp() {
        out=$(mktemp -d "$SHUNIT_TMPDIR/out.XXXXXX")
}

write_profile() {  # PATH MEMORY
        printf '[Profile]\nDescription=Test\nUser=analysis-sandbox\n[Limits]\nMemory=%s\nCPU=100%%\nTasks=10\nRuntime=1min\n' \
                "$2" >"$1"
}

# Runs the generator with the given profile path; stdout, stderr and status land in $stdout, $stderr, $status.
generate() {  # PROFILE_PATH ARGS...
        local path=$1
        shift
        ANALYSIS_SANDBOX_PROFILE_PATH=$path SYSTEMD_LOG_TARGET=${LOG_TARGET:-console} \
                "$GENERATOR" "$@" >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        status=$?
        stdout=$(cat "$SHUNIT_TMPDIR/stdout")
        stderr=$(cat "$SHUNIT_TMPDIR/stderr")
}

test_help_and_version() {
        generate "$good" --help
        assertEquals "--help exit status" 0 "$status"
        assertContains "--help shows usage" "$stdout" "[NORMAL_DIR [EARLY_DIR LATE_DIR]]"
        assertContains "--help names the man page" "$stdout" "analysis-generator(8)"
        generate "$good" --version
        assertEquals "--version exit status" 0 "$status"
        assertContains "--version output" "$stdout" "analysis-sandbox "
}

test_wrong_arguments() {
        generate "$good"
        assertEquals "no directory: exit status" 1 "$status"
        assertContains "no directory: message" "$stderr" "Expected 1 or 3 output directories, got 0."
        generate "$good" "$out" "$out"
        assertEquals "two directories: exit status" 1 "$status"
        generate "$good" --bogus "$out"
        assertEquals "unknown option: exit status" 1 "$status"
        generate "$good" --dry-run "$out"
        assertEquals "--dry-run with a directory: exit status" 1 "$status"
        generate "$good" "$SHUNIT_TMPDIR/does-not-exist"
        assertEquals "missing output directory: exit status" 1 "$status"
        assertContains "missing output directory: message" "$stderr" "does-not-exist: No such file or directory"
        assertEquals "nothing written on bad arguments" "" "$(ls -A "$out")"
}

test_three_directories_write_only_the_first() {
        local early late
        early=$(mktemp -d "$SHUNIT_TMPDIR/early.XXXXXX")
        late=$(mktemp -d "$SHUNIT_TMPDIR/late.XXXXXX")
        generate "$good" "$out" "$early" "$late"
        assertEquals "exit status" 0 "$status"
        assertTrue "normal dir has the units" "[ -f '$out/analysis-alpha@.service' ]"
        assertEquals "early dir untouched" "" "$(ls -A "$early")"
        assertEquals "late dir untouched" "" "$(ls -A "$late")"
        assertEquals "the exact set of units" \
                "analysis-alpha.slice analysis-alpha@.service analysis-beta.slice analysis-beta@.service analysis.slice" \
                "$(cd "$out" && echo *)"
}

test_unknown_scope() {
        SYSTEMD_SCOPE=galaxy generate "$good" "$out"
        assertEquals "exit status" 1 "$status"
        assertContains "message" "$stderr" "Unknown \$SYSTEMD_SCOPE 'galaxy'"
}

test_dry_run_prints_and_writes_nothing() {
        (cd "$out" && generate "$good" --dry-run)
        generate "$good" --dry-run
        assertEquals "exit status" 0 "$status"
        assertContains "prints the service" "$stdout" "# analysis-alpha@.service"
        assertContains "prints its limits" "$stdout" "MemoryMax=2147483648"
        assertContains "prints the root slice" "$stdout" "# analysis.slice"
        assertEquals "writes nothing" "" "$(ls -A "$out")"
        # What --dry-run prints is what the generator writes.
        generate "$good" "$out"
        local written
        written=$(for f in analysis.slice analysis-alpha.slice analysis-alpha@.service analysis-beta.slice analysis-beta@.service; do
                printf '# %s\n' "$f"; cat "$out/$f"; echo; done)
        generate "$good" --dry-run
        assertEquals "dry run matches the files" "$written" "$stdout"
}

test_validate() {
        generate "$good" --validate
        assertEquals "good profiles: exit status" 0 "$status"
        assertEquals "good profiles: silent" "" "$stderr$stdout"
        generate "$bad" --validate
        assertEquals "a bad profile: exit status" 1 "$status"
        assertContains "a bad profile: file:line message" "$stderr" "$bad/broken.ini:5: invalid Memory= value '3X'"
        assertNotContains "the good one is not reported" "$stderr" "fine"
}

test_one_bad_profile_does_not_stop_the_others() {
        generate "$bad" "$out"
        assertEquals "exit status" 0 "$status"
        assertTrue "the good profile is generated" "[ -f '$out/analysis-fine@.service' ]"
        assertFalse "the bad one is not" "[ -e '$out/analysis-broken@.service' ]"
        assertContains "the bad one is reported" "$stderr" "broken.ini:5: invalid Memory= value '3X'"
}

test_no_profiles_at_all() {
        generate "$SHUNIT_TMPDIR/empty/profiles" "$out"
        assertEquals "exit status" 0 "$status"
        assertEquals "only the root slice" "analysis.slice" "$(ls -A "$out")"
}

# systemd.generator(7): log to /dev/kmsg when stderr is not a terminal.
test_logs_to_kmsg() {
        if [ ! -w /dev/kmsg ]; then
                startSkipping
        fi
        LOG_TARGET=kmsg generate "$bad" "$out"
        assertEquals "exit status" 0 "$status"
        assertEquals "nothing on stderr when /dev/kmsg takes the message" "" "$stderr"
}

test_vendor_profiles() {
        local tree="$SHUNIT_TMPDIR/vendor" root="$SHUNIT_TMPDIR/vendor-root" messages
        mkdir -p "$tree/profiles"
        cp "$VENDOR_PROFILES_DIR"/*.ini "$tree/profiles/"
        cp "$VENDOR_PROFILES_DIR/analysis-sandbox.conf" "$tree/"
        generate "$tree/profiles" --validate
        assertEquals "vendor profiles validate: $stderr" 0 "$status"
        generate "$tree/profiles" "$out"
        assertEquals "exit status: $stderr" 0 "$status"
        assertEquals "the units of the four vendor profiles" \
                "analysis-default.slice analysis-notebook_execution.slice analysis-notebook_execution@.service analysis-post_process.slice analysis-post_process@.service analysis-tool.slice analysis-tool@.service analysis.slice analysis@.service" \
                "$(cd "$out" && echo *)"
        assertContains "default: 2G" "$(cat "$out/analysis@.service")" "MemoryMax=2147483648"
        assertContains "default: CPU 100%" "$(cat "$out/analysis@.service")" "CPUQuota=100%"
        assertContains "default: 100 tasks" "$(cat "$out/analysis@.service")" "TasksMax=100"
        assertContains "default: 30min" "$(cat "$out/analysis@.service")" "RuntimeMaxSec=1800"
        assertContains "notebook_execution: 2G" "$(cat "$out/analysis-notebook_execution@.service")" "MemoryMax=2147483648"
        assertContains "notebook_execution: 10min" "$(cat "$out/analysis-notebook_execution@.service")" "RuntimeMaxSec=600"
        assertContains "analysis.slice: shipped caps" "$(cat "$out/analysis.slice")" "MemoryMax=80%"

        mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd" "$root$(dirname "$RUNNER_PATH")"
        cp -r /lib/systemd/system "$root/usr/lib/systemd/"
        cp "$RUNNER" "$root$RUNNER_PATH"
        cp "$RECORDER" "$root$RECORDER_PATH"
        cp "$out"/* "$root/etc/systemd/system/"
        messages=$(systemd-analyze verify --man=no --root="$root" analysis@x.service analysis-tool@x.service \
                analysis-post_process@x.service analysis-notebook_execution@x.service 2>&1)
        assertEquals "vendor units verify cleanly" "" "$messages"
}

# Generators of two daemon-reloads may overlap: every file must always be whole and no temporary file stay.
test_concurrent_runs() {
        local reference pids=() i
        reference=$(mktemp -d "$SHUNIT_TMPDIR/ref.XXXXXX")
        generate "$good" "$reference"
        for i in $(seq 1 8); do
                ANALYSIS_SANDBOX_PROFILE_PATH=$good SYSTEMD_LOG_TARGET=console "$GENERATOR" "$out" &
                pids+=($!)
        done
        for i in "${pids[@]}"; do
                wait "$i"
                assertEquals "concurrent run $i exit status" 0 $?
        done
        assertEquals "same files as a single run" "" "$(diff -r "$reference" "$out")"
        assertEquals "no temporary files left" "" "$(cd "$out" && ls -A | grep '^\.#')"
}

# Files no admin meant as profiles: each is refused by name, and the good profile beside them still works.
test_hostile_files() {
        local base dir generator_copy
        # Outside shunit2's private (0700) directory, so the unprivileged run below can reach it.
        base=$(mktemp -d /tmp/analysis-hostile.XXXXXX)
        dir=$base/profiles
        out=$base/out
        mkdir -p "$dir" "$out"
        write_profile "$dir/good.ini" 1G
        head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$dir/huge.ini"
        head -c 4096 /dev/urandom >"$dir/garbage.ini"
        mkfifo "$dir/fifo.ini"
        write_profile "$dir/secret.ini" 1G
        chmod 0000 "$dir/secret.ini"
        chmod 0755 "$base" "$dir"
        chmod 0777 "$out"
        generator_copy=$(copy_for_other_users "$GENERATOR")
        # As an unprivileged account, so that mode 0000 really is unreadable.
        ANALYSIS_SANDBOX_PROFILE_PATH=$dir SYSTEMD_LOG_TARGET=console \
                setpriv --reuid=65534 --regid=65534 --clear-groups timeout 20 "$generator_copy" "$out" \
                >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        status=$?
        stderr=$(cat "$SHUNIT_TMPDIR/stderr")
        assertEquals "exit status (a FIFO must not block): $stderr" 0 "$status"
        assertTrue "the good profile is generated" "[ -f '$out/analysis-good@.service' ]"
        assertContains "10 MB file" "$stderr" "$dir/huge.ini: file too large (10485760 bytes, at most 65536), skipping profile 'huge'"
        assertContains "binary garbage" "$stderr" "garbage.ini:"
        assertContains "a FIFO" "$stderr" "$dir/fifo.ini: not a regular file, skipping profile 'fifo'"
        assertContains "unreadable" "$stderr" "$dir/secret.ini: cannot open: Permission denied, skipping profile 'secret'"
        assertEquals "nothing else generated" \
                "analysis-good.slice analysis-good@.service analysis.slice" "$(cd "$out" && echo *)"
        rm -rf "$base" "$(dirname "$generator_copy")"
}

# shellcheck source=/dev/null
. shunit2
