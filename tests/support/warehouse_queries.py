"""Reading a run's warehouse (<data_dir>/warehouse.duckdb) from a test, read-only."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pricing_pipeline.warehouse.connection import content_hash, user_tables
from pricing_pipeline.warehouse.partitions import TABLES


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def warehouse_hash(data_dir: Path) -> str:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return content_hash(con, TABLES)
    finally:
        con.close()


def full_hash(warehouse: Path) -> str:
    """The content of every table of a warehouse file, read by the test."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return content_hash(con, user_tables(con))
    finally:
        con.close()
