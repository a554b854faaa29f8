"""The sales' reconcile step: after the load, the window's carts are read again (one request, landed
as carts_recheck) and compared per day with what the warehouse's facts add up to (carts, lines,
units; ops.sales_reconciliation). A difference is a change the run does not explain: the run fails.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from pricing_pipeline.common.errors import RunFailed
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.common.paths import RunPaths
from pricing_pipeline.extract.handoff import PRODUCTS, handoff_path
from pricing_pipeline.extract.landing import land_response
from pricing_pipeline.extract.parsing import BodyError
from pricing_pipeline.extract.products import Catalogue, catalogue_of
from pricing_pipeline.extract.responses import SourceError
from pricing_pipeline.sales.extract import fetch_carts, parse_carts, sales_catalogue
from pricing_pipeline.sales.load import _days, sales_categories
from pricing_pipeline.sales.window import sales_window
from pricing_pipeline.warehouse.connection import connect, sql_text, transaction
from pricing_pipeline.warehouse.data_tests import run_data_tests

MODEL = "ops/sales_reconciliation.sql"


def run_catalogue(paths: RunPaths) -> Catalogue:
    """The run's products (the extract's hand-off): which category each product id is in."""
    return catalogue_of(handoff_path(paths.interim, PRODUCTS))


def reconcile_sales(params: RunParameters, data_dir: Path, lookback_days: int) -> pd.DataFrame:
    """Re-read the window's carts and check them, day by day, against the facts the run left."""
    paths = RunPaths(data_dir, params.run_id)
    window = sales_window(params, lookback_days)
    products = run_catalogue(paths)
    catalogue = sales_catalogue(paths.warehouse, window, products)
    try:
        response = replace(fetch_carts(params.source, window), name="carts_recheck")
        landed = land_response(response, paths.raw, paths.warehouse, params.run_id)
        lines = parse_carts(response, window, catalogue, params.whole_catalogue, landed)
    except (SourceError, BodyError) as error:
        raise RunFailed(f"sales reconciliation could not re-read the carts: {error}") from error
    with connect(paths.warehouse) as con:
        views = {
            "source_cart_lines": lines,
            "sales_window": _days(window.days),
            "run_category": pd.DataFrame(
                {"category": pd.Series(sales_categories(con, params, window, products.categories), dtype=object)}
            ),
            "sales_reconciliation_run": pd.DataFrame([{"run_id": params.run_id}]),
        }
        with transaction(con, views):
            con.execute(sql_text(MODEL))
            run_data_tests(con, None, [MODEL], partitions_only=True)
        checks = con.execute(
            "SELECT * EXCLUDE (run_id) FROM ops.sales_reconciliation WHERE run_id = ? ORDER BY day", [params.run_id]
        ).df()
    wrong = checks[~checks["agrees"]]
    if len(wrong):
        detail = "\n".join(
            f"  {row.day:%Y-%m-%d}: carts {row.source_carts} vs {row.warehouse_carts}, lines {row.source_lines} vs "
            f"{row.warehouse_lines}, units {row.source_units} vs {row.warehouse_units} (source vs warehouse)"
            for row in wrong.itertuples()
        )
        raise RunFailed(
            "sales reconciliation: the carts no longer match the warehouse (see ops.sales_reconciliation):\n" + detail
        )
    return checks
