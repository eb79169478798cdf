"""The demo's work-group clauses: every GRP clause planted, and the groups domain's frames and rules,
run day by day over the demo period (without Dagster; the domain test covers the asset), find
exactly the planted subjects, each on one day."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from wxpipeline.factories.findings import JudgeContext
from wxpipeline.resources.staged_io import StagedStore
from wxpipeline.assets.groups import groups_frames
from wxpipeline.checks.registry import clauses_for
from wxpipeline.demo import write_demo
from wxpipeline.derive import membership
from wxpipeline.lineage import Upstream
from wxpipeline.policy import load_policy
from wxpipeline.resources.calendar import PrcCalendar
from wxpipeline.resources.exports import ExportsFolder

GRP = [c.id for c in clauses_for("groups")]
STAGED = {"wecom_groups": "wecom_groups", "wecom_group_members": "wecom_group_members",
          "wecom_group_events": "wecom_group_events", "wecom_messages": "wecom_archive"}


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """(demo summary, [(day, clause, subject)] over the period)."""
    base = tmp_path_factory.mktemp("grp-demo")
    summary = write_demo(base / "exports")
    exports = ExportsFolder(exports_dir=str(base / "exports"), cache_dir=str(base / "cache"))
    staged = StagedStore(base / "staged")
    for ref in ("roster", "group_registry"):
        staged.write(ref, None, exports.scan(ref).frame.collect())
    policy = load_policy()
    start, end = date.fromisoformat(summary["start"]), date.fromisoformat(summary["end"])
    found = []
    d = start
    while d <= end:
        key = d.isoformat()
        for asset, kind in STAGED.items():
            staged.write(asset, key, exports.day(kind, d)[0])
        lo, hi = membership.window(d)
        staged.write("wecom_membership_timeline", key, membership.membership_timeline(
            *(exports.window(k, lo, hi) for k in ("wecom_group_members", "wecom_groups", "wecom_group_events")),
            d))
        pv = policy.for_day(d)
        # the days before d were staged by earlier iterations: the groups rules read no later day
        jc = JudgeContext(d, key, pv, PrcCalendar(pv.calendar.extra_workdays, pv.calendar.extra_holidays), exports,
                          staged, Upstream("groups_findings", d, staged))
        frames = groups_frames(jc)
        for c in clauses_for("groups"):
            out = c.run(frames, pv.params(c.id), d)
            found += [(d, c.id, s) for s in out["subject_id"]]
        d += timedelta(days=1)
    return summary, found


def test_every_group_clause_planted_with_near_misses(judged):
    summary, _ = judged
    for clause in GRP:
        assert summary["planted"].get(clause), clause
        assert summary["near_misses"].get(clause), clause


def test_rules_find_exactly_the_planted_subjects_once(judged):
    summary, found = judged
    for clause in GRP:
        subjects = [s for _, c, s in found if c == clause]
        assert set(subjects) == set(summary["planted"][clause]), clause
        assert max(Counter(subjects).values()) == 1, clause  # each breach reported on one day only
