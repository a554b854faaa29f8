"""The products' hand-off (extract/products.py): from the landed body to the file 02_transform reads,
by the bulk path or record by record; what the notebook shows of it; the carts' catalogue.

Expected values come from the records themselves (json), not from the code under test.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.extract import products as products_module
from pricing_pipeline.extract.handoff import PRODUCTS, handoff_path
from pricing_pipeline.extract.landing import land_raw
from pricing_pipeline.extract.parsing import BodyError, parse_products
from pricing_pipeline.extract.products import hand_off_products
from tests.support.bodies import CATEGORY, PRODUCTS_BODY, params, products_response


def catalogue_records(count: int) -> list[dict]:
    """count valid products, ids in a shuffled order, two categories' worth of names."""
    return [
        {
            "id": product_id,
            "title": f"Product {product_id}",
            "price": round(1 + product_id * 0.25, 2),
            "description": f"about product {product_id}",
            "category": CATEGORY,
            "image": f"https://fakestoreapi.com/img/{product_id}.jpg",
            "rating": {"rate": (product_id % 50) / 10, "count": product_id * 3},
        }
        for product_id in sorted(range(1, count + 1), key=lambda i: (i * 7919) % count)
    ]


def landed(tmp_path, body: bytes):
    return land_raw(products_response(body), tmp_path / "raw")


@pytest.fixture(params=["bulk", "record by record"])
def path_taken(request, monkeypatch):
    """Every test runs on both paths: the bulk one (BULK_MIN_BYTES lowered) and the exact one."""
    if request.param == "bulk":
        monkeypatch.setattr(products_module, "BULK_MIN_BYTES", 0)
    else:
        monkeypatch.setattr(products_module, "handoff_in_bulk", lambda *args: pytest.fail("bulk path taken"))
    return request.param


def test_the_handoff_holds_every_product_checked(tmp_path, path_taken):
    records = catalogue_records(300)
    body = json.dumps(records).encode()
    handed = hand_off_products(landed(tmp_path, body), params(), tmp_path / "interim")
    assert handed.path == handoff_path(tmp_path / "interim", PRODUCTS) and len(handed) == 300
    written = duckdb.read_parquet(str(handed.path)).df().sort_values("product_id", ignore_index=True)
    pd.testing.assert_frame_equal(written, parse_products(products_response(body), params()))
    assert not list((tmp_path / "interim").glob("*.partial"))


def test_a_failing_record_is_named_and_no_handoff_is_left(tmp_path, path_taken):
    records = catalogue_records(50)
    records[17]["price"] = 29.955
    body = json.dumps(records).encode()
    with pytest.raises(BodyError) as error:
        hand_off_products(landed(tmp_path, body), params(), tmp_path / "interim")
    assert f"record 17 (id {records[17]['id']})" in str(error.value)
    assert "field 'price' is 29.955; expected whole cents" in str(error.value)
    assert not handoff_path(tmp_path / "interim", PRODUCTS).exists()


def test_a_small_table_is_shown_whole(tmp_path, path_taken):
    body = PRODUCTS_BODY.read_bytes()
    handed = hand_off_products(landed(tmp_path, body), params(), tmp_path / "interim")
    columns = ["product_id", "title", "price_usd", "rating_rate", "rating_count"]
    shown = handed.table(columns)
    records = sorted(json.loads(body), key=lambda record: record["id"])
    assert shown.columns.tolist() == columns and shown.index.tolist() == list(range(len(records)))
    assert shown.to_dict("records") == [
        {
            "product_id": r["id"],
            "title": r["title"],
            "price_usd": r["price"],
            "rating_rate": r["rating"]["rate"],
            "rating_count": r["rating"]["count"],
        }
        for r in records
    ]


def test_a_long_table_shows_its_first_and_last_rows_by_id(tmp_path, path_taken):
    handed = hand_off_products(landed(tmp_path, json.dumps(catalogue_records(1000)).encode()), params(), tmp_path)
    shown = handed.table(["product_id", "title"])
    half = pd.get_option("display.min_rows") // 2
    ids = [*range(1, half + 1), *range(1001 - half, 1001)]
    assert shown["product_id"].tolist() == ids
    assert shown["title"].tolist() == [f"Product {i}" for i in ids]
    assert shown.index.tolist() == [i - 1 for i in ids]  # each row's position in the whole table


def test_the_catalogue_maps_each_id_to_its_category(tmp_path, path_taken):
    records = json.loads((PRODUCTS_BODY.parent / "products.json").read_bytes())  # four categories
    all_params = validate_parameters("2024-02-12", "2024-02-13", "all", "recorded", "t", today=dt.date(2024, 12, 31))
    handed = hand_off_products(landed(tmp_path, json.dumps(records).encode()), all_params, tmp_path)
    catalogue = handed.catalogue()
    expected = {record["id"]: record["category"] for record in records}
    assert dict(catalogue) == expected and len(catalogue) == len(expected)
    assert catalogue.get(max(expected) + 1) is None and catalogue.get(0) is None
    assert all(type(category) is str for category in catalogue.values())


def test_a_table_without_a_row_limit_is_still_bounded(tmp_path, path_taken):
    """display.max_rows None (pandas would show every row): the first and last rows still, and a
    table of fewer rows than that view shows whole, each row once."""
    few = hand_off_products(landed(tmp_path, json.dumps(catalogue_records(7)).encode()), params(), tmp_path / "a")
    many = hand_off_products(landed(tmp_path, json.dumps(catalogue_records(500)).encode()), params(), tmp_path / "b")
    with pd.option_context("display.max_rows", None, "display.min_rows", 10):
        assert few.table(["product_id"])["product_id"].tolist() == list(range(1, 8))
        assert many.table(["product_id"])["product_id"].tolist() == [1, 2, 3, 4, 5, 496, 497, 498, 499, 500]
