"""The case's bodies as the parsers receive them: its parameters, and RawResponses of given bytes
(shared by tests/unit/extract/test_parsing.py and test_bulk_products.py)."""

from __future__ import annotations

import datetime as dt
import json

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.extract.responses import RawResponse
from tests.support.paths import RECORDINGS

CATEGORY = "women's clothing"
PRODUCTS_BODY = RECORDINGS / "fakestore" / "products_category_womens_clothing.json"
RATES_REQUEST = "http://rates.test/2024-02-12..2024-02-13"
PRODUCTS_REQUEST = "http://store.test/products/category/women%27s%20clothing"


def params(start: str = "2024-02-12", end: str = "2024-02-13", source: str = "recorded"):
    return validate_parameters(start, end, CATEGORY, source, "t", today=dt.date(2024, 12, 31))


def rates_response(body: bytes | str, request: str = RATES_REQUEST, media_type: str = "json") -> RawResponse:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return RawResponse("exchange_rates", request, body, media_type, "recorded", None)


def products_response(body: bytes | str | list, request: str = PRODUCTS_REQUEST) -> RawResponse:
    if isinstance(body, list):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return RawResponse("products", request, body, "json", "recorded", None)
