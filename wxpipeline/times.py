"""Time as the company keeps it: Asia/Shanghai wall time, days from 00:00 to 00:00, timestamps
written `YYYY-MM-DD HH:MM:SS`. Every module reads the zone, a day's bounds and the format here."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import polars as pl

TZ_NAME = "Asia/Shanghai"
TZ = ZoneInfo(TZ_NAME)
# the dtype of every staged timestamp column
TS = pl.Datetime("us", TZ_NAME)
TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def day_start(day: date) -> datetime:
    """00:00 Asia/Shanghai of `day`."""
    return datetime.combine(day, time(0), TZ)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00 of `day`, 00:00 of the next day) in Asia/Shanghai."""
    start = day_start(day)
    return start, start + timedelta(days=1)


def now() -> datetime:
    return datetime.now(TZ)


def today() -> date:
    return now().date()


def local_day(at: datetime | None) -> date | None:
    """The Asia/Shanghai day of a stored timestamp (SQLite returns UTC timestamps naive)."""
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(TZ).date()


def fmt_ts(col: str | pl.Expr) -> pl.Expr:
    """A timestamp column as text for evidence and summaries."""
    e = pl.col(col) if isinstance(col, str) else col
    return e.dt.strftime(TS_FORMAT)


def midnight(col: str | pl.Expr) -> pl.Expr:
    """A date column as 00:00 Asia/Shanghai of that day."""
    e = pl.col(col) if isinstance(col, str) else col
    return e.cast(pl.Datetime("us")).dt.replace_time_zone(TZ_NAME)
