"""The carts of a run's window: one request (GET /carts?startdate=..&enddate=..), whatever the
window's length, then validated cart by cart.

live      Fake Store over HTTP (extract/http.py: timeouts, bounded retries)
recorded  data/recorded/fakestore/carts.json filtered by the request's dates, as the API filters
offline   the same recording
"""

from __future__ import annotations

import datetime as dt
import json
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from pricing_pipeline.common import settings
from pricing_pipeline.common.paths import RECORDINGS_DIR
from pricing_pipeline.extract.bulk_products import BULK_MIN_BYTES
from pricing_pipeline.extract.http import http_get, http_session
from pricing_pipeline.extract.limits import COUNT_LIMIT
from pricing_pipeline.extract.parsing import BodyError, _decode_json, _shown
from pricing_pipeline.extract.recordings import read_recording
from pricing_pipeline.extract.responses import RawResponse
from pricing_pipeline.sales.bulk_carts import cart_lines_in_bulk
from pricing_pipeline.sales.window import SalesWindow

CARTS = "carts"  # the landed body's name and the hand-off's
CARTS_RECORDING = RECORDINGS_DIR / "fakestore" / "carts.json"
CART_LINE_COLUMNS = ["cart_id", "user_id", "cart_day", "product_id", "quantity", "category"]


def carts_url(base_url: str, window: SalesWindow) -> str:
    return f"{base_url}/carts?startdate={window.start.isoformat()}&enddate={window.request_end.isoformat()}"


def cart_day(text: str) -> dt.date | None:
    """The UTC day of a cart's date ("2020-03-02T00:00:00.000Z"), or None when it is no ISO date."""
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date()


def carts_in_window(body: bytes, window: SalesWindow) -> bytes:
    """What the API answers for the window: the carts dated on or after startdate and before enddate
    (UTC midnights), in the body's order, compact as it serves them."""
    kept = [cart for cart in json.loads(body) if window.start <= cart_day(cart["date"]) < window.request_end]
    return json.dumps(kept, separators=(",", ":")).encode()


def fetch_carts(source: str, window: SalesWindow, session: requests.Session | None = None) -> RawResponse:
    url = carts_url(settings.fakestore_base_url(), window)
    if source == "live":
        return http_get(session or http_session(), CARTS, url)
    response = read_recording(CARTS, CARTS_RECORDING, url, carts_in_window(CARTS_RECORDING.read_bytes(), window))
    return response if source == "recorded" else RawResponse(**{**response.__dict__, "origin": "offline"})


def sales_catalogue(warehouse: Path, window: SalesWindow, products: Mapping[int, str]) -> Mapping[int, str]:
    """Which category each product of the window's carts is in: the run's catalogue, and for a
    product it no longer lists (gone from the category, or from the store), the category its lines
    of the window were staged with. Without the second, a line of a product that left would look
    gone from the cart and be booked as a return. Reads the window's staged lines only."""
    from pricing_pipeline.warehouse.connection import connect, user_tables

    if not warehouse.is_file():
        return products
    with connect(warehouse) as con:
        if "staging.cart_lines" not in user_tables(con):
            return products
        staged = con.execute(
            "SELECT DISTINCT product_id, category FROM staging.cart_lines WHERE cart_day BETWEEN ? AND ?",
            [window.start, window.end],
        ).fetchall()
    gone = {product_id: category for product_id, category in staged if product_id not in products}
    return ChainMap(products, gone) if gone else products


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= COUNT_LIMIT


def parse_carts(
    response: RawResponse,
    window: SalesWindow,
    catalogue: Mapping[int, str],
    whole_catalogue: bool,
    body_path: Path | None = None,
) -> pd.DataFrame:
    """Tidy cart lines (cart_id, user_id, cart_day, product_id, quantity, category), validated: a
    body of 1 MiB or more in bulk by DuckDB (sales/bulk_carts.py); a smaller one, or one failing any
    check there, cart by cart, which names the first cart, line and field that fail.

    catalogue maps the run's product ids to their category (a dict, or the hand-off's Catalogue). With the whole catalogue, a product
    it does not hold is an error; with one category, lines of other products belong to other
    categories' runs and are left out (the run prices its category only). body_path: where the body
    was landed (land_response's answer), which the bulk parse reads.
    """

    # Below BULK_MIN_BYTES, as for the products, the cart-by-cart checks are as fast as DuckDB's start.
    if len(response.body) >= BULK_MIN_BYTES:
        bulk = cart_lines_in_bulk(
            response.body, (window.start, window.end), cart_day, catalogue, whole_catalogue, body_path
        )
        if bulk is not None:
            return _tidy(bulk)

    def fail(where: str, problem: str) -> BodyError:
        return BodyError(f"{response.request}: {where}: {problem}")

    body = _decode_json(response)
    if not isinstance(body, list):
        raise fail("body", f"expected a list of carts, got {type(body).__name__}")
    columns: dict[str, list] = {name: [] for name in CART_LINE_COLUMNS}
    cart_ids, user_ids, days, product_ids, quantities, categories = columns.values()
    first_index: dict[int, int] = {}
    days_of: dict[str, dt.date | None] = {}  # a window's carts share a few date strings
    for index, cart in enumerate(body):
        if not isinstance(cart, dict):
            raise fail(f"cart {index}", f"expected an object, got {type(cart).__name__}")
        where = f"cart {index} (id {_shown(cart.get('id'))})"
        cart_id = cart.get("id")
        if not _positive_int(cart_id):
            raise fail(where, f"field 'id' is {_shown(cart_id)}; expected a positive integer")
        if cart_id in first_index:
            raise fail(where, f"field 'id' repeats the id of cart {first_index[cart_id]}; cart ids must be unique")
        first_index[cart_id] = index
        user_id = cart.get("userId")
        if not _positive_int(user_id):
            raise fail(where, f"field 'userId' is {_shown(user_id)}; expected a positive integer")
        text = cart.get("date")
        if isinstance(text, str):
            if text not in days_of:
                days_of[text] = cart_day(text)
            day = days_of[text]
        else:
            day = None
        if day is None:
            raise fail(where, f"field 'date' is {_shown(cart.get('date'))}; expected an ISO date-time")
        if not window.start <= day <= window.end:
            raise fail(
                where, f"field 'date' is {day}, outside the request ({window.start} to before {window.request_end})"
            )
        lines = cart.get("products")
        if not isinstance(lines, list):
            raise fail(where, f"field 'products' is {_shown(lines)}; expected a list of lines")
        seen: set[int] = set()
        # The line checks inline (no call per line, the message built only on a failure): a day of
        # a million lines is read here twice, by the extract and by the reconciliation.
        for number, line in enumerate(lines):
            if type(line) is not dict:
                raise fail(f"{where} line {number}", f"expected an object, got {type(line).__name__}")
            product_id, quantity = line.get("productId"), line.get("quantity")
            if not (type(product_id) is int and 0 < product_id <= COUNT_LIMIT):
                raise fail(
                    f"{where} line {number}", f"field 'productId' is {_shown(product_id)}; expected a positive integer"
                )
            if not (type(quantity) is int and 0 < quantity <= COUNT_LIMIT):
                raise fail(
                    f"{where} line {number}", f"field 'quantity' is {_shown(quantity)}; expected a positive integer"
                )
            if product_id in seen:
                raise fail(f"{where} line {number}", f"field 'productId' {product_id} is in the cart twice")
            seen.add(product_id)
            category = catalogue.get(product_id)
            if category is None:
                if whole_catalogue:
                    raise fail(f"{where} line {number}", f"field 'productId' {product_id} is not in the catalogue")
                continue
            cart_ids.append(cart_id)
            user_ids.append(user_id)
            days.append(day)
            product_ids.append(product_id)
            quantities.append(quantity)
            categories.append(category)
    return _tidy(pd.DataFrame(columns))


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The cart lines' frame as both parses answer it: typed, sorted by day, cart and product."""
    frame["cart_day"] = pd.to_datetime(frame["cart_day"])
    frame = frame.astype({"cart_id": "int64", "user_id": "int64", "product_id": "int64", "quantity": "int64"})
    return frame.sort_values(["cart_day", "cart_id", "product_id"], ignore_index=True)
