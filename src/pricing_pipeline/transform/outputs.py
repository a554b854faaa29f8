"""The deliverables of a run: its rows of each table as CSV, written so a reader never sees half a file.

A run writes them into its own folder (RunPaths.output, data/runs/<run id>/output/), never into
the committed data/output/; `make run` publishes the case run's copy there (publish_outputs).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pricing_pipeline.common.files import copy_whole, written_whole
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.warehouse.connection import quoted_path
from pricing_pipeline.warehouse.partitions import RUN_ORDER, run_scope

# A price in minor units written with exactly its currency's decimals (5290 cents: 52.90; 5290 yen:
# 5290): the integer times 10^-minor_unit as a DECIMAL of that scale, which DuckDB multiplies exactly
# and writes with all its decimals. ISO 4217 minor units are 0 to 4; any other stops the export.
_SCALED = " ".join(
    f"WHEN {unit} THEN CAST(price_minor * CAST({1 / 10**unit:.{unit}f} AS DECIMAL({unit + 1}, {unit})) AS VARCHAR)"
    for unit in range(1, 5)
)
PRICE_TEXT = (
    f"CASE minor_unit WHEN 0 THEN CAST(price_minor AS VARCHAR) {_SCALED} "
    "ELSE error('no price text for a minor unit of ' || minor_unit) END"
)

# A deliverable: a table's rows for the run, in key order, with these columns.
# Rates are written as DOUBLE so that they read as the ECB publishes them (1.0773, not 1.077300).
OUTPUTS = {
    "exchange_rates.csv": ("staging.exchange_rates", "rate_date, base, currency, rate::DOUBLE AS rate"),
    "products_eur.csv": (
        "marts.products_eur",
        "day, product_id, title, category, price_usd, price_eur, usd_per_eur::DOUBLE AS usd_per_eur, "
        "rate_date, rating_rate, rating_count",
    ),
    "top_products_daily.csv": (
        "marts.top_products_daily",
        "day, rank, product_id, title, category, rating_rate, rating_count, price_usd, price_eur, rate_date",
    ),
    # Long and narrow: 31 rows per product and day (30 M for a million products). The rest of a row
    # is in products_eur.csv by (day, product_id): price_usd, usd_per_eur, rate_date; and in
    # exchange_rates.csv by (rate_date, currency): the rate (EUR's is 1).
    "product_prices.csv": ("marts.product_prices", f"day, product_id, currency, {PRICE_TEXT} AS price"),
}


def export_csv(con: duckdb.DuckDBPyConnection, query: str, params: list, path: Path) -> Path:
    """Write a query's result as CSV through a temporary file, so a reader never sees half a file;
    a failed write (a full disk) leaves no temporary file behind.

    DuckDB writes the values itself: decimals keep their scale (9.10, not 9.1).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(path) as partial:
        # Straight from the query: a copy of the rows first would hold a long backfill's every price
        # in memory.
        con.execute(f"COPY ({query}) TO '{quoted_path(partial)}' (HEADER, DELIMITER ',')", params)
    return path


def export_outputs(con: duckdb.DuckDBPyConnection, params: RunParameters, output_dir: Path) -> list[Path]:
    """Write the run's deliverables, the CSVs of OUTPUTS (exchange_rates.csv, products_eur.csv, ...),
    from the warehouse's rows for the run's days into output_dir (data/runs/<run id>/output/), each
    whole or not at all; returns their paths, in OUTPUTS' order."""
    paths = []
    for name, (table, columns) in OUTPUTS.items():
        where, args = run_scope(table, params)
        query = f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {RUN_ORDER[table]}"
        paths.append(export_csv(con, query, args, output_dir / name))
    return paths


def publish_outputs(run_output: Path, target: Path) -> list[Path]:
    """Copy a run's deliverables to `target` (`make run`: the committed data/output/), each through a
    temporary file so that a reader, or git, never sees half a file."""
    missing = [name for name in OUTPUTS if not (run_output / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{run_output} lacks {', '.join(missing)}: the run wrote no complete outputs")
    target.mkdir(parents=True, exist_ok=True)
    published = []
    for name in OUTPUTS:
        published.append(copy_whole(run_output / name, target / name))
    return published
