"""Recorded API bodies under data/recorded/: what recorded runs read, and what a live run can keep."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from pricing_pipeline.common.categories import ALL_CATEGORIES
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.common.paths import RECORDINGS_DIR, relative_to_root
from pricing_pipeline.extract.responses import RawResponse, SourceError


def category_slug(category: str) -> str:
    """File-name form of a category: "women's clothing" -> "womens_clothing"."""
    return re.sub(r"[^a-z0-9]+", "_", category.lower().replace("'", "")).strip("_")


def rates_recording_path(start: dt.date, end: dt.date) -> Path:
    return RECORDINGS_DIR / "frankfurter" / f"{start.isoformat()}..{end.isoformat()}.json"


CATALOGUE_RECORDING = RECORDINGS_DIR / "fakestore" / "products.json"


def products_recording_path(category: str) -> Path:
    """The recording of a category's request (GET /products/category/{c}), or of GET /products for `all`."""
    if category == ALL_CATEGORIES:
        return CATALOGUE_RECORDING
    return RECORDINGS_DIR / "fakestore" / f"products_category_{category_slug(category)}.json"


def recorded_products_body(category: str) -> bytes | None:
    """What Fake Store serves for a category (or `all`): its own recording when there is one, else the
    recorded catalogue filtered by category, which is what the API's category endpoint does.

    None when the category has no product in the catalogue (and no recording of its own).
    """
    path = products_recording_path(category)
    if path.is_file():
        return path.read_bytes()
    catalogue = json.loads(CATALOGUE_RECORDING.read_bytes())
    products = [record for record in catalogue if record.get("category") == category]
    return json.dumps(products).encode() if products else None


def read_recording(name: str, path: Path, request: str, body: bytes | None = None) -> RawResponse:
    """The recorded body of a request: the file at path, or the body given (a filtered catalogue)."""
    if body is None and not path.is_file():
        raise SourceError(
            f"no recording {relative_to_root(path)} for {request}. Record it with a live run: "
            f"papermill notebooks/01_extract.ipynb out.ipynb -p source live -p save_recording True "
            f"(with the same dates and category)"
        )
    return RawResponse(
        name=name,
        request=request,
        body=path.read_bytes() if body is None else body,
        media_type="json",
        origin="recorded",
        fetched_at=None,
    )


def write_recording(response: RawResponse, params: RunParameters) -> Path:
    """Keep a live body as the recording that later recorded runs of the same request read.

    Takes the response and the run's parameters (they name the recording: the rates' days, the
    products' category); returns the file written under data/recorded/.
    """
    if response.name == "exchange_rates":
        path = rates_recording_path(params.rates_start_date, params.end_date)
    else:
        path = products_recording_path(params.category)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(response.body)
    return path
