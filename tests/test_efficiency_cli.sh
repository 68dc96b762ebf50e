#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests analysisctl report, suggest and metrics on the host, over fixture records in a user's results directory
# (--user: no service manager runs here): the figures, --json (checked with python3 -m json.tool), the time
# syntax, suggest's rule and --write, the Prometheus text (tests/vm/e2e/check-prometheus-text.py, which the VM suite shares) and the metrics units.
# status' efficiency lines need a manager: tests/vm/e2e/test_efficiency.sh. Needs ANALYSISCTL, MAKE_RECORDS,
# METRICS_SERVICE, METRICS_TIMER and VENDOR_PROFILES_DIR from meson.

# One record of profile alpha: ID RESULT EXIT_CODE STATUS PEAK_MIB RUNTIME_S CPU_S FINISHED [TASK_HITS [TASK_PEAK]]
# (without TASK_PEAK, no usage.tasks_peak at all: a record written before it)
alpha_record() {
        local status=$4
        [ "$status" = "" ] && status=null
        printf '{"id":"%s","unit":"analysis-alpha@%s.service","profile":"alpha","result":"%s","exit_code":"%s",' "$1" "$1" "$2" "$3"
        printf '"exit_status":%s,"signal":null,"limits":{"memory_max":268435456,"cpu_quota_percent":100,' "$status"
        printf '"tasks_max":20,"runtime_max_sec":120.000,"disk_max":null},"profile_limits":{"memory_max":268435456},'
        printf '"usage":{"runtime_sec":%s,"cpu_sec":%s,"memory_peak":%s,"oom_kills":0,"tasks_limit_hits":%s%s},' \
                "$6" "$7" "$(($5 << 20))" "${9:-0}" "${10:+,\"tasks_peak\":${10}}"
        printf '"started_at":null,"finished_at":"%s","caller_uid":%s,"notes":"x"}\n' "$8" "$(id -u)"
}

oneTimeSetUp() {
        export XDG_RUNTIME_DIR=$SHUNIT_TMPDIR/runtime XDG_STATE_HOME=$SHUNIT_TMPDIR/state
        # Nothing to reach: the running analyses are left out of metrics, which says so.
        export DBUS_SESSION_BUS_ADDRESS=unix:path=$SHUNIT_TMPDIR/no-bus
        results=$XDG_STATE_HOME/analysis-sandbox/results
        profiles=$SHUNIT_TMPDIR/etc/profiles
        mkdir -p "$XDG_RUNTIME_DIR" "$results" "$profiles" "$SHUNIT_TMPDIR/vendor"
        export ANALYSIS_SANDBOX_PROFILE_PATH=$profiles:$SHUNIT_TMPDIR/vendor:$VENDOR_PROFILES_DIR
        printf '[Profile]\nDescription=Alpha\nExec=/bin/true\n[Limits]\nMemory=256M\nCPU=100%%\nTasks=20\nRuntime=2min\n' \
                >"$SHUNIT_TMPDIR/vendor/alpha.ini"
        printf '[Profile]\nDescription=Beta\nExec=/bin/true\n[Limits]\nMemory=256M\nCPU=100%%\nTasks=20\nRuntime=2min\n' >"$SHUNIT_TMPDIR/vendor/beta.ini"
        # 20 successes peaking at 10 .. 200 MiB, running 3 .. 60 s at half a CPU, one a day from 2026-11-01;
        # one OOM kill at the 256 MiB limit, one timeout at 2 min, one failure with refused forks. The successes
        # peaked at 2 .. 12 tasks of 20, the failure at 20; the OOM kill and the timeout have no task peak.
        local i
        for i in $(seq 1 20); do
                alpha_record "alpha$i" success exited 0 $((i * 10)) $((i * 3)).000 $((i * 3 / 2)).500 \
                        "$(printf '2026-11-%02dT12:00:00.000Z' "$i")" 0 $((i / 2 + 2)) >"$results/alpha$i.json"
        done
        alpha_record alpha-oom oom-kill killed "" 256 5.000 2.000 2026-11-21T12:00:00.000Z >"$results/alpha-oom.json"
        alpha_record alpha-slow timeout killed "" 30 120.000 60.000 2026-11-22T12:00:00.000Z >"$results/alpha-slow.json"
        alpha_record alpha-forks exit-code exited 1 20 4.000 2.000 2026-11-23T12:00:00.000Z 7 20 >"$results/alpha-forks.json"
        for i in 1 2 3; do
                alpha_record "beta$i" success exited 0 50 10.000 5.000 2026-11-24T12:00:00.000Z |
                        sed 's/alpha/beta/g' >"$results/beta$i.json"
        done
        printf '{"id": ' >"$results/broken.json"
        # A busy month of the vendor profiles, another caller's too.
        python3 "$MAKE_RECORDS" --count 400 --seed 3 --now 1796612645 "$SHUNIT_TMPDIR/mixed" || return 1
}

# Runs analysisctl (or, given "runuser ...", that); leaves $rc, $stdout and $stderr.
ctl() {
        if [ "$1" = runuser ]; then
                "$@" >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        else
                "$ANALYSISCTL" "$@" >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        fi
        rc=$?
        stdout=$(cat "$SHUNIT_TMPDIR/stdout")
        stderr=$(cat "$SHUNIT_TMPDIR/stderr")
}

assertValidJson() {
        assertTrue "$1: valid JSON ($stdout)" "python3 -m json.tool '$SHUNIT_TMPDIR/stdout' >/dev/null"
}

# The value of a Python expression over the JSON in $stdout as j.
json() {
        python3 -c "import json,sys; j = json.load(open(sys.argv[1])); print($1)" "$SHUNIT_TMPDIR/stdout"
}

test_report_counts_and_ratios() {
        ctl --user report --profile=alpha
        assertEquals "report: exit status ($stderr)" 0 "$rc"
        assertContains "report: the header" "$stdout" "23 analyses of that profile (ratios within 1%):"
        assertContains "report: how they ended" "$stdout" \
                "Ended:   success 20, exit-code 0, signal 0, memory 1, time 1, tasks 1, disk 0, cancelled 0"
        # Peaks 10..200 MiB and 20, 30, 256 of 256 MiB: the median is 100 MiB (39%), the maximum 100%.
        assertContains "report: memory median" "$stdout" "Memory:  median 39%, 95th percentile"
        # 200 of 256 MiB is 78.1%: within the stated 1%.
        assertContains "report: memory 95th percentile and max" "$stdout" "percentile 79%, max 100% (peak of the memory limit"
        assertContains "report: CPU is the analysis' own against quota x runtime" "$stdout" "CPU:     median 50%"
        assertContains "report: runtime max is the timeout" "$stdout" "max 100% (of the time limit; 23 analyses)"
        # Task peaks 2 .. 12 of 20 and the failure's 20; the OOM kill and the timeout have none (older records).
        assertContains "report: the task peak against the task limit" "$stdout" \
                "Tasks:   median 35%, 95th percentile 60%, max 100% (task peak of the task limit; 21 analyses)"
        assertContains "report: the limits hit" "$stdout" \
                "3 analyses hit a limit (memory 1, time 1, tasks 1, disk 0):"
        assertContains "report: the latest hit first" "$(echo "$stdout" | grep -A1 'hit a limit' | tail -1)" "alpha-forks"
        assertContains "report: the bad record is left out and said so" "$stderr" "1 record could not be read"
}

test_report_json() {
        ctl --user report --json
        assertEquals "report --json: exit status" 0 "$rc"
        assertValidJson "report --json"
        assertEquals "report --json: profiles" "alpha beta" "$(json "' '.join(p['profile'] for p in j['profiles'])")"
        assertEquals "report --json: analyses" 26 "$(json "j['analyses']")"
        assertEquals "report --json: the stated error" 0.01 "$(json "j['relative_error']")"
        assertEquals "report --json: alpha's memory max" 1 "$(json "j['profiles'][0]['ratios']['memory']['max']")"
        assertEquals "report --json: alpha's tasks ratio" "21 0.35 1" \
                "$(json "'%d %.2f %g' % tuple(j['profiles'][0]['ratios']['tasks'][k] for k in ('analyses', 'median', 'max'))")"
        assertEquals "report --json: beta's records have no task peak" 0 "$(json "j['profiles'][1]['ratios']['tasks']['analyses']")"
        assertEquals "report --json: alpha's oom" 1 "$(json "j['profiles'][0]['ended']['memory']")"
        assertEquals "report --json: alpha's hits" "alpha-forks alpha-slow alpha-oom" \
                "$(json "' '.join(h['id'] for h in j['profiles'][0]['limit_hits']['latest'])")"
        assertEquals "report --json: unused CPU-hours are allowed less used" "True" \
                "$(json "0 < j['profiles'][0]['unused']['cpu_hours'] < j['profiles'][0]['unused']['cpu_hours_allowed']")"
}

test_report_time_range() {
        ctl --user report --json --since=2026-11-10 --until="2026-11-21 00:00:00"
        assertEquals "report --since --until: exit status ($stderr)" 0 "$rc"
        assertEquals "report --since --until: the 11 days between" 11 "$(json "j['analyses']")"
        ctl --user report --json --since=-1d
        assertEquals "report --since=-1d: none that recent" 0 "$(json "j['analyses']")"
        ctl --user report --since=yesterday --until=today
        assertEquals "report --since=yesterday: exit status" 0 "$rc"
        ctl --user report --since=soon
        assertEquals "report --since=soon: exit status" 64 "$rc"
        assertContains "report --since=soon: message" "$stderr" "Invalid --since 'soon'"
        ctl --user report --profile=No-Such
        assertEquals "report --profile with a bad name: exit status" 64 "$rc"
}

test_report_by_user() {
        ctl --user report --json --user="$(id -un)"
        assertEquals "report --user=NAME (oneself): all" 26 "$(json "j['analyses']")"
        ctl --user report --json --user=4242
        assertEquals "report --user=UID of nobody here: none" 0 "$(json "j['analyses']")"
        ctl --user report --user=no-such-user-here
        assertEquals "report --user=unknown: exit status" 64 "$rc"
        # "--user NAME" (no '='): --user is the scope, NAME a stray argument; the message says how to write it.
        ctl report --user "$(id -un)"
        assertEquals "report --user NAME: exit status" 64 "$rc"
        assertContains "report --user NAME: how to write it" "$stderr" "write --user=$(id -un):"
}

test_report_many() {
        XDG_STATE_HOME=$SHUNIT_TMPDIR/many ctl --user report
        mkdir -p "$SHUNIT_TMPDIR/many/analysis-sandbox"
        ln -sfn "$SHUNIT_TMPDIR/mixed" "$SHUNIT_TMPDIR/many/analysis-sandbox/results"
        XDG_STATE_HOME=$SHUNIT_TMPDIR/many ctl --user report --json
        assertEquals "report of the mixed month: exit status" 0 "$rc"
        assertValidJson "report of the mixed month"
        assertEquals "report of the mixed month: every record" 400 "$(json "j['analyses']")"
        assertEquals "report of the mixed month: the vendor profiles" "default notebook_execution post_process tool" \
                "$(json "' '.join(p['profile'] for p in j['profiles'])")"
        assertEquals "report of the mixed month: ended adds up" 400 \
                "$(json "sum(sum(p['ended'].values()) for p in j['profiles'])")"
}

# The system's report reads Slurm's records in [Slurm] SharedDirectory=/UID/: every user's for root, one's own
# for anyone else (here nobody, when the suite runs as root).
test_report_reads_slurm_records() {
        local t nobody_uid
        # Outside $SHUNIT_TMPDIR, whose parent only its owner may enter: nobody must reach its directory.
        t=$(mktemp -d /tmp/analysisctl-slurm.XXXXXX)
        nobody_uid=$(id -u nobody)
        mkdir -p "$t/conf/profiles" "$t/shared/1234" "$t/shared/$nobody_uid"
        cp "$VENDOR_PROFILES_DIR"/*.ini "$t/conf/profiles/"
        printf '[Slurm]\nSharedDirectory=%s/shared\n' "$t" >"$t/conf/analysis-sandbox.conf"
        python3 "$MAKE_RECORDS" --count 30 --caller 1234 "$t/shared/1234"
        python3 "$MAKE_RECORDS" --count 12 --seed 2 --caller "$nobody_uid" "$t/shared/$nobody_uid"
        sed -i 's/"profile":"[a-z_]*"/"profile":"slurmy"/' "$t/shared"/*/*.json
        if [ "$(id -u)" != 0 ]; then
                ANALYSIS_SANDBOX_PROFILE_PATH=$t/conf/profiles ctl report --json --profile=slurmy
                assertEquals "report of one's own Slurm records (not root: the others' are not readable)" 0 "$rc"
                rm -rf "$t"
                return
        fi
        ANALYSIS_SANDBOX_PROFILE_PATH=$t/conf/profiles ctl report --json --profile=slurmy
        assertEquals "report over Slurm's shared directory: exit status ($stderr)" 0 "$rc"
        assertEquals "report over Slurm's shared directory: every user's, for root" 42 "$(json "j['analyses']")"
        chmod 0755 "$t" "$t/conf" "$t/conf/profiles" "$t/shared"
        chmod 0644 "$t/conf/profiles"/* "$t/conf/analysis-sandbox.conf"
        chown -R nobody "$t/shared/$nobody_uid"
        chmod 0700 "$t/shared/1234" "$t/shared/$nobody_uid"
        # A copy nobody can run: the build tree may be where nobody cannot go (a clone under /root).
        install -m 0755 "$ANALYSISCTL" "$t/analysisctl"
        ANALYSIS_SANDBOX_PROFILE_PATH=$t/conf/profiles ctl runuser -u nobody -- "$t/analysisctl" report --json --profile=slurmy
        assertEquals "report by another user: exit status ($stderr)" 0 "$rc"
        assertEquals "report by another user: their own Slurm analyses only" 12 "$(json "j['analyses']")"
        assertEquals "report by another user: not everyone" False "$(json "j['everyone']")"
        rm -rf "$t"
}

test_suggest() {
        ctl --user suggest alpha
        assertEquals "suggest: exit status ($stderr)" 0 "$rc"
        # p95 of 10..200 MiB is 190 MiB; +15% is 218.5 MiB, rounded up to 224M. The OOM kill is above it.
        assertContains "suggest: Memory=" "$stdout" "[Limits]
Memory=224M
CPU=60%
Runtime=2min"
        assertContains "suggest: what was asked and used" "$stdout" \
                "# Memory=: you asked for 256.0 MiB; successful analyses peaked at 200.0 MiB at most"
        assertContains "suggest: who would have been stopped" "$stdout" \
                "#   Memory=224M: 1 of 23 past analyses would have been killed (1 of them were, at the current limit)."
        assertContains "suggest: the timeout that might not fit" "$stdout" \
                "0 of 23 past analyses would have been stopped; 1 more were stopped at the current limit"
        # Task peaks 2 .. 12 of the successes: p95 11 (within 1%), +15% is 12.6, 13 tasks, and 3 kept for the
        # sandbox: 16. The failure that peaked at 20 with forks refused is above the 13 it leaves the analysis.
        assertContains "suggest: Tasks=" "$stdout" "Runtime=2min
Tasks=16"
        assertContains "suggest: tasks asked and used" "$stdout" \
                "# Tasks=: you asked for 20; successful analyses peaked at 12 tasks at most (95th percentile 11 tasks); 3 more kept for the sandbox's own tasks."
        assertContains "suggest: who would have had forks refused" "$stdout" \
                "#   Tasks=16: 1 of 21 past analyses would have had forks refused (1 of them were, at the current limit)."
        assertContains "suggest: forks refused, counted" "$stdout" "# 1 analysis had forks refused at the current task limit."
        assertContains "suggest: how to take it back" "$stdout" "rm $profiles/alpha.ini.d/90-analysisctl-suggest.conf"
        ctl --user suggest --margin=50% alpha
        assertContains "suggest --margin=50%: 285 MiB, rounded to 320M" "$stdout" "Memory=320M"
        ctl --user suggest --json alpha
        assertValidJson "suggest --json"
        assertEquals "suggest --json: the value" 224M "$(json "j['suggestions']['Memory']['value']")"
        assertEquals "suggest --json: Tasks=" 16 "$(json "j['suggestions']['Tasks']['value']")"
        assertEquals "suggest --json: tasks over it" "1 21 3" \
                "$(json "'%d %d %d' % (j['suggestions']['Tasks']['over'], j['suggestions']['Tasks']['with_figure'], j['suggestions']['Tasks']['reserved_for_sandbox'])")"
        ctl --user suggest beta
        assertEquals "suggest with too few analyses: exit status" 1 "$rc"
        assertContains "suggest with too few: said so" "$stderr" "Too few successful analyses of profile 'beta'"
        assertNotContains "suggest with too few: no [Limits]" "$stdout" "[Limits]"
        ctl --user suggest nosuch
        assertEquals "suggest of no profile: exit status" 66 "$rc"
        ctl --user suggest
        assertEquals "suggest without a profile: exit status" 64 "$rc"
        assertContains "suggest without a profile: message" "$stderr" "'suggest' takes one profile name."
}

test_suggest_write() {
        local dropin=$profiles/alpha.ini.d/90-analysisctl-suggest.conf
        ctl --user suggest --write alpha
        assertEquals "suggest --write: exit status ($stderr)" 0 "$rc"
        assertTrue "suggest --write: the drop-in" "[ -f '$dropin' ]"
        assertContains "suggest --write: says how to make it live" "$stderr" "systemctl --user daemon-reload"
        ctl --user profiles
        assertContains "profiles: Memory= from the drop-in" "$(echo "$stdout" | grep '^Memory=234881024')" "$dropin:"
        assertContains "profiles: Tasks= from the drop-in" "$(echo "$stdout" | grep '^Tasks=16')" "$dropin:"
        # A later drop-in that breaks the profile: nothing is written, the old drop-in stays as it was.
        cp "$dropin" "$SHUNIT_TMPDIR/before"
        printf '[Limits]\nMemory=3X\n' >"$profiles/alpha.ini.d/95-bad.conf"
        ctl --user suggest --write --margin=50 alpha
        assertEquals "suggest --write over a bad profile: exit status" 1 "$rc"
        assertContains "suggest --write over a bad profile: why" "$stderr" "invalid Memory= value '3X'"
        assertTrue "suggest --write over a bad profile: the drop-in unchanged" "cmp -s '$dropin' '$SHUNIT_TMPDIR/before'"
        assertEquals "suggest --write over a bad profile: no temporary file left" "" \
                "$(ls -A "$profiles/alpha.ini.d" | grep -v -e 90-analysisctl-suggest.conf -e 95-bad.conf)"
        rm "$profiles/alpha.ini.d/95-bad.conf" "$dropin"
        ctl --user profiles
        assertContains "profiles: back to the profile's own Memory=" "$(echo "$stdout" | grep '^Memory=268435456')" "alpha.ini"
}

test_metrics_text() {
        ctl --user metrics
        assertEquals "metrics without a manager: exit status" 1 "$rc"
        assertContains "metrics without a manager: said so" "$stderr" "Leaving out the running analyses"
        assertTrue "metrics: valid exposition text ($(python3 "$SHUNIT_SRCDIR"/vm/e2e/check-prometheus-text.py "$SHUNIT_TMPDIR/stdout" 2>&1))" \
                "python3 '$SHUNIT_SRCDIR/vm/e2e/check-prometheus-text.py' '$SHUNIT_TMPDIR/stdout' --expect \
                analysis_sandbox_analyses_ended_total analysis_sandbox_limit_hits_total analysis_sandbox_memory_peak_ratio"
        assertContains "metrics: ended by result" "$stdout" \
                'analysis_sandbox_analyses_ended_total{profile="alpha",result="success"} 20'
        assertContains "metrics: limit hits" "$stdout" 'analysis_sandbox_limit_hits_total{profile="alpha",limit="tasks"} 1'
        assertContains "metrics: the histogram's count" "$stdout" 'analysis_sandbox_memory_peak_ratio_count{profile="alpha"} 23'
        assertContains "metrics: the OOM kill in the last bucket" "$stdout" \
                'analysis_sandbox_memory_peak_ratio_bucket{profile="alpha",le="0.9"} 22'
        assertNotContains "metrics: no label per analysis" "$stdout" 'alpha1'
}

test_metrics_tally() {
        local state=$XDG_STATE_HOME/analysis-sandbox
        printf '# by gc\nalpha ended.success 5\nalpha hits.memory 2\n' >"$state/metrics-tally"
        ctl --user metrics --output="$SHUNIT_TMPDIR/out.prom"
        assertContains "metrics --output: nothing on stdout" "" "$stdout"
        assertContains "metrics: the tally adds to the records" "$(cat "$SHUNIT_TMPDIR/out.prom")" \
                'analysis_sandbox_analyses_ended_total{profile="alpha",result="success"} 25'
        assertContains "metrics: the tally's limit hits" "$(cat "$SHUNIT_TMPDIR/out.prom")" \
                'analysis_sandbox_limit_hits_total{profile="alpha",limit="memory"} 3'
        printf 'alpha ended.success lots\n' >"$state/metrics-tally"
        ctl --user metrics
        assertEquals "metrics with a bad tally: exit status" 1 "$rc"
        assertContains "metrics with a bad tally: why" "$stderr" "Not writing counters that could go down"
        assertEquals "metrics with a bad tally: nothing printed" "" "$stdout"
        rm "$state/metrics-tally"
        # -o/--output is one option of plot and metrics: a relative path is the working directory's, for both.
        (cd "$SHUNIT_TMPDIR" && ctl --user metrics --output=relative.prom)
        assertTrue "metrics --output relative: written in the working directory" \
                "grep -q '^analysis_sandbox_analyses_ended_total' '$SHUNIT_TMPDIR/relative.prom'"
        ctl --user metrics --output=-
        assertContains "metrics --output=-: printed" "$stdout" "# TYPE analysis_sandbox_analyses_ended_total counter"
}

test_metrics_units_verify() {
        local root=$SHUNIT_TMPDIR/root messages
        mkdir -p "$root/etc/systemd/system" "$root/usr/lib" "$root/usr/bin"
        cp -a /lib/systemd "$root/usr/lib/"
        cp "$METRICS_SERVICE" "$METRICS_TIMER" "$root/etc/systemd/system/"
        cp "$ANALYSISCTL" "$root/usr/bin/analysisctl"
        messages=$(systemd-analyze verify --man=no --root="$root" analysis-sandbox-metrics.service \
                analysis-sandbox-metrics.timer 2>&1)
        assertEquals "the metrics units verify cleanly" "" "$messages"
        assertContains "it writes node_exporter's textfile" "$(cat "$METRICS_SERVICE")" \
                "--output=/var/lib/prometheus/node-exporter/analysis-sandbox.prom"
}

test_help_names_the_verbs() {
        ctl --help
        assertContains "--help: report" "$stdout" "report "
        assertContains "--help: suggest" "$stdout" "suggest PROFILE"
        assertContains "--help: metrics" "$stdout" "metrics "
}

SHUNIT_SRCDIR=$(dirname "$(readlink -f "$0")")
. shunit2
