# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run analyses in their own systemd units, with the limits of a profile, from Python.

A thin binding of analysis-run(1) and analysisctl(1)::

    import analysis_sandbox as sandbox

    done = sandbox.run(["python3", "fit.py"], profile="notebook_execution", memory="512M", timeout=300)
    if done.result == "oom-kill":
        print(done.completion_notes, done.usage.memory_peak)
    print(done.stdout.decode())

    analysis_id = sandbox.start(["python3", "long.py"])
    ...
    sandbox.stop(analysis_id)
    print(sandbox.wait(analysis_id).result)     # "cancelled"

The platform runtime's API, one import away from ``subprocess.run(..., capture_output=True, text=True)``::

    from analysis_sandbox import isolated_run

    r = isolated_run(["python3", "fit.py"], cwd="/srv/job/17", timeout_seconds=600, memory_limit_mb=1024)
    r.returncode, r.stdout, r.stderr, r.completion_notes   # notes: "" unless a limit ended the run

An analysis that ran is a :class:`Completion` however it ended (like subprocess.run without check;
:meth:`Completion.check` raises :class:`AnalysisFailed`). One that could not be started raises a
subclass of :class:`AnalysisError`, one per setup status of analysis-run.
"""

from ._errors import (
    AnalysisError,
    AnalysisFailed,
    BusyError,
    CommandNotFoundError,
    CopyBackError,
    LimitAboveProfileError,
    NoRecordError,
    NoSuchAnalysisError,
    PermissionDeniedError,
    UnavailableError,
    UnknownProfileError,
    UsageError,
)
from ._isolated import (
    IsolatedResult,
    isolated_run,
    run_notebook_isolated,
    run_post_process_isolated,
    run_tool_isolated,
)
from ._record import Completion, Limits, Sample, Usage, read_samples
from ._run import run, start, stop, wait

__all__ = [
    "AnalysisError",
    "AnalysisFailed",
    "BusyError",
    "CommandNotFoundError",
    "Completion",
    "CopyBackError",
    "IsolatedResult",
    "LimitAboveProfileError",
    "Limits",
    "NoRecordError",
    "NoSuchAnalysisError",
    "PermissionDeniedError",
    "Sample",
    "UnavailableError",
    "UnknownProfileError",
    "Usage",
    "UsageError",
    "isolated_run",
    "read_samples",
    "run",
    "run_notebook_isolated",
    "run_post_process_isolated",
    "run_tool_isolated",
    "start",
    "stop",
    "wait",
]
