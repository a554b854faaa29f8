"""The sales load (notebooks/02_transform.ipynb, after the products'): the window's cart lines into
staging, the facts they imply into marts, in one transaction that commits only if every data test
passes. It reads the snapshots and rates the products load has just committed.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.common.target_calendar import last_target_day_on_or_before
from pricing_pipeline.sales.window import SalesWindow
from pricing_pipeline.warehouse.connection import execute_models, transaction, user_tables
from pricing_pipeline.warehouse.data_tests import run_data_tests

# The order of the load: each model reads the ones before it.
SALES_MODELS = (
    "staging/cart_lines.sql",
    "marts/sales_lines.sql",
    "marts/sales_daily.sql",
    "marts/sales_line_amounts.sql",  # a view
)
# The sales' own singular tests: sql/tests/ runs with every products load, which may have no sales.
SALES_TESTS = SQL_DIR / "tests" / "sales"
CartLines = pd.DataFrame | duckdb.DuckDBPyRelation


class SalesLoadError(RuntimeError):
    """Sales that cannot be priced from what the warehouse holds; the message says what to run."""


def _days(days: list) -> pd.DataFrame:
    return pd.DataFrame({"day": pd.to_datetime(days).date})


def sales_categories(
    con: duckdb.DuckDBPyConnection, params: RunParameters, window: SalesWindow, catalogue: list[str]
) -> list[str]:
    """The categories whose facts the run rebuilds: its own, or for `all` every category of the
    catalogue read and every one the warehouse holds for the window (a category gone from the
    catalogue must not keep facts that the source no longer explains)."""
    if not params.whole_catalogue:
        return [params.category]
    stored: set[str] = set()
    tables = user_tables(con)
    for table, column in (("staging.cart_lines", "cart_day"), ("marts.sales_lines", "sale_day")):
        if table in tables:
            rows = con.execute(
                f"SELECT DISTINCT category FROM {table} WHERE {column} BETWEEN ? AND ?", [window.start, window.end]
            ).fetchall()
            stored |= {category for (category,) in rows}
    return sorted(stored | set(catalogue))


def check_rates_held(con: duckdb.DuckDBPyConnection, cart_days: list) -> None:
    """Every day sold needs the ECB publication in force on it; a late sale older than the run's
    rates needs an earlier run's. Said here, with what to do, rather than by a NULL-rate data test."""
    needed = sorted({last_target_day_on_or_before(day) for day in cart_days})
    if not needed:
        return
    held = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT rate_date FROM staging.exchange_rates WHERE currency = 'USD' AND rate_date BETWEEN ? AND ?",
            [needed[0], needed[-1]],
        ).fetchall()
    }
    missing = [day for day in needed if day not in held]
    if missing:
        raise SalesLoadError(
            f"sales dated {', '.join(map(str, missing))} need the ECB rates of those days, which the warehouse "
            f"does not hold: run the pipeline for {missing[0]} first (or a range starting there)"
        )


def sales_views(
    con: duckdb.DuckDBPyConnection,
    params: RunParameters,
    window: SalesWindow,
    cart_lines: CartLines,
    catalogue_categories: list[str],
) -> dict[str, pd.DataFrame | duckdb.DuckDBPyRelation]:
    """Every view the sales models (and their data tests) read, by name."""
    rate_days = pd.DataFrame(
        {"day": [day for day in window.days], "rate_date": [last_target_day_on_or_before(day) for day in window.days]}
    )
    return {
        "incoming_cart_lines": cart_lines,
        "run_days": _days(params.days),
        "run_category": pd.DataFrame(
            {"category": pd.Series(sales_categories(con, params, window, catalogue_categories), dtype=object)}
        ),
        "sales_window": _days(window.days),
        "sales_rate_days": rate_days.astype({"day": "datetime64[s]", "rate_date": "datetime64[s]"}),
    }


def load_sales(
    con: duckdb.DuckDBPyConnection,
    params: RunParameters,
    window: SalesWindow,
    cart_lines: CartLines,
    catalogue_categories: list[str],
) -> dict[str, int]:
    """Book the window's cart lines as facts in one transaction; rows per table for the run."""
    cart_days = (
        [row[0] for row in cart_lines.unique("cart_day").fetchall()]
        if isinstance(cart_lines, duckdb.DuckDBPyRelation)
        else list(cart_lines["cart_day"].unique())
    )
    check_rates_held(con, [pd.Timestamp(day).date() for day in cart_days])
    with transaction(con, sales_views(con, params, window, cart_lines, catalogue_categories)):
        execute_models(con, SALES_MODELS)
        # in_load: the view's key is left to the weekly audit (sales_line_amounts.yml says why).
        run_data_tests(con, None, SALES_MODELS, partitions_only=True, in_load=True)
        run_data_tests(con, SALES_TESTS)
        return sales_rows(con, params, window)


def sales_rows(con: duckdb.DuckDBPyConnection, params: RunParameters, window: SalesWindow) -> dict[str, int]:
    """Rows each sales relation holds for the run: the window's lines, the facts of its days."""
    scopes = {
        "staging.cart_lines": ("cart_day BETWEEN ? AND ?", [window.start, window.end]),
        "marts.sales_lines": ("booked_day BETWEEN ? AND ?", [params.start_date, params.end_date]),
        "marts.sales_daily": ("day BETWEEN ? AND ?", [window.start, window.end]),
        "marts.sales_line_amounts": ("booked_day BETWEEN ? AND ?", [params.start_date, params.end_date]),
    }
    category = "" if params.whole_catalogue else " AND category = ?"
    extra = [] if params.whole_catalogue else [params.category]
    return {
        table: con.execute(f"SELECT count(*) FROM {table} WHERE {where}{category}", args + extra).fetchone()[0]
        for table, (where, args) in scopes.items()
    }
