"""The sales deliverables of a run: its facts and its daily figures, as CSV or Parquet like the
products' (transform/outputs.py writes them whole), and the copy that `make run` publishes."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.sales.window import SalesWindow
from pricing_pipeline.transform.outputs import PRICE_TEXT, export_csv, export_parquet, in_format, publish_files

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


# The same deliverables as Parquet: the columns as the warehouse types them; the amounts in every
# currency as amount_minor and minor_unit, the integers the view computes.
PARQUET_COLUMNS = {
    "sales_lines.csv": ("usd_per_eur::DOUBLE AS usd_per_eur", "usd_per_eur"),
    "sales_daily.csv": None,
    "sales_line_amounts.csv": (f"{AMOUNT_TEXT} AS amount", "amount_minor, minor_unit"),
}
UNORDERED_PARQUET = "sales_line_amounts.csv"


def export_sales_outputs(
    con: duckdb.DuckDBPyConnection, params: RunParameters, window: SalesWindow, output_dir: Path
) -> list[Path]:
    """Write the run's sales deliverables in its output format (params.output_format) into
    output_dir, each whole or not at all; returns their paths, in SALES_OUTPUTS' order."""
    category = "" if params.whole_catalogue else "AND category = ?"
    extra = [] if params.whole_catalogue else [params.category]
    parquet = params.output_format == "parquet"
    paths = []
    for (name, (query, scope)), file_name in zip(
        SALES_OUTPUTS.items(), in_format(SALES_OUTPUTS, params.output_format), strict=True
    ):
        if parquet and PARQUET_COLUMNS[name]:
            query = query.replace(*PARQUET_COLUMNS[name])
        if parquet and name == UNORDERED_PARQUET:
            # As the products' prices: Parquet readers take no meaning from row order, and sorting a
            # day of a million lines' 31 M amounts cost four times computing and writing them.
            query = query.split(" ORDER BY ")[0]
        start = params.start_date if scope == "days" else window.start
        export = export_parquet if parquet else export_csv
        paths.append(
            export(con, query.format(category=category), [start, params.end_date, *extra], output_dir / file_name)
        )
    return paths


def publish_sales_outputs(run_output: Path, target: Path) -> list[Path]:
    """Copy a run's sales deliverables, in the format it wrote, to `target` (`make run`: the
    committed data/output/)."""
    return publish_files(run_output, target, SALES_OUTPUTS, "the run wrote no sales outputs")
