"""The TARGET calendar against the ECB history file, and the rate date a run uses on closed days.

The file is read with the csv module (tests/support/ecb_reference.py, not the package's parser): a day is a
TARGET working day iff the ECB published rates for it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.common.target_calendar import (
    is_target_day,
    is_target_holiday,
    last_target_day_on_or_before,
)
from pricing_pipeline.extract.parsing import parse_exchange_rates, parse_products
from pricing_pipeline.extract.sources import fetch_exchange_rates, fetch_products
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.warehouse.connection import connect
from tests.support.ecb_reference import ecb_table

CATEGORY = "women's clothing"
FIRST_DAY = dt.date(1999, 1, 4)


@pytest.fixture(scope="module")
def usd_by_date() -> dict[dt.date, Decimal]:
    """The USD rate of every date of the ECB history file (each of its rows has one)."""
    return {day: rates["USD"] for day, rates in ecb_table().items()}


def test_history_file_starts_on_the_first_ecb_day(usd_by_date):
    assert min(usd_by_date) == FIRST_DAY
    assert usd_by_date[FIRST_DAY] == Decimal("1.1789")


def test_target_working_days_are_exactly_the_days_with_ecb_rates(usd_by_date):
    last = max(usd_by_date)
    assert last >= dt.date(2024, 4, 2)
    wrong = []
    day = FIRST_DAY
    while day <= last:
        if is_target_day(day) != (day in usd_by_date):
            wrong.append((day.isoformat(), "working day" if is_target_day(day) else "holiday", day in usd_by_date))
        day += dt.timedelta(days=1)
    assert wrong == []


def test_is_target_holiday_is_the_negation_of_is_target_day():
    for day in (dt.date(2024, 3, 29), dt.date(2024, 3, 28), dt.date(2024, 2, 10), dt.date(2000, 5, 1)):
        assert is_target_holiday(day) is not is_target_day(day)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2024-02-09", "2024-02-09"),  # a Friday: itself
        ("2024-02-10", "2024-02-09"),  # Saturday
        ("2024-02-11", "2024-02-09"),  # Sunday
        ("2024-03-29", "2024-03-28"),  # Good Friday
        ("2024-04-01", "2024-03-28"),  # Easter Monday, after a closed Friday and weekend
        ("2024-04-02", "2024-04-02"),
        ("2024-05-01", "2024-04-30"),  # Labour Day
        ("2023-12-26", "2023-12-22"),  # Boxing Day, after Christmas and a weekend
        ("2024-01-01", "2023-12-29"),  # New Year's Day
        ("2000-01-02", "1999-12-30"),  # 1999-12-31 (a Friday) was closed
        ("1999-04-05", "1999-04-05"),  # Easter Monday was a working day in 1999
    ],
)
def test_last_target_day_on_or_before(day, expected):
    assert last_target_day_on_or_before(dt.date.fromisoformat(day)) == dt.date.fromisoformat(expected)


# ---------------------------------------------------------------- through a real offline run


def offline_run(tmp_path, start: str, end: str):
    params = validate_parameters(start, end, CATEGORY, "offline", "t", today=dt.date(2026, 1, 1))
    rates = parse_exchange_rates(fetch_exchange_rates(params), params)
    products = parse_products(fetch_products(params), params)
    with connect(tmp_path / "warehouse.duckdb") as con:
        load_run(con, params, rates, products)
        rows = con.execute(
            "SELECT DISTINCT day, rate_date, usd_per_eur FROM marts.products_eur ORDER BY day"
        ).fetchall()
        counts = con.execute("SELECT day, count(*) FROM marts.products_eur GROUP BY day ORDER BY day").fetchall()
    return params, rows, counts


@pytest.mark.parametrize(
    ("start", "end", "expected_rate_dates"),
    [
        ("2024-02-10", "2024-02-10", {"2024-02-10": "2024-02-09"}),  # Saturday
        ("2024-03-29", "2024-03-29", {"2024-03-29": "2024-03-28"}),  # Good Friday
        ("2024-04-01", "2024-04-01", {"2024-04-01": "2024-03-28"}),  # Easter Monday
        (
            "2024-03-28",
            "2024-04-02",
            {
                "2024-03-28": "2024-03-28",
                "2024-03-29": "2024-03-28",
                "2024-03-30": "2024-03-28",
                "2024-03-31": "2024-03-28",
                "2024-04-01": "2024-03-28",
                "2024-04-02": "2024-04-02",
            },
        ),
    ],
)
def test_offline_run_prices_closed_days_with_the_last_published_usd_rate(
    tmp_path, usd_by_date, start, end, expected_rate_dates
):
    params, rows, counts = offline_run(tmp_path, start, end)
    # The rate date, and the rate taken from the file by our own reading, for every day of the run.
    expected = [
        (dt.date.fromisoformat(day), dt.date.fromisoformat(rate_date), usd_by_date[dt.date.fromisoformat(rate_date)])
        for day, rate_date in sorted(expected_rate_dates.items())
    ]
    assert rows == expected
    assert [day for day, _ in counts] == params.days
    assert all(count == 6 for _, count in counts)  # every product on every day, one rate each


def test_rate_dates_of_the_easter_run_are_the_latest_file_dates(tmp_path, usd_by_date):
    # A second oracle: the latest date of the file on or before each day.
    _, rows, _ = offline_run(tmp_path, "2024-03-28", "2024-04-02")
    for day, rate_date, rate in rows:
        latest = max(d for d in usd_by_date if d <= day)
        assert (rate_date, rate) == (latest, usd_by_date[latest])
    assert usd_by_date[dt.date(2024, 3, 28)] == Decimal("1.0811")
