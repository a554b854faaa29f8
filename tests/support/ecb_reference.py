"""The ECB history file as the tests read it: their second method, next to the package's own.

The file is read here with the csv module, independently of pricing_pipeline.extract.parsing, so that the
figures a run stages and prices with can be checked against the published ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from functools import lru_cache

from pricing_pipeline.extract.ecb_history import ecb_history_zip


@lru_cache(maxsize=1)
def ecb_table() -> dict[dt.date, dict[str, Decimal]]:
    """Every row of the ECB history file, read with the csv module: {date: {currency: rate}}.

    'N/A' and empty cells are left out. The result is cached and shared: do not change it.
    """
    with zipfile.ZipFile(ecb_history_zip()) as archive:
        text = archive.read("eurofxref-hist.csv").decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return {
        dt.date.fromisoformat(cells[0]): {
            currency: Decimal(value)
            for currency, value in zip(header[1:], cells[1:], strict=False)
            if currency and value not in ("", "N/A")
        }
        for cells in reader
    }


def rate_in_force(day: dt.date, currency: str = "USD") -> tuple[dt.date, Decimal]:
    """The latest published rate of currency on or before day, found by a plain search of the file's dates."""
    table = ecb_table()
    published = max(d for d, rates in table.items() if d <= day and currency in rates)
    return published, table[published][currency]
