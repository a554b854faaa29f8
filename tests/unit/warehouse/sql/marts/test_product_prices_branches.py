"""marts.product_prices computes each price in BIGINT where the quotient cannot overflow and in
HUGEINT elsewhere: both branches give the price that Python's decimal gives, including the largest
prices the warehouse holds in the currency with the largest rates (TRL, about 1.8 million per EUR)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.extract.parsing import parse_exchange_rates, parse_products
from pricing_pipeline.extract.responses import RawResponse
from pricing_pipeline.extract.sources import fetch_exchange_rates
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.warehouse.connection import connect
from tests.support.prices_reference import expected_rows, mart_rows

DAYS = ("2001-06-01", "2001-06-04")  # TRL quoted (until 2004), a weekend in between
# From a cent to about the largest price whose EUR price a DECIMAL(10, 2) holds (USD was about 0.85
# per EUR): the large ones overflow BIGINT in TRL.
PRICES = {1: "0.01", 2: "9.85", 3: "999.99", 4: "22222.22", 5: "1234567.89", 6: "79999999.99"}


def body(prices: dict[int, str]) -> bytes:
    products = [
        {
            "id": product_id,
            "title": f"product {product_id}",
            "price": float(price),
            "description": "d",
            "category": "women's clothing",
            "image": "https://fakestoreapi.com/img/x.png",
            "rating": {"rate": 4.0, "count": 10},
        }
        for product_id, price in prices.items()
    ]
    return json.dumps(products).encode()


def test_both_branches_price_as_decimal_does(tmp_path):
    params = validate_parameters(DAYS[0], DAYS[1], "women's clothing", "offline", "branches", today=dt.date(2026, 1, 1))
    rates = parse_exchange_rates(fetch_exchange_rates(params), params)
    products = parse_products(RawResponse("products", "p", body(PRICES), "json", "recorded", None), params)
    with connect(tmp_path / "w.duckdb") as con:
        load_run(con, params, rates, products)
        found = mart_rows(con)
        # Which rows the HUGEINT branch priced, computed here from the view's inputs: those whose
        # 2 * cents * rate * 10^minor_unit (rate in millionths) exceeds the BIGINT bound.
        overflowing = con.execute(
            "SELECT count(*) FROM marts.product_prices "
            "WHERE CAST(price_usd * 100 AS HUGEINT) * CAST(rate * 1000000 AS HUGEINT) * CAST(10 ** minor_unit AS HUGEINT)"
            " > 4000000000000000000"
        ).fetchall()[0][0]
    expected = expected_rows(params.days, {pid: Decimal(price) for pid, price in PRICES.items()})
    assert found == expected
    assert overflowing > 0  # the HUGEINT branch was taken, and gave decimal's prices too
    assert overflowing < len(found)  # and so was the BIGINT one
