"""The week's loads: each day in one transaction of the week's own DuckDB database, MERGEs and
data tests included, from a watermark minus a lookback.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from pricing_pipeline.changing_data.simulation import SourceSystem
from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.warehouse.connection import sql_text, transaction
from pricing_pipeline.warehouse.data_tests import run_data_tests

SQL_FOLDER = "changing_data"
DATA_TESTS = SQL_DIR / SQL_FOLDER / "tests"
SCHEMAS = ("raw", "marts", "ops")
# The load of one day, in order: each file builds one table (or view) from the ones before it.
LOAD_ORDER = (
    "raw/product_listings.sql",
    "raw/order_events.sql",
    "marts/dim_products_history.sql",
    "marts/fct_sales.sql",
    "ops/watermarks.sql",
    "marts/daily_revenue.sql",
)
TABLES = (
    "raw.product_listings",
    "raw.order_events",
    "marts.dim_products_history",
    "marts.fct_sales",
    "ops.watermarks",
)
ORDER_EVENTS = "order_events"  # the watermark's name in ops.watermarks
OPEN_END = dt.date(9999, 12, 31)  # valid_to of a current version


def open_database(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The week's own database: in memory, or a file started afresh (never the pipeline's warehouse)."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)
    con = duckdb.connect(str(path) if path is not None else ":memory:")
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return con


def watermark(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The latest source change day loaded so far, or None before the first load (or after a reset)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ops' AND table_name = 'watermarks'"
    ).fetchall()[0][0]
    if not exists:
        return None
    rows = con.execute("SELECT high_water FROM ops.watermarks WHERE source = ?", [ORDER_EVENTS]).fetchall()
    return rows[0][0] if rows else None


def reset_watermark(con: duckdb.DuckDBPyConnection) -> None:
    """What a backfill does first: forget the watermark, so the replayed days re-extract everything."""
    if watermark(con) is not None:
        con.execute("DELETE FROM ops.watermarks WHERE source = ?", [ORDER_EVENTS])


def _actions(rows: list[tuple]) -> dict[str, int]:
    counts = {"INSERT": 0, "UPDATE": 0}
    for row in rows:
        counts[row[0]] += 1
    return counts


def load_day(con: duckdb.DuckDBPyConnection, source: SourceSystem, day: dt.date, lookback_days: int = 1) -> dict:
    """One day's job, in one transaction; returns what it read and what each MERGE did."""
    high_water = watermark(con)
    after = high_water - dt.timedelta(days=lookback_days) if high_water is not None else None
    events = source.order_events_changed(after, day)
    inputs = {
        "load_day": pd.DataFrame({"day": [day]}),
        "incoming_listing": source.listing(day),
        "incoming_order_events": events,
    }
    with transaction(con, inputs):
        results = {name: con.execute(sql_text(f"{SQL_FOLDER}/{name}")).fetchall() for name in LOAD_ORDER}
        run_data_tests(con, DATA_TESTS, LOAD_ORDER, partitions_only=True)
    dim = _actions(results["marts/dim_products_history.sql"])
    fct = _actions(results["marts/fct_sales.sql"])
    late = sum(1 for action, _, event_date in results["marts/fct_sales.sql"] if action == "INSERT" and event_date < day)
    return {
        "day": f"{day:%a %m-%d}",
        "watermark before": f"{high_water:%m-%d}" if high_water else "none",
        "events read": len(events),
        "facts inserted": fct["INSERT"],
        "of them late": late,
        "facts updated": fct["UPDATE"],
        "re-read, unchanged": len(events) - fct["INSERT"] - fct["UPDATE"],
        "versions closed": dim["UPDATE"],
        "versions opened": dim["INSERT"],
    }


def run_days(con: duckdb.DuckDBPyConnection, source: SourceSystem, lookback_days: int = 1) -> pd.DataFrame:
    """Load every day of the source in order, as the daily schedule (or a backfill) would."""
    return pd.DataFrame([load_day(con, source, day, lookback_days) for day in source.days]).set_index("day")
