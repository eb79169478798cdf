"""What every group clause (GRP-01..08) shares: subject ids, the roster person behind a WeCom
userid, and the `sightings` frame's schema."""

from __future__ import annotations

from datetime import date

import polars as pl

from wxpipeline.times import TS

PERSON_COLUMNS = ["employee_id", "name", "department", "position", "hire_date", "leave_date"]
SIGHTING_SCHEMA = {"group_id": pl.String, "group_name": pl.String, "first_seen_at": TS, "seen_in": pl.String,
                   "first_snapshot_at": TS}


def subject(*cols: str) -> pl.Expr:
    parts: list[pl.Expr] = []
    for i, c in enumerate(cols):
        parts += ([pl.lit("/")] if i else []) + [pl.col(c)]
    return pl.concat_str(parts).alias("subject_id")



def with_person(df: pl.DataFrame, roster: pl.DataFrame, on_day: date | pl.Expr | None,
                userid: str = "userid") -> pl.DataFrame:
    """`df` plus the roster person of `userid` (PERSON_COLUMNS), `is_employee` and `active` (an
    active employee on `on_day`). A userid with several roster rows (re-hired) takes the row
    active that day, else the latest hired."""
    d = pl.lit(on_day) if isinstance(on_day, date) else on_day
    base = df.with_row_index("_row")
    people = roster.filter(pl.col("wecom_userid").is_not_null()).select(
        pl.col("wecom_userid").alias(userid), *PERSON_COLUMNS)
    keyed = base.select("_row", userid, *([d.alias("_on")] if d is not None else []))
    matched = keyed.join(people, on=userid, how="inner")
    active = ((pl.col("hire_date") <= pl.col("_on"))
              & (pl.col("leave_date").is_null() | (pl.col("leave_date") >= pl.col("_on")))) if d is not None \
        else pl.lit(False)
    best = (
        matched.with_columns(active.alias("active"))
        .sort(["_row", "active", "hire_date"], descending=[False, True, True])
        .group_by("_row", maintain_order=True)
        .agg(*[pl.col(c).first() for c in PERSON_COLUMNS], pl.col("active").any())
    )
    return (
        base.drop([c for c in (*PERSON_COLUMNS, "active", "is_employee") if c in base.columns])
        .join(best, on="_row", how="left")
        .with_columns(pl.col("employee_id").is_not_null().alias("is_employee"), pl.col("active").fill_null(False))
        .sort("_row").drop("_row")
    )
