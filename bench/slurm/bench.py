#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest side of the Slurm benchmark: analysis-run --backend=slurm against sbatch --wait and srun, raw figures as JSON.
#
# Usage (from bench/slurm/run on n1 of the test cluster, as root): bench.py RESULTSDIR
# Writes RESULTSDIR/bench-slurm.json (every sample, unsummarized: bench/slurm/report.py does the statistics)
# and logs progress to stdout. The three methods run the same command with the same limits (--mem,
# --cpus-per-task, --time: checked against what scontrol shows for each method's job) as the same user,
# each started through runuser from this root process; single runs are interleaved in a shuffled order so
# that drift of the loaded machine touches every method alike. Controller RPCs come from sdiag, reset before
# each measured command while no job is in the queue, counted by user and by message type.

import json
import os
import random
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = os.path.exists(os.path.join(HERE, "quick"))
USER = "alice"
OTHER_USER = "bob"      # submits the job that keeps n1 busy in the long run, counted apart from alice
SHARE = "/srv/analysis-sandbox"
SHARED = SHARE + "/bench"
WORK = SHARE + "/" + USER
CONF = "/etc/analysis-sandbox/analysis-sandbox.conf.d/50-bench-slurm.conf"
PROFILE = "benchslurm"
# The profile's limits, and what analysis-run makes of them (backend-slurm.c): --mem in KiB, whole CPUs,
# --time = Runtime + KillGrace + 60 s. The other two methods get the same.
MEMORY_MIB = 100
RUNTIME_SEC = 600
KILL_GRACE_SEC = 5
TIME_LIMIT = "%d:%02d" % divmod(RUNTIME_SEC + KILL_GRACE_SEC + 60, 60)
LIMITS = ["--mem=%dM" % MEMORY_MIB, "--cpus-per-task=1", "--time=" + TIME_LIMIT]

SINGLE_RUNS = 2 if QUICK else 8
SINGLE_WARMUP = 1
RPC_RUNS = 1 if QUICK else 3
AT_ONCE = 4 if QUICK else 20
LONG_SEC = 75           # past analysis-run's first squeue (60 s after submission)
COMMAND = ["/bin/true"]

rng = random.Random(12)
log_file = None


def say(message):
    print(f"bench-slurm: {message}", flush=True)


def method_argv(method, command, run_id):
    """The user's command line for METHOD running COMMAND (a list)."""
    if method == "analysis-run":
        return ["analysis-run", "--backend=slurm", "-q", "-p", PROFILE, f"--id=bench-{run_id}", "--"] + command
    if method == "sbatch --wait":
        return ["sbatch", "--wait", "--quiet", "--no-requeue", "-o", "/dev/null"] + LIMITS + \
               ["--wrap", " ".join(command)]
    if method == "srun":
        return ["srun", "--quiet"] + LIMITS + command
    raise ValueError(method)


METHODS = ["analysis-run", "sbatch --wait", "srun"]
run_counter = 0


def next_id():
    global run_counter
    run_counter += 1
    return f"{os.getpid()}-{run_counter}"


def as_user(argv, user=USER):
    return ["runuser", "-u", user, "--"] + argv


def run_timed(method, command=COMMAND):
    """Runs METHOD once as the user in WORK; returns (wall seconds, exit status)."""
    argv = as_user(method_argv(method, command, next_id()))
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=WORK, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, check=False)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        log_file.write(f"bench-slurm: {' '.join(argv)}: exit status {p.returncode}\n")
        log_file.flush()
    return wall, p.returncode


def output_of(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False).stdout


def queue_empty(seconds=120):
    """Waits until squeue lists no job (a reset of sdiag must not count another job's RPCs)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not output_of(["squeue", "-h", "-o", "%i"]).strip():
            return True
        time.sleep(0.5)
    say("the queue did not empty")
    return False


def settle():
    """Waits for the nodes' last messages about jobs that ended (completion, epilog), which may arrive after
    the client returned, without asking the controller anything (that would count)."""
    time.sleep(5)


def sdiag_reset():
    subprocess.run(["sdiag", "-r"], stdout=subprocess.DEVNULL, stderr=log_file, check=True)


def sdiag_counts():
    """RPCs since the reset: {"by_user": {user: n}, "by_type": {type: n}} (sdiag's own left out)."""
    by_user, by_type, section = {}, {}, None
    for line in output_of(["sdiag"]).splitlines():
        if line.startswith("Remote Procedure Call statistics by message type"):
            section = "type"
            continue
        if line.startswith("Remote Procedure Call statistics by user"):
            section = "user"
            continue
        if line.startswith("Pending RPC"):
            section = None
            continue
        m = re.match(r"\s*(\S+)\s*(?:\(\s*\d+\))?\s*count:(\d+)", line)
        if not m or section is None:
            continue
        name, count = m.group(1), int(m.group(2))
        if section == "type" and name not in ("REQUEST_STATS_INFO", "REQUEST_RESET_STATS"):
            by_type[name] = count
        elif section == "user":
            by_user[name] = count
    return {"by_user": by_user, "by_type": by_type}


def job_fields(job_id):
    fields = {}
    for word in output_of(["scontrol", "-o", "show", "job", str(job_id)]).split():
        if "=" in word:
            k, v = word.split("=", 1)
            fields[k] = v
    return fields


def setup():
    os.makedirs(WORK, exist_ok=True)
    subprocess.run(["chown", USER + ":", WORK], check=True)
    os.makedirs(SHARED, exist_ok=True)
    os.chmod(SHARED, 0o1777)
    os.makedirs("/etc/analysis-sandbox/profiles", exist_ok=True)
    with open(f"/etc/analysis-sandbox/profiles/{PROFILE}.ini", "w") as f:
        f.write(f"[Profile]\nDescription=Slurm benchmark\n\n[Limits]\nMemory={MEMORY_MIB}M\nCPU=100%\n"
                f"Tasks=64\nRuntime={RUNTIME_SEC}s\nKillGrace={KILL_GRACE_SEC}s\n")
    os.makedirs(os.path.dirname(CONF), exist_ok=True)
    with open(CONF, "w") as f:
        f.write(f"[Slurm]\nSharedDirectory={SHARED}\n")
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    # The second user of the long run; n1 only (its job is pinned there).
    if subprocess.run(["id", OTHER_USER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["useradd", "-M", "-u", "2002", "-s", "/bin/bash", OTHER_USER], check=True)


def check_limits():
    """One job per method, as the cluster saw it: the same memory, CPUs and time limit for all three."""
    seen = {}
    # analysis-run: the job id is in its record.
    run_id = next_id()
    subprocess.run(as_user(method_argv("analysis-run", COMMAND, run_id)), cwd=WORK, stdout=log_file,
                   stderr=log_file, check=False)
    uid = int(output_of(["id", "-u", USER]))
    with open(f"{SHARED}/{uid}/bench-{run_id}.json") as f:
        seen["analysis-run"] = json.load(f)["slurm_job_id"]
    out = output_of(as_user(["sbatch", "--parsable", "--wait", "--no-requeue", "-o", "/dev/null"] + LIMITS +
                            ["--wrap", " ".join(COMMAND)]))
    seen["sbatch --wait"] = int(out.strip().split(";")[0])
    out = output_of(as_user(["srun", "--quiet"] + LIMITS + ["sh", "-c", "echo $SLURM_JOB_ID"]))
    seen["srun"] = int(out.strip().splitlines()[-1])
    limits = {}
    for method, job in seen.items():
        f = job_fields(job)
        limits[method] = {k: f.get(k) for k in ("JobId", "TimeLimit", "MinMemoryNode", "NumCPUs", "CPUs/Task",
                                                "Requeue", "JobState")}
    say(f"limits as scontrol shows them: {limits}")
    return limits


def single_runs():
    """Each method SINGLE_RUNS times (after warm-up), interleaved in a shuffled order each round."""
    samples = {m: [] for m in METHODS}
    for m in METHODS:
        for _ in range(SINGLE_WARMUP):
            run_timed(m)
    for i in range(SINGLE_RUNS):
        order = METHODS[:]
        rng.shuffle(order)
        for m in order:
            wall, status = run_timed(m)
            samples[m].append({"wall_s": wall, "status": status})
        say(f"single round {i + 1}/{SINGLE_RUNS}: " +
            ", ".join(f"{m} {samples[m][-1]['wall_s']:.2f}s" for m in METHODS))
    return samples


def rpc_runs():
    """RPCs of one trivial run of each method, sdiag reset before each, interleaved."""
    samples = {m: [] for m in METHODS}
    for i in range(RPC_RUNS):
        order = METHODS[:]
        rng.shuffle(order)
        for m in order:
            queue_empty()
            sdiag_reset()
            wall, status = run_timed(m)
            settle()
            c = sdiag_counts()
            c.update({"wall_s": wall, "status": status})
            samples[m].append(c)
            say(f"rpc {m}: user {c['by_user'].get(USER, 0)}, types {c['by_type']}")
    return samples


def long_run():
    """A LONG_SEC analysis with analysis-run (alice, lands on n2) while bob's sbatch --wait of the same length
    holds n1: what waiting costs the controller over a minute, by user."""
    queue_empty()
    sdiag_reset()
    cmd = ["sleep", str(LONG_SEC)]
    bob = subprocess.Popen(as_user(["sbatch", "--wait", "--quiet", "--no-requeue", "-w", "n1", "-o", "/dev/null"] +
                                   LIMITS + ["--wrap", " ".join(cmd)], OTHER_USER),
                           cwd="/", stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file)
    # bob's job should hold n1 before alice's is submitted; asking squeue would add RPCs of our own.
    time.sleep(10)
    wall, status = run_timed("analysis-run", cmd)
    bob.wait()
    settle()
    c = sdiag_counts()
    result = {"sleep_s": LONG_SEC, "analysis-run": {"user": USER, "rpcs": c["by_user"].get(USER, 0), "wall_s": wall,
                                                     "status": status},
              "sbatch --wait": {"user": OTHER_USER, "rpcs": c["by_user"].get(OTHER_USER, 0),
                                "status": bob.returncode},
              "by_type": c["by_type"], "by_user": c["by_user"]}
    say(f"long run: {result}")
    return result


def at_once(method):
    """AT_ONCE runs of METHOD started together: each one's latency, the total wall time, RPCs per analysis."""
    queue_empty()
    sdiag_reset()
    lat = [None] * AT_ONCE
    status = [None] * AT_ONCE

    def one(i, argv, t0):
        p = subprocess.run(argv, cwd=WORK, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, check=False)
        lat[i] = time.monotonic() - t0
        status[i] = p.returncode

    argvs = [as_user(method_argv(method, COMMAND, next_id())) for _ in range(AT_ONCE)]
    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(i, argvs[i], t0)) for i in range(AT_ONCE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.monotonic() - t0
    settle()
    c = sdiag_counts()
    say(f"{AT_ONCE} at once, {method}: total {total:.1f}s, statuses {sorted(set(status))}, "
        f"user RPCs {c['by_user'].get(USER, 0)}")
    return {"n": AT_ONCE, "total_s": total, "latency_s": lat, "status": status, "rpcs": c}


def cluster_facts():
    return {
        "slurm": output_of(["sinfo", "--version"]).strip(),
        "nodes": output_of(["sinfo", "-h", "-N", "-o", "%N cpus=%c mem=%m %t"]).strip().splitlines(),
        "kernel": os.uname().release,
        "nfs": output_of(["sh", "-c", f"findmnt -n -o OPTIONS {SHARE}"]).strip(),
        "sched": output_of(["sh", "-c", "scontrol show config | grep -E '^(SchedulerType|SelectType|MinJobAge|"
                                        "SchedulerParameters)'"]).strip().splitlines(),
    }


def main():
    global log_file
    out_dir = sys.argv[1]
    log_file = open(os.path.join(out_dir, "bench-slurm-commands.log"), "a")
    setup()
    result = {"quick": QUICK, "cluster": cluster_facts(), "command": COMMAND, "limits_args": LIMITS}
    t = time.monotonic()
    errors = []

    # A part that fails is reported and the others still run: one cluster boot is expensive.
    def part(name, what, fn, *args):
        say(what)
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001 (reported, and the run fails at the end)
            say(f"{name} failed: {e!r}")
            errors.append(f"{name}: {e!r}")
            return None

    result["limits"] = part("limits", "limits", check_limits)
    result["single"] = part("single", f"single runs: {SINGLE_RUNS} of each method, interleaved", single_runs)
    result["rpc"] = part("rpc", f"RPCs: {RPC_RUNS} of each method", rpc_runs)
    result["long"] = part("long", f"long run: {LONG_SEC} s", long_run)
    result["at_once"] = {}
    order = METHODS[:]
    rng.shuffle(order)
    for m in order:
        result["at_once"][m] = part(f"at once {m}", f"{AT_ONCE} at once: {m}", at_once, m)
    result["duration_s"] = time.monotonic() - t
    result["errors"] = errors
    with open(os.path.join(out_dir, "bench-slurm.json.tmp"), "w") as f:
        json.dump(result, f, indent=1)
    os.rename(os.path.join(out_dir, "bench-slurm.json.tmp"), os.path.join(out_dir, "bench-slurm.json"))
    say(f"done in {result['duration_s']:.0f}s")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
