"""The macros of sql/macros/ that marts.product_prices and marts.sales_line_amounts call: stored in
the warehouse file, so that the views work from any later connection (read-only, as the audit
opens it) and after a restore from a full backup, which EXPORT DATABASE and IMPORT DATABASE carry."""

from __future__ import annotations

import duckdb
import pytest

from pricing_pipeline.ops.backups import export_backup, restore_backup
from tests.support.sales_warehouse import Warehouse, recorded_carts

VIEWS = {
    "marts.product_prices": "day, product_id, currency",
    "marts.sales_line_amounts": "booked_day, cart_id, product_id, currency",
}
MACROS = {"publication_rates", "minor_units_half_up"}


def view_rows(path, read_only: bool = True) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        return {view: con.execute(f"SELECT * FROM {view} ORDER BY {key}").fetchall() for view, key in VIEWS.items()}
    finally:
        con.close()


def macros_in(path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT function_name FROM duckdb_functions() WHERE schema_name = 'marts' AND NOT internal"
        ).fetchall()
    finally:
        con.close()
    return {name for (name,) in rows}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    warehouse = Warehouse(tmp_path_factory.mktemp("macros") / "warehouse.duckdb")
    warehouse.sales("2020-01-01", "2020-03-02", recorded_carts())
    return warehouse


def test_the_views_call_the_macros_stored_in_the_warehouse_from_a_fresh_connection(warehouse):
    assert macros_in(warehouse.path) == MACROS
    rows = view_rows(warehouse.path)
    assert len(rows["marts.sales_line_amounts"]) > 14 and len(rows["marts.product_prices"]) > 20 * 60
    assert rows == view_rows(warehouse.path, read_only=False)


def test_a_restore_from_a_full_backup_brings_the_macros_back_with_the_views(warehouse, tmp_path):
    backup = export_backup(warehouse.path, tmp_path / "backups", "first")
    restored = restore_backup(backup, tmp_path / "restored.duckdb")
    assert macros_in(restored) == MACROS
    assert view_rows(restored) == view_rows(warehouse.path)
