"""Cart lines parsed and validated in bulk: DuckDB's JSON reader over the body, no Python object per
cart or line. A window of 400,000 lines (a day of 100,000 and a 3-day lookback) parses in about
half the time the cart-by-cart checks take, and it is parsed twice a run (the extract and the
reconciliation).

Bulk is a fast path, never a second set of rules, as for the products (extract/bulk_products.py):
it answers either the very frame that extract.parse_carts' cart-by-cart checks build, or None, and
then those checks run and raise their exact message (naming the cart, the line and the field).
Every check is made here too, on every cart and line: an object, an integer id and userId in
1..2^31-1, cart ids unique, a
text date whose day (read by extract.cart_day itself, once per distinct text) is inside the window,
a list of products, each line an object with an integer productId and quantity in range, no product
twice in a cart, every product known to the catalogue when the run prices all of it.

JSON dialect: DuckDB's reader accepts a comma closing an object or array, which Python's json
refuses; a body holding one (text inside a string counts too) takes the exact path, as does one
whose numbers a double may not read exactly (extract/bulk_products.plain_json). One difference
is not covered, as for the products: an object repeating a key (Python keeps the last value, DuckDB
reads the first). Fake Store never sends one.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
import pandas as pd

from pricing_pipeline.extract.bulk_products import plain_json
from pricing_pipeline.extract.limits import COUNT_LIMIT
from pricing_pipeline.warehouse.connection import quoted_path

_INTEGER_IN_RANGE = "(json_type({value}) = 'UBIGINT' AND TRY_CAST({value} AS BIGINT) BETWEEN 1 AND {limit})"


def _in_range(value: str) -> str:
    return _INTEGER_IN_RANGE.format(value=value, limit=COUNT_LIMIT)


# One row per cart: whether its own fields pass, its values, its lines as one JSON value. Each field is
# read as its own small JSON value (one parse of the body); a cart that is not an object fails the
# read, and the exact path reports it.
_CARTS = f"""
CREATE TEMP TABLE carts AS
SELECT
    coalesce(
        {_in_range("id")}
        AND {_in_range("userId")}
        AND json_type(date) = 'VARCHAR'
        AND json_type(products) = 'ARRAY',
        false
    ) AS valid,
    TRY_CAST(id AS BIGINT) AS cart_id,
    TRY_CAST(userId AS BIGINT) AS user_id,
    date ->> '$' AS date_text,
    products
FROM read_json(
    '@PATH@', format = 'array', records = true,
    columns = {{'id': 'JSON', 'userId': 'JSON', 'date': 'JSON', 'products': 'JSON'}}
)
"""

# One row per line of the carts: a line that is not an object reads as NULL fields, hence not valid.
_LINES = f"""
CREATE TEMP TABLE lines AS
WITH unnested AS (
    SELECT cart_id, user_id, date_text,
           unnest(json_transform(products, '[{{"productId": "JSON", "quantity": "JSON"}}]')) AS line
    FROM carts
)
SELECT
    coalesce({_in_range("line.productId")} AND {_in_range("line.quantity")}, false) AS valid,
    cart_id, user_id, date_text,
    TRY_CAST(line.productId AS BIGINT) AS product_id,
    TRY_CAST(line.quantity AS BIGINT) AS quantity
FROM unnested
"""


def cart_lines_in_bulk(
    body: bytes,
    window_days: tuple[dt.date, dt.date],
    read_day: Callable[[str], dt.date | None],
    catalogue: Mapping[int, str],
    whole_catalogue: bool,
    body_path: Path | None = None,
) -> pd.DataFrame | None:
    """The tidy cart lines of a carts body, as extract.parse_carts builds them (its columns, types and
    order); None when any cart or line fails a check, the body is not an array DuckDB reads, or it
    has no line of the run's products (the exact path then says why, or builds the empty frame).

    window_days: the first and last day a cart may be dated; read_day: the parse's reading of a date
    text as a day (None when it is none); body_path: the body's landed file, read by DuckDB (else the
    body is written to a temporary file for it)."""
    if not body.strip() or not plain_json(body):
        return None
    written = None
    if body_path is None:
        handle, name = tempfile.mkstemp(suffix=".json", prefix="carts-")
        written = body_path = Path(name)
        with os.fdopen(handle, "wb") as file:
            file.write(body)
    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute(_CARTS.replace("@PATH@", quoted_path(body_path)))
        carts, invalid, ids = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT valid), count(DISTINCT cart_id) FROM carts"
        ).fetchone()
        if invalid or ids != carts:
            return None
        # A window's carts share a few date texts: each is read by the parse's own function.
        texts = [text for (text,) in con.execute("SELECT DISTINCT date_text FROM carts").fetchall()]
        days = {text: read_day(text) for text in texts}
        first, last = window_days
        if any(day is None or not first <= day <= last for day in days.values()):
            return None
        con.execute(_LINES)
        lines, invalid, distinct = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT valid), count(DISTINCT (cart_id, product_id)) FROM lines"
        ).fetchone()
        if lines == 0 or invalid or distinct != lines:
            return None
        products = [product_id for (product_id,) in con.execute("SELECT DISTINCT product_id FROM lines").fetchall()]
        categories = {product_id: catalogue.get(product_id) for product_id in products}
        if whole_catalogue and None in categories.values():
            return None
        known = [product_id for product_id, category in categories.items() if category is not None]
        frame = con.execute(
            "SELECT cart_id, user_id, list_position($texts, date_text) - 1 AS cart_day, product_id, quantity "
            "FROM lines WHERE product_id IN (SELECT unnest(CAST($known AS BIGINT[])))",
            {"texts": texts, "known": known},
        ).df()
    except duckdb.Error:
        return None  # not JSON, not an array, not UTF-8...: the exact path names the problem
    finally:
        con.close()
        if written is not None:
            written.unlink()
    if frame.empty:
        return None  # the exact path builds the empty frame, typed as it types it
    # The day and the category of each line from the few texts and products, by pandas: no text per
    # line made in DuckDB and converted.
    frame["cart_day"] = pd.Series(pd.to_datetime([days[text] for text in texts])).take(frame["cart_day"]).values
    frame["category"] = frame["product_id"].map(categories)
    return frame
