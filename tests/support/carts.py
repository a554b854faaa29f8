"""The carts request of a run and the recorded carts a test server answers it with.

Every run reads the sales by default: notebook 01 asks GET /carts?startdate=..&enddate=.. once for
the run's days and its lookback window, and the reconciliation asks it once more after the load.
The test servers that stand in for Fake Store serve it from data/recorded/fakestore/carts.json,
filtered by the request's dates as the API filters them (testing.fake_api.recorded_carts).
"""

from __future__ import annotations

import datetime as dt

from pricing_pipeline.sales.window import DEFAULT_LOOKBACK_DAYS
from pricing_pipeline.testing.fake_api import recorded_carts

CARTS_PATH = "/carts"  # below Fake Store's base URL


def carts_query(start: str, end: str, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> str:
    """The query of a run's carts request for start..end: startdate is the first day minus the
    lookback, enddate the day after the last (Fake Store's enddate is exclusive)."""
    first = dt.date.fromisoformat(start) - dt.timedelta(days=lookback_days)
    after = dt.date.fromisoformat(end) + dt.timedelta(days=1)
    return f"startdate={first.isoformat()}&enddate={after.isoformat()}"


def carts_body(query: str) -> bytes:
    """What the stand-in answers to the carts request of that query."""
    return recorded_carts(query).body


def serve_recorded_carts(server) -> None:
    """Make a pytest-httpserver HTTPServer answer GET /carts, whatever its dates, with the recorded
    carts of those dates."""
    from werkzeug import Response

    def answer(request) -> Response:
        return Response(carts_body(request.query_string.decode()), content_type="application/json")

    server.expect_request(CARTS_PATH, method="GET").respond_with_handler(answer)
