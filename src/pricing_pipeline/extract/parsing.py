"""Parsing and validation of the bodies, the same lines for every source.

Bodies are decoded with exact decimals, checked field by field, and only then turned into tidy
DataFrames. A failed check raises BodyError naming the request, the record and the field.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from pricing_pipeline.common.categories import ALL_CATEGORIES
from pricing_pipeline.common.errors import PipelineError
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.common.target_calendar import last_target_day_on_or_before
from pricing_pipeline.extract.bulk_products import BULK_MIN_BYTES, products_in_bulk
from pricing_pipeline.extract.limits import COUNT_LIMIT, PRICE_LIMIT, RATE_DECIMALS, RATE_LIMIT
from pricing_pipeline.extract.responses import RawResponse

RATE_COLUMNS = ["rate_date", "base", "currency", "rate"]
PRODUCT_COLUMNS = [
    "product_id",
    "title",
    "price_usd",
    "description",
    "category",
    "image",
    "rating_rate",
    "rating_count",
]


class BodyError(PipelineError, ValueError):
    """A body that cannot be used; the message names the request and what is wrong."""


def _decode_json(response: RawResponse) -> Any:
    if not response.body.strip():
        raise BodyError(f"{response.request}: body is empty; expected JSON")
    try:
        return json.loads(response.body, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        start = response.body[:80].decode("utf-8", "replace")
        raise BodyError(f"{response.request}: body is not JSON ({error}); it starts with {start!r}") from None


def _fail(response: RawResponse, where: str, problem: str) -> BodyError:
    return BodyError(f"{response.request}: {where}: {problem}")


def _decimal(value: Any, text_allowed: bool = False) -> Decimal | None:
    """The exact number of a JSON or CSV value, or None when it is not a finite number.

    JSON numbers arrive as int or Decimal; text ("1.07") counts only where text_allowed.
    """
    if isinstance(value, bool) or value is None:
        return None
    if not isinstance(value, (int, Decimal)) and not (text_allowed and isinstance(value, str)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _shown(value: Any) -> str:
    """A body's value as a message shows it: numbers as written in the body, anything else as repr."""
    return str(value) if isinstance(value, Decimal) else repr(value)


def _decimals(number: Decimal) -> int:
    return max(0, -number.as_tuple().exponent)


# ---------------------------------------------------------------- exchange rates


def _rates_from_json(response: RawResponse) -> dict[str, dict[str, Any]]:
    body = _decode_json(response)
    if not isinstance(body, dict):
        raise _fail(response, "body", f"expected an object, got {type(body).__name__}")
    if "amount" in body and _decimal(body["amount"], text_allowed=True) != 1:
        raise _fail(response, "field 'amount'", f"is {_shown(body['amount'])}; expected 1 (rates for one euro)")
    if body.get("base") != "EUR":
        raise _fail(response, "field 'base'", f"is {body.get('base')!r}; expected 'EUR'")
    rates = body.get("rates")
    if not isinstance(rates, dict) or not rates:
        raise _fail(response, "field 'rates'", "is missing or empty")
    if "date" in body:  # the one-day shape: {"date": d, "rates": {currency: rate}}
        if not isinstance(body["date"], str):
            raise _fail(response, "field 'date'", f"is {body['date']!r}; expected a date (YYYY-MM-DD)")
        return {body["date"]: rates}
    return rates  # the range shape: {"rates": {date: {currency: rate}}}


def _rates_from_ecb_csv(response: RawResponse) -> dict[str, dict[str, Any]]:
    try:
        lines = response.body.decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise _fail(response, "body", f"is not UTF-8 text ({error})") from None
    if not lines or not lines[0].startswith("Date,"):
        raise _fail(response, "header", "expected the ECB history header 'Date,USD,JPY,...'")
    currencies = [name for name in lines[0].split(",")[1:]]
    by_date: dict[str, dict[str, Any]] = {}
    for line in lines[1:]:
        cells = line.split(",")
        # 'N/A' marks a currency the ECB did not quote that day; trailing empty cells are padding.
        by_date[cells[0]] = {
            currency: value
            for currency, value in zip(currencies, cells[1:], strict=False)
            if currency and value not in ("", "N/A")
        }
    return by_date


def parse_exchange_rates(response: RawResponse, params: RunParameters) -> pd.DataFrame:
    """Tidy rates from any rates body (Frankfurter's JSON, the ECB history CSV), validated for the run.

    Takes the response and the run's parameters; returns one row per publication day and currency,
    columns rate_date, base, currency, rate, for the days from params.rates_start_date to end_date.
    Raises BodyError naming the request and what is wrong.
    """
    by_date = _rates_from_ecb_csv(response) if response.media_type == "csv" else _rates_from_json(response)
    rows = []
    for day_text, day_rates in by_date.items():
        try:
            if not (len(day_text) == 10 and day_text[4] == day_text[7] == "-"):
                raise ValueError(day_text)
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            raise _fail(response, f"rates date {day_text!r}", "is not a date (YYYY-MM-DD)") from None
        if not params.rates_start_date <= day <= params.end_date:
            raise _fail(
                response,
                f"rates date {day}",
                f"is outside the range asked for ({params.rates_start_date}..{params.end_date})",
            )
        if not isinstance(day_rates, dict):
            raise _fail(
                response, f"rates of {day}", f"are {type(day_rates).__name__}; expected an object of currency: rate"
            )
        if "USD" not in day_rates:
            raise _fail(response, f"rates of {day}", "have no USD rate, which every price needs")
        for currency, value in day_rates.items():
            # Numeric text ("1.0773") is read as the decimal it spells, in CSV and JSON alike.
            rate = _decimal(value, text_allowed=True)
            if rate is None or rate <= 0:
                raise _fail(response, f"rate {currency} on {day}", f"is {_shown(value)}; expected a positive number")
            if rate >= RATE_LIMIT:
                raise _fail(
                    response, f"rate {currency} on {day}", f"is {_shown(value)}; expected less than {RATE_LIMIT:,}"
                )
            if _decimals(rate) > RATE_DECIMALS:
                raise _fail(response, f"rate {currency} on {day}", f"has more than {RATE_DECIMALS} decimals")
            rows.append((day, "EUR", str(currency), float(rate)))
    published = {row[0] for row in rows}
    for day in params.days:
        needed = last_target_day_on_or_before(day)
        if needed not in published:
            raise _fail(
                response,
                f"rates for {day}",
                f"the ECB rate of {needed} (the TARGET working day in force) is not in the body",
            )
    frame = pd.DataFrame(rows, columns=RATE_COLUMNS)
    frame["rate_date"] = pd.to_datetime(frame["rate_date"])
    return frame.sort_values(["rate_date", "currency"], ignore_index=True)


# ---------------------------------------------------------------- products


def _product_row(response: RawResponse, index: int, record: Any, category: str) -> tuple:
    if not isinstance(record, dict):
        raise _fail(response, f"record {index}", f"expected an object, got {type(record).__name__}")
    where = f"record {index} (id {record.get('id')!r})"

    def field(name: str, kind: type, parent: dict = record, label: str | None = None) -> Any:
        value = parent.get(name)
        label = label or name
        if value is None:
            raise _fail(response, where, f"field '{label}' is missing or null")
        if kind is int and (isinstance(value, bool) or not isinstance(value, (int,))):
            raise _fail(response, where, f"field '{label}' is {_shown(value)}; expected an integer")
        if kind is str and not isinstance(value, str):
            raise _fail(response, where, f"field '{label}' is {_shown(value)}; expected text")
        if kind is dict and not isinstance(value, dict):
            raise _fail(response, where, f"field '{label}' is {_shown(value)}; expected an object")
        return value

    product_id = field("id", int)
    if not 0 < product_id <= COUNT_LIMIT:
        raise _fail(response, where, f"field 'id' is {product_id}; expected a positive integer")
    price = _decimal(field("price", object))
    if price is None or price <= 0:
        raise _fail(response, where, f"field 'price' is {_shown(record['price'])}; expected a positive number")
    if price >= PRICE_LIMIT:
        raise _fail(response, where, f"field 'price' is {price}; expected less than {PRICE_LIMIT:,}")
    if _decimals(price) > 2:
        raise _fail(response, where, f"field 'price' is {price}; expected whole cents")
    record_category = field("category", str)
    # The whole catalogue holds every category; a category's body only that category.
    if category != ALL_CATEGORIES and record_category != category:
        raise _fail(response, where, f"field 'category' is {record_category!r}; asked for {category!r}")
    rating = field("rating", dict)
    rate = _decimal(field("rate", object, rating, "rating.rate"))
    if rate is None or not 0 <= rate <= 5:
        raise _fail(response, where, f"field 'rating.rate' is {_shown(rating['rate'])}; expected a number in 0..5")
    count = field("count", int, rating, "rating.count")
    if not 0 <= count <= COUNT_LIMIT:
        raise _fail(response, where, f"field 'rating.count' is {count}; expected 0 or more (at most {COUNT_LIMIT})")
    return (
        product_id,
        field("title", str),
        float(price),
        field("description", str),
        record_category,
        field("image", str),
        float(rate),
        count,
    )


def parse_products(response: RawResponse, params: RunParameters, body_path: Path | None = None) -> pd.DataFrame:
    """Tidy products of the category, one row per product id, validated.

    Takes the products response, the run's parameters and, optionally, the path land_response
    returned; returns a DataFrame of PRODUCT_COLUMNS (product_id, title, price_usd, description,
    category, image, rating_rate, rating_count) sorted by product_id. Raises BodyError naming the
    request, the record and the field. A large body landed at body_path is parsed and checked in bulk (bulk_products.py); a body that
    fails any check there, or a small one, goes record by record, which names what is wrong.
    """
    if body_path is not None and len(response.body) >= BULK_MIN_BYTES:
        frame = products_in_bulk(response.body, body_path, params.category)
        if frame is not None:
            return frame
    body = _decode_json(response)
    if not isinstance(body, list):
        raise _fail(response, "body", f"expected a list of products, got {type(body).__name__}")
    if not body:
        raise _fail(response, "body", f"the category {params.category!r} has no products")
    rows = [_product_row(response, i, record, params.category) for i, record in enumerate(body)]
    first_record: dict[int, int] = {}
    repeats: list[tuple[int, int, int]] = []  # (record, product id, first record with that id)
    for index, row in enumerate(rows):
        first = first_record.setdefault(row[0], index)
        if first != index:
            repeats.append((index, row[0], first))
    if repeats:
        duplicated = sorted({product_id for _, product_id, _ in repeats})
        detail = "; ".join(f"record {index} repeats the id of record {first}" for index, _, first in repeats)
        raise _fail(response, "field 'id'", f"duplicate product ids {duplicated} ({detail})")
    frame = pd.DataFrame(rows, columns=PRODUCT_COLUMNS)
    return frame.sort_values("product_id", ignore_index=True)
