"""A warehouse for the sales tests: the products and ECB rates of 2020-01-01..2020-03-10 (offline,
`all`), loaded as a run loads them, then sales runs booked into it from any list of carts (the
recorded ones, or changed copies of them) as the sales step books a run's window."""

from __future__ import annotations

import datetime as dt
import json

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.extract.parsing import parse_exchange_rates, parse_products
from pricing_pipeline.extract.responses import RawResponse
from pricing_pipeline.extract.sources import fetch_exchange_rates, fetch_products
from pricing_pipeline.sales.extract import CARTS_RECORDING, parse_carts
from pricing_pipeline.sales.load import load_sales
from pricing_pipeline.sales.window import sales_window
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.warehouse.connection import connect, content_hash

SALES_TABLES = ("staging.cart_lines", "marts.sales_lines", "marts.sales_daily")


def body_response(carts: list, window) -> RawResponse:
    return RawResponse("carts", f"carts?{window.start}..{window.end}", json.dumps(carts).encode(), "json", "test", None)


def recorded_carts() -> list:
    """The recorded carts (data/recorded/fakestore/carts.json), a new list each call."""
    return json.loads(CARTS_RECORDING.read_bytes())


class Warehouse:
    """A warehouse with the products and ECB rates of 2020-01-01..2020-03-10 (offline, `all`)."""

    def __init__(self, path):
        self.path = path
        params = validate_parameters("2020-01-01", "2020-03-10", "all", "offline")
        self.products = parse_products(fetch_products(params), params)
        with connect(path) as con:
            load_run(con, params, parse_exchange_rates(fetch_exchange_rates(params), params), self.products)

    def sales(self, start: str, end: str, carts: list, lookback: int = 3) -> dict:
        """Book the carts of the run start..end's window (the days and `lookback` days before) as
        the sales step does; rows per table for the run."""
        params = validate_parameters(start, end, "all", "offline")
        window = sales_window(params, lookback)
        in_window = [c for c in carts if window.start <= dt.date.fromisoformat(c["date"][:10]) <= window.end]
        catalogue = dict(zip(self.products["product_id"], self.products["category"], strict=True))
        lines = parse_carts(body_response(in_window, window), window, catalogue, True)
        with connect(self.path) as con:
            return load_sales(con, params, window, lines, sorted(set(catalogue.values())))

    def query(self, sql: str, args=()):
        with connect(self.path) as con:
            return con.execute(sql, list(args)).fetchall()

    def digest(self) -> str:
        with connect(self.path) as con:
            return content_hash(con, SALES_TABLES)
