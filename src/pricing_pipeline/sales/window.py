"""The days a sales run reads: its own days plus a lookback window, where late and changed carts
are found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pricing_pipeline.common.parameters import ParameterError, RunParameters

DEFAULT_LOOKBACK_DAYS = 3
# A month: beyond it a change at the source is not looked for (the request would grow with it).
MAX_LOOKBACK_DAYS = 31


@dataclass(frozen=True)
class SalesWindow:
    start: dt.date  # first day read: the run's first day minus the lookback
    run_start: dt.date  # the run's first day: carts dated before it are late
    end: dt.date  # the run's last day, inclusive

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def request_end(self) -> dt.date:
        """Fake Store's enddate is exclusive: the day after the last."""
        return self.end + dt.timedelta(days=1)


def sales_window(params: RunParameters, lookback_days: int) -> SalesWindow:
    if isinstance(lookback_days, bool) or not isinstance(lookback_days, int):
        raise ParameterError(f"sales_lookback_days={lookback_days!r} is not a whole number of days")
    if not 0 <= lookback_days <= MAX_LOOKBACK_DAYS:
        raise ParameterError(
            f"sales_lookback_days={lookback_days} is not usable; accepted: 0 to {MAX_LOOKBACK_DAYS} days"
        )
    return SalesWindow(params.start_date - dt.timedelta(days=lookback_days), params.start_date, params.end_date)


@dataclass(frozen=True)
class SalesStep:
    """The runner's sales options: lookback_days None leaves the sales out (--no-sales)."""

    lookback_days: int | None = DEFAULT_LOOKBACK_DAYS
    publish_to: object = None  # a Path: where `make run` copies the sales CSVs

    @property
    def enabled(self) -> bool:
        return self.lookback_days is not None


def sales_parameters(step: SalesStep | None) -> dict:
    """The values papermill injects into the notebooks' sales parameters."""
    if step is None or not step.enabled:
        return {"sales": False, "sales_lookback_days": DEFAULT_LOOKBACK_DAYS}
    return {"sales": True, "sales_lookback_days": step.lookback_days}
