"""The run log (ops.run_log): what a run was asked, when it ran, how it ended, what it wrote."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pricing_pipeline.common.parameters import RunParameters, notebook_parameters
from pricing_pipeline.common.paths import RunPaths
from pricing_pipeline.sales.window import SalesStep, sales_parameters

if TYPE_CHECKING:
    import pandas as pd

# A run's statuses in ops.run_log (sql/ops/run_log.yml accepts these and no other). BACKUP_FAILED:
# the run's data is loaded and logged, only its backup is missing.
SUCCEEDED, FAILED, INTERRUPTED, BACKUP_FAILED = "succeeded", "failed", "interrupted", "backup failed"


@dataclass
class RunState:
    """A run as the runner knows it while it runs, and as ops.run_log keeps it after."""

    params: RunParameters
    data_dir: Path
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    status: str = "running"
    rows_written: dict | None = None
    error: str | None = None
    reconciliation: pd.DataFrame | None = None
    backup: Path | None = None
    published: list[Path] | None = None
    loads_before: int | None = None  # loads of this run id committed before it started (ops.loads)
    sales: SalesStep | None = None  # None: the sales are left out

    @property
    def paths(self) -> RunPaths:
        return RunPaths(self.data_dir, self.params.run_id)

    @property
    def parameters(self) -> dict:
        """What the notebooks are given and the run log keeps: the sales' lookback with the rest, so
        that a backup knows which days of the sales tables the run may have written."""
        return {**notebook_parameters(self.params, self.data_dir), **sales_parameters(self.sales)}


def write_run_log(state: RunState) -> None:
    """Insert (or replace) the run's row of ops.run_log, in its own transaction."""
    import pandas as pd

    from pricing_pipeline.warehouse.connection import connect, sql_text, transaction
    from pricing_pipeline.warehouse.data_tests import run_data_tests

    incoming = pd.DataFrame(
        [
            {
                "run_id": state.params.run_id,
                "parameters": json.dumps(state.parameters),
                "started_at": state.started_at.isoformat(),
                "ended_at": state.ended_at.isoformat(),
                "status": state.status,
                "rows_written": json.dumps(state.rows_written) if state.rows_written is not None else None,
                "error": state.error,
            }
        ]
    )
    with connect(state.paths.warehouse) as con, transaction(con, {"incoming_run": incoming}):
        con.execute(sql_text("ops/run_log.sql"))
        run_data_tests(con, None, ["ops/run_log.sql"], partitions_only=True)
