"""The findings frame every rule returns, and the PII masking its evidence must use."""

from __future__ import annotations

import polars as pl

FINDING_SCHEMA: dict[str, pl.DataType] = {
    "clause_id": pl.String,
    "subject_id": pl.String,
    "partition_date": pl.Date,
    "employee_id": pl.String,
    "group_id": pl.String,
    "summary": pl.String,
    "evidence": pl.String,  # JSON object, PII masked
}


def conform(df: pl.DataFrame, clause_id: str) -> pl.DataFrame:
    """Give a rule's output the canonical columns and types, one row per subject and day."""
    missing = {"subject_id", "partition_date", "summary", "evidence"} - set(df.columns)
    if missing:
        raise ValueError(f"{clause_id}: rule output lacks columns {sorted(missing)}")
    out = df.with_columns(
        pl.lit(clause_id).alias("clause_id"),
        *[pl.lit(None, dtype=pl.String).alias(c) for c in ("employee_id", "group_id") if c not in df.columns],
    ).select([pl.col(c).cast(t) for c, t in FINDING_SCHEMA.items()])
    # One finding per (day, clause, subject): the first (rules order rows by importance).
    return out.unique(subset=["partition_date", "subject_id"], keep="first", maintain_order=True)


def evidence_json(*exprs: pl.Expr, **named: pl.Expr) -> pl.Expr:
    """A JSON object column from expressions (decimals become strings, dates ISO strings)."""
    fields = [*exprs, *[e.alias(k) for k, e in named.items()]]
    return pl.struct(fields).struct.json_encode().alias("evidence")


def mask_digits(expr: pl.Expr, keep: int = 4) -> pl.Expr:
    """Replace every digit but the last `keep` with `*` (phone, ID and card numbers in evidence)."""
    s = expr.cast(pl.String)
    n = s.str.len_chars()
    stars = pl.lit("*" * 64).str.slice(0, (n - keep).clip(lower_bound=0))
    return pl.when(n <= keep).then(s).otherwise(pl.concat_str(stars, s.str.slice(-keep)))
