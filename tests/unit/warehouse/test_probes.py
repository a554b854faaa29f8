"""Probes of the warehouse file (warehouse.probes): a damaged file told from a healthy one."""

from __future__ import annotations

from pricing_pipeline.common.errors import DAMAGED
from pricing_pipeline.warehouse.probes import warehouse_problem
from tests.support.small_warehouse import damage, small_warehouse


def test_a_damaged_file_is_told_from_a_healthy_one(tmp_path):
    path = small_warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse_problem(path) is None
    assert warehouse_problem(tmp_path / "absent.duckdb") is None  # nothing to be damaged yet
    damage(path)
    cause, detail = warehouse_problem(path)
    assert cause == DAMAGED and "not a valid DuckDB database file" in detail
