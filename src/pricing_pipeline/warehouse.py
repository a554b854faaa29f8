"""The embedded DuckDB warehouse that stands in for BigQuery: connections, transactions, SQL files
and a content digest (data tests: data_tests.py). What each step writes lives in the step's own module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from .paths import SQL_DIR

SCHEMAS = ("raw", "staging", "marts", "ops")


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


def content_hash(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> str:
    """A digest of the content of the tables, independent of row order and of the file's layout."""
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


def quoted_path(path: Path) -> str:
    """A path inside a SQL string literal."""
    return str(path).replace("'", "''")
