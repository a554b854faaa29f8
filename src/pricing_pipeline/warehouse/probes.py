"""Read-only probes of the warehouse file, for a report after a failure: can the file be opened at
all, and did a run's load commit. Each reads the catalogue or one small table: cheap whatever the
warehouse's size.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pricing_pipeline.common.errors import DAMAGED, cause_of, short, summary

log = logging.getLogger(__name__)


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
