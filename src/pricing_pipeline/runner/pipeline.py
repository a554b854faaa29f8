"""The daily pipeline, for any day or range: its steps, in order, in one place.

  1. extract     notebooks/01_extract.ipynb   (extract.py, landing.py, parsing.py, handoff.py)
  2. transform   notebooks/02_transform.ipynb (transform.py, outputs.py, charts.py)
  3. reconcile   reconcile.py: re-read the source, compare with the snapshot written
  4. run log     run_log.py: one row of ops.run_log, whatever the outcome
  5. backup      backup.py: the partitions written since the last backup (a full export one run in
                 7) as Parquet with their manifest, and the run's landed bodies (restore.py)
  6. publish     outputs.py: the run's CSVs copied to --publish-outputs (`make run` only)

A failure at any step ends in a report of a few lines (run_failure.py: what failed, the warehouse's
state, the record data/runs/<run id>/failure.txt with the tracebacks, the next step).

A range is ONE execution of each notebook (and one rates request), so a backfill costs about what a
day costs. Every run keeps its executed notebooks, rendered to HTML, as its record under
data/runs/<run id>/. One run at a time per data folder (lock.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from pricing_pipeline.common.parameters import RunParameters, notebook_parameters, validate_parameters
from pricing_pipeline.common.paths import backup_root
from pricing_pipeline.ops.run_log import RunRecord, write_run_log
from pricing_pipeline.runner.failure_vocabulary import StepError, load_count, short, summary
from pricing_pipeline.runner.failures import FailureReport, PipelineFailed, RunFailed
from pricing_pipeline.runner.lock import exclusive_run
from pricing_pipeline.runner.notebooks import (
    DEFAULT_CELL_TIMEOUT,
    render_html,
    run_notebooks,
    started_kernels,
)
from pricing_pipeline.sales.window import DEFAULT_LOOKBACK_DAYS, SalesStep, sales_parameters

# The steps after the notebooks (reconcile, backup, ...) import pandas and DuckDB where they are
# used: loaded before the kernels start, they kept ~60 MB in the runner while both kernels were busy.

NOTEBOOKS = ("01_extract.ipynb", "02_transform.ipynb")
log = logging.getLogger(__name__)


def default_run_date(now: dt.datetime | None = None) -> dt.date:
    """Yesterday (UTC): on a morning schedule, the latest day whose ECB rates are published."""
    now = now or dt.datetime.now(dt.UTC)
    return now.date() - dt.timedelta(days=1)


def new_run_id(source: str, start: dt.date, end: dt.date, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}_{source}_{start}_{end}"


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
) -> RunRecord:
    """Run the steps in order. On any failure raises PipelineFailed, whose report says what failed,
    the warehouse's state, where the record is and what to do next.

    sales_lookback_days: None leaves the sales (Fake Store's carts) out; else the days before the
    run's first day whose carts are read again."""
    record = RunRecord(params, data_dir, dt.datetime.now(dt.UTC))
    backups = backup_root(data_dir, backup_dir)
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(exclusive_run(data_dir))
        except Exception as error:  # another run holds the lock, or the data folder is unusable
            raise PipelineFailed(lock_failure(record, error)) from error
        # Read now, under the lock: after a failure, a higher count says this run's load committed.
        record.loads_before = load_count(record.paths.warehouse, params.run_id)
        sales = SalesStep(sales_lookback_days, publish_sales_to)
        errors = _run_steps(record, backups, cell_timeout, log_output, notebooks, reconciliation, publish_to, sales)
        if errors:
            if record.status == "failed":
                _remove_interim_files(record)
            # Still under the lock: the warehouse is read as this run left it.
            raise PipelineFailed(_report(record, errors, backup_dir))
    return record


def _run_steps(
    record: RunRecord,
    backups: Path,
    cell_timeout: int,
    log_output: bool,
    notebooks: tuple[str, ...],
    reconciliation: bool,
    publish_to: Path | None,
    sales: SalesStep | None = None,
) -> list[StepError]:
    """The steps; returns what failed (the first failure first), never raises an Exception.

    After a failed step the run log is still written, and a failure to write it is added after
    the first one, never in its place. The backup follows only a run that succeeded and was logged.
    """
    params, paths = record.params, record.paths
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
                    {**notebook_parameters(params, record.data_dir), **sales_parameters(sales)},
                    notebooks,
                    kernels,
                    cell_timeout,
                    log_output,
                    on_executed=lambda executed: pages.append(html_renderer.submit(render_html, executed)),
                )
            from pricing_pipeline.warehouse.connection import connect
            from pricing_pipeline.warehouse.partitions import rows_for_days

            if reconciliation:
                from pricing_pipeline.ops.reconciliation import reconcile_with_source

                step = ("reconciliation", "reconciliation with the source")
                record.reconciliation = reconcile_with_source(params, record.data_dir)
                if sales is not None and sales.enabled:
                    from pricing_pipeline.sales.reconciliation import reconcile_sales

                    step = ("reconciliation", "reconciliation of the sales with the source")
                    reconcile_sales(params, record.data_dir, sales.lookback_days)
            step = ("rows", "counting the run's rows in the warehouse")
            with connect(paths.warehouse) as con:
                record.rows_written = rows_for_days(con, params)
        except Exception as error:
            errors.append(StepError(*step, error))
        except BaseException as interrupt:  # Ctrl-C, a scheduler's stop: still logged, then let through
            record.status, record.error = "failed", f"interrupted ({type(interrupt).__name__})"
            record.ended_at = dt.datetime.now(dt.UTC)
            with contextlib.suppress(Exception):
                write_run_log(record)
            raise
        for page in pages:
            try:
                page.result()
            except Exception as error:
                errors.append(StepError("html", "rendering an executed notebook as HTML", error))
    record.status = "failed" if errors else "succeeded"
    if errors:
        first = errors[0].error
        record.error = str(first) if isinstance(first, RunFailed) else f"{type(first).__name__}: {first}"
    record.ended_at = dt.datetime.now(dt.UTC)
    try:
        write_run_log(record)
    except Exception as error:
        errors.append(StepError("run log", "writing the run log (ops.run_log)", error))
    if errors:
        return errors
    # After the run log, so that the backup holds the complete record of this run.
    from pricing_pipeline.ops.backups import export_backup
    from pricing_pipeline.transform.outputs import publish_outputs

    try:
        record.backup = export_backup(paths.warehouse, backups, params.run_id)
    except Exception as error:
        return [StepError("backup", f"the backup to {backups / params.run_id}", error)]
    if publish_to is not None:
        try:
            record.published = publish_outputs(paths.output, publish_to)
        except Exception as error:
            return [StepError("publish", f"publishing the outputs to {publish_to}", error)]
    if sales is not None and sales.publish_to is not None:
        from pricing_pipeline.sales.outputs import publish_sales_outputs

        try:
            record.published = [*(record.published or []), *publish_sales_outputs(paths.output, sales.publish_to)]
        except Exception as error:
            return [StepError("publish", f"publishing the sales outputs to {sales.publish_to}", error)]
    return errors


def lock_failure(record: RunRecord, error: Exception) -> FailureReport:
    from pricing_pipeline.runner.failure_report import lock_failure as report

    return report(record, error)


def report_failure(record: RunRecord, errors: list[StepError], backup_dir: str) -> FailureReport:
    from pricing_pipeline.runner.failure_report import report_failure as report

    return report(record, errors, backup_dir)


def _report(record: RunRecord, errors: list[StepError], backup_dir: str) -> FailureReport:
    """The failure's report; should writing it fail in turn, a bare one that still tells the first failure."""
    try:
        return report_failure(record, errors, backup_dir)
    except Exception as error:
        log.debug("could not report the failure of run %s", record.params.run_id, exc_info=True)
        return FailureReport(
            what=short(summary(errors[0].error)),
            warehouse="unknown: it could not be checked",
            next_step="fix the cause, then run again",
            also=[f"reporting the failure failed too: {short(summary(error), 1)}"],
        )


def _remove_interim_files(record: RunRecord) -> None:
    """A failed run's hand-off files and outputs are removed: nothing half-done is left to be taken
    for a run's result. Its landed bodies (data/raw/<run id>/, raw.responses) and executed notebooks
    are kept: they are the record."""
    for folder in (record.paths.interim, record.paths.output):
        shutil.rmtree(folder, ignore_errors=True)


def parameters_for(
    date: str | None, start: str | None, end: str | None, category: str, source: str, run_id: str | None
) -> RunParameters:
    """The run's parameters from the runner's options: one day, a range, or yesterday by default."""
    if date and (start or end):
        raise ValueError("give either --date or --start/--end, not both")
    start = date or start or default_run_date().isoformat()
    end = date or end or start
    params = validate_parameters(start, end, category, source, run_id or "")
    if run_id:
        return params
    return replace(params, run_id=new_run_id(source, params.start_date, params.end_date))
