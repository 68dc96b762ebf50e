#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): real analyses of one profile (successes, an OOM kill, a timeout, one of a member's),
# then analysisctl status' efficiency lines, report (and who sees what: root, a member of analysis, a member of
# adm), suggest --write made live by daemon-reload and taken back by removing its file, and metrics scraped
# through the real prometheus-node-exporter (with analysisctl gc folding removed records into the tally).
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULTS_DIR=/var/lib/analysis-sandbox/results
TEXTFILE_DIR=/var/lib/prometheus/node-exporter
DROPIN=$E2E_PROFILE_DIR/e2eeff.ini.d/90-analysisctl-suggest.conf
WORK=$E2E_SCRATCH/eff-work

oneTimeSetUp() {
        local i
        mkdir -p "$WORK" "$E2E_PROFILE_DIR"
        chmod 0777 "$WORK"
        id effmember >/dev/null 2>&1 || useradd -m -s /bin/bash effmember
        id effadmin >/dev/null 2>&1 || useradd -m -s /bin/bash effadmin
        usermod -aG analysis effmember
        usermod -aG adm effadmin
        cat >"$E2E_PROFILE_DIR/e2eeff.ini" <<'P'
[Profile]
Description=efficiency end-to-end tests
[Limits]
Memory=128M
CPU=100%
Tasks=40
Runtime=60s
KillGrace=15s
P
        systemctl daemon-reload
        # Eleven successes of different sizes, one after the other: started together on the emulated VM, some
        # recorders ran past their time and analysis-recover wrote those records without a memory peak (see
        # analysis-recover(8)), too few peaks left for suggest. An OOM kill, a timeout, a member's success.
        for i in $(seq 1 11); do
                (cd "$WORK" && analysis-run -q -p e2eeff --id="eff-ok$i" -- \
                        python3 -c "import time; b = bytearray($((i * 3)) << 20); time.sleep(1)") >/dev/null 2>&1
        done
        (cd "$WORK" && analysis-run -q -p e2eeff --id=eff-oom -- python3 -c 'b = bytearray(400 << 20)') >/dev/null 2>&1
        (cd "$WORK" && analysis-run -q -p e2eeff --id=eff-slow --timeout=3s -- sleep 30) >/dev/null 2>&1
        (cd "$WORK" && runuser -u effmember -- analysis-run -q -p e2eeff --id=eff-member -- /bin/true) >/dev/null 2>&1
}

oneTimeTearDown() {
        rm -rf "$E2E_PROFILE_DIR/e2eeff.ini" "$E2E_PROFILE_DIR/e2eeff.ini.d"
        systemctl daemon-reload
        systemctl stop prometheus-node-exporter.service 2>/dev/null
}

# Runs a command (as root, or as USER with "as USER") from $WORK; leaves $rc, $stdout and $stderr.
run() {
        (cd "$WORK" && "$@") >"$SHUNIT_TMPDIR/out" 2>"$SHUNIT_TMPDIR/err"
        rc=$?
        stdout=$(cat "$SHUNIT_TMPDIR/out")
        stderr=$(cat "$SHUNIT_TMPDIR/err")
}

as() {
        local user=$1
        shift
        run runuser -u "$user" -- "$@"
}

# The value of a Python expression over the JSON in $stdout as j.
json() {
        python3 -c "import json,sys; j = json.load(open(sys.argv[1])); print($1)" "$SHUNIT_TMPDIR/out"
}

testTheAnalysesRan() {
        local id
        for id in eff-ok1 eff-ok11 eff-member; do
                assertEquals "$id succeeded" success "$(e2e_record_field "$id" result)"
        done
        for id in $(seq -f 'eff-ok%g' 1 11); do
                assertNotEquals "$id has its memory peak (reconstructed: $(e2e_record_field "$id" reconstructed))" \
                        null "$(e2e_record_field "$id" usage.memory_peak)"
        done
        assertEquals "eff-oom was killed at the memory limit" oom-kill "$(e2e_record_field eff-oom result)"
        assertEquals "eff-slow timed out" timeout "$(e2e_record_field eff-slow result)"
}

testStatusEfficiency() {
        run analysisctl status eff-ok11
        assertEquals "status of an ended analysis: exit status ($stderr)" 3 "$rc"
        assertContains "status: the memory line" "$stdout" "Efficiency:  memory "
        assertContains "status: against the memory limit" "$stdout" " of 128.0 MiB ("
        assertContains "status: CPU against quota x runtime" "$stdout" "% quota x "
        assertContains "status: runtime against the time limit" "$(echo "$stdout" | grep '  runtime ')" " of 1 min ("
        assertContains "status: the task peak against the task limit" "$stdout" \
                "tasks: peak $(e2e_record_field eff-ok11 usage.tasks_peak) of the limit 40 ("
        e2e_note "$(echo "$stdout" | grep -A3 'Efficiency:' | tr -s ' ' | tr '\n' ';')"

        run analysisctl status --json eff-oom
        assertEquals "status --json: valid" 0 "$(python3 -m json.tool "$SHUNIT_TMPDIR/out" >/dev/null; echo $?)"
        assertEquals "status --json: the OOM kill used its whole memory" True \
                "$(json "j['efficiency']['memory']['ratio'] >= 0.9")"
        assertEquals "status --json: memory allowed" 134217728 "$(json "j['efficiency']['memory']['allowed_bytes']")"
        # As numbers: the record's 0.250 reads back as 0.25.
        assertEquals "status --json: the analysis' own CPU, not the sandbox's" True \
                "$(json "abs(j['efficiency']['cpu']['used_sec'] - $(e2e_record_field eff-oom usage.cpu_sec)) < 0.0005")"
        assertEquals "status --json: the record's task peak" "$(e2e_record_field eff-oom usage.tasks_peak)" \
                "$(json "j['efficiency']['tasks']['peak']")"

        # At least its whole time; above it by however long stopping it took (1.3 and 1.7 to 1.8 times its 3 s on
        # the emulated Debian 12 and 13 VMs).
        run analysisctl status --json eff-slow
        assertEquals "status --json: the timeout used its whole time" True \
                "$(json "j['efficiency']['runtime']['ratio'] >= 0.95")"
        e2e_note "the timeout's runtime ratio: $(json "j['efficiency']['runtime']['ratio']")"
}

testReportAndWhoSeesWhat() {
        run analysisctl report --profile=e2eeff --json
        assertEquals "report: exit status ($stderr)" 0 "$rc"
        assertEquals "report: every analysis of the profile" 14 "$(json "j['profiles'][0]['analyses']")"
        assertEquals "report: successes" 12 "$(json "j['profiles'][0]['ended']['success']")"
        assertEquals "report: the OOM kill" 1 "$(json "j['profiles'][0]['ended']['memory']")"
        assertEquals "report: the timeout" 1 "$(json "j['profiles'][0]['ended']['time']")"
        assertEquals "report: the memory maximum is the OOM kill's" True \
                "$(json "j['profiles'][0]['ratios']['memory']['max'] >= 0.9")"
        run analysisctl report --profile=e2eeff
        assertContains "report: the limit hits" "$stdout" "2 analyses hit a limit (memory 1, time 1, tasks 0, disk 0):"
        e2e_note "$(echo "$stdout" | grep -E 'Ended|Memory|CPU|Runtime' | tr -s ' ' | tr '\n' ';')"

        as effmember analysisctl report --profile=e2eeff --json
        assertEquals "report by a member: exit status ($stderr)" 0 "$rc"
        assertEquals "report by a member: their own analysis only" 1 "$(json "j['profiles'][0]['analyses']")"
        assertEquals "report by a member: not everyone" False "$(json "j['everyone']")"
        as effmember analysisctl report --user=root
        assertEquals "report by a member of someone else's: refused" 77 "$rc"
        as effadmin analysisctl report --profile=e2eeff --json
        assertEquals "report by adm: everyone's" 14 "$(json "j['profiles'][0]['analyses']")"
        run analysisctl report --profile=e2eeff --json --user=effmember
        assertEquals "report --user=NAME by root" 1 "$(json "j['profiles'][0]['analyses']")"
}

# CPUQuotaPerSecUSec= ("600ms", "1.100000s") as a percentage of one CPU.
quota_percent() {
        python3 -c 'import re, sys
n, unit = re.match(r"([0-9.]+)(ms|s)$", sys.argv[1]).groups()
print(round(float(n) * (0.1 if unit == "ms" else 100)))' "$1"
}

# NAME=VALUE of the drop-in.
dropin_value() {
        sed -n "s/^$1=//p" "$DROPIN"
}

testSuggestWriteIsLiveAfterReload() {
        local memory runtime bytes
        as effmember analysisctl suggest --write e2eeff
        assertEquals "suggest --write by a member: refused" 77 "$rc"
        assertFalse "suggest --write by a member: nothing written" "[ -e '$DROPIN' ]"

        run analysisctl suggest --write e2eeff
        assertEquals "suggest --write: exit status ($stderr)" 0 "$rc"
        assertTrue "suggest --write: the drop-in" "[ -f '$DROPIN' ]"
        assertContains "suggest --write: tells to reload" "$stderr" "systemctl daemon-reload"
        e2e_note "$(grep -v '^#' "$DROPIN" | tr '\n' ' ')"
        memory=$(dropin_value Memory)
        runtime=$(dropin_value Runtime)
        case $memory in
                *G) bytes=$((${memory%G} << 30)) ;;
                *M) bytes=$((${memory%M} << 20)) ;;
                *) bytes=$memory ;;
        esac
        assertNotEquals "suggest: a Memory= below the profile's" 134217728 "$bytes"
        systemctl daemon-reload
        assertEquals "after daemon-reload: the template has the suggested MemoryMax" "$bytes" \
                "$(systemctl show -P MemoryMax analysis-e2eeff@probe.service)"
        assertEquals "after daemon-reload: CPUQuota" "$(dropin_value CPU | tr -d %)" \
                "$(quota_percent "$(systemctl show -P CPUQuotaPerSecUSec analysis-e2eeff@probe.service)")"
        e2e_note "suggested Runtime=$runtime: RuntimeMaxUSec=$(systemctl show -P RuntimeMaxUSec analysis-e2eeff@probe.service)"

        rm "$DROPIN"
        systemctl daemon-reload
        assertEquals "removing the one file takes it back" 134217728 \
                "$(systemctl show -P MemoryMax analysis-e2eeff@probe.service)"
}

# Scrapes node_exporter; leaves the text in $SHUNIT_TMPDIR/scrape.
scrape() {
        python3 - "$SHUNIT_TMPDIR/scrape" <<'PY'
import sys, time, urllib.request
for _ in range(60):
    try:
        text = urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=10).read()
        break
    except OSError:
        time.sleep(1)
else:
    sys.exit("node_exporter did not answer on 127.0.0.1:9100")
open(sys.argv[1], "wb").write(text)
PY
}

testMetricsThroughNodeExporter() {
        local before after
        assertTrue "prometheus-node-exporter is installed in the image" "command -v prometheus-node-exporter"
        mkdir -p "$TEXTFILE_DIR"
        systemctl start prometheus-node-exporter.service
        run systemctl start analysis-sandbox-metrics.service
        assertEquals "the metrics service: exit status ($stderr)" 0 "$rc"
        assertTrue "the metrics file" "[ -s '$TEXTFILE_DIR/analysis-sandbox.prom' ]"
        assertTrue "the metrics file is valid exposition text" \
                "python3 '$HERE/check-prometheus-text.py' '$TEXTFILE_DIR/analysis-sandbox.prom' --expect \
                analysis_sandbox_analyses_ended_total analysis_sandbox_limit_hits_total \
                analysis_sandbox_memory_peak_ratio analysis_sandbox_analyses_running"
        scrape
        assertContains "scraped: ended analyses" "$(cat "$SHUNIT_TMPDIR/scrape")" \
                'analysis_sandbox_analyses_ended_total{profile="e2eeff",result="success"} 12'
        assertContains "scraped: limit hits" "$(cat "$SHUNIT_TMPDIR/scrape")" \
                'analysis_sandbox_limit_hits_total{limit="memory",profile="e2eeff"} 1'
        assertContains "scraped: the textfile collector read it without error" "$(cat "$SHUNIT_TMPDIR/scrape")" \
                "node_textfile_scrape_error 0"

        # gc removes an old record: the counters do not go down.
        before=$(grep -c . "$TEXTFILE_DIR/analysis-sandbox.prom")
        touch -d '3 days ago' "$RESULTS_DIR"/eff-ok1.*
        run analysisctl gc --older-than=2d
        assertEquals "gc: exit status ($stderr)" 0 "$rc"
        assertFalse "gc removed the old record" "[ -e '$RESULTS_DIR/eff-ok1.json' ]"
        assertContains "gc kept its counts" "$(cat /var/lib/analysis-sandbox/metrics-tally)" "e2eeff ended.success 1"
        systemctl start analysis-sandbox-metrics.service
        after=$(grep -c . "$TEXTFILE_DIR/analysis-sandbox.prom")
        assertContains "after gc: still 12 successes" "$(cat "$TEXTFILE_DIR/analysis-sandbox.prom")" \
                'analysis_sandbox_analyses_ended_total{profile="e2eeff",result="success"} 12'
        assertEquals "after gc: the same series" "$before" "$after"
}

. shunit2
