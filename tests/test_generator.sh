#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs analysis-generator on every fixture in tests/generator/cases and checks the assertions inside it.
#
# A fixture is a profile NAME.ini, or a directory with etc/, run/ and usr/ trees (searched in that order, as
# /etc, /run and /usr/lib are) plus a file named "assertions". Assertions are comment lines:
#   ## assert-key-is SECTION KEY VALUE           last KEY= in SECTION of the case's service is VALUE
#   ## assert-key-contains SECTION KEY TEXT      the last KEY= in SECTION of the case's service contains TEXT
#   ## assert-key-missing SECTION KEY            the service has no KEY= in SECTION
#   ## assert-key-lines SECTION KEY V1|V2...     every KEY= in SECTION of the service, in order, is V1, V2, ...
#   ## assert-slice-key-is SECTION KEY VALUE     the same, in the case's analysis-NAME.slice
#   ## assert-unit-key-is UNIT SECTION KEY VALUE the same, in UNIT
#   ## assert-unit-key-missing UNIT SECTION KEY
#   ## assert-unit-exists UNIT                   UNIT was generated
#   ## assert-failed                             the case's profile produced no unit and an error (and,
#                                                being the only profile, exit status 1)
#   ## assert-stderr-contains TEXT               the generator's messages contain TEXT
#   ## assert-exit-status N                      the generator exited with N (default 0)
#   ## env NAME=VALUE                            run the generator with this environment variable
# "## !assert-..." negates. Every generated unit must be named by an assertion (single-profile cases name
# their units implicitly) and must pass "systemd-analyze verify" without a single message.
#
# Needs, from meson: GENERATOR (the built analysis-generator), RUNNER and RECORDER (the built analysis-exec
# and analysis-record) and RUNNER_PATH and RECORDER_PATH (where units expect them). Assertion values may say
# @RUNNER_PATH@, @RECORDER_PATH@ and @SOURCE@ (the directory the case's profiles are read from).

CASES_DIR=${CASES_DIR:-$(dirname "$0")/generator/cases}

oneTimeSetUp() {
        # A root for systemd-analyze verify: the host's own units (for sysinit.target and friends) and the
        # runner at the path the units name, so that its "is not executable" check sees the real binary.
        verify_root="$SHUNIT_TMPDIR/verify-root"
        mkdir -p "$verify_root/usr/lib/systemd" "$verify_root$(dirname "$RUNNER_PATH")"
        cp -r /lib/systemd/system "$verify_root/usr/lib/systemd/"
        cp "$RUNNER" "$verify_root$RUNNER_PATH"
        cp "$RECORDER" "$verify_root$RECORDER_PATH"
}

# Prints every value of KEY in [SECTION] of FILE, one per line, in order.
unit_values() {
        awk -v section="[$2]" -v key="$3" '
                /^\[/ { in_section = ($0 == section); next }
                in_section && index($0, key "=") == 1 { print substr($0, length(key) + 2) }
        ' "$1"
}

# Moves the first word of $rest into the variable named $1.
take_word() {
        local word=${rest%% *}
        printf -v "$1" '%s' "$word"
        if [ "$word" = "$rest" ]; then rest=""; else rest=${rest#"$word "}; fi
}

service_name() {
        if [ "$1" = default ]; then echo "analysis@.service"; else echo "analysis-$1@.service"; fi
}

check_key_is() {  # NEGATE CASE UNIT SECTION KEY VALUE
        local negate=$1 case_name=$2 unit=$3 section=$4 key=$5 value=$6 actual
        if [ ! -f "$out/$unit" ]; then
                fail "$case_name: $unit was not generated (wanted $key=$value in [$section])"
                return
        fi
        actual=$(unit_values "$out/$unit" "$section" "$key" | tail -n 1)
        if [ -z "$negate" ]; then
                assertEquals "$case_name: $unit [$section] $key=" "$value" "$actual"
        else
                assertNotEquals "$case_name: $unit [$section] $key= must not be" "$value" "$actual"
        fi
}

check_key_missing() {  # NEGATE CASE UNIT SECTION KEY
        local negate=$1 case_name=$2 unit=$3 section=$4 key=$5 values
        values=$(unit_values "$out/$unit" "$section" "$key")
        if [ -z "$negate" ]; then
                assertEquals "$case_name: $unit [$section] must not have $key=" "" "$values"
        else
                assertNotEquals "$case_name: $unit [$section] must have $key=" "" "$values"
        fi
}

# Runs one fixture. $1 is a profile file or a fixture directory.
run_case() {
        local fixture=$1 case_name assertions profile_path source_dir name="" work status
        local -a env_args=() named_units=("analysis.slice")

        case_name=$(basename "$fixture")
        work=$(mktemp -d "$SHUNIT_TMPDIR/case.XXXXXX")
        out="$work/out"
        mkdir -p "$out"
        if [ -d "$fixture" ]; then
                assertions="$fixture/assertions"
                profile_path="$fixture/etc/profiles:$fixture/run/profiles:$fixture/usr/profiles"
                source_dir=$fixture
        else
                name=$(basename "$fixture" .ini)
                assertions=$fixture
                mkdir -p "$work/profiles"
                cp "$fixture" "$work/profiles/"
                profile_path="$work/profiles"
                source_dir="$work/profiles"
                named_units+=("$(service_name "$name")" "analysis-$name.slice")
        fi

        local line
        while IFS= read -r line; do
                case "$line" in "## env "*) env_args+=("${line#"## env "}") ;; esac
        done <"$assertions"

        env -u XDG_STATE_HOME ANALYSIS_SANDBOX_PROFILE_PATH="$profile_path" SYSTEMD_SCOPE=system SYSTEMD_LOG_TARGET=console "${env_args[@]}" \
                "$GENERATOR" "$out" >"$work/stdout" 2>"$work/stderr"
        status=$?

        local expected_status=0 negate line verb rest unit section key
        while IFS= read -r line; do
                case "$line" in "## "*) ;; *) continue ;; esac
                rest=${line#"## "}
                rest=${rest//@RUNNER_PATH@/$RUNNER_PATH}
                rest=${rest//@RECORDER_PATH@/$RECORDER_PATH}
                rest=${rest//@SOURCE@/$source_dir}
                take_word verb
                negate=""
                if [ "${verb#!}" != "$verb" ]; then
                        negate=1
                        verb=${verb#!}
                fi
                case "$verb" in
                assert-key-is)
                        take_word section; take_word key
                        check_key_is "$negate" "$case_name" "$(service_name "$name")" "$section" "$key" "$rest" ;;
                assert-key-contains)
                        take_word section; take_word key
                        local value
                        value=$(unit_values "$out/$(service_name "$name")" "$section" "$key" | tail -n 1)
                        if [ -z "$negate" ]; then
                                assertContains "$case_name: [$section] $key= must contain '$rest'" "$value" "$rest"
                        else
                                assertNotContains "$case_name: [$section] $key= must not contain '$rest'" "$value" "$rest"
                        fi ;;
                assert-key-missing)
                        take_word section; take_word key
                        check_key_missing "$negate" "$case_name" "$(service_name "$name")" "$section" "$key" ;;
                assert-key-lines)
                        take_word section; take_word key
                        local lines
                        lines=$(unit_values "$out/$(service_name "$name")" "$section" "$key" | paste -sd '|')
                        if [ -z "$negate" ]; then
                                assertEquals "$case_name: every $key= in [$section]" "$rest" "$lines"
                        else
                                assertNotEquals "$case_name: every $key= in [$section] must not be" "$rest" "$lines"
                        fi ;;
                assert-slice-key-is)
                        take_word section; take_word key
                        check_key_is "$negate" "$case_name" "analysis-$name.slice" "$section" "$key" "$rest" ;;
                assert-unit-key-is)
                        take_word unit; take_word section; take_word key
                        named_units+=("$unit")
                        check_key_is "$negate" "$case_name" "$unit" "$section" "$key" "$rest" ;;
                assert-unit-key-missing)
                        take_word unit; take_word section; take_word key
                        named_units+=("$unit")
                        check_key_missing "$negate" "$case_name" "$unit" "$section" "$key" ;;
                assert-unit-exists)
                        take_word unit
                        named_units+=("$unit")
                        if [ -z "$negate" ]; then
                                assertTrue "$case_name: $unit must be generated" "[ -f '$out/$unit' ]"
                        else
                                assertFalse "$case_name: $unit must not be generated" "[ -e '$out/$unit' ]"
                        fi ;;
                assert-failed)
                        # Alone in its directory, a bad profile leaves the generator nothing to do.
                        [ -n "$name" ] && expected_status=1
                        assertFalse "$case_name: no service may be generated for a bad profile" \
                                "[ -e '$out/$(service_name "$name")' ]"
                        assertFalse "$case_name: no slice may be generated for a bad profile" \
                                "[ -e '$out/analysis-$name.slice' ]"
                        assertNotEquals "$case_name: a bad profile must be reported" "" "$(cat "$work/stderr")" ;;
                assert-stderr-contains)
                        if [ -z "$negate" ]; then
                                assertContains "$case_name: stderr must contain '$rest'" "$(cat "$work/stderr")" "$rest"
                        else
                                assertNotContains "$case_name: stderr must not contain '$rest'" "$(cat "$work/stderr")" "$rest"
                        fi ;;
                assert-exit-status)
                        expected_status=$rest ;;
                env) ;;
                *)
                        fail "$case_name: unknown assertion '$verb'" ;;
                esac
        done <"$assertions"

        assertEquals "$case_name: generator exit status (stderr: $(cat "$work/stderr"))" "$expected_status" "$status"
        assertEquals "$case_name: the generator writes nothing to stdout" "" "$(cat "$work/stdout")"

        # Every file must be one the case expects; leftovers (temporary files) fail too.
        local f unit found
        for f in "$out"/* "$out"/.[!.]*; do
                [ -e "$f" ] || continue
                unit=$(basename "$f")
                found=""
                for n in "${named_units[@]}"; do [ "$n" = "$unit" ] && found=1; done
                assertNotNull "$case_name: unexpected output file $unit" "$found"
        done

        verify_units "$case_name"
        rm -rf "$work"
}

# Every generated unit must load in systemd without a single warning.
verify_units() {
        local case_name=$1 f unit messages
        local -a instances=()
        rm -rf "$verify_root/etc/systemd/system"
        mkdir -p "$verify_root/etc/systemd/system"
        for f in "$out"/*; do
                [ -f "$f" ] || continue
                unit=$(basename "$f")
                cp "$f" "$verify_root/etc/systemd/system/"
                instances+=("${unit/@./@verify.}")
        done
        [ ${#instances[@]} -gt 0 ] || return 0
        messages=$(systemd-analyze verify --man=no --root="$verify_root" "${instances[@]}" 2>&1)
        assertEquals "$case_name: systemd-analyze verify ${instances[*]}" "" "$messages"
}

suite() {
        local fixture name
        for fixture in "$CASES_DIR"/*; do
                name=$(basename "$fixture" .ini)
                name=${name//[^A-Za-z0-9_]/_}
                eval "test_$name() { run_case '$fixture'; }"
                suite_addTest "test_$name"
        done
}

# shellcheck source=/dev/null
. shunit2
