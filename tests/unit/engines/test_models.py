"""Which text Spark runs for each model: its .spark.sql, or the DuckDB file's SELECT; a model with
neither is refused, naming the file to write."""

from __future__ import annotations

import shutil

import pytest

from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.engines import SPARK
from pricing_pipeline.engines.dispatch import engine_file, is_engine_specific
from pricing_pipeline.engines.spark import models
from pricing_pipeline.engines.spark.models import SPARK_MODELS, SparkModelMissing, spark_model


@pytest.mark.parametrize("model", SPARK_MODELS)
def test_every_model_of_the_spark_load_has_a_version_spark_runs(model):
    found = spark_model(model)
    assert found.select.strip()
    assert not is_engine_specific(SQL_DIR / model)


def test_shared_and_spark_specific_files():
    assert engine_file(SQL_DIR / "marts/products_eur.sql", SPARK).name == "products_eur.spark.sql"
    # The top 5 and the snapshots are written once: the DuckDB file's SELECT runs on Spark.
    assert engine_file(SQL_DIR / "marts/top_products_daily.sql", SPARK).name == "top_products_daily.sql"
    assert "ROW_NUMBER() OVER" in spark_model("marts/top_products_daily.sql").select


def test_a_table_keeps_the_duckdb_schema_with_its_day_partition_last():
    rates = spark_model("staging/exchange_rates.sql")
    assert rates.columns == (
        ("base", "STRING"),
        ("currency", "STRING"),
        ("rate", "DECIMAL(18, 6)"),
        ("rate_date", "DATE"),
    )
    assert (rates.partition, rates.category) == ("rate_date", None)
    assert spark_model("marts/product_prices.sql").is_view


def test_a_merge_model_without_a_spark_file_is_refused(tmp_path, monkeypatch):
    tree = tmp_path / "sql"
    shutil.copytree(SQL_DIR, tree)
    (tree / "staging" / "exchange_rates.spark.sql").unlink()
    monkeypatch.setattr(models, "SQL_DIR", tree)
    models.spark_model.cache_clear()
    try:
        with pytest.raises(SparkModelMissing, match=r"write staging/exchange_rates\.spark\.sql"):
            spark_model("staging/exchange_rates.sql")
    finally:
        models.spark_model.cache_clear()
