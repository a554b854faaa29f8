"""The top-5 SQL: the BigQuery statement, the DuckDB mart, and an independent pandas ranking.

Ranking rule (the case's): per day (and category), rating_rate desc, rating_count desc,
product_id asc; the first 5 rows.
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.common.paths import SQL_DIR
from pricing_pipeline.extract.parsing import PRODUCT_COLUMNS, RATE_COLUMNS
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.warehouse.connection import connect
from tests.support.case_data import load_case

BIGQUERY_SQL = SQL_DIR / "bigquery" / "top_products_daily.sql"
CATEGORY = "women's clothing"
TODAY = dt.date(2026, 1, 1)
KEY = ["day", "category", "rank", "product_id", "title", "rating_rate", "rating_count"]


def pandas_top5(products_by_day: pd.DataFrame) -> list[tuple]:
    """The independent ranking: sort, then the first 5 of each day and category."""
    ranked = products_by_day.sort_values(
        ["rating_rate", "rating_count", "product_id"], ascending=[False, False, True], kind="mergesort"
    )
    top = ranked.groupby(["day", "category"], sort=False).head(5).copy()
    top["rank"] = top.groupby(["day", "category"]).cumcount() + 1
    top = top.sort_values(["day", "category", "rank"])
    return [
        (
            row.day,
            row.category,
            int(row.rank),
            int(row.product_id),
            row.title,
            float(row.rating_rate),
            int(row.rating_count),
        )
        for row in top.itertuples(index=False)
    ]


def mart_top5(con, table: str = "marts.top_products_daily") -> list[tuple]:
    return [
        tuple(row)
        for row in con.execute(f"SELECT {', '.join(KEY)} FROM {table} ORDER BY day, category, rank").fetchall()
    ]


def usd_rates(day: dt.date, rate: float = 1.0873) -> pd.DataFrame:
    return pd.DataFrame([(pd.Timestamp(day), "EUR", "USD", rate)], columns=RATE_COLUMNS)


def load_day(con, day: dt.date, products: pd.DataFrame, category: str = CATEGORY) -> None:
    params = validate_parameters(day.isoformat(), day.isoformat(), category, "offline", "g", today=TODAY)
    load_run(con, params, usd_rates(day), products)


# ---------------------------------------------------------------- (a) the BigQuery statement


@pytest.fixture(scope="module")
def bigquery_statement() -> exp.Expression:
    return sqlglot.parse_one(BIGQUERY_SQL.read_text(encoding="utf-8"), read="bigquery")


def test_bigquery_sql_is_a_create_table_partitioned_by_day(bigquery_statement):
    assert isinstance(bigquery_statement, exp.Create)
    assert bigquery_statement.args["kind"] == "TABLE"
    partitions = list(bigquery_statement.find_all(exp.PartitionedByProperty))
    assert len(partitions) == 1
    assert [column.name for column in partitions[0].find_all(exp.Identifier)] == ["day"]
    table = bigquery_statement.this
    assert (table.db, table.name) == ("pricing", "top_products_daily")
    assert bigquery_statement.expression.find(exp.Table).name == "products_eur"


def test_bigquery_sql_ranks_with_row_number_by_the_rule(bigquery_statement):
    windows = list(bigquery_statement.find_all(exp.Window))
    assert len(windows) == 1
    window = windows[0]
    assert isinstance(window.this, exp.RowNumber)
    assert [e.name for e in window.args["partition_by"]] == ["day", "category"]
    order = [(o.this.name, bool(o.args.get("desc"))) for o in window.args["order"].expressions]
    assert order == [("rating_rate", True), ("rating_count", True), ("product_id", False)]
    where = bigquery_statement.expression.args["where"].this
    assert isinstance(where, exp.LTE) and where.this.name == "rank" and where.expression.name == "5"


# ---------------------------------------------------------------- (b) the case data


@pytest.fixture(scope="module")
def case_con(tmp_path_factory):
    with connect(tmp_path_factory.mktemp("case") / "w.duckdb") as con:
        params, products = load_case(con)
        by_day = pd.concat([products.assign(day=day) for day in params.days], ignore_index=True)
        yield con, by_day


def test_case_mart_equals_the_pandas_ranking(case_con):
    con, by_day = case_con
    expected = pandas_top5(by_day)
    assert mart_top5(con) == expected
    assert len(expected) == 10


def test_case_top5_by_hand(case_con):
    # Ratings in the body: 18: 4.7, 19: 4.5, 17: 3.8, 20: 3.6, 16: 2.9, 15: 2.6 (left out).
    con, _ = case_con
    for day in (dt.date(2024, 2, 12), dt.date(2024, 2, 13)):
        ids = [row[3] for row in mart_top5(con) if row[0] == day]
        assert ids == [18, 19, 17, 20, 16]


# ---------------------------------------------------------------- (b) generated data full of ties


def generated_days(seed: int = 20240212) -> dict[dt.date, pd.DataFrame]:
    generator = random.Random(seed)
    sizes = [12, 3, 9, 1, 7, 15, 4, 6, 10, 2, 8, 5, 11, 6]  # more and fewer than 5 products
    days = {}
    first = dt.date(2024, 1, 1)
    for offset, size in enumerate(sizes):
        day = first + dt.timedelta(days=offset)
        ids = generator.sample(range(1, 80), size)
        rows = [
            (
                pid,
                f"product {pid}",
                generator.choice([9.99, 19.5, 0.99, 120.0]),
                "generated",
                CATEGORY,
                "http://img.test/p.png",
                generator.choice([5.0, 4.5, 4.5, 4.5, 4.0, 4.0, 3.1, 0.0]),
                generator.choice([0, 7, 7, 7, 120, 120]),
            )
            for pid in ids
        ]
        days[day] = pd.DataFrame(rows, columns=PRODUCT_COLUMNS)
    # One day where every product ties on rating and count: the 5 lowest ids win.
    tied_day = first + dt.timedelta(days=len(sizes))
    ids = generator.sample(range(1, 80), 9)
    days[tied_day] = pd.DataFrame(
        [(pid, f"product {pid}", 10.0, "tied", CATEGORY, "http://img.test/p.png", 4.5, 7) for pid in ids],
        columns=PRODUCT_COLUMNS,
    )
    return days


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    days = generated_days()
    with connect(tmp_path_factory.mktemp("generated") / "w.duckdb") as con:
        for day, products in days.items():
            load_day(con, day, products)
        by_day = pd.concat([frame.assign(day=day) for day, frame in days.items()], ignore_index=True)
        yield con, by_day, days


def test_generated_data_is_full_of_ties(generated):
    _, by_day, days = generated
    sizes = [len(frame) for frame in days.values()]
    assert any(size > 5 for size in sizes) and any(size < 5 for size in sizes)
    # Ties on (rating, count) inside a day, several of them across the 5th place.
    duplicated = by_day.duplicated(["day", "rating_rate", "rating_count"], keep=False)
    assert duplicated.sum() > len(by_day) / 3
    ranked = by_day.sort_values(["rating_rate", "rating_count", "product_id"], ascending=[False, False, True])
    boundary_ties = 0
    for _, group in ranked.groupby("day"):
        if len(group) > 5:
            fifth, sixth = group.iloc[4], group.iloc[5]
            boundary_ties += (fifth.rating_rate, fifth.rating_count) == (sixth.rating_rate, sixth.rating_count)
    assert boundary_ties >= 2


def test_generated_mart_equals_the_pandas_ranking(generated):
    con, by_day, days = generated
    expected = pandas_top5(by_day)
    assert mart_top5(con) == expected
    per_day = pd.Series([row[0] for row in expected]).value_counts()
    assert {day: per_day[day] for day in days} == {day: min(5, len(frame)) for day, frame in days.items()}


def test_generated_all_tied_day_keeps_the_five_lowest_ids(generated):
    con, _, days = generated
    tied_day = max(days)
    expected_ids = sorted(days[tied_day]["product_id"])[:5]
    assert [row[3] for row in mart_top5(con) if row[0] == tied_day] == expected_ids


def test_categories_are_ranked_separately(tmp_path):
    day = dt.date(2024, 3, 4)
    women = pd.DataFrame(
        [(pid, f"w{pid}", 10.0, "d", CATEGORY, "i", 4.0 + pid / 10, 5) for pid in range(1, 8)],
        columns=PRODUCT_COLUMNS,
    )
    men = pd.DataFrame(
        [(pid, f"m{pid}", 10.0, "d", "men's clothing", "i", 4.9, 5) for pid in (101, 102)],
        columns=PRODUCT_COLUMNS,
    )
    with connect(tmp_path / "w.duckdb") as con:
        load_day(con, day, women)
        load_day(con, day, men, "men's clothing")
        rows = mart_top5(con)
        expected = pandas_top5(pd.concat([women, men], ignore_index=True).assign(day=day))
    assert rows == expected
    assert [(r[1], r[2], r[3]) for r in rows if r[1] == "men's clothing"] == [
        ("men's clothing", 1, 101),
        ("men's clothing", 2, 102),
    ]
    assert [r[3] for r in rows if r[1] == CATEGORY] == [7, 6, 5, 4, 3]


# ---------------------------------------------------------------- (c) the BigQuery SQL run in DuckDB


def run_bigquery_select_in_duckdb(con, bigquery_statement) -> list[tuple]:
    select = bigquery_statement.expression
    assert isinstance(select, exp.Select)
    duckdb_sql = select.sql(dialect="duckdb")
    assert '"pricing"."products_eur"' in duckdb_sql
    # A table named as the statement expects, in a transaction rolled back afterwards.
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE SCHEMA pricing")
        con.execute("CREATE TABLE pricing.products_eur AS SELECT * FROM marts.products_eur")
        con.execute(f"CREATE TEMP TABLE bq_top AS {duckdb_sql}")
        return mart_top5(con, "bq_top")
    finally:
        con.execute("ROLLBACK")


def test_bigquery_sql_gives_the_mart_rows_on_the_case(case_con, bigquery_statement):
    con, _ = case_con
    assert run_bigquery_select_in_duckdb(con, bigquery_statement) == mart_top5(con)


def test_bigquery_sql_gives_the_mart_rows_on_generated_ties(generated, bigquery_statement):
    con, _, _ = generated
    rows = run_bigquery_select_in_duckdb(con, bigquery_statement)
    assert rows == mart_top5(con)
    assert len(rows) > 40


def test_bigquery_sql_returns_every_column_of_the_mart(case_con, bigquery_statement):
    con, _ = case_con
    select = bigquery_statement.expression
    columns = [e.alias_or_name for e in select.expressions]
    mart_columns = [row[0] for row in con.execute("DESCRIBE marts.top_products_daily").fetchall()]
    assert columns == mart_columns
