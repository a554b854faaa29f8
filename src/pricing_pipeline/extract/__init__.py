"""The extract step (notebooks/01_extract.ipynb): ask each source for the run's bodies, land them
unchanged, parse and validate them, and hand the tidy tables to the transform.

The notebook's names are imported when first used, as in pricing_pipeline.sales: the transform
imports handoff.py under this package and must not load the HTTP client (requests: 18 MB in a
kernel that never asks a source anything).
"""

from pricing_pipeline.common.lazy import names_imported_when_used

_MODULE_OF = {
    "EXCHANGE_RATES": "handoff",
    "PRODUCTS": "handoff",
    "write_handoff": "handoff",
    "http_session": "http",
    "land_response": "landing",
    "load_landed": "landing",
    "BodyError": "parsing",
    "parse_exchange_rates": "parsing",
    "parse_products": "parsing",
    "hand_off_products": "products",
    "write_recording": "recordings",
    "RawResponse": "responses",
    "SourceError": "responses",
    "fetch_exchange_rates": "sources",
    "fetch_products": "sources",
}
__all__ = sorted([*_MODULE_OF, "handoff"])  # handoff: a submodule, imported as such

__getattr__ = names_imported_when_used(__name__, _MODULE_OF)
