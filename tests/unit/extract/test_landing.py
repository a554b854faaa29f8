"""Landing (extract/landing.py): a body the run has already landed byte for byte is linked to, not
written again, and its row names the first one's lasting copy; any other body gets its own files."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import duckdb

from pricing_pipeline.extract.landing import land_response
from tests.support.bodies import PRODUCTS_BODY, products_response


def rows(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT name, body_sha256, body_bytes, body_file FROM raw.responses ORDER BY landed_at"
        ).fetchall()
    finally:
        con.close()


def test_a_body_landed_again_by_the_run_is_a_link_to_the_first(tmp_path):
    data = tmp_path / "data"
    raw, warehouse = data / "raw" / "r1", data / "warehouse.duckdb"
    body = PRODUCTS_BODY.read_bytes()
    first = land_response(products_response(body), raw, warehouse, "r1")
    again = land_response(replace(products_response(body), name="products_recheck"), raw, warehouse, "r1")
    assert (first.name, again.name) == ("products.json", "products_recheck.json")
    assert again.read_bytes() == body and again.stat().st_ino == first.stat().st_ino
    digest = hashlib.sha256(body).hexdigest()
    kept = f"raw/r1/products.{digest[:16]}.json"
    assert rows(warehouse) == [("products", digest, len(body), kept), ("products_recheck", digest, len(body), kept)]
    assert sorted(path.name for path in raw.iterdir() if not path.name.endswith(".meta.json")) == sorted(
        ["products.json", "products_recheck.json", f"products.{digest[:16]}.json"]
    )


def test_a_changed_body_or_another_run_gets_its_own_files(tmp_path):
    data = tmp_path / "data"
    warehouse = data / "warehouse.duckdb"
    body = PRODUCTS_BODY.read_bytes()
    changed = body.replace(b"56.99", b"56.98", 1)
    first = land_response(products_response(body), data / "raw" / "r1", warehouse, "r1")
    recheck = land_response(
        replace(products_response(changed), name="products_recheck"), data / "raw" / "r1", warehouse, "r1"
    )
    other_run = land_response(products_response(body), data / "raw" / "r2", warehouse, "r2")
    assert recheck.read_bytes() == changed and first.read_bytes() == body == other_run.read_bytes()
    assert len({first.stat().st_ino, recheck.stat().st_ino, other_run.stat().st_ino}) == 3
    files = [body_file for *_, body_file in rows(warehouse)]
    assert files == [
        f"raw/r1/products.{hashlib.sha256(body).hexdigest()[:16]}.json",
        f"raw/r1/products_recheck.{hashlib.sha256(changed).hexdigest()[:16]}.json",
        f"raw/r2/products.{hashlib.sha256(body).hexdigest()[:16]}.json",
    ]
