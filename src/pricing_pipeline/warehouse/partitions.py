"""The rows of a table that belong to one run: its days and category (its rates window for rates).

What a run counts, shows, exports and reconciles is always this scope, never the whole table.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pricing_pipeline.common.parameters import RunParameters

# The tables a run writes, each with the order its rows are read and written in (its key).
RUN_ORDER = {
    "staging.exchange_rates": "rate_date, currency",
    "staging.product_snapshots": "snapshot_date, product_id",
    "marts.products_eur": "day, product_id",
    "marts.top_products_daily": "day, category, rank",
    "marts.product_prices": "day, product_id, currency",
}
TABLES = tuple(RUN_ORDER)


def run_scope(table: str, params: RunParameters) -> tuple[str, list]:
    """The WHERE clause, with its arguments, of a table's rows that belong to a run.

    Rates: the run's rates window (it may start before the first day). Everything else: the run's
    days and category; with category `all`, every category of those days.
    """
    if table == "staging.exchange_rates":
        return "rate_date BETWEEN ? AND ?", [params.rates_start_date, params.end_date]
    day = "snapshot_date" if table == "staging.product_snapshots" else "day"
    if params.whole_catalogue:
        return f"{day} BETWEEN ? AND ?", [params.start_date, params.end_date]
    return f"{day} BETWEEN ? AND ? AND category = ?", [params.start_date, params.end_date, params.category]


def rows_for_days(con: duckdb.DuckDBPyConnection, params: RunParameters) -> dict[str, int]:
    """Rows each table holds for the run (its days and category; its rates window)."""
    counts = {}
    for table in TABLES:
        where, args = run_scope(table, params)
        counts[table] = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", args).fetchone()[0]
    return counts


def run_frame(con: duckdb.DuckDBPyConnection, table: str, params: RunParameters) -> pd.DataFrame:
    """A table's rows for the run, in key order. marts.products_eur's is the case's DataFrame:
    every product on every day of the run, its USD and EUR prices and the rate used."""
    where, args = run_scope(table, params)
    return con.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {RUN_ORDER[table]}", args).df()
