"""The live path, for real over HTTP: the runner against a local server serving recorded bodies.

The server (pytest-httpserver) stands in for Frankfurter and Fake Store; the runner is started as a
subprocess with FRANKFURTER_BASE_URL and FAKESTORE_BASE_URL pointing at it, so the notebooks make
real HTTP requests through requests/urllib3.

The notebooks make exactly one request per source: one rates request for the whole range, one
products request and one carts request (the sales: the range and its lookback window, answered from
the recorded carts by tests/support/carts.py). By default the runner then re-reads the products and
the carts once more each to reconcile the warehouse with the source (landed as "products_recheck"
and "carts_recheck"); --skip-reconciliation leaves the notebooks' three requests alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import zipfile
from decimal import Decimal
from urllib.parse import unquote

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from pricing_pipeline.extract.ecb_history import ecb_history_zip
from pricing_pipeline.extract.http import USER_AGENT
from tests.support.carts import CARTS_PATH, carts_query, serve_recorded_carts
from tests.support.paths import PROJECT_ROOT, RECORDINGS, RUNNER

CATEGORY = "women's clothing"
PRODUCTS_PATH = "/products/category/women's clothing"
PRODUCTS_RAW_PATH = "/products/category/women%27s%20clothing"
OUTPUTS = ("exchange_rates.csv", "products_eur.csv", "top_products_daily.csv", "product_prices.csv")
RATES_BODY = (RECORDINGS / "frankfurter" / "2024-02-12..2024-02-13.json").read_bytes()
PRODUCTS_BODY = (RECORDINGS / "fakestore" / "products_category_womens_clothing.json").read_bytes()


def start_server(rates_path: str, rates_body: bytes) -> HTTPServer:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(rates_path, method="GET").respond_with_data(rates_body, content_type="application/json")
    server.expect_request(PRODUCTS_PATH, method="GET").respond_with_data(PRODUCTS_BODY, content_type="application/json")
    serve_recorded_carts(server)
    server.start()
    return server


def run_live(server: HTTPServer, data_dir, start: str, end: str, *options: str) -> subprocess.CompletedProcess:
    base = server.url_for("/").rstrip("/")
    env = dict(
        os.environ,
        FRANKFURTER_BASE_URL=base,
        FAKESTORE_BASE_URL=base,
        PIPELINE_HTTP_BACKOFF="0",  # a retried failure shows in the request count, quickly
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            "--start",
            start,
            "--end",
            end,
            "--source",
            "live",
            "--data-dir",
            str(data_dir),
            "--run-id",
            "x",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=PROJECT_ROOT,
    )


def served(server: HTTPServer) -> list:
    return [request for request, _ in server.log]


# ---------------------------------------------------------------- the case, live


@pytest.fixture(scope="module")
def case_live(tmp_path_factory):
    server = start_server("/2024-02-12..2024-02-13", RATES_BODY)
    try:
        data = tmp_path_factory.mktemp("live") / "data"
        result = run_live(server, data, "2024-02-12", "2024-02-13")
        yield data, result, served(server), [response for _, response in server.log]
    finally:
        server.clear()
        server.stop()


def test_live_run_succeeds(case_live):
    _, result, _, _ = case_live
    assert result.returncode == 0, result.stderr[-3000:]
    assert "top 5 on 2024-02-12" in result.stdout and "top 5 on 2024-02-13" in result.stdout


def test_live_run_makes_one_request_per_source_plus_the_reconciliation_re_reads(case_live):
    data, _, requests, responses = case_live
    carts = carts_query("2024-02-12", "2024-02-13")  # the case's days and the default lookback
    assert [(r.method, r.path, r.query_string.decode()) for r in requests] == [
        ("GET", "/2024-02-12..2024-02-13", ""),  # one rates request for the whole range
        ("GET", PRODUCTS_PATH, ""),  # the products of 01_extract
        ("GET", CARTS_PATH, carts),  # the carts of 01_extract
        ("GET", PRODUCTS_PATH, ""),  # the runner's reconciliation re-read, after the load
        ("GET", CARTS_PATH, carts),  # the sales reconciliation's re-read
    ]
    assert [response.status_code for response in responses] == [200] * len(requests)
    assert all(r.headers.get("User-Agent") == USER_AGENT for r in requests)
    # Every request the server saw is a body the run landed, each under its own name, once.
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        landed = con.execute(
            "SELECT name, origin, request FROM raw.responses WHERE run_id = 'x' ORDER BY landed_at"
        ).fetchall()
    assert [(name, origin) for name, origin, _ in landed] == [
        ("exchange_rates", "live"),
        ("products", "live"),
        ("carts", "live"),
        ("products_recheck", "live"),
        ("carts_recheck", "live"),
    ]
    assert [request.rsplit("/", 1)[1] for _, _, request in landed] == [
        "2024-02-12..2024-02-13",
        "women%27s%20clothing",
        f"carts?{carts}",
        "women%27s%20clothing",
        f"carts?{carts}",
    ]


def test_live_run_sends_the_category_url_encoded(case_live):
    _, _, requests, _ = case_live
    products_requests = [r for r in requests if r.path.startswith("/products/")]
    assert len(products_requests) == 2  # 01_extract's and the reconciliation's
    for products_request in products_requests:
        raw_uri = products_request.environ["RAW_URI"]
        assert raw_uri == PRODUCTS_RAW_PATH
        assert "women%27s%20clothing" in raw_uri
        assert unquote(raw_uri.rsplit("/", 1)[1]) == CATEGORY  # decoded, it is the category as asked
        assert products_request.path == PRODUCTS_PATH


@pytest.mark.parametrize("name", OUTPUTS)
def test_live_outputs_equal_the_committed_outputs_byte_for_byte(case_live, name):
    data, result, _, _ = case_live
    assert result.returncode == 0, result.stderr[-3000:]
    assert (data / "runs" / "x" / "output" / name).read_bytes() == (
        PROJECT_ROOT / "data" / "output" / name
    ).read_bytes()


def test_live_run_lands_the_bodies_as_received(case_live):
    data, _, _, _ = case_live
    raw = data / "raw" / "x"
    assert (raw / "exchange_rates.json").read_bytes() == RATES_BODY
    assert (raw / "products.json").read_bytes() == PRODUCTS_BODY
    meta = json.loads((raw / "products.meta.json").read_text("utf-8"))
    assert meta["origin"] == "live" and meta["status"] == 200 and meta["attempts"] == 1
    assert meta["request"].endswith(PRODUCTS_RAW_PATH)


# ---------------------------------------------------------------- a 5-day range is still one request per source


def frankfurter_range_body(start: dt.date, end: dt.date) -> tuple[bytes, dict[dt.date, Decimal]]:
    """A Frankfurter range body for start..end built from the ECB file, numbers written as published."""
    with zipfile.ZipFile(ecb_history_zip()) as archive:
        text = archive.read("eurofxref-hist.csv").decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    days, usd = [], {}
    for cells in reader:
        day = dt.date.fromisoformat(cells[0])
        if start <= day <= end:
            quoted = [
                (cur, value)
                for cur, value in zip(header[1:], cells[1:], strict=False)
                if cur and value not in ("", "N/A")
            ]
            days.append(f'"{day}": {{' + ", ".join(f'"{cur}": {value}' for cur, value in sorted(quoted)) + "}")
            usd[day] = Decimal(dict(quoted)["USD"])
    body = (
        f'{{"amount": 1.0, "base": "EUR", "start_date": "{start}", "end_date": "{end}", '
        f'"rates": {{{", ".join(sorted(days))}}}}}'
    )
    json.loads(body)  # well-formed
    return body.encode("utf-8"), usd


def test_live_five_day_range_makes_one_request_per_source(tmp_path):
    # Without the reconciliation's re-reads, the whole run is the notebooks' three requests.
    # Saturday 2024-02-10 .. Wednesday 2024-02-14: the rate in force on the 10th is Friday's, so the
    # one rates request is 2024-02-09..2024-02-14 (working days 09, 12, 13, 14).
    body, usd = frankfurter_range_body(dt.date(2024, 2, 9), dt.date(2024, 2, 14))
    assert sorted(usd) == [dt.date(2024, 2, 9), dt.date(2024, 2, 12), dt.date(2024, 2, 13), dt.date(2024, 2, 14)]
    server = start_server("/2024-02-09..2024-02-14", body)
    try:
        result = run_live(server, tmp_path / "data", "2024-02-10", "2024-02-14", "--skip-reconciliation")
        requests = served(server)
    finally:
        server.clear()
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    assert [(r.path, r.query_string.decode()) for r in requests] == [
        ("/2024-02-09..2024-02-14", ""),
        (PRODUCTS_PATH, ""),
        (CARTS_PATH, carts_query("2024-02-10", "2024-02-14")),  # the run's days and the default lookback
    ]

    with open(tmp_path / "data" / "runs" / "x" / "output" / "products_eur.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5 * 6
    expected_rate_date = {
        "2024-02-10": "2024-02-09",
        "2024-02-11": "2024-02-09",
        "2024-02-12": "2024-02-12",
        "2024-02-13": "2024-02-13",
        "2024-02-14": "2024-02-14",
    }
    for row in rows:
        assert row["rate_date"] == expected_rate_date[row["day"]]
        assert Decimal(row["usd_per_eur"]) == usd[dt.date.fromisoformat(row["rate_date"])]
