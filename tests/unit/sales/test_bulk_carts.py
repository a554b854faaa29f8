"""The carts' bulk parse (sales/bulk_carts.py) against the cart-by-cart parse: on every valid body
the same frame, on every body the cart-by-cart parse refuses no frame at all (then that parse
names the problem)."""

from __future__ import annotations

import datetime as dt
import json
import random

import pandas as pd
import pytest

from pricing_pipeline.extract.parsing import BodyError
from pricing_pipeline.extract.responses import RawResponse
from pricing_pipeline.sales import extract
from pricing_pipeline.sales.bulk_carts import cart_lines_in_bulk
from pricing_pipeline.sales.extract import cart_day, parse_carts
from pricing_pipeline.sales.window import SalesWindow
from tests.support.sales_warehouse import recorded_carts

WINDOW = SalesWindow(dt.date(2020, 1, 1), dt.date(2020, 3, 1), dt.date(2020, 3, 2))
CATALOGUE = {product_id: ("jewelery" if product_id % 3 else "electronics") for product_id in range(1, 21)}
GOOD = {"id": 1, "userId": 1, "date": "2020-03-02T00:00:00.000Z", "products": [{"productId": 1, "quantity": 4}]}


def response(body: bytes | list) -> RawResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RawResponse("carts", "carts?test", raw, "json", "test", None)


@pytest.fixture(autouse=True)
def bulk_from_any_size(monkeypatch):
    """parse_carts takes the bulk path for every body here, however small."""
    monkeypatch.setattr(extract, "BULK_MIN_BYTES", 0)


def exact(body, catalogue, whole: bool, monkeypatch) -> pd.DataFrame:
    with monkeypatch.context() as patched:
        patched.setattr(extract, "cart_lines_in_bulk", lambda *args: None)
        return parse_carts(response(body), WINDOW, catalogue, whole)


def bulk(body, catalogue, whole: bool) -> pd.DataFrame | None:
    raw = response(body).body
    return cart_lines_in_bulk(raw, (WINDOW.start, WINDOW.end), cart_day, catalogue, whole)


def generated_carts(count: int, seed: int) -> list[dict]:
    """Carts over the window: 0 to 6 distinct products each, times with and without an offset."""
    rng = random.Random(seed)
    carts = []
    for number in range(count):
        day = WINDOW.start + dt.timedelta(days=rng.randrange((WINDOW.end - WINDOW.start).days + 1))
        date = rng.choice([f"{day}T00:00:00.000Z", f"{day}T10:30:00+02:00", f"{day}", f"{day}T23:59:59Z"])
        products = rng.sample(range(1, 21), rng.randrange(7))
        lines = [{"productId": p, "quantity": rng.randrange(1, 11)} for p in products]
        carts.append({"id": 1000 - number, "userId": rng.randrange(1, 11), "date": date, "products": lines, "__v": 0})
    return carts


VALID = {
    "recorded": recorded_carts(),
    "generated": generated_carts(300, seed=1),
    "extra fields and escapes": [
        {**GOOD, "date": b"\\u0032020-03-02T00:00:00.000Z".decode("unicode_escape"), "note": {"a": [1, 2]}},
        {**GOOD, "id": 2, "products": [], "__v": 3},
    ],
}


@pytest.mark.parametrize("name", sorted(VALID))
@pytest.mark.parametrize("whole", [True, False])
def test_a_valid_body_gives_the_frame_of_the_cart_by_cart_parse(name, whole, monkeypatch, tmp_path):
    catalogue = CATALOGUE if whole else {p: c for p, c in CATALOGUE.items() if c == "jewelery"}
    found = bulk(VALID[name], catalogue, whole)
    assert found is not None, "the bulk path should take a valid body"
    expected = exact(VALID[name], catalogue, whole, monkeypatch)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(parse_carts(response(VALID[name]), WINDOW, catalogue, whole), expected)
    landed = tmp_path / "carts.json"  # as the run parses it: from the landed file
    landed.write_bytes(response(VALID[name]).body)
    pd.testing.assert_frame_equal(parse_carts(response(VALID[name]), WINDOW, catalogue, whole, landed), expected)


def test_a_category_none_of_whose_lines_are_in_it_gives_the_same_empty_frame(monkeypatch):
    catalogue = {1: "jewelery"}
    carts = [{**GOOD, "products": [{"productId": 2, "quantity": 1}]}]
    expected = exact(carts, catalogue, False, monkeypatch)
    assert expected.empty
    pd.testing.assert_frame_equal(parse_carts(response(carts), WINDOW, catalogue, False), expected)


def line(**fields) -> dict:
    return {**GOOD, "products": [{"productId": 1, "quantity": 4, **fields}]}


# Bodies the cart-by-cart parse refuses, each for one reason.
REFUSED = {
    "empty": b"",
    "not JSON": b"[{",
    "not a list": {"carts": []},
    "null": None,
    "a cart not an object": [GOOD, 3],
    "trailing comma in a cart": b'[{"id": 1, "userId": 1, "date": "2020-03-02", "products": [],}]',
    "trailing comma in the lines": b'[{"id": 1, "userId": 1, "date": "2020-03-02", "products": [{"productId": 1, '
    b'"quantity": 1},]}]',
    "id missing": [{k: v for k, v in GOOD.items() if k != "id"}],
    "id 0": [{**GOOD, "id": 0}],
    "id text": [{**GOOD, "id": "1"}],
    "id true": [{**GOOD, "id": True}],
    "id 1.0": b'[{"id": 1.0, "userId": 1, "date": "2020-03-02", "products": []}]',
    "id 1e0": b'[{"id": 1e0, "userId": 1, "date": "2020-03-02", "products": []}]',
    "id beyond INTEGER": [{**GOOD, "id": 2**31}],
    "id beyond 64 bits": [{**GOOD, "id": 10**30}],
    "id negative": [{**GOOD, "id": -1}],
    "id NaN": b'[{"id": NaN, "userId": 1, "date": "2020-03-02", "products": []}]',
    "ids repeated": [GOOD, GOOD],
    "userId null": [{**GOOD, "userId": None}],
    "date a number": [{**GOOD, "date": 20200302}],
    "date no date": [{**GOOD, "date": "2020-13-02"}],
    "date before the window": [{**GOOD, "date": "2019-12-31T23:00:00Z"}],
    "date after the window": [{**GOOD, "date": "2020-03-02T23:30:00-01:00"}],
    "products null": [{**GOOD, "products": None}],
    "products an object": [{**GOOD, "products": {"productId": 1, "quantity": 1}}],
    "a line not an object": [{**GOOD, "products": [1]}],
    "a line a list": [{**GOOD, "products": [[1, 4]]}],
    "quantity 0": [line(quantity=0)],
    "quantity 1.5": [line(quantity=1.5)],
    "quantity text": [line(quantity="4")],
    "quantity missing": [{**GOOD, "products": [{"productId": 1}]}],
    "productId beyond INTEGER": [line(productId=2**31)],
    "productId not in the catalogue": [line(productId=99)],
    "a product twice": [{**GOOD, "products": [{"productId": 1, "quantity": 1}, {"productId": 1, "quantity": 2}]}],
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_body_the_cart_by_cart_parse_refuses_has_no_bulk_frame(name, monkeypatch):
    body = REFUSED[name]
    with pytest.raises(BodyError):
        exact(body, CATALOGUE, True, monkeypatch)
    assert bulk(body, CATALOGUE, True) is None
    with pytest.raises(BodyError):
        parse_carts(response(body), WINDOW, CATALOGUE, True)
