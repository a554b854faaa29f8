"""The transform step (notebooks/02_transform.ipynb): the run's tidy tables into staging and marts,
in one transaction that commits only if every data test passes.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from .data_tests import run_data_tests
from .parameters import RunParameters
from .run_scope import rows_for_days
from .warehouse import sql_text, transaction

# The order of the load: each model reads the ones before it.
MODELS = (
    "staging/exchange_rates.sql",
    "staging/product_snapshots.sql",
    "marts/products_eur.sql",
    "marts/top_products_daily.sql",
    # Last: the run's row, committed with the load or not at all; after a failure it tells the
    # runner whether the load committed (run_failure.py).
    "ops/loads.sql",
)


def run_views(days: list, category: str) -> dict[str, pd.DataFrame]:
    """The views the models filter on: run_days (the days the run rebuilds) and run_category."""
    return {
        "run_days": pd.DataFrame({"day": pd.to_datetime(days).date}),
        "run_category": pd.DataFrame({"category": [category]}),
    }


def load_run(
    con: duckdb.DuckDBPyConnection,
    params: RunParameters,
    exchange_rates: pd.DataFrame,
    products: pd.DataFrame,
) -> dict[str, int]:
    """Merge the run's tidy data into staging and marts in one transaction; rows written per table."""
    inputs = {
        "incoming_exchange_rates": exchange_rates,
        "incoming_products": products,
        **run_views(params.days, params.category),
        "incoming_load": pd.DataFrame([{"run_id": params.run_id}]),
    }
    with transaction(con, inputs):
        for model in MODELS:
            con.execute(sql_text(model))
        run_data_tests(con, models=MODELS, partitions_only=True)
        written = rows_for_days(con, params)
    return written
