"""How a run fails: what a step raises, and the report the command line prints about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class RunFailed(RuntimeError):
    """A step of the run failed; the message says which, where, why, and where its record is."""


@dataclass
class FailureReport:
    """Everything a person needs after a failed run or restore, in a few lines.

    what: what failed (a few lines at most); warehouse: the state it was left in; record: where the
    full record (tracebacks) is, None if none could be written; notebook: the executed notebook that
    failed, if one did; next_step: what to do now; also:
    failures met while recording the first one (one line each), never in its place.
    """

    what: str
    warehouse: str
    next_step: str
    record: Path | None = None
    also: list[str] = field(default_factory=list)
    notebook: Path | None = None  # the executed notebook that failed, kept beside the record


class PipelineFailed(Exception):
    """Raised by run_pipeline and the restore command with their report; the CLI prints it."""

    def __init__(self, report: FailureReport):
        super().__init__(report.what)
        self.report = report
