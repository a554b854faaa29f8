"""Runs the notebooks in order with papermill: the daily pipeline, for any day or range.

A range is ONE execution of each notebook (and one rates request), so a backfill costs about what a
day costs. Every run keeps its executed notebooks, rendered to HTML, as its record under
data/runs/<run id>/, and leaves a row in ops.run_log.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from .parameters import RunParameters, validate_parameters
from .parsing import BodyError, parse_products
from .paths import PROJECT_ROOT, RunPaths, relative_to_root
from .sources import SourceError, fetch_products
from .warehouse import connect, export_backup, land_response, reconcile, rows_for_days, sql_text, transaction

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
PIPELINE = ("01_extract.ipynb", "02_transform.ipynb")
DEFAULT_CELL_TIMEOUT = 600
BACKUP_DIR_ENV = "PIPELINE_BACKUP_DIR"


class RunFailed(RuntimeError):
    """A notebook of the run failed; the message says which, where, why, and where its record is."""


@dataclass
class RunRecord:
    params: RunParameters
    data_dir: Path
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    status: str = "running"
    rows_written: dict | None = None
    error: str | None = None
    reconciliation: pd.DataFrame | None = None
    backup: Path | None = None

    @property
    def paths(self) -> RunPaths:
        return RunPaths(self.data_dir, self.params.run_id)


def default_run_date(now: dt.datetime | None = None) -> dt.date:
    """Yesterday (UTC): on a morning schedule, the latest day whose ECB rates are published."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.date() - dt.timedelta(days=1)


def new_run_id(source: str, start: dt.date, end: dt.date, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}_{source}_{start}_{end}"


@contextmanager
def exclusive_run(data_dir: Path) -> Iterator[None]:
    """One run at a time per data folder: a second one stops at once with a clear message."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / ".pipeline.lock"
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise RunFailed(
                f"another run is using {relative_to_root(data_dir)}/ ({holder}); "
                "wait for it to finish, then run again"
            ) from None
        lock.truncate(0)
        lock.write(f"pid {os.getpid()} since {dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}\n")
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def notebook_parameters(params: RunParameters, data_dir: Path) -> dict:
    return {
        "start_date": params.start_date.isoformat(),
        "end_date": params.end_date.isoformat(),
        "category": params.category,
        "source": params.source,
        "data_dir": str(data_dir),
        "run_id": params.run_id,
    }


@functools.lru_cache(maxsize=1)
def _html_exporter():
    """One exporter for every notebook of a run: its templates are compiled once, not per notebook
    (a new exporter per notebook was a third of the run's cost above the floor; same pages)."""
    from nbconvert import HTMLExporter

    return HTMLExporter()


@contextmanager
def started_kernels(count: int) -> Iterator[list]:
    """Start every notebook's kernel at once, before the first notebook runs.

    A kernel takes most of a second to start; started together, the later notebooks' kernels boot
    while the first notebook runs instead of after it. Each notebook still gets a fresh kernel
    of its own, started in notebooks/ as papermill would. run_notebooks stops each kernel as soon
    as its notebook is done (a finished kernel holds its memory); any left are stopped here.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    kernels = []
    # Kernels talk to the runner over local IPC sockets in a private folder, not over TCP ports.
    sockets = tempfile.TemporaryDirectory(prefix="pricing-kernels-")
    try:
        for number in range(count):
            kernel = AsyncKernelManager(
                kernel_name="python3", transport="ipc", ip=os.path.join(sockets.name, f"kernel-{number}")
            )
            try:
                run_sync(kernel.start_kernel)(cwd=str(NOTEBOOKS_DIR))
            except Exception as error:
                raise RunFailed(f"could not start a python3 kernel ({type(error).__name__}: {error})") from error
            kernels.append(kernel)
        yield kernels
    finally:
        for kernel in kernels:
            shut_down(kernel)
        sockets.cleanup()


def shut_down(kernel) -> None:
    """Stop a kernel now (its notebook is done); a kernel already stopped is left alone."""
    from jupyter_core.utils import run_sync

    if kernel.has_kernel:
        run_sync(kernel.shutdown_kernel)(now=True)


def render_html(notebook: Path) -> Path:
    """The executed notebook as a page a reviewer opens without Jupyter."""
    import nbformat

    body, _ = _html_exporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def _failure_message(notebook: Path, error: Exception) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        where = f"cell {error.cell_index} (execution count {error.exec_count})"
        what = f"{error.ename}: {error.evalue}"
    else:
        where, what = "before any cell ran", f"{type(error).__name__}: {error}"
    return (
        f"notebook: {notebook.name}\n"
        f"where:    {where}\n"
        f"error:    {what}\n"
        f"record:   {relative_to_root(notebook)} (and .html)"
    )


def _write_run_log(record: RunRecord) -> None:
    incoming = pd.DataFrame(
        [
            {
                "run_id": record.params.run_id,
                "parameters": json.dumps(notebook_parameters(record.params, record.data_dir)),
                "started_at": record.started_at.isoformat(),
                "ended_at": record.ended_at.isoformat(),
                "status": record.status,
                "rows_written": json.dumps(record.rows_written) if record.rows_written is not None else None,
                "error": record.error,
            }
        ]
    )
    with connect(record.paths.warehouse) as con, transaction(con, {"incoming_run": incoming}):
        con.execute(sql_text("ops/run_log.sql"))


def backup_root(data_dir: Path, backup_dir: str = "") -> Path:
    """Where warehouse backups go: --backup-dir, else $PIPELINE_BACKUP_DIR, else <data dir>/backups.

    In production this is another disk or a bucket mount, so that losing the warehouse's disk
    loses nothing.
    """
    chosen = backup_dir or os.environ.get(BACKUP_DIR_ENV, "")
    return Path(chosen) if chosen else data_dir / "backups"


def reconcile_with_source(params: RunParameters, data_dir: Path) -> pd.DataFrame:
    """Re-read the source's current products and compare them with the snapshot the run wrote.

    The body is landed like any other (as products_recheck), then parsed by the same code. Any
    disagreement (ids, count, sum of prices) is a change the run does not explain: the run fails.
    """
    paths = RunPaths(data_dir, params.run_id)
    try:
        response = fetch_products(params)
        response = replace(response, name="products_recheck")
        land_response(response, paths.raw, paths.warehouse, params.run_id)
        source_products = parse_products(response, params)
    except (SourceError, BodyError) as error:
        raise RunFailed(f"reconciliation could not re-read the source: {error}") from error
    with connect(paths.warehouse) as con:
        checks = reconcile(con, params, source_products)
    disagreeing = checks[~checks["agrees"]]
    if len(disagreeing):
        lines = [
            f"  {row.check_name}: source {row.source_value}, warehouse {row.warehouse_value} {row.detail}".rstrip()
            for row in disagreeing.itertuples()
        ]
        raise RunFailed(
            f"reconciliation: the source no longer matches the snapshot of {params.end_date} "
            "(see ops.reconciliation):\n" + "\n".join(lines)
        )
    return checks


def run_notebooks(
    record: RunRecord,
    notebooks: tuple[str, ...],
    kernels: list,
    cell_timeout: int,
    log_output: bool,
    on_executed: Callable[[Path], object],
) -> None:
    """Execute the notebooks in order, each in its kernel; a failure stops the run with its record.

    on_executed receives each executed notebook, the failed one included.
    """
    import papermill

    for name, kernel in zip(notebooks, kernels):
        executed = record.paths.record / name
        try:
            papermill.execute_notebook(
                str(NOTEBOOKS_DIR / name),
                str(executed),
                parameters=notebook_parameters(record.params, record.data_dir),
                kernel_name="python3",
                km=kernel,
                cwd=str(NOTEBOOKS_DIR),
                execution_timeout=cell_timeout,
                progress_bar=False,
                log_output=log_output,
            )
        except Exception as error:
            raise RunFailed(_failure_message(executed, error)) from error
        finally:
            shut_down(kernel)
            if executed.exists():
                on_executed(executed)


def run_pipeline(
    params: RunParameters,
    data_dir: Path,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    log_output: bool = False,
    notebooks: tuple[str, ...] = PIPELINE,
    reconciliation: bool = True,
    backup_dir: str = "",
) -> RunRecord:
    """Execute the notebooks in order, reconcile, back up; raises RunFailed (record kept) on failure."""
    record = RunRecord(params, data_dir, dt.datetime.now(dt.timezone.utc))
    paths = record.paths
    # HTML pages are rendered on a thread while the next step runs (the kernels are separate
    # processes, so the runner is idle meanwhile); the run waits for them before it ends.
    with exclusive_run(data_dir), ThreadPoolExecutor(max_workers=1) as html_renderer:
        paths.record.mkdir(parents=True, exist_ok=True)
        pages = []
        try:
            with started_kernels(len(notebooks)) as kernels:
                run_notebooks(
                    record, notebooks, kernels, cell_timeout, log_output,
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
            record.ended_at = dt.datetime.now(dt.timezone.utc)
            _write_run_log(record)
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

