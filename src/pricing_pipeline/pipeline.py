"""The daily pipeline, for any day or range: its steps, in order, in one place.

  1. extract     notebooks/01_extract.ipynb   (extract.py, landing.py, parsing.py, handoff.py)
  2. transform   notebooks/02_transform.ipynb (transform.py, outputs.py, charts.py)
  3. reconcile   reconcile.py: re-read the source, compare with the snapshot written
  4. run log     run_log.py: one row of ops.run_log, whatever the outcome
  5. backup      backup.py: the warehouse exported as Parquet

A range is ONE execution of each notebook (and one rates request), so a backfill costs about what a
day costs. Every run keeps its executed notebooks, rendered to HTML, as its record under
data/runs/<run id>/. One run at a time per data folder (lock.py).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from .backup import backup_root, export_backup
from .failures import RunFailed
from .lock import exclusive_run
from .notebook_runner import (
    DEFAULT_CELL_TIMEOUT,
    render_html,
    run_notebooks,
    started_kernels,
)
from .parameters import RunParameters, notebook_parameters, validate_parameters
from .reconcile import reconcile_with_source
from .run_log import RunRecord, write_run_log
from .run_scope import rows_for_days
from .warehouse import connect

NOTEBOOKS = ("01_extract.ipynb", "02_transform.ipynb")


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
) -> RunRecord:
    """Run the steps in order; raises RunFailed (record kept) on failure."""
    record = RunRecord(params, data_dir, dt.datetime.now(dt.UTC))
    paths = record.paths
    # HTML pages are rendered on a thread while the next step runs (the kernels are separate
    # processes, so the runner is idle meanwhile); the run waits for them before it ends.
    with exclusive_run(data_dir), ThreadPoolExecutor(max_workers=1) as html_renderer:
        paths.record.mkdir(parents=True, exist_ok=True)
        pages = []
        try:
            with started_kernels(len(notebooks)) as kernels:
                run_notebooks(
                    paths.record,
                    notebook_parameters(params, data_dir),
                    notebooks,
                    kernels,
                    cell_timeout,
                    log_output,
                    on_executed=lambda executed: pages.append(html_renderer.submit(render_html, executed)),
                )
            if reconciliation:
                record.reconciliation = reconcile_with_source(params, data_dir)
            with connect(paths.warehouse) as con:
                record.rows_written = rows_for_days(con, params)
            record.status = "succeeded"
        except Exception as error:
            record.status = "failed"
            record.error = str(error) if isinstance(error, RunFailed) else f"{type(error).__name__}: {error}"
            raise
        finally:
            record.ended_at = dt.datetime.now(dt.UTC)
            write_run_log(record)
            for page in pages:
                page.result()
        # After the run log, so that the backup holds the complete record of this run.
        record.backup = export_backup(paths.warehouse, backup_root(data_dir, backup_dir), params.run_id)
    return record


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
