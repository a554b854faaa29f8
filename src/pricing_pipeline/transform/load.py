"""The transform step (notebooks/02_transform.ipynb): the run's tidy tables into staging and marts,
in one transaction that commits only if every data test passes.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.transform.currencies import minor_units
from pricing_pipeline.warehouse.connection import execute_models, transaction, user_tables
from pricing_pipeline.warehouse.data_tests import run_data_tests
from pricing_pipeline.warehouse.partitions import rows_for_days, run_views
from pricing_pipeline.warehouse.upgrades import drop_tables_now_views

# The order of the load: each model reads the ones before it.
MODELS = (
    "staging/exchange_rates.sql",
    "staging/currency_minor_units.sql",
    "staging/product_snapshots.sql",
    "marts/products_eur.sql",
    "marts/top_products_daily.sql",
    "marts/product_prices.sql",  # a view
    "marts/product_versions.sql",  # a view
    # Last: the run's row, committed with the load or not at all; after a failure it tells the
    # runner whether the load committed (runner/failure_report.py).
    "ops/loads.sql",
)


# What the load reads as the run's products: the extract's frame, or its hand-off file read by
# DuckDB on the load's connection (handoff.handoff_relation), which no Python object per product holds.
Products = pd.DataFrame | duckdb.DuckDBPyRelation


def run_categories(con: duckdb.DuckDBPyConnection, params: RunParameters, products: Products) -> list[str]:
    """The categories whose rows of the run's days the load replaces.

    One category: itself. `all`: every category of the catalogue read, and every category the
    warehouse already holds for those days, so that a category gone from the catalogue does not
    linger on a day rebuilt from it.
    """
    if not params.whole_catalogue:
        return [params.category]
    stored = (
        con.execute(
            "SELECT DISTINCT category FROM staging.product_snapshots WHERE snapshot_date BETWEEN ? AND ?",
            [params.start_date, params.end_date],
        ).fetchall()
        if "staging.product_snapshots" in user_tables(con)
        else []
    )
    read = (
        {category for (category,) in products.unique("category").fetchall()}
        if isinstance(products, duckdb.DuckDBPyRelation)
        else set(products["category"])
    )
    return sorted({category for (category,) in stored} | read)


def load_views(
    con: duckdb.DuckDBPyConnection,
    params: RunParameters,
    exchange_rates: pd.DataFrame,
    products: Products,
) -> dict[str, pd.DataFrame | duckdb.DuckDBPyRelation]:
    """Every view the models (and their data tests) read, by name."""
    return {
        "incoming_exchange_rates": exchange_rates,
        "incoming_products": products,
        # Every currency the run prices in (and EUR): a code without a known minor unit stops here.
        "incoming_currency_minor_units": minor_units({"EUR", *exchange_rates["currency"]}),
        **run_views(params.days, run_categories(con, params, products)),
        "incoming_load": pd.DataFrame([{"run_id": params.run_id}]),
    }


def load_run(
    con: duckdb.DuckDBPyConnection,
    params: RunParameters,
    exchange_rates: pd.DataFrame,
    products: Products,
) -> dict[str, int]:
    """Merge the run's tidy data into staging and marts in one transaction; rows written per table.

    Takes a connection to the warehouse (connect), the run's parameters, the rates hand-off as a
    DataFrame and the products hand-off as a DataFrame or a relation (handoff_relation, for a large
    catalogue). The data tests run inside the transaction: a failing one raises DataTestError and
    the warehouse keeps what it had. Returns {table: rows for the run's days}.
    """
    with transaction(con, load_views(con, params, exchange_rates, products)):
        drop_tables_now_views(con)
        execute_models(con, MODELS)
        run_data_tests(con, models=MODELS, partitions_only=True, in_load=True)
        written = rows_for_days(con, params)
    return written
