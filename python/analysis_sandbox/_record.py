# SPDX-License-Identifier: LGPL-2.1-or-later
"""The outcome of one analysis: its JSON record (analysis-run(1), THE RECORD) as Python objects."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
from typing import Any

from ._errors import AnalysisFailed, NoRecordError


@dataclasses.dataclass(frozen=True)
class Limits:
    """Limits of an analysis; None means none. ``cpu_quota_percent`` is of one CPU (200 = two CPUs).

    ``disk_max`` is the bound in bytes on the analysis' output directory (None where it is not enforced:
    under a user's manager and with ``fallback="rlimit"``).
    """

    memory_max: int | None = None
    cpu_quota_percent: int | None = None
    tasks_max: int | None = None
    runtime_max_sec: float | None = None
    disk_max: int | None = None

    @classmethod
    def from_record(cls, value: Any) -> Limits:
        """Reads the record's ``limits`` or ``profile_limits`` object (a missing one gives no limits)."""
        if not isinstance(value, dict):
            return cls()
        return cls(memory_max=_int(value.get("memory_max")),
                   cpu_quota_percent=_int(value.get("cpu_quota_percent")),
                   tasks_max=_int(value.get("tasks_max")),
                   runtime_max_sec=_float(value.get("runtime_max_sec")),
                   disk_max=_int(value.get("disk_max")))


@dataclasses.dataclass(frozen=True)
class Usage:
    """What an analysis used, from its cgroup; None where the record has no figure.

    ``cpu_sec`` is the analysis' own CPU time, ``sandbox_cpu_sec`` the sandbox's around it (the runner,
    the recorder, systemd's executor), None where it is not measured apart. ``oom_kills`` counts processes the kernel killed at the memory limit, ``tasks_limit_hits`` forks
    refused at the task limit, ``tasks_peak`` the most tasks it had at once (from its samples: None in
    a record without them, or written before the field), ``cpu_throttled_sec`` the time the CPU quota
    held it back.
    ``disk_used`` is the bytes in its output directory when it ended, ``disk_full`` True when that
    directory was full then (writes failed), False when it was not.
    """

    runtime_sec: float | None = None
    cpu_sec: float | None = None
    memory_peak: int | None = None
    oom_kills: int | None = None
    tasks_limit_hits: int | None = None
    cpu_throttled_sec: float | None = None
    disk_used: int | None = None
    disk_full: bool | None = None
    sandbox_cpu_sec: float | None = None
    tasks_peak: int | None = None

    @classmethod
    def from_record(cls, value: Any) -> Usage:
        """Reads the record's ``usage`` object."""
        if not isinstance(value, dict):
            return cls()
        return cls(runtime_sec=_float(value.get("runtime_sec")),
                   cpu_sec=_float(value.get("cpu_sec")),
                   sandbox_cpu_sec=_float(value.get("sandbox_cpu_sec")),
                   memory_peak=_int(value.get("memory_peak")),
                   oom_kills=_int(value.get("oom_kills")),
                   tasks_limit_hits=_int(value.get("tasks_limit_hits")),
                   tasks_peak=_int(value.get("tasks_peak")),
                   cpu_throttled_sec=_float(value.get("cpu_throttled_sec")),
                   disk_used=_int(value.get("disk_used")),
                   disk_full=_bool(value.get("disk_full")))


@dataclasses.dataclass(frozen=True)
class Sample:
    """One row of an analysis' samples file (analysis-run(1), SAMPLES): its usage over one span of time.

    ``time_sec`` is the end of the span in seconds since the analysis started, ``span_sec`` its length;
    ``memory_bytes`` the highest memory in use seen in it, ``tasks`` the most tasks; ``cpu_sec``,
    ``cpu_throttled_sec``, ``read_bytes`` and ``written_bytes`` what it used in the span. None where the
    file has no figure. ``events`` names the limits hit in the span: ``oom-kill``, ``fork-refused``,
    ``timeout``, ``disk-full``.
    """

    time_sec: float
    span_sec: float
    memory_bytes: int | None = None
    cpu_sec: float | None = None
    cpu_throttled_sec: float | None = None
    tasks: int | None = None
    read_bytes: int | None = None
    written_bytes: int | None = None
    events: tuple[str, ...] = ()

    @property
    def cpus(self) -> float | None:
        """CPU seconds per second in the span (1.0: one whole CPU), None when unknown."""
        if self.cpu_sec is None or self.span_sec <= 0:
            return None
        return self.cpu_sec / self.span_sec


SAMPLES_MAGIC = "# analysis-sandbox samples v1"


def read_samples(path: str) -> list[Sample]:
    """Reads a samples file (``Completion.samples_file``) into its rows, oldest first.

    Raises OSError when it cannot be read and ValueError when it is not a samples file of version 1.
    """
    with open(path, encoding="utf-8", newline="") as f:
        first = f.readline()
        if first.split()[:4] != SAMPLES_MAGIC.split():
            raise ValueError(f"{path}: not an analysis-sandbox samples file (v1)")
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return [Sample(time_sec=float(r["time_sec"]), span_sec=float(r["span_sec"]),
                       memory_bytes=_opt(int, r.get("memory_bytes")),
                       cpu_sec=_opt(float, r.get("cpu_sec")),
                       cpu_throttled_sec=_opt(float, r.get("cpu_throttled_sec")),
                       tasks=_opt(int, r.get("tasks")),
                       read_bytes=_opt(int, r.get("read_bytes")),
                       written_bytes=_opt(int, r.get("written_bytes")),
                       events=tuple(e for e in (r.get("events") or "").split(";") if e))
                for r in rows]


@dataclasses.dataclass(frozen=True)
class Completion:
    """How one analysis ended (the counterpart of subprocess.CompletedProcess).

    ``returncode`` is analysis-run's exit status: the command's own status, 124 for its time limit, 125
    for its memory limit, 128+N for signal N (also when it was cancelled), 71 when the host stopped under
    it. ``result`` is systemd's Result word (``success``, ``exit-code``, ``signal``, ``core-dump``,
    ``timeout``, ``oom-kill``), ``cancelled``, or ``host-stopped`` (a crash, reset or power loss while it
    ran); ``completion_notes`` the sentences analysis-run prints. ``stdout`` and ``stderr`` are
    the analysis' output as bytes (``.decode()`` them for text), None when it could not be read.
    ``isolation`` is ``cgroup`` when a systemd unit ran the analysis, ``rlimit`` when analysis-run ran it
    itself (``fallback="rlimit"``, no service manager). ``output_dir`` is the analysis' output directory
    ($ANALYSIS_OUTPUT_DIR inside it), handed to the caller when it ended, or None. ``record`` is the
    whole JSON record as a dict, for fields not lifted into attributes. ``reconstructed`` is None for a
    record the analysis' unit wrote, ``unit-failed`` when its recorder could not finish and
    analysis-recover wrote it from what systemd kept, ``host-stopped`` when it was written at the next
    boot; ``missing`` then names the figures nobody could tell any more (their fields are None).
    ``samples_file`` is its usage over time beside the record (None without; ``samples_missing`` then
    says why), and ``samples`` reads it as a list of :class:`Sample` (None without).
    """

    analysis_id: str
    returncode: int
    result: str
    completion_notes: str
    profile: str | None
    unit: str | None
    invocation_id: str | None
    exit_code: str | None
    exit_status: int | None
    signal: str | None
    limits: Limits
    profile_limits: Limits
    usage: Usage
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    caller_uid: int | None
    stdout_file: str | None
    stderr_file: str | None
    stderr_tail: str | None
    error: str | None
    isolation: str | None
    output_dir: str | None = None
    stdout: bytes | None = dataclasses.field(default=None, repr=False)
    stderr: bytes | None = dataclasses.field(default=None, repr=False)
    record: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    reconstructed: str | None = None
    missing: tuple[str, ...] = ()
    samples_file: str | None = None
    samples_missing: str | None = None

    @property
    def samples(self) -> list[Sample] | None:
        """The samples file's rows (read anew on each access), or None when the record names none.

        For a plot: ``t = [s.time_sec for s in done.samples]; plt.plot(t, [s.memory_bytes for s in done.samples])``.
        """
        return read_samples(self.samples_file) if self.samples_file else None

    @property
    def succeeded(self) -> bool:
        """True when the analysis exited with status 0."""
        return self.returncode == 0

    def check(self) -> Completion:
        """Returns self if the analysis succeeded; raises :class:`AnalysisFailed` otherwise."""
        if self.returncode != 0:
            raise AnalysisFailed(self)
        return self

    @classmethod
    def from_record(cls, record: dict[str, Any], returncode: int, *,
                    stdout: bytes | None = None, stderr: bytes | None = None) -> Completion:
        """Builds a Completion from a parsed record and the exit status of the program that reported it."""
        return cls(analysis_id=_str(record.get("id")) or "",
                   returncode=returncode,
                   result=_str(record.get("result")) or "unknown",
                   completion_notes=_str(record.get("notes")) or "",
                   profile=_str(record.get("profile")),
                   unit=_str(record.get("unit")),
                   invocation_id=_str(record.get("invocation_id")),
                   exit_code=_str(record.get("exit_code")),
                   exit_status=_int(record.get("exit_status")),
                   signal=_str(record.get("signal")),
                   limits=Limits.from_record(record.get("limits")),
                   profile_limits=Limits.from_record(record.get("profile_limits")),
                   usage=Usage.from_record(record.get("usage")),
                   started_at=_time(record.get("started_at")),
                   finished_at=_time(record.get("finished_at")),
                   caller_uid=_int(record.get("caller_uid")),
                   stdout_file=_str(record.get("stdout_file")),
                   stderr_file=_str(record.get("stderr_file")),
                   stderr_tail=_str(record.get("stderr_tail")),
                   error=_str(record.get("error")),
                   isolation=_str(record.get("isolation")),
                   output_dir=_str(record.get("output_dir")),
                   stdout=stdout,
                   stderr=stderr,
                   record=record,
                   reconstructed=_str(record.get("reconstructed")),
                   missing=_names(record.get("missing")),
                   samples_file=_str(record.get("samples")),
                   samples_missing=_str(record.get("samples_missing")))


def parse_record(data: bytes | str, *, source: str, returncode: int | None = None) -> dict[str, Any]:
    """Parses the JSON text of a record; raises NoRecordError naming ``source`` if it is not one.

    A record is a JSON object with at least a string ``id`` and ``result`` (what lib/record.c demands).
    """
    try:
        record = json.loads(data)
    except ValueError as e:
        raise NoRecordError(f"{source}: not a valid JSON record ({e})", returncode=returncode) from None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or \
            not isinstance(record.get("result"), str):
        raise NoRecordError(f"{source}: not an analysis record (no id or result)", returncode=returncode)
    return record


def _names(value: Any) -> tuple[str, ...]:
    """A JSON list of strings as a tuple; anything else as ()."""
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _opt(kind, text: str | None):
    """A CSV field as kind (int or float), None when empty."""
    return kind(text) if text else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    # bool is an int in Python, never a figure in a record.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _time(value: Any) -> datetime.datetime | None:
    # "2026-11-26T04:15:00.123Z": fromisoformat() of Python 3.11 reads the Z.
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
