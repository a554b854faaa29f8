"""The deliverables of a run: its rows of each table as CSV (the default) or Parquet, written so a
reader never sees half a file.

CSV is the case's format (data/output/ holds it, byte for byte). Parquet carries the types: dates,
exact decimals (DECIMAL(10,2) prices, DECIMAL(18,6) rates) and the prices in every currency as
integer minor units with their unit (5290 with minor_unit 2 is 52.90), never text; at a million
products it is the format to take (30 M prices: 0.9 GB of CSV, a tenth of it as Parquet).

A run writes them into its own folder (RunPaths.output, data/runs/<run id>/output/), never into
the committed data/output/; `make run` publishes the case run's copy there (publish_outputs).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pricing_pipeline.common.files import copy_whole, written_whole
from pricing_pipeline.common.parameters import OUTPUT_FORMATS, RunParameters
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


# The same deliverables as Parquet: the columns as the warehouse types them; the prices in every
# currency as price_minor and minor_unit, the integers the view computes.
PARQUET_COLUMNS = {
    "exchange_rates.csv": "rate_date, base, currency, rate",
    "products_eur.csv": OUTPUTS["products_eur.csv"][1].replace("usd_per_eur::DOUBLE AS usd_per_eur", "usd_per_eur"),
    "top_products_daily.csv": OUTPUTS["top_products_daily.csv"][1],
    "product_prices.csv": "day, product_id, currency, price_minor, minor_unit",
}
UNORDERED_PARQUET = "product_prices.csv"


def in_format(names, output_format: str = "csv") -> list[str]:
    """Deliverables' file names (exchange_rates.csv, ...) in a format: exchange_rates.parquet."""
    return [name.removesuffix(".csv") + "." + output_format for name in names]


def output_names(output_format: str = "csv") -> list[str]:
    """The deliverables' file names in a format: exchange_rates.csv, or exchange_rates.parquet."""
    return in_format(OUTPUTS, output_format)


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


def export_parquet(con: duckdb.DuckDBPyConnection, query: str, params: list, path: Path) -> Path:
    """Write a query's result as one Parquet file, whole or not at all (like export_csv)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(path) as partial:
        con.execute(f"COPY ({query}) TO '{quoted_path(partial)}' (FORMAT parquet, COMPRESSION zstd)", params)
    return path


def export_outputs(con: duckdb.DuckDBPyConnection, params: RunParameters, output_dir: Path) -> list[Path]:
    """Write the run's deliverables, those of OUTPUTS (exchange_rates, products_eur, ...) in the run's
    output format (params.output_format: .csv or .parquet), from the warehouse's rows for the run's
    days into output_dir (data/runs/<run id>/output/), each whole or not at all; returns their paths,
    in OUTPUTS' order."""
    output_format = params.output_format
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format={output_format!r} is unknown; accepted: {', '.join(OUTPUT_FORMATS)}")
    paths = []
    for (name, (table, columns)), file_name in zip(OUTPUTS.items(), output_names(output_format), strict=True):
        if output_format == "parquet":
            columns = PARQUET_COLUMNS[name]
        where, args = run_scope(table, params)
        query = f"SELECT {columns} FROM {table} WHERE {where}"
        # Parquet readers take no meaning from row order: the 31 prices per product-day are written
        # as computed (sorting 30 M rows cost more than computing and writing them); every other
        # deliverable, and every CSV, in key order.
        if output_format == "csv" or name != UNORDERED_PARQUET:
            query += f" ORDER BY {RUN_ORDER[table]}"
        export = export_parquet if output_format == "parquet" else export_csv
        paths.append(export(con, query, args, output_dir / file_name))
    return paths


def publish_files(run_output: Path, target: Path, names, missing_means: str) -> list[Path]:
    """Copy deliverables (names as in OUTPUTS, .csv) to `target`, in the format the run wrote them:
    Parquet when every one is there as Parquet, else CSV; each through a temporary file so that a
    reader, or git, never sees half a file."""
    chosen = in_format(names, "parquet")
    if not all((run_output / name).is_file() for name in chosen):
        chosen = in_format(names, "csv")
    missing = [name for name in chosen if not (run_output / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{run_output} lacks {', '.join(missing)}: {missing_means}")
    target.mkdir(parents=True, exist_ok=True)
    return [copy_whole(run_output / name, target / name) for name in chosen]


def publish_outputs(run_output: Path, target: Path) -> list[Path]:
    """Copy a run's deliverables to `target` (`make run`: the committed data/output/)."""
    return publish_files(run_output, target, OUTPUTS, "the run wrote no complete outputs")
