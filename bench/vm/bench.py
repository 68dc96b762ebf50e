#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest side of the benchmark: analysis-run against systemd's own tools, in one boot, raw figures as JSON.
#
# Usage (from bench/vm/run, as root in the test VM): bench.py RESULTSDIR
# Writes RESULTSDIR/bench.json (every sample, unsummarized: bench/report.py on the host does the statistics)
# and logs progress to stdout. Every command is timed by timed-exec (C, from the payload), which also gives
# its peak RSS and CPU time; methods are interleaved run by run in a shuffled order, so that drift of the
# machine (the host runs other work, TCG is slow) touches every method alike.

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TIMED_EXEC = os.path.join(HERE, "timed-exec")
RESULTS_DIR = "/var/lib/analysis-sandbox/results"
PROFILE_DIR = "/etc/analysis-sandbox/profiles"
GENERATED_UNIT = "/run/systemd/generator/analysis@.service"
EQUIVALENT_TEMPLATE = "/etc/systemd/system/bench-equivalent@.service"
# The equivalent template plus one ExecStopPost=+ that does nothing: what writing a record after the stop costs
# at the very least, whatever the writer does (the floor of rows 1-3 of issue 13's table).
STOP_POST_TEMPLATE = "/etc/systemd/system/bench-stoppost@.service"
STOP_POST = "ExecStopPost=+/bin/true"

# bench/run --quick puts a file "quick" into the payload: a smoke test of every part, not a measurement.
QUICK = os.path.exists(os.path.join(HERE, "quick"))
OVERHEAD_RUNS = 3 if QUICK else 30
OVERHEAD_WARMUP = 2
# Analyses started at once, and how many times each batch is repeated.
THROUGHPUT = [(1, 1), (10, 1)] if QUICK else [(1, 5), (10, 2), (50, 1)]
REPEATS = 1 if QUICK else 3
HOG_MIB = [0, 64, 256]
SLEEP_SEC = 2
TIMEOUT_SEC = 3
DIAGNOSE_RUNS = 1 if QUICK else 3
FIRST_BYTE_RUNS = 3 if QUICK else 15
# analysis-record, as the generated unit names it (set_up() reads it from there).
recorder = None

# Lines of the generated analysis@.service that belong to analysis-sandbox's own machinery (its helpers, its
# output files, its variables) and so are not part of the "equivalent" plain template.
OWN_MACHINERY = re.compile(r"^(ExecStartPre|ExecStart|ExecStopPost|StandardOutput|StandardError|RuntimeDirectory|"
                           r"Environment|LogExtraFields|SourcePath|Documentation)=")
rng = random.Random(7)
log_file = None
work_dir = None


def say(message):
    print(f"bench: {message}", flush=True)


def monotonic_usec():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def timed(argv, copies=1):
    """Runs argv `copies` times at once under timed-exec; returns one dict per copy."""
    report = os.path.join(work_dir, "timed-exec.out")
    out = subprocess.run([TIMED_EXEC, "-n", str(copies), "-o", report, "--"] + argv, stdout=log_file,
                         stderr=log_file, stdin=subprocess.DEVNULL, check=False)
    samples = []
    with open(report) as f:
        for line in f:
            wall, rss, user, system, status = (int(x) for x in line.split())
            samples.append({"wall_ms": wall / 1000, "rss_kib": rss, "cpu_ms": (user + system) / 1000,
                            "status": status})
    if out.returncode != 0 or len(samples) != copies:
        say(f"timed-exec failed for {argv} (status {out.returncode}); see bench-commands.log")
    for s in samples:
        if s["status"] != 0:
            log_file.write(f"bench: {' '.join(argv)}: exit status {s['status']}\n")
            log_file.flush()
    return samples


def run_quietly(argv):
    subprocess.run(argv, check=True, stdout=log_file, stderr=log_file)


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def service_section_lines(unit_text):
    """The assignments of the [Service] section of a unit file, comments left out."""
    lines, in_service = [], False
    for line in unit_text.splitlines():
        line = line.strip()
        if line.startswith("["):
            in_service = line == "[Service]"
        elif in_service and line and not line.startswith("#"):
            lines.append(line)
    return lines


def set_up():
    """The units the comparisons need, made from the generated analysis@.service so they cannot drift from it."""
    with open(GENERATED_UNIT) as f:
        generated = f.read()
    global recorder
    directives = [line for line in service_section_lines(generated) if not OWN_MACHINERY.match(line)]
    recorder = re.search(r"(?m)^ExecStopPost=\+(\S+) finish", generated).group(1)
    # A plain template with the same resource and sandbox directives, and nothing of analysis-sandbox.
    write_file(EQUIVALENT_TEMPLATE,
               "# SPDX-License-Identifier: LGPL-2.1-or-later\n"
               "# Written by the benchmark: analysis@.service without analysis-sandbox's helpers.\n"
               "[Unit]\nDescription=Benchmark equivalent %i\n\n[Service]\n"
               + "\n".join(directives) + "\nExecStart=/bin/true\n")
    write_file(STOP_POST_TEMPLATE,
               "# SPDX-License-Identifier: LGPL-2.1-or-later\n"
               "# Written by the benchmark: the equivalent template and an ExecStopPost=+ that does nothing.\n"
               "[Unit]\nDescription=Benchmark stop-post floor %i\n\n[Service]\n"
               + "\n".join(directives) + f"\nExecStart=/bin/true\n{STOP_POST}\n")
    # The default profile with an Exec= of its own, so its generated unit can be started by hand.
    with open("/usr/lib/analysis-sandbox/profiles/default.ini") as f:
        default = f.read()
    write_file(f"{PROFILE_DIR}/bench.ini", default.replace("[Limits]", "Exec=/bin/true\n\n[Limits]", 1))
    # A profile whose own Runtime= fires the timeout.
    write_file(f"{PROFILE_DIR}/benchtimeout.ini", re.sub(r"(?m)^Runtime=.*$", f"Runtime={TIMEOUT_SEC}s", default))
    run_quietly(["systemctl", "daemon-reload"])
    return directives


def same_directives(directives):
    """systemd-run options giving its transient unit the directives of the equivalent template.

    A transient unit is no template instance: %i would stay empty and make User=as-%i an invalid name (every
    such run failed), so it is given a name of its own. Copies started at once share that account, which
    DynamicUser= allows."""
    props = []
    for d in directives:
        props += ["-p", d.replace("%i", "srsame")]
    return props


def overhead(directives):
    """Helper overhead per analysis: /bin/true through each way of running it, interleaved."""
    same = same_directives(directives)
    methods = {
        "fork_exec": lambda i: ["/bin/true"],
        "systemd_run": lambda i: ["systemd-run", "--wait", "-q", "/bin/true"],
        "systemd_run_same": lambda i: ["systemd-run", "--wait", "-q"] + same + ["/bin/true"],
        "systemctl_equivalent": lambda i: ["systemctl", "start", "--wait", f"bench-equivalent@o{i}.service"],
        "systemctl_stoppost": lambda i: ["systemctl", "start", "--wait", f"bench-stoppost@o{i}.service"],
        "systemd_run_stoppost": lambda i: ["systemd-run", "--wait", "-q"] + same + ["-p", STOP_POST, "/bin/true"],
        "systemctl_generated": lambda i: ["systemctl", "start", "--wait", f"analysis-bench@o{i}.service"],
        "analysis_run": lambda i: ["analysis-run", "-q", "--", "/bin/true"],
        # What starting each of our programs costs before it does anything (loading, dynamic linking): the unit
        # starts analysis-record once per analysis (ExecStopPost=), the caller starts analysis-run once.
        "start_record": lambda i: [recorder, "--version"],
        "start_run": lambda i: ["analysis-run", "--version"],
    }
    samples = {name: [] for name in methods}
    order = list(methods)
    for i in range(-OVERHEAD_WARMUP, OVERHEAD_RUNS):
        rng.shuffle(order)
        for name in order:
            s = timed(methods[name](f"{i + OVERHEAD_WARMUP}"))
            if i >= 0:
                samples[name] += s
        if i % 10 == 9:
            say(f"overhead: {i + 1} of {OVERHEAD_RUNS} rounds")
    return {"runs": OVERHEAD_RUNS, "methods": samples}


def throughput(directives):
    """Batches of 1 s sleeps started at once through analysis-run and systemd-run --wait."""
    methods = {
        "analysis_run": ["analysis-run", "-q", "--", "/bin/sleep", "1"],
        "systemd_run": ["systemd-run", "--wait", "-q", "/bin/sleep", "1"],
        "systemd_run_same": ["systemd-run", "--wait", "-q"] + same_directives(directives) + ["/bin/sleep", "1"],
        "systemd_run_stoppost": ["systemd-run", "--wait", "-q"] + same_directives(directives)
        + ["-p", STOP_POST, "/bin/sleep", "1"],
    }
    result = {}
    for copies, repeats in THROUGHPUT:
        batch = {name: [] for name in methods}
        for _ in range(repeats):
            order = list(methods)
            rng.shuffle(order)
            for name in order:
                batch[name].append(timed(methods[name], copies))
                # Let the manager settle (stop jobs, garbage collection) before the next batch.
                time.sleep(1)
        say(f"throughput: {copies} at once done")
        result[str(copies)] = batch
    return result


def first_byte_once(argv):
    """Runs argv with its stdout on a pipe: milliseconds to the first byte read, to the end, and the status."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL)
    first = p.stdout.read(1)
    first_at = time.monotonic()
    p.stdout.read()
    status = p.wait()
    end = time.monotonic()
    return {"first_ms": (first_at - start) * 1000 if first else None, "wall_ms": (end - start) * 1000,
            "status": status}


def first_byte(directives):
    """Time to the first byte of an analysis' output at its caller, against systemd-run --pipe, interleaved."""
    command = ["/bin/echo", "first"]
    methods = {
        "analysis_run": ["analysis-run", "-q", "--"] + command,
        "systemd_run": ["systemd-run", "--wait", "-q", "--pipe"] + command,
        "systemd_run_same": ["systemd-run", "--wait", "-q", "--pipe"] + same_directives(directives) + command,
    }
    samples = {name: [] for name in methods}
    order = list(methods)
    for i in range(-1, FIRST_BYTE_RUNS):
        rng.shuffle(order)
        for name in order:
            s = first_byte_once(methods[name])
            if i >= 0:
                samples[name].append(s)
    say("first byte done")
    return {"runs": FIRST_BYTE_RUNS, "methods": samples}


def read_record(analysis_id):
    try:
        with open(f"{RESULTS_DIR}/{analysis_id}.json") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        say(f"no record for {analysis_id}: {e}")
        return None


def analysis(analysis_id, args, command):
    """Runs one analysis; returns what timed-exec saw and the record."""
    s = timed(["analysis-run", "-q", f"--id={analysis_id}"] + args + ["--"] + command)[0]
    r = read_record(analysis_id) or {}
    usage = r.get("usage") or {}
    return {"wall_ms": s["wall_ms"], "status": s["status"], "result": r.get("result"),
            "memory_peak": usage.get("memory_peak"), "runtime_sec": usage.get("runtime_sec"),
            "runtime_max_sec": (r.get("limits") or {}).get("runtime_max_sec")}


def accuracy():
    """What the record says against what the analysis is known to have done."""
    hog = os.path.join(HERE, "hog.py")
    memory = {str(mib): [] for mib in HOG_MIB}
    for rep in range(REPEATS):
        for mib in HOG_MIB:
            memory[str(mib)].append(analysis(f"bench-hog-{mib}-{rep}", [], ["python3", hog, str(mib)]))
    say("accuracy: memory done")
    sleep = [analysis(f"bench-sleep-{rep}", [], ["/bin/sleep", str(SLEEP_SEC)]) for rep in range(REPEATS)]
    say("accuracy: runtime done")
    timeout_profile, timeout_option = [], []
    for rep in range(REPEATS):
        timeout_profile.append(analysis(f"bench-to-profile-{rep}", ["-p", "benchtimeout"], ["/bin/sleep", "60"]))
        timeout_option.append(analysis(f"bench-to-option-{rep}", [f"--timeout={TIMEOUT_SEC}s"],
                                       ["/bin/sleep", "60"]))
    say("accuracy: timeouts done")
    return {"hog_mib": HOG_MIB, "memory": memory, "sleep_sec": SLEEP_SEC, "sleep": sleep,
            "timeout_sec": TIMEOUT_SEC, "timeout_profile": timeout_profile, "timeout_option": timeout_option}


def unit_bus_path(unit):
    """sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit)."""
    return "/org/freedesktop/systemd1/unit/" + "".join(
        c if c.isalnum() else f"_{ord(c):02x}" for c in unit)


def phases(unit, start_usec, end_usec, messages):
    """One run's timeline from the manager's debug messages (monotonic usec, text) between start and end."""
    path = unit_bus_path(unit)
    sender = None
    for _, m in messages:
        match = re.search(r"type=method_call sender=(\S+) .* path=" + re.escape(path) + " ", m)
        if match:
            sender = match.group(1)
            break
    calls, events = {}, {}
    loads = signals = 0
    for t, m in messages:
        if sender and f"type=method_call sender={sender} " in m:
            member = re.search(r"member=(\S+)", m).group(1)
            calls[member] = calls.get(member, 0) + 1
            events.setdefault("first_call", t)
            if member in ("StartUnit", "StartTransientUnit"):
                events.setdefault("start_call", t)
        elif f"path={path} interface=org.freedesktop.DBus.Properties member=PropertiesChanged" in m:
            signals += 1
        elif m.startswith(f"{unit}: "):
            what = m[len(unit) + 2:]
            if what == "Collecting.":
                loads += 1
            elif what.startswith("Will spawn child (service_enter_start_pre)"):
                events.setdefault("pre_spawn", t)
            elif what.startswith("Will spawn child (service_enter_start)"):
                events.setdefault("main_spawn", t)
            elif what.startswith("Changed") and what.endswith("-> running"):
                events.setdefault("running", t)
            elif what.startswith("Main process exited"):
                events.setdefault("main_exit", t)
            elif what.startswith("Changed") and what.endswith("-> dead"):
                events.setdefault("dead", t)
    events["client_start"], events["client_end"] = start_usec, end_usec
    return {"events": events, "calls": calls, "collected": loads, "signals": signals}


def diagnose(directives):
    """Where the time goes: a few runs with the manager at debug level, each step read back from the journal.

    Debug logging slows the manager down, so these timelines are for proportions, not for the headline figures."""
    kinds = {
        "analysis_run": lambda i: (f"analysis@diag{i}.service",
                                   ["analysis-run", "-q", f"--id=diag{i}", "--", "/bin/true"]),
        "systemctl_generated": lambda i: (f"analysis-bench@diag{i}.service",
                                          ["systemctl", "start", "--wait", f"analysis-bench@diag{i}.service"]),
        "systemctl_equivalent": lambda i: (f"bench-equivalent@diag{i}.service",
                                           ["systemctl", "start", "--wait", f"bench-equivalent@diag{i}.service"]),
        "systemd_run_same": lambda i: (f"bench-sr-diag{i}.service",
                                       ["systemd-run", "--wait", "-q", f"--unit=bench-sr-diag{i}"]
                                       + same_directives(directives) + ["/bin/true"]),
    }
    runs = []
    run_quietly(["systemd-analyze", "log-level", "debug"])
    try:
        for i in range(DIAGNOSE_RUNS):
            for kind, make in kinds.items():
                unit, argv = make(i)
                start = monotonic_usec()
                timed(argv)
                runs.append({"kind": kind, "unit": unit, "start": start, "end": monotonic_usec()})
    finally:
        run_quietly(["systemd-analyze", "log-level", "info"])
    time.sleep(1)
    out = subprocess.run(["journalctl", "-b", "-o", "json", "--no-pager", "_PID=1",
                          "--output-fields=MESSAGE,__MONOTONIC_TIMESTAMP"],
                         stdout=subprocess.PIPE, stderr=log_file, text=True, check=False).stdout
    first, last = runs[0]["start"], runs[-1]["end"]
    messages = []
    for line in out.splitlines():
        e = json.loads(line)
        t = int(e["__MONOTONIC_TIMESTAMP"])
        if first <= t <= last and isinstance(e.get("MESSAGE"), str):
            messages.append((t, e["MESSAGE"]))
    result = []
    for r in runs:
        window = [(t, m) for t, m in messages if r["start"] <= t <= r["end"]]
        result.append({"kind": r["kind"], **phases(r["unit"], r["start"], r["end"], window)})
    say("diagnosis done")
    return result


def vm_facts():
    def first_line(argv):
        return subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=False).stdout.splitlines()[0]
    return {"systemd": first_line(["systemctl", "--version"]), "kernel": os.uname().release,
            "nproc": os.cpu_count(), "memory_kib": int(open("/proc/meminfo").readline().split()[1])}


def main():
    global log_file, work_dir
    out = sys.argv[1]
    work_dir = tempfile.mkdtemp(prefix="bench-")
    log_file = open(os.path.join(out, "bench-commands.log"), "w")
    started = time.monotonic()
    result = {"vm": vm_facts(), "quick": QUICK}
    directives = set_up()
    result["equivalent_directives"] = directives
    say("set up; measuring the helper overhead")
    result["overhead"] = overhead(directives)
    result["throughput"] = throughput(directives)
    result["first_byte"] = first_byte(directives)
    result["accuracy"] = accuracy()
    result["diagnosis"] = diagnose(directives)
    result["duration_sec"] = time.monotonic() - started
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)
    say(f"done in {result['duration_sec']:.0f} s")


if __name__ == "__main__":
    main()
