"""Products parsed and validated in bulk: DuckDB's JSON reader over the landed body, no Python object
per product. A catalogue of a million products then parses in seconds and in a fraction of the
memory that a million dicts of Decimals take.

Bulk is a fast path, never a second set of rules: it answers either the very frame that
parsing.parse_products' record-by-record checks would build, or None, and then the record-by-record
path runs and raises its exact message (it names the record and the field). Every check of
_product_row is made here too, on every record: the object shape, the JSON type of every field
(an integer id and rating count, text, numbers for price and rate, an object for rating), the id and
count ranges, a positive price below the column's limit in whole cents, a rate in 0..5, the category
asked for, no duplicate id.

Exact decimals. DuckDB's reader turns a JSON number into a double, so a literal such as
9.850000000000000001 would read as 9.85, and 5.0000000000000001 as 5.0. A double is exact enough
when every number literal of the body is written without an exponent and with at most 7 decimals
(prices are below 10^8, so such a literal has at most 15 significant digits and rounding its
double to 7 decimals gives the literal back exactly). plain_json() checks that over the raw
bytes first (the check may also trip on text inside strings; such a body simply takes the exact
path); the decimal checks are then made on DECIMAL(18, 7) values, exact.

Two consumers: products_in_bulk answers the frame (parse_products, for the reconciliation of a
changed body); handoff_in_bulk writes the same rows straight to the hand-off Parquet file in one
streaming query, so that the daily run's extract holds neither the body nor a frame of it
(extract/products.py).

JSON dialect. DuckDB's reader accepts a comma closing an object or array, which Python's json
refuses: plain_json() sends such a body to the exact path too. One difference is not covered: an
object repeating a key (Python keeps the last value). Fake Store never sends one.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pricing_pipeline.common.categories import ALL_CATEGORIES
from pricing_pipeline.extract.limits import COUNT_LIMIT, PRICE_LIMIT
from pricing_pipeline.warehouse.connection import quoted_path

# Below this size the record-by-record path is as fast (the case's body is 5 KB).
BULK_MIN_BYTES = 1 << 20
_CHUNK = 1 << 24  # bytes of the body looked at in one step
_INTEGER = "('UBIGINT', 'BIGINT')"
_NUMBER = "('UBIGINT', 'BIGINT', 'DOUBLE')"


# A number's exponent: e/E, an optional sign, digits, then a byte that ends a JSON number.
_EXPONENT = re.compile(rb"[eE][+-]?[0-9]+(?:[\s,\]}]|\Z)")
# A comma closing an object or array ("[1,]", '{"a": 1,}'): DuckDB's reader accepts it, Python's json
# refuses the body. Looked for in each chunk and _COMMA_REACH bytes past it; a comma before a longer
# run of white space across a chunk's end counts as one (the body then takes the exact path).
_TRAILING_COMMA = re.compile(rb",[ \t\r\n]*[\]}]")
_WHITE_SPACE = re.compile(rb"[ \t\r\n]*")
_LAST_NOT_WHITE = re.compile(rb"[^ \t\r\n][ \t\r\n]*\Z")
_COMMA_REACH = 4096


def plain_json(body: bytes | mmap.mmap, looked_at: Callable[[int], None] | None = None) -> bool:
    """True when no number literal of the body has an exponent or more than 7 decimals, and no comma
    closes an object or array: then DuckDB's reading of the body is Python's, to the cent.

    Looked for over the raw bytes, strings included (text such as "v1.12345678" or "3e5," inside a
    description also counts, and sends the body to the exact path, which is only slower): a '.'
    followed by 8 digits, or a digit followed by an exponent. Hex text such as an image name
    "0e8fef" is no exponent: a letter follows its digits. numpy over the bytes in chunks (memory
    bounded by the chunk); only a digit followed by e/E is looked at in Python. looked_at, if given,
    is called with the end of each chunk once the chunk is done.
    """
    data = np.frombuffer(body, dtype=np.uint8)
    for start in range(0, len(data), _CHUNK):
        end = min(start + _CHUNK, len(data))
        if _TRAILING_COMMA.search(body, start, min(end + _COMMA_REACH, len(data))):
            return False
        if end + _COMMA_REACH <= len(data) and _WHITE_SPACE.fullmatch(body, end, end + _COMMA_REACH):
            before = _LAST_NOT_WHITE.search(body, start, end)
            if before is not None and body[before.start()] == ord(","):
                return False
        chunk = data[start : start + _CHUNK + 9]  # 9 more bytes: a pattern crossing the chunk's end
        digit = (chunk - 48) < 10  # uint8 wraps below '0'
        for at in np.flatnonzero(digit[:-1] & ((chunk[1:] | 0x20) == ord("e"))):
            if at < _CHUNK and _EXPONENT.match(body, start + int(at) + 1):
                return False
        dots = np.flatnonzero(chunk[:_CHUNK] == ord("."))
        dots = dots[dots + 8 < len(chunk)]
        long_fraction = np.ones(len(dots), dtype=bool)
        for offset in range(1, 9):
            long_fraction &= digit[dots + offset]
        if long_fraction.any():
            return False
        if looked_at is not None:
            looked_at(start + _CHUNK)
    return True


def plain_json_in_file(path: Path) -> bool:
    """plain_json over a landed body, mapped rather than read: each chunk's pages are dropped from
    the process once looked at (they stay in the page cache, for DuckDB's read next), so a body of
    hundreds of MB is checked without being held in memory."""
    with open(path, "rb") as handle:
        if path.stat().st_size == 0:
            return True
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:

            def drop(end: int) -> None:
                # Every page before the next chunk (chunks only ever read forward, past their end).
                done = min(end, len(mapped))
                mapped.madvise(mmap.MADV_DONTNEED, 0, done - done % mmap.PAGESIZE)

            # Where the system has no MADV_DONTNEED the pages simply stay mapped until the scan ends.
            return plain_json(mapped, drop if hasattr(mmap, "MADV_DONTNEED") else None)


# One row per record, every check of _product_row as a boolean, the values typed as the frame has
# them. Each field is read as its own small JSON value (one parse of the body); TRY_CAST: a value out
# of a type's range is NULL, hence not ok, never an error. A record that is not an object fails the
# read, and the exact path reports it.
_RECORDS = f"""
SELECT
    coalesce(
        json_type(id) IN {_INTEGER}
        AND json_type(price) IN {_NUMBER}
        AND json_type(title) = 'VARCHAR'
        AND json_type(description) = 'VARCHAR'
        AND json_type(category) = 'VARCHAR'
        AND json_type(image) = 'VARCHAR'
        AND json_type(rating) = 'OBJECT'
        AND json_type(rating, '$.rate') IN {_NUMBER}
        AND json_type(rating, '$.count') IN {_INTEGER},
        false
    ) AS typed,
    TRY_CAST(id AS BIGINT) AS product_id,
    title ->> '$' AS title,
    TRY_CAST(TRY_CAST(price AS DOUBLE) AS DECIMAL(18, 7)) AS price_exact,
    TRY_CAST(price AS DOUBLE) AS price_usd,
    description ->> '$' AS description,
    category ->> '$' AS category,
    image ->> '$' AS image,
    TRY_CAST(TRY_CAST(rating -> '$.rate' AS DOUBLE) AS DECIMAL(18, 7)) AS rate_exact,
    TRY_CAST(rating -> '$.rate' AS DOUBLE) AS rating_rate,
    TRY_CAST(rating -> '$.count' AS BIGINT) AS rating_count
FROM read_json(
    '@PATH@', format = 'array', records = true,
    columns = {{
        'id': 'JSON', 'title': 'JSON', 'price': 'JSON', 'description': 'JSON', 'category': 'JSON',
        'image': 'JSON', 'rating': 'JSON'
    }}
)
"""

_VALID = f"""
coalesce(
    typed
    AND product_id BETWEEN 1 AND {COUNT_LIMIT}
    AND price_exact > 0 AND price_exact < {PRICE_LIMIT} AND price_exact = round(price_exact, 2)
    AND ($every_category OR category = $category)
    AND rate_exact BETWEEN 0 AND 5
    AND rating_count BETWEEN 0 AND {COUNT_LIMIT},
    false
)
"""

_COLUMNS = "product_id, title, price_usd, description, category, image, rating_rate, rating_count"


def _checks(category: str) -> dict:
    # The whole catalogue holds every category; a category's body only that category.
    return {"category": category, "every_category": category == ALL_CATEGORIES}


def products_in_bulk(body: bytes, body_path: Path, category: str) -> pd.DataFrame | None:
    """The tidy products of a body landed at body_path, sorted by id; None when any record fails a
    check, or the body is not an array of records DuckDB reads (the exact path then says why)."""
    if not plain_json(body):
        return None
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TEMP TABLE parsed AS {_RECORDS.replace('@PATH@', quoted_path(body_path))}")
        records, invalid, ids = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT {_VALID}), count(DISTINCT product_id) FROM parsed",
            _checks(category),
        ).fetchone()
        if records == 0 or invalid or ids != records:
            return None
        # Sorted by pandas, not by DuckDB: a sort in DuckDB holds a second copy of every text column
        # (the descriptions of a million products: about 600 MB); pandas reorders pointers to them.
        frame = con.execute(f"SELECT {_COLUMNS} FROM parsed").df()
        con.execute("DROP TABLE parsed")
        frame = frame.sort_values("product_id", ignore_index=True)
    except duckdb.Error:
        return None  # not JSON, not an array, not UTF-8...: the exact path names the problem
    finally:
        con.close()
    return frame


# DuckDB's memory while it writes the hand-off: the query streams (no sort, no table of the body), so
# this only caps its buffers; beyond it DuckDB would spill to the run's interim folder, not fail.
HANDOFF_MEMORY = "512MiB"


def handoff_in_bulk(body_path: Path, category: str, target: Path) -> int | None:
    """Check every record of the body landed at body_path, as products_in_bulk does, and write the
    tidy products (PRODUCT_COLUMNS, typed as the frame has them) straight from DuckDB's reader to the
    Parquet file target: no frame, no table of the body, no copy of the body in Python. Rows are in
    the body's order (sorting would hold the text of every product; the load does not need it).

    Returns the number of products; None when any record fails a check, or the body is not an array
    of records DuckDB reads: then target is removed, and the exact path says what is wrong.
    """
    # The scan of the raw bytes runs beside DuckDB's read (numpy and DuckDB both release the GIL):
    # its answer only decides whether DuckDB's file is kept.
    with ThreadPoolExecutor(max_workers=1) as beside:
        plain = beside.submit(plain_json_in_file, body_path)
        try:
            # One thread: DuckDB reads a JSON array in one thread whatever it is given, and a second
            # one only added the cost of keeping the rows in order (a fifth of the parse of a
            # million products); the other core runs the scan.
            con = duckdb.connect(
                config={"memory_limit": HANDOFF_MEMORY, "temp_directory": str(target.parent), "threads": 1}
            )
            try:
                # A record failing a check stops the write at once (error() in the filter): no
                # second pass over the body to count the failures first.
                con.execute(
                    f"COPY (SELECT {_COLUMNS} FROM ({_RECORDS.replace('@PATH@', quoted_path(body_path))}) "
                    f"WHERE CASE WHEN {_VALID} THEN true ELSE error('a record fails a check') END) "
                    f"TO '{quoted_path(target)}' (FORMAT parquet)",
                    _checks(category),
                )
                # Only the ids are read back: repeated ids are found in the file, not while streaming.
                records, ids = con.execute(
                    f"SELECT count(*), count(DISTINCT product_id) FROM read_parquet('{quoted_path(target)}')"
                ).fetchone()
            finally:
                con.close()
        except duckdb.Error:
            records = ids = 0  # not JSON, not an array, not UTF-8, a record failing a check...
        if not plain.result():
            records = ids = 0  # a number a double may not give back exactly
    if records == 0 or ids != records:
        target.unlink(missing_ok=True)
        return None
    return records
