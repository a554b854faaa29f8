"""The reconcile step: after the load, re-read the source and compare it with the snapshot written.

The body is landed like any other (as products_recheck), then parsed by the same code, unless it
is byte for byte the body the extract parsed: then the extract's result is compared (and the landed
file is a hard link to the extract's, landing.py). Any
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
from pricing_pipeline.extract.responses import SourceError
from pricing_pipeline.extract.sources import fetch_products
from pricing_pipeline.warehouse.connection import connect, sql_text, transaction
from pricing_pipeline.warehouse.data_tests import run_data_tests

RECHECK = "products_recheck"  # the re-read body's name in raw.responses


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


def _parsed_by_the_extract(params: RunParameters, paths: RunPaths) -> pd.DataFrame | None:
    """The ids and prices the extract parsed, when the re-read body has the SHA-256 of the body it
    landed and parsed (both recorded in raw.responses): parsing is a function of the body, so
    parsing it again would only cost time (seconds for a catalogue of a million products), and the
    digests are compared instead of the bodies (which would hold a second copy in memory).
    None when the body differs or the extract's hand-off is missing: then it is parsed.
    """
    handoff = handoff_path(paths.interim, PRODUCTS)
    if not handoff.is_file():
        return None
    with connect(paths.warehouse) as con:
        digests = con.execute(
            # The latest of each: a run id used again lands its bodies again.
            "SELECT name, arg_max(body_sha256, landed_at) FROM raw.responses WHERE run_id = ? AND name IN (?, ?) "
            "GROUP BY name",
            [params.run_id, PRODUCTS, RECHECK],
        ).fetchall()
    found = dict(digests)
    if len(digests) != 2 or found[PRODUCTS] != found[RECHECK]:
        return None
    # Only the columns reconciliation compares: no text column is read.
    return duckdb.read_parquet(str(handoff)).project("product_id, price_usd").df()


def reconcile_with_source(params: RunParameters, data_dir: Path) -> pd.DataFrame:
    """Re-read the source's current products and check them against the run's last snapshot."""
    paths = RunPaths(data_dir, params.run_id)
    try:
        response = replace(fetch_products(params), name=RECHECK)
        landed = land_response(response, paths.raw, paths.warehouse, params.run_id)
        source_products = _parsed_by_the_extract(params, paths)
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
