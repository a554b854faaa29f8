"""Which file of a model (or of a singular data test) an engine runs, as dbt's adapter.dispatch:
`<name>.<engine>.sql` beside `<name>.sql` when the engine needs other text, else `<name>.sql`,
written once for every engine. A file `<name>.<engine>.sql` is never a model or a test of its own.
"""

from __future__ import annotations

from pathlib import Path

from pricing_pipeline.engines import DUCKDB, ENGINES

# The suffixes of the engine-specific files (DuckDB's text is the plain `.sql`).
ENGINE_SUFFIXES = {engine: f".{engine}.sql" for engine in ENGINES if engine != DUCKDB}
# The dialect sqlglot reads and writes each engine's text in.
DIALECTS = {DUCKDB: "duckdb", "spark": "spark"}


def is_engine_specific(path: Path) -> bool:
    """True for `<name>.<engine>.sql`: another engine's version of `<name>.sql`."""
    return any(path.name.endswith(suffix) for suffix in ENGINE_SUFFIXES.values())


def engine_file(path: Path, engine: str) -> Path:
    """The file the engine runs for the model or test `path` (`<name>.sql`)."""
    if engine == DUCKDB:
        return path
    specific = path.with_name(path.name.removesuffix(".sql") + ENGINE_SUFFIXES[engine])
    return specific if specific.is_file() else path


def dialect_of(path: Path) -> str:
    """The SQL dialect a file is written in: its engine's, DuckDB's for a plain `.sql`."""
    for engine, suffix in ENGINE_SUFFIXES.items():
        if path.name.endswith(suffix):
            return DIALECTS[engine]
    return DIALECTS[DUCKDB]
