"""公众号 review sign-offs `mp_reviews/*.csv`: `article_id,stage,signer_employee_id,signed_at,flags`.

One row per sign-off stage of an article (发布审核单): `draft_submitted, dept_head_review,
division_lead_review, editor, proofread, platform_lead_approval, top_leader_approval,
gm_report`. `flags` is a `;`-list of `important, expedited, repost` (the review form's 重要 /
加急 / 转载 boxes); it may sit on every row of the article or only on some, and a rule reads an
article's flags as the union over its rows. `signed_at` is Asia/Shanghai wall time with a time
of day: a bare date cannot say whether a signature preceded the publication.

Stage names and flags are read case-insensitively; flags may also be separated by `；`, `,` or
spaces. An unknown stage or flag is a bad value (the row is rejected, never guessed).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .common import ParseResult
from .csvtools import Field, parse_local_datetime, read_table

STAGES = (
    "draft_submitted", "dept_head_review", "division_lead_review", "editor", "proofread",
    "platform_lead_approval", "top_leader_approval", "gm_report",
)
FLAGS = ("important", "expedited", "repost")


def parse_stage(expr: pl.Expr) -> pl.Expr:
    s = expr.str.strip_chars().str.to_lowercase()
    return pl.when(s.is_in(list(STAGES))).then(s).otherwise(None)


def _flag_list(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.strip_chars().str.to_lowercase()
        .str.replace_all(r"[;；,，、\s]+", ";")
        .str.strip_chars(";")
        .str.split(";")
        .list.eval(pl.element().filter(pl.element() != ""))
    )


def parse_flags(expr: pl.Expr) -> pl.Expr:
    """`expedited;IMPORTANT` -> `expedited;important` (known flags, sorted, deduplicated);
    empty -> ``; any unknown flag -> null (a bad value)."""
    flags = _flag_list(expr)
    known = flags.list.eval(pl.element().is_in(list(FLAGS))).list.all()
    return pl.when(known).then(flags.list.unique().list.sort().list.join(";")).otherwise(None)


def _flags_given(expr: pl.Expr) -> pl.Expr:
    # present = any non-separator text; empty flags are not a bad value
    s = expr.str.replace_all(r"[;；,，、\s]+", "")
    return pl.when(s == "").then(None).otherwise(s)


REVIEW_FIELDS = (
    Field("article_id", required=True),
    Field("stage", parse_stage, required=True, what=f"stage (one of {', '.join(STAGES)})"),
    Field("signer_employee_id", required=True),
    Field("signed_at", parse_local_datetime, required=True, what="date and time (YYYY-MM-DD HH:MM[:SS])"),
    Field("flags", parse_flags, present=_flags_given, what=f"';'-list of {', '.join(FLAGS)}"),
)


def parse_mp_reviews(path: Path | str) -> ParseResult:
    """Columns: article_id, stage, signer_employee_id String; signed_at Datetime(us,
    Asia/Shanghai); flags String (normalised, '' when none); important, expedited, repost
    Boolean (this row's flags); source_file, source_line."""
    result = read_table(path, REVIEW_FIELDS, kind="mp_reviews")
    flags = pl.col("flags").fill_null("")
    frame = result.frame.with_columns(flags.alias("flags")).with_columns(
        *(pl.col("flags").str.split(";").list.contains(f).alias(f) for f in FLAGS)
    ).select("article_id", "stage", "signer_employee_id", "signed_at", "flags", *FLAGS,
             "source_file", "source_line")
    return ParseResult(frame=frame, rejects=result.rejects, meta=result.meta)
