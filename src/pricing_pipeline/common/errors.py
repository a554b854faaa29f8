"""The failure vocabulary: the base error of the pipeline, the errors that end a run, and the words
a report is made of (a step's error, its cause, a message cut to a few lines).

Every error the pipeline raises on purpose derives from PipelineError; its message names what
failed and why. runner/failure_report.py turns them into the report the command line prints.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose; the message names what failed and why."""

    # A one-line summary prefixes the type ("BodyError: ..."), unless the message already reads as
    # the whole sentence of what failed (RunFailed and its kind).
    named_in_summary = True


class RunFailed(PipelineError, RuntimeError):
    """A step of the run failed; the message says which, where, why, and where its record is."""

    named_in_summary = False


@dataclass
class FailureReport:
    """Everything a person needs after a failed run or restore, in a few lines.

    what: what failed (a few lines at most); warehouse: the state it was left in; failure_file: the
    text with the tracebacks, None if none could be written; notebook: the executed notebook that
    failed, if one did; next_step: what to do now; also: failures met while reporting the first
    one (one line each), never in its place.
    """

    what: str
    warehouse: str
    next_step: str
    failure_file: Path | None = None
    also: list[str] = field(default_factory=list)
    notebook: Path | None = None  # the executed notebook that failed, kept in the run's record


class PipelineFailed(PipelineError):
    """Raised by run_pipeline and the restore command with their report; the CLI prints it."""

    def __init__(self, report: FailureReport):
        super().__init__(report.what)
        self.report = report


DISK_FULL = "disk full"
NOT_WRITABLE = "not writable"
DAMAGED = "damaged"

# errno values, and the texts DuckDB and a notebook's error carry for them.
_CAUSES = (
    (DISK_FULL, {errno.ENOSPC, errno.EDQUOT}, ("No space left on device", "Disk quota exceeded", '"errno":"28"')),
    (NOT_WRITABLE, {errno.EACCES, errno.EPERM, errno.EROFS}, ("Permission denied", "Read-only file system")),
    (DAMAGED, set(), ("not a valid DuckDB database file", "Corrupt database file", "Corrupted database file")),
)
MAX_WHAT_LINES = 6
MAX_LINE = 300


@dataclass
class StepError:
    """An exception raised by one step of a run (or while recording it)."""

    step: str
    headline: str  # what failed, in the reader's words: "writing the run log (ops.run_log)"
    error: BaseException


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while error is not None and error not in seen and len(seen) < 20:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def cause_of(error: BaseException) -> str | None:
    """DISK_FULL, NOT_WRITABLE, DAMAGED or None: from errno where the exception carries one, else from
    the text (DuckDB's errors and a notebook's error carry the cause only as text)."""
    links = _chain(error)
    for cause, numbers, texts in _CAUSES:
        for link in links:
            if isinstance(link, OSError) and link.errno in numbers:
                return cause
            if any(text.lower() in str(link).lower() for text in texts):
                return cause
    return None


def os_error_path(error: BaseException) -> Path | None:
    """The file an OSError in the chain was about, if it says."""
    for link in _chain(error):
        if isinstance(link, OSError) and link.filename:
            return Path(link.filename)
    return None


def short(text: str, lines: int = MAX_WHAT_LINES) -> str:
    """At most `lines` lines of at most MAX_LINE characters: the record holds the rest."""
    kept = [line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "..." for line in text.strip().splitlines()]
    if len(kept) > lines:
        kept = [*kept[:lines], f"... ({len(kept) - lines} more lines in the record)"]
    return "\n".join(kept)


def summary(error: BaseException) -> str:
    """An exception in a line or a few: an OSError as its message and file, others as type: message."""
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    text = str(error).strip()
    if isinstance(error, PipelineError) and not error.named_in_summary:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
