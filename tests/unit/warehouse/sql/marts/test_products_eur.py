"""EUR prices in cents: marts.products_eur against an independent computation from the ECB figures.

Expected values: Decimal(price_usd) / Decimal(USD per EUR), quantized to 0.01 with ROUND_HALF_UP,
the rate read from the ECB history file with the csv module (tests/support/ecb_reference.py). A second
method checks the same cents without any division: c is price/rate rounded half-up iff
(c - 1/2) * rate <= price < (c + 1/2) * rate.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pandas as pd
import pytest

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.extract.parsing import (
    PRODUCT_COLUMNS,
    RATE_COLUMNS,
    parse_exchange_rates,
    parse_products,
)
from pricing_pipeline.extract.responses import RawResponse
from pricing_pipeline.extract.sources import fetch_exchange_rates
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.warehouse.connection import connect
from tests.support import ecb_reference
from tests.support.case_data import CASE_PRODUCTS, load_case
from tests.support.ecb_reference import rate_in_force
from tests.support.paths import RECORDINGS

CENT = Decimal("0.01")
CATEGORY = "women's clothing"
TODAY = dt.date(2026, 11, 1)


def cents_half_up(price_usd: Decimal, usd_per_eur: Decimal) -> int:
    return int((price_usd / usd_per_eur).quantize(CENT, rounding=ROUND_HALF_UP) * 100)


def cents_by_bounds(price_cents: int, usd_per_eur: Decimal, eur_cents: int) -> bool:
    """True iff eur_cents is price/rate rounded half-up (to the cent), checked by multiplication."""
    price = Decimal(price_cents)
    return (eur_cents - Decimal("0.5")) * usd_per_eur <= price < (eur_cents + Decimal("0.5")) * usd_per_eur


def to_cents(amount: Decimal) -> int:
    cents = amount * 100
    assert cents == cents.to_integral_value(), amount
    return int(cents)


@pytest.fixture(scope="module")
def ecb_table() -> dict[dt.date, dict[str, Decimal]]:
    """Every row of the ECB history file, read with the csv module: {date: {currency: rate}}."""
    return ecb_reference.ecb_table()


def products_eur_rows(con) -> list[dict]:
    cursor = con.execute(
        "SELECT day, product_id, price_usd, price_eur, usd_per_eur, rate_date FROM marts.products_eur "
        "ORDER BY day, product_id"
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]


def product_frame(prices_usd: dict[int, str], category: str = CATEGORY) -> pd.DataFrame:
    rows = [
        (pid, f"product {pid}", float(Decimal(price)), "d", category, "http://img.test/x.png", 4.0, 10)
        for pid, price in prices_usd.items()
    ]
    return pd.DataFrame(rows, columns=PRODUCT_COLUMNS)


def usd_rates_frame(rates: dict[str, str]) -> pd.DataFrame:
    rows = [(pd.Timestamp(day), "EUR", "USD", float(Decimal(rate))) for day, rate in rates.items()]
    return pd.DataFrame(rows, columns=RATE_COLUMNS)


# ---------------------------------------------------------------- the case


@pytest.fixture(scope="module")
def case_rows(tmp_path_factory) -> list[dict]:
    with connect(tmp_path_factory.mktemp("case") / "w.duckdb") as con:
        load_case(con)
        return products_eur_rows(con)


@pytest.fixture(scope="module")
def case_prices() -> dict[int, Decimal]:
    records = json.loads(CASE_PRODUCTS.read_bytes(), parse_float=Decimal)
    return {record["id"]: Decimal(str(record["price"])) for record in records}


def test_case_eur_prices_equal_the_decimal_half_up_conversion_of_the_ecb_rate(case_rows, case_prices):
    expected = {}
    for day in (dt.date(2024, 2, 12), dt.date(2024, 2, 13)):
        rate_date, usd = rate_in_force(day)
        for pid, price in case_prices.items():
            expected[(day, pid)] = (to_cents(price), cents_half_up(price, usd), usd, rate_date)
    actual = {
        (row["day"], row["product_id"]): (
            to_cents(row["price_usd"]),
            to_cents(row["price_eur"]),
            row["usd_per_eur"],
            row["rate_date"],
        )
        for row in case_rows
    }
    assert actual == expected
    assert len(actual) == 12


def test_case_eur_prices_pass_the_bounds_check(case_rows):
    for row in case_rows:
        assert cents_by_bounds(to_cents(row["price_usd"]), row["usd_per_eur"], to_cents(row["price_eur"])), row


def test_case_eur_prices_by_hand(case_rows):
    # 56.99 / 1.0773 = 52.9007...; 56.99 / 1.0793 = 52.8027...; 9.85 / 1.0773 = 9.1432...
    cents = {(row["day"].isoformat(), row["product_id"]): to_cents(row["price_eur"]) for row in case_rows}
    assert cents[("2024-02-12", 15)] == 5290
    assert cents[("2024-02-13", 15)] == 5280
    assert cents[("2024-02-12", 18)] == 914


# ---------------------------------------------------------------- every ECB day


@pytest.fixture(scope="module")
def history_run(tmp_path_factory, ecb_table):
    """An offline load of the whole ECB history (1999-01-04 to the file's last day), 12 prices."""
    last = max(ecb_table)
    params = validate_parameters("1999-01-04", last.isoformat(), CATEGORY, "offline", "history", today=TODAY)
    generator = random.Random(20240212)
    prices = {pid: f"{generator.randint(1, 99999) / 100:.2f}" for pid in range(1, 11)}
    prices.update({11: "0.01", 12: "999.99"})
    rates = parse_exchange_rates(fetch_exchange_rates(params), params)
    with connect(tmp_path_factory.mktemp("history") / "w.duckdb") as con:
        load_run(con, params, rates, product_frame(prices))
        staged = con.execute("SELECT rate_date, currency, rate FROM staging.exchange_rates").fetchall()
        return params, prices, staged, products_eur_rows(con)


def test_staged_rates_are_exactly_the_published_ecb_figures(history_run, ecb_table):
    _, _, staged, _ = history_run
    expected = {(day, cur): rate for day, rates in ecb_table.items() for cur, rate in rates.items()}
    assert len(staged) == len(expected)
    assert {(day, cur): rate for day, cur, rate in staged} == expected


def test_every_day_of_the_history_is_priced_half_up_with_the_rate_in_force(history_run, ecb_table):
    params, prices, _, rows = history_run
    assert len(rows) == len(params.days) * len(prices)
    dates = sorted(ecb_table)
    mismatches = []
    index = 0
    for row in rows:  # ordered by day: walk the file's dates alongside
        while index + 1 < len(dates) and dates[index + 1] <= row["day"]:
            index += 1
        rate_date = dates[index]
        usd = ecb_table[rate_date]["USD"]
        price = Decimal(prices[row["product_id"]])
        expected = (rate_date, usd, to_cents(price), cents_half_up(price, usd))
        actual = (row["rate_date"], row["usd_per_eur"], to_cents(row["price_usd"]), to_cents(row["price_eur"]))
        if actual != expected:
            mismatches.append((row["day"], row["product_id"], actual, expected))
    assert mismatches == []


def test_every_day_of_the_history_passes_the_bounds_check(history_run):
    _, _, _, rows = history_run
    failing = [
        row
        for row in rows
        if not cents_by_bounds(to_cents(row["price_usd"]), row["usd_per_eur"], to_cents(row["price_eur"]))
    ]
    assert failing == []


# ---------------------------------------------------------------- half-up at exact ties

# (USD per EUR, USD price, EUR cents): price / rate is exactly half a cent above a whole cent.
TIES = [
    ("2", "0.01", 1),  # 0.005 -> 0.01 (half-even would give 0.00)
    ("2", "0.05", 3),  # 0.025 -> 0.03 (half-even: 0.02)
    ("0.8", "0.02", 3),  # 0.025 -> 0.03
    ("1.6", "0.04", 3),  # 0.025 -> 0.03
    ("0.4", "999.99", 249998),  # 2499.975 -> 2499.98 (half-even: 2499.98 too)
    ("1.088", "0.68", 63),  # 0.625 -> 0.63 (half-even: 0.62)
    ("2", "0.03", 2),  # 0.015 -> 0.02 (half-even: 0.02 too)
]


def test_tie_table_is_made_of_exact_ties():
    for rate, price, cents in TIES:
        eur_tenths_of_cents = Decimal(price) / Decimal(rate) * 1000
        assert eur_tenths_of_cents == eur_tenths_of_cents.to_integral_value()
        assert eur_tenths_of_cents % 10 == 5
        assert cents_half_up(Decimal(price), Decimal(rate)) == cents
    half_even = [int((Decimal(p) / Decimal(r)).quantize(CENT, rounding=ROUND_HALF_EVEN) * 100) for r, p, _ in TIES]
    assert half_even != [cents for _, _, cents in TIES]  # the table tells half-up from half-even


def test_mart_rounds_exact_ties_half_up(tmp_path):
    # One weekday per rate, each with its own product (ids 1..n), so every tie is priced once.
    days = ["2024-02-12", "2024-02-13", "2024-02-14", "2024-02-15", "2024-02-16", "2024-02-19", "2024-02-20"]
    assert len(days) == len(TIES)
    expected = {}
    with connect(tmp_path / "w.duckdb") as con:
        for pid, (day, (rate, price, cents)) in enumerate(zip(days, TIES, strict=False), start=1):
            params = validate_parameters(day, day, CATEGORY, "offline", f"tie{pid}", today=TODAY)
            load_run(con, params, usd_rates_frame({day: rate}), product_frame({pid: price}))
            expected[(dt.date.fromisoformat(day), pid)] = cents
        actual = {(row["day"], row["product_id"]): to_cents(row["price_eur"]) for row in products_eur_rows(con)}
    assert actual == expected


# ---------------------------------------------------------------- why not floats or the cross rate


def test_float_conversion_misses_a_real_tie_that_the_mart_gets_right(tmp_path, ecb_table):
    # ECB 2009-08-31: 1 EUR = 1.4272 USD. Fake Store product 2 costs 22.30 USD:
    # 22.30 / 1.4272 = 15.625 exactly, which is 15.63 half-up. As floats the quotient is
    # 15.624999999999998, so round(..., 2) gives 15.62.
    day = dt.date(2009, 8, 31)
    usd = ecb_table[day]["USD"]
    assert usd == Decimal("1.4272")
    record = next(r for r in json.loads((RECORDINGS / "fakestore" / "products.json").read_bytes()) if r["id"] == 2)
    price = Decimal(str(record["price"]))
    assert price / usd == Decimal("15.625")
    assert cents_half_up(price, usd) == 1563
    assert round(float(price) / float(usd), 2) == 15.62  # the float way is a cent short
    assert round(float(price) / float(usd) * 100) == 1562

    params = validate_parameters(day.isoformat(), day.isoformat(), record["category"], "offline", "f", today=TODAY)
    products = parse_products(
        RawResponse("products", "p", json.dumps([record]).encode(), "json", "recorded", None), params
    )
    rates = parse_exchange_rates(fetch_exchange_rates(params), params)
    with connect(tmp_path / "w.duckdb") as con:
        load_run(con, params, rates, products)
        (row,) = products_eur_rows(con)
    assert to_cents(row["price_eur"]) == 1563


def test_rounded_cross_rate_differs_from_the_ecb_rate_on_the_case_day(ecb_table):
    # Frankfurter's ?base=USD answers EUR per USD rounded to 4 decimals: 1 / 1.0773 -> 0.9282.
    # Fake Store product 14 (999.99 USD) then costs 928.19 EUR instead of 928.24.
    usd = ecb_table[dt.date(2024, 2, 12)]["USD"]
    cross = (1 / usd).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    assert cross == Decimal("0.9282")
    price = Decimal("999.99")
    assert cents_half_up(price, usd) == 92824
    assert int((price * cross).quantize(CENT, rounding=ROUND_HALF_UP) * 100) == 92819
    # Not a one-off: several prices of the Fake Store catalogue come out wrong on that day.
    catalogue = [
        Decimal(str(r["price"])) for r in json.loads((RECORDINGS / "fakestore" / "products.json").read_bytes())
    ]
    wrong = [
        p
        for p in catalogue
        if (p * cross).quantize(CENT, rounding=ROUND_HALF_UP) != (p / usd).quantize(CENT, rounding=ROUND_HALF_UP)
    ]
    assert Decimal("999.99") in wrong and len(wrong) >= 5
