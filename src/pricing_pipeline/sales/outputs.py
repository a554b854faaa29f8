"""The sales deliverables of a run: its facts and its daily figures as CSV (transform/outputs.py
writes them through temporary files), and the copy that `make run` publishes."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pricing_pipeline.common.files import copy_whole
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.sales.window import SalesWindow
from pricing_pipeline.transform.outputs import PRICE_TEXT, export_csv

AMOUNT_TEXT = PRICE_TEXT.replace("price_minor", "amount_minor")
# name: (query of the run's rows, in key order; its scope: the run's booked days or its window)
SALES_OUTPUTS = {
    "sales_lines.csv": (
        "SELECT booked_day, sale_day, cart_id, product_id, user_id, category, kind, sale_booked_day, "
        "quantity_before, quantity_after, quantity, price_usd, snapshot_date, amount_usd, amount_eur, "
        "usd_per_eur::DOUBLE AS usd_per_eur, rate_date FROM marts.sales_lines "
        "WHERE booked_day BETWEEN ? AND ? {category} ORDER BY booked_day, cart_id, product_id",
        "days",
    ),
    "sales_daily.csv": (
        "SELECT * FROM marts.sales_daily WHERE day BETWEEN ? AND ? {category} ORDER BY basis, day, category",
        "window",
    ),
    # Long and narrow, as product_prices.csv: the rest of a row is in sales_lines.csv.
    "sales_line_amounts.csv": (
        f"SELECT booked_day, cart_id, product_id, currency, {AMOUNT_TEXT} AS amount FROM marts.sales_line_amounts "
        "WHERE booked_day BETWEEN ? AND ? {category} ORDER BY booked_day, cart_id, product_id, currency",
        "days",
    ),
}


def export_sales_outputs(
    con: duckdb.DuckDBPyConnection, params: RunParameters, window: SalesWindow, output_dir: Path
) -> list[Path]:
    category = "" if params.whole_catalogue else "AND category = ?"
    extra = [] if params.whole_catalogue else [params.category]
    paths = []
    for name, (query, scope) in SALES_OUTPUTS.items():
        start = params.start_date if scope == "days" else window.start
        paths.append(
            export_csv(con, query.format(category=category), [start, params.end_date, *extra], output_dir / name)
        )
    return paths


def publish_sales_outputs(run_output: Path, target: Path) -> list[Path]:
    """Copy a run's sales CSVs to `target` (`make run`: the committed data/output/)."""
    missing = [name for name in SALES_OUTPUTS if not (run_output / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{run_output} lacks {', '.join(missing)}: the run wrote no sales outputs")
    target.mkdir(parents=True, exist_ok=True)
    return [copy_whole(run_output / name, target / name) for name in SALES_OUTPUTS]
