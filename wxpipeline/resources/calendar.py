"""PRC working-day calendar: the `chinesecalendar` library (holidays and 调休 make-up working
days as published by the State Council) plus the policy file's overrides.

A year the library does not know (it raises NotImplementedError) falls back to Monday–Friday;
the frame marks such days `calendar_known = false` so checks and reports can say so.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Iterable

import chinese_calendar
import dagster as dg
import polars as pl

CALENDAR_SCHEMA = {"date": pl.Date, "is_workday": pl.Boolean, "calendar_known": pl.Boolean}


@lru_cache(maxsize=4096)
def _library_workday(day: date) -> bool | None:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class PrcCalendar:
    """Working days for a date range, as a small polars frame rules can join on."""

    def __init__(self, extra_workdays: Iterable[date] = (), extra_holidays: Iterable[date] = ()):
        self.extra_workdays = frozenset(extra_workdays)
        self.extra_holidays = frozenset(extra_holidays)

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is_workday, calendar_known) for one day."""
        if day in self.extra_workdays:
            return True, True
        if day in self.extra_holidays:
            return False, True
        lib = _library_workday(day)
        if lib is None:
            return day.weekday() < 5, False
        return lib, True

    def frame(self, start: date, end: date) -> pl.DataFrame:
        """One row per calendar day from start to end inclusive (a few hundred rows at most)."""
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        flags = [self.is_workday(d) for d in days]
        return pl.DataFrame(
            {"date": days, "is_workday": [f[0] for f in flags], "calendar_known": [f[1] for f in flags]},
            schema=CALENDAR_SCHEMA,
        )


class CalendarResource(dg.ConfigurableResource):
    """PRC working-day calendar (chinesecalendar with 调休 make-up days). Overrides come from the
    policy version judging the day; unknown years fall back to Monday–Friday with a warning."""



    def for_policy(self, policy) -> PrcCalendar:
        return PrcCalendar(policy.calendar.extra_workdays, policy.calendar.extra_holidays)
