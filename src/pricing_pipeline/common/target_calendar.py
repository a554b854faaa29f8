"""The TARGET calendar: the days on which the ECB publishes its euro reference rates.

Rates are published on TARGET working days only. Knowing the calendar lets a run ask Frankfurter
for exactly the days it needs in one request, including the last working day before a range that
starts on a weekend or holiday (its rate is the one in force on that day).
"""

from __future__ import annotations

import datetime as dt

from dateutil.easter import easter

# TARGET closed on New Year's Eve in its first years; the ECB published no rates on those days.
_EARLY_NEW_YEARS_EVES = {dt.date(1999, 12, 31), dt.date(2000, 12, 31), dt.date(2001, 12, 31)}


def is_target_holiday(day: dt.date) -> bool:
    if day.weekday() >= 5:
        return True
    if (day.month, day.day) in {(1, 1), (12, 25)} or day in _EARLY_NEW_YEARS_EVES:
        return True
    # Good Friday, Easter Monday, Labour Day and Boxing Day became TARGET holidays in 2000.
    if day.year >= 2000:
        easter_sunday = easter(day.year)
        if day in {easter_sunday - dt.timedelta(days=2), easter_sunday + dt.timedelta(days=1)}:
            return True
        if (day.month, day.day) in {(5, 1), (12, 26)}:
            return True
    return False


def is_target_day(day: dt.date) -> bool:
    return not is_target_holiday(day)


def last_target_day_on_or_before(day: dt.date) -> dt.date:
    while is_target_holiday(day):
        day -= dt.timedelta(days=1)
    return day
