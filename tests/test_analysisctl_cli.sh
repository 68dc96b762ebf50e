#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests analysisctl as a program on the host, where no service manager runs: arguments, exit statuses,
# records read from a results directory, "profiles" over a scratch search path, and the gc units.
# Needs ANALYSISCTL, GC_SERVICE, GC_TIMER and VENDOR_PROFILES_DIR from meson. The verbs that talk to systemd
# are tested against the real thing in the VM (tests/vm/e2e/test_analysisctl.sh).

oneTimeSetUp() {
        export XDG_RUNTIME_DIR=$SHUNIT_TMPDIR/runtime XDG_STATE_HOME=$SHUNIT_TMPDIR/state
        results=$XDG_STATE_HOME/analysis-sandbox/results
        mkdir -p "$XDG_RUNTIME_DIR" "$results"
        cat >"$results/rec1.json" <<'J'
{"id":"rec1","unit":"analysis-tool@rec1.service","profile":"tool","invocation_id":"0123456789abcdef0123456789abcdef","result":"oom-kill","exit_code":"killed","exit_status":null,"signal":"KILL","limits":{"memory_max":67108864,"cpu_quota_percent":50,"tasks_max":32,"runtime_max_sec":300.000},"profile_limits":{"memory_max":536870912,"cpu_quota_percent":50,"tasks_max":32,"runtime_max_sec":300.000},"usage":{"runtime_sec":2.500,"cpu_sec":1.200,"memory_peak":67108864,"oom_kills":1,"tasks_limit_hits":0,"cpu_throttled_sec":0.000},"started_at":"2026-11-26T07:00:00.000000Z","finished_at":"2026-11-26T07:00:02.500000Z","caller_uid":1000,"stdout_file":"/x/rec1.stdout","stderr_file":"/x/rec1.stderr","stderr_tail":"","error":null,"notes":"Killed at the memory limit."}
J
        printf '{"id": ' >"$results/broken.json"

        dirs=$SHUNIT_TMPDIR/etc/profiles:$SHUNIT_TMPDIR/vendor/profiles
        mkdir -p "$SHUNIT_TMPDIR/etc/profiles/alpha.ini.d" "$SHUNIT_TMPDIR/vendor/profiles"
        printf '[Profile]\nDescription=Alpha\nUser=analysis-sandbox\n[Limits]\nMemory=1G\nCPU=50%%\nTasks=10\nRuntime=1min\n' \
                >"$SHUNIT_TMPDIR/vendor/profiles/alpha.ini"
        printf '[Limits]\n\nMemory=512M\n' >"$SHUNIT_TMPDIR/etc/profiles/alpha.ini.d/50-local.conf"
        printf '[Profile]\nDescription=Broken\n[Limits]\nMemory=3X\n' >"$SHUNIT_TMPDIR/vendor/profiles/broken.ini"
        printf '[Profile]\nDescription=Gone\n' >"$SHUNIT_TMPDIR/vendor/profiles/gone.ini"
        ln -s /dev/null "$SHUNIT_TMPDIR/etc/profiles/gone.ini"
}

# Runs analysisctl; leaves $rc, $stdout and $stderr.
ctl() {
        "$ANALYSISCTL" "$@" >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        rc=$?
        stdout=$(cat "$SHUNIT_TMPDIR/stdout")
        stderr=$(cat "$SHUNIT_TMPDIR/stderr")
}

test_help_and_version() {
        ctl --help
        assertEquals "--help: exit status" 0 "$rc"
        assertContains "--help lists the verbs" "$stdout" "gc --older-than=SPAN"
        assertContains "--help names the man page" "$stdout" "analysisctl(1)"
        ctl --version
        assertEquals "--version: exit status" 0 "$rc"
        assertContains "--version output" "$stdout" "analysis-sandbox "
}

test_usage_errors() {
        ctl frobnicate
        assertEquals "unknown verb: exit status" 64 "$rc"
        assertContains "unknown verb: message" "$stderr" "Unknown command 'frobnicate'"
        ctl wait
        assertEquals "wait without an id: exit status" 64 "$rc"
        assertContains "wait without an id: message" "$stderr" "'wait' takes one analysis id"
        ctl list extra
        assertEquals "list with an argument: exit status" 64 "$rc"
        ctl --bogus list
        assertEquals "unknown option: exit status" 64 "$rc"
        ctl notes '../etc/passwd'
        assertEquals "a bad id: exit status" 64 "$rc"
        assertContains "a bad id: message" "$stderr" "Invalid analysis id '../etc/passwd'"
        ctl --lines=x status a
        assertEquals "bad --lines: exit status" 64 "$rc"
        ctl --older-than=soon gc
        assertEquals "bad --older-than: exit status" 64 "$rc"
        assertContains "bad --older-than: message" "$stderr" "Invalid --older-than 'soon'"
}

test_no_service_manager() {
        local verb
        for verb in list "wait x" "stop x" "status x"; do
                # shellcheck disable=SC2086 # the verb and its argument
                DBUS_SYSTEM_BUS_ADDRESS=unix:path=$SHUNIT_TMPDIR/no-bus ctl $verb
                assertEquals "$verb without a manager: exit status" 69 "$rc"
                assertContains "$verb without a manager: message" "$stderr" "Cannot reach the system service manager"
        done
}

test_notes_from_the_record() {
        ctl --user notes rec1
        assertEquals "notes: exit status" 0 "$rc"
        assertEquals "notes: the sentences" "Analysis rec1 (profile tool): Killed at the memory limit." "$stdout"
        ctl --user notes --json rec1
        assertEquals "notes --json: the stored record" "$(cat "$results/rec1.json")" "$stdout"
        ctl --user notes nosuch
        assertEquals "notes of a missing record: exit status" 4 "$rc"
        assertContains "notes of a missing record: names the directory" "$stderr" "$results"
        ctl --user notes broken
        assertEquals "notes of a corrupt record: exit status" 70 "$rc"
        assertContains "notes of a corrupt record: names the file" "$stderr" "$results/broken.json"
}

# A Slurm analysis' record in [Slurm] SharedDirectory=/UID/ of analysis-sandbox.conf, for the system's analyses
# (notes needs no service manager).
test_notes_of_a_slurm_analysis() {
        local conf=$SHUNIT_TMPDIR/slurmconf shared=$SHUNIT_TMPDIR/shared
        mkdir -p "$conf/profiles" "$shared/$(id -u)"
        printf '[Slurm]\nSharedDirectory=%s\n' "$shared" >"$conf/analysis-sandbox.conf"
        sed 's/rec1/srec1/g' "$results/rec1.json" >"$shared/$(id -u)/srec1.json"
        ANALYSIS_SANDBOX_PROFILE_PATH=$conf/profiles ctl notes srec1
        assertEquals "notes: exit status (stderr: $stderr)" 0 "$rc"
        assertEquals "notes: the sentences" "Analysis srec1 (profile tool): Killed at the memory limit." "$stdout"
        ANALYSIS_SANDBOX_PROFILE_PATH=$conf/profiles ctl notes --json srec1
        assertEquals "notes --json: the stored record" "$(cat "$shared/$(id -u)/srec1.json")" "$stdout"
        ANALYSIS_SANDBOX_PROFILE_PATH=$conf/profiles ctl --user notes srec1
        assertEquals "--user: not the site's Slurm analyses" 4 "$rc"
        printf '[Slurm]\nSharedDirectory=relative\n' >"$conf/analysis-sandbox.conf"
        ANALYSIS_SANDBOX_PROFILE_PATH=$conf/profiles ctl notes srec1
        assertEquals "bad conf: no such analysis" 4 "$rc"
        assertContains "bad conf: file and line" "$stderr" "$conf/analysis-sandbox.conf:2"
        assertContains "bad conf: what is left out" "$stderr" "Showing only the analyses of the system service manager."
}

test_profiles_show_effective_values_and_sources() {
        ANALYSIS_SANDBOX_PROFILE_PATH=$dirs ctl profiles
        assertEquals "a bad profile makes the exit status 1" 1 "$rc"
        assertContains "the bad profile's file and line, as --validate says" "$stderr" \
                "$SHUNIT_TMPDIR/vendor/profiles/broken.ini:4: invalid Memory= value '3X'"
        assertContains "alpha's files in order" "$stdout" "# from $SHUNIT_TMPDIR/vendor/profiles/alpha.ini
#      $SHUNIT_TMPDIR/etc/profiles/alpha.ini.d/50-local.conf"
        assertContains "the drop-in's value wins, with its file and line" "$(echo "$stdout" | grep '^Memory=536870912')" \
                "512.0 MiB, $SHUNIT_TMPDIR/etc/profiles/alpha.ini.d/50-local.conf:3"
        assertContains "the main file's value with its line" "$(echo "$stdout" | grep '^CPU=50%')" \
                "$SHUNIT_TMPDIR/vendor/profiles/alpha.ini:6"
        assertContains "defaults are named as such" "$(echo "$stdout" | grep '^KillGrace=')" "built-in default"
        assertContains "a masked profile" "$stdout" "# masked by $SHUNIT_TMPDIR/etc/profiles/gone.ini"
        assertContains "the global caps" "$stdout" "# analysis-sandbox.conf: analysis.slice"
        ANALYSIS_SANDBOX_PROFILE_PATH=$dirs "$ANALYSISCTL" profiles --json 2>/dev/null >"$SHUNIT_TMPDIR/profiles.json"
        assertEquals "--json: alpha's memory from the drop-in" \
                "536870912 $SHUNIT_TMPDIR/etc/profiles/alpha.ini.d/50-local.conf 3" \
                "$(python3 -c '
import json, sys
for p in json.load(open(sys.argv[1])):
    for s in p["settings"]:
        if p["name"] == "alpha" and s["section"] == "Limits" and s["key"] == "Memory":
            print(s["value"], s["file"], s["line"])' "$SHUNIT_TMPDIR/profiles.json")"
        assertEquals "--json: the bad profile's error" "4 invalid Memory= value" \
                "$(python3 -c '
import json, sys
e = [p for p in json.load(open(sys.argv[1])) if p["name"] == "broken"][0]["error"]
print(e["line"], e["message"][:21])' "$SHUNIT_TMPDIR/profiles.json")"
        ANALYSIS_SANDBOX_PROFILE_PATH=$VENDOR_PROFILES_DIR ctl profiles
        assertEquals "the vendor profiles are all good" 0 "$rc"
        assertEquals "the vendor profiles: no messages" "" "$stderr"
}

test_profiles_show_io_keys() {
        local io=$SHUNIT_TMPDIR/io
        mkdir -p "$io/profiles/bw.ini.d"
        printf '[Profile]\nDescription=Bandwidth\nUser=analysis-sandbox\n[Limits]\nMemory=1G\nCPU=50%%\nTasks=10\nRuntime=1min\nWriteBandwidth=20M\n' \
                >"$io/profiles/bw.ini"
        printf '[Limits]\nReadBandwidth=1.5M\nBandwidthPaths=/srv//data/ /\n' >"$io/profiles/bw.ini.d/50-io.conf"
        printf '[Slice]\nIOWeight=5\n' >"$io/analysis-sandbox.conf"
        ANALYSIS_SANDBOX_PROFILE_PATH=$io/profiles ctl profiles
        assertEquals "profiles with bandwidth caps: exit status (stderr: $stderr)" 0 "$rc"
        assertContains "WriteBandwidth= in bytes per second, for people in MB/s, with its file and line" \
                "$(echo "$stdout" | grep '^WriteBandwidth=')" "WriteBandwidth=20000000                  # 20.0 MB/s, $io/profiles/bw.ini:9"
        assertContains "ReadBandwidth= from the drop-in" \
                "$(echo "$stdout" | grep '^ReadBandwidth=')" "ReadBandwidth=1500000                    # 1.5 MB/s, $io/profiles/bw.ini.d/50-io.conf:2"
        assertContains "BandwidthPaths= normalized, from the drop-in" \
                "$(echo "$stdout" | grep '^BandwidthPaths=')" "BandwidthPaths=/srv/data /               # $io/profiles/bw.ini.d/50-io.conf:3"
        assertContains "IOWeight= of analysis-sandbox.conf" \
                "$(echo "$stdout" | grep '^IOWeight=')" "IOWeight=5                               # $io/analysis-sandbox.conf:2"
        assertContains "CPUWeight= beside it, a built-in default" \
                "$(echo "$stdout" | grep '^CPUWeight=')" "CPUWeight=20                             # built-in default"

        ANALYSIS_SANDBOX_PROFILE_PATH=$VENDOR_PROFILES_DIR ctl profiles
        assertEquals "vendor profiles: no ReadBandwidth=" "" "$(echo "$stdout" | grep '^ReadBandwidth=')"
        assertEquals "vendor profiles: no WriteBandwidth=" "" "$(echo "$stdout" | grep '^WriteBandwidth=')"
        assertContains "IOWeight= by default" \
                "$(echo "$stdout" | grep '^IOWeight=')" "IOWeight=20                              # built-in default"
}

test_gc_needs_a_span() {
        ctl --user gc
        assertEquals "gc without --older-than: exit status" 64 "$rc"
        assertContains "gc without --older-than: message" "$stderr" "gc needs --older-than=SPAN"
}

test_gc_units_verify() {
        local root=$SHUNIT_TMPDIR/root messages
        mkdir -p "$root/etc/systemd/system" "$root/usr/lib" "$root/usr/bin"
        cp -a /lib/systemd "$root/usr/lib/"
        cp "$GC_SERVICE" "$GC_TIMER" "$root/etc/systemd/system/"
        cp "$ANALYSISCTL" "$root/usr/bin/analysisctl"
        messages=$(systemd-analyze verify --man=no --root="$root" analysis-sandbox-gc.service \
                analysis-sandbox-gc.timer 2>&1)
        assertEquals "the gc units verify cleanly" "" "$messages"
        assertNotContains "the timer is not enabled by a vendor symlink" "$(ls -R "$root/etc/systemd/system")" "timers.target.wants"
}

. shunit2
