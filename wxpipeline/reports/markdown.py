"""Markdown tables for Dagster metadata (check examples, previews, summaries)."""

import polars as pl


def markdown_table(df: pl.DataFrame) -> str:
    if df.height == 0:
        return "_none_"
    cols = df.columns
    rows = [[("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ") for v in r] for r in df.rows()]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)
