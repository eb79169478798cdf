"""Terminal tables that line up with Chinese text and fit the terminal.

Widths are display columns (`wcwidth`: a CJK character takes two), so every row of a table has
the same display width. A table wider than the terminal (clamped to 80–160 columns) shrinks its
widest columns and truncates their cells with `…`; `--format json|csv` keeps full values.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from typing import Any, Sequence

from wcwidth import wcswidth, wcwidth

MIN_TABLE, MAX_TABLE = 80, 160
MIN_COLUMN = 8
SHORT = 12  # display width up to which a column's values are never cut
GAP = "  "
ELLIPSIS = "…"


def terminal_width() -> int:
    """The terminal's width clamped to 80–160 (`COLUMNS` wins; 120 when not a terminal)."""
    cols = shutil.get_terminal_size((120, 24)).columns
    if os.environ.get("COLUMNS", "").isdigit():
        cols = int(os.environ["COLUMNS"])
    return max(MIN_TABLE, min(MAX_TABLE, cols))


def display_width(text: str) -> int:
    w = wcswidth(text)
    if w >= 0:
        return w
    return sum(max(wcwidth(ch), 0) for ch in text)  # control characters count as nothing


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())  # one line: newlines and tabs become spaces


def truncate(text: str, width: int) -> str:
    """`text` cut to at most `width` display columns, ending in `…` when cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = max(wcwidth(ch), 0)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def _fit(widths: list[int], floors: list[int], limit: int) -> list[int]:
    """Shrink the widest columns, one column at a time, until the row fits `limit`."""
    widths = list(widths)
    total = sum(widths) + len(GAP) * (len(widths) - 1)
    while total > limit:
        i = max(range(len(widths)), key=lambda j: (widths[j] - floors[j], widths[j]))
        if widths[i] <= floors[i]:
            break  # cannot shrink further; the terminal is too narrow for this many columns
        widths[i] -= 1
        total -= 1
    return widths


def render(rows: Sequence[Sequence[Any]], headers: Sequence[str], width: int | None = None) -> str:
    """A plain table: header, dashes, rows; numbers right-aligned; every line the same width."""
    limit = width or terminal_width()
    texts = [[cell_text(v) for v in r] for r in rows]
    numeric = [bool(rows) and all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) or r[i] is None
                                  for r in rows) for i in range(len(headers))]
    data = [max([0, *(display_width(r[i]) for r in texts)]) for i in range(len(headers))]
    natural = [max(display_width(h), d) for h, d in zip(headers, data)]
    # short values (dates, ids, statuses) stay whole, a long header may be cut; long text shrinks
    floors = [min(n, d if d <= SHORT else MIN_COLUMN) for n, d in zip(natural, data)]
    widths = _fit(natural, floors, limit)

    def line(cells: Sequence[str]) -> str:
        return GAP.join(pad(truncate(c, w), w, right=num) for c, w, num in zip(cells, widths, numeric))

    out = [line(list(headers)), GAP.join("-" * w for w in widths)]
    out += [line(r) for r in texts]
    return "\n".join(out)
