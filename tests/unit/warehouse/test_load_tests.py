"""The tests a load leaves to the weekly audit (`-- Audit-only:` and `audit_only:`), and the cheaper
tests that catch the same faults in the load: each fault is injected into a copy of the case's
warehouse, and both the audit's test and the load's set of tests must reject it."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.transform.load import MODELS, load_views
from pricing_pipeline.warehouse.connection import connect
from pricing_pipeline.warehouse.data_tests import DataTestError, collect, run_data_tests
from tests.support.case_data import case_inputs, load_case

LEFT_TO_THE_AUDIT = {
    "marts_product_versions_unique",  # the history's versions follow from the snapshots' key
    "marts_product_versions_not_null",  # and from their NOT NULL columns
    "marts_product_versions_windows_chain",
    "marts_product_prices_unique",
    "marts_product_prices_accepted_currencies",
    "marts_product_prices_priced_with_publication_in_force",
}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    path = tmp_path_factory.mktemp("load_tests") / "warehouse.duckdb"
    with connect(path) as con:
        params, _ = load_case(con)
        _, rates, products = case_inputs()
        views = load_views(con, params, rates, products)
    return path, views


def names(in_load: bool) -> set[str]:
    return {test.name for test in collect(SQL_DIR / "tests", MODELS, partitions_only=True, in_load=in_load)}


def test_a_load_leaves_out_only_the_tests_the_audit_keeps():
    assert names(in_load=False) - names(in_load=True) == LEFT_TO_THE_AUDIT
    assert "marts_product_prices_inputs_price_each_currency_once" in names(in_load=True)
    assert "marts_product_prices_not_null" in names(in_load=True)  # the view's other generic tests stay


def without_key(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The table without its primary key, as BigQuery would have it, so that a duplicate can be inserted."""
    con.execute(f"CREATE TABLE {table}_copy AS SELECT * FROM {table}")
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE {table}_copy RENAME TO {table.split('.')[1]}")


# Each fault the audit's tests catch on the view, made in its inputs (the view has no rows of its
# own): (statements, the audit's tests that catch it, the load's tests that catch it).
FAULTS = {
    "an EUR rate among the rates prices EUR twice": (
        ["INSERT INTO staging.exchange_rates VALUES ('2024-02-12', 'EUR', 'EUR', 1.0)"],
        {"marts_product_prices_unique"},
        {"marts_product_prices_inputs_price_each_currency_once"},
    ),
    "a product twice in a day's snapshot opens two versions on one day": (
        [
            "INSERT INTO staging.product_snapshots SELECT * FROM staging.product_snapshots "
            "WHERE snapshot_date = '2024-02-13' AND product_id = 18"
        ],
        {"marts_product_versions_windows_chain"},
        {"staging_product_snapshots_unique"},
    ),
    "a snapshot without a title gives a version without one": (
        [
            "without_key staging.product_snapshots",
            "UPDATE staging.product_snapshots SET title = NULL WHERE product_id = 19",
        ],
        {"marts_product_versions_not_null"},
        {"staging_product_snapshots_not_null"},
    ),
    "a currency of the rates without a minor unit goes unpriced": (
        ["DELETE FROM staging.currency_minor_units WHERE currency = 'JPY'"],
        {"marts_product_prices_priced_with_publication_in_force"},
        {"marts_product_prices_inputs_price_each_currency_once"},
    ),
    "a second minor unit of a currency prices it twice": (
        [
            "without_key staging.currency_minor_units",
            "INSERT INTO staging.currency_minor_units SELECT * FROM staging.currency_minor_units WHERE currency = 'GBP'",
        ],
        {"marts_product_prices_unique"},
        {"marts_product_prices_inputs_price_each_currency_once", "staging_currency_minor_units_unique"},
    ),
    "a negative rate gives negative prices": (
        ["UPDATE staging.exchange_rates SET rate = -rate WHERE rate_date = '2024-02-13' AND currency = 'GBP'"],
        {"marts_product_prices_accepted_currencies"},
        {"staging_exchange_rates_positive"},
    ),
    "a product-day priced with a publication that is not the one in force": (
        [
            "UPDATE marts.products_eur SET rate_date = '2024-02-12', usd_per_eur = "
            "(SELECT rate FROM staging.exchange_rates WHERE rate_date = '2024-02-12' AND currency = 'USD') "
            "WHERE day = '2024-02-13' AND product_id = 18"
        ],
        {"marts_product_prices_priced_with_publication_in_force"},
        {"marts_products_eur_priced_with_rate_in_force"},
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_the_audit_catches_is_caught_by_the_load_too(fault, case, tmp_path):
    path, views = case
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    statements, caught_by_audit, caught_by_load = FAULTS[fault]
    con = duckdb.connect(str(copy))
    try:
        for name, frame in views.items():
            con.register(name, frame)
        assert run_data_tests(con, models=MODELS, partitions_only=True, in_load=True)  # all pass before
        for statement in statements:
            if statement.startswith("without_key "):
                without_key(con, statement.split()[1])
            else:
                con.execute(statement)
        # The audit's tests of the view, over the load's partitions: these catch the fault.
        audit = {
            test.name: len(con.execute(test.sql).fetchall())
            for test in collect(SQL_DIR / "tests", MODELS, partitions_only=True)
            if test.name in LEFT_TO_THE_AUDIT
        }
        assert {name for name, rows in audit.items() if rows} >= caught_by_audit, audit
        # The load's tests, without them, reject it as well.
        with pytest.raises(DataTestError) as rejected:
            run_data_tests(con, models=MODELS, partitions_only=True, in_load=True)
        assert not any(name in str(rejected.value) for name in LEFT_TO_THE_AUDIT)
        named = {line.split(":")[0].strip() for line in str(rejected.value).splitlines()[1:]}
        assert named >= caught_by_load, named
    finally:
        con.close()


def test_the_sales_load_leaves_only_the_amounts_key_to_the_audit():
    from pricing_pipeline.sales.load import SALES_MODELS

    def sales_names(in_load: bool) -> set[str]:
        return {test.name for test in collect(None, SALES_MODELS, partitions_only=True, in_load=in_load)}

    # The view's key follows from the facts' key, which the load tests, and from the rates' inputs
    # (the FAULTS above: each fault that would duplicate a key is caught by a products load's tests).
    assert sales_names(in_load=False) - sales_names(in_load=True) == {"marts_sales_line_amounts_unique"}
    assert {"marts_sales_lines_unique", "marts_sales_line_amounts_not_null"} <= sales_names(in_load=True)
