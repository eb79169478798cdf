"""Shared parser vocabulary: what a parser returns and how it reports a bad record.

Parsers never drop a record silently: a record they cannot read becomes a `Reject` naming the
file, the 1-based line (or sheet row) and the reason, and the rest of the file is still parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl


class ExportFormatError(ValueError):
    """The whole file is not in the expected format (wrong header, not a bill, ...)."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None, transient: bool = False):
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem
        # the file could not be read now (permissions, I/O): refuse it, but read it again next time
        self.transient = transient


@dataclass(frozen=True)
class Reject:
    """One input record that could not be parsed."""

    file: str
    line: int
    reason: str
    raw: str = ""


@dataclass
class ParseResult:
    """The parsed records of one file plus the records that were rejected."""

    frame: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


def strip_id(expr: pl.Expr) -> pl.Expr:
    """Vendor ids arrive with trailing tabs/spaces (`"3985734\\t"`); `/` and '' mean empty."""
    cleaned = expr.cast(pl.String).str.strip_chars(" \t\r\n\ufeff")
    return pl.when(cleaned.is_in(["", "/"])).then(None).otherwise(cleaned)
