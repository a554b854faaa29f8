"""The case's warehouse: 2024-02-12..13, women's clothing, from the two recorded bodies.

Built the way a recorded run builds it (validate_parameters, the package's parsers, load_run), so
that the tests can check its marts against their own computations.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pricing_pipeline.common.parameters import RunParameters, validate_parameters
from pricing_pipeline.extract.parsing import parse_exchange_rates, parse_products
from pricing_pipeline.extract.responses import RawResponse
from pricing_pipeline.transform.load import load_run
from tests.support.paths import RECORDINGS

CASE_CATEGORY = "women's clothing"
CASE_RATES = RECORDINGS / "frankfurter" / "2024-02-12..2024-02-13.json"
CASE_PRODUCTS = RECORDINGS / "fakestore" / "products_category_womens_clothing.json"
CASE_TODAY = dt.date(2026, 1, 1)  # any day after the case's: only the parameter check reads it


def case_inputs() -> tuple[RunParameters, pd.DataFrame, pd.DataFrame]:
    """The case's parameters, and its rates and products as parsed from the recordings."""
    params = validate_parameters("2024-02-12", "2024-02-13", CASE_CATEGORY, "recorded", "case", today=CASE_TODAY)
    rates_body = CASE_RATES.read_bytes()
    products_body = CASE_PRODUCTS.read_bytes()
    rates = parse_exchange_rates(RawResponse("exchange_rates", "r", rates_body, "json", "recorded", None), params)
    products = parse_products(RawResponse("products", "p", products_body, "json", "recorded", None), params)
    return params, rates, products


def load_case(con) -> tuple[RunParameters, pd.DataFrame]:
    """Load the case into the open warehouse con (pricing_pipeline.warehouse.connection.connect); its parameters and products."""
    params, rates, products = case_inputs()
    load_run(con, params, rates, products)
    return params, products


# Sales on the case's days, in Fake Store's cart format: the recorded carts are of 2020, and a
# warehouse's sales models need a row in each partition a load writes for the data tests to break.
CASE_CARTS = [
    {
        "id": 1,
        "userId": 1,
        "date": "2024-02-12T00:00:00.000Z",
        "products": [{"productId": 18, "quantity": 2}, {"productId": 15, "quantity": 1}],
        "__v": 0,
    },
    {
        "id": 2,
        "userId": 2,
        "date": "2024-02-13T00:00:00.000Z",
        "products": [{"productId": 20, "quantity": 3}],
        "__v": 0,
    },
]


def load_case_sales(con, params: RunParameters, products: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Book CASE_CARTS into the open warehouse con (which holds the case) as a run does, with the
    default lookback; the views the sales models and their data tests read."""
    import json

    from pricing_pipeline.sales.extract import parse_carts
    from pricing_pipeline.sales.load import load_sales, sales_views
    from pricing_pipeline.sales.window import DEFAULT_LOOKBACK_DAYS, sales_window

    window = sales_window(params, DEFAULT_LOOKBACK_DAYS)
    catalogue = dict(zip(products["product_id"], products["category"], strict=True))
    response = RawResponse("carts", "c", json.dumps(CASE_CARTS).encode(), "json", "recorded", None)
    lines = parse_carts(response, window, catalogue, params.whole_catalogue)
    categories = sorted(set(catalogue.values()))
    views = sales_views(con, params, window, lines, categories)
    load_sales(con, params, window, lines, categories)
    return views
