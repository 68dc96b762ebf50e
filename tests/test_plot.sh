#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests analysisctl plot and report --plot on the host: an ended analysis' samples, and the distributions of
# peak memory and runtime of fixture records, drawn as SVG from a results directory. The SVG renders with
# rsvg-convert (librsvg2-bin) into a PNG of the size asked for; the memory and CPU curves follow the samples (the
# points of each <path> are read back and must be the rows, scaled), and report's bars follow the records' counts
# per 10% of the limit (each <rect> read back), under report's filters. Needs ANALYSISCTL from meson.

oneTimeSetUp() {
        export XDG_RUNTIME_DIR=$SHUNIT_TMPDIR/runtime XDG_STATE_HOME=$SHUNIT_TMPDIR/state
        results=$XDG_STATE_HOME/analysis-sandbox/results
        mkdir -p "$XDG_RUNTIME_DIR" "$results"
        # 40 rows climbing by 3 MiB a second to the 128 MiB limit, an OOM kill in the last; CPU around half a CPU.
        python3 - "$results/plot1.samples.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("# analysis-sandbox samples v1 id=plot1 profile=tool interval=1s\n")
    f.write("time_sec,span_sec,memory_bytes,cpu_sec,cpu_throttled_sec,tasks,read_bytes,written_bytes,events\n")
    for i in range(1, 41):
        mem = min(i * 3 << 20, 128 << 20)
        cpu = 0.4 + (i % 5) * 0.05
        events = "oom-kill" if i == 40 else ""
        f.write(f"{i}.000,1.000,{mem},{cpu:.6f},0.100000,{1 + i % 3},0,4096,{events}\n")
PY
        record_with plot1 '"samples":"'"$results"'/plot1.samples.csv","samples_missing":null'
        record_with plot2 '"samples":null,"samples_missing":"sampling is off (SampleInterval=0 in analysis-sandbox.conf)"'

        # report --plot's records, in a results directory of their own. Limits 1000 MiB and 100 s, so that a
        # percentage is a figure; every value is away from a 10% bin's edge (the histogram's buckets are 2% wide).
        # gamma: memory 5 5 5 25 25 35 55 95 105 180%, runtime 15 15 45 45 45 65 85 92 125 250%.
        # delta: four at memory 45%, runtime 75%, from 2026-11-20; gamma's are from 2026-11-01 on.
        # One more gamma, of another caller: memory 65%, runtime 35%.
        rresults=$SHUNIT_TMPDIR/rstate/analysis-sandbox/results
        mkdir -p "$rresults"
        local mem=(5 5 5 25 25 35 55 95 105 180) run=(15 15 45 45 45 65 85 92 125 250) i
        for i in "${!mem[@]}"; do
                report_record "g$i" gamma "${mem[i]}" "${run[i]}" "$(printf '2026-11-%02d' $((i + 1)))" "$(id -u)"
        done
        for i in 1 2 3 4; do
                report_record "d$i" delta 45 75 2026-11-20 "$(id -u)"
        done
        report_record other gamma 65 35 2026-11-05 4242
}

# Writes a record: ID PROFILE MEMORY% RUNTIME% DAY CALLER_UID, under limits of 1000 MiB and 100 s.
report_record() {
        cat >"$rresults/$1.json" <<J
{"id":"$1","unit":"analysis-$2@$1.service","profile":"$2","result":"success","exit_code":"exited","exit_status":0,"signal":null,"limits":{"memory_max":1048576000,"cpu_quota_percent":100,"tasks_max":32,"runtime_max_sec":100.000},"profile_limits":{"memory_max":1048576000},"usage":{"runtime_sec":$4.000,"cpu_sec":1.000,"memory_peak":$(($3 * 10485760)),"oom_kills":0},"started_at":null,"finished_at":"$5T12:00:00.000Z","caller_uid":$6,"notes":"x"}
J
}

# Runs report --plot over report's records with ARGS, the SVG to standard output; prints the bars read back, a
# line a panel: its title, then bin:count for each bar, and whether every bar's height is the same multiple of
# its count.
report_bars() {
        XDG_STATE_HOME=$SHUNIT_TMPDIR/rstate "$ANALYSISCTL" --user report --plot=- "$@" >"$SHUNIT_TMPDIR/bars.svg" || return
        python3 - "$SHUNIT_TMPDIR/bars.svg" <<'PY'
import re, sys
svg = open(sys.argv[1]).read()
for panel in svg.split('<g class="panel"')[1:]:
    title = re.search(r'class="panel-title"[^>]*>([^<]*)<', panel).group(1)
    bars = re.findall(r'<rect class="bar" data-x="([^"]*)" data-y="([^"]*)" x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)"', panel)
    scale = {round(float(h) / float(y), 1) for _, y, h in bars}
    print(title.split(" (")[0] + ":", " ".join("%d:%s" % (float(x) // 10, y) for x, y, _ in bars),
          "proportional" if len(scale) <= 1 else "not proportional %s" % scale)
PY
}

# Writes the record of analysis ID with FIELDS (the samples ones) in the results directory.
record_with() {
        cat >"$results/$1.json" <<J
{"id":"$1","unit":"analysis-tool@$1.service","profile":"tool","result":"oom-kill","exit_code":"killed","exit_status":null,"signal":"KILL","limits":{"memory_max":134217728,"cpu_quota_percent":50,"tasks_max":32,"runtime_max_sec":300.000},"profile_limits":{"memory_max":536870912,"cpu_quota_percent":50,"tasks_max":32,"runtime_max_sec":300.000},"usage":{"runtime_sec":40.000,"cpu_sec":20.000,"memory_peak":134217728,"oom_kills":1},"started_at":"2026-11-26T07:00:00.000Z","finished_at":"2026-11-26T07:00:40.000Z","caller_uid":1000,"notes":"Killed.",$2}
J
}

# Runs analysisctl; leaves $rc, $stdout and $stderr.
ctl() {
        "$ANALYSISCTL" "$@" >"$SHUNIT_TMPDIR/stdout" 2>"$SHUNIT_TMPDIR/stderr"
        rc=$?
        stdout=$(cat "$SHUNIT_TMPDIR/stdout")
        stderr=$(cat "$SHUNIT_TMPDIR/stderr")
}

test_plot_writes_an_svg() {
        ctl --user plot plot1 -o "$SHUNIT_TMPDIR/plot1.svg"
        assertEquals "exit status ($stderr)" 0 "$rc"
        assertContains "says what it wrote" "$stdout" "40 samples of analysis plot1"
        assertContains "the id in the title" "$(cat "$SHUNIT_TMPDIR/plot1.svg")" "Analysis plot1 (profile tool)"
        assertContains "memory axis with its unit" "$(cat "$SHUNIT_TMPDIR/plot1.svg")" "Memory (MiB)"
        assertContains "time axis with its unit" "$(cat "$SHUNIT_TMPDIR/plot1.svg")" "Time since the analysis started (s)"
        assertContains "the memory limit line" "$(cat "$SHUNIT_TMPDIR/plot1.svg")" 'class="limit" data-label="memory limit"'
        assertContains "the CPU quota line" "$(cat "$SHUNIT_TMPDIR/plot1.svg")" 'class="limit" data-label="CPU quota"'
        assertContains "the OOM kill marked" "$(cat "$SHUNIT_TMPDIR/plot1.svg")" 'class="mark" data-label="oom-kill"'
        ctl --user plot plot1 -o -
        assertEquals "-o -: standard output" "$(cat "$SHUNIT_TMPDIR/plot1.svg")" "$stdout"
}

test_svg_renders() {
        if ! command -v rsvg-convert >/dev/null; then
                startSkipping
                echo "SKIP: rsvg-convert missing (librsvg2-bin; tools/install-deps installs it)"
        fi
        "$ANALYSISCTL" --user -q plot plot1 -o "$SHUNIT_TMPDIR/r.svg"
        rsvg-convert -w 800 -o "$SHUNIT_TMPDIR/r.png" "$SHUNIT_TMPDIR/r.svg" 2>"$SHUNIT_TMPDIR/rsvg.err"
        assertEquals "rsvg-convert renders it ($(cat "$SHUNIT_TMPDIR/rsvg.err"))" 0 $?
        # The PNG's width and height from its IHDR chunk.
        size=$(python3 -c 'import struct, sys; d = open(sys.argv[1], "rb").read(24); print(d[:8] == b"\x89PNG\r\n\x1a\n" and "%dx%d" % struct.unpack(">II", d[16:24]))' "$SHUNIT_TMPDIR/r.png")
        assertEquals "an 800 px wide PNG" 800x560 "$size"
        assertTrue "not empty ($(stat -c %s "$SHUNIT_TMPDIR/r.png") bytes)" "[ $(stat -c %s "$SHUNIT_TMPDIR/r.png") -gt 10000 ]"
}

# The curves' points, read back from the SVG, are the samples in order, under one linear scale per axis.
test_curves_follow_the_samples() {
        "$ANALYSISCTL" --user -q plot plot1 -o "$SHUNIT_TMPDIR/c.svg"
        out=$(python3 - "$SHUNIT_TMPDIR/c.svg" "$results/plot1.samples.csv" <<'PY'
import csv, re, sys
svg = open(sys.argv[1]).read()
rows = list(csv.DictReader(l for l in open(sys.argv[2]) if not l.startswith("#")))
def points(label):
    m = re.search(r'<path class="line" data-label="%s"[^>]* d="([^"]*)"' % re.escape(label), svg)
    return [tuple(map(float, p.split(","))) for p in re.findall(r"[-\d.]+,[-\d.]+", m.group(1))]
def follows(pts, xs, ys):
    if len(pts) != len(xs):
        return "%d points for %d rows" % (len(pts), len(xs))
    # pixel = a + b * value, from the first and last point; every point must agree to half a pixel
    for axis, values in ((0, xs), (1, ys)):
        i, j = 0, len(values) - 1
        while values[j] == values[i]:
            j -= 1
        b = (pts[j][axis] - pts[i][axis]) / (values[j] - values[i])
        a = pts[i][axis] - b * values[i]
        for p, v in zip(pts, values):
            if abs(a + b * v - p[axis]) > 0.5:
                return "axis %d: %s is not at %.2f" % (axis, p, a + b * v)
    return "ok"
t = [float(r["time_sec"]) for r in rows]
print("memory", follows(points("memory in use"), t, [float(r["memory_bytes"]) for r in rows]))
print("cpu", follows(points("CPU used"), t, [float(r["cpu_sec"]) / float(r["span_sec"]) for r in rows]))
PY
)
        assertContains "the memory curve follows the samples" "$out" "memory ok"
        assertContains "the CPU curve follows the samples" "$out" "cpu ok"
}

test_report_plot_bars_follow_the_records() {
        out=$(report_bars)
        assertEquals "report --plot: every profile's panels, bars per 10% of the limit" \
"Profile delta: peak memory ÷ memory limit: 4:4 proportional
Profile delta: runtime ÷ time limit: 7:4 proportional
Profile gamma: peak memory ÷ memory limit: 0:3 2:2 3:1 5:1 6:1 9:1 10:1 15:1 proportional
Profile gamma: runtime ÷ time limit: 1:2 3:1 4:3 6:1 8:1 9:1 12:1 15:1 proportional" "$out"
        svg=$(cat "$SHUNIT_TMPDIR/bars.svg")
        assertContains "the limit drawn at 100%" "$svg" 'class="limit" data-label="the limit (100%)"'
        assertContains "a legend" "$svg" '>analyses by memory peak</text>'
        assertContains "the x axis and its unit" "$svg" '>Share of the limit the analysis ran under (%;'
        assertContains "the y axis" "$svg" '>Analyses</text>'
        assertContains "the panel counts its analyses" "$svg" 'Profile gamma: runtime ÷ time limit (11 of 11 analyses)'
}

test_report_plot_filters() {
        out=$(report_bars --profile=delta)
        assertEquals "report --plot --profile: that profile's panels only" \
"Profile delta: peak memory ÷ memory limit: 4:4 proportional
Profile delta: runtime ÷ time limit: 7:4 proportional" "$out"
        out=$(report_bars --profile=gamma --user="$(id -un)" --since=2026-11-02 --until=2026-11-08)
        assertEquals "report --plot --user --since --until: the records in range, one's own" \
"Profile gamma: peak memory ÷ memory limit: 0:2 2:2 3:1 5:1 proportional
Profile gamma: runtime ÷ time limit: 1:1 4:3 6:1 8:1 proportional" "$out"
}

test_report_plot_file_and_text() {
        XDG_STATE_HOME=$SHUNIT_TMPDIR/rstate ctl --user report --profile=delta --plot "$SHUNIT_TMPDIR/report.svg"
        assertEquals "report --plot FILE: exit status ($stderr)" 0 "$rc"
        assertContains "report --plot FILE: the text as usual" "$stdout" "Profile delta: 4 analyses"
        assertContains "report --plot FILE: the picture" "$(cat "$SHUNIT_TMPDIR/report.svg")" "Profile delta: runtime"
        XDG_STATE_HOME=$SHUNIT_TMPDIR/rstate ctl --user report --json --plot "$SHUNIT_TMPDIR/report.svg"
        assertEquals "report --json --plot FILE: the JSON as usual" 15 "$(python3 -c 'import json, sys; print(json.load(sys.stdin)["analyses"])' <<<"$stdout")"
        XDG_STATE_HOME=$SHUNIT_TMPDIR/rstate ctl --user report --plot "$SHUNIT_TMPDIR/no-such-dir/r.svg"
        assertEquals "report --plot into a missing directory: exit status" 1 "$rc"
        assertContains "report --plot into a missing directory: says which" "$stderr" "no-such-dir/r.svg"
        XDG_STATE_HOME=$SHUNIT_TMPDIR/rstate ctl --user report --profile=nosuch --plot=-
        assertEquals "report --plot with no analyses: exit status ($stderr)" 0 "$rc"
        assertContains "report --plot with no analyses: still a picture" "$stdout" "(0 analyses)"
}

# A chart holds 16 profiles; the rest are left out with a warning that says how to see them.
test_report_plot_many_profiles() {
        local state=$SHUNIT_TMPDIR/many-state i
        mkdir -p "$state/analysis-sandbox/results"
        for i in $(seq 10 27); do
                rresults=$state/analysis-sandbox/results report_record "m$i" "p$i" 45 75 2026-11-20 "$(id -u)"
        done
        XDG_STATE_HOME=$state ctl --user report --plot=-
        assertEquals "report --plot of 18 profiles: exit status ($stderr)" 0 "$rc"
        assertContains "report --plot of 18 profiles: says so" "$stderr" "the first 16 of 18 profiles"
        assertEquals "report --plot of 18 profiles: 32 panels" 32 "$(grep -c 'class="panel-title"' <<<"$stdout")"
        assertNotContains "report --plot of 18 profiles: the last left out" "$stdout" "Profile p27"
}

test_report_plot_renders() {
        if ! command -v rsvg-convert >/dev/null; then
                startSkipping
                echo "SKIP: rsvg-convert missing (librsvg2-bin; tools/install-deps installs it)"
        fi
        XDG_STATE_HOME=$SHUNIT_TMPDIR/rstate "$ANALYSISCTL" --user -q report --plot "$SHUNIT_TMPDIR/rr.svg" >/dev/null
        rsvg-convert -w 800 -o "$SHUNIT_TMPDIR/rr.png" "$SHUNIT_TMPDIR/rr.svg" 2>"$SHUNIT_TMPDIR/rsvg.err"
        assertEquals "rsvg-convert renders report's picture ($(cat "$SHUNIT_TMPDIR/rsvg.err"))" 0 $?
        size=$(python3 -c 'import struct, sys; d = open(sys.argv[1], "rb").read(24); print(d[:8] == b"\x89PNG\r\n\x1a\n" and "%dx%d" % struct.unpack(">II", d[16:24]))' "$SHUNIT_TMPDIR/rr.png")
        # Two profiles, two panels each of 210 px, and 110 px of title and x axis.
        assertEquals "an 800 px wide PNG, as tall as its panels" 800x950 "$size"
        assertTrue "not empty ($(stat -c %s "$SHUNIT_TMPDIR/rr.png") bytes)" "[ $(stat -c %s "$SHUNIT_TMPDIR/rr.png") -gt 10000 ]"
}

test_plot_errors() {
        ctl --user plot plot2 -o "$SHUNIT_TMPDIR/p2.svg"
        assertEquals "no samples: exit status" 1 "$rc"
        assertContains "no samples: says why" "$stderr" "sampling is off"
        ctl --user plot plot1
        assertEquals "without -o: exit status" 64 "$rc"
        ctl --user plot nosuch -o "$SHUNIT_TMPDIR/x.svg"
        assertEquals "no record: exit status" 4 "$rc"
        chmod 000 "$results/plot1.samples.csv"
        if [ "$(id -u)" -ne 0 ]; then
                ctl --user plot plot1 -o "$SHUNIT_TMPDIR/x.svg"
                assertEquals "samples not readable: exit status" 77 "$rc"
        fi
        chmod 600 "$results/plot1.samples.csv"
}

. shunit2
