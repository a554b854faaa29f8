"""Small DuckDB warehouses built by the tests (a table per schema, a zoned timestamp), read and damaged.

Expected content hashes are taken from the file before it is damaged, never from a backup's own
manifest alone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from pricing_pipeline.warehouse.connection import content_hash


def small_warehouse(path: Path, rows: int = 3) -> Path:
    """A warehouse with a table per schema and a timestamp with a zone (the run log has them)."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA ops")
    con.execute("CREATE TABLE staging.t (k INTEGER PRIMARY KEY, v DECIMAL(10,2))")
    con.execute("INSERT INTO staging.t SELECT i, i * 1.25 FROM range(?) AS r(i)", [rows])
    con.execute("CREATE TABLE ops.run_log (run_id VARCHAR, ended_at TIMESTAMPTZ)")
    con.execute("INSERT INTO ops.run_log VALUES ('r', TIMESTAMPTZ '2024-02-13 06:00:00+00')")
    con.close()
    return path


def hash_of(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return content_hash(con, ("ops.run_log", "staging.t"))
    finally:
        con.close()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def damage(path: Path) -> None:
    """Overwrite the first 8 KiB: the header DuckDB checks on opening the file."""
    with open(path, "r+b") as handle:
        handle.write(b"\xab" * 8192)
