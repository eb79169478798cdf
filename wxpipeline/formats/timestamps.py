"""Unix timestamps whose unit the vendor does not keep straight: seconds or milliseconds, per value.

WeCom documents `msgtime` in ms and callback `CreateTime` in s, but older doc revisions, SDKs
and decrypted callbacks write the other unit; official-account exporters write `update_time` in
either. The unit is therefore decided per value from its magnitude: a plausible export time
(2000-01-01 .. 2100-01-01 UTC) is 9..10 digits in seconds and 12..13 digits in milliseconds,
and the two ranges do not overlap. A value in neither range is implausible and its record is
quarantined with the value in the reason, never staged in 1970 or wrapped past int64.

Polars expressions for the parsers' vectorised paths, plus `epoch_value` for the few places
that hold Python values.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import polars as pl

from wxpipeline.times import TS as TIMESTAMP, TZ_NAME as SHANGHAI  # noqa: E402
# plausible export times, in unix seconds (UTC)
EARLIEST_S = 946_684_800  # 2000-01-01
LATEST_S = 4_102_444_800  # 2100-01-01
PLAUSIBLE = "unix seconds or milliseconds between 2000-01-01 and 2100-01-01"


def unit_of(value: pl.Expr) -> pl.Expr:
    """Int64 unix time -> "s", "ms", or null when implausible in both units."""
    return (
        pl.when(value.is_between(EARLIEST_S, LATEST_S, closed="left")).then(pl.lit("s"))
        .when(value.is_between(EARLIEST_S * 1000, LATEST_S * 1000, closed="left")).then(pl.lit("ms"))
        .otherwise(None)
    )


def epoch_ms(value: pl.Expr) -> pl.Expr:
    """Int64 unix time in s or ms (decided per value) -> Int64 ms; null when implausible."""
    unit = unit_of(value)
    return pl.when(unit == "s").then(value * 1000).when(unit == "ms").then(value).otherwise(None)


def to_datetime(value: pl.Expr) -> pl.Expr:
    """Int64 unix time in s or ms (per value) -> Datetime(us, Asia/Shanghai); null when implausible.

    Vendor times are UTC instants; the staged tables hold Asia/Shanghai wall time.
    """
    utc = pl.from_epoch(epoch_ms(value), time_unit="ms").dt.cast_time_unit("us").dt.replace_time_zone("UTC")
    return utc.dt.convert_time_zone(SHANGHAI)


def implausible_reason(field: str, text: pl.Expr, value: pl.Expr) -> pl.Expr:
    """Reason text for a given time that is not a number or not a plausible time (else null)."""
    return (
        pl.when(text.is_not_null() & value.is_null())
        .then(pl.format("{}: cannot parse '{}' as a unix time", pl.lit(field), text))
        .when(text.is_not_null() & unit_of(value).is_null())
        .then(pl.format("{}: {} is not a plausible time ({})", pl.lit(field), text, pl.lit(PLAUSIBLE)))
        .otherwise(None)
    )


def unit_counts(frame: pl.DataFrame, value: str, field: str) -> dict:
    """{"<field>_units": {"s": n, "ms": m}} for a parser's meta: the unit decided per value."""
    if value not in frame.columns or frame.height == 0:
        return {}
    counts = frame.select(unit_of(pl.col(value)).alias("u")).drop_nulls().group_by("u").len()
    return {f"{field}_units": {u: int(n) for u, n in counts.iter_rows()}}


def epoch_value(value: object) -> tuple[datetime | None, str | None]:
    """A Python value (int, float, numeric string) -> (Asia/Shanghai datetime, "s"|"ms"), or
    (None, None) when it is not a number or not plausible in either unit."""
    try:
        n = int(float(str(value).strip())) if not isinstance(value, bool) else None
    except (TypeError, ValueError, OverflowError):
        return None, None
    if n is None:
        return None, None
    if EARLIEST_S <= n < LATEST_S:
        unit, ms = "s", n * 1000
    elif EARLIEST_S * 1000 <= n < LATEST_S * 1000:
        unit, ms = "ms", n
    else:
        return None, None
    at = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(ZoneInfo(SHANGHAI))
    return at, unit
