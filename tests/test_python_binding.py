# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host tests of the Python binding's own logic: command lines, records, exceptions; and, with the real
analysis-run of the build, its setup errors that come before systemd and whole runs with --fallback=rlimit. Everything that needs a service manager is tested in the VM (tests/vm/e2e/test_python.sh).

Run by meson with PYTHONPATH=python/ and the build's helper/run/ and helper/analysisctl/ first in $PATH, or by hand:
    PYTHONPATH=python PATH=build/helper/run:build/helper/analysisctl:$PATH python3 -m unittest tests/test_python_binding.py
"""

import datetime
import os
import pathlib
import shutil
import tempfile
import unittest

import analysis_sandbox as sandbox
from analysis_sandbox._command import analysis_run_argv, analysisctl_argv
from analysis_sandbox._errors import error_from_status
from analysis_sandbox._isolated import (cpu_percent_from_quota, limit_notes, memory_from_mb, notebook_command,
                                        run_options)
from analysis_sandbox._record import Completion, parse_record
from analysis_sandbox._run import copy_back_failed, status_from_record

RECORDS = pathlib.Path(__file__).parent / "data" / "records"


class CommandLineTest(unittest.TestCase):
    def test_defaults(self):
        self.assertEqual(analysis_run_argv(["python3", "-c", "pass"]),
                         ["analysis-run", "--system", "--quiet", "--profile=default", "--", "python3", "-c", "pass"],
                         "no option given: system manager, quiet, default profile, the command after --")

    def test_every_option(self):
        args = analysis_run_argv(["fit.py"], profile="tool", memory="64M", cpu=50, tasks=10, timeout=3, disk="100M",
                                 cwd=pathlib.Path("/srv/work"), copy_workdir=True, env={"A": "1", "B": ""},
                                 analysis_id="run42", user=True, detach=True, notes_file="/tmp/x/record.json")
        self.assertEqual(args, ["analysis-run", "--user", "--quiet", "--profile=tool", "--id=run42",
                                "--chdir=/srv/work", "--copy-workdir", "--setenv=A=1", "--setenv=B=", "--memory=64M",
                                "--cpu=50%", "--tasks=10", "--timeout=3000000us", "--disk=100M", "--detach",
                                "--notes-file=/tmp/x/record.json", "--", "fit.py"],
                         "each option becomes analysis-run's, before the --")

    def test_command_options_stay_the_commands(self):
        args = analysis_run_argv(["prog", "--memory=4G", "-p", "x"])
        self.assertEqual(args[args.index("--"):], ["--", "prog", "--memory=4G", "-p", "x"],
                         "options in argv belong to the command, after the --")

    def test_string_argv_is_one_program(self):
        self.assertEqual(analysis_run_argv("python3 x.py")[-2:], ["--", "python3 x.py"],
                         "a str is the program, never split (as subprocess)")

    def test_empty_argv_refused(self):
        with self.assertRaises(sandbox.UsageError, msg="an empty argv is a usage error"):
            analysis_run_argv([])

    def test_memory(self):
        for value, want in ((67108864, "--memory=67108864"), ("1.5G", "--memory=1.5G")):
            self.assertIn(want, analysis_run_argv(["x"], memory=value), f"memory={value!r}")
        for bad in (True, 1.5, [1]):
            with self.assertRaises(TypeError, msg=f"memory={bad!r} is refused"):
                analysis_run_argv(["x"], memory=bad)

    def test_disk(self):
        for value, want in ((1 << 20, "--disk=1048576"), ("256M", "--disk=256M")):
            self.assertIn(want, analysis_run_argv(["x"], disk=value), f"disk={value!r}")
        for bad in (False, 2.5):
            with self.assertRaises(TypeError, msg=f"disk={bad!r} is refused") as cm:
                analysis_run_argv(["x"], disk=bad)
            self.assertIn("disk must be", str(cm.exception), "the message names disk")
        self.assertNotIn("--copy-workdir", analysis_run_argv(["x"], cwd="/srv"), "no copy unless asked")

    def test_cpu(self):
        for value, want in ((50, "--cpu=50%"), (200.0, "--cpu=200%"), ("25%", "--cpu=25%"), (12.5, "--cpu=12.5%")):
            self.assertIn(want, analysis_run_argv(["x"], cpu=value), f"cpu={value!r}")

    def test_timeout(self):
        cases = ((3, "--timeout=3000000us"), (0.25, "--timeout=250000us"), (1e-5, "--timeout=10us"),
                 (datetime.timedelta(minutes=2), "--timeout=120000000us"), ("10min", "--timeout=10min"))
        for value, want in cases:
            self.assertIn(want, analysis_run_argv(["x"], timeout=value), f"timeout={value!r}")
        for bad in (float("inf"), float("nan")):
            with self.assertRaises(sandbox.UsageError, msg=f"timeout={bad!r} is refused"):
                analysis_run_argv(["x"], timeout=bad)

    def test_environment(self):
        self.assertIn("--setenv=HOME", analysis_run_argv(["x"], env={"HOME": None}),
                      "None passes on the caller's value (-E NAME)")
        self.assertIn("--setenv=X=a=b", analysis_run_argv(["x"], env={"X": "a=b"}), "'=' in a value is kept")
        for bad in ("A=B", "", "A\0B"):
            with self.assertRaises(sandbox.UsageError, msg=f"name {bad!r} is refused"):
                analysis_run_argv(["x"], env={bad: "1"})
        with self.assertRaises(TypeError, msg="a non-str value is refused"):
            analysis_run_argv(["x"], env={"N": 1})

    def test_analysisctl(self):
        self.assertEqual(analysisctl_argv("wait", "-odd-id"), ["analysisctl", "--system", "wait", "--json", "--", "-odd-id"],
                         "wait asks for JSON; an id starting with '-' is never an option")
        self.assertIn("--fallback=rlimit", analysis_run_argv(["x"], fallback="rlimit"), "fallback=")
        self.assertEqual(analysisctl_argv("stop", "a1", user=True), ["analysisctl", "--user", "stop", "--", "a1"],
                         "stop with --user")

    def test_backend(self):
        args = analysis_run_argv(["x", "--backend=y"], backend="slurm", detach=True)
        self.assertEqual(args[args.index("--") - 2:], ["--backend=slurm", "--detach", "--", "x", "--backend=y"],
                         "backend= becomes --backend before the --")
        self.assertNotIn("--backend=slurm", analysis_run_argv(["x"]), "no backend=: the site's Default=")
        with self.assertRaises(TypeError, msg="a non-str backend is refused"):
            analysis_run_argv(["x"], backend=1)


class RecordTest(unittest.TestCase):
    def load(self, name, returncode):
        record = parse_record((RECORDS / name).read_bytes(), source=name)
        return Completion.from_record(record, returncode, stdout=b"out", stderr=b"err")

    def test_oom_record(self):
        c = self.load("oom-kill.json", 125)
        self.assertEqual((c.analysis_id, c.result, c.returncode), ("20261126-042339-9c0e31aa", "oom-kill", 125),
                         "id, result, status")
        self.assertTrue(c.completion_notes.startswith("Killed: memory use reached the 64.0 MiB limit"), "notes")
        self.assertEqual((c.exit_code, c.exit_status, c.signal), ("killed", None, "KILL"), "how it exited")
        self.assertEqual(c.limits, sandbox.Limits(67108864, 100, 100, 1800.0), "limits in force")
        self.assertEqual(c.profile_limits.memory_max, 2147483648, "the profile's memory limit")
        self.assertEqual(c.usage, sandbox.Usage(2.104, 0.512, 67301376, 1, 0, 0.0), "usage figures")
        self.assertEqual(c.started_at, datetime.datetime(2026, 11, 26, 4, 23, 39, 120000, tzinfo=datetime.timezone.utc),
                         "started_at is an aware datetime")
        self.assertEqual((c.caller_uid, c.error, c.stderr_tail), (1000, None, None), "caller, no error, nulls as None")
        self.assertEqual((c.stdout, c.stderr), (b"out", b"err"), "output as given")
        self.assertEqual(c.record["unit"], "analysis@20261126-042339-9c0e31aa.service", "the raw record is kept")
        self.assertFalse(c.succeeded, "an OOM kill is no success")

    def test_check(self):
        c = self.load("oom-kill.json", 125)
        with self.assertRaises(sandbox.AnalysisFailed, msg="check() raises for a failed analysis") as cm:
            c.check()
        self.assertIs(cm.exception.completion, c, "the exception carries the completion")
        self.assertEqual(str(cm.exception), c.completion_notes, "its message is the notes")
        self.assertEqual(cm.exception.returncode, 125, "and the status")
        self.assertIsInstance(cm.exception, sandbox.AnalysisError, "AnalysisFailed is an AnalysisError")
        ok = Completion.from_record({"id": "a", "result": "success", "notes": "Finished."}, 0)
        self.assertIs(ok.check(), ok, "check() returns a success as it is")

    def test_sparse_record(self):
        c = Completion.from_record({"id": "a", "result": "success", "usage": {"memory_peak": True}}, 0)
        self.assertEqual((c.limits, c.usage.memory_peak, c.started_at), (sandbox.Limits(), None, None),
                         "missing or mistyped fields read as None")
        self.assertIsNone(c.usage.tasks_peak, "a record without tasks_peak (older) reads as None")

    def test_tasks_peak(self):
        c = Completion.from_record({"id": "a", "result": "success", "usage": {"tasks_peak": 7}}, 0)
        self.assertEqual(c.usage.tasks_peak, 7, "usage.tasks_peak read")

    def test_output_and_disk(self):
        c = Completion.from_record({"id": "a", "result": "exit-code", "output_dir": "/r/a.output",
                                    "limits": {"disk_max": 1 << 30}, "profile_limits": {"disk_max": None},
                                    "usage": {"disk_used": 4096, "disk_full": True, "sandbox_cpu_sec": 0.25}}, 1)
        self.assertEqual((c.output_dir, c.limits.disk_max, c.profile_limits.disk_max), ("/r/a.output", 1 << 30, None),
                         "output_dir and disk_max from the record, null as None")
        self.assertEqual((c.usage.disk_used, c.usage.disk_full), (4096, True), "disk usage and the full flag")
        self.assertEqual(c.usage.sandbox_cpu_sec, 0.25, "the sandbox's own CPU, apart from the analysis'")
        c = Completion.from_record({"id": "a", "result": "success", "output_dir": None,
                                    "usage": {"disk_used": None, "disk_full": 0}}, 0)
        self.assertEqual((c.output_dir, c.usage.disk_used, c.usage.disk_full), (None, None, None),
                         "null and mistyped fields read as None (0 is no bool)")
        c = Completion.from_record({"id": "a", "result": "success", "usage": {"disk_full": False}}, 0)
        self.assertIs(c.usage.disk_full, False, "false is kept, not taken for missing")

    def test_reconstructed(self):
        c = Completion.from_record({"id": "a", "result": "host-stopped", "reconstructed": "host-stopped",
                                    "missing": ["cpu_sec", 3, "memory_peak"]}, 71)
        self.assertEqual((c.result, c.reconstructed, c.missing), ("host-stopped", "host-stopped", ("cpu_sec", "memory_peak")),
                         "who wrote it in the unit's place, and the names of what it lacks")
        c = Completion.from_record({"id": "a", "result": "success", "reconstructed": None, "missing": "cpu_sec"}, 0)
        self.assertEqual((c.reconstructed, c.missing), (None, ()), "an ordinary record; a mistyped list is none")

    def test_samples(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "a.samples.csv")
            with open(path, "w") as f:
                f.write("# analysis-sandbox samples v1 id=a profile=default interval=1s\n"
                        "time_sec,span_sec,memory_bytes,cpu_sec,cpu_throttled_sec,tasks,read_bytes,written_bytes,events\n"
                        "1.000,1.000,1048576,0.500000,0.000000,2,0,4096,\n"
                        "1.500,0.500,2097152,0.250000,0.100000,,,,oom-kill;timeout\n")
            c = Completion.from_record({"id": "a", "result": "oom-kill", "samples": path, "samples_missing": None}, 125)
            self.assertEqual(c.samples_file, path)
            rows = c.samples
            self.assertEqual(len(rows), 2, "one Sample per row")
            self.assertEqual((rows[0].time_sec, rows[0].memory_bytes, rows[0].cpus, rows[0].tasks, rows[0].events),
                             (1.0, 1048576, 0.5, 2, ()))
            self.assertEqual((rows[1].tasks, rows[1].read_bytes, rows[1].cpus, rows[1].events),
                             (None, None, 0.5, ("oom-kill", "timeout")), "empty fields are None, events split")
            with open(path, "w") as f:
                f.write("time_sec,span_sec\n")
            with self.assertRaises(ValueError, msg="no magic line"):
                sandbox.read_samples(path)
        c = Completion.from_record({"id": "a", "result": "success", "samples": None,
                                    "samples_missing": "sampling is off (SampleInterval=0 in analysis-sandbox.conf)"}, 0)
        self.assertIsNone(c.samples, "none named")
        self.assertIn("SampleInterval=0", c.samples_missing)

    def test_not_records(self):
        for data in (b"", b"{", b"[]", b'{"id": "a"}', b'{"id": 1, "result": "success"}'):
            with self.assertRaises(sandbox.NoRecordError, msg=f"{data!r} is no record"):
                parse_record(data, source="test")


def completion(result="success", returncode=0, notes="Finished: exited with status 0.", **fields):
    usage = {k: fields.pop(k) for k in ("oom_kills", "tasks_limit_hits", "disk_full") if k in fields}
    return Completion.from_record({"id": "a", "result": result, "notes": notes, "usage": usage, **fields}, returncode,
                                  stdout=b"", stderr=b"")


class IsolatedTest(unittest.TestCase):
    """The runtime's API: the run() options it builds and the results it maps, without running anything."""

    def argv(self, **kwargs):
        return analysis_run_argv(["cmd"], **run_options(**kwargs))

    def test_defaults(self):
        self.assertEqual(self.argv(), ["analysis-run", "--system", "--quiet", "--profile=default", "--", "cmd"],
                         "no option: the default profile, nothing tightened, no copy of a directory not named")

    def test_every_option(self):
        args = self.argv(profile="tool", cwd="/srv/job", env={"X": "1"}, timeout_seconds=2.5, memory_limit_mb=512,
                         cpu_quota=0.5, pids_limit=16, disk_limit_mb=64, user=True, analysis_id="j1", fallback="rlimit")
        self.assertEqual(args, ["analysis-run", "--user", "--quiet", "--profile=tool", "--id=j1", "--chdir=/srv/job",
                                "--copy-workdir", "--setenv=X=1", "--memory=536870912", "--cpu=50%", "--tasks=16",
                                "--timeout=2500000us", "--disk=67108864", "--fallback=rlimit", "--", "cmd"],
                         "MiB to bytes, CPUs to percent, a named cwd copied and copied back")
        self.assertIn("--backend=slurm", self.argv(backend="slurm"), "backend= is passed on")

    def test_memory_limit_mb(self):
        for value, want in ((1, 1 << 20), (64, 64 << 20), (0.5, 1 << 19), (2048.0, 2 << 30)):
            self.assertEqual(memory_from_mb(value), want, f"memory_limit_mb={value!r} is mebibytes")
        for bad in (0, -1, float("nan"), float("inf")):
            with self.assertRaises(sandbox.UsageError, msg=f"memory_limit_mb={bad!r} is refused") as cm:
                memory_from_mb(bad)
            self.assertIn("memory_limit_mb", str(cm.exception), "the message names the argument")
        with self.assertRaises(sandbox.UsageError, msg="disk_limit_mb=0 is refused") as cm:
            self.argv(disk_limit_mb=0)
        self.assertIn("disk_limit_mb", str(cm.exception), "the message names disk_limit_mb")
        for bad in ("512", True, None):
            with self.assertRaises(TypeError, msg=f"memory_limit_mb={bad!r} is no number"):
                memory_from_mb(bad)

    def test_cpu_quota(self):
        for value, want in ((0.5, 50), (1, 100), (2.0, 200), (0.25, 25), (1.5, 150), (0.333, 33), (0.001, 1)):
            self.assertEqual(cpu_percent_from_quota(value), want, f"cpu_quota={value!r} CPUs")
        for bad in (0, -0.5, float("nan")):
            with self.assertRaises(sandbox.UsageError, msg=f"cpu_quota={bad!r} is refused"):
                cpu_percent_from_quota(bad)
        with self.assertRaises(TypeError, msg="'50%' is no number of CPUs"):
            cpu_percent_from_quota("50%")

    def test_timeout_seconds(self):
        for bad in (0, -3, float("inf")):
            with self.assertRaises(sandbox.UsageError, msg=f"timeout_seconds={bad!r} is refused"):
                self.argv(timeout_seconds=bad)
        with self.assertRaises(TypeError, msg="a span string is not seconds here"):
            self.argv(timeout_seconds="10min")

    def test_notes_empty_when_the_command_exited(self):
        for c in (completion(), completion("exit-code", 3, "Failed: exited with status 3."),
                  completion("signal", 139, "Killed by signal SEGV.", signal="SEGV"),
                  completion("core-dump", 134, "Crashed: killed by signal ABRT with a core dump."),
                  completion("exit-code", 1, "Failed: exited with status 1.", disk_full=False, tasks_limit_hits=0),
                  completion("signal", 152, "Killed by signal XCPU.", signal="XCPU", isolation="cgroup")):
            self.assertEqual(limit_notes(c), "", f"{c.result} {c.returncode}: no limit, no notes")

    def test_notes_name_the_limit(self):
        for c in (completion("timeout", 124, "Stopped: ran past the 3 s time limit set for this analysis."),
                  completion("oom-kill", 125, "Killed: memory use reached the 64.0 MiB limit."),
                  completion("cancelled", 143, "Cancelled: stopped on request."),
                  completion("exit-code", 1, "Failed: exited with status 1. It hit the limit of 8 tasks: 3 attempts "
                             "to start a process or thread failed.", tasks_limit_hits=3),
                  completion("success", 0, "Finished: exited with status 0. Its output directory was full.",
                             disk_full=True),
                  completion("signal", 137, "Killed by signal KILL.", oom_kills=1),
                  completion("signal", 152, "Killed by signal XCPU. It used up its CPU time limit.", signal="XCPU",
                             isolation="rlimit")):
            self.assertEqual(limit_notes(c), c.completion_notes, f"{c.result} {c.returncode}: the record's sentence")
            self.assertTrue(limit_notes(c), f"{c.result}: not empty")
        self.assertEqual(limit_notes(completion("timeout", 124, "")),
                         "Stopped by a limit of the sandbox (result 'timeout').", "a sentence even without notes")

    def test_result_mapping(self):
        c = Completion.from_record({"id": "a", "result": "exit-code", "notes": "Failed: exited with status 2.",
                                    "output_dir": "/r/a.output"}, 2,
                                   stdout=b"caf\xc3\xa9\r\nbad \xff\rend", stderr=b"")
        r = sandbox.IsolatedResult.from_completion(["cmd"], c)
        self.assertEqual((r.returncode, r.completion_notes, r.output_dir), (2, "", "/r/a.output"),
                         "status kept, no notes for a plain exit, the output directory")
        self.assertEqual(r.stdout, "caf\u00e9\nbad \ufffd\nend", "UTF-8, bad bytes replaced, universal newlines")
        self.assertEqual((r.stderr, r.args, r.completion.stdout[:3]), ("", ["cmd"], b"caf"), "str, args, the bytes kept")
        self.assertEqual(sandbox.IsolatedResult.from_completion(["cmd"], Completion.from_record(
            {"id": "a", "result": "success"}, 0)).stdout, "", "unreadable output is the empty string")


class NotebookCommandTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = pathlib.Path(tmp.name)
        (self.dir / "sub").mkdir()
        (self.dir / "sub" / "nb.ipynb").write_text("{}")

    def test_defaults(self):
        argv, workdir, output = notebook_command(self.dir / "sub" / "nb.ipynb")
        self.assertEqual(argv, ["python3", "-m", "nbconvert", "--to", "notebook", "--execute",
                                "--ExecutePreprocessor.startup_timeout=600", "--output-dir=.",
                                "--output=nb.nbconvert", "./nb.ipynb"], "nbconvert run in the notebook's directory")
        self.assertEqual((workdir, output), (str(self.dir / "sub"), str(self.dir / "sub" / "nb.nbconvert.ipynb")),
                         "beside the input, which is left as it was")

    def test_output_path_and_cwd(self):
        argv, workdir, output = notebook_command(self.dir / "sub" / "nb.ipynb", self.dir / "out" / "done.ipynb",
                                                 cwd=self.dir, allow_errors=True)
        self.assertEqual(argv[-4:], ["--output-dir=out", "--output=done", "--allow-errors", "./sub/nb.ipynb"],
                         "paths relative to the working directory, so the copy is read and written")
        self.assertEqual((workdir, output), (str(self.dir), str(self.dir / "out" / "done.ipynb")), "cwd and output")

    def test_notebook_outside_cwd(self):
        (self.dir / "w").mkdir()
        argv, _, _ = notebook_command(self.dir / "sub" / "nb.ipynb", self.dir / "w" / "o.ipynb", cwd=self.dir / "w")
        self.assertEqual(argv[-1], str(self.dir / "sub" / "nb.ipynb"), "a notebook outside is read where it is")

    def test_refused(self):
        cases = (((self.dir / "none.ipynb",), {}, "No such notebook"),
                 ((self.dir / "sub" / "nb.ipynb", self.dir / "elsewhere.ipynb"), {}, "outside the working directory"),
                 ((self.dir / "sub" / "nb.ipynb", self.dir / "sub" / "out.html"), {}, "Invalid output path"),
                 ((self.dir / "sub" / "nb.ipynb", "/x.ipynb"), {"cwd": self.dir}, "outside the working directory"))
        for args, kwargs, text in cases:
            with self.assertRaises(sandbox.UsageError, msg=f"{args} {kwargs} is refused") as cm:
                sandbox.run_notebook_isolated(*args, **kwargs)
            self.assertIn(text, str(cm.exception), f"{args}: the message says why")


class ErrorMappingTest(unittest.TestCase):
    def test_statuses(self):
        table = {4: sandbox.NoSuchAnalysisError, 64: sandbox.UsageError, 65: sandbox.LimitAboveProfileError,
                 66: sandbox.UnknownProfileError, 69: sandbox.UnavailableError, 70: sandbox.NoRecordError,
                 75: sandbox.BusyError, 77: sandbox.PermissionDeniedError, 127: sandbox.CommandNotFoundError}
        for status, cls in table.items():
            e = error_from_status(status, b"analysis-run: it went wrong\n", program="analysis-run", analysis_id="a1")
            self.assertIs(type(e), cls, f"status {status}")
            self.assertEqual((e.message, e.returncode, e.analysis_id), ("analysis-run: it went wrong", status, "a1"),
                             f"status {status}: message, status and id")

    def test_other_statuses(self):
        e = error_from_status(1, b"", program="analysisctl")
        self.assertIs(type(e), sandbox.AnalysisError, "an undocumented status gives the base class")
        self.assertEqual(str(e), "analysisctl exited with status 1 and said nothing", "a silent failure is named")
        self.assertEqual(str(error_from_status(-9, b"", program="analysis-run")), "analysis-run was killed by signal 9",
                         "a killed program is named")

    def test_status_from_record(self):
        table = (({"result": "success", "exit_code": "exited", "exit_status": 0}, 0),
                 ({"result": "exit-code", "exit_code": "exited", "exit_status": 74}, 74),
                 ({"result": "oom-kill", "exit_code": "killed", "signal": "KILL"}, 125),
                 ({"result": "timeout", "exit_code": "killed", "signal": "TERM"}, 124),
                 ({"result": "cancelled", "exit_code": "killed", "signal": "TERM"}, 143),
                 ({"result": "signal", "exit_code": "killed", "signal": "SEGV"}, 139),
                 ({"result": "exit-code", "error": "cannot change to directory /root"}, 69),
                 ({"result": "resources"}, 69))
        for record, status in table:
            self.assertEqual(status_from_record(record), status, f"{record}: analysis-run's status")

    def test_copy_back_failed(self):
        exited = {"result": "exit-code", "exit_code": "exited", "exit_status": 3}
        self.assertTrue(copy_back_failed(exited, 74), "74 for a command that exited 3: the copy back failed")
        self.assertFalse(copy_back_failed(exited, 3), "the command's own status")
        self.assertFalse(copy_back_failed({**exited, "exit_status": 74}, 74), "the command's own 74")
        self.assertTrue(issubclass(sandbox.CopyBackError, sandbox.AnalysisError), "CopyBackError is an AnalysisError")

    def test_usage_error_is_value_error(self):
        self.assertTrue(issubclass(sandbox.UsageError, ValueError), "UsageError is also a ValueError")


@unittest.skipUnless(shutil.which("analysis-run"), "no analysis-run in $PATH")
class SetupErrorTest(unittest.TestCase):
    """The errors analysis-run reports before it talks to systemd, from the real program."""

    def test_no_such_command(self):
        with self.assertRaises(sandbox.CommandNotFoundError, msg="127 raises CommandNotFoundError") as cm:
            sandbox.run(["no-such-command-anywhere"])
        self.assertIn("No such command: no-such-command-anywhere", str(cm.exception), "analysis-run's message")
        self.assertEqual(cm.exception.returncode, 127, "the status is kept")

    def test_bad_values(self):
        for kwargs, text in (({"analysis_id": "a/b"}, "Invalid analysis id"), ({"memory": "2Q"}, "Invalid --memory '2Q'"),
                             ({"cpu": 12.5}, "Invalid --cpu"), ({"profile": "No-Such"}, "Invalid profile name")):
            with self.assertRaises(sandbox.UsageError, msg=f"{kwargs}: 64 raises UsageError") as cm:
                sandbox.run(["true"], **kwargs)
            self.assertIn(text, str(cm.exception), f"{kwargs}: analysis-run's message")
        with self.assertRaises(sandbox.UsageError, msg="start() maps the same way"):
            sandbox.start(["true"], analysis_id="..")
        with self.assertRaises(sandbox.UsageError, msg="an unknown backend is refused by analysis-run") as cm:
            sandbox.run(["true"], backend="kubernetes")
        self.assertIn("Invalid --backend 'kubernetes'", str(cm.exception), "analysis-run's message")

    def test_missing_program(self):
        saved = os.environ["PATH"]
        os.environ["PATH"] = "/nonexistent"
        try:
            with self.assertRaises(sandbox.UnavailableError, msg="no analysis-run raises UnavailableError") as cm:
                sandbox.run(["true"])
        finally:
            os.environ["PATH"] = saved
        self.assertIn("analysis-run not found", str(cm.exception), "the message names the program")


@unittest.skipUnless(shutil.which("analysis-run"), "no analysis-run in $PATH")
class FallbackRunTest(unittest.TestCase):
    """run() end to end on the host: analysis-run --user --fallback=rlimit runs the analysis itself where no
    service manager can be reached (an empty $XDG_RUNTIME_DIR), and writes the same record."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.state = pathlib.Path(tmp.name) / "state"
        profiles = pathlib.Path(tmp.name) / "profiles"
        profiles.mkdir()
        (pathlib.Path(tmp.name) / "runtime").mkdir()
        (profiles / "default.ini").write_text("[Profile]\nDescription=Test\n[Limits]\nMemory=256M\nCPU=100%\n"
                                              "Tasks=20\nRuntime=1min\nKillGrace=1s\n")
        saved = dict(os.environ)
        self.addCleanup(lambda: (os.environ.clear(), os.environ.update(saved)))
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        os.environ.update(ANALYSIS_SANDBOX_PROFILE_PATH=str(profiles), XDG_STATE_HOME=str(self.state),
                          XDG_RUNTIME_DIR=str(pathlib.Path(tmp.name) / "runtime"))

    def test_output_record_and_status(self):
        c = sandbox.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], user=True, fallback="rlimit",
                        analysis_id="py-fb1", env={"X": "y"}, timeout=30)
        self.assertEqual((c.returncode, c.result, c.exit_status), (3, "exit-code", 3), "the analysis' own status")
        self.assertEqual((c.stdout, c.stderr), (b"out\n", b"err\n"), "output captured apart, no summary")
        self.assertEqual((c.isolation, c.analysis_id, c.limits.runtime_max_sec), ("rlimit", "py-fb1", 30.0),
                         "isolation, id and the tightened time limit from the record")
        self.assertTrue(c.completion_notes, "notes from the record")
        self.assertEqual(c.stdout_file, str(self.state / "analysis-sandbox/results/py-fb1.stdout"), "the output file")

    def test_fails_closed_without_fallback(self):
        with self.assertRaises(sandbox.UnavailableError, msg="no manager and no fallback: 69") as cm:
            sandbox.run(["/bin/true"], user=True)
        self.assertEqual(cm.exception.returncode, 69, "the status is kept")

    def test_isolated_plain_exit(self):
        r = sandbox.isolated_run(["/bin/sh", "-c", "printf 'a\\r\\nb'; echo e >&2; exit 3"], user=True,
                                 fallback="rlimit", analysis_id="py-fb-iso1")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (3, "a\nb", "e\n"), "status, output as text")
        self.assertEqual(r.completion_notes, "", "a plain exit: no notes")
        self.assertTrue(r.completion.completion_notes, "though the record has its own")

    def test_isolated_timeout(self):
        r = sandbox.isolated_run(["/bin/sleep", "30"], timeout_seconds=1, user=True, fallback="rlimit",
                                 analysis_id="py-fb-iso2")
        self.assertEqual((r.returncode, r.completion.result), (124, "timeout"), "the time limit")
        self.assertIn("time limit", r.completion_notes, "a sentence names it")

    def test_isolated_writes_into_cwd(self):
        work = self.state.parent / "work"
        work.mkdir()
        (work / "input.txt").write_text("three little words")
        r = sandbox.isolated_run(["/bin/sh", "-c", "wc -w < input.txt > count.txt"], cwd=work, user=True,
                                 fallback="rlimit", analysis_id="py-fb-iso3")
        self.assertEqual((r.returncode, r.completion_notes), (0, ""), f"it ran ({r.stderr})")
        self.assertEqual((work / "count.txt").read_text().strip(), "3", "what it wrote into cwd is there")
        self.assertEqual((work / "input.txt").read_text(), "three little words", "the input as it was")
        self.assertEqual(r.output_dir, str(self.state / "analysis-sandbox/results/py-fb-iso3.output"),
                         "the output directory, from the record")

    def test_copy_back_fails(self):
        # Without a sandbox the command can remove the caller's directory: then nothing can be copied back.
        work = self.state.parent / "gone"
        work.mkdir()
        with self.assertRaises(sandbox.CopyBackError, msg="a failed copy back raises") as cm:
            sandbox.run(["/bin/sh", "-c", f"echo new > new.txt; rm -r '{work}'; exit 3"], cwd=work, copy_workdir=True,
                        user=True, fallback="rlimit", analysis_id="py-fb-copy1")
        e = cm.exception
        self.assertEqual((e.returncode, e.completion.returncode, e.completion.exit_status), (74, 3, 3),
                         "74 for the copy, the command's own status in the completion")
        self.assertIn(str(work), e.message, "analysis-run's message names the directory")
        self.assertEqual(pathlib.Path(e.completion.output_dir, "new.txt").read_text(), "new\n",
                         "what it wrote is still in the output directory")


if __name__ == "__main__":
    unittest.main()
