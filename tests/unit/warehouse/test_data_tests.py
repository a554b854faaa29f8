"""The data tests (pricing_pipeline.warehouse.data_tests) and the conventions of the SQL.

* Every generic test (unique, not_null, accepted_values) declared beside a model fails on data
  broken on purpose in a scratch copy of a real warehouse (constraints dropped, as BigQuery would
  have them), in both modes, and all tests pass on the case's data (its products and sales).
* partitions_only=True reads only the rows of the load's partitions.
* The declarations say what the DDL enforces (primary key, NOT NULL), model files follow one naming
  convention, every SQL file's header lists what it reads, and the models insert by
  column name, so a table whose columns are in another order loads the same rows.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.sales.load import SALES_MODELS, SALES_TESTS
from pricing_pipeline.transform.load import MODELS, load_run, load_views
from pricing_pipeline.warehouse import data_tests
from pricing_pipeline.warehouse.connection import MACRO_CALLERS, MACROS, connect
from pricing_pipeline.warehouse.data_tests import DataTestError, declaration, generic_tests, run_data_tests
from pricing_pipeline.warehouse.partitions import run_views
from tests.support.case_data import case_inputs, load_case_sales

PIPELINE_TESTS = SQL_DIR / "tests"
# The other models of the pipeline's tree: the raw landing and the ops tables (runs, backups, the
# reconciliations).
OTHER_MODELS = (
    "raw/responses.sql",
    "ops/backups.sql",
    "ops/reconciliation.sql",
    "ops/run_log.sql",
    "ops/sales_reconciliation.sql",
)
PIPELINE_MODELS = tuple(MODELS) + tuple(SALES_MODELS) + OTHER_MODELS


def sql_text(tree: Path, model: str) -> str:
    return (tree / model).read_text(encoding="utf-8")


# ---------------------------------------------------------------- the pipeline's warehouse


def other_inputs(params) -> dict[str, pd.DataFrame]:
    """The views from which the pipeline writes raw.responses, ops.backups, ops.reconciliation,
    ops.run_log and ops.sales_reconciliation (with the sales' views: load_case_sales)."""
    return {
        "incoming_backup": pd.DataFrame(
            [{"backup": params.run_id, "kind": "full", "base": None, "created_at": "2024-02-14T06:01:00+00:00"}]
        ),
        "incoming_response": pd.DataFrame(
            [
                {
                    "run_id": params.run_id,
                    "name": "products",
                    "origin": "recorded",
                    "request": "file",
                    "status": None,
                    "attempts": 1,
                    "fetched_at": None,
                    "landed_at": "2024-02-14T06:00:00+00:00",
                    "body_sha256": "0" * 64,
                    "body_bytes": 2,
                    "body_file": f"raw/{params.run_id}/products.{'0' * 16}.json",
                }
            ]
        ),
        "reconciliation_run": pd.DataFrame(
            [
                {
                    "run_id": params.run_id,
                    "snapshot_date": params.end_date,
                    "category": params.category,
                }
            ]
        ),
        "sales_reconciliation_run": pd.DataFrame([{"run_id": params.run_id}]),
        "incoming_run": pd.DataFrame(
            [
                {
                    "run_id": params.run_id,
                    "parameters": "{}",
                    "started_at": "2024-02-14T06:00:00+00:00",
                    "ended_at": "2024-02-14T06:00:04+00:00",
                    "status": "succeeded",
                    "rows_written": "{}",
                    "error": None,
                }
            ]
        ),
    }


def load_whole_case(con: duckdb.DuckDBPyConnection, loads: int = 1) -> dict[str, pd.DataFrame]:
    """The case into con as runs load it (load_run, then its sales: load_case_sales), `loads` times,
    then a row of each ops and raw table; the views of them all."""
    params, rates, products = case_inputs()
    for _ in range(loads):
        load_run(con, params, rates, products)
        sales = load_case_sales(con, params, products)
    # The sales reconciliation re-reads the carts the load booked: they agree.
    others = {**other_inputs(params), "source_cart_lines": sales["incoming_cart_lines"]}
    for name, frame in {**sales, **others, "source_products": products}.items():
        con.register(name, frame)
    for model in OTHER_MODELS:
        con.execute(sql_text(SQL_DIR, model))
    return {**load_views(con, params, rates, products), **sales, **others}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A warehouse file holding the case, its sales and a row of each ops and raw table; its views."""
    path = tmp_path_factory.mktemp("case") / "warehouse.duckdb"
    with connect(path) as con:
        views = load_whole_case(con)
    return path, views


def scratch(path: Path, tmp_path: Path, views: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """A copy of a database file to break, with the load's views registered."""
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    con = duckdb.connect(str(copy))
    for name, frame in views.items():
        con.register(name, frame)
    return con


# ---------------------------------------------------------------- all pass on real data


def test_every_test_passes_on_the_case(case, tmp_path):
    path, views = case
    with scratch(path, tmp_path, views) as con:
        whole = run_data_tests(con, PIPELINE_TESTS, PIPELINE_MODELS)
        partitions = run_data_tests(con, PIPELINE_TESTS, PIPELINE_MODELS, partitions_only=True)
        sales = run_data_tests(con, SALES_TESTS)  # run by the sales load, not with every products load
    assert whole == partitions
    assert set(whole.values()) == {0}
    generic = {test.name for model in PIPELINE_MODELS for test in generic_tests(declaration(SQL_DIR / model))}
    assert generic <= set(whole)
    assert {
        "staging_exchange_rates_unique",
        "staging_exchange_rates_accepted_values_currency",
        "marts_top_products_daily_accepted_values_rank",
        "marts_products_eur_not_null",
        "marts_products_eur_priced_with_rate_in_force",  # the singular tests run too
        "marts_sales_lines_accepted_values_kind",
        "ops_sales_reconciliation_unique",
    } <= set(whole)
    assert set(sales.values()) == {0}
    assert {test.stem for test in SALES_TESTS.glob("*.sql")} == set(sales)


def test_the_load_passes_its_tests_inside_its_transaction_on_a_long_backfill(tmp_path):
    """Three years from the ECB file: withdrawn currencies (CYP, EEK, ROL, ...) are ISO 4217 codes."""
    from pricing_pipeline.common.parameters import validate_parameters
    from pricing_pipeline.extract.ecb_history import read_ecb_history
    from pricing_pipeline.extract.parsing import parse_exchange_rates

    _, _, products = case_inputs()
    params = validate_parameters(
        "2005-01-01", "2007-12-31", "women's clothing", "offline", "b", today=dt.date(2026, 1, 1)
    )
    rates = parse_exchange_rates(read_ecb_history(params.rates_start_date, params.end_date), params)
    assert {"CYP", "EEK", "ROL", "TRL", "SIT", "BGN"} <= set(rates["currency"])
    with connect(tmp_path / "w.duckdb") as con:
        load_run(con, params, rates, products)
        for name, frame in load_views(con, params, rates, products).items():
            con.register(name, frame)
        failures = run_data_tests(con, PIPELINE_TESTS, MODELS, partitions_only=True)
    assert set(failures.values()) == {0}


# ---------------------------------------------------------------- each generic test fails on broken data


def relation_kind(con: duckdb.DuckDBPyConnection, relation: str) -> str | None:
    """'BASE TABLE', 'VIEW', or None when the relation does not exist."""
    rows = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema || '.' || table_name = ?", [relation]
    ).fetchall()
    return rows[0][0] if rows else None


def primary_key(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[str, ...]:
    rows = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() WHERE schema_name || '.' || table_name = ? "
        "AND constraint_type = 'PRIMARY KEY'",
        [relation],
    ).fetchall()
    return tuple(rows[0][0]) if rows else ()


def table_name(table: exp.Table) -> str:
    """schema.name of a table, a view or a table macro (`marts.publication_rates()`)."""
    name = table.this.name if isinstance(table.this, exp.Anonymous) else table.name
    return ".".join(part for part in (table.db, name) if part)


def unconstrained(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    """Replace a table (or view) by a copy without its primary key and NOT NULL constraints."""
    schema, name = relation.split(".")
    kind = relation_kind(con, relation)
    con.execute(f"CREATE TABLE {schema}.{name}_copy AS SELECT * FROM {relation}")
    con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {relation}")
    con.execute(f"ALTER TABLE {schema}.{name}_copy RENAME TO {name}")


def partition_filter(decl: data_tests.Declaration) -> str:
    return " AND ".join(f"{column} IN ({query})" for column, query in decl.partition.items()) or "TRUE"


def a_row(con, decl, offset: int = 0) -> int:
    """The rowid of a row inside the declaration's partition."""
    rows = con.execute(
        f"SELECT rowid FROM {decl.model} WHERE {partition_filter(decl)} ORDER BY rowid LIMIT 1 OFFSET {offset}"
    ).fetchall()
    assert rows, f"{decl.model}: no row in the partition to break"
    return rows[0][0]


def bad_values(values: tuple) -> list:
    """Values outside an accepted list: next to it, and for codes, a lower-case or unknown one."""
    if all(isinstance(v, int) for v in values):
        return [min(values) - 1, max(values) + 1]
    return [str(values[0]).lower() if str(values[0]).lower() not in values else "xx", "XYZ", ""]


def generic_cases(tree: Path, models: tuple[str, ...]) -> list:
    cases = []
    for model in models:
        decl = declaration(tree / model)
        for test in generic_tests(decl):
            cases.append(pytest.param(tree, model, test.name, id=test.name))
    return cases


def breaks(con, decl: data_tests.Declaration, rule: str) -> list[tuple[str, list, list]]:
    """Ways to break a rule on one row of the partition: (statement, its parameters, the failing rows)."""
    row = a_row(con, decl)
    if rule == "unique":
        key = con.execute(f"SELECT {', '.join(decl.unique)} FROM {decl.model} WHERE rowid = {row}").fetchall()[0]
        return [(f"INSERT INTO {decl.model} SELECT * FROM {decl.model} WHERE rowid = {row}", [], [(*key, 2)])]
    if rule == "not_null":
        cases = []
        for column in decl.not_null:
            key = (
                con.execute(f"SELECT {', '.join(decl.unique)} FROM {decl.model} WHERE rowid = {row}").fetchall()[0]
                if decl.unique
                else ()
            )
            shown = tuple(None if c == column else value for c, value in zip(decl.unique, key, strict=True))
            cases.append((f"UPDATE {decl.model} SET {column} = NULL WHERE rowid = {row}", [], [(column, *shown)]))
        return cases
    column = rule[len("accepted_values_") :]
    return [
        (f"UPDATE {decl.model} SET {column} = ? WHERE rowid = {row}", [value], [(value, 1)])
        for value in bad_values(decl.accepted_values[column])
    ]


@pytest.mark.parametrize("partitions_only", [False, True], ids=["whole", "partitions"])
@pytest.mark.parametrize("tree, model, test_name", generic_cases(SQL_DIR, PIPELINE_MODELS))
def test_each_generic_test_fails_on_broken_data(case, tmp_path, tree, model, test_name, partitions_only):
    """The relation loses its constraints (as on BigQuery), then one row of the load's partition is
    broken at a time, in a transaction rolled back after: the test returns exactly that row."""
    path, views = case
    folder = tree / "tests"
    decl = declaration(tree / model)
    rule = test_name[len(decl.prefix) + 1 :]
    test = next(t for t in generic_tests(decl, partitions_only) if t.name == test_name)
    with scratch(path, tmp_path, views) as con:
        assert run_data_tests(con, folder, [model], partitions_only=partitions_only)[test_name] == 0
        unconstrained(con, decl.model)
        cases = breaks(con, decl, rule)
        assert cases
        for number, (statement, parameters, failing) in enumerate(cases):
            con.execute("BEGIN TRANSACTION")
            con.execute(statement, parameters)
            assert con.execute(test.sql).fetchall() == failing, statement
            if number == 0:  # and through the runner, which raises
                with pytest.raises(DataTestError, match=test_name):
                    run_data_tests(con, folder, [model], partitions_only=partitions_only)
            con.execute("ROLLBACK")
        assert run_data_tests(con, folder, [model], partitions_only=partitions_only)[test_name] == 0


def test_not_null_names_the_column_and_the_key(case, tmp_path):
    path, views = case
    with scratch(path, tmp_path, views) as con:
        unconstrained(con, "marts.products_eur")
        con.execute("UPDATE marts.products_eur SET price_eur = NULL WHERE day = DATE '2024-02-13' AND product_id = 18")
        with pytest.raises(DataTestError) as raised:
            run_data_tests(con, models=["marts/products_eur.sql"])
    assert "marts_products_eur_not_null: 1 failing row(s), e.g. [('price_eur', datetime.date(2024, 2, 13), 18)]" in str(
        raised.value
    )


def test_currency_codes_are_iso_4217_current_and_withdrawn():
    codes = set(data_tests.iso_4217_codes())
    assert {"EUR", "USD", "JPY", "GBP", "CHF", "CNY", "ZAR"} <= codes  # current (List One)
    assert {"CYP", "EEK", "LTL", "LVL", "MTL", "ROL", "SIT", "SKK", "TRL", "HRK", "BGN", "DEM"} <= codes  # withdrawn
    assert not {"XYZ", "usd", "EURO", ""} & codes
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in codes)


def test_a_load_with_a_currency_outside_iso_4217_is_rolled_back(tmp_path, monkeypatch):
    """load_run runs the generic tests of its models in its partitions: a code outside ISO 4217 is
    stopped by them even when it gets past the minor-unit lookup."""
    from pricing_pipeline.transform import load as transform
    from pricing_pipeline.transform.currencies import UnknownCurrencyError

    real_minor_units = transform.minor_units

    def minor_units_inventing_isx(codes):
        known = real_minor_units(set(codes) - {"ISX"})
        invented = pd.DataFrame([("ISX", 0, 1, "made up by the test")], columns=known.columns)
        return pd.concat([known, invented], ignore_index=True)

    params, rates, products = case_inputs()
    bad = rates.copy()
    bad.loc[(bad["currency"] == "ISK") & (bad["rate_date"] == pd.Timestamp("2024-02-13")), "rate"] = 150.0
    bad.loc[bad["currency"] == "ISK", "currency"] = "ISX"
    tables = ("staging.exchange_rates", "staging.product_snapshots", "marts.products_eur", "marts.top_products_daily")
    with connect(tmp_path / "w.duckdb") as con:
        load_run(con, params, rates, products)
        before = {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in tables}
        with pytest.raises(UnknownCurrencyError, match="'ISX' has no minor unit"):
            load_run(con, params, bad, products)
        monkeypatch.setattr(transform, "minor_units", minor_units_inventing_isx)
        with pytest.raises(
            DataTestError,
            match=r"staging_exchange_rates_accepted_values_currency: 1 failing row\(s\), e.g. \[\('ISX', 2\)\]",
        ):
            load_run(con, params, bad, products)
        assert {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in tables} == before


# ---------------------------------------------------------------- partitions_only


def test_partitions_only_reads_the_run_partitions_and_nothing_else(case, tmp_path):
    """A broken row of another day or category is not seen by a day's tests; the whole history sees it."""
    path, views = case
    day_two = {**views, **run_views([dt.date(2024, 2, 13)], ["women's clothing"])}
    day_two["incoming_exchange_rates"] = views["incoming_exchange_rates"].query("rate_date == '2024-02-13'")
    with scratch(path, tmp_path, day_two) as con:
        for relation in ("staging.exchange_rates", "marts.products_eur", "marts.top_products_daily"):
            unconstrained(con, relation)
        con.execute(
            "UPDATE staging.exchange_rates SET currency = 'XYZ' WHERE rate_date = DATE '2024-02-12' AND currency = 'JPY'"
        )
        con.execute(
            "INSERT INTO marts.products_eur SELECT * FROM marts.products_eur WHERE day = DATE '2024-02-12' LIMIT 1"
        )
        con.execute("UPDATE marts.top_products_daily SET rank = 6 WHERE day = DATE '2024-02-12' AND rank = 5")
        # another category on the run's day: outside the partition too
        con.execute(
            "INSERT INTO marts.top_products_daily SELECT * REPLACE (0 AS rank, 'men''s clothing' AS category) "
            "FROM marts.top_products_daily WHERE day = DATE '2024-02-13' AND rank = 1"
        )
        in_partitions = run_data_tests(con, None, MODELS, partitions_only=True)
        with pytest.raises(DataTestError) as raised:
            run_data_tests(con, None, MODELS)
    assert set(in_partitions.values()) == {0}
    for name in (
        "staging_exchange_rates_accepted_values_currency",
        "marts_products_eur_unique",
        "marts_top_products_daily_accepted_values_rank",
    ):
        assert name in str(raised.value)


def test_a_unique_key_without_partition_column_is_checked_across_the_table(tmp_path):
    """The partition is not part of the key: a duplicate of a key of the partition is found anywhere."""
    tree = tmp_path / "tree"
    (tree / "marts").mkdir(parents=True)
    (tree / "marts" / "items.yml").write_text(
        "model: marts.items\nunique: [item_id]\nnot_null: [item_id, day]\n"
        "accepted_values:\n  kind: [a, b]\npartition:\n  day: SELECT day FROM load_day\n",
        encoding="utf-8",
    )
    decl = declaration(tree / "marts" / "items.sql")
    unique = next(test for test in generic_tests(decl, partitions_only=True) if test.name == "marts_items_unique")
    assert "EXISTS" in unique.sql
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.items (item_id INTEGER, day DATE, kind VARCHAR)")
        con.execute(
            "INSERT INTO marts.items VALUES (1, DATE '2024-01-01', 'a'), (2, DATE '2024-01-01', 'a'), "
            "(1, DATE '2024-01-02', 'b'), (3, DATE '2024-01-03', 'b'), (3, DATE '2024-01-04', 'b')"
        )
        con.register("load_day", pd.DataFrame({"day": [dt.date(2024, 1, 2)]}))
        assert con.execute(unique.sql).fetchall() == [(1, 2)]  # item 3's duplicate is outside the partition
        con.register("load_day", pd.DataFrame({"day": [dt.date(2024, 1, 5)]}))
        assert con.execute(unique.sql).fetchall() == []


def test_generated_queries_are_plain_sql_that_bigquery_parses():
    for tree, models in ((SQL_DIR, PIPELINE_MODELS),):
        for model in models:
            for partitions_only in (False, True):
                for test in generic_tests(declaration(tree / model), partitions_only):
                    parsed = sqlglot.parse_one(test.sql, read="bigquery")
                    assert isinstance(parsed, (exp.Select, exp.Union)), test.name


def test_a_declaration_is_checked_when_read(tmp_path):
    folder = tmp_path / "marts"
    folder.mkdir()
    for text, problem in (
        ("model: marts.other\n", "declares 'marts.other'"),
        ("model: marts.items\nunique: item_id\n", "non-empty list"),
        ('model: marts.items\nunique: ["item_id; DROP TABLE x"]\n', "lower-case column names"),
        ("model: marts.items\naccepted_values:\n  kind: {values_from: nowhere}\n", "known lists"),
        ("model: marts.items\nuniq: [a]\n", "a declaration is a mapping"),
    ):
        (folder / "items.yml").write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=re.escape(problem)):
            declaration(folder / "items.sql")
    with pytest.raises(FileNotFoundError, match="no declaration"):
        declaration(folder / "nothing.sql")


# ---------------------------------------------------------------- the declarations and the DDL


def created_tables(tree: Path, models: tuple[str, ...]) -> duckdb.DuckDBPyConnection:
    """An empty database holding the tables (and views) that the models create."""
    con = duckdb.connect()
    for schema in ("raw", "staging", "marts", "ops"):
        con.execute(f"CREATE SCHEMA {schema}")
    for model in models:
        if tree == SQL_DIR and model in MACRO_CALLERS:  # the views call them (execute_models)
            for macros in MACROS:
                con.execute(sql_text(tree, macros))
        for statement in con.extract_statements(sql_text(tree, model)):
            if statement.type.name == "CREATE":
                con.execute(statement.query)
    return con


@pytest.mark.parametrize("tree, models", [(SQL_DIR, PIPELINE_MODELS)], ids=["pipeline"])
def test_declarations_state_what_the_ddl_enforces(tree, models):
    """unique is the primary key and not_null the NOT NULL columns: the guarantees BigQuery would lack."""
    with created_tables(tree, models) as con:
        for model in models:
            decl = declaration(tree / model)
            kind = relation_kind(con, decl.model)
            assert kind, f"{model} does not create {decl.model}"
            if kind == "VIEW":
                continue
            # A key the data test alone guarantees (no index; as in BigQuery) is stated in the DDL.
            enforced_by_tests_only = "No PRIMARY KEY" in (tree / model).read_text(encoding="utf-8")
            assert primary_key(con, decl.model) == (() if enforced_by_tests_only else decl.unique), decl.model
            not_null = [row[0] for row in con.execute(f"DESCRIBE {decl.model}").fetchall() if row[2] == "NO"]
            assert tuple(not_null) == decl.not_null, decl.model
            for column in [*decl.accepted_values, *decl.partition]:
                assert column in [row[0] for row in con.execute(f"DESCRIBE {decl.model}").fetchall()], column


# ---------------------------------------------------------------- one naming convention, headers


def model_files(tree: Path) -> list[Path]:
    """<schema>/<table>.sql of a tree (bigquery/ is the other dialect, macros/ defines what the models call)."""
    return sorted(p for p in tree.glob("*/*.sql") if p.parent.name not in ("tests", "bigquery", "macros"))


@pytest.mark.parametrize("tree, models", [(SQL_DIR, PIPELINE_MODELS)], ids=["pipeline"])
def test_one_naming_convention(tree, models):
    """<schema>/<table>.sql builds <schema>.<table>, declared in <schema>/<table>.yml; a singular test is
    tests/<schema>_<table>_<rule>.sql; every model is loaded, every declaration has its model."""
    files = model_files(tree)
    assert sorted(tree / model for model in models) == files
    assert sorted(p.with_suffix(".sql") for p in tree.glob("*/*.yml")) == files
    relations = set()
    for path in files:
        relation = f"{path.parent.name}.{path.stem}"
        created = [
            table_name(statement.this.find(exp.Table))
            for statement in sqlglot.parse(path.read_text(encoding="utf-8"), read="duckdb")
            if isinstance(statement, exp.Create)
        ]
        assert created == [relation], path
        assert declaration(path).model == relation
        relations.add(relation.replace(".", "_"))
    for test in (tree / "tests").rglob("*.sql"):  # tests/sales/ too
        if test.parent.name == "audit":  # the audit's scope (its views), not a test
            continue
        assert any(test.stem.startswith(prefix + "_") for prefix in relations), test.name


def header_reads(path: Path) -> list[str]:
    """The names listed under `-- Reads:` in a file's opening comment."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("-- Reads:")
    names = []
    for line in lines[start + 1 :]:
        match = re.match(r"--   (\S+)", line)
        if not match:
            break
        names.append(match.group(1))
    return names


def read_relations(path: Path) -> set[str]:
    """What the statements of a file read, found by parsing them: tables and views, less CTEs and the
    relation the file writes."""
    dialect = "bigquery" if path.parent.name == "bigquery" else "duckdb"
    tables, ctes, written = set(), set(), set()
    for statement in sqlglot.parse(path.read_text(encoding="utf-8"), read=dialect):
        ctes |= {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        if isinstance(statement, (exp.Create, exp.Insert, exp.Merge, exp.Delete)):
            target = statement.this.find(exp.Table) if statement.this else None
            if target is not None:
                written.add(table_name(target))
        tables |= {table_name(table) for table in statement.find_all(exp.Table)}
    return tables - ctes - written


@pytest.mark.parametrize("path", sorted(SQL_DIR.rglob("*.sql")), ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_every_sql_file_says_what_it_reads(path):
    listed = header_reads(path)
    assert len(listed) == len(set(listed))
    assert set(listed) == read_relations(path)
    # The registered views are described: who registers them and what they hold.
    text = path.read_text(encoding="utf-8")
    for name in listed:
        if "." not in name:
            assert re.search(rf"--   {name}\s+view registered by ", text), name


# ---------------------------------------------------------------- inserts by column name


def shuffled_tables(con: duckdb.DuckDBPyConnection, tree: Path, models: tuple[str, ...]) -> None:
    """Create the models' tables with their columns in reverse order and an extra column first, as a
    warehouse created elsewhere or altered later may have them."""
    with created_tables(tree, models) as reference:
        for model in models:
            relation = declaration(tree / model).model
            if relation_kind(reference, relation) == "VIEW":
                continue
            columns = reference.execute(f"DESCRIBE {relation}").fetchall()
            keys = primary_key(reference, relation)
            definitions = ["added_later VARCHAR"] + [
                f"{column} {kind}{' NOT NULL' if null == 'NO' else ''}" for column, kind, null, *_ in reversed(columns)
            ]
            if keys:
                definitions.append(f"PRIMARY KEY ({', '.join(keys)})")
            con.execute(f"CREATE TABLE {relation} ({', '.join(definitions)})")


def contents(con: duckdb.DuckDBPyConnection, tree: Path, models: tuple[str, ...]) -> dict[str, list]:
    """Every relation's rows, its columns in the order the model creates them."""
    result = {}
    with created_tables(tree, models) as reference:
        for model in models:
            relation = declaration(tree / model).model
            columns = ", ".join(row[0] for row in reference.execute(f"DESCRIBE {relation}").fetchall())
            result[relation] = con.execute(f"SELECT {columns} FROM {relation} ORDER BY ALL").fetchall()
    return result


def test_models_insert_by_column_name_whatever_the_column_order(tmp_path):
    loaded = {}
    for layout in ("as created", "shuffled"):
        with connect(tmp_path / f"{layout}.duckdb") as con:
            if layout == "shuffled":
                shuffled_tables(con, SQL_DIR, PIPELINE_MODELS)
            load_whole_case(con, loads=2)  # the MERGE's updates and the replaced days, too
            loaded[layout] = contents(con, SQL_DIR, PIPELINE_MODELS)
    assert loaded["shuffled"] == loaded["as created"]
    assert len(loaded["shuffled"]["marts.top_products_daily"]) == 10
    assert len(loaded["shuffled"]["staging.cart_lines"]) == 3  # CASE_CARTS' lines


# ---------------------------------------------------------------- singular tests on the load's partition


def test_a_partition_local_singular_test_reads_the_loads_partition_only(case, tmp_path):
    """A broken row on another day is not the load's to answer for; the same break on the load's
    day fails the test. Without the header line, a test reads its table whole."""
    from pricing_pipeline.warehouse.data_tests import PARTITION_LOCAL, DataTest, collect, limited_to_partition

    path, views = case
    name = "marts_products_eur_positive_prices"
    with scratch(path, tmp_path, views) as con:
        days = [day for (day,) in con.execute("SELECT day FROM run_days").fetchall()]
        # The case's load wrote two days of one category; a row of a day outside the load:
        con.execute(
            "INSERT INTO marts.products_eur SELECT * REPLACE (DATE '2020-01-01' AS day, -1 AS price_eur) "
            "FROM marts.products_eur LIMIT 1"
        )
        assert run_data_tests(con, PIPELINE_TESTS, PIPELINE_MODELS, partitions_only=True)[name] == 0
        with pytest.raises(DataTestError, match=name):
            run_data_tests(con, PIPELINE_TESTS, PIPELINE_MODELS)  # whole: the row is seen
        con.execute("UPDATE marts.products_eur SET price_eur = -1 WHERE day = ? AND product_id = 18", [days[0]])
        with pytest.raises(DataTestError, match=name):
            run_data_tests(con, PIPELINE_TESTS, PIPELINE_MODELS, partitions_only=True)
    # The same test without its header line, in a tree of its own: collected as written.
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "marts").mkdir()
    shutil.copy(SQL_DIR / "marts" / "products_eur.yml", tree / "marts")
    marked = (PIPELINE_TESTS / f"{name}.sql").read_text(encoding="utf-8")
    assert PARTITION_LOCAL in marked
    (tree / "tests" / f"{name}.sql").write_text(marked.replace(PARTITION_LOCAL, "\n--"), encoding="utf-8")
    [collected] = [t for t in collect(tree / "tests", ["marts/products_eur.sql"], True) if t.name == name]
    assert collected.sql == marked.replace(PARTITION_LOCAL, "\n--")
    limited = limited_to_partition(DataTest(name, marked), [declaration(SQL_DIR / "marts/products_eur.sql")])
    assert "run_days" in limited.sql and "run_category" in limited.sql
