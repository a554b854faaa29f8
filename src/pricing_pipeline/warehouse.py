"""The embedded DuckDB warehouse that stands in for BigQuery: raw, staging and marts in one file.

Every load of a run happens in one transaction: staging and marts are merged for the run's days,
the data tests run, and only then is it committed. A failure anywhere rolls it all back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from .parameters import RunParameters
from .paths import SQL_DIR
from .sources import RawResponse, land_raw

SCHEMAS = ("raw", "staging", "marts", "ops")
# The order of the load: each model reads the ones before it.
MODELS = (
    "staging/exchange_rates.sql",
    "staging/product_snapshots.sql",
    "marts/products_eur.sql",
    "marts/top_products_daily.sql",
)
TABLES = ("staging.exchange_rates", "staging.product_snapshots", "marts.products_eur", "marts.top_products_daily")


class DataTestError(RuntimeError):
    """A data test returned rows: the load is rolled back and the message lists them."""


def sql_text(relative_path: str) -> str:
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise RuntimeError(
                f"the warehouse {path.name} is in use by another run; wait for it to finish ({error})"
            ) from error
        raise
    try:
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        yield con
    finally:
        con.close()


def land_raw_response(con: duckdb.DuckDBPyConnection, response: RawResponse, run_id: str) -> None:
    """Append a body to raw.responses, in its own transaction: it is kept even if the run fails."""
    incoming = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "name": response.name,
                "origin": response.origin,
                "request": response.request,
                "status": response.status,
                "attempts": response.attempts,
                "fetched_at": response.fetched_at,
                "landed_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                "body_sha256": hashlib.sha256(response.body).hexdigest(),
                "body": response.body,
            }
        ]
    )
    with transaction(con, {"incoming_response": incoming}):
        con.execute(sql_text("raw/responses.sql"))


def run_data_tests(con: duckdb.DuckDBPyConnection, folder: Path = SQL_DIR / "tests") -> dict[str, int]:
    """Run every query of a data-test folder; returns failing-row counts and raises if any is not zero."""
    failures: dict[str, int] = {}
    shown: list[str] = []
    for test in sorted(folder.glob("*.sql")):
        rows = con.execute(test.read_text(encoding="utf-8")).fetchall()
        failures[test.stem] = len(rows)
        if rows:
            shown.append(f"{test.stem}: {len(rows)} failing row(s), e.g. {rows[:3]}")
    if shown:
        raise DataTestError("data tests failed, nothing was loaded:\n  " + "\n  ".join(shown))
    return failures


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, inputs: dict[str, pd.DataFrame]) -> Iterator[None]:
    """Expose the frames as views to one transaction: committed if the block ends, rolled back if it raises."""
    for name, frame in inputs.items():
        con.register(name, frame)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        for name in inputs:
            con.unregister(name)


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
    }
    with transaction(con, inputs):
        for model in MODELS:
            con.execute(sql_text(model))
        run_data_tests(con)
        written = rows_for_days(con, params)
    return written


# The order a run's rows are read and written in: each table's key.
RUN_ORDER = {
    "staging.exchange_rates": "rate_date, currency",
    "staging.product_snapshots": "snapshot_date, product_id",
    "marts.products_eur": "day, product_id",
    "marts.top_products_daily": "day, rank",
}


def run_scope(table: str, params: RunParameters) -> tuple[str, list]:
    """The WHERE clause, with its arguments, of a table's rows that belong to a run.

    Rates: the run's rates window (it may start before the first day). Everything else: the run's
    days and category.
    """
    if table == "staging.exchange_rates":
        return "rate_date BETWEEN ? AND ?", [params.rates_start_date, params.end_date]
    day = "snapshot_date" if table == "staging.product_snapshots" else "day"
    return f"{day} BETWEEN ? AND ? AND category = ?", [params.start_date, params.end_date, params.category]


def rows_for_days(con: duckdb.DuckDBPyConnection, params: RunParameters) -> dict[str, int]:
    """Rows each table holds for the run (its days and category; its rates window)."""
    counts = {}
    for table in TABLES:
        where, args = run_scope(table, params)
        counts[table] = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", args).fetchone()[0]
    return counts


def run_frame(con: duckdb.DuckDBPyConnection, table: str, params: RunParameters) -> pd.DataFrame:
    """A table's rows for the run, in key order. marts.products_eur's is the case's DataFrame:
    every product on every day of the run, its USD and EUR prices and the rate used."""
    where, args = run_scope(table, params)
    return con.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {RUN_ORDER[table]}", args).df()


def content_hash(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = TABLES) -> str:
    """A digest of the content of the tables, independent of row order and of the file's layout."""
    digest = hashlib.sha256()
    for table in tables:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema || '.' || table_name = ?",
            [table],
        ).fetchone()[0]
        rows = (
            con.execute(f"SELECT md5(string_agg(h, '' ORDER BY h)) FROM (SELECT md5(t::VARCHAR) AS h FROM {table} AS t)")
            .fetchone()[0]
            if exists
            else None
        )
        digest.update(f"{table}={rows}\n".encode())
    return digest.hexdigest()


def export_csv(con: duckdb.DuckDBPyConnection, query: str, params: list, path: Path) -> Path:
    """Write a query's result as CSV through a temporary file, so a reader never sees half a file.

    DuckDB writes the values itself: decimals keep their scale (9.10, not 9.1).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    con.execute(f"CREATE OR REPLACE TEMP TABLE export AS {query}", params)
    con.execute(f"COPY export TO '{_quoted(partial)}' (HEADER, DELIMITER ',')")
    con.execute("DROP TABLE export")
    partial.replace(path)
    return path


def land_response(response: RawResponse, raw_dir: Path, warehouse: Path, run_id: str) -> Path:
    """Keep a body before anything parses it: as a file under data/raw and as a raw.responses row."""
    body_path = land_raw(response, raw_dir)
    with connect(warehouse) as con:
        land_raw_response(con, response, run_id)
    return body_path


def write_interim(frame: pd.DataFrame, path: Path) -> Path:
    """Hand a tidy frame to the next notebook as Parquet (types kept), written through a temp file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    duckdb.from_df(frame).write_parquet(str(partial))
    partial.replace(path)
    return path


def read_interim(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run notebooks/01_extract.ipynb with the same run_id first")
    return duckdb.read_parquet(str(path)).df()


# The deliverables of a run, in data/output/: a table's rows for the run, in key order.
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
}


def export_outputs(con: duckdb.DuckDBPyConnection, params: RunParameters, output_dir: Path) -> list[Path]:
    paths = []
    for name, (table, columns) in OUTPUTS.items():
        where, args = run_scope(table, params)
        query = f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {RUN_ORDER[table]}"
        paths.append(export_csv(con, query, args, output_dir / name))
    return paths


def reconcile(con: duckdb.DuckDBPyConnection, params: RunParameters, source_products: pd.DataFrame) -> pd.DataFrame:
    """Compare the source's current products with the snapshot the run wrote; one row per check."""
    run = pd.DataFrame([{"run_id": params.run_id, "snapshot_date": params.end_date, "category": params.category}])
    with transaction(con, {"reconciliation_run": run, "source_products": source_products}):
        con.execute(sql_text("ops/reconciliation.sql"))
    return con.execute(
        "SELECT check_name, source_value, warehouse_value, detail, agrees FROM ops.reconciliation "
        "WHERE run_id = ? ORDER BY check_name",
        [params.run_id],
    ).df()


def export_backup(warehouse: Path, backup_root: Path, run_id: str, keep: int = 7) -> Path:
    """Copy the whole warehouse as Parquet (EXPORT DATABASE) to backup_root/<run_id>/.

    The export goes to a temporary folder renamed when complete, so a backup folder is always
    whole; only the newest `keep` backups are kept.
    """
    backup_root.mkdir(parents=True, exist_ok=True)
    target = backup_root / run_id
    partial = backup_root / f".{run_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    with connect(warehouse) as con:
        con.execute(f"EXPORT DATABASE '{_quoted(partial)}' (FORMAT parquet)")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    backups = sorted((p for p in backup_root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime)
    for old in backups[:-keep]:
        shutil.rmtree(old)
    return target


def restore_backup(backup: Path, warehouse: Path) -> Path:
    """Rebuild a warehouse file from a backup folder (IMPORT DATABASE); the file must not exist."""
    if warehouse.exists():
        raise FileExistsError(f"{warehouse} exists; restore into a new file, then swap it in")
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"IMPORT DATABASE '{_quoted(backup)}'")
    finally:
        con.close()
    return warehouse


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
