"""Checking what the command line was asked before answering: an unknown clause, domain or
status, a reversed date range or a store that does not exist is an error (exit code 2) that
lists the valid values, never a quiet empty answer."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

from wxpipeline.settings import settings


class UsageError(Exception):
    """A wrong value on the command line; `main` prints it and exits 2."""


_CLAUSE = re.compile(r"^([A-Za-z]+)[-_ ]?(\d+)$")


def clause_id(value: str | None) -> str | None:
    """`PAY-01`, `PAY_01` (the check name in the UI), `pay-01`, `pay01` -> `PAY-01`; unknown ids are errors."""
    if value is None:
        return None
    from wxpipeline.checks.registry import CLAUSES, load_all

    load_all()
    m = _CLAUSE.match(value.strip())
    cid = f"{m.group(1).upper()}-{m.group(2).zfill(2)}" if m else value
    if cid not in CLAUSES:
        raise UsageError(f"unknown clause {value!r}; valid clauses: {', '.join(sorted(CLAUSES))}")
    return cid


def domains() -> list[str]:
    from wxpipeline.checks.registry import CLAUSES, load_all

    load_all()
    return sorted({c.domain for c in CLAUSES.values()})


def domain(value: str | None) -> str | None:
    if value is None:
        return None
    from wxpipeline.reports.labels import DOMAIN_LABELS

    v = value.strip()
    by_label = {label: d for d, label in DOMAIN_LABELS.items()}
    v = by_label.get(v, v.lower())
    if v not in domains():
        valid = ", ".join(f"{d} ({DOMAIN_LABELS.get(d, d)})" for d in domains())
        raise UsageError(f"unknown domain {value!r}; valid domains: {valid}")
    return v


def date_range(start: date | None, end: date | None, start_flag: str = "--from", end_flag: str = "--to") -> None:
    if start is not None and end is not None and end < start:
        raise UsageError(f"{end_flag} {end} is before {start_flag} {start}: the range is empty; swap them")


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for another database or in-memory)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix):].split("?", 1)[0]
            return Path(rest) if rest and rest != ":memory:" else None
    return None


def existing_store_url() -> str:
    """The findings store URL for commands that only read: a SQLite file that does not exist is
    an error naming it (running from the wrong folder must not create a new, empty store)."""
    s = settings()
    path = sqlite_path(s.database_url)
    if path is not None and not path.exists():
        raise UsageError(
            f"no findings store at {path}\n"
            f"  WXPIPELINE_HOME is {s.home}: set it (or WXPIPELINE_DATABASE_URL) to the installation's folder,\n"
            "  or create the store by judging days first: wxpipeline run --from D --to D"
        )
    return s.database_url


def existing_store():
    """The findings store (the one `warehouse` resource) after `existing_store_url`'s check."""
    from wxpipeline.resources import warehouse

    existing_store_url()
    return warehouse()


def fingerprint(prefix: str) -> str:
    """A full case fingerprint from a unique prefix of it."""
    from wxpipeline.store.cases import fingerprints_starting

    p = prefix.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{4,64}", p):
        raise UsageError(f"{prefix!r} is not a fingerprint (hex digits; at least the first 4)")
    found = fingerprints_starting(existing_store(), p, limit=6)
    if not found:
        raise UsageError(f"no case with fingerprint {prefix!r} (see `wxpipeline case list`)")
    if len(found) > 1:
        shown = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
        raise UsageError(f"fingerprint prefix {prefix!r} is ambiguous: {shown}; give more digits")
    return found[0]


def warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)
