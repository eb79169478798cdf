"""Which partitions of which staged tables each day's judgement reads: one table, used three ways.

* the findings assets declare these as `AssetDep`s with `TimeWindowPartitionMapping` offsets, so
  the lineage view shows exactly which days feed a day's findings;
* the frame builders read staged partitions through `Upstream`, which refuses a read outside the
  declared window (nothing reaches a rule behind the graph's back);
* the exports sensor and `wxpipeline nightly` invert it: a changed staged day re-judges exactly
  the days whose windows include it.

Widths come from the policy (`windows:` and the clauses' own windows), the largest over every
policy version, so one mapping serves every day.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from functools import lru_cache

import polars as pl
from wxpipeline.formats.schemas import EXPORT_OF_TABLE
from wxpipeline.times import TZ


# staged table -> its record-time column (the column that decides its day)
RECORD_TIME: dict[str, str] = {
    "pay_bills": "traded_at", "ledger_entries": "paid_at", "mp_articles": "published_at", "mp_signoffs": "signed_at",
    "wecom_messages": "sent_at", "wecom_groups": "snapshot_time", "wecom_group_members": "snapshot_time",
    "wecom_group_events": "event_time",
}
# staged table -> (export kind it is cut from, its record-time column)
STAGED: dict[str, tuple[str, str]] = {table: (EXPORT_OF_TABLE[table], col) for table, col in RECORD_TIME.items()}
# derived daily tables (read like staged ones; `day` is their partition column)
DERIVED = {"wecom_membership_timeline"}
# export kinds read unpartitioned (a change re-judges `windows.reference_rejudge_days`)
REFERENCE_KINDS = ("roster", "group_registry", "pay_accounts", "pay_approvals")
# the domains' input export kinds (coverage is judged on these)
DOMAIN_KINDS: dict[str, tuple[str, ...]] = {
    "payments": ("wechat_pay", "ledger"),
    "chat": ("wecom_archive",),
    "groups": ("wecom_groups", "wecom_group_events", "wecom_archive"),
    "publishing": ("mp_published", "mp_reviews"),
}


def kind_assets(kind: str) -> list[str]:
    """The staged assets cut from an export kind's files (a group snapshot file feeds two)."""
    if kind == "wecom_groups":
        return ["wecom_groups", "wecom_group_members"]
    return [a for a, (k, _) in STAGED.items() if k == kind]


def compute_reads(policies) -> dict[str, dict[str, tuple[int, int]]]:
    """consumer asset -> {upstream daily asset: (start_offset, end_offset)} in days."""
    from wxpipeline.checks.chat_06_07_replies import lookback_days

    def widest(field: str) -> int:
        return max(getattr(p.windows, field) for p in policies)

    def param(clause: str, name: str, default: int = 0) -> int:
        vals = [getattr(p.params(clause), name) for p in policies if clause in p.clauses and p.clause(clause).enabled]
        return math.ceil(max(vals)) if vals else default

    ack = max(lookback_days(p) for p in policies)  # CHAT-06/07: mentions of earlier days
    m = widest("membership_days")
    first_seen = widest("first_seen_days")
    pay = widest("payment_match_days")
    pub = max(widest("publish_lookback_days"), param("PUB-03", "report_days_after_publish") + 1)
    membership = {"wecom_groups": (-m, m), "wecom_group_members": (-m, m), "wecom_group_events": (-m, m)}
    # chat resolves an earlier day's mention against that day's membership (derived from the staged
    # snapshots and events around it)
    chat_membership = {k: (-ack - m, m) for k in membership}
    return {
        "wecom_membership_timeline": membership,
        "payments_findings": {"pay_bills": (-pay, pay), "ledger_entries": (-pay, pay)},
        "chat_findings": {
            "wecom_messages": (-max(ack, widest("leaver_history_days")), 0),
            "wecom_membership_timeline": (0, 0),
            **chat_membership,
        },
        "groups_findings": {
            "wecom_membership_timeline": (0, 0),
            "wecom_groups": (-max(m, first_seen), 0),
            "wecom_group_members": (-m, 0),
            "wecom_group_events": (-m, 0),
            "wecom_messages": (-max(first_seen, param("GRP-08", "notice_window_days")), 0),
        },
        "publishing_findings": {
            "mp_articles": (-pub, 0),
            "mp_signoffs": (-(pub + widest("signoff_lookback_days")), 0),
        },
    }


@lru_cache(maxsize=4)
def reads_for(policy_location: str) -> dict[str, dict[str, tuple[int, int]]]:
    from wxpipeline.policy import load_policy

    return compute_reads(load_policy(policy_location or None).versions)


def reads() -> dict[str, dict[str, tuple[int, int]]]:
    from wxpipeline.settings import settings

    return reads_for(settings().policy)


def asset_dep(asset, consumer: str):
    """`dg.AssetDep` of `consumer` on `asset` with the day offsets of `reads()` (same day if none)."""
    import dagster as dg

    name = asset.key.path[-1] if hasattr(asset, "key") else str(asset)
    lo, hi = reads().get(consumer, {}).get(name, (0, 0))
    if getattr(asset, "partitions_def", None) is None:
        return dg.AssetDep(asset)
    return dg.AssetDep(asset, partition_mapping=dg.TimeWindowPartitionMapping(
        start_offset=lo, end_offset=hi, allow_nonexistent_upstream_partitions=True))


def dependents(changed: dict[str, set[date]], table: dict | None = None) -> dict[str, set[date]]:
    """Every (consumer, day) whose declared window includes a changed (asset, day), transitively."""
    table = table if table is not None else reads()
    out: dict[str, set[date]] = {}
    frontier = {a: set(ds) for a, ds in changed.items()}
    while frontier:
        nxt: dict[str, set[date]] = {}
        for consumer, ups in table.items():
            for up, (lo, hi) in ups.items():
                for d in frontier.get(up, ()):
                    days = {d - timedelta(days=k) for k in range(lo, hi + 1)}
                    fresh = days - out.get(consumer, set())
                    if fresh:
                        out.setdefault(consumer, set()).update(fresh)
                        nxt.setdefault(consumer, set()).update(fresh)
        frontier = nxt
    return out


class Upstream:
    """The staged partitions `consumer` declared for `day`, and nothing else."""

    def __init__(self, consumer: str, day: date, store, table: dict | None = None):
        self.consumer, self.day, self.store = consumer, day, store
        self.declared = (table if table is not None else reads()).get(consumer, {})

    def days(self, asset: str) -> list[date]:
        if asset not in self.declared:
            raise LookupError(f"{self.consumer} reads {asset} without declaring it (wxpipeline/lineage.py)")
        lo, hi = self.declared[asset]
        return [self.day + timedelta(days=k) for k in range(lo, hi + 1)]

    def window(self, asset: str, lo: datetime | None, hi: datetime, columns: list[str] | None = None) -> pl.LazyFrame:
        """Records of the staged `asset` with their time in [lo, hi) (lo None: as far back as declared),
        read from the declared partitions that cover the range."""
        declared = self.days(asset)
        first = declared[0] if lo is None else lo.astimezone(TZ).date()
        last = (hi - timedelta(microseconds=1)).astimezone(TZ).date()
        if first < declared[0] or last > declared[-1]:
            raise LookupError(
                f"{self.consumer} {self.day}: {asset} {first}..{last} is outside its declared partitions "
                f"{declared[0]}..{declared[-1]} (wxpipeline/lineage.py)")
        days = [d for d in declared if first <= d <= last]
        lf = self.store.scan_days(asset, days, columns)
        ts = pl.col(STAGED[asset][1])
        return lf.filter(ts < hi if lo is None else ts.is_between(lo, hi, closed="left"))

    def partitions(self, asset: str, days: list[date] | None = None, columns: list[str] | None = None) -> pl.LazyFrame:
        """Whole declared partitions (every day declared, or the given ones among them)."""
        declared = self.days(asset)
        wanted = declared if days is None else [d for d in days if d in set(declared)]
        if days is not None and len(wanted) != len(set(days)):
            raise LookupError(f"{self.consumer} {self.day}: {asset} {sorted(set(days) - set(declared))} not declared")
        return self.store.scan_days(asset, wanted, columns)
