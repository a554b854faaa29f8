"""The products of the extract, from the landed body to the hand-off file (notebooks/01_extract.ipynb).

A large body is checked and written to the hand-off by DuckDB straight from the landed file
(bulk_products.handoff_in_bulk): the kernel never holds the body, a table of it or a frame of a
million products. Any other body, and a large one failing any check, goes record by record
(parsing.parse_products), whose message names the record and the field. What the notebook shows,
and the catalogue the carts are checked against, are read back from the hand-off, a few columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.extract.bulk_products import BULK_MIN_BYTES, handoff_in_bulk
from pricing_pipeline.extract.handoff import PRODUCTS, handoff_path, write_handoff
from pricing_pipeline.extract.landing import load_landed
from pricing_pipeline.extract.parsing import parse_products
from pricing_pipeline.warehouse.connection import quoted_path


class Catalogue(Mapping[int, str]):
    """Product id -> category, as two arrays sorted by id: a million products take 9 MB, where a
    dict of them takes over 100 MB. What the carts' parsing looks their product ids up in."""

    def __init__(self, ids: np.ndarray, codes: np.ndarray, categories: list[str]):
        self._ids, self._codes, self._categories = ids, codes, categories

    def __getitem__(self, product_id: int) -> str:
        at = int(np.searchsorted(self._ids, product_id))
        if at == len(self._ids) or self._ids[at] != product_id:
            raise KeyError(product_id)
        return self._categories[self._codes[at]]

    def __iter__(self) -> Iterator[int]:
        return (int(product_id) for product_id in self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def categories(self) -> list[str]:
        """The catalogue's categories, in name order."""
        return list(self._categories)


def catalogue_of(handoff: Path) -> Catalogue:
    """Every product's category by id, read from a products hand-off file: for the carts' parsing
    (sales.parse_carts) and their reconciliation."""
    con = duckdb.connect()
    try:
        source = f"read_parquet('{quoted_path(handoff)}')"
        categories = [
            category for (category,) in con.sql(f"SELECT DISTINCT category FROM {source} ORDER BY 1").fetchall()
        ]
        arrays = con.execute(
            f"SELECT product_id, CAST(list_position(?, category) - 1 AS UTINYINT) AS code FROM {source} "
            "ORDER BY product_id",
            [categories],
        ).fetchnumpy()
    finally:
        con.close()
    return Catalogue(np.asarray(arrays["product_id"]), np.asarray(arrays["code"]), categories)


@dataclass(frozen=True)
class HandedOffProducts:
    """The run's products, checked and written to the hand-off file (path); count of them."""

    path: Path
    count: int

    def __len__(self) -> int:
        return self.count

    def table(self, columns: list[str]) -> pd.DataFrame:
        """The products by id, those columns: every row when pandas would show them all
        (display.max_rows), else the first and the last rows that pandas shows of a long table
        (display.min_rows), with their positions in the whole table as index."""
        shown = ", ".join(columns)
        con = duckdb.connect()
        try:
            source = f"read_parquet('{quoted_path(self.path)}')"
            limit = pd.get_option("display.max_rows")  # None: pandas shows every row; here, a bounded view
            half = max(1, (pd.get_option("display.min_rows") or 10) // 2)
            if self.count <= 2 * half or (limit is not None and self.count <= limit):
                return con.sql(f"SELECT {shown} FROM {source} ORDER BY product_id").df()
            # Top-N by id at each end: no sort of the whole hand-off.
            head = con.sql(f"SELECT {shown} FROM {source} ORDER BY product_id LIMIT {half}").df()
            tail = con.sql(f"SELECT {shown} FROM {source} ORDER BY product_id DESC LIMIT {half}").df()
        finally:
            con.close()
        tail = tail.iloc[::-1]
        tail.index = range(self.count - len(tail), self.count)
        return pd.concat([head, tail])

    def catalogue(self) -> Catalogue:
        """Every product's category by id, for the carts' parsing (sales.parse_carts)."""
        return catalogue_of(self.path)


def hand_off_products(body_path: Path, params: RunParameters, interim_dir: Path) -> HandedOffProducts:
    """Check the products body landed at body_path (land_response's answer) and write the tidy
    products (parsing.PRODUCT_COLUMNS, one row per product id) as the hand-off file under
    interim_dir (data/interim/<run id>/products.parquet), whole or not at all.

    Returns the hand-off; raises BodyError naming the request, the record and the field.
    """
    target = handoff_path(interim_dir, PRODUCTS)
    if body_path.stat().st_size >= BULK_MIN_BYTES:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        try:
            count = handoff_in_bulk(body_path, params.category, partial)
            if count is not None:
                partial.replace(target)
                return HandedOffProducts(target, count)
        finally:
            partial.unlink(missing_ok=True)
    # Record by record, from the landed bytes: the exact checks, and their message on a failure.
    frame = parse_products(load_landed(body_path), params)
    return HandedOffProducts(write_handoff(frame, interim_dir, PRODUCTS), len(frame))
