"""The BigQuery statements of pricing.product_prices (full build and daily MERGE), parsed by sqlglot
and run in DuckDB against the DuckDB mart's rows.

BigQuery's tables are stood in for by DuckDB tables with BigQuery's types: NUMERIC holds decimals
with 9 digits after the point, so it becomes DECIMAL(38, 9). BIGNUMERIC, where the statements take
the integer products too large for INT64, becomes HUGEINT: both hold those integers exactly, and
DuckDB's integer division on HUGEINT is exact like BigQuery's DIV (on DECIMAL it would go through
a float).
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot
from sqlglot import exp

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.extract.parsing import parse_exchange_rates, parse_products
from pricing_pipeline.extract.sources import fetch_exchange_rates, fetch_products
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.warehouse.connection import connect
from tests.support.case_data import load_case

FULL_BUILD = SQL_DIR / "bigquery" / "product_prices.sql"
DAILY = SQL_DIR / "bigquery" / "product_prices_daily.sql"
TODAY = dt.date(2026, 11, 1)
COLUMNS = "day, product_id, currency, title, category, price_usd, price_minor, minor_unit, rate, usd_per_eur, rate_date"
# The BigQuery tables the statements read, from the warehouse's, with BigQuery's types.
BIGQUERY_TABLES = {
    "products_eur": "SELECT day, product_id, title, category, price_usd::DECIMAL(38,9) AS price_usd, "
    "price_eur::DECIMAL(38,9) AS price_eur, usd_per_eur::DECIMAL(38,9) AS usd_per_eur, rate_date, rating_rate, "
    "rating_count FROM marts.products_eur",
    "exchange_rates": "SELECT rate_date, base, currency, rate::DECIMAL(38,9) AS rate FROM staging.exchange_rates",
    "currency_minor_units": "SELECT currency, minor_unit, minor_units_per_unit FROM staging.currency_minor_units",
}


def parse(path) -> exp.Expression:
    return sqlglot.parse_one(path.read_text(encoding="utf-8"), read="bigquery")


def for_duckdb(expression: exp.Expression) -> str:
    """The statement in DuckDB's dialect, BIGNUMERIC as HUGEINT (see the module's docstring)."""

    def hugeint(node):
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.BIGDECIMAL:
            return exp.DataType.build("HUGEINT")
        return node

    return expression.transform(hugeint).sql(dialect="duckdb")


@pytest.fixture(scope="module")
def full_build() -> exp.Create:
    return parse(FULL_BUILD)


@pytest.fixture(scope="module")
def daily() -> exp.Merge:
    return parse(DAILY)


def mart(con, table: str = "marts.product_prices") -> list[tuple]:
    return con.execute(f"SELECT {COLUMNS} FROM {table} ORDER BY day, product_id, currency").fetchall()


def in_bigquery_tables(con, statements):
    """Run statements against the pricing.* stand-ins, in a transaction rolled back afterwards."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA pricing")
        for name, query in BIGQUERY_TABLES.items():
            con.execute(f"CREATE TABLE pricing.{name} AS {query}")
        return statements()
    finally:
        con.execute("ROLLBACK")


def full_build_rows(con, full_build) -> list[tuple]:
    select = full_build.expression
    return in_bigquery_tables(
        con,
        lambda: con.execute(
            f"SELECT {COLUMNS} FROM ({for_duckdb(select)}) ORDER BY day, product_id, currency"
        ).fetchall(),
    )


# ---------------------------------------------------------------- the statements


def test_full_build_is_a_create_table_partitioned_by_day(full_build):
    assert isinstance(full_build, exp.Create) and full_build.args["kind"] == "TABLE"
    assert (full_build.this.db, full_build.this.name) == ("pricing", "product_prices")
    partitions = list(full_build.find_all(exp.PartitionedByProperty))
    assert [c.name for c in partitions[0].find_all(exp.Identifier)] == ["day"]
    read = {t.name for t in full_build.expression.find_all(exp.Table) if t.db == "pricing"}  # not the CTEs
    assert read == {"products_eur", "exchange_rates", "currency_minor_units"}


def test_no_float_in_either_statement(full_build, daily):
    for statement in (full_build, daily):
        types = {d.this for d in statement.find_all(exp.DataType)}
        assert not types & {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
        assert {exp.DataType.Type.BIGDECIMAL, exp.DataType.Type.BIGINT} <= types


def test_daily_merge_replaces_the_run_dates_partition(daily):
    assert isinstance(daily, exp.Merge)
    assert (daily.this.db, daily.this.name) == ("pricing", "product_prices")
    assert isinstance(daily.args["on"], exp.Boolean) and daily.args["on"].this is False
    whens = daily.args["whens"].expressions
    delete, insert = whens
    assert delete.args.get("source") is True and isinstance(delete.args["then"], exp.Var)
    assert delete.args["condition"].sql(dialect="bigquery") == "target.day = @run_date"
    assert insert.args.get("matched") is False and isinstance(insert.args["then"], exp.Insert)


def test_daily_select_is_the_full_builds_for_one_day(full_build, daily):
    # The increment must not drift from the full build: the same query with `p.day = @run_date`.
    source = daily.args["using"].this.copy()
    where = [w for w in source.find_all(exp.Where) if w.find(exp.Parameter)]
    assert [w.this.sql(dialect="bigquery") for w in where] == ["p.day = @run_date"]
    where[0].pop()
    assert source.sql(dialect="bigquery") == full_build.expression.sql(dialect="bigquery")


# ---------------------------------------------------------------- the same rows as the mart


@pytest.fixture(scope="module")
def case_con(tmp_path_factory):
    with connect(tmp_path_factory.mktemp("case") / "w.duckdb") as con:
        load_case(con)
        yield con


@pytest.fixture(scope="module")
def gaps_con(tmp_path_factory):
    """The whole catalogue across ISK's and RUB's gaps, a Good Friday and a TRL day (rates up to 10^6)."""
    with connect(tmp_path_factory.mktemp("gaps") / "w.duckdb") as con:
        for start, end in (
            ("2004-12-30", "2005-01-04"),
            ("2008-12-08", "2008-12-11"),
            ("2022-02-28", "2022-03-03"),
            ("2024-03-28", "2024-04-02"),
        ):
            params = validate_parameters(start, end, "all", "offline", f"g{start}", today=TODAY)
            load_run(
                con,
                params,
                parse_exchange_rates(fetch_exchange_rates(params), params),
                parse_products(fetch_products(params), params),
            )
        yield con


def test_full_build_gives_the_mart_rows_on_the_case(case_con, full_build):
    rows = full_build_rows(case_con, full_build)
    assert rows == mart(case_con)
    assert len(rows) == 372


def test_full_build_gives_the_mart_rows_across_gaps_and_all_categories(gaps_con, full_build):
    rows = full_build_rows(gaps_con, full_build)
    assert rows == mart(gaps_con)
    currencies = {row[2] for row in rows}
    assert {"TRL", "ISK", "RUB", "JPY", "EUR"} <= currencies and len(rows) > 20 * 16 * 30


def test_full_build_returns_the_marts_columns(case_con, full_build):
    columns = [e.alias_or_name for e in full_build.expression.expressions]
    assert columns == [row[0] for row in case_con.execute("DESCRIBE marts.product_prices").fetchall()]


@pytest.mark.parametrize("run_date", ["2008-12-10", "2022-03-01", "2024-03-29"])
def test_daily_merge_turns_a_stale_partition_into_the_marts_rows(gaps_con, daily, run_date):
    day = dt.date.fromisoformat(run_date)

    def merge_twice():
        # The target holds every day as the mart does, except run_date: its partition lost a product,
        # carries a wrong price and a currency that day's publication does not hold.
        gaps_con.execute(f"CREATE TABLE pricing.product_prices AS SELECT {COLUMNS} FROM marts.product_prices")
        gaps_con.execute("DELETE FROM pricing.product_prices WHERE day = ? AND product_id = 1", [day])
        gaps_con.execute(
            "UPDATE pricing.product_prices SET price_minor = price_minor + 1 WHERE day = ? AND product_id = 2", [day]
        )
        gaps_con.execute(
            "INSERT INTO pricing.product_prices SELECT * REPLACE ('XXX' AS currency) FROM pricing.product_prices "
            "WHERE day = ? AND product_id = 3 AND currency = 'USD'",
            [day],
        )
        assert mart(gaps_con, "pricing.product_prices") != mart(gaps_con)
        merge = for_duckdb(daily)
        gaps_con.execute(merge, {"run_date": day})
        once = mart(gaps_con, "pricing.product_prices")
        gaps_con.execute(merge, {"run_date": day})  # a re-run of the day changes nothing
        return once, mart(gaps_con, "pricing.product_prices")

    once, twice = in_bigquery_tables(gaps_con, merge_twice)
    assert once == twice == mart(gaps_con)
