"""A faulty stand-in for both APIs (testing.fake_api), set up as the fault tests use it: one live day,
DAY, its bodies, the environment that points the pipeline at the server, and a server that answers well
(the rates, the products and the carts of the sales, which every run reads by default).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.extract.ecb_history import read_ecb_history
from pricing_pipeline.extract.parsing import parse_exchange_rates
from pricing_pipeline.testing.fake_api import FaultServer, Respond
from tests.support.carts import CARTS_PATH, carts_body, carts_query
from tests.support.paths import RECORDINGS

DAY = "2024-02-14"  # the faulty runs' day: not in the baseline warehouse
CATEGORY = "women's clothing"
RATES_PATH = f"/frankfurter/{DAY}..{DAY}"
PRODUCTS_PATH = f"/fakestore/products/category/{quote(CATEGORY, safe='')}"
PRODUCTS_BODY = (RECORDINGS / "fakestore" / "products_category_womens_clothing.json").read_bytes()
# DAY's carts request (DAY and the default lookback), as the FaultServer counts it: path and query.
CARTS_REQUEST = f"/fakestore{CARTS_PATH}?{carts_query(DAY, DAY)}"
CARTS_BODY = carts_body(carts_query(DAY, DAY))
RETRIES = 3  # PIPELINE_HTTP_RETRIES in these tests: 4 attempts in all


def rates_body_of(day: str) -> dict:
    """Frankfurter's range body for one day, with the ECB's figures of that day."""
    params = validate_parameters(day, day, CATEGORY, "offline", "bodies")
    frame = parse_exchange_rates(read_ecb_history(params.start_date, params.end_date), params)
    rates = {row.currency: float(row.rate) for row in frame.itertuples()}
    return {"amount": 1.0, "base": "EUR", "start_date": day, "end_date": day, "rates": {day: rates}}


RATES = rates_body_of(DAY)
RATES_BODY = json.dumps(RATES).encode()


def fault_env(server: FaultServer, **overrides: str) -> dict[str, str]:
    env = {
        "FRANKFURTER_BASE_URL": f"{server.url}/frankfurter",
        "FAKESTORE_BASE_URL": f"{server.url}/fakestore",
        "PIPELINE_HTTP_TIMEOUT": "1",
        "PIPELINE_HTTP_CONNECT_TIMEOUT": "1",
        "PIPELINE_HTTP_BACKOFF": "0.05",
        "PIPELINE_HTTP_RETRIES": str(RETRIES),
        "PIPELINE_HTTP_RETRY_AFTER_MAX": "3",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.update(overrides)
    return env


def good_server() -> FaultServer:
    return FaultServer(
        {
            RATES_PATH: Respond(200, RATES_BODY),
            PRODUCTS_PATH: Respond(200, PRODUCTS_BODY),
            CARTS_REQUEST: Respond(200, CARTS_BODY),
        }
    )
