#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Turns the raw figures of one benchmark run into the markdown tables of bench/results.md, with each goal judged.
#
# Usage: report.py MACHINE.json [GENERATOR.json] [VM.json] [LABEL=VM.json...]
# Prints the markdown. MACHINE.json is written by bench/run, GENERATOR.json by bench/generator/run, VM.json by
# the guest's bench/vm/bench.py; a part whose file is missing or empty is reported as not run. Each
# LABEL=VM.json (bench/run --releases: one per Debian release, each from a boot of its own) adds a column
# to the section that sets the releases' per-analysis rows side by side.

import json
import statistics
import sys

SIZES = ["10", "100", "1000"]
PROGRAMS = [("generator", "analysis-generator"), ("fstab", "systemd-fstab-generator"), ("floor", "floor (writes only)"),
            ("floor_read", "floor + reading the profiles")]
# Instructions are exact, so "linear" can be strict: the per-item cost from 100 to 1000 items may exceed the one
# from 10 to 100 by this much.
LINEARITY_TOLERANCE = 1.10

goals = []
# Issue 13's goals: (name, the ratio's upper bound, the measured ratio, what it is made of), filled by the sections.
targets = []


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def quartiles(xs):
    if len(xs) < 2:
        return (xs[0], xs[0]) if xs else (float("nan"), float("nan"))
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def ms(x):
    if x != x:
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def count(x):
    if x >= 1e9:
        return f"{x / 1e9:.2f} G"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def ratio(a, b):
    return f"{a / b:.2f}×" if b else "–"


def goal(name, met, evidence):
    goals.append((name, met, evidence))


def target(order, name, bound, value, evidence):
    """One of issue 13's ratios; order is its row in the issue's table."""
    targets.append((order, name, bound, value, evidence))


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def load(path):
    if not path:
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def generator_section(g):
    out = ["## 1. Generator (host)", ""]
    if not g:
        return out + ["Not run.", ""]
    s = g["sizes"]
    wall = {n: {p: median(s[n][p]["times_s"]) * 1000 for p, _ in PROGRAMS} for n in SIZES}
    ir = {n: {p: s[n][p]["instructions"] for p, _ in PROGRAMS} for n in SIZES}
    rows = []
    for n in SIZES:
        for p, label in PROGRAMS:
            q1, q3 = quartiles([t * 1000 for t in s[n][p]["times_s"]])
            rows.append([n, label, f"{s[n][p]['files']} / {s[n][p]['bytes'] / 1024:.0f} KiB",
                         f"{ms(wall[n][p])} ({ms(q1)}–{ms(q3)})", f"{wall[n][p] / int(n) * 1000:.0f}",
                         count(ir[n][p]), count(ir[n][p] / int(n))])
    out.append(table(["items", "program", "files / bytes written", "wall ms, median (IQR)", "µs per item",
                      "instructions", "instr. per item"], rows))
    out.append("")
    runs = ", ".join(f"{len(s[n]['generator']['times_s'])} at {n}" for n in SIZES)
    out.append(f"Runs per program: {runs} (hyperfine, each into a fresh directory on a tmpfs; the programs take "
               "turns in up to 10 rounds of a few runs each, after 3 warm-ups and 1 per round, so that a change in "
               "the load falls on all of them alike). "
               "An item is a profile (a slice and a service template) or an fstab entry (a .mount unit and a "
               "wants symlink); the floor writes the generator's files, same names and sizes, each atomically "
               "(exclusive temporary file, write, fsync, rename), and nothing else; the second floor first reads every "
               "profile (open, read, close), as any generator must. Instructions are user space only "
               "(callgrind), so the floor's are close to none: its cost is in the kernel, which only the wall time "
               "shows.")
    out.append("")

    def slope(d, p, a, b):
        return (d[b][p] - d[a][p]) / (int(b) - int(a))

    rows = []
    per_item = {}
    for name, d, unit, scale in [("wall time", wall, "µs", 1000), ("instructions", ir, "", 1)]:
        per_item[name] = {p: slope(d, p, "10", "1000") * scale for p, _ in PROGRAMS}
        fmt = (lambda x: f"{x:.0f} µs") if unit else (lambda x: count(x))
        rows.append([f"{name}: per item (10 → 1000)", fmt(per_item[name]["generator"]),
                     fmt(per_item[name]["fstab"]), fmt(per_item[name]["floor"]), fmt(per_item[name]["floor_read"]),
                     ratio(per_item[name]["generator"], per_item[name]["fstab"]),
                     ratio(per_item[name]["generator"], per_item[name]["floor"]),
                     ratio(per_item[name]["generator"], per_item[name]["floor_read"])])
    linear = {}
    for name, d in [("wall time", wall), ("instructions", ir)]:
        ten = {p: d["1000"][p] / (10 * d["100"][p]) for p, _ in PROGRAMS}
        growth = {p: slope(d, p, "100", "1000") / slope(d, p, "10", "100") for p, _ in PROGRAMS}
        linear[name] = growth["generator"]
        rows.append([f"{name}: 1000 items ÷ (10 × 100 items)", f"{ten['generator']:.2f}", f"{ten['fstab']:.2f}",
                     f"{ten['floor']:.2f}", f"{ten['floor_read']:.2f}", "", "", ""])
        rows.append([f"{name}: per item 100→1000 ÷ per item 10→100", f"{growth['generator']:.2f}",
                     f"{growth['fstab']:.2f}", f"{growth['floor']:.2f}", f"{growth['floor_read']:.2f}", "", "", ""])
    out.append(table(["", "analysis-generator", "fstab-generator", "floor", "floor + reading", "ratio to fstab",
                      "ratio to floor", "ratio to floor + reading"], rows))
    out.append("")
    out.append("Per item is the slope between 10 and 1000 items, so each program's fixed start-up cost (loading "
               "libsystemd-shared is most of fstab-generator's 10-item figure) is left out. A program is linear "
               "when the per-item cost from 100 to 1000 is no more than that from 10 to 100 (≤ "
               f"{LINEARITY_TOLERANCE:.2f}: instructions are exact; wall times are noisier).")
    out.append("")
    top = g.get("generator_top_functions") or []
    if top:
        out.append("Where analysis-generator's instructions go at 1000 profiles (callgrind, inclusive): "
                   + ", ".join(f"`{t.split(' ', 1)[1]}` {t.split(' ', 1)[0]}" for t in top) + ".")
        out.append("")

    goal("generator: per item at most fstab-generator's (instructions)",
         per_item["instructions"]["generator"] <= per_item["instructions"]["fstab"],
         f"{ratio(per_item['instructions']['generator'], per_item['instructions']['fstab'])} of fstab-generator")
    goal("generator: per item at most fstab-generator's (wall time)",
         per_item["wall time"]["generator"] <= per_item["wall time"]["fstab"],
         f"{ratio(per_item['wall time']['generator'], per_item['wall time']['fstab'])} of fstab-generator")
    target(4, "generator per profile ÷ the write floor (wall time)", 1.5,
           per_item["wall time"]["generator"] / per_item["wall time"]["floor"],
           f"{per_item['wall time']['generator']:.0f} against {per_item['wall time']['floor']:.0f} µs per profile")
    goal("generator: linear in the number of profiles (instructions)",
         linear["instructions"] <= LINEARITY_TOLERANCE,
         f"per-item growth {linear['instructions']:.2f} from 100 to 1000 profiles")
    return out


OVERHEAD_ROWS = [
    ("fork_exec", "fork+exec of /bin/true"),
    ("systemd_run", "`systemd-run --wait -q /bin/true`"),
    ("systemd_run_same", "`systemd-run --wait -q` with analysis@'s directives"),
    ("systemctl_equivalent", "`systemctl start --wait` equivalent template (Type=exec, same directives)"),
    ("systemctl_stoppost", "`systemctl start --wait` equivalent template + `ExecStopPost=+/bin/true`"),
    ("systemd_run_stoppost", "`systemd-run --wait -q` with analysis@'s directives + `ExecStopPost=+/bin/true`"),
    ("systemctl_generated", "`systemctl start --wait` the generated analysis unit itself (no analysis-run)"),
    ("analysis_run", "**`analysis-run -q -- /bin/true`**"),
    ("start_record", "start-up alone: `analysis-record --version` (run once per analysis, as root)"),
    ("start_run", "start-up alone: `analysis-run --version`"),
]
THROUGHPUT_ROWS = [
    ("analysis_run", "analysis-run"),
    ("systemd_run", "systemd-run --wait"),
    ("systemd_run_same", "systemd-run --wait, analysis@'s directives"),
    ("systemd_run_stoppost", "systemd-run --wait, analysis@'s directives + ExecStopPost=+/bin/true"),
]


def overhead_section(vm):
    out = ["## 2. Helper overhead per analysis (VM)", ""]
    methods = vm["overhead"]["methods"]
    base = median([s["wall_ms"] for s in methods["systemd_run"]])
    rows = []
    for key, label in OVERHEAD_ROWS:
        samples = methods.get(key)
        if not samples:
            continue
        wall = [s["wall_ms"] for s in samples]
        q1, q3 = quartiles(wall)
        failed = sum(1 for s in samples if s["status"] != 0)
        rows.append([label, ms(median(wall)), f"{ms(q1)}–{ms(q3)}", ratio(median(wall), base),
                     ms(median([s["cpu_ms"] for s in samples])),
                     f"{median([s['rss_kib'] for s in samples]) / 1024:.1f}", failed])
    out.append(table(["way of running /bin/true", "wall ms median", "IQR", "vs systemd-run", "client CPU ms",
                      "client peak RSS MiB", "failed"], rows))
    out.append("")
    out.append(f"{vm['overhead']['runs']} runs of each, interleaved in a shuffled order after 2 warm-up rounds; "
               "client CPU and peak RSS are the measured command's own (wait4), not systemd's. "
               "\"analysis@'s directives\" are the generated analysis@.service's [Service] lines without "
               "analysis-sandbox's own (ExecStartPre/ExecStart/ExecStopPost, output files, RuntimeDirectory, "
               "Environment): " + ", ".join(f"`{d}`" for d in vm.get("equivalent_directives", [])) + ".")
    out.append("")
    ar = median([s["wall_ms"] for s in methods["analysis_run"]])
    same = median([s["wall_ms"] for s in methods["systemd_run_same"]])
    target(1, "one trivial analysis: analysis-run ÷ systemd-run --wait with analysis@'s directives", 1.10, ar / same,
           f"{ms(ar)} against {ms(same)} ms")
    gen = median([s["wall_ms"] for s in methods["systemctl_generated"]])
    equiv = median([s["wall_ms"] for s in methods["systemctl_equivalent"]])
    target(3, "the generated unit ÷ the equivalent template (systemctl start --wait both)", 1.15, gen / equiv,
           f"{ms(gen)} against {ms(equiv)} ms")
    # The floor: what any record written after the stop (ExecStopPost=, where systemd's Result= and the cgroup's
    # counters both exist) costs, with a writer that does nothing at all.
    if "systemd_run_stoppost" in methods:
        floor = median([s["wall_ms"] for s in methods["systemd_run_stoppost"]])
        target(1.5, "floor of row 1: the same systemd-run + an `ExecStopPost=+/bin/true` ÷ without", 1.10,
               floor / same, f"{ms(floor)} against {ms(same)} ms")
    if "systemctl_stoppost" in methods:
        floor = median([s["wall_ms"] for s in methods["systemctl_stoppost"]])
        target(3.5, "floor of row 3: the equivalent template + an `ExecStopPost=+/bin/true` ÷ without", 1.15,
               floor / equiv, f"{ms(floor)} against {ms(equiv)} ms")
    goal("analysis-run no slower than systemd-run --wait", ar <= base,
         f"{ms(ar)} ms against {ms(base)} ms ({ratio(ar, base)})")
    rss_ar = median([s["rss_kib"] for s in methods["analysis_run"]])
    rss_sr = median([s["rss_kib"] for s in methods["systemd_run"]])
    goal("analysis-run peak RSS smaller than systemd-run's", rss_ar < rss_sr,
         f"{rss_ar / 1024:.1f} MiB against {rss_sr / 1024:.1f} MiB")
    return out


def throughput_section(vm):
    out = ["## 3. Throughput: N analyses of `sleep 1` started at once (VM)", ""]
    rows = []
    for n, batches in vm["throughput"].items():
        base = median([max(s["wall_ms"] for s in b) for b in batches["systemd_run"]])
        for key, label in THROUGHPUT_ROWS:
            if key not in batches:
                continue
            totals = [max(s["wall_ms"] for s in b) for b in batches[key]]
            lat = [s["wall_ms"] for b in batches[key] for s in b]
            failed = sum(1 for b in batches[key] for s in b if s["status"] != 0)
            rows.append([n, label, len(batches[key]), ms(median(totals)), ratio(median(totals), base),
                         ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(max(lat)), failed])
    out.append(table(["at once", "tool", "batches", "total wall ms", "vs systemd-run", "latency p50 ms", "p90 ms",
                      "max ms", "failed"], rows))
    out.append("")
    out.append("Latency is each analysis' own time from the common start to its tool's exit; total wall is the "
               "last one's (median over batches).")
    out.append("")
    top = max(vm["throughput"], key=int)
    batches = vm["throughput"][top]
    if "systemd_run_same" in batches:
        ar = median([max(s["wall_ms"] for s in b) for b in batches["analysis_run"]])
        same = median([max(s["wall_ms"] for s in b) for b in batches["systemd_run_same"]])
        target(2, f"{top} at once, total wall: analysis-run ÷ systemd-run --wait with analysis@'s directives", 1.00,
               ar / same, f"{ms(ar)} against {ms(same)} ms")
        if "systemd_run_stoppost" in batches:
            floor = median([max(s["wall_ms"] for s in b) for b in batches["systemd_run_stoppost"]])
            target(2.5, f"floor of row 2: {top} at once, the same systemd-run + an `ExecStopPost=+/bin/true` ÷ without",
                   1.00, floor / same, f"{ms(floor)} against {ms(same)} ms")
    return out


FIRST_BYTE_ROWS = [
    ("analysis_run", "`analysis-run -q -- /bin/echo first`"),
    ("systemd_run", "`systemd-run --wait -q --pipe /bin/echo first`"),
    ("systemd_run_same", "`systemd-run --wait -q --pipe` with analysis@'s directives"),
]


def first_byte_section(vm):
    fb = vm.get("first_byte")
    out = ["## 3b. Time to the first byte of output (VM)", ""]
    if not fb:
        return out + ["Not run.", ""]
    methods = fb["methods"]
    base = median([s["first_ms"] for s in methods["systemd_run_same"] if s["first_ms"] is not None])
    rows = []
    for key, label in FIRST_BYTE_ROWS:
        samples = methods[key]
        first = [s["first_ms"] for s in samples if s["first_ms"] is not None]
        q1, q3 = quartiles(first) if first else (float("nan"), float("nan"))
        rows.append([label, ms(median(first)), f"{ms(q1)}–{ms(q3)}", ratio(median(first), base),
                     ms(median([s["wall_ms"] for s in samples])),
                     sum(1 for s in samples if s["status"] != 0 or s["first_ms"] is None)])
    out.append(table(["way of running it", "first byte ms median", "IQR", "vs systemd-run, same directives",
                      "to the exit, ms", "failed"], rows))
    out.append("")
    out.append(f"{fb['runs']} runs of each, interleaved in a shuffled order after a warm-up round; the caller reads "
               "the command's stdout from a pipe: analysis-run streams the analysis' output file to it, systemd-run "
               "--pipe hands the unit its stdout. Timed from the caller's start (python's Popen).")
    out.append("")
    return out


def accuracy_section(vm):
    a = vm["accuracy"]
    out = ["## 4. Reporting accuracy (VM)", ""]
    base = median([r["memory_peak"] for r in a["memory"]["0"] if r["memory_peak"] is not None])
    rows = []
    for mib in a["hog_mib"]:
        peaks = [r["memory_peak"] for r in a["memory"][str(mib)] if r["memory_peak"] is not None]
        peak = median(peaks)
        if mib == 0:
            rows.append(["0 (python alone)", f"{peak / 2**20:.1f}", "", ""])
        else:
            extra = (peak - base) / 2**20
            rows.append([mib, f"{peak / 2**20:.1f}", f"{extra:.1f}", f"{(extra - mib) / mib * 100:+.1f}%"])
    out.append(table(["hog allocates MiB", "record memory_peak MiB", "minus python alone", "error"], rows))
    out.append("")
    rows = []
    sleep = a["sleep"]
    rows.append([f"`sleep {a['sleep_sec']}`", f"{a['sleep_sec']} s",
                 f"{median([r['runtime_sec'] for r in sleep]):.2f} s",
                 f"{median([r['wall_ms'] for r in sleep]) / 1000:.2f} s",
                 ", ".join(sorted({str(r['result']) for r in sleep}))])
    for key, label in [("timeout_profile", f"profile Runtime={a['timeout_sec']}s, `sleep 60`"),
                       ("timeout_option", f"`--timeout={a['timeout_sec']}s`, `sleep 60`")]:
        runs = a[key]
        rows.append([label, f"{a['timeout_sec']} s", f"{median([r['runtime_sec'] for r in runs]):.2f} s",
                     f"{median([r['wall_ms'] for r in runs]) / 1000:.2f} s",
                     ", ".join(sorted({str(r['result']) for r in runs}))])
    out.append(table(["analysis", "known / limit", "record runtime_sec", "analysis-run wall", "result"], rows))
    out.append("")
    out.append("Medians of the runs (3 each). memory_peak is the unit cgroup's memory.peak, read by "
               "`analysis-record finish`; runtime_sec runs from the runner's check of the request to ExecStopPost, so it "
               "includes starting the command and, for a timeout, stopping the analysis.")
    out.append("")
    return out


PHASES = [
    ("client start → first bus call", "client_start", "first_call"),
    ("calls before the start job", "first_call", "start_call"),
    ("start job → first spawn", "start_call", None),
    ("ExecStartPre (none since the runner prepares itself)", "pre_spawn", "main_spawn"),
    ("main process: fork, sandbox, exec", "main_spawn", "running"),
    ("main process runs", "running", "main_exit"),
    ("ExecStopPost (analysis-record finish)", "main_exit", "dead"),
    ("unit dead → client exits", "dead", "client_end"),
    ("total", "client_start", "client_end"),
]
DIAGNOSIS_KINDS = [("analysis_run", "analysis-run"), ("systemctl_generated", "systemctl, generated unit"),
                   ("systemctl_equivalent", "systemctl, equivalent"), ("systemd_run_same", "systemd-run, same")]


def diagnosis_section(vm):
    runs = vm.get("diagnosis") or []
    out = ["## 5. Where the time of one analysis goes (VM, manager at debug level)", ""]
    if not runs:
        return out + ["Not run.", ""]

    def span(e, a, b):
        if b is None:
            b_t = e.get("pre_spawn", e.get("main_spawn"))
        else:
            b_t = e.get(b)
        if a not in e or b_t is None:
            return None
        return (b_t - e[a]) / 1000

    rows = []
    for label, a, b in PHASES:
        row = [label]
        for kind, _ in DIAGNOSIS_KINDS:
            vals = [span(r["events"], a, b) for r in runs if r["kind"] == kind]
            vals = [v for v in vals if v is not None]
            row.append(ms(median(vals)) if vals else "–")
        rows.append(row)
    for label, f in [("bus calls by the client", lambda r: sum(r["calls"].values())),
                     ("of which GetAll", lambda r: r["calls"].get("GetAll", 0)),
                     ("PropertiesChanged sent for the unit", lambda r: r["signals"]),
                     ("times the unit was collected (and loaded again)", lambda r: r["collected"])]:
        rows.append([label] + [f"{median([f(r) for r in runs if r['kind'] == k]):.0f}" for k, _ in DIAGNOSIS_KINDS])
    out.append(table(["ms (median)"] + [label for _, label in DIAGNOSIS_KINDS], rows))
    out.append("")
    out.append(f"{len(runs) // len(DIAGNOSIS_KINDS)} runs of each with `systemd-analyze log-level debug`; the "
               "steps are read from the manager's own messages in the journal (monotonic time). Debug logging "
               "slows the manager, so read this for proportions; sections 2 and 3 have the real figures.")
    out.append("")
    return out


def releases_section(columns):
    """The per-analysis rows of several VM runs side by side; each ratio is taken within its own run (boot)."""
    out = ["## 6. Debian 13 and Debian 12 side by side (VM)", ""]

    def overhead(vm, key):
        samples = vm["overhead"]["methods"].get(key)
        return median([s["wall_ms"] for s in samples]) if samples else None

    def at_once(vm, key):
        top = max(vm["throughput"], key=int)
        batches = vm["throughput"][top].get(key)
        return (top, median([max(s["wall_ms"] for s in b) for b in batches])) if batches else (top, None)

    def first_byte(vm, key):
        fb = vm.get("first_byte")
        if not fb or key not in fb["methods"]:
            return None
        first = [s["first_ms"] for s in fb["methods"][key] if s["first_ms"] is not None]
        return median(first) if first else None

    def cell(value, base):
        if value is None or base is None:
            return "—"
        return f"{ms(value)} ms ({ratio(value, base)})"

    rows = []
    top = at_once(columns[0][1], "analysis_run")[0]
    specs = [
        ("one trivial analysis: `analysis-run -q -- /bin/true`", lambda vm: overhead(vm, "analysis_run"),
         lambda vm: overhead(vm, "systemd_run_same")),
        ("the ExecStopPost floor: systemd-run with analysis@'s directives + `ExecStopPost=+/bin/true`",
         lambda vm: overhead(vm, "systemd_run_stoppost"), lambda vm: overhead(vm, "systemd_run_same")),
        (f"{top} at once, total wall: analysis-run", lambda vm: at_once(vm, "analysis_run")[1],
         lambda vm: at_once(vm, "systemd_run_same")[1]),
        (f"{top} at once, total wall: the ExecStopPost floor", lambda vm: at_once(vm, "systemd_run_stoppost")[1],
         lambda vm: at_once(vm, "systemd_run_same")[1]),
        ("time to the first byte: `analysis-run -q -- /bin/echo first`", lambda vm: first_byte(vm, "analysis_run"),
         lambda vm: first_byte(vm, "systemd_run_same")),
        ("the baseline itself: systemd-run --wait with analysis@'s directives", lambda vm: overhead(vm, "systemd_run_same"),
         lambda vm: overhead(vm, "systemd_run_same")),
    ]
    for label, value, base in specs:
        rows.append([label] + [cell(value(vm), base(vm)) for _, vm in columns])
    out.append(table(["row"] + [name for name, _ in columns], rows))
    out.append("")
    out.append("Medians, each followed by its ratio to `systemd-run --wait` with analysis@'s directives measured in the "
               "same boot (the first byte: `systemd-run --pipe` with them), so that a ratio compares like with like "
               "although the releases ran one after the other. Each column is a full `bench/vm` run in a VM of that "
               "release, with the build made in a tree of it.")
    out.append("")
    return out


def main():
    args = [a for a in sys.argv[1:] if "=" not in a]
    columns = [(a.split("=", 1)[0], load(a.split("=", 1)[1])) for a in sys.argv[1:] if "=" in a]
    machine = load(args[0]) or {}
    g = load(args[1]) if len(args) > 1 else None
    vm = load(args[2]) if len(args) > 2 else None
    head = ["<!-- SPDX-License-Identifier: LGPL-2.1-or-later -->",
            "<!-- The latest benchmark figures, written by bench/run (bench/README.md says how); do not edit. -->",
            "# analysis-sandbox benchmarks", ""]
    head.append(f"Written by `bench/run` on {machine.get('date', '?')} in {machine.get('duration', '?')}.")
    head.append("")
    head.append(table(["machine", ""], [[k, v] for k, v in machine.get("facts", [])]))
    head.append("")
    out = generator_section(g)
    if vm:
        out += overhead_section(vm)
        out += throughput_section(vm)
        out += first_byte_section(vm)
        out += accuracy_section(vm)
        out += diagnosis_section(vm)
    else:
        out += ["## 2.–5. VM parts", "", "Not run.", ""]
    if columns and all(c for _, c in columns):
        out += releases_section(columns)
    summary = ["## Goals", ""]
    summary.append(table(["goal", "met", "measured"], [[n, "yes" if m else "**no**", e] for n, m, e in goals]))
    summary.append("")
    if targets:
        summary.append("Issue 13, the overhead of an analysis, side by side in this run:")
        summary.append("")
        summary.append(table(["ratio", "goal", "measured", "met", "from"],
                             [[n, f"≤ {b:.2f}×", f"{v:.2f}×", "yes" if v <= b else "**no**", e]
                              for _, n, b, v, e in sorted(targets)]))
        summary.append("")
    if vm and vm.get("quick") or machine.get("quick"):
        summary.append("**This was a --quick run (a smoke test): too few runs for the figures to mean much.**")
        summary.append("")
    print("\n".join(head + summary + out))


if __name__ == "__main__":
    main()
