"""The engines that run the transform step's models: DuckDB (the default, warehouse/ and transform/)
and Apache Spark (engines/spark/), chosen by `--engine` or PIPELINE_ENGINE.

A model is written once where both engines run its text; where Spark needs another, the file
`<schema>/<table>.spark.sql` beside `<schema>/<table>.sql` replaces it for Spark (dispatch.py), as
dbt's adapter.dispatch does. What an engine does not do is refused before anything runs
(EngineUnsupported), never attempted.
"""

from __future__ import annotations

from pricing_pipeline.common import settings
from pricing_pipeline.common.errors import PipelineError

DUCKDB, SPARK = "duckdb", "spark"
ENGINES = (DUCKDB, SPARK)
DEFAULT_ENGINE = DUCKDB


class EngineUnsupported(PipelineError, ValueError):
    """What the chosen engine does not do (yet); the message says what to use instead."""


def engine_name(value: str = "") -> str:
    """The engine to run: the value given, else PIPELINE_ENGINE, else DuckDB; EngineUnsupported for
    any other name."""
    name = (value or settings.text(settings.ENGINE, DEFAULT_ENGINE)).strip().lower()
    if name not in ENGINES:
        raise EngineUnsupported(f"engine {name!r} is unknown; accepted: {', '.join(ENGINES)}")
    return name


def refuse_on_spark(engine: str, what: str, instead: str) -> None:
    """Raise EngineUnsupported when `what` is asked of the Spark engine, which does not do it yet."""
    if engine == SPARK:
        raise EngineUnsupported(f"the Spark engine does not support {what} yet: {instead}")
