"""The embedded DuckDB warehouse that stands in for BigQuery: connections, transactions, SQL files
and a content digest (data tests: data_tests.py). What each step writes lives in the step's own module.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from pricing_pipeline.common import settings
from pricing_pipeline.common.paths import SQL_DIR

SCHEMAS = ("raw", "staging", "marts", "ops")


def sql_text(relative_path: str) -> str:
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")


# The macros the models call (sql/macros/), and the models that call them.
MACROS = ("macros/minor_units.sql",)
MACRO_CALLERS = ("marts/product_prices.sql", "marts/sales_line_amounts.sql")


def execute_models(con: duckdb.DuckDBPyConnection, models: tuple[str, ...]) -> None:
    """Execute the model files in order, the macros made again just before the first model that
    calls them: a table macro is checked against the tables it reads when it is created, so it
    comes after the models creating them. The macros are stored in the warehouse file, like the
    views calling them, so a view read later from any connection finds them; each load makes them
    again, in its transaction, so a warehouse of an earlier version has them before its views change."""
    macros_made = False
    for model in models:
        if model in MACRO_CALLERS and not macros_made:
            for macros in MACROS:
                con.execute(sql_text(macros))
            macros_made = True
        con.execute(sql_text(model))


def duckdb_config() -> dict[str, str]:
    """The settings of every connection that writes the warehouse (PIPELINE_DUCKDB_MEMORY_GB)."""
    return {"memory_limit": f"{settings.number(settings.DUCKDB_MEMORY_GB) * 1024:.0f}MiB"}


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse file at path (created with its schemas if new), closed when the
    `with` block ends. A file another process holds raises RuntimeError saying so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), config=duckdb_config())
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


@contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, inputs: dict[str, pd.DataFrame | duckdb.DuckDBPyRelation]
) -> Iterator[None]:
    """Expose the frames (or relations of `con`) as views to one transaction: committed if the block
    ends, rolled back if it raises."""
    for name, frame in inputs.items():
        con.register(name, frame)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            con.execute("COMMIT")
        except BaseException:
            # A COMMIT that failed (a full disk) has already ended the transaction: ROLLBACK then
            # fails too, and must not take the first error's place.
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
    finally:
        for name in inputs:
            con.unregister(name)


def user_tables(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Every table of the warehouse's schemas, as schema.table, in name order."""
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' AND table_catalog = current_database() ORDER BY 1"
    ).fetchall()
    return tuple(name for (name,) in rows)


def content_hash(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> str:
    """A digest of the content of the tables, independent of row order, of the file's layout and of
    the session's time zone (timestamps with a zone are read as text).

    Takes a connection and the tables' qualified names (e.g. user_tables(con)); returns a SHA-256
    hex digest, equal for two warehouses whose tables hold the same rows.
    """
    zone = con.execute("SELECT current_setting('TimeZone')").fetchone()[0]
    con.execute("SET TimeZone = 'UTC'")
    try:
        digest = hashlib.sha256()
        for table in tables:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema || '.' || table_name = ?",
                [table],
            ).fetchone()[0]
            rows = (
                con.execute(
                    f"SELECT md5(string_agg(h, '' ORDER BY h)) FROM (SELECT md5(t::VARCHAR) AS h FROM {table} AS t)"
                ).fetchone()[0]
                if exists
                else None
            )
            digest.update(f"{table}={rows}\n".encode())
        return digest.hexdigest()
    finally:
        con.execute(f"SET TimeZone = '{zone}'")


def quoted_path(path: Path) -> str:
    """A path inside a SQL string literal."""
    return str(path).replace("'", "''")
