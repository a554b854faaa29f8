"""marts.product_versions: type-2 versions from daily snapshots, checked on snapshots written by
hand with the versions each must give."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb

from pricing_pipeline.warehouse.connection import sql_text

OPEN_END = dt.date(9999, 12, 31)


def day(n: int) -> dt.date:
    return dt.date(2024, 3, n)


# (day, product, category, title, price)
SNAPSHOTS = [
    *[(day(n), 1, "a", "steady", "10.00") for n in (1, 2, 3)],
    (day(1), 2, "a", "repriced", "20.00"),
    *[(day(n), 2, "a", "repriced", "18.00") for n in (2, 3)],
    (day(1), 3, "a", "away a day", "5.00"),
    (day(3), 3, "a", "away a day", "5.00"),
    *[(day(n), 4, "b", "category b, not run on day 2", "7.00") for n in (1, 3)],
    *[(day(n), 5, "a", "left", "3.00") for n in (1, 2)],
    (day(1), 6, "a", "renamed", "4.00"),
    (day(2), 6, "a", "renamed!", "4.00"),
    (day(3), 6, "b", "renamed!", "4.00"),  # moved to category b
]

EXPECTED = [
    (1, day(1), OPEN_END, True, "10.00"),
    (2, day(1), day(2), False, "20.00"),
    (2, day(2), OPEN_END, True, "18.00"),
    (3, day(1), day(2), False, "5.00"),  # missing on day 2, its category's next snapshot
    (3, day(3), OPEN_END, True, "5.00"),
    (4, day(1), OPEN_END, True, "7.00"),  # a day without a snapshot of its category is no gap
    (5, day(1), day(3), False, "3.00"),  # gone: no current version
    (6, day(1), day(2), False, "4.00"),
    (6, day(2), day(3), False, "4.00"),
    (6, day(3), OPEN_END, True, "4.00"),
]


def test_versions_open_on_a_change_or_a_return_and_close_when_the_category_stops_listing_them():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE staging.product_snapshots (snapshot_date DATE, product_id INTEGER, category VARCHAR, "
        "title VARCHAR, price_usd DECIMAL(10, 2))"
    )
    con.executemany("INSERT INTO staging.product_snapshots VALUES (?, ?, ?, ?, ?)", SNAPSHOTS)
    con.execute(sql_text("marts/product_versions.sql"))
    got = con.execute(
        "SELECT product_id, valid_from, valid_to, is_current, price_usd FROM marts.product_versions"
    ).fetchall()
    assert sorted(got) == sorted((p, f, t, c, Decimal(price)) for p, f, t, c, price in EXPECTED)
    versions = con.execute(
        "SELECT product_id, list(version_number ORDER BY valid_from) FROM marts.product_versions GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert versions == [(1, [1]), (2, [1, 2]), (3, [1, 2]), (4, [1]), (5, [1]), (6, [1, 2, 3])]
