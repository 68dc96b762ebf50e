#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the generator and the in-unit programs under valgrind: no invalid access, no uninitialised read, no
# leak. Needs GENERATOR, RUNNER, RECORDER, ANALYSISCTL, ANALYSIS_RUN, CASES_DIR and VENDOR_PROFILES_DIR from meson.

valgrind_run() {  # LOG COMMAND...
        local log=$1
        shift
        valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
                --track-origins=yes --log-file="$log" "$@"
}

oneTimeSetUp() {
        profiles="$SHUNIT_TMPDIR/profiles"
        mkdir -p "$profiles"
        cp "$VENDOR_PROFILES_DIR"/*.ini "$profiles/"
        # Good and bad profiles alike: every error path frees what it took.
        find "$CASES_DIR" -maxdepth 1 -name '*.ini' -exec cp -t "$profiles" {} +
}

testGenerator() {
        local out="$SHUNIT_TMPDIR/gen"
        mkdir -p "$out"
        ANALYSIS_SANDBOX_PROFILE_PATH=$profiles SYSTEMD_LOG_TARGET=console \
                valgrind_run "$SHUNIT_TMPDIR/gen.vg" "$GENERATOR" "$out" 2>/dev/null
        rc=$?
        assertEquals "generator under valgrind: $(cat "$SHUNIT_TMPDIR/gen.vg")" 0 "$rc"
        assertTrue "it generated units" "[ -f '$out/analysis@.service' ]"
        ANALYSIS_SANDBOX_PROFILE_PATH=$profiles valgrind_run "$SHUNIT_TMPDIR/val.vg" "$GENERATOR" --validate 2>/dev/null
        rc=$?
        assertEquals "--validate finds the bad profiles, under valgrind: $(cat "$SHUNIT_TMPDIR/val.vg")" 1 "$rc"
}

# The record writer and the runner as a user manager runs them: everything below a scratch $XDG_RUNTIME_DIR.
testRecorderAndRunner() {
        local runtime="$SHUNIT_TMPDIR/runtime" state="$SHUNIT_TMPDIR/state" results id=vg1
        results=$state/analysis-sandbox/results
        mkdir -p "$runtime/analysis-sandbox/spool/$id" "$results" "$runtime/analysis-sandbox/runner/$id"
        chmod 0700 "$runtime/analysis-sandbox/spool/$id"
        printf 'analysis-sandbox-request-1\0cwd=/\0arg=/bin/echo\0arg=hi\0env=A=b\0timeout_usec=99999999999\0' \
                >"$runtime/analysis-sandbox/spool/$id/request"
        chmod 0600 "$runtime/analysis-sandbox/spool/$id/request"
        export XDG_RUNTIME_DIR=$runtime XDG_STATE_HOME=$state

        valgrind_run "$SHUNIT_TMPDIR/prepare.vg" "$RECORDER" prepare --scope=user --profile=default \
                --runtime-max=60 --kill-grace=5 --results-dir="$results" "$id"
        rc=$?
        assertEquals "prepare under valgrind: $(cat "$SHUNIT_TMPDIR/prepare.vg")" 0 "$rc"
        assertTrue "prepare snapshotted the request" "[ -f '$runtime/analysis-sandbox/units/$id/request' ]"

        # Without limits to apply (no delegated cgroup on the host) the runner executes the spooled command,
        # not the fallback after "--"; valgrind checks the runner up to its execv().
        valgrind_run "$SHUNIT_TMPDIR/exec.vg" "$RUNNER" --state-dir="$runtime/analysis-sandbox/units/$id" \
                --status-dir="$runtime/analysis-sandbox/runner/$id" -- /bin/false >"$SHUNIT_TMPDIR/exec.out" 2>&1
        rc=$?
        assertEquals "runner under valgrind: $(cat "$SHUNIT_TMPDIR/exec.vg")" 0 "$rc"
        assertEquals "the runner ran the spooled command" hi "$(cat "$SHUNIT_TMPDIR/exec.out")"

        SERVICE_RESULT=success EXIT_CODE=exited EXIT_STATUS=0 INVOCATION_ID=0123456789abcdef0123456789abcdef \
                valgrind_run "$SHUNIT_TMPDIR/finish.vg" "$RECORDER" finish --scope=user --results-dir="$results" "$id"
        rc=$?
        assertEquals "finish under valgrind: $(cat "$SHUNIT_TMPDIR/finish.vg")" 0 "$rc"
        assertContains "finish wrote the record" "$(cat "$results/$id.json")" '"result":"success"'
        assertFalse "finish removed the spool entry" "[ -e '$runtime/analysis-sandbox/spool/$id' ]"

        valgrind_run "$SHUNIT_TMPDIR/notes.vg" "$ANALYSISCTL" --user notes --json "$id" >/dev/null
        rc=$?
        assertEquals "analysisctl notes under valgrind: $(cat "$SHUNIT_TMPDIR/notes.vg")" 0 "$rc"
        unset XDG_RUNTIME_DIR XDG_STATE_HOME
}

# analysisctl's verbs that need no service manager, on good and bad profiles.
testAnalysisctl() {
        ANALYSIS_SANDBOX_PROFILE_PATH=$profiles valgrind_run "$SHUNIT_TMPDIR/profiles.vg" "$ANALYSISCTL" profiles \
                >/dev/null 2>&1
        rc=$?
        assertEquals "analysisctl profiles finds the bad profiles, under valgrind: $(cat "$SHUNIT_TMPDIR/profiles.vg")" 1 "$rc"
        ANALYSIS_SANDBOX_PROFILE_PATH=$profiles valgrind_run "$SHUNIT_TMPDIR/profiles-json.vg" "$ANALYSISCTL" \
                profiles --json >/dev/null 2>&1
        rc=$?
        assertEquals "analysisctl profiles --json under valgrind: $(cat "$SHUNIT_TMPDIR/profiles-json.vg")" 1 "$rc"
}

# report (with its picture), suggest --write and metrics over generated records (in a user's results directory).
testAnalysisctlEfficiency() {
        local state=$SHUNIT_TMPDIR/eff-state verb
        python3 "$MAKE_RECORDS" --count 60 --seed 5 "$state/analysis-sandbox/results"
        mkdir -p "$SHUNIT_TMPDIR/eff-profiles"
        for verb in "report" "report --json --since=-30d" "report --plot=$SHUNIT_TMPDIR/report.svg" "suggest --write tool" "metrics"; do
                # shellcheck disable=SC2086 # the verb and its options
                (export XDG_STATE_HOME=$state XDG_RUNTIME_DIR=$SHUNIT_TMPDIR DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
                        ANALYSIS_SANDBOX_PROFILE_PATH=$SHUNIT_TMPDIR/eff-profiles:$VENDOR_PROFILES_DIR
                 valgrind_run "$SHUNIT_TMPDIR/eff.vg" "$ANALYSISCTL" --user $verb >/dev/null 2>&1)
                rc=$?
                # metrics without a manager exits 1 after printing the counters.
                assertEquals "analysisctl $verb under valgrind: $(cat "$SHUNIT_TMPDIR/eff.vg")" \
                        "$([ "$verb" = metrics ] && echo 1 || echo 0)" "$rc"
        done
}

# analysis-run --fallback=rlimit as it runs without systemd: the run, the timeout path and a bad profile.
testAnalysisRunFallback() {
        local state="$SHUNIT_TMPDIR/fallback-state" runtime="$SHUNIT_TMPDIR/fallback-runtime"
        mkdir -p "$runtime"
        (unset DBUS_SESSION_BUS_ADDRESS
         export ANALYSIS_SANDBOX_PROFILE_PATH=$VENDOR_PROFILES_DIR XDG_STATE_HOME=$state XDG_RUNTIME_DIR=$runtime
         valgrind_run "$SHUNIT_TMPDIR/fallback.vg" "$ANALYSIS_RUN" --user --fallback=rlimit --id=vgf -C / -- \
                /bin/sh -c 'echo hi; exit 3' >/dev/null 2>&1)
        rc=$?
        assertEquals "analysis-run --fallback=rlimit under valgrind: $(cat "$SHUNIT_TMPDIR/fallback.vg")" 3 "$rc"
        assertContains "it wrote the record" "$(cat "$state/analysis-sandbox/results/vgf.json")" '"isolation":"rlimit"'
        (unset DBUS_SESSION_BUS_ADDRESS
         export ANALYSIS_SANDBOX_PROFILE_PATH=$VENDOR_PROFILES_DIR XDG_STATE_HOME=$state XDG_RUNTIME_DIR=$runtime
         valgrind_run "$SHUNIT_TMPDIR/fallback-timeout.vg" "$ANALYSIS_RUN" --user --fallback=rlimit --timeout=1s \
                -C / -- /bin/sh -c 'sleep 30 & sleep 30' >/dev/null 2>&1)
        rc=$?
        assertEquals "the timeout path under valgrind: $(cat "$SHUNIT_TMPDIR/fallback-timeout.vg")" 124 "$rc"
        (unset DBUS_SESSION_BUS_ADDRESS
         export ANALYSIS_SANDBOX_PROFILE_PATH=$profiles XDG_STATE_HOME=$state XDG_RUNTIME_DIR=$runtime
         valgrind_run "$SHUNIT_TMPDIR/fallback-bad.vg" "$ANALYSIS_RUN" --user --fallback=rlimit -p no_such_profile \
                -- /bin/true >/dev/null 2>&1)
        rc=$?
        assertEquals "an unknown profile under valgrind: $(cat "$SHUNIT_TMPDIR/fallback-bad.vg")" 66 "$rc"
}

# shellcheck source=/dev/null
. shunit2
