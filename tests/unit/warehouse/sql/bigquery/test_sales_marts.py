"""The BigQuery statements of the sales marts (pricing.sales_lines, pricing.sales_daily, each a full
build and a daily MERGE, and the view pricing.sales_line_amounts), parsed by sqlglot and run in
DuckDB against the DuckDB marts' rows: on the recorded carts booked in one run, and run after run
over a source that changes (returns, further sales, late sales, a line gone and back, a re-run).

BigQuery's tables are stood in for by DuckDB tables with BigQuery's types, as in
test_product_prices.py: INT64 is BIGINT, NUMERIC (9 digits after the point) DECIMAL(38, 9), and
BIGNUMERIC, where the statements take the integer products too large for INT64, HUGEINT (both hold
those integers exactly, and DuckDB's integer division on HUGEINT is exact like BigQuery's DIV). The
stand-ins are copied from the DuckDB warehouse's staging tables after each of its runs: what a
BigQuery load would hold. The DuckDB marts' own rows are checked against Python's decimal and the
ECB file in tests/unit/sales/test_sales.py.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.warehouse.connection import quoted_path
from tests.support.ecb_reference import ecb_table, rate_in_force
from tests.support.sales_warehouse import Warehouse, recorded_carts

BIGQUERY = SQL_DIR / "bigquery"
LINES, LINES_DAILY = BIGQUERY / "sales_lines.sql", BIGQUERY / "sales_lines_daily.sql"
DAILY, DAILY_DAILY = BIGQUERY / "sales_daily.sql", BIGQUERY / "sales_daily_daily.sql"
AMOUNTS = BIGQUERY / "sales_line_amounts.sql"

# Each relation's columns, in the DuckDB model's order, and its key: the rows compared.
RELATIONS = {
    "sales_lines": (
        "booked_day, sale_day, cart_id, product_id, user_id, category, kind, sale_booked_day, quantity_before, "
        "quantity_after, quantity, price_usd, snapshot_date, amount_usd, amount_eur, usd_per_eur, rate_date",
        "booked_day, cart_id, product_id",
    ),
    "sales_daily": (
        "basis, day, category, units_sold, units_returned, net_units, gross_usd, returns_usd, net_usd, "
        "gross_eur, returns_eur, net_eur",
        "basis, day, category",
    ),
    "sales_line_amounts": (
        "booked_day, sale_day, cart_id, product_id, currency, category, kind, quantity, amount_minor, minor_unit, "
        "rate, usd_per_eur, rate_date",
        "booked_day, cart_id, product_id, currency",
    ),
}
# The BigQuery tables the statements read, from the DuckDB warehouse's (attached as `wh`), with
# BigQuery's types.
INPUTS = {
    "cart_lines": "SELECT cart_day, CAST(cart_id AS BIGINT) AS cart_id, CAST(product_id AS BIGINT) AS product_id, "
    "CAST(user_id AS BIGINT) AS user_id, CAST(quantity AS BIGINT) AS quantity, category FROM wh.staging.cart_lines",
    "product_snapshots": "SELECT snapshot_date, CAST(product_id AS BIGINT) AS product_id, title, "
    "CAST(price_usd AS DECIMAL(38, 9)) AS price_usd, category FROM wh.staging.product_snapshots",
    "exchange_rates": "SELECT rate_date, base, currency, CAST(rate AS DECIMAL(38, 9)) AS rate FROM wh.staging.exchange_rates",
    "currency_minor_units": "SELECT currency, CAST(minor_unit AS BIGINT) AS minor_unit, minor_units_per_unit "
    "FROM wh.staging.currency_minor_units",
}


def parse(path) -> exp.Expression:
    return sqlglot.parse_one(path.read_text(encoding="utf-8"), read="bigquery")


def for_duckdb(expression: exp.Expression) -> str:
    """The statement in DuckDB's dialect, with BigQuery's types (see the module's docstring)."""

    def bigquery_types(node):
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.BIGDECIMAL:
            return exp.DataType.build("HUGEINT")
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.DECIMAL and not node.expressions:
            return exp.DataType.build("DECIMAL(38, 9)")
        return node

    return expression.transform(bigquery_types).sql(dialect="duckdb")


def statement(path, replace: tuple[str, str] | None = None) -> str:
    """A file's statement for DuckDB: a full build's SELECT as a plain CREATE TABLE (DuckDB has no
    PARTITION BY, CLUSTER BY or OPTIONS), a view's as a plain view, a MERGE as it is. `replace`
    changes the text first (the mutants)."""
    text = path.read_text(encoding="utf-8")
    if replace is not None:
        assert replace[0] in text, replace
        text = text.replace(*replace)
    tree = sqlglot.parse_one(text, read="bigquery")
    if isinstance(tree, exp.Create):
        kind = "VIEW" if tree.args["kind"] == "VIEW" else "TABLE"
        return f"CREATE OR REPLACE {kind} pricing.{tree.this.name} AS {for_duckdb(tree.expression)}"
    return for_duckdb(tree)


def rows(con, relation: str, schema: str = "pricing") -> list[tuple]:
    columns, key = RELATIONS[relation]
    return con.execute(f"SELECT {columns} FROM {schema}.{relation} ORDER BY {key}").fetchall()


def marts(warehouse: Warehouse) -> dict[str, list[tuple]]:
    return {
        relation: warehouse.query(f"SELECT {c} FROM marts.{relation} ORDER BY {k}")
        for relation, (c, k) in RELATIONS.items()
    }


class BigQuery:
    """An in-memory DuckDB standing in for the BigQuery dataset `pricing`: its input tables copied
    from a warehouse, its marts built by the BigQuery statements."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None):
        self.con = con or duckdb.connect()
        self.con.execute("CREATE SCHEMA IF NOT EXISTS pricing")

    def copy_inputs(self, warehouse: Warehouse) -> None:
        self.con.execute(f"ATTACH '{quoted_path(warehouse.path)}' AS wh (READ_ONLY)")
        try:
            for name, query in INPUTS.items():
                self.con.execute(f"CREATE OR REPLACE TABLE pricing.{name} AS {query}")
        finally:
            self.con.execute("DETACH wh")

    def empty_marts(self) -> None:
        """The full builds over no cart line: the empty tables the daily statements fill."""
        self.con.execute("DELETE FROM pricing.cart_lines")
        self.full_builds()

    def full_builds(self, lines: str | None = None) -> None:
        self.con.execute(lines or statement(LINES))
        self.con.execute(statement(DAILY))
        self.con.execute(statement(AMOUNTS))

    def daily(self, start: str, end: str, lookback: int, lines: str | None = None, daily: str | None = None) -> None:
        params = {"run_start": dt.date.fromisoformat(start), "run_end": dt.date.fromisoformat(end)}
        params["lookback_days"] = lookback
        self.con.execute(lines or statement(LINES_DAILY), params)
        self.con.execute(daily or statement(DAILY_DAILY), params)

    def marts(self) -> dict[str, list[tuple]]:
        return {relation: rows(self.con, relation) for relation in RELATIONS}


# ---------------------------------------------------------------- the statements


@pytest.mark.parametrize(
    ("path", "partitioned_by", "clustered_by"),
    [(LINES, "booked_day", ["category", "cart_id"]), (DAILY, "day", ["basis", "category"])],
    ids=["sales_lines", "sales_daily"],
)
def test_full_builds_are_create_tables_partitioned_by_the_day_a_run_replaces(path, partitioned_by, clustered_by):
    tree = parse(path)
    assert isinstance(tree, exp.Create) and tree.args["kind"] == "TABLE"
    assert (tree.this.db, tree.this.name) == ("pricing", path.stem)
    [partition] = list(tree.find_all(exp.PartitionedByProperty))
    assert [c.name for c in partition.find_all(exp.Identifier)] == [partitioned_by]
    [cluster] = list(tree.find_all(exp.ClusterProperty))
    assert [c.name for c in cluster.find_all(exp.Identifier)][:2] == clustered_by


def test_sales_line_amounts_is_a_view():
    tree = parse(AMOUNTS)
    assert isinstance(tree, exp.Create) and tree.args["kind"] == "VIEW"
    assert (tree.this.db, tree.this.name) == ("pricing", "sales_line_amounts")


def test_no_float_and_the_products_in_bignumeric():
    for path in (LINES, LINES_DAILY, AMOUNTS):
        types = {d.this for d in parse(path).find_all(exp.DataType)}
        assert not types & {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}, path.name
        assert {exp.DataType.Type.BIGDECIMAL, exp.DataType.Type.BIGINT} <= types, path.name
    for path in (DAILY, DAILY_DAILY):  # sums of the facts' NUMERIC amounts
        assert not {d.this for d in parse(path).find_all(exp.DataType)} & {
            exp.DataType.Type.DOUBLE,
            exp.DataType.Type.FLOAT,
        }
    for path in (LINES, LINES_DAILY, DAILY, DAILY_DAILY, AMOUNTS):  # a bare 0.01 would be a FLOAT64 in BigQuery
        assert not re.search(r"(?<!')\b\d+\.\d+\b(?!')", re.sub(r"--.*", "", path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("path", "deleted"),
    [
        (LINES_DAILY, "target.booked_day BETWEEN @run_start AND @run_end"),
        (
            DAILY_DAILY,
            "((target.basis = 'booked' AND target.day BETWEEN @run_start AND @run_end) OR (target.basis = 'restated' "
            "AND target.day BETWEEN DATE_SUB(@run_start, INTERVAL (@lookback_days) DAY) AND @run_end))",
        ),
    ],
    ids=["sales_lines", "sales_daily"],
)
def test_daily_merges_replace_the_runs_partitions(path, deleted):
    merge = parse(path)
    assert isinstance(merge, exp.Merge)
    assert (merge.this.db, merge.this.name) == ("pricing", path.stem.removesuffix("_daily"))
    assert isinstance(merge.args["on"], exp.Boolean) and merge.args["on"].this is False
    delete, insert = merge.args["whens"].expressions
    assert delete.args.get("source") is True and isinstance(delete.args["then"], exp.Var)
    assert delete.args["condition"].sql(dialect="bigquery") == deleted
    assert insert.args.get("matched") is False and isinstance(insert.args["then"], exp.Insert)


def ctes(select: exp.Expression) -> dict[str, str]:
    return {cte.alias: cte.this.sql(dialect="bigquery") for cte in select.find_all(exp.CTE)}


def test_daily_sales_lines_prices_as_the_full_build():
    # The increment must not drift from the full build: the same rates and snapshots in force, the
    # same amounts (outer SELECT), whatever the facts are.
    full = parse(LINES).expression
    daily = parse(LINES_DAILY).args["using"].this
    for name in ("usd_rates", "snapshots", "scaled"):
        assert ctes(daily)[name] == ctes(full)[name], name
    outer = [e.sql(dialect="bigquery") for e in full.expressions]
    assert [e.sql(dialect="bigquery") for e in daily.expressions] == outer


def test_daily_sales_daily_is_the_full_builds_on_the_runs_days():
    source = parse(DAILY_DAILY).args["using"].this.copy()
    where = [w for w in source.find_all(exp.Where) if w.find(exp.Parameter)]
    assert len(where) == 2
    for clause in where:
        clause.pop()
    assert source.sql(dialect="bigquery") == parse(DAILY).expression.sql(dialect="bigquery")


# ---------------------------------------------------------------- the same rows as the marts


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The recorded carts booked in one run over their whole range, as `make run` books them."""
    warehouse = Warehouse(tmp_path_factory.mktemp("recorded") / "warehouse.duckdb")
    warehouse.sales("2020-01-01", "2020-03-02", recorded_carts())
    return warehouse, marts(warehouse)


def test_full_builds_give_the_marts_rows_on_the_recorded_carts(recorded):
    warehouse, expected = recorded
    bigquery = BigQuery()
    bigquery.copy_inputs(warehouse)
    bigquery.full_builds()
    assert bigquery.marts() == expected
    assert len(expected["sales_lines"]) == 14 and {row[6] for row in expected["sales_lines"]} == {"sale"}
    # Every fact in EUR and in each currency of its day's publication.
    published = {len(ecb_table()[rate_in_force(row[1])[0]]) + 1 for row in expected["sales_lines"]}
    assert len(expected["sales_line_amounts"]) == 14 * published.pop() and not published


def test_the_daily_merges_over_the_same_range_give_the_same_rows(recorded):
    warehouse, expected = recorded
    bigquery = BigQuery()
    bigquery.copy_inputs(warehouse)
    bigquery.empty_marts()
    bigquery.copy_inputs(warehouse)
    bigquery.daily("2020-01-01", "2020-03-02", 3)
    assert bigquery.marts() == expected


def source_on(day: str) -> list:
    """The carts as the source holds them when the scenario's run of `day` reads them."""
    carts = recorded_carts()
    if day <= "2020-03-01":
        return carts
    # By 2020-03-03: cart 3 returns one unit of product 1 (2 -> 1); cart 5 takes 3 of product 7 (1 -> 3);
    # cart 7 is gone; a cart 8 dated 2020-03-01 arrives late (and cart 1, of 2020-03-02, was not read yet).
    changed = [c for c in carts if c["id"] != 7]
    for cart in changed:
        if cart["id"] == 3:
            cart["products"][0]["quantity"] = 1
        if cart["id"] == 5:
            cart["products"][0]["quantity"] = 3
    changed.append(
        {"id": 8, "userId": 9, "date": "2020-03-01T00:00:00.000Z", "products": [{"productId": 18, "quantity": 2}]}
    )
    if day == "2020-03-03":
        return changed
    # By 2020-03-05: cart 3 is gone (both its lines returned), cart 7 is back (sold again after its
    # return), cart 5 drops to 2 of product 7, and cart 9 is sold that day.
    later = [c for c in changed if c["id"] != 3]
    later.append(
        {"id": 7, "userId": 8, "date": "2020-03-01T00:00:00.000Z", "products": [{"productId": 18, "quantity": 1}]}
    )
    for cart in later:
        if cart["id"] == 5:
            cart["products"][0]["quantity"] = 2
    later.append(
        {"id": 9, "userId": 2, "date": "2020-03-05T00:00:00.000Z", "products": [{"productId": 4, "quantity": 5}]}
    )
    return later


# (first day, last day, lookback): two days of January (facts that no later window reaches), a day
# alone, a day two days on with its lookback, the same day again, and a two-day run.
RUNS = [
    ("2020-01-01", "2020-01-02", 0),
    ("2020-03-01", "2020-03-01", 0),
    ("2020-03-03", "2020-03-03", 3),
    ("2020-03-03", "2020-03-03", 3),
    ("2020-03-04", "2020-03-05", 3),
]


class Scenario:
    """The runs of RUNS booked in DuckDB: after each, the BigQuery inputs (in `inputs`, schema
    run_<i>) and the DuckDB marts' rows."""

    def __init__(self, path):
        warehouse = Warehouse(path)
        self.inputs = BigQuery()
        self.expected = []
        for index, (start, end, lookback) in enumerate(RUNS):
            warehouse.sales(start, end, source_on(end), lookback=lookback)
            self.inputs.copy_inputs(warehouse)
            self.inputs.con.execute(f"CREATE SCHEMA run_{index}")
            for name in INPUTS:
                self.inputs.con.execute(f"CREATE TABLE run_{index}.{name} AS SELECT * FROM pricing.{name}")
            self.expected.append(marts(warehouse))

    def replay(self, lines: str | None = None, daily: str | None = None) -> list[dict[str, list[tuple]]]:
        """The BigQuery side: the empty marts, then the daily statements after each run; the marts'
        rows after each."""
        con = self.inputs.con
        con.execute("DROP SCHEMA pricing CASCADE")
        bigquery = BigQuery(con)
        found = []
        for index, (start, end, lookback) in enumerate(RUNS):
            for name in INPUTS:
                con.execute(f"CREATE OR REPLACE TABLE pricing.{name} AS SELECT * FROM run_{index}.{name}")
            if index == 0:
                bigquery.empty_marts()
                con.execute(f"CREATE OR REPLACE TABLE pricing.cart_lines AS SELECT * FROM run_{index}.cart_lines")
            bigquery.daily(start, end, lookback, lines, daily)
            found.append(bigquery.marts())
        return found


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return Scenario(tmp_path_factory.mktemp("scenario") / "warehouse.duckdb")


def test_the_scenario_books_every_kind_of_fact(scenario):
    final = scenario.expected[-1]["sales_lines"]
    assert {row[6] for row in final} == {"sale", "late_sale", "further_sale", "return"}
    # Cart 7's line: sold on 03-01, gone by 03-03 (returned), back by 03-05 (sold further).
    assert [(row[0], row[6], row[10]) for row in final if row[2] == 7] == [
        (dt.date(2020, 3, 1), "sale", 1),
        (dt.date(2020, 3, 3), "return", -1),
        (dt.date(2020, 3, 4), "further_sale", 1),
    ]
    assert scenario.expected[2] == scenario.expected[3]  # the re-run changed nothing


def test_daily_merges_run_after_run_give_the_marts_rows_after_each_run(scenario):
    found = scenario.replay()
    for index, (expected, bigquery) in enumerate(zip(scenario.expected, found, strict=True)):
        for relation in RELATIONS:
            assert bigquery[relation] == expected[relation], (RUNS[index], relation)


def test_a_full_build_books_the_source_as_it_stands_now(scenario):
    # No history: the lines as the source holds them after the last run, each a sale on its own day,
    # whose quantity and EUR amount are what the facts of the DuckDB mart add up to for that line.
    con = scenario.inputs.con
    con.execute(f"CREATE OR REPLACE TABLE pricing.cart_lines AS SELECT * FROM run_{len(RUNS) - 1}.cart_lines")
    con.execute(statement(LINES))
    built = con.execute(
        "SELECT cart_id, product_id, quantity, amount_eur FROM pricing.sales_lines ORDER BY ALL"
    ).fetchall()
    held: dict = {}
    for row in scenario.expected[-1]["sales_lines"]:
        quantity, amount = held.get((row[2], row[3]), (0, 0))
        held[(row[2], row[3])] = (quantity + row[10], amount + row[14])
    assert built == sorted((cart, product, q, a) for (cart, product), (q, a) in held.items() if q)
    assert {kind for (kind,) in con.execute("SELECT DISTINCT kind FROM pricing.sales_lines").fetchall()} == {"sale"}


# ---------------------------------------------------------------- the comparison can fail

# A wrong statement gives other rows than the marts': each change of the text, made to one statement.
FULL_BUILD_MUTANTS = {
    "rounded down, not half-up": (LINES, ("+ rate_millionths), (2 * rate_millionths)", "), (2 * rate_millionths)")),
    "the publication before the one in force": (LINES, ("l.cart_day >= r.rate_date", "l.cart_day > r.rate_date")),
    "the latest snapshot, not the one in force": (
        LINES,
        (
            "l.cart_day >= s.valid_from\n       AND (s.valid_until IS NULL OR l.cart_day < s.valid_until)",
            "s.valid_until IS NULL",
        ),
    ),
}
DAILY_MUTANTS = {
    "the run's own facts taken as held": (LINES_DAILY, ("AND booked_day < @run_start", "AND booked_day <= @run_end")),
    "no partition deleted": (LINES_DAILY, ("target.booked_day BETWEEN", "FALSE AND target.booked_day BETWEEN")),
    "late sales booked on their sale's day": (
        DAILY_DAILY,
        ("'booked' AS basis, booked_day", "'booked' AS basis, sale_day"),
    ),
    "restated days outside the window rebuilt": (
        DAILY_DAILY,
        ("WHERE sale_day BETWEEN", "WHERE sale_day IS NOT NULL OR sale_day BETWEEN"),
    ),
}


@pytest.mark.parametrize("mutant", FULL_BUILD_MUTANTS)
def test_a_changed_full_build_gives_other_rows(recorded, mutant):
    warehouse, expected = recorded
    path, change = FULL_BUILD_MUTANTS[mutant]
    bigquery = BigQuery()
    bigquery.copy_inputs(warehouse)
    bigquery.full_builds(lines=statement(path, change))
    assert bigquery.marts()["sales_lines"] != expected["sales_lines"]


@pytest.mark.parametrize("mutant", DAILY_MUTANTS)
def test_a_changed_daily_merge_gives_other_rows(scenario, mutant):
    path, change = DAILY_MUTANTS[mutant]
    changed = statement(path, change)
    found = scenario.replay(**({"lines": changed} if path == LINES_DAILY else {"daily": changed}))
    assert found != scenario.expected
