"""A source that changes over a scripted week: Fake Store's "women's clothing" catalogue and its
carts as they stand on each day, served over HTTP by the fake API (notebook 03 and its tests).

The catalogue is the recorded category; the carts are written below. On set days a price is cut, a
product joins the category and another leaves it, a cart reaches the source a day late, and carts
already loaded change: a unit returned, a unit added, a line removed, a cart cancelled. Each change
of a cart falls inside the lookback window of the day that sees it (DEFAULT_LOOKBACK_DAYS), where
the daily run looks for it. The data never depends on the clock: the same day serves the same bodies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from pricing_pipeline.common import settings
from pricing_pipeline.extract.recordings import recorded_products_body
from pricing_pipeline.sales.extract import carts_in_window
from pricing_pipeline.sales.window import SalesWindow
from pricing_pipeline.testing.fake_api import NOT_FOUND, FaultServer, Respond, serve_ecb_and_recordings

CATEGORY = "women's clothing"
START = dt.date(2024, 2, 12)  # a Monday: the week's Saturday and Sunday take Friday's ECB rates
DAYS = 7
RATES_PREFIX, STORE_PREFIX = "/frankfurter", "/fakestore"


@dataclass(frozen=True)
class Cart:
    cart_id: int
    user_id: int
    day: int  # the cart's date, as the week's day number (0: the first day)
    lines: dict[int, int]  # product id: quantity, as placed
    reaches_source: int | None = None  # the day it reaches the source, if later than its own


CARTS = (
    Cart(1, 1, 0, {15: 2, 18: 1}),
    Cart(2, 2, 1, {17: 2, 19: 1, 15: 1}),
    Cart(3, 3, 2, {20: 2, 18: 2}),
    Cart(4, 4, 3, {21: 1, 16: 1}),
    Cart(5, 5, 3, {19: 3}, reaches_source=4),
    Cart(6, 1, 4, {16: 2}),
    Cart(7, 2, 5, {18: 1}),
    Cart(8, 3, 6, {17: 1}),
)
# Carts changed at the source after they were placed: (day, cart, product, quantity now; 0: line removed).
CART_CHANGES = (
    (4, 2, 17, 1),  # one of two units returned, three days after the sale and two after a price cut
    (5, 3, 20, 3),  # a unit added
    (5, 3, 18, 0),  # a line removed
)
CANCELLED = ((6, 6),)  # (day, cart): the cart is gone from the source
PRICE_CHANGE = (2, 17, 34.99)  # (day, product, new USD price)
NEW_PRODUCT_DAY = 3
NEW_PRODUCT_ID = 21
LEAVES = (4, 15)  # (day, product): gone from the category, with a cart of it inside the lookback


def _recorded_products() -> list[dict]:
    return json.loads(recorded_products_body(CATEGORY))


def catalogue_on(day: int) -> list[dict]:
    """The category's products as the API lists them on the week's day `day`."""
    products = _recorded_products()
    change_day, changed_id, new_price = PRICE_CHANGE
    if day >= change_day:
        products = [{**p, "price": new_price} if p["id"] == changed_id else p for p in products]
    if day >= NEW_PRODUCT_DAY:
        template = next(p for p in products if p["id"] == max(p["id"] for p in products))
        products.append(
            {
                **template,
                "id": NEW_PRODUCT_ID,
                "title": "Women's Linen Shirt Dress (scripted arrival)",
                "price": 24.9,
                "description": "A linen shirt dress that joins the category on the week's fourth day.",
                "rating": {"rate": 4.1, "count": 37},
            }
        )
    leave_day, leaving_id = LEAVES
    if day >= leave_day:
        products = [p for p in products if p["id"] != leaving_id]
    return products


def carts_on(day: int, start: dt.date = START) -> list[dict]:
    """Every cart the source holds on the week's day `day`, in Fake Store's format, by id."""
    cancelled = {cart_id for when, cart_id in CANCELLED if when <= day}
    carts = []
    for cart in CARTS:
        if max(cart.day, cart.reaches_source or cart.day) > day or cart.cart_id in cancelled:
            continue
        lines = dict(cart.lines)
        for when, cart_id, product_id, quantity in CART_CHANGES:
            if when <= day and cart_id == cart.cart_id:
                lines[product_id] = quantity
        carts.append(
            {
                "id": cart.cart_id,
                "userId": cart.user_id,
                "date": f"{start + dt.timedelta(days=cart.day)}T00:00:00.000Z",
                "products": [{"productId": p, "quantity": q} for p, q in lines.items() if q > 0],
                "__v": 0,
            }
        )
    return carts


@dataclass
class ScriptedWeek:
    """The week's source: `today` (a day number) says which day's catalogue and carts it serves."""

    start: dt.date = START
    days: int = DAYS
    today: int = 0
    server: FaultServer | None = field(default=None, repr=False)

    @property
    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def answer(self, raw_path: str):
        path = raw_path.split("?", 1)[0]
        if path == f"{STORE_PREFIX}/products/category/{quote(CATEGORY, safe='')}":
            return Respond(200, json.dumps(catalogue_on(self.today)).encode())
        if path == f"{STORE_PREFIX}/carts":
            asked = dict(part.split("=", 1) for part in raw_path.split("?", 1)[1].split("&"))
            first = dt.date.fromisoformat(asked["startdate"])
            last = dt.date.fromisoformat(asked["enddate"]) - dt.timedelta(days=1)
            body = json.dumps(carts_on(self.today, self.start)).encode()
            return Respond(200, carts_in_window(body, SalesWindow(first, first, last)))
        if path.startswith(f"{STORE_PREFIX}/"):
            return NOT_FOUND  # the week's source serves its category and carts only
        return self._rates(raw_path)

    def __post_init__(self) -> None:
        self._rates = serve_ecb_and_recordings(RATES_PREFIX, STORE_PREFIX)

    @contextlib.contextmanager
    def served(self) -> Iterator[ScriptedWeek]:
        """Serve the week on a local port, with the base URLs of both APIs pointing at it, for this
        process and the kernels it starts."""
        self.server = FaultServer(fallback=self.answer)
        urls = {
            settings.FRANKFURTER_BASE_URL: self.server.url + RATES_PREFIX,
            settings.FAKESTORE_BASE_URL: self.server.url + STORE_PREFIX,
        }
        before = {name: os.environ.get(name) for name in urls}
        os.environ.update(urls)
        try:
            yield self
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self.server.stop()
            self.server = None
