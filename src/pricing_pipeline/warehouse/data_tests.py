"""Data tests, as dbt has them: queries that return the rows breaking a rule; a test passes when its
query returns no row.

Two kinds, both run by run_data_tests():

* Generic tests, declared beside each model: ``<schema>/<table>.yml`` next to the model file
  ``<schema>/<table>.sql`` that builds ``<schema>.<table>``::

      model: ops.backups                       # the relation the model file builds
      unique: [backup]                         # its key: one test, duplicates of the key
      not_null: [backup, kind, created_at]     # one test: a row per NULL found, naming the column
      accepted_values:                         # one test per column: values outside the list
        kind: [full, incremental]              # or {values_from: iso_4217}, a named list (VALUE_LISTS)
      partition:                               # optional: the rows one load writes, each column
        backup: SELECT backup FROM incoming_backup  # with a query of its values

  The partitions of the tables a run writes (its days, categories and rates window) are defined
  once, in partitions.py, and never declared again beside their models.

  They state what DuckDB's PRIMARY KEY and NOT NULL constraints enforce, so that the same
  guarantees hold where keys are not enforced (BigQuery), and the values a column may take. The
  queries are plain SQL that DuckDB and BigQuery both run.

* Singular tests: every ``.sql`` file of a tests folder (``sql/tests/``, ``sql/tests/sales/``),
  named ``<schema>_<table>_<rule>.sql``.

``partitions_only=True`` restricts every generic test to the rows of its model's partition: each
column of ``partition`` is limited to the values of its query, which reads the views the load
registers (run_days, run_category, run_rate_dates, load_day, incoming_*). A daily load's tests then cost what its
day costs, not the whole history. A unique test keeps only the partition columns that belong to the
key, so a duplicate of a key in the partition is always seen whole; when none does, it looks for
the partition's keys across the whole table. Models without a partition are tested whole, and so
are singular tests, except those whose header says ``-- Partition-local:`` (their rule holds row by
row, or within a partition): they read the load's partitions of the models it wrote, the other
tables whole. A not-null test of a partition column looks for NULLs in the other partition columns'
rows only (a NULL is in no partition), which the column statistics make cheap.

``in_load=True`` (the load) leaves out the tests whose rule follows from tests of their inputs:
singular tests whose header says ``-- Audit-only:`` (naming the cheaper test that catches the same
faults in a load), and the generic tests a declaration lists under ``audit_only`` (marts.product_prices'
key over 31 rows per product-day). They run over the whole tables in the weekly audit
(warehouse/audit.py); tests/test_load_tests.py injects each fault they catch and shows the load's
tests reject it too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from pricing_pipeline.common.errors import PipelineError
from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.warehouse.partitions import PARTITIONS, partition_queries

__all__ = [
    "VALUE_LISTS",
    "DataTest",
    "DataTestError",
    "Declaration",
    "collect",
    "declaration",
    "generic_tests",
    "iso_4217_codes",
    "run_data_tests",
    "singular_tests",
]

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_KEYS = {"model", "unique", "not_null", "accepted_values", "partition", "audit_only"}
# The header line of a singular test whose rule holds row by row or within a partition.
PARTITION_LOCAL = "\n-- Partition-local:"
# The header line of a singular test that a load leaves to the weekly audit (see the docstring).
AUDIT_ONLY = "\n-- Audit-only:"
GENERIC_RULES = ("unique", "not_null", "accepted_values")


class DataTestError(PipelineError, RuntimeError):
    """A data test returned rows: the load is rolled back and the message lists them."""


@functools.cache
def iso_4217_codes() -> tuple[str, ...]:
    """Every ISO 4217 alphabetic code: List One (current) and List Three (withdrawn), as published
    by the maintenance agency and shipped by the iso-4217 package.

    Withdrawn codes are accepted on purpose: the ECB's history holds rates for currencies that have
    since been replaced (CYP, EEK, LTL, LVL, MTL, ROL, SIT, SKK, TRL, HRK, and BGN since 2026-01),
    and a backfill of those days must load them.
    """
    from iso_4217 import Currency

    return tuple(sorted(currency.name for currency in Currency))


# Named lists of accepted values, for `accepted_values: {column: {values_from: NAME}}`.
VALUE_LISTS: dict[str, Callable[[], Iterable[object]]] = {"iso_4217": iso_4217_codes}


@dataclass(frozen=True)
class DataTest:
    """One query returning the rows that break a rule. `name` is `<schema>_<table>_<rule>`."""

    name: str
    sql: str


@dataclass(frozen=True)
class Declaration:
    """The generic tests declared beside one model (see the module's docstring)."""

    source: Path
    model: str
    unique: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    accepted_values: Mapping[str, tuple[object, ...]] = field(default_factory=dict)
    partition: Mapping[str, str] = field(default_factory=dict)
    audit_only: tuple[str, ...] = ()  # generic rules a load leaves to the audit

    @property
    def prefix(self) -> str:
        return self.model.replace(".", "_")


def _columns(value: object, key: str, source: Path) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(c, str) and _IDENTIFIER.fullmatch(c) for c in value)
    ):
        raise ValueError(f"{source}: `{key}` must be a non-empty list of lower-case column names, not {value!r}")
    return tuple(value)


def _accepted(spec: object, column: str, source: Path) -> tuple[object, ...]:
    if isinstance(spec, dict) and set(spec) == {"values_from"}:
        name = spec["values_from"]
        if name not in VALUE_LISTS:
            raise ValueError(f"{source}: `{column}` takes its values from {name!r}; known lists: {sorted(VALUE_LISTS)}")
        values = tuple(VALUE_LISTS[name]())
    elif isinstance(spec, list):
        values = tuple(spec)
    else:
        raise ValueError(
            f"{source}: accepted values of `{column}` must be a list or {{values_from: NAME}}, not {spec!r}"
        )
    if not values or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{source}: accepted values of `{column}` must be strings or integers, not {values!r}")
    return values


@functools.cache
def _read(path: Path, mtime_ns: int) -> Declaration:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not set(raw) <= _KEYS or "model" not in raw:
        raise ValueError(f"{path}: a declaration is a mapping with `model` and some of {sorted(_KEYS - {'model'})}")
    expected = f"{path.parent.name}.{path.stem}"
    if raw["model"] != expected:
        raise ValueError(f"{path}: declares {raw['model']!r}, but a file named so declares {expected!r}")
    accepted = raw.get("accepted_values") or {}
    partition = raw.get("partition") or {}
    if raw["model"] in PARTITIONS:
        if partition:
            raise ValueError(f"{path}: the partition of {raw['model']} is a run's, defined in warehouse/partitions.py")
        partition = partition_queries(raw["model"])
    if not isinstance(accepted, dict) or not isinstance(partition, dict):
        raise ValueError(f"{path}: `accepted_values` and `partition` map column names to their values")
    for column, query in partition.items():
        _columns([column], "partition", path)
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"{path}: the partition of `{column}` is a query of its values, not {query!r}")
    return Declaration(
        source=path,
        model=raw["model"],
        unique=_columns(raw["unique"], "unique", path) if "unique" in raw else (),
        not_null=_columns(raw["not_null"], "not_null", path) if "not_null" in raw else (),
        accepted_values={
            _columns([column], "accepted_values", path)[0]: _accepted(spec, column, path)
            for column, spec in accepted.items()
        },
        partition={column: query.strip() for column, query in partition.items()},
        audit_only=_audit_only(raw.get("audit_only", []), path),
    )


def _audit_only(value: object, source: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not set(value) <= set(GENERIC_RULES):
        raise ValueError(f"{source}: `audit_only` lists generic rules among {list(GENERIC_RULES)}, not {value!r}")
    return tuple(value)


def declaration(model_file: Path) -> Declaration:
    """The declaration beside a model file (same folder and name, `.yml`)."""
    path = model_file.with_suffix(".yml")
    if not path.is_file():
        raise FileNotFoundError(f"{model_file} has no declaration of its data tests: {path.name} beside it")
    return _read(path, path.stat().st_mtime_ns)


def _literal(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _in_partition(decl: Declaration, columns: Iterable[str], alias: str) -> list[str]:
    return [f"{alias}.{column} IN ({decl.partition[column]})" for column in columns]


def _where(conditions: list[str]) -> str:
    return ("\nWHERE " + "\n  AND ".join(conditions)) if conditions else ""


def generic_tests(decl: Declaration, partitions_only: bool = False, in_load: bool = False) -> list[DataTest]:
    """The queries of a declaration: unique, not_null, then accepted_values per column (in_load:
    without the rules it lists under audit_only)."""
    tests = _generic_tests(decl, partitions_only)
    if not in_load:
        return tests
    return [
        test
        for test in tests
        if not any(test.name[len(decl.prefix) + 1 :].startswith(rule) for rule in decl.audit_only)
    ]


def _generic_tests(decl: Declaration, partitions_only: bool) -> list[DataTest]:
    relation, prefix = decl.model, decl.prefix
    scope = _in_partition(decl, decl.partition, "t") if partitions_only else []
    tests = []
    if decl.unique:
        keys = ", ".join(f"t.{column}" for column in decl.unique)
        key_scope: list[str] = []
        if partitions_only and decl.partition:
            in_key = [column for column in decl.partition if column in decl.unique]
            if in_key:
                key_scope = _in_partition(decl, in_key, "t")
            else:
                # No partition column in the key: every key found in the partition, across the table.
                matched = " AND ".join(f"p.{column} = t.{column}" for column in decl.unique)
                inner = " AND ".join(_in_partition(decl, decl.partition, "p"))
                key_scope = [f"EXISTS (SELECT 1 FROM {relation} AS p WHERE {inner} AND {matched})"]
        tests.append(
            DataTest(
                f"{prefix}_unique",
                f"SELECT {keys}, count(*) AS n_records\nFROM {relation} AS t{_where(key_scope)}\n"
                f"GROUP BY {keys}\nHAVING count(*) > 1",
            )
        )
    if decl.not_null:
        shown = "".join(f", t.{column}" for column in decl.unique)
        branches = []
        for column in decl.not_null:
            # A NULL is never IN a partition: a partition column's own filter is left out of its branch.
            others = [c for c in decl.partition if c != column] if partitions_only else []
            conditions = [*_in_partition(decl, others, "t"), f"t.{column} IS NULL"]
            branches.append(f"SELECT '{column}' AS null_column{shown}\nFROM {relation} AS t{_where(conditions)}")
        tests.append(DataTest(f"{prefix}_not_null", "\nUNION ALL\n".join(branches)))
    for column, values in decl.accepted_values.items():
        accepted = ", ".join(_literal(value) for value in values)
        tests.append(
            DataTest(
                f"{prefix}_accepted_values_{column}",
                f"SELECT t.{column} AS value, count(*) AS n_records\n"
                f"FROM {relation} AS t{_where([*scope, f't.{column} NOT IN ({accepted})'])}\n"
                f"GROUP BY t.{column}",
            )
        )
    return tests


def singular_tests(folder: Path) -> list[DataTest]:
    """Every query of a tests folder, named after its file."""
    return [DataTest(path.stem, path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.sql"))]


def limited_to_partition(test: DataTest, declarations: Iterable[Declaration]) -> DataTest:
    """A singular test reading only the load's partitions: every reference to a relation the load
    wrote (one of `declarations` with a partition) becomes a subquery of its partition's rows, under
    the same name. Tables the load did not write stay whole."""
    import sqlglot
    from sqlglot import exp

    partitioned = {decl.model: decl for decl in declarations if decl.partition}

    def limit(node: exp.Expression) -> exp.Expression:
        decl = partitioned.get(f"{node.db}.{node.name}") if isinstance(node, exp.Table) else None
        if decl is None:
            return node
        table = node.name
        conditions = " AND ".join(_in_partition(decl, decl.partition, table))
        partition = sqlglot.parse_one(f"SELECT * FROM {decl.model} AS {table} WHERE {conditions}", read="duckdb")
        return partition.subquery(node.alias or table)

    tree = sqlglot.parse_one(test.sql, read="duckdb")
    return DataTest(test.name, tree.transform(limit, copy=True).sql(dialect="duckdb", pretty=True))


def collect(
    folder: Path | None = SQL_DIR / "tests",
    models: Iterable[str] = (),
    partitions_only: bool = False,
    in_load: bool = False,
) -> list[DataTest]:
    """The singular tests of `folder` (none if None) and the generic tests of `models`, sorted by name.

    `models` are model files relative to the SQL tree holding the tests folder (its parent; SQL_DIR
    when `folder` is None): the same strings as the load's list of models ("marts/products_eur.sql").
    With partitions_only, a singular test of one of `models` (its name starts with the model's
    prefix) whose header says `-- Partition-local:` (its rule holds row by row, or within a
    partition) reads only the load's partitions of the models it reads (limited_to_partition).
    """
    tests = singular_tests(folder) if folder is not None else []
    if in_load:
        tests = [test for test in tests if AUDIT_ONLY not in test.sql]
    tree = folder.parent if folder is not None else SQL_DIR
    declarations = [declaration(tree / model) for model in models]
    if partitions_only:
        prefixes = [d.prefix for d in declarations if d.partition]
        for index, test in enumerate(tests):
            if PARTITION_LOCAL in test.sql and any(test.name.startswith(f"{prefix}_") for prefix in prefixes):
                tests[index] = limited_to_partition(test, declarations)
    for decl in declarations:
        tests += generic_tests(decl, partitions_only, in_load)
    names = [test.name for test in tests]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"data tests named twice: {duplicated}")
    return sorted(tests, key=lambda test: test.name)


def run_data_tests(
    con: duckdb.DuckDBPyConnection,
    folder: Path | None = SQL_DIR / "tests",
    models: Iterable[str] = (),
    *,
    partitions_only: bool = False,
    in_load: bool = False,
) -> dict[str, int]:
    """Run the data tests on con; returns {test name: failing rows} (all 0), and raises DataTestError,
    naming each failing test, if any test returned a row.

    folder: the singular tests (sql/tests/ by default; sql/tests/sales/ for the sales load; None
        for none).
    models: the model files whose declared generic tests run too, relative to folder's parent.
    partitions_only: restrict the generic tests to the partitions the load wrote; their queries
        then read the views the load registers, so call it inside the load's transaction.
    in_load: leave out the tests the weekly audit keeps (see the module's docstring).
    """
    failures: dict[str, int] = {}
    shown: list[str] = []
    for test in collect(folder, models, partitions_only, in_load):
        rows = con.execute(test.sql).fetchall()
        failures[test.name] = len(rows)
        if rows:
            shown.append(f"{test.name}: {len(rows)} failing row(s), e.g. {rows[:3]}")
    if shown:
        raise DataTestError("data tests failed, nothing was loaded:\n  " + "\n  ".join(shown))
    return failures
