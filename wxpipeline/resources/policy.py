"""The policy resource: which policy files judge which day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from wxpipeline.policy import PACKAGED_POLICY_DIR, PolicySet, PolicyVersion, load_policy

_LOADED: dict[tuple, PolicySet] = {}


def _fingerprint(location: str) -> tuple:
    """The policy files and the word lists beside them, with their sizes and mtimes."""
    loc = Path(location) if location else PACKAGED_POLICY_DIR
    root = loc if loc.is_dir() else loc.parent
    files = [loc] if loc.is_file() else [*root.glob("*.yaml"), *root.glob("*.yml")]
    if (root / "wordlists").is_dir():
        files += [f for f in (root / "wordlists").rglob("*") if f.is_file()]
    return (location, *((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in sorted(files)))


def loaded_policy(location: str) -> PolicySet:
    """`load_policy(location or None)`, loaded once per process while no policy file changes: every
    asset of every day asks, and so does each findings asset's code version when the definitions
    are built (~33 ms a load)."""
    key = _fingerprint(location)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load_policy(location or None)
    return _LOADED[key]


class PolicyResource(dg.ConfigurableResource):
    """Policy files at WXPIPELINE_POLICY (a file or a folder of versions; default: the packaged
    policy). Each partition day is judged by the version in effect that day."""

    location: str = ""

    def policies(self) -> PolicySet:
        """Loaded once per process while no policy file changes (every asset of every day asks)."""
        return loaded_policy(self.location)

    def for_day(self, day: date) -> PolicyVersion:
        return self.policies().for_day(day)
