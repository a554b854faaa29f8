"""The rows of a table that belong to one run: its days and category (its rates window for rates),
defined here once for every table a run writes.

Two readers, one definition (PARTITIONS): what a run counts, shows, exports, backs up and
reconciles is a WHERE clause on the run's parameters (run_scope); the load's data tests read the
same partitions from the views the load registers (run_views, partition_queries), so that a day's
tests cost what the day costs. Never the whole table.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.common.target_calendar import last_target_day_on_or_before

# The tables a run writes, each with the order its rows are read and written in (its key).
RUN_ORDER = {
    "staging.exchange_rates": "rate_date, currency",
    "staging.product_snapshots": "snapshot_date, product_id",
    "marts.products_eur": "day, product_id",
    "marts.top_products_daily": "day, category, rank",
    "marts.product_prices": "day, product_id, currency",
}
TABLES = tuple(RUN_ORDER)

# What each partition column of a run's table takes: the run's days, its categories (every
# category of those days with `all`), or its rates window (from the working day in force on its
# first day to its last day).
RUN_DAYS, RUN_CATEGORIES, RATES_WINDOW = "days", "categories", "rates window"
PARTITIONS = {
    "staging.exchange_rates": {"rate_date": RATES_WINDOW},
    "staging.product_snapshots": {"snapshot_date": RUN_DAYS, "category": RUN_CATEGORIES},
    "marts.products_eur": {"day": RUN_DAYS, "category": RUN_CATEGORIES},
    "marts.top_products_daily": {"day": RUN_DAYS, "category": RUN_CATEGORIES},
    "marts.product_prices": {"day": RUN_DAYS, "category": RUN_CATEGORIES},
}
# The view of the load that holds each kind of values (run_views).
_VIEW_QUERIES = {
    RUN_DAYS: "SELECT day FROM run_days",
    RUN_CATEGORIES: "SELECT category FROM run_category",
    RATES_WINDOW: "SELECT rate_date FROM run_rate_dates",
}


def partition_queries(table: str) -> dict[str, str]:
    """Each partition column of a run's table, with the query of the load's view of its values."""
    return {column: _VIEW_QUERIES[kind] for column, kind in PARTITIONS[table].items()}


def run_views(days: list[dt.date], categories: list[str]) -> dict[str, pd.DataFrame]:
    """The views the models and the load's data tests filter on: run_days (the days the run
    rebuilds), run_category (the categories it rebuilds them for) and run_rate_dates (every date of
    its rates window)."""
    days = sorted(pd.to_datetime(days).date)
    first = last_target_day_on_or_before(days[0])
    window = [first + dt.timedelta(days=i) for i in range((days[-1] - first).days + 1)]
    return {
        "run_days": pd.DataFrame({"day": days}),
        "run_category": pd.DataFrame({"category": pd.Series(sorted(categories), dtype=object)}),
        "run_rate_dates": pd.DataFrame({"rate_date": window}),
    }


def run_scope(table: str, params: RunParameters) -> tuple[str, list]:
    """The WHERE clause, with its arguments, of a table's rows that belong to a run.

    Rates: the run's rates window (it may start before the first day). Everything else: the run's
    days and category; with category `all`, every category of those days.
    """
    conditions, args = [], []
    for column, kind in PARTITIONS[table].items():
        if kind == RATES_WINDOW:
            conditions.append(f"{column} BETWEEN ? AND ?")
            args += [params.rates_start_date, params.end_date]
        elif kind == RUN_DAYS:
            conditions.append(f"{column} BETWEEN ? AND ?")
            args += [params.start_date, params.end_date]
        elif not params.whole_catalogue:
            conditions.append(f"{column} = ?")
            args.append(params.category)
    return " AND ".join(conditions), args


def rows_for_days(con: duckdb.DuckDBPyConnection, params: RunParameters) -> dict[str, int]:
    """Rows each table holds for the run (its days and category; its rates window)."""
    counts = {}
    for table in TABLES:
        where, args = run_scope(table, params)
        counts[table] = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", args).fetchone()[0]
    return counts


def run_frame(con: duckdb.DuckDBPyConnection, table: str, params: RunParameters) -> pd.DataFrame:
    """A table's rows for the run, in key order. marts.products_eur's is the case's DataFrame:
    every product on every day of the run, its USD and EUR prices and the rate used.

    Takes a connection, a qualified table name (staging.exchange_rates, marts.products_eur,
    marts.top_products_daily, ...) and the run's parameters; returns a DataFrame of every column.
    """
    where, args = run_scope(table, params)
    return con.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {RUN_ORDER[table]}", args).df()
