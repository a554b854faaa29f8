"""The deliverables of a Spark run: the run's rows of each table, computed by Spark, written in the
files DuckDB's runs write (transform/outputs.py), byte for byte.

Spark writes each table's rows for the run as Parquet (typed: dates, exact decimals); the project's
one writer of deliverables, export_outputs, then reads them through DuckDB views named as the
tables, so the columns, their text, the order and the whole-or-nothing writing are defined once.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.transform.outputs import export_outputs
from pricing_pipeline.warehouse.connection import quoted_path
from pricing_pipeline.warehouse.partitions import TABLES, run_scope


@contextmanager
def run_tables(spark, params: RunParameters, scratch_parent: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection whose staging.* and marts.* views hold the run's rows of the Spark tables
    (partitions.run_scope), written by Spark as Parquet into a scratch folder removed afterwards."""
    scratch_parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="run-rows-", dir=scratch_parent))
    con = duckdb.connect()
    try:
        for table in TABLES:
            where, args = run_scope(table, params)
            folder = scratch / table
            spark.sql(f"SELECT * FROM {table} WHERE {where}", args=args).write.mode("overwrite").parquet(str(folder))
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{quoted_path(folder)}/*.parquet')")
        yield con
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


def export_outputs_spark(spark, params: RunParameters, output_dir: Path, scratch_parent: Path) -> list[Path]:
    """export_outputs for a Spark run: the same files, from the Spark tables' rows."""
    with run_tables(spark, params, scratch_parent) as con:
        return export_outputs(con, params, output_dir)
