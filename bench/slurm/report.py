#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Slurm benchmark's raw figures (bench/slurm/bench.py) as the markdown of bench/results-slurm.md.
#
# Usage: report.py MACHINE.json BENCH-SLURM.json TIMINGS.txt >results-slurm.md

import json
import statistics
import sys

METHODS = ["analysis-run", "sbatch --wait", "srun"]
LABEL = {
    "analysis-run": "`analysis-run --backend=slurm -q -p benchslurm -- /bin/true`",
    "sbatch --wait": "`sbatch --wait -o /dev/null LIMITS --wrap /bin/true`",
    "srun": "`srun LIMITS /bin/true`",
}


def quantile(values, q):
    """Linear interpolation between closest ranks (the same as numpy's default)."""
    v = sorted(values)
    if not v:
        return float("nan")
    pos = (len(v) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def s(x):
    return f"{x:.2f}"


def main():
    machine = json.load(open(sys.argv[1]))
    bench = json.load(open(sys.argv[2]))
    timings = dict(line.split() for line in open(sys.argv[3]) if len(line.split()) == 2)
    p = print
    p("<!-- SPDX-License-Identifier: LGPL-2.1-or-later -->")
    p("<!-- Written by bench/slurm/run (bench/slurm/report.py): do not edit by hand. -->")
    p("# Slurm backend benchmark")
    p()
    if bench.get("quick"):
        p("**Quick run (`--quick`): a check that the benchmark works; the figures measure nothing.**")
        p()
    p(f"{machine['date']}, commit {machine['commit']}, {machine['duration']} in all; host: {machine['nproc']} CPUs "
      f"({machine['cpu']}), kernel {machine['kernel']}, load average {machine['load_start']} at the start, other "
      f"qemu VMs during {machine['other_vms']['busy_percent']}% of the run (at most {machine['other_vms']['max']} "
      f"at once).")
    p()
    c = bench["cluster"]
    p(f"The cluster of `tests/vm/slurm/` (two qemu TCG VMs, software-emulated; {c['slurm']}, kernel {c['kernel']}): "
      + "; ".join(f"`{n}`" for n in c["nodes"]) + f"; the shared directory over NFS (`{c['nfs']}`); "
      + ", ".join(f"`{x}`" for x in c["sched"]) + ". Boot and setup: "
      + ", ".join(f"{k} {v} s" for k, v in timings.items()) + ".")
    p()
    p("Every command runs as the same user (`alice`), started with `runuser` from a root process on n1 (the "
      "submitting host, also a node), with the same limits: "
      + " ".join(f"`{a}`" for a in bench["limits_args"]) + " (analysis-run gets them from the profile: "
      "`Memory=100M`, `CPU=100%`, `Runtime=600s`, `KillGrace=5s`, and adds `--no-requeue`; so does "
      "`sbatch --wait` here). Times are wall-clock seconds seen by the caller, from start to exit. Under TCG a "
      "process start costs tens of milliseconds and Slurm's own work seconds: absolute times are many times a "
      "real cluster's; compare methods within this run.")
    p()
    if bench.get("errors"):
        p("**Parts that failed:** " + "; ".join(bench["errors"]))
        p()

    p("## 1. The same limits, as Slurm saw them")
    p()
    if bench.get("limits"):
        keys = ["JobId", "TimeLimit", "MinMemoryNode", "NumCPUs", "CPUs/Task", "Requeue", "JobState"]
        p("| method | " + " | ".join(keys) + " |")
        p("|---|" + "---|" * len(keys))
        for m in METHODS:
            row = bench["limits"].get(m, {})
            p(f"| {m} | " + " | ".join(str(row.get(k)) for k in keys) + " |")
        p()
        p("From `scontrol show job` of one job per method. Slurm rounds `--time` up to whole minutes. `srun` has "
          "no `--no-requeue` (its Requeue=1 does not apply: an interactive job is not requeued).")
    else:
        p("(not measured)")
    p()

    p("## 2. Per-analysis overhead: one trivial analysis")
    p()
    single = bench.get("single")
    if single:
        n = len(single[METHODS[0]])
        p(f"{n} runs of each, after one warm-up each, interleaved in a shuffled order round by round.")
        p()
        p("| method | median | IQR | min | max | ÷ sbatch --wait | ÷ srun | failed |")
        p("|---|---|---|---|---|---|---|---|")
        med = {m: statistics.median(x["wall_s"] for x in single[m]) for m in METHODS}
        for m in METHODS:
            w = [x["wall_s"] for x in single[m]]
            failed = sum(1 for x in single[m] if x["status"] != 0)
            p(f"| {LABEL[m]} | {s(med[m])} | {s(quantile(w, .25))}–{s(quantile(w, .75))} | {s(min(w))} | "
              f"{s(max(w))} | {med[m] / med['sbatch --wait']:.2f}× | {med[m] / med['srun']:.2f}× | {failed} |")
        p()
        p("Every sample (s): " + "; ".join(f"{m}: " + " ".join(s(x["wall_s"]) for x in single[m])
                                           for m in METHODS) + ".")
        p()
        p("How each one waits: `sbatch --wait` asks the controller for the job at 2 s, then 8 s later (then 32 s), "
          "so a job not done at the first check costs ~10 s (tests/vm/slurm/FINDINGS.md (c): bimodal); `srun` holds a "
          "connection and learns of the end at once, but polls until the node is ready (JOB_READY); "
          "analysis-run polls the record file on the shared directory every 0.2 s, growing by half up to 2 s "
          "(no controller RPC), and asks `squeue` once a minute at most.")
    else:
        p("(not measured)")
    p()

    p("## 3. Controller RPCs per analysis")
    p()
    rpc = bench.get("rpc")
    if rpc:
        p("`sdiag -r` before each run (with the queue empty), `sdiag` 5 s after it ended (the nodes' last "
          "messages about the job arrive after the client returned; nothing else asks the controller meanwhile); "
          "interleaved. *By the user* counts what the caller's commands sent; *by type* counts every "
          "sender but sdiag itself, so it includes the nodes' messages about the job (prolog, step and batch "
          "completion, epilog), which any method causes alike.")
        p()
        p("| method | by the user (each run) | by type (the first run) |")
        p("|---|---|---|")
        for m in METHODS:
            users = [str(x["by_user"].get("alice", 0)) for x in rpc[m]]
            types = ", ".join(f"{k.replace('REQUEST_', '')} {v}" for k, v in sorted(rpc[m][0]["by_type"].items()))
            p(f"| {m} | {' '.join(users)} | {types} |")
    else:
        p("(not measured)")
    p()
    long = bench.get("long")
    if long:
        a, b = long["analysis-run"], long["sbatch --wait"]
        p(f"A `sleep {long['sleep_s']}` analysis, over a minute: analysis-run (user alice, on n2) "
          f"{a['rpcs']} RPCs (status {a['status']}, {s(a['wall_s'])} s), while `sbatch --wait` of the same "
          f"(user bob, pinned to n1, at the same time) {b['rpcs']} RPCs (status {b['status']}). By type, both "
          "together and the nodes: " + ", ".join(f"{k.replace('REQUEST_', '')} {v}"
                                                 for k, v in sorted(long["by_type"].items())) + ".")
        p()
        p("analysis-run's RPCs are its `sbatch` (1) and one `squeue -j` a minute while the record is missing "
          "(3 each: FED_INFO, JOB_INFO_SINGLE, PARTITION_INFO); waiting on the record costs the controller "
          "nothing. Each poll of `sbatch --wait` costs 2 (FED_INFO, JOB_INFO_SINGLE), at growing intervals.")
        p()

    p("## 4. 20 analyses at once")
    p()
    ao = bench.get("at_once") or {}
    if any(ao.values()):
        n = next(v["n"] for v in ao.values() if v)
        p(f"{n} of the same trivial analysis started together (one thread each, one `runuser` each), per method "
          "one batch; latency is each one's start to its exit. **They queue:** each node has one vCPU and every "
          "job asks `--cpus-per-task=1`, so at most two run at a time and the rest wait in the queue; the total "
          "is mostly Slurm starting and ending jobs two by two, and says how each method copes with a queue, not "
          "how a large cluster would run 20 at once.")
        p()
        p("| method | total wall | latency p50 | p90 | max | user RPCs per analysis | by type (all senders) | failed |")
        p("|---|---|---|---|---|---|---|---|")
        for m in METHODS:
            r = ao.get(m)
            if not r:
                p(f"| {m} | (failed) | | | | | | |")
                continue
            lat = [x for x in r["latency_s"] if x is not None]
            failed = sum(1 for x in r["status"] if x != 0)
            types = ", ".join(f"{k.replace('REQUEST_', '')} {v}" for k, v in sorted(r["rpcs"]["by_type"].items()))
            p(f"| {m} | {s(r['total_s'])} | {s(quantile(lat, .5))} | {s(quantile(lat, .9))} | {s(max(lat))} | "
              f"{r['rpcs']['by_user'].get('alice', 0) / r['n']:.1f} | {types} | {failed} |")
        base = ao.get("sbatch --wait")
        if ao.get("analysis-run") and base:
            p()
            p(f"Total wall, analysis-run ÷ sbatch --wait: {ao['analysis-run']['total_s'] / base['total_s']:.2f}×"
              + (f"; ÷ srun: {ao['analysis-run']['total_s'] / ao['srun']['total_s']:.2f}×" if ao.get("srun") else "")
              + ".")
    else:
        p("(not measured)")
    p()


if __name__ == "__main__":
    main()
