"""The transform step on Spark: write, audit, publish. Spark's Parquet tables have no transactions,
so the run's new partitions are written to staged tables first, the data tests run on what the
tables would hold once they are published, and only when every test passes are the published
partitions replaced (INSERT OVERWRITE, dynamic partition overwrite: each day the staged rows hold
replaces that day, the others are kept). A failing test raises DataTestError and publishes nothing.

Tables (models.py): Parquet under <warehouse>/<schema>/<table>/, partitioned by day
(<warehouse>/staging/product_snapshots/snapshot_date=2024-02-12/...), external tables of Spark's
catalogue, declared again by each load (the in-memory catalogue forgets them with the session, the
files stay). Staged tables: <warehouse>/_staged/<schema>.<table>/, unpartitioned, rewritten by each
run. The publication of several tables is not atomic: should the process die between two of them,
re-running the day rebuilds them all (each model's rows follow from the published inputs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import sqlglot
from sqlglot import exp

from pricing_pipeline.common import settings
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.engines.spark.models import SPARK_MODELS, SparkModel, spark_models
from pricing_pipeline.transform.currencies import minor_units
from pricing_pipeline.transform.load import run_categories_of
from pricing_pipeline.warehouse.data_tests import DataTestError, collect
from pricing_pipeline.warehouse.partitions import PARTITIONS, RATES_WINDOW, RUN_DAYS, TABLES, run_scope, run_views

STAGED_DATABASE = "staged"


def warehouse_root(data_dir: Path) -> str:
    """Where the Spark tables live: PIPELINE_SPARK_WAREHOUSE, else <data dir>/spark."""
    return settings.text(settings.SPARK_WAREHOUSE, str(data_dir / "spark")).rstrip("/")


def staged_name(model: SparkModel) -> str:
    return f"{STAGED_DATABASE}.{model.relation.replace('.', '__')}"


def candidate_name(model: SparkModel) -> str:
    """The temporary view of what a table will hold once the run is published."""
    return "run__" + model.relation.replace(".", "__")


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def declare_tables(spark, root: str, models: list[SparkModel] | None = None) -> None:
    """Declare the published and staged tables over their folders (their partitions found again),
    then the views; a table declared over another folder (another data folder, same session) is
    declared again."""
    models = spark_models() if models is None else models
    for database in {model.relation.split(".")[0] for model in models} | {STAGED_DATABASE}:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    for model in models:
        if model.is_view:
            continue
        columns = ", ".join(f"{name} {kind}" for name, kind in model.columns)
        for name, location, partition in (
            (model.relation, f"{root}/{model.relation.replace('.', '/')}", model.partition),
            (staged_name(model), f"{root}/_staged/{model.relation}", None),
        ):
            if "://" not in location:  # a local folder: made now, so that MSCK REPAIR finds it
                Path(location).mkdir(parents=True, exist_ok=True)
            # External tables: DROP forgets the declaration, never the files.
            spark.sql(f"DROP TABLE IF EXISTS {name}")
            partitioned = f" PARTITIONED BY ({partition})" if partition else ""
            spark.sql(f"CREATE TABLE {name} ({columns}) USING parquet{partitioned} LOCATION '{_quoted(location)}'")
            if partition:
                spark.sql(f"MSCK REPAIR TABLE {name}")
    for model in models:
        if model.is_view:
            spark.sql(f"CREATE OR REPLACE VIEW {model.relation} AS {model.select}")


def with_relations(sql: str, dialect: str, relations: dict[str, str]) -> str:
    """A query in Spark's dialect whose references to the relations named (schema.table) read the
    views given instead, under the same alias."""

    def swap(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Table) or f"{node.db}.{node.name}" not in relations:
            return node
        table = exp.to_table(relations[f"{node.db}.{node.name}"])
        table.set("alias", exp.TableAlias(this=exp.to_identifier(node.alias or node.name)))
        return table

    tree = sqlglot.parse_one(sql, read=dialect)
    return tree.transform(swap, copy=True).sql(dialect="spark")


def partition_values(views: dict) -> dict[str, list]:
    """The partition values a run writes, by kind (partitions.py): its days, its rates window."""
    return {RUN_DAYS: list(views["run_days"]["day"]), RATES_WINDOW: list(views["run_rate_dates"]["rate_date"])}


def _run_values(model: SparkModel, values: dict[str, list]) -> str:
    """The partition values (days, rate dates) the run writes in a table, as literals: Spark prunes
    partitions on a literal list, where a subquery would join every row."""
    kind = PARTITIONS[model.relation][model.partition]
    return ", ".join(f"DATE'{day.isoformat()}'" for day in values[kind])


def stage(spark, model: SparkModel, candidates: dict[str, str], values: dict[str, list]) -> None:
    """Write a model's new rows to its staged table and make its candidate view: the published rows
    the run does not replace, and the staged ones."""
    select = with_relations(model.select, "spark", candidates)
    if model.is_view:
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {candidate_name(model)} AS {select}")
        return
    names = model.column_names
    typed = ", ".join(f"CAST(model_rows.{name} AS {kind}) AS {name}" for name, kind in model.columns)
    rows = f"SELECT {typed} FROM ({select}) AS model_rows"
    if model.category is not None:
        # A run of some categories rewrites their rows of its days; the other categories' rows of
        # those days are part of the partitions it overwrites, and kept.
        rows += (
            f"\nUNION ALL\nSELECT {', '.join(names)} FROM {model.relation}"
            f"\nWHERE {model.partition} IN ({_run_values(model, values)})"
            f" AND {model.category} NOT IN (SELECT category FROM run_category)"
        )
    spark.sql(f"INSERT OVERWRITE TABLE {staged_name(model)} {rows}")
    published = f"SELECT {', '.join(names)} FROM {model.relation}"
    if model.partition is not None:
        published += f" WHERE {model.partition} NOT IN ({_run_values(model, values)})"
        candidate = f"{published} UNION ALL SELECT {', '.join(names)} FROM {staged_name(model)}"
    else:
        candidate = f"SELECT {', '.join(names)} FROM {staged_name(model)}"  # the whole table is replaced
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {candidate_name(model)} AS {candidate}")


def audit(spark, models: tuple[str, ...], candidates: dict[str, str]) -> dict[str, int]:
    """The load's data tests (those DuckDB's load runs, in their Spark versions) on the candidate
    views; DataTestError naming every failing test."""
    tests = {
        test.name: with_relations(test.sql, test.dialect, candidates)
        for test in collect(SQL_DIR / "tests", models, partitions_only=True, in_load=True, engine="spark")
    }
    # One query counting every test's rows: a Spark job per test would cost more than the tests.
    counts = " UNION ALL ".join(f"SELECT '{name}' AS test, count(*) AS n FROM ({sql})" for name, sql in tests.items())
    failures = {name: count for name, count in spark.sql(counts).collect()}
    shown = [
        f"{name}: {count} failing row(s), e.g. {[tuple(row) for row in spark.sql(tests[name]).limit(3).collect()]}"
        for name, count in sorted(failures.items())
        if count
    ]
    if shown:
        raise DataTestError("data tests failed, nothing was published:\n  " + "\n  ".join(shown))
    return failures


def publish(spark, model: SparkModel, values: dict[str, list]) -> None:
    """Replace the published partitions with the staged ones; a partition of the run the staged
    rows do not hold (a day left without rows) is emptied, as DuckDB's DELETE leaves it."""
    names = ", ".join(model.column_names)
    if model.partition is None:
        spark.sql(f"INSERT OVERWRITE TABLE {model.relation} SELECT {names} FROM {staged_name(model)}")
        return
    spark.sql(
        f"INSERT OVERWRITE TABLE {model.relation} PARTITION ({model.partition}) SELECT {names} FROM {staged_name(model)}"
    )
    held = {row[0] for row in spark.sql(f"SELECT DISTINCT {model.partition} FROM {staged_name(model)}").collect()}
    others = ", ".join(name for name in model.column_names if name != model.partition)
    for value in sorted(set(values[PARTITIONS[model.relation][model.partition]]) - held):
        spark.sql(
            f"INSERT OVERWRITE TABLE {model.relation} PARTITION ({model.partition} = DATE'{value.isoformat()}') "
            f"SELECT {others} FROM {staged_name(model)} WHERE FALSE"
        )


@contextmanager
def temporary_views(spark, frames: dict) -> Iterator[None]:
    """Expose Spark DataFrames (or pandas frames, converted) as temporary views for the load."""
    for name, frame in frames.items():
        if isinstance(frame, pd.DataFrame):
            frame = spark.createDataFrame(frame)
        frame.createOrReplaceTempView(name)
    try:
        yield
    finally:
        for name in frames:
            spark.catalog.dropTempView(name)


def load_views(spark, params: RunParameters, exchange_rates: pd.DataFrame, products) -> dict:
    """The views the Spark models and their tests read, as DuckDB's load has them (transform/load.py);
    products: the hand-off file (read by Spark) or a frame."""
    incoming = spark.read.parquet(str(products)) if isinstance(products, Path) else spark.createDataFrame(products)
    stored = spark.sql(
        "SELECT DISTINCT category FROM staging.product_snapshots WHERE snapshot_date BETWEEN ? AND ?",
        args=[params.start_date, params.end_date],
    ).collect()
    read = [row[0] for row in incoming.select("category").distinct().collect()]
    categories = run_categories_of(params, [row[0] for row in stored], read)
    # Rate dates as dates: a naive timestamp would cross to Spark in the Python process's zone.
    rates = exchange_rates.assign(rate_date=pd.to_datetime(exchange_rates["rate_date"]).dt.date)
    return {
        "incoming_exchange_rates": rates,
        "incoming_products": incoming,
        "incoming_currency_minor_units": minor_units({"EUR", *exchange_rates["currency"]}),
        **run_views(params.days, categories),
    }


def rows_for_days(spark, params: RunParameters) -> dict[str, int]:
    """Rows each published table holds for the run (partitions.rows_for_days, on Spark)."""
    counts = {}
    for table in TABLES:
        where, args = run_scope(table, params)
        counts[table] = spark.sql(f"SELECT count(*) FROM {table} WHERE {where}", args=args).collect()[0][0]
    return counts


def load_run_spark(
    spark, params: RunParameters, exchange_rates: pd.DataFrame, products, data_dir: Path
) -> dict[str, int]:
    """Stage the run's partitions of every model, test them, then publish them; rows per table for
    the run's days. A failing data test raises DataTestError and leaves every published table as it
    was."""
    models = spark_models()
    declare_tables(spark, warehouse_root(data_dir), models)
    candidates: dict[str, str] = {}
    views = load_views(spark, params, exchange_rates, products)
    values = partition_values(views)
    with temporary_views(spark, views):
        try:
            for model in models:
                stage(spark, model, candidates, values)
                candidates[model.relation] = candidate_name(model)
            audit(spark, SPARK_MODELS, candidates)
        finally:
            for model in models:
                spark.catalog.dropTempView(candidate_name(model))
        for model in models:
            if not model.is_view:
                publish(spark, model, values)
    return rows_for_days(spark, params)
