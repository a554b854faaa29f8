"""Parsing and validation of the bodies: both Frankfurter shapes, the ECB history CSV, Fake Store.

The expected figures are read here from the bodies themselves (JSON decoded with exact decimals,
the ECB CSV read with the csv module), never from a run's output.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pandas as pd
import pytest

from pricing_pipeline.extract.ecb_history import read_ecb_history
from pricing_pipeline.extract.parsing import (
    PRODUCT_COLUMNS,
    RATE_COLUMNS,
    BodyError,
    parse_exchange_rates,
    parse_products,
)
from tests.support.bodies import CATEGORY, PRODUCTS_BODY, RATES_REQUEST, params, products_response, rates_response
from tests.support.ecb_reference import ecb_table
from tests.support.paths import RECORDINGS

RANGE_BODY = RECORDINGS / "frankfurter" / "2024-02-12..2024-02-13.json"
DAY_BODIES = {
    "2024-02-12": RECORDINGS / "frankfurter" / "2024-02-12.json",
    "2024-02-13": RECORDINGS / "frankfurter" / "2024-02-13.json",
}


def as_published(frame: pd.DataFrame) -> list[tuple]:
    """Rows of a tidy rates frame with the rate as the exact decimal its float stands for."""
    return [
        (row.rate_date.date(), row.base, row.currency, Decimal(repr(row.rate))) for row in frame.itertuples(index=False)
    ]


@pytest.fixture(scope="module")
def ecb_rows() -> dict[dt.date, dict[str, Decimal]]:
    """The ECB history file for 2024-02-12..13, read with the csv module: {date: {currency: rate}}."""
    first, last = dt.date(2024, 2, 12), dt.date(2024, 2, 13)
    rows = {day: rates for day, rates in ecb_table().items() if first <= day <= last}
    assert sorted(rows) == [dt.date(2024, 2, 12), dt.date(2024, 2, 13)]
    return rows


@pytest.fixture(scope="module")
def range_rates() -> pd.DataFrame:
    return parse_exchange_rates(rates_response(RANGE_BODY.read_bytes()), params())


# ---------------------------------------------------------------- exchange rates


def test_range_body_gives_tidy_rows_of_the_ecb_figures(range_rates, ecb_rows):
    assert list(range_rates.columns) == RATE_COLUMNS
    expected = sorted(
        (day, "EUR", currency, rate) for day, rates in ecb_rows.items() for currency, rate in rates.items()
    )
    assert as_published(range_rates) == expected
    assert len(range_rates) == 60  # 30 currencies quoted on each of the two days


def test_range_body_keeps_the_rates_exactly_as_published(range_rates):
    usd = range_rates[range_rates["currency"] == "USD"]
    assert usd["rate_date"].dt.date.tolist() == [dt.date(2024, 2, 12), dt.date(2024, 2, 13)]
    assert [Decimal(repr(rate)) for rate in usd["rate"]] == [Decimal("1.0773"), Decimal("1.0793")]
    gbp = range_rates[(range_rates["currency"] == "GBP")]["rate"].tolist()
    assert [Decimal(repr(rate)) for rate in gbp] == [Decimal("0.85391"), Decimal("0.85098")]  # 5 decimals kept


def test_one_day_bodies_give_the_same_rows_as_the_range_body(range_rates):
    parts = [
        parse_exchange_rates(rates_response(path.read_bytes(), f"http://rates.test/{day}"), params(day, day))
        for day, path in DAY_BODIES.items()
    ]
    one_day = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(one_day, range_rates)


def test_one_day_body_shape_is_read_from_its_date_field():
    frame = parse_exchange_rates(
        rates_response(DAY_BODIES["2024-02-12"].read_bytes()), params("2024-02-12", "2024-02-12")
    )
    assert set(frame["rate_date"].dt.date) == {dt.date(2024, 2, 12)}
    assert len(frame) == 30


def test_ecb_history_csv_gives_the_same_rows_as_the_frankfurter_body(range_rates):
    offline = params(source="offline")
    response = read_ecb_history(offline.rates_start_date, offline.end_date)
    assert response.media_type == "csv"
    frame = parse_exchange_rates(response, offline)
    # The CSV has columns for currencies no longer quoted (N/A): they must not become rows.
    assert not {"CYP", "EEK", "LTL", "HRK", "RUB", ""} & set(frame["currency"])
    pd.testing.assert_frame_equal(frame, range_rates)


def test_rates_for_a_weekend_start_need_the_friday_before():
    # A run starting on Saturday 2024-02-10 needs the rate of Friday 2024-02-09.
    weekend = params("2024-02-10", "2024-02-13")
    assert weekend.rates_start_date == dt.date(2024, 2, 9)
    with pytest.raises(BodyError, match=r"rates for 2024-02-10: the ECB rate of 2024-02-09 .* not in the body"):
        parse_exchange_rates(rates_response(RANGE_BODY.read_bytes()), weekend)


# ---------------------------------------------------------------- products


@pytest.fixture(scope="module")
def products_raw() -> list[dict]:
    return json.loads(PRODUCTS_BODY.read_bytes(), parse_float=Decimal)


def test_products_body_gives_six_products_15_to_20(products_raw):
    frame = parse_products(products_response(PRODUCTS_BODY.read_bytes()), params())
    assert list(frame.columns) == PRODUCT_COLUMNS
    assert frame["product_id"].tolist() == [15, 16, 17, 18, 19, 20]
    assert set(frame["category"]) == {CATEGORY}
    by_id = {record["id"]: record for record in products_raw}
    for row in frame.itertuples(index=False):
        record = by_id[row.product_id]
        assert row.title == record["title"]
        assert row.description == record["description"]
        assert row.image == record["image"]
        assert Decimal(repr(row.price_usd)) == Decimal(str(record["price"]))
        assert Decimal(repr(row.rating_rate)) == Decimal(str(record["rating"]["rate"]))
        assert row.rating_count == record["rating"]["count"]


def test_products_prices_in_cents_match_the_body_by_hand():
    frame = parse_products(products_response(PRODUCTS_BODY.read_bytes()), params())
    cents = {row.product_id: int(Decimal(repr(row.price_usd)) * 100) for row in frame.itertuples()}
    assert cents == {15: 5699, 16: 2995, 17: 3999, 18: 985, 19: 795, 20: 1299}


# ---------------------------------------------------------------- validation errors


def _range_body(**changes) -> dict:
    body = json.loads(RANGE_BODY.read_bytes(), parse_float=Decimal)
    body.update(changes)
    return body


def _dumps(body) -> str:
    return json.dumps(body, default=str)


def _products(mutate) -> list[dict]:
    records = json.loads(PRODUCTS_BODY.read_bytes())
    mutate(records)
    return records


def test_rates_body_that_is_not_json_is_rejected_naming_the_request():
    with pytest.raises(BodyError) as error:
        parse_exchange_rates(rates_response(b"<html>502 Bad Gateway</html>"), params())
    message = str(error.value)
    assert message.startswith(RATES_REQUEST)
    assert "not JSON" in message and "<html>502 Bad Gateway" in message


def test_rates_without_usd_are_rejected():
    body = _range_body()
    del body["rates"]["2024-02-13"]["USD"]
    with pytest.raises(BodyError, match=r"rates of 2024-02-13: have no USD rate"):
        parse_exchange_rates(rates_response(_dumps(body)), params())


def test_rates_with_a_date_outside_the_range_asked_are_rejected():
    body = _range_body()
    body["rates"]["2024-02-14"] = dict(body["rates"]["2024-02-13"])
    with pytest.raises(
        BodyError, match=r"rates date 2024-02-14: is outside the range asked for \(2024-02-12\.\.2024-02-13\)"
    ):
        parse_exchange_rates(rates_response(_dumps(body)), params())


def test_rates_missing_a_needed_day_are_rejected():
    body = _range_body()
    del body["rates"]["2024-02-13"]
    with pytest.raises(BodyError, match=r"rates for 2024-02-13: the ECB rate of 2024-02-13"):
        parse_exchange_rates(rates_response(_dumps(body)), params())


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("-1.0773", "expected a positive number"),
        ("0", "expected a positive number"),
        ('"abc"', "expected a positive number"),
        ("1.0773001", "more than 6 decimals"),
    ],
)
def test_rates_that_are_not_usable_numbers_are_rejected(value, problem):
    text = RANGE_BODY.read_text("utf-8").replace('"USD": 1.0773', f'"USD": {value}')
    assert text != RANGE_BODY.read_text("utf-8")
    with pytest.raises(BodyError, match=rf"rate USD on 2024-02-12: .*{problem}"):
        parse_exchange_rates(rates_response(text), params())


def test_rates_in_another_base_are_rejected():
    with pytest.raises(BodyError, match=r"field 'base': is 'USD'; expected 'EUR'"):
        parse_exchange_rates(rates_response(_dumps(_range_body(base="USD"))), params())


def test_ecb_csv_without_its_header_is_rejected():
    with pytest.raises(BodyError, match=r"header"):
        parse_exchange_rates(rates_response("2024-02-12,1.0773,\n", media_type="csv"), params(source="offline"))


def test_products_body_that_is_not_json_is_rejected():
    with pytest.raises(BodyError, match=r"^http://store\.test/.*body is not JSON"):
        parse_products(products_response(b"Service Unavailable"), params())


def test_products_negative_price_is_rejected_naming_the_record():
    records = _products(lambda r: r[2].update(price=-39.99))
    with pytest.raises(BodyError) as error:
        parse_products(products_response(records), params())
    assert "record 2 (id 17)" in str(error.value)
    # The value is shown as the body's decimal (today as its repr, Decimal('-39.99')).
    assert re.search(r"field 'price' is \S*-39\.99\S*; expected a positive number", str(error.value))


def test_products_rating_above_5_is_rejected():
    records = _products(lambda r: r[0]["rating"].update(rate=6))
    with pytest.raises(BodyError, match=r"record 0 \(id 15\): field 'rating.rate' is 6; expected a number in 0\.\.5"):
        parse_products(products_response(records), params())


def test_products_duplicate_id_is_rejected():
    records = _products(lambda r: r[5].update(id=18))
    with pytest.raises(BodyError, match=r"field 'id': duplicate product ids \[18\]"):
        parse_products(products_response(records), params())


def test_products_empty_list_is_rejected():
    with pytest.raises(BodyError, match=r"the category \"women's clothing\" has no products"):
        parse_products(products_response([]), params())


def test_products_price_with_fractions_of_a_cent_is_rejected():
    records = _products(lambda r: r[1].update(price=29.955))
    with pytest.raises(BodyError, match=r"record 1 \(id 16\): field 'price' is 29\.955; expected whole cents"):
        parse_products(products_response(records), params())


def test_products_of_another_category_are_rejected():
    records = _products(lambda r: r[3].update(category="men's clothing"))
    with pytest.raises(BodyError, match=r"record 3 \(id 18\): field 'category' is \"men's clothing\""):
        parse_products(products_response(records), params())


def test_products_missing_rating_count_is_rejected():
    records = _products(lambda r: r[4]["rating"].pop("count"))
    with pytest.raises(BodyError, match=r"record 4 \(id 19\): field 'rating.count' is missing or null"):
        parse_products(products_response(records), params())
