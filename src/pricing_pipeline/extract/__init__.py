"""The extract step (notebooks/01_extract.ipynb): ask each source for the run's bodies, land them
unchanged, parse and validate them, and hand the tidy tables to the transform.
"""

from pricing_pipeline.extract import handoff
from pricing_pipeline.extract.handoff import EXCHANGE_RATES, PRODUCTS, write_handoff
from pricing_pipeline.extract.http import http_session
from pricing_pipeline.extract.landing import land_response, load_landed
from pricing_pipeline.extract.parsing import BodyError, parse_exchange_rates, parse_products
from pricing_pipeline.extract.products import hand_off_products
from pricing_pipeline.extract.recordings import write_recording
from pricing_pipeline.extract.responses import RawResponse, SourceError
from pricing_pipeline.extract.sources import fetch_exchange_rates, fetch_products

__all__ = [
    "EXCHANGE_RATES",
    "PRODUCTS",
    "BodyError",
    "RawResponse",
    "SourceError",
    "fetch_exchange_rates",
    "fetch_products",
    "hand_off_products",
    "handoff",
    "http_session",
    "land_response",
    "load_landed",
    "parse_exchange_rates",
    "parse_products",
    "write_handoff",
    "write_recording",
]
