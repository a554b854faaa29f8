"""The weekly audit: every data test over the whole tables, not a load's partitions.

A load tests only what it wrote (its partitions), so that a day costs what a day costs. What a
load cannot see is checked here, at the cost of the history: a row changed outside the pipeline, a
restore that brought back something else, a rule added since a day was loaded. The tests are the
same queries (sql/tests/, sql/tests/sales/ and the declarations beside each model), run over every
row, over the views of a load's scope (sql/tests/audit/) widened to the whole warehouse; the
warehouse is opened read-only under the data folder's lock, so it never changes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pricing_pipeline.common.errors import RunFailed
from pricing_pipeline.common.lock import exclusive_run
from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.sales.load import SALES_TESTS
from pricing_pipeline.warehouse.connection import duckdb_config, sql_text
from pricing_pipeline.warehouse.data_tests import collect

# The model files whose generic tests the audit runs: the warehouse's own (BigQuery's statements
# are not tables of this warehouse).
MODEL_FOLDERS = ("raw", "staging", "marts", "ops")
# The relations the sales' singular tests (SALES_TESTS, which a sales load runs and a products load
# does not) read: a warehouse of runs with --no-sales holds none of them, and its audit leaves them out.
SALES_RELATIONS = ("staging.cart_lines", "marts.sales_lines", "marts.sales_daily", "marts.sales_line_amounts")


@dataclass(frozen=True)
class TestResult:
    name: str
    failing_rows: int
    seconds: float
    examples: list[tuple]


def present_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table and view of the warehouse, as schema.name."""
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = current_database()"
        ).fetchall()
    }


def audit_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The model files declared beside their SQL whose relation the warehouse holds (ops.backups
    exists only after a first backup)."""
    present = present_relations(con)
    models = []
    for folder in MODEL_FOLDERS:
        for declaration in sorted((SQL_DIR / folder).glob("*.yml")):
            if f"{folder}.{declaration.stem}" in present:
                models.append(f"{folder}/{declaration.stem}.sql")
    return models


def audit_warehouse(warehouse: Path) -> list[TestResult]:
    """Run every data test over the whole tables; each test's failing rows (up to 3 shown) and time."""
    if not warehouse.is_file():
        raise RunFailed(f"there is no warehouse to audit at {warehouse}")
    with exclusive_run(warehouse.parent, action="audit"):
        con = duckdb.connect(str(warehouse), read_only=True, config=duckdb_config())
        try:
            con.execute(sql_text("tests/audit/whole_warehouse.sql"))
            tests = collect(SQL_DIR / "tests", audit_models(con))
            if set(SALES_RELATIONS) <= present_relations(con):
                con.execute(sql_text("tests/audit/sales.sql"))
                tests += collect(SALES_TESTS)
            results = []
            for test in tests:
                started = time.perf_counter()
                rows = con.execute(test.sql).fetchall()
                results.append(TestResult(test.name, len(rows), time.perf_counter() - started, rows[:3]))
        finally:
            con.close()
    return results
