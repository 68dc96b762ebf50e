# SPDX-License-Identifier: LGPL-2.1-or-later
"""The platform runtime's API: isolated_run() and its helpers, a drop-in for subprocess.run(text=True) on run()."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence

from ._command import StrPath, _argv
from ._errors import UsageError
from ._record import Completion
from ._run import run

# The command that executes a notebook: Debian's nbconvert (python3-nbconvert) for the python3 first in
# our $PATH, which needs neither the jupyter front end nor the jupyter-nbconvert script installed.
NBCONVERT = ["python3", "-m", "nbconvert"]
# How long nbclient waits for the notebook's kernel to start: its default, 60 s, was too short in a busy
# Debian 13 VM under emulation ("Kernel didn't respond in 60 seconds"). The analysis' own time limit bounds
# the whole run anyway, the kernel's start included.
KERNEL_STARTUP_TIMEOUT_SEC = 600

# Results under which the command ended on its own: exited (with any status) or died of a signal that
# no limit sent. timeout, oom-kill and cancelled are the sandbox's doing.
_ENDED_ON_ITS_OWN = frozenset({"success", "exit-code", "signal", "core-dump"})

_MIB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class IsolatedResult:
    """How an isolated command ended, shaped like subprocess.CompletedProcess with text=True.

    ``returncode`` is analysis-run's status: the command's own, 124 when ``timeout_seconds`` (or the
    profile's time limit) stopped it, 125 when it reached its memory limit, 128+N for signal N (also
    when it was cancelled; subprocess would say -N). ``stdout`` and ``stderr`` are ``str``, decoded
    as UTF-8 with undecodable bytes replaced (never an exception for what untrusted code printed) and
    newlines translated as text=True does; the bytes are ``completion.stdout``/``.stderr``.
    ``completion_notes`` is a sentence saying which limit ended the run (time, memory) or that it was
    cancelled, or which limit the command ran into before it exited (a refused fork at the task limit,
    a full output directory: its results may be incomplete); the empty string when the command simply
    exited, 0 or not. ``output_dir`` is the analysis' output directory (the caller's once it ended).
    ``executed_notebook`` is the executed notebook's path for run_notebook_isolated() when it was
    written, else None. ``completion`` is the whole :class:`Completion` (limits, usage, record).
    """

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    completion_notes: str
    output_dir: str | None
    completion: Completion = dataclasses.field(repr=False)
    executed_notebook: str | None = None

    @classmethod
    def from_completion(cls, args: list[str], completion: Completion,
                        executed_notebook: str | None = None) -> IsolatedResult:
        """The result for a Completion of run()."""
        return cls(args=args, returncode=completion.returncode, stdout=_text(completion.stdout),
                   stderr=_text(completion.stderr), completion_notes=limit_notes(completion),
                   output_dir=completion.output_dir, completion=completion, executed_notebook=executed_notebook)


def limit_notes(completion: Completion) -> str:
    """The record's notes when a limit ended the run or it was cancelled; "" when the command simply exited.

    A limit counts when systemd stopped the command (timeout, oom-kill, cancelled, or any Result but
    an exit or a signal of its own) or when it ran into one and exited by itself: an OOM kill, a fork
    refused at the task limit, a full output directory. The CPU quota only slows a command down.
    """
    c, u = completion, completion.usage
    hit = (c.result not in _ENDED_ON_ITS_OWN
           or (u.oom_kills or 0) > 0
           or (u.tasks_limit_hits or 0) > 0
           or u.disk_full is True
           # Without cgroups (fallback="rlimit") the CPU quota is RLIMIT_CPU, which ends the run with SIGXCPU.
           or (c.isolation == "rlimit" and c.signal == "XCPU"))
    if not hit:
        return ""
    return c.completion_notes or f"Stopped by a limit of the sandbox (result '{c.result}')."


def _text(data: bytes | None) -> str:
    if data is None:
        return ""
    # What subprocess does for text=True (universal newlines), with UTF-8 and no UnicodeDecodeError.
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def memory_from_mb(mb: int | float, name: str = "memory_limit_mb") -> int:
    """Bytes for ``mb`` mebibytes (1 MB = 1024 * 1024 bytes, as docker's and systemd's M).

    ``name`` is the argument's, for the messages.
    """
    if isinstance(mb, bool) or not isinstance(mb, (int, float)):
        raise TypeError(f"{name} must be a number of mebibytes, not {mb!r}")
    if not math.isfinite(mb) or mb <= 0:
        raise UsageError(f"Invalid {name} {mb!r}: expected a positive number of mebibytes.")
    return max(1, round(mb * _MIB))


def cpu_percent_from_quota(cpu_quota: int | float) -> int:
    """analysis-run's percent of one CPU for ``cpu_quota`` CPUs (0.5 is half a CPU, 2 two CPUs, as docker --cpus).

    Rounded to the nearest whole percent, which is what analysis-run takes; at least 1.
    """
    if isinstance(cpu_quota, bool) or not isinstance(cpu_quota, (int, float)):
        raise TypeError(f"cpu_quota must be a number of CPUs such as 0.5 or 2, not {cpu_quota!r}")
    if not math.isfinite(cpu_quota) or cpu_quota <= 0:
        raise UsageError(f"Invalid cpu_quota {cpu_quota!r}: expected a positive number of CPUs such as 0.5 or 2.")
    return max(1, round(cpu_quota * 100))


def _timeout(timeout_seconds: int | float | None) -> int | float | None:
    if timeout_seconds is None:
        return None
    if isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, (int, float)):
        raise TypeError(f"timeout_seconds must be a number of seconds, not {timeout_seconds!r}")
    if not math.isfinite(timeout_seconds) or timeout_seconds <= 0:
        raise UsageError(f"Invalid timeout_seconds {timeout_seconds!r}: expected a positive number of seconds.")
    return timeout_seconds


def _identity(path: str | None) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns) if st is not None else None


def run_options(*, profile: str = "default", cwd: StrPath | None = None,
                env: Mapping[str, str | None] | None = None, timeout_seconds: int | float | None = None,
                memory_limit_mb: int | float | None = None, cpu_quota: int | float | None = None,
                pids_limit: int | None = None, disk_limit_mb: int | float | None = None,
                user: bool = False, analysis_id: str | None = None,
                fallback: str | None = None, backend: str | None = None) -> dict[str, object]:
    """The keyword arguments of run() for the runtime's arguments."""
    return dict(profile=profile,
                memory=None if memory_limit_mb is None else memory_from_mb(memory_limit_mb),
                cpu=None if cpu_quota is None else cpu_percent_from_quota(cpu_quota),
                tasks=pids_limit, timeout=_timeout(timeout_seconds),
                disk=None if disk_limit_mb is None else memory_from_mb(disk_limit_mb, "disk_limit_mb"),
                # A named working directory gets back what the command wrote there, as with subprocess.
                cwd=cwd, copy_workdir=cwd is not None,
                env=env, analysis_id=analysis_id, user=user, fallback=fallback, backend=backend)


def _isolated(cmd: StrPath | Sequence[StrPath], *, executed_notebook: str | None = None,
              **options) -> IsolatedResult:
    args = _argv(cmd)
    before = _identity(executed_notebook)
    completion = run(args, **run_options(**options))
    if executed_notebook is not None and _identity(executed_notebook) in (None, before):
        # Not written by this run (nbconvert stopped at a failing cell): an older file is no result.
        executed_notebook = None
    return IsolatedResult.from_completion(args, completion, executed_notebook)


def isolated_run(cmd: StrPath | Sequence[StrPath], *, cwd: StrPath | None = None,
                 env: Mapping[str, str | None] | None = None, timeout_seconds: int | float | None = None,
                 memory_limit_mb: int | float | None = None, cpu_quota: int | float | None = None,
                 pids_limit: int | None = None, disk_limit_mb: int | float | None = None,
                 profile: str = "default", user: bool = False, analysis_id: str | None = None,
                 fallback: str | None = None, backend: str | None = None) -> IsolatedResult:
    """Runs ``cmd`` as an analysis of profile ``profile`` ("default") and returns an :class:`IsolatedResult`.

    The drop-in for ``subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
    timeout=timeout_seconds)``, with these differences: a time limit is a result (returncode 124 and
    ``completion_notes``), not subprocess.TimeoutExpired; ``env`` sets variables on top of systemd's
    environment for services, never on top of ours; ``cwd`` is copied for the command to run in, and
    the files it created or changed there are copied back when it ends (files it deleted stay).
    Without ``cwd`` the command runs in our working directory and cannot write there: no directory we
    did not name is ever copied (a daemon's "/" or a home directory would be); it can write to
    $ANALYSIS_OUTPUT_DIR, ``output_dir`` of the result.

    ``memory_limit_mb`` (mebibytes), ``cpu_quota`` (CPUs: 0.5 is half of one, 2 two), ``pids_limit``
    (processes and threads), ``timeout_seconds`` and ``disk_limit_mb`` (mebibytes in its output
    directory, the copy of ``cwd`` included) may only tighten the profile's limits: a value above
    raises LimitAboveProfileError. Requests that cannot run raise the other AnalysisError
    subclasses (UsageError, PermissionDeniedError, CommandNotFoundError, UnavailableError...), and
    files that could not be copied back into ``cwd`` CopyBackError (with the run's ``completion``).
    ``user=True`` runs it under our own service manager, ``fallback="rlimit"`` without one;
    ``backend="slurm"`` as a Slurm job (the site's [Backend] Default= otherwise).
    """
    return _isolated(cmd, profile=profile, cwd=cwd, env=env, timeout_seconds=timeout_seconds,
                     memory_limit_mb=memory_limit_mb, cpu_quota=cpu_quota, pids_limit=pids_limit,
                     disk_limit_mb=disk_limit_mb, user=user, analysis_id=analysis_id, fallback=fallback,
                     backend=backend)


def run_post_process_isolated(cmd: StrPath | Sequence[StrPath], *, cwd: StrPath | None = None,
                              env: Mapping[str, str | None] | None = None,
                              timeout_seconds: int | float | None = None,
                              memory_limit_mb: int | float | None = None, cpu_quota: int | float | None = None,
                              pids_limit: int | None = None, disk_limit_mb: int | float | None = None,
                              user: bool = False, analysis_id: str | None = None,
                              fallback: str | None = None, backend: str | None = None) -> IsolatedResult:
    """isolated_run() under the vendor profile post_process (merging tables, plots, summaries)."""
    return _isolated(cmd, profile="post_process", cwd=cwd, env=env, timeout_seconds=timeout_seconds,
                     memory_limit_mb=memory_limit_mb, cpu_quota=cpu_quota, pids_limit=pids_limit,
                     disk_limit_mb=disk_limit_mb, user=user, analysis_id=analysis_id, fallback=fallback,
                     backend=backend)


def run_tool_isolated(cmd: StrPath | Sequence[StrPath], *, cwd: StrPath | None = None,
                      env: Mapping[str, str | None] | None = None, timeout_seconds: int | float | None = None,
                      memory_limit_mb: int | float | None = None, cpu_quota: int | float | None = None,
                      pids_limit: int | None = None, disk_limit_mb: int | float | None = None,
                      user: bool = False, analysis_id: str | None = None,
                      fallback: str | None = None, backend: str | None = None) -> IsolatedResult:
    """isolated_run() under the vendor profile tool (small, quick helper tools)."""
    return _isolated(cmd, profile="tool", cwd=cwd, env=env, timeout_seconds=timeout_seconds,
                     memory_limit_mb=memory_limit_mb, cpu_quota=cpu_quota, pids_limit=pids_limit,
                     disk_limit_mb=disk_limit_mb, user=user, analysis_id=analysis_id, fallback=fallback,
                     backend=backend)


def _inside(path: str, directory: str) -> bool:
    return os.path.commonpath([path, directory]) == directory


def notebook_command(notebook_path: StrPath, output_path: StrPath | None = None, *, cwd: StrPath | None = None,
                     allow_errors: bool = False) -> tuple[list[str], str, str]:
    """The nbconvert command line for run_notebook_isolated(); returns (argv, working directory, output path).

    The working directory is ``cwd`` or the notebook's directory (where Jupyter runs a notebook's kernel);
    the executed notebook goes to ``output_path``, by default NAME.nbconvert.ipynb beside the notebook
    (nbconvert's own choice: the input is left as it was). The output must lie inside the working
    directory, the only place whose new files reach the caller. Paths on the command line are relative
    to it, so that the command reads and writes the copy it runs in.
    """
    notebook = os.path.abspath(os.fspath(notebook_path))
    if not os.path.isfile(notebook):
        raise UsageError(f"No such notebook: {notebook}")
    workdir = os.path.abspath(os.fspath(cwd)) if cwd is not None else os.path.dirname(notebook)
    if output_path is None:
        stem = os.path.basename(notebook)
        stem = stem[:-len(".ipynb")] if stem.endswith(".ipynb") else stem
        output = os.path.join(os.path.dirname(notebook), stem + ".nbconvert.ipynb")
    else:
        output = os.path.abspath(os.fspath(output_path))
    if not output.endswith(".ipynb") or os.path.basename(output) == ".ipynb":
        raise UsageError(f"Invalid output path {output}: an executed notebook is written to a NAME.ipynb file.")
    if not _inside(output, workdir):
        raise UsageError(f"Output path {output} is outside the working directory {workdir}: only files written "
                         "there reach the caller (pass cwd= a directory that holds both).")
    # Inside the working directory the notebook is read from the copy; elsewhere as it is, read-only.
    source = os.path.relpath(notebook, workdir) if _inside(notebook, workdir) else notebook
    out_dir = os.path.relpath(os.path.dirname(output), workdir)
    # nbconvert adds the extension to --output itself.
    argv = NBCONVERT + ["--to", "notebook", "--execute",
                        f"--ExecutePreprocessor.startup_timeout={KERNEL_STARTUP_TIMEOUT_SEC}",
                        f"--output-dir={out_dir}", f"--output={os.path.basename(output)[:-len('.ipynb')]}"]
    if allow_errors:
        argv.append("--allow-errors")
    # traitlets takes any word starting with "-" for an option: "./" keeps such a notebook name a file.
    return argv + [source if os.path.isabs(source) else os.path.join(".", source)], workdir, output


def run_notebook_isolated(notebook_path: StrPath, output_path: StrPath | None = None, *,
                          cwd: StrPath | None = None, env: Mapping[str, str | None] | None = None,
                          timeout_seconds: int | float | None = None, memory_limit_mb: int | float | None = None,
                          cpu_quota: int | float | None = None, pids_limit: int | None = None,
                          disk_limit_mb: int | float | None = None, allow_errors: bool = False,
                          user: bool = False, analysis_id: str | None = None,
                          fallback: str | None = None, backend: str | None = None) -> IsolatedResult:
    """Executes a notebook top to bottom with Jupyter's nbconvert under the vendor profile notebook_execution.

    Runs ``python3 -m nbconvert --to notebook --execute`` in a copy of ``cwd`` (default: the notebook's
    directory) and writes the executed notebook to ``output_path`` (default: NAME.nbconvert.ipynb
    beside the notebook), which must lie inside that directory; the result's ``executed_notebook`` is
    its path once it is there. nbconvert stops at the first cell that raises (returncode 1, no notebook
    written) unless ``allow_errors``, which keeps the tracebacks in the executed notebook instead. The
    other arguments are isolated_run()'s. A missing notebook or an output outside the working directory
    raises UsageError before anything runs.
    """
    argv, workdir, output = notebook_command(notebook_path, output_path, cwd=cwd, allow_errors=allow_errors)
    return _isolated(argv, profile="notebook_execution", cwd=workdir, env=env, timeout_seconds=timeout_seconds,
                     memory_limit_mb=memory_limit_mb, cpu_quota=cpu_quota, pids_limit=pids_limit,
                     disk_limit_mb=disk_limit_mb, user=user, analysis_id=analysis_id, fallback=fallback,
                     backend=backend, executed_notebook=output)
