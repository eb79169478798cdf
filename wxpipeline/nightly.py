"""Nightly operation: from a change in the exports folder to the days to re-stage and re-judge,
and running them through Dagster. `wxpipeline nightly` and `wxpipeline run` execute a plan in
process; `exports_sensor` (sensors.py) turns the same plan into run requests for the daemon.

A day is never judged "once": it is judged when it ends, and again whenever a file touching a
day its rules read (lineage.py) arrives, changes or disappears.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from wxpipeline import arrival
from wxpipeline.lineage import REFERENCE_KINDS, dependents, kind_assets, reads
from wxpipeline.times import TZ

CAUSE_TAG = "wxpipeline/cause"  # files whose arrival or change made the run (comma-separated)
AS_OF_TAG = "wxpipeline/as_of"  # the moment coverage is judged at (a simulated night in tests)
MAX_TAG = 4000  # Dagster tag values are bounded; the full list is in the sensor/nightly output


@dataclass
class Plan:
    stage: dict[date, set[str]] = field(default_factory=dict)  # day -> files that touched it
    judge: dict[date, set[str]] = field(default_factory=dict)  # day -> files it is re-judged for
    reference: set[str] = field(default_factory=set)  # changed reference files: refresh first
    assets: dict[date, set[str]] = field(default_factory=dict)  # day -> the assets to re-judge (None: all)

    def add(self, target: dict[date, set[str]], days, why: str) -> None:
        for d in days:
            target.setdefault(d, set()).add(why)

    @property
    def empty(self) -> bool:
        return not (self.stage or self.judge or self.reference)


def plan_changes(changes: list[arrival.Change], first: date, last: date, reference_days: int,
                 table: dict | None = None) -> Plan:
    """Which staged partitions each changed file touches and which days depend on them, within
    [first, last] (the partitions that exist)."""
    table = table if table is not None else reads()
    plan = Plan()
    within = lambda ds: {d for d in ds if first <= d <= last}  # noqa: E731
    for ch in changes:
        why = f"{ch.path} ({ch.what})"
        touched: dict[str, set[date]] = {}
        for kind, days in ch.kinds.items():
            if kind in REFERENCE_KINDS:
                plan.reference.add(why)
                days = within(last - timedelta(days=k) for k in range(reference_days))
                plan.add(plan.judge, days, why)
                plan.add(plan.assets, days, "*")  # reference data feeds every domain
                continue
            for asset in kind_assets(kind):
                touched.setdefault(asset, set()).update(within(days))
        for asset, days in touched.items():
            plan.add(plan.stage, days, why)
        for consumer, days in dependents(touched, table).items():
            plan.add(plan.judge, within(days), why)
            plan.add(plan.assets, within(days), consumer)
    return plan


def plan_overdue(plan: Plan, judged: list[dict], policy_for_day, as_of: datetime) -> None:
    """Domain-days judged while *awaiting data* whose tolerated delay (the policy's `arrival:`) has
    passed since, with the data still missing: re-judged once, so that the check, `judgements`,
    the report and the CLI say *overdue*. `judged`: `Warehouse.coverage_rows`."""
    from wxpipeline.times import day_start

    for row in judged:
        if row["coverage_status"] != "awaiting_data":
            continue
        day = row["partition_date"]
        expected = policy_for_day(day).arrival
        deadline = day_start(day + timedelta(days=1))
        late = sorted(kind for kind, seen in row["inputs"].items()
                      if seen.get("status") == "awaiting_data" and kind in expected
                      and as_of > deadline + timedelta(days=expected[kind].tolerated_delay_days))
        if late:
            why = "overdue: " + ", ".join(
                f"{kind} not arrived within {expected[kind].tolerated_delay_days} day(s)" for kind in late)
            plan.add(plan.judge, [day], why)
            plan.add(plan.assets, [day], f"{row['domain']}_findings")


def stage_missing(plan: Plan, store) -> None:
    """Judging a day needs its own staged partitions: stage a judged day that has none yet (no file
    held records of it, e.g. a quiet day before a late file made it a dependent)."""
    from wxpipeline.lineage import STAGED

    for d in list(plan.judge):
        if d not in plan.stage and not all(store.path(a, d.isoformat()).exists() for a in STAGED):
            plan.stage[d] = set()


def judge_selection(names: set[str] | None) -> list[str] | None:
    """The assets a re-judgement runs: the dependent findings assets (and the timeline they read)
    plus the day's report; None (the whole `judge_day` job) for the night's own day or a
    reference change."""
    if not names or "*" in names:
        return None
    return sorted(names | {"daily_report"})


def cause_tag(files: set[str] | list[str]) -> str:
    text = ", ".join(sorted(files))
    return text if len(text) <= MAX_TAG else text[: MAX_TAG - 20] + f" … ({len(files)} files)"


def night_as_of(day: date) -> datetime:
    """Judging day D at night: 02:00 Asia/Shanghai on D+1 (when the schedule runs)."""
    return datetime.combine(day + timedelta(days=1), time(2), TZ)


# ---- state of `wxpipeline nightly` (the daemon's sensor keeps the same in its cursor) ----------


def state_path() -> Path:
    from wxpipeline.settings import settings

    return settings().home / "arrival" / "manifest.json"


def load_state() -> dict:
    p = state_path()
    return json.loads(p.read_text("utf-8")) if p.exists() else {}


def save_state(manifest: dict) -> None:
    p = state_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)


# ---- executing a plan in process -----------------------------------------------------------


class Executor:
    """Runs jobs of the Definitions in process against the persistent instance, one run per day,
    printing a line per run."""

    def __init__(self, defs, instance, quiet_config: dict):
        self.defs, self.instance, self.config = defs, instance, quiet_config
        self.failed: list[str] = []
        self.blocked: list[tuple[str, list[str]]] = []

    def execute(self, job: str, label: str, partition_key: str | None = None, tags: dict | None = None,
                assets: list[str] | None = None) -> None:
        import time as _time

        import dagster as dg

        from wxpipeline.stale_runs import run_tags

        t0 = _time.monotonic()
        result = self.defs.resolve_job_def(job).execute_in_process(
            partition_key=partition_key, instance=self.instance, raise_on_error=False, run_config=self.config,
            tags={**run_tags(), **(tags or {})},  # pid/host: lets a later sweep tell that this process is gone
            asset_selection=[dg.AssetKey(a) for a in assets] if assets else None,
        )
        evals = [ev.event_specific_data for ev in result.all_events if ev.event_type_value == "ASSET_CHECK_EVALUATION"]
        contract_fail = [e.check_name for e in evals if not e.passed and e.check_name.endswith("_contract")]
        warn = sum(1 for e in evals if not e.passed and not e.check_name.endswith("_contract"))
        state = "ok" if result.success and not contract_fail else "FAILED"
        if not result.success:
            self.failed.append(label)
        if contract_fail:
            self.blocked.append((label, contract_fail))
        extra = f" contract failed: {', '.join(contract_fail)}" if contract_fail else ""
        print(f"{label}  {state:<6} checks warning: {warn:<3} ({_time.monotonic() - t0:.1f}s) "
              f"run {result.run_id[:8]}{extra}", flush=True)

    def has_job(self, job: str) -> bool:
        return bool(self.defs.resolve_job_def(job).asset_layer.executable_asset_keys)


def stage_days_for_period(inv: dict, start: date, end: date, last: date, table: dict | None = None) -> list[date]:
    """The days `run --from start --to end` stages: the period, and the days around it that its
    rules read (the widest declared offsets) on which the exports hold records."""
    table = table if table is not None else reads()
    back = max([-lo for ups in table.values() for lo, _ in ups.values()] + [0])
    ahead = max([hi for ups in table.values() for _, hi in ups.values()] + [0])
    days = {start + timedelta(days=i) for i in range((end - start).days + 1)}
    for infos in inv.values():
        for info in infos:
            for d in info.days:
                day = date.fromisoformat(d)
                if start - timedelta(days=back) <= day <= end + timedelta(days=ahead):
                    days.add(day)
    return sorted(d for d in days if d <= last)


def stage_assets_for_day(day: date, start: date, end: date, table: dict | None = None) -> list[str] | None:
    """The staged assets `run --from start --to end` needs of `day`: all (None) on a judged day;
    on a day around the period only those some judged day reads there (the declared offsets), so
    a day 60 days back stages the archive and group snapshots its look-backs read, not its bills."""
    from wxpipeline.lineage import STAGED

    if start <= day <= end:
        return None
    table = table if table is not None else reads()
    needed = {asset for ups in table.values() for asset, (lo, hi) in ups.items()
              if asset in STAGED and start + timedelta(days=lo) <= day <= end + timedelta(days=hi)}
    return None if needed >= set(STAGED) else sorted(needed)


def record_days(inv: dict) -> dict[str, set[date]]:
    """export kind -> the days its parsed records fall on, over every file of the folder."""
    out: dict[str, set[date]] = {}
    for infos in inv.values():
        for info in infos:
            out.setdefault(info.kind, set()).update(date.fromisoformat(d) for d in info.days)
    return out


def longest_first(runs: list[tuple], inv: dict) -> list[tuple]:
    """Stage runs (label, ISO day, assets or None for all) in the order two processes should take
    them: the one with the most export bytes to stage first (a file's size shared evenly among
    its record days, counted for the export kinds of the tables the run stages); equal ones keep
    their order. In date order a busy day taken late leaves the other process idle while it ends
    (a one-day run at 10M messages: ~12 s to stage the day, ~8 s for the 34 days around it on two
    processes, and the day was taken ~7.7 s in)."""
    from wxpipeline.lineage import STAGED

    size: dict[tuple[str, str], float] = {}
    for infos in inv.values():
        for info in infos:
            for d in info.days:
                key = (info.kind, d)
                size[key] = size.get(key, 0) + int(info.signature.split(":", 1)[0]) / len(info.days)
    every_kind = {kind for kind, _ in STAGED.values()}

    def volume(run: tuple) -> float:
        _, day, assets = run
        kinds = every_kind if assets is None else {STAGED[a][0] for a in assets}
        return sum(size.get((kind, day), 0) for kind in kinds)

    return sorted(runs, key=volume, reverse=True)


def stage_assets_holding_records(day: date, start: date, end: date, kind_days: dict[str, set[date]], store,
                                 table: dict | None = None) -> list[str] | None:
    """`stage_assets_for_day`, less, on a day around the period, the tables whose export kind
    holds no record of that day (`record_days` of the inventory) and that were never staged:
    staging them would write an empty table, and a reader finds an absent partition empty
    alike (`StagedStore.scan_days`). A table staged before is staged again (it may hold records
    since removed from the exports). A day of the period stages every table (None)."""
    from wxpipeline.lineage import STAGED

    assets = stage_assets_for_day(day, start, end, table)
    if start <= day <= end:
        return assets
    wanted = list(STAGED) if assets is None else assets
    kept = [a for a in wanted
            if day in kind_days.get(STAGED[a][0], ()) or store.path(a, day.isoformat()).exists()]
    return None if set(kept) >= set(STAGED) else sorted(kept)


def last_partition() -> date:
    """The last daily partition that exists now (yesterday, Asia/Shanghai)."""
    return datetime.now(TZ).date() - timedelta(days=1)
