# SPDX-License-Identifier: LGPL-2.1-or-later
"""The command lines of analysis-run and analysisctl for the binding's arguments."""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from typing import Union

from ._errors import UsageError

ANALYSIS_RUN = "analysis-run"
ANALYSISCTL = "analysisctl"

StrPath = Union[str, "os.PathLike[str]"]


def _scope(user: bool) -> str:
    return "--user" if user else "--system"


def format_size(value: int | str, what: str = "memory") -> str:
    """Bytes as an int, or a size string in the profile syntax ("64M", "1.5G") passed on as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{what} must be bytes (int) or a size string such as '64M', not {value!r}")
    return str(value)


def format_memory(memory: int | str) -> str:
    """The --memory value: see format_size()."""
    return format_size(memory, "memory")


def format_cpu(cpu: int | float | str) -> str:
    """A percentage of one CPU: 50 or "50%" (200 is two CPUs). analysis-run takes whole percents only."""
    if isinstance(cpu, bool) or not isinstance(cpu, (int, float, str)):
        raise TypeError(f"cpu must be a percentage of one CPU (int or '50%'), not {cpu!r}")
    if isinstance(cpu, float) and cpu.is_integer():
        cpu = int(cpu)
    return cpu if isinstance(cpu, str) else f"{cpu}%"


def format_tasks(tasks: int) -> str:
    """A number of processes and threads."""
    if isinstance(tasks, bool) or not isinstance(tasks, int):
        raise TypeError(f"tasks must be an int, not {tasks!r}")
    return str(tasks)


def format_timeout(timeout: int | float | datetime.timedelta | str) -> str:
    """Seconds (int or float), a timedelta, or a time span string ("30s", "10min") passed on as it is.

    Numbers become whole microseconds ("2500000us"): analysis-run reads them exactly, with no float
    formatting ("1e-05") in between.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float, datetime.timedelta, str)):
        raise TypeError(f"timeout must be seconds, a timedelta or a span string such as '10min', not {timeout!r}")
    if isinstance(timeout, str):
        return timeout
    seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else timeout
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise UsageError(f"Invalid timeout {timeout!r}: expected a finite number of seconds.")
    return f"{round(seconds * 1_000_000)}us"


def format_environment(env: Mapping[str, str | None]) -> list[str]:
    """-E options for a mapping of names to values; a value of None passes on the caller's own value."""
    options = []
    for name, value in env.items():
        if not isinstance(name, str) or not name or "=" in name or "\0" in name:
            # A name with '=' would silently set another variable: "A=B" = "C" is A set to "B=C".
            raise UsageError(f"Invalid environment variable name {name!r}.")
        if value is None:
            options.append(f"--setenv={name}")
        elif isinstance(value, str):
            options.append(f"--setenv={name}={value}")
        else:
            raise TypeError(f"environment variable {name!r}: value must be a str or None, not {value!r}")
    return options


def _argv(argv: StrPath | Sequence[StrPath]) -> list[str]:
    # As subprocess: a single string is the program, never split on spaces.
    if isinstance(argv, (str, os.PathLike)):
        return [os.fspath(argv)]
    args = [os.fspath(a) for a in argv]
    if not args:
        raise UsageError("No command given: argv is empty.")
    for a in args:
        if not isinstance(a, str):
            raise TypeError(f"argv items must be str or path-like, not {a!r}")
    return args


def analysis_run_argv(argv: StrPath | Sequence[StrPath], *, profile: str = "default",
                      memory: int | str | None = None, cpu: int | float | str | None = None,
                      tasks: int | None = None,
                      timeout: int | float | datetime.timedelta | str | None = None,
                      disk: int | str | None = None,
                      cwd: StrPath | None = None, copy_workdir: bool = False,
                      env: Mapping[str, str | None] | None = None,
                      analysis_id: str | None = None, user: bool = False, fallback: str | None = None,
                      detach: bool = False, notes_file: str | None = None,
                      backend: str | None = None) -> list[str]:
    """The analysis-run command line, always quiet (-q): the binding reads the record, not the summary.

    Values are checked for their type here and for their syntax and range by analysis-run itself, the
    one place that knows them (a bad one exits 64, which raises UsageError).
    """
    args = [ANALYSIS_RUN, _scope(user), "--quiet", f"--profile={profile}"]
    if analysis_id is not None:
        args.append(f"--id={analysis_id}")
    if cwd is not None:
        args.append(f"--chdir={os.fspath(cwd)}")
    if copy_workdir:
        args.append("--copy-workdir")
    if env is not None:
        args += format_environment(env)
    if memory is not None:
        args.append(f"--memory={format_memory(memory)}")
    if cpu is not None:
        args.append(f"--cpu={format_cpu(cpu)}")
    if tasks is not None:
        args.append(f"--tasks={format_tasks(tasks)}")
    if timeout is not None:
        args.append(f"--timeout={format_timeout(timeout)}")
    if disk is not None:
        args.append(f"--disk={format_size(disk, 'disk')}")
    if backend is not None:
        if not isinstance(backend, str):
            raise TypeError(f"backend must be a str such as 'slurm', not {backend!r}")
        args.append(f"--backend={backend}")
    if fallback is not None:
        args.append(f"--fallback={fallback}")
    if detach:
        args.append("--detach")
    if notes_file is not None:
        args.append(f"--notes-file={notes_file}")
    args.append("--")
    return args + _argv(argv)


def analysisctl_argv(verb: str, analysis_id: str, *, user: bool = False) -> list[str]:
    """The analysisctl command line for VERB (wait, stop, notes) on one analysis; records as JSON.

    Not quiet: the summary on standard error is dropped on success and is the message on failure.
    """
    if not isinstance(analysis_id, str):
        raise TypeError(f"analysis id must be a str, not {analysis_id!r}")
    args = [ANALYSISCTL, _scope(user)]
    if verb in ("wait", "notes"):
        args += [verb, "--json"]
    else:
        args.append(verb)
    # "--" so that an id starting with "-" is refused as an id (64), never taken as an option.
    return args + ["--", analysis_id]
