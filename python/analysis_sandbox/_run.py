# SPDX-License-Identifier: LGPL-2.1-or-later
"""run(), start(), wait() and stop(): the binding's calls of analysis-run and analysisctl."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from ._command import ANALYSIS_RUN, ANALYSISCTL, StrPath, analysis_run_argv, analysisctl_argv
from ._errors import CopyBackError, NoRecordError, UnavailableError, error_from_status
from ._record import Completion, parse_record


# analysis-run's statuses that the binding reads (helper/shared/exit-status.h).
EXIT_TIMEOUT = 124
EXIT_OOM = 125
EXIT_UNAVAILABLE = 69
EXIT_COPY_BACK = 74


def _communicate(args: list[str], *, cancel_on_interrupt: bool) -> tuple[int, bytes, bytes]:
    """Runs a program to its end with its output captured; returns (status, stdout, stderr).

    If we are interrupted (KeyboardInterrupt, or any exception) while it runs: with
    ``cancel_on_interrupt`` the program gets SIGTERM, which makes analysis-run stop the analysis
    gracefully (the record says cancelled) and we wait for that; otherwise it is killed, which leaves
    the analysis running (analysisctl wait only watches it). Either way the exception goes on.
    """
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise UnavailableError(f"{args[0]} not found in $PATH: is analysis-sandbox installed?") from None
    except OSError as e:
        # E.g. EACCES: subprocess reports it when a directory of $PATH could not be searched.
        raise UnavailableError(f"Cannot execute {args[0]}: {e.strerror}") from None
    with proc:
        try:
            out, err = proc.communicate()
        except BaseException:
            # subprocess.run() would SIGKILL analysis-run here and leave the analysis behind.
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if cancel_on_interrupt else signal.SIGKILL)
            # Keep reading: a full pipe would block analysis-run before it can stop the analysis.
            proc.communicate()
            raise
    return proc.returncode, out, err


def _completion(record: dict[str, Any], returncode: int, stdout: bytes | None, stderr: bytes | None) -> Completion:
    """The Completion for a record, or UnavailableError if the record says the command never ran."""
    if record.get("error"):
        # analysis-run exits 69 for these: the unit refused the request or could not execute the command.
        raise UnavailableError(record.get("notes") or record["error"], returncode=returncode, record=record,
                               analysis_id=record.get("id"))
    return Completion.from_record(record, returncode, stdout=stdout, stderr=stderr)


def _read_output(path: Any) -> bytes | None:
    if not isinstance(path, str):
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def run(argv: StrPath | Sequence[StrPath], *, profile: str = "default", memory: int | str | None = None,
        cpu: int | float | str | None = None, tasks: int | None = None,
        timeout: int | float | datetime.timedelta | str | None = None, disk: int | str | None = None,
        cwd: StrPath | None = None, copy_workdir: bool = False,
        env: Mapping[str, str | None] | None = None, analysis_id: str | None = None,
        user: bool = False, fallback: str | None = None, backend: str | None = None) -> Completion:
    """Runs ``argv`` as an analysis under ``profile`` and waits for it; returns its :class:`Completion`.

    ``memory`` (bytes, or "64M"), ``cpu`` (percent of one CPU), ``tasks``, ``timeout`` (seconds, a
    timedelta, or "10min") and ``disk`` (bytes, or "64M": the bound on its output directory) tighten the
    profile's limits for this analysis; a value above the profile's raises LimitAboveProfileError.
    ``cwd`` is the working directory (default: ours), read-only to the analysis unless ``copy_workdir``:
    then it runs in a copy of it, and the files it created or changed there are copied back when it
    ends. ``env`` the variables to set (a value of None passes on ours; the rest of the environment is
    systemd's, not ours). The command is looked up in our $PATH. ``user`` runs it under our own service
    manager instead of the system's. ``fallback="rlimit"`` runs it anyway where no service manager can
    be reached, with rlimits instead of a cgroup (the Completion's ``isolation`` says which ran it).
    ``backend`` ("systemd" or "slurm") overrides the site's [Backend] Default= for this analysis
    (--backend); a Slurm analysis' Completion has ``isolation`` "slurm".

    The analysis' stdout and stderr are captured in memory and returned as bytes. If the files cannot be
    copied back (``copy_workdir``), CopyBackError carries the Completion of the analysis that ran. An
    analysis that ran and failed is a Completion with that result (use :meth:`Completion.check`); an
    analysis that could not be started raises a subclass of AnalysisError. If we are interrupted
    (KeyboardInterrupt) while it runs, the analysis is stopped gracefully before the exception goes on.
    """
    with tempfile.TemporaryDirectory(prefix="analysis-sandbox-") as tmp:
        notes_file = os.path.join(tmp, "record.json")
        args = analysis_run_argv(argv, profile=profile, memory=memory, cpu=cpu, tasks=tasks, timeout=timeout,
                                 disk=disk, cwd=cwd, copy_workdir=copy_workdir, env=env,
                                 analysis_id=analysis_id, user=user, fallback=fallback, notes_file=notes_file,
                                 backend=backend)
        returncode, out, err = _communicate(args, cancel_on_interrupt=True)
        try:
            with open(notes_file, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            data = None
    # analysis-run writes the record only for an analysis that ended; the analysis' own status may be
    # any number, 64 or 127 included, so the record and not the status tells a setup error.
    if data is None:
        if returncode == 0:
            raise NoRecordError(f"{ANALYSIS_RUN} exited with status 0 but wrote no record", returncode=0,
                                analysis_id=analysis_id)
        raise error_from_status(returncode, err, program=ANALYSIS_RUN, analysis_id=analysis_id)
    record = parse_record(data, source=f"{ANALYSIS_RUN} --notes-file", returncode=returncode)
    if copy_workdir and copy_back_failed(record, returncode):
        completion = _completion(record, status_from_record(record), out, err)
        raise CopyBackError(_last_line(err) or f"{ANALYSIS_RUN} could not copy the files of analysis "
                            f"{completion.analysis_id} back into the working directory", completion)
    return _completion(record, returncode, out, err)


def status_from_record(record: dict[str, Any]) -> int:
    """analysis-run's exit status for the outcome a record describes (helper/shared/exit-status.c)."""
    if record.get("error"):
        return EXIT_UNAVAILABLE
    result = record.get("result")
    if result == "oom-kill":
        return EXIT_OOM
    if result == "timeout":
        return EXIT_TIMEOUT
    if result == "cancelled":
        # analysis-run cancels on SIGTERM (ours, when interrupted) or SIGINT; 143 for the former.
        return 128 + signal.SIGTERM
    status = record.get("exit_status")
    if record.get("exit_code") == "exited" and isinstance(status, int) and status >= 0:
        return status
    sig = getattr(signal, f"SIG{record.get('signal')}", None)
    return 128 + sig if isinstance(sig, int) else EXIT_UNAVAILABLE


def copy_back_failed(record: dict[str, Any], returncode: int) -> bool:
    """True when analysis-run --copy-workdir exited 74 for a failed copy back, not for the command's own 74."""
    return returncode == EXIT_COPY_BACK and status_from_record(record) != EXIT_COPY_BACK


def _last_line(data: bytes) -> str:
    # analysis-run says why the copy back failed after the analysis' own output, as its last line.
    lines = data.decode(errors="replace").strip().splitlines()
    return lines[-1].strip() if lines else ""


def start(argv: StrPath | Sequence[StrPath], *, profile: str = "default", memory: int | str | None = None,
          cpu: int | float | str | None = None, tasks: int | None = None,
          timeout: int | float | datetime.timedelta | str | None = None, disk: int | str | None = None,
          cwd: StrPath | None = None, env: Mapping[str, str | None] | None = None,
          analysis_id: str | None = None, user: bool = False, backend: str | None = None) -> str:
    """Starts ``argv`` as an analysis and returns its id at once (analysis-run --detach).

    The options are those of :func:`run` but ``copy_workdir`` (the copy back needs analysis-run to wait
    for the end) and ``fallback``; with ``backend="slurm"`` it is a Slurm job. Its output goes only to the files named in its record and its
    output directory; use :func:`wait` for the outcome and :func:`stop` to cancel it.
    """
    args = analysis_run_argv(argv, profile=profile, memory=memory, cpu=cpu, tasks=tasks, timeout=timeout,
                             disk=disk, cwd=cwd, env=env, analysis_id=analysis_id, user=user, detach=True,
                             backend=backend)
    returncode, out, err = _communicate(args, cancel_on_interrupt=False)
    if returncode != 0:
        raise error_from_status(returncode, err, program=ANALYSIS_RUN, analysis_id=analysis_id)
    started = out.decode(errors="replace").strip()
    if not started:
        raise UnavailableError(f"{ANALYSIS_RUN} --detach printed no id", returncode=0, analysis_id=analysis_id)
    return started


def wait(analysis_id: str, *, user: bool = False) -> Completion:
    """Waits for analysis ``analysis_id`` to end (analysisctl wait) and returns its :class:`Completion`.

    Works for any analysis: started by :func:`start`, by analysis-run, or by systemctl start, here or
    as a Slurm job (analysisctl finds the caller's in the site's [Slurm] SharedDirectory=); for one
    that has already ended it returns at once. ``stdout`` and ``stderr`` are read from the output files
    named in the record (None if they cannot be read). Raises NoSuchAnalysisError when there is
    neither such an analysis running nor a record of it. Interrupting the wait leaves the analysis
    running.
    """
    args = analysisctl_argv("wait", analysis_id, user=user)
    returncode, out, err = _communicate(args, cancel_on_interrupt=False)
    # As for run(): the record on stdout, not the status, says whether the analysis ended.
    if not out.strip():
        if returncode == 0:
            raise NoRecordError(f"{ANALYSISCTL} wait exited with status 0 but printed no record", returncode=0,
                                analysis_id=analysis_id)
        raise error_from_status(returncode, err, program=ANALYSISCTL, analysis_id=analysis_id)
    record = parse_record(out, source=f"{ANALYSISCTL} wait --json {analysis_id}", returncode=returncode)
    return _completion(record, returncode, _read_output(record.get("stdout_file")),
                       _read_output(record.get("stderr_file")))


def stop(analysis_id: str, *, user: bool = False) -> None:
    """Stops analysis ``analysis_id`` gracefully (analysisctl stop); its record will say cancelled.

    Returns once the stop is under way; :func:`wait` returns the record. Raises NoSuchAnalysisError
    if it is not running.
    """
    args = analysisctl_argv("stop", analysis_id, user=user)
    returncode, _, err = _communicate(args, cancel_on_interrupt=False)
    if returncode != 0:
        raise error_from_status(returncode, err, program=ANALYSISCTL, analysis_id=analysis_id)
