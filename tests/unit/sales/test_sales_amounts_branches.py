"""marts.sales_line_amounts computes each amount in BIGINT where the quotients cannot overflow and in
HUGEINT elsewhere (as marts.product_prices does): both branches give the amounts that Python's
decimal gives, for sales and for the further sales and returns that change a line, in every
currency, including the one with the largest rates (TRL, about a million per EUR in 2001)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.extract.parsing import parse_exchange_rates, parse_products
from pricing_pipeline.extract.responses import RawResponse
from pricing_pipeline.extract.sources import fetch_exchange_rates, fetch_products
from pricing_pipeline.sales.extract import parse_carts
from pricing_pipeline.sales.load import load_sales
from pricing_pipeline.sales.window import sales_window
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.warehouse.connection import connect
from tests.support.ecb_reference import ecb_table, rate_in_force
from tests.support.prices_reference import expected_price

DAYS = ("2001-06-01", "2001-06-05")  # TRL quoted (until 2004), a weekend in between
EXPENSIVE, CHEAP = 14, 18  # 999.99 and 9.85 USD in the recorded catalogue


def cart(cart_id: int, day: str, lines: dict[int, int]) -> dict:
    products = [{"productId": p, "quantity": q} for p, q in lines.items()]
    return {"id": cart_id, "userId": 1, "date": f"{day}T00:00:00.000Z", "products": products, "__v": 0}


def book(con, products, day: str, carts: list) -> None:
    params = validate_parameters(day, day, "all", "offline", today=dt.date(2026, 1, 1))
    window = sales_window(params, 3)
    body = RawResponse("carts", "carts", json.dumps(carts).encode(), "json", "test", None)
    catalogue = dict(zip(products["product_id"], products["category"], strict=True))
    lines = parse_carts(body, window, catalogue, True)
    load_sales(con, params, window, lines, sorted(set(catalogue.values())))


def test_both_branches_give_decimal_amounts(tmp_path):
    params = validate_parameters(DAYS[0], DAYS[1], "all", "offline", "branches", today=dt.date(2026, 1, 1))
    products = parse_products(fetch_products(params), params)
    prices = dict(zip(products["product_id"], products["price_usd"], strict=True))
    with connect(tmp_path / "w.duckdb") as con:
        load_run(con, params, parse_exchange_rates(fetch_exchange_rates(params), params), products)
        # A day of sales, then a later day that changes both lines (a further sale, a return) and
        # sells again: quantities up to a million, whose TRL amounts overflow BIGINT.
        book(con, products, "2001-06-01", [cart(1, "2001-06-01", {EXPENSIVE: 1000, CHEAP: 3})])
        book(
            con,
            products,
            "2001-06-04",
            [cart(1, "2001-06-01", {EXPENSIVE: 1_000_000, CHEAP: 1}), cart(2, "2001-06-04", {EXPENSIVE: 7})],
        )
        rows = con.execute(
            "SELECT a.sale_day, a.product_id, a.currency, a.kind, f.quantity_before, f.quantity_after, "
            "a.amount_minor, a.minor_unit, a.rate, a.usd_per_eur "
            "FROM marts.sales_line_amounts AS a JOIN marts.sales_lines AS f USING (booked_day, cart_id, product_id)"
        ).fetchall()
        # Which amounts the HUGEINT branch computed, from the view's inputs: those whose larger
        # 2 * cents * rate * 10^minor_unit (rate in millionths) exceeds the BIGINT bound.
        overflowing = con.execute(
            "SELECT count(*) FROM marts.sales_line_amounts AS a "
            "JOIN marts.sales_lines AS f USING (booked_day, cart_id, product_id) "
            "WHERE CAST(greatest(f.quantity_after, f.quantity_before) AS HUGEINT) * CAST(f.price_usd * 100 AS HUGEINT)"
            " * CAST(a.rate * 1000000 AS HUGEINT) * CAST(10 ** a.minor_unit AS HUGEINT) > 4000000000000000000"
        ).fetchall()[0][0]
    assert {row[3] for row in rows} == {"sale", "further_sale", "return"}
    for day, product, currency, _, before, after, amount_minor, minor_unit, rate, usd in rows:
        published, usd_in_force = rate_in_force(day)
        assert usd == usd_in_force
        assert rate == (Decimal(1) if currency == "EUR" else ecb_table()[published][currency])
        price = Decimal(str(prices[product]))
        expected = expected_price(after * price, rate, usd, minor_unit) - expected_price(
            before * price, rate, usd, minor_unit
        )
        assert amount_minor == int(expected.scaleb(minor_unit)), (day, product, currency, before, after)
    assert "TRL" in {row[2] for row in rows}
    assert 0 < overflowing < len(rows)  # both branches were taken, and gave decimal's amounts
