#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes N realistic analysis records (ID.json, as analysis-record writes them) into a directory, for
`analysisctl report` and `suggest` to read: the four vendor profiles, a mix of endings close to a busy host's
(mostly success; some exit codes, OOM kills, timeouts, refused forks, full disks, cancellations, a host stop),
log-normal peaks and runtimes, ten callers, spread over the last DAYS days. Deterministic for a given --seed.

    make-records.py [--count N] [--days D] [--seed S] [--caller UID] DIR
"""

import argparse
import json
import os
import random
import time

PROFILES = {  # memory bytes, CPU %, tasks, runtime s, disk bytes, typical peak, typical runtime
    "default": (2 << 30, 100, 100, 1800, 1 << 30, 300 << 20, 120),
    "notebook_execution": (2 << 30, 100, 100, 600, 1 << 30, 600 << 20, 90),
    "post_process": (1 << 30, 100, 50, 900, 1 << 30, 150 << 20, 40),
    "tool": (512 << 20, 50, 32, 300, 256 << 20, 40 << 20, 5),
}
WEIGHTS = {"default": 3, "notebook_execution": 3, "post_process": 2, "tool": 4}
ENDINGS = [("success", 850), ("exit-code", 60), ("oom-kill", 30), ("timeout", 20), ("cancelled", 20),
           ("tasks", 5), ("disk", 5), ("signal", 5), ("host-stopped", 3)]


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def record(rng, n, now, days, caller):
    profile = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    mem, cpu, tasks, runtime_max, disk, peak_typ, run_typ = PROFILES[profile]
    ending = rng.choices([e for e, _ in ENDINGS], weights=[w for _, w in ENDINGS])[0]
    peak = min(int(rng.lognormvariate(0, 0.6) * peak_typ), mem - 4096)
    runtime = min(rng.lognormvariate(0, 0.8) * run_typ, runtime_max * 0.98)
    result, exit_code, status, signal, oom, forks, full = "success", "exited", 0, None, 0, 0, False
    if ending == "exit-code":
        result, status = "exit-code", rng.choice([1, 1, 2, 3])
    elif ending == "oom-kill":
        result, exit_code, status, signal, oom, peak = "oom-kill", "killed", None, "KILL", 1, mem
    elif ending == "timeout":
        result, exit_code, status, signal, runtime = "timeout", "killed", None, "TERM", runtime_max
    elif ending == "cancelled":
        result, exit_code, status, signal = "cancelled", "killed", None, "TERM"
    elif ending == "tasks":
        result, status, forks = "exit-code", 1, rng.randint(1, 40)
    elif ending == "disk":
        result, status, full = "exit-code", 1, True
    elif ending == "signal":
        result, exit_code, status, signal = "signal", "killed", None, "SEGV"
    elif ending == "host-stopped":
        result, exit_code, status, signal = "host-stopped", None, None, None
    busy = min(rng.betavariate(2, 3) * cpu / 100, cpu / 100)
    finished = now - rng.uniform(0, days * 86400)
    rid = time.strftime("%Y%m%d-%H%M%S", time.gmtime(finished)) + "-%08x" % n
    limits = {"memory_max": mem, "cpu_quota_percent": cpu, "tasks_max": tasks, "runtime_max_sec": runtime_max,
              "disk_max": disk}
    base = "/var/lib/analysis-sandbox/results/" + rid
    # The task peak from a generator of its own, so that every other figure stays as it was for a given --seed.
    # At the limit less the 3 the unit keeps for the sandbox where forks were refused; none after a host stop.
    task_rng = random.Random(rid)
    tasks_peak = (None if ending == "host-stopped" else tasks - 3 if ending == "tasks"
                  else min(1 + int(task_rng.lognormvariate(0, 0.5) * 3), tasks - 3))
    return rid, {
        "id": rid, "unit": ("analysis@%s.service" if profile == "default" else "analysis-%s@%%s.service" % profile) % rid,
        "profile": profile, "invocation_id": "%032x" % rng.getrandbits(128), "isolation": "cgroup",
        "slurm_job_id": None, "node": None, "slurm_tasks_limit": None, "result": result, "exit_code": exit_code,
        "exit_status": status, "signal": signal, "limits": limits, "profile_limits": limits,
        "usage": {"runtime_sec": round(runtime, 3), "cpu_sec": round(runtime * busy, 3), "sandbox_cpu_sec": 0.031,
                  "memory_peak": peak, "oom_kills": oom, "tasks_limit_hits": forks, "tasks_peak": tasks_peak,
                  "cpu_throttled_sec": 0.0, "disk_used": rng.randint(0, disk // 8), "disk_full": full},
        "started_at": stamp(finished - runtime), "finished_at": stamp(finished),
        "caller_uid": caller if caller is not None else 1000 + rng.randrange(10),
        "output_dir": base + ".output", "stdout_file": base + ".stdout", "stderr_file": base + ".stderr",
        "stderr_tail": "" if result == "success" else "Traceback (most recent call last):\n  File \"fit.py\", line 12\n",
        "error": None, "notes": "(notes)", "reconstructed": None, "host_booted_at": None,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=100000)
    p.add_argument("--days", type=float, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--caller", type=int, default=None, help="every record's caller_uid (default: 1000 to 1009)")
    p.add_argument("--now", type=float, default=None, help="seconds since the epoch (default: now)")
    p.add_argument("dir")
    a = p.parse_args()
    rng = random.Random(a.seed)
    now = a.now if a.now is not None else time.time()
    os.makedirs(a.dir, exist_ok=True)
    for n in range(a.count):
        rid, rec = record(rng, n, now, a.days, a.caller)
        with open(os.path.join(a.dir, rid + ".json"), "w") as f:
            json.dump(rec, f, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
