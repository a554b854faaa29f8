"""Fault injection: flaky APIs, bad bodies, odd parameters, a killed run, two runs at once.

Every case ends in a clear message, the right exit status, a known number of requests, and a
warehouse whose content (warehouse.content_hash: staging and marts) is either exactly as before
or, where a retry succeeded, exactly what a clean run gives.

Set-up: a baseline warehouse is built once by a clean recorded run of the case (2024-02-12..13).
Each faulty run is a live run of another day, DAY (2024-02-14), against src/pricing_pipeline/testing/fake_api.py on a
copy of it: a successful run would add DAY's rows, so "hash unchanged" proves that a failed run
loaded nothing. The main cases run end to end through scripts/run_pipeline.py (a Jupyter kernel per
notebook); the long tail of invalid bodies runs notebook 01's steps in-process, against the same
server and warehouse copy. The HTTP client's own details (Retry-After, statuses, TLS) are tested
in-process, without a pipeline run, in tests/unit/extract/test_http.py. answers/faults.md tabulates
the cases; the server's set-up is tests/support/fault_api.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.common.paths import RunPaths
from pricing_pipeline.extract.http import http_session
from pricing_pipeline.extract.landing import land_response, load_landed
from pricing_pipeline.extract.parsing import BodyError, parse_exchange_rates, parse_products
from pricing_pipeline.extract.sources import fetch_exchange_rates, fetch_products
from pricing_pipeline.testing.fake_api import Drop, FaultServer, Hang, Respond, Truncate
from tests.support.fault_api import (
    CARTS_BODY,
    CARTS_REQUEST,
    CATEGORY,
    DAY,
    PRODUCTS_BODY,
    PRODUCTS_PATH,
    RATES,
    RATES_BODY,
    RATES_PATH,
    RETRIES,
    fault_env,
    good_server,
)
from tests.support.paths import PROJECT_ROOT, RUNNER
from tests.support.warehouse_queries import query, warehouse_hash

RUN_TIMEOUT = 300  # seconds a subprocess run may take before the test fails (never reached when healthy)
TABLE_KEYS = {
    "staging.exchange_rates": "rate_date, currency",
    "staging.product_snapshots": "snapshot_date, product_id",
    "marts.products_eur": "day, product_id",
    "marts.top_products_daily": "day, category, rank",
}


# ---------------------------------------------------------------- bodies, environment, helpers


def _products() -> list[dict]:
    return json.loads(PRODUCTS_BODY)


def runner_command(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, str(RUNNER), "--data-dir", str(data_dir), "--cell-timeout", "120", *args]


def live_args(run_id: str, *extra: str) -> list[str]:
    return ["--source", "live", "--date", DAY, "--run-id", run_id, *extra]


def run_live(data_dir: Path, server: FaultServer, run_id: str, *extra: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        runner_command(data_dir, *live_args(run_id, *extra)),
        env={**os.environ, **fault_env(server, **env)},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def duplicate_keys(data_dir: Path) -> dict[str, int]:
    return {
        table: query(data_dir, f"SELECT count(*) - count(DISTINCT ({keys})) FROM {table}")[0][0]
        for table, keys in TABLE_KEYS.items()
    }


def wait_for(condition, what: str, seconds: float = 120, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the run ended (status {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def descendants(pid: int) -> list[int]:
    """Every process below pid (the notebook kernels run in sessions of their own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# ---------------------------------------------------------------- fixtures

RECORDED = PROJECT_ROOT / "data" / "recorded"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, str]:
    """A warehouse after a clean recorded run of the case, and its content hash."""
    data = tmp_path_factory.mktemp("baseline") / "data"
    result = subprocess.run(
        runner_command(
            data, "--source", "recorded", "--start", "2024-02-12", "--end", "2024-02-13", "--run-id", "baseline"
        ),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    return data, warehouse_hash(data)


def _copy_warehouse(baseline_dir: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
        if (baseline_dir / name).exists():
            shutil.copy2(baseline_dir / name, target / name)
    return target


@pytest.fixture(scope="module")
def clean_day(baseline, tmp_path_factory) -> dict:
    """The baseline plus a clean live run of DAY against a well-behaved server: what a retry must give."""
    data = _copy_warehouse(baseline[0], tmp_path_factory.mktemp("clean") / "data")
    server = good_server()
    try:
        result = run_live(data, server, "clean")
        counts = {"rates": server.count(RATES_PATH), "products": server.count(PRODUCTS_PATH)}
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    digest = warehouse_hash(data)
    assert digest != baseline[1], "a run of DAY must change the warehouse, or 'unchanged' proves nothing"
    return {"hash": digest, "counts": counts, "data": data}


@pytest.fixture
def warehouse(baseline, data_dir) -> Path:
    """A data folder holding a copy of the baseline warehouse."""
    return _copy_warehouse(baseline[0], data_dir)


def assert_failed_cleanly(result, data_dir: Path, baseline_hash: str, *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    assert warehouse_hash(data_dir) == baseline_hash


# ---------------------------------------------------------------- 1. HTTP faults, end to end


def test_http_500_every_time_fails_after_the_retry_budget(server, warehouse, baseline):
    server.script(RATES_PATH, *[Respond(500, b"Internal Server Error")] * 10)
    result = run_live(warehouse, server, "f500")
    assert_failed_cleanly(
        result,
        warehouse,
        baseline[1],
        "01_extract.ipynb",
        "SourceError",
        f"GET {server.url}{RATES_PATH}",
        "HTTP 500",
        f"after {RETRIES + 1} attempt(s)",
        "retries exhausted",
    )
    assert server.count(RATES_PATH) == RETRIES + 1
    assert server.count(PRODUCTS_PATH) == 0


def test_http_503_twice_then_200_equals_a_clean_run(server, warehouse, clean_day):
    server.script(RATES_PATH, Respond(503, b"busy"), Respond(503, b"busy"))
    result = run_live(warehouse, server, "f503")
    assert result.returncode == 0, result.stderr
    assert server.count(RATES_PATH) == 3
    assert server.count(PRODUCTS_PATH) == clean_day["counts"]["products"]
    assert warehouse_hash(warehouse) == clean_day["hash"]
    # The attempts are recorded with the landed body.
    attempts = query(warehouse, "SELECT attempts FROM raw.responses WHERE run_id = 'f503' AND name = 'exchange_rates'")
    assert attempts == [(3,)]


def test_http_429_with_retry_after_is_honoured_then_equals_a_clean_run(server, warehouse, clean_day):
    server.script(PRODUCTS_PATH, Respond(429, b"slow down", {"Retry-After": "1"}))
    result = run_live(warehouse, server, "f429")
    assert result.returncode == 0, result.stderr
    assert server.count(RATES_PATH) == clean_day["counts"]["rates"]
    assert server.count(PRODUCTS_PATH) == clean_day["counts"]["products"] + 1
    assert warehouse_hash(warehouse) == clean_day["hash"]


def test_hang_past_the_read_timeout_fails_after_the_retry_budget(server, warehouse, baseline):
    server.script(PRODUCTS_PATH, *[Hang(60)] * 10)
    result = run_live(warehouse, server, "fhang")
    assert_failed_cleanly(
        result,
        warehouse,
        baseline[1],
        f"GET {server.url}{PRODUCTS_PATH}",
        "no HTTP status",
        "Read timed out",
        f"after {RETRIES + 1} attempt(s)",
    )
    assert server.count(RATES_PATH) == 1
    assert server.count(PRODUCTS_PATH) == RETRIES + 1
    # The rates body obtained before the fault was landed all the same.
    assert (warehouse / "raw" / "fhang" / "exchange_rates.json").read_bytes() == RATES_BODY


def test_dropped_connection_fails_after_the_retry_budget(server, warehouse, baseline):
    server.script(RATES_PATH, *[Drop()] * 10)
    result = run_live(warehouse, server, "fdrop")
    assert_failed_cleanly(
        result,
        warehouse,
        baseline[1],
        f"GET {server.url}{RATES_PATH}",
        "no HTTP status",
        "RemoteDisconnected",
        f"after {RETRIES + 1} attempt(s)",
    )
    assert server.count(RATES_PATH) == RETRIES + 1
    assert server.count(PRODUCTS_PATH) == 0


def test_truncated_body_is_detected_and_loads_nothing(server, warehouse, baseline):
    server.script(PRODUCTS_PATH, Truncate(PRODUCTS_BODY, keep=len(PRODUCTS_BODY) // 2))
    result = run_live(warehouse, server, "ftrunc")
    assert_failed_cleanly(
        result,
        warehouse,
        baseline[1],
        f"GET {server.url}{PRODUCTS_PATH}",
        "HTTP 200",
        "after 1 attempt(s)",
        "body was cut short",
        "IncompleteRead",
    )
    assert server.count(PRODUCTS_PATH) == 1


def test_html_instead_of_json_is_rejected_kept_and_replayable(server, warehouse, baseline):
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    server.script(PRODUCTS_PATH, Respond(200, html, content_type="text/html"))
    result = run_live(warehouse, server, "fhtml")
    assert_failed_cleanly(
        result,
        warehouse,
        baseline[1],
        "BodyError",
        f"{server.url}{PRODUCTS_PATH}: body is not JSON",
        "<html>",
    )
    assert server.count(PRODUCTS_PATH) == 1
    # Saved before validation, in the raw folder and in raw.responses, and replayable.
    landed = warehouse / "raw" / "fhtml" / "products.json"
    assert landed.read_bytes() == html
    [(body_file, size, digest)] = query(
        warehouse,
        "SELECT body_file, body_bytes, body_sha256 FROM raw.responses WHERE run_id = 'fhtml' AND name = 'products'",
    )
    assert (warehouse / body_file).read_bytes() == html
    assert (size, digest) == (len(html), hashlib.sha256(html).hexdigest())
    params = validate_parameters(DAY, DAY, CATEGORY, "live", "fhtml")
    with pytest.raises(BodyError, match="body is not JSON"):
        parse_products(load_landed(landed), params)


def test_http_404_is_final_at_once(server, warehouse, baseline):
    server.script(RATES_PATH, *[Respond(404, b'{"message": "not found"}')] * 10)
    result = run_live(warehouse, server, "f404")
    assert_failed_cleanly(result, warehouse, baseline[1], "HTTP 404", "after 1 attempt(s)", "not retried")
    assert server.count(RATES_PATH) == 1


# ---------------------------------------------------------------- 2. invalid bodies


def _without_usd():
    body = json.loads(RATES_BODY)
    del body["rates"][DAY]["USD"]
    return RATES_PATH, body


def _other_date():
    body = json.loads(RATES_BODY)
    body["rates"] = {"2024-02-13": body["rates"][DAY]}
    return RATES_PATH, body


def _products_with(mutate):
    records = _products()
    mutate(records)
    return PRODUCTS_PATH, records


E2E_BODIES = {
    "rates-missing-usd": (_without_usd, ["rates of 2024-02-14: have no USD rate"]),
    "rates-other-date": (
        _other_date,
        ["rates date 2024-02-13: is outside the range asked for (2024-02-14..2024-02-14)"],
    ),
    "products-negative-price": (
        lambda: _products_with(lambda r: r[2].update(price=-39.99)),
        ["record 2 (id 17): field 'price' is -39.99; expected a positive number"],
    ),
    "products-duplicate-ids": (
        lambda: _products_with(lambda r: r[4].update(id=15)),
        ["field 'id': duplicate product ids [15] (record 4 repeats the id of record 0)"],
    ),
    "products-empty-category": (lambda: (PRODUCTS_PATH, []), ['the category "women\'s clothing" has no products']),
}


@pytest.mark.parametrize("case", list(E2E_BODIES))
def test_invalid_body_stops_the_run_before_loading(case, server, warehouse, baseline):
    make, fragments = E2E_BODIES[case]
    path, body = make()
    raw = json.dumps(body).encode()
    server.script(path, Respond(200, raw))
    result = run_live(warehouse, server, f"body-{case}")
    assert_failed_cleanly(result, warehouse, baseline[1], "BodyError", f"{server.url}{path}", *fragments)
    assert server.count(path) == 1
    assert server.count(PRODUCTS_PATH) == (0 if path == RATES_PATH else 1)
    name = "exchange_rates" if path == RATES_PATH else "products"
    assert (warehouse / "raw" / f"body-{case}" / f"{name}.json").read_bytes() == raw


def _rates_with(mutate):
    body = json.loads(RATES_BODY)
    mutate(body)
    return RATES_PATH, body


def _set_rating(index, value):
    return lambda r: r[index]["rating"].update(rate=value)


# (path and JSON body, or raw bytes) -> the fragments the BodyError must contain
PARSE_BODIES = {
    "rates-not-an-object": (lambda: (RATES_PATH, []), "body: expected an object, got list"),
    "rates-null-rates": (lambda: _rates_with(lambda b: b.update(rates=None)), "field 'rates': is missing or empty"),
    "rates-missing-usd": (_without_usd, "rates of 2024-02-14: have no USD rate"),
    "rates-other-date": (_other_date, "rates date 2024-02-13: is outside the range asked for"),
    "rates-one-day-shape-other-date": (
        lambda: (RATES_PATH, {"amount": 1.0, "base": "EUR", "date": "2024-02-15", "rates": RATES["rates"][DAY]}),
        "rates date 2024-02-15: is outside the range asked for (2024-02-14..2024-02-14)",
    ),
    "rates-day-not-an-object": (
        lambda: _rates_with(lambda b: b["rates"].update({DAY: [1.07]})),
        "rates of 2024-02-14: are list; expected an object of currency: rate",
    ),
    "rates-usd-null": (
        lambda: _rates_with(lambda b: b["rates"][DAY].update(USD=None)),
        "rate USD on 2024-02-14: is None; expected a positive number",
    ),
    "rates-usd-not-a-number": (
        lambda: _rates_with(lambda b: b["rates"][DAY].update(USD="abc")),
        "rate USD on 2024-02-14: is 'abc'; expected a positive number",
    ),
    "rates-usd-zero": (
        lambda: _rates_with(lambda b: b["rates"][DAY].update(USD=0)),
        "rate USD on 2024-02-14: is 0; expected a positive number",
    ),
    "rates-base-usd": (lambda: _rates_with(lambda b: b.update(base="USD")), "field 'base': is 'USD'; expected 'EUR'"),
    "rates-amount-not-1": (lambda: _rates_with(lambda b: b.update(amount=100)), "field 'amount': is 100; expected 1"),
    "rates-truncated-without-length": (lambda: (RATES_PATH, RATES_BODY[:200]), "body is not JSON"),
    "rates-empty-body": (lambda: (RATES_PATH, b""), "body is empty; expected JSON"),
    "products-not-a-list": (
        lambda: (PRODUCTS_PATH, {"products": _products()}),
        "body: expected a list of products, got dict",
    ),
    "products-empty-category": (lambda: (PRODUCTS_PATH, []), 'the category "women\'s clothing" has no products'),
    "products-record-not-an-object": (
        lambda: _products_with(lambda r: r.__setitem__(2, "a product")),
        "record 2: expected an object, got str",
    ),
    "products-missing-title": (
        lambda: _products_with(lambda r: r[0].pop("title")),
        "record 0 (id 15): field 'title' is missing or null",
    ),
    "products-null-price": (
        lambda: _products_with(lambda r: r[1].update(price=None)),
        "record 1 (id 16): field 'price' is missing or null",
    ),
    "products-price-as-text": (
        lambda: _products_with(lambda r: r[1].update(price="29.95")),
        "record 1 (id 16): field 'price' is '29.95'; expected a positive number",
    ),
    "products-id-as-text": (
        lambda: _products_with(lambda r: r[3].update(id="18")),
        "record 3 (id '18'): field 'id' is '18'; expected an integer",
    ),
    "products-negative-price": (
        lambda: _products_with(lambda r: r[2].update(price=-39.99)),
        "record 2 (id 17): field 'price' is -39.99; expected a positive number",
    ),
    "products-zero-price": (
        lambda: _products_with(lambda r: r[2].update(price=0)),
        "record 2 (id 17): field 'price' is 0; expected a positive number",
    ),
    "products-huge-price": (
        lambda: _products_with(lambda r: r[2].update(price=1e12)),
        "record 2 (id 17): field 'price' is 1000000000000.0; expected less than 100,000,000",
    ),
    "products-rating-above-5": (
        lambda: _products_with(_set_rating(0, 5.1)),
        "record 0 (id 15): field 'rating.rate' is 5.1; expected a number in 0..5",
    ),
    "products-rating-below-0": (
        lambda: _products_with(_set_rating(5, -1)),
        "record 5 (id 20): field 'rating.rate' is -1; expected a number in 0..5",
    ),
    "products-rating-as-text": (
        lambda: _products_with(_set_rating(5, "4.5")),
        "record 5 (id 20): field 'rating.rate' is '4.5'",
    ),
    "products-rating-not-an-object": (
        lambda: _products_with(lambda r: r[1].update(rating=4.5)),
        "record 1 (id 16): field 'rating' is 4.5; expected an object",
    ),
    "products-rating-count-negative": (
        lambda: _products_with(lambda r: r[1]["rating"].update(count=-3)),
        "record 1 (id 16): field 'rating.count' is -3",
    ),
    "products-duplicate-ids": (
        lambda: _products_with(lambda r: r[5].update(id=18)),
        "duplicate product ids [18] (record 5 repeats the id of record 3)",
    ),
    "products-other-category": (
        lambda: _products_with(lambda r: r[0].update(category="electronics")),
        "record 0 (id 15): field 'category' is 'electronics'; asked for \"women's clothing\"",
    ),
}


def extract_in_process(data_dir: Path, run_id: str, category: str = CATEGORY) -> None:
    """Notebook 01's steps, in order: fetch, land, then parse, for the rates and then the products."""
    params = validate_parameters(DAY, DAY, category, "live", run_id)
    paths = RunPaths(data_dir, run_id).ensure()
    session = http_session()
    rates = fetch_exchange_rates(params, session)
    land_response(rates, paths.raw, paths.warehouse, run_id)
    parse_exchange_rates(rates, params)
    products = fetch_products(params, session)
    land_response(products, paths.raw, paths.warehouse, run_id)
    parse_products(products, params)


@pytest.mark.parametrize("case", list(PARSE_BODIES))
def test_invalid_body_is_rejected_naming_field_and_record(case, fault_settings, warehouse, baseline):
    server = fault_settings
    make, fragment = PARSE_BODIES[case]
    path, body = make()
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    server.script(path, Respond(200, raw))
    with pytest.raises(BodyError) as error:
        extract_in_process(warehouse, "parse-case")
    message = str(error.value)
    assert message.startswith(f"{server.url}{path}: "), message
    assert fragment in message, message
    assert server.count(path) == 1
    assert server.count(PRODUCTS_PATH) == (0 if path == RATES_PATH else 1)
    # Landed before validation: the rejected body can be read back exactly and replayed.
    name = "exchange_rates" if path == RATES_PATH else "products"
    landed = warehouse / "raw" / "parse-case" / f"{name}.json"
    assert landed.read_bytes() == raw
    params = validate_parameters(DAY, DAY, CATEGORY, "live", "parse-case")
    parse = parse_exchange_rates if path == RATES_PATH else parse_products
    with pytest.raises(BodyError) as replayed:
        parse(load_landed(landed), params)
    assert str(replayed.value) == message
    assert warehouse_hash(warehouse) == baseline[1]


# ---------------------------------------------------------------- 3. parameters


FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
BAD_PARAMETERS = {
    "impossible-date": (
        ["--date", "2024-02-30"],
        "--date='2024-02-30' is not a calendar date; expected YYYY-MM-DD",
    ),
    "week-date": (["--date", "2024-W07-3"], "is not a calendar date; expected YYYY-MM-DD"),
    "future-date": (
        ["--date", FUTURE],
        f"--date={FUTURE} is in the future; rates do not exist yet; accepted: 1999-01-04 up to today",
    ),
    "before-1999-01-04": (["--date", "1998-12-31"], "--date=1998-12-31 is before 1999-01-04"),
    "end-before-start": (
        ["--start", "2024-02-13", "--end", "2024-02-12"],
        "--end=2024-02-12 is before --start=2024-02-13",
    ),
    "unknown-source": (
        ["--source", "web", "--date", DAY],
        "invalid choice: 'web' (choose from 'recorded', 'live', 'offline')",
    ),
    "empty-category": (["--date", DAY, "--category", ""], "category is empty; give a Fake Store category"),
    "blank-category": (["--date", DAY, "--category", "   "], "category is empty; give a Fake Store category"),
    "unknown-category": (
        ["--date", DAY, "--category", "shoes"],
        "category 'shoes' is unknown; accepted: all (the whole catalogue), 'electronics', 'jewelery', "
        '"men\'s clothing", "women\'s clothing"',
    ),
}


@pytest.mark.parametrize("case", list(BAD_PARAMETERS))
def test_bad_parameter_is_stopped_before_any_request(case, server, warehouse, baseline):
    args, fragment = BAD_PARAMETERS[case]
    if "--source" not in args:
        args = ["--source", "live", *args]
    result = subprocess.run(
        runner_command(warehouse, *args),
        env={**os.environ, **fault_env(server)},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr, result.stderr
    assert server.total() == 0
    assert not (warehouse / "runs").exists()
    assert warehouse_hash(warehouse) == baseline[1]


INJECTION = "x'); DROP TABLE products; --"


def test_category_with_sql_is_only_data(warehouse, baseline):
    # A category parameter must be a known one, so SQL can only arrive in a body: the whole
    # catalogue (category all) serving products whose category is an injection attempt.
    path = "/fakestore/products"
    records = _products()
    for record in records:
        record["category"] = INJECTION
    server = FaultServer(
        {
            RATES_PATH: Respond(200, RATES_BODY),
            path: Respond(200, json.dumps(records).encode()),
            CARTS_REQUEST: Respond(200, CARTS_BODY),
        }
    )
    women = "SELECT * FROM marts.products_eur WHERE category = ? ORDER BY day, product_id"
    before = query(baseline[0], women, [CATEGORY])
    try:
        result = run_live(warehouse, server, "inject", "--category", "all")
        assert result.returncode == 0, result.stderr
        asked = server.count(path) + server.count(RATES_PATH) + server.count(CARTS_REQUEST)
        assert server.count(path) >= 1 and server.total() == asked
    finally:
        server.stop()
    assert query(warehouse, women, [CATEGORY]) == before  # every table still there, nothing else touched
    stored = query(warehouse, "SELECT DISTINCT category FROM staging.product_snapshots WHERE snapshot_date = ?", [DAY])
    assert stored == [(INJECTION,)]
    assert query(warehouse, "SELECT count(*) FROM marts.top_products_daily WHERE category = ?", [INJECTION]) == [(5,)]


# ---------------------------------------------------------------- 4. a killed run, two runs at once


def _load_cell_started(notebook: Path) -> bool:
    """Papermill saves the notebook as each cell starts: true once 02's load cell runs or has run."""
    try:
        cells = json.loads(notebook.read_text("utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return False  # not written yet, or caught mid-write
    return any(
        "load_run(" in "".join(cell["source"])
        and cell.get("metadata", {}).get("papermill", {}).get("status") in ("running", "completed")
        for cell in cells
    )


@pytest.mark.parametrize("moment", ["while-01-waits-for-products", "while-02-loads"])
def test_run_killed_midway_leaves_a_warehouse_the_next_run_completes(moment, server, warehouse, clean_day):
    if moment == "while-01-waits-for-products":
        server.script(PRODUCTS_PATH, Hang(600))
    process = subprocess.Popen(
        runner_command(warehouse, *live_args("killed")),
        env={**os.environ, **fault_env(server, PIPELINE_HTTP_TIMEOUT="120")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        if moment == "while-01-waits-for-products":
            wait_for(lambda: server.count(PRODUCTS_PATH) >= 1, "the products request", process=process)
        else:
            notebook = warehouse / "runs" / "killed" / "02_transform.ipynb"
            wait_for(lambda: _load_cell_started(notebook), "02 to start its load", process=process)
        below = descendants(process.pid)
        assert below, "the run should have a notebook kernel below it"
        os.killpg(process.pid, signal.SIGKILL)  # kill -9 of the runner's process group
        if moment == "while-02-loads":
            for pid in below:  # and of the kernel itself, in the middle of 02
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    # An orphaned kernel notices its runner is gone and exits: nothing keeps the warehouse open.
    wait_for(lambda: not any(alive(pid) for pid in below), "the orphaned kernel to exit", seconds=60)
    server.release()

    result = run_live(warehouse, server, "after-kill")
    assert result.returncode == 0, result.stderr
    assert duplicate_keys(warehouse) == dict.fromkeys(TABLE_KEYS, 0)
    assert warehouse_hash(warehouse) == clean_day["hash"]


def start_run_waiting_for_products(server, warehouse: Path, run_id: str) -> subprocess.Popen:
    """A live run in its own session (its own process group), whose products request hangs until
    server.release()."""
    server.script(PRODUCTS_PATH, Hang(600))
    return subprocess.Popen(
        runner_command(warehouse, *live_args(run_id)),
        # faulthandler: a runner that hangs is stopped with SIGABRT and prints every thread's stack.
        env={**os.environ, **fault_env(server, PIPELINE_HTTP_TIMEOUT="120"), "PYTHONFAULTHANDLER": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stderr_within(process: subprocess.Popen, seconds: float) -> str:
    """The process's stderr once it has exited; if it has not within the time, its threads' stacks
    (faulthandler's dump on SIGABRT) in the failure."""
    try:
        return process.communicate(timeout=seconds)[1]
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        _out, err = process.communicate(timeout=30)
        raise AssertionError(f"the runner had not exited {seconds} s after the stop; its stacks:\n{err}") from None


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=lambda stop: stop.name)
def test_run_stopped_by_a_signal_is_logged_as_interrupted(stop, server, warehouse, baseline, clean_day):
    # As at a terminal: Ctrl-C sends SIGINT to the foreground process group, a scheduler's stop
    # SIGTERM; the runner is started in its own session and the signal sent to its group.
    process = start_run_waiting_for_products(server, warehouse, "stopped")
    try:
        wait_for(lambda: server.count(PRODUCTS_PATH) >= 1, "the products request", process=process)
        below = descendants(process.pid)
        assert below, "the run should have a notebook kernel below it"
        os.killpg(process.pid, stop)
        err = stderr_within(process, 60)  # far less than the hang: the stop is not waited out
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode == 128 + stop, err
    assert f"run stopped interrupted ({stop.name})" in err and "Traceback" not in err
    # The kernels were stopped by the runner, not left to notice it gone.
    assert not any(alive(pid) for pid in below)
    assert query(warehouse, "SELECT status, error FROM ops.run_log WHERE run_id = 'stopped'") == [
        ("interrupted", f"interrupted ({stop.name})")
    ]
    assert warehouse_hash(warehouse) == baseline[1]  # nothing of the day was loaded
    server.release()
    result = run_live(warehouse, server, "after-stop")
    assert result.returncode == 0, result.stderr
    assert warehouse_hash(warehouse) == clean_day["hash"]


def test_second_run_at_once_stops_with_a_clear_message(server, warehouse, baseline, clean_day):
    first = start_run_waiting_for_products(server, warehouse, "first")
    try:
        wait_for(lambda: server.count(PRODUCTS_PATH) >= 1, "the first run's products request", process=first)
        requests_so_far = server.total()
        second = run_live(warehouse, server, "second")
        assert second.returncode == 1, second.stderr
        assert "another run is using" in second.stderr and "wait for it to finish, then run again" in second.stderr
        assert server.total() == requests_so_far  # the second run asked nothing
        assert not (warehouse / "runs" / "second").exists()
        assert warehouse_hash(warehouse) == baseline[1]
        # The hanging request is dropped; the first run retries it and completes as a clean run would.
        server.release()
        _out, err = first.communicate(timeout=RUN_TIMEOUT)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
    assert first.returncode == 0, err
    assert warehouse_hash(warehouse) == clean_day["hash"]
    assert duplicate_keys(warehouse) == dict.fromkeys(TABLE_KEYS, 0)


def test_live_run_leaves_the_recordings_alone(server, warehouse):
    def written() -> dict[Path, int]:  # a file rewritten with the same bytes counts too
        return {path: path.stat().st_mtime_ns for path in RECORDED.rglob("*.json")}

    before = written()
    result = run_live(warehouse, server, "no-recording")
    assert result.returncode == 0, result.stderr
    assert written() == before
