# SPDX-License-Identifier: LGPL-2.1-or-later
"""The exceptions of the binding, and which exit status of analysis-run or analysisctl raises which."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._record import Completion


class AnalysisError(Exception):
    """An analysis could not be run, waited for or stopped as asked.

    ``message`` is what analysis-run or analysisctl said (its standard error, or the record's notes),
    ``returncode`` its exit status (None when no program ran), ``record`` the analysis' JSON record as a
    dict when there is one, and ``analysis_id`` the id when it is known.
    """

    def __init__(self, message: str, *, returncode: int | None = None,
                 record: dict[str, Any] | None = None, analysis_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.record = record
        self.analysis_id = analysis_id


class NoSuchAnalysisError(AnalysisError):
    """analysisctl knows no analysis of that id: neither running nor a record (status 4)."""


class UsageError(AnalysisError, ValueError):
    """A bad argument: an invalid id, limit, environment variable name... (status 64)."""


class LimitAboveProfileError(AnalysisError):
    """A limit above the profile's own: per-analysis limits may only tighten (status 65)."""


class UnknownProfileError(AnalysisError):
    """No such profile: no unit was generated for it (status 66)."""


class UnavailableError(AnalysisError):
    """No service manager, a D-Bus error, or the unit could not run the analysis (status 69).

    When the unit refused to run the command (a bad request, a command the profile's account cannot
    execute), ``record`` is the record that says why.
    """


class NoRecordError(AnalysisError):
    """The analysis ended but left no readable record (status 70; see journalctl -u UNIT)."""


class BusyError(AnalysisError):
    """An analysis of that id is already running, or the id is another user's (status 75)."""


class PermissionDeniedError(AnalysisError):
    """Not allowed: the system manager's analyses are for root and the group 'analysis' (status 77)."""


class CommandNotFoundError(AnalysisError):
    """The command to run was not found in $PATH, or is not executable (status 127)."""


class CopyBackError(AnalysisError):
    """The analysis ran, but the files it wrote could not be copied back into the working directory.

    analysis-run --copy-workdir exited 74; ``completion`` is how the analysis itself ended (its
    ``returncode`` the status it would have had), ``message`` why the copy failed. What it wrote is
    still in ``completion.output_dir``.
    """

    def __init__(self, message: str, completion: Completion) -> None:
        super().__init__(message, returncode=74, record=completion.record, analysis_id=completion.analysis_id)
        self.completion = completion


class AnalysisFailed(AnalysisError):
    """Raised by :meth:`Completion.check` for an analysis that ran and did not succeed.

    ``completion`` is the :class:`Completion`; ``message`` its notes.
    """

    def __init__(self, completion: Completion) -> None:
        super().__init__(completion.completion_notes or f"analysis {completion.analysis_id} ended with "
                         f"result '{completion.result}' and status {completion.returncode}",
                         returncode=completion.returncode, record=completion.record,
                         analysis_id=completion.analysis_id)
        self.completion = completion


# The setup statuses of analysis-run(1) (helper/shared/exit-status.h) and analysisctl's "no such analysis".
_BY_STATUS: dict[int, type[AnalysisError]] = {
    4: NoSuchAnalysisError,
    64: UsageError,
    65: LimitAboveProfileError,
    66: UnknownProfileError,
    69: UnavailableError,
    70: NoRecordError,
    75: BusyError,
    77: PermissionDeniedError,
    127: CommandNotFoundError,
}


def error_from_status(returncode: int, stderr: bytes | str, *, program: str,
                      analysis_id: str | None = None) -> AnalysisError:
    """Returns the exception for a program that exited with ``returncode`` and left no record.

    The message is the program's standard error, or a sentence naming the status when it said nothing.
    A status outside the documented ones (a crash, a signal: negative as in subprocess) gives the base
    class.
    """
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    message = stderr.strip()
    if not message:
        message = (f"{program} was killed by signal {-returncode}" if returncode < 0
                   else f"{program} exited with status {returncode} and said nothing")
    cls = _BY_STATUS.get(returncode, AnalysisError)
    return cls(message, returncode=returncode, analysis_id=analysis_id)
