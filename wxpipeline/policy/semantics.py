"""Policy values that pass the schema but make no sense, and YAML that hides an edit.

* a key given twice in one mapping: YAML keeps the last silently, so a second
  `daily_limit_yuan: 50000000` further down would switch PAY-01 off unseen — refused with both
  lines;
* a negative number among a clause's parameters: every numeric parameter is a limit, a window
  (hours, minutes, days), a count or a tolerance, none of which can be below zero;
* a `min_…` above its `max_…`, and a `…_start` not before its `…_end` (working hours 18:00-09:00).

Every message names the file, the key and the problem, like the schema errors.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel


class DuplicateKeyError(yaml.constructor.ConstructorError):
    pass


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # the base loader reports unhashable keys
            if key in seen:
                raise DuplicateKeyError(
                    None, None,
                    f"key {key!r} is given twice (lines {seen[key] + 1} and {key_node.start_mark.line + 1}); "
                    "YAML would keep the last one silently",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str):
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def _numeric(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _as_time(value) -> dt.time | None:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def param_problems(path: Path, clause_id: str, params: BaseModel | dict) -> list[str]:
    """Semantic problems of one clause's parameters."""
    values = params.model_dump() if isinstance(params, BaseModel) else dict(params)
    where = f"{path}: clauses.{clause_id}.params"
    problems = []
    for key, value in values.items():
        if _numeric(value) and value < 0:
            problems.append(f"{where}.{key}: must not be negative (got {value})")
    for key, value in values.items():
        if key.startswith("min_") or "_min_" in key:
            other = key.replace("min_", "max_", 1)
            high = values.get(other)
            if _numeric(value) and _numeric(high) and value > high:
                problems.append(f"{where}.{key}: {value} is above {other} {high}")
        if key.endswith("_start"):
            other = key[: -len("start")] + "end"
            start, end = _as_time(value), _as_time(values.get(other))
            if start is not None and end is not None and start >= end:
                problems.append(f"{where}.{key}: {value} is not before {other} {values.get(other)}")
    return problems
