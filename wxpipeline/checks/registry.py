"""The clause registry: every policy clause, its text and source, its parameters and its rule.

A rule is a pure function: keyword polars frames + validated policy parameters + the day being
judged in, a findings frame (see `findings.py`) out. The Dagster layer looks clauses up here to
build one asset check per clause; the rule never sees Dagster.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import date
from typing import Callable

import polars as pl
from pydantic import BaseModel, ConfigDict


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Params(BaseModel):
    """Base for clause parameter models. Fields carry no defaults: values live in the policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Clause:
    id: str
    domain: str
    title: str
    text: str
    source: str
    subject: str
    params_model: type[BaseModel]
    rule: Callable[..., pl.DataFrame]
    rule_version: str

    @property
    def inputs(self) -> tuple[str, ...]:
        sig = inspect.signature(self.rule)
        return tuple(n for n in sig.parameters if n not in ("params", "day"))

    def run(self, frames: dict[str, pl.DataFrame], params: BaseModel, day: date) -> pl.DataFrame:
        from wxpipeline.checks.findings import conform

        missing = [n for n in self.inputs if n not in frames]
        if missing:
            raise KeyError(f"{self.id}: rule needs frames {missing}, the asset provides {sorted(frames)}")
        out = self.rule(**{n: frames[n] for n in self.inputs}, params=params, day=day)
        return conform(out, self.id)


CLAUSES: dict[str, Clause] = {}


def clause(
    id: str,
    *,
    domain: str,
    title: str,
    text: str,
    source: str,
    subject: str,
    params: type[BaseModel] = NoParams,
    rule_version: str = "1",
):
    """Register a rule function as the implementation of clause `id`.

    `rule_version` is bumped when the rule's logic changes, so that Dagster marks the findings
    asset's partitions as changed (it feeds the asset's code_version with the policy content).
    """

    def register(fn):
        if id in CLAUSES:
            raise ValueError(f"clause {id} registered twice ({CLAUSES[id].rule.__module__}, {fn.__module__})")
        CLAUSES[id] = Clause(id, domain, title, text, source, subject, params, fn, rule_version)
        return fn

    return register


def clauses_for(domain: str) -> list[Clause]:
    load_all()
    return sorted((c for c in CLAUSES.values() if c.domain == domain), key=lambda c: c.id)


def domains() -> list[str]:
    """Every domain with a clause; each has a `{domain}_findings` asset (tests/test_definitions.py)."""
    load_all()
    return sorted({c.domain for c in CLAUSES.values()})


def load_all() -> None:
    """Import every rule module so the registry is complete."""
    import importlib
    import pkgutil

    import wxpipeline.checks as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in ("registry", "findings", "contracts") and not mod.name.startswith("_"):
            importlib.import_module(f"wxpipeline.checks.{mod.name}")
