"""A failed run, told in a few lines: what failed, what state the warehouse is in, where the record
is and what to do next. The tracebacks go to the run's record (data/runs/<run id>/failure.txt),
never to the terminal.

A failure reaches the runner either as a Python exception or, from a notebook, as the text of the
kernel's exception; causes (a full disk, a permission, a damaged file) are read from both.
"""

from __future__ import annotations

import errno
import logging
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from pricing_pipeline.common.paths import relative_to_root
from pricing_pipeline.runner.failures import FailureReport

log = logging.getLogger(__name__)

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
    if type(error).__name__ in ("RunFailed", "BackupFailed"):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def warehouse_problem(warehouse: Path) -> tuple[str, str] | None:
    """(cause, detail) when the warehouse file exists but cannot be opened; None when it opens (or
    does not exist yet). Only the catalogue is read: cheap whatever the warehouse's size."""
    import duckdb

    if not warehouse.exists():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
        finally:
            con.close()
    except (duckdb.Error, OSError) as error:
        cause = cause_of(error)
        if cause is None and "lock" in str(error).lower():
            return None  # held by another process: not a property of the file
        return (cause or DAMAGED, short(summary(error), 1))
    return None


def load_count(warehouse: Path, run_id: str) -> int | None:
    """How many loads of this run id have committed (ops.loads, counted in each load's own
    transaction); None when the warehouse cannot be read."""
    import duckdb

    if not warehouse.exists():
        return 0
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ops' AND table_name = 'loads'"
            ).fetchone()[0]
            if not exists:
                return 0
            row = con.execute("SELECT loads FROM ops.loads WHERE run_id = ?", [run_id]).fetchone()
            return row[0] if row else 0
        finally:
            con.close()
    except (duckdb.Error, OSError) as error:
        log.debug("could not count the loads of run %s: %s", run_id, error)
        return None


def restore_hint(data_dir: Path, backup_dir: str) -> str:
    """The command that restores the newest backup into this data folder."""
    command = f"pricing-pipeline restore --data-dir {relative_to_root(data_dir)}"
    return command + (f" --backup-dir {backup_dir}" if backup_dir else "")


def write_record(text: str, record_dir: Path, run_id: str) -> tuple[Path | None, str | None]:
    """Write the failure's record into the run's folder, else into the system's temporary folder
    (a full or read-only data disk). Returns (where it is, what went wrong on the way)."""
    problems = []
    for folder, name in (
        (record_dir, "failure.txt"),
        (Path(tempfile.gettempdir()) / "pricing-pipeline-failures", f"{run_id}.txt"),
    ):
        path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            try:
                partial.write_text(text, encoding="utf-8")
                partial.replace(path)
            finally:
                partial.unlink(missing_ok=True)
            detour = (
                f"the record could not be written in {relative_to_root(record_dir)}/ ({problems[0]})"
                if problems
                else None
            )
            return path, detour
        except OSError as error:
            problems.append(summary(error))
    return None, f"no record could be written ({'; '.join(problems)})"


def record_text(title: str, report: FailureReport, errors: list[StepError], notes: list[str] = ()) -> str:
    """The record: the report as printed, notes, then every traceback in full."""
    lines = [title, report.what, f"warehouse: {report.warehouse}", f"next: {report.next_step}"]
    lines += [f"also: {line}" for line in report.also] + list(notes)
    for item in errors:
        lines += ["", f"--- {item.headline}: traceback", *traceback.format_exception(item.error)]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"
