"""The transform step's models as Spark runs them: for each, its SELECT and, for a table, its
columns and partition column.

A model's Spark text is its `<schema>/<table>.spark.sql` when there is one (a SELECT: the rows of
the partitions the run writes, or a view's query); otherwise the SELECT of the DuckDB file's INSERT
(or its view's query), written once for both engines and translated by sqlglot. A model whose DuckDB
file holds neither (a MERGE) and that has no Spark file has no version Spark runs: SparkModelMissing.

A table's columns and types are those of the DuckDB file's CREATE TABLE (one definition of the
schema); its Spark partition column is the day column partitions.py gives it (the run's days, or
its rates window). Categories are not a Spark partition: a run of one category keeps the other
categories' rows of its days (load.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.engines import SPARK, EngineUnsupported
from pricing_pipeline.engines.dispatch import engine_file
from pricing_pipeline.transform.load import MODELS
from pricing_pipeline.warehouse.partitions import PARTITIONS, RATES_WINDOW, RUN_CATEGORIES, RUN_DAYS

# The DuckDB load's models, less ops.loads: a Spark run's load is counted in the DuckDB warehouse's
# ops.loads after it is published (load.py), where the runner reads it.
SPARK_MODELS = tuple(model for model in MODELS if model != "ops/loads.sql")


class SparkModelMissing(EngineUnsupported):
    """A model without a version Spark runs: its `.spark.sql` is to be written."""


@dataclass(frozen=True)
class SparkModel:
    model: str  # the model file, as in MODELS: "marts/products_eur.sql"
    relation: str  # "marts.products_eur"
    select: str  # Spark SQL: the run's rows (a table) or the view's query
    columns: tuple[tuple[str, str], ...] = ()  # (name, Spark type), partition column last; () for a view
    partition: str | None = None  # the Spark partition column (a day); None: the table is rewritten whole
    category: str | None = None  # the category column of a run's partition, if any

    @property
    def is_view(self) -> bool:
        return not self.columns

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]


def _duckdb_statements(model: str) -> list[exp.Expression]:
    return sqlglot.parse((SQL_DIR / model).read_text(encoding="utf-8"), read="duckdb")


def _columns(create: exp.Create, partition: str | None) -> tuple[tuple[str, str], ...]:
    definitions = [
        (column.name, column.args["kind"].sql(dialect="spark"))
        for column in create.this.expressions
        if isinstance(column, exp.ColumnDef)
    ]
    # Spark keeps a table's partition column last: say so, rather than let it move.
    return tuple(sorted(definitions, key=lambda column: column[0] == partition))


def _shared_select(model: str, statements: list[exp.Expression], create: exp.Create) -> str:
    if create.kind == "VIEW":
        return create.expression.sql(dialect="spark")
    inserts = [statement for statement in statements if isinstance(statement, exp.Insert)]
    if len(inserts) != 1 or any(isinstance(statement, exp.Merge) for statement in statements):
        spark_name = model.removesuffix(".sql") + ".spark.sql"
        raise SparkModelMissing(
            f"{model} has no version Spark runs (a MERGE, or not one INSERT ... SELECT): write {spark_name}"
        )
    return inserts[0].expression.sql(dialect="spark")


@functools.cache
def spark_model(model: str) -> SparkModel:
    """The Spark version of a model file of SQL_DIR ("marts/products_eur.sql")."""
    statements = _duckdb_statements(model)
    create = next(statement for statement in statements if isinstance(statement, exp.Create))
    relation = f"{create.this.find(exp.Table).db}.{create.this.find(exp.Table).name}"
    ran = engine_file(SQL_DIR / model, SPARK)
    if ran == SQL_DIR / model:
        select = _shared_select(model, statements, create)
    else:
        select = ran.read_text(encoding="utf-8").strip().removesuffix(";")
    if create.kind == "VIEW":
        return SparkModel(model, relation, select)
    kinds = PARTITIONS.get(relation, {})
    partition = next((column for column, kind in kinds.items() if kind in (RUN_DAYS, RATES_WINDOW)), None)
    category = next((column for column, kind in kinds.items() if kind == RUN_CATEGORIES), None)
    return SparkModel(model, relation, select, _columns(create, partition), partition, category)


def spark_models(models: tuple[str, ...] = SPARK_MODELS) -> list[SparkModel]:
    return [spark_model(model) for model in models]
