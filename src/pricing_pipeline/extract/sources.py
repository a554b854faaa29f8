"""The extract step (notebooks/01_extract.ipynb): the run's two bodies, from the source it names.

live      Frankfurter and Fake Store over HTTP
recorded  the recorded bodies in data/recorded/ (a category without its own recording: the recorded
          catalogue filtered by category, as the API's category endpoint does)
offline   the ECB history file for rates, the recorded products
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import requests

from pricing_pipeline.common import settings
from pricing_pipeline.common.categories import ALL_CATEGORIES
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.extract.ecb_history import read_ecb_history
from pricing_pipeline.extract.http import http_get, http_session
from pricing_pipeline.extract.recordings import (
    products_recording_path,
    rates_recording_path,
    read_recording,
    recorded_products_body,
)
from pricing_pipeline.extract.responses import RawResponse


def rates_range_url(base_url: str, start: dt.date, end: dt.date) -> str:
    """Frankfurter's range endpoint: all currencies against EUR, every working day, one request."""
    return f"{base_url}/{start.isoformat()}..{end.isoformat()}"


def category_products_url(base_url: str, category: str) -> str:
    """A category's products; for `all`, the whole catalogue in one request (GET /products)."""
    if category == ALL_CATEGORIES:
        return f"{base_url}/products"
    # safe="" so that the apostrophe, slashes and spaces of a category never change the path.
    return f"{base_url}/products/category/{quote(category, safe='')}"


def fetch_exchange_rates(params: RunParameters, session: requests.Session | None = None) -> RawResponse:
    """The rates body for the run's days (from params.rates_start_date, the rate in force on the first
    day, to end_date), from the source params.source names; session: for live, the http_session
    to reuse (a new one otherwise). Returns the body unparsed; raises SourceError when it cannot be
    had."""
    start, end = params.rates_start_date, params.end_date
    if params.source == "offline":
        return read_ecb_history(start, end)
    url = rates_range_url(settings.frankfurter_base_url(), start, end)
    if params.source == "recorded":
        return read_recording("exchange_rates", rates_recording_path(start, end), url)
    return http_get(session or http_session(), "exchange_rates", url)


def fetch_products(params: RunParameters, session: requests.Session | None = None) -> RawResponse:
    """The products body of params.category (the whole catalogue for `all`), from the source
    params.source names; session: for live, the http_session to reuse (a new one otherwise).
    Returns the body unparsed; raises SourceError when it cannot be had."""
    url = category_products_url(settings.fakestore_base_url(), params.category)
    if params.source == "live":
        return http_get(session or http_session(), "products", url)
    return read_recording(
        "products", products_recording_path(params.category), url, recorded_products_body(params.category)
    )
