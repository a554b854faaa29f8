"""The Fake Store categories a run accepts: each category of the catalogue, or `all` of it.

The known categories are the recorded answer of `GET /products/categories`
(data/recorded/fakestore/products_categories.json). A run checks its category against that list
before any request, so an unknown category costs no request and loads nothing; a live run does not
ask the list again (it makes exactly three requests). When Fake Store adds a category, record the
list again.
"""

from __future__ import annotations

import json
from functools import lru_cache

from pricing_pipeline.common.paths import RECORDINGS_DIR

# The whole catalogue: one request to /products, each category ranked on its own.
ALL_CATEGORIES = "all"
CATEGORIES_RECORDING = RECORDINGS_DIR / "fakestore" / "products_categories.json"


@lru_cache(maxsize=1)
def known_categories() -> tuple[str, ...]:
    """The categories of GET /products/categories, as recorded."""
    return tuple(json.loads(CATEGORIES_RECORDING.read_text(encoding="utf-8")))


def accepted_categories() -> str:
    """The accepted values, as a message lists them."""
    return ", ".join([f"{ALL_CATEGORIES} (the whole catalogue)", *(repr(c) for c in known_categories())])
