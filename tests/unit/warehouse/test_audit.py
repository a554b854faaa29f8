"""The weekly audit (warehouse/audit.py) over a warehouse holding sales: the sales' singular tests
run over the whole tables too, and a sales fault made outside any load is caught and named."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from pricing_pipeline.sales.load import SALES_TESTS
from pricing_pipeline.warehouse.audit import audit_warehouse
from tests.support.sales_warehouse import Warehouse, recorded_carts

SALES_SINGULAR = {path.stem for path in SALES_TESTS.glob("*.sql")}


@pytest.fixture(scope="module")
def sales_warehouse(tmp_path_factory):
    """The recorded carts booked over their range, then a later run that sees a return (cart 3: 2
    units of product 1 down to 1), so that the facts hold more than sales."""
    warehouse = Warehouse(tmp_path_factory.mktemp("audit") / "warehouse.duckdb")
    warehouse.sales("2020-01-01", "2020-03-02", recorded_carts())
    carts = recorded_carts()
    for cart in carts:
        if cart["id"] == 3:
            cart["products"][0]["quantity"] = 1
    warehouse.sales("2020-03-03", "2020-03-03", carts)
    return warehouse.path


def test_the_audit_runs_the_sales_tests_over_the_whole_warehouse(sales_warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(sales_warehouse, copy)
    results = {result.name: result.failing_rows for result in audit_warehouse(copy)}
    assert {
        "marts_sales_daily_non_negative",
        "marts_sales_lines_priced_in_force",
        "marts_sales_lines_return_within_sale",
    } == SALES_SINGULAR
    assert set(results) >= SALES_SINGULAR
    assert {"marts_sales_lines_unique", "marts_sales_daily_not_null", "marts_products_eur_unique"} <= set(results)
    assert set(results.values()) == {0}


# Faults a load's tests cannot see: sales rows changed outside the pipeline after their day was booked.
FAULTS = {
    "a sale repriced": (
        "UPDATE marts.sales_lines SET price_usd = price_usd + 1 WHERE cart_id = 4",
        {"marts_sales_lines_priced_in_force"},
    ),
    "a return of more than the line held": (
        "UPDATE marts.sales_lines SET quantity_after = -1, quantity = -3 WHERE cart_id = 3 AND kind = 'return'",
        {"marts_sales_lines_return_within_sale"},
    ),
    "a day's EUR figures off the facts'": (
        "UPDATE marts.sales_daily SET gross_eur = gross_eur + 1, net_eur = net_eur + 1 "
        "WHERE basis = 'restated' AND day = '2020-01-01'",
        {"marts_sales_daily_non_negative"},
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_sales_fault_outside_any_load_fails_the_audit_naming_its_test(fault, sales_warehouse, tmp_path):
    statement, expected = FAULTS[fault]
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(sales_warehouse, copy)
    con = duckdb.connect(str(copy))
    assert con.execute(statement).fetchone()[0] >= 1  # rows changed
    con.close()
    failed = {result.name for result in audit_warehouse(copy) if result.failing_rows}
    assert expected <= failed, failed
