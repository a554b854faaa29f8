"""The parameters of a run, checked before any request is made."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from pricing_pipeline.common.categories import ALL_CATEGORIES, accepted_categories, known_categories
from pricing_pipeline.common.errors import PipelineError
from pricing_pipeline.common.target_calendar import last_target_day_on_or_before

FIRST_ECB_RATE_DATE = dt.date(1999, 1, 4)
SOURCES = ("recorded", "live", "offline")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Only the extended calendar form: Python 3.11 would also read 20240212 or 2024-W07-1.
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CATEGORY_MAX_LENGTH = 200


class ParameterError(PipelineError, ValueError):
    """A run parameter that cannot be used; the message says what is accepted."""


def parse_day(name: str, value: str) -> dt.date:
    try:
        if not _DAY.match(str(value)):
            raise ValueError(value)
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(f"{name}={value!r} is not a calendar date; expected YYYY-MM-DD, e.g. 2024-02-12") from None


@dataclass(frozen=True)
class RunParameters:
    start_date: dt.date
    end_date: dt.date
    category: str
    source: str
    run_id: str

    @property
    def days(self) -> list[dt.date]:
        count = (self.end_date - self.start_date).days + 1
        return [self.start_date + dt.timedelta(days=i) for i in range(count)]

    @property
    def whole_catalogue(self) -> bool:
        """True for category `all`: every category, each ranked on its own."""
        return self.category == ALL_CATEGORIES

    @property
    def rates_start_date(self) -> dt.date:
        """First day whose rates the run needs: the rate in force on start_date may be older."""
        return last_target_day_on_or_before(self.start_date)


def validate_parameters(
    start_date: str,
    end_date: str,
    category: str,
    source: str,
    run_id: str = "",
    today: dt.date | None = None,
    names: Mapping[str, str] | None = None,
) -> RunParameters:
    """The run's parameters, checked; raises ParameterError saying what is accepted.

    names: what the messages call each parameter, where the caller's user knows it by another name
    (the command line: {"start_date": "--start", ...}); by default the parameter's own name, as the
    notebooks' parameters cell has it.
    """
    called = {name: name for name in ("start_date", "end_date", "category", "source", "run_id")} | dict(names or {})
    today = today or dt.datetime.now(dt.UTC).date()
    start = parse_day(called["start_date"], start_date)
    end = parse_day(called["end_date"], end_date or start_date)
    accepted = f"accepted: {FIRST_ECB_RATE_DATE} up to today ({today})"
    for name, day in ((called["start_date"], start), (called["end_date"], end)):
        if day < FIRST_ECB_RATE_DATE:
            raise ParameterError(
                f"{name}={day} is before {FIRST_ECB_RATE_DATE}, the first day of ECB reference rates; {accepted}"
            )
        if day > today:
            raise ParameterError(f"{name}={day} is in the future; rates do not exist yet; {accepted}")
    if end < start:
        raise ParameterError(
            f"{called['end_date']}={end} is before {called['start_date']}={start}; a range runs from start to end "
            f"(accepted: {called['end_date']} on or after {called['start_date']})"
        )
    if source not in SOURCES:
        raise ParameterError(f"{called['source']}={source!r} is unknown; accepted: {', '.join(SOURCES)}")
    if not isinstance(category, str) or not category.strip():
        raise ParameterError(f'{called["category"]} is empty; give a Fake Store category such as "women\'s clothing"')
    if len(category) > CATEGORY_MAX_LENGTH or not category.isprintable():
        raise ParameterError(
            f"{called['category']} {category[:40]!r}{'...' * (len(category) > 40)} is not usable; expected printable "
            f'text of at most {CATEGORY_MAX_LENGTH} characters, such as "women\'s clothing"'
        )
    if category != ALL_CATEGORIES and category not in known_categories():
        raise ParameterError(f"{called['category']} {category!r} is unknown; accepted: {accepted_categories()}")
    run_id = run_id or default_run_id(source, start, end)
    if not _RUN_ID.match(run_id):
        raise ParameterError(
            f"{called['run_id']}={run_id!r} is not usable as a folder name; use letters, digits, '.', '_' or '-'"
        )
    return RunParameters(start, end, category, source, run_id)


def default_run_id(source: str, start: dt.date, end: dt.date, started_at: dt.datetime | None = None) -> str:
    """The one run-id rule: <source>_<start>_<end>, after the UTC time the runner started the run, so
    that every scheduled run keeps a record folder of its own. A notebook run on its own (nbval,
    JupyterLab) has no start time: its id is the bare <source>_<start>_<end>."""
    run_id = f"{source}_{start}_{end}"
    return f"{started_at:%Y%m%dT%H%M%SZ}_{run_id}" if started_at else run_id


def default_run_date(now: dt.datetime | None = None) -> dt.date:
    """Yesterday (UTC): on a morning schedule, the latest day whose ECB rates are published."""
    now = now or dt.datetime.now(dt.UTC)
    return now.date() - dt.timedelta(days=1)


def parameters_for(
    date: str | None, start: str | None, end: str | None, category: str, source: str, run_id: str | None
) -> RunParameters:
    """The run's parameters from the command line's options: one day, a range, or yesterday by
    default; without --run-id, an id stamped with the time the run starts. A ParameterError names
    the option the user gave, not the notebooks' parameter."""
    if date and (start or end):
        raise ParameterError("give either --date or --start/--end, not both")
    start = date or start or default_run_date().isoformat()
    end = date or end or start
    days = {"start_date": "--date", "end_date": "--date"} if date else {"start_date": "--start", "end_date": "--end"}
    options = {**days, "category": "--category", "source": "--source", "run_id": "--run-id"}
    params = validate_parameters(start, end, category, source, run_id or "", names=options)
    if run_id:
        return params
    started_at = dt.datetime.now(dt.UTC)
    return replace(params, run_id=default_run_id(source, params.start_date, params.end_date, started_at))


def notebook_parameters(params: RunParameters, data_dir) -> dict:
    """The values papermill injects into each notebook's parameters cell (and the run log keeps)."""
    return {
        "start_date": params.start_date.isoformat(),
        "end_date": params.end_date.isoformat(),
        "category": params.category,
        "source": params.source,
        "data_dir": str(data_dir),
        "run_id": params.run_id,
    }
