# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers shared by the end-to-end suites that run as root inside the test VM (sourced, not executed).
#
# A suite sources this file, defines test* functions and optionally e2e_set_up/e2e_tear_down, and ends
# with ". shunit2". The setUp/tearDown defined here record each test's outcome in $E2E_RESULTS (one
# "ok NAME" or "not ok NAME" line, which the host prints) and undo what the test set up: units it
# started are stopped and reset, profiles it wrote are removed and the manager reloaded.
#
# A suite that tests what the product does after a crash calls e2e_reset_host: the VM is reset hard
# (sysrq b: no sync, no shutdown, a crash as far as the software in it is concerned) and the same disk
# boots again (tests/vm/run-vm does that), and tests/vm/e2e/run runs the suite once more from the start,
# with the results so far kept and E2E_RESETS one higher (0 on the first boot). Its tests decide by
# E2E_RESETS what to do: a phase 1 test (E2E_RESETS 0) starts something and calls e2e_reset_host; a
# phase 2 test (E2E_RESETS 1) checks what survived; each returns at once in the other phase. The test
# that resets is recorded with what its asserts said up to the reset. Only the saved results and the
# resume state are fsynced before the reset, never the whole system: whether the product's own files
# survive is what such a suite tests. At most 4 resets per VM run.

# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the suites that source this file

E2E_PROFILE_DIR=/etc/analysis-sandbox/profiles
E2E_VENDOR_DIR=/usr/lib/analysis-sandbox/profiles
E2E_GENERATOR_DIR=/run/systemd/generator
E2E_CGROUP_ROOT=/sys/fs/cgroup
# Scratch space the analyses may read (and write in out/): /run is neither hidden nor made read-only
# by the units' sandboxing (ProtectSystem=full, ProtectHome=read-only, PrivateTmp=yes).
E2E_SCRATCH=/run/analysis-e2e
# The misbehaving analyses the suites run (the payload is readable by every account).
E2E_ANALYSES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/analyses
: "${E2E_RESULTS:=/dev/null}"
# How many times this VM run was reset by e2e_reset_host so far (tests/vm/e2e/run sets it).
: "${E2E_RESETS:=0}"
# Where e2e_reset_host keeps the results and the suite to resume across a reset: on the root disk.
E2E_RESET_STATE=/var/lib/analysis-vm

e2e_units=()
e2e_files=()

# shunit2 2.1.8 (Debian 12's and 13's) counts every assert with two `expr N + 1` and tests assertTrue's
# condition with `expr COND : '\([0-9]*\)'`, each a fork and an exec of expr: 65 ms under TCG, where a
# function in the fork takes 14 ms (measured in a Debian 12 VM, 2026-12-08), for a thousand asserts and more
# per VM run. These two forms are answered here as expr would answer them (output and status); any other
# goes to expr itself.
expr() {
    if [[ $# == 3 && $2 == + && $1 =~ ^(0|[1-9][0-9]*)$ && $3 =~ ^(0|[1-9][0-9]*)$ ]]; then
        echo $(($1 + $3))
        (($1 + $3 != 0))
        return
    fi
    # expr reads these words as operators, not as the string to match.
    if [[ $# == 3 && $2 == : && $3 == '\([0-9]*\)' ]]; then
        case $1 in
        '(' | ')' | + | match | substr | index | length) ;;
        *)
            [[ $1 =~ ^[0-9]* ]]
            echo "${BASH_REMATCH[0]}"
            # (expr fails on an empty or all-zero result.)
            [[ ${BASH_REMATCH[0]} == *[1-9]* ]]
            return
            ;;
        esac
    fi
    command expr "$@"
}

# Prints a line the host shows with the results (measurements, not verdicts).
e2e_note() {
    echo "# ${_shunit_test_:-}: $*" >>"$E2E_RESULTS"
    echo "NOTE: $*"
}

# Writes profile NAME with the text TEXT to the admin directory and reloads the manager so the
# generator turns it into units; the test's tear-down removes it again. (Not in a pipeline: the
# tear-down's list would be kept in a subshell.)
e2e_write_profile() {
    e2e_write_dropin "$1.ini" "$2"
}

# Writes FILE (relative to the admin profile directory, e.g. default.ini.d/50-x.conf) with the
# text TEXT and reloads; the test's tear-down removes it again.
e2e_write_dropin() {
    local path=$E2E_PROFILE_DIR/$1
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$2" >"$path"
    e2e_files+=("$path")
    systemctl daemon-reload
}

# The unit name analysis-generator gives an instance of profile NAME.
e2e_unit() {
    local name=$1 id=$2
    if [[ $name == default ]]; then
        echo "analysis@$id.service"
    else
        echo "analysis-$name@$id.service"
    fi
}

# Starts UNIT and remembers it for the tear-down. Returns systemctl's status.
e2e_start() {
    e2e_units+=("$1")
    systemctl start "$1"
}

# Prints one property of a unit.
e2e_prop() {
    systemctl show -P "$2" "$1"
}

# Waits up to SECONDS for UNIT to be inactive or failed; returns 1 if it is still running by then.
e2e_wait_inactive() {
    local unit=$1 seconds=$2 state deadline
    deadline=$(($(date +%s%N) + seconds * 1000000000))
    while :; do
        state=$(e2e_prop "$unit" ActiveState)
        [[ $state == inactive || $state == failed ]] && return 0
        (($(date +%s%N) < deadline)) || return 1
        sleep 0.2
    done
}

# Waits up to SECONDS for UNIT to be active.
e2e_wait_active() {
    local unit=$1 seconds=$2 deadline
    deadline=$(($(date +%s%N) + seconds * 1000000000))
    until [[ $(e2e_prop "$unit" ActiveState) == active ]]; do
        (($(date +%s%N) < deadline)) || return 1
        sleep 0.1
    done
}

# Gives USER (created if missing) a user manager of its own, kept running by lingering, and prints the
# user's UID. Returns 1 if the manager does not come up.
e2e_start_user_manager() {
    local user=$1 uid
    id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
    uid=$(id -u "$user")
    loginctl enable-linger "$user"
    e2e_wait_active "user@$uid.service" 60 || return 1
    echo "$uid"
}

# Prints the cgroup directory of a running unit.
e2e_cgroup_dir() {
    local cg
    cg=$(e2e_prop "$1" ControlGroup)
    [[ -n $cg ]] || return 1
    echo "$E2E_CGROUP_ROOT$cg"
}

# Prints the microseconds between two monotonic timestamp properties of UNIT (e.g.
# ActiveEnterTimestampMonotonic ActiveExitTimestampMonotonic).
e2e_usec_between() {
    local a b
    a=$(e2e_prop "$1" "$2")
    b=$(e2e_prop "$1" "$3")
    echo $((b - a))
}

# Prints N microseconds as seconds with one decimal.
e2e_sec() {
    awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000000 }'
}

# Records the running test's outcome in $E2E_RESULTS, with NOTE (if given) and the seconds it took (from
# setUp on) after its name.
e2e_record_outcome() {
    local note=${1:+ ($1)}
    local ds
    if [[ -n ${e2e_test_start_ns:-} ]]; then
        ds=$((($(date +%s%N) - e2e_test_start_ns) / 100000000))
        note+=" [$((ds / 10)).$((ds % 10)) s]"
    fi
    # shunit2 keeps the running test's outcome in __shunit_testSuccess (asserts and a non-zero return of
    # the test set it). A test cut short by a signal (the suite's timeout) is a failure whatever
    # that says; the trap names the signal in _shunit_name_.
    if [[ ${_shunit_name_:-} == INT || ${_shunit_name_:-} == TERM ]]; then
        echo "not ok ${_shunit_test_} (interrupted by SIG${_shunit_name_})" >>"$E2E_RESULTS"
    elif [[ ${__shunit_testSuccess:-0} == "${SHUNIT_TRUE:-0}" ]]; then
        echo "ok ${_shunit_test_}$note" >>"$E2E_RESULTS"
    else
        echo "not ok ${_shunit_test_}$note" >>"$E2E_RESULTS"
    fi
}

# Resets the VM hard, as a crash would, from inside a test: saves the run's results with the test's
# outcome so far and the suite to resume (E2E_SUITE, E2E_RESETS + 1) to $E2E_RESET_STATE, fsyncing
# those files alone, says so on the console (the host boots the same disk again only for a reset a
# suite asked for, never for a crash) and triggers sysrq b. Does not return; if the reset does not
# happen, it fails the test and returns 1.
e2e_reset_host() {
    local resets=$((E2E_RESETS + 1)) saved=$E2E_RESET_STATE/saved-results
    local suite=${E2E_SUITE:?e2e_reset_host needs E2E_SUITE (set by tests/vm/e2e/run)}
    local out=${E2E_OUT:?e2e_reset_host needs E2E_OUT (set by tests/vm/e2e/run)}
    if ! {
        mkdir -p "$E2E_RESET_STATE" &&
            rm -rf "$saved" "$E2E_RESET_STATE/resume" &&
            cp -a "$out" "$saved" &&
            # The test ends here in this boot: its outcome goes into the saved copy (the live file
            # gets tearDown's if the reset does not happen).
            E2E_RESULTS=$saved/${E2E_RESULTS#"$out"/} e2e_record_outcome "then hard reset $resets" &&
            # The resume file last, renamed into place: it names a suite once its results are complete.
            printf 'suite=%s\nresets=%d\n' "$suite" "$resets" >"$E2E_RESET_STATE/resume.new" &&
            # coreutils' sync with arguments fsyncs just those files and directories. Not a global sync:
            # it would write the product's unsynced files too and hide a missing fsync of its own. (An
            # fsync on ext4 commits the file system's journal, other files' pending metadata with it.)
            find "$saved" -print0 | xargs -0 sync -- &&
            sync -- "$E2E_RESET_STATE/resume.new" &&
            mv "$E2E_RESET_STATE/resume.new" "$E2E_RESET_STATE/resume" &&
            sync -- "$E2E_RESET_STATE" "$(dirname "$E2E_RESET_STATE")"
    }; then
        rm -rf "$saved" "$E2E_RESET_STATE/resume" "$E2E_RESET_STATE/resume.new"
        fail "could not save the results to $E2E_RESET_STATE before a hard reset"
        return 1
    fi
    # To the console through the kernel log, at error level (<3>), which "quiet" still shows, and
    # before the reset. tests/vm/run-vm counts these lines to tell a reset asked for from a crash.
    echo "<3>analysis-vm: hard reset requested by $suite (reset $resets)" >/dev/kmsg
    echo "NOTE: hard reset $resets requested"
    echo b >/proc/sysrq-trigger
    sleep 5
    # Still here: the reset must not become a resume in a later boot.
    rm -rf "$saved" "$E2E_RESET_STATE/resume"
    fail "the hard reset (echo b >/proc/sysrq-trigger) did not happen"
    return 1
}

setUp() {
    e2e_test_start_ns=$(date +%s%N)
    e2e_units=()
    e2e_files=()
    mkdir -p "$E2E_SCRATCH/out"
    chmod 0777 "$E2E_SCRATCH/out"
    if declare -F e2e_set_up >/dev/null; then
        e2e_set_up
    fi
}

tearDown() {
    local unit file reload=0
    # shunit2 2.1.8 (Debian 12's, the one in the image) calls tearDown once more from its EXIT
    # trap, after the last test, with no test running: nothing to record or undo then.
    [[ -n ${_shunit_test_:-} ]] || return 0
    e2e_record_outcome

    if declare -F e2e_tear_down >/dev/null; then
        e2e_tear_down
    fi
    for unit in "${e2e_units[@]}"; do
        systemctl stop "$unit" 2>/dev/null
        systemctl reset-failed "$unit" 2>/dev/null
    done
    for file in "${e2e_files[@]}"; do
        rm -f "$file"
        reload=1
    done
    if ((reload)); then
        systemctl daemon-reload
    fi
    return 0
}

# Prints a field of the completion record of analysis ID, dotted for nested ones ("usage.memory_peak"),
# as Python prints it (True, 3.0, ['...']); null prints "null", a missing record or field nothing.
# One python3 answers a suite's calls (below): under emulation each python3 takes most of a second to start,
# and the suites read about 250 fields per VM run. Each call reads the file anew. A subshell other than a
# command substitution has no access to it, and starts a python3 of its own.
e2e_record_field() {
    local reply
    if [[ -n ${E2E_FIELD_READER[1]:-} ]] && { printf '%s\t%s\n' "$1" "$2" >&"${E2E_FIELD_READER[1]}"; } 2>/dev/null; then
        IFS= read -r -d '' reply <&"${E2E_FIELD_READER[0]}" || return 0
    else
        IFS= read -r -d '' reply < <(python3 -c "$e2e_field_reader_py" "$1" "$2" 2>/dev/null) || return 0
    fi
    [[ -n $reply ]] && printf '%s\n' "${reply#=}"
    return 0
}
# Answers "ID<TAB>FIELD" lines on its standard input (or the one request given as its arguments) with
# "=VALUE" for a field it found and nothing for one it did not, each followed by a NUL.
e2e_field_reader_py='
import json, sys

def field(analysis_id, name):
    try:
        with open(f"/var/lib/analysis-sandbox/results/{analysis_id}.json") as f:
            value = json.load(f)
        for part in name.split("."):
            value = value[part]
    except Exception:
        return ""
    return "=" + ("null" if value is None else str(value))

requests = [sys.argv[1:3]] if len(sys.argv) == 3 else (line.rstrip("\n").split("\t", 1) for line in sys.stdin)
for analysis_id, name in requests:
    sys.stdout.write(field(analysis_id, name) + "\0")
    sys.stdout.flush()
'
# Disowned: a suite's "wait" without arguments must not wait for it. It ends with the suite (end of input).
coproc E2E_FIELD_READER { exec python3 -c "$e2e_field_reader_py" 2>/dev/null; }
disown "$E2E_FIELD_READER_PID"
