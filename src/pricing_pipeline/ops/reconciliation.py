"""The reconcile step: after the load, re-read the source and compare it with the snapshot written.

The body is landed like any other (as products_recheck), then parsed by the same code, unless it
is byte for byte the body the extract parsed: then the extract's result is compared. Any
disagreement (ids, count, sum of prices, in ops.reconciliation) is a change the run does not
explain: the run fails.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd

from pricing_pipeline.common.errors import RunFailed
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.common.paths import RunPaths
from pricing_pipeline.extract.handoff import PRODUCTS, handoff_path
from pricing_pipeline.extract.landing import land_response
from pricing_pipeline.extract.parsing import BodyError, parse_products
from pricing_pipeline.extract.responses import RawResponse, SourceError
from pricing_pipeline.extract.sources import fetch_products
from pricing_pipeline.warehouse.connection import connect, sql_text, transaction
from pricing_pipeline.warehouse.data_tests import run_data_tests


def reconcile(con: duckdb.DuckDBPyConnection, params: RunParameters, source_products: pd.DataFrame) -> pd.DataFrame:
    """Compare the source's current products with the snapshot the run wrote; one row per check."""
    run = pd.DataFrame([{"run_id": params.run_id, "snapshot_date": params.end_date, "category": params.category}])
    with transaction(con, {"reconciliation_run": run, "source_products": source_products}):
        con.execute(sql_text("ops/reconciliation.sql"))
        run_data_tests(con, None, ["ops/reconciliation.sql"], partitions_only=True)
    return con.execute(
        "SELECT check_name, source_value, warehouse_value, detail, agrees FROM ops.reconciliation "
        "WHERE run_id = ? ORDER BY check_name",
        [params.run_id],
    ).df()


def _parsed_by_the_extract(response: RawResponse, paths: RunPaths) -> pd.DataFrame | None:
    """The ids and prices the extract parsed, when the re-read body is byte for byte the body it
    landed and parsed (data/raw/<run id>/products.json): parsing is a function of the body, so
    parsing it again would only cost time (seconds for a catalogue of a million products).
    None when the body differs or the extract's files are missing: then it is parsed.
    """
    handoff, landed = handoff_path(paths.interim, PRODUCTS), paths.raw / f"{PRODUCTS}.json"
    if not (handoff.is_file() and landed.is_file()) or landed.stat().st_size != len(response.body):
        return None
    if landed.read_bytes() != response.body:
        return None
    # Only the columns reconciliation compares: no text column is read.
    return duckdb.read_parquet(str(handoff)).project("product_id, price_usd").df()


def reconcile_with_source(params: RunParameters, data_dir: Path) -> pd.DataFrame:
    """Re-read the source's current products and check them against the run's last snapshot."""
    paths = RunPaths(data_dir, params.run_id)
    try:
        response = replace(fetch_products(params), name="products_recheck")
        landed = land_response(response, paths.raw, paths.warehouse, params.run_id)
        source_products = _parsed_by_the_extract(response, paths)
        if source_products is None:
            source_products = parse_products(response, params, landed)
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
