# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host tests of the Python binding's own logic: command lines, records, exceptions; and, with the real
analysis-run of the build, its setup errors that come before systemd and whole runs with --fallback=rlimit. Everything that needs a service manager is tested in the VM (tests/vm/e2e/test_python.sh).

Run by meson with PYTHONPATH=python/ and the build's helper/ first in $PATH, or by hand:
    PYTHONPATH=python PATH=build/helper:$PATH python3 -m unittest tests/test_python_binding.py
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
from analysis_sandbox._record import Completion, parse_record

RECORDS = pathlib.Path(__file__).parent / "data" / "records"


class CommandLineTest(unittest.TestCase):
    def test_defaults(self):
        self.assertEqual(analysis_run_argv(["python3", "-c", "pass"]),
                         ["analysis-run", "--system", "--quiet", "--profile=default", "--", "python3", "-c", "pass"],
                         "no option given: system manager, quiet, default profile, the command after --")

    def test_every_option(self):
        args = analysis_run_argv(["fit.py"], profile="tool", memory="64M", cpu=50, tasks=10, timeout=3,
                                 cwd=pathlib.Path("/srv/work"), env={"A": "1", "B": ""}, analysis_id="run42",
                                 user=True, detach=True, notes_file="/tmp/x/record.json")
        self.assertEqual(args, ["analysis-run", "--user", "--quiet", "--profile=tool", "--id=run42",
                                "--chdir=/srv/work", "--setenv=A=1", "--setenv=B=", "--memory=64M", "--cpu=50%",
                                "--tasks=10", "--timeout=3000000us", "--detach",
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

    def test_not_records(self):
        for data in (b"", b"{", b"[]", b'{"id": "a"}', b'{"id": 1, "result": "success"}'):
            with self.assertRaises(sandbox.NoRecordError, msg=f"{data!r} is no record"):
                parse_record(data, source="test")


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


if __name__ == "__main__":
    unittest.main()
