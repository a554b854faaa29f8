"""Every category and the whole catalogue, end to end through the runner.

Each of the four categories is run on the case's days (recorded source, one warehouse); the whole
catalogue (`all`) is run on the same days in another, live against a local server, and offline on
a Good Friday. Their prices are checked against the decimal computation of
tests/support/prices_reference.py, and the four category runs together must hold what `all` holds.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from pytest_httpserver import HTTPServer

from pricing_pipeline.common.categories import known_categories
from pricing_pipeline.common.paths import RunPaths
from tests.support.carts import CARTS_PATH, carts_query, serve_recorded_carts
from tests.support.paths import PROJECT_ROOT, RECORDINGS, RUNNER
from tests.support.prices_reference import csv_rows, expected_rows
from tests.support.warehouse_queries import query

CASE_DAYS = (dt.date(2024, 2, 12), dt.date(2024, 2, 13))
CATALOGUE = json.loads((RECORDINGS / "fakestore" / "products.json").read_bytes(), parse_float=Decimal)
PRICES = {record["id"]: Decimal(str(record["price"])) for record in CATALOGUE}
PRICE_COLUMNS = "day, product_id, currency, category, price_minor, minor_unit, rate, usd_per_eur, rate_date"
TOP_COLUMNS = "day, category, rank, product_id"


# The case's two days, as runner options.
CASE_SPAN = ("--start", "2024-02-12", "--end", "2024-02-13")


def run(data_dir, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(RUNNER), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def csv_prices(data_dir, run_id: str) -> dict[tuple, tuple]:
    """The run's deliverables in the shape of prices_reference.expected_rows."""
    return csv_rows(RunPaths(data_dir, run_id).output)


@pytest.fixture(scope="module")
def category_runs(tmp_path_factory):
    data = tmp_path_factory.mktemp("categories") / "data"
    outputs = {}
    for category in known_categories():
        run(
            data,
            *CASE_SPAN,
            "--source",
            "recorded",
            "--category",
            category,
            "--run-id",
            f"c{len(outputs)}",
        )
        outputs[category] = csv_prices(data, f"c{len(outputs)}")
    return data, outputs


@pytest.fixture(scope="module")
def all_live(tmp_path_factory):
    """`all` on the case's days, live: the server answers the rates range, GET /products and the
    carts of the sales."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/2024-02-12..2024-02-13", method="GET").respond_with_data(
        (RECORDINGS / "frankfurter" / "2024-02-12..2024-02-13.json").read_bytes(), content_type="application/json"
    )
    server.expect_request("/products", method="GET").respond_with_data(
        (RECORDINGS / "fakestore" / "products.json").read_bytes(), content_type="application/json"
    )
    serve_recorded_carts(server)
    server.start()
    try:
        base = server.url_for("/").rstrip("/")
        env = dict(
            os.environ,
            FRANKFURTER_BASE_URL=base,
            FAKESTORE_BASE_URL=base,
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        data = tmp_path_factory.mktemp("all") / "data"
        result = run(
            data,
            *CASE_SPAN,
            "--source",
            "live",
            "--category",
            "all",
            "--run-id",
            "all",
            env=env,
        )
        yield data, result, [request.full_path.rstrip("?") for request, _ in server.log]
    finally:
        server.clear()
        server.stop()


@pytest.mark.parametrize("category", known_categories())
def test_each_category_end_to_end_equals_the_decimal_computation(category_runs, category):
    _, outputs = category_runs
    prices = {r["id"]: Decimal(str(r["price"])) for r in CATALOGUE if r["category"] == category}
    assert outputs[category] == expected_rows(CASE_DAYS, prices)


def test_each_category_has_its_own_top_5(category_runs):
    data, _ = category_runs
    counts = dict(query(data, "SELECT category, count(*) FROM marts.top_products_daily GROUP BY category"))
    sizes = {c: sum(r["category"] == c for r in CATALOGUE) for c in known_categories()}
    assert counts == {c: 2 * min(5, n) for c, n in sizes.items()}
    assert query(data, "SELECT count(*) FROM ops.reconciliation WHERE NOT agrees") == [(0,)]


def test_all_live_makes_one_request_per_source_one_for_the_whole_catalogue(all_live):
    _, _, requests = all_live
    carts = f"{CARTS_PATH}?{carts_query('2024-02-12', '2024-02-13')}"  # the case's days and the default lookback
    assert requests == [
        "/2024-02-12..2024-02-13",  # 01_extract: the rates,
        "/products",  # the whole catalogue,
        carts,  # the carts;
        "/products",  # the reconciliation's re-reads
        carts,
    ]


def test_all_equals_the_four_categories_together(all_live, category_runs):
    every, _, _ = all_live
    by_category, _ = category_runs
    for table, columns, key in (
        ("marts.product_prices", PRICE_COLUMNS, "day, product_id, currency"),
        ("marts.top_products_daily", TOP_COLUMNS, "day, category, rank"),
        ("marts.products_eur", "day, product_id, category, price_eur, rate_date", "day, product_id"),
    ):
        select = f"SELECT {columns} FROM {table} ORDER BY {key}"
        assert query(every, select) == query(by_category, select), table
    assert csv_prices(every, "all") == expected_rows(CASE_DAYS, PRICES)
    checks = query(
        every, "SELECT category, check_name, source_value, agrees FROM ops.reconciliation ORDER BY check_name"
    )
    assert [(c, name, agrees) for c, name, _, agrees in checks] == [
        ("all", name, True)
        for name in ("ids_only_in_source", "ids_only_in_warehouse", "price_sum_cents", "product_count")
    ]
    assert dict((name, value) for _, name, value, _ in checks)["product_count"] == len(CATALOGUE)


def test_all_offline_on_good_friday(tmp_path):
    data = tmp_path / "data"
    result = run(data, "--date", "2024-03-29", "--source", "offline", "--category", "all", "--run-id", "gf")
    assert "electronics" in result.stdout and "jewelery" in result.stdout  # the top 5 printed per category
    assert csv_prices(data, "gf") == expected_rows([dt.date(2024, 3, 29)], PRICES)
    assert {r for (r,) in query(data, "SELECT DISTINCT rate_date FROM marts.product_prices")} == {dt.date(2024, 3, 28)}
