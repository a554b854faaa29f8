"""The Spark engine against DuckDB's: the same inputs loaded by both, the deliverables compared byte
for byte (DuckDB's load is the second method), a re-run that changes nothing, a failing data test
that publishes nothing. One Spark session for the whole test run (the spark fixture)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pricing_pipeline.engines.spark.load import load_run_spark, warehouse_root
from pricing_pipeline.engines.spark.outputs import export_outputs_spark
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.transform.outputs import export_outputs, output_names
from pricing_pipeline.warehouse.connection import connect
from pricing_pipeline.warehouse.data_tests import DataTestError
from pricing_pipeline.warehouse.partitions import TABLES
from tests.support.case_data import case_inputs
from tests.support.paths import PROJECT_ROOT


@pytest.fixture(scope="session")
def spark():
    from pricing_pipeline.engines.spark.session import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


def duckdb_outputs(folder: Path, params, rates, products) -> dict[str, bytes]:
    with connect(folder / "warehouse.duckdb") as con:
        load_run(con, params, rates, products)
        paths = export_outputs(con, params, folder / "duckdb-output")
    return {path.name: path.read_bytes() for path in paths}


def spark_outputs(spark, folder: Path, params) -> dict[str, bytes]:
    paths = export_outputs_spark(spark, params, folder / "spark-output", folder / "scratch")
    return {path.name: path.read_bytes() for path in paths}


def table_contents(spark) -> dict[str, list[tuple]]:
    """Every row of every published table, sorted: what a re-run or a failed run must leave."""
    return {table: sorted(tuple(row) for row in spark.sql(f"SELECT * FROM {table}").collect()) for table in TABLES}


@pytest.fixture(scope="module")
def case_loaded(spark, tmp_path_factory):
    """The case loaded once by Spark into a fresh data folder."""
    folder = tmp_path_factory.mktemp("spark-case")
    params, rates, products = case_inputs()
    written = load_run_spark(spark, params, rates, products, folder)
    return folder, params, rates, products, written


def test_the_case_s_deliverables_equal_duckdb_s_byte_for_byte(spark, case_loaded, tmp_path):
    folder, params, rates, products, written = case_loaded
    expected = duckdb_outputs(tmp_path, params, rates, products)
    assert sorted(expected) == sorted(output_names())
    assert spark_outputs(spark, tmp_path, params) == expected
    # And the committed deliverables of the case, which DuckDB's runs reproduce.
    for name in ("products_eur.csv", "top_products_daily.csv", "product_prices.csv"):
        assert expected[name] == (PROJECT_ROOT / "data" / "output" / name).read_bytes(), name
    assert written == {
        "staging.exchange_rates": 60,
        "staging.product_snapshots": 12,
        "marts.products_eur": 12,
        "marts.top_products_daily": 10,
        "marts.product_prices": 12 * 31,
    }
    assert (Path(warehouse_root(folder)) / "marts" / "products_eur" / "day=2024-02-13").is_dir()


def test_a_second_run_of_the_days_leaves_the_same_tables(spark, case_loaded):
    folder, params, rates, products, _ = case_loaded
    before = table_contents(spark)
    load_run_spark(spark, params, rates, products, folder)
    assert table_contents(spark) == before


def test_a_failing_data_test_publishes_nothing(spark, case_loaded):
    folder, params, rates, products, _ = case_loaded
    before = table_contents(spark)
    broken = products.copy()
    broken.loc[0, "rating_rate"] = 6.0  # staging_product_snapshots_rating_in_range
    broken.loc[1, "price_usd"] = 123.45  # a change that must not reach the published tables
    with pytest.raises(DataTestError, match="staging_product_snapshots_rating_in_range"):
        load_run_spark(spark, params, rates, pd.DataFrame(broken), folder)
    assert table_contents(spark) == before
