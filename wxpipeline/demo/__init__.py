"""Demo exports folder: realistic vendor-format files with planted violations and near-misses.

`write_demo(root)` writes the DESIGN.md exports layout under `root` and returns a summary:
which files were written, how many data rows each holds, and the planted violations per
clause as `{clause_id: [subject_id, ...]}` (subject ids in the exact CLAUSES.md format), plus
the compliant near-misses that must *not* fire.

Domains plug in through `GENERATORS`: a list of functions `(ctx: DemoContext) -> None` run in
order. Each gets its own `random.Random` derived from the seed and its own name, so adding a
domain never changes what the existing ones write. Cross-domain reference data (group registry,
pay accounts, ...) is left on `ctx.shared` by the generator that writes it.

No Dagster imports here: the CLI and tests call this directly.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

__all__ = ["DemoContext", "GENERATORS", "write_demo", "is_workday"]

DEFAULT_END = date(2026, 10, 17)


# --------------------------------------------------------------------------------------------
# calendar (the same official PRC calendar the rules use; Mon-Fri for years it does not know)
# --------------------------------------------------------------------------------------------

def _holiday_detail(d: date) -> tuple[bool, str | None] | None:
    try:
        import chinese_calendar  # type: ignore[import-not-found]

        return chinese_calendar.get_holiday_detail(d)
    except (ImportError, NotImplementedError):
        return None


def is_workday(d: date) -> bool:
    """Official PRC working day (调休 make-up days included); Monday-Friday if unknown."""
    detail = _holiday_detail(d)
    if detail is None:
        return d.weekday() < 5
    return not detail[0]


def is_named_holiday(d: date) -> bool:
    """A statutory holiday (not just a weekend)."""
    detail = _holiday_detail(d)
    return bool(detail and detail[0] and detail[1])


# --------------------------------------------------------------------------------------------
# context
# --------------------------------------------------------------------------------------------

@dataclass
class DemoContext:
    """What every domain generator gets. Paths passed to the write helpers are relative to root."""

    root: Path
    start: date
    end: date
    days: int
    seed: int
    rng: random.Random
    roster: list[dict[str, str]] = field(default_factory=list)
    planted: dict[str, list[str]] = field(default_factory=dict)
    near_misses: dict[str, list[str]] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)  # relative path -> data rows
    shared: dict[str, Any] = field(default_factory=dict)  # reference data for later domains

    # --- bookkeeping -------------------------------------------------------------------------
    def plant(self, clause_id: str, subject_id: str) -> None:
        subjects = self.planted.setdefault(clause_id, [])
        if subject_id not in subjects:
            subjects.append(subject_id)

    def near_miss(self, clause_id: str, what: str) -> None:
        self.near_misses.setdefault(clause_id, []).append(what)

    # --- dates -------------------------------------------------------------------------------
    def period(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def in_period(self, d: date) -> bool:
        return self.start <= d <= self.end

    def workdays(self) -> list[date]:
        return [d for d in self.period() if is_workday(d)]

    def pick_day(self, preferred: date, frac: float) -> date:
        """`preferred` if the period holds it, else the day at `frac` of the period."""
        if self.in_period(preferred):
            return preferred
        return self.start + timedelta(days=min(self.days - 1, max(0, round(frac * (self.days - 1)))))

    def pick_workday(self, preferred: date, frac: float, avoid: Iterable[date] = ()) -> date | None:
        """`preferred` if it is a working day in the period (and not avoided), else the working
        day at `frac` of the period's working days; None if there is none."""
        avoid = set(avoid)
        days = [d for d in self.workdays() if d not in avoid]
        if not days:
            return None
        if preferred in days:
            return preferred
        return days[min(len(days) - 1, max(0, int(frac * len(days))))]

    def employee(self, employee_id: str) -> dict[str, str]:
        for row in self.roster:
            if row["employee_id"] == employee_id:
                return row
        raise KeyError(employee_id)

    # --- writing -----------------------------------------------------------------------------
    def path(self, rel: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write_bytes(self, rel: str, data: bytes, rows: int) -> Path:
        p = self.path(rel)
        p.write_bytes(data)
        self.written[rel] = rows
        return p

    def write_csv(
        self,
        rel: str,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        bom: bool = False,
        crlf: bool = False,
    ) -> Path:
        """A plain CSV (reference data, ledger): minimal quoting, UTF-8."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
        data = buf.getvalue().encode("utf-8")
        return self.write_bytes(rel, (b"\xef\xbb\xbf" if bom else b"") + data, len(rows))


Generator = Callable[[DemoContext], None]


def _rng_for(seed: int, generator: Generator) -> random.Random:
    # str seeds are hashed with SHA-512 by `random`: stable across processes and hash seeds.
    return random.Random(f"wxpipeline-demo/{seed}/{generator.__module__}.{generator.__qualname__}")


# --------------------------------------------------------------------------------------------
# registry and entry point
# --------------------------------------------------------------------------------------------

from . import payments, publishing, reference, wecom  # noqa: E402  (the generators need DemoContext only for typing)
from . import chat  # noqa: E402  (message clauses: a WeCom planter plus a generator after it)
from . import groups  # noqa: E402  (work-group clauses: a WeCom planter plus a generator after it)

# Run in order; reference data first. A new domain appends its generator here.
GENERATORS: list[Generator] = [
    reference.generate,
    payments.generate,
    publishing.generate,
    wecom.generate,
    chat.generate,  # after wecom: records the CHAT-06/07 subjects of the final archive
    groups.generate,  # after wecom: adds the planted work groups to the group registry
]
# The message cases go into the archive the WeCom generator writes (through its planter hook).
wecom.PLANTERS.append(chat.plant)
wecom.PLANTERS.append(groups.plant)  # the work-group cases, in groups of their own


def write_demo(root: Path, end: date = DEFAULT_END, days: int = 30, seed: int = 7) -> dict:
    """Write a demo exports folder under `root` covering the `days` days ending on `end`.

    Files are (over)written in place; nothing else under `root` is touched. Deterministic:
    the same arguments give byte-identical files.
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    start = end - timedelta(days=days - 1)
    ctx = DemoContext(root=root, start=start, end=end, days=days, seed=seed, rng=random.Random(seed))
    ctx.roster = reference.build_roster(ctx, _rng_for(seed, reference.build_roster))
    for generator in GENERATORS:
        ctx.rng = _rng_for(seed, generator)
        generator(ctx)
    from .arrival import write_arrival_plan

    arrival = write_arrival_plan(root, sorted(ctx.written), start, end)  # mtimes = realistic arrival nights
    return {
        "root": str(root),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": days,
        "seed": seed,
        "files": sorted(ctx.written),
        "rows": {k: ctx.written[k] for k in sorted(ctx.written)},
        "planted": {k: list(v) for k, v in sorted(ctx.planted.items())},
        "near_misses": {k: list(v) for k, v in sorted(ctx.near_misses.items())},
        "arrival": arrival,
    }
