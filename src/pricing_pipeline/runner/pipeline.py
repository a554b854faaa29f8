"""The daily pipeline, for any day or range: its steps, in order, in one place.

  1. extract     notebooks/01_extract.ipynb   (the extract package)
  2. transform   notebooks/02_transform.ipynb (the transform package)
  3. reconcile   ops/reconciliation.py: re-read the source, compare with the snapshot written
  4. run log     ops/run_log.py: one row of ops.run_log, whatever the outcome
  5. backup      ops/backups.py: the partitions written since the last backup (a full export one run
                 in 7) as Parquet with their manifest, and the run's landed bodies (ops/restore.py)
  6. publish     transform/outputs.py: the run's CSVs copied to --publish-outputs (`make run` only)

A failure at any step ends in a report of a few lines (failure_report.py: what failed, the warehouse's
state, the record data/runs/<run id>/failure.txt with the tracebacks, the next step).

A range is ONE execution of each notebook (and one rates request), so a backfill costs about what a
day costs. Every run keeps its executed notebooks, rendered to HTML, as its record under
data/runs/<run id>/. One run at a time per data folder (common/lock.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pricing_pipeline.common.errors import FailureReport, PipelineFailed, RunFailed, StepError, short, summary
from pricing_pipeline.common.lock import exclusive_run
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.common.paths import backup_root
from pricing_pipeline.ops.run_log import BACKUP_FAILED, FAILED, INTERRUPTED, SUCCEEDED, RunState, write_run_log
from pricing_pipeline.runner.interrupts import interruption, sigterm_raises
from pricing_pipeline.runner.notebooks import (
    DEFAULT_CELL_TIMEOUT,
    render_html,
    run_notebooks,
    started_kernels,
)
from pricing_pipeline.runner.progress import SILENT, Progress
from pricing_pipeline.sales.window import DEFAULT_LOOKBACK_DAYS, SalesStep
from pricing_pipeline.warehouse.probes import load_count

# The steps after the notebooks (reconcile, backup, ...) import pandas and DuckDB where they are
# used: loaded before the kernels start, they would hold the runner's memory while both kernels work.

NOTEBOOKS = ("01_extract.ipynb", "02_transform.ipynb")
log = logging.getLogger(__name__)


def run_pipeline(
    params: RunParameters,
    data_dir: Path,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    log_output: bool = False,
    notebooks: tuple[str, ...] = NOTEBOOKS,
    reconciliation: bool = True,
    backup_dir: str = "",
    publish_to: Path | None = None,
    sales_lookback_days: int | None = DEFAULT_LOOKBACK_DAYS,
    publish_sales_to: Path | None = None,
    progress: Progress = SILENT,
) -> RunState:
    """Run the steps in order, showing each on progress (the command line's stderr; nothing by
    default). On any failure raises PipelineFailed, whose report says what failed, the warehouse's
    state, where the record is and what to do next.

    sales_lookback_days: None leaves the sales (Fake Store's carts) out; else the days before the
    run's first day whose carts are read again."""
    sales = SalesStep(sales_lookback_days, publish_sales_to)
    state = RunState(params, data_dir, dt.datetime.now(dt.UTC), sales=sales)
    backups = backup_root(data_dir, backup_dir)
    with contextlib.ExitStack() as held:
        held.enter_context(sigterm_raises())
        try:
            held.enter_context(exclusive_run(data_dir))
        except Exception as error:  # another run holds the lock, or the data folder is unusable
            raise PipelineFailed(lock_failure(state, error)) from error
        # Read now, under the lock: after a failure, a higher count says this run's load committed.
        state.loads_before = load_count(state.paths.warehouse, params.run_id)
        errors = _run_steps(state, backups, cell_timeout, log_output, notebooks, reconciliation, publish_to, progress)
        if errors:
            if state.status == FAILED:
                _remove_interim_files(state)
            # Still under the lock: the warehouse is read as this run left it.
            raise PipelineFailed(_report(state, errors, backup_dir))
    return state


def _run_steps(
    state: RunState,
    backups: Path,
    cell_timeout: int,
    log_output: bool,
    notebooks: tuple[str, ...],
    reconciliation: bool,
    publish_to: Path | None,
    progress: Progress,
) -> list[StepError]:
    """The steps; returns what failed (the first failure first), never raises an Exception.

    After a failed step the run log is still written, and a failure to write it is added after
    the first one, never in its place. The backup follows only a run that succeeded and was logged.
    """
    params, paths, sales = state.params, state.paths, state.sales
    errors: list[StepError] = []
    step = ("record", f"creating the run's record folder {paths.record}")
    # HTML pages are rendered on a thread while the next step runs (the kernels are separate
    # processes, so the runner is idle meanwhile); the run waits for them before its run log.
    with ThreadPoolExecutor(max_workers=1) as html_renderer:
        pages = []
        try:
            paths.record.mkdir(parents=True, exist_ok=True)
            step = ("notebooks", "the notebooks")
            with started_kernels(notebooks) as kernels:
                run_notebooks(
                    paths.record,
                    state.parameters,
                    notebooks,
                    kernels,
                    cell_timeout,
                    log_output,
                    on_executed=lambda executed: pages.append(html_renderer.submit(render_html, executed)),
                    progress=progress,
                )
            from pricing_pipeline.warehouse.connection import connect
            from pricing_pipeline.warehouse.partitions import rows_for_days

            if reconciliation:
                step = ("reconciliation", "reconciliation with the source")
                with progress.step("reconciliation"):
                    from pricing_pipeline.ops.reconciliation import reconcile_with_source

                    state.reconciliation = reconcile_with_source(params, state.data_dir)
                if sales is not None and sales.enabled:
                    step = ("reconciliation", "reconciliation of the sales with the source")
                    with progress.step("sales reconciliation"):
                        from pricing_pipeline.sales.reconciliation import reconcile_sales

                        reconcile_sales(params, state.data_dir, sales.lookback_days)
            step = ("rows", "counting the run's rows in the warehouse")
            with progress.step("row counts"), connect(paths.warehouse) as con:
                state.rows_written = rows_for_days(con, params)
        except Exception as error:
            errors.append(StepError(*step, error))
        except BaseException as interrupt:  # Ctrl-C, a scheduler's stop: still logged, then let through
            state.status, state.error = INTERRUPTED, f"interrupted ({interruption(interrupt)})"
            state.ended_at = dt.datetime.now(dt.UTC)
            with contextlib.suppress(Exception):
                write_run_log(state)
            raise
        with progress.step("html pages"):
            for page in pages:
                try:
                    page.result()
                except Exception as error:
                    errors.append(StepError("html", "rendering an executed notebook as HTML", error))
    state.status = FAILED if errors else SUCCEEDED
    if errors:
        first = errors[0].error
        state.error = str(first) if isinstance(first, RunFailed) else f"{type(first).__name__}: {first}"
    state.ended_at = dt.datetime.now(dt.UTC)
    try:
        with progress.step("run log"):
            write_run_log(state)
    except Exception as error:
        errors.append(StepError("run log", "writing the run log (ops.run_log)", error))
    if errors:
        return errors
    # After the run log, so that the backup holds the complete record of this run.
    from pricing_pipeline.ops.backups import export_backup
    from pricing_pipeline.transform.outputs import publish_outputs

    try:
        with progress.step("backup"):
            state.backup = export_backup(paths.warehouse, backups, params.run_id)
    except Exception as error:
        errors = [StepError("backup", f"the backup to {backups / params.run_id}", error)]
        # The run log said `succeeded` before the backup ran; it now says the data is loaded and
        # only the backup is missing (the next backup is then full, or carries this run's rows).
        state.status, state.error = BACKUP_FAILED, f"backup: {type(error).__name__}: {error}"
        try:
            write_run_log(state)
        except Exception as log_error:
            errors.append(StepError("run log", "writing the run log (ops.run_log)", log_error))
        return errors
    if publish_to is not None:
        try:
            with progress.step("publish"):
                state.published = publish_outputs(paths.output, publish_to)
        except Exception as error:
            return [StepError("publish", f"publishing the outputs to {publish_to}", error)]
    if sales is not None and sales.publish_to is not None:
        from pricing_pipeline.sales.outputs import publish_sales_outputs

        try:
            with progress.step("publish sales"):
                state.published = [*(state.published or []), *publish_sales_outputs(paths.output, sales.publish_to)]
        except Exception as error:
            return [StepError("publish", f"publishing the sales outputs to {sales.publish_to}", error)]
    return errors


def lock_failure(state: RunState, error: Exception) -> FailureReport:
    from pricing_pipeline.runner.failure_report import lock_failure as report

    return report(state, error)


def report_failure(state: RunState, errors: list[StepError], backup_dir: str) -> FailureReport:
    from pricing_pipeline.runner.failure_report import report_failure as report

    return report(state, errors, backup_dir)


def _report(state: RunState, errors: list[StepError], backup_dir: str) -> FailureReport:
    """The failure's report; should writing it fail in turn, a bare one that still tells the first failure."""
    try:
        return report_failure(state, errors, backup_dir)
    except Exception as error:
        log.debug("could not report the failure of run %s", state.params.run_id, exc_info=True)
        return FailureReport(
            what=short(summary(errors[0].error)),
            warehouse="unknown: it could not be checked",
            next_step="fix the cause, then run again",
            also=[f"reporting the failure failed too: {short(summary(error), 1)}"],
        )


def _remove_interim_files(state: RunState) -> None:
    """A failed run's hand-off files and outputs are removed: nothing half-done is left to be taken
    for a run's result. Its landed bodies (data/raw/<run id>/, raw.responses) and executed notebooks
    are kept: they are the record."""
    for folder in (state.paths.interim, state.paths.output):
        shutil.rmtree(folder, ignore_errors=True)
