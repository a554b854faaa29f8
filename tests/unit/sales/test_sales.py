"""The sales pipeline on the recorded carts and on changed copies of them: exact amounts in EUR and
every currency (expected values from Python's decimal and the ECB file, tests/support/), the
weekend and holiday rule, each kind of change, re-runs, and each bad body."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.extract.parsing import BodyError, parse_exchange_rates, parse_products
from pricing_pipeline.extract.sources import fetch_exchange_rates, fetch_products
from pricing_pipeline.sales.extract import CARTS_RECORDING, carts_in_window, parse_carts
from pricing_pipeline.sales.load import load_sales
from pricing_pipeline.sales.window import sales_window
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.warehouse.connection import connect
from tests.support.ecb_reference import ecb_table, rate_in_force
from tests.support.paths import PROJECT_ROOT
from tests.support.prices_reference import expected_price, minor_unit_of
from tests.support.sales_warehouse import Warehouse, body_response, recorded_carts

CATALOGUE = {
    p["id"]: p
    for p in json.loads((PROJECT_ROOT / "data/recorded/fakestore/products.json").read_text(), parse_float=Decimal)
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    warehouse = Warehouse(tmp_path_factory.mktemp("sales") / "warehouse.duckdb")
    warehouse.sales("2020-01-01", "2020-03-02", recorded_carts())
    return warehouse


def cents(value) -> int:
    return int(Decimal(str(value)) * 100)


def reference_eur_cents(quantity: int, price: Decimal, day: dt.date) -> int:
    _, usd = rate_in_force(day)
    return int(expected_price(quantity * price, Decimal(1), usd, 2) * 100)


def test_the_seven_carts_are_sales_on_their_days_priced_exactly_in_eur(loaded):
    rows = loaded.query(
        "SELECT cart_id, product_id, sale_day, booked_day, kind, quantity, price_usd, amount_usd, amount_eur "
        "FROM marts.sales_lines ORDER BY cart_id, product_id"
    )
    expected = [
        (cart["id"], line["productId"], dt.date.fromisoformat(cart["date"][:10]), line["quantity"])
        for cart in recorded_carts()
        for line in cart["products"]
    ]
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == sorted(expected)
    assert len(rows) == 14 and sum(r[5] for r in rows) == 42 and len({r[0] for r in rows}) == 7
    for _cart, product, day, booked, kind, quantity, price, amount_usd, amount_eur in rows:
        usd_price = CATALOGUE[product]["price"]
        assert (booked, kind, cents(price)) == (day, "sale", cents(usd_price))
        assert cents(amount_usd) == quantity * cents(usd_price)
        assert cents(amount_eur) == reference_eur_cents(quantity, usd_price, day)


def test_every_currency_converts_the_line_once(loaded):
    rows = loaded.query(
        "SELECT a.sale_day, a.product_id, a.quantity, a.currency, a.amount_minor, a.minor_unit "
        "FROM marts.sales_line_amounts AS a"
    )
    checked = 0
    for day, product, quantity, currency, amount_minor, minor_unit in rows:
        published, usd = rate_in_force(day)
        rate = Decimal(1) if currency == "EUR" else ecb_table()[published][currency]
        assert minor_unit == minor_unit_of(currency)
        expected = expected_price(quantity * CATALOGUE[product]["price"], rate, usd, minor_unit)
        assert amount_minor == int(expected.scaleb(minor_unit)), (day, product, currency)
        checked += 1
    currencies_per_line = {len(ecb_table()[rate_in_force(d)[0]]) + 1 for d in {r[0] for r in rows}}
    assert checked == 14 * currencies_per_line.pop()


def test_sunday_and_new_years_day_take_the_working_day_before(loaded):
    rate_dates = dict(loaded.query("SELECT DISTINCT sale_day, rate_date FROM marts.sales_lines"))
    assert rate_dates[dt.date(2020, 3, 1)] == dt.date(2020, 2, 28)  # a Sunday: Friday's publication
    assert rate_dates[dt.date(2020, 1, 1)] == dt.date(2019, 12, 31)  # a TARGET holiday
    # Cart 4: 4 units of product 1 (109.95 USD) at 1.1234 USD per EUR: 439.80 / 1.1234 = 391.4901...
    [(amount,)] = loaded.query("SELECT amount_eur FROM marts.sales_lines WHERE cart_id = 4")
    assert cents(amount) == 39149


def test_one_conversion_of_the_line_not_a_sum_of_unit_prices(tmp_path):
    # 10 units at 9.85 USD on 2024-02-12 (1.0773 USD per EUR): 98.50 / 1.0773 = 91.432... -> 91.43 EUR,
    # where 10 x 9.14 would be 91.40.
    params = validate_parameters("2024-02-12", "2024-02-12", "all", "offline")
    products = parse_products(fetch_products(params), params)
    with connect(tmp_path / "w.duckdb") as con:
        load_run(con, params, parse_exchange_rates(fetch_exchange_rates(params), params), products)
        window = sales_window(params, 0)
        cart = {
            "id": 1,
            "userId": 1,
            "date": "2024-02-12T00:00:00.000Z",
            "products": [{"productId": 18, "quantity": 10}],
        }
        catalogue = dict(zip(products["product_id"], products["category"], strict=True))
        load_sales(
            con,
            params,
            window,
            parse_carts(body_response([cart], window), window, catalogue, True),
            sorted(set(catalogue.values())),
        )
        [(amount_eur,)] = con.execute("SELECT amount_eur FROM marts.sales_lines").fetchall()
    assert cents(amount_eur) == 9143


def test_daily_marts_add_up_booked_and_restated(loaded):
    rows = loaded.query(
        "SELECT basis, day, sum(units_sold), sum(net_units), sum(net_usd) FROM marts.sales_daily GROUP BY ALL ORDER BY ALL"
    )
    by_day: dict = {}
    for cart in recorded_carts():
        day = dt.date.fromisoformat(cart["date"][:10])
        units, usd = by_day.get(day, (0, 0))
        for line in cart["products"]:
            units += line["quantity"]
            usd += line["quantity"] * cents(CATALOGUE[line["productId"]]["price"])
        by_day[day] = (units, usd)
    for basis in ("booked", "restated"):
        assert [(r[1], r[2], r[3], cents(r[4])) for r in rows if r[0] == basis] == [
            (day, units, units, usd) for day, (units, usd) in sorted(by_day.items())
        ]


def test_a_rerun_and_an_overlapping_range_leave_the_same_tables(loaded):
    before = loaded.digest()
    loaded.sales("2020-01-01", "2020-03-02", recorded_carts())
    assert loaded.digest() == before
    loaded.sales("2020-03-01", "2020-03-02", recorded_carts())
    loaded.sales("2020-03-02", "2020-03-02", recorded_carts())
    assert loaded.digest() == before


def test_changes_at_the_source_are_new_facts_linked_to_their_line(tmp_path):
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    carts = recorded_carts()
    warehouse.sales("2020-03-01", "2020-03-01", carts, lookback=0)
    # What the source holds on 2020-03-03: cart 3 returns one unit of product 1 (2 -> 1); cart 5
    # takes 3 of product 7 (1 -> 3); cart 7 is gone; a cart 8 dated 2020-03-01 arrives late.
    changed = [c for c in carts if c["id"] != 7]
    for cart in changed:
        if cart["id"] == 3:
            cart["products"][0]["quantity"] = 1
        if cart["id"] == 5:
            cart["products"][0]["quantity"] = 3
    changed.append(
        {"id": 8, "userId": 9, "date": "2020-03-01T00:00:00.000Z", "products": [{"productId": 18, "quantity": 2}]}
    )
    warehouse.sales("2020-03-03", "2020-03-03", changed, lookback=3)
    facts = warehouse.query(
        "SELECT cart_id, product_id, kind, quantity, sale_day, sale_booked_day, amount_usd, amount_eur "
        "FROM marts.sales_lines WHERE booked_day = '2020-03-03' AND cart_id <> 1 ORDER BY cart_id, product_id"
    )
    day = dt.date(2020, 3, 1)
    price = {p: CATALOGUE[p]["price"] for p in (1, 7, 18)}

    def eur(quantity, product):
        return reference_eur_cents(quantity, price[product], day)

    assert [(f[0], f[1], f[2], f[3], f[4], f[5], cents(f[6]), cents(f[7])) for f in facts] == [
        (3, 1, "return", -1, day, day, -cents(price[1]), eur(1, 1) - eur(2, 1)),
        (5, 7, "further_sale", 2, day, day, 2 * cents(price[7]), eur(3, 7) - eur(1, 7)),
        (7, 18, "return", -1, day, day, -cents(price[18]), -eur(1, 18)),
        (8, 18, "late_sale", 2, day, dt.date(2020, 3, 3), 2 * cents(price[18]), eur(2, 18)),
    ]
    # A line's facts add up to what the source holds now, in units and in EUR priced once.
    lines = dict(
        ((c, p), (q, e))
        for c, p, q, e in warehouse.query(
            "SELECT cart_id, product_id, sum(quantity), sum(amount_eur) FROM marts.sales_lines GROUP BY ALL"
        )
    )
    assert lines[(3, 1)] == (1, Decimal(eur(1, 1)) / 100)
    assert lines[(7, 18)] == (0, 0)
    booked = warehouse.query(
        "SELECT units_sold, units_returned, net_units FROM marts.sales_daily "
        "WHERE basis = 'booked' AND day = '2020-03-03'"
    )
    # Cart 1 (2020-03-02, 11 units), not read by the run of 2020-03-01, is a late sale too.
    late = warehouse.query("SELECT DISTINCT kind, sale_day, booked_day FROM marts.sales_lines WHERE cart_id = 1")
    assert late == [("late_sale", dt.date(2020, 3, 2), dt.date(2020, 3, 3))]
    assert tuple(int(x) for x in map(sum, zip(*booked, strict=True))) == (2 + 2 + 11, 1 + 1, 2 + 2 + 11 - 2)
    before = warehouse.digest()
    warehouse.sales("2020-03-03", "2020-03-03", changed, lookback=3)  # the same day again
    assert warehouse.digest() == before


GOOD = {"id": 1, "userId": 1, "date": "2020-03-02T00:00:00.000Z", "products": [{"productId": 1, "quantity": 4}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": 0}, "cart 0 (id 0): field 'id' is 0; expected a positive integer"),
        ({"id": "1"}, "field 'id' is '1'; expected a positive integer"),
        ({"userId": None}, "cart 0 (id 1): field 'userId' is None; expected a positive integer"),
        ({"date": "2020-13-02"}, "field 'date' is '2020-13-02'; expected an ISO date-time"),
        ({"date": "2020-03-05T00:00:00.000Z"}, "field 'date' is 2020-03-05, outside the request"),
        ({"products": [{"productId": 1, "quantity": 0}]}, "cart 0 (id 1) line 0: field 'quantity' is 0"),
        (
            {"products": [{"productId": 1, "quantity": 1.5}]},
            "line 0: field 'quantity' is 1.5; expected a positive integer",
        ),
        ({"products": [{"productId": 99, "quantity": 1}]}, "line 0: field 'productId' 99 is not in the catalogue"),
        (
            {"products": [{"productId": 1, "quantity": 1}, {"productId": 1, "quantity": 2}]},
            "cart 0 (id 1) line 1: field 'productId' 1 is in the cart twice",
        ),
        ({"products": None}, "field 'products' is None; expected a list of lines"),
    ],
)
def test_a_bad_cart_names_the_cart_and_the_field(change, message):
    params = validate_parameters("2020-03-02", "2020-03-02", "all", "offline")
    window = sales_window(params, 1)
    with pytest.raises(BodyError, match=None) as raised:
        parse_carts(body_response([{**GOOD, **change}], window), window, {1: "x"}, True)
    assert message in str(raised.value)


def test_cart_ids_must_be_unique_and_the_body_a_list():
    params = validate_parameters("2020-03-02", "2020-03-02", "all", "offline")
    window = sales_window(params, 1)
    with pytest.raises(BodyError, match="cart 1 \\(id 1\\): field 'id' repeats the id of cart 0"):
        parse_carts(body_response([GOOD, GOOD], window), window, {1: "x"}, True)
    with pytest.raises(BodyError, match="expected a list of carts"):
        parse_carts(body_response({"carts": []}, window), window, {1: "x"}, True)


def test_recorded_carts_are_filtered_as_the_api_filters():
    params = validate_parameters("2020-03-02", "2020-03-02", "all", "offline")
    one_day = json.loads(carts_in_window(CARTS_RECORDING.read_bytes(), sales_window(params, 0)))
    assert [c["id"] for c in one_day] == [1]
    whole = sales_window(validate_parameters("2020-01-01", "2020-03-02", "all", "offline"), 0)
    assert carts_in_window(CARTS_RECORDING.read_bytes(), whole) == CARTS_RECORDING.read_bytes()


def test_a_product_gone_from_the_catalogue_keeps_its_lines_sold(tmp_path):
    """The store stops listing product 1 after 2020-03-01; cart 3's line of it, still at the source
    and inside the next run's lookback, is no return, and the whole catalogue's run does not fail."""
    from pricing_pipeline.sales.extract import sales_catalogue

    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    carts = recorded_carts()
    warehouse.sales("2020-03-01", "2020-03-01", carts, lookback=0)
    params = validate_parameters("2020-03-02", "2020-03-02", "all", "offline")
    window = sales_window(params, 1)
    listed = {p: c for p, c in zip(warehouse.products["product_id"], warehouse.products["category"], strict=True)}
    without_1 = {p: c for p, c in listed.items() if p != 1}
    catalogue = sales_catalogue(warehouse.path, window, without_1)
    assert catalogue == {**without_1, 1: listed[1]}
    in_window = [c for c in carts if window.start <= dt.date.fromisoformat(c["date"][:10]) <= window.end]
    with pytest.raises(BodyError, match="field 'productId' 1 is not in the catalogue"):
        parse_carts(body_response(in_window, window), window, without_1, True)
    lines = parse_carts(body_response(in_window, window), window, catalogue, True)
    with connect(warehouse.path) as con:
        load_sales(con, params, window, lines, sorted(set(catalogue.values())))
    assert warehouse.query("SELECT count(*) FROM marts.sales_lines WHERE kind = 'return'") == [(0,)]
    sold = warehouse.query("SELECT sum(quantity) FROM marts.sales_lines WHERE cart_id = 3 AND product_id = 1")
    held = next(line["quantity"] for c in carts if c["id"] == 3 for line in c["products"] if line["productId"] == 1)
    assert sold == [(held,)]
