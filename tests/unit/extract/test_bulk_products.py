"""Products parsed in bulk (bulk_products.py): the same frame as the record-by-record path, and the
same message for every body that path rejects.

The expected frames come from the record-by-record path (exact decimals, one check per field),
which tests/unit/extract/test_parsing.py checks against the bodies themselves; here the bulk path must agree
with it exactly, or step aside (None) so that it reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pricing_pipeline.extract import bulk_products, parsing
from pricing_pipeline.extract.bulk_products import (
    handoff_in_bulk,
    plain_json,
    plain_json_in_file,
    products_in_bulk,
)
from pricing_pipeline.extract.parsing import BodyError, parse_products
from tests.support.bodies import CATEGORY, PRODUCTS_BODY, params, products_response


def record(product_id: int, **changes) -> dict:
    base = {
        "id": product_id,
        "title": f"Product {product_id} – “quoted” \\ back\u00e9",
        "price": 12.5,
        "description": 'line\nbreak, "quotes", tab\t and emoji \U0001f600',
        "category": CATEGORY,
        "image": f"https://fakestoreapi.com/img/{product_id}.jpg",
        "rating": {"rate": 3.9, "count": 120},
    }
    base.update(changes)
    return base


def edge_records() -> list[dict]:
    """Valid records at every limit of the checks, in no particular id order."""
    return [
        record(7, price=0.01, rating={"rate": 0, "count": 0}),
        record(2**31 - 1, price=99999999.99, rating={"rate": 5, "count": 2**31 - 1}),
        record(3, price=100, rating={"rate": 4.99, "count": 1}),
        record(1, price=1234567.89, rating={"rate": 0.1, "count": 7}),
        *(record(100 + i, price=round(1 + i * 0.37, 2)) for i in range(200)),
    ]


def land(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "products.json"
    path.write_bytes(body)
    return path


def test_bulk_frame_equals_the_record_by_record_frame(tmp_path):
    for body in (PRODUCTS_BODY.read_bytes(), json.dumps(edge_records(), ensure_ascii=False).encode()):
        expected = parse_products(products_response(body), params())  # no landed path: record by record
        frame = products_in_bulk(body, land(tmp_path, body), CATEGORY)
        assert frame is not None
        pd.testing.assert_frame_equal(frame, expected)


def test_large_bodies_take_the_bulk_path(tmp_path, monkeypatch):
    body = json.dumps(edge_records()).encode()
    calls = []
    monkeypatch.setattr(parsing, "BULK_MIN_BYTES", 0)
    monkeypatch.setattr(
        parsing, "products_in_bulk", lambda *args: calls.append(args) or bulk_products.products_in_bulk(*args)
    )
    frame = parse_products(products_response(body), params(), land(tmp_path, body))
    assert len(calls) == 1 and len(frame) == len(edge_records())


def test_bulk_handoff_holds_the_record_by_record_frame(tmp_path):
    """Written straight from DuckDB, in the body's order: sorted by id, the same rows and types."""
    for body in (PRODUCTS_BODY.read_bytes(), json.dumps(edge_records(), ensure_ascii=False).encode()):
        expected = parse_products(products_response(body), params())
        target = tmp_path / "products.parquet"
        assert handoff_in_bulk(land(tmp_path, body), CATEGORY, target) == len(expected)
        written = duckdb.read_parquet(str(target)).df()
        body_order = [record["id"] for record in json.loads(body)]
        assert written["product_id"].tolist() == body_order
        pd.testing.assert_frame_equal(written.sort_values("product_id", ignore_index=True), expected)


# Bodies the record-by-record path rejects, each with what it says (tests/unit/extract/test_parsing.py
# and tests/e2e/test_faults.py check the wording; here only that bulk leaves it unchanged).
def _bodies() -> dict[str, bytes]:
    def of(*changed: dict, raw: str | None = None) -> bytes:
        records = [record(1), record(2), *changed]
        text = json.dumps(records)
        return text.encode() if raw is None else text[:-1].encode() + b"," + raw.encode() + b"]"

    return {
        "not json": b"Service Unavailable",
        "an object": b'{"products": []}',
        "empty list": b"[]",
        "record not an object": of(raw="42"),
        "id as text": of(record(3, id="3")),
        "id as a decimal": of(raw=json.dumps(record(3)).replace('"id": 3', '"id": 3.0')),
        "id zero": of(record(0)),
        "id beyond INTEGER": of(record(2**31)),
        "id boolean": of(record(True)),
        "duplicate id": of(record(2)),
        "price zero": of(record(3, price=0)),
        "price negative": of(record(3, price=-1.5)),
        "price as text": of(record(3, price="9.99")),
        "price at the limit": of(record(3, price=100000000)),
        "fraction of a cent": of(record(3, price=29.955)),
        # Exact decimals a double cannot tell apart from whole cents or from 5.
        "fraction of a cent beyond a double": of(
            raw=json.dumps(record(3)).replace('"price": 12.5', '"price": 9.850000000000000001')
        ),
        "price with an exponent": of(raw=json.dumps(record(3)).replace('"price": 12.5', '"price": 1.2345e1')),
        "rate just above 5": of(raw=json.dumps(record(3)).replace('"rate": 3.9', '"rate": 5.0000000000000000001')),
        "rate NaN": of(raw=json.dumps(record(3)).replace('"rate": 3.9', '"rate": NaN')),
        "price Infinity": of(raw=json.dumps(record(3)).replace('"price": 12.5', '"price": Infinity')),
        "rate above 5": of(record(3, rating={"rate": 6, "count": 1})),
        "rate negative": of(record(3, rating={"rate": -0.1, "count": 1})),
        "count negative": of(record(3, rating={"rate": 1, "count": -1})),
        "count boolean": of(record(3, rating={"rate": 1, "count": True})),
        "count missing": of(record(3, rating={"rate": 1})),
        "rating not an object": of(record(3, rating=[1, 2])),
        "rating null": of(record(3, rating=None)),
        "title null": of(record(3, title=None)),
        "title a number": of(record(3, title=12)),
        "image missing": of({k: v for k, v in record(3).items() if k != "image"}),
        "another category": of(record(3, category="men's clothing")),
        "truncated": of(record(3))[:-20],
        "a record closed after a comma": of(raw=json.dumps(record(3))[:-1] + ",}"),
        "the rating closed after a comma": of(raw=json.dumps(record(3)).replace('"count": 120}', '"count": 120 ,\n}')),
    }


@pytest.mark.parametrize("name", sorted(_bodies()))
def test_rejected_bodies_keep_their_exact_message(name, tmp_path, monkeypatch):
    body = _bodies()[name]
    with pytest.raises(BodyError) as exact:
        parse_products(products_response(body), params())
    assert products_in_bulk(body, land(tmp_path, body), CATEGORY) is None
    target = tmp_path / "handoff.parquet"
    assert handoff_in_bulk(land(tmp_path, body), CATEGORY, target) is None
    assert not target.exists()  # nothing half-checked is left for the transform
    monkeypatch.setattr(parsing, "BULK_MIN_BYTES", 0)
    with pytest.raises(BodyError) as through_bulk:
        parse_products(products_response(body), params(), land(tmp_path, body))
    assert str(through_bulk.value) == str(exact.value)


def test_plain_json_finds_long_fractions_and_exponents_across_chunks(monkeypatch):
    monkeypatch.setattr(bulk_products, "_CHUNK", 16)
    assert plain_json(b'[{"price": 12.50, "rate": 3.9, "id": 123456789012}]')
    assert plain_json(b'"description": "the best 1.2 e-bike"')  # 'e' after a space, not a digit
    for tail in (b"9.12345678", b"1e5", b"2E-3", b"0.000000001"):
        for pad in range(0, 20):  # the pattern at every offset, so across chunk boundaries too
            assert not plain_json(b" " * pad + b'{"price": ' + tail + b"}"), (tail, pad)


def test_plain_json_finds_a_comma_closing_an_object_or_array_across_chunks(monkeypatch):
    monkeypatch.setattr(bulk_products, "_CHUNK", 16)
    monkeypatch.setattr(bulk_products, "_COMMA_REACH", 8)
    assert plain_json(b'[{"a": [1, 2], "b": "x"}, {"c": {}}]')
    for closing in (b",}", b", ]", b",\n\t\r }", b"," + b" " * 7 + b"]"):
        for pad in range(0, 24):  # at every offset, so across chunk boundaries too
            assert not plain_json(b" " * pad + b'[{"a": 1' + closing + b"]"), (closing, pad)
    # A comma before white space longer than the reach across a chunk's end: taken as closing.
    assert not plain_json(b'[{"a": 1,' + b" " * 40 + b'"b": 2}]')
    assert plain_json(b'[{"a": 1,' + b" " * 3 + b'"b": 2}]')
    assert plain_json(b'[{"a": 1}' + b" " * 40 + b"]")


def test_plain_json_in_a_file_across_chunks_and_pages(tmp_path, monkeypatch):
    """The landed file, mapped and its pages dropped chunk by chunk, answers as its bytes do: a
    literal is found at every offset around a chunk's end, with chunks of one page and of two."""
    import mmap

    body_file = tmp_path / "body.json"
    for chunk in (mmap.PAGESIZE, 2 * mmap.PAGESIZE):
        monkeypatch.setattr(bulk_products, "_CHUNK", chunk)
        for tail, plain in ((b"12.50", True), (b"9.12345678", False), (b"1e5", False), (b"2E-3", False)):
            for pad in range(chunk - 12, chunk + 2):
                body = b" " * pad + b'{"price": ' + tail + b"}" + b" " * 3 * chunk
                body_file.write_bytes(body)
                assert plain_json_in_file(body_file) is plain_json(body) is plain, (chunk, tail, pad)
    body_file.write_bytes(b"")
    assert plain_json_in_file(body_file)
