"""Recorded API bodies under data/recorded/: what recorded runs read, and what a live run can keep."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .parameters import RunParameters
from .paths import RECORDINGS_DIR, relative_to_root
from .raw_response import RawResponse, SourceError


def category_slug(category: str) -> str:
    """File-name form of a category: "women's clothing" -> "womens_clothing"."""
    return re.sub(r"[^a-z0-9]+", "_", category.lower().replace("'", "")).strip("_")


def rates_recording_path(start: dt.date, end: dt.date) -> Path:
    return RECORDINGS_DIR / "frankfurter" / f"{start.isoformat()}..{end.isoformat()}.json"


def products_recording_path(category: str) -> Path:
    return RECORDINGS_DIR / "fakestore" / f"products_category_{category_slug(category)}.json"


def read_recording(name: str, path: Path, request: str) -> RawResponse:
    if not path.is_file():
        raise SourceError(
            f"no recording {relative_to_root(path)} for {request}. Record it with a live run: "
            f"papermill notebooks/01_extract.ipynb out.ipynb -p source live -p save_recording True "
            f"(with the same dates and category)"
        )
    return RawResponse(
        name=name,
        request=request,
        body=path.read_bytes(),
        media_type="json",
        origin="recorded",
        fetched_at=None,
    )


def write_recording(response: RawResponse, params: RunParameters) -> Path:
    """Keep a live body as the recording that later recorded runs of the same request read."""
    if response.name == "exchange_rates":
        path = rates_recording_path(params.rates_start_date, params.end_date)
    else:
        path = products_recording_path(params.category)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(response.body)
    return path
