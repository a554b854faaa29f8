"""The report of a failed run: the first failure, the warehouse's state, the record, the next step.

The state is read, not assumed: the warehouse is probed (can it be opened at all?) and ops.loads,
written in the load's own transaction, says whether the run's load committed.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import traceback
from pathlib import Path

from pricing_pipeline.common.errors import (
    DAMAGED,
    DISK_FULL,
    NOT_WRITABLE,
    FailureReport,
    RunFailed,
    StepError,
    cause_of,
    os_error_path,
    short,
    summary,
)
from pricing_pipeline.common.files import write_whole
from pricing_pipeline.common.paths import relative_to_root
from pricing_pipeline.ops.backups import BackupFailed, backup_root, find_backups
from pricing_pipeline.ops.run_log import RunState
from pricing_pipeline.runner.notebooks import NotebookFailed
from pricing_pipeline.warehouse.probes import load_count, warehouse_problem

RERUN = "re-running the same days is safe: it replaces them"


def warehouse_state(state: RunState, first: StepError) -> tuple[str, str | None]:
    """What the run left in the warehouse, and the cause if the file itself is the problem."""
    paths = state.paths
    problem = warehouse_problem(paths.warehouse)
    if problem is not None:
        cause, detail = problem
        if cause == DAMAGED:
            return f"damaged: {relative_to_root(paths.warehouse)} cannot be opened as a DuckDB database", DAMAGED
        return f"cannot be opened: {detail}", cause
    after = load_count(paths.warehouse, state.params.run_id)
    if after is None:
        return "unknown: the warehouse could not be read to tell (see the record)", None
    if after <= (state.loads_before or 0):
        return "unchanged: staging and marts are as they were before the run", None
    return {
        "backup": "loaded and recorded in ops.run_log; only the backup is missing",
        "publish": "loaded, recorded and backed up; only the outputs were not published",
        "run log": "loaded, but the run is not recorded in ops.run_log and not backed up",
        "reconciliation": "loaded, but the source disagrees with it (ops.reconciliation); not backed up",
    }.get(first.step, "loaded (the load committed before the failure), not backed up"), None


def what_failed(first: StepError) -> str:
    error = first.error
    if isinstance(error, RunFailed):
        text = str(error)  # already says what failed, where and why
        if cause_of(error) == DISK_FULL:
            text = f"the disk is full: {text}"
    elif cause_of(error) == DISK_FULL:  # DuckDB's own wording is a line of JSON: the record keeps it
        text = f"{first.headline} failed: the disk is full (No space left on device)"
    else:
        text = f"{first.headline} failed: {summary(error)}"
    if isinstance(error, BackupFailed):
        removed = "was removed" if error.partial_removed else "could NOT be removed: delete it"
        text += f"\nthe partial backup {relative_to_root(error.partial)} {removed}"
    return short(text)


def next_step(state: RunState, first: StepError, cause: str | None, backup_dir: str) -> str:
    data_dir = state.data_dir
    if cause == DAMAGED:
        if find_backups(backup_root(data_dir, backup_dir)):
            return (
                f"restore the newest backup with `{restore_hint(data_dir, backup_dir)}` "
                "(it keeps the damaged file aside), then run again"
            )
        return (
            f"there is no backup to restore in {relative_to_root(backup_root(data_dir, backup_dir))}/: move "
            f"{relative_to_root(state.paths.warehouse)} aside (keep it) and run again to start a new warehouse"
        )
    where = os_error_path(first.error)
    if cause == DISK_FULL:
        folder = backup_root(data_dir, backup_dir) if first.step == "backup" else data_dir
        then = "the next successful run backs up the whole warehouse" if first.step == "backup" else RERUN
        return f"free space on the disk of {relative_to_root(folder)}/, then run again ({then})"
    if cause == NOT_WRITABLE:
        target = relative_to_root(where) if where else f"{relative_to_root(data_dir)}/"
        return f"make {target} writable by the user running the pipeline, then run again"
    if first.step == "reconciliation":
        return f"see ops.reconciliation for what changed at the source, then run again ({RERUN})"
    if first.step == "backup":
        return "fix the cause (see the record), then run again: the next successful run backs up the whole warehouse"
    if first.step == "publish":
        return f"run again, or copy {relative_to_root(state.paths.output)}/ there"
    if isinstance(first.error, NotebookFailed) and first.error.notebook is not None:
        page = first.error.notebook.with_suffix(".html")
        return f"open {relative_to_root(page)} at the failing cell, fix the cause, then run again ({RERUN})"
    return f"fix the cause (see the record), then run again ({RERUN})"


def also_failed(later: list[StepError], most: int = 2) -> list[str]:
    """The failures met after the first, one line per step, at most `most` lines (the record has all)."""
    lines: dict[str, str] = {}
    for item in later:
        lines.setdefault(item.step, f"{item.headline} failed too: {short(summary(item.error), 1)}")
    kept = list(lines.values())
    if len(kept) > most:
        kept = [*kept[: most - 1], f"{len(kept) - most + 1} more failures after the first: see the record"]
    return kept


def report_failure(state: RunState, errors: list[StepError], backup_dir: str) -> FailureReport:
    """The report of a failed run, with its record written (tracebacks included)."""
    first = errors[0]
    left, file_cause = warehouse_state(state, first)
    report = FailureReport(
        what=what_failed(first),
        warehouse=left,
        next_step=next_step(state, first, file_cause or cause_of(first.error), backup_dir),
        also=also_failed(errors[1:]),
    )
    title = f"run {state.params.run_id} FAILED at {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
    notes = []
    if state.status == "failed":
        notes.append(
            f"removed: the run's interim files and outputs ({relative_to_root(state.paths.interim)}/, "
            f"{relative_to_root(state.paths.output)}/); its landed bodies and executed notebooks are kept"
        )
    text = failure_text(title, report, errors, notes)
    report.failure_file, detour = write_failure_text(text, state.paths.record, state.params.run_id)
    if detour:
        report.also.append(detour)
    if isinstance(first.error, NotebookFailed):
        report.notebook = first.error.notebook
    return report


def lock_failure(state: RunState, error: Exception) -> FailureReport:
    """The run did not start: another run holds the lock, or the data folder cannot take one."""
    if isinstance(error, RunFailed):  # another run holds the lock: nothing to record
        return FailureReport(
            what=str(error),
            warehouse="unchanged: this run did not start",
            next_step="wait for the other run to finish, then run again",
        )
    cause = cause_of(error)
    report = FailureReport(
        what=f"could not take the lock of {relative_to_root(state.data_dir)}/: {summary(error)}",
        warehouse="unchanged: this run did not start",
        next_step=next_step(state, StepError("lock", "the lock", error), cause, ""),
    )
    title = f"run {state.params.run_id} FAILED at {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
    report.failure_file, detour = write_failure_text(
        failure_text(title, report, [StepError("lock", "taking the lock", error)]),
        state.paths.record,
        state.params.run_id,
    )
    if detour:
        report.also.append(detour)
    return report


def restore_hint(data_dir: Path, backup_dir: str) -> str:
    """The command that restores the newest backup into this data folder."""
    command = f"pricing-pipeline restore --data-dir {relative_to_root(data_dir)}"
    return command + (f" --backup-dir {backup_dir}" if backup_dir else "")


def write_failure_text(text: str, record_dir: Path, run_id: str) -> tuple[Path | None, str | None]:
    """Write the failure's text into the run's record folder, else into the system's temporary folder
    (a full or read-only data disk). Returns (where it is, what went wrong on the way)."""
    problems = []
    for folder, name in (
        (record_dir, "failure.txt"),
        (Path(tempfile.gettempdir()) / "pricing-pipeline-failures", f"{run_id}.txt"),
    ):
        path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_whole(path, text.encode("utf-8"))
            detour = (
                f"the record could not be written in {relative_to_root(record_dir)}/ ({problems[0]})"
                if problems
                else None
            )
            return path, detour
        except OSError as error:
            problems.append(summary(error))
    return None, f"no record could be written ({'; '.join(problems)})"


def failure_text(title: str, report: FailureReport, errors: list[StepError], notes: list[str] = ()) -> str:
    """The record: the report as printed, notes, then every traceback in full."""
    lines = [title, report.what, f"warehouse: {report.warehouse}", f"next: {report.next_step}"]
    lines += [f"also: {line}" for line in report.also] + list(notes)
    for item in errors:
        lines += ["", f"--- {item.headline}: traceback", *traceback.format_exception(item.error)]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"
