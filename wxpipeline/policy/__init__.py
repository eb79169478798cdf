"""Policy files: schema, loading, and which version judges which day.

A policy file is one version (`version`, `effective_from`, clause parameters (working
hours among them), word lists, calendar overrides). `WXPIPELINE_POLICY` names a file or a folder of them; each
partition day is judged by the version with the latest `effective_from` on or before it.
Every error names the file, the key and the problem.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wxpipeline.policy.operations import ArrivalExpectation, Windows
from wxpipeline.policy.semantics import DuplicateKeyError, UniqueKeyLoader, param_problems

PACKAGED_POLICY_DIR = Path(__file__).parent

Severity = Literal["low", "medium", "high", "critical"]


class PolicyError(ValueError):
    """A policy file is missing, unreadable or invalid. The message names file, key and problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CalendarOverrides(_Strict):
    extra_workdays: list[date] = Field(default_factory=list)
    extra_holidays: list[date] = Field(default_factory=list)


class ClauseConfig(_Strict):
    enabled: bool = True
    severity: Severity = "medium"
    params: dict[str, Any] = Field(default_factory=dict)


class PolicyVersion(_Strict):
    version: str
    effective_from: date
    description: str = ""
    calendar: CalendarOverrides = Field(default_factory=CalendarOverrides)
    clauses: dict[str, ClauseConfig]
    # category -> word-list file, relative to the policy file's folder
    word_lists: dict[str, str] = Field(default_factory=dict)
    # other days a day's rules read, and when each export kind is expected (policy/operations.py)
    windows: Windows = Field(default_factory=Windows)
    arrival: dict[str, ArrivalExpectation] = Field(default_factory=dict)

    # Filled by the loader, not by the file.
    source_file: str = Field(default="", exclude=True)
    content_hash: str = Field(default="", exclude=True)
    parsed_params: dict[str, Any] = Field(default_factory=dict, exclude=True)

    def clause(self, clause_id: str) -> ClauseConfig:
        return self.clauses[clause_id]

    def params(self, clause_id: str) -> Any:
        """The clause's parameters, validated against its registered parameter model."""
        return self.parsed_params[clause_id]

    def word_list_path(self, category: str) -> Path:
        try:
            rel = self.word_lists[category]
        except KeyError:
            raise PolicyError(f"{self.source_file}: word_lists.{category}: no such word list") from None
        return Path(self.source_file).parent / rel


class PolicySet:
    """All versions found at the policy location, ordered by `effective_from`."""

    def __init__(self, versions: list[PolicyVersion], location: str):
        if not versions:
            raise PolicyError(f"{location}: no policy files (*.yaml) found")
        self.versions = sorted(versions, key=lambda v: v.effective_from)
        self.location = location
        versions: dict[str, str] = {}
        for v in self.versions:
            if v.version in versions:
                raise PolicyError(
                    f"{v.source_file}: version: {v.version!r} is also the version of {versions[v.version]}; "
                    "findings record the version string, so each file needs its own"
                )
            versions[v.version] = v.source_file
        seen: dict[date, str] = {}
        for v in self.versions:
            if v.effective_from in seen:
                raise PolicyError(
                    f"{v.source_file}: effective_from: {v.effective_from} is also the effective_from "
                    f"of {seen[v.effective_from]}; each version needs its own date"
                )
            seen[v.effective_from] = v.source_file

    def for_day(self, day: date) -> PolicyVersion:
        applicable = [v for v in self.versions if v.effective_from <= day]
        if not applicable:
            first = self.versions[0]
            raise PolicyError(
                f"{first.source_file}: effective_from: no policy version is in effect on {day} "
                f"(earliest is {first.effective_from})"
            )
        return applicable[-1]

    def by_version(self, version: str) -> PolicyVersion:
        for v in self.versions:
            if v.version == version:
                return v
        raise PolicyError(f"{self.location}: no policy version {version!r}")


def _format_validation_error(path: Path, err: ValidationError, prefix: str = "") -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        got = e.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{path}: {key or '<top>'}: {e['msg']}{shown}")
    return "\n".join(lines)


class _Loader(UniqueKeyLoader):
    """Safe YAML that refuses duplicate keys and whose impossible dates (`2025-13-01`) are YAML errors with their line, not tracebacks."""


def _timestamp(loader: _Loader, node: yaml.Node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as e:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a calendar date ({e})", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _yaml_key_path(raw: bytes, err: DuplicateKeyError) -> str:
    """The dotted path of the mapping holding the duplicate key, from the indentation above it."""
    lines = raw.decode("utf-8", "replace").splitlines()
    row = err.problem_mark.line
    indent = len(lines[row]) - len(lines[row].lstrip())
    key = lines[row].strip().split(":", 1)[0]
    parts = [key]
    for text in reversed(lines[:row]):
        stripped = text.strip()
        if not stripped or stripped.startswith("#") or ":" not in stripped:
            continue
        level = len(text) - len(text.lstrip())
        if level < indent:
            parts.append(stripped.split(":", 1)[0])
            indent = level
    return ".".join(reversed(parts))


def load_policy_file(path: Path) -> PolicyVersion:
    from wxpipeline.checks.registry import CLAUSES, load_all  # the registry defines each clause's params

    load_all()

    try:
        raw_bytes = path.read_bytes()
        data = yaml.load(raw_bytes.decode("utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader
    except FileNotFoundError:
        raise PolicyError(f"{path}: file not found") from None
    except DuplicateKeyError as e:
        raise PolicyError(f"{path}: {_yaml_key_path(raw_bytes, e)}: {e.problem} (line {e.problem_mark.line + 1})") from None
    except (UnicodeDecodeError, yaml.YAMLError) as e:
        raise PolicyError(f"{path}: not valid UTF-8 YAML: {e}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: <top>: expected a mapping of keys, got {type(data).__name__}")
    try:
        policy = PolicyVersion.model_validate(data)
    except ValidationError as e:
        raise PolicyError(_format_validation_error(path, e)) from None

    problems = []
    from wxpipeline.formats.registry import EXPORT_KINDS

    for kind in policy.arrival:
        if kind not in EXPORT_KINDS:
            problems.append(f"{path}: arrival.{kind}: unknown export kind (known: {', '.join(sorted(EXPORT_KINDS))})")
    for cid in policy.clauses:
        if cid not in CLAUSES:
            problems.append(f"{path}: clauses.{cid}: unknown clause id (known: {', '.join(sorted(CLAUSES))})")
    for cid, clause in CLAUSES.items():
        cfg = policy.clauses.get(cid)
        if cfg is None:
            problems.append(f"{path}: clauses.{cid}: missing; every clause needs enabled/severity/params")
            continue
        try:
            policy.parsed_params[cid] = clause.params_model.model_validate(cfg.params)
        except ValidationError as e:
            problems.append(_format_validation_error(path, e, prefix=f"clauses.{cid}.params"))
            continue
        problems += param_problems(path, cid, policy.parsed_params[cid])
    for category, rel in policy.word_lists.items():
        if not (path.parent / rel).is_file():
            problems.append(f"{path}: word_lists.{category}: file {rel} not found beside the policy file")
    if problems:
        raise PolicyError("\n".join(problems))

    h = hashlib.sha256(raw_bytes)
    for rel in sorted(policy.word_lists.values()):
        h.update((path.parent / rel).read_bytes())
    policy.source_file = str(path)
    policy.content_hash = h.hexdigest()[:16]
    return policy


def load_policy(location: str | Path | None = None) -> PolicySet:
    """Load a policy file, or every `*.yaml` in a folder (one version each)."""
    loc = Path(location) if location else PACKAGED_POLICY_DIR
    if loc.is_dir():
        files = sorted(loc.glob("*.yaml")) + sorted(loc.glob("*.yml"))
        return PolicySet([load_policy_file(f) for f in files], str(loc))
    if not loc.exists():
        raise PolicyError(f"{loc}: file not found (WXPIPELINE_POLICY)")
    return PolicySet([load_policy_file(loc)], str(loc))
